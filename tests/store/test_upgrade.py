"""A database made by an earlier revision of sql/ is brought to the current shape by the scripts
(00_upgrade.sql first, then the definitions), keeps its data, and ends up like a fresh database
loaded with the same files; the upgrade does nothing to a database already up to date.

The earlier revisions' scripts are read from the repository's history (``git show``), so these
tests need a clone with history; they are skipped, with the reason, where it is missing."""

from __future__ import annotations

import shutil
import subprocess

import psycopg2
import pytest

from lgs_analytics import config
from lgs_analytics.ingest.load import load_path
from lgs_analytics.store import db
from tests.conftest import scratch_database, write_csv

pytestmark = pytest.mark.integration

# Revisions of sql/ whose databases the scripts upgrade (what each lacks), and whether the upgraded
# tables have their columns in the order of a fresh database's:
OLD_REVISIONS = {
    # before builds: marts and predictions without build_id, no line groups, no transactions.step,
    # transactions keyed by line_id, staging_export_rows, refresh_runs without build_id
    "850e242": True,
    # rebuild_line_groups() returning bigint, step nullable, keyed by line_id, batches without bounds
    # (its load_batches has synthetic before lines_from: ADD COLUMN appends, so the order differs)
    "afc410a": False,
    # the last revision numbered by history (01_schema ... 07_lines): every database made until then
    "070534e": True,
}

SCHEMA_QUERIES = {
    "relation": """SELECT c.relname, c.relkind, c.relpersistence FROM pg_class c
                   WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'i', 'S')""",
    "column": """SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                        pg_get_expr(d.adbin, d.adrelid), a.attcollation::regcollation::text, a.attidentity
                 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                 LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v')
                   AND a.attnum > 0 AND NOT a.attisdropped""",
    "constraint": """SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
                     FROM pg_constraint WHERE connamespace = 'public'::regnamespace""",
    "index": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "function": """SELECT oid::regprocedure::text, pg_get_functiondef(oid) FROM pg_proc
                   WHERE pronamespace = 'public'::regnamespace""",
    "view": """SELECT viewname, pg_get_viewdef(viewname::regclass, true) FROM pg_views
               WHERE schemaname = 'public'""",
    "comment": """SELECT classoid::regclass::text, objoid::regclass::text, objsubid, description
                  FROM pg_description WHERE classoid = 'pg_class'::regclass
                    AND objoid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)""",
}

# What a load writes, table by table, in a fixed order (loaded_at aside: a clock reading).
DATA_QUERIES = {
    "load_batches": """SELECT batch_id, source_file, sha256, rows_read, rows_loaded, rows_new, rows_duplicate,
                              rows_quarantined, dropped_columns, lines_from, lines_to, synthetic
                       FROM load_batches ORDER BY batch_id""",
    "export_rows": "SELECT * FROM export_rows ORDER BY batch_id, sheet, source_row",
    "transactions": "SELECT * FROM transactions ORDER BY invoice_date, line_id",
    "quarantine": "SELECT * FROM quarantine ORDER BY quarantine_id",
    "line_groups": "SELECT * FROM line_groups ORDER BY invoice_no, invoice_date, customer_id, country, step",
    "cleaning_rules": "SELECT * FROM cleaning_rules ORDER BY step",
    "refresh_runs": "SELECT run_id, status, files_loaded, build_id FROM refresh_runs ORDER BY run_id",
}


def _fetch(url: str, queries: dict[str, str]) -> dict[str, list[tuple]]:
    """Each query's rows, by name, on one connection."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            found = {}
            for name, statement in queries.items():
                cur.execute(statement)
                found[name] = cur.fetchall()
            return found
    finally:
        conn.close()


def schema(url: str, *, column_order: bool = True) -> dict[str, list[tuple]]:
    """Every table, column, constraint, index, function, view and comment of the database."""
    found = _fetch(url, SCHEMA_QUERIES)
    if not column_order:
        found["column"] = [(r[0], *r[2:]) for r in found["column"]]
    return {kind: sorted(rows, key=repr) for kind, rows in found.items()}


def data(url: str) -> dict[str, list[tuple]]:
    return _fetch(url, DATA_QUERIES)


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(config.sql_dir().parent), *args], capture_output=True, text=True,
                          check=False)


def old_scripts(revision: str) -> list[str]:
    """The text of each sql/ script of an earlier revision, in the order they ran."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the earlier revisions' scripts come from the repository's history")
    if git("cat-file", "-e", f"{revision}^{{commit}}").returncode != 0:
        pytest.skip(f"commit {revision} is not in this checkout (no git history, or a shallow clone)")
    names = git("ls-tree", "--name-only", revision, "sql/").stdout.split()
    return [git("show", f"{revision}:{name}").stdout for name in sorted(names) if name.endswith(".sql")]


@pytest.fixture
def other_database(pg_server):
    """A second empty database on the test server (a libpq URL)."""
    with scratch_database(pg_server, "old") as url:
        yield url


def row(invoice, stock, desc, qty, date, price, customer, country="United Kingdom"):
    return [invoice, stock, desc, qty, date, price, customer, country]


