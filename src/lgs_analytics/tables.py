"""Analytics frames in and out of Postgres: the transactions read for analysis, and the
web-app tables (customer_rfm, segments) written back, each run replacing the last atomically.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa

from . import db
from .config import DB_COLUMNS

BASE_COLUMNS = DB_COLUMNS
_ARROW_TYPES = {
    "invoice_no": pa.string(), "stock_code": pa.string(), "description": pa.string(),
    "quantity": pa.int64(), "invoice_date": pa.timestamp("us"), "unit_price": pa.float64(),
    "customer_id": pa.int64(), "country": pa.string(), "is_repeat": pa.bool_(),
}

RFM_COLUMNS = ("customer_id", "method", "as_of", "recency", "frequency", "monetary",
               "r_score", "f_score", "m_score", "rfm_score", "segment")
SEGMENT_COLUMNS = ("method", "segment", "description", "action", "customers", "customer_share",
                   "revenue", "revenue_share", "as_of")


def _date_filter(start: dt.date | str | None, end: dt.date | str | None) -> tuple[str, tuple]:
    clauses, params = [], []
    if start is not None:
        clauses.append("invoice_date >= %s")
        params.append(pd.Timestamp(start).to_pydatetime())
    if end is not None:  # inclusive end date: everything before the next midnight
        clauses.append("invoice_date < %s")
        params.append((pd.Timestamp(end).normalize() + pd.Timedelta(days=1)).to_pydatetime())
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)


def _typed(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Fix the dtypes of the contract: customer_id nullable Int64, quantity int64, text as string."""
    if frame.empty:
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    out = frame.astype({"customer_id": "Int64", "quantity": "int64", "unit_price": "float64",
                        "invoice_no": "string", "stock_code": "string", "description": "string",
                        "country": "string"})
    out["invoice_date"] = pd.to_datetime(out["invoice_date"])
    if "is_repeat" in out:
        out["is_repeat"] = out["is_repeat"].astype(bool)
    return out


def read_transactions(conn, start=None, end=None) -> pd.DataFrame:
    """Each line once (overlapping exports removed), with ``is_repeat`` marking exact repeats."""
    where, params = _date_filter(start, end)
    columns = (*BASE_COLUMNS, "is_repeat")
    frame = db.copy_out(
        conn,
        f"SELECT {', '.join(BASE_COLUMNS)}, occurrence > 1 AS is_repeat FROM transactions{where} "
        "ORDER BY invoice_date, invoice_no",
        params, dtypes={c: _ARROW_TYPES[c] for c in columns},
    )
    return _typed(frame, columns)


def read_export_rows(conn, start=None, end=None) -> pd.DataFrame:
    """Every row as exported, in every file loaded (overlaps included): the classic method's input."""
    where, params = _date_filter(start, end)
    frame = db.copy_out(
        conn,
        f"SELECT {', '.join(BASE_COLUMNS)} FROM stg_export_rows{where}",  # any order: classic ignores it
        params, dtypes={c: _ARROW_TYPES[c] for c in BASE_COLUMNS},
    )
    return _typed(frame, BASE_COLUMNS)


def save_scores(conn, method: str, as_of: pd.Timestamp, scores: pd.DataFrame, summary: pd.DataFrame) -> None:
    """Replace the method's rows of customer_rfm and segments with this run (caller's transaction)."""
    as_of_date = pd.Timestamp(as_of).date()
    rfm = scores.assign(method=method, as_of=as_of_date)[list(RFM_COLUMNS)]
    seg = summary.assign(method=method, as_of=as_of_date)[list(SEGMENT_COLUMNS)]
    with conn.cursor() as cur:
        cur.execute("LOCK TABLE customer_rfm, segments IN EXCLUSIVE MODE")  # one writer at a time
        cur.execute("DELETE FROM customer_rfm WHERE method = %s", (method,))
        cur.execute("DELETE FROM segments WHERE method = %s", (method,))
    db.copy_in(conn, "customer_rfm", list(RFM_COLUMNS), rfm)
    db.copy_in(conn, "segments", list(SEGMENT_COLUMNS), seg.round({"customer_share": 2, "revenue": 2,
                                                                   "revenue_share": 2}))


PREDICTION_COLUMNS = ("customer_id", "as_of", "p_alive", "expected_purchases", "horizon_days",
                      "expected_avg_order_value", "expected_spend", "clv_12m", "churn_risk")


def save_predictions(conn, as_of: pd.Timestamp, horizon_days: int, predictions: pd.DataFrame) -> None:
    """Replace customer_predictions with this run (caller's transaction).

    ``predictions`` is indexed by customer_id with p_alive, expected_purchases,
    expected_avg_order_value, expected_spend, clv and churn_risk.
    """
    rows = (predictions.reset_index()
            .rename(columns={"clv": "clv_12m"})
            .assign(as_of=pd.Timestamp(as_of).date(), horizon_days=horizon_days))
    rows["churn_risk"] = rows["churn_risk"].map({True: "t", False: "f"})
    with conn.cursor() as cur:
        cur.execute("LOCK TABLE customer_predictions IN EXCLUSIVE MODE")  # one writer at a time
        cur.execute("DELETE FROM customer_predictions")
    db.copy_in(conn, "customer_predictions", list(PREDICTION_COLUMNS), rows[list(PREDICTION_COLUMNS)])
