"""Segment history: each customer's segment over time, kept compactly (changes only), the migration
between two dates and the "moved" campaign lists.

The history holds one row per customer and date at which the customer's segment first appears or
changes (``HISTORY_COLUMNS``): a customer's segment on any date is that of their latest row on or
before it (:func:`segments_on`). ``lgs build`` appends the rows of its own as-of date; on a first
build (an empty history) it back-fills the history from the data at monthly as-of dates
(:func:`backfill_dates`), so movement is visible from day one. A date's scores see only the
purchases before it (rfm.rfm_standard's as-of), so the back-fill says what a build on that date
would have said.

Pure: frames in, frames out.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from lgs_analytics.analytics import rfm
from lgs_analytics.analytics.clean import CleanResult
from lgs_analytics.analytics.segments import SEGMENT_NAMES, WIN_BACK_SEGMENTS, rules_digest

HISTORY_COLUMNS: tuple[str, ...] = ("customer_id", "as_of", "segment", "previous_segment", "frequency",
                                    "monetary", "rules_digest")
# The "from" of a customer whose first purchase came after the migration's start date.
NOT_YET = "Not yet a customer"
MIGRATION_COLUMNS: tuple[str, ...] = ("from_segment", "to_segment", "customers", "spend_before",
                                      "spend_between")
# The report's and the dashboard's migration: over the last six months of history.
REPORT_MONTHS = 6

ACTIVE_SEGMENTS: tuple[str, ...] = tuple(s for s in SEGMENT_NAMES if s not in WIN_BACK_SEGMENTS)
# The "moved" campaign lists (`lgs campaign --moved KIND`) that are moves between segments: the
# segments a customer was in on the "since" date, and those they are in now.
MOVED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "slipped": (("Champions", "Loyal Customers"), WIN_BACK_SEGMENTS),
    "won-back": (("At Risk", "Can't Lose", "Hibernating"), ACTIVE_SEGMENTS),
}
# second-order is counted in orders, not segments: a customer with exactly one order on the "since"
# date who has ordered again. The map's one-order segments (New Customers, Promising: F = 1) can be
# empty: when over 40% of customers have one order, the tie-robust F score (rfm.rank_scores) gives
# them all F = 2 (on the real file, every month from January to October 2011).
MOVED_KINDS: tuple[str, ...] = (*MOVED, "second-order")
MOVED_MEANING: dict[str, str] = {
    "slipped": "Champions or Loyal Customers who have slipped into a win-back segment "
               "(Need Attention, About to Sleep, At Risk, Can't Lose or Hibernating)",
    "won-back": "At Risk, Can't Lose or Hibernating customers who are back in an active segment "
                "(Champions, Loyal Customers, Potential Loyalists, New Customers or Promising)",
    "second-order": "customers with one order then (new customers) who have placed a second order since",
}


def empty_history() -> pd.DataFrame:
    """A history with no row, typed as the mart's."""
    return pd.DataFrame({
        "customer_id": pd.Series(dtype="int64"), "as_of": pd.Series(dtype="datetime64[ns]"),
        "segment": pd.Series(dtype="object"), "previous_segment": pd.Series(dtype="object"),
        "frequency": pd.Series(dtype="int64"), "monetary": pd.Series(dtype="float64"),
        "rules_digest": pd.Series(dtype="object")})


def backfill_dates(purchases: pd.DataFrame, as_of: pd.Timestamp) -> list[pd.Timestamp]:
    """The back-fill's as-of dates: the first of each month from the data's second month (the first
    has too little history to score) up to, not including, ``as_of``; then ``as_of`` itself."""
    first = pd.Timestamp(purchases["invoice_date"].min()).normalize()
    start = first.replace(day=1) + pd.offsets.MonthBegin(1)
    months = list(pd.date_range(start, as_of, freq="MS", inclusive="left")) if start < as_of else []
    return [*(pd.Timestamp(m) for m in months), pd.Timestamp(as_of)]


