"""The SQL of `lgs live` on our database: the cursor (live_cursor), what a live batch brought, the
live customer facts and events (live_customers, live_events), and their readers. Each call runs in
the caller's transaction: a batch's lines, facts, events and cursor commit together."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from psycopg2.extras import execute_values

from lgs_analytics.store import db
from lgs_analytics.store.db import Connection

if TYPE_CHECKING:
    import pandas as pd

EVENT_COLUMNS = ("event_id", "raised_at", "kind", "customer_id", "invoice_no", "invoice_date", "amount",
                 "segment", "build_id", "detail")


def _text_invoice() -> dict[str, Any]:
    import pyarrow as pa

    return {"invoice_no": pa.string(), "segment": pa.string(), "detail": pa.string()}


def lock_source(conn: Connection, source: str) -> None:
    """One connector per source at a time, until the transaction ends (a second one waits here)."""
    db.query(conn, "SELECT pg_advisory_xact_lock(hashtext('lgs_live'), hashtext(%s))", (source,))


def cursor_of(conn: Connection, source: str) -> str | None:
    """The source's cursor (a pg_snapshot as text), or None before its first batch."""
    rows = db.query(conn, "SELECT snapshot FROM live_cursor WHERE source = %s", (source,))
    return str(rows[0][0]) if rows else None


def save_cursor(conn: Connection, source: str, snapshot: str, rows_read: int, batch_id: int | None) -> None:
    """Move the source's cursor on, counting the batch (if any) and its rows."""
    db.query(conn, "INSERT INTO live_cursor AS c (source, snapshot, batches, rows_read, last_batch_id) "
                   "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (source) DO UPDATE "
                   "SET snapshot = excluded.snapshot, "
                   "batches = c.batches + excluded.batches, rows_read = c.rows_read + excluded.rows_read, "
                   "last_batch_id = coalesce(excluded.last_batch_id, c.last_batch_id), updated_at = now()",
             (source, snapshot, int(batch_id is not None), rows_read, batch_id))


def batch_orders(conn: Connection, batch_id: int) -> pd.DataFrame:
    """The purchase invoices a batch brought whole (none of their purchase lines loaded before):
    customer_id, invoice_no, invoice_date, amount (GBP, its product lines)."""
    return db.copy_out(conn, f"""
        SELECT b.customer_id, b.invoice_no, b.invoice_date, b.amount
        FROM (SELECT customer_id, invoice_no, min(invoice_date) AS invoice_date, count(*) AS lines,
                     sum(quantity * unit_price) AS amount
              FROM transactions WHERE first_batch_id = {int(batch_id)} AND step = 0
              GROUP BY customer_id, invoice_no) b
        JOIN (SELECT customer_id, invoice_no, sum(lines) AS lines FROM line_groups
              WHERE step = 0 AND invoice_no IN (SELECT invoice_no FROM transactions
                                                WHERE first_batch_id = {int(batch_id)} AND step = 0)
              GROUP BY customer_id, invoice_no) g USING (customer_id, invoice_no)
        WHERE g.lines = b.lines
        ORDER BY b.customer_id, b.invoice_date, b.invoice_no""", dtypes=_text_invoice())


def touched_customers(conn: Connection, batch_id: int) -> list[int]:
    """The customers any line of the batch belongs to."""
    rows = db.query(conn, "SELECT DISTINCT customer_id FROM transactions WHERE first_batch_id = %s "
                          "AND customer_id IS NOT NULL", (batch_id,))
    return [int(r[0]) for r in rows]


def purchase_history(conn: Connection, customers: list[int]) -> pd.DataFrame:
    """Every purchase invoice loaded (files and live) of these customers: customer_id, invoice_no,
    invoice_date, amount (GBP, product lines)."""
    statement = ("SELECT customer_id, invoice_no, min(invoice_date) AS invoice_date, sum(amount) AS amount "
                 "FROM line_groups WHERE step = 0 AND customer_id = ANY(%s::integer[]) "
                 "GROUP BY customer_id, invoice_no ORDER BY customer_id, invoice_date, invoice_no")
    return db.copy_out(conn, statement, (customers,), _text_invoice())


