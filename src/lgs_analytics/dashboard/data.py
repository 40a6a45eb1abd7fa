"""What the dashboard shows: the current build's marts, read once per build and kept in memory.

Every page filters these frames with pandas; no callback queries the database. A new build
is picked up by the next page load (the current build's id is checked at most every
:data:`RECHECK_SECONDS`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lgs_analytics import privacy
from lgs_analytics.analytics import campaign, history
from lgs_analytics.dashboard import kpi
from lgs_analytics.jobs.page import published
from lgs_analytics.results import CampaignResult, Provenance, Recommendations
from lgs_analytics.store import db, tables

RECHECK_SECONDS = 10.0


@dataclass(frozen=True)
class Board:
    """One build as the dashboard shows it.

    ``customers`` is the campaign list (analytics.campaign.CAMPAIGN_COLUMNS) plus ``customer``,
    the label the browser sees: the ID, or its pseudonym when pseudonymising (then the real ID
    never leaves the server). ``orders`` holds every customer's invoices, sorted by customer.
    """

    provenance: Provenance
    headline: dict
    monthly: pd.DataFrame
    segments: pd.DataFrame
    customers: pd.DataFrame
    orders: pd.DataFrame
    as_of: pd.Timestamp
    key: bytes | None
    # The report's segment migration (analytics.history.migration) and each customer's move in it
    # (history.moves, indexed by customer_id); None before the history has a date before the as-of.
    migration: pd.DataFrame | None = None
    moves: pd.DataFrame | None = None
    # Recommended products (sorted by customer) and product pairs; None: the build has none.
    recommendations: Recommendations | None = None

    @property
    def build_id(self) -> int:
        return int(self.provenance.build_id)

    @property
    def pseudonymised(self) -> bool:
        return self.key is not None

    @property
    def no_predictions(self) -> str:
        """``'no predictions: <reason>'`` when the build published none (the build's
        ``forecast.unavailable``), else empty: what every model figure says instead of a number."""
        return no_predictions(self.provenance.forecast_note)

    @property
    def unscored(self) -> Unscored:
        """The customers the orders know but the scores leave out, and what they add to net sales."""
        return unscored(self.customers, self.orders)

    @property
    def alerts(self) -> pd.DataFrame:
        """The churn alerts, highest value at risk first."""
        return campaign.churn_alerts(self.customers)

    def customer(self, label: str) -> pd.Series | None:
        """The campaign row of the customer shown as ``label`` (ID or pseudonym), or None."""
        found = self.customers.index[self.customers["customer"] == label.strip()]
        return None if found.empty else self.customers.loc[found[0]]

    def orders_of(self, customer_id: int) -> pd.DataFrame:
        """One customer's invoices, oldest first (a slice of the sorted frame: no scan)."""
        ids = self.orders["customer_id"].to_numpy()
        start, end = np.searchsorted(ids, [customer_id, customer_id + 1])
        return self.orders.iloc[start:end]


    def recommended_for(self, customer_id: int) -> pd.DataFrame:
        """One customer's recommended products, best first (empty when the build has none)."""
        if self.recommendations is None or self.recommendations.customers.empty:
            return pd.DataFrame(columns=["rank", "stock_code", "description", "reason"])
        lists = self.recommendations.customers
        start, end = np.searchsorted(lists["customer_id"].to_numpy(), [customer_id, customer_id + 1])
        return lists.iloc[start:end]

    def partners_of(self, stock_code: str) -> pd.DataFrame:
        """The products that sell with ``stock_code``, strongest first."""
        if self.recommendations is None or self.recommendations.pairs.empty:
            return pd.DataFrame(columns=["related_code", "related_description", "baskets_together", "share",
                                         "lift"])
        pairs = self.recommendations.pairs
        return pairs[pairs["stock_code"] == stock_code].sort_values("rank")

    def buyers_of(self, stock_code: str) -> pd.DataFrame:
        """The customers ``stock_code`` is recommended to, the strongest first, with their label and
        segment (campaign list columns ``customer``, ``segment``)."""
        if self.recommendations is None or self.recommendations.customers.empty:
            return pd.DataFrame(columns=["customer", "segment", "rank", "reason", "score"])
        lists = self.recommendations.customers
        picked = lists[lists["stock_code"] == stock_code]
        return (picked.merge(self.customers[["customer_id", "customer", "segment"]], on="customer_id")
                .sort_values(["score", "customer_id"], ascending=[False, True], kind="stable"))

    @property
    def products(self) -> pd.Series:
        """Every product with partners or on a list: stock code -> description, by code."""
        if self.recommendations is None:
            return pd.Series(dtype="string")
        r = self.recommendations
        parts = [f[["stock_code", "description"]] for f in (r.pairs, r.customers) if not f.empty]
        if not parts:  # a build with no pair and nobody to recommend to
            return pd.Series(dtype="string")
        both = pd.concat(parts)
        return both.drop_duplicates("stock_code").set_index("stock_code")["description"].sort_index()


