"""Customer filters and the R x F grid, on six hand-made customers."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from lgs_analytics.dashboard.selection import CustomerFilter, open_bounds, rf_grid, select_customers, span


@pytest.fixture
def customers() -> pd.DataFrame:
    return pd.DataFrame({
        "customer": pd.array(["12346", "12347", "12348", "12349", "12350", "13085"], dtype="string"),
        "customer_id": [12346, 12347, 12348, 12349, 12350, 13085],
        "segment": ["At Risk", "Champions", "At Risk", "Hibernating", "Champions", "Can't Lose"],
        "country": pd.array(["United Kingdom", "Germany", "France", "Germany", None, "EIRE"], dtype="string"),
        "r_score": [2, 5, 1, 1, 5, 2], "f_score": [3, 5, 4, 1, 4, 5],
        "spend": [100.0, 5000.0, -20.0, 40.0, 900.0, 3000.0],
        "clv_12m": [10.0, 800.0, None, 1.0, 300.0, 50.0],
        "churn_risk": [True, False, False, False, False, True],
        "last_order": pd.to_datetime(["2011-03-01", "2011-12-08", "2011-01-15", "2010-12-05", "2011-11-30",
                                      "2011-06-30"]),
    })


def ids(frame: pd.DataFrame) -> list[int]:
    return frame["customer_id"].tolist()


def test_no_filter_keeps_everyone_in_order(customers):
    assert ids(select_customers(customers, CustomerFilter())) == ids(customers)


def test_each_filter_alone(customers):
    pick = lambda **kw: ids(select_customers(customers, CustomerFilter(**kw)))  # noqa: E731
    assert pick(segments=("At Risk",)) == [12346, 12348]
    assert pick(segments=("At Risk", "Can't Lose")) == [12346, 12348, 13085]
    assert pick(countries=("Germany",)) == [12347, 12349]
    assert pick(churn_risk=True) == [12346, 13085]
    assert pick(rf_cell=(5, 4)) == [12350]
    assert pick(spend=(0.0, 1000.0)) == [12346, 12349, 12350]
    assert pick(spend=(None, 0.0)) == [12348]  # a net refund is below zero
    assert pick(clv=(50.0, None)) == [12347, 12350, 13085]  # no CLV: not within any CLV range
    assert pick(last_order=(dt.date(2011, 6, 30), None)) == [12347, 12350, 13085]  # both ends inclusive
    assert pick(last_order=(None, dt.date(2011, 1, 15))) == [12348, 12349]


def test_search_matches_part_of_the_id_or_the_country_in_any_case(customers):
    assert ids(select_customers(customers, CustomerFilter(search="1234"))) == [12346, 12347, 12348, 12349]
    assert ids(select_customers(customers, CustomerFilter(search=" eire "))) == [13085]
    assert ids(select_customers(customers, CustomerFilter(search="germ"))) == [12347, 12349]


def test_filters_combine_with_and(customers):
    chosen = CustomerFilter(segments=("Champions",), countries=("Germany",), spend=(1000.0, None))
    assert ids(select_customers(customers, chosen)) == [12347]
    assert select_customers(customers, CustomerFilter(segments=("Champions",), churn_risk=True)).empty


def test_the_grid_has_all_25_cells_with_their_segment_and_counts(customers):
    grid = rf_grid(customers)
    assert len(grid) == 25 and grid["customers"].sum() == len(customers)
    cell = grid.set_index(["r_score", "f_score"])
    assert cell.loc[(5, 5), "segment"] == "Champions" and cell.loc[(5, 5), "customers"] == 1
    assert cell.loc[(1, 4), "segment"] == "At Risk" and cell.loc[(1, 4), "spend"] == -20.0
    assert cell.loc[(3, 3), "segment"] == "Need Attention" and cell.loc[(3, 3), "customers"] == 0


def test_the_grid_names_the_cells_by_the_builds_own_rules(customers):
    from lgs_analytics.analytics.segment_rules import parse_rules
    from tests.analytics.test_segment_rules import SPLIT_TEXT

    cell = rf_grid(customers, parse_rules(SPLIT_TEXT)).set_index(["r_score", "f_score"])["segment"]
    assert cell.loc[(1, 1)] == cell.loc[(1, 2)] == "Lost" and cell.loc[(2, 1)] == "Hibernating"
    assert cell.loc[(5, 5)] == "Champions"


def test_a_slider_end_left_at_the_datas_end_does_not_filter():
    assert span(pd.Series([-20.4, 5000.2, None])) == (-21.0, 5001.0)
    assert span(pd.Series([None], dtype=float)) == (0.0, 0.0)
    assert open_bounds((-21.0, 5001.0), (-21.0, 5001.0)) == (None, None)
    assert open_bounds((0.0, 5001.0), (-21.0, 5001.0)) == (0.0, None)
    assert open_bounds((-21.0, 100.0), (-21.0, 5001.0)) == (None, 100.0)
