"""Connections: every wait has a limit, and a lost server is said in one line."""

from __future__ import annotations

import socket
import time

import psycopg2
import pytest

from lgs_analytics import cli
from lgs_analytics.store import db
from tests.conftest import scratch_database


def test_a_server_that_never_answers_fails_within_the_connect_timeout(monkeypatch, capsys):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)  # accepts TCP (the kernel's backlog) and never says a word
    try:
        port = silent.getsockname()[1]
        monkeypatch.setenv("DATABASE_URL", f"postgresql://lgs:secret@127.0.0.1:{port}/lgs")
        monkeypatch.setenv("LGS_CONNECT_TIMEOUT", "2")
        started = time.monotonic()
        assert cli.main(["db", "start"]) == 2
        assert time.monotonic() - started < 10
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "cannot connect to Postgres" in err
    finally:
        silent.close()


@pytest.mark.integration
def test_a_connection_lost_mid_work_is_said_plainly(database_url):
    with pytest.raises(db.DatabaseError, match="lost the connection to Postgres"):
        with db.connect() as conn:
            db.query(conn, "SELECT pg_terminate_backend(pg_backend_pid())")


@pytest.mark.integration
def test_a_snapshot_does_not_see_what_commits_while_it_reads(database_url):
    with db.snapshot() as reader:
        before = db.query(reader, "SELECT count(*) FROM load_batches")
        with db.connect() as writer:
            db.query(writer, "INSERT INTO load_batches (source_file, sha256) "
                             "VALUES ('x.csv', repeat('a', 64))")
        assert db.query(reader, "SELECT count(*) FROM load_batches") == before == [(0,)]
    with db.connect() as conn:
        assert db.query(conn, "SELECT count(*) FROM load_batches") == [(1,)]


@pytest.mark.integration
def test_a_command_that_waited_for_another_schema_run_runs_the_scripts_no_more(database_url, tmp_path):
    import threading

    import psycopg2

    # A script set whose every run leaves a mark, and a database that records an older set.
    (tmp_path / "01_mark.sql").write_text("INSERT INTO schema_runs VALUES (1);\n", encoding="utf-8")
    digest = db.scripts_digest(db.sql_scripts(tmp_path))
    setup = psycopg2.connect(database_url)
    with setup, setup.cursor() as cur:
        cur.execute("CREATE TABLE schema_runs (n integer)")
        cur.execute("CREATE TABLE lgs_schema (digest char(64) NOT NULL)")
        cur.execute("INSERT INTO lgs_schema VALUES (repeat('0', 64))")
    # Another command is running the scripts: it holds the lock, and records the new set as it commits.
    other = psycopg2.connect(database_url)
    other.cursor().execute("SELECT pg_advisory_xact_lock(hashtext('lgs_schema'))")
    waiter = psycopg2.connect(database_url)
    done = threading.Event()

    def start_command() -> None:
        with waiter:
            db.run_sql_scripts(waiter, tmp_path)
        done.set()

    thread = threading.Thread(target=start_command)
    thread.start()
    assert not done.wait(1.0)  # it waits for the lock
    with other.cursor() as cur:
        cur.execute("UPDATE lgs_schema SET digest = %s", (digest,))
    other.commit()
    thread.join(10)
    assert done.is_set()
    with setup.cursor() as cur:
        cur.execute("SELECT count(*) FROM schema_runs")
        assert cur.fetchone()[0] == 0  # the scripts had been run: it ran them no more
    for conn in (setup, other, waiter):
        conn.close()


@pytest.mark.integration
def test_a_database_not_in_utf8_is_refused_in_one_line_before_anything_is_created(pg_server, monkeypatch,
                                                                                    capsys):
    # What initdb makes without a UTF-8 locale, and a user's DATABASE_URL server may be: every command
    # used to fail inside the scripts with "'ascii' codec can't encode characters in position ...".
    with scratch_database(pg_server, "ascii", "ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' "
                                              "TEMPLATE template0") as url:
        monkeypatch.setenv("DATABASE_URL", url)
        assert cli.main(["build"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "is encoded SQL_ASCII; lgs needs UTF-8" in err
        assert "CREATE DATABASE lgs ENCODING 'UTF8'" in err
        plain = psycopg2.connect(url)  # nothing was created: the refusal came before the scripts
        try:
            with plain.cursor() as cur:
                cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
                assert cur.fetchone() == (0,)
        finally:
            plain.close()
