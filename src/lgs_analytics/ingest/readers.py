"""Reading LGS exports (.csv, .xlsx, pg_dump .sql; plain, .gz or .zip) into text chunks, refusing
files that cannot be an export.

Every value leaves here as text exactly as exported (spreadsheet numbers and
dates spelled the way the CSV export spells them); validate.py types it and
load.py quarantines what cannot be typed. A file that cannot be read at all
raises :class:`ExportError` before anything is written (or, for a compressed file
found damaged midway, before the load commits); a CSV line with the wrong number of
fields is kept as a :class:`BadLine` for the quarantine. Personal columns
(privacy.is_personal_column) are left out of every chunk. Which file holds which export
is formats.py's; the column names of every layout are columns.py's; dumps are dump.py's.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import itertools
import json
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from lgs_analytics.errors import first_line
from lgs_analytics.ingest.chunks import (
    LINE_MAX_BYTES,
    PERSONAL_LINE_WITHHELD,
    STAGING_COLUMNS,
    BadLine,
    BlankRuns,
    Chunk,
    check_line_density,
    check_line_lengths,
    empty_table,
    long_line,
    staged_table,
)
from lgs_analytics.ingest.columns import check_header, column_order, shown
from lgs_analytics.ingest.dump import read_dump
from lgs_analytics.ingest.formats import (
    ExportError,
    Source,
    find_source,
)

__all__ = ["STAGING_COLUMNS", "BadLine", "Chunk", "check_header", "read_chunks"]

CSV_BLOCK_BYTES = 8 << 20
# A value may hold a line break inside quotes (none of the real file's does); a record of the wrong
# shape over more lines than this is a quote left open, not a value.
QUOTED_LINES_MAX = 10  # pyarrow reads ~8 MiB at a time: memory stays flat as files grow
XLSX_CHUNK_ROWS = 100_000
HEADER_MAX_BYTES = LINE_MAX_BYTES  # the header is a line like any other
CUT_CHARACTER = ("the file ends inside a UTF-8 character, so it is cut short (a copy or download "
                 "that stopped early?); copy or export it again")


def read_chunks(path: Path) -> Iterator[Chunk]:
    """Yield the rows of an export as text chunks; raise ExportError if it cannot be one."""
    source = find_source(path)
    if source.kind == "xlsx":
        yield from _read_xlsx(source)
    elif source.kind == "sql":
        yield from read_dump(source)
    else:
        yield from _read_csv(source)


# --- CSV -----------------------------------------------------------------------------------------


def _check_utf8(path: Path) -> None:
    """Refuse a plain CSV that is not UTF-8 before anything is read, naming the first bad byte.

    An incremental decoder carries a character cut by a block boundary over to the next block, and
    at the end of the file one left unfinished is an error: the file is cut short. (A compressed
    CSV is checked as it is decompressed instead, by pyarrow: reading it twice would double the
    cost of decompressing.)"""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as fh:
        while True:
            block = fh.read(1 << 20)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                if not block:
                    raise ExportError(f"{path}: {CUT_CHARACTER}") from None
                bad = offset + exc.start - (len(exc.object) - len(block))
                raise ExportError(
                    f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {bad}); "
                    "re-save the export as UTF-8 CSV"
                ) from None
            if not block:
                return
            offset += len(block)


class _Tail:
    """A binary stream that remembers the last bytes read from it: whether the file ends with a
    line break, or inside a UTF-8 character, is known once the CSV reader has read it all. A block
    that is mostly line breaks is refused as it is read, before the CSV reader makes it rows."""

    def __init__(self, stream, where: str) -> None:
        self._stream, self._where = stream, where
        self.last = b""
        self.closed = False
        self.refused: ExportError | None = None
        self._offset = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if data:
            self.last = (self.last + bytes(data[-4:]))[-4:]
            try:
                check_line_density(data, self._where, self._offset)
            except ExportError as exc:
                self.refused = exc  # pyarrow may report it as its own error: kept to be raised
                raise
            self._offset += len(data)
        return data

    def readable(self) -> bool:
        return True

    def ends_with_line_break(self) -> bool:
        return self.last[-1:] in (b"\n", b"\r")

    def ends_inside_a_character(self) -> bool:
        """Whether the last bytes are the start of a multi-byte UTF-8 character left unfinished."""
        tail = self.last
        for back in range(1, min(4, len(tail)) + 1):
            byte = tail[-back]
            if byte < 0x80:
                return False
            if byte >= 0xC0:  # a lead byte: how many bytes its character needs
                need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
                return back < need
        return False


def _read_csv(source: Source) -> Iterator[Chunk]:
    """The CSV's rows a block at a time, numbered by their physical line (a quoted value may hold
    line breaks). A last line without a line break may be cut short (a copy that stopped early):
    it is quarantined, never loaded. The chunk before is held back until the next one is read, so
    the last row can still be set aside."""
    if source.compression is None:
        _check_utf8(source.path)
    header = _csv_header(source)
    named = _without_trailing_blanks(header)
    personal = check_header(named, source.where)
    names = _placeholders(header)
    wanted = [named[i] for i in column_order(named)]  # export order; personal columns left unread
    bad: list[BadLine] = []

    open_quote: list[str] = []  # why the file is refused, found while pyarrow parses: raised after the batch

    def keep_bad_line(row: pacsv.InvalidRow) -> str:
        # A line that cannot be split cannot be told apart from its personal fields: withhold it.
        # (Its number here is pyarrow's record number; _Lines makes it a line number.)
        spans = row.text.count("\n") + 1
        if spans > QUOTED_LINES_MAX or len(row.text) > LINE_MAX_BYTES:
            # A quote left open swallows the lines after it into one record of the wrong shape: quarantined
            # as one bad line, they would be lost from the count of rows read. Refuse the file instead.
            open_quote.append(f"the record at line {row.number or 0:,} runs over {spans:,} lines or more (a "
                              "quote left open?); close the quote, or export the file again (nothing was "
                              "written)")
            return "skip"
        bad.append(BadLine("", row.number or 0, row.text,
                           f"line has {row.actual_columns} fields, expected {row.expected_columns}"))
        return "skip"

    # One thread: records come in file order. Every column is read (as text) to count the line
    # breaks inside values; only the export's columns are kept.
    read_opts = pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES, column_names=names, skip_rows=1,
                                  encoding="utf8", use_threads=False)
    # Empty lines are read as rows (of empty strings) and dropped below, so line numbers count them.
    parse_opts = pacsv.ParseOptions(invalid_row_handler=keep_bad_line, ignore_empty_lines=False,
                                    newlines_in_values=True)
    convert = pacsv.ConvertOptions(column_types={h: pa.string() for h in names}, strings_can_be_null=False)
    lines = _Lines(personal)
    blanks = BlankRuns(source.where)
    held: tuple[pa.Table, list[BadLine], int] | None = None
    consumed = 0
    with source.reading(), source.open() as (raw, position), _undecodable_bad_lines() as undecodable:
        stream = _Tail(raw, source.where)
        try:
            reader = pacsv.open_csv(stream, read_options=read_opts, parse_options=parse_opts,
                                    convert_options=convert)
            for batch in reader:
                if undecodable:
                    raise pa.ArrowInvalid("invalid UTF8 in a line with the wrong number of fields")
                if open_quote:
                    raise ExportError(f"{source.where}: {open_quote[0]}")
                check_line_lengths(batch.columns, source.where)
                numbers, bad_lines = lines.number(batch, bad)
                table = staged_table("", numbers, [batch.column(h) for h in wanted])
                if held is not None:
                    yield Chunk("", blanks.drop(held[0]), held[2], held[1], personal)
                consumed = position()
                held = (table, bad_lines, consumed)
        except (pa.ArrowInvalid, OSError) as exc:
            if stream.refused is not None:
                raise stream.refused from None
            if not isinstance(exc, pa.ArrowInvalid):
                raise
            if stream.ends_inside_a_character():
                raise ExportError(f"{source.where}: {CUT_CHARACTER}") from None
            raise _unparsable(source, exc) from None
        if undecodable:
            raise ExportError(f"{source.where}: {CUT_CHARACTER}" if stream.ends_inside_a_character() else
                              f"{source.where}: not UTF-8 text; re-save the export as UTF-8 CSV")
    if open_quote:  # (in a last batch with no good row)
        raise ExportError(f"{source.where}: {open_quote[0]}")
    table, bad_lines = held[:2] if held is not None else (empty_table(), [])
    bad_lines = bad_lines + lines.number(None, bad)[1]
    if not stream.ends_with_line_break():
        table, bad_lines = _set_aside_the_last_line(table, bad_lines, personal)
    if table.num_rows or bad_lines:
        yield Chunk("", blanks.drop(table), consumed, bad_lines, personal)


CUT_LINE = "the file ends without a line break: the last line may be cut short"


@contextlib.contextmanager
def _undecodable_bad_lines() -> Iterator[list]:
    """pyarrow decodes a line with the wrong number of fields before handing it to the handler; in a
    compressed CSV (checked as it is read) that text may not be UTF-8, and pyarrow then only prints
    the UnicodeDecodeError as "ignored". Collect it instead, for a one-line refusal."""
    caught: list = []
    previous = sys.unraisablehook

    def hook(unraisable) -> None:
        if isinstance(unraisable.exc_value, UnicodeDecodeError):
            caught.append(unraisable.exc_value)
        else:
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield caught
    finally:
        sys.unraisablehook = previous


def _set_aside_the_last_line(table: pa.Table, bad_lines: list[BadLine],
                             personal: tuple[str, ...]) -> tuple[pa.Table, list[BadLine]]:
    """Quarantine the file's last line, which has no line break (unless it holds nothing)."""
    last_row = table.column("source_row")[-1].as_py() if table.num_rows else 0
    if bad_lines and bad_lines[-1].source_row > last_row:  # the last line is a bad line already
        cut = bad_lines[-1]
        noted = BadLine(cut.sheet, cut.source_row, cut.text, f"{cut.reason}; {CUT_LINE}")
        return table, [*bad_lines[:-1], noted]
    if not table.num_rows:
        return table, bad_lines
    last = table.slice(table.num_rows - 1).to_pylist()[0]
    values = [last[c] for c in STAGING_COLUMNS[2:]]
    if all(v in (None, "") for v in values):  # ",,,,,,," or an empty line: nothing to lose
        return table, bad_lines
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(["" if v is None else v for v in values])
    text = PERSONAL_LINE_WITHHELD if personal else out.getvalue()[:2000]
    return table.slice(0, table.num_rows - 1), [*bad_lines, BadLine("", last_row, text, CUT_LINE)]


