"""Loading into a real Postgres: typing, quarantine, reconciliation, idempotence, overlap, atomicity."""

from __future__ import annotations

import psycopg2
import pytest

from lgs_analytics.ingest import load as ingest
from lgs_analytics.ingest import readers
from lgs_analytics.ingest.formats import ExportError
from lgs_analytics.ingest.load import file_sha256, load_path
from lgs_analytics.store import db
from tests.conftest import write_csv

pytestmark = pytest.mark.integration


def row(invoice="489434", stock="85048", desc="GLASS BALL", qty="12", date="2009-12-01 07:45:00",
        price="6.95", customer="13085.0", country="United Kingdom"):
    return [invoice, stock, desc, qty, date, price, customer, country]


def fetch(sql, params=()):
    with db.connect() as conn:
        return db.query(conn, sql, params)


def table_counts():
    return fetch("SELECT (SELECT count(*) FROM load_batches), (SELECT count(*) FROM export_rows), "
                 "(SELECT count(*) FROM transactions), (SELECT count(*) FROM quarantine)")[0]


def test_real_head_loads_typed_and_reload_adds_nothing(database_url, real_head_xlsx):
    result = load_path(real_head_xlsx, progress=False)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (998, 998, 0)
    assert result.rows_new + result.rows_duplicate == 998
    first = fetch("SELECT invoice_no, stock_code, quantity, invoice_date::text, unit_price::text, "
                  "customer_id, country FROM stg_export_rows "
                  "WHERE sheet = 'Year 2009-2010' AND source_row = 2")
    assert first == [("489434", "85048", 12, "2009-12-01 07:45:00", "6.95", 13085, "United Kingdom")]
    types = dict(fetch("SELECT column_name, data_type FROM information_schema.columns "
                       "WHERE table_name = 'transactions'"))
    assert types["customer_id"] == "integer" and types["unit_price"] == "numeric"
    assert fetch("SELECT synthetic FROM load_batches") == [(False,)]  # real data is never marked
    before = table_counts()
    again = load_path(real_head_xlsx, progress=False)
    assert again.already_loaded and again.batch_id == result.batch_id
    assert "already loaded" in again.summary()
    assert table_counts() == before


def test_both_csv_date_styles_and_float_ids_type_the_same(database_url, tmp_path):
    path = write_csv(tmp_path / "e.csv", [
        row(date="2009-12-01 07:45:00", customer="13085.0"),
        row(invoice="489435", date="12/1/2009 7:45", customer="13085"),
        row(invoice="489436", date="2009-12-01T07:45", customer=""),
    ])
    result = load_path(path, progress=False)
    assert result.rows_quarantined == 0
    got = fetch("SELECT invoice_no, invoice_date::text, customer_id FROM transactions ORDER BY invoice_no")
    assert got == [("489434", "2009-12-01 07:45:00", 13085), ("489435", "2009-12-01 07:45:00", 13085),
                   ("489436", "2009-12-01 07:45:00", None)]


def test_unusual_but_valid_spellings_load_as_the_same_line(database_url, tmp_path):
    first = load_path(write_csv(tmp_path / "a.csv", [row(qty="+12", price="+6.950", customer="013085")]),
                      progress=False)
    second = load_path(write_csv(tmp_path / "b.csv", [row(qty="12", price="6.95", customer="13085.0")]),
                       progress=False)
    assert (first.rows_new, second.rows_new, second.rows_duplicate) == (1, 0, 1)
    assert fetch("SELECT quantity, unit_price::text, customer_id FROM transactions") == [(12, "6.95", 13085)]


