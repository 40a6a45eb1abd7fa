"""Reading LGS exports (.csv, .xlsx) into text chunks, refusing files that cannot be an export.

Every value leaves here as text exactly as exported (spreadsheet numbers and
dates spelled the way the CSV export spells them); validate.py types it and
ingest.py quarantines what cannot be typed. A file that cannot be read at all
raises :class:`ExportError` before anything is written; a CSV line with the
wrong number of fields is kept as a :class:`BadLine` for the quarantine.
Personal columns (privacy.is_personal_column) are left out of every chunk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from lgs_analytics.config import EXPORT_COLUMNS
from lgs_analytics.errors import first_line
from lgs_analytics.privacy import is_personal_column

STAGING_COLUMNS: tuple[str, ...] = (
    "sheet", "source_row", "invoice", "stock_code", "description",
    "quantity", "invoice_date", "price", "customer_id", "country",
)
CSV_BLOCK_BYTES = 8 << 20  # pyarrow reads ~8 MiB at a time: memory stays flat as files grow
XLSX_CHUNK_ROWS = 200_000
PERSONAL_LINE_WITHHELD = "(line withheld: the file carries personal columns)"


class ExportError(ValueError):
    """The file cannot be read as an LGS export; the message says what to do."""


@dataclass(frozen=True)
class BadLine:
    """A CSV record that could not be split into the export's columns."""

    sheet: str
    source_row: int
    text: str
    reason: str


@dataclass
class Chunk:
    """Up to a few hundred thousand staged rows of one sheet, all text."""

    sheet: str
    table: pa.Table  # columns STAGING_COLUMNS
    progress: int  # bytes (CSV) or rows (xlsx) consumed so far
    bad_lines: list[BadLine] = field(default_factory=list)
    dropped_columns: tuple[str, ...] = ()  # personal columns of the file, left out of every chunk


def check_header(names: list[str], where: str) -> tuple[str, ...]:
    """Refuse a header that is not the export's eight columns (any order, any letter case).

    Personal columns an export may carry (names, e-mails, addresses, phones) are allowed:
    they are returned, to be left unread. Any other extra column is refused, since a file
    of another shape could be misread.
    """
    got = [str(n).strip() for n in names]
    separators = {";": "semicolons", "\t": "tabs", "|": "pipes"}
    if len(got) == 1 and any(sep in got[0] for sep in separators):
        name = next(n for sep, n in separators.items() if sep in got[0])
        raise ExportError(f"{where}: columns are separated by {name}; save it as comma-separated CSV")
    wanted = {c.lower() for c in EXPORT_COLUMNS}
    lowered = [g.lower() for g in got]
    missing = [c for c in EXPORT_COLUMNS if c.lower() not in lowered]
    personal = tuple(g for g in got if g.lower() not in wanted and is_personal_column(g))
    extra = [g for g in got if g.lower() not in wanted and g not in personal]
    duplicated = sorted({g for g in lowered if lowered.count(g) > 1})
    problems = []
    if missing:
        problems.append("missing " + ", ".join(missing))
    if extra:
        shown = [e or "(a column without a name)" for e in extra[:5]]
        problems.append("unexpected " + ", ".join(shown) + (" ..." if len(extra) > 5 else ""))
    if duplicated:
        problems.append("repeated " + ", ".join(duplicated))
    if problems:
        raise ExportError(
            f"{where}: not an LGS export ({'; '.join(problems)}); "
            f"expected the columns {', '.join(EXPORT_COLUMNS)}"
        )
    return personal


def read_chunks(path: Path) -> Iterator[Chunk]:
    """Yield the rows of an export as text chunks; raise ExportError if it cannot be one."""
    if not path.exists():
        raise ExportError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise ExportError(f"{path}: is a folder; name the export files inside it")
    if path.stat().st_size == 0:
        raise ExportError(f"{path}: the file is empty (0 bytes); export it again")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        yield from _read_xlsx(path)
    elif suffix in (".csv", ".txt"):
        yield from _read_csv(path)
    else:
        raise ExportError(f"{path}: unsupported file type '{suffix}'; load the .xlsx or .csv export")


# --- CSV -----------------------------------------------------------------------------------------


def _check_utf8(path: Path) -> None:
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


def _read_csv(path: Path) -> Iterator[Chunk]:
    _check_utf8(path)
    header = _csv_header(path)
    named = _without_trailing_blanks(header)
    personal = check_header(named, str(path))
    wanted = [named[i] for i in _column_order(named)]  # export order; personal columns left unread
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
    with path.open("rb") as fh:
        try:
            reader = pacsv.open_csv(fh, read_options=read_opts, parse_options=parse_opts,
                                    convert_options=convert)
            for batch in reader:
                numbers = _line_numbers(next_line, batch.num_rows, {b.source_row for b in bad})
                if len(numbers):
                    next_line = int(numbers[-1]) + 1
                table = pa.Table.from_arrays(
                    [pa.array([""] * batch.num_rows, pa.string()), pa.array(numbers, pa.int32()),
                     *batch.columns],
                    names=list(STAGING_COLUMNS),
                )
                yield Chunk("", _without_empty_lines(table), fh.tell(), bad[reported:], personal)
                reported = len(bad)
        except pa.ArrowInvalid as exc:
            if "straddles" in str(exc):  # a record longer than a block: no export line is that long
                raise ExportError(f"{path}: a line is longer than {CSV_BLOCK_BYTES >> 20} MiB, so this is "
                                  "not a sound export (a missing line break or quote?); check the file"
                                  ) from None
            raise ExportError(f"{path}: cannot parse the CSV ({first_line(exc, 200)}); "
                              "check that it is the comma-separated export") from None
    if len(bad) > reported:
        yield Chunk("", _empty_table(), path.stat().st_size, bad[reported:], personal)