def no_predictions(reason: str) -> str:
    """What a model figure says when the build has no predictions (``reason``: why); empty if it has."""
    return f"no predictions: {reason}" if reason else ""


@dataclass(frozen=True)
class Unscored:
    """Identified customers with invoices but no row in the campaign list: ``customers``; ``amount``,
    the GBP their invoices add to net sales; ``only_cancelled``, whether all their invoices are
    cancellations (customers with no purchase in the period, whom RFM cannot score)."""

    customers: int
    amount: float
    only_cancelled: bool


def unscored(customers: pd.DataFrame, orders: pd.DataFrame) -> Unscored:
    """The :class:`Unscored` of a campaign list ``customers`` and every customer's invoices ``orders``."""
    left_out = orders[~orders["customer_id"].isin(customers["customer_id"])]
    return Unscored(int(left_out["customer_id"].nunique()), float(left_out["amount"].sum()),
                    bool((left_out["kind"] == "cancellation").all()))


def labels(ids: pd.Series, key: bytes | None) -> pd.Series:
    """What the browser shows for each customer ID: the ID as text, or its pseudonym."""
    if key is None:
        return ids.astype("int64").astype(str).astype("string")
    return privacy.pseudonymise_ids(ids, key)


def load_board(key: bytes | None) -> Board:
    """The current build, read whole from one snapshot (a ValueError in one line when nothing is
    published)."""
    page = published(orders=True)
    listed = page.campaign.copy()
    listed.insert(0, "customer", labels(listed["customer_id"], key))
    a = page.analysis
    moves = None
    if page.migration is not None:
        with db.connect(apply_schema=False) as conn:
            known = tables.read_segment_history(conn)
        moves = history.moves(known, page.migration.attrs["start"], page.migration.attrs["end"])
    return Board(page.provenance, a.headline, kpi.monthly_figures(a.sales, a.orders, a.active_users,
                                                                  a.new_vs_existing),
                 page.scores.segments, listed, page.orders, page.scores.as_of, key, page.migration, moves,
                 page.recommendations)


def campaign_results() -> list[CampaignResult]:
    """Every recorded campaign measured on the transactions loaded now: read once per browser session,
    not with the board (a campaign is recorded, and its window fills, between builds)."""
    from lgs_analytics.jobs.campaigns import results

    return results()


def live_events(hours: float, key: bytes | None) -> pd.DataFrame:
    """The live events raised in the last ``hours`` (store.live.EVENT_COLUMNS), newest first, with
    ``customer`` the label the browser sees (the Live page's data, read at each refresh)."""
    import datetime as dt

    from lgs_analytics.store import live

    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)
    with db.connect(apply_schema=False) as conn:
        events = live.read_events(conn, since)
    events.insert(0, "customer", labels(events["customer_id"], key) if len(events) else
                  pd.Series(dtype="string"))
    return events


def current_build_id() -> int | None:
    with db.connect(apply_schema=False) as conn:
        return tables.current_build_id(conn)


class BoardSource:
    """The board of the current build, shared by every browser session of the server."""

    def __init__(self, key: bytes | None, recheck_seconds: float = RECHECK_SECONDS) -> None:
        self._key = key
        self._recheck = recheck_seconds
        self._lock = threading.Lock()
        self._board: Board | None = None
        self._checked = 0.0

    def get(self) -> Board:
        """The board, re-read when a newer build was published since it was read."""
        with self._lock:
            now = time.monotonic()
            if self._board is None:
                self._board, self._checked = load_board(self._key), now
            elif now - self._checked >= self._recheck:
                self._checked = now
                if current_build_id() != self._board.build_id:
                    self._board = load_board(self._key)
            return self._board