def test_untypeable_rows_are_quarantined_with_reasons_and_reconciled(database_url, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [
        row(),
        row(qty="12.5"),
        row(qty="1e3"),
        row(date="not a date"),
        row(date="13/25/2010 10:00"),
        row(price="abc"),
        row(price="NaN"),
        row(invoice=""),
        row(customer="13085.5"),
        row(stock=""),
        ["489434", "85048", "too", "few"],
    ])
    result = load_path(path, progress=False)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (11, 1, 10)
    reasons = dict(fetch("SELECT source_row, reason FROM quarantine ORDER BY source_row"))
    assert reasons == {
        3: "Quantity is not a whole number",
        4: "Quantity is not a whole number",
        5: "InvoiceDate is not a date (expected YYYY-MM-DD HH:MM or M/D/YYYY H:MM)",
        6: "InvoiceDate is not a date (expected YYYY-MM-DD HH:MM or M/D/YYYY H:MM)",
        7: "Price is not a number",
        8: "Price is not a number",
        9: "Invoice is empty",
        10: "Customer ID is not a whole number",
        11: "StockCode is empty",
        12: "line has 4 fields, expected 8",
    }
    raw = fetch("SELECT raw_values->>'Quantity', source_file FROM quarantine WHERE source_row = 3")
    assert raw == [("12.5", str(path))]
    batch = fetch("SELECT rows_read, rows_loaded, rows_quarantined FROM load_batches")
    assert batch == [(11, 1, 10)]


def test_header_only_file_is_refused_and_writes_nothing(database_url, tmp_path):
    path = write_csv(tmp_path / "empty.csv", [])
    with pytest.raises(ExportError, match="no data rows"):
        load_path(path, progress=False)
    assert table_counts() == (0, 0, 0, 0)


def test_stacked_overlapping_exports_keep_true_repeats_and_drop_the_overlap(database_url, tmp_path):
    # An export is a long date-sorted run (100 rows at least: identity.MIN_EXPORT_ROWS).
    filler = [row(invoice=str(536400 + i), date=f"2010-12-0{2 + i // 20} 10:{i % 60:02d}:00")
              for i in range(100)]
    first_export = [
        row(invoice="536365", date="2010-12-01 08:26:00"),
        row(invoice="536365", date="2010-12-01 08:26:00"),  # an exact repeat within the export: kept
        *filler,
        row(invoice="536366", stock="22633", date="2010-12-09 10:00:00"),
    ]
    second_export = [  # starts again on 1 December: the overlap of the two sheets
        row(invoice="536365", date="2010-12-01 08:26:00"),
        row(invoice="536365", date="2010-12-01 08:26:00"),
        row(invoice="536366", stock="22633", date="2010-12-09 10:00:00"),
        row(invoice="536367", stock="84879", date="2010-12-10 09:00:00"),
    ]
    result = load_path(write_csv(tmp_path / "stacked.csv", first_export + second_export), progress=False)
    assert (result.rows_read, result.rows_new, result.rows_duplicate) == (107, 104, 3)
    assert fetch("SELECT export_part, count(*) FROM export_rows GROUP BY 1 ORDER BY 1") == [(1, 103), (2, 4)]
    assert fetch("SELECT invoice_no, occurrence FROM transactions WHERE invoice_no < '536400' "
                 "ORDER BY 1, 2") == [("536365", 1), ("536365", 2), ("536366", 1), ("536367", 1)]


def test_a_short_run_before_the_dates_go_back_is_no_export_of_its_own(database_url, tmp_path):
    # The same rows, shuffled: one export, every true repeat kept (issue 13 #3).
    rows = [row(invoice="536365", date="2010-12-09 08:26:00"),
            row(invoice="536366", date="2010-12-01 08:00:00"),
            row(invoice="536365", date="2010-12-09 08:26:00")]
    result = load_path(write_csv(tmp_path / "shuffled.csv", rows), progress=False)
    assert (result.rows_new, result.rows_duplicate) == (3, 0)


@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")])
def test_overlapping_files_in_any_order_give_the_same_transactions(database_url, tmp_path, order):
    files = {
        "a": write_csv(tmp_path / "a.csv", [row(invoice="1"), row(invoice="2"), row(invoice="2")]),
        "b": write_csv(tmp_path / "b.csv", [row(invoice="2"), row(invoice="2"), row(invoice="3")]),
    }
    results = [load_path(files[name], progress=False) for name in order]
    assert sum(r.rows_new for r in results) == 4
    assert sum(r.rows_duplicate for r in results) == 2
    assert fetch("SELECT invoice_no, occurrence FROM transactions ORDER BY 1, 2") == [
        ("1", 1), ("2", 1), ("2", 2), ("3", 1)]
    assert fetch("SELECT count(*) FROM export_rows") == [(6,)]


