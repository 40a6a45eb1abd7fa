"""The pipeline on a real Postgres: `lgs build` is the one writer of the marts; everything else reads."""

from __future__ import annotations

import pandas as pd
import pytest

from lgs_analytics import cli
from lgs_analytics.analytics.rfm import RFM_COLUMNS
from lgs_analytics.ingest.load import load_path
from lgs_analytics.jobs import build as build_job
from lgs_analytics.jobs import page as page_job
from lgs_analytics.results import BuildParameters
from lgs_analytics.store import db
from lgs_analytics.synthetic import generate_export, write_export

pytestmark = pytest.mark.integration

MARTS = ("customer_rfm", "segments", "customer_predictions", "report_frames")


@pytest.fixture
def built(loaded):
    build_id, result = build_job.build()
    return build_id, result


def fetch(sql, params=()):
    with db.connect() as conn:
        return db.query(conn, sql, params)


def marts_checksum() -> dict[str, tuple]:
    """Row count and an md5 over every row of each mart, in a fixed order: any change shows."""
    return {table: fetch(f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                         f"FROM {table} t")[0] for table in (*MARTS, "builds")}


def test_lines_read_back_grouped_with_the_contract_types(loaded):
    frame = build_job.read_lines()
    assert int(frame["lines"].sum()) == fetch("SELECT count(*) FROM transactions")[0][0]
    assert len(frame) == fetch("SELECT count(*) FROM line_groups")[0][0] < frame["lines"].sum() / 5
    assert str(frame["customer_id"].dtype) == "Int64" and frame["quantity"].dtype == "int64"
    repeats = frame.loc[frame["step"] == 1, "lines"].sum()
    assert repeats == fetch("SELECT count(*) FROM transactions WHERE occurrence > 1")[0][0]
    raw = build_job.read_export_rows()
    assert len(raw) == 20_000  # every row as exported, overlap included


def test_date_range_is_inclusive(loaded):
    frame = build_job.read_lines("2010-03-01", "2010-03-31")
    assert frame["invoice_date"].min() >= pd.Timestamp("2010-03-01")
    assert frame["invoice_date"].max() < pd.Timestamp("2010-04-01")
    assert frame["invoice_date"].dt.month.eq(3).all() and len(frame) > 0
    march = fetch("SELECT count(*) FROM transactions WHERE invoice_date >= '2010-03-01' "
                  "AND invoice_date < '2010-04-01'")[0][0]
    assert frame["lines"].sum() == march


def test_build_publishes_every_mart_stamped_with_its_build_id(built):
    build_id, result = built
    customers = len(result.scores["standard"].customers)
    assert fetch("SELECT build_id, status, methods, customers, synthetic, last_batch_id, rows_read "
                 "FROM current_build") == [(build_id, "published", ["standard"], customers, True, 1, 20_000)]
    assert fetch("SELECT count(*), count(DISTINCT build_id), min(build_id) FROM customer_rfm") == [
        (customers, 1, build_id)]
    assert fetch("SELECT count(*), sum(customers), min(build_id) FROM segments") == [
        (10, customers, build_id)]
    predictions = fetch("SELECT count(*), count(DISTINCT build_id), count(*) FILTER (WHERE churn_risk) "
                        "FROM customer_predictions")[0]
    flagged = int(result.forecast.customers["churn_risk"].sum())
    assert predictions == (len(result.forecast.customers), 1, flagged)
    assert predictions[0] > 0 and not result.forecast.unavailable
    # The chance of no order in 90 days, published with the predictions and carried into the campaign list.
    chances = result.forecast.customers["p_no_order_90d"]
    assert chances.between(0, 1).all()
    [(published, campaign_sum)] = fetch(
        "SELECT (SELECT sum(p_no_order_90d) FROM customer_predictions), "
        "(SELECT sum(c.p_no_order_90d) FROM campaign_customers c "
        " JOIN customer_predictions p USING (customer_id))")
    assert float(published) == pytest.approx(chances.sum()) and float(campaign_sum) == pytest.approx(
        chances.reindex(result.scores["standard"].customers["customer_id"]).sum())
    names = {n for (n,) in fetch("SELECT name FROM report_frames WHERE build_id = %s", (build_id,))}
    assert {"sales", "orders", "retention", "audit", "headline"} <= names
    [(batches,)] = fetch("SELECT batches FROM builds WHERE build_id = %s", (build_id,))
    assert [(b["file"].rsplit("/", 1)[-1], b["rows_read"], b["synthetic"]) for b in batches] == [
        ("export_synthetic.csv", 20_000, True)]