LONG_LINE = long_line()


class _Lines:
    """Turns pyarrow's record numbers (the header is 1) into the file's line numbers: a quoted
    value's line breaks (``\\n``, ``\\r\\n`` or ``\\r``) make its record span several lines."""

    def __init__(self, personal: tuple[str, ...]) -> None:
        self._personal = personal
        self._next_record = 2
        self._extra = 0  # lines so far beyond one a record
        self._done = 0  # bad lines (of the reader's list) numbered so far

    def number(self, batch: pa.RecordBatch | None, bad: list[BadLine]) -> tuple[np.ndarray, list[BadLine]]:
        """(line numbers of the batch's rows, the bad lines among or before them, renumbered);
        ``batch`` None: the bad lines after the last row."""
        count = batch.num_rows if batch is not None else 0
        pending = bad[self._done:]
        records = _line_numbers(self._next_record, count, {b.source_row for b in pending})
        last = int(records[-1]) if count else None
        mine = [b for b in pending if last is None or b.source_row < last]
        self._done += len(mine)
        extra = _line_breaks(batch) if batch is not None and count else np.zeros(0, dtype=np.int64)
        all_records = np.concatenate([records, np.array([b.source_row for b in mine], dtype=np.int64)])
        all_extra = np.concatenate([extra, np.array([_breaks(b.text) for b in mine], dtype=np.int64)])
        order = np.argsort(all_records, kind="stable")
        before = np.empty(len(order), dtype=np.int64)
        before[order] = self._extra + np.cumsum(all_extra[order]) - all_extra[order]
        lines_of = all_records + before
        if len(order):
            self._extra = int(before[order[-1]] + all_extra[order[-1]])
            self._next_record = int(all_records.max()) + 1
        withheld = PERSONAL_LINE_WITHHELD if self._personal else None
        renumbered = [BadLine("", int(n), withheld or b.text[:2000], b.reason)
                      for b, n in zip(mine, lines_of[count:], strict=True)]
        return lines_of[:count], renumbered


