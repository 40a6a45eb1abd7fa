"""Which customers a filter, a segment or an R x F grid cell picks (pure, in memory).

The customer table, its CSV download and the click-throughs all go through
:func:`select_customers`, so what is on screen and what downloads are the same rows.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd

from lgs_analytics.analytics.segment_rules import SegmentRules
from lgs_analytics.analytics.segments import assign_segments

SCORES = (1, 2, 3, 4, 5)
Bounds = tuple[float | None, float | None]
DateBounds = tuple[dt.date | None, dt.date | None]


@dataclass(frozen=True)
class CustomerFilter:
    """What the customer table shows; empty fields and ``None`` bounds do not filter.

    Bounds are inclusive. A customer without a CLV (a build with no predictions) is kept unless a
    CLV bound is set.
    """

    search: str = ""  # part of the customer's ID (or pseudonym) or country, any case
    segments: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    customer_types: tuple[str, ...] = ()  # wholesale, trade, retail (analytics.customer_type)
    churn_risk: bool = False  # only the churn alerts
    due_back: bool = False  # only the customers due back or overdue (analytics.due)
    rf_cell: tuple[int, int] | None = None  # (r_score, f_score)
    spend: Bounds = (None, None)
    clv: Bounds = (None, None)
    last_order: DateBounds = (None, None)


def _within(values: pd.Series, bounds: Bounds | DateBounds) -> pd.Series:
    low, high = bounds
    keep = pd.Series(True, index=values.index)
    if low is not None:
        keep &= values >= low
    if high is not None:
        keep &= values <= high
    return keep


def select_customers(customers: pd.DataFrame, chosen: CustomerFilter) -> pd.DataFrame:
    """The rows of ``customers`` (the campaign list plus a ``customer`` label column) that
    ``chosen`` keeps, in their order."""
    keep = pd.Series(True, index=customers.index)
    if chosen.search.strip():
        text = chosen.search.strip()
        keep &= (customers["customer"].str.contains(text, case=False, regex=False)
                 | customers["country"].fillna("").str.contains(text, case=False, regex=False))
    if chosen.segments:
        keep &= customers["segment"].isin(chosen.segments)
    if chosen.countries:
        keep &= customers["country"].isin(chosen.countries)
    if chosen.customer_types:
        keep &= customers["customer_type"].isin(chosen.customer_types).fillna(False).astype(bool)
    if chosen.churn_risk:
        keep &= customers["churn_risk"]
    if chosen.due_back:
        keep &= customers["due_status"].isin(["due", "overdue"])
    if chosen.rf_cell is not None:
        r, f = chosen.rf_cell
        keep &= (customers["r_score"] == r) & (customers["f_score"] == f)
    keep &= _within(customers["spend"], chosen.spend)
    keep &= _within(customers["clv_12m"], chosen.clv)
    if chosen.last_order != (None, None):
        low, high = (None if d is None else pd.Timestamp(d) for d in chosen.last_order)
        keep &= _within(customers["last_order"], (low, high))
    return customers[keep]


def rf_grid(customers: pd.DataFrame, rules: SegmentRules | None = None) -> pd.DataFrame:
    """All 25 (r_score, f_score) cells: their segment by ``rules`` (the build's; None: the active
    rules), customers and spend (GBP); empty cells count 0, so the grid is always whole."""
    cells = pd.MultiIndex.from_product([SCORES, SCORES], names=["r_score", "f_score"])
    counted = customers.groupby(["r_score", "f_score"]).agg(customers=("customer_id", "size"),
                                                            spend=("spend", "sum"))
    grid = counted.reindex(cells, fill_value=0).reset_index()
    grid["customers"] = grid["customers"].astype("int64")
    grid["segment"] = assign_segments(grid["r_score"], grid["f_score"], rules).astype(str)
    return grid


def span(values: pd.Series) -> tuple[float, float]:
    """(min, max) of the known values, rounded out to whole pounds; (0, 0) when none is known."""
    known = values.dropna()
    if known.empty:
        return 0.0, 0.0
    return float(math.floor(known.min())), float(math.ceil(known.max()))


def open_bounds(chosen: tuple[float, float], full: tuple[float, float]) -> Bounds:
    """A range slider's value as bounds: an end left at the data's own end does not filter."""
    low, high = chosen
    return (None if low <= full[0] else low, None if high >= full[1] else high)


def flow_customers(customers: pd.DataFrame, moves: pd.DataFrame, source: str, target: str) -> pd.DataFrame:
    """The rows of ``customers`` (the campaign list plus ``customer``) who moved from ``source`` to
    ``target`` (``moves``: analytics.history.moves, indexed by customer_id), highest spend first."""
    ids = moves.index[(moves["from_segment"] == source) & (moves["to_segment"] == target)]
    rows = customers[customers["customer_id"].isin(ids)]
    return rows.sort_values(["spend", "customer_id"], ascending=[False, True], kind="stable")
