"""When each repeat customer is due back: model-free, from the customer's own rhythm.

The rule, in the words the campaign list and the dashboard use: a customer who has bought on at
least :data:`MIN_GAPS` + 1 different days "usually orders every N days" (the median of the gaps
between those days) and is due between the last order plus the shorter and the longer of the usual
gaps (the first and third quartiles of the gaps, at least :data:`MIN_HALF_WIDTH` days either side
of the median). As of the build's date the customer is ``not yet`` due, ``due`` (within the range)
or ``overdue`` (past its end). Fewer gaps: no date and no status (a one-time buyer, or a rhythm of
one gap that says nothing yet).

Pure: frames in, frames out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

MIN_GAPS = 2  # gaps between purchase days needed for a date
MIN_HALF_WIDTH = 3  # days: a very regular customer is still given a week-wide range
NOT_YET, DUE, OVERDUE = "not yet", "due", "overdue"
STATUSES = (DUE, OVERDUE, NOT_YET)
DUE_COLUMNS = ("usual_gap_days", "due_from", "due_to", "due_status")


def purchase_days(purchases: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The distinct (customer_id, day) of the identified purchases before ``as_of``, sorted."""
    bought = purchases[(purchases["invoice_date"] < as_of) & purchases["customer_id"].notna()]
    days = pd.DataFrame({"customer_id": bought["customer_id"].astype("int64").to_numpy(),
                         "day": bought["invoice_date"].dt.normalize().to_numpy()})
    return days.drop_duplicates().sort_values(["customer_id", "day"], kind="stable").reset_index(drop=True)


def status(as_of: pd.Timestamp, due_from: pd.Series, due_to: pd.Series) -> pd.Series:
    """``not yet`` / ``due`` / ``overdue`` of each range as of ``as_of``; NA without a range."""
    out = pd.Series(pd.NA, index=due_from.index, dtype="string")
    known = due_from.notna() & due_to.notna()
    out[known & (as_of < due_from)] = NOT_YET
    out[known & (as_of >= due_from) & (as_of <= due_to)] = DUE
    out[known & (as_of > due_to)] = OVERDUE
    return out


def due_back(purchases: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per customer with a purchase before ``as_of`` (index customer_id): ``usual_gap_days`` (median
    gap between purchase days, whole days; NA under :data:`MIN_GAPS` gaps), ``due_from`` and
    ``due_to`` (dates: the last purchase day plus the range of usual gaps) and ``due_status``."""
    days = purchase_days(purchases, pd.Timestamp(as_of))
    days["gap"] = days.groupby("customer_id")["day"].diff().dt.days
    last = days.groupby("customer_id")["day"].max()
    gaps = days.dropna(subset=["gap"]).groupby("customer_id")["gap"]
    counted = gaps.size().reindex(last.index, fill_value=0)
    regular = counted.index[counted >= MIN_GAPS]
    median = gaps.median().reindex(regular)
    low = gaps.quantile(0.25).reindex(regular).clip(upper=median - MIN_HALF_WIDTH).clip(lower=1)
    high = gaps.quantile(0.75).reindex(regular).clip(lower=median + MIN_HALF_WIDTH)
    out = pd.DataFrame(index=last.index)
    out["usual_gap_days"] = median.round().astype("Int64").reindex(last.index)
    out["due_from"] = (last.reindex(regular) + pd.to_timedelta(np.floor(low), unit="D")).reindex(last.index)
    out["due_to"] = (last.reindex(regular) + pd.to_timedelta(np.ceil(high), unit="D")).reindex(last.index)
    out["due_status"] = status(pd.Timestamp(as_of), out["due_from"], out["due_to"])
    out.index.name = "customer_id"
    return out


def in_words(usual_gap_days: Any, due_from: Any, due_to: Any) -> str:
    """``usually orders every 5 weeks; due 12–26 Jan 2012``; empty without a date."""
    if pd.isna(usual_gap_days) or pd.isna(due_from) or pd.isna(due_to):
        return ""
    gap = int(usual_gap_days)
    every = ("every day" if gap <= 1 else f"every {gap} days" if gap < 14
             else f"every {round(gap / 7)} weeks" if gap < 61 else f"every {round(gap / 30.4)} months")
    start, end = pd.Timestamp(due_from), pd.Timestamp(due_to)
    if start.year != end.year:
        span = f"{start:%-d %b %Y}–{end:%-d %b %Y}"
    elif start.month != end.month:
        span = f"{start:%-d %b}–{end:%-d %b %Y}"
    else:
        span = f"{start:%-d}–{end:%-d %b %Y}"
    return f"usually orders {every}; due {span}"


def backtest(purchases: pd.DataFrame, as_of: pd.Timestamp, until: pd.Timestamp) -> pd.DataFrame:
    """The rule scored as of ``as_of`` against what happened before ``until``: per status (due,
    overdue, not yet), ``customers``, ``ordered`` (bought in [as_of, until)), ``ordered_share``,
    ``in_range`` (bought between their due_from and due_to) and ``in_range_share``."""
    as_of, until = pd.Timestamp(as_of), pd.Timestamp(until)
    scored = due_back(purchases, as_of).dropna(subset=["due_status"])
    later = purchase_days(purchases, until)
    later = later[later["day"] >= as_of]
    first_later = later.groupby("customer_id")["day"].min().reindex(scored.index)
    joined = scored.join(later.set_index("customer_id"), how="left")
    hit = joined["day"].between(joined["due_from"], joined["due_to"]).groupby(level=0).any()
    scored = scored.assign(ordered=first_later.notna(), in_range=hit.reindex(scored.index, fill_value=False))
    table = scored.groupby("due_status").agg(customers=("ordered", "size"), ordered=("ordered", "sum"),
                                             in_range=("in_range", "sum"))
    table = table.reindex(list(STATUSES), fill_value=0).astype("int64")
    table["ordered_share"] = (table["ordered"] / table["customers"]).round(3)
    table["in_range_share"] = (table["in_range"] / table["customers"]).round(3)
    table.index.name = "due_status"
    return table


__all__ = ["DUE", "DUE_COLUMNS", "MIN_GAPS", "MIN_HALF_WIDTH", "NOT_YET", "OVERDUE", "STATUSES",
           "backtest", "due_back", "in_words", "purchase_days", "status"]
