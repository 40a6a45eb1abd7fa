"""Reading from Postgres: the raw layer for a build or a what-if, and the published build.

Readers only: the one writer of the marts is :mod:`lgs_analytics.store.publish`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pyarrow as pa

from lgs_analytics.config import DB_COLUMNS
from lgs_analytics.store import db
from lgs_analytics.store.db import Connection
from lgs_analytics.store.parquet import frame_from_parquet

BASE_COLUMNS = DB_COLUMNS
_ARROW_TYPES = {
    "invoice_no": pa.string(), "stock_code": pa.string(), "description": pa.string(),
    "quantity": pa.int64(), "invoice_date": pa.timestamp("us"), "unit_price": pa.float64(),
    "customer_id": pa.int64(), "country": pa.string(),
}


def _window_bounds(start: dt.date | str | None,
                   end: dt.date | str | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[from, before): the first instant of ``start`` and the midnight after ``end`` (an inclusive
    end date), each None when not given."""
    return (None if start is None else pd.Timestamp(start).to_pydatetime(),
            None if end is None else (pd.Timestamp(end).normalize() + pd.Timedelta(days=1)).to_pydatetime())


def _date_filter(start: dt.date | str | None,
                 end: dt.date | str | None) -> tuple[str, tuple[dt.datetime, ...]]:
    after, before = _window_bounds(start, end)
    clauses = [c for c, v in (("invoice_date >= %s", after), ("invoice_date < %s", before)) if v is not None]
    params = tuple(v for v in (after, before) if v is not None)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _typed(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Fix the dtypes of the contract: customer_id nullable Int64, quantity int64, text as string."""
    if frame.empty:
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    out = frame.astype({"customer_id": "Int64", "quantity": "int64", "unit_price": "float64",
                        "invoice_no": "string", "stock_code": "string", "description": "string",
                        "country": "string"})
    out["invoice_date"] = pd.to_datetime(out["invoice_date"])
    return out


LINE_TYPES = {"invoice_no": pa.string(), "invoice_date": pa.timestamp("us"), "customer_id": pa.int64(),
              "country": pa.string(), "step": pa.int64(), "lines": pa.int64(), "quantity": pa.int64(),
              "line_total": pa.float64(), "returned": pa.float64()}


def read_lines(conn: Connection, start: dt.date | str | None = None,
               end: dt.date | str | None = None) -> pd.DataFrame:
    """The transactions in [start, end] grouped by invoice, date, customer, country and cleaning step
    (``line_groups``, sql/03_lines.sql): what a build computes from, columns as in LINE_TYPES."""
    where, params = _date_filter(start, end)
    frame = db.copy_out(
        conn,
        "SELECT invoice_no, invoice_date, customer_id, country, step, lines, quantity, "
        f"amount::float8 AS line_total, returned::float8 AS returned FROM line_groups{where} "
        "ORDER BY invoice_date, invoice_no, customer_id, country, step",
        params, dtypes=LINE_TYPES,
    )
    if frame.empty:
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in LINE_TYPES})
    out = frame.astype({"invoice_no": "string", "customer_id": "Int64", "country": "string",
                        "step": "int64", "lines": "int64", "quantity": "int64", "line_total": "float64",
                        "returned": "float64"})
    out["invoice_date"] = pd.to_datetime(out["invoice_date"])
    return out


RULE_INPUTS = ("invoice_no", "stock_code", "quantity", "unit_price", "customer_id", "occurrence")


def clean_steps(conn: Connection, lines: pd.DataFrame) -> list[int]:
    """The cleaning step the rules give each of ``lines`` (columns RULE_INPUTS), in order: the same
    ``clean_step`` as every loaded line gets, for lines that were never loaded."""
    values = lines[list(RULE_INPUTS)].assign(row_no=range(len(lines)))
    db.query(conn, "CREATE TEMP TABLE rule_inputs (invoice_no text, stock_code text, quantity integer, "
                   "unit_price numeric, customer_id integer, occurrence integer, row_no bigint) "
                   "ON COMMIT DROP")
    db.copy_in(conn, "rule_inputs", [*RULE_INPUTS, "row_no"], values)
    rows = db.query(conn, f"SELECT clean_step({', '.join(RULE_INPUTS)}) FROM rule_inputs ORDER BY row_no")
    db.query(conn, "DROP TABLE rule_inputs")
    return [step for (step,) in rows]


def read_cleaning_rules(conn: Connection) -> list[tuple[int, str, str, bool]]:
    """The cleaning rules in order, as (step, name, rule, set_aside): ``cleaning_rules``, sql/03_lines.sql."""
    return [tuple(row) for row in
            db.query(conn, "SELECT step, name, rule, set_aside FROM cleaning_rules ORDER BY step")]


def read_top_products(conn: Connection, start: dt.date | str | None = None, end: dt.date | str | None = None,
                      n: int = 10, by: str = "revenue") -> pd.DataFrame:
    """The ``n`` best products of [start, end] by ``revenue`` (GBP) or ``quantity``, net of the
    identified customers' cancellations (``top_products``, sql/06_reports.sql): ``stock_code,
    description`` (its most common), ``quantity, revenue, invoices`` (distinct purchase invoices)."""
    if by not in ("revenue", "quantity"):
        raise ValueError(f"by must be 'revenue' or 'quantity', not {by!r}")
    window = _window_bounds(start, end)
    # A plain SELECT, not COPY: Postgres runs COPY's query without parallel workers, and the two
    # scans of every line took 8.3 s at 10x the full size that way, against 2.3 s.
    columns = ("stock_code", "description", "quantity", "revenue", "invoices")
    rows = db.query(conn, "SELECT stock_code, description, quantity, revenue::float8 AS revenue, invoices "
                          "FROM top_products(%s, %s, %s, %s)", (*window, n, by))
    frame = pd.DataFrame(rows, columns=list(columns))
    return frame.astype({"stock_code": "string", "description": "string", "quantity": "int64",
                         "revenue": "float64", "invoices": "int64"})


BASKET_TYPES = {"invoice_no": pa.string(), "customer_id": pa.int64(), "stock_code": pa.string(),
                "invoice_date": pa.timestamp("us")}


def read_basket_items(conn: Connection, start: dt.date | str | None = None,
                      end: dt.date | str | None = None) -> pd.DataFrame:
    """The purchase baskets of [start, end]: the purchase lines of identified customers as invoice,
    customer, product and date (``basket_items``, sql/06_reports.sql; a product on two lines of an
    invoice comes twice), what recommendations are made from."""
    frame = db.copy_out(conn, "SELECT invoice_no, customer_id, stock_code, invoice_date "
                              "FROM basket_items(%s, %s)", _window_bounds(start, end), dtypes=BASKET_TYPES)
    if frame.empty:
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in BASKET_TYPES})
    out = frame.astype({"invoice_no": "string", "customer_id": "int64", "stock_code": "string"})
    out["invoice_date"] = pd.to_datetime(out["invoice_date"])
    return out


def read_product_descriptions(conn: Connection, start: dt.date | str | None = None,
                              end: dt.date | str | None = None) -> pd.Series:
    """stock_code -> its most common description on the purchase lines of [start, end]."""
    rows = db.query(conn, "SELECT stock_code, description FROM product_descriptions(%s, %s)",
                    _window_bounds(start, end))
    return pd.Series({code: text for code, text in rows}, dtype="string", name="description")


RECOMMENDATION_READ = ("customer_id", "rank", "stock_code", "description", "score", "reason", "based_on",
                       "scorer")


def read_recommendations(conn: Connection, customer_id: int | None = None,
                         stock_code: str | None = None) -> pd.DataFrame:
    """The current build's recommended products (``customer_recommendations``): every customer's, one
    customer's, or (``stock_code``) the customers a product is recommended to, strongest first."""
    frame = db.copy_out(conn, f"""
        SELECT {', '.join(RECOMMENDATION_READ)} FROM customer_recommendations
        WHERE (%s::integer IS NULL OR customer_id = %s) AND (%s::text IS NULL OR stock_code = %s)
        ORDER BY CASE WHEN %s::text IS NULL THEN 0 ELSE -score END, customer_id, rank""",
        (customer_id, customer_id, stock_code, stock_code, stock_code),
        dtypes={"stock_code": pa.string(), "description": pa.string(), "score": pa.float64(),
                "reason": pa.string(), "based_on": pa.string(), "scorer": pa.string()})
    if frame.empty:
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in RECOMMENDATION_READ})
    return frame.astype({"customer_id": "int64", "rank": "int64", "stock_code": "str",
                         "description": "string", "score": "float64", "reason": "str", "based_on": "string",
                         "scorer": "str"})