@pytest.mark.parametrize("failing_step", ["_quarantine", "_stage"])
def test_a_load_failing_midway_leaves_the_database_as_it_was(database_url, tmp_path, monkeypatch,
                                                             real_head_xlsx, failing_step):
    load_path(real_head_xlsx, progress=False)
    before = table_counts()
    rows = [row(invoice=str(500000 + i), qty="x" if i % 10 == 0 else "1") for i in range(50)]
    path = write_csv(tmp_path / "big.csv", rows)
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 1024)  # many chunks, each with a bad row
    calls = []
    real_step = getattr(ingest, failing_step)

    def step_then_fail(conn, *args):
        calls.append(1)
        real_step(conn, *args)  # the step writes, then the process "dies"
        if len(calls) == (3 if failing_step == "_quarantine" else 1):
            raise OSError("disk went away")

    monkeypatch.setattr(ingest, failing_step, step_then_fail)
    with pytest.raises(OSError):
        load_path(path, progress=False)
    assert table_counts() == before
    assert fetch("SELECT count(*) FROM staging_lines") == [(0,)]


def test_a_chunk_whose_copies_disagree_fails_the_load_whole(database_url, tmp_path, monkeypatch):
    # Each chunk's rows go to export_rows and its lines to staging by two COPYs: the counts Postgres
    # gives back must agree, or the batch would reconcile against rows that are not there.
    path = write_csv(tmp_path / "one.csv", [row(invoice=str(500000 + i)) for i in range(5)])
    real_copy = db.copy_in_binary
    monkeypatch.setattr(db, "copy_in_binary", lambda conn, table, *rest: real_copy(conn, table, *rest)
                        - (table == "export_rows"))
    disagreeing = "did not reconcile: 4 export rows copied, 5 lines staged, 5 loaded"
    with pytest.raises(RuntimeError, match=disagreeing):
        load_path(path, progress=False)
    assert table_counts() == (0, 0, 0, 0)


def test_unreachable_database_is_a_one_line_error(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(db.DatabaseError, match="cannot connect to Postgres") as info:
        with db.connect():
            pass
    assert "\n" not in str(info.value)
    assert isinstance(info.value.__cause__, psycopg2.OperationalError)


OLDER_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"


def test_an_older_layout_export_gzipped_or_zipped_loads_the_same_lines(database_url, tmp_path):
    import gzip
    import zipfile

    plain = write_csv(tmp_path / "old.csv", [row(invoice=str(536365 + i)) for i in range(20)],
                      header=OLDER_HEADER)
    packed = tmp_path / "old.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    zipped = tmp_path / "old.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(plain, "old.csv")
    results = [load_path(p, progress=False) for p in (packed, zipped, plain)]
    assert [(r.rows_read, r.rows_new, r.rows_duplicate) for r in results] == [
        (20, 20, 0), (20, 0, 20), (20, 0, 20)]
    assert fetch("SELECT invoice_no, customer_id, unit_price::text FROM transactions ORDER BY 1 LIMIT 1") == [
        ("536365", 13085, "6.95")]
    # Each batch keeps the checksum of its file as given: the same .gz again adds nothing.
    assert fetch("SELECT source_file, sha256 FROM load_batches ORDER BY batch_id") == [
        (str(p), file_sha256(p)) for p in (packed, zipped, plain)]
    assert load_path(packed, progress=False).already_loaded


def test_a_gzip_found_damaged_after_chunks_were_written_leaves_the_database_as_it_was(
        database_url, tmp_path, monkeypatch, real_head_xlsx):
    import gzip
    import random

    load_path(real_head_xlsx, progress=False)
    before = table_counts()
    noise = random.Random(1)  # descriptions that do not compress: the .gz is read in many pieces
    rows = [row(invoice=str(500000 + i), desc=f"{noise.getrandbits(400):0100x}",
                qty="x" if i % 50 == 0 else "1") for i in range(5000)]
    data = gzip.compress(write_csv(tmp_path / "big.csv", rows).read_bytes())
    damaged = tmp_path / "big.csv.gz"
    damaged.write_bytes(data[:-8] + bytes([data[-8] ^ 1]) + data[-7:])  # its CRC fails at the very end
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 4096)  # many chunks written before the end
    staged = []
    real_stage = ingest._stage
    monkeypatch.setattr(ingest, "_stage", lambda writer, *copies: (staged.append(copies),
                                                                   real_stage(writer, *copies)))
    with pytest.raises(ExportError, match="the gzip file is damaged .*incorrect data check"):
        load_path(damaged, progress=False)
    assert len(staged) > 1
    assert table_counts() == before