def changes(known: pd.Series, scored: pd.DataFrame, as_of: pd.Timestamp, digest: str) -> pd.DataFrame:
    """The history rows of ``as_of``: the scored customers (rfm.RFM_COLUMNS) whose segment differs from
    the one ``known`` for them (customer_id -> segment), or who have none yet."""
    now = scored.set_index("customer_id")
    before = known.reindex(now.index)
    moved = (before.isna() | (before != now["segment"])).to_numpy()
    rows = now[moved]
    return pd.DataFrame({
        "customer_id": rows.index.to_numpy(dtype="int64"), "as_of": pd.Timestamp(as_of),
        "segment": rows["segment"].to_numpy(dtype=object),
        "previous_segment": before[moved].to_numpy(dtype=object),  # missing: the customer's first row
        "frequency": rows["frequency"].to_numpy(dtype="int64"),
        "monetary": rows["monetary"].to_numpy(dtype="float64"), "rules_digest": digest,
    }, columns=list(HISTORY_COLUMNS))


def latest_segments(history: pd.DataFrame) -> pd.Series:
    """customer_id -> the segment of the customer's latest row."""
    last = history.sort_values(["customer_id", "as_of"], kind="stable").groupby("customer_id").tail(1)
    return last.set_index("customer_id")["segment"]


def to_append(history: pd.DataFrame, cleaned: CleanResult, scored: pd.DataFrame,
              as_of: pd.Timestamp) -> pd.DataFrame:
    """The rows a build of ``as_of`` (standard scores ``scored``) adds to ``history``: on an empty
    history, the back-fill at :func:`backfill_dates` and then its own date; after the history's last
    date, the changes since the latest state; otherwise none (a rebuild of the same as-of date, or of
    an earlier one, never rewrites the history)."""
    digest = rules_digest()
    if history.empty:
        known = pd.Series(dtype=object)
        parts = []
        for date in backfill_dates(cleaned.purchases, as_of)[:-1]:
            at_date = rfm.rfm_standard(cleaned.purchases, cleaned.cancellations, date)
            part = changes(known, at_date, date, digest)
            known = pd.concat([known.drop(part["customer_id"], errors="ignore"),
                               part.set_index("customer_id")["segment"]])
            parts.append(part)
        parts.append(changes(known, scored, as_of, digest))
        return pd.concat(parts, ignore_index=True)
    if pd.Timestamp(as_of) <= history["as_of"].max():
        return empty_history()
    return changes(latest_segments(history), scored, as_of, digest)


def segments_on(history: pd.DataFrame, date: pd.Timestamp | str) -> pd.DataFrame:
    """Each customer's segment on ``date`` (the latest row on or before it), indexed by customer_id:
    ``segment``, ``previous_segment`` (missing for a customer's first segment) and ``since`` (the
    history date the segment was first seen: it changed between the history date before and this)."""
    rows = history[history["as_of"] <= pd.Timestamp(date)]
    last = rows.sort_values(["customer_id", "as_of"], kind="stable").groupby("customer_id").tail(1)
    out = last.set_index("customer_id")[["segment", "previous_segment", "as_of"]]
    return out.rename(columns={"as_of": "since"}).sort_index()


NO_HISTORY = "no segment history yet: run `lgs build` (a first build back-fills it)"


def check_dates(history: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp,
                names: tuple[str, str] = ("--from", "--to")) -> None:
    """Refuse an empty history, or a start date not before the end date (in one line naming both)."""
    if history.empty:
        raise ValueError(NO_HISTORY)
    if start >= end:
        raise ValueError(f"{names[0]} {start:%Y-%m-%d} must be before {names[1]} {end:%Y-%m-%d}")


