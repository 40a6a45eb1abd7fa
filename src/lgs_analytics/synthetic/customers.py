"""A CRM attributes file for a generated export's customers: what `lgs load-customers` takes, so
every path (load, bands, breakdowns, suppression) runs without real CRM data. The real export comes
with none, and nothing here is ever written for it.

Plausible, not calibrated (no public CRM of LGS exists): ages of adult gift buyers (most 25-64),
about two women to one man with a few "other", UK postcodes in real postcode areas for UK customers
and a town abroad; some values missing as in any CRM, a few mistyped (they go to quarantine), and an
e-mail column the loader drops unread. The file's name says "synthetic", as the export's does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lgs_analytics.ingest.formats import SYNTHETIC_MARK
from lgs_analytics.outputs import replacing

AGE_WEIGHTS = {(18, 25): 0.07, (25, 35): 0.19, (35, 45): 0.23, (45, 55): 0.23, (55, 65): 0.17,
               (65, 75): 0.08, (75, 90): 0.03}
GENDERS = (("F", 0.58), ("M", 0.30), ("X", 0.02), ("", 0.10))
# UK postcode areas, weighted roughly by population (London's first).
UK_AREAS = ("SW", "SE", "N", "E", "W", "NW", "B", "M", "LS", "BS", "G", "EH", "CF", "NG", "S", "L", "OX",
            "CB", "BN", "GU", "RG", "TN", "ME", "CT", "PO", "SO", "BH", "EX", "PL", "TR")
# A town abroad, by the customer's country (none for the others: their place is left blank).
TOWNS = {"France": "Paris", "Germany": "Berlin", "Spain": "Madrid", "Portugal": "Lisbon",
         "Netherlands": "Amsterdam", "Belgium": "Brussels", "Norway": "Oslo", "Sweden": "Stockholm",
         "Switzerland": "Zurich", "Austria": "Vienna", "Denmark": "Copenhagen", "Finland": "Helsinki",
         "Italy": "Milan", "Australia": "Sydney", "Japan": "Tokyo", "USA": "New York", "EIRE": "Dublin",
         "Cyprus": "Nicosia", "Poland": "Warsaw", "Greece": "Athens", "Canada": "Toronto"}
MISSING = {"birth": 0.15, "place": 0.08}
MISTYPED = 0.004  # a birth date that is not a date: what the loader's quarantine is for


def customer_attributes(sheets: dict[str, pd.DataFrame], seed: int = 0) -> pd.DataFrame:
    """One row per customer of the generated export: CustomerID, BirthDate (or a year alone),
    Gender, Postcode (UK customers) or City (abroad), Email (dropped by the loader)."""
    rows = pd.concat([s[["Customer ID", "Country"]] for s in sheets.values()], ignore_index=True).dropna()
    people = rows.drop_duplicates("Customer ID", keep="last").sort_values("Customer ID")
    ids = people["Customer ID"].astype("int64").to_numpy()
    uk = (people["Country"] == "United Kingdom").to_numpy()
    rng = np.random.default_rng(seed + 7919)
    n = len(ids)
    spans = list(AGE_WEIGHTS)
    pick = rng.choice(len(spans), size=n, p=np.array(list(AGE_WEIGHTS.values())) / sum(AGE_WEIGHTS.values()))
    ages = np.array([rng.integers(*spans[i]) for i in pick])
    born = pd.Timestamp("2026-12-01") - pd.to_timedelta(ages * 365.25 + rng.integers(0, 365, n), unit="D")
    birth = pd.Series(born.strftime("%Y-%m-%d"), dtype=object)
    year_only = rng.random(n) < 0.2
    birth[year_only] = born[year_only].year.astype(str)
    birth[rng.random(n) < MISSING["birth"]] = ""
    birth[rng.random(n) < MISTYPED] = "not known yet"
    gender = rng.choice([g for g, _ in GENDERS], size=n, p=[w for _, w in GENDERS])
    area = rng.choice(UK_AREAS, size=n, p=_zipf(len(UK_AREAS)))
    postcodes = [f"{a}{rng.integers(1, 20)} {rng.integers(1, 10)}{_letters(rng)}" for a in area]
    postcode = np.where(uk, postcodes, "")
    city = np.where(uk, "", people["Country"].map(TOWNS).fillna("").to_numpy())
    no_place = rng.random(n) < MISSING["place"]
    postcode[no_place], city[no_place] = "", ""
    return pd.DataFrame({"CustomerID": ids, "BirthDate": birth.to_numpy(), "Gender": gender,
                         "Postcode": postcode, "City": city,
                         "Email": [f"customer{i}@example.invalid" for i in ids]})


def _zipf(n: int) -> np.ndarray:
    weights = 1 / np.arange(1, n + 1) ** 0.8
    return weights / weights.sum()


def _letters(rng: np.random.Generator) -> str:
    return "".join(rng.choice(list("ABDEFGHJLNPQRSTUWXYZ"), size=2))


def check_attributes_path(path: Path) -> None:
    """Raise a one-line ValueError unless ``path`` is a .csv whose name says "synthetic"."""
    if path.suffix.lower() != ".csv":
        raise ValueError(f"--customers must end in .csv (got '{path.suffix or path.name}')")
    if SYNTHETIC_MARK not in path.name.lower():
        raise ValueError(f"a generated attributes file's name must contain '{SYNTHETIC_MARK}': use e.g. "
                         f"{path.with_name(f'{path.stem}_{SYNTHETIC_MARK}{path.suffix}')}")


def write_attributes(frame: pd.DataFrame, path: Path) -> None:
    """Write the attributes as CSV; the name must say "synthetic", as a generated export's must."""
    path = Path(path)
    check_attributes_path(path)
    with replacing(path) as partial:
        frame.to_csv(partial, index=False)
