"""Shared fixtures: a real Postgres for integration tests, and paths to the sample data.

Integration tests run against a throw-away embedded server (its own LGS_HOME
under pytest's temp folder); each test gets a fresh database on it, chosen
through DATABASE_URL exactly as a user would choose an external server.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest

from lgs_analytics.store import server

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
VENDORED_DATA = Path(__file__).resolve().parent / "data"  # real data kept in the repository (README there)
REAL_HEAD_XLSX = VENDORED_DATA / "online_retail_II_head.xlsx"
FULL_2010_2011 = SHARED_DATA / "online_retail_2010_2011.csv.gz"
SAMPLE_2010_2011 = VENDORED_DATA / "online_retail_2010_2011_sample.csv.gz"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``real_data`` every test that reads the real 2010-2011 file (through its fixtures): the
    tests whose outcome depends on ../shared/data, which .ci/run's second phase runs again with it."""
    for item in items:
        if "real_2010_2011" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.real_data)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """A libpq URL of the test server's maintenance database (the server stops after the session)."""
    home = tmp_path_factory.mktemp("lgs_home")
    url = server.start(home)
    yield url.replace(f"/{server.DATABASE_NAME}?", "/postgres?")
    server.stop(home)


@contextmanager
def scratch_database(pg_server: str, prefix: str, options: str = "") -> Iterator[str]:
    """A new, empty database on the test server, as a libpq URL (``options`` end its CREATE DATABASE);
    dropped afterwards, connections and all (WITH FORCE)."""
    name = f"{prefix}_" + uuid.uuid4().hex[:12]
    admin = psycopg2.connect(pg_server)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}" {options}')
    try:
        yield pg_server.replace("/postgres?", f"/{name}?")
    finally:
        admin.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def database_url(pg_server, monkeypatch):
    """A fresh, empty database for one test, selected through DATABASE_URL."""
    with scratch_database(pg_server, "t") as url:
        monkeypatch.setenv("DATABASE_URL", url)
        yield url


@pytest.fixture(scope="session")
def rules_db(pg_server):
    """A libpq URL of a database holding the sql/ scripts and no data, shared by the session: where
    tests that clean in-memory lines get the cleaning rules applied (build_job.clean_frame)."""
    from lgs_analytics.store import db

    with scratch_database(pg_server, "rules") as url:
        with db.connect(url):
            pass  # the scripts run once here
        yield url


@pytest.fixture(scope="session")
def real_head_xlsx() -> Path:
    """The 998 real rows of the Online Retail II layout (vendored: no ../shared needed)."""
    return REAL_HEAD_XLSX


@pytest.fixture(scope="session")
def real_2010_2011() -> tuple[Path, dict]:
    """(file, its facts): the complete real 2010-2011 file from ../shared/data where it exists,
    else the vendored real sample of it; the facts were computed independently (tests/data/facts.py)."""
    import json

    path = FULL_2010_2011 if FULL_2010_2011.exists() else SAMPLE_2010_2011
    facts_name = ("online_retail_2010_2011.facts.json" if path == FULL_2010_2011
                  else "online_retail_2010_2011_sample.facts.json")
    return path, json.loads((VENDORED_DATA / facts_name).read_text())


@contextmanager
def built_database(pg_server: str, export: Path, prefix: str) -> Iterator[str]:
    """A database of its own with ``export`` loaded and built by the `lgs` command, as a libpq URL
    (dropped afterwards); the load and the build must both succeed."""
    import os

    from lgs_analytics import cli

    with scratch_database(pg_server, prefix) as url:
        previous = os.environ.get("DATABASE_URL")
        os.environ["DATABASE_URL"] = url
        try:
            codes = (cli.main(["load", "--quiet", str(export)]), cli.main(["build", "--quiet"]))
        finally:
            if previous is None:
                os.environ.pop("DATABASE_URL", None)
            else:
                os.environ["DATABASE_URL"] = previous
        assert codes == (0, 0), f"lgs load / lgs build of {export.name} failed: exit codes {codes}"
        yield url


@pytest.fixture(scope="session")
def real_built(real_2010_2011, pg_server):
    """The real 2010-2011 file loaded and built once, into a database of its own: a libpq URL.

    Shared by every test that only reads it (the report, the dashboard, the real-data facts);
    loading the 541,909 rows and building them costs about 15 s, paid once a session."""
    with built_database(pg_server, real_2010_2011[0], "real") as url:
        yield url


def write_csv(path: Path, rows: list[list[str]], header: str | None = None) -> Path:
    """A small CSV export; ``rows`` are the eight exported values as text."""
    from lgs_analytics.config import EXPORT_COLUMNS

    lines = [header if header is not None else ",".join(EXPORT_COLUMNS)]
    lines += [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