def update_customers(conn: Connection, customers: list[int], batch_id: int) -> int:
    """Recompute the live facts of these customers from every loaded line (line_groups: purchases,
    step 0, and cancellations, step 6); return how many rows were written."""
    with conn.cursor() as cur:
        cur.execute("""
            INSERT INTO live_customers AS c (customer_id, first_order, last_order, orders, spend, batch_id)
            SELECT customer_id, min(invoice_date) FILTER (WHERE step = 0),
                   max(invoice_date) FILTER (WHERE step = 0),
                   count(DISTINCT invoice_no) FILTER (WHERE step = 0),
                   coalesce(sum(amount) FILTER (WHERE step IN (0, 6)), 0), %s
            FROM line_groups WHERE customer_id = ANY(%s::integer[]) GROUP BY customer_id
            ON CONFLICT (customer_id) DO UPDATE SET first_order = excluded.first_order,
                last_order = excluded.last_order, orders = excluded.orders, spend = excluded.spend,
                batch_id = excluded.batch_id, updated_at = now()""", (batch_id, customers))
        return int(cur.rowcount)


def build_context(conn: Connection, customers: list[int]) -> tuple[dict[str, Any] | None, dict[int, str]]:
    """(the current build's id, as-of date and win-back segment names, or None when no build is
    published; each of these customers' segment in it)."""
    rows = db.query(conn, "SELECT build_id, as_of, parameters -> 'segment_rules' -> 'segments' "
                          "FROM current_build")
    if not rows:
        return None, {}
    build_id, as_of, rules = rows[0]
    rules = json.loads(rules) if isinstance(rules, str) else (rules or [])
    win_back = tuple(s["name"] for s in rules if s.get("kind") == "win back")
    segments = db.query(conn, "SELECT customer_id, segment FROM customer_rfm WHERE method = 'standard' "
                              "AND customer_id = ANY(%s::integer[])", (customers,))
    return ({"build_id": int(build_id), "as_of": as_of, "win_back": win_back},
            {int(c): str(s) for c, s in segments})


def insert_events(conn: Connection, events: list[tuple[Any, ...]]) -> int:
    """Add events (kind, customer_id, invoice_no, invoice_date, amount, segment, build_id, detail,
    batch_id); an order's event already raised is not raised again. Returns how many were added."""
    if not events:
        return 0
    with conn.cursor() as cur:
        rows = execute_values(cur, "INSERT INTO live_events (kind, customer_id, invoice_no, invoice_date, "
                                   "amount, "
                                   "segment, build_id, detail, batch_id) VALUES %s "
                                   "ON CONFLICT (customer_id, invoice_no, kind) DO NOTHING RETURNING 1",
                              events, fetch=True)
        return len(rows)


def read_events(conn: Connection, since: dt.datetime | dt.date) -> pd.DataFrame:
    """The events raised since a moment (UTC), newest first."""
    frame = db.copy_out(conn, f"SELECT {', '.join(EVENT_COLUMNS)} FROM live_events "
                              "WHERE raised_at >= %s ORDER BY raised_at DESC, event_id DESC", (since,),
                       _text_invoice())
    return frame if not frame.empty else _empty_events()


def event_of(conn: Connection, invoice_no: str) -> dt.datetime | None:
    """When the first event of an invoice was raised (None: none yet): what the latency bench polls."""
    rows = db.query(conn, "SELECT min(raised_at) FROM live_events WHERE invoice_no = %s", (invoice_no,))
    return rows[0][0] if rows else None


def cursor_state(conn: Connection) -> list[tuple[Any, ...]]:
    """(source, batches, rows_read, last_batch_id, updated_at) of every live source."""
    return db.query(conn, "SELECT source, batches, rows_read, last_batch_id, updated_at FROM live_cursor "
                          "ORDER BY source")


def _empty_events() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({c: pd.Series(dtype="object") for c in EVENT_COLUMNS})
