"""The synthetic export generator: contract (sheets, columns, types), the real file's quirks at
their real rates, a buy-till-you-die customer base, determinism.

Rates are checked on one 60,000-row export against the real figures (DESIGN.md, "The data
contract"); each tolerance is stated next to its check. The calibrated shape of a full-size export
is test_calibration's; the files, test_writers'.
"""

from __future__ import annotations

import pandas as pd
import pytest

from lgs_analytics.config import EXPORT_COLUMNS, REAL_ROW_COUNT, SHEET_NAMES
from lgs_analytics.synthetic import SPECIALS, generate_export

ROWS = 60_000


@pytest.fixture(scope="module")
def sheets() -> dict[str, pd.DataFrame]:
    return generate_export(rows=ROWS, seed=11)


@pytest.fixture(scope="module")
def stacked(sheets) -> pd.DataFrame:
    """Both sheets stacked, as in the CSV export (the overlap counted twice)."""
    return pd.concat(list(sheets.values()), ignore_index=True)


def real_rate(count: int) -> float:
    return count / REAL_ROW_COUNT


def test_same_seed_same_export_and_other_seeds_differ():
    first, again = generate_export(2_000, seed=3), generate_export(2_000, seed=3)
    other = generate_export(2_000, seed=4)
    for name in SHEET_NAMES:
        pd.testing.assert_frame_equal(first[name], again[name])
    assert not all(first[n].equals(other[n]) for n in SHEET_NAMES)


@pytest.mark.parametrize("rows", [100, 101, 137, 1_234, 9_999])
def test_exact_row_count_at_any_size(rows):
    assert sum(len(s) for s in generate_export(rows, seed=rows).values()) == rows


def test_sheets_columns_and_types(sheets, stacked):
    assert list(sheets) == list(SHEET_NAMES)
    assert sum(len(s) for s in sheets.values()) == ROWS
    # The first sheet holds 525,461 of the real 1,067,371 rows.
    assert len(sheets[SHEET_NAMES[0]]) / ROWS == pytest.approx(525_461 / REAL_ROW_COUNT, abs=0.01)
    for frame in sheets.values():
        assert list(frame.columns) == list(EXPORT_COLUMNS)
        assert pd.api.types.is_integer_dtype(frame["Quantity"])
        assert pd.api.types.is_datetime64_dtype(frame["InvoiceDate"])
        assert pd.api.types.is_float_dtype(frame["Price"])
        assert pd.api.types.is_float_dtype(frame["Customer ID"])  # NaN when missing, like the real file
        assert frame["InvoiceDate"].is_monotonic_increasing
    assert stacked["Invoice"].str.fullmatch(r"[CA]?\d{6}").all()
    assert stacked["StockCode"].notna().all() and stacked["Country"].notna().all()
    when = stacked["InvoiceDate"]
    assert (when.dt.second == 0).all()
    assert when.min() >= pd.Timestamp("2009-12-01 07:45") and when.max() <= pd.Timestamp("2011-12-09 12:50")


def test_an_invoice_has_one_customer_country_and_time(stacked):
    per_invoice = stacked.groupby("Invoice").agg(
        customers=("Customer ID", lambda s: s.nunique(dropna=False)),
        countries=("Country", "nunique"), times=("InvoiceDate", "nunique"))
    assert (per_invoice == 1).all().all()


def test_quirks_at_the_real_rates(stacked):
    n = len(stacked)
    # 243,007 rows (22.8%) without a Customer ID: +-1.5 points.
    assert stacked["Customer ID"].isna().mean() == pytest.approx(real_rate(243_007), abs=0.015)
    # 4,382 rows without a description: +-0.1 points; all of them zero-price write-offs.
    blank = stacked[stacked["Description"].isna()]
    assert len(blank) / n == pytest.approx(real_rate(4_382), abs=0.001)
    assert (blank["Price"] == 0).all() and blank["Customer ID"].isna().all()
    # 34,335 exact duplicate rows (repeats inside invoices plus the overlap): +-0.5 points.
    assert stacked.duplicated().mean() == pytest.approx(real_rate(34_335), abs=0.005)
    # About 19.5k rows on cancellation invoices: +-0.4 points.
    cancelled = stacked["Invoice"].str.startswith("C")
    assert cancelled.mean() == pytest.approx(real_rate(19_500), abs=0.004)
    assert (stacked.loc[cancelled, "Quantity"] < 0).all()
    # 981,330 rows (~92%) from the United Kingdom: +-2.5 points.
    assert (stacked["Country"] == "United Kingdom").mean() == pytest.approx(real_rate(981_330), abs=0.025)
    assert {"United Kingdom", "EIRE", "Unspecified"} <= set(stacked["Country"])
    assert 28 <= stacked["Country"].nunique() <= 43  # the real 43: one customer each, biggest first
    assert (stacked["Price"] == 0).any()


