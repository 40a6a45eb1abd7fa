"""Every form an LGS export comes in: the older UCI header, any spelling of the names, .csv.gz and
.zip (read as they decompress), and the suffixes `lgs load` takes from a folder."""

from __future__ import annotations

import gzip
import zipfile

import pytest

from lgs_analytics.config import DB_COLUMNS, EXPORT_COLUMNS
from lgs_analytics.ingest import readers
from lgs_analytics.ingest.columns import check_header, column_order, export_column
from lgs_analytics.ingest.formats import EXPORT_SUFFIXES, ExportError, is_export_file
from lgs_analytics.ingest.readers import read_chunks
from tests.conftest import write_csv

OLDER = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID",
         "Country")
GOOD = ["536365", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "6", "2010-12-01 08:26:00", "2.55",
        "17850.0", "United Kingdom"]


def read_all(path):
    chunks = list(read_chunks(path))
    return [r for c in chunks for r in c.table.to_pylist()], [b for c in chunks for b in c.bad_lines], chunks


# --- column names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "column"),
    [
        ("Customer ID", "Customer ID"), ("CustomerID", "Customer ID"), ("customer_id", "Customer ID"),
        ("CUSTOMER ID", "Customer ID"), ("customer  id", "Customer ID"), ("Customer_ID", "Customer ID"),
        ("InvoiceNo", "Invoice"), ("Invoice", "Invoice"), ("invoice_no", "Invoice"),
        ("INVOICE NO", "Invoice"),
        ("UnitPrice", "Price"), ("Price", "Price"), ("unit_price", "Price"), ("stock_code", "StockCode"),
        ("invoice_date", "InvoiceDate"), (" Quantity ", "Quantity"),
        ("Invoice Number", None), ("CustomerName", None), ("Customer-ID", None), ("Warehouse", None),
    ],
)
def test_each_spelling_of_a_column_name_means_one_export_column(spelling, column):
    assert export_column(spelling) == column


@pytest.mark.parametrize("header", [OLDER, DB_COLUMNS, [c.upper().replace(" ", "_") for c in OLDER]],
                         ids=["older-uci", "postgres-snake-case", "upper-snake"])
def test_the_older_and_snake_case_headers_are_the_export(header):
    assert check_header(list(header), "f.csv") == ()
    assert column_order(list(reversed(header))) == list(range(7, -1, -1))


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ([*OLDER, "Warehouse"], "unexpected Warehouse"),
        ([*OLDER[:-1]], "missing Country"),
        ([*OLDER, "Invoice"], "repeated Invoice (as InvoiceNo and Invoice)"),
        (["Invoice Number", *OLDER[1:]], "missing Invoice; unexpected Invoice Number"),
    ],
)
def test_an_older_header_that_is_not_the_export_is_refused_in_one_line(header, message):
    with pytest.raises(ExportError) as info:
        check_header(list(header), "f.csv")
    assert message in str(info.value) and "(or the older InvoiceNo, UnitPrice, CustomerID)" in str(info.value)
    assert "\n" not in str(info.value)


def test_personal_columns_of_an_older_header_are_left_unread(tmp_path):
    header = ",".join([*OLDER, "Customer Name", "E-mail"])
    rows, _, chunks = read_all(write_csv(tmp_path / "e.csv", [GOOD + ["Jane Doe", "jane@example.com"]],
                                         header=header))
    assert chunks[0].dropped_columns == ("Customer Name", "E-mail")
    assert "Jane Doe" not in str(rows) and rows[0]["customer_id"] == "17850.0"


def test_an_older_layout_csv_reads_as_the_ii_layout(tmp_path):
    older, _, _ = read_all(write_csv(tmp_path / "old.csv", [GOOD], header=",".join(OLDER)))
    ii, _, _ = read_all(write_csv(tmp_path / "ii.csv", [GOOD]))
    assert older == ii
    assert older[0]["price"] == "2.55" and older[0]["invoice"] == "536365"


# --- the suffix API ------------------------------------------------------------------------------


