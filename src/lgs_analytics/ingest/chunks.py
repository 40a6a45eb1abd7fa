"""What every reader yields: chunks of staged rows, all text, and the lines it could not split; and
the bounds every reader holds a file to, whatever its format (CSV, xlsx, pg_dump).

Bounds: no line (a CSV or dump line, a spreadsheet row's cells together) or cell is longer than
LINE_MAX_BYTES; no run of blank lines or empty rows is longer than BLANK_RUN_MAX; no stretch of a
file is mostly line breaks (lines shorter than MIN_LINE_BYTES on average). An export is far inside
all three, and a file past one is refused in one line early, in bounded time and memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lgs_analytics.ingest.formats import ExportError

STAGING_COLUMNS: tuple[str, ...] = (
    "sheet", "source_row", "invoice", "stock_code", "description",
    "quantity", "invoice_date", "price", "customer_id", "country",
)
PERSONAL_LINE_WITHHELD = "(line withheld: the file carries personal columns)"

# The longest line or cell any reader takes. The real export's longest line is 104 bytes (a
# Description is at most 35 characters): 1 MiB is ten thousand times that, and small enough that
# a line never costs memory.
LINE_MAX_BYTES = 1 << 20
# Blank lines (or rows of empty cells) in a row past which a file is no export: an export has none,
# a spreadsheet saved as CSV a few trailing ones.
BLANK_RUN_MAX = 1_000_000
# The shortest line an export can have (seven commas or tabs and a line break): a stretch of a file
# whose lines are shorter on average is mostly blank lines (or no export), whatever it holds.
MIN_LINE_BYTES = 8
DENSITY_MIN_BYTES = 1 << 20  # the stretch over which that average is taken
LONG_LINE_ADVICE = "(a missing line break or quote?); check the file"


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
    empty = empty_rows(table)
    return table if empty is None else table.filter(pc.invert(empty))


def empty_rows(table: pa.Table) -> pa.ChunkedArray | None:
    """Which rows hold nothing (None when no row is empty, the usual chunk)."""
    def blank(name: str) -> pa.ChunkedArray:
        return pc.equal(pc.fill_null(table.column(name), ""), "")

    empty = blank("invoice")
    if not pc.any(empty).as_py():  # the usual chunk: nothing to drop, no need to look further
        return None
    for name in STAGING_COLUMNS[3:]:
        empty = pc.and_(empty, blank(name))
    return empty


class BlankRuns:
    """Counts blank lines (or empty rows) in a row across a file's chunks, and refuses the file once
    a run passes BLANK_RUN_MAX: empty rows are dropped, as without_empty_lines, only so many."""

    def __init__(self, where: str, unit: str = "lines") -> None:
        self._where, self._unit = where, unit
        self._run, self._from = 0, 0  # the run that ends the chunks so far, and its first number

    def drop(self, table: pa.Table) -> pa.Table:
        """The table without its empty rows (checked as a run of the file's lines)."""
        empty = empty_rows(table)
        if empty is None:
            self._run = 0 if table.num_rows else self._run
            return table
        mask = empty.to_numpy(zero_copy_only=False) if isinstance(empty, pa.Array) else \
            np.concatenate([c.to_numpy(zero_copy_only=False) for c in empty.chunks])
        self.add(mask, table.column("source_row").to_numpy())
        return table.filter(pc.invert(empty))

    def add(self, blank: np.ndarray, numbers: np.ndarray) -> None:
        """The next lines in order: which are blank, and their numbers."""
        if not blank.any():
            self._run = 0 if len(blank) else self._run
            return
        if blank.all():
            if not self._run:
                self._from = int(numbers[0])
            self._run += len(blank)
            return self._check(self._run)
        # Runs inside the chunk: between the positions where blank turns to not blank.
        edges = np.flatnonzero(np.diff(np.concatenate(([False], blank, [False])).astype(np.int8)))
        starts, ends = edges[::2], edges[1::2]
        lengths = ends - starts
        if blank[0]:
            lengths[0] += self._run
        if len(lengths) and lengths.max() > BLANK_RUN_MAX:
            i = int(lengths.argmax())
            self._check(int(lengths[i]), self._from if i == 0 and blank[0] and self._run else
                        int(numbers[starts[i]]))
        trailing = len(blank) - (int(np.flatnonzero(~blank)[-1]) + 1)
        self._from = int(numbers[len(blank) - trailing]) if trailing else 0
        self._run = trailing

    def _check(self, run: int, start: int | None = None) -> None:
        if run > BLANK_RUN_MAX:
            what = "blank lines" if self._unit == "lines" else "empty rows"
            raise ExportError(f"{self._where}: more than {BLANK_RUN_MAX:,} {what} in a row (from "
                              f"{self._unit[:-1]} {self._from if start is None else start:,}), so this "
                              f"is no sound export; remove the {what}, or export it again")


def check_line_density(block: bytes, where: str, offset: int) -> None:
    """Refuse a stretch of a file (a block read of at least DENSITY_MIN_BYTES, from byte ``offset``)
    whose lines are shorter on average than any export line: mostly blank lines, which a reader would
    otherwise turn into millions of rows a megabyte. Counting line breaks runs at memchr speed."""
    if len(block) < DENSITY_MIN_BYTES:
        return
    breaks = max(block.count(b"\n"), block.count(b"\r"))
    if breaks * MIN_LINE_BYTES <= len(block):
        return
    blank = len(block) - len(bytes(block).translate(None, b" \t\r\n"))
    what = ("mostly blank lines" if blank * 2 > len(block)
            else f"lines shorter than any export line ({MIN_LINE_BYTES} bytes)")
    raise ExportError(f"{where}: {breaks:,} lines in {len(block) / 2**20:.0f} MiB from byte {offset:,} "
                      f"on are {what}, so this is no sound export; remove the blank lines, or export it "
                      "again")


def check_line_lengths(columns: list, where: str, what: str = "a line",
                       advice: str = LONG_LINE_ADVICE) -> None:
    """Refuse a chunk with a line (a row's values and separators) over LINE_MAX_BYTES."""
    if sum(c.nbytes for c in columns) < LINE_MAX_BYTES:
        return
    lengths = None
    for column in columns:
        size = pc.fill_null(pc.binary_length(column), 0)
        lengths = size if lengths is None else pc.add(lengths, size)
    if lengths is not None and pc.max(lengths).as_py() + len(columns) - 1 > LINE_MAX_BYTES:
        raise ExportError(f"{where}: {long_line(what, advice)}")


def long_line(what: str = "a line", advice: str = LONG_LINE_ADVICE) -> str:
    """The one-line refusal of a line or cell over LINE_MAX_BYTES, the same for every format."""
    joint = " " if advice.startswith("(") else "; "  # "(a missing quote?); check..." or "; save it..."
    return f"{what} is longer than {LINE_MAX_BYTES >> 20} MiB, so this is not a sound export{joint}{advice}"


def empty_table() -> pa.Table:
    return staged_table("", range(0), [[] for _ in STAGING_COLUMNS[2:]])
