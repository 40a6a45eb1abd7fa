"""`lgs live`: the shop's new order lines within a minute, and the events they raise (docs/live.md).

Each poll opens a read-only session on the shop's database and loads what its cursor has not read,
in micro-batches of whole shop transactions (about ``max_rows`` rows each). A batch is ONE transaction
of ours: its lines (through the loader's identity rules and quarantine), the touched customers' facts,
the events and the cursor's advance commit together, or none of them does. So a connector killed at
any moment resumes exactly where the last committed batch left off, and a batch that fails is read
again whole on the next try. The shop's database being down or slow is said in one line on stderr;
the connector backs off and tries again, its cursor where it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg2
from psycopg2.extensions import parse_dsn

from lgs_analytics.analytics import live as rules
from lgs_analytics.errors import first_line
from lgs_analytics.ingest import live as source_rows
from lgs_analytics.ingest.formats import ExportError
from lgs_analytics.ingest.load import LoadResult, load_rows
from lgs_analytics.jobs.schedule import doubling_pause
from lgs_analytics.store import db, shop
from lgs_analytics.store import live as store
from lgs_analytics.store.db import Connection, DatabaseError

DEFAULT_TABLE = "retail"
DEFAULT_BATCH_ROWS = 5_000
MAX_BACKOFF_SECONDS = 300.0


@dataclass(frozen=True)
class BatchResult:
    load: LoadResult
    customers: int  # customers whose live facts were updated
    events: int  # events raised
    more: bool  # the shop had more new transactions than this batch took

    def summary(self) -> str:
        return (f"{self.load.summary()}; {self.customers:,} customers' facts updated, "
                f"{self.events:,} events raised")


def source_name(url: str, table: str) -> str:
    """The shop's database and table as our records name it: never its password."""
    try:
        parts = parse_dsn(url)
    except psycopg2.ProgrammingError:
        raise ExportError("--source is not a postgresql:// URL or libpq connection string (it is not shown: "
                          "it may hold a password); give e.g. postgresql://lgs_reader@shop-db:5432/shop"
                          ) from None
    user = f"{parts['user']}@" if parts.get("user") else ""
    host = parts.get("host", "")
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"live:postgresql://{user}{host}{port}/{parts.get('dbname', '')}#{table}"


def choose(new: list[tuple[int, int]], max_rows: int) -> list[int]:
    """The oldest whole transactions of ``new`` ((id, rows), oldest first) up to ``max_rows`` rows, at
    least one (a transaction is never split: its lines land together)."""
    taken: list[int] = []
    rows = 0
    for xid, count in new:
        if taken and rows + count > max_rows:
            break
        taken.append(xid)
        rows += count
    return taken


def run_batch(conn: Connection, shop_conn: Connection, source: shop.Source, name: str, max_rows: int,
              warn: Callable[[str], None]) -> BatchResult | None:
    """Load the next micro-batch in ``conn``'s transaction (the caller commits); None when the shop has
    nothing the cursor has not read."""
    store.lock_source(conn, name)
    before = store.cursor_of(conn, name) or shop.NOTHING_READ
    cursor = shop.Snapshot.parse(before)
    current = shop.current_snapshot(shop_conn)
    if cursor.xmax > current.xmax:  # its transaction ids went back: restored or made anew
        warn("lgs live: the shop's database is behind the cursor (restored, or a new server?); reading "
             f"{name} "
             "from the start: the lines already loaded count as duplicates")
        cursor = shop.Snapshot.parse(shop.NOTHING_READ)
    new = shop.new_transactions(shop_conn, source, cursor)
    if not new:
        shop_conn.rollback()
        return None
    taken = choose(new, max_rows)
    after = shop.advanced(cursor, current, [x for x, _ in new], taken)
    seen, chunks = source_rows.split(shop.read_rows(shop_conn, source, taken, cursor))
    loaded = load_rows(conn, name, f"{name}\0{cursor.text()}\0{after.text()}", chunks, seen)
    shop_conn.rollback()  # the read is over (read-only: nothing to commit)
    customers, events = raise_events(conn, loaded.batch_id)
    store.save_cursor(conn, name, after.text(), loaded.rows_read, loaded.batch_id)
    return BatchResult(loaded, customers, events, more=len(taken) < len(new))


