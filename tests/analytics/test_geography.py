"""Countries as ISO codes and regions: pycountry plus the alias table, on the real file's names."""

from __future__ import annotations

import pandas as pd

from lgs_analytics.analytics import geography

# The 38 country names of the full real 2010-2011 file (../shared/data/online_retail_2010_2011.csv.gz),
# five of which pycountry alone does not place: Channel Islands, EIRE, European Community, RSA, Unspecified.
REAL_COUNTRIES = (
    "Australia", "Austria", "Bahrain", "Belgium", "Brazil", "Canada", "Channel Islands", "Cyprus",
    "Czech Republic", "Denmark", "EIRE", "European Community", "Finland", "France", "Germany", "Greece",
    "Hong Kong", "Iceland", "Israel", "Italy", "Japan", "Lebanon", "Lithuania", "Malta", "Netherlands",
    "Norway", "Poland", "Portugal", "RSA", "Saudi Arabia", "Singapore", "Spain", "Sweden", "Switzerland",
    "USA", "United Arab Emirates", "United Kingdom", "Unspecified",
)


def test_the_aliases_and_pycountry_place_every_country_of_the_real_file(real_2010_2011):
    path, _ = real_2010_2011
    names = pd.read_csv(path, usecols=["Country"])["Country"].drop_duplicates()
    assert set(names) <= set(REAL_COUNTRIES)  # the vendored sample holds some of them, the full file all
    assert geography.unmapped(names) == []
    assert geography.unmapped(pd.Series(REAL_COUNTRIES)) == []
    for name in REAL_COUNTRIES:  # every placed country has a tile on the map
        if geography.locate(name)[1] != geography.UNKNOWN:
            assert geography.tile_key(name) is not None, name


def test_the_export_spellings_get_their_iso_code_and_region():
    assert geography.locate("EIRE") == ("IE", geography.EU)
    assert geography.locate("RSA") == ("ZA", geography.WORLD)
    assert geography.locate("USA") == ("US", geography.WORLD)
    assert geography.locate("United Kingdom") == ("GB", geography.UK)
    assert geography.locate("Channel Islands") == (None, geography.EUROPE)
    assert geography.locate("Switzerland") == ("CH", geography.EUROPE)
    assert geography.locate("Czech Republic") == ("CZ", geography.EU)
    assert geography.locate("European Community") == (None, geography.UNKNOWN)
    assert geography.locate("Unspecified") == (None, geography.UNKNOWN)
    assert geography.unmapped(pd.Series(["Narnia", "France"])) == ["Narnia"]


def test_by_country_counts_customers_and_spend_and_places_the_tiles():
    campaign = pd.DataFrame({"customer_id": [1, 2, 3, 4],
                             "country": ["EIRE", "EIRE", "France", "Unspecified"],
                             "spend": [10.0, 5.0, 7.5, 1.0]})
    rows = geography.by_country(campaign).set_index("country")
    assert rows.loc["EIRE", "customers"] == 2 and rows.loc["EIRE", "spend"] == 15.0
    assert (rows.loc["EIRE", "col"], rows.loc["EIRE", "row"]) == geography.TILES["IE"]
    assert rows.loc["EIRE", "label"] == "IE"
    assert pd.isna(rows.loc["Unspecified", "col"])  # no place, no tile