PAIR_READ = ("stock_code", "description", "rank", "related_code", "related_description", "score", "lift",
             "baskets_together", "share")


def read_product_pairs(conn: Connection, stock_code: str | None = None) -> pd.DataFrame:
    """The current build's products bought together (``product_pairs``): every product's partners, or
    one product's, strongest first."""
    frame = db.copy_out(conn, f"""
        SELECT {', '.join(PAIR_READ)} FROM product_pairs WHERE %s::text IS NULL OR stock_code = %s
        ORDER BY stock_code, rank""", (stock_code, stock_code),
        dtypes={"stock_code": pa.string(), "description": pa.string(), "related_code": pa.string(),
                "related_description": pa.string(), "score": pa.float64(), "lift": pa.float64(),
                "share": pa.float64()})
    if frame.empty:
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in PAIR_READ})
    return frame.astype({"stock_code": "str", "description": "string", "rank": "int64", "related_code": "str",
                         "related_description": "string", "score": "float64", "lift": "float64",
                         "baskets_together": "int64", "share": "float64"})


def read_export_rows(conn: Connection, start: dt.date | str | None = None,
                     end: dt.date | str | None = None) -> pd.DataFrame:
    """Every row as exported, in every file loaded (overlaps included): the classic method's input."""
    where, params = _date_filter(start, end)
    frame = db.copy_out(
        conn,
        f"SELECT {', '.join(BASE_COLUMNS)} FROM stg_export_rows{where}",  # any order: classic ignores it
        params, dtypes={c: _ARROW_TYPES[c] for c in BASE_COLUMNS},
    )
    return _typed(frame, BASE_COLUMNS)