def test_the_published_page_is_exactly_what_the_build_computed(built):
    _, result = built
    page = page_job.page()
    assert not page.is_what_if and page.provenance.build_id == built[0]
    pd.testing.assert_frame_equal(page.scores.customers, result.scores["standard"].customers)
    assert page.scores.as_of == result.as_of
    for name in ("sales", "orders", "active_users", "new_vs_existing", "retention", "countries", "products",
                 "baskets_by_month", "audit"):
        pd.testing.assert_frame_equal(getattr(page.analysis, name), getattr(result.analysis, name),
                                      check_dtype=False, obj=name)
    pd.testing.assert_series_equal(page.analysis.amounts, result.analysis.amounts, check_names=False)
    assert page.analysis.headline.keys() == result.analysis.headline.keys()
    for key, value in result.analysis.headline.items():
        assert page.analysis.headline[key] == value or (value != value), key  # NaN != NaN
    pd.testing.assert_frame_equal(page.forecast.customers, result.forecast.customers, check_dtype=False,
                                  check_like=True)
    assert page.forecast.holdout_metrics == pytest.approx(result.forecast.holdout_metrics)
    summary = page.scores.segments.set_index("segment")
    expected = result.scores["standard"].segments.set_index("segment")
    pd.testing.assert_frame_equal(summary[["customers", "priority"]], expected[["customers", "priority"]],
                                  check_like=True)


def test_what_ifs_through_rfm_predict_and_the_notebook_leave_the_marts_identical(built, tmp_path):
    before = marts_checksum()
    assert cli.main(["rfm", "--as-of", "2010-12-01", "--out", str(tmp_path / "past.csv")]) == 0
    assert cli.main(["rfm", "--method", "classic", "--out", str(tmp_path / "classic.csv")]) == 0
    assert cli.main(["predict", "--out", str(tmp_path / "predictions.csv")]) == 0
    page = page_job.page(as_of="2011-06-01", start="2010-06-01")
    assert page.is_what_if and "the web app and the dashboard show build" in page.provenance.what_if
    assert page.scores.as_of == pd.Timestamp("2011-06-01")
    assert page_job.page(method="classic").is_what_if  # the build published standard only
    out = tmp_path / "whatif.html"
    argv = ["report", "--start", "2011-01-01", "--end", "2011-06-30", "--out", str(out), "--quiet"]
    assert cli.main(argv) == 0
    assert "What-if" in out.read_text(encoding="utf-8")
    assert marts_checksum() == before
    scores = pd.read_csv(tmp_path / "past.csv")
    assert list(scores.columns) == list(RFM_COLUMNS) and scores["recency"].min() >= 1


def test_a_what_if_report_never_replaces_the_published_reports_files_and_labels_its_own(built, tmp_path,
                                                                                        monkeypatch):
    from lgs_analytics import config

    monkeypatch.setattr(config, "reports_dir", lambda: tmp_path / "reports")
    assert cli.main(["report", "--quiet"]) == 0  # the published build, at the default path
    published = tmp_path / "reports" / "retail_report_campaigns"
    files = {p.name: p.read_bytes() for p in published.iterdir()}
    assert "campaign-at-risk.csv" in files
    assert cli.main(["report", "--quiet", "--method", "classic"]) == 0  # a what-if, same default --out
    assert {p.name: p.read_bytes() for p in published.iterdir()} == files  # untouched
    assert "What-if" not in (tmp_path / "reports" / "retail_report.html").read_text(encoding="utf-8")
    what_if = tmp_path / "reports" / "retail_report_what_if_campaigns"
    assert (tmp_path / "reports" / "retail_report_what_if.html").exists()
    names = sorted(p.name for p in what_if.iterdir())
    assert names and all(n.startswith("what-if-campaign-") for n in names)
    rows = pd.read_csv(what_if / names[0])
    assert rows.columns[0] == "what_if" and rows["what_if"].str.startswith("What-if: classic method").all()
    page = (tmp_path / "reports" / "retail_report_what_if.html").read_text(encoding="utf-8")
    assert f'href="{what_if.name}/what-if-campaign-' in page


def test_rfm_writes_the_csv_only_and_says_so(built, tmp_path, capsys):
    out = tmp_path / "standard.csv"
    assert cli.main(["rfm", "--out", str(out)]) == 0
    assert "The web app's tables are unchanged" in capsys.readouterr().out
    scores = pd.read_csv(out)
    assert scores["customer_id"].is_unique
    assert scores[["r_score", "f_score", "m_score"]].isin(range(1, 6)).all().all()
    assert len(scores) == fetch("SELECT count(*) FROM customer_rfm WHERE method = 'standard'")[0][0]


@pytest.mark.parametrize("argv, reason", [
    (["build", "--as-of", "2005-01-01"], "no customer bought before 2005-01-01"),
    (["build", "--start", "2030-01-01"], "no transactions between 2030-01-01 and the last day"),
])
def test_a_build_that_would_publish_nothing_is_refused_and_the_last_one_stays(built, capsys, argv, reason):
    before = marts_checksum()
    capsys.readouterr()
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and reason in err and "the published build is unchanged" in err
    after = marts_checksum()
    after.pop("builds"), before.pop("builds")  # the refusal is logged there
    assert after == before
    assert fetch("SELECT build_id FROM current_build") == [(built[0],)]
    assert fetch("SELECT status FROM builds ORDER BY build_id DESC LIMIT 1") == [("refused",)]


