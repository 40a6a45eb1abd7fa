"""The stakeholder text: numbers formatted from the package's own results, escaped HTML."""

from __future__ import annotations

import pandas as pd
import pytest

from lgs_analytics import pipeline
from lgs_analytics.pipeline import clean_frame
from lgs_analytics.report import tables as present
from lgs_analytics.report.formats import count, gbp, pct


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
    return cleaned, pipeline.analyse(cleaned, rows, PRODUCTS), pipeline.score("standard", cleaned=cleaned)


@pytest.mark.integration
def test_executive_summary_shows_the_headline_numbers_and_escapes_text(analysed):
    _, analysis, scores = analysed
    page = present.executive_summary(analysis, scores).data
    # Gross 20 + 20 + 10 + 10 = 60, cancelled 10: net £50; 3 customers; 4 orders; 60 / 4 = £15.00.
    assert "£50" in page and ">3<" in page and ">4<" in page and "£15.00" in page
    assert "03 October 2011" in page and "09 December 2011" in page
    assert "December 2011, has only 9 days" in page
    assert "Net sales peaked in November 2011 at £20, in the Q4 gift season." in page
    assert "<script" not in page


@pytest.mark.integration
def test_tables_escape_and_format(analysed):
    _, analysis, scores = analysed
    audit = present.audit_table(analysis.audit).data
    assert "rows loaded" in audit and "cancellations" in audit
    actions = present.segment_action_table(scores.segments).data
    assert actions.count("<tr>") == 11  # header + 10 segments
    assert "Can&#x27;t Lose" in actions


@pytest.mark.integration
def test_headline_figures_reconcile_on_their_stated_basis(analysed):
    _, analysis, _ = analysed
    h = analysis.headline
    assert h["gross_revenue"] - h["cancelled_revenue"] == h["net_revenue"] == 50
    assert h["average_order_value"] * h["customer_orders"] == h["gross_revenue"]
    assert h["customer_orders"] + h["other_orders"] == h["purchase_orders"]
    note = present.reconciliation(analysis)
    assert "Gross sales £60 − cancellations £10 = net £50" in note
    assert "£60 ÷ 4 orders = £15.00 average order" in note and "0 other purchase invoices" in note
    values = [v for v, _ in present.headline_figures(analysis)]
    assert values[:4] == ["£50", "3", "4", "£15.00"]