def read_batches(conn: Connection, up_to: int | None = None) -> list[dict[str, Any]]:
    """Every load batch (up to batch ``up_to``): the provenance of a build or a what-if. The micro-batches
    of a live source (`lgs live`, hundreds a day) are one entry, its newest batch, with their sums and
    how many they are (``batches``)."""
    rows = db.query(conn, """
        SELECT max(batch_id), source_file, sum(rows_read), sum(rows_loaded), sum(rows_new),
               bool_or(synthetic), max(loaded_at), count(*)
        FROM load_batches WHERE %s IS NULL OR batch_id <= %s
        GROUP BY CASE WHEN source_file LIKE 'live:%%' THEN source_file ELSE batch_id::text END, source_file
        ORDER BY 1""", (up_to, up_to))
    return [{"batch_id": b, "file": f, "rows_read": int(r), "rows_loaded": int(n), "rows_new": int(new),
             "synthetic": s, "loaded_at": at.isoformat(),
             **({"batches": int(k)} if f.startswith("live:") else {})} for b, f, r, n, new, s, at, k in rows]


BUILD_COLUMNS = ("build_id", "finished_at", "parameters", "batches", "last_batch_id", "forecast",
                 "package_version", "methods", "as_of", "customers", "synthetic", "recommendations")


def read_current_build(conn: Connection) -> dict[str, Any] | None:
    """The current (newest published) build's row, or None before the first build."""
    rows = db.query(conn, f"SELECT {', '.join(BUILD_COLUMNS)} FROM current_build")
    return dict(zip(BUILD_COLUMNS, rows[0], strict=True)) if rows else None


