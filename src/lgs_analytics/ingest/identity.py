"""Which export a row came from, and which repeat of an identical line it is.

A file may stack several exports (the CSV of both sheets of the real workbook), and
consecutive exports overlap. Within one export an identical line may legitimately
repeat (the data set's "exact duplicates"). So a line is identified by its values
*and* its repeat number within its export: the same line carried by two overlapping
exports gets the same identity and is loaded once, while true repeats are all kept.

Where the exports of a file are is decided so that a line's identity does not depend on the
order of the rows of an export: a workbook's sheets are exports of their own (explicit), and
within a sheet or a CSV a new export starts only where the file is a few long date-sorted runs
(the dates go back more than a day after at least MIN_EXPORT_ROWS rows in date order, at most
MAX_EXPORTS times). Rows in any other order (shuffled, sorted by customer or country) are one
export: the first date that goes back after a short run settles it, for the rest of the file.
Rows sorted by any of their values keep identical lines side by side, so even where such an
order makes long runs, no two copies of a line land in different exports.
This module spells the values canonically, supplies the export part and the repeat
number chunk by chunk (carrying the count of each line seen so far, 16 bytes a line: files
are read in chunks), and derives the line_id: the md5 of the canonical values and the repeat
number. The definition must never change, or lines loaded before would not be recognised.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# A stacked export starts again where the dates jump back by more than this,
NEW_EXPORT_GAP = pd.Timedelta(days=1)
# after a run of at least this many rows in date order (an export is no handful of rows: a
# shuffled file's first run is),
MIN_EXPORT_ROWS = 100
# and at most this many times in a file or sheet ("a few" exports: a year of weekly ones).
MAX_EXPORTS = 60
VALUE_COLUMNS = ("invoice", "stock_code", "description", "quantity", "invoice_date", "price",
                 "customer_id", "country")


def canonical(rows: pa.Table) -> pa.Table:
    """The same value always spelled the same way: ``+5`` and ``5``, ``2.50`` and ``2.5``.

    ``rows`` are loadable rows from validate.type_rows (every value already valid).
    """
    def respell(name: str, via: pa.DataType) -> pa.Array:
        unsigned = pc.replace_substring_regex(rows.column(name), r"^\+", "")  # arrow reads no "+5"
        return pc.cast(pc.cast(unsigned, via), pa.string())

    for name, via in (("quantity", pa.int64()), ("customer_id", pa.int64()), ("price", pa.float64())):
        rows = rows.set_column(rows.schema.get_field_index(name), name, respell(name, via))
    return rows


def line_text(rows: pa.Table) -> pa.Array:
    """Each row's canonical values joined in one string: what a line is (``rows`` from canonical)."""
    fields = [pc.fill_null(pc.cast(rows.column(c), pa.string()), "\x1e" if c == "description" else "")
              for c in VALUE_COLUMNS]
    return pc.binary_join_element_wise(*fields, "\x1f")


def line_ids(text: pa.Array, occurrence: np.ndarray) -> pa.Array:
    """md5 of the canonical values (line_text) and the repeat number: 16 bytes, a uuid for Postgres."""
    return _uuids(_digests(text, occurrence))


def _digests(text: pa.Array, occurrence: np.ndarray) -> np.ndarray:
    """The md5 of each line's text and repeat number (``text + "\\x1f" + str(occurrence)``), as
    (rows, 16) bytes."""
    joined = pc.binary_join_element_wise(text, pa.array(occurrence.astype(str)), "\x1f")
    digests = b"".join([hashlib.md5(data).digest() for data in pc.cast(joined, pa.binary()).to_pylist()])
    return np.frombuffer(digests, np.uint8).reshape(-1, 16).copy()


def _first_copy_digests(text: pa.Array) -> np.ndarray:
    """The digests the lines' first copies (occurrence 1) have: their ids, and their keys' source."""
    return _digests(text, np.ones(len(text), dtype=np.int64))


def _uuids(digests: np.ndarray) -> pa.Array:
    """Digests as uuids, 16 bytes each in one buffer (no Python object per row), as the loader's binary
    COPY hands them to Postgres."""
    buffer = pa.py_buffer(digests.tobytes())
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), len(digests), [None, buffer])


def identify(numberer: LineNumberer, rows: pa.Table) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """(export part, occurrence, line_id) of the next canonical rows of a file.

    One md5 pass serves twice: a line's first copy (occurrence 1, nearly every row) has the md5
    of its text and "1" as its line_id, and the digest's first 8 bytes key the repeat count;
    only the repeats are hashed again with their own number.
    """
    text = line_text(rows)
    digests = _first_copy_digests(text)
    part, occurrence = numberer.number_keys(rows.column("sheet"), rows.column("invoice_date"),
                                            _line_keys(digests))
    repeat = occurrence > 1
    if repeat.any():
        digests[repeat] = _digests(text.filter(pa.array(repeat)), occurrence[repeat])
    return part, occurrence, _uuids(digests)


def _line_keys(first_digests: np.ndarray) -> np.ndarray:
    """A 64-bit key per line's values: the first 8 bytes of the md5 of its first copy."""
    return first_digests[:, :8].copy().view(np.uint64).ravel()