def raise_events(conn: Connection, batch_id: int) -> tuple[int, int]:
    """Update the facts of the customers a batch touched and raise its orders' events:
    (customers updated, events raised)."""
    customers = store.touched_customers(conn, batch_id)
    if not customers:
        return 0, 0
    updated = store.update_customers(conn, customers, batch_id)
    orders = store.batch_orders(conn, batch_id)
    if orders.empty:
        return updated, 0
    history = store.purchase_history(conn, sorted(int(c) for c in orders["customer_id"].unique()))
    info, segments = store.build_context(conn, customers)
    build = rules.BuildContext(info["build_id"], info["as_of"], info["win_back"], segments) if info else None
    found = rules.events(orders, history, build)
    return updated, store.insert_events(conn, [
        (e.kind, int(e.customer_id), e.invoice_no, e.invoice_date.to_pydatetime(), round(float(e.amount), 2),
         e.segment, None if e.build_id is None else int(e.build_id), e.detail, batch_id)
        for e in found.itertuples(index=False)])


def poll(shop_url: str, table: str, max_rows: int, say: Callable[[str], None],
         warn: Callable[[str], None]) -> int:
    """Load everything new in the shop's table, batch after batch; return the batches loaded."""
    batches = 0
    with shop.session(shop_url) as shop_conn:
        source = source_rows.shop_source(shop_conn, table)
        name = source_name(shop_url, table)
        while True:
            with db.connect() as conn:
                result = run_batch(conn, shop_conn, source, name, max_rows, warn)
            if result is None:
                return batches
            batches += 1
            say(result.summary())
            if not result.more:
                return batches


def run(shop_url: str, table: str = DEFAULT_TABLE, every: float = 60.0, max_rows: int = DEFAULT_BATCH_ROWS,
        once: bool = False, channel: str | None = None, say: Callable[[str], None] = print,
        warn: Callable[[str], None] = print) -> int:
    """Poll the shop every ``every`` seconds (or when a NOTIFY on ``channel`` wakes it) until stopped;
    with ``once``, catch up and return. Returns the exit code: 0, or 1 when ``once`` met a failure."""
    name = source_name(shop_url, table)
    failures = 0
    listener = None
    while True:
        try:
            poll(shop_url, table, max_rows, say, warn)
            if failures:
                warn(f"lgs live: reading {name} again; resumed from the cursor")
            failures = 0
        except ExportError:
            raise  # the table or the database is not fit to read: retrying will not help
        except (psycopg2.Error, DatabaseError) as exc:
            failures += 1
            said = (f"lgs live: {_what_failed(exc)} ({first_line(exc)}); nothing of the batch was kept, "
                    "the cursor is where it was")
            if once:
                warn(f"{said}: run it again")
                return 1
            delay = doubling_pause(failures, max(every, 1.0), max(every, MAX_BACKOFF_SECONDS))
            warn(f"{said}; retrying in {delay:.0f} s")
            time.sleep(delay)
            continue
        if once:
            return 0
        listener = _wait(shop_url, channel, listener, every)


def _what_failed(exc: BaseException) -> str:
    if isinstance(exc, psycopg2.OperationalError) or isinstance(exc, psycopg2.InterfaceError):
        return "cannot read the shop's database (down or slow?)"
    if isinstance(exc, DatabaseError):
        return "cannot write to our database"
    return "a batch failed"


def _wait(shop_url: str, channel: str | None, listener: Connection | None,
          seconds: float) -> Connection | None:
    """Wait ``seconds``, or less when a NOTIFY on ``channel`` comes: a wake-up only, never relied on (a
    notification sent while nobody listened is lost; the poll reads the table whatever came)."""
    if channel is None:
        time.sleep(seconds)
        return None
    try:
        if listener is None or listener.closed:
            listener = shop.listen(shop_url, channel)
        shop.wait_for_notification(listener, seconds)
        return listener
    except psycopg2.Error:
        time.sleep(seconds)
        return None


def live_events(since):
    """The live events raised since ``since`` (a UTC datetime), newest first (`lgs events`)."""
    with db.connect() as conn:
        return store.read_events(conn, since)
