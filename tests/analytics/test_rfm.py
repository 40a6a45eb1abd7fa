"""RFM, classic and standard, on hand-scored fixtures and on the real sample rows."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lgs_analytics.analytics.rfm import (
    RFM_COLUMNS,
    classic_metrics,
    rank_scores,
    rfm,
    rfm_classic,
    rfm_standard,
)
from lgs_analytics.jobs.build import clean_frame

SAMPLE_XLSX = Path(__file__).resolve().parents[1] / "data" / "online_retail_II_head.xlsx"  # vendored, real
RAW_COLUMNS = [
    "invoice_no", "stock_code", "description", "quantity",
    "invoice_date", "unit_price", "customer_id", "country",
]
NA = pd.NA


def _frame(rows: list[tuple]) -> pd.DataFrame:
    """rows: (invoice, customer, date, quantity, price[, description])."""
    records = []
    for i, row in enumerate(rows):
        inv, cust, date, qty, price = row[:5]
        desc = row[5] if len(row) > 5 else f"item {i}"
        records.append((inv, f"2{i:04d}", desc, qty, pd.Timestamp(date), price, cust, "UK"))
    df = pd.DataFrame(records, columns=RAW_COLUMNS)
    df["quantity"] = df["quantity"].astype("int64")
    df["unit_price"] = df["unit_price"].astype("float64")
    df["customer_id"] = df["customer_id"].astype("Int64")
    df["invoice_date"] = df["invoice_date"].astype("datetime64[us]")
    return df


def _with_total(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(line_total=df["quantity"] * df["unit_price"])


def _check_schema(out: pd.DataFrame) -> None:
    assert list(out.columns) == list(RFM_COLUMNS)
    for col in ("customer_id", "recency", "frequency", "r_score", "f_score", "m_score"):
        assert out[col].dtype == "int64", col
    assert out["monetary"].dtype == "float64"
    assert out["customer_id"].is_monotonic_increasing
    assert out[["r_score", "f_score", "m_score"]].isin([1, 2, 3, 4, 5]).all().all()
    assert (
        out["rfm_score"]
        == out["r_score"].astype(str) + out["f_score"].astype(str) + out["m_score"].astype(str)
    ).all()


# --- classic ----------------------------------------------------------------------------
# As-of 2012-01-01 00:00; recency = whole days, time of day included (floor).
CLASSIC_RAW = [
    # 201: two invoices; the first line is exported twice (both counted by the seed)
    ("600001", 201, "2011-12-09 12:50", 10, 2.00),   # 20
    ("600001", 201, "2011-12-09 12:50", 10, 2.00),   # 20 (exact duplicate, kept)
    ("600002", 201, "2011-11-01 10:00", 5, 4.00),    # 20   -> f 2, m 60, r 22 (22 d 11 h)
    # 202: one purchase and a cancellation (ignored: quantity < 0)
    ("600003", 202, "2011-12-01 09:00", 1, 100.00),  # f 1, m 100, r 30 (30 d 15 h)
    ("C600004", 202, "2011-12-02 09:00", -1, 100.00),
    # 203: three invoices
    ("600005", 203, "2011-06-01 12:00", 3, 10.00),
    ("600006", 203, "2011-07-01 12:00", 3, 10.00),
    ("600007", 203, "2011-09-09 12:00", 1, 15.50),   # f 3, m 75.5, r 113 (113 d 12 h)
    # 204: one-time buyer long ago; a line without description is dropped
    ("600008", 204, "2010-12-10 08:00", 1, 10.00),   # f 1, m 10, r 386 (365 + 21 d 16 h)
    ("600008", 204, "2010-12-10 08:00", 5, 1.00, NA),
    # 205 and 206: same monetary (50); 201 and 206: same recency (22)
    ("600009", 205, "2011-10-10 10:00", 2, 25.00),   # f 1, m 50, r 82 (82 d 14 h)
    ("600010", 206, "2011-12-09 09:00", 2, 25.00),   # f 1, m 50, r 22 (22 d 15 h)
    ("600011", 207, "2011-01-10 10:00", 1, 500.00),  # f 1, m 500, r 355 (355 d 14 h)
    # 208: only a return -> no customer in classic
    ("C600012", 208, "2011-11-11 11:00", -3, 5.00),
    # dropped: no customer, zero price
    ("600013", NA, "2011-11-11 11:00", 1, 9.99),
    ("600014", 205, "2011-11-11 11:00", 1, 0.00),
]
# Quintiles by hand (numpy linear quantiles at 0, .2, .4, .6, .8, 1; bins right-closed):
#  recency sorted 22, 22, 30, 82, 113, 355, 386
#    edges 22 | 22+.2*8=23.6 | 30+.4*52=50.8 | 82+.6*31=100.6 | 113+.8*242=306.6 | 386
#    -> 22,22: R5   30: R4   82: R3   113: R2   355,386: R1
#  frequency ranked "first" in customer order: 202,204,205,206,207 (f=1) -> 1..5,
#    201 (f=2) -> 6, 203 (f=3) -> 7; edges 1 | 2.2 | 3.4 | 4.6 | 5.8 | 7
#    -> 202,204: F1  205: F2  206: F3  207: F4  201,203: F5   (equal f, unequal F)
#  monetary sorted 10, 50, 50, 60, 75.5, 100, 500
#    edges 10 | 50+.2*0=50 | 50+.4*10=54 | 60+.6*15.5=69.3 | 75.5+.8*24.5=95.1 | 500
#    -> 10,50,50: M1  (none M2)  60: M3  75.5: M4  100,500: M5
CLASSIC_EXPECTED = pd.DataFrame(
    [
        (201, 22, 2, 60.0, 5, 5, 3, "553", "Champions"),
        (202, 30, 1, 100.0, 4, 1, 5, "415", "Promising"),
        (203, 113, 3, 75.5, 2, 5, 4, "254", "Can't Lose"),
        (204, 386, 1, 10.0, 1, 1, 1, "111", "Hibernating"),
        (205, 82, 1, 50.0, 3, 2, 1, "321", "About to Sleep"),
        (206, 22, 1, 50.0, 5, 3, 1, "531", "Potential Loyalists"),
        (207, 355, 1, 500.0, 1, 4, 5, "145", "At Risk"),
    ],
    columns=list(RFM_COLUMNS),
)


def test_classic_by_hand() -> None:
    out = rfm_classic(_frame(CLASSIC_RAW))
    _check_schema(out)
    pd.testing.assert_frame_equal(out, CLASSIC_EXPECTED, check_dtype=False)


def test_classic_via_dispatcher_and_as_of_override() -> None:
    raw = _frame(CLASSIC_RAW)
    pd.testing.assert_frame_equal(rfm("classic", raw=raw), rfm_classic(raw))
    # one day later: every recency + 1, same scores
    later = rfm_classic(raw, as_of="2012-01-02")
    assert (later["recency"] - CLASSIC_EXPECTED["recency"]).tolist() == [1] * 7
    assert later["rfm_score"].tolist() == CLASSIC_EXPECTED["rfm_score"].tolist()


def test_classic_needs_five_customers() -> None:
    raw = _frame([r for r in CLASSIC_RAW if r[1] is not NA and r[1] in (201, 202, 203, 204)])
    with pytest.raises(ValueError, match="classic needs at least 5 customers"):
        rfm_classic(raw)


def test_classic_refuses_heavily_tied_data_clearly() -> None:
    rows = [(f"7000{i}", 300 + i, "2011-12-01 10:00", 1, 10.0) for i in range(6)]
    with pytest.raises(ValueError, match="quintile edges coincide"):
        rfm_classic(_frame(rows))


# --- standard ---------------------------------------------------------------------------
# Data ends 2011-12-09 -> as-of 2011-12-10 00:00; recency in calendar days.
PURCHASES = [
    ("I1", 101, "2011-12-09 10:00", 10, 2.00),   # 20
    ("I1", 101, "2011-12-09 10:00", 5, 1.00),    # 5
    ("I2", 101, "2011-11-30 10:00", 1, 100.00),  # 100 -> f 2, m 125, r 1
    ("I3", 102, "2011-12-01 10:00", 1, 50.00),   # f 1, m 50 - 20 returned = 30, r 9
    ("I4", 103, "2011-06-01 10:00", 4, 10.00),
    ("I5", 103, "2011-07-01 10:00", 4, 10.00),
    ("I6", 103, "2011-09-09 10:00", 3, 15.00),   # f 3, m 125, r 92
    ("I7", 104, "2010-12-10 10:00", 1, 10.00),   # f 1, m 10, r 365 (one-time buyer)
    ("I8", 105, "2011-12-01 17:00", 3, 10.00),
    ("I8", 105, "2011-12-01 17:00", 1, 20.00),   # f 1, m 50, r 9 (ties 102)
    ("I9", 107, "2011-10-10 10:00", 2, 100.00),
    ("I10", 107, "2011-12-09 12:50", 1, 300.00),  # f 2, m 500, r 1 (ties 101)
]
CANCELLATIONS = [
    ("C1", 102, "2011-12-02 10:00", -1, 20.00),  # 102 returns 20
    ("C2", 106, "2011-11-01 10:00", -2, 5.00),   # 106: only a return -> excluded
]
# Scores: floor(5 (2 r - 1) / (2 n)) + 1 with average ranks r, n = 6, i.e. (5k) // 12 + 1.
#  recency (lower is better, ranked descending): 365 -> r1, 92 -> r2, 9,9 -> r3.5,
#    1,1 -> r5.5;  k = 2r - 1 = 1, 3, 6, 10 -> 5//12+1=1, 15//12+1=2, 30//12+1=3, 50//12+1=5
#  frequency: 1,1,1 -> r2 (k3: 2); 2,2 -> r4.5 (k8: 40//12+1=4); 3 -> r6 (k11: 5)
#  monetary: 10 -> r1 (1); 30 -> r2 (k3: 2); 50 -> r3 (k5: 25//12+1=3);
#    125,125 -> r4.5 (k8: 4); 500 -> r6 (k11: 5)
STANDARD_EXPECTED = pd.DataFrame(
    [
        (101, 1, 2, 125.0, 5, 4, 4, "544", "Champions"),
        (102, 9, 1, 30.0, 3, 2, 2, "322", "About to Sleep"),
        (103, 92, 3, 125.0, 2, 5, 4, "254", "Can't Lose"),
        (104, 365, 1, 10.0, 1, 2, 1, "121", "Hibernating"),
        (105, 9, 1, 50.0, 3, 2, 3, "323", "About to Sleep"),
        (107, 1, 2, 500.0, 5, 4, 5, "545", "Champions"),
    ],
    columns=list(RFM_COLUMNS),
)


def test_standard_by_hand() -> None:
    out = rfm_standard(_with_total(_frame(PURCHASES)), _with_total(_frame(CANCELLATIONS)))
    _check_schema(out)
    pd.testing.assert_frame_equal(out, STANDARD_EXPECTED, check_dtype=False)
    assert 106 not in out["customer_id"].tolist()


def test_standard_without_line_total_column_and_dispatcher() -> None:
    p, c = _frame(PURCHASES), _frame(CANCELLATIONS)
    out = rfm("standard", purchases=p, cancellations=c)
    pd.testing.assert_frame_equal(out, STANDARD_EXPECTED, check_dtype=False)
    with pytest.raises(ValueError, match="unknown RFM method"):
        rfm("fancy", purchases=p, cancellations=c)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="raw"):
        rfm("classic")


def test_standard_as_of_ignores_later_lines() -> None:
    p, c = _frame(PURCHASES), _frame(CANCELLATIONS)
    # As of 2011-12-01 00:00: 101 has only I2 (2011-11-30) -> r 1, f 1, m 100;
    # 102 and 105 bought on 2011-12-01 -> not yet customers; 107 has only I9 -> r 52.
    out = rfm_standard(p, c, as_of="2011-12-01 15:00").set_index("customer_id")
    assert out.index.tolist() == [101, 103, 104, 107]
    assert out.loc[101, ["recency", "frequency", "monetary"]].tolist() == [1, 1, 100.0]
    assert out.loc[107, "recency"] == 52  # Oct 10 -> Nov 10 = 31, -> Dec 1 = 21


def test_standard_one_customer_is_neutral() -> None:
    out = rfm_standard(_frame(PURCHASES[:3]), _frame([]))
    _check_schema(out)
    assert out[["r_score", "f_score", "m_score"]].iloc[0].tolist() == [3, 3, 3]
    assert out["segment"].tolist() == ["Need Attention"]


def test_standard_two_customers() -> None:
    out = rfm_standard(_frame(PURCHASES[:4]), _frame([]))
    _check_schema(out)
    # 101 more recent, more frequent, higher monetary: k = 3 -> 15//4+1 = 4, k = 1 -> 2
    assert out["rfm_score"].tolist() == ["444", "222"]


def test_standard_all_tied() -> None:
    rows = [(f"T{i}", 400 + i, "2011-12-01 10:00", 2, 5.0) for i in range(7)]
    out = rfm_standard(_frame(rows), _frame([]))
    _check_schema(out)
    assert set(out["rfm_score"]) == {"333"}


def test_standard_empty() -> None:
    out = rfm_standard(_frame([]), _frame([]), as_of="2011-12-10")
    assert list(out.columns) == list(RFM_COLUMNS)
    assert len(out) == 0


@pytest.mark.parametrize(("n", "expected"), [
    (5, [1, 2, 3, 4, 5]),
    (10, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]),
    (1, [3]),
    (2, [2, 4]),
    (3, [1, 3, 5]),
])
def test_rank_scores_distinct_values_are_quintiles(n: int, expected: list[int]) -> None:
    values = pd.Series(np.arange(n, dtype=float))
    assert rank_scores(values).tolist() == expected
    assert rank_scores(values, higher_is_better=False).tolist() == expected[::-1]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=60))
def test_rank_scores_tie_robust(values: list[int]) -> None:
    s = pd.Series(values, dtype="float64")
    for higher in (True, False):
        scores = rank_scores(s, higher_is_better=higher)
        assert scores.between(1, 5).all()
        # equal values, equal scores; order preserved (or reversed)
        per_value = pd.DataFrame({"v": s, "score": scores}).groupby("v")["score"].nunique()
        assert (per_value == 1).all()
        ordered = scores[s.sort_values(kind="stable").index].to_numpy()
        diffs = np.diff(ordered)
        assert (diffs >= 0).all() if higher else (diffs <= 0).all()


# --- the real sample rows ---------------------------------------------------------------


def _sample_raw() -> pd.DataFrame:
    sheets = pd.read_excel(SAMPLE_XLSX, sheet_name=None, engine="calamine")
    df = pd.concat(sheets.values(), ignore_index=True)
    df.columns = RAW_COLUMNS
    df["invoice_no"] = df["invoice_no"].astype(str)
    df["stock_code"] = df["stock_code"].astype(str)
    df["customer_id"] = df["customer_id"].astype("Int64")
    return df


def _independent_classic(raw: pd.DataFrame) -> tuple[int, dict[int, tuple[int, int, float]]]:
    """The seed's metrics with a plain loop over rows (no pandas grouping)."""
    as_of = pd.Timestamp("2012-01-01").to_pydatetime()
    kept = 0
    last: dict[int, object] = {}
    invoices: dict[int, set[str]] = {}
    total: dict[int, float] = {}
    for row in raw.itertuples(index=False):
        values = list(row)
        if any(v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))
               for v in values):
            continue
        if not (row.quantity > 0 and row.quantity * row.unit_price > 0):
            continue
        kept += 1
        cust = int(row.customer_id)
        date = row.invoice_date.to_pydatetime()
        last[cust] = max(last.get(cust, date), date)
        invoices.setdefault(cust, set()).add(row.invoice_no)
        total[cust] = total.get(cust, 0.0) + row.quantity * row.unit_price
    return kept, {
        c: ((as_of - last[c]).days, len(invoices[c]), total[c]) for c in last
    }


