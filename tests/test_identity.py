"""Export parts and repeat numbers: the two halves of a line's identity."""

from __future__ import annotations

import pandas as pd

from lgs_analytics.identity import export_parts, occurrences


def lines(*specs):
    """(sheet, invoice, date, price) tuples -> normalised rows."""
    return pd.DataFrame([{"sheet": s, "invoice": i, "stock_code": "85048", "description": "BALL",
                          "quantity": "1", "invoice_date": d, "price": p, "customer_id": "13085",
                          "country": "UK"} for s, i, d, p in specs])


def test_a_new_export_starts_where_dates_go_back_more_than_a_day():
    rows = lines(("", "1", "2010-12-01 08:00:00", "1"), ("", "2", "2010-12-09 08:00:00", "1"),
                 ("", "3", "2010-12-08 23:00:00", "1"),  # back less than a day: same export
                 ("", "1", "2010-12-01 08:00:00", "1"),  # back 8 days: the second export
                 ("", "4", "2010-12-10 08:00:00", "1"))
    assert export_parts(rows["sheet"], rows["invoice_date"]).tolist() == [1, 1, 1, 2, 2]


def test_each_sheet_is_numbered_on_its_own():
    rows = lines(("a", "1", "2010-12-09 08:00:00", "1"), ("b", "2", "2010-12-01 08:00:00", "1"))
    assert export_parts(rows["sheet"], rows["invoice_date"]).tolist() == [1, 1]


def test_repeats_are_numbered_within_an_export_and_prices_compare_as_numbers():
    rows = lines(("", "1", "2010-12-01 08:00:00", "2.5"), ("", "1", "2010-12-01 08:00:00", "2.50"),
                 ("", "1", "2010-12-01 08:00:00", "3"), ("", "1", "2010-12-01 08:00:00", "2.5"))
    part = pd.Series([1, 1, 1, 2])
    assert occurrences(rows, part).tolist() == [1, 2, 1, 1]
