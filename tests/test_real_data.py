"""Real data end to end: the real 2010-2011 export loads as it is (older layout, gzip), its published
facts hold in the database, and `lgs build` and `lgs report` run on it without an error.

The complete 541,909-row file is read from ../shared/data where it exists; elsewhere (a clone
on its own) the vendored real sample (tests/data), with facts of its own. Both sets of facts
were computed independently of this package (tests/data/facts.py).
"""

from __future__ import annotations

import html
import json
import re

import pytest

from lgs_analytics import cli, config, pipeline
from lgs_analytics.analytics.rfm import classic_lines
from lgs_analytics.store import db

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def fetch(sql, params=()):
    with db.connect() as conn:
        return db.query(conn, sql, params)


@pytest.fixture(scope="module")
def real(real_2010_2011, pg_server, tmp_path_factory):
    """The real file loaded, built and reported once, into a database of its own."""
    import os
    import uuid

    import psycopg2

    path, facts = real_2010_2011
    name = "real_" + uuid.uuid4().hex[:8]
    admin = psycopg2.connect(pg_server)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = pg_server.replace("/postgres?", f"/{name}?")
    out = tmp_path_factory.mktemp("real") / "report.html"
    try:
        codes = (cli.main(["load", "--quiet", str(path)]), cli.main(["build", "--quiet"]),
                 cli.main(["report", "--quiet", "--out", str(out)]))
        yield {"path": path, "facts": facts, "codes": codes, "out": out}
    finally:
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous
        admin.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


def test_load_build_and_report_all_succeed(real):
    assert real["codes"] == (0, 0, 0)


def test_every_row_read_is_loaded_or_quarantined(real):
    facts = real["facts"]
    [(read, loaded, quarantined, synthetic)] = fetch(
        "SELECT rows_read, rows_loaded, rows_quarantined, synthetic FROM load_batches")
    assert read == facts["rows"] == loaded + quarantined
    assert quarantined == 0 and synthetic is False


def test_the_published_facts_hold_in_the_raw_layer(real):
    facts = real["facts"]
    assert fetch("SELECT count(*) FILTER (WHERE customer_id IS NULL), "
                 "count(*) FILTER (WHERE description IS NULL), count(DISTINCT invoice_no), "
                 "count(DISTINCT invoice_no) FILTER (WHERE invoice_no LIKE 'C%%'), "
                 "count(DISTINCT customer_id), count(DISTINCT country) FROM stg_export_rows") == [(
        facts["rows_without_customer"], facts["rows_without_description"], facts["invoices"],
        facts["cancellation_invoices"], facts["customers"], facts["countries"])]
    # Exact duplicates are kept as repeats of their line (occurrence 2, 3...), never lost.
    repeats = fetch("SELECT count(*) FROM transactions WHERE occurrence > 1")
    assert repeats == [(facts["exact_duplicate_rows"],)]
    assert fetch("SELECT round(sum(quantity * unit_price), 2)::float FROM stg_export_rows") == [
        (facts["sum_quantity_x_price"],)]


def test_the_seeds_classic_cleaning_gives_the_published_figures(real):
    facts = real["facts"]
    lines = classic_lines(pipeline.read_export_rows())
    assert len(lines) == facts["classic_rows"]
    assert lines["customer_id"].nunique() == facts["classic_customers"]
    assert round(float((lines["quantity"] * lines["unit_price"]).sum()), 2) == pytest.approx(
        facts["classic_monetary"], abs=0.01)


def test_the_build_publishes_the_definitions_as_published(real):
    page = pipeline.published()
    h = page.analysis.headline
    assert h["cancellation_rate_pct"] == pytest.approx(
        100 * real["facts"]["cancellation_invoices"] / real["facts"]["invoices"])
    if real["facts"]["rows"] == 541_909:  # the complete file: the seed's published figures
        assert round(h["cancellation_rate_pct"], 2) == 14.81
        users = page.analysis.active_users.set_index("month")
        assert users.loc[users.index[-1], "active_customers"] == 686  # December 2011, any invoice
    # The 80,995-unit line cancelled the same day must not top the products.
    assert "23843" not in page.analysis.products["stock_code"].head(3).tolist()
    assert page.forecast.unavailable or page.forecast.customers.notna().all().all()
    [(forecast,)] = fetch("SELECT forecast FROM current_build")
    assert forecast["published"] == (not page.forecast.unavailable)


def test_the_report_has_every_section_and_no_error(real):
    page = real["out"].read_text(encoding="utf-8")
    text = html.unescape(page)
    cells = json.loads(config.notebook_path().read_text())["cells"]
    headings = [line.lstrip("#").strip() for c in cells if c["cell_type"] == "markdown"
                and "remove-cell" not in c.get("metadata", {}).get("tags", [])
                for line in "".join(c["source"]).splitlines() if line.startswith("#")]
    for heading in ["Executive summary", *headings]:
        assert heading in text, heading
    assert 'data-mime-type="application/vnd.jupyter.error"' not in page and "Traceback" not in page
    assert "SYNTHETIC DATA" not in text
    assert f"{real['path'].name} ({real['facts']['rows']:,} rows)" in text
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', page)) >= 14
