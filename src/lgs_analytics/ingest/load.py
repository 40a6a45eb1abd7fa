"""Loading exports into Postgres: binary COPY, de-duplicate and reconcile in SQL, a transaction a file.

The rules that de-duplicate overlapping exports and reconcile the counts live in
sql/04_load.sql; this module reads and types the file (rows that cannot be typed go to
quarantine), streams its rows into export_rows and its lines into the staging table,
and reports what happened.
"""

from __future__ import annotations

import hashlib
import json
import queue
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from lgs_analytics.config import EXPORT_COLUMNS
from lgs_analytics.ingest.chunks import Chunk
from lgs_analytics.ingest.columns import shown
from lgs_analytics.ingest.formats import ExportError, is_synthetic_export
from lgs_analytics.ingest.identity import LineNumberer, canonical, identify
from lgs_analytics.ingest.readers import BadLine, read_chunks
from lgs_analytics.ingest.validate import DAY_FIRST_REASON, TEXT_COLUMNS, slash_dates, type_rows
from lgs_analytics.store import copybinary, db, loads

PROGRESS_MIN_BYTES = 5 << 20  # show a progress bar for files above 5 MiB


@dataclass(frozen=True)
class LoadResult:
    """How the rows of one file were accounted for (read = loaded + quarantined)."""

    source_file: str
    batch_id: int
    rows_read: int
    rows_loaded: int
    rows_new: int
    rows_duplicate: int
    rows_quarantined: int
    already_loaded: bool = False
    dropped_columns: tuple[str, ...] = ()  # personal columns left out of the load
    notes: tuple[str, ...] = ()  # how ambiguous values were read (e.g. the order of day and month)

    def summary(self) -> str:
        if self.already_loaded:
            return (f"{self.source_file}: already loaded as batch {self.batch_id} "
                    "(same checksum); nothing added")
        dropped = (f"; personal columns not stored: {', '.join(self.dropped_columns)}"
                   if self.dropped_columns else "")
        notes = "".join(f"; {note}" for note in self.notes)
        return (f"{self.source_file}: {self.rows_read:,} rows read = {self.rows_loaded:,} loaded "
                f"({self.rows_new:,} new, {self.rows_duplicate:,} duplicate of rows already loaded) "
                f"+ {self.rows_quarantined:,} quarantined{dropped}{notes}")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def load_file(conn, path: Path, *, progress: bool = True, mix_synthetic: bool = False) -> LoadResult:
    """Load one export in the caller's transaction; raise ExportError if it is not an export, or if
    it is generated and the database holds real exports or the reverse (unless ``mix_synthetic``).

    The file is validated (its header, by reading the first chunk) before anything is written.
    Reading and typing (here) and writing (Postgres, fed by a writer thread on the same
    connection) overlap chunk by chunk: the two use the machine's two cores.
    """
    source = str(path)
    chunks = read_chunks(path)
    first = next(chunks, None)  # raises ExportError for a file that cannot be an export
    sha = file_sha256(path)
    # The same file loaded twice at once: the second waits here until the first commits (or rolls
    # back), then finds it loaded, instead of failing on the unique checksum.
    loads.lock_file(conn, sha)
    existing = loads.batch_of(conn, sha)
    if existing is not None:
        return LoadResult(source, existing, 0, 0, 0, 0, 0, already_loaded=True)

    dropped = first.dropped_columns if first else ()
    synthetic = is_synthetic_export(path)
    batch_id = loads.new_batch(conn, source, sha, list(dropped), synthetic)
    loads.lock_staging(conn)  # one load at a time
    if not mix_synthetic:  # checked under the lock: a concurrent load of the other kind has committed
        check_one_kind(path, synthetic, loads.files_loaded(conn, not synthetic, but=batch_id))
    dates = _DateStyle()
    numberer = LineNumberer(one_export=first.one_export if first else False)
    bar = _progress_bar(path, progress, first.progress_unit if first else "B")
    rows_read, writer = _load_chunks(conn, batch_id, source, chain([first] if first else [], chunks),
                                     numberer, dates, bar)
    if bar is not None:
        bar.close()
    if rows_read == 0:
        raise ExportError(f"{path}: has a header but no data rows; export it again")
    dates.check(path)
    counts = loads.finish_batch(conn, batch_id, rows_read, writer.rows_loaded, writer.rows_new)
    return LoadResult(source, batch_id, *counts, dropped_columns=dropped, notes=dates.notes())


