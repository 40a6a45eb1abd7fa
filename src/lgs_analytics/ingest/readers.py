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
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from lgs_analytics.errors import first_line
from lgs_analytics.ingest.chunks import (
    PERSONAL_LINE_WITHHELD,
    STAGING_COLUMNS,
    BadLine,
    Chunk,
    empty_table,
    staged_table,
    without_empty_lines,
)
from lgs_analytics.ingest.columns import check_header, column_order
from lgs_analytics.ingest.dump import read_dump
from lgs_analytics.ingest.formats import (
    EXPORT_SUFFIXES,
    ExportError,
    Source,
    find_source,
    is_export_file,
)

__all__ = ["EXPORT_SUFFIXES", "STAGING_COLUMNS", "BadLine", "Chunk", "ExportError", "check_header",
           "is_export_file", "read_chunks"]

CSV_BLOCK_BYTES = 8 << 20  # pyarrow reads ~8 MiB at a time: memory stays flat as files grow
XLSX_CHUNK_ROWS = 200_000
HEADER_MAX_BYTES = 1 << 20
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
    line break, or inside a UTF-8 character, is known once the CSV reader has read it all."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self.last = b""
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if data:
            self.last = (self.last + bytes(data[-4:]))[-4:]
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

    def keep_bad_line(row: pacsv.InvalidRow) -> str:
        # A line that cannot be split cannot be told apart from its personal fields: withhold it.
        # (Its number here is pyarrow's record number; _Lines makes it a line number.)
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
    held: tuple[pa.Table, list[BadLine], int] | None = None
    consumed = 0
    with source.reading(), source.open() as (raw, position), _undecodable_bad_lines() as undecodable:
        stream = _Tail(raw)
        try:
            reader = pacsv.open_csv(stream, read_options=read_opts, parse_options=parse_opts,
                                    convert_options=convert)
            for batch in reader:
                if undecodable:
                    raise pa.ArrowInvalid("invalid UTF8 in a line with the wrong number of fields")
                _refuse_long_lines(source, batch)
                numbers, bad_lines = lines.number(batch, bad)
                table = staged_table("", numbers, [batch.column(h) for h in wanted])
                if held is not None:
                    yield Chunk("", without_empty_lines(held[0]), held[2], held[1], personal)
                consumed = position()
                held = (table, bad_lines, consumed)
        except pa.ArrowInvalid as exc:
            if stream.ends_inside_a_character():
                raise ExportError(f"{source.where}: {CUT_CHARACTER}") from None
            raise _unparsable(source, exc) from None
        if undecodable:
            raise ExportError(f"{source.where}: {CUT_CHARACTER}" if stream.ends_inside_a_character() else
                              f"{source.where}: not UTF-8 text; re-save the export as UTF-8 CSV")
    table, bad_lines = held[:2] if held is not None else (empty_table(), [])
    bad_lines = bad_lines + lines.number(None, bad)[1]
    if not stream.ends_with_line_break():
        table, bad_lines = _set_aside_the_last_line(table, bad_lines, personal)
    if table.num_rows or bad_lines:
        yield Chunk("", without_empty_lines(table), consumed, bad_lines, personal)


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


def _refuse_long_lines(source: Source, batch: pa.RecordBatch) -> None:
    """Refuse a file with a line over CSV_BLOCK_BYTES (its values and commas alone are longer).

    pyarrow reads some such lines and fails on others, by where they start; no export line is that
    long, so every one is refused, and the message holds whatever the line's position."""
    if batch.nbytes < CSV_BLOCK_BYTES:
        return
    lengths = None
    for column in batch.columns:
        size = pc.binary_length(column)
        lengths = size if lengths is None else pc.add(lengths, size)
    if lengths is not None and pc.max(lengths).as_py() + batch.num_columns - 1 > CSV_BLOCK_BYTES:
        raise ExportError(f"{source.where}: {LONG_LINE}")


LONG_LINE = (f"a line is longer than {CSV_BLOCK_BYTES >> 20} MiB, so this is not a sound export "
             "(a missing line break or quote?); check the file")


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


def _check_zip(path: Path, where: str) -> None:
    """Refuse a workbook whose zip parts fail their checksums or cannot be decompressed: the reader
    stops at an XML part's closing tag without checking it, so a damaged part could silently lose a
    sheet."""
    import zipfile
    import zlib

    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                try:
                    with archive.open(info) as part:
                        while part.read(1 << 20):  # the CRC is checked at the end
                            pass
                except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                    problem = ("fails its checksum" if "CRC" in str(exc)
                               else f"cannot be decompressed: {first_line(exc, 120)}")
                    raise ExportError(f"{where}: the workbook is damaged (its part {info.filename} "
                                      f"{problem}); copy or export it again") from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError) as exc:
        raise ExportError(f"{where}: not a readable .xlsx workbook ({first_line(exc, 200)}); "
                          "open it in Excel and save it again as .xlsx") from None


def _xlsx_sheets(source: Source) -> dict[str, tuple[int, list[list]]]:
    """Every sheet with a header, as (the spreadsheet row number of its first row less one, its rows
    of cells): a sheet's used range may start below row 1 (a zipped workbook is unzipped to a
    temporary file)."""
    from python_calamine import CalamineError, CalamineWorkbook

    with source.reading(), source.local_file() as path:
        _check_zip(path, source.where)
        try:
            book = CalamineWorkbook.from_path(str(path))
            sheets = {}
            for name in book.sheet_names:
                sheet = book.get_sheet_by_name(name)
                sheets[name] = ((sheet.start or (0, 0))[0], sheet.to_python())
        except (CalamineError, OSError, ValueError) as exc:
            raise ExportError(f"{source.where}: not a readable .xlsx workbook ({first_line(exc, 200)}); "
                              "open it in Excel and save it again as .xlsx") from None
    return {name: (above, rows) for name, (above, rows) in sheets.items()
            if any(any(c != "" for c in r) for r in rows[:1])}


def _read_xlsx(source: Source) -> Iterator[Chunk]:
    sheets = _xlsx_sheets(source)
    if not sheets:
        raise ExportError(f"{source.where}: the workbook has no data; export it again")
    personal: set[str] = set()
    for name, (_, rows) in sheets.items():
        header = [str(c) for c in rows[0]]
        while header and not header[-1].strip():
            header.pop()
        personal.update(check_header(header, f"{source.where} [{name}]"))
    done = 0
    for name, (above, rows) in sheets.items():
        order = column_order([str(c) for c in rows[0]])
        for start in range(1, len(rows), XLSX_CHUNK_ROWS):
            block = rows[start:start + XLSX_CHUNK_ROWS]
            columns = [pa.array([_cell_text(r[i]) if i < len(r) else None for r in block], pa.string())
                       for i in order]
            # Spreadsheet row numbers: the header is row ``above + 1`` (1 unless the sheet's used
            # range starts lower down).
            first = above + start + 1
            table = staged_table(name, range(first, first + len(block)), columns)
            done += len(block)
            yield Chunk(name, without_empty_lines(table), done, dropped_columns=tuple(sorted(personal)),
                        progress_unit="rows")
        del rows


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
