"""Loading exports into Postgres: stage with COPY, type and reconcile in SQL, one transaction a file.

The rules that type rows, quarantine the bad ones and de-duplicate overlapping
exports live in sql/03_load.sql; this module reads the file, streams it into
the staging table and reports what happened.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from psycopg2.extras import execute_values
from tqdm import tqdm

from . import db, identity
from .config import EXPORT_COLUMNS
from .readers import BadLine, ExportError, read_chunks
from .validate import TEXT_COLUMNS, type_rows

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

    def summary(self) -> str:
        if self.already_loaded:
            return (f"{self.source_file}: already loaded as batch {self.batch_id} "
                    "(same checksum); nothing added")
        return (f"{self.source_file}: {self.rows_read:,} rows read = {self.rows_loaded:,} loaded "
                f"({self.rows_new:,} new, {self.rows_duplicate:,} duplicate of rows already loaded) "
                f"+ {self.rows_quarantined:,} quarantined")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def load_file(conn, path: Path, *, progress: bool = True) -> LoadResult:
    """Load one export in the caller's transaction; raise ExportError if it is not an export.

    The file is validated (its header, by reading the first chunk) before anything is written.
    Rows that cannot be typed go to the quarantine as they are read; the loadable ones are
    staged together, since a line's repeat number depends on the whole file.
    """
    source = str(path)
    chunks = read_chunks(path)
    first = next(chunks, None)  # raises ExportError for a file that cannot be an export
    sha = file_sha256(path)
    existing = db.query(conn, "SELECT batch_id FROM load_batches WHERE sha256 = %s", (sha,))
    if existing:
        return LoadResult(source, existing[0][0], 0, 0, 0, 0, 0, already_loaded=True)

    batch_id = db.query(
        conn, "INSERT INTO load_batches (source_file, sha256) VALUES (%s, %s) RETURNING batch_id",
        (source, sha),
    )[0][0]
    rows_read = 0
    loadable: list[pa.Table] = []
    bar = _progress_bar(path, progress)
    for chunk in chain([first] if first else [], chunks):  # one chunk of text in memory at a time
        rows_read += chunk.table.num_rows + len(chunk.bad_lines)
        typed, reason = type_rows(chunk.table)
        refused = pc.not_equal(reason, "")
        _quarantine(conn, batch_id, source, chunk.table.filter(refused), reason.filter(refused),
                    chunk.bad_lines)
        loadable.append(typed.filter(pc.invert(refused)))
        if bar is not None:
            bar.update(chunk.progress - bar.n)
    if rows_read == 0:
        raise ExportError(f"{path}: has a header but no data rows; export it again")
    if bar is not None:
        bar.set_postfix_str("loading into Postgres")
    _stage(conn, batch_id, pa.concat_tables(loadable) if loadable else None)
    counts = db.query(conn, "SELECT * FROM load_staged_batch(%s, %s, %s)", (batch_id, source, rows_read))[0]
    if bar is not None:
        bar.close()
    return LoadResult(source, batch_id, *counts)


def _stage(conn, batch_id: int, rows: pa.Table | None) -> None:
    """COPY the loadable rows, with their export part and repeat number, into the staging table."""
    if rows is None or rows.num_rows == 0:
        return
    frame = rows.to_pandas()
    part = identity.export_parts(frame["sheet"], frame["invoice_date"])
    staged = rows.append_column("export_part", pa.array(part.to_numpy(), pa.int32()))
    staged = staged.append_column("occurrence", pa.array(identity.occurrences(frame, part).to_numpy(),
                                                         pa.int32()))
    staged = staged.add_column(0, "batch_id", pa.array(np.full(rows.num_rows, batch_id), pa.int64()))
    db.copy_in(conn, "staging_export_rows", staged.column_names, staged)


def _quarantine(conn, batch_id: int, source: str, refused: pa.Table, reasons: pa.Array,
                bad_lines: list[BadLine]) -> None:
    """Keep the rows that cannot be loaded, with their raw text and why (never dropped)."""
    records = [(r["sheet"], r["source_row"], json.dumps(dict(zip(EXPORT_COLUMNS, (r[c] for c in TEXT_COLUMNS),
                                                                 strict=True))), why)
               for r, why in zip(refused.to_pylist(), reasons.to_pylist(), strict=True)]
    records += [(b.sheet, b.source_row, json.dumps({"line": b.text}), b.reason) for b in bad_lines]
    if not records:
        return
    with conn.cursor() as cur:
        execute_values(
            cur,
            "INSERT INTO quarantine (batch_id, source_file, sheet, source_row, raw_values, reason) VALUES %s",
            [(batch_id, source, *record) for record in records], page_size=1000,
        )


def _progress_bar(path: Path, enabled: bool) -> tqdm | None:
    size = path.stat().st_size
    if not enabled or size < PROGRESS_MIN_BYTES:
        return None
    if path.suffix.lower() == ".xlsx":
        return tqdm(desc=f"loading {path.name}", unit=" rows", file=sys.stderr, leave=False)
    return tqdm(total=size, desc=f"loading {path.name}", unit="B", unit_scale=True,
                file=sys.stderr, leave=False)


def load_path(path: Path, *, progress: bool = True) -> LoadResult:
    """Load one export in a transaction of its own: it lands whole or not at all."""
    with db.connect() as conn:
        return load_file(conn, path, progress=progress)