def test_export_suffixes_are_every_format_lgs_load_reads():
    assert set(EXPORT_SUFFIXES) == {".csv", ".csv.gz", ".xlsx", ".sql", ".sql.gz", ".zip"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [("week.csv", True), ("WEEK.CSV.GZ", True), ("book.xlsx", True), ("retail.sql", True),
     ("retail.sql.gz", True), ("export.zip", True), ("notes.txt", False), ("export.csv.part", False),
     ("book.xlsx.gz", False), (".hidden.csv", False), ("export.json", False), ("export.gz", False)],
)
def test_is_export_file_by_name(tmp_path, name, expected):
    path = tmp_path / name
    path.write_bytes(b"x")
    assert is_export_file(path) is expected
    assert not is_export_file(tmp_path / "missing.csv")


def test_a_folder_named_like_an_export_is_none(tmp_path):
    (tmp_path / "exports.csv").mkdir()
    assert not is_export_file(tmp_path / "exports.csv")


def test_txt_is_still_read_as_a_csv_when_named(tmp_path):
    path = write_csv(tmp_path / "export.txt", [GOOD], header=",".join(OLDER))
    assert read_all(path)[0][0]["invoice"] == "536365"


# --- .csv.gz -------------------------------------------------------------------------------------


def gzipped(path, data: bytes):
    path.write_bytes(gzip.compress(data))
    return path


def test_a_gzipped_csv_reads_exactly_as_the_csv(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 4096)  # many blocks
    lines = [GOOD[:0] + [str(536365 + i), *GOOD[1:]] for i in range(400)]
    lines[7] = GOOD[:5]  # a line with too few fields
    plain = write_csv(tmp_path / "e.csv", lines, header=",".join(OLDER))
    packed = gzipped(tmp_path / "e.csv.gz", b"\xef\xbb\xbf" + plain.read_bytes())  # with a BOM, too
    rows, bad, chunks = read_all(packed)
    assert (rows, bad) == read_all(plain)[:2]
    assert len(chunks) > 3 and len(rows) == 399 and [b.source_row for b in bad] == [9]
    assert chunks[-1].progress == packed.stat().st_size  # progress in the file's own (compressed) bytes


