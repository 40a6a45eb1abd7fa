"""Every figure's label tells the truth: the overview's tiles, the customer tables and profile, and
what each page says when the build has no predictions (never 0, £0 or NaN), on hand-checked frames."""

from __future__ import annotations

import re

import pandas as pd
import panel as pn
import pytest

from lgs_analytics.dashboard import charts, grids, pages, tiles
from lgs_analytics.dashboard.app import Session
from lgs_analytics.dashboard.customers import reconciliation
from lgs_analytics.dashboard.data import Board, Unscored, labels, no_predictions, unscored
from lgs_analytics.results import BuildParameters, Provenance
from tests.analytics.test_campaign import listed
from tests.dashboard.test_pure import monthly

REASON = "too few customers to fit the models"
# The report's headline card on a tiny build: 7 orders of identified customers, gross £115 (average
# 115 / 7 = £16.43); 1 guest invoice, so 8 purchase invoices in all; 1 of 10 invoices cancelled.
HEADLINE = {"net_revenue": 10_560.0, "gross_revenue": 115.0, "customers": 4, "customer_orders": 7,
            "purchase_orders": 8, "other_orders": 1, "average_order_value": 115 / 7,
            "cancellation_rate_pct": 10.0}


def tile_texts(markup: str) -> dict[str, tuple[str, str]]:
    """label -> (value, note) of every tile in ``markup``."""
    found = re.findall(r'<div class="label">(.*?)</div><div class="value[^"]*">(.*?)</div>'
                       r'<div class="note[^"]*">(.*?)</div>', markup)
    return {label: (value, note) for label, value, note in found}


def people(with_predictions: bool) -> pd.DataFrame:
    rows = listed(with_predictions)
    rows.insert(0, "customer", labels(rows["customer_id"], None))
    return rows


def orders() -> pd.DataFrame:
    """One invoice for each of the four scored customers, and customer 9, who only cancelled (£40)."""
    return pd.DataFrame({
        "customer_id": [1, 2, 3, 4, 9], "invoice_no": ["1", "2", "3", "4", "C9"],
        "invoice_date": pd.to_datetime(["2011-12-07", "2011-05-24", "2010-11-05", "2011-11-10",
                                        "2011-06-01"]),
        "kind": ["purchase"] * 4 + ["cancellation"], "lines": 1, "units": 1,
        "amount": [5000.0, 3000.0, 2500.0, 100.0, -40.0], "country": "United Kingdom"})


def segments() -> pd.DataFrame:
    """Three segments whose priority (the order to act) is not their size's order."""
    return pd.DataFrame({"segment": ["Champions", "At Risk", "Promising"], "priority": [3, 2, 9],
                         "customers": [1, 2, 1], "customer_share": [25.0, 50.0, 25.0],
                         "revenue": [5000.0, 5500.0, 100.0], "revenue_share": [47.2, 51.9, 0.9],
                         "action": ["Reward them.", "Reactivate.", "Nudge."]})


def board(with_predictions: bool) -> Board:
    provenance = Provenance(7, pd.Timestamp("2011-12-10 08:00"), BuildParameters(),
                            forecast_note="" if with_predictions else REASON, package_version="0")
    return Board(provenance, HEADLINE, monthly(), segments(), people(with_predictions), orders(),
                 pd.Timestamp("2011-12-10"), None)


def test_no_predictions_reads_as_the_builds_reason():
    assert no_predictions(REASON) == f"no predictions: {REASON}"
    assert no_predictions("") == ""
    assert board(False).no_predictions == f"no predictions: {REASON}" and board(True).no_predictions == ""


def test_the_orders_tile_counts_the_identified_customers_orders_its_average_divides_by():
    shown = tile_texts(tiles.headline_tiles(HEADLINE, listed().iloc[:0]))
    value, note = shown["Orders of identified customers"]
    assert value == "7"  # not the 8 purchase invoices: the average's own basis
    assert note.startswith("average order £16.43 (gross ÷ these orders); not counted: 1 guest or "
                           "non-product purchase invoices (8 in all)")


def test_the_churn_tile_says_no_predictions_instead_of_zero():
    shown = tile_texts(tiles.headline_tiles(HEADLINE, listed(False).iloc[:0], f"no predictions: {REASON}"))
    assert shown["Churn alerts"][0] == f"no predictions: {REASON}"
    assert "£0" not in "".join(shown["Churn alerts"])
    flagged = tile_texts(tiles.churn_tile(pd.DataFrame({"value_at_risk": [1800.0, 2250.0]})))
    assert flagged["Churn alerts"] == ("2", "value at risk £4,050")