def _load_chunks(conn, batch_id: int, source: str, chunks: Iterable[Chunk], numberer: LineNumberer,
                 dates: _DateStyle, bar: tqdm | None = None) -> tuple[int, _Writer]:
    """Type, quarantine, identify and stage the chunks' rows into the batch: (rows read, the writer
    that counted the rows loaded and new)."""
    rows_read = 0
    with _Writer(conn, batch_id, source) as writer:
        for chunk in chunks:  # one chunk of text in memory at a time
            rows_read += chunk.table.num_rows + len(chunk.bad_lines)
            typed, reason = type_rows(chunk.table)
            refused = pc.not_equal(reason, "")
            dates.add(chunk.table, reason, refused)
            writer.put(_quarantine, chunk.table.filter(refused), reason.filter(refused), chunk.bad_lines)
            loadable = canonical(typed.filter(pc.invert(refused)))
            if loadable.num_rows:
                rows, lines = _rows_and_lines(batch_id, loadable, *identify(numberer, loadable))
                # encoded here, not by the writer: its thread is the slower side of the pipeline
                writer.put(_stage, rows.column_names, copybinary.encode(rows),
                           lines.column_names, copybinary.encode(lines))
            if bar is not None:
                bar.update(chunk.progress - bar.n)
    return rows_read, writer


def load_rows(conn, source: str, key: str, chunks: Iterable[Chunk],
              seen: Iterable[pa.Table] = ()) -> LoadResult:
    """Load rows that come from no file (the shop's database, `lgs live`) as one batch in the caller's
    transaction, through the same typing, quarantine and line identity as a file.

    ``key`` identifies the batch (stored as its checksum: the same batch is never loaded twice).
    The rows are one export, as a table dump is; ``seen`` are rows of it loaded by earlier batches
    that may repeat a line of these (typed and numbered, never loaded again): the third identical
    line of an invoice is the third, whichever batch carried the first two.
    """
    sha = hashlib.sha256(key.encode()).hexdigest()
    batch_id = loads.new_batch(conn, source, sha, [], False)
    loads.lock_staging(conn)  # one load at a time
    check_one_kind(Path(source), False, loads.files_loaded(conn, True, but=batch_id))
    numberer = LineNumberer(one_export=True)
    for table in seen:
        typed, reason = type_rows(table)
        known = canonical(typed.filter(pc.equal(reason, "")))
        if known.num_rows:
            numberer.number(known)
    dates = _DateStyle()
    rows_read, writer = _load_chunks(conn, batch_id, source, chunks, numberer, dates)
    counts = loads.finish_batch(conn, batch_id, rows_read, writer.rows_loaded, writer.rows_new)
    return LoadResult(source, batch_id, *counts, notes=dates.notes())


def _rows_and_lines(batch_id: int, loadable: pa.Table, part, occurrence, ids) -> tuple[pa.Table, pa.Table]:
    """A chunk's export_rows (each row's place in the file and its line) and its lines to stage."""
    occurrence = pa.array(occurrence, pa.int32())
    rows = pa.table({"batch_id": pa.repeat(pa.scalar(batch_id, pa.int64()), loadable.num_rows),
                     "sheet": loadable.column("sheet"), "source_row": loadable.column("source_row"),
                     "export_part": pa.array(part, pa.int32()), "occurrence": occurrence, "line_id": ids})
    lines = (loadable.drop_columns(["sheet", "source_row"])
             .append_column("occurrence", occurrence).append_column("line_id", ids))
    return rows, lines


class _DateStyle:
    """Which way a file's slash dates were read: ``M/D/YYYY`` (month first, as the UCI CSV). A file
    that also has day-first dates (``13/1/2011``) is refused: its dates up to day 12 were swapped."""

    def __init__(self) -> None:
        self.loaded_slash = 0
        self.day_first: tuple[int, str] | None = None  # (line, date) of the first day-first date

    def add(self, table: pa.Table, reason: pa.Array, refused: pa.Array) -> None:
        slash = slash_dates(table)
        if not pc.any(slash).as_py():
            return
        self.loaded_slash += pc.sum(pc.and_not(slash, refused)).as_py() or 0
        if self.day_first is None:
            day_first = pc.fill_null(pc.match_substring(reason, DAY_FIRST_REASON), False)
            if pc.any(day_first).as_py():
                first = table.filter(day_first).slice(0, 1).to_pylist()[0]
                self.day_first = (first["source_row"], first["invoice_date"])

    def check(self, path: Path) -> None:
        if self.day_first is not None and self.loaded_slash:
            line, text = self.day_first
            raise ExportError(
                f"{path}: its dates are day/month/year (line {line}: {shown(text.strip(), 40)}), so "
                "its slash dates up to day 12 would load with day and month swapped; export the dates as "
                "YYYY-MM-DD HH:MM (or month/day/year)")

    def notes(self) -> tuple[str, ...]:
        if not self.loaded_slash:
            return ()
        return (f"{self.loaded_slash:,} dates read as month/day/year (M/D/YYYY)",)