def test_rfm_before_the_data_is_an_error_not_an_empty_csv(built, tmp_path, capsys):
    assert cli.main(["rfm", "--as-of", "2005-01-01", "--out", str(tmp_path / "x.csv")]) == 1
    assert "nothing to score" in capsys.readouterr().err and not (tmp_path / "x.csv").exists()


def test_reversed_dates_are_refused_with_one_line(built, tmp_path, capsys):
    assert cli.main(["report", "--start", "2011-06-01", "--end", "2011-01-01", "--out",
                     str(tmp_path / "r.html")]) == 2
    assert "is after --end" in capsys.readouterr().err
    with pytest.raises(ValueError, match="starts .* after it ends"):
        BuildParameters(start=pd.Timestamp("2011-06-01").date(), end=pd.Timestamp("2011-01-01").date())


def test_classic_scores_stay_published_once_asked_for(built, capsys):
    assert cli.main(["build", "--classic", "--quiet"]) == 0
    assert cli.main(["build", "--quiet"]) == 0  # the default keeps what the web app has
    assert fetch("SELECT methods FROM current_build") == [(["standard", "classic"],)]
    assert fetch("SELECT count(DISTINCT method), count(DISTINCT build_id) FROM customer_rfm") == [(2, 1)]
    assert not page_job.page(method="classic").is_what_if
    assert cli.main(["build", "--no-classic", "--quiet"]) == 0
    assert fetch("SELECT DISTINCT method FROM customer_rfm") == [("standard",)]


def test_report_before_any_build_says_what_to_run(loaded, tmp_path, capsys):
    assert cli.main(["report", "--out", str(tmp_path / "r.html")]) == 2
    assert "run `lgs build` first" in capsys.readouterr().err


def test_an_empty_database_is_a_clear_error(database_url, capsys, tmp_path):
    assert cli.main(["rfm", "--out", str(tmp_path / "x.csv")]) == 2
    assert "load an export first" in capsys.readouterr().err
    assert cli.main(["build"]) == 1
    assert "load an export first" in capsys.readouterr().err


def test_db_reset_on_a_database_url_server_empties_every_owned_object(built, capsys):
    fetch("INSERT INTO refresh_runs (run_id, status) VALUES ('r1', 'succeeded')")
    assert cli.main(["db", "reset", "--yes"]) == 0
    with db.connect(apply_schema=False) as conn:  # look before anything recreates the schema
        left = db.query(conn, "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                              "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v', 'u')")
    assert left == [], left
    assert fetch("SELECT count(*) FROM refresh_runs") == [(0,)]  # recreated empty by the next command
    assert fetch("SELECT count(*) FROM builds") == [(0,)]


def test_any_amount_the_loader_accepts_can_be_published(database_url, tmp_path):
    """A 9-digit quantity at a 9-digit price passes validation; it once overflowed numeric(14,2)."""
    from tests.conftest import write_csv

    rows = [["489434", "85048", "LED", "999999999", "2010-12-01 07:45", "999999999", "13085",
             "United Kingdom"],
            ["489435", "22423", "CAKESTAND", "2", "2010-12-02 09:00", "12.75", "13086", "France"]]
    load_path(write_csv(tmp_path / "huge.csv", rows), progress=False)
    build_id, result = build_job.build()
    assert fetch("SELECT max(monetary) > 9.99e17 FROM customer_rfm") == [(True,)]  # float64 in Python
    assert fetch("SELECT max(revenue_share) > 99.99 FROM segments") == [(True,)]


def test_a_slower_build_never_publishes_an_older_snapshot_over_a_newer_one(database_url, tmp_path,
                                                                          monkeypatch):
    from lgs_analytics.errors import BuildRefused
    from lgs_analytics.synthetic import cut_exports

    first, second = (tmp_path / "week1_synthetic.csv", tmp_path / "week2_synthetic.csv")
    for part, path in zip(cut_exports(generate_export(rows=12_000, seed=5), parts=2), (first, second),
                          strict=True):
        write_export(part, path)
    load_path(first, progress=False)
    draw = build_job.draw_charts
    overtaken = []

    def slow_draw(result, say=lambda _: None):  # build A has read batch 1; meanwhile, a load and build B
        if not overtaken:
            overtaken.append(True)
            load_path(second, progress=False)
            overtaken.append(build_job.build()[0])
        return draw(result, say)

    monkeypatch.setattr(build_job, "draw_charts", slow_draw)
    with pytest.raises(BuildRefused, match=r"build refused: build \d+, published while this one ran, "
                                           r"is newer \(it read the loads up to batch 2, this one up to "
                                           r"batch 1\)"):
        build_job.build()
    newer = overtaken[1]
    assert fetch("SELECT build_id, last_batch_id FROM current_build") == [(newer, 2)]
    older = fetch("SELECT status, last_batch_id FROM builds WHERE build_id <> %s", (newer,))
    assert older == [("refused", 1)]
    assert fetch("SELECT DISTINCT build_id FROM customer_rfm") == [(newer,)]
