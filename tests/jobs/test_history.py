"""The segment history on a real Postgres: back-filled by a first build, appended (changes only) by
later ones, never rewritten; the migration between two dates reconciles with the marts."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from lgs_analytics import cli
from lgs_analytics.analytics import history
from lgs_analytics.analytics.history import NOT_YET
from lgs_analytics.jobs import build as build_job
from lgs_analytics.jobs import page as page_job
from lgs_analytics.results import BuildParameters
from lgs_analytics.store import db

pytestmark = pytest.mark.integration

START = "2011-06-01"


def fetch(sql, params=()):
    with db.connect() as conn:
        return db.query(conn, sql, params)


@pytest.fixture
def real(real_built, monkeypatch):
    """The real file's build (shared by the session: only read here)."""
    monkeypatch.setenv("DATABASE_URL", real_built)
    return real_built


def test_the_first_build_back_filled_the_history_at_monthly_dates(real):
    [(first, as_of)] = fetch("SELECT min(invoice_date), (SELECT as_of FROM current_build) FROM transactions")
    months = pd.date_range(pd.Timestamp(first).normalize().replace(day=1) + pd.offsets.MonthBegin(1),
                           pd.Timestamp(as_of), freq="MS", inclusive="left")
    dates = [d for (d,) in fetch("SELECT DISTINCT as_of FROM segment_history ORDER BY 1")]
    assert dates == [*(m.date() for m in months), as_of]
    assert dates[0] == dt.date(2011, 1, 1)  # the data start in December 2010
    # Changes only: each row's previous segment is the customer's row before, and differs from it.
    [(rows, wrong, same, builds)] = fetch("""
        SELECT count(*), count(*) FILTER (WHERE previous_segment IS DISTINCT FROM before),
               count(*) FILTER (WHERE segment = previous_segment), count(DISTINCT build_id)
        FROM (SELECT *, lag(segment) OVER (PARTITION BY customer_id ORDER BY as_of) AS before
              FROM segment_history) h""")
    assert rows > 0 and wrong == 0 and same == 0 and builds == 1


def test_each_customers_previous_segment_is_published(real):
    [(customers, agree, changed_now)] = fetch("""
        SELECT count(*), count(*) FILTER (WHERE c.segment = r.segment),
               count(*) FILTER (WHERE c.segment_since = r.as_of)
        FROM customer_segment_changes c JOIN customer_rfm r USING (customer_id)
        WHERE r.method = 'standard'""")
    assert customers == fetch("SELECT count(*) FROM customer_rfm WHERE method = 'standard'")[0][0]
    assert agree == customers  # the history's segment on the build's date is the build's
    assert changed_now == fetch("SELECT count(*) FROM segment_history WHERE as_of = "
                                "(SELECT as_of FROM current_build)")[0][0]


def test_a_migration_between_two_dates_reconciles(real):
    end = fetch("SELECT as_of FROM current_build")[0][0]
    build, table = page_job.published_migration(START, end)
    # Customers in = customers out: everyone on the end date once; everyone on the start date once.
    scored = fetch("SELECT count(*) FROM customer_rfm WHERE method = 'standard'")[0][0]
    assert table["customers"].sum() == scored
    then = fetch("SELECT count(DISTINCT customer_id) FROM segment_history WHERE as_of <= %s", (START,))[0][0]
    assert table.loc[table["from_segment"] != NOT_YET, "customers"].sum() == then > 0
    now = table.groupby("to_segment")["customers"].sum()
    mart = dict(fetch("SELECT segment, customers FROM segments WHERE method = 'standard' AND customers > 0"))
    assert now.to_dict() == mart
    # The money: the scored customers' invoices between the dates, counted in SQL.
    [(between,)] = fetch("""
        SELECT coalesce(sum(amount), 0)::float FROM customer_orders
        WHERE invoice_date >= %s AND invoice_date < %s
          AND customer_id IN (SELECT customer_id FROM customer_rfm WHERE method = 'standard')""",
                         (START, end))
    assert table["spend_between"].sum() == pytest.approx(between, abs=0.01 * len(table))
    assert build.build_id == fetch("SELECT build_id FROM current_build")[0][0]