def read_scores(conn: Connection, method: str) -> tuple[pd.Timestamp, pd.DataFrame, pd.DataFrame]:
    """The current build's (as_of, customers, segments) for ``method``, typed as the analytics made them."""
    as_of = db.query(conn, "SELECT max(as_of) FROM segments WHERE method = %s", (method,))[0][0]
    customers = db.copy_out(conn, """
        SELECT customer_id, recency, frequency, monetary, r_score, f_score, m_score, rfm_score, segment
        FROM customer_rfm WHERE method = %s ORDER BY customer_id""", (method,),
        dtypes={"rfm_score": pa.string(), "segment": pa.string()})
    segments = db.copy_out(conn, """
        SELECT segment, description, action, priority, customers, customer_share, revenue, revenue_share,
               mean_recency, mean_frequency, mean_monetary
        FROM segments WHERE method = %s ORDER BY customers DESC, priority""", (method,),
        dtypes={"mean_recency": pa.float64(), "mean_frequency": pa.float64(),
                "mean_monetary": pa.float64()})
    customers = customers.astype({"customer_id": "int64", "recency": "int64", "frequency": "int64",
                                  "monetary": "float64", "r_score": "int64", "f_score": "int64",
                                  "m_score": "int64", "rfm_score": "str", "segment": "str"})
    segments = segments.astype({"segment": "str", "description": "str", "action": "str",
                                "priority": "int64", "customers": "int64", "customer_share": "float64",
                                "revenue": "float64", "revenue_share": "float64"})
    return pd.Timestamp(as_of), customers, segments


PREDICTION_VALUES = ("p_alive", "expected_purchases", "expected_avg_order_value", "expected_spend", "clv",
                     "p_no_order_90d")


def read_predictions(conn: Connection) -> pd.DataFrame:
    """The current build's predictions, indexed by customer_id (money in GBP)."""
    frame = db.copy_out(conn, """
        SELECT customer_id, p_alive, expected_purchases, expected_avg_order_value, expected_spend,
               clv_12m AS clv, churn_risk, past_value, p_no_order_90d
        FROM customer_predictions ORDER BY customer_id""",
        dtypes={c: pa.float64() for c in (*PREDICTION_VALUES, "past_value")} | {"churn_risk": pa.bool_()})
    if frame.empty:
        return frame
    return frame.astype({"customer_id": "int64"}).set_index("customer_id")


def read_frames(conn: Connection, build_id: int) -> dict[str, pd.DataFrame]:
    """The report aggregates a build published, by name."""
    rows = db.query(conn, "SELECT name, frame FROM report_frames WHERE build_id = %s", (build_id,))
    return {name: frame_from_parquet(bytes(data)) for name, data in rows}


OFFER_READ = ("offer_1_code", "offer_1", "offer_2_code", "offer_2", "offer_3_code", "offer_3")
CAMPAIGN_READ = ("customer_id", "segment", "action", "priority", "r_score", "f_score", "m_score", "rfm_score",
                 "country", "first_order", "last_order", "days_since", "orders", "spend", "p_alive",
                 "clv_12m", "value_at_risk", "churn_risk", "churn_group", "usual_gap_days", "due_from",
                 "due_to", "due_status", "p_no_order_90d", *OFFER_READ)
WHO_READ = ("country_code", "region", "customer_type", "age_band", "gender", "area")  # text columns


