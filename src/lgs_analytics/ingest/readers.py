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

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
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

    (A compressed CSV is checked as it is decompressed instead, by pyarrow: reading it twice
    would double the cost of decompressing.)"""
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            try:
                block.decode("utf-8")
            except UnicodeDecodeError as exc:
                # A multi-byte character cut by the block boundary is not an error.
                if exc.start >= len(block) - 3 and exc.reason == "unexpected end of data":
                    fh.seek(exc.start - len(block), 1)
                    continue
                offset = fh.tell() - len(block) + exc.start
                raise ExportError(
                    f"{path}: not UTF-8 text (byte 0x{block[exc.start]:02x} at offset {offset}); "
                    "re-save the export as UTF-8 CSV"
                ) from None


def _read_csv(source: Source) -> Iterator[Chunk]:
    if source.compression is None:
        _check_utf8(source.path)
    header = _csv_header(source)
    named = _without_trailing_blanks(header)
    personal = check_header(named, source.where)
    wanted = [named[i] for i in column_order(named)]  # export order; personal columns left unread
    bad: list[BadLine] = []

    def keep_bad_line(row: pacsv.InvalidRow) -> str:
        # A line that cannot be split cannot be told apart from its personal fields: withhold it.
        text = PERSONAL_LINE_WITHHELD if personal else row.text[:2000]
        bad.append(BadLine("", row.number or 0, text,
                           f"line has {row.actual_columns} fields, expected {row.expected_columns}"))
        return "skip"

    # One thread, no newlines inside values: line numbers stay exact for the quarantine.
    read_opts = pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES, column_names=_placeholders(header), skip_rows=1,
                                  encoding="utf8", use_threads=False)
    # Empty lines are read as rows (of empty strings) and dropped below, so line numbers count them.
    parse_opts = pacsv.ParseOptions(invalid_row_handler=keep_bad_line, ignore_empty_lines=False)
    convert = pacsv.ConvertOptions(include_columns=wanted, column_types={h: pa.string() for h in wanted},
                                   strings_can_be_null=False)
    next_line = 2  # the header is line 1
    reported = 0
    consumed = 0
    with source.reading(), source.open() as (stream, position):
        try:
            reader = pacsv.open_csv(stream, read_options=read_opts, parse_options=parse_opts,
                                    convert_options=convert)
            for batch in reader:
                numbers = _line_numbers(next_line, batch.num_rows, {b.source_row for b in bad})
                if len(numbers):
                    next_line = int(numbers[-1]) + 1
                table = staged_table("", numbers, batch.columns)
                consumed = position()
                yield Chunk("", without_empty_lines(table), consumed, bad[reported:], personal)
                reported = len(bad)
        except pa.ArrowInvalid as exc:
            raise _unparsable(source, exc) from None
    if len(bad) > reported:
        yield Chunk("", empty_table(), consumed, bad[reported:], personal)


def _unparsable(source: Source, exc: pa.ArrowInvalid) -> ExportError:
    """The one-line refusal of a CSV pyarrow cannot read on."""
    if "straddles" in str(exc):  # a record longer than a block: no export line is that long
        return ExportError(f"{source.where}: a line is longer than {CSV_BLOCK_BYTES >> 20} MiB, so this is "
                           "not a sound export (a missing line break or quote?); check the file")
    if "invalid UTF8" in str(exc):  # a compressed CSV: the text is checked as it is decompressed
        line = re.search(r"Row #(\d+)", str(exc))
        return ExportError(f"{source.where}: not UTF-8 text{f' (line {line[1]})' if line else ''}; "
                           "re-save the export as UTF-8 CSV")
    return ExportError(f"{source.where}: cannot parse the CSV ({first_line(exc, 200)}); "
                       "check that it is the comma-separated export")


def _line_numbers(first: int, count: int, bad_lines: set[int]) -> np.ndarray:
    """Line numbers of ``count`` parsed rows from ``first`` on, skipping lines set aside as bad."""
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
    first = next(csv.reader(io.StringIO(text, newline="")), None)
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
    """Refuse a workbook whose zip parts fail their checksums: the reader stops at an XML part's
    closing tag without checking it, so a damaged part could silently lose a sheet."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise ExportError(f"{where}: not a readable .xlsx workbook ({first_line(exc, 200)}); "
                          "open it in Excel and save it again as .xlsx") from None
    if damaged is not None:
        raise ExportError(f"{where}: the workbook is damaged (its part {damaged} fails its checksum); "
                          "copy or export it again")


def _xlsx_sheets(source: Source) -> dict[str, list[list]]:
    """Every sheet with a header, as rows of cells (a zipped workbook is unzipped to a temporary file)."""
    from python_calamine import CalamineError, CalamineWorkbook

    with source.reading(), source.local_file() as path:
        _check_zip(path, source.where)
        try:
            book = CalamineWorkbook.from_path(str(path))
            sheets = {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}
        except (CalamineError, OSError, ValueError) as exc:
            raise ExportError(f"{source.where}: not a readable .xlsx workbook ({first_line(exc, 200)}); "
                              "open it in Excel and save it again as .xlsx") from None
    return {name: rows for name, rows in sheets.items() if any(any(c != "" for c in r) for r in rows[:1])}


def _read_xlsx(source: Source) -> Iterator[Chunk]:
    sheets = _xlsx_sheets(source)
    if not sheets:
        raise ExportError(f"{source.where}: the workbook has no data; export it again")
    personal: set[str] = set()
    for name, rows in sheets.items():
        header = [str(c) for c in rows[0]]
        while header and not header[-1].strip():
            header.pop()
        personal.update(check_header(header, f"{source.where} [{name}]"))
    done = 0
    for name, rows in sheets.items():
        order = column_order([str(c) for c in rows[0]])
        for start in range(1, len(rows), XLSX_CHUNK_ROWS):
            block = rows[start:start + XLSX_CHUNK_ROWS]
            columns = [pa.array([_cell_text(r[i]) if i < len(r) else None for r in block], pa.string())
                       for i in order]
            # Spreadsheet row numbers: the header is row 1.
            table = staged_table(name, range(start + 1, start + 1 + len(block)), columns)
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