# --- issue 13: hangs, concurrent loads of one file, the order of day and month --------------------


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_a_csv_cut_inside_a_character_is_refused_quickly_not_a_hang(database_url, tmp_path, suffix):
    import gzip
    import subprocess
    import sys

    data = write_csv(tmp_path / "whole.csv", [row(), row(invoice="489435", desc="CAFÉ")]).read_bytes()
    data = data[:data.index("É".encode()) + 1]  # the copy stopped inside the É
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
    done = subprocess.run([sys.executable, "-m", "lgs_analytics.cli", "load", "--quiet", str(path)],
                          capture_output=True, text=True, timeout=60)  # it hung at 100% CPU before
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1 and "ends inside a UTF-8 character" in done.stderr, done.stderr
    assert table_counts() == (0, 0, 0, 0)


def test_the_same_file_loaded_twice_at_once_loads_once_and_the_second_says_already_loaded(
        database_url, tmp_path, monkeypatch):
    import threading
    import time

    path = write_csv(tmp_path / "e.csv", [row(invoice=str(489000 + i)) for i in range(50)])
    real_stage = ingest._stage

    def slow_stage(*args):  # the first load holds its transaction open while the second starts
        time.sleep(1.5)
        real_stage(*args)

    monkeypatch.setattr(ingest, "_stage", slow_stage)
    results, errors = [], []

    def load():
        try:
            results.append(load_path(path, progress=False))
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.3)
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(r.already_loaded for r in results) == [False, True]
    assert "already loaded as batch" in next(r for r in results if r.already_loaded).summary()
    assert table_counts() == (1, 50, 50, 0)


def test_slash_dates_are_said_to_be_month_first_in_the_summary(database_url, tmp_path):
    result = load_path(write_csv(tmp_path / "us.csv", [row(date="3/1/2011 10:00"), row(invoice="489435")]),
                       progress=False)
    assert "1 dates read as month/day/year (M/D/YYYY)" in result.summary()
    assert fetch("SELECT invoice_date::text FROM transactions WHERE invoice_no = '489434'") == [
        ("2011-03-01 10:00:00",)]
    iso = load_path(write_csv(tmp_path / "iso.csv", [row(invoice="489436")]), progress=False)
    assert "month/day" not in iso.summary()


