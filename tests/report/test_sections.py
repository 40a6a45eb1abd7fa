"""The stakeholder text: numbers formatted from the package's own results, escaped HTML."""

from __future__ import annotations

import html

import pandas as pd
import pytest

from lgs_analytics.analytics import campaign, metrics, rfm
from lgs_analytics.jobs.build import clean_frame
from lgs_analytics.numbers import count, gbp, pct
from lgs_analytics.report import sections
from lgs_analytics.results import Forecast


def transactions() -> pd.DataFrame:
    """Three customers over Oct–Dec 2011 (December partial), one cancellation."""
    rows = [
        ("1001", "85123A", "HEART <T-LIGHT>", 10, "2011-10-03 10:00", 2.0, 12345, "United Kingdom"),
        ("1002", "22423", "CAKESTAND", 2, "2011-11-07 11:00", 10.0, 12345, "United Kingdom"),
        ("1003", "85123A", "HEART <T-LIGHT>", 5, "2011-11-14 12:00", 2.0, 12346, "France"),
        ("C1004", "22423", "CAKESTAND", -1, "2011-11-15 12:00", 10.0, 12345, "United Kingdom"),
        ("1005", "22423", "CAKESTAND", 1, "2011-12-09 09:00", 10.0, 12347, "United Kingdom"),
    ]
    frame = pd.DataFrame(rows, columns=["invoice_no", "stock_code", "description", "quantity", "invoice_date",
                                        "unit_price", "customer_id", "country"])
    frame["invoice_date"] = pd.to_datetime(frame["invoice_date"])
    frame["customer_id"] = frame["customer_id"].astype("Int64")
    frame["is_repeat"] = False
    return frame


def test_formats():
    assert gbp(1234567.891) == "£1,234,568"
    assert gbp(-12.5, 2) == "−£12.50"
    assert gbp(float("nan")) == "–"
    assert count(5878.0) == "5,878"
    assert pct(12.345) == "12.3%"


PRODUCTS = pd.DataFrame({"stock_code": ["22423"], "description": ["CAKESTAND"], "quantity": [2],
                         "revenue": [30.0], "invoices": [2]})


@pytest.fixture()
def analysed(rules_db):
    rows = transactions()
    cleaned = clean_frame(rows, rules_db)
    return cleaned, metrics.analyse(cleaned, rows, PRODUCTS), rfm.score("standard", cleaned=cleaned)


@pytest.mark.integration
def test_executive_summary_shows_the_headline_numbers_and_escapes_text(analysed):
    _, analysis, scores = analysed
    page = sections.executive_summary(analysis, scores).data
    # Gross 20 + 20 + 10 + 10 = 60, cancelled 10: net £50; 3 customers; 4 orders; 60 / 4 = £15.00.
    assert "£50" in page and ">3<" in page and ">4<" in page and "£15.00" in page
    assert "03 October 2011" in page and "09 December 2011" in page
    assert "December 2011, has only 9 days" in page
    assert "Net sales peaked in November 2011 at £20, in the Q4 gift season." in page
    assert "<script" not in page


@pytest.mark.integration
def test_tables_escape_and_format(analysed):
    _, analysis, scores = analysed
    audit = sections.audit_table(analysis.audit).data
    assert "rows loaded" in audit and "cancellations" in audit
    actions = sections.segment_action_table(scores.segments).data
    assert actions.count("<tr>") == 11  # header + 10 segments
    assert "Can&#x27;t Lose" in actions
    assert "Segment rules" not in actions
    named = sections.segment_action_table(scores.segments, scores.rules).data
    assert f"Segment rules: default ({scores.rules.digest[:12]}), the map from" in named