FIRST = [
    row("536365", "85123A", "WHITE HANGING HEART", "6", "2010-12-01 08:26:00", "2.55", "17850"),
    row("536365", "85123A", "WHITE HANGING HEART", "6", "2010-12-01 08:26:00", "2.55", "17850"),  # repeat
    row("536366", "22633", "HAND WARMER", "6", "2010-12-01 08:28:00", "1.85", ""),  # no customer
    row("C536379", "85123A", "WHITE HANGING HEART", "-1", "2010-12-01 09:41:00", "2.55", "17850"),
    row("536367", "POST", "POSTAGE", "1", "2010-12-02 10:00:00", "18", "12583", "France"),
    row("536368", "22960", "JAM MAKING SET", "six", "2010-12-02 11:00:00", "4.25", "13047"),  # quarantined
]
SECOND = [
    row("536367", "POST", "POSTAGE", "1", "2010-12-02 10:00:00", "18", "12583", "France"),  # overlap
    row("536370", "22728", "ALARM CLOCK", "24", "2010-12-03 08:45:00", "3.75", "12583", "France"),
]


def copy_raw_layer(source: str, target: str) -> None:
    """The rows of the four raw tables, in the columns the target's (older) tables have; the
    target's steps, when it has them, are stale (0), as after a change of the rules."""
    src, dst = psycopg2.connect(source), psycopg2.connect(target)
    try:
        with src.cursor() as read, dst.cursor() as write:
            for table in ("load_batches", "export_rows", "transactions", "quarantine"):
                write.execute("SELECT column_name FROM information_schema.columns "
                              "WHERE table_schema = 'public' AND table_name = %s", (table,))
                has = [c for (c,) in write.fetchall()]
                columns = [c for c in has if c != "step"]
                read.execute(f"SELECT {', '.join(c + '::text' for c in columns)} FROM {table}")  # any type
                rows = read.fetchall()
                if "step" in has:
                    columns, rows = [*columns, "step"], [(*r, 0) for r in rows]
                marks = ", ".join(["%s"] * len(columns))
                write.executemany(f"INSERT INTO {table} ({', '.join(columns)}) OVERRIDING SYSTEM VALUE "
                                  f"VALUES ({marks})", rows)
            for table, column in (("load_batches", "batch_id"), ("quarantine", "quarantine_id")):
                write.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                              f"(SELECT max({column}) FROM {table}))")
        dst.commit()
    finally:
        src.close()
        dst.close()


def cleaning_rules_version(url: str) -> list[tuple]:
    """The transaction ids that last wrote cleaning_rules: every run of the scripts rewrites it."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT xmin::text FROM cleaning_rules ORDER BY step")
            return cur.fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("revision", list(OLD_REVISIONS))
def test_a_database_of_an_earlier_revision_is_upgraded_once_and_keeps_its_data(
        revision, database_url, other_database, tmp_path, monkeypatch):
    fresh, old = database_url, other_database
    first, second = write_csv(tmp_path / "first.csv", FIRST), write_csv(tmp_path / "second.csv", SECOND)
    load_path(first, progress=False)  # a fresh database, loaded by today's code

    # The same load in a database the earlier scripts made (as `lgs` ran them: one transaction).
    conn = psycopg2.connect(old)
    with conn, conn.cursor() as cur:
        for script in old_scripts(revision):
            cur.execute(script)
        cur.execute("CREATE TABLE lgs_schema (digest char(64) NOT NULL)")
        cur.execute("INSERT INTO lgs_schema VALUES (repeat('0', 64))")
    conn.close()
    copy_raw_layer(fresh, old)
    for url in (fresh, old):
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO refresh_runs (run_id, status, files_loaded) "
                        "VALUES ('r1', 'succeeded', 1)")
        conn.close()

    # Any command brings it up to date: the scripts run once and it matches the fresh database.
    with db.connect(old):
        pass
    same_order = OLD_REVISIONS[revision]
    assert schema(old, column_order=same_order) == schema(fresh, column_order=same_order)
    upgraded = data(old)
    assert upgraded == data(fresh)
    # The stale steps were given again by the rules, and the lines grouped by them.
    assert sorted((t[1], t[-1]) for t in upgraded["transactions"]) == [
        ("536365", 0), ("536365", 1), ("536366", 2), ("536367", 4), ("C536379", 6)]
    assert upgraded["refresh_runs"] == [("r1", "succeeded", 1, None)]

    # Recorded: the next command runs no script; a forced run changes nothing (idempotent).
    ran = cleaning_rules_version(old)
    before = (schema(old), data(old))
    with db.connect(old):
        pass
    assert cleaning_rules_version(old) == ran
    with db.connect(old, apply_schema=False) as conn:
        db.query(conn, "UPDATE lgs_schema SET digest = repeat('0', 64)")
    with db.connect(old):
        pass
    assert cleaning_rules_version(old) != ran  # the scripts did run again
    assert (schema(old), data(old)) == before

    # Loading goes on in both alike: the overlapping line is found however the table was keyed.
    results = []
    for url in (fresh, old):
        monkeypatch.setenv("DATABASE_URL", url)
        result = load_path(second, progress=False)
        results.append((result.rows_new, result.rows_duplicate))
    assert results == [(1, 1), (1, 1)]
    assert data(old) == data(fresh)


def test_the_upgrade_does_nothing_to_an_empty_or_an_up_to_date_database(database_url, other_database,
                                                                        tmp_path):
    upgrade = (config.sql_dir() / "00_upgrade.sql").read_text(encoding="utf-8")
    assert db.sql_scripts()[0].name == "00_upgrade.sql"  # first: the other scripts need the current shape
    conn = psycopg2.connect(other_database)
    with conn, conn.cursor() as cur:
        cur.execute(upgrade)
    conn.close()
    assert all(not rows for rows in schema(other_database).values())  # it created nothing

    load_path(write_csv(tmp_path / "first.csv", FIRST), progress=False)
    before = (schema(database_url), data(database_url))
    conn = psycopg2.connect(database_url)
    with conn, conn.cursor() as cur:
        cur.execute(upgrade)
    conn.close()
    assert (schema(database_url), data(database_url)) == before
