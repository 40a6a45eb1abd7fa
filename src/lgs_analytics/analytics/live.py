"""The live events: which new orders are moments marketing should act on (docs/live.md).

Rules, for each purchase invoice a live batch brought (its product lines, as the build counts them),
against the customer's purchase invoices loaded before it (files and live, by date):

- ``welcome``: the customer's first purchase invoice.
- ``second order``: their second: the moment a one-time buyer becomes a repeat customer.
- ``won back``: a customer the last published build put in a win-back segment (the segment rules'
  kind "win back": At Risk, Can't Lose, Hibernating by default) orders, for the first time since
  that build's data ended.
- ``big order``: at least ``BIG_FACTOR`` times the median of the customer's earlier purchase
  invoices, when there are at least ``BIG_MIN_ORDERS`` of them (a usual to compare with).

An order may raise several (a won-back customer's big order). Orders dated before the last day of
the build's data raise none: they are history a connector reads once, on its first run, not news.
Segments are those of the last published build, and each event names it: segments and models are
population-level and stay nightly; only the per-customer facts change within the minute.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

WELCOME, SECOND_ORDER, WON_BACK, BIG_ORDER = "welcome", "second order", "won back", "big order"
KINDS = (WELCOME, WON_BACK, SECOND_ORDER, BIG_ORDER)
BIG_FACTOR = 3.0
BIG_MIN_ORDERS = 3
EVENT_COLUMNS = ("kind", "customer_id", "invoice_no", "invoice_date", "amount", "segment", "build_id",
                 "detail")


@dataclass(frozen=True)
class BuildContext:
    """What the events take from the last published build: its id, the as-of date of its scores (the
    day after its last invoice), the win-back segment names, and each customer's segment in it."""

    build_id: int
    as_of: dt.date
    win_back: tuple[str, ...]
    segments: dict[int, str]

    @property
    def news_from(self) -> pd.Timestamp:
        """The first moment an order is news: the start of the last day of the build's data."""
        return pd.Timestamp(self.as_of) - pd.Timedelta(days=1)


def _prior(history: pd.DataFrame) -> pd.DataFrame:
    """Each invoice of ``history`` with the customer's count and median amount of invoices before it."""
    h = history.sort_values(["customer_id", "invoice_date", "invoice_no"]).reset_index(drop=True)
    groups = h.groupby("customer_id", sort=False)["amount"]
    h["prior_orders"] = groups.cumcount()
    h["prior_median"] = groups.transform(_median_before)
    h["prior_last"] = h.groupby("customer_id", sort=False)["invoice_date"].shift()
    return h


def _median_before(amounts: pd.Series) -> pd.Series:
    return amounts.expanding().median().shift()


def events(orders: pd.DataFrame, history: pd.DataFrame, build: BuildContext | None,
           big_factor: float = BIG_FACTOR, big_min_orders: int = BIG_MIN_ORDERS) -> pd.DataFrame:
    """The events of a batch's new ``orders`` (customer_id, invoice_no, invoice_date, amount), given
    every purchase invoice of their customers, these included (``history``, same columns)."""
    if orders.empty:
        return pd.DataFrame(columns=list(EVENT_COLUMNS))
    known = _prior(history)
    o = orders[["customer_id", "invoice_no"]].merge(known, on=["customer_id", "invoice_no"], how="left")
    if build is not None:
        o = o[o["invoice_date"] >= build.news_from].copy()
        o["segment"] = o["customer_id"].map(build.segments)
    else:
        o["segment"] = None
    note = (f" (segments of build {build.build_id}, scores as of {build.as_of:%d %b %Y})" if build is not None
            else " (no build published yet)")
    build_id = build.build_id if build is not None else None
    found: list[tuple[object, ...]] = []
    for row in o.to_dict("records"):
        segment = row["segment"] if isinstance(row["segment"], str) else None
        for kind, detail in _rules(row, build, note, big_factor, big_min_orders):
            found.append((kind, int(row["customer_id"]), str(row["invoice_no"]), row["invoice_date"],
                          float(row["amount"]), segment, build_id, detail))
    return pd.DataFrame(found, columns=list(EVENT_COLUMNS))


def _rules(row: dict[Any, Any], build: BuildContext | None, note: str, big_factor: float,
           big_min_orders: int) -> list[tuple[str, str]]:
    """(kind, sentence) of each rule one new order (a row of ``events``' frame) meets."""
    amount, prior, last = f"£{row['amount']:,.2f}", int(row["prior_orders"]), row["prior_last"]
    found = []
    if prior == 0:
        found.append((WELCOME, f"First order: {amount}{note}."))
    if prior == 1:
        days = (row["invoice_date"] - last).days
        found.append((SECOND_ORDER, f"Second order, {days} days after the first: {amount}{note}."))
    if (build is not None and row["segment"] in build.win_back
            and not (pd.notna(last) and last >= build.news_from)):
        since = f"; last order before this on {last:%d %b %Y}" if pd.notna(last) else ""
        found.append((WON_BACK, f"{row['segment']} in build {build.build_id} (scores as of "
                                f"{build.as_of:%d %b %Y}) and ordering again: {amount}{since}."))
    median = row["prior_median"]
    if prior >= big_min_orders and median > 0 and row["amount"] >= big_factor * median:
        found.append((BIG_ORDER, f"{amount}, {row['amount'] / median:.1f}× their usual order "
                                 f"(median £{median:,.2f} over {prior} orders){note}."))
    return found
