"""Hand-scored tests of lgs_analytics.metrics on a tiny fixture.

The fixture: 14 lines, 4 months (September to December 2011), 4 customers, one guest
invoice, one bad-debt adjustment, one cancellation, data ending Friday 2011-12-09, so
December is partial (its last trading day is Friday the 30th; the 31st is a Saturday).

  invoice  code    qty  price  line   date        cust  country   -> invoice amount
  536001   85123A    2   2.50   5.00  2011-09-01  1     UK        \\ 15.00
  536001   22423     1  10.00  10.00  2011-09-01  1     UK        /
  536002   85123A    4   2.50  10.00  2011-09-12  2     France       10.00
  536003   85123A*   2   2.50   5.00  2011-10-03  1     UK        \\ 15.00
  536003   84029G    2   5.00  10.00  2011-10-03  1     UK        /
  536004   22423     3  10.00  30.00  2011-10-10  3     Germany      30.00
  C536005  22423    -1  10.00 -10.00  2011-10-11  3     Germany      (cancellation)
  536006   84029G    1   5.00   5.00  2011-11-07  2     France    \\ 15.00
  536006   85123A    4   2.50  10.00  2011-11-07  2     France    /
  536007   85123A   10   2.50  25.00  2011-11-08  guest UK           (guest: not a purchase)
  A536010  B         1 -100.0 -100.0  2011-11-20  guest UK           (adjustment)
  536009   84029G    2   5.00  10.00  2011-12-05  1     UK           10.00
  536008   22423     2  10.00  20.00  2011-12-09  4     EIRE         20.00
  (* description "WHITE HEART HOLDER"; everywhere else 85123A is "WHITE HEART")

Purchases: 7 invoices, amounts 10, 10, 15, 15, 15, 20, 30 (sum 115); cancellations 10.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lgs_analytics.analytics import metrics

ROWS = [
    ("536001", "85123A", "WHITE HEART", 2, "2011-09-01 10:00", 2.50, 1, "United Kingdom"),
    ("536001", "22423", "CAKESTAND", 1, "2011-09-01 10:00", 10.00, 1, "United Kingdom"),
    ("536002", "85123A", "WHITE HEART", 4, "2011-09-12 11:00", 2.50, 2, "France"),
    ("536003", "85123A", "WHITE HEART HOLDER", 2, "2011-10-03 09:30", 2.50, 1, "United Kingdom"),
    ("536003", "84029G", "HOT WATER BOTTLE", 2, "2011-10-03 09:30", 5.00, 1, "United Kingdom"),
    ("536004", "22423", "CAKESTAND", 3, "2011-10-10 14:00", 10.00, 3, "Germany"),
    ("C536005", "22423", "CAKESTAND", -1, "2011-10-11 08:00", 10.00, 3, "Germany"),
    ("536006", "84029G", "HOT WATER BOTTLE", 1, "2011-11-07 12:00", 5.00, 2, "France"),
    ("536006", "85123A", "WHITE HEART", 4, "2011-11-07 12:00", 2.50, 2, "France"),
    ("536007", "85123A", "WHITE HEART", 10, "2011-11-08 15:00", 2.50, None, "United Kingdom"),
    ("A536010", "B", "Adjust bad debt", 1, "2011-11-20 10:00", -100.0, None, "United Kingdom"),
    ("536009", "84029G", "HOT WATER BOTTLE", 2, "2011-12-05 10:00", 5.00, 1, "United Kingdom"),
    ("536008", "22423", "CAKESTAND", 2, "2011-12-09 12:50", 10.00, 4, "EIRE"),
]
COLUMNS = ["invoice_no", "stock_code", "description", "quantity", "invoice_date", "unit_price",
           "customer_id", "country"]
SEP, OCT, NOV, DEC = (pd.Period(m, "M") for m in ("2011-09", "2011-10", "2011-11", "2011-12"))


@pytest.fixture()
def transactions() -> pd.DataFrame:
    df = pd.DataFrame(ROWS, columns=COLUMNS)
    df["invoice_date"] = pd.to_datetime(df["invoice_date"])
    df["quantity"] = df["quantity"].astype("int64")
    df["customer_id"] = df["customer_id"].astype("Int64")
    return df


def _with_total(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(line_total=df["quantity"] * df["unit_price"]).reset_index(drop=True)


@pytest.fixture()
def purchases(transactions: pd.DataFrame) -> pd.DataFrame:
    keep = ~transactions["invoice_no"].str[0].isin(["C", "A"]) & transactions["customer_id"].notna()
    return _with_total(transactions[keep])


@pytest.fixture()
def cancellations(transactions: pd.DataFrame) -> pd.DataFrame:
    return _with_total(transactions[transactions["invoice_no"].str.startswith("C")])


def test_partial_months_flags_the_short_last_month(transactions: pd.DataFrame) -> None:
    # data ends Fri 2011-12-09; December's last trading day is Fri 30 (31 is a Saturday)
    assert metrics.partial_months(transactions["invoice_date"]) == {DEC}
    full = pd.Series(pd.to_datetime(["2011-09-01 09:00", "2011-12-30 16:00"]))
    assert metrics.partial_months(full) == set()
    # Sat 1 Oct 2011 is closed: starting Sun 2 Oct is a full month; starting 5 Sep is not
    assert metrics.partial_months(pd.Series(pd.to_datetime(["2011-10-02", "2011-10-31"]))) == set()
    late = pd.Series(pd.to_datetime(["2011-09-05", "2011-10-31"]))
    assert metrics.partial_months(late) == {SEP}


def test_yyyymm() -> None:
    assert metrics.yyyymm(pd.Series([SEP, DEC])).tolist() == [201109, 201112]


def test_invoice_amounts(purchases: pd.DataFrame) -> None:
    amounts = metrics.invoice_amounts(purchases)
    assert list(amounts.columns) == ["invoice_no", "customer_id", "invoice_date", "amount"]
    got = amounts.set_index("invoice_no")["amount"].to_dict()
    # 536001 = 2*2.50 + 1*10 ; 536003 = 2*2.50 + 2*5 ; 536006 = 1*5 + 4*2.50
    assert got == {"536001": 15.0, "536002": 10.0, "536003": 15.0, "536004": 30.0,
                   "536006": 15.0, "536008": 20.0, "536009": 10.0}
    assert amounts.set_index("invoice_no").loc["536008", "customer_id"] == 4


def test_amount_summary_and_trim(purchases: pd.DataFrame) -> None:
    amounts = metrics.invoice_amounts(purchases)["amount"]
    summary = metrics.amount_summary(amounts)
    # sorted: 10 10 15 15 15 20 30; median = 4th = 15; mode = 15 (three times);
    # mean = 115 / 7; p85 at position 6 * 0.85 = 5.1 -> 20 + 0.1 * (30 - 20) = 21
    assert summary["count"] == 7
    assert summary["min"] == 10.0 and summary["max"] == 30.0
    assert summary["median"] == 15.0
    assert summary["mode"] == 15.0
    assert summary["mean"] == pytest.approx(115 / 7)
    assert summary["p85"] == pytest.approx(21.0)
    trimmed = metrics.trim_to_quantile(amounts)
    assert sorted(trimmed.tolist()) == [10.0, 10.0, 15.0, 15.0, 15.0, 20.0]  # 30 > 21 goes


def test_amount_mode_rounds_to_pennies_and_breaks_ties_low() -> None:
    # 1.004 and 0.996 both round to 1.00 (twice), 2.00 twice as well: tie -> the smaller
    assert metrics.amount_summary(pd.Series([1.004, 0.996, 2.0, 2.0, 3.0]))["mode"] == 1.0


def test_monthly_orders(transactions: pd.DataFrame) -> None:
    orders = metrics.monthly_orders(transactions)
    assert orders["month"].tolist() == [SEP, OCT, NOV, DEC]
    # Sep 536001 536002 | Oct 536003 536004 C536005 | Nov 536006 536007(guest) A536010 | Dec 2
    assert orders["placed"].tolist() == [2, 2, 2, 2]
    assert orders["cancelled"].tolist() == [0, 1, 0, 0]
    # all distinct invoices - 2 * cancelled: 2, 3 - 2, 3, 2
    assert orders["seed_placed_shortcut"].tolist() == [2, 1, 3, 2]
    assert orders["is_partial"].tolist() == [False, False, False, True]


def test_monthly_sales_and_growth(purchases: pd.DataFrame, cancellations: pd.DataFrame) -> None:
    sales = metrics.monthly_sales(purchases, cancellations)
    assert list(sales.columns) == ["month", "gross_sales", "cancelled_sales", "net_sales",
                                   "growth_pct", "yoy_pct", "is_partial"]
    assert sales["month"].tolist() == [SEP, OCT, NOV, DEC]
    # Sep 15 + 10 ; Oct 15 + 30 ; Nov 15 ; Dec 10 + 20
    assert sales["gross_sales"].tolist() == [25.0, 45.0, 15.0, 30.0]
    assert sales["cancelled_sales"].tolist() == [0.0, 10.0, 0.0, 0.0]
    assert sales["net_sales"].tolist() == [25.0, 35.0, 15.0, 30.0]
    growth = sales["growth_pct"].tolist()
    assert math.isnan(growth[0])                               # nothing to compare with
    assert growth[1] == pytest.approx(40.0)                    # (35 - 25) / 25 * 100
    assert growth[2] == pytest.approx(-400 / 7)                # (15 - 35) / 35 * 100 = -57.14
    assert math.isnan(growth[3])                               # partial December: not +100
    assert sales["is_partial"].tolist() == [False, False, False, True]


def test_year_over_year_compares_complete_months_with_sales_and_divides_by_no_zero() -> None:
    months = pd.period_range("2010-01", "2011-03", freq="M")  # 15 months
    net = [0.0, 100.0, 80.0, *[10.0] * 9, 50.0, 150.0, 60.0]  # Jan 2010 sold nothing
    frame = pd.DataFrame({"month": months, "net_sales": net, "is_partial": [False] * 14 + [True]})
    with np.errstate(all="raise"):
        yoy = metrics._year_over_year(frame).tolist()
    assert all(math.isnan(v) for v in yoy[:12])   # nothing a year before
    assert math.isnan(yoy[12])                    # Jan 2011 against Jan 2010's 0: no change to state
    assert yoy[13] == pytest.approx(50.0)         # Feb: 150 against 100
    assert math.isnan(yoy[14])                    # March 2011 is partial


def test_growth_after_a_partial_first_month_is_not_computed(purchases: pd.DataFrame,
                                                            cancellations: pd.DataFrame) -> None:
    late = purchases[purchases["invoice_no"] != "536001"]  # data now starts Mon 12 Sep
    sales = metrics.monthly_sales(late, cancellations)
    assert sales["is_partial"].tolist() == [True, False, False, True]
    assert sales["growth_pct"].isna().tolist() == [True, True, False, True]


def test_monthly_active_users(transactions: pd.DataFrame, purchases: pd.DataFrame) -> None:
    users = metrics.monthly_active_users(transactions, purchases)
    # Sep {1, 2} ; Oct {1, 3} ; Nov {2} (the guest does not count) ; Dec {1, 4}
    assert users["month"].tolist() == [SEP, OCT, NOV, DEC]
    assert users["active_customers"].tolist() == [2, 2, 1, 2]
    assert users["buying_customers"].tolist() == [2, 2, 1, 2]
    assert users["is_partial"].tolist() == [False, False, False, True]


def test_active_customers_count_any_invoice_as_the_seed_does(transactions: pd.DataFrame,
                                                             purchases: pd.DataFrame) -> None:
    # Customer 2 only cancels in December: active (any invoice), not buying.
    returned = pd.DataFrame([("C536011", "85123A", "WHITE HEART", -1, pd.Timestamp("2011-12-06 10:00"),
                              2.5, 2, "France")], columns=COLUMNS).astype({"customer_id": "Int64"})
    users = metrics.monthly_active_users(pd.concat([transactions, returned], ignore_index=True), purchases)
    assert users.set_index("month").loc[DEC, ["active_customers", "buying_customers"]].tolist() == [3, 2]


def test_new_vs_existing(purchases: pd.DataFrame) -> None:
    split = metrics.new_vs_existing(purchases)
    # first months: 1 Sep, 2 Sep, 3 Oct, 4 Dec
    # Sep new {1, 2} ; Oct new {3}, existing {1} ; Nov existing {2} ; Dec new {4}, existing {1}
    assert split["new_customers"].tolist() == [2, 1, 0, 1]
    assert split["existing_customers"].tolist() == [0, 1, 1, 1]
    assert split["is_partial"].tolist() == [False, False, False, True]


def test_cohorts(purchases: pd.DataFrame) -> None:
    counts = metrics.cohort_counts(purchases)
    retention = metrics.cohort_retention(purchases)
    # Sep cohort {1, 2}: Oct {1}, Nov {2}, Dec {1}; Oct cohort {3}: never again, Jan 2012
    # unseen; no Nov cohort; Dec cohort {4}: later months unseen
    assert counts.index.tolist() == [SEP, OCT, DEC]
    assert counts.index.name == "cohort" and counts.columns.name == "months_since_first"
    assert counts.columns.tolist() == [0, 1, 2, 3]
    assert counts.loc[SEP].tolist() == [2, 1, 1, 1]
    assert counts.loc[OCT, [0, 1, 2]].tolist() == [1, 0, 0] and pd.isna(counts.loc[OCT, 3])
    assert counts.loc[DEC, 0] == 1 and counts.loc[DEC, [1, 2, 3]].isna().all()
    expected = np.array([[1.0, 0.5, 0.5, 0.5],
                         [1.0, 0.0, 0.0, np.nan],
                         [1.0, np.nan, np.nan, np.nan]])
    np.testing.assert_allclose(retention.to_numpy(dtype=float), expected)
    assert metrics.cohort_sizes(purchases).to_dict() == {SEP: 2, OCT: 1, DEC: 1}


def test_sales_by_country_net(purchases: pd.DataFrame, cancellations: pd.DataFrame) -> None:
    table = metrics.sales_by_country(purchases, cancellations, top=2)
    # UK 15 + 15 + 10 = 40 (cust 1) ; France 10 + 15 = 25 (cust 2) ;
    # Germany 30 - 10 = 20 (cust 3) ; EIRE 20 (cust 4) -> Other = 40, 2 customers; total 105
    assert table["country"].tolist() == ["United Kingdom", "France", "Other"]
    assert table["sales"].tolist() == [40.0, 25.0, 40.0]
    assert table["customers"].tolist() == [1, 1, 2]
    assert table["share_pct"].tolist() == pytest.approx([4000 / 105, 2500 / 105, 4000 / 105])
    assert table["share_pct"].sum() == pytest.approx(100.0)


def test_sales_by_country_gross(purchases: pd.DataFrame) -> None:
    table = metrics.sales_by_country(purchases, top=2)
    # gross: UK 40, Germany 30, France 25, EIRE 20 -> Other = 45; total 115
    assert table["country"].tolist() == ["United Kingdom", "Germany", "Other"]
    assert table["sales"].tolist() == [40.0, 30.0, 45.0]
    assert table["share_pct"].tolist() == pytest.approx([4000 / 115, 3000 / 115, 4500 / 115])
    everything = metrics.sales_by_country(purchases)  # 4 countries < top 10: no Other row
    assert "Other" not in everything["country"].tolist()
    assert everything["share_pct"].sum() == pytest.approx(100.0)


def test_basket_sizes(purchases: pd.DataFrame) -> None:
    baskets = metrics.basket_sizes(purchases).set_index("invoice_no")
    # lines / units: 536001 2/3, 536002 1/4, 536003 2/4, 536004 1/3, 536006 2/5,
    # 536008 1/2, 536009 1/2
    assert baskets["lines"].to_dict() == {"536001": 2, "536002": 1, "536003": 2, "536004": 1,
                                          "536006": 2, "536008": 1, "536009": 1}
    assert baskets["units"].to_dict() == {"536001": 3, "536002": 4, "536003": 4, "536004": 3,
                                          "536006": 5, "536008": 2, "536009": 2}
    summary = metrics.basket_summary(baskets.reset_index())
    # 7 invoices; lines 10 / 7, median 1; units 23 / 7, sorted 2 2 3 3 4 4 5 -> median 3
    assert summary.iloc[0].tolist() == pytest.approx([7, 10 / 7, 1.0, 23 / 7, 3.0])
    monthly = metrics.basket_summary(baskets.reset_index(), by_month=True)
    assert monthly["month"].tolist() == [SEP, OCT, NOV, DEC]
    assert monthly["invoices"].tolist() == [2, 2, 1, 2]
    assert monthly["mean_lines"].tolist() == [1.5, 1.5, 2.0, 1.0]
    assert monthly["median_units"].tolist() == [3.5, 3.5, 5.0, 2.0]


def test_headline_numbers(purchases: pd.DataFrame, cancellations: pd.DataFrame,
                          transactions: pd.DataFrame) -> None:
    head = metrics.headline_numbers(purchases, cancellations, transactions)
    assert head["period_start"] == pd.Timestamp("2011-09-01 10:00")
    assert head["period_end"] == pd.Timestamp("2011-12-09 12:50")
    assert head["months_covered"] == 4
    assert head["gross_revenue"] == pytest.approx(115.0)
    assert head["cancelled_revenue"] == pytest.approx(10.0)
    assert head["net_revenue"] == pytest.approx(105.0)
    assert head["customers"] == 4
    assert head["purchase_orders"] == 8           # 7 customer invoices + the guest's 536007
    assert head["cancelled_orders"] == 1
    assert head["invoices"] == 10                 # every distinct invoice, C and A included
    assert head["cancellation_rate_pct"] == pytest.approx(10.0)  # 1 / 10 * 100
    assert head["average_order_value"] == pytest.approx(115 / 7)
    assert head["last_month"] == DEC
    assert head["last_month_partial"] is True
    assert head["last_month_days"] == 9


def test_inputs_are_not_modified(purchases: pd.DataFrame, cancellations: pd.DataFrame,
                                 transactions: pd.DataFrame) -> None:
    before = purchases.copy(), cancellations.copy(), transactions.copy()
    metrics.headline_numbers(purchases, cancellations, transactions)
    metrics.monthly_sales(purchases, cancellations)
    metrics.cohort_retention(purchases)
    metrics.sales_by_country(purchases, cancellations)
    for frame, copy in zip((purchases, cancellations, transactions), before, strict=True):
        pd.testing.assert_frame_equal(frame, copy)


def test_month_without_sales_is_filled_and_not_divided_by(purchases: pd.DataFrame,
                                                          cancellations: pd.DataFrame) -> None:
    no_october = purchases[~purchases["invoice_no"].isin(["536003", "536004"])]
    sales = metrics.monthly_sales(no_october, cancellations.iloc[0:0])
    assert sales["month"].tolist() == [SEP, OCT, NOV, DEC]          # the gap is a row of zeros
    assert sales["net_sales"].tolist() == [25.0, 0.0, 15.0, 30.0]
    growth = sales["growth_pct"].tolist()
    assert growth[1] == -100.0                                      # (0 - 25) / 25 * 100
    assert math.isnan(growth[2])                                    # from zero: no percentage
