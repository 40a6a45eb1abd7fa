"""The charts' captions say what each number counts, on tiny hand-checked pages.

A finding reads only a few of the page's frames, so each test builds just those (a namespace
standing in for the Page) and checks the sentence's numbers, worked out by hand.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from lgs_analytics.analytics import metrics, rfm
from lgs_analytics.report import findings, sections


def page(**analysis) -> SimpleNamespace:
    return SimpleNamespace(analysis=SimpleNamespace(**analysis))


def months(*names: str) -> pd.Series:
    return pd.Series(pd.PeriodIndex(list(names), freq="M"))


def test_the_85th_percentile_caption_states_the_percentile_itself_not_the_largest_order_below_it():
    amounts = pd.Series([10.0, 20.0, 30.0, 40.0, 100.0])
    # 85th percentile, linear: position 0.85 x 4 = 3.4, so 40 + 0.4 x (100 - 40) = 64; at or below: 10-40.
    trimmed = metrics.trim_to_quantile(amounts)
    caption = findings.invoice_amounts_p85(page(amounts_summary=metrics.amount_summary(amounts),
                                                amounts_p85_summary=metrics.amount_summary(trimmed)))
    assert caption.startswith("Among the 4 orders at or below the 85th percentile, £64.00 (the largest "
                              "of them £40.00), the median order is £25.00")


def test_the_orders_caption_reconciles_the_bars_with_the_headline_orders():
    orders = pd.DataFrame({"month": months("2011-10", "2011-11"), "placed": [3, 2], "cancelled": [1, 0],
                           "is_partial": [False, False]})
    caption = findings.monthly_orders(page(orders=orders, headline={"customer_orders": 4}))
    assert caption.startswith("Purchase invoices peaked in October 2011 at 3; over the period there was one "
                              "cancellation invoice for every 5 purchase invoices.")
    assert ("The bars count all 5 purchase invoices, guest orders and invoices with no product line "
            "included: the 4 orders of the headline figures are identified customers' product orders, "
            "1 fewer.") in caption


USERS = pd.DataFrame({"month": months("2011-10", "2011-11", "2011-12"), "active_customers": [5, 7, 9],
                      "buying_customers": [4, 6, 8], "is_partial": [False, False, True]})


def test_active_customers_peak_says_what_it_counts_and_how_many_of_them_bought():
    expected = ("Monthly active customers (any invoice, cancellations included) peaked at 7 in November "
                "2011; 6 of them were buying customers (with a product purchase).")
    assert findings.active_peak(USERS) == expected  # December, partial, is never the peak
    assert findings.active_customers(page(active_users=USERS)).startswith(expected)
    analysis = SimpleNamespace(sales=pd.DataFrame({"month": [], "net_sales": [], "is_partial": []}),
                               active_users=USERS, headline={"customers": 0}, countries=pd.DataFrame())
    assert sections.key_trends(analysis) == [expected]


@pytest.mark.parametrize("start", ["2010-12-01 08:26", "2011-03-01 09:00"])
def test_new_and_cohort_captions_say_the_first_month_holds_the_existing_base(start):
    first = pd.Timestamp(start)
    nve = pd.DataFrame({"month": months(f"{first:%Y-%m}", f"{first + pd.DateOffset(months=1):%Y-%m}"),
                        "new_customers": [6, 2], "existing_customers": [0, 3], "is_partial": [False, False]})
    retention = pd.DataFrame({0: [1.0, 1.0], 1: [0.5, np.nan]}, index=pd.PeriodIndex(nve["month"]))
    shown = page(new_vs_existing=nve, retention=retention, headline={"period_start": first})
    month = f"{first:%B %Y}"
    caption = findings.new_vs_existing(shown)
    assert caption.startswith(f"In {first + pd.DateOffset(months=1):%B %Y}, 2 of 5 buying customers (40%) "
                              "bought for the first time.")
    assert (f"The data start on {first.day} {month}, so a first purchase here is only the first in the data: "
            f"all {month}'s customers count as new, the existing customer base included") in caption
    assert (f"the {month} cohort is every customer of that month, the existing customer base included"
            in findings.cohort_retention(shown))


def scored(frequency: list[int]) -> pd.DataFrame:
    """Customers with distinct recencies 1..n (every R score used) and these frequencies."""
    n = len(frequency)
    frame = pd.DataFrame({"recency": range(1, n + 1), "frequency": frequency})
    return frame.assign(r_score=rfm.rank_scores(frame["recency"], higher_is_better=False),
                        f_score=rfm.rank_scores(frame["frequency"]))


def test_an_empty_frequency_column_is_explained_from_the_data():
    customers = scored([1, 1, 1, 2, 2, 3, 4, 5, 6, 7])
    # By hand: the three 1-order customers share mid-rank 2, p = 1.5 / 10 -> F=1; the two 2-order ones
    # share mid-rank 4.5, p = 4 / 10 -> F=3. Nobody gets F=2.
    assert customers["f_score"].tolist() == [1, 1, 1, 3, 3, 3, 4, 4, 5, 5]
    assert findings.rf_gaps(customers) == [
        "No customer scores F=2: the 3 customers with 1 order (30%) all share F=1 (tied values share a "
        "score), while customers with 2 orders already score F=3."]
    caption = findings.rf_grid(SimpleNamespace(scores=SimpleNamespace(customers=customers)))
    assert caption.endswith(findings.rf_gaps(customers)[0])


def test_no_gap_no_explanation():
    customers = scored(list(range(1, 11)))  # ten distinct values: two of each score
    assert findings.rf_gaps(customers) == []
    shown = SimpleNamespace(scores=SimpleNamespace(customers=customers))
    assert "No customer scores" not in findings.rf_grid(shown)


def test_the_growth_title_promises_a_year_before_only_when_a_month_has_one():
    sales = pd.DataFrame({"month": months("2011-10", "2011-11"), "yoy_pct": [np.nan, np.nan]})
    assert findings.growth_title(sales) == "Monthly sales growth on the month before (%)"
    assert "a year before" in findings.growth_title(sales.assign(yoy_pct=[np.nan, 12.0]))


def test_segment_shares_are_rounded_once_from_the_counts():
    # 171 of 4,334 customers = 3.9455%: 3.9%. The mart keeps 3.95, which a 1-decimal label would show as 4.0%.
    summary = pd.DataFrame({"segment": ["Promising", "Hibernating"], "description": ["a", "b"],
                            "action": ["x", "y"], "priority": [2, 1], "customers": [171, 4163],
                            "customer_share": [3.95, 96.05], "revenue": [52521.0, 8212956.0],
                            "revenue_share": [0.64, 99.36]})
    shares = findings.segment_shares(summary)
    assert shares["customer_share"].iloc[0] == pytest.approx(100 * 171 / 4334)
    table = sections.segment_action_table(summary).data
    assert "3.9%" in table and "4.0%" not in table
    assert table.index("Hibernating") < table.index("Promising")  # priority order, 1 first
