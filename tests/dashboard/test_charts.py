"""The dashboard's orders chart on hand-checked invoices: the dates it shows."""

from __future__ import annotations

import pandas as pd
from bokeh.models import Range1d

from lgs_analytics.dashboard import charts


def invoices(*dates: str) -> pd.DataFrame:
    return pd.DataFrame({"invoice_date": pd.to_datetime(list(dates)), "invoice_no": [str(i) for i in
                                                                                     range(len(dates))],
                         "kind": "purchase", "amount": 10.0, "lines": 1, "units": 2})


def test_invoices_on_one_day_are_shown_in_ninety_days_around_it_not_as_one_bar_filling_the_chart():
    start, end = charts.orders_window(invoices("2011-06-10 09:00", "2011-06-10 15:00")["invoice_date"])
    assert end - start == pd.Timedelta(days=90)
    assert start + (end - start) / 2 == pd.Timestamp("2011-06-10 12:00")


def test_a_long_history_is_shown_whole_with_a_bar_and_five_percent_either_side():
    start, end = charts.orders_window(invoices("2010-01-01", "2011-01-01")["invoice_date"])
    pad = pd.Timedelta(days=3) + pd.Timedelta(days=365) * 0.05
    assert (start, end) == (pd.Timestamp("2010-01-01") - pad, pd.Timestamp("2011-01-01") + pad)


def test_no_invoices_leave_the_dates_alone():
    assert charts.orders_window(invoices()["invoice_date"]) is None


def test_showing_another_customer_moves_the_dates_to_theirs():
    fig, source = charts.orders_chart(invoices("2010-01-01", "2011-01-01"))
    charts.show_orders(fig, source, invoices("2011-06-10 09:00"))
    assert list(source.data["invoice_no"]) == ["0"]
    assert (fig.x_range.start, fig.x_range.end) == (pd.Timestamp("2011-04-26 09:00"),
                                                    pd.Timestamp("2011-07-25 09:00"))
    # A chart made before any customer was opened shows every customer's dates, explicitly: the
    # browser would ignore dates set later on an auto-fitting range.
    everyone = invoices("2010-01-01", "2011-01-01")["invoice_date"]
    empty, empty_source = charts.orders_chart(invoices().iloc[:0], empty_dates=everyone)
    assert isinstance(empty.x_range, Range1d)
    assert (empty.x_range.start, empty.x_range.end) == charts.orders_window(everyone)
    charts.show_orders(empty, empty_source, invoices("2011-06-10 09:00"))
    assert empty.x_range.end - empty.x_range.start == pd.Timedelta(days=90)
    # A customer without invoices (an unknown ID) gets everyone's dates back, not the last customer's.
    charts.show_orders(empty, empty_source, invoices().iloc[:0], empty_dates=everyone)
    assert (empty.x_range.start, empty.x_range.end) == charts.orders_window(everyone)
