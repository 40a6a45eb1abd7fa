"""Concurrent runs on one database: two `lgs refresh`, one `lgs report` and one `lgs load` at once
end with the database a serial run gives, and every process exits with a documented code
(0 done; 75 another refresh held the lock and this one did nothing)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg2
import pytest

from lgs_analytics.synthetic import cut_exports, generate_export, write_export

pytestmark = pytest.mark.integration
LGS = str(Path(sys.executable).with_name("lgs"))
STATE = ("SELECT count(*), md5(string_agg(line_id::text, ',' ORDER BY line_id)), "
         "(SELECT count(*) FROM load_batches) FROM transactions")


def new_database(pg_server: str) -> str:
    name = "c_" + uuid.uuid4().hex[:10]
    admin = psycopg2.connect(pg_server)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return pg_server.replace("/postgres?", f"/{name}?")


def lgs(*args: str, url: str) -> subprocess.Popen:
    return subprocess.Popen([LGS, *args], env={**os.environ, "DATABASE_URL": url},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def state(url: str) -> tuple:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(STATE)
        return cur.fetchone()


def test_two_refreshes_a_report_and_a_load_at_once_equal_a_serial_run(pg_server, tmp_path):
    parts = cut_exports(generate_export(rows=12_000, seed=4), parts=3)
    files = []
    for n, part in enumerate(parts, start=1):
        files.append(tmp_path / f"part{n}_synthetic.csv")
        write_export(part, files[-1])
    url = new_database(pg_server)
    for args in (("load", "--quiet", str(files[0])), ("build", "--quiet")):
        assert lgs(*args, url=url).wait(timeout=300) == 0
    inbox = tmp_path / "data" / "inbox"
    inbox.mkdir(parents=True)
    (inbox / files[1].name).write_bytes(files[1].read_bytes())
    os.utime(inbox / files[1].name, (time.time() - 3600, time.time() - 3600))  # settled

    refresh = ("refresh", "--inbox", str(inbox), "--out", str(tmp_path / "refresh.html"), "--quiet")
    running = {"refresh 1": lgs(*refresh, url=url), "refresh 2": lgs(*refresh, url=url),
               "report": lgs("report", "--quiet", "--out", str(tmp_path / "report.html"), url=url),
               "load": lgs("load", "--quiet", str(files[2]), url=url)}
    codes = {name: process.wait(timeout=600) for name, process in running.items()}
    errors = {name: running[name].stderr.read() for name in running}
    assert codes["report"] == 0 and codes["load"] == 0, errors
    assert sorted([codes["refresh 1"], codes["refresh 2"]]) in ([0, 0], [0, 75]), errors
    for name in ("refresh 1", "refresh 2"):
        if codes[name] == 75:
            assert "another lgs refresh is running" in errors[name] and errors[name].count("\n") == 1

    serial = new_database(pg_server)
    for path in files:
        assert lgs("load", "--quiet", str(path), url=serial).wait(timeout=300) == 0
    assert state(url) == state(serial)
    assert not any(inbox.glob("*.csv"))  # the inbox file was loaded and moved on
