"""The shop's database as a source of order lines (`lgs live`): which relation and columns to read,
and its rows as the loader's text chunks, so they are typed, quarantined and identified as a file's."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

import pyarrow as pa

from lgs_analytics.config import EXPORT_COLUMNS
from lgs_analytics.ingest.chunks import Chunk, staged_table
from lgs_analytics.ingest.columns import export_column
from lgs_analytics.ingest.formats import ExportError
from lgs_analytics.store import shop
from lgs_analytics.store.db import Connection, Row

# A view (a mapping of the shop's own table) exposes its base table's xmin as this column.
VIEW_XMIN_COLUMN = "row_xmin"
TABLES = ("r", "p")  # a table, a partitioned table: xmin is a system column


def shop_source(conn: Connection, table: str) -> shop.Source:
    """The relation ``table`` of the shop's database as a source: its eight export columns, in any of
    the spellings an export uses (``invoice_no`` or ``invoice``, ``unit_price`` or ``price``...). A
    view must expose its base table's ``xmin`` as ``row_xmin``. One-line ExportError otherwise."""
    found = shop.relation(conn, table)
    if found is None:
        raise ExportError(f"the shop's database has no table or view {table}; name it with --table "
                          "(the LGS dump layout's table is retail)")
    kind, names = found
    meant = {export_column(n): n for n in names if export_column(n)}
    missing = [c for c in EXPORT_COLUMNS if c not in meant]
    if missing:
        raise ExportError(f"{table} in the shop's database has no column for {', '.join(missing)}; expected "
                          "the LGS dump layout (invoice_no, stock_code, description, quantity, invoice_date, "
                          "unit_price, customer_id, country) or a view mapping the shop's columns to it")
    if kind not in TABLES and VIEW_XMIN_COLUMN not in names:
        raise ExportError(f"{table} is a view: add its base table's xmin as a column, e.g. CREATE VIEW "
                          f"{table} AS SELECT o.xmin AS {VIEW_XMIN_COLUMN}, ... (docs/live.md)")
    xmin = "xmin" if kind in TABLES else VIEW_XMIN_COLUMN
    return shop.Source(table, tuple(meant[c] for c in EXPORT_COLUMNS), xmin)


def staged(rows: list[Row], first_row: int) -> pa.Table:
    """Shop rows (the eight values as text) as a staged table: sheet '' and ``source_row`` the row's
    place in the live batch, counted from ``first_row``."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(EXPORT_COLUMNS)
    return staged_table("", range(first_row, first_row + len(rows)), [list(c) for c in columns])


def split(parts: Iterator[tuple[bool, list[Row]]]) -> tuple[list[pa.Table], Iterator[Chunk]]:
    """(the rows read before, as staged tables; the fresh rows as chunks) of shop.read_rows's parts,
    which yield the rows read before first. The chunks are read as the loader takes them."""
    seen: list[pa.Table] = []
    first: list[Row] | None = None
    for fresh, rows in parts:
        if fresh:
            first = rows
            break
        seen.append(staged(rows, 0))

    def fresh_chunks() -> Iterator[Chunk]:
        if first is None:
            return
        number = 1
        for _, rows in chain([(True, first)], parts):
            yield Chunk("", staged(rows, number), progress=0, one_export=True)
            number += len(rows)

    return seen, fresh_chunks()
