"""The SQL `lgs live` runs on the shop's database: read-only, a snapshot at a time (docs/live.md).

Nothing here writes to the shop's database: every session is opened read-only
(``default_transaction_read_only``) and each read is one ``REPEATABLE READ READ ONLY`` transaction.

The cursor is a ``pg_snapshot`` of the shop's database (``xmin:xmax:xip,...``): the rows whose
inserting transaction it sees were read. A read takes the rows the current snapshot sees and the
cursor does not, whatever their order of commit: a transaction that began early and commits late is
not visible to the cursor taken while it ran (it is in its ``xip`` list), so it is read later,
where a serial id or a date would have been passed already. A row's inserting transaction is its
``xmin`` (32 bits), widened to the 64-bit ids snapshots use by its distance back from the current
snapshot's ``xmax`` (exact for any row younger than 2^32 transactions).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg2
from psycopg2 import sql as pgsql

from lgs_analytics.store.db import Connection, Row, connect_timeout

# Where a read starts when the source has no cursor: a snapshot that sees no transaction.
NOTHING_READ = "1:1:"
STATEMENT_TIMEOUT_MS = 120_000  # a read that takes longer is given up and retried (the shop is slow)


@dataclass(frozen=True)
class Snapshot:
    """A pg_snapshot: transactions below ``xmin`` and those below ``xmax`` not in ``xip`` are seen."""

    xmin: int
    xmax: int
    xip: tuple[int, ...]

    @classmethod
    def parse(cls, text: str) -> Snapshot:
        xmin, xmax, xip = text.split(":")
        return cls(int(xmin), int(xmax), tuple(int(x) for x in xip.split(",") if x))

    def text(self) -> str:
        return f"{self.xmin}:{self.xmax}:{','.join(map(str, self.xip))}"


def advanced(cursor: Snapshot, current: Snapshot, new: list[int], taken: list[int]) -> Snapshot:
    """The cursor after reading the transactions ``taken`` of ``new`` (the ids the ``current`` snapshot
    sees and ``cursor`` did not): ``current`` itself when all were taken; else a snapshot that sees
    what ``cursor`` saw and ``taken``, and still not the rest of ``new`` nor what was running.

    Every id below the new ``xmax`` that is not listed as running is seen: those were taken, were
    seen before, or committed (or aborted) without a row in the table, so nothing is lost by it.
    The new ``xmax`` is never below the old one: what the cursor saw stays seen (else a transaction
    read before, above the last one taken, was read again).
    """
    if set(taken) >= set(new):
        return current
    xmax = max(max(taken) + 1, cursor.xmax)
    not_yet = set(current.xip) | (set(new) - set(taken))
    xip = tuple(sorted(x for x in not_yet if x < xmax))
    return Snapshot(min(xip) if xip else xmax, xmax, xip)


@contextmanager
def session(url: str) -> Iterator[Connection]:
    """A read-only session on the shop's database (closed afterwards). psycopg2's OperationalError
    when it cannot be reached: the caller backs off and tries again."""
    options = (f"-c default_transaction_read_only=on -c statement_timeout={STATEMENT_TIMEOUT_MS} "
               "-c DateStyle=ISO,YMD -c application_name=lgs-live")
    conn = psycopg2.connect(url, connect_timeout=connect_timeout(), options=options)
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        yield conn
    finally:
        conn.close()


def relation(conn: Connection, name: str) -> tuple[str, list[str]] | None:
    """(kind, column names) of the table or view ``name`` ('r' table, 'p' partitioned, 'v' view,
    'm' materialised view), or None when there is none."""
    rows = _query(conn, "SELECT c.relkind::text, array_agg(a.attname::text ORDER BY a.attnum) "
                        "FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
                        "WHERE c.oid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped "
                        "GROUP BY c.relkind", (name,))
    conn.rollback()
    return (str(rows[0][0]), list(rows[0][1])) if rows else None


@dataclass(frozen=True)
class Source:
    """The shop's relation and how its columns are read: ``columns`` are its column names in the
    export's order (invoice, stock code, description, quantity, date, price, customer, country);
    ``xmin`` names the inserting transaction (``xmin`` of a table, or a view's column exposing it)."""

    table: str
    columns: tuple[str, ...]
    xmin: str = "xmin"

    def _relation(self) -> pgsql.Composable:
        return pgsql.SQL(".").join(pgsql.Identifier(p) for p in self.table.split(".", 1))

    def _values(self) -> pgsql.Composable:
        # As text, as COPY writes them (DateStyle ISO): the loader types them as it types a dump's.
        return pgsql.SQL(", ").join(pgsql.SQL("{}::text").format(pgsql.Identifier(c)) for c in self.columns)

    def _xid8(self) -> pgsql.Composable:
        """The row's inserting transaction as a 64-bit id, relative to the snapshot's xmax (see the
        module); 1 (seen by every snapshot) for the frozen and bootstrap ids below 3."""
        raw = pgsql.SQL("{}::text::bigint").format(pgsql.Identifier(self.xmin))
        xmax = "pg_snapshot_xmax(pg_current_snapshot())::text::bigint"
        return pgsql.SQL(
            "(CASE WHEN {raw} < 3 THEN 1 ELSE greatest(1, " + xmax
            + " - mod(mod(" + xmax + ", 4294967296) - {raw} + 4294967296, 4294967296)) END)").format(raw=raw)


def current_snapshot(conn: Connection) -> Snapshot:
    """The snapshot of the read now starting (its transaction's: REPEATABLE READ)."""
    return Snapshot.parse(str(_query(conn, "SELECT pg_current_snapshot()::text")[0][0]))


def new_transactions(conn: Connection, source: Source, cursor: Snapshot) -> list[tuple[int, int]]:
    """(transaction id, rows) of every transaction whose rows this snapshot sees and ``cursor`` does
    not, oldest first. Reads the whole table (xmin has no index): milliseconds at the shop's size."""
    statement = pgsql.SQL(
        "SELECT x, count(*) FROM (SELECT {xid8} AS x FROM {table}) r "
        "WHERE NOT pg_visible_in_snapshot(x::text::xid8, %s::pg_snapshot) GROUP BY x ORDER BY x"
    ).format(xid8=source._xid8(), table=source._relation())
    return [(int(x), int(n)) for x, n in _query(conn, statement, (cursor.text(),))]


def read_rows(conn: Connection, source: Source, taken: list[int], cursor: Snapshot,
              chunk_rows: int = 50_000) -> Iterator[tuple[bool, list[Row]]]:
    """The rows of the transactions ``taken`` as text (``fresh`` True), and before them the rows
    ``cursor`` saw that share an invoice with them (``fresh`` False: read before, never loaded again;
    they number the repeats of an identical line as the shop's table, one export, does). Yields
    (fresh, rows) in chunks of at most ``chunk_rows``, through a server-side cursor (bounded memory)."""
    statement = pgsql.SQL(
        "WITH r AS (SELECT {values}, {xid8} AS x FROM {table}), "
        "fresh AS (SELECT * FROM r WHERE x = ANY(%s)) "
        "SELECT false AS fresh, r.* FROM r WHERE r.{invoice}::text IN (SELECT {invoice} FROM fresh) "
        "AND pg_visible_in_snapshot(r.x::text::xid8, %s::pg_snapshot) "
        "UNION ALL SELECT true, fresh.* FROM fresh ORDER BY 1, 10"
    ).format(values=pgsql.SQL(", ").join(pgsql.SQL("{}::text AS {}").format(pgsql.Identifier(c),
                                                                           pgsql.Identifier(f"c{i}"))
                                         for i, c in enumerate(source.columns)),
             xid8=source._xid8(), table=source._relation(), invoice=pgsql.Identifier("c0"))
    with conn.cursor(name="lgs_live_rows") as cur:
        cur.itersize = chunk_rows
        cur.execute(statement, (taken, cursor.text()))
        while rows := cur.fetchmany(chunk_rows):
            for fresh in (False, True):
                part = [row[1:9] for row in rows if row[0] is fresh]
                if part:
                    yield fresh, part


def wait_for_notification(conn: Connection, seconds: float) -> bool:
    """Wait up to ``seconds`` for a NOTIFY on a connection that LISTENs; True when one came. A wake-up
    only: a notification sent while nobody listened is lost, so the caller polls anyway."""
    import select

    if select.select([conn], [], [], seconds) == ([], [], []):
        return False
    conn.poll()
    woken = bool(conn.notifies)
    conn.notifies.clear()
    return woken


def listen(url: str, channel: str) -> Connection:
    """A connection (autocommit, read-only) that LISTENs on ``channel``."""
    conn = psycopg2.connect(url, connect_timeout=connect_timeout(),
                            options="-c default_transaction_read_only=on -c application_name=lgs-live-listen")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(pgsql.SQL("LISTEN {}").format(pgsql.Identifier(channel)))
    return conn


def _query(conn: Connection, statement: Any, params: tuple[object, ...] = ()) -> list[Row]:
    with conn.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall() if cur.description else []
