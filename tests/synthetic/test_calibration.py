"""The calibrated shape: a full-size export's second sheet against the real 2010-2011 file.

The real figures were measured on ../shared/data/online_retail_2010_2011.csv.gz with the definitions
of bench/fidelity.py (which prints the whole comparison); the tolerances hold for seeds 0 to 4.
"""

from __future__ import annotations

import pandas as pd
import pytest

from lgs_analytics.analytics.clean import CleanResult
from lgs_analytics.analytics.rfm import rfm_standard
from lgs_analytics.config import DB_COLUMNS, SHEET_NAMES
from lgs_analytics.jobs.build import clean_frame
from lgs_analytics.synthetic import generate_export

REAL_2010_2011 = {
    "price quantiles (all rows)": (2.08, 9.95, 18.00),
    "price quantiles (customers' product lines)": (1.95, 8.50, 12.75),
    "UK share of net sales %": 82.30, "cancelled value % of gross": 5.40, "units per basket": 279.4,
    "lines per hour %": {8: 1.64, 9: 6.34, 10: 9.05, 11: 10.64, 12: 14.52, 13: 13.33, 14: 12.45, 15: 14.30,
                         16: 10.06, 17: 5.26, 18: 1.47, 19: 0.68, 20: 0.16},
    "invoices at 17 h %": 4.65, "cancellation-only customers %": 0.75,
    "segments %": {"Hibernating": 22.34, "At Risk": 16.01, "Loyal Customers": 15.87, "Champions": 13.87,
                   "Potential Loyalists": 11.17, "Need Attention": 6.92, "About to Sleep": 6.90,
                   "Promising": 3.95, "New Customers": 1.55, "Can't Lose": 1.43},
    "rows without customer %": 24.93, "exact duplicates %": 0.97, "cancellation invoices %": 14.81,
    "countries": 38, "customers": 4_372,
}


@pytest.fixture(scope="module")
def year_2010_2011() -> pd.DataFrame:
    """The second sheet of a full-size export (the real file's period), in the package's column names."""
    sheet = generate_export(seed=2)[SHEET_NAMES[1]]
    return sheet.set_axis(list(DB_COLUMNS), axis=1)


@pytest.fixture(scope="module")
def cleaned(year_2010_2011, rules_db) -> CleanResult:
    """Its purchases and cancellations after the package's cleaning (repeats = identical earlier rows)."""
    return clean_frame(year_2010_2011.assign(is_repeat=year_2010_2011.duplicated().to_numpy()), rules_db)


def test_prices_are_the_real_price_points(year_2010_2011, cleaned):
    # Median, 95th and 99th percentile within 6% (one price point either way at the 99th).
    for prices, name in ((year_2010_2011["unit_price"], "all rows"),
                         (cleaned.purchases["unit_price"], "customers' product lines")):
        real = REAL_2010_2011[f"price quantiles ({name})"]
        assert prices.quantile([0.5, 0.95, 0.99]).tolist() == pytest.approx(real, rel=0.06)


def test_abroad_buys_its_real_share_and_baskets_their_real_size(cleaned):
    purchases, cancellations = cleaned.purchases, cleaned.cancellations
    net = purchases.groupby("country")["line_total"].sum().add(
        cancellations.groupby("country")["line_total"].sum(), fill_value=0)
    assert 100 * net["United Kingdom"] / net.sum() == pytest.approx(REAL_2010_2011["UK share of net sales %"],
                                                                   abs=2.5)
    units = purchases.groupby("invoice_no")["quantity"].sum().mean()
    assert units == pytest.approx(REAL_2010_2011["units per basket"], rel=0.08)


def test_cancelled_value_is_the_real_share_of_gross_sales(cleaned):
    # The two record orders (80,995 and 74,215 units, cancelled minutes later) are half of it, as in the
    # real file: both fall in this sheet at their real times.
    cancelled = -cleaned.cancellations["line_total"].sum() / cleaned.purchases["line_total"].sum()
    assert 100 * cancelled == pytest.approx(REAL_2010_2011["cancelled value % of gross"], abs=0.7)
    records = cleaned.purchases[cleaned.purchases["quantity"] >= 50_000]
    assert sorted(records["invoice_date"].astype(str)) == ["2011-01-18 10:01:00", "2011-12-09 09:15:00"]


def test_invoices_come_at_the_real_hours(year_2010_2011):
    # Share of lines per hour within 2 points (1 at 17 h); of invoices at 17 h within 0.7.
    hours = year_2010_2011["invoice_date"].dt.hour.value_counts(normalize=True) * 100
    for hour, share in REAL_2010_2011["lines per hour %"].items():
        assert hours.get(hour, 0.0) == pytest.approx(share, abs=1.0 if hour == 17 else 2.0), hour
    first = year_2010_2011.groupby("invoice_no")["invoice_date"].min().dt.hour
    assert 100 * (first == 17).mean() == pytest.approx(REAL_2010_2011["invoices at 17 h %"], abs=0.7)


def test_some_customers_only_cancel(year_2010_2011):
    # Returns of goods bought before the sheet starts: 33 of the real file's 4,372 customers (0.75%).
    known = year_2010_2011[year_2010_2011["customer_id"].notna()]
    only = known.groupby("customer_id")["invoice_no"].agg(lambda s: s.str.startswith("C").all())
    assert 0.35 <= 100 * only.mean() <= 1.2


def test_rfm_segments_come_out_in_the_real_shares(cleaned):
    # Standard RFM: every segment within 2.5 points, At Risk and Need Attention within 2.
    shares = rfm_standard(cleaned.purchases, cleaned.cancellations)["segment"].value_counts(normalize=True)
    for segment, real in REAL_2010_2011["segments %"].items():
        tolerance = 2.0 if segment in ("At Risk", "Need Attention") else 2.5
        assert 100 * shares.get(segment, 0.0) == pytest.approx(real, abs=tolerance), segment


def test_the_second_sheet_has_the_real_quirks(year_2010_2011):
    sheet = year_2010_2011
    invoices = pd.Series(sheet["invoice_no"].unique())
    assert 100 * sheet["customer_id"].isna().mean() == pytest.approx(
        REAL_2010_2011["rows without customer %"], abs=1.0)
    assert 100 * sheet.duplicated().mean() == pytest.approx(REAL_2010_2011["exact duplicates %"], abs=0.15)
    assert 100 * invoices.str.startswith("C").mean() == pytest.approx(
        REAL_2010_2011["cancellation invoices %"], abs=0.8)
    assert sheet["country"].nunique() == REAL_2010_2011["countries"]  # Korea, Nigeria, ... only in the first
    assert sheet["customer_id"].nunique() == pytest.approx(REAL_2010_2011["customers"], rel=0.05)
