"""The segment history on hand-scored customers: changes only, the back-fill's dates, the migration
between two dates (counts and spend) and the "moved" lists."""

from __future__ import annotations

import pandas as pd
import pytest

from lgs_analytics.analytics import history, rfm, segments
from lgs_analytics.analytics.clean import CleanResult
from lgs_analytics.analytics.history import NOT_YET

T = pd.Timestamp


def cleaned() -> CleanResult:
    """Two customers. A buys on 5 Dec 2010, then twice in mid-February; B once, on 10 Jan 2011."""
    purchases = pd.DataFrame({
        "invoice_no": ["1", "2", "3", "4"],
        "invoice_date": pd.to_datetime(["2010-12-05 10:00", "2011-01-10 11:00", "2011-02-15 09:00",
                                        "2011-02-16 09:00"]),
        "customer_id": pd.array([1, 2, 1, 1], dtype="Int64"),
        "line_total": [100.0, 40.0, 60.0, 30.0],
    })
    cancellations = pd.DataFrame({"invoice_date": pd.Series(dtype="datetime64[ns]"),
                                  "customer_id": pd.array([], dtype="Int64"),
                                  "returned": pd.Series(dtype="float64")})
    return CleanResult(purchases, cancellations, pd.DataFrame())


def test_backfill_dates_are_the_first_of_each_month_from_the_second_then_the_as_of():
    purchases = cleaned().purchases
    assert history.backfill_dates(purchases, T("2011-03-15")) == [
        T("2011-01-01"), T("2011-02-01"), T("2011-03-01"), T("2011-03-15")]
    # An as-of on a first of a month is the build's own date, not a back-fill date too.
    assert history.backfill_dates(purchases, T("2011-03-01")) == [T("2011-01-01"), T("2011-02-01"),
                                                                 T("2011-03-01")]
    assert history.backfill_dates(purchases, T("2010-12-20")) == [T("2010-12-20")]  # within the first month


def first_build() -> pd.DataFrame:
    data = cleaned()
    scored = rfm.rfm_standard(data.purchases, data.cancellations, T("2011-03-01"))
    return history.to_append(history.empty_history(), data, scored, T("2011-03-01"))


def test_a_first_build_back_fills_the_changes_only():
    # 1 Jan: A alone scores the neutral 3, 3 (Need Attention). 1 Feb: A (58 days, 1 order) R2 F3 = At
    # Risk, B (22 days, 1 order) R4 F3 = Potential Loyalists. 1 Mar: A (13 days, 3 orders) R4 F4 =
    # Loyal Customers, B (50 days, 1 order) R2 F2 = Hibernating.
    rows = first_build()
    got = [(r.customer_id, f"{r.as_of:%Y-%m-%d}", r.segment,
            None if pd.isna(r.previous_segment) else r.previous_segment, r.frequency, r.monetary)
           for r in rows.itertuples()]
    assert got == [
        (1, "2011-01-01", "Need Attention", None, 1, 100.0),
        (1, "2011-02-01", "At Risk", "Need Attention", 1, 100.0),
        (2, "2011-02-01", "Potential Loyalists", None, 1, 40.0),
        (1, "2011-03-01", "Loyal Customers", "At Risk", 3, 190.0),
        (2, "2011-03-01", "Hibernating", "Potential Loyalists", 1, 40.0),
    ]
    assert set(rows["rules_digest"]) == {segments.rules_digest()}


def test_a_later_build_adds_only_the_customers_whose_segment_changed_and_a_rebuild_adds_none():
    data, known = cleaned(), first_build()
    scored = rfm.rfm_standard(data.purchases, data.cancellations, T("2011-03-01"))
    assert history.to_append(known, data, scored, T("2011-03-01")).empty  # the same as-of: never rewritten
    assert history.to_append(known, data, scored, T("2011-02-15")).empty  # an earlier one neither
    # 1 Apr: the same order of recency and frequency, so the same segments: nothing to add.
    april = rfm.rfm_standard(data.purchases, data.cancellations, T("2011-04-01"))
    assert history.to_append(known, data, april, T("2011-04-01")).empty
    # A customer who changed segment is one row, with the segment before.
    moved = april.assign(segment=["Champions", "Hibernating"])
    rows = history.to_append(known, data, moved, T("2011-04-01"))
    assert rows[["customer_id", "segment", "previous_segment"]].values.tolist() == [
        [1, "Champions", "Loyal Customers"]]


def hand_history() -> pd.DataFrame:
    rows = [
        (1, "2011-01-01", "New Customers", None),
        (1, "2011-03-01", "Champions", "New Customers"),
        (2, "2011-01-01", "Champions", None),
        (2, "2011-02-01", "At Risk", "Champions"),
        (3, "2011-02-01", "Promising", None),
        (4, "2011-03-01", "Hibernating", None),
        (5, "2011-01-01", "Champions", None),
        (6, "2011-01-01", "At Risk", None),
        (6, "2011-03-01", "Loyal Customers", "At Risk"),
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "as_of", "segment", "previous_segment"])
    return frame.assign(as_of=pd.to_datetime(frame["as_of"]), frequency=1, monetary=0.0, rules_digest="x")


def orders() -> pd.DataFrame:
    rows = [
        (1, "2011-01-05", 100.0), (1, "2011-02-10", 50.0),
        (2, "2010-12-20", 200.0), (2, "2011-02-20", -30.0),  # a cancellation between the dates
        (3, "2011-01-20", 40.0),
        (4, "2011-02-25 00:00", 10.0), (4, "2011-03-10 09:00", 999.0),  # on the end date: after it
        (5, "2011-02-01", 70.0),
        (6, "2010-12-01", 25.0), (6, "2011-02-02", 80.0),
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "invoice_date", "amount"])
    return frame.assign(invoice_date=pd.to_datetime(frame["invoice_date"], format="mixed"),
                        invoice_no=[str(500 + i) for i in range(len(frame))],
                        kind=["cancellation" if a < 0 else "purchase" for a in frame["amount"]])


