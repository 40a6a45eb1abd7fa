"""Malformed exports through the real `lgs load`: each is refused with one clear line, or loaded
with its bad rows quarantined, and none changes what an earlier load put in the database.

Every case runs on a fresh database that already holds a small good export (GOOD_ROWS); the
database's fingerprint is taken before the bad input and compared after it.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import gzip
import io
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from lgs_analytics.cli import main
from lgs_analytics.config import EXPORT_COLUMNS
from lgs_analytics.ingest.readers import CUT_CHARACTER, CUT_LINE
from lgs_analytics.ingest.validate import (
    CUSTOMER_REASON,
    DATE_REASON,
    DAY_FIRST_REASON,
    INVOICE_PREFIX_REASON,
    NUL_REASON,
    PRICE_RANGE_REASON,
    YEAR_REASON,
)
from lgs_analytics.store import db
from lgs_analytics.synthetic import generate_export, write_export
from tests.conftest import write_csv
from tests.ingest.dump_fixture import FIRST_ROW_LINE, ROWS, dump_text

pytestmark = pytest.mark.integration

WHOLE = "Quantity is not a whole number"
PRICE = "Price is not a number"
UNREADABLE_XLSX = "not a readable .xlsx workbook"
DAMAGED_XLSX = "the workbook is damaged (its part xl/"
FORMULAS = ("=cmd|' /C calc'!A0", "+SUM(A1)", '@HYPERLINK("http://example.com/x","click")', "-2+3")


def row(invoice="489434", stock="85048", desc="GLASS BALL", qty="12", date="2009-12-01 07:45:00",
        price="6.95", customer="13085", country="United Kingdom"):
    return [invoice, stock, desc, qty, date, price, customer, country]


GOOD_ROWS = [
    row(),
    row(stock="22633", desc="HAND WARMER UNION JACK", qty="6", price="2.10"),
    row(invoice="489435", stock="85123A", desc="WHITE HANGING HEART T-LIGHT HOLDER", qty="32",
        date="2009-12-01 09:06:00", price="2.55", customer=""),
    row(invoice="C489436", qty="-12", date="2009-12-02 10:00:00", customer="12682", country="France"),
]


# --- the database's fingerprint ------------------------------------------------------------------


def fetch(sql: str, params: tuple = ()) -> list[tuple]:
    with db.connect() as conn:
        return db.query(conn, sql, params)


def fingerprint(without_batch: int = -1) -> dict:
    """What is loaded, leaving out one batch (the one a bad input may have added)."""
    b = (without_batch,)
    return {
        "load_batches": fetch("SELECT batch_id, source_file, sha256, rows_read, rows_loaded, rows_new, "
                              "rows_duplicate, rows_quarantined FROM load_batches WHERE batch_id <> %s "
                              "ORDER BY 1", b),
        "export_rows": fetch("SELECT count(*) FROM export_rows WHERE batch_id <> %s", b)[0][0],
        "transactions": fetch("SELECT count(*) FROM transactions WHERE first_batch_id <> %s", b)[0][0],
        "total": fetch("SELECT sum(quantity * unit_price) FROM transactions WHERE first_batch_id <> %s",
                       b)[0][0],
        "line_ids": [r[0] for r in fetch("SELECT line_id::text FROM transactions "
                                         "WHERE first_batch_id <> %s ORDER BY 1", b)],
        "values": fetch("SELECT line_id::text, invoice_no, stock_code, description, quantity, "
                        "invoice_date::text, unit_price::text, customer_id, country, occurrence "
                        "FROM transactions WHERE first_batch_id <> %s ORDER BY 1", b),
        "quarantine": fetch("SELECT count(*) FROM quarantine WHERE batch_id <> %s", b)[0][0],
    }


def lgs_load(path: Path, capsys) -> tuple[int, str, str]:
    code = main(["load", str(path), "--quiet"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def preloaded(database_url, tmp_path, capsys) -> dict:
    """A database holding the good export; returns its fingerprint."""
    good = write_csv(tmp_path / "good.csv", GOOD_ROWS)
    code, out, err = lgs_load(good, capsys)
    assert (code, err) == (0, ""), err
    before = fingerprint()
    assert before["transactions"] == len(GOOD_ROWS) and len(before["load_batches"]) == 1
    return before


# --- building bad inputs -------------------------------------------------------------------------


@functools.cache
def real_workbook() -> bytes:
    """A real two-sheet workbook as `lgs generate` writes it (100 rows)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export_synthetic.xlsx"
        write_export(generate_export(rows=100, seed=1), path)
        return path.read_bytes()