def _breaks(text: str) -> int:
    return len(re.findall(r"\r\n|\r|\n", text))


def _line_breaks(batch: pa.RecordBatch) -> np.ndarray:
    """Line breaks inside each row's values (counted only in columns that have any)."""
    extra = np.zeros(batch.num_rows, dtype=np.int64)
    for column in batch.columns:
        buffers = column.buffers()  # looked for in the column's bytes first: a memchr, not a scan
        data = buffers[2].to_pybytes() if len(buffers) > 2 and buffers[2] is not None else b""
        if b"\n" in data or b"\r" in data:
            extra += pc.count_substring_regex(column, r"\r\n|\r|\n").to_numpy(zero_copy_only=False)
    return extra


def _unparsable(source: Source, exc: pa.ArrowInvalid) -> ExportError:
    """The one-line refusal of a CSV pyarrow cannot read on."""
    if "straddles" in str(exc):  # a record longer than a block (8 MiB at least)
        return ExportError(f"{source.where}: {LONG_LINE}")
    if "invalid UTF8" in str(exc):  # a compressed CSV: the text is checked as it is decompressed
        line = re.search(r"Row #(\d+)", str(exc))
        return ExportError(f"{source.where}: not UTF-8 text{f' (line {line[1]})' if line else ''}; "
                           "re-save the export as UTF-8 CSV")
    return ExportError(f"{source.where}: cannot parse the CSV ({first_line(exc, 200)}); "
                       "check that it is the comma-separated export")


