"""The Who page's tile map data: every tile, counts under ten suppressed, and no figure about them."""

from __future__ import annotations

import pandas as pd

from lgs_analytics.analytics import geography
from lgs_analytics.dashboard.who import FEW, map_data


def test_the_map_suppresses_small_countries_and_colours_the_rest_by_sales():
    campaign = pd.DataFrame({
        "customer_id": range(26),
        "country": ["United Kingdom"] * 12 + ["France"] * 11 + ["EIRE"] * 2 + ["Unspecified"],
        "spend": [1000.0] * 12 + [50.0] * 11 + [5.0, 1.0] + [3.0]})
    data = pd.DataFrame(map_data(geography.by_country(campaign))).set_index("country")
    assert len(map_data(geography.by_country(campaign))["x"]) == len(geography.TILES)  # every tile drawn
    assert data.loc["United Kingdom", "customers"] == "12"
    assert data.loc["United Kingdom", "sales"] == "£12,000"
    assert data.loc["France", "sales"] == "£550"
    assert data.loc["EIRE", "customers"] == "<10" and data.loc["EIRE", "sales"] == "<10"  # two people
    assert data.loc["EIRE", "color"] == FEW and data.loc["EIRE", "label"] == "IE\n<10"
    assert data.loc["United Kingdom", "color"] != data.loc["France", "color"]  # sales differ, so do shades
