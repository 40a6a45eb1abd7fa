"""What every reader yields: chunks of staged rows, all text, and the lines it could not split."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

STAGING_COLUMNS: tuple[str, ...] = (
    "sheet", "source_row", "invoice", "stock_code", "description",
    "quantity", "invoice_date", "price", "customer_id", "country",
)
PERSONAL_LINE_WITHHELD = "(line withheld: the file carries personal columns)"


@dataclass(frozen=True)
class BadLine:
    """A record that could not be split into the export's columns (CSV or dump line)."""

    sheet: str
    source_row: int
    text: str
    reason: str


@dataclass
class Chunk:
    """Up to a few hundred thousand staged rows of one sheet, all text."""

    sheet: str
    table: pa.Table  # columns STAGING_COLUMNS
    progress: int  # bytes of the file as given (CSV, dump) or rows (xlsx) consumed so far
    bad_lines: list[BadLine] = field(default_factory=list)
    dropped_columns: tuple[str, ...] = ()  # personal columns of the file, left out of every chunk
    progress_unit: str = "B"  # "B": progress counts bytes of the file as given; "rows": rows
    # The file is one export in no particular order (a table dump), not exports stacked by date.
    one_export: bool = False


def staged_table(sheet: str, numbers: np.ndarray | range, columns: list) -> pa.Table:
    """A chunk's table: the sheet, the line or row numbers and the eight text columns."""
    count = len(numbers)
    return pa.Table.from_arrays(
        [pa.array([sheet] * count, pa.string()), pa.array(numbers, pa.int32()),
         *(c if isinstance(c, (pa.Array, pa.ChunkedArray)) else pa.array(c, pa.string()) for c in columns)],
        names=list(STAGING_COLUMNS),
    )


def without_empty_lines(table: pa.Table) -> pa.Table:
    """Drop empty lines and rows of empty cells (``,,,,,,,``, as spreadsheets save blank rows):
    they hold no value to lose, and are not counted as rows read."""
    def blank(name: str) -> pa.ChunkedArray:
        return pc.equal(pc.fill_null(table.column(name), ""), "")

    empty = blank("invoice")
    if not pc.any(empty).as_py():  # the usual chunk: nothing to drop, no need to look further
        return table
    for name in STAGING_COLUMNS[3:]:
        empty = pc.and_(empty, blank(name))
    return table.filter(pc.invert(empty))


def empty_table() -> pa.Table:
    return staged_table("", range(0), [[] for _ in STAGING_COLUMNS[2:]])