def test_all_43_countries_once_there_are_enough_customers():
    countries = pd.concat(list(generate_export(200_000, seed=1).values()))["Country"]
    assert countries.nunique() == 43
    assert {"Unspecified", "EIRE", "RSA", "European Community"} <= set(countries)


def test_distinct_invoices_and_customers_scale_with_rows(stacked):
    scale = ROWS / REAL_ROW_COUNT
    invoices = stacked["Invoice"].drop_duplicates()
    # 53,628 distinct invoices, 8,292 of them cancellations, 5,942 customers: +-15%.
    assert len(invoices) == pytest.approx(53_628 * scale, rel=0.15)
    assert invoices.str.startswith("C").sum() == pytest.approx(8_292 * scale, rel=0.15)
    assert stacked["Customer ID"].nunique() == pytest.approx(5_942 * scale, rel=0.15)


def test_non_product_codes_bad_debts_and_outliers(stacked):
    assert {s[0] for s in SPECIALS} <= set(stacked["StockCode"])
    bad_debt = stacked[stacked["Invoice"].str.startswith("A")]
    assert len(bad_debt) >= 1
    assert (bad_debt["StockCode"] == "B").all() and (bad_debt["Price"] < 0).all()
    assert (bad_debt["Description"] == "Adjust bad debt").all()
    # A huge order cancelled the same day by a "C" invoice with the quantity negated.
    big = stacked[stacked["Quantity"] >= 50_000].iloc[0]
    undo = stacked[(stacked["Quantity"] == -big["Quantity"]) & (stacked["StockCode"] == big["StockCode"])]
    assert len(undo) >= 1 and undo["Invoice"].str.startswith("C").all()
    assert (undo["InvoiceDate"].dt.date == big["InvoiceDate"].date()).all()


def test_cancellations_refer_to_products_the_customer_bought_before(stacked):
    lines = stacked[stacked["StockCode"].str.fullmatch(r"\d{5}[A-Z]?")]
    cancels = lines[lines["Invoice"].str.startswith("C")]
    bought = lines[~lines["Invoice"].str.startswith(("C", "A"))]
    pairs = cancels.merge(bought, on=["Customer ID", "StockCode"], suffixes=("", "_buy"))
    earlier = pairs[pairs["InvoiceDate_buy"] <= pairs["InvoiceDate"]]
    assert earlier[["Invoice", "StockCode"]].drop_duplicates().shape[0] == \
        cancels[["Invoice", "StockCode"]].drop_duplicates().shape[0]


def test_calendar_no_saturdays_and_november_peaks(stacked):
    when = stacked["InvoiceDate"]
    assert not (when.dt.day_of_week == 5).any()
    rows = stacked.drop_duplicates().groupby(when.dt.to_period("M")).size()
    for year in (2010, 2011):
        assert rows[rows.index.year == year].idxmax() == pd.Period(f"{year}-11", "M")


def test_sheets_overlap_on_1_to_9_december_2010(sheets):
    first, second = sheets[SHEET_NAMES[0]], sheets[SHEET_NAMES[1]]
    assert first["InvoiceDate"].max() < pd.Timestamp("2010-12-10")
    assert second["InvoiceDate"].min() >= pd.Timestamp("2010-12-01")
    tail = first[first["InvoiceDate"] >= pd.Timestamp("2010-12-01")].reset_index(drop=True)
    head = second[second["InvoiceDate"] < pd.Timestamp("2010-12-10")].reset_index(drop=True)
    assert len(tail) > 0
    pd.testing.assert_frame_equal(tail, head)


def test_customer_ids_are_five_digits_in_the_real_range(stacked):
    ids = stacked["Customer ID"].dropna()
    assert (ids == ids.round()).all()
    assert ids.between(12_346, 18_287).all()


def test_customers_buy_till_they_die(stacked):
    purchases = stacked[~stacked["Invoice"].str.startswith(("C", "A"))].dropna(subset=["Customer ID"])
    per_customer = purchases.groupby("Customer ID")["Invoice"].nunique()
    # Right-skewed: most customers buy a few times, a few buy very often; many buy only once.
    assert per_customer.median() <= 4  # 3 at full size, as in the real data
    assert per_customer.max() >= 10 * per_customer.median()
    assert 0.15 <= (per_customer == 1).mean() <= 0.5