def member_data_span(data: bytes, member: str) -> tuple[int, int]:
    """(start, length) of one zip member's compressed bytes."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(member)
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    return info.header_offset + 30 + name_len + extra_len, info.compress_size


def truncated_xlsx(tmp: Path) -> Path:
    data = real_workbook()
    path = tmp / "truncated.xlsx"
    path.write_bytes(data[: len(data) // 2])
    return path


def overwritten_xlsx(tmp: Path) -> Path:
    data = bytearray(real_workbook())
    middle = len(data) // 2
    data[middle:middle + 64] = b"\xff" * 64
    path = tmp / "overwritten.xlsx"
    path.write_bytes(bytes(data))
    return path


def flipped_sheet_xlsx(tmp: Path) -> Path:
    data = bytearray(real_workbook())
    start, length = member_data_span(bytes(data), "xl/worksheets/sheet1.xml")
    data[start + length // 2] ^= 0x55  # one bit-rotten byte inside the first sheet's data
    path = tmp / "flipped.xlsx"
    path.write_bytes(bytes(data))
    return path


def bad_checksum_xlsx(tmp: Path) -> Path:
    """The workbook part lost its second sheet's entry but kept its old CRC (a disk or transfer
    error): the zip says the part is corrupt (zipfile.testzip names it)."""
    source = io.BytesIO(real_workbook())
    member = "xl/workbook.xml"
    with zipfile.ZipFile(source) as z:
        parts = [(info, z.read(info.filename)) for info in z.infolist()]
    original = next(d for i, d in parts if i.filename == member)
    damaged = re.sub(rb'<sheet name="Year 2010-2011"[^>]*/>', b"", original)
    assert damaged != original
    path = tmp / "bad_checksum.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in parts:
            out.writestr(info, damaged if info.filename == member else data)
    new_crc, old_crc = struct.pack("<I", zlib.crc32(damaged)), struct.pack("<I", zlib.crc32(original))
    raw = path.read_bytes()
    assert raw.count(new_crc) == 2  # the local header and the central directory
    path.write_bytes(raw.replace(new_crc, old_crc))
    with zipfile.ZipFile(path) as z:
        assert z.testzip() == member
    return path


def csv_text_as_xlsx(tmp: Path) -> Path:
    return write_csv(tmp / "export.xlsx", GOOD_ROWS[:1])


def zip_not_workbook(tmp: Path) -> Path:
    path = tmp / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("export.csv", ",".join(EXPORT_COLUMNS) + "\n" + ",".join(GOOD_ROWS[0]) + "\n")
    return path


def workbook(tmp: Path, rows: list[list], header=EXPORT_COLUMNS, name: str = "book.xlsx") -> Path:
    """A one-sheet workbook: str cells as text (never formulas), numbers as numbers, dates as dates."""
    import xlsxwriter

    path = tmp / name
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Sheet1")
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet.write_row(0, 0, header)
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values):
            if isinstance(value, dt.datetime):
                sheet.write_datetime(r, c, value, when)
            elif isinstance(value, str):
                sheet.write_string(r, c, value)
            elif value is not None:
                sheet.write_number(r, c, value)
    book.close()
    return path


def empty_workbook(tmp: Path) -> Path:
    import xlsxwriter

    path = tmp / "empty.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Sheet1")
    book.close()
    return path


WHEN = dt.datetime(2009, 12, 3, 10, 0)
XLSX_BAD_CELLS = [
    [489500, 85048, FORMULAS[0], 12, WHEN, 6.95, 13085, "United Kingdom"],
    [489500, 85048, "GLASS BALL", 12.5, WHEN, 6.95, 13085, "United Kingdom"],
    [489500, 85048, "GLASS BALL", 12, WHEN, "abc", 13085, "United Kingdom"],
]


def file(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def folder(path: Path) -> Path:
    path.mkdir()
    return path


def csv_with(tmp: Path, rows: list[list[str]], name: str = "export.csv", header: str | None = None) -> Path:
    return write_csv(tmp / name, rows, header=header)


def csv_quoted(tmp: Path, rows: list[list[str]], name: str = "export.csv") -> Path:
    """A CSV written by the csv module (values with commas or quotes are quoted)."""
    path = tmp / name
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows(rows)
    return path


def separated(tmp: Path, sep: str) -> Path:
    text = "\n".join(sep.join(r) for r in [list(EXPORT_COLUMNS), *GOOD_ROWS]) + "\n"
    return file(tmp / "export.csv", text.encode())


def without_column(tmp: Path, name: str) -> Path:
    i = EXPORT_COLUMNS.index(name)
    keep = [c for c in EXPORT_COLUMNS if c != name]
    return csv_with(tmp, [r[:i] + r[i + 1:] for r in GOOD_ROWS], header=",".join(keep))


def latin1(tmp: Path) -> Path:
    path = tmp / "export.csv"
    text = "\n".join([",".join(EXPORT_COLUMNS), ",".join(row(desc="CAFÉ MUG", price="£2.10"))]) + "\n"
    path.write_bytes(text.encode("latin-1"))
    return path


def huge_line(tmp: Path, megabytes: int) -> Path:
    return csv_with(tmp, [row(invoice="489600", desc="X" * (megabytes << 20)), row(invoice="489601")])


def blank_line_then_bad_row(tmp: Path) -> Path:
    path = tmp / "export.csv"
    lines = [",".join(EXPORT_COLUMNS), ",".join(row(invoice="489700")), "",
             ",".join(row(invoice="489701", qty="12.5"))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


OLDER_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"


def gzipped_csv(tmp: Path, rows: list[list[str]], header: str | None = None, cut: bool = False) -> Path:
    """A .csv.gz (cut in half: a transfer that stopped)."""
    data = gzip.compress(write_csv(tmp / "plain.csv", rows, header=header).read_bytes())
    return file(tmp / "export.csv.gz", data[: len(data) // 2] if cut else data)


def zipped(tmp: Path, members: dict[str, bytes], name: str = "export.zip") -> Path:
    path = tmp / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for member, data in members.items():
            z.writestr(member, data)
    return path


def dump_file(tmp: Path, text: str, name: str = "retail.sql") -> Path:
    return file(tmp / name, text.encode("utf-8"))


MANY_ROWS = [row(invoice=str(490000 + i)) for i in range(3000)]
DUMP_BAD_ROWS = [ROWS[0], ROWS[1].replace("\t6\t", "\t6.5\t"), "536367\t22634\tONLY THREE",
                 ROWS[3].replace("2010-12-01 08:45:00", "2010-13-01 08:45:00"), ROWS[4]]


# --- issue 13: cut files, NUL bytes, line numbers, ids and dates ---------------------------------


def cut_csv(tmp: Path, name: str = "export.csv", compress: bool = False) -> Path:
    """A copy that stopped inside the last field: ``...,United Ki`` and no line break."""
    text = write_csv(tmp / "whole.csv", [row(invoice="490101"), row(invoice="490102")]).read_bytes()
    data = text[:-len("ngdom\n")]
    return file(tmp / name, gzip.compress(data) if compress else data)


def cut_in_a_character(tmp: Path, compress: bool = False) -> Path:
    """A copy that stopped inside a two-byte character (the é of CAFÉ)."""
    text = write_csv(tmp / "whole.csv", [row(invoice="490111"), row(invoice="490112", desc="CAFÉ")])
    data = text.read_bytes()
    data = data[:data.index("É".encode()) + 1]
    name = "export.csv.gz" if compress else "export.csv"
    return file(tmp / name, gzip.compress(data) if compress else data)


def nul_row_csv(tmp: Path) -> Path:
    rows = [row(invoice="490121"), row(invoice="490122", desc="GLASS\x00BALL"), row(invoice="490123")]
    return csv_with(tmp, rows)


def quoted_newlines_csv(tmp: Path) -> Path:
    """A description over three lines (CRLF inside it, then LF), then bad rows: their lines are exact."""
    return file(tmp / "export.csv", "\n".join([
        ",".join(EXPORT_COLUMNS),
        ",".join(row(invoice="490131", desc='"TWO\r\nLINES\nAND A THIRD"')),  # lines 2-4
        ",".join(row(invoice="490132", qty="x")),  # line 5
        ",".join(row(invoice="490133")[:3]),  # line 6
        ",".join(row(invoice="490134", desc='"A\nB"', qty="y")),  # lines 7-8
        ",".join(row(invoice="490135", price="z")), ""]).encode())  # line 9


def low_sheet_xlsx(tmp: Path) -> Path:
    """A sheet whose used range starts at row 3 (two empty rows above the header)."""
    import xlsxwriter

    path = tmp / "low.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Sheet1")
    sheet.write_row(2, 1, EXPORT_COLUMNS)
    sheet.write_row(3, 1, row(invoice="490141"))
    sheet.write_row(4, 1, row(invoice="490142", qty="1.5"))
    book.close()
    return path


def long_line_across_two_blocks(tmp: Path) -> Path:
    """A 9 MiB line that starts 7.5 MiB in: it crosses two of the reader's 8 MiB blocks."""
    filler = [row(invoice=str(500000 + i)) for i in range(7 * (1 << 20) // 70)]
    path = csv_with(tmp, [*filler, row(invoice="490151", desc="X" * (9 << 20)), row(invoice="490152")])
    return path


def nul_dump(tmp: Path) -> Path:
    """A dump with a NUL as COPY's octal escape in one row and as a raw byte in another."""
    rows = [ROWS[0].replace("WHITE", "WH\\000ITE"), ROWS[1].replace("HAND", "HA\x00ND"), ROWS[4]]
    return dump_file(tmp, dump_text(rows))

# --- expectations --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """Exit != 0 and one stderr line naming the problem; nothing written."""

    phrase: str


@dataclass(frozen=True)
class Loaded:
    """Exit 0; ``loaded`` rows typed, the others quarantined with these reasons (by line/row)."""

    loaded: int
    quarantined: dict[int, str]
    check: Callable[[int], None] | None = None  # further checks on the new batch


def descriptions_are(*expected: str) -> Callable[[int], None]:
    def check(batch: int) -> None:
        got = fetch("SELECT description FROM transactions WHERE first_batch_id = %s ORDER BY invoice_no",
                    (batch,))
        assert [d for (d,) in got] == list(expected)
    return check


def dates_are(*expected: str) -> Callable[[int], None]:
    def check(batch: int) -> None:
        got = fetch("SELECT invoice_date::text FROM transactions WHERE first_batch_id = %s "
                    "ORDER BY invoice_no", (batch,))
        assert [d for (d,) in got] == list(expected)
    return check


LONGEST_DESCRIPTION = (1 << 20) - 100  # a line just within the readers' bound (chunks.LINE_MAX_BYTES)


def huge_description_loaded(batch: int) -> None:
    got = fetch("SELECT length(description), description = repeat('X', %s) FROM transactions "
                "WHERE first_batch_id = %s AND invoice_no = '489600'", (LONGEST_DESCRIPTION, batch))
    assert got == [(LONGEST_DESCRIPTION, True)]


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Path], Path]
    expect: Refused | Loaded | tuple[Loaded, ...]  # a tuple: any one of these outcomes