class KeyCounts:
    """How many times each 64-bit key was seen: a map from key to count, in linear time and 16 bytes a key.

    Kept as a few sorted runs of doubling size (a log-structured merge): a lookup is a binary
    search in each run, and each key is merged into a bigger run only about log2(keys) times.
    (A pandas Series re-indexed for every chunk made a load quadratic in its rows.)
    """

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []  # (sorted unique keys, counts), big first

    def get(self, keys: np.ndarray) -> np.ndarray:
        """The count of each key (0 for a key never added)."""
        total = np.zeros(len(keys), dtype=np.int64)
        for run_keys, run_counts in self._runs:
            at = np.searchsorted(run_keys, keys)
            found = at < len(run_keys)
            found[found] = run_keys[at[found]] == keys[found]
            total[found] += run_counts[at[found]]
        return total

    def add(self, keys: np.ndarray, counts: np.ndarray) -> None:
        """Add ``counts`` to the counts of ``keys`` (unique keys)."""
        order = np.argsort(keys, kind="stable")
        self._runs.append((keys[order], counts[order].astype(np.int64)))
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
            (k1, c1), (k2, c2) = self._runs.pop(), self._runs.pop()
            merged, where = np.unique(np.concatenate([k2, k1]), return_inverse=True)
            self._runs.append((merged, np.bincount(where, weights=np.concatenate([c2, c1]),
                                                   minlength=len(merged)).astype(np.int64)))


class LineNumberer:
    """Assigns export parts and repeat numbers to a file's rows, fed in file order.

    ``one_export``: the file is a single export whatever its row order (a table dump, whose
    rows come in the table's storage order, not by date), so date jumps start no new part.
    ``min_export_rows``: the shortest date-sorted run a new export may follow (see the module).
    """

    def __init__(self, one_export: bool = False, min_export_rows: int = MIN_EXPORT_ROWS) -> None:
        self._one_export = one_export
        self._min_rows = min_export_rows
        self._last_date: dict[str, pd.Timestamp] = {}
        self._part: dict[str, int] = {}
        self._run: dict[str, int] = {}  # rows of the sheet's current part so far
        self._stacked: dict[str, bool] = {}  # False once the sheet showed it is no stack of exports
        self._seen = KeyCounts()  # rows seen so far per (sheet, part, values) key

    def number(self, rows: pa.Table) -> tuple[np.ndarray, np.ndarray]:
        """(export part, occurrence) for the next rows of the file, as canonical() gives them (so
        ``2.5`` and ``2.50`` are one line)."""
        return self.number_lines(rows.column("sheet"), rows.column("invoice_date"), line_text(rows))

    def number_lines(self, sheet: pa.ChunkedArray, invoice_date: pa.ChunkedArray, text: pa.Array
                     ) -> tuple[np.ndarray, np.ndarray]:
        """(export part, occurrence) of rows given by sheet, ISO date text and line_text."""
        keys = _line_keys(_first_copy_digests(text))
        return self.number_keys(sheet, invoice_date, keys)

    def number_keys(self, sheet: pa.ChunkedArray, invoice_date: pa.ChunkedArray, keys: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
        """(export part, occurrence) of rows given by sheet, ISO date text and a 64-bit key of their
        values (_line_keys)."""
        dates = pc.strptime(invoice_date, format="%Y-%m-%d %H:%M:%S", unit="s").to_pandas()
        sheets = sheet.to_pandas()
        part = self._parts(sheets, dates)
        # One 64-bit key per (sheet, part, values): the values' key mixed with the sheet's and part's.
        key = keys ^ (_sheet_keys(sheets) + part.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
        codes, uniques = pd.factorize(key)
        within = pd.Series(codes).groupby(codes, sort=False).cumcount().to_numpy()
        before = self._seen.get(uniques)
        occurrence = before[codes] + within + 1
        self._seen.add(uniques, np.bincount(codes, minlength=len(uniques)))
        return part, occurrence

    def _parts(self, sheet: pd.Series, dates: pd.Series) -> np.ndarray:
        if self._one_export:
            return np.ones(len(sheet), dtype=np.int64)
        part = np.empty(len(sheet), dtype=np.int64)
        for name, index in sheet.groupby(sheet.to_numpy(), sort=False).indices.items():
            own = dates.iloc[index].reset_index(drop=True)
            previous = own.shift()
            if name in self._last_date:
                previous.iloc[0] = self._last_date[name]
            steps = np.flatnonzero((own < previous - NEW_EXPORT_GAP).to_numpy())
            part[index] = self._sheet_parts(name, len(own), steps)
            self._last_date[name] = own.iloc[-1]
        return part

    def _sheet_parts(self, name: str, count: int, steps: np.ndarray) -> np.ndarray:
        """The parts of ``count`` next rows of one sheet, whose dates go back at ``steps``."""
        current = self._part.get(name, 1)
        run = self._run.get(name, 0)  # rows of the current part before these
        parts = np.full(count, current, dtype=np.int64)
        start = 0  # where the current part's rows begin among these
        for step in steps:
            if not self._stacked.get(name, True):
                break
            if run + (step - start) >= self._min_rows and current < MAX_EXPORTS:
                current += 1
                parts[step:] = current
                run, start = 0, int(step)
            else:  # a short run, or too many: the rest of the sheet is the export it is in
                self._stacked[name] = False
        self._part[name] = current
        self._run[name] = run + (count - start)
        return parts


def _sheet_keys(sheets: pd.Series) -> np.ndarray:
    """A 64-bit key per row's sheet name (a file has a handful of sheets)."""
    codes, names = pd.factorize(sheets)
    per_name = np.array([int.from_bytes(hashlib.md5(str(n).encode()).digest()[:8], "little") for n in names],
                        dtype=np.uint64)
    return per_name[codes] if len(names) else np.zeros(len(sheets), dtype=np.uint64)


def number_lines(rows: pa.Table, min_export_rows: int = MIN_EXPORT_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """(export part, occurrence) for a whole file's rows at once."""
    return LineNumberer(min_export_rows=min_export_rows).number(rows)