def _without_empty_lines(table: pa.Table) -> pa.Table:
    """Drop empty lines and rows of empty cells (``,,,,,,,``, as spreadsheets save blank rows):
    they hold no value to lose, and are not counted as rows read."""
    import pyarrow.compute as pc

    def blank(name: str) -> pa.ChunkedArray:
        return pc.equal(pc.fill_null(table.column(name), ""), "")

    empty = blank("invoice")
    if not pc.any(empty).as_py():  # the usual chunk: nothing to drop, no need to look further
        return table
    for name in STAGING_COLUMNS[3:]:
        empty = pc.and_(empty, blank(name))
    return table.filter(pc.invert(empty))


def _line_numbers(first: int, count: int, bad_lines: set[int]) -> np.ndarray:
    """Line numbers of ``count`` parsed rows from ``first`` on, skipping lines set aside as bad."""
    pending = sum(1 for n in bad_lines if n >= first)
    candidates = np.arange(first, first + count + pending, dtype=np.int64)
    if pending:
        candidates = candidates[~np.isin(candidates, list(bad_lines))]
    return candidates[:count]


def _csv_header(path: Path) -> list[str]:
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        import csv

        first = next(csv.reader(fh), None)
    if not first or all(not c.strip() for c in first):
        raise ExportError(f"{path}: has no header line; export it again with column names")
    return first  # read with utf-8-sig: without the BOM pyarrow would keep


def _without_trailing_blanks(header: list[str]) -> list[str]:
    """The header without the empty trailing columns some editors add (``...,Country,``)."""
    named = list(header)
    while named and not named[-1].strip():
        named.pop()
    return named


def _placeholders(header: list[str]) -> list[str]:
    """Column names for pyarrow: the trailing empty columns get unique names, and are not read."""
    return [name if name.strip() else f"(empty column {i + 1})" for i, name in enumerate(header)]


def _column_order(header: list[str]) -> list[int]:
    lowered = [h.strip().lower() for h in header]
    return [lowered.index(c.lower()) for c in EXPORT_COLUMNS]


# --- xlsx ----------------------------------------------------------------------------------------


def _check_zip(path: Path) -> None:
    """Refuse a workbook whose zip parts fail their checksums: the reader stops at an XML part's
    closing tag without checking it, so a damaged part could silently lose a sheet."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise ExportError(f"{path}: not a readable .xlsx workbook ({first_line(exc, 200)}); "
                          "open it in Excel and save it again as .xlsx") from None
    if damaged is not None:
        raise ExportError(f"{path}: the workbook is damaged (its part {damaged} fails its checksum); "
                          "copy or export it again")


def _xlsx_sheets(path: Path) -> dict[str, list[list]]:
    from python_calamine import CalamineError, CalamineWorkbook

    _check_zip(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
        sheets = {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}
    except (CalamineError, OSError, ValueError) as exc:
        raise ExportError(f"{path}: not a readable .xlsx workbook ({first_line(exc, 200)}); "
                          "open it in Excel and save it again as .xlsx") from None
    return {name: rows for name, rows in sheets.items() if any(any(c != "" for c in r) for r in rows[:1])}


def _read_xlsx(path: Path) -> Iterator[Chunk]:
    sheets = _xlsx_sheets(path)
    if not sheets:
        raise ExportError(f"{path}: the workbook has no data; export it again")
    personal: set[str] = set()
    for name, rows in sheets.items():
        header = [str(c) for c in rows[0]]
        while header and not header[-1].strip():
            header.pop()
        personal.update(check_header(header, f"{path} [{name}]"))
    done = 0
    for name, rows in sheets.items():
        header = [str(c) for c in rows[0]]
        order = _column_order(header)
        for start in range(1, len(rows), XLSX_CHUNK_ROWS):
            block = rows[start:start + XLSX_CHUNK_ROWS]
            columns = [pa.array([_cell_text(r[i]) if i < len(r) else None for r in block], pa.string())
                       for i in order]
            # Spreadsheet row numbers: the header is row 1.
            numbers = pa.array(range(start + 1, start + 1 + len(block)), pa.int32())
            sheet = pa.array([name] * len(block), pa.string())
            done += len(block)
            table = pa.Table.from_arrays([sheet, numbers, *columns], names=list(STAGING_COLUMNS))
            yield Chunk(name, _without_empty_lines(table), done, dropped_columns=tuple(sorted(personal)))
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


def _empty_table() -> pa.Table:
    return pa.Table.from_arrays(
        [pa.array([], pa.string()), pa.array([], pa.int32())]
        + [pa.array([], pa.string()) for _ in STAGING_COLUMNS[2:]],
        names=list(STAGING_COLUMNS),
    )