def moves(history: pd.DataFrame, start: pd.Timestamp | str, end: pd.Timestamp | str) -> pd.DataFrame:
    """One row per customer with a segment on ``end``: ``from_segment`` (on ``start``; :data:`NOT_YET`
    for a customer who had not bought yet) and ``to_segment`` (on ``end``), indexed by customer_id."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    check_dates(history, start, end)
    after = segments_on(history, end)["segment"]
    before = segments_on(history, start)["segment"].reindex(after.index)
    return pd.DataFrame({"from_segment": before.fillna(NOT_YET), "to_segment": after})


def spend_around(orders: pd.DataFrame, start: pd.Timestamp | str, end: pd.Timestamp | str) -> pd.DataFrame:
    """Per customer (index customer_id), GBP net of cancellations (metrics.customer_invoices'
    ``amount``): ``spend_before`` (invoices before ``start``) and ``spend_between`` (from ``start`` up to,
    not including, ``end``)."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    when = orders["invoice_date"]
    by = orders["customer_id"].astype("int64")
    return pd.DataFrame({
        "spend_before": orders["amount"].where(when < start, 0.0).groupby(by).sum(),
        "spend_between": orders["amount"].where((when >= start) & (when < end), 0.0).groupby(by).sum(),
    })


def segment_order(names: Iterable[str]) -> list[str]:
    """``names`` (each once) in the segment map's order, "Not yet a customer" first and segments of
    other rules (LGS_SEGMENTS) after the default ones, by name: the rows and columns of a migration."""
    known = (NOT_YET, *SEGMENT_NAMES)
    present = set(names)
    return [n for n in known if n in present] + sorted(present.difference(known))


def _segment_order(values: pd.Series) -> pd.Series:
    ranks = {name: i for i, name in enumerate(segment_order(values))}
    return values.map(ranks)


def migration(history: pd.DataFrame, orders: pd.DataFrame, start: pd.Timestamp | str,
              end: pd.Timestamp | str) -> pd.DataFrame:
    """The migration between ``start`` and ``end``: one row per (from, to) pair that has customers,
    columns :data:`MIGRATION_COLUMNS` (``customers``; their spend in GBP before ``start`` and between
    the two dates, :func:`spend_around`), most valuable segments first (:data:`NOT_YET` leads the
    from side). Staying put is a row too (from = to): every customer on ``end`` is in exactly one row,
    so the rows add up to the customers on ``end`` and, without the NOT_YET rows, to those on ``start``."""
    moved = moves(history, start, end)
    spend = spend_around(orders, start, end).reindex(moved.index, fill_value=0.0)
    joined = moved.join(spend)
    table = joined.groupby(["from_segment", "to_segment"]).agg(
        customers=("to_segment", "size"), spend_before=("spend_before", "sum"),
        spend_between=("spend_between", "sum")).reset_index()
    table[["spend_before", "spend_between"]] = table[["spend_before", "spend_between"]].round(2)
    table = table.assign(_f=_segment_order(table["from_segment"]), _t=_segment_order(table["to_segment"]))
    table = table.sort_values(["_f", "_t"], kind="stable").drop(columns=["_f", "_t"])
    return table[list(MIGRATION_COLUMNS)].astype({"customers": "int64"}).reset_index(drop=True)


def migration_summary(table: pd.DataFrame) -> dict[str, float]:
    """The migration's headline numbers: ``start_customers`` (customers on the start date),
    ``new_customers``, ``end_customers``, ``changed`` (customers whose segment changed, the new ones
    left out), ``spend_between`` (GBP, everyone's); for ``slipped`` and ``won_back`` (:data:`MOVED`'s
    segments) their ``_customers``, ``_spend_before`` and ``_spend_between``."""
    new = table["from_segment"] == NOT_YET
    out: dict[str, float] = {
        "start_customers": int(table.loc[~new, "customers"].sum()),
        "new_customers": int(table.loc[new, "customers"].sum()),
        "end_customers": int(table["customers"].sum()),
        "changed": int(table.loc[~new & (table["from_segment"] != table["to_segment"]), "customers"].sum()),
        "spend_between": round(float(table["spend_between"].sum()), 2),
    }
    for kind in ("slipped", "won-back"):
        sources, targets = MOVED[kind]
        rows = table[table["from_segment"].isin(sources) & table["to_segment"].isin(targets)]
        key = kind.replace("-", "_")
        out[f"{key}_customers"] = int(rows["customers"].sum())
        out[f"{key}_spend_before"] = round(float(rows["spend_before"].sum()), 2)
        out[f"{key}_spend_between"] = round(float(rows["spend_between"].sum()), 2)
    return out


