"""The headline's last-month flag agrees with the monthly frames when the analyst gives a window."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from lgs_analytics.analytics import metrics


def test_a_window_from_the_first_of_the_month_keeps_a_late_first_invoice_a_whole_month():
    # January 2011: the shop reopened on Tuesday the 4th and traded to Monday the 31st. A window from
    # 1 January covers the month whole, so January is not partial, in the headline as in the frames
    # (the headline used to test the first invoice's date instead of the window's start).
    dates = pd.to_datetime(["2011-01-04 09:00", "2011-01-31 17:00"])
    transactions = pd.DataFrame({"invoice_no": ["536001", "536002"], "invoice_date": dates})
    purchases = transactions.assign(customer_id=[12346, 12347], line_total=[10.0, 20.0])
    cancellations = purchases.iloc[:0]
    start = dt.date(2011, 1, 1)
    orders = metrics.monthly_orders(transactions, start)
    headline = metrics.headline_numbers(purchases, cancellations, transactions, start)
    assert orders["is_partial"].tolist() == [False]
    assert headline["last_month_partial"] is False
    assert headline["period_start"] == dates[0]
    # Without the window, a first invoice on the 4th cuts the month, in both.
    assert metrics.monthly_orders(transactions)["is_partial"].tolist() == [True]
    assert metrics.headline_numbers(purchases, cancellations, transactions)["last_month_partial"] is True