def _line_numbers(first: int, count: int, bad_lines: set[int]) -> np.ndarray:
    """Record numbers of ``count`` parsed rows from ``first`` on, skipping records set aside as bad."""
    pending = sum(1 for n in bad_lines if n >= first)
    candidates = np.arange(first, first + count + pending, dtype=np.int64)
    if pending:
        candidates = candidates[~np.isin(candidates, list(bad_lines))]
    return candidates[:count]


def _csv_header(source: Source) -> list[str]:
    """The CSV's first line, split into names (the BOM pyarrow would keep is dropped)."""
    with source.reading(), source.open() as (stream, _):
        head = _first_line_bytes(stream)
    if head is None:
        raise ExportError(f"{source.where}: the first line is longer than {HEADER_MAX_BYTES >> 20} MiB, "
                          "so it is no header; export it again with column names")
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExportError(f"{source.where}: not UTF-8 text (byte 0x{head[exc.start]:02x} in the header); "
                          "re-save the export as UTF-8 CSV") from None
    try:
        first = next(csv.reader(io.StringIO(text, newline="")), None)
    except csv.Error as exc:  # e.g. a header field over the csv module's 128 KiB limit
        raise ExportError(f"{source.where}: the header line cannot be read as CSV ({exc}); export it "
                          "again with the eight column names") from None
    if not first or all(not c.strip() for c in first):
        raise ExportError(f"{source.where}: has no header line; export it again with column names")
    return first


def _first_line_bytes(stream) -> bytes | None:
    """The bytes up to the first line break (all of a one-line file); None past HEADER_MAX_BYTES."""
    head = b""
    while len(head) <= HEADER_MAX_BYTES:
        block = stream.read(64 << 10)
        head += block
        ends = [i for i in (head.find(b"\n"), head.find(b"\r")) if i >= 0]
        if ends:
            return head[:min(ends)]
        if not block:
            return head
    return None


def _without_trailing_blanks(header: list[str]) -> list[str]:
    """The header without the empty trailing columns some editors add (``...,Country,``)."""
    named = list(header)
    while named and not named[-1].strip():
        named.pop()
    return named


def _placeholders(header: list[str]) -> list[str]:
    """Column names for pyarrow: the trailing empty columns get unique names, and are not read."""
    return [name if name.strip() else f"(empty column {i + 1})" for i, name in enumerate(header)]