def test_a_profile_without_predictions_says_so_not_no_churn_alert():
    row = people(False).set_index("customer_id").loc[2]
    shown = tile_texts(tiles.profile_html(row, f"no predictions: {REASON}"))
    assert shown["P(alive)"] == ("–", f"no predictions: {REASON}")
    assert shown["CLV, next 12 months"] == ("–", f"no predictions: {REASON}")
    assert shown["Next 90 days"] == (f"no predictions: {REASON}", "the chance of no order needs the models")
    predicted = tile_texts(tiles.profile_html(people(True).set_index("customer_id").loc[2]))
    assert predicted["P(alive)"] == ("0.40", "churn alert (recoverable); value at risk £1,860")  # 3000 x 0.62
    assert predicted["CLV, next 12 months"][0] == "£300"
    assert predicted["Next 90 days"][0] == "Chance of no order in the next 90 days: 62%"


def test_tables_mark_a_missing_prediction_instead_of_nan():
    rows = grids.shown(people(False), grids.CUSTOMER_COLUMNS)
    assert list(rows["churn_risk"]) == ["–"] * 4  # not "" (no alert): unknown
    assert list(grids.shown(people(True), grids.CUSTOMER_COLUMNS)["churn_risk"]) == ["yes", "yes", "", ""]
    formats = grids.options(grids.CUSTOMER_COLUMNS)["formatters"]
    assert (formats["p_alive"].nan_format, formats["p_alive"].null_format) == ("–", "–")
    assert formats["clv_12m"] is grids.MODEL_MONEY and '? "–"' in grids.MODEL_MONEY.template


def test_unscored_customers_and_their_money_come_from_the_invoices():
    assert unscored(people(True), orders()) == Unscored(1, -40.0, True)


def test_the_customer_total_reconciles_with_net_sales():
    rows = people(True)  # spend 5,000 + 3,000 + 2,500 + 100 = 10,600
    assert reconciliation(rows, 10_560.0, Unscored(1, -40.0, True)) == (
        "The 4 scored customers below spent £10,600 in all; net sales (Overview), £10,560, also count −£40 "
        "of cancellations by 1 customer who bought nothing in the period, so not scored.")
    assert reconciliation(rows, 10_600.0, Unscored(0, 0.0, True)) == ""
    assert reconciliation(rows, 10_570.0, Unscored(1, -40.0, True)).endswith(
        "and £10 of invoices the scores do not count (after the as-of date).")


def test_segments_are_listed_in_the_order_to_act_on_them():
    figure, _ = charts.segment_chart(segments())
    assert list(figure.y_range.factors) == ["Promising", "Champions", "At Risk"]  # drawn bottom up
    session = Session(board(True))
    assert list(session.customers.segments.options.values()) == ["At Risk", "Champions", "Promising"]


def texts(view) -> str:
    """Every Markdown and HTML pane's text under ``view``."""
    return "\n".join(str(p.object) for p in view.select(lambda o: isinstance(o, (pn.pane.Markdown,
                                                                                      pn.pane.HTML))))


@pytest.mark.parametrize("with_predictions", [False, True])
def test_every_page_says_no_predictions_and_why(with_predictions):
    session = Session(board(with_predictions))
    session.open_customer("2")
    said = f"no predictions: {REASON}"
    overview = texts(session.tabs[0])
    customers, customer = texts(session.customers.view()), texts(session.customer.view())
    alerts = texts(pages.alerts_page(session.board, session.open_customer))
    for page in (overview, customers, customer, alerts):
        assert (said in page) is not with_predictions
    assert "NaN" not in overview + customers + customer + alerts
    if not with_predictions:
        assert "value at risk £0" not in overview and "no churn alert" not in customer
        assert not session.customers.clv.visible  # no "CLV 0 … 0" slider
    assert "−£40 of cancellations by 1 customer who" in customers


def test_a_profile_says_when_the_customer_is_due_back_in_words():
    row = people(True).set_index("customer_id").loc[2].copy()
    assert tile_texts(tiles.profile_html(row))["Due back"] == (
        "no date", "needs 3 or more order days to see a rhythm")
    row["usual_gap_days"], row["due_status"] = 35, "overdue"
    row["due_from"], row["due_to"] = pd.Timestamp("2012-01-12"), pd.Timestamp("2012-01-26")
    assert tile_texts(tiles.profile_html(row))["Due back: overdue"] == (
        "Usually orders every 5 weeks; due 12–26 Jan 2012", "past the usual range")
