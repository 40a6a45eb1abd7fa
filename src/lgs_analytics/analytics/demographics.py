"""Who the customers are, generalised: the CRM's birth dates, genders and postcodes reduced to an age
band, a gender category and a postcode area before anything is stored, and the breakdowns of
segments, spend and churn by them, with every cell of fewer than ten customers suppressed
(privacy.suppress_small_cells).

The rules (one place): an age band on the day the attributes are loaded (:data:`AGE_BANDS`; from a
birth year alone, the age that year's birthday gives); gender as ``female``, ``male`` or ``other``
(unstated or "prefer not to say": not known); a UK postcode reduced to its area, the letters before
the first digit (``SW1A 1AA`` -> ``SW``, about 120 areas in the UK), and a town given without a
postcode kept as its name. Nothing finer is ever returned, so nothing finer can be stored.

Pure: values in, values out.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from lgs_analytics.analytics.customer_type import TYPES
from lgs_analytics.analytics.geography import REGIONS
from lgs_analytics.privacy import MIN_CELL, suppress_small_cells

AGE_BANDS = ("under 18", "18-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+")
_BAND_FLOORS = (0, 18, 25, 35, 45, 55, 65, 75)
OLDEST = 110  # years: a birth date further back is a typing error
GENDERS = ("female", "male", "other")
_GENDER_WORDS = {
    "f": "female", "female": "female", "woman": "female", "w": "female", "femme": "female",
    "m": "male", "male": "male", "man": "male",
    "x": "other", "o": "other", "other": "other", "nonbinary": "other", "non-binary": "other",
    "diverse": "other", "d": "other",
}
_UNSTATED = frozenset({"", "u", "unknown", "n/a", "na", "none", "prefer not to say", "not stated", "-"})
# A UK postcode, whole ("SW1A 1AA") or its outward half ("SW1A"): the area is the leading letters.
_POSTCODE = re.compile(r"^([A-Z]{1,2})[0-9][A-Z0-9]?(?:\s*[0-9][A-Z]{2})?$")
_TOWN = re.compile(r"^[^\W\d_]+(?:[ '.-]+[^\W\d_]+)*$")
TOWN_MAX = 40
NOT_KNOWN = "not known"  # the breakdowns' row for customers without the attribute


class AttributeRefused(ValueError):
    """One attribute of one row cannot be generalised: the row goes to quarantine with this reason."""


def age_band(age: int) -> str:
    """The band of an age in whole years."""
    band = AGE_BANDS[0]
    for floor, name in zip(_BAND_FLOORS, AGE_BANDS, strict=True):
        if age >= floor:
            band = name
    return band


def age_of(birth: str, on: dt.date) -> int:
    """Age in whole years on ``on`` of a birth date (ISO ``1970-05-17``, ``17/05/1970``) or a birth
    year (``1970``). Raises :class:`AttributeRefused` when it is neither, or an impossible age."""
    text = birth.strip()
    if re.fullmatch(r"\d{4}(\.0)?", text):
        year = int(text[:4])
        age = on.year - year
    else:
        parsed = None
        for style in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y"):
            try:
                parsed = dt.datetime.strptime(text[:10], style).date()
                break
            except ValueError:
                continue
        if parsed is None:
            raise AttributeRefused("birth date is not a date (YYYY-MM-DD, DD/MM/YYYY) or a year")
        age = on.year - parsed.year - ((on.month, on.day) < (parsed.month, parsed.day))
    if not 0 <= age <= OLDEST:
        raise AttributeRefused(f"birth date gives an age outside 0-{OLDEST}")
    return age


def gender_category(text: str) -> str | None:
    """``female``, ``male``, ``other``, or None when not stated; raises on a word it does not know."""
    word = text.strip().lower()
    if word in _UNSTATED:
        return None
    if word in _GENDER_WORDS:
        return _GENDER_WORDS[word]
    raise AttributeRefused("gender is not one of female, male, other (or F, M, X), nor left blank")


def postcode_area(text: str) -> str:
    """The area of a UK postcode (``SW1A 1AA`` -> ``SW``); raises when it is not a UK postcode."""
    match = _POSTCODE.match(re.sub(r"\s+", " ", text.strip().upper()))
    if not match:
        raise AttributeRefused("postcode is not a UK postcode")
    return match[1]


def town(text: str) -> str:
    """A town's name as a place (``london`` -> ``London``); raises on anything else."""
    name = re.sub(r"\s+", " ", text.strip())
    if not name or len(name) > TOWN_MAX or not _TOWN.match(name):
        raise AttributeRefused(f"city is not a town name (letters, at most {TOWN_MAX})")
    return name.title()


def generalise(birth: str, gender: str, postcode: str, city: str, on: dt.date) -> tuple[str | None, ...]:
    """(age_band, gender, area) of one CRM row's texts (empty = not given); raises
    :class:`AttributeRefused` with the first reason the row cannot be taken."""
    band = age_band(age_of(birth, on)) if birth.strip() else None
    category = gender_category(gender) if gender.strip() else None
    return band, category, area_of(postcode, city)