# --- xlsx ----------------------------------------------------------------------------------------
#
# A workbook is bounded before the native reader (python-calamine) sees it: it makes each sheet a
# dense range of rows x columns (a cell at XFD1048576 alone asks for 512 GB, and the process
# aborts), so the cells' extent is read from the XML first. What the bounds miss is contained: the
# reader runs in a child process with its memory capped, and its crash is a refusal of the file.

XLSX_MAX_COLUMNS = 64  # an export has 8 (or a few more, personal ones)
XLSX_MAX_ROWS = 1_048_576  # Excel's limit: no sheet has more
# Cells of the sheets' ranges (rows x columns from A1), all sheets together. The reader keeps about
# 56 bytes a cell: the full export (1,067,371 rows x 8 = 8.5 million cells) takes 480 MB; 12 Mi
# cells is 1.5 times that, within the reader's memory cap.
XLSX_MAX_CELLS = 12 << 20
XLSX_READER_MEMORY = 1536 << 20  # the child's address space (the interpreter and libraries: 320 MB)
# The longest the child may stay silent: it sends every sheet's header once the workbook is read (about
# 30 s for a full-size export of 1,067,371 rows), then blocks of rows.
XLSX_READER_SECONDS = 300.0
SHEET_HEAD_BYTES = 64 << 10  # where a sheet declares its <dimension>
DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref\s*=\s*[\"']([^\"']*)[\"']")
CELL = re.compile(r"\$?([A-Z]{1,7})\$?(\d{1,12})")
CRASH_ADVICE = "open it in Excel and save it again with only the export's cells, or export it as CSV"
XLSX_ADVICE = "; save it again with only the export's cells"


def _check_zip(path: Path, where: str) -> None:
    """Refuse a workbook whose zip parts fail their checksums or cannot be decompressed (the reader
    stops at an XML part's closing tag without checking it, so a damaged part could silently lose a
    sheet), and one whose sheets or cells exceed the bounds above. Every part is read through once,
    a MiB at a time: the checksum is checked at its end, and the cells' extent taken on the way."""
    import zipfile
    import zlib

    try:
        with zipfile.ZipFile(path) as archive:
            names = _sheet_names(archive)
            scans = []
            for info in archive.infolist():
                scan = _PartScan(info.filename, names) if _holds_cells(info.filename) else None
                try:
                    with archive.open(info) as part:
                        while block := part.read(1 << 20):  # the CRC is checked at the end
                            if scan is not None:
                                scan.add(block)
                except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                    problem = ("fails its checksum" if "CRC" in str(exc)
                               else f"cannot be decompressed: {first_line(exc, 120)}")
                    raise ExportError(f"{where}: the workbook is damaged (its part {info.filename} "
                                      f"{problem}); copy or export it again") from None
                if scan is not None:
                    scan.check(where)
                    scans.append(scan)
            _check_cells(scans, where)
    except ExportError:
        raise
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError) as exc:
        raise ExportError(f"{where}: not a readable .xlsx workbook ({first_line(exc, 200)}); "
                          "open it in Excel and save it again as .xlsx") from None


def _holds_cells(part: str) -> bool:
    return part.startswith("xl/worksheets/") and part.endswith(".xml") or part == "xl/sharedStrings.xml"


