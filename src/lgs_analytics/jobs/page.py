"""What a reader shows: the published build, or a what-if computed in memory for other parameters.

`lgs report`, the notebook and the dashboard read through here, and the choice between the two is
made once (:func:`view`): a what-if never writes, so the web app's tables stay those of the build.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from lgs_analytics.analytics import campaign, history, predict
from lgs_analytics.jobs.build import compute
from lgs_analytics.results import (
    Analysis,
    BuildParameters,
    Forecast,
    Page,
    Provenance,
    Recommendations,
    Scores,
)
from lgs_analytics.store import db, runs, tables
from lgs_analytics.store.parquet import frame_to_record

NOTHING_PUBLISHED = "nothing is published yet: run `lgs build` (or `lgs report --load data/raw`)"


class NothingPublished(ValueError):
    """No build is published yet (a one-line refusal; `lgs dashboard --wait` waits for one instead)."""


RECORDS = ("headline", "amounts_summary", "amounts_p85_summary")  # Analysis fields that are dicts


def _provenance(row: dict | None, batches: list[dict], what_if: str = "") -> Provenance:
    if row is None:
        return Provenance(None, None, BuildParameters(), tuple(batches), what_if)
    return Provenance(row["build_id"], pd.Timestamp(row["finished_at"]),
                      BuildParameters.from_json(row["parameters"]),
                      tuple(row["batches"]), what_if, row["forecast"].get("unavailable", ""),
                      row["package_version"])


def current_build() -> Provenance | None:
    """The current build's provenance, or None before the first build."""
    with db.connect() as conn:
        row = tables.read_current_build(conn)
    return None if row is None else _provenance(row, row["batches"])


def is_stale() -> bool:
    """Whether a load added lines after the current build read the raw layer (runs.build_state)."""
    with db.connect() as conn:
        return runs.build_state(conn).stale


def _day(value) -> dt.date | None:
    return None if value is None else pd.Timestamp(value).date()


def view(method: str = "standard", as_of=None, start=None, end=None) -> tuple[Provenance | None, bool]:
    """(the current build, whether these parameters make a what-if): the published build's own
    parameters show it; anything else is computed in memory. Before any build, only the defaults
    are no what-if (and there is nothing to show yet)."""
    current = current_build()
    if current is not None:
        return current, not current.parameters.same_view(method, as_of, start, end)
    return None, not (method == "standard" and as_of is None and start is None and end is None)


def published(method: str = "standard", orders: bool = False) -> Page:
    """The current build as a page: exactly what the web app and the dashboard read, from one
    snapshot (a build published meanwhile never mixes into it); every customer's invoices too when
    ``orders`` (the dashboard's customer pages)."""
    with db.snapshot() as conn:
        row = tables.read_current_build(conn)
        if row is None:
            raise NothingPublished(NOTHING_PUBLISHED)
        if method not in row["methods"]:
            raise ValueError(f"the current build has no '{method}' scores: run `lgs build --classic`")
        as_of, customers, segments = tables.read_scores(conn, method)
        frames = tables.read_frames(conn, row["build_id"])
        predictions = tables.read_predictions(conn)
        listed = tables.read_campaign(conn)
        charts = tables.read_charts(conn, row["build_id"]) if method == "standard" else {}
        invoices = tables.read_customer_orders(conn) if orders else None
        recommended = Recommendations(tables.read_recommendations(conn), tables.read_product_pairs(conn),
                                      row["recommendations"]) if row["recommendations"] else None
    values = {}
    for name in Analysis.field_names():
        frame = frames[name]
        values[name] = (frame_to_record(frame) if name in RECORDS
                        else frame.iloc[:, 0] if name in ("amounts", "amounts_p85") else frame)
    meta = row["forecast"]
    if meta.get("unavailable"):
        outlook = predict.unavailable(pd.Timestamp(meta["as_of"]), meta["horizon_days"], meta["unavailable"],
                                      meta.get("detail", ""), frames.get("holdout_buckets"),
                                      meta["holdout_metrics"], meta.get("candidates"), meta.get("backtest"),
                                      meta.get("holdout_by_month"))
    else:
        outlook = Forecast(pd.Timestamp(meta["as_of"]), meta["horizon_days"], predictions,
                           frames["holdout_buckets"], meta["holdout_metrics"], meta["fit_seconds"],
                           model=meta.get("model", ""), candidates=meta.get("candidates", {}),
                           backtest=meta.get("backtest", {}), by_month=meta.get("holdout_by_month", []))
    if method != "standard":  # the published list is of the standard scores: not this page's segments
        listed = listed.iloc[0:0]
    if invoices is not None:
        invoices = invoices.sort_values(["customer_id", "invoice_date", "invoice_no"],
                                        kind="stable").reset_index(drop=True)
    provenance = _provenance(row, row["batches"])
    return Page(provenance, Analysis(**values),
                Scores(method, as_of, customers, segments, provenance.parameters.segment_rules), outlook,
                listed, charts, invoices, recommendations=recommended,
                migration=migration_frame(frames.get("migration")))


