"""Generalising CRM attributes, and breakdowns that suppress every cell of fewer than ten customers."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from lgs_analytics.analytics import demographics as dm
from lgs_analytics.privacy import SUPPRESSED, is_suppressed_safe

ON = dt.date(2026, 12, 7)


def test_birth_dates_and_years_become_age_bands():
    assert dm.age_band(dm.age_of("1990-12-08", ON)) == "35-44"  # 36: the birthday is tomorrow
    assert dm.age_of("1990-12-07", ON) == 36 and dm.age_of("08/12/1990", ON) == 35
    assert dm.age_band(dm.age_of("1950", ON)) == "75+" and dm.age_band(17) == "under 18"
    assert dm.age_band(18) == "18-24" and dm.age_band(64) == "55-64"
    for bad in ("next year", "1850-01-01", "2031"):
        with pytest.raises(dm.AttributeRefused):
            dm.age_of(bad, ON)


def test_gender_postcode_and_town_are_generalised_or_refused():
    assert [dm.gender_category(g) for g in ("F", "male", "Non-binary", "prefer not to say")] == [
        "female", "male", "other", None]
    assert dm.postcode_area("sw1a 1aa") == "SW" and dm.postcode_area("M1 1AE") == "M"
    assert dm.postcode_area("EC1A") == "EC"  # the outward half alone
    assert dm.town(" new  york ") == "New York"
    for bad, call in (("12345", dm.postcode_area), ("maybe", dm.gender_category), ("=cmd|x", dm.town)):
        with pytest.raises(dm.AttributeRefused):
            call(bad)
    assert dm.generalise("1980", "", "B1 1BB", "Leeds", ON) == ("45-54", None, "B")  # the postcode wins


def campaign() -> pd.DataFrame:
    bands = ["25-34"] * 25 + ["35-44"] * 12 + ["65-74"] * 3 + [None] * 10
    segment = (["Champions"] * 15 + ["At Risk"] * 10 + ["Champions"] * 12 + ["At Risk"] * 3
               + ["Hibernating"] * 10)
    return pd.DataFrame({"customer_id": range(50), "age_band": bands, "segment": segment,
                         "spend": [100.0] * 50, "churn_risk": [True] * 11 + [False] * 39})


def test_breakdown_suppresses_every_cell_under_ten_and_what_it_gives_away():
    table = dm.breakdown(campaign(), "age_band").set_index("Age band")
    assert list(table.index) == ["25-34", "35-44", "65-74", "not known"]
    assert table.loc["25-34", "customers"] == "25" and table.loc["25-34", "Champions"] == "15"
    assert table.loc["25-34", "At Risk"] == "10" and table.loc["25-34", "churn_alerts"] == "11"
    assert table.loc["25-34", "spend_gbp"] == "£2,500"
    assert table.loc["35-44", "At Risk"] == SUPPRESSED  # zero is under ten too
    assert table.loc["35-44", "churn_alerts"] == SUPPRESSED == table.loc["35-44", "churn_alert_rate"]
    assert (table.loc["65-74"] == SUPPRESSED).all()  # three people: no figure about them at all
    assert is_suppressed_safe(table, ("customers", "churn_alerts", "Champions", "At Risk", "Hibernating"))


def test_small_areas_are_folded_into_one_row():
    listed = campaign().assign(area=["SW"] * 12 + ["M"] * 4 + ["B"] * 3 + ["LS"] * 3 + [None] * 28)
    table = dm.breakdown(listed, "area").set_index("Area")
    assert list(table.index) == ["SW", dm.OTHER_PLACES, "not known"]
    assert table.loc["SW", "customers"] == "12" and table.loc[dm.OTHER_PLACES, "customers"] == "10"
