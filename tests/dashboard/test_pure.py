"""The dashboard's pure pieces on hand-checked fixtures: KPI tiles, filters, the R x F grid, access."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from lgs_analytics.dashboard import kpi, selection, serve
from lgs_analytics.dashboard.data import labels
from tests.analytics.test_campaign import listed


def monthly() -> pd.DataFrame:
    months = pd.period_range("2010-11", "2011-12", freq="M")
    frame = pd.DataFrame({"month": months, "net_sales": [100.0 + i for i in range(len(months))],
                          "orders": range(10, 10 + len(months)), "active_customers": 5, "new_customers": 1,
                          "is_partial": [False] * (len(months) - 1) + [True]})
    return frame


def test_tiles_compare_the_latest_complete_month_with_a_year_before():
    tiles = kpi.year_over_year(monthly())
    sales = next(t for t in tiles if t.key == "net_sales")
    assert sales.month == pd.Period("2011-11", "M")  # December 2011 is partial: not compared
    assert (sales.value, sales.previous) == (112.0, 100.0)
    assert kpi.change_text(sales) == "+12.0% vs Nov 2010"


def test_a_tile_without_a_year_before_says_so():
    short = monthly().iloc[5:]
    assert kpi.change_text(kpi.year_over_year(short)[0]) == "no data for Nov 2010"
    assert kpi.year_over_year(monthly().assign(is_partial=True)) == []


def people() -> pd.DataFrame:
    rows = listed()
    rows.insert(0, "customer", labels(rows["customer_id"], None))
    return rows


def test_filters_select_the_same_rows_a_reader_would():
    rows = people()
    pick = selection.select_customers
    assert list(pick(rows, selection.CustomerFilter(segments=("At Risk",)))["customer_id"]) == [2, 3]
    assert list(pick(rows, selection.CustomerFilter(search="eire"))["customer_id"]) == [3]
    rich_alerts = selection.CustomerFilter(churn_risk=True, spend=(2600, None))
    assert list(pick(rows, rich_alerts)["customer_id"]) == [2]
    assert list(pick(rows, selection.CustomerFilter(rf_cell=(5, 5)))["customer_id"]) == [1]
    recent = selection.CustomerFilter(last_order=(dt.date(2011, 11, 1), None))
    assert sorted(pick(rows, recent)["customer_id"]) == [1, 4]
    assert len(pick(rows, selection.CustomerFilter())) == 4  # no filter: everyone
    rows["due_status"] = pd.array(["due", "not yet", "overdue", None], dtype="string")
    assert list(pick(rows, selection.CustomerFilter(due_back=True))["customer_id"]) == [2, 1]


def test_the_grid_is_always_whole_and_adds_up():
    grid = selection.rf_grid(people())
    assert len(grid) == 25 and grid["customers"].sum() == 4
    cell = grid[(grid["r_score"] == 1) & (grid["f_score"] == 3)].iloc[0]
    assert (cell["customers"], cell["spend"], cell["segment"]) == (1, 3000.0, "At Risk")


def test_sliders_left_at_the_ends_do_not_filter():
    assert selection.open_bounds((0.0, 5000.0), (0.0, 5000.0)) == (None, None)
    assert selection.open_bounds((10.0, 5000.0), (0.0, 5000.0)) == (10.0, None)
    assert selection.span(pd.Series([1.2, 99.1, None])) == (1.0, 100.0)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_needs_no_password(host):
    serve.check_access(host, None)


def test_beyond_loopback_needs_a_real_password():
    with pytest.raises(ValueError, match="without a password; set LGS_DASHBOARD_PASSWORD"):
        serve.check_access("0.0.0.0", None)
    with pytest.raises(ValueError, match="at least 12 characters"):
        serve.check_access("0.0.0.0", "short")
    with pytest.raises(ValueError, match="placeholder"):
        serve.check_access("0.0.0.0", "change-me-please")
    with pytest.raises(ValueError, match="common password"):
        serve.check_access("127.0.0.1", "password1234")  # a password is checked on loopback too
    serve.check_access("0.0.0.0", "a-long-secret-Tq4")


def test_pseudonymised_labels_hide_the_ids():
    key = b"k" * 32
    shown = labels(pd.Series([12346, 14646]), key)
    assert shown.str.fullmatch(r"P[0-9a-f]{12}").all() and "12346" not in "".join(shown)


def test_the_campaigns_page_lists_each_campaign_with_its_result_or_says_how_to_record_one():
    from lgs_analytics.dashboard import pages
    from tests.report.test_sections import campaign_result

    shown = pages.campaigns_page([campaign_result("June win-back")]).objects[0].object
    assert "<b>June win-back</b>" in shown and "no measurable effect: +£9 per customer" in shown
    assert "measured on 90 day(s) to 2011-08-29" in shown
    empty = pages.campaigns_page([]).objects[0].object
    assert "No campaign is recorded with a control group yet" in empty and "--name" in empty


def test_a_flow_lists_its_customers_highest_spend_first():
    from lgs_analytics.analytics import history
    from tests.analytics.test_history import END, START, hand_history

    moves = history.moves(hand_history(), START, END)
    customers = pd.DataFrame({"customer_id": [1, 2, 3, 4, 5, 6], "customer": list("abcdef"),
                              "spend": [150.0, 170.0, 40.0, 10.0, 70.0, 105.0]})
    assert selection.flow_customers(customers, moves, "Champions", "At Risk")["customer"].tolist() == ["b"]
    new = selection.flow_customers(customers, moves, history.NOT_YET, "Promising")
    assert new["customer"].tolist() == ["c"]
    assert selection.flow_customers(customers, moves, "Champions", "Hibernating").empty