def test_each_batch_records_the_dates_of_its_lines_and_a_later_export_is_checked_within_them(
        database_url, tmp_path):
    # The first export spans 1-9 December; the second repeats two of its lines (one on each bound)
    # and adds lines before, inside and after them: only the repeats are duplicates.
    first = [row(invoice="1", date="2010-12-01 08:00:00"), row(invoice="2", date="2010-12-05 08:00:00"),
             row(invoice="3", date="2010-12-09 08:00:00")]
    second = [row(invoice="0", date="2010-11-30 08:00:00"), row(invoice="1", date="2010-12-01 08:00:00"),
              row(invoice="4", date="2010-12-05 09:00:00"), row(invoice="3", date="2010-12-09 08:00:00"),
              row(invoice="5", date="2010-12-10 08:00:00")]
    load_path(write_csv(tmp_path / "first.csv", first), progress=False)
    result = load_path(write_csv(tmp_path / "second.csv", second), progress=False)
    assert (result.rows_new, result.rows_duplicate) == (3, 2)
    assert fetch("SELECT invoice_no FROM transactions ORDER BY 1") == [("0",), ("1",), ("2",), ("3",), ("4",),
                                                                      ("5",)]
    bounds = "SELECT batch_id, lines_from::text, lines_to::text FROM load_batches ORDER BY 1"
    recorded = fetch(bounds)
    assert [r[1:] for r in recorded] == [("2010-12-01 08:00:00", "2010-12-09 08:00:00"),
                                         ("2010-11-30 08:00:00", "2010-12-10 08:00:00")]
    # A database loaded before batches had bounds gets them from its lines when the scripts run
    # (the bounds of the lines each batch first carried).
    with db.connect() as conn:
        db.query(conn, "UPDATE load_batches SET lines_from = NULL, lines_to = NULL")
        db.query(conn, "UPDATE lgs_schema SET digest = repeat('0', 64)")  # sql/ changed since
    assert [r[1:] for r in fetch(bounds)] == [("2010-12-01 08:00:00", "2010-12-09 08:00:00"),
                                              ("2010-11-30 08:00:00", "2010-12-10 08:00:00")]
    # ... and a repeat of any loaded line is still found.
    third = [*first, row(invoice="6", date="2011-01-01 08:00:00")]
    again = load_path(write_csv(tmp_path / "third.csv", third), progress=False)
    assert (again.rows_new, again.rows_duplicate) == (1, 3)


@pytest.mark.parametrize("old_name", ["transactions_pkey", "transactions_line_key"])
def test_a_database_keyed_by_line_id_alone_is_re_keyed_by_date_and_still_refuses_a_line_twice(
        database_url, tmp_path, old_name):
    primary_key = ("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE conrelid = 'transactions'::regclass AND contype = 'p'")
    lines = [row(invoice="1", date="2010-12-01 08:00:00"), row(invoice="2", date="2010-12-02 08:00:00")]
    load_path(write_csv(tmp_path / "first.csv", lines), progress=False)
    assert fetch(primary_key) == [("PRIMARY KEY (invoice_date, line_id)",)]
    with db.connect() as conn:  # as the schema made it before
        db.query(conn, "ALTER TABLE transactions DROP CONSTRAINT transactions_pkey, "
                       f"ADD CONSTRAINT {old_name} PRIMARY KEY (line_id)")
        db.query(conn, "UPDATE lgs_schema SET digest = repeat('0', 64)")  # sql/ changed since
    assert fetch(primary_key) == [("PRIMARY KEY (invoice_date, line_id)",)]
    assert fetch("SELECT count(*) FROM transactions") == [(2,)]
    again = load_path(write_csv(tmp_path / "again.csv", [*lines, row(invoice="3")]), progress=False)
    assert (again.rows_new, again.rows_duplicate) == (1, 2)
    with db.connect() as conn, pytest.raises(psycopg2.errors.UniqueViolation):
        db.query(conn, "INSERT INTO transactions SELECT * FROM transactions LIMIT 1")


def test_generated_and_real_exports_never_mix_unless_asked(database_url, tmp_path, real_head_xlsx):
    from lgs_analytics.synthetic import generate_export, write_export

    generated = tmp_path / "demo_synthetic.csv"
    write_export(generate_export(rows=400, seed=3), generated)
    load_path(real_head_xlsx, progress=False)
    with pytest.raises(ExportError, match=r"a generated \(synthetic\) export, and this database holds real "
                                          r"exports \(online_retail_II_head.xlsx\)"):
        load_path(generated, progress=False)
    assert load_path(generated, progress=False, mix_synthetic=True).rows_read == 400  # knowingly


def test_a_real_export_is_refused_where_generated_data_is_loaded(database_url, tmp_path, real_head_xlsx):
    from lgs_analytics.synthetic import generate_export, write_export

    generated = tmp_path / "demo_synthetic.csv"
    write_export(generate_export(rows=400, seed=3), generated)
    load_path(generated, progress=False)
    with pytest.raises(ExportError, match=r"run `lgs db reset --yes` to delete the generated data"):
        load_path(real_head_xlsx, progress=False)
    with db.connect() as conn:
        assert db.query(conn, "SELECT count(*), bool_and(synthetic) FROM load_batches") == [(1, True)]