class _Writer:
    """Runs the database steps of a load in order on a thread of their own.

    psycopg2 releases the GIL while Postgres works, so typing the next chunk overlaps
    with writing this one. A bounded queue keeps at most two chunks waiting (flat memory);
    an error on either side stops both, and the caller's transaction rolls back.
    """

    def __init__(self, conn, batch_id: int, source: str) -> None:
        self.conn, self.batch_id, self.source = conn, batch_id, source
        self.rows_loaded = self.rows_new = 0
        self._queue: queue.Queue = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="lgs-load-writer", daemon=True)

    def __enter__(self) -> _Writer:
        self._thread.start()
        return self

    def put(self, step, *args) -> None:
        self._raise_if_failed()
        self._queue.put((step, args))

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None:
                step, args = item
                try:
                    step(self, *args)
                except BaseException as exc:  # handed to the main thread
                    self._error = exc

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is not None and self._error is None:
            self._error = exc  # the reader failed: skip whatever is still queued
        self._queue.put(None)
        self._thread.join()
        if exc is None:
            self._raise_if_failed()


def _stage(writer: _Writer, row_columns: list[str], rows: bytes,
           line_columns: list[str], lines: bytes) -> None:
    """COPY a chunk's loadable rows (binary COPY data) into export_rows, and their lines into the staging
    table, from which load_staged_rows() lands the new ones in transactions."""
    copied_rows = db.copy_in_binary(writer.conn, "export_rows", row_columns, rows)
    copied_lines = db.copy_in_binary(writer.conn, "staging_lines", line_columns, lines)
    loaded, new = loads.land_staged(writer.conn, writer.batch_id)
    if not copied_rows == copied_lines == loaded:  # the load then rolls back whole
        raise RuntimeError(f"a chunk did not reconcile: {copied_rows} export rows copied, "
                           f"{copied_lines} lines staged, {loaded} loaded")
    writer.rows_loaded += loaded
    writer.rows_new += new


def _quarantine(writer: _Writer, refused: pa.Table, reasons: pa.Array, bad_lines: list[BadLine]) -> None:
    """Keep the rows that cannot be loaded, with their raw text and why (never dropped).

    A NUL byte, which Postgres text and jsonb cannot hold, is kept as the visible escape ``\\x00``."""
    records = [(_storable(r["sheet"]), r["source_row"],
                _json(dict(zip(EXPORT_COLUMNS, (r[c] for c in TEXT_COLUMNS), strict=True))), why)
               for r, why in zip(refused.to_pylist(), reasons.to_pylist(), strict=True)]
    records += [(_storable(b.sheet), b.source_row, _json({"line": b.text}), b.reason) for b in bad_lines]
    if not records:
        return
    loads.quarantine(writer.conn, writer.batch_id, writer.source, records)


def _storable(text: str | None) -> str | None:
    return text.replace("\x00", "\\x00") if text and "\x00" in text else text


def _json(values: dict) -> str:
    """The raw values as JSON that jsonb accepts (no ``\\u0000``)."""
    return json.dumps({k: _storable(v) for k, v in values.items()})


def _progress_bar(path: Path, enabled: bool, unit: str) -> tqdm | None:
    """A bar over the file's bytes as given (a .gz's compressed bytes), or a count of a workbook's rows."""
    size = path.stat().st_size
    if not enabled or size < PROGRESS_MIN_BYTES:
        return None
    if unit == "rows":
        return tqdm(desc=f"loading {path.name}", unit=" rows", file=sys.stderr, leave=False)
    return tqdm(total=size, desc=f"loading {path.name}", unit="B", unit_scale=True,
                file=sys.stderr, leave=False)


def load_path(path: Path, *, progress: bool = True, mix_synthetic: bool = False) -> LoadResult:
    """Load one export in a transaction of its own: it lands whole or not at all."""
    with db.connect() as conn:
        return load_file(conn, path, progress=progress, mix_synthetic=mix_synthetic)


def check_one_kind(path: Path, synthetic: bool, others: list[str]) -> None:
    """Refuse to load a generated export beside real ones, or a real one beside generated data: a
    build would blend them, and its figures would be neither (``others``: the files of the other kind
    already loaded)."""
    if not others:
        return
    names = ", ".join(Path(f).name for f in others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3
                                                         else "")
    if synthetic:
        raise ExportError(
            f"{path}: a generated (synthetic) export, and this database holds real exports ({names}); "
            "generated data is never mixed with real data: load it into a database of its own "
            "(e.g. LGS_HOME=.lgs-demo), or run `lgs load --mix-synthetic` to mix them knowingly")
    raise ExportError(
        f"{path}: a real export, and this database holds generated (synthetic) data ({names}); real data "
        "is never mixed with it: run `lgs db reset --yes` to delete the generated data, then load again "
        "(or `lgs load --mix-synthetic` to mix them knowingly)")