@pytest.mark.integration
def test_headline_figures_reconcile_on_their_stated_basis(analysed):
    _, analysis, _ = analysed
    h = analysis.headline
    assert h["gross_revenue"] - h["cancelled_revenue"] == h["net_revenue"] == 50
    assert h["average_order_value"] * h["customer_orders"] == h["gross_revenue"]
    assert h["customer_orders"] + h["other_orders"] == h["purchase_orders"]
    note = sections.reconciliation(analysis)
    assert "Gross sales £60 − cancellations £10 = net £50" in note
    assert "£60 ÷ 4 orders = £15.00 average order" in note and "0 other purchase invoices" in note
    values = [v for v, _ in sections.headline_figures(analysis)]
    assert values[:4] == ["£50", "3", "4", "£15.00"]


def _campaign_list(with_predictions: bool) -> pd.DataFrame:
    """Three hand-scored customers: one At Risk (£3,000), two Champions (£5,000 and £1,000)."""
    scores = pd.DataFrame({"customer_id": [1, 2, 3], "recency": [200, 3, 5], "frequency": [5, 12, 9],
                           "monetary": [3000.0, 5000.0, 1000.0], "r_score": [1, 5, 5], "f_score": [3, 5, 5],
                           "m_score": [4, 5, 3], "rfm_score": ["134", "555", "553"],
                           "segment": ["At Risk", "Champions", "Champions"]})
    segments = pd.DataFrame({"segment": ["At Risk", "Champions"], "action": ["Reactivate.", "Reward them."],
                             "priority": [1, 6]})
    profile = campaign.customer_profile(pd.DataFrame({
        "customer_id": pd.array([1, 2, 3], dtype="Int64"), "country": ["EIRE", "France", "Spain"],
        "invoice_no": ["1", "2", "3"], "quantity": [12, 24, 6], "line_total": [40.0, 80.0, 20.0],
        "invoice_date": pd.to_datetime(["2011-05-24", "2011-12-07", "2011-12-05"])}), AS_OF)
    predictions = pd.DataFrame({"p_alive": [0.9, 0.99, 0.98], "clv": [700.0, 900.0, 400.0],
                                "churn_risk": [False, False, False], "p_no_order_90d": [0.3, 0.1, 0.2]},
                               index=pd.Index([1, 2, 3], name="customer_id"))
    return campaign.campaign_list(scores, segments, profile, predictions if with_predictions else None)


AS_OF = pd.Timestamp("2011-12-10")
WHY = "the holdout check failed"


def test_action_box_with_predictions_shows_the_expected_value_as_money_at_stake():
    forecast = Forecast(AS_OF, 90, pd.DataFrame(), pd.DataFrame(), {}, 0.1)
    box = sections.action_box(_campaign_list(True), forecast).data
    assert html.escape("Keep and grow, in the order of what these customers spent: money at stake is the "
                       "next 12 months' expected value") in box
    assert "<b>£1,300</b>" in box and "(past spend)" not in box  # Champions: 900 + 400 expected
    assert box.index("At Risk") < box.index("Champions")


def test_action_box_without_predictions_labels_money_at_stake_as_past_spend():
    unavailable = Forecast(AS_OF, 90, pd.DataFrame(), pd.DataFrame(), {}, 0.0, unavailable=WHY)
    box = sections.action_box(_campaign_list(False), unavailable).data
    assert "expected value" not in box  # never a past figure under a forward-looking heading
    assert (f"Keep and grow (no predictions: {WHY}): money at stake is what these customers spent "
            "(past spend)") in box
    assert "<b>£6,000</b> (past spend)" in box  # Champions: 5,000 + 1,000 spent
    assert box.count("<td class=\"num\">no predictions</td>") == 2  # the expected-value column, each row
    assert f"for keep-and-grow, with no predictions: {WHY}, also what they have spent" in box


def test_print_gives_the_action_column_room_and_keeps_the_contents_on_one_page():
    from pathlib import Path

    from lgs_analytics import report

    print_rules = sections.STYLE[sections.STYLE.index("@media print"):]
    assert "table-layout: fixed" in print_rules and ".lgs-actions th:nth-child(6) {width: 26%}" in print_rules
    template = (Path(report.__file__).parent / "templates" / "lgs" / "index.html.j2").read_text()
    assert ".lgs-provenance, .lgs-toc {break-inside: avoid !important;" in template


