"""The refresh's run log (table refresh_runs) and what it reads of the builds and loads: plain values
in, plain values out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lgs_analytics.store import db
from lgs_analytics.store.db import Connection


def start_run(conn: Connection, run_id: str) -> None:
    """Record a run; runs still marked running were cut short (the new run holds the lock)."""
    db.query(conn, "UPDATE refresh_runs SET status = 'interrupted', finished_at = now(), "
                   "detail = 'the run was stopped before it finished' WHERE status = 'running'")
    db.query(conn, "INSERT INTO refresh_runs (run_id) VALUES (%s)", (run_id,))


def progress_run(conn: Connection, run_id: str, files_loaded: int, files_rejected: int,
                 rows_new: int) -> None:
    """What a run has committed so far (after each file): a run killed later keeps it."""
    db.query(conn, "UPDATE refresh_runs SET files_loaded = %s, files_rejected = %s, rows_new = %s "
                   "WHERE run_id = %s", (files_loaded, files_rejected, rows_new, run_id))


def finish_run(conn: Connection, run_id: str, status: str, files_loaded: int, files_rejected: int,
               rows_new: int, recomputed: bool, last_batch_id: int | None, build_id: int | None,
               detail: str) -> None:
    db.query(conn, """UPDATE refresh_runs SET finished_at = now(), status = %s, files_loaded = %s,
                      files_rejected = %s, rows_new = %s, recomputed = %s,
                      last_batch_id = COALESCE(%s, last_batch_id), build_id = %s, detail = %s
                      WHERE run_id = %s""",
             (status, files_loaded, files_rejected, rows_new, recomputed, last_batch_id, build_id, detail,
              run_id))


# A load makes the current build stale when it added lines the build has not read. A load of lines
# all loaded before (an export overlapping earlier ones, under a new checksum) changes nothing the
# standard scores, the predictions or the report aggregates read (transactions), so it does not;
# its rows do enter the classic method's input (every exported row, overlaps included), so it does
# when the current build has classic scores. With no build yet, any load of new lines makes it stale.
_BUILD_STATE = """
    SELECT (SELECT max(batch_id) FROM load_batches), b.build_id, b.finished_at,
           EXISTS (SELECT 1 FROM load_batches l
                   WHERE l.batch_id > coalesce(b.last_batch_id, 0)
                     AND (l.rows_new > 0 OR (l.rows_loaded > 0 AND 'classic' = ANY (b.methods))))
    FROM (SELECT) AS one LEFT JOIN current_build b ON true"""


@dataclass(frozen=True)
class BuildState:
    """The current build against the loads: whether it is stale (see _BUILD_STATE)."""

    newest_batch: int | None  # None before the first load
    build_id: int | None  # None before the first build
    built_at: dt.datetime | None
    stale: bool


def build_state(conn: Connection) -> BuildState:
    """Whether a load added lines after the current build read the raw layer."""
    return BuildState(*db.query(conn, _BUILD_STATE)[0])


def published_predictions(conn: Connection, build_id: int) -> tuple[str, int, int] | None:
    """(why no predictions, or ""; customers predicted; churn alerts) of build ``build_id``."""
    rows = db.query(conn, """
        SELECT coalesce(b.forecast->>'unavailable', ''), count(p.customer_id),
               count(p.customer_id) FILTER (WHERE p.churn_risk)
        FROM builds b LEFT JOIN customer_predictions p ON p.build_id = b.build_id
        WHERE b.build_id = %s GROUP BY b.build_id""", (build_id,))
    return (str(rows[0][0]), int(rows[0][1]), int(rows[0][2])) if rows else None


def seconds_until_due(conn: Connection, every: dt.timedelta) -> float | None:
    """Seconds until ``every`` after the last run started, by the database's clock (negative when
    overdue); None before the first run."""
    left = db.query(conn, "SELECT extract(epoch FROM max(started_at) + %s - now())::float8 "
                          "FROM refresh_runs", (every,))[0][0]
    return None if left is None else float(left)
