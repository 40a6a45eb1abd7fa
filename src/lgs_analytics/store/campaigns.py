"""Recorded campaigns: the writer of ``campaigns`` and ``campaign_members`` (sql/08_campaigns.sql),
and the readers that measure them on the loaded transactions (``line_groups``), in SQL: only one
row per campaign customer leaves the database, never the transactions themselves.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
import pyarrow as pa

from lgs_analytics.store import db
from lgs_analytics.store.db import Connection

CAMPAIGN_COLUMNS = ("campaign_id", "name", "created_at", "definition", "build_id", "last_batch_id", "as_of",
                    "window_days", "control_share", "split_key", "customers", "treated", "control")
# The lines a customer's net spend counts: purchases (step 0) and the set-aside cancellations, as
# every other net figure (06_reports.sql's top_products, the standard RFM monetary value).
_NET_LINES = "(g.step = 0 OR g.step IN (SELECT r.step FROM cleaning_rules r WHERE r.set_aside))"


def record_campaign(conn: Connection, record: dict[str, Any], members: pd.DataFrame) -> int | None:
    """Insert a campaign (``record``: the columns of ``campaigns`` but its id and creation time) and
    its ``members`` (customer_id, grp); return its id, or None (nothing written) when a campaign of
    that name is already recorded."""
    rows = db.query(conn, """
        INSERT INTO campaigns (name, definition, build_id, last_batch_id, as_of, window_days, control_share,
                               split_key, customers, treated, control)
        VALUES (%(name)s, %(definition)s, %(build_id)s, %(last_batch_id)s, %(as_of)s, %(window_days)s,
                %(control_share)s, %(split_key)s, %(customers)s, %(treated)s, %(control)s)
        ON CONFLICT (name) DO NOTHING RETURNING campaign_id""",
        {**record, "definition": json.dumps(record["definition"])})
    if not rows:
        return None
    campaign_id = int(rows[0][0])
    db.copy_in(conn, "campaign_members", ["campaign_id", "customer_id", "grp"],
               members[["customer_id", "grp"]].assign(campaign_id=campaign_id)[
                   ["campaign_id", "customer_id", "grp"]])
    return campaign_id


def read_campaigns(conn: Connection, name: str | None = None) -> list[dict[str, Any]]:
    """Every recorded campaign (or the one named ``name``, any case), oldest first, as dicts of
    :data:`CAMPAIGN_COLUMNS`."""
    rows = db.query(conn, f"""
        SELECT {', '.join(CAMPAIGN_COLUMNS)} FROM campaigns
        WHERE %(name)s::text IS NULL OR lower(name) = lower(%(name)s) ORDER BY campaign_id""", {"name": name})
    return [dict(zip(CAMPAIGN_COLUMNS, row, strict=True)) for row in rows]


def read_campaign_names(conn: Connection) -> list[str]:
    return [name for (name,) in db.query(conn, "SELECT name FROM campaigns ORDER BY campaign_id")]


def read_outcomes(conn: Connection, campaign_id: int, start: dt.date, before: dt.date) -> pd.DataFrame:
    """One row per customer of the campaign: ``customer_id, grp, ordered`` (any purchase dated in
    [start, before)) and ``spend`` (GBP net of cancellations over those dates; 0 for none)."""
    frame = db.copy_out(conn, f"""
        SELECT m.customer_id, m.grp, coalesce(bool_or(g.step = 0), false) AS ordered,
               coalesce(sum(g.amount), 0)::float8 AS spend
        FROM campaign_members m
        LEFT JOIN line_groups g ON g.customer_id = m.customer_id AND g.invoice_date >= %(start)s
                                AND g.invoice_date < %(before)s AND {_NET_LINES}
        WHERE m.campaign_id = %(campaign)s
        GROUP BY m.customer_id, m.grp ORDER BY m.customer_id""",
        {"campaign": campaign_id, "start": start, "before": before},
        dtypes={"grp": pa.string(), "ordered": pa.bool_(), "spend": pa.float64()})
    if frame.empty:
        return pd.DataFrame({"customer_id": pd.Series(dtype="int64"), "grp": pd.Series(dtype="str"),
                             "ordered": pd.Series(dtype="bool"), "spend": pd.Series(dtype="float64")})
    return frame.astype({"customer_id": "int64", "grp": "str", "ordered": "bool", "spend": "float64"})


def read_measured_on(conn: Connection, campaign_id: int, start: dt.date, before: dt.date) -> dict[str, Any]:
    """What a measurement of [start, before) read: ``invoices`` and ``lines`` of the campaign's
    customers counted (purchases and cancellations), ``first``/``last`` (their dates), ``data_last``
    (the last invoice date loaded at all), ``batches`` (ids of the loads with lines in the window)."""
    invoices, lines, first, last = db.query(conn, f"""
        SELECT count(DISTINCT g.invoice_no), coalesce(sum(g.lines), 0), min(g.invoice_date),
               max(g.invoice_date)
        FROM line_groups g JOIN campaign_members m ON m.customer_id = g.customer_id
        WHERE m.campaign_id = %(campaign)s AND g.invoice_date >= %(start)s AND g.invoice_date < %(before)s
          AND {_NET_LINES}""", {"campaign": campaign_id, "start": start, "before": before})[0]
    data_last = db.query(conn, "SELECT max(invoice_date) FROM line_groups")[0][0]
    batches = [b for (b,) in db.query(conn, """
        SELECT batch_id FROM load_batches
        WHERE rows_new > 0 AND lines_from < %(before)s AND lines_to >= %(start)s ORDER BY batch_id""",
        {"start": start, "before": before})]
    return {"invoices": int(invoices), "lines": int(lines), "first": first, "last": last,
            "data_last": data_last, "batches": batches}