def _sheet_names(archive) -> dict[str, str]:
    """The sheets' names by their parts (``xl/worksheets/sheet1.xml``: ``Year 2010-2011``), for the
    refusals; empty if the workbook's parts cannot say (then parts are named by their paths)."""
    import html

    try:
        book, rels = (archive.getinfo(n) for n in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"))
        if max(book.file_size, rels.file_size) > HEADER_MAX_BYTES:
            return {}
        book, rels = archive.read(book), archive.read(rels)
    except (KeyError, ValueError, OSError, EOFError, RuntimeError, NotImplementedError, Exception):
        return {}
    targets = {}
    for tag in re.findall(rb"<(?:\w+:)?Relationship\b[^>]*>", rels):
        rid, target = re.search(rb'\bId="([^"]*)"', tag), re.search(rb'\bTarget="([^"]*)"', tag)
        if rid and target:
            path = target[1].decode("utf-8", "replace")
            targets[rid[1]] = path.lstrip("/") if path.startswith("/") else f"xl/{path}"
    names = {}
    for tag in re.findall(rb"<(?:\w+:)?sheet\b[^>]*>", book):
        name, rid = re.search(rb'\bname="([^"]*)"', tag), re.search(rb'\br:id="([^"]*)"', tag)
        if name and rid and rid[1] in targets:
            names[targets[rid[1]]] = html.unescape(name[1].decode("utf-8", "replace"))
    return names


def _column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _PartScan:
    """What one XML part of a workbook holds at most, taken a block at a time with numpy: the
    longest stretch between two ``<`` (a cell's text cannot be longer) and, in a sheet, the
    rightmost column and lowest row of any cell (``r="XFD1048576"``; rows' ``r="5"`` too) and of
    the dimension it declares."""

    WIDTH = 14  # bytes looked at after r=": up to 4 letters and 10 digits

    def __init__(self, part: str, names: dict[str, str]) -> None:
        self.part = part
        self.sheet = part.startswith("xl/worksheets/")
        self.name = names.get(part, part)
        self.columns = self.rows = 0  # the extent of the cells (1-based)
        self.declared: tuple[str, int, int] | None = None  # (reference, columns, rows)
        self.longest = self._run = 0
        self._tail = b""  # the last bytes of the block before: a reference may straddle two
        self._head = b""

    def add(self, block: bytes) -> None:
        a = np.frombuffer(block, np.uint8)
        opens = np.flatnonzero(a == 60)
        if len(opens):
            gaps = np.diff(opens)
            self.longest = max(self.longest, self._run + int(opens[0]),
                               int(gaps.max()) - 1 if len(gaps) else 0)
            self._run = len(block) - int(opens[-1]) - 1
        else:
            self._run += len(block)
        self.longest = max(self.longest, self._run)
        if self.sheet:
            if len(self._head) < SHEET_HEAD_BYTES and self.declared is None:
                self._head += block[:SHEET_HEAD_BYTES - len(self._head)]
                self._declared()
            data = self._tail + block
            self._references(np.frombuffer(data, np.uint8))
            self._tail = data[-self.WIDTH - 4:]

    def _declared(self) -> None:
        found = DIMENSION.search(self._head)
        if found:
            ref = found[1].decode("ascii", "replace")
            corners = [CELL.fullmatch(c) for c in ref.upper().split(":")]
            if corners and all(corners):
                columns = max(_column_number(c[1]) for c in corners)
                self.declared = (corners[-1][0], columns, max(int(c[2]) for c in corners))

    def _references(self, a: np.ndarray) -> None:
        """The largest column and row of the ``r="..."`` attributes in ``a`` (cells and rows)."""
        if len(a) < 5:
            return
        space = (a[:-3] == 32) | (a[:-3] == 9) | (a[:-3] == 10) | (a[:-3] == 13)
        at = np.flatnonzero(space & (a[1:-2] == 114) & (a[2:-1] == 61) & ((a[3:] == 34) | (a[3:] == 39)))
        if not len(at):
            return
        padded = np.concatenate([a, np.zeros(self.WIDTH + 4, np.uint8)])
        value = padded[(at + 4)[:, None] + np.arange(self.WIDTH)].astype(np.int64)
        letter = np.cumprod((value >= 65) & (value <= 90), axis=1).astype(bool)
        count = letter.sum(axis=1)
        digit = (value >= 48) & (value <= 57)
        # the digits right after the letters: a run from position ``count`` on
        after = np.arange(self.WIDTH)[None, :] >= count[:, None]
        number = np.cumprod(digit | ~after, axis=1).astype(bool) & after
        ndigits = number.sum(axis=1)
        if count.max() > 3 or ndigits.max() > 9:  # past XFD or row 999,999,999: far out either way
            self.columns = max(self.columns, 26 ** int(count.max()))
            self.rows = max(self.rows, 10 ** int(ndigits.max()))
            return
        position = np.arange(self.WIDTH)[None, :]
        letters = np.where(letter, value - 64, 0)
        power = np.where(letter, count[:, None] - 1 - position, 0)
        self.columns = max(self.columns, int((letters * 26 ** power).sum(axis=1).max()))
        digits = np.where(number, value - 48, 0)
        power = np.where(number, count[:, None] + ndigits[:, None] - 1 - position, 0)
        self.rows = max(self.rows, int((digits * 10 ** power).sum(axis=1).max()))

    def check(self, where: str) -> None:
        """Refuse the part at once if a cell or a sheet's extent is past the bounds."""
        if self.longest > LINE_MAX_BYTES:
            raise ExportError(f"{where}: {long_line(f'a cell of {self._named}', XLSX_ADVICE[2:])}")
        if not self.sheet:
            return
        for ref, columns, rows, verb in ([(*self.declared, "declares")] if self.declared else []) + [
                (f"{_column_letters(self.columns)}{self.rows}", self.columns, self.rows, "has")]:
            if columns > XLSX_MAX_COLUMNS:
                raise ExportError(f"{where}: {self._named} {verb} cells up to {ref} ({columns:,} columns): "
                                  f"an export has 8 columns{XLSX_ADVICE}")
            if rows > XLSX_MAX_ROWS:
                raise ExportError(f"{where}: {self._named} {verb} cells down to row {rows:,}, past the "
                                  f"{XLSX_MAX_ROWS:,} rows a sheet can hold{XLSX_ADVICE}")

    @property
    def _named(self) -> str:
        return f"sheet '{self.name}'" if self.sheet and self.name != self.part else f"part {self.part}"

    @property
    def cells(self) -> int:
        return self.columns * self.rows if self.sheet else 0


def _column_number(letters: str) -> int:
    number = 0
    for c in letters:
        number = number * 26 + ord(c) - 64
    return number


def _check_cells(scans: list[_PartScan], where: str) -> None:
    """Refuse a workbook whose sheets' ranges together hold more cells than XLSX_MAX_CELLS."""
    total = sum(s.cells for s in scans)
    if total > XLSX_MAX_CELLS:
        big = max(scans, key=lambda s: s.cells)
        raise ExportError(f"{where}: the sheets span {total:,} cells ({big._named} {big.rows:,} rows x "
                          f"{big.columns} columns), more than an export's {XLSX_MAX_CELLS:,}{XLSX_ADVICE}")


def _workbook_rows(path: str, conn, memory: int) -> None:
    """(In the child process.) Send the workbook's sheets to ``conn``: first ``("sheets", [(name,
    rows above the first, header or None)])``, then ``("rows", name, first row number, columns of
    text)`` a block at a time, then ``("done",)``; or ``(problem, message)`` if it cannot be read."""
    from python_calamine import CalamineWorkbook

    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    try:
        book = CalamineWorkbook.from_path(path)
        sheets = []
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            above = (sheet.start or (0, 0))[0]  # rows are read from the used range's first on
            rows = itertools.islice(sheet.iter_rows(), above, None)
            first = next(rows, None)
            header = [str(c) for c in first] if first and any(c != "" for c in first) else None
            sheets.append([name, above, header, rows])
            del sheet
        conn.send(("sheets", [(name, above, header) for name, above, header, _ in sheets]))
        for entry in sheets:
            name, above, header, rows = entry
            entry[3] = None  # the sheet's cells are freed once sent
            try:
                order = column_order(header) if header is not None else None
            except ValueError:  # not the export's columns: the parent refuses the header
                order = None
            number = above + 2
            while order is not None and (block := list(itertools.islice(rows, XLSX_CHUNK_ROWS))):
                conn.send(("rows", name, number,
                           [[_cell_text(r[i]) if i < len(r) else None for r in block] for i in order]))
                number += len(block)
            del rows, block
        conn.send(("done",))
    except MemoryError:
        conn.send(("memory", ""))
    except BaseException as exc:  # noqa: BLE001 - the reader's errors (and a Rust panic) are the file's
        conn.send(("unreadable", f"{type(exc).__name__}: {first_line(exc, 200)}"))
    finally:
        conn.close()


_WORKBOOK_READER = _workbook_rows  # what the child runs (a test has it crash)
CHILD_CODE = ("import json, sys; sys.path[:0] = json.loads(sys.argv[1]); import importlib; "
              "from multiprocessing.connection import Connection; "
              "module, name = sys.argv[2].split(':'); "
              "getattr(importlib.import_module(module), name)(sys.argv[3], Connection(int(sys.argv[4])), "
              "int(sys.argv[5]))")


@contextlib.contextmanager
def _workbook_child(path: Path, where: str) -> Iterator[Callable[[], tuple]]:
    """A child process reading the workbook (a new interpreter: no copy of this process's threads
    or connections, and no re-run of the caller's script), and the function receiving its messages.
    A crash of the reader (an abort, a segmentation fault, the memory cap) ends the child, not this
    process: it is a refusal."""
    import subprocess
    import tempfile
    from multiprocessing.connection import Connection

    read, write = os.pipe()
    reader = f"{_WORKBOOK_READER.__module__}:{_WORKBOOK_READER.__qualname__}"
    errors = tempfile.TemporaryFile()  # what a crashing reader prints (a backtrace): its first line only
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD_CODE, json.dumps(sys.path), reader, str(path), str(write),
             str(XLSX_READER_MEMORY)], pass_fds=(write,), stdin=subprocess.DEVNULL, stderr=errors)
    except BaseException:
        errors.close()
        raise
    finally:
        os.close(write)
    receiver = Connection(read)

    def receive() -> tuple:
        try:
            if not receiver.poll(XLSX_READER_SECONDS):  # every wait has a limit: a hung reader is refused
                raise ExportError(f"{where}: the workbook reader gave nothing for {XLSX_READER_SECONDS:g} s "
                                  f"(a full-size export takes about 30 s); {CRASH_ADVICE}")
            message = receiver.recv()
        except (EOFError, OSError):
            code = child.wait()
            errors.seek(0)
            raise _crashed(where, code, errors.read(4096).decode("utf-8", "replace")) from None
        if message[0] == "memory":
            raise ExportError(f"{where}: the workbook needs more than {XLSX_READER_MEMORY >> 20} MiB to "
                              f"read, far more than an export; {CRASH_ADVICE}")
        if message[0] == "unreadable":
            raise ExportError(f"{where}: not a readable .xlsx workbook ({message[1]}); "
                              "open it in Excel and save it again as .xlsx")
        return message

    try:
        yield receive
    finally:
        receiver.close()
        if child.poll() is None:
            child.kill()
        child.wait()
        errors.close()