START, END = T("2011-01-15"), T("2011-03-10")


def test_a_customers_segment_on_a_date_is_their_latest_row_on_or_before_it():
    on = history.segments_on(hand_history(), "2011-02-15")
    assert on["segment"].to_dict() == {1: "New Customers", 2: "At Risk", 3: "Promising", 5: "Champions",
                                       6: "At Risk"}
    assert on.loc[2, "previous_segment"] == "Champions" and on.loc[2, "since"] == T("2011-02-01")
    assert pd.isna(on.loc[5, "previous_segment"])  # the customer's first segment


def test_the_migration_counts_each_customer_once_with_their_spend():
    table = history.migration(hand_history(), orders(), START, END)
    assert table.values.tolist() == [
        [NOT_YET, "Promising", 1, 0.0, 40.0],
        [NOT_YET, "Hibernating", 1, 0.0, 10.0],
        ["Champions", "Champions", 1, 0.0, 70.0],
        ["Champions", "At Risk", 1, 200.0, -30.0],
        ["New Customers", "Champions", 1, 100.0, 50.0],
        ["At Risk", "Loyal Customers", 1, 25.0, 80.0],
    ]
    summary = history.migration_summary(table)
    assert summary == {
        "start_customers": 4, "new_customers": 2, "end_customers": 6, "changed": 3, "spend_between": 220.0,
        "slipped_customers": 1, "slipped_spend_before": 200.0, "slipped_spend_between": -30.0,
        "won_back_customers": 1, "won_back_spend_before": 25.0, "won_back_spend_between": 80.0,
    }


def test_a_migration_needs_a_history_and_dates_in_order():
    with pytest.raises(ValueError, match="no segment history yet: run `lgs build`"):
        history.migration(history.empty_history(), orders(), START, END)
    with pytest.raises(ValueError, match="--from 2011-03-10 must be before --to 2011-01-15"):
        history.migration(hand_history(), orders(), END, START)


def listed() -> pd.DataFrame:
    """A later build's campaign list (the history's latest segments), with orders and spend."""
    return pd.DataFrame({
        "customer_id": [1, 2, 3, 4, 5, 6],
        "segment": ["Champions", "At Risk", "Promising", "Hibernating", "Champions", "Loyal Customers"],
        "orders": [2, 1, 2, 2, 1, 2],
        "spend": [150.0, 170.0, 60.0, 1009.0, 70.0, 105.0],
    })


@pytest.mark.parametrize(("kind", "since", "expected"), [
    ("slipped", START, [2]),  # Champions on 15 Jan, At Risk now
    ("won-back", START, [6]),  # At Risk on 15 Jan, Loyal Customers now
    # One order before 15 Jan and two now: 1 and 6 (highest spend first); 2 has not ordered again, 3
    # and 4 had not ordered yet.
    ("second-order", START, [1, 6]),
    ("second-order", T("2011-02-15"), [3]),  # 1 and 6 had two orders by then
    ("slipped", T("2011-02-15"), []),  # 2 had already slipped by then
])
def test_the_moved_lists(kind, since, expected):
    rows = history.moved(listed(), hand_history(), kind, since, END, orders())
    assert rows["customer_id"].tolist() == expected
    assert (rows["moved_since"] == since).all()


def test_the_moved_lists_name_where_their_customers_were():
    rows = history.moved(listed(), hand_history(), "slipped", START, END)
    assert rows[["customer_id", "moved_from", "segment"]].values.tolist() == [[2, "Champions", "At Risk"]]
    with pytest.raises(ValueError, match="unknown --moved 'lost': use one of slipped, won-back, second"):
        history.moved(listed(), hand_history(), "lost", START, END)
    with pytest.raises(ValueError, match="--since 2011-03-10 must be before the build's as-of date"):
        history.moved(listed(), hand_history(), "slipped", END, END)


def test_the_report_window_and_the_default_since():
    known = hand_history()
    assert history.report_window(known, T("2011-08-10")) == (T("2011-02-01"), T("2011-08-10"))
    assert history.report_window(known, T("2011-03-10")) == (T("2011-01-01"), T("2011-03-10"))  # the first
    assert history.report_window(known, T("2011-01-01")) is None
    assert history.previous_date(known, T("2011-03-01")) == T("2011-02-01")
    with pytest.raises(ValueError, match="no date before 2011-01-01"):
        history.previous_date(known, T("2011-01-01"))


def test_the_rules_digest_names_the_segment_rules(monkeypatch, tmp_path):
    from pathlib import Path

    digest = segments.rules_digest()
    assert len(digest) == 64 and digest == segments.rules_digest()
    default = Path(segments.__file__).with_name("segments.toml").read_text(encoding="utf-8")
    renamed = tmp_path / "renamed.toml"
    renamed.write_text(default.replace('"Need Attention"', '"Needs Care"'), encoding="utf-8")
    monkeypatch.setenv("LGS_SEGMENTS", str(renamed))  # the rules in force: what the history records
    assert segments.rules_digest() != digest


def test_lgs_campaign_offers_every_moved_kind():
    from lgs_analytics import cli

    parser = cli.build_parser()
    for kind in history.MOVED_KINDS:
        assert parser.parse_args(["campaign", "--moved", kind, "--out", "x.csv"]).moved == kind
    with pytest.raises(SystemExit):
        parser.parse_args(["campaign", "--moved", "lost", "--out", "x.csv"])