MONTHS = [{"month": "2011-06", "days": 20, "actual": 500, "predicted": 900.0, "error_pct": 80.0},
          {"month": "2011-07", "days": 31, "actual": 1000, "predicted": 1050.0, "error_pct": 5.0},
          {"month": "2011-11", "days": 30, "actual": 2000, "predicted": 1520.0, "error_pct": -24.0},
          {"month": "2011-12", "days": 9, "actual": 300, "predicted": 280.0, "error_pct": -6.7}]


def test_the_seasonality_check_names_the_month_missed_most_from_the_numbers():
    # June (20 days) is judged, and its +80% is a bigger miss than November's -24%.
    assert sections.seasonality_sentence(MONTHS) == (
        "The model over-predicts June 2011 by 80%: it assumes a steady buying rate, so expect fewer orders "
        "in June than it says.")
    # Without June: November, 480 short; the holdout -50 + 480 + 20 = 450 short in all.
    rest = MONTHS[1:]
    assert sections.seasonality_sentence(rest) == (
        "The model under-predicts November 2011 by 24%: it assumes a steady buying rate, so expect more "
        "orders in the gift season than it says. November alone is 480 purchases short, more than the "
        "whole holdout's net shortfall of 450.")
    share = [rest[0], dict(rest[1], actual=1700, predicted=1520.0, error_pct=-10.6),
             dict(rest[2], actual=500)]
    assert sections.seasonality_sentence(share).endswith(  # 180 of -50 + 180 + 220 = 350 short
        "November alone makes up 51% of the holdout's shortfall of 350 purchases.")
    steady = [dict(r, error_pct=3.0) for r in rest]
    assert sections.seasonality_sentence(steady).startswith("Month by month the model stays within 3%")
    assert sections.seasonality_sentence([MONTHS[3]]) == ""  # 9 days: too few to judge


def test_the_outlook_shows_the_holdout_by_month_with_its_partial_months():
    forecast = Forecast(AS_OF, 90, pd.DataFrame(), pd.DataFrame(), {}, 0.1, by_month=MONTHS)
    box = sections.seasonality_section(forecast).data
    assert "<td>November 2011</td><td class=\"num\">30</td><td class=\"num\">2,000</td>" in box
    assert "<td class=\"num\">1,520.0</td><td class=\"num\">-24.0%</td>" in box
    assert "Only part of June and December is in the holdout" in box
    empty = Forecast(AS_OF, 90, pd.DataFrame(), pd.DataFrame(), {}, 0.1)
    assert sections.seasonality_section(empty).data == ""


def campaign_result(name: str = "Win <back>"):
    import datetime as dt

    from lgs_analytics.analytics import uplift
    from lgs_analytics.results import CampaignResult
    from tests.analytics.test_uplift import outcomes

    measured = uplift.measure(outcomes())
    return CampaignResult(name, pd.Timestamp("2026-12-07"), {"segment": "At Risk", "churn_risk": False,
                                                              "due": False},
                          None, dt.date(2011, 6, 1), 90, 0.5, 9, 5, 4, dt.date(2011, 8, 29), 90, 12, 80, (1,),
                          measured, uplift.sentence(measured))


def test_campaign_results_show_each_group_the_interval_and_what_was_measured():
    shown = sections.campaign_results([campaign_result()]).data
    assert '<h2 id="Campaign-results">Campaign results</h2>' in shown
    assert "<b>Win &lt;back&gt;</b>" in shown  # a name is text, never markup
    assert "At Risk, 01 Jun 2011" in shown and "5 / 4 (50% kept back)" in shown
    assert "60% vs 50%" in shown and "£12 vs £3" in shown
    assert "no measurable effect: +£9 per customer, 95% CI −£7 to £25" in shown
    assert ("window 2011-06-01 to 2011-08-29; measured on 90 day(s) to 2011-08-29: 12 invoices (80 lines) of "
            "the campaign&#x27;s customers, from load(s) 1") in shown


def test_no_campaign_no_section():
    assert sections.campaign_results([]).data == ""