def _crashed(where: str, code: int | None, printed: str) -> ExportError:
    if code is not None and code < 0:
        what = f"signal {-code}"
        with contextlib.suppress(ValueError):
            what += f", {signal.Signals(-code).name}"
    else:
        what = f"exit status {code}"
    said = next((line.strip() for line in printed.splitlines() if line.strip()), "")
    if said:
        what += f": {shown(said, 120)}"
    return ExportError(f"{where}: the workbook reader crashed on this file ({what}); {CRASH_ADVICE}")


def _read_xlsx(source: Source) -> Iterator[Chunk]:
    """The sheets' rows as text chunks, read by a child process (every sheet's header is checked
    before the first chunk: the personal columns of all are known)."""
    with source.reading(), source.local_file() as path:
        _check_zip(path, source.where)
        with _workbook_child(path, source.where) as receive:
            sheets = [(name, header) for name, _, header in receive()[1] if header is not None]
            if not sheets:
                raise ExportError(f"{source.where}: the workbook has no data; export it again")
            personal: set[str] = set()
            for name, header in sheets:
                named = list(header)
                while named and not named[-1].strip():
                    named.pop()
                personal.update(check_header(named, f"{source.where} [{name}]"))
            blanks = {name: BlankRuns(f"{source.where} [{name}]", "rows") for name, _ in sheets}
            done = 0
            while (message := receive())[0] == "rows":
                _, name, first, values = message
                columns = [pa.array(v, pa.string()) for v in values]
                count = len(values[0])
                del message, values  # the Python strings are freed before the next block comes
                check_line_lengths(columns, f"{source.where} [{name}]", "a row", XLSX_ADVICE[2:])
                # Spreadsheet row numbers: the header is row ``above + 1`` (1 unless the sheet's used
                # range starts lower down).
                table = staged_table(name, range(first, first + count), columns)
                done += count
                yield Chunk(name, blanks[name].drop(table), done, dropped_columns=tuple(sorted(personal)),
                            progress_unit="rows")


def _cell_text(value) -> str | None:
    """A spreadsheet cell spelled as the CSV export spells it."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
