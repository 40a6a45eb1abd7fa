"""Shared fixtures: a real Postgres for integration tests, and paths to the sample data.

Integration tests run against a throw-away embedded server (its own LGS_HOME
under pytest's temp folder); each test gets a fresh database on it, chosen
through DATABASE_URL exactly as a user would choose an external server.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg2
import pytest

from lgs_analytics.store import server

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REAL_HEAD_XLSX = SHARED_DATA / "online_retail_II_head.xlsx"


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """A libpq URL of the test server's maintenance database (the server stops after the session)."""
    home = tmp_path_factory.mktemp("lgs_home")
    url = server.start(home)
    yield url.replace(f"/{server.DATABASE_NAME}?", "/postgres?")
    server.stop(home)


@pytest.fixture
def database_url(pg_server, monkeypatch):
    """A fresh, empty database for one test, selected through DATABASE_URL."""
    name = "t_" + uuid.uuid4().hex[:12]
    admin = psycopg2.connect(pg_server)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    url = pg_server.replace("/postgres?", f"/{name}?")
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="session")
def real_head_xlsx() -> Path:
    if not REAL_HEAD_XLSX.exists():
        pytest.fail(f"{REAL_HEAD_XLSX} is missing: the tests need ../shared beside the checkout")
    return REAL_HEAD_XLSX


def write_csv(path: Path, rows: list[list[str]], header: str | None = None) -> Path:
    """A small CSV export; ``rows`` are the eight exported values as text."""
    from lgs_analytics.config import EXPORT_COLUMNS

    lines = [header if header is not None else ",".join(EXPORT_COLUMNS)]
    lines += [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