def history_dates(history: pd.DataFrame) -> list[pd.Timestamp]:
    return sorted(pd.Timestamp(d) for d in history["as_of"].unique())


def report_window(history: pd.DataFrame, as_of: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """(from, to) of the report's migration: from the latest history date at least
    :data:`REPORT_MONTHS` months before ``as_of`` (else the first), to ``as_of``; None when the
    history has no date before ``as_of``."""
    dates = [d for d in history_dates(history) if d < pd.Timestamp(as_of)]
    if not dates:
        return None
    cutoff = pd.Timestamp(as_of) - pd.DateOffset(months=REPORT_MONTHS)
    early = [d for d in dates if d <= cutoff]
    return (early[-1] if early else dates[0]), pd.Timestamp(as_of)


def previous_date(history: pd.DataFrame, as_of: pd.Timestamp) -> pd.Timestamp:
    """The history's latest date before ``as_of``: the moved lists' default "since"."""
    if history.empty:
        raise ValueError(NO_HISTORY)
    dates = [d for d in history_dates(history) if d < pd.Timestamp(as_of)]
    if not dates:
        raise ValueError(f"the segment history has no date before {pd.Timestamp(as_of):%Y-%m-%d}: "
                         "nobody can have moved yet; give --since a later date or build again later")
    return dates[-1]


def orders_before(orders: pd.DataFrame, date: pd.Timestamp) -> pd.Series:
    """Purchase invoices per customer (index customer_id) before ``date``, from
    metrics.customer_invoices' rows (``kind`` purchase)."""
    bought = orders[(orders["kind"] == "purchase") & (orders["invoice_date"] < date)]
    return bought.groupby(bought["customer_id"].astype("int64"))["invoice_no"].nunique()


def moved(listed: pd.DataFrame, history: pd.DataFrame, kind: str, since: pd.Timestamp | str,
          as_of: pd.Timestamp, orders: pd.DataFrame | None = None) -> pd.DataFrame:
    """The campaign rows (campaign.campaign_list of the build of ``as_of``, its ``orders`` now) of the
    customers who moved as ``kind`` between ``since`` and now, highest spend first, with ``moved_from``
    (their segment on ``since``) and ``moved_since`` (that date). slipped and won-back: from and to
    the segments of :data:`MOVED`; second-order: one purchase invoice before ``since`` in ``orders``
    (metrics.customer_invoices, needed for this kind) and two or more now."""
    if kind not in MOVED_KINDS:
        raise ValueError(f"unknown --moved '{kind}': use one of {', '.join(MOVED_KINDS)}")
    since = pd.Timestamp(since)
    check_dates(history, since, pd.Timestamp(as_of), ("--since", "the build's as-of date"))
    then = segments_on(history, since)["segment"]
    rows = listed.assign(moved_from=listed["customer_id"].map(then).astype(object), moved_since=since)
    if kind == "second-order":
        if orders is None:
            raise ValueError("second-order needs the customers' invoices (orders=...)")
        before = rows["customer_id"].map(orders_before(orders, since))
        keep = (before == 1) & (rows["orders"] >= 2)
    else:
        sources, targets = MOVED[kind]
        keep = rows["moved_from"].isin(sources) & rows["segment"].isin(targets)
    out = rows[keep]
    out = out.sort_values(["spend", "customer_id"], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)


__all__ = ["ACTIVE_SEGMENTS", "HISTORY_COLUMNS", "MIGRATION_COLUMNS", "MOVED", "MOVED_KINDS", "MOVED_MEANING",
           "NOT_YET", "REPORT_MONTHS", "backfill_dates", "changes", "empty_history", "history_dates",
           "latest_segments", "migration", "migration_summary", "moved", "moves", "orders_before",
           "previous_date", "report_window", "segments_on", "spend_around", "to_append"]