def read_campaign(conn: Connection, segment: str | None = None, churn_risk: bool = False) -> pd.DataFrame:
    """The current build's campaign list (analytics.campaign.CAMPAIGN_COLUMNS), all of it or one
    segment's (exact name) or the churn alerts', in the list's own order."""
    frame = db.copy_out(conn, f"""
        SELECT {', '.join(CAMPAIGN_READ + WHO_READ)}, order_units_median, order_value_median
        FROM campaign_customers
        WHERE (%s::text IS NULL OR segment = %s) AND (NOT %s OR churn_risk)
        ORDER BY priority, spend DESC, customer_id""", (segment, segment, churn_risk),
        dtypes={"segment": pa.string(), "action": pa.string(), "rfm_score": pa.string(),
                "country": pa.string(),
                "churn_group": pa.string(), "due_status": pa.string(), "usual_gap_days": pa.int64(),
                "due_from": pa.timestamp("us"), "due_to": pa.timestamp("us"),
                "p_alive": pa.float64(), "clv_12m": pa.float64(), "p_no_order_90d": pa.float64(),
                "value_at_risk": pa.float64(), "spend": pa.float64(), "churn_risk": pa.bool_(),
                "first_order": pa.timestamp("us"), "last_order": pa.timestamp("us")}
        | {c: pa.string() for c in OFFER_READ + WHO_READ}
        | {"order_units_median": pa.float64(), "order_value_median": pa.float64()})
    if frame.empty:
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in (
            *CAMPAIGN_READ, *WHO_READ, "order_units_median", "order_value_median")})
    frame = frame.astype({"customer_id": "int64", "priority": "int64", "r_score": "int64", "f_score": "int64",
                          "m_score": "int64", "days_since": "int64", "orders": "int64", "spend": "float64",
                          "p_alive": "float64", "clv_12m": "float64", "value_at_risk": "float64",
                          "p_no_order_90d": "float64",
                          "churn_risk": "bool", "segment": "str", "action": "str", "rfm_score": "str",
                          "country": "string", "churn_group": "string", "usual_gap_days": "Int64",
                          "due_status": "string", "order_units_median": "float64",
                          "order_value_median": "float64"} | {c: "string" for c in OFFER_READ + WHO_READ})
    for column in ("first_order", "last_order", "due_from", "due_to"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def read_customer_orders(conn: Connection, customer_id: int | None = None) -> pd.DataFrame:
    """The current build's invoices of one customer (or of all), oldest first."""
    frame = db.copy_out(conn, """
        SELECT customer_id, invoice_no, invoice_date, kind, lines, units, amount, country FROM customer_orders
        WHERE %s::integer IS NULL OR customer_id = %s ORDER BY customer_id, invoice_date, invoice_no""",
        (customer_id, customer_id),
        dtypes={"invoice_no": pa.string(), "kind": pa.string(), "country": pa.string(),
                "invoice_date": pa.timestamp("us"), "amount": pa.float64()})
    if frame.empty:
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in
                              ("customer_id", "invoice_no", "invoice_date", "kind", "lines", "units",
                               "amount", "country")})
    frame = frame.astype({"customer_id": "int64", "lines": "int64", "units": "int64", "amount": "float64",
                          "invoice_no": "string", "kind": "string", "country": "string"})
    frame["invoice_date"] = pd.to_datetime(frame["invoice_date"])
    return frame


def read_charts(conn: Connection, build_id: int) -> dict[str, tuple[str, str]]:
    """The charts a build drew: name -> (caption, SVG)."""
    rows = db.query(conn, "SELECT name, caption, svg FROM report_charts WHERE build_id = %s", (build_id,))
    return {name: (caption, markup) for name, caption, markup in rows}


def regroup_lines(conn: Connection) -> tuple[int, int]:
    """Group every transaction line again (``rebuild_line_groups``, sql/); (groups, how many differed
    from the groups the loads had added)."""
    groups, changed = db.query(conn, "SELECT groups, changed FROM rebuild_line_groups()")[0]
    return int(groups), int(changed)


def current_build_id(conn: Connection) -> int | None:
    """The current build's id (None before the first): the dashboard's cheap check for a new build."""
    rows = db.query(conn, "SELECT max(build_id) FROM current_build")
    return int(rows[0][0]) if rows and rows[0][0] is not None else None


SEGMENT_HISTORY_READ = ("customer_id", "as_of", "segment", "previous_segment", "frequency", "monetary",
                        "rules_digest")


def read_segment_history(conn: Connection) -> pd.DataFrame:
    """The whole segment history (analytics.history.HISTORY_COLUMNS), by customer and date: compact
    (changes only), so read whole and queried in memory (analytics.history)."""
    frame = db.copy_out(conn, """
        SELECT customer_id, as_of, segment, previous_segment, frequency, monetary::float8 AS monetary,
               rules_digest FROM segment_history ORDER BY customer_id, as_of""",
        dtypes={"as_of": pa.timestamp("us"), "segment": pa.string(), "previous_segment": pa.string(),
                "monetary": pa.float64(), "rules_digest": pa.string()})
    if frame.empty:
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in SEGMENT_HISTORY_READ})
    frame = frame.astype({"customer_id": "int64", "frequency": "int64", "monetary": "float64",
                          "segment": object, "previous_segment": object, "rules_digest": object})
    frame["previous_segment"] = frame["previous_segment"].where(frame["previous_segment"].notna(), None)
    frame["as_of"] = pd.to_datetime(frame["as_of"]).astype("datetime64[ns]")
    return frame
