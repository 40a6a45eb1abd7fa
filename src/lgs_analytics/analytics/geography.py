"""Where customers are: each export country as an ISO 3166 code and one of four regions, and where it
sits on the report's and the dashboard's tile map.

pycountry (ISO 3166, kept by the Debian iso-codes maintainers) names the countries; :data:`ALIASES`
holds the few spellings of the export it does not know. "European Community" and "Unspecified" say
nothing about where the customer is: they are ``unknown``, never guessed.

Pure: values in, frames out.
"""

from __future__ import annotations

from functools import cache

import pandas as pd
import pycountry

UK, EU, EUROPE, WORLD, UNKNOWN = "United Kingdom", "EU", "rest of Europe", "rest of the world", "unknown"
REGIONS = (UK, EU, EUROPE, WORLD, UNKNOWN)  # the order every table and chart lists them in

# The export's spellings that pycountry does not resolve (or resolves only by a guess): name -> ISO
# alpha-2, or None (no ISO code: the Channel Islands are two Crown dependencies, Guernsey and Jersey).
ALIASES: dict[str, str | None] = {
    "EIRE": "IE", "RSA": "ZA", "USA": "US", "UK": "GB", "Great Britain": "GB", "England": "GB",
    "Scotland": "GB", "Wales": "GB", "Northern Ireland": "GB", "Korea": "KR", "South Korea": "KR",
    "Czech Republic": "CZ", "Holland": "NL", "Channel Islands": None,
}
# Names that say nothing about the place: region ``unknown``.
UNKNOWN_NAMES = frozenset({"European Community", "Unspecified", ""})
# Places without one ISO code, and where they lie.
REGION_OF_UNCODED = {"Channel Islands": EUROPE, "West Indies": WORLD}
LABEL_OF_UNCODED = {"Channel Islands": "GG/JE", "West Indies": "WI"}  # their tiles' labels

# The 27 member states (2020 on: the United Kingdom is its own region whatever the date).
EU_CODES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split())
# Europe beyond the EU and the UK (UN geoscheme; Türkiye and the Caucasus count as Asia).
EUROPE_CODES = frozenset("AD AL BA BY CH FO GG GI IM IS JE LI MC MD ME MK NO RS RU SJ SM UA VA XK AX".split())

# The tile map: (column, row) of each country's square, Europe roughly in place, the rest of the
# world on the two rows below it, west to east. A choropleth needs country shapes, which the report
# (one self-contained file, built offline) has no source for; tiles of equal size also keep small
# countries (Malta, Cyprus, Bahrain) as visible as large ones.
TILES: dict[str, tuple[int, int]] = {
    "IS": (0, 0), "NO": (4, 0), "SE": (5, 0), "FI": (6, 0),
    "IE": (1, 1), "GB": (2, 1), "DK": (4, 1), "EE": (6, 1),
    "Channel Islands": (1, 2), "NL": (3, 2), "DE": (4, 2), "PL": (5, 2), "LV": (6, 2), "RU": (7, 2),
    "BE": (2, 3), "LU": (3, 3), "CZ": (4, 3), "SK": (5, 3), "LT": (6, 3), "BY": (7, 3),
    "PT": (0, 4), "FR": (2, 4), "CH": (3, 4), "AT": (4, 4), "HU": (5, 4), "UA": (6, 4),
    "ES": (1, 5), "IT": (3, 5), "SI": (4, 5), "HR": (5, 5), "RO": (6, 5), "MD": (7, 5),
    "MT": (3, 6), "BA": (4, 6), "RS": (5, 6), "BG": (6, 6),
    "ME": (4, 7), "MK": (5, 7), "GR": (6, 7), "CY": (7, 7), "AL": (3, 7),
    # the rest of the world, two rows under Europe, roughly west to east
    "CA": (0, 9), "US": (1, 9), "West Indies": (2, 9), "BM": (3, 9), "BR": (4, 9), "NG": (5, 9),
    "ZA": (6, 9), "IL": (7, 9), "LB": (8, 9),
    "SA": (0, 10), "AE": (1, 10), "BH": (2, 10), "TR": (3, 10), "SG": (4, 10), "TH": (5, 10),
    "HK": (6, 10), "KR": (7, 10), "JP": (8, 10), "AU": (9, 10), "NZ": (9, 9),
}
WORLD_ROW = 9  # rows from here on hold the rest of the world


@cache
def locate(country: str) -> tuple[str | None, str]:
    """(ISO 3166-1 alpha-2 code or None, region) of one export country name."""
    name = (country or "").strip()
    if name in UNKNOWN_NAMES:
        return None, UNKNOWN
    if name in ALIASES:
        code = ALIASES[name]
    else:
        try:
            code = pycountry.countries.lookup(name).alpha_2
        except LookupError:
            return None, REGION_OF_UNCODED.get(name, UNKNOWN)
    if code is None:
        return None, REGION_OF_UNCODED.get(name, UNKNOWN)
    return code, region_of(code)


def region_of(code: str) -> str:
    """The region of an ISO alpha-2 code."""
    if code == "GB":
        return UK
    if code in EU_CODES:
        return EU
    return EUROPE if code in EUROPE_CODES else WORLD


def unmapped(countries: pd.Series) -> list[str]:
    """The country names that neither pycountry nor the alias table place (region unknown though not
    declared unknown): what a new export would add to :data:`ALIASES`."""
    names = countries.dropna().astype(str).unique()
    return sorted(n for n in names if locate(n)[1] == UNKNOWN and n.strip() not in UNKNOWN_NAMES)


def geography(countries: pd.Series) -> pd.DataFrame:
    """``country_code`` (alpha-2, missing when none) and ``region`` for each country, same index."""
    located = {name: locate(name) for name in countries.dropna().astype(str).unique()}
    texts = countries.astype("string")
    codes = texts.map(lambda n: located[str(n)][0] if pd.notna(n) else None)
    regions = texts.map(lambda n: located[str(n)][1] if pd.notna(n) else UNKNOWN)
    return pd.DataFrame({"country_code": codes.astype("string"), "region": regions.astype("string")},
                        index=countries.index)


def tile_key(country: str) -> str | None:
    """The :data:`TILES` key of an export country: its ISO code, or its name for the uncoded places."""
    code, _ = locate(country)
    key = code if code is not None else (country or "").strip()
    return key if key in TILES else None


def by_country(campaign: pd.DataFrame) -> pd.DataFrame:
    """Customers and spend (GBP, net) by country, with code, region and tile position (``col``,
    ``row``; missing for the places the map has no tile for): what the map draws, biggest first."""
    rows = (campaign.assign(country=campaign["country"].fillna("Unspecified").astype(str))
            .groupby("country", sort=False).agg(customers=("customer_id", "size"), spend=("spend", "sum"))
            .reset_index())
    located = rows["country"].map(locate)
    rows["country_code"] = located.map(lambda pair: pair[0]).astype("string")
    rows["region"] = located.map(lambda pair: pair[1]).astype("string")
    tiles = rows["country"].map(lambda n: TILES.get(tile_key(n) or "", (None, None)))
    rows["col"] = tiles.map(lambda t: t[0]).astype("Int64")
    rows["row"] = tiles.map(lambda t: t[1]).astype("Int64")
    rows["label"] = rows["country_code"].fillna(rows["country"].map(LABEL_OF_UNCODED)).fillna("?")
    rows = rows.sort_values(["customers", "country"], ascending=[False, True], kind="stable")
    return rows.reset_index(drop=True)