def test_classic_metrics_on_real_sample_match_a_plain_loop() -> None:
    raw = _sample_raw()
    kept, expected = _independent_classic(raw)
    metrics = classic_metrics(raw)
    assert len(raw) == 998
    assert kept == 956
    assert len(expected) == 52
    assert sorted(metrics.index) == sorted(expected)
    for cust in (13085, 17850, 13047, 18102, 16029):
        recency, frequency, monetary = expected[cust]
        got = metrics.loc[cust]
        assert int(got["recency"]) == recency
        assert int(got["frequency"]) == frequency
        assert got["monetary"] == pytest.approx(monetary)
    # spot values read off the workbook: 17850 bought on 10 invoices on 2010-12-01
    assert expected[17850][:2] == (395, 10)
    assert expected[13085][:2] == (760, 2)


@pytest.mark.integration
def test_classic_cannot_score_the_real_sample_but_standard_can(rules_db) -> None:
    # The sample holds only two trading days (2009-12-01 and 2010-12-01): every customer's
    # recency is 395 or 760, so the seed's qcut has duplicate quintile edges.
    raw = _sample_raw()
    with pytest.raises(ValueError, match="quintile edges coincide"):
        rfm_classic(raw)
    transactions = raw.assign(is_repeat=raw.duplicated(keep="first"))
    cleaned = clean_frame(transactions, rules_db)
    audit = cleaned.audit
    assert audit["rows_remaining"].iloc[0] == 998
    assert audit["rows_removed"].sum() + audit["rows_remaining"].iloc[-1] == 998
    out = rfm_standard(cleaned.purchases, cleaned.cancellations)
    _check_schema(out)
    assert set(out["recency"]) == {1, 366}  # as-of 2010-12-02
    assert set(out["customer_id"]) <= set(classic_metrics(raw).index)
    # the 29 customers of 2010-12-01 share the best recency score
    recent = out[out["recency"] == 1]
    assert recent["r_score"].nunique() == 1
