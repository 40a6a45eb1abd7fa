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

import pyarrow as pa
from psycopg2.extras import execute_values
from tqdm import tqdm

from . import db
from .readers import STAGING_COLUMNS, BadLine, ExportError, read_chunks

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
    bar = _progress_bar(path, progress)
    db.query(conn, "DELETE FROM staging_export_rows WHERE batch_id = %s", (batch_id,))
    for chunk in chain([first] if first else [], chunks):  # one chunk in memory at a time
        rows_read += _stage_chunk(conn, batch_id, source, chunk.table, chunk.bad_lines)
        if bar is not None:
            bar.update(chunk.progress - bar.n)
    if bar is not None:
        bar.set_postfix_str("typing and de-duplicating in Postgres")
        bar.close()
    if rows_read == 0:
        raise ExportError(f"{path}: has a header but no data rows; export it again")
    counts = db.query(conn, "SELECT * FROM load_staged_batch(%s, %s, %s)", (batch_id, source, rows_read))[0]
    return LoadResult(source, batch_id, *counts)


def _stage_chunk(conn, batch_id: int, source: str, table: pa.Table, bad_lines: list[BadLine]) -> int:
    if table.num_rows:
        staged = table.add_column(0, "batch_id", pa.array([batch_id] * table.num_rows, pa.int64()))
        db.copy_in(conn, "staging_export_rows", ["batch_id", *STAGING_COLUMNS], staged)
    if bad_lines:
        with conn.cursor() as cur:
            execute_values(
                cur,
                "INSERT INTO quarantine (batch_id, source_file, sheet, source_row, raw_values, reason) "
                "VALUES %s",
                [(batch_id, source, b.sheet, b.source_row, json.dumps({"line": b.text}), b.reason)
                 for b in bad_lines],
            )
    return table.num_rows + len(bad_lines)


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
