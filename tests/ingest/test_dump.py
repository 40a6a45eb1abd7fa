"""pg_dump plain-text dumps of the `retail` table: only the COPY block is read, never any SQL run.

The fixture (dump_fixture.py) is a dump as `pg_dump --table=retail` writes one (SET statements,
CREATE TABLE, the COPY block, trailing ALTER/GRANT), plus the data of another table before it;
test_dump_load.py dumps a real `retail` table with Postgres's own pg_dump and loads that.
"""

from __future__ import annotations

import gzip
import zipfile

import pytest

from lgs_analytics.ingest import copytext, dump
from lgs_analytics.ingest.formats import ExportError
from lgs_analytics.ingest.readers import read_chunks
from tests.ingest.dump_fixture import COPY, FIRST_ROW_LINE, HEAD, ROWS, dump_text


def write_dump(tmp_path, text: str | None = None, name: str = "retail.sql"):
    path = tmp_path / name
    path.write_bytes((dump_text() if text is None else text).encode("utf-8"))
    return path


def read_all(path):
    chunks = list(read_chunks(path))
    return [r for c in chunks for r in c.table.to_pylist()], [b for c in chunks for b in c.bad_lines], chunks


def test_only_the_retail_copy_block_is_read_with_file_line_numbers_and_copy_escapes(tmp_path):
    rows, bad, _ = read_all(write_dump(tmp_path))
    assert bad == []
    assert [r["source_row"] for r in rows] == list(range(FIRST_ROW_LINE, FIRST_ROW_LINE + 5))
    assert dump_text().splitlines()[FIRST_ROW_LINE - 1].startswith("536365\t")  # 1-based line numbers
    assert rows[0] == {"sheet": "", "source_row": FIRST_ROW_LINE, "invoice": "536365", "stock_code": "85123A",
                       "description": "WHITE HANGING HEART T-LIGHT HOLDER", "quantity": "6",
                       "invoice_date": "2010-12-01 08:26:00", "price": "2.55", "customer_id": "17850",
                       "country": "United Kingdom"}
    assert rows[1]["description"] == "HAND WARMER\tUNION JACK" and rows[1]["customer_id"] is None
    assert rows[2]["description"] == "Discount\\10%\nline two"
    assert rows[3]["description"] == "CAFÉ ☕ MUG"  # octal and hex escapes are UTF-8 bytes
    assert (rows[4]["description"], rows[4]["country"]) == (None, None)
    assert all(c.one_export for c in read_all(write_dump(tmp_path))[2])  # a table: one export, no order


def test_columns_in_another_order_and_spelling_and_personal_ones_left_unread(tmp_path):
    copy = ('COPY retail (country, "CustomerID", customer_name, unit_price, invoice_date, quantity, '
            "description, stock_code, invoice_no) FROM stdin;\n")
    rows, _, chunks = read_all(write_dump(tmp_path, dump_text(
        ["France\t12583\tJane Doe\t3.75\t2010-12-01 08:45:00\t24\tMUG\t22728\t536370"], copy=copy)))
    assert chunks[0].dropped_columns == ("customer_name",)
    assert [(r["invoice"], r["customer_id"], r["country"], r["price"]) for r in rows] == [
        ("536370", "12583", "France", "3.75")]
    assert "Jane Doe" not in str(rows)


def test_a_line_that_cannot_be_split_is_kept_for_the_quarantine_with_its_line(tmp_path):
    rows = [ROWS[0], "536367\t22634\tONLY THREE FIELDS", ROWS[1] + "\textra", "536368\t1\tends in\\", ROWS[4]]
    got, bad, _ = read_all(write_dump(tmp_path, dump_text(rows)))
    assert [r["source_row"] for r in got] == [FIRST_ROW_LINE, FIRST_ROW_LINE + 4]
    assert [(b.source_row, b.reason) for b in bad] == [
        (FIRST_ROW_LINE + 1, "line has 3 fields, expected 8"),
        (FIRST_ROW_LINE + 2, "line has 9 fields, expected 8"),
        (FIRST_ROW_LINE + 3, "line ends in a lone backslash (COPY never writes one)")]
    assert bad[0].text == "536367\t22634\tONLY THREE FIELDS"


def test_crlf_line_ends_and_a_schema_less_quoted_table_name_are_read(tmp_path):
    text = dump_text(copy=COPY.replace("public.retail", '"retail"')).replace("\n", "\r\n")
    rows, bad, _ = read_all(write_dump(tmp_path, text))
    assert (len(rows), bad) == (5, [])
    assert rows[0]["country"] == "United Kingdom" and rows[2]["description"] == "Discount\\10%\nline two"


def test_gzipped_and_zipped_dumps_read_the_same(tmp_path):
    plain, _, _ = read_all(write_dump(tmp_path))
    gz = tmp_path / "retail.sql.gz"
    gz.write_bytes(gzip.compress(dump_text().encode()))
    zipped = tmp_path / "retail.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("retail.sql", dump_text())
    assert read_all(gz)[0] == plain
    assert read_all(zipped)[0] == plain


