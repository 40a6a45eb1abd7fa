"""KPI tiles: each month against the same month a year before, on hand-checked months."""

from __future__ import annotations

import pandas as pd
import pytest

from lgs_analytics.dashboard import kpi


def months(values: dict[str, tuple[float, int, int, int]], partial: str | None = None) -> pd.DataFrame:
    """A monthly_figures frame: month -> (net_sales, orders, active_customers, new_customers)."""
    rows = [(pd.Period(m, "M"), *v, m == partial) for m, v in values.items()]
    return pd.DataFrame(rows, columns=["month", "net_sales", "orders", "active_customers", "new_customers",
                                       "is_partial"])


def test_monthly_figures_joins_the_builds_aggregates_by_month():
    month = pd.PeriodIndex(["2011-01", "2011-02"], freq="M")
    sales = pd.DataFrame({"month": month, "net_sales": [100.0, 250.5], "is_partial": [False, True]})
    orders = pd.DataFrame({"month": month, "placed": [3, 4], "cancelled": [1, 0]})
    active = pd.DataFrame({"month": month, "active_customers": [2, 3], "buying_customers": [2, 2]})
    new = pd.DataFrame({"month": month[:1], "new_customers": [2]})  # no new customer in February
    out = kpi.monthly_figures(sales, orders, active, new)
    assert out.to_dict("list") == {
        "month": list(month), "net_sales": [100.0, 250.5], "is_partial": [False, True], "orders": [3, 4],
        "active_customers": [2, 3], "new_customers": [2, 0]}


def test_the_latest_complete_month_is_compared_with_the_same_month_a_year_before():
    monthly = months({"2010-11": (1000.0, 10, 8, 4), "2010-12": (50.0, 1, 1, 1),
                      "2011-11": (1250.0, 8, 8, 0), "2011-12": (10.0, 1, 1, 0)}, partial="2011-12")
    tiles = {k.key: k for k in kpi.year_over_year(monthly)}
    assert set(tiles) == set(kpi.TILES)
    sales = tiles["net_sales"]
    assert (sales.month, sales.previous_month) == (pd.Period("2011-11", "M"), pd.Period("2010-11", "M"))
    assert (sales.value, sales.previous) == (1250.0, 1000.0)
    assert sales.change_pct == pytest.approx(25.0)
    assert tiles["orders"].change_pct == pytest.approx(-20.0)
    assert tiles["active_customers"].change_pct == 0
    assert tiles["new_customers"].change_pct == pytest.approx(-100.0)
    assert kpi.change_text(sales) == "+25.0% vs Nov 2010"
    assert kpi.change_text(tiles["orders"]) == "−20.0% vs Nov 2010"


def test_without_the_year_before_the_tile_says_so_instead_of_a_change():
    monthly = months({"2010-12": (500.0, 5, 5, 5), "2011-01": (400.0, 4, 4, 1)})
    (sales, *_rest) = kpi.year_over_year(monthly)
    assert sales.month == pd.Period("2011-01", "M") and sales.previous is None and sales.change_pct is None
    assert kpi.change_text(sales) == "no data for Jan 2010"


def test_a_zero_base_has_no_percentage():
    monthly = months({"2010-05": (0.0, 0, 0, 0), "2011-05": (10.0, 1, 1, 1)})
    sales = kpi.year_over_year(monthly)[0]
    assert sales.previous == 0 and sales.change_pct is None
    assert kpi.change_text(sales) == "none in May 2010"


def test_a_partial_last_month_is_never_the_tiles_month_and_all_partial_means_no_tiles():
    monthly = months({"2011-11": (100.0, 1, 1, 1), "2011-12": (5.0, 1, 1, 0)}, partial="2011-12")
    assert kpi.latest_full_month(monthly) == pd.Period("2011-11", "M")
    assert kpi.year_over_year(months({"2011-12": (5.0, 1, 1, 0)}, partial="2011-12")) == []
