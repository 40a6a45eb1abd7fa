"""Due back: each repeat customer's usual gap, due range and status, checked by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from lgs_analytics.analytics import due

AS_OF = pd.Timestamp("2011-03-01")


def purchases() -> pd.DataFrame:
    rows = [
        # 1: every 10 days, last 2011-02-20 (gaps 10, 10, 10; two invoices on 2011-01-21 count once)
        (1, "2011-01-21 09:00"), (1, "2011-01-21 15:00"), (1, "2011-01-31"), (1, "2011-02-10"),
        (1, "2011-01-11"), (1, "2011-02-20"),
        # 2: gaps 20, 30, 40, 50 days, last 2010-11-12: median 35, quartiles 27.5 and 42.5
        (2, "2010-06-25"), (2, "2010-07-15"), (2, "2010-08-14"), (2, "2010-09-23"), (2, "2010-11-12"),
        # 3: gaps 30 and 40 days, last 2011-02-25: not yet due
        (3, "2010-12-17"), (3, "2011-01-16"), (3, "2011-02-25"),
        # 4: one gap only: no date; 5: one-time buyer; 6: bought after the as-of date only
        (4, "2011-01-01"), (4, "2011-02-01"), (5, "2011-02-01"), (6, "2011-03-05"),
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "invoice_date"])
    frame["customer_id"] = frame["customer_id"].astype("Int64")
    frame["invoice_date"] = pd.to_datetime(frame["invoice_date"], format="ISO8601")
    return frame


def test_usual_gap_range_and_status_by_hand():
    out = due.due_back(purchases(), AS_OF)
    assert list(out.columns) == list(due.DUE_COLUMNS)
    assert list(out.index) == [1, 2, 3, 4, 5]  # 6 bought after the as-of date
    # 1: median 10, quartiles 10 and 10, widened to 10 -/+ 3: due 2011-02-27 .. 2011-03-05
    assert out.loc[1, "usual_gap_days"] == 10
    assert out.loc[1, "due_from"] == pd.Timestamp("2011-02-27")
    assert out.loc[1, "due_to"] == pd.Timestamp("2011-03-05")
    assert out.loc[1, "due_status"] == due.DUE
    # 2: median 35; 2010-11-12 + 27 days (floor 27.5) .. + 43 days (ceil 42.5): overdue on 2011-03-01
    assert out.loc[2, "usual_gap_days"] == 35
    assert out.loc[2, "due_from"] == pd.Timestamp("2010-12-09")
    assert out.loc[2, "due_to"] == pd.Timestamp("2010-12-25")
    assert out.loc[2, "due_status"] == due.OVERDUE
    # 3: gaps 30, 40: median 35, quartiles 32.5 and 37.5 -> 2011-02-25 + 32 .. + 38 days
    assert out.loc[3, "due_from"] == pd.Timestamp("2011-03-29")
    assert out.loc[3, "due_to"] == pd.Timestamp("2011-04-04")
    assert out.loc[3, "due_status"] == due.NOT_YET
    for customer in (4, 5):  # too few gaps: no date, no status
        assert out.loc[customer, ["usual_gap_days", "due_from", "due_to", "due_status"]].isna().all()


def test_the_range_is_never_under_a_day_after_the_last_order():
    rows = pd.DataFrame({"customer_id": pd.array([7] * 4, dtype="Int64"),
                         "invoice_date": pd.to_datetime(["2011-01-01", "2011-01-03", "2011-01-05",
                                                         "2011-01-07"])})
    out = due.due_back(rows, AS_OF)  # gaps 2, 2, 2: 2 - 3 days would be before the last order
    assert out.loc[7, "due_from"] == pd.Timestamp("2011-01-08")
    assert out.loc[7, "due_to"] == pd.Timestamp("2011-01-12")


def test_status_boundaries_are_inclusive():
    start, end = pd.Series([pd.Timestamp("2011-03-01")]), pd.Series([pd.Timestamp("2011-03-05")])
    assert due.status(pd.Timestamp("2011-03-01"), start, end).iloc[0] == due.DUE
    assert due.status(pd.Timestamp("2011-03-05"), start, end).iloc[0] == due.DUE
    assert due.status(pd.Timestamp("2011-03-06"), start, end).iloc[0] == due.OVERDUE
    assert due.status(pd.Timestamp("2011-02-28"), start, end).iloc[0] == due.NOT_YET


@pytest.mark.parametrize(("gap", "start", "end", "words"), [
    (35, "2012-01-12", "2012-01-26", "usually orders every 5 weeks; due 12–26 Jan 2012"),
    (10, "2011-02-27", "2011-03-05", "usually orders every 10 days; due 27 Feb–5 Mar 2011"),
    (90, "2011-12-20", "2012-01-10", "usually orders every 3 months; due 20 Dec 2011–10 Jan 2012"),
])
def test_in_words(gap, start, end, words):
    assert due.in_words(gap, pd.Timestamp(start), pd.Timestamp(end)) == words


def test_in_words_is_empty_without_a_date():
    assert due.in_words(pd.NA, pd.NaT, pd.NaT) == ""


def test_backtest_counts_who_came_back_and_who_came_back_in_range():
    rows = pd.concat([purchases(), pd.DataFrame({
        "customer_id": pd.array([1, 3], dtype="Int64"),
        "invoice_date": pd.to_datetime(["2011-03-03", "2011-03-10"])})], ignore_index=True)
    table = due.backtest(rows, AS_OF, pd.Timestamp("2011-06-01"))
    assert list(table.index) == list(due.STATUSES)
    assert table.loc["due", ["customers", "ordered", "in_range"]].tolist() == [1, 1, 1]  # 1 on 3 Mar
    assert table.loc["overdue", ["customers", "ordered", "in_range"]].tolist() == [1, 0, 0]
    # 3 ordered on 10 Mar, before its range (29 Mar .. 4 Apr)
    assert table.loc["not yet", ["customers", "ordered", "in_range"]].tolist() == [1, 1, 0]
    assert table.loc["due", "ordered_share"] == 1.0