CASES = [
    # --- files that cannot be an export: refused, nothing written
    Case("xlsx-truncated-in-half", truncated_xlsx, Refused(UNREADABLE_XLSX)),
    # (zip checksums catch damage inside a part, which the xlsx reader could read past)
    Case("xlsx-64-bytes-overwritten-mid-file", overwritten_xlsx, Refused(DAMAGED_XLSX)),
    Case("xlsx-byte-flipped-in-sheet-data", flipped_sheet_xlsx, Refused(DAMAGED_XLSX)),
    Case("xlsx-workbook-part-fails-its-checksum", bad_checksum_xlsx,
         Refused(DAMAGED_XLSX + "workbook.xml fails its checksum")),
    Case("xlsx-that-is-csv-text", csv_text_as_xlsx, Refused(UNREADABLE_XLSX)),
    Case("xlsx-zip-that-is-no-workbook", zip_not_workbook, Refused(UNREADABLE_XLSX)),
    Case("xlsx-without-any-cell", empty_workbook, Refused("the workbook has no data")),
    Case("xlsx-missing-column", lambda t: workbook(t, [r[:-1] for r in XLSX_BAD_CELLS], EXPORT_COLUMNS[:-1]),
         Refused("missing Country")),
    Case("xlsx-extra-column-discount",
         lambda t: workbook(t, [[*r, 0.1] for r in XLSX_BAD_CELLS], [*EXPORT_COLUMNS, "Discount"]),
         Refused("unexpected Discount")),
    Case("csv-semicolon-delimiter", lambda t: separated(t, ";"), Refused("separated by semicolons")),
    Case("csv-tab-delimiter", lambda t: separated(t, "\t"), Refused("separated by tabs")),
    Case("csv-missing-column", lambda t: without_column(t, "Price"), Refused("missing Price")),
    Case("csv-extra-column-warehouse",
         lambda t: csv_with(t, [[*r, "LONDON-2"] for r in GOOD_ROWS], header=",".join([*EXPORT_COLUMNS,
                                                                                      "Warehouse"])),
         Refused("unexpected Warehouse")),
    Case("csv-repeated-column",
         lambda t: csv_with(t, [[*r, "1"] for r in GOOD_ROWS],
                            header=",".join([*EXPORT_COLUMNS, "Quantity"])),
         Refused("repeated Quantity")),
    Case("csv-latin-1-bytes", latin1, Refused("not UTF-8 text (byte 0xc9")),
    Case("csv-header-only", lambda t: csv_with(t, []), Refused("has a header but no data rows")),
    Case("csv-header-field-over-128-kib",  # the csv module's field limit: was a _csv.Error traceback
         lambda t: csv_with(t, GOOD_ROWS, header=",".join([*EXPORT_COLUMNS[:-1], "Country" + "x" * 200_000])),
         Refused("the header line cannot be read as CSV")),
    Case("csv-whitespace-only", lambda t: file(t / "blank.csv", b"   \n \t \n\n"),
         Refused("has no header line")),
    Case("csv-0-bytes", lambda t: file(t / "zero.csv", b""), Refused("the file is empty (0 bytes)")),
    Case("csv-20-mb-line", lambda t: huge_line(t, 20), Refused("a line is longer than 1 MiB")),
    Case("json-suffix", lambda t: file(t / "export.json", b"{}"), Refused("unsupported file type '.json'")),
    Case("folder", lambda t: folder(t / "exports"), Refused("is a folder")),
    Case("missing-path", lambda t: t / "nope.csv", Refused("no such file")),
    # --- compressed exports and dumps that cannot be read: refused, nothing written
    Case("csv-gz-cut-short", lambda t: gzipped_csv(t, MANY_ROWS, cut=True),
         Refused("the gzip file is damaged (Truncated compressed stream)")),
    Case("csv-gz-that-is-plain-text", lambda t: write_csv(t / "export.csv.gz", GOOD_ROWS),
         Refused("not a gzip file, though named .csv.gz")),
    Case("xlsx-gz", lambda t: file(t / "book.xlsx.gz", gzip.compress(real_workbook())),
         Refused("a gzip file of unknown content ('.gz')")),
    Case("zip-with-two-exports", lambda t: zipped(t, {"a.csv": b"x", "b.xlsx": b"y"}),
         Refused("the zip holds 2 files (a.csv, b.xlsx); zip exactly one export")),
    Case("zip-empty", lambda t: zipped(t, {}), Refused("the zip holds no file")),
    Case("zip-of-an-older-csv-with-a-wrong-header",
         lambda t: zipped(t, {"e.csv": f"{OLDER_HEADER},Warehouse\n".encode()}),
         Refused("export.zip [e.csv]: not an LGS export (unexpected Warehouse)")),
    Case("sql-custom-format", lambda t: file(t / "retail.sql", b"PGDMP\x01\x0e\x00" + bytes(300)),
         Refused("a pg_dump archive in custom format")),
    Case("sql-without-copy-block", lambda t: dump_file(t, "CREATE TABLE retail (invoice_no text);\n"),
         Refused("no COPY data of table retail, so it is no dump of the LGS export; export the table")),
    Case("sql-copy-of-another-table",
         lambda t: dump_file(t, "COPY public.orders (id) FROM stdin;\n1\n\\.\n"),
         Refused("no COPY data of table retail (only the data of public.orders)")),
    Case("sql-cut-short", lambda t: dump_file(t, dump_text(tail="")),
         Refused("the dump ends inside the data of public.retail")),
    # --- exports with bad rows: loaded, the bad rows quarantined with their reason
    Case("dates-in-other-formats", lambda t: csv_with(t, [
        row(invoice="489501", date="01.12.2009 07:45"), row(invoice="489502", date="2009/12/01 07:45"),
        row(invoice="489503", date="1 Dec 2009"), row(invoice="489504", date="20091201"),
        row(invoice="489505", date="2009-02-30 10:00"), row(invoice="489506", date="13/1/2009 7:45"),
        row(invoice="489507", date="2009-12-01 25:00"), row(invoice="489508")]),
         Loaded(1, {**dict.fromkeys(range(2, 9), DATE_REASON), 7: DAY_FIRST_REASON})),
    Case("dates-in-the-accepted-formats", lambda t: csv_with(t, [
        row(invoice="489511", date="2009-12-01T07:45"), row(invoice="489512", date="12/1/2009 7:45"),
        row(invoice="489513", date="2009-12-01 07:45:00.250"), row(invoice="489514", date="2/29/2012")]),
         Loaded(4, {}, dates_are("2009-12-01 07:45:00", "2009-12-01 07:45:00", "2009-12-01 07:45:00",
                                 "2012-02-29 00:00:00"))),
    Case("dates-with-a-year-out-of-range", lambda t: csv_with(t, [
        row(invoice="489521"), row(invoice="489522", date="0999-12-01 07:45"),
        row(invoice="489523", date="1/1/0000 0:00"), row(invoice="489524", date="9999-12-31 23:59")]),
         Loaded(1, {3: YEAR_REASON, 4: YEAR_REASON, 5: YEAR_REASON})),
    Case("quantities-1e3-and-12.5", lambda t: csv_with(t, [
        row(invoice="489531", qty="1e3"), row(invoice="489532", qty="12.5"), row(invoice="489533")]),
         Loaded(1, {2: WHOLE, 3: WHOLE})),
    Case("prices-nan-and-abc", lambda t: csv_with(t, [
        row(invoice="489541", price="NaN"), row(invoice="489542", price="abc"), row(invoice="489543")]),
         Loaded(1, {2: PRICE, 3: PRICE})),
    Case("price-overflowing-to-infinity", lambda t: csv_with(t, [
        row(invoice="489551", price="1e999"), row(invoice="489552")]),
         Loaded(1, {2: PRICE})),
    Case("price-out-of-range", lambda t: csv_with(t, [
        row(invoice="489553", price="1e50"), row(invoice="489554", price="-2000000000"),
        row(invoice="489555", price="1e-5")]),
         Loaded(1, {2: PRICE_RANGE_REASON, 3: PRICE_RANGE_REASON})),
    Case("csv-lines-with-too-few-and-too-many-fields", lambda t: csv_with(t, [
        row(invoice="489561"), row(invoice="489562")[:5], [*row(invoice="489563"), "extra"],
        row(invoice="489564")]),
         Loaded(2, {3: "line has 5 fields, expected 8", 4: "line has 9 fields, expected 8"})),
    Case("csv-blank-line-before-a-bad-row", blank_line_then_bad_row, Loaded(1, {4: WHOLE})),
    Case("csv-blank-lines-and-lines-of-commas-are-not-rows", lambda t: file(t / "export.csv", "\n".join(
        [",".join(EXPORT_COLUMNS), "", ",".join(row(invoice="489710")), ",,,,,,,", "", "1,2",
         ",".join(row(invoice="489711", qty="x")), ""]).encode()),
         Loaded(1, {6: "line has 2 fields, expected 8", 7: WHOLE})),
    Case("csv-formula-like-descriptions-are-text", lambda t: csv_quoted(t, [
        row(invoice=f"48957{i}", desc=text) for i, text in enumerate(FORMULAS)]),
         Loaded(4, {}, descriptions_are(*FORMULAS))),
    Case("csv-formula-like-numbers", lambda t: csv_quoted(t, [
        row(invoice="489581", qty=FORMULAS[0]), row(invoice="489582", price=FORMULAS[1]),
        row(invoice="489583", customer=FORMULAS[3]), row(invoice="489584", qty="@SUM(1)"),
        row(invoice="489585", price=FORMULAS[2])]),
         Loaded(0, {2: WHOLE, 3: PRICE, 4: "Customer ID is not a whole number", 5: WHOLE, 6: PRICE})),
    Case("csv-description-just-under-1-mib",
         lambda t: csv_with(t, [row(invoice="489600", desc="X" * LONGEST_DESCRIPTION),
                                row(invoice="489601")]),
         Loaded(2, {}, huge_description_loaded)),
    Case("xlsx-bad-cells-and-formula-like-text", lambda t: workbook(t, XLSX_BAD_CELLS),
         Loaded(1, {3: WHOLE, 4: PRICE}, descriptions_are(FORMULAS[0]))),
    Case("csv-gz-older-layout-with-bad-rows", lambda t: gzipped_csv(t, [
        row(invoice="489801", customer="13085.0"), row(invoice="489802", qty="12.5"),
        row(invoice="489803")[:5], row(invoice="489804", customer="")], header=OLDER_HEADER),
         Loaded(2, {3: WHOLE, 4: "line has 5 fields, expected 8"})),
    Case("zip-of-a-workbook-with-bad-cells",
         lambda t: zipped(t, {"book.xlsx": workbook(t, XLSX_BAD_CELLS).read_bytes()}),
         Loaded(1, {3: WHOLE, 4: PRICE}, descriptions_are(FORMULAS[0]))),
    # --- issue 13: a file cut short, NUL bytes, exact line numbers, ids and dates
    Case("csv-cut-inside-its-last-field", cut_csv, Loaded(1, {3: CUT_LINE})),
    Case("csv-gz-cut-inside-its-last-field", lambda t: cut_csv(t, "export.csv.gz", compress=True),
         Loaded(1, {3: CUT_LINE})),
    Case("txt-cut-inside-its-last-field", lambda t: cut_csv(t, "export.txt"), Loaded(1, {3: CUT_LINE})),
    Case("csv-cut-inside-a-character", cut_in_a_character, Refused(CUT_CHARACTER)),
    Case("csv-gz-cut-inside-a-character", lambda t: cut_in_a_character(t, compress=True),
         Refused(CUT_CHARACTER)),
    Case("csv-nul-byte-in-one-row", nul_row_csv, Loaded(2, {3: NUL_REASON})),
    Case("csv-quoted-newlines-keep-line-numbers", quoted_newlines_csv,
         Loaded(1, {5: WHOLE, 6: "line has 3 fields, expected 8", 7: WHOLE, 9: PRICE})),
    Case("xlsx-used-range-below-row-1", low_sheet_xlsx, Loaded(1, {5: WHOLE})),
    Case("invoice-with-another-letter", lambda t: csv_with(t, [
        row(invoice="X123"), row(invoice="c490161"), row(invoice="C490162"), row(invoice="A490163")]),
         Loaded(2, {2: INVOICE_PREFIX_REASON, 3: INVOICE_PREFIX_REASON})),
    Case("customer-ids-0-and-negative", lambda t: csv_with(t, [
        row(invoice="490171", customer="-1"), row(invoice="490172", customer="0"),
        row(invoice="490173", customer="0.0"), row(invoice="490174", customer="12346")]),
         Loaded(1, dict.fromkeys((2, 3, 4), CUSTOMER_REASON))),
    Case("dates-day-month-mixed-with-ambiguous-ones", lambda t: csv_with(t, [
        row(invoice="490181", date="3/1/2011 10:00"), row(invoice="490182", date="13/1/2011 10:00")]),
         Refused("its dates are day/month/year (line 3: 13/1/2011 10:00)")),
    Case("sql-nul-bytes-escaped-and-raw", nul_dump,
         Loaded(1, {FIRST_ROW_LINE: NUL_REASON, FIRST_ROW_LINE + 1: NUL_REASON})),
    Case("xlsx-header-name-with-a-line-break",
         lambda t: workbook(t, [[*row(), "A"]], header=[*EXPORT_COLUMNS, "Ware\nhouse"]),
         Refused("not an LGS export (unexpected Ware\\nhouse)")),
    Case("csv-header-name-with-a-line-break", lambda t: file(t / "export.csv", (
        '"Invoice\nNo",' + ",".join(EXPORT_COLUMNS[1:]) + "\n" + ",".join(row()) + "\n").encode()),
         Refused("not an LGS export (missing")),  # one line, whatever the name holds
    Case("csv-9-mb-line", lambda t: huge_line(t, 9), Refused("a line is longer than 1 MiB")),
    Case("csv-9-mb-line-across-two-blocks", long_line_across_two_blocks,
         Refused("a line is longer than 1 MiB")),
    # (one bound for every format: a line inside a block, which used to load, is refused too)
    Case("csv-2-mb-line", lambda t: huge_line(t, 2), Refused("a line is longer than 1 MiB")),
    Case("sql-dump-with-bad-rows-quarantined-at-their-dump-lines",
         lambda t: dump_file(t, dump_text(DUMP_BAD_ROWS)),
         Loaded(2, {FIRST_ROW_LINE + 1: WHOLE, FIRST_ROW_LINE + 2: "line has 3 fields, expected 8",
                    FIRST_ROW_LINE + 3: DATE_REASON})),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_or_quarantined_and_leaves_earlier_loads_alone(preloaded, tmp_path, capsys,
                                                                            case):
    path = case.build(tmp_path)
    code, out, err = lgs_load(path, capsys)
    if isinstance(case.expect, Refused):
        assert code != 0, out
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("lgs: error:") and case.expect.phrase in lines[0], lines[0]
        assert fingerprint() == preloaded  # no new batch, no row of the refused file
        return
    assert (code, err) == (0, ""), err
    batches = fetch("SELECT batch_id, rows_read, rows_loaded, rows_quarantined FROM load_batches "
                    "WHERE batch_id > %s", (preloaded["load_batches"][-1][0],))
    assert len(batches) == 1
    batch, read, loaded, quarantined = batches[0]
    assert read == loaded + quarantined
    reasons = dict(fetch("SELECT source_row, reason FROM quarantine WHERE batch_id = %s", (batch,)))
    assert quarantined == len(reasons)
    expected = case.expect if isinstance(case.expect, tuple) else (case.expect,)
    matching = [e for e in expected if (e.loaded, e.quarantined) == (loaded, reasons)]
    assert matching, f"{loaded} loaded, quarantined {reasons}; expected one of {expected}"
    if matching[0].check is not None:
        matching[0].check(batch)
    assert fingerprint(without_batch=batch) == preloaded


TWICE = [
    Case("csv-refused", lambda t: separated(t, ";"), Refused("separated by semicolons")),
    Case("csv-quarantined", lambda t: csv_with(t, [row(invoice="489901", qty="12.5"), row(invoice="489902")]),
         Loaded(1, {2: WHOLE})),
    Case("xlsx-refused", truncated_xlsx, Refused(UNREADABLE_XLSX)),
    Case("xlsx-quarantined", lambda t: workbook(t, XLSX_BAD_CELLS), Loaded(1, {3: WHOLE, 4: PRICE})),
    Case("csv-gz-refused", lambda t: gzipped_csv(t, MANY_ROWS, cut=True),
         Refused("the gzip file is damaged")),
    Case("sql-quarantined", lambda t: dump_file(t, dump_text(DUMP_BAD_ROWS)),
         Loaded(2, {FIRST_ROW_LINE + 1: WHOLE, FIRST_ROW_LINE + 2: "line has 3 fields, expected 8",
                    FIRST_ROW_LINE + 3: DATE_REASON})),
]


@pytest.mark.parametrize("case", TWICE, ids=[c.id for c in TWICE])
def test_the_same_bad_file_loaded_twice_is_clean_the_second_time(preloaded, tmp_path, capsys, case):
    path = case.build(tmp_path)
    first = lgs_load(path, capsys)
    after_first = fingerprint()
    second = lgs_load(path, capsys)
    if isinstance(case.expect, Refused):
        assert first[0] != 0 and second[0] != 0
        assert second[2] == first[2] and case.expect.phrase in second[2]  # the same one line again
        assert after_first == fingerprint() == preloaded
    else:
        assert (first[0], second[0], second[2]) == (0, 0, "")
        batch = after_first["load_batches"][-1][0]
        assert f"already loaded as batch {batch}" in second[1]
        assert fingerprint() == after_first  # no second batch, no second quarantine
        assert after_first["quarantine"] == len(case.expect.quarantined)