def area_of(postcode: str, city: str) -> str | None:
    """A UK postcode's area, else the town, else None. A postcode that is not a UK one (a customer
    abroad: about a tenth of them) is not a reason to refuse the row: their age band and gender stay."""
    if postcode.strip():
        try:
            return postcode_area(postcode)
        except AttributeRefused:
            pass
    return town(city) if city.strip() else None


# --- breakdowns ----------------------------------------------------------------------------------

BREAKDOWNS = {"age_band": "Age band", "gender": "Gender", "area": "Area", "region": "Region",
              "customer_type": "Customer type"}
FOLDED = ("area",)  # breakdowns whose values under ten customers are folded into one row
OTHER_PLACES = f"other areas (under {MIN_CELL} customers each)"
_ORDER = {"age_band": AGE_BANDS, "gender": GENDERS, "region": REGIONS, "customer_type": TYPES}


def breakdown(campaign: pd.DataFrame, by: str, segments: tuple[str, ...] = ()) -> pd.DataFrame:
    """Customers, their share, spend (GBP, net), spend per customer, churn alerts and their rate, and
    the customers of each segment, per value of ``by`` (customers without it as :data:`NOT_KNOWN`),
    as text with every cell of fewer than ten customers suppressed. ``segments``: the segment
    columns, in order (default: the list's own, largest first)."""
    values = campaign[by].astype("string").fillna(NOT_KNOWN)
    if by in FOLDED:  # many small places: one row for those under ten each, not a page of "<10" rows
        sizes = values.value_counts()
        small = values.isin(sizes[sizes < MIN_CELL].index) & (values != NOT_KNOWN)
        values = values.where(~small, OTHER_PLACES)
    order = [v for v in _ORDER.get(by, ()) if (values == v).any()]
    order += sorted(set(values.unique()) - set(order) - {NOT_KNOWN, OTHER_PLACES}) + [
        v for v in (OTHER_PLACES, NOT_KNOWN) if (values == v).any()]
    grouped = campaign.assign(_by=values).groupby("_by", sort=False)
    counts = pd.DataFrame({
        "customers": grouped.size(),
        "spend_gbp": grouped["spend"].sum(),
        "churn_alerts": grouped["churn_risk"].sum().astype("int64"),
    }).reindex(order)
    counts["customers"] = counts["customers"].fillna(0).astype("int64")
    total = max(int(counts["customers"].sum()), 1)
    table = pd.DataFrame(index=pd.Index(order, name=BREAKDOWNS.get(by, by)))
    table["customers"] = counts["customers"]
    table["share_of_customers"] = (100 * counts["customers"] / total).map(lambda v: f"{v:.1f}%")
    table["spend_gbp"] = counts["spend_gbp"].map(lambda v: f"£{v:,.0f}")
    table["spend_per_customer_gbp"] = (counts["spend_gbp"] / counts["customers"].clip(lower=1)).map(
        lambda v: f"£{v:,.0f}")
    table["churn_alerts"] = counts["churn_alerts"].astype("int64")
    table["churn_alert_rate"] = (100 * counts["churn_alerts"] / counts["customers"].clip(lower=1)).map(
        lambda v: f"{v:.1f}%")
    names = segments or tuple(campaign["segment"].value_counts().index)
    mix = pd.crosstab(values, campaign["segment"]).reindex(index=order, columns=list(names), fill_value=0)
    for name in names:
        table[name] = mix[name].astype("int64")
    everything = tuple(c for c in table.columns if c != "customers")
    shown = suppress_small_cells(table, {"customers": everything, "churn_alerts": ("churn_alert_rate",),
                                         **{name: () for name in names}})
    return shown.reset_index()


# A breakdown's columns as a page shows them (files keep the plain names, with their units).
LABELS = {"customers": "Customers", "share_of_customers": "Share of customers", "spend_gbp": "Spend (£)",
          "spend_per_customer_gbp": "Spend per customer (£)", "churn_alerts": "Churn alerts",
          "churn_alert_rate": "Churn alert rate"}


def breakdowns(campaign: pd.DataFrame, bys: tuple[str, ...] = tuple(BREAKDOWNS)) -> pd.DataFrame:
    """The :func:`breakdown` of each of ``bys`` that the list has values for, stacked as one file:
    ``breakdown`` (what it is by), ``value``, then the counts (suppressed, as shown)."""
    frames = []
    for by in bys:
        if by in campaign and campaign[by].notna().any():
            table = breakdown(campaign, by)
            frames.append(table.rename(columns={table.columns[0]: "value"}).assign(breakdown=by))
    if not frames:
        return pd.DataFrame(columns=["breakdown", "value"])
    stacked = pd.concat(frames, ignore_index=True)
    return stacked[["breakdown", "value", *[c for c in stacked.columns if c not in ("breakdown", "value")]]]


def has_attributes(campaign: pd.DataFrame) -> bool:
    """Whether any customer of the list has a CRM attribute (none on the export alone)."""
    return any(c in campaign and campaign[c].notna().any() for c in ("age_band", "gender", "area"))
