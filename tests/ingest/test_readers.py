"""Reading exports: the header check, refused files, CSV line numbers, spreadsheet cells as text."""

from __future__ import annotations

import datetime as dt

import pytest

from lgs_analytics.config import EXPORT_COLUMNS
from lgs_analytics.ingest.formats import ExportError
from lgs_analytics.ingest.readers import _cell_text, check_header, read_chunks
from tests.conftest import write_csv

GOOD = ["489434", "85048", "15CM CHRISTMAS GLASS BALL 20 LIGHTS", "12", "2009-12-01 07:45:00",
        "6.95", "13085.0", "United Kingdom"]


def read_all(path):
    chunks = list(read_chunks(path))
    rows = [r for c in chunks for r in c.table.to_pylist()]
    bad = [b for c in chunks for b in c.bad_lines]
    return rows, bad


def test_header_accepts_any_order_and_case():
    check_header([c.upper() for c in reversed(EXPORT_COLUMNS)], "f.csv")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (list(EXPORT_COLUMNS[:-1]), "missing Country"),
        ([*EXPORT_COLUMNS, "Warehouse"], "unexpected Warehouse"),
        ([*EXPORT_COLUMNS[:2], "", *EXPORT_COLUMNS[2:]], "unexpected \\(a column without a name\\)"),
        ([*EXPORT_COLUMNS, "Country"], "repeated Country"),
        ([";".join(EXPORT_COLUMNS)], "separated by semicolons"),
        (["\t".join(EXPORT_COLUMNS)], "separated by tabs"),
    ],
)
def test_header_refusals_name_the_problem(header, message):
    with pytest.raises(ExportError, match=message):
        check_header(header, "f.csv")


def test_csv_rows_come_out_as_text_in_export_order(tmp_path):
    header = ",".join(reversed(EXPORT_COLUMNS))
    path = write_csv(tmp_path / "e.csv", [list(reversed(GOOD))], header=header)
    rows, bad = read_all(path)
    assert bad == []
    assert rows == [{"sheet": "", "source_row": 2, "invoice": "489434", "stock_code": "85048",
                     "description": "15CM CHRISTMAS GLASS BALL 20 LIGHTS", "quantity": "12",
                     "invoice_date": "2009-12-01 07:45:00", "price": "6.95", "customer_id": "13085.0",
                     "country": "United Kingdom"}]


def test_csv_line_with_wrong_field_count_is_kept_for_quarantine_with_its_line_number(tmp_path):
    path = write_csv(tmp_path / "e.csv", [GOOD, GOOD[:5], GOOD + ["extra"], GOOD])
    rows, bad = read_all(path)
    assert [r["source_row"] for r in rows] == [2, 5]
    assert [(b.source_row, b.reason) for b in bad] == [
        (3, "line has 5 fields, expected 8"), (4, "line has 9 fields, expected 8")]
    assert bad[0].text.startswith("489434,85048")


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        (b"", ".csv", "empty"),
        (b"\n\n", ".csv", "no header"),
        (b"PK\x03\x04 this is no workbook", ".xlsx", "not a readable .xlsx"),
        (b"plain text, not a zip", ".xlsx", "not a readable .xlsx"),
        (b"{}", ".json", "unsupported file type '.json'"),
        (",".join(EXPORT_COLUMNS).encode() + b"\n489434,85048,CAF\xe9,1,2009-12-01 07:45,1,1,UK\n",
         ".csv", "not UTF-8 text"),
    ],
)
def test_unreadable_files_are_refused_with_one_line(tmp_path, content, suffix, message):
    path = tmp_path / f"export{suffix}"
    path.write_bytes(content)
    with pytest.raises(ExportError, match=message) as info:
        list(read_chunks(path))
    assert "\n" not in str(info.value)


def test_missing_file_and_folder_are_refused(tmp_path):
    with pytest.raises(ExportError, match="no such file"):
        list(read_chunks(tmp_path / "nope.csv"))
    with pytest.raises(ExportError, match="is a folder"):
        list(read_chunks(tmp_path))


def test_utf8_with_bom_and_multibyte_text_is_read(tmp_path):
    path = tmp_path / "e.csv"
    body = ",".join(EXPORT_COLUMNS) + "\n" + ",".join(GOOD[:2] + ["CAFÉ ☕ MUG"] + GOOD[3:]) + "\n"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    rows, _ = read_all(path)
    assert rows[0]["description"] == "CAFÉ ☕ MUG"
    assert rows[0]["invoice"] == "489434"


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (489434.0, "489434"),
        (6.95, "6.95"),
        (13085.0, "13085"),
        (-1.5, "-1.5"),
        ("85123A", "85123A"),
        ("", None),
        (None, None),
        (dt.datetime(2009, 12, 1, 7, 45), "2009-12-01 07:45:00"),
        (dt.date(2009, 12, 1), "2009-12-01"),
        (True, "TRUE"),
    ],
)
def test_spreadsheet_cells_are_spelled_as_the_csv_spells_them(cell, text):
    assert _cell_text(cell) == text


def test_real_workbook_head_reads_both_sheets(real_head_xlsx):
    rows, bad = read_all(real_head_xlsx)
    assert bad == []
    assert len(rows) == 998
    sheets = {r["sheet"] for r in rows}
    assert sheets == {"Year 2009-2010", "Year 2010-2011"}
    first = rows[0]
    assert (first["invoice"], first["stock_code"], first["invoice_date"], first["customer_id"]) == (
        "489434", "85048", "2009-12-01 07:45:00", "13085")
    assert first["source_row"] == 2