def migration_frame(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """The published migration (report_frames' ``migration``) with its dates back in its attrs."""
    if frame is None or frame.empty:
        return None
    out = frame.drop(columns=["start", "end"]).reset_index(drop=True)
    out.attrs.update(start=str(frame["start"].iloc[0]), end=str(frame["end"].iloc[0]))
    return out


def published_campaign(segment: str | None = None, churn_risk: bool = False, due_back: bool = False
                       ) -> tuple[Provenance, pd.DataFrame]:
    """(the current build, its campaign rows): one segment's (any case), the churn alerts, the
    customers due back (campaign.due_list), or several of these."""
    with db.snapshot() as conn:
        row = tables.read_current_build(conn)
        if row is None:
            raise NothingPublished(NOTHING_PUBLISHED)
        listed = tables.read_campaign(conn)
    return _provenance(row, row["batches"]), campaign.select(listed, segment, churn_risk, due_back)


def published_recommendations(customer_id: int | None = None,
                              stock_code: str | None = None) -> tuple[Provenance, pd.DataFrame, pd.DataFrame]:
    """(the current build, recommended products, product pairs): one customer's products (and the
    pairs of nothing), or one product's partners and the customers it is recommended to."""
    with db.snapshot() as conn:
        row = tables.read_current_build(conn)
        if row is None:
            raise NothingPublished(NOTHING_PUBLISHED)
        if not row["recommendations"]:
            raise ValueError("the current build has no recommendations (built by an older version): "
                             "run `lgs build`")
        lists = tables.read_recommendations(conn, customer_id, stock_code)
        pairs = tables.read_product_pairs(conn, stock_code or "")  # none for a customer's list
    return _provenance(row, row["batches"]), lists, pairs


def published_history() -> tuple[Provenance, pd.DataFrame, pd.DataFrame]:
    """(the current build, the segment history, every customer's invoices) from one snapshot: what a
    migration between any two dates is computed from (analytics.history)."""
    with db.snapshot() as conn:
        row = tables.read_current_build(conn)
        if row is None:
            raise NothingPublished(NOTHING_PUBLISHED)
        return (_provenance(row, row["batches"]), tables.read_segment_history(conn),
                tables.read_customer_orders(conn))


def published_migration(start, end) -> tuple[Provenance, pd.DataFrame]:
    """(the current build, the migration between ``start`` and ``end``: history.migration)."""
    build, known, orders = published_history()
    return build, history.migration(known, orders, start, end)


def published_moved(kind: str, since=None) -> tuple[Provenance, pd.Timestamp, pd.DataFrame]:
    """(the current build, the "since" date, the campaign rows of the customers who moved as ``kind``
    since then: history.moved; by default since the history's date before the build's as-of)."""
    with db.snapshot() as conn:
        row = tables.read_current_build(conn)
        if row is None:
            raise NothingPublished(NOTHING_PUBLISHED)
        known, listed = tables.read_segment_history(conn), tables.read_campaign(conn)
        orders = tables.read_customer_orders(conn) if kind == "second-order" else None
    as_of = pd.Timestamp(row["as_of"])
    start = history.previous_date(known, as_of) if since is None else pd.Timestamp(since)
    return _provenance(row, row["batches"]), start, history.moved(listed, known, kind, start, as_of, orders)


def what_if(method: str = "standard", as_of=None, start=None, end=None) -> Page:
    """The page for other parameters, computed in memory: it never changes what the web app reads."""
    parameters = BuildParameters((method,), _day(as_of), _day(start), _day(end))
    result = compute(parameters)
    with db.connect() as conn:
        row = tables.read_current_build(conn)
        batches = tables.read_batches(conn)
    shown = ", ".join(f"{k.replace('_', '-')} {v}" for k, v in parameters.as_json().items()
                      if v and k not in ("methods", "horizon_days", "segment_rules"))
    published_rules = BuildParameters.from_json(row["parameters"]).segment_rules if row else None
    if published_rules is not None and published_rules.digest != parameters.segment_rules.digest:
        shown = ", ".join(filter(None, [shown, f"segment rules {parameters.segment_rules.label}"]))
    base = f"build {row['build_id']}" if row else "no published build yet"
    label = (f"What-if: {method} method{', ' + shown if shown else ''}. Computed for this page only: "
             f"the web app and the dashboard show {base}.")
    return Page(_provenance(row, batches, label), result.analysis, result.scores[method], result.forecast,
                result.campaign, orders=result.customer_orders, recommendations=result.recommendations,
                migration=result.migration)


def page(method: str = "standard", as_of=None, start=None, end=None) -> Page:
    """The published build when the parameters are its own, else a what-if (the notebook's one read)."""
    current, is_what_if = view(method, as_of, start, end)
    if not is_what_if:
        if current is None:
            raise NothingPublished(NOTHING_PUBLISHED)
        return published(method)
    return what_if(method, as_of, start, end)
