"""Publishing a build: the one writer of the marts the web app, the dashboard and the report read.

:func:`publish` replaces every mart (customer_rfm, segments, customer_predictions,
campaign_customers, customer_orders, report_frames, report_charts, product_pairs,
customer_recommendations), appends the build's rows to ``segment_history`` (the one mart kept, never
replaced) and records the build in ``builds``, all in the caller's ONE transaction: readers see the
previous build or this one, never a mix. A refused build only adds its row to ``builds``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import pandas as pd
from psycopg2 import sql as pgsql

from lgs_analytics.store import db
from lgs_analytics.store.db import Connection
from lgs_analytics.store.parquet import frame_to_parquet

RFM_COLUMNS = ("build_id", "customer_id", "method", "as_of", "recency", "frequency", "monetary",
               "r_score", "f_score", "m_score", "rfm_score", "segment")
SEGMENT_COLUMNS = ("build_id", "method", "segment", "description", "action", "priority", "customers",
                   "customer_share", "revenue", "revenue_share", "mean_recency", "mean_frequency",
                   "mean_monetary", "as_of")
PREDICTION_COLUMNS = ("build_id", "customer_id", "as_of", "p_alive", "expected_purchases", "horizon_days",
                      "expected_avg_order_value", "expected_spend", "clv_12m", "past_value", "churn_risk",
                      "p_no_order_90d")
CAMPAIGN_COLUMNS = ("build_id", "customer_id", "segment", "action", "priority", "r_score", "f_score",
                    "m_score", "rfm_score", "country", "first_order", "last_order", "days_since", "orders",
                    "spend", "p_alive", "clv_12m", "value_at_risk", "churn_risk", "churn_group",
                    "usual_gap_days", "due_from", "due_to", "due_status", "p_no_order_90d",
                    "offer_1_code", "offer_1", "offer_2_code", "offer_2", "offer_3_code", "offer_3",
                    "country_code", "region", "customer_type", "order_units_median", "order_value_median",
                    "age_band", "gender", "area")
PAIR_COLUMNS = ("build_id", "stock_code", "description", "rank", "related_code", "related_description",
                "score", "lift", "baskets_together", "share")
RECOMMENDATION_COLUMNS = ("build_id", "customer_id", "rank", "stock_code", "description", "score", "reason",
                          "based_on", "scorer")
ORDER_COLUMNS = ("build_id", "customer_id", "invoice_no", "invoice_date", "kind", "lines", "units", "amount",
                 "country")
HISTORY_COLUMNS = ("customer_id", "as_of", "segment", "previous_segment", "frequency", "monetary",
                   "build_id", "rules_digest")
MARTS = ("customer_rfm", "segments", "customer_predictions", "campaign_customers", "customer_orders",
         "report_frames", "report_charts", "product_pairs", "customer_recommendations")
BUILD_LOCK = "lgs_build"
# A row of ``builds`` as the pipeline assembles it: started_at, methods, as_of, parameters, batches,
# last_batch_id, forecast ... (the named parameters of _insert_build).
BuildRecord = dict[str, Any]


class Superseded(Exception):
    """A build published meanwhile read a newer snapshot than this one: this one must not replace it."""


def _check_not_older(conn: Connection, record: BuildRecord) -> None:
    """Refuse to publish a snapshot older than the current build's: a build that read before a load
    and a later build (which saw it) finished first. Newer = a later last batch, or the same batches
    read by a build started later."""
    rows = db.query(conn, "SELECT build_id, last_batch_id, started_at FROM current_build")
    if not rows:
        return
    build_id, last_batch, started = rows[0]
    mine = record["last_batch_id"] or 0
    if (last_batch or 0) > mine or ((last_batch or 0) == mine and started > record["started_at"]):
        raise Superseded(f"build {build_id}, published while this one ran, is newer (it read the loads up "
                         f"to batch {last_batch}, this one up to batch {mine}) and stays current")


def _insert_build(conn: Connection, record: BuildRecord, status: str) -> int:
    build_id: int = db.query(conn, """
        INSERT INTO builds (started_at, status, methods, as_of, window_start, window_end, parameters,
                            batches, last_batch_id, rows_read, customers, synthetic, forecast,
                            recommendations, package_version, detail)
        VALUES (%(started_at)s, %(status)s, %(methods)s, %(as_of)s, %(window_start)s, %(window_end)s,
                %(parameters)s, %(batches)s, %(last_batch_id)s, %(rows_read)s, %(customers)s,
                %(synthetic)s, %(forecast)s, %(recommendations)s, %(package_version)s, %(detail)s)
        RETURNING build_id""",
        {**record, "status": status, "parameters": _json(record["parameters"]),
         "batches": _json(record["batches"]), "forecast": _json(record["forecast"]),
         "recommendations": _json(record.get("recommendations", {}))})[0][0]
    return build_id


def _json(value: object) -> str:
    """JSON that Postgres accepts: a figure that is not a number (a holdout error over no purchases,
    NaN) is null, where json.dumps would write NaN and jsonb refuse it."""
    return json.dumps(_finite(value))


def _finite(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def record_refused(conn: Connection, record: BuildRecord, status: str = "refused") -> int:
    """Log a build that published nothing (refused, or failed), leaving the marts as they were."""
    return _insert_build(conn, record, status)


def _booleans(values: pd.Series) -> pd.Series:
    return values.map({True: "t", False: "f"})


def publish(conn: Connection, record: BuildRecord,
            scores: dict[str, tuple[pd.Timestamp, pd.DataFrame, pd.DataFrame]],
            predictions: pd.DataFrame | None, frames: dict[str, pd.DataFrame],
            campaign: pd.DataFrame, customer_orders: pd.DataFrame,
            charts: dict[str, tuple[str, str]] | None = None,
            recommended: tuple[pd.DataFrame, pd.DataFrame] | None = None,
            history: pd.DataFrame | None = None) -> int:
    """Replace every mart with this build's rows and record it as published; return its build id.

    ``scores``: method -> (as_of, customers, segment summary); ``predictions``: indexed by
    customer_id (None: the build publishes none); ``frames``: the report aggregates by name;
    ``campaign``: analytics.campaign.campaign_list; ``customer_orders``: metrics.customer_invoices;
    ``charts``: name -> (caption, SVG) of the report's charts; ``recommended``: (each customer's
    products, the product pairs) as analytics.recommend makes them; ``history``: the segment history
    rows the build adds (analytics.history.to_append), appended, never replacing any
    (:func:`append_history`). Raises :class:`Superseded` (nothing written) when a build of a newer
    snapshot was published since this one read the raw layer.
    """
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (BUILD_LOCK,))  # one publisher at a time
    _check_not_older(conn, record)  # under the lock: no build can be published between check and write
    with conn.cursor() as cur:
        for table in MARTS:
            # DELETE, not TRUNCATE: readers keep seeing the old rows until this transaction commits.
            cur.execute(pgsql.SQL("DELETE FROM {}").format(pgsql.Identifier(table)))
    build_id = _insert_build(conn, record, "published")
    for method, (as_of, customers, segments) in scores.items():
        stamp: dict[str, int | str | dt.date] = {"build_id": build_id, "method": method,
                                                 "as_of": pd.Timestamp(as_of).date()}
        db.copy_in(conn, "customer_rfm", list(RFM_COLUMNS), customers.assign(**stamp)[list(RFM_COLUMNS)])
        rounded = segments.assign(**stamp).round({"customer_share": 2, "revenue": 2, "revenue_share": 2,
                                                  "mean_recency": 2, "mean_frequency": 2, "mean_monetary": 2})
        db.copy_in(conn, "segments", list(SEGMENT_COLUMNS), rounded[list(SEGMENT_COLUMNS)])
    if predictions is not None and len(predictions):
        rows = (predictions.reset_index().rename(columns={"clv": "clv_12m"})
                .assign(build_id=build_id, as_of=pd.Timestamp(record["as_of"]).date(),
                        horizon_days=record["forecast"]["horizon_days"]))
        rows["churn_risk"] = _booleans(rows["churn_risk"])
        db.copy_in(conn, "customer_predictions", list(PREDICTION_COLUMNS), rows[list(PREDICTION_COLUMNS)])
    if len(campaign):
        rows = campaign.assign(build_id=build_id, churn_risk=_booleans(campaign["churn_risk"]),
                               first_order=campaign["first_order"].dt.date,
                               last_order=campaign["last_order"].dt.date,
                               due_from=campaign["due_from"].dt.date, due_to=campaign["due_to"].dt.date)
        db.copy_in(conn, "campaign_customers", list(CAMPAIGN_COLUMNS), rows[list(CAMPAIGN_COLUMNS)])
    if len(customer_orders):
        db.copy_in(conn, "customer_orders", list(ORDER_COLUMNS),
                   customer_orders.assign(build_id=build_id)[list(ORDER_COLUMNS)])
    if recommended is not None:
        lists, pairs = recommended
        if len(lists):
            db.copy_in(conn, "customer_recommendations", list(RECOMMENDATION_COLUMNS),
                       lists.assign(build_id=build_id)[list(RECOMMENDATION_COLUMNS)])
        if len(pairs):
            db.copy_in(conn, "product_pairs", list(PAIR_COLUMNS),
                       pairs.assign(build_id=build_id)[list(PAIR_COLUMNS)])
    with conn.cursor() as cur:
        for name, frame in frames.items():
            cur.execute("INSERT INTO report_frames (build_id, name, frame) VALUES (%s, %s, %s)",
                        (build_id, name, frame_to_parquet(frame)))
        for name, (caption, markup) in (charts or {}).items():
            cur.execute("INSERT INTO report_charts (build_id, name, caption, svg) VALUES (%s, %s, %s, %s)",
                        (build_id, name, caption, markup))
    if history is not None:
        append_history(conn, build_id, history)
    return build_id


def append_history(conn: Connection, build_id: int, rows: pd.DataFrame) -> int:
    """Append the rows dated after the history's last date (the publish lock is held: a build that
    read the history before another appended to it adds nothing twice); return how many."""
    last = db.query(conn, "SELECT max(as_of) FROM segment_history")[0][0]
    if last is not None:
        rows = rows[rows["as_of"] > pd.Timestamp(last)]
    if rows.empty:
        return 0
    stamped = rows.assign(build_id=build_id, as_of=pd.to_datetime(rows["as_of"]).dt.date,
                          monetary=rows["monetary"].round(2))
    return db.copy_in(conn, "segment_history", list(HISTORY_COLUMNS), stamped[list(HISTORY_COLUMNS)])