@pytest.mark.parametrize(
    ("damage", "phrase"),
    [
        (lambda data: data[: len(data) // 2], "the gzip file is damaged (Truncated compressed stream)"),
        (lambda data: data[:-8] + bytes([data[-8] ^ 1]) + data[-7:],
         "the gzip file is damaged (zlib inflate failed: incorrect data check)"),
        (lambda data: data[:100] + b"\xff" * 64 + data[164:], "the gzip file is damaged"),
    ],
    ids=["truncated", "crc", "overwritten"],
)
def test_a_damaged_gzip_is_refused_in_one_line(tmp_path, damage, phrase):
    body = write_csv(tmp_path / "e.csv", [[str(536365 + i), *GOOD[1:]] for i in range(5000)]).read_bytes()
    path = tmp_path / "e.csv.gz"
    path.write_bytes(damage(gzip.compress(body)))
    with pytest.raises(ExportError) as info:
        read_all(path)
    assert phrase in str(info.value) and "\n" not in str(info.value)


def test_a_compressed_csv_that_is_not_utf8_names_its_line(tmp_path):
    body = write_csv(tmp_path / "e.csv", [[str(536365 + i), *GOOD[1:]] for i in range(3000)]).read_bytes()
    body = body.replace(b"536999,85123A,WHITE", b"536999,85123A,WH\xc9TE")  # line 636
    with pytest.raises(ExportError, match=r"e\.csv\.gz: not UTF-8 text \(line 636\); re-save"):
        read_all(gzipped(tmp_path / "e.csv.gz", body))
    with pytest.raises(ExportError, match=r"e\.zip \[e\.csv\]: not UTF-8 text \(line 636\)"):
        read_all(zipped(tmp_path / "e.zip", {"e.csv": body}))
    with pytest.raises(ExportError, match=r"not UTF-8 text \(byte 0xc9 in the header\)"):
        read_all(gzipped(tmp_path / "h.csv.gz", b"Invoice,St\xc9ckCode\n"))


@pytest.mark.parametrize(
    ("name", "content", "phrase"),
    [
        ("e.csv.gz", b"Invoice,StockCode\n",
         "not a gzip file, though named .csv.gz; if it is the plain export, name it .csv"),
        ("book.xlsx.gz", gzip.compress(b"PK\x03\x04"), "a gzip file of unknown content ('.gz')"),
        ("retail.dump", b"PGDMP\x01\x0e\x00" + bytes(64), "custom format"),
        ("e.csv.gz", gzip.compress(b""), "has no header line"),
    ],
)
def test_files_that_only_look_compressed_are_refused_saying_what_they_are(tmp_path, name, content, phrase):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ExportError, match=None) as info:
        read_all(path)
    assert phrase in str(info.value)


# --- .zip ----------------------------------------------------------------------------------------


def zipped(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_a_zipped_csv_and_a_zipped_workbook_read_as_themselves(tmp_path, real_head_xlsx):
    plain = write_csv(tmp_path / "e.csv", [GOOD, GOOD[:3]], header=",".join(OLDER))
    members = {"export/e.csv": plain.read_bytes(), "__MACOSX/export/._e.csv": b"\x00\x05", ".DS_Store": b"x"}
    csv_zip = zipped(tmp_path / "e.zip", members)  # a folder and macOS clutter are not what was zipped
    assert read_all(csv_zip)[:2] == read_all(plain)[:2]
    book_zip = zipped(tmp_path / "book.zip", {"online_retail_II.xlsx": real_head_xlsx.read_bytes()})
    rows, _, chunks = read_all(book_zip)
    assert rows == read_all(real_head_xlsx)[0] and len(rows) == 998
    assert chunks[0].progress_unit == "rows"


@pytest.mark.parametrize(
    ("members", "phrase"),
    [
        ({}, "the zip holds no file; zip exactly one export (.csv, .xlsx or .sql) per file"),
        ({"a.csv": b"x", "b.csv": b"y"}, "the zip holds 2 files (a.csv, b.csv); zip exactly one export"),
        ({"notes.pdf": b"%PDF"}, "the zip holds notes.pdf; zip exactly one export"),
        ({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>"}, "is an .xlsx workbook named .zip"),
        ({f"w{i}.csv": b"x" for i in range(7)},
         "holds 7 files (w0.csv, w1.csv, w2.csv, w3.csv, w4.csv and 2 more)"),
    ],
    ids=["empty", "two-csvs", "no-export", "workbook-renamed", "many"],
)
def test_a_zip_without_exactly_one_export_is_refused_naming_what_it_holds(tmp_path, members, phrase):
    with pytest.raises(ExportError) as info:
        read_all(zipped(tmp_path / "exports.zip", members))
    assert phrase in str(info.value) and "\n" not in str(info.value)


def test_a_damaged_or_locked_zip_is_refused_in_one_line(tmp_path):
    body = write_csv(tmp_path / "e.csv", [[str(536365 + i), *GOOD[1:]] for i in range(3000)]).read_bytes()
    data = bytearray(zipped(tmp_path / "ok.zip", {"e.csv": body}).read_bytes())
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x55
    (tmp_path / "flipped.zip").write_bytes(bytes(flipped))
    with pytest.raises(ExportError, match=r"flipped\.zip \[e\.csv\]: the zip archive is damaged"):
        read_all(tmp_path / "flipped.zip")
    locked = bytearray(data)
    central = locked.rfind(b"PK\x01\x02")
    locked[central + 8] |= 1  # the "encrypted" flag of the member's central directory entry
    (tmp_path / "locked.zip").write_bytes(bytes(locked))
    with pytest.raises(ExportError, match="the zip is password-protected"):
        read_all(tmp_path / "locked.zip")
    (tmp_path / "cut.zip").write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(ExportError, match="not a readable zip archive"):
        read_all(tmp_path / "cut.zip")


def test_header_of_a_zipped_export_is_checked_like_any_other(tmp_path):
    path = zipped(tmp_path / "e.zip", {"e.csv": (",".join([*EXPORT_COLUMNS, "Warehouse"]) + "\n").encode()})
    with pytest.raises(ExportError, match=r"e\.zip \[e\.csv\]: not an LGS export \(unexpected Warehouse\)"):
        read_all(path)