def test_the_commands_print_the_migration_and_write_the_moved_lists(real, tmp_path, capsys):
    end = fetch("SELECT as_of FROM current_build")[0][0]
    out = tmp_path / "migration.csv"
    assert cli.main(["migration", "--from", START, "--to", end.isoformat(), "--out", str(out)]) == 0
    written = pd.read_csv(out)
    assert list(written.columns) == ["from_segment", "to_segment", "customers", "spend_before_gbp",
                                     "spend_between_gbp"]
    summary = history.migration_summary(written.rename(columns=lambda c: c.removesuffix("_gbp")))
    printed = capsys.readouterr().out
    assert f"{summary['end_customers']:,} on {end.isoformat()}" in printed
    # The new customers arrived; they did not change segment (the report's caption counts the same).
    assert f"; {summary['changed']:,} of the {summary['start_customers']:,} changed segment;" in printed
    slipped = tmp_path / "slipped.csv"
    assert cli.main(["campaign", "--moved", "slipped", "--since", START, "--out", str(slipped)]) == 0
    rows = pd.read_csv(slipped)
    assert len(rows) == summary["slipped_customers"]
    assert set(rows["segment_before"]) <= {"Champions", "Loyal Customers"}
    assert set(rows["segment"]) <= set(history.MOVED["slipped"][1])
    assert set(rows["segment_before_on"]) <= {START}
    second = tmp_path / "second.csv"
    assert cli.main(["campaign", "--moved", "second-order", "--since", START, "--out", str(second)]) == 0
    [(expected,)] = fetch("""
        SELECT count(*) FROM campaign_customers c WHERE c.orders >= 2 AND 1 = (
            SELECT count(*) FROM customer_orders o WHERE o.customer_id = c.customer_id
              AND o.kind = 'purchase' AND o.invoice_date < %s)""", (START,))
    assert len(pd.read_csv(second)) == expected > 0
    # Without --since: since the history's date before the build's.
    assert cli.main(["campaign", "--moved", "won-back", "--out", str(tmp_path / "won.csv")]) == 0
    assert "won-back since 2011-" in capsys.readouterr().out


def test_the_report_shows_the_migration_with_its_figures(real):
    page = page_job.published()
    assert page.migration is not None and "migration" in page.charts
    caption, svg = page.charts["migration"]
    s = history.migration_summary(page.migration)
    assert f"{s['changed']:,} of the {s['start_customers']:,} customers changed segment" in caption
    assert "Segment migration from" in svg and "spent between" in svg


def test_a_bad_date_is_one_line(real, capsys):
    assert cli.main(["migration", "--from", "2011-12-10", "--to", "2011-06-01"]) != 0
    err = capsys.readouterr().err.strip()
    assert err == "lgs: error: --from 2011-12-10 must be before --to 2011-06-01"


def test_later_builds_append_changes_only_and_a_rebuild_none(loaded):
    last = fetch("SELECT max(invoice_date) FROM transactions")[0][0]
    earlier = (pd.Timestamp(last) - pd.Timedelta(days=75)).date()
    first_id, _ = build_job.build(BuildParameters(as_of=earlier))
    backfill = fetch("SELECT customer_id, as_of, segment, build_id FROM segment_history ORDER BY 1, 2")
    assert max(r[1] for r in backfill) == earlier and {r[3] for r in backfill} == {first_id}
    second_id, result = build_job.build()
    rows = fetch("SELECT customer_id, as_of, segment, build_id FROM segment_history ORDER BY 1, 2")
    assert [r for r in rows if r[3] == first_id] == backfill  # never rewritten
    added = [r for r in rows if r[3] == second_id]
    as_of = result.as_of.date()
    assert added and {r[1] for r in added} == {as_of}
    # Exactly the customers whose segment is new or changed since the back-fill's last state.
    before = history.segments_on(pd.DataFrame(backfill, columns=["customer_id", "as_of", "segment", "b"])
                                 .assign(as_of=lambda f: pd.to_datetime(f["as_of"]), previous_segment=None),
                                 pd.Timestamp(earlier))["segment"]
    now = result.scores["standard"].customers.set_index("customer_id")["segment"]
    expected = sorted(c for c, s in now.items() if before.get(c) != s)
    assert sorted(r[0] for r in added) == expected
    third_id, _ = build_job.build()  # the same as-of again
    assert fetch("SELECT count(*) FROM segment_history WHERE build_id = %s", (third_id,)) == [(0,)]
    assert len(fetch("SELECT 1 FROM segment_history")) == len(rows)