def test_many_rows_come_in_several_chunks_with_exact_line_numbers(tmp_path, monkeypatch):
    monkeypatch.setattr(dump, "READ_BYTES", 300)  # a chunk per block read; lines cut by reads, too
    rows = [f"{536400 + i}\t22633\tITEM {i} CAF\\303\\211\t1\t2010-12-02 10:00:00\t1.5\t\\N\tUK"
            for i in range(30)]
    got, bad, chunks = read_all(write_dump(tmp_path, dump_text(rows)))
    assert len(chunks) >= 5 and bad == []
    assert [r["source_row"] for r in got] == list(range(FIRST_ROW_LINE, FIRST_ROW_LINE + 30))
    assert [r["invoice"] for r in got] == [str(536400 + i) for i in range(30)]
    assert {r["description"][-4:] for r in got} == {"CAFÉ"}


def test_unusual_but_valid_copy_lines_read_as_postgres_reads_them(tmp_path):
    rows = [
        "536380\t22633\tESCAPED\\\tTAB\t1\t2010-12-01 10:00:00\t1.5\t\\N\tUK",  # backslash + real tab: data
        "536381\t22633\tBACKSLASH LAST\\\\\t1\t2010-12-01 10:00:00\t1.5\t17850\tUK",  # ends in "\\"
        "536382\t22633\tIN\\NSIDE\t1\t2010-12-01 10:00:00\t1.5\t\\N\tUK",  # \N inside a value: "N"
        "536383\t22633\tBAD \\377 BYTE\t1\t2010-12-01 10:00:00\t1.5\t\\N\tUK",
        "536384\t22633\tBAD \\\t\\377\t1\t2010-12-01 10:00:00\t1.5\t\\N\tUK",
    ]
    got, bad, _ = read_all(write_dump(tmp_path, dump_text(rows)))
    assert [(r["source_row"], r["description"], r["customer_id"]) for r in got] == [
        (FIRST_ROW_LINE, "ESCAPED\tTAB", None), (FIRST_ROW_LINE + 1, "BACKSLASH LAST\\", "17850"),
        (FIRST_ROW_LINE + 2, "INNSIDE", None)]
    assert [(b.source_row, b.reason) for b in bad] == [
        (FIRST_ROW_LINE + 3, "an escaped byte sequence is not UTF-8 text"),
        (FIRST_ROW_LINE + 4, "an escaped byte sequence is not UTF-8 text")]


def test_an_empty_copy_block_reads_no_rows(tmp_path):
    rows, bad, _ = read_all(write_dump(tmp_path, dump_text([])))
    assert (rows, bad) == ([], [])


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("plain", "plain"),
        ("a\\tb\\nc\\rd\\\\e", "a\tb\nc\rd\\e"),
        ("\\b\\f\\v", "\b\f\v"),
        ("\\101\\x42\\q", "ABq"),  # octal, hex, and any other escaped character is itself
        ("\\303\\251t\\303\\251", "été"),
        ("\\\\N", "\\N"),  # an escaped backslash before N is text, not NULL
    ],
)
def test_copy_text_escapes(raw, text):
    assert copytext.unescape(raw) == text


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        (HEAD, "no COPY data of table retail (only the data of public.notes)"),
        (HEAD.split("COPY public.notes")[0], "no COPY data of table retail, so it is no dump"),
        (HEAD + "INSERT INTO public.retail VALUES ('536365', '85123A');\n", "as INSERT statements"),
        (dump_text(tail=""), "ends inside the data of public.retail (COPY at line"),
        (dump_text(head=HEAD.replace("'UTF8'", "'LATIN1'")), "in the LATIN1 encoding"),
        (dump_text(copy=COPY.replace("country", "warehouse")), "unexpected warehouse"),
        (dump_text(copy="COPY public.retail FROM stdin;\n"), "the COPY names no columns"),
        (dump_text() + COPY.replace("public.", "archive.") + "\\.\n",
         "two retail tables (public.retail at line"),
        ("PGDMP\x01\x0e\x00\x04\x08\x01\x01" + "x" * 100, "custom format"),
        ("--\n-- PostgreSQL database dump\n--\nSELECT 1;\n", "pg_dump --data-only --table=retail"),
    ],
    ids=["other-table-only", "schema-only", "inserts", "cut-short", "latin1", "unknown-column",
         "no-column-list", "two-retail-tables", "custom-format", "plain-sql"],
)
def test_a_dump_without_a_readable_retail_copy_block_is_refused_in_one_line(tmp_path, text, phrase):
    with pytest.raises(ExportError, match="retail.sql") as info:
        read_all(write_dump(tmp_path, text))
    assert phrase in str(info.value)
    assert "\n" not in str(info.value)


def test_custom_format_under_another_name_says_what_to_export(tmp_path):
    path = tmp_path / "retail.dump"
    path.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(200))
    with pytest.raises(ExportError, match="custom format.*pg_dump --data-only --table=retail"):
        list(read_chunks(path))


def test_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "retail.sql"
    path.write_bytes(dump_text().encode().replace(b"HAND WARMER", b"HAND W\xc4RMER"))
    with pytest.raises(ExportError, match=f"not UTF-8 text \\(byte 0xc4 in line {FIRST_ROW_LINE + 1}\\)"):
        list(read_chunks(path))
