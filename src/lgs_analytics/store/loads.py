"""The SQL of a load (ingest.load): its batch, its locks, its staged chunks, its quarantine. Plain
values in, plain values out; each call runs in the caller's transaction (one file, one transaction)."""

from __future__ import annotations

from psycopg2.extras import execute_values

from lgs_analytics.store import db
from lgs_analytics.store.db import Connection


def lock_file(conn: Connection, sha256: str) -> None:
    """Serialise the loads of one file until the transaction ends: its checksum (hex), as the signed
    64-bit key of an advisory lock."""
    key = int.from_bytes(bytes.fromhex(sha256[:16]), "big", signed=True)
    db.query(conn, "SELECT pg_advisory_xact_lock(%s)", (key,))


def batch_of(conn: Connection, sha256: str) -> int | None:
    """The batch that loaded the file with this checksum, if any."""
    rows = db.query(conn, "SELECT batch_id FROM load_batches WHERE sha256 = %s", (sha256,))
    return int(rows[0][0]) if rows else None


def new_batch(conn: Connection, source_file: str, sha256: str, dropped_columns: list[str],
              synthetic: bool) -> int:
    return int(db.query(conn, "INSERT INTO load_batches (source_file, sha256, dropped_columns, synthetic) "
                              "VALUES (%s, %s, %s, %s) RETURNING batch_id",
                        (source_file, sha256, dropped_columns, synthetic))[0][0])


def lock_staging(conn: Connection) -> None:
    """One load at a time: concurrent loads wait here (the staging table is shared, and each needs to
    see the lines the other adds). Readers of the typed tables are not blocked."""
    db.query(conn, "LOCK TABLE staging_lines IN ACCESS EXCLUSIVE MODE")


def land_staged(conn: Connection, batch_id: int) -> tuple[int, int]:
    """(lines loaded, of them new): load_staged_rows() lands a staged chunk in transactions."""
    loaded, new = db.query(conn, "SELECT * FROM load_staged_rows(%s)", (batch_id,))[0]
    return int(loaded), int(new)


def finish_batch(conn: Connection, batch_id: int, rows_read: int, rows_loaded: int,
                 rows_new: int) -> tuple[int, int, int, int, int]:
    """Reconcile and record the batch's counts (finish_batch(), sql/): rows read, loaded, new, duplicate
    and quarantined."""
    read, loaded, new, duplicate, quarantined = db.query(
        conn, "SELECT * FROM finish_batch(%s, %s, %s, %s)", (batch_id, rows_read, rows_loaded, rows_new))[0]
    return int(read), int(loaded), int(new), int(duplicate), int(quarantined)


def quarantine(conn: Connection, batch_id: int, source_file: str,
               records: list[tuple[str | None, int, str, str]]) -> None:
    """Keep rows that cannot be loaded: (sheet, source_row, raw_values JSON, reason) each."""
    with conn.cursor() as cur:
        execute_values(
            cur,
            "INSERT INTO quarantine (batch_id, source_file, sheet, source_row, raw_values, reason) VALUES %s",
            [(batch_id, source_file, *record) for record in records], page_size=1000,
        )


def files_loaded(conn: Connection, synthetic: bool, but: int | None = None) -> list[str]:
    """The source files of the batches loaded from generated (``synthetic``) or real exports, oldest
    first, leaving out batch ``but``: what a load of the other kind would be mixed with."""
    rows = db.query(conn, "SELECT source_file FROM load_batches WHERE synthetic = %s "
                          "AND batch_id IS DISTINCT FROM %s ORDER BY batch_id", (synthetic, but))
    return [str(r[0]) for r in rows]
