"""The SQL of the CRM attributes (sql/09_customer_attributes.sql): a load of an attributes file in the
caller's ONE transaction, and the build's read of what is stored. Only generalised values pass
through here (analytics.demographics makes them)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from psycopg2.extras import execute_values

from lgs_analytics.store import db
from lgs_analytics.store.db import Connection

ATTRIBUTE_COLUMNS = ("customer_id", "age_band", "gender", "area")


def load_of(conn: Connection, sha256: str) -> int | None:
    """The load that stored the file with this checksum, if any."""
    rows = db.query(conn, "SELECT load_id FROM customer_attribute_loads WHERE sha256 = %s", (sha256,))
    return int(rows[0][0]) if rows else None


def record_load(conn: Connection, source_file: str, sha256: str, banded_on: dt.date, rows_read: int,
                rows_loaded: int, rows_quarantined: int, dropped_columns: list[str], synthetic: bool) -> int:
    return int(db.query(conn, """
        INSERT INTO customer_attribute_loads (source_file, sha256, banded_on, rows_read, rows_loaded,
                                              rows_quarantined, dropped_columns, synthetic)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING load_id""",
        (source_file, sha256, banded_on, rows_read, rows_loaded, rows_quarantined, dropped_columns,
         synthetic))[0][0])


def store(conn: Connection, load_id: int, rows: list[tuple[int, str | None, str | None, str | None]]) -> None:
    """Upsert (customer_id, age_band, gender, area) rows: a later file's row replaces the customer's."""
    with conn.cursor() as cur:
        execute_values(cur, """
            INSERT INTO customer_attributes (customer_id, age_band, gender, area, load_id) VALUES %s
            ON CONFLICT (customer_id) DO UPDATE SET age_band = EXCLUDED.age_band, gender = EXCLUDED.gender,
                area = EXCLUDED.area, load_id = EXCLUDED.load_id""",
            [(*row, load_id) for row in rows], page_size=1000)


def quarantine(conn: Connection, load_id: int, rows: list[tuple[int, int | None, str]]) -> None:
    """Keep (source_row, customer_id or None, reason) of the rows not taken: never their values."""
    with conn.cursor() as cur:
        execute_values(cur, "INSERT INTO customer_attribute_quarantine (load_id, source_row, customer_id, "
                            "reason) VALUES %s", [(load_id, *row) for row in rows], page_size=1000)


def read_attributes(conn: Connection) -> pd.DataFrame:
    """Every stored customer's (customer_id, age_band, gender, area)."""
    rows = db.query(conn, f"SELECT {', '.join(ATTRIBUTE_COLUMNS)} FROM customer_attributes "
                          "ORDER BY customer_id")
    frame = pd.DataFrame(rows, columns=list(ATTRIBUTE_COLUMNS))
    return frame.astype({"customer_id": "int64", "age_band": "string", "gender": "string", "area": "string"})


def synthetic_loads(conn: Connection) -> int:
    """How many attributes files loaded were generated (``lgs generate``)."""
    return int(db.query(conn, "SELECT count(*) FROM customer_attribute_loads WHERE synthetic")[0][0])
