"""The embedded server: start reuses a running server, stop and reset do what they say."""

from __future__ import annotations

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
