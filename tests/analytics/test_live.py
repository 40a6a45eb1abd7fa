"""The live event rules on hand-checked orders (analytics/live.py)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from lgs_analytics.analytics.live import BuildContext, events

BUILD = BuildContext(build_id=7, as_of=dt.date(2011, 12, 10),
                     win_back=("At Risk", "Hibernating", "Can't Lose"),
                     segments={1: "At Risk", 2: "Champions", 3: "Hibernating"})


def invoices(*rows: tuple[int, str, str, float]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "invoice_no", "invoice_date", "amount"]).assign(
        invoice_date=lambda f: pd.to_datetime(f["invoice_date"]))


def kinds(found: pd.DataFrame) -> list[tuple[str, int, str]]:
    return sorted(zip(found["kind"], found["customer_id"], found["invoice_no"], strict=True))


def test_first_and_second_orders_welcome_and_second_order():
    new = invoices((9, "n1", "2011-12-12 10:00", 20.0), (9, "n2", "2011-12-12 11:00", 30.0))
    found = events(new, new, BUILD)
    assert kinds(found) == [("second order", 9, "n2"), ("welcome", 9, "n1")]
    assert found.loc[found["kind"] == "welcome", "detail"].iloc[0] == (
        "First order: £20.00 (segments of build 7, scores as of 10 Dec 2011).")
    assert found["build_id"].tolist() == [7, 7] and found["segment"].isna().all()


def test_a_win_back_customer_ordering_again_is_won_back_once():
    old = invoices((1, "o1", "2011-01-05 09:00", 100.0))
    new = invoices((1, "n1", "2011-12-15 10:00", 40.0), (1, "n2", "2011-12-16 10:00", 40.0))
    found = events(new, pd.concat([old, new]), BUILD)
    assert kinds(found) == [("second order", 1, "n1"), ("won back", 1, "n1")]
    won = found[found["kind"] == "won back"].iloc[0]
    assert won["segment"] == "At Risk"
    assert won["detail"] == ("At Risk in build 7 (scores as of 10 Dec 2011) and ordering again: £40.00; "
                             "last order before this on 05 Jan 2011.")


def test_a_champion_is_not_won_back_and_an_order_from_before_the_build_raises_nothing():
    old = invoices((2, "o1", "2011-06-01", 10.0))
    new = invoices((2, "n1", "2011-12-12", 10.0), (3, "h1", "2011-11-01", 10.0))
    assert kinds(events(new, pd.concat([old, new]), BUILD)) == [("second order", 2, "n1")]


def test_big_order_is_three_times_the_median_of_three_or_more_earlier_orders():
    old = invoices((4, "a", "2011-01-01", 10.0), (4, "b", "2011-02-01", 20.0), (4, "c", "2011-03-01", 90.0))
    big = invoices((4, "n", "2011-12-12", 60.0))  # median 20: 60 is 3x
    found = events(big, pd.concat([old, big]), BUILD)
    assert kinds(found) == [("big order", 4, "n")]
    assert found["detail"].iloc[0].startswith("£60.00, 3.0× their usual order (median £20.00 over 3 orders)")
    usual = invoices((4, "n", "2011-12-12", 59.99))
    assert events(usual, pd.concat([old, usual]), BUILD).empty
    two_before = invoices((5, "a", "2011-01-01", 1.0), (5, "b", "2011-02-01", 1.0))
    large = invoices((5, "n", "2011-12-12", 500.0))  # only two earlier orders: no usual to compare with
    assert kinds(events(large, pd.concat([two_before, large]), BUILD)) == []


def test_without_a_build_the_events_say_so():
    new = invoices((9, "n1", "2001-01-01", 5.0))
    found = events(new, new, None)
    assert kinds(found) == [("welcome", 9, "n1")]
    assert found["detail"].iloc[0] == "First order: £5.00 (no build published yet)."
    assert found["build_id"].isna().all()
