"""The refresh's inbox: which files are ready, the lock that lets one refresh run at a time, and each
file's load, moved on to processed/ once it committed or to rejected/ with its reason.

Layout (all beside the inbox, by default ``data/``)::

    inbox/       exports waiting (copy in under a temporary name or a dot name, then rename)
    processed/   <run id>/<file>: loaded, or already loaded before
    rejected/    <run id>/<file> and <file>.reason.txt: not an export; nothing of it was written
    logs/refresh.jsonl   one JSON record per run (file names, counts, reasons: no customer data)
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from lgs_analytics import config
from lgs_analytics.errors import first_line
from lgs_analytics.ingest.formats import ExportError
from lgs_analytics.store import db

IN_PROGRESS_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download")
# A file is loaded only once it has not changed for this long (its mtime moves with every write):
# a copy still in progress waits for the next run. The default of every refresh entry point.
SETTLE_SECONDS = 300
LOCK_NAME = ".lgs-refresh.lock"
LOG_LINE_LIMIT = 500  # characters of an error kept in the run log and a rejected file's reason


class RefreshBusy(RuntimeError):
    """Another refresh holds the lock; this one did nothing."""


@dataclass(frozen=True)
class RefreshPaths:
    """Where a refresh reads and moves files, logs, and writes its report."""

    inbox: Path
    processed: Path
    rejected: Path
    log_file: Path
    report: Path

    @classmethod
    def beside(cls, inbox: Path, report: Path | None = None) -> RefreshPaths:
        """The standard layout around ``inbox`` (processed/, rejected/, logs/ next to it)."""
        base = inbox.parent
        return cls(inbox, base / "processed", base / "rejected", base / "logs" / "refresh.jsonl",
                   report or config.report_path())


@dataclass
class FileOutcome:
    """What one inbox file became: loaded (new rows or none), already loaded, or rejected."""

    file: str
    outcome: str  # "loaded" | "already loaded" | "rejected"
    moved_to: str
    rows_read: int = 0
    rows_new: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    dropped_columns: tuple[str, ...] = ()
    reason: str = ""
    seconds: float = 0.0


def inbox_files(inbox: Path, min_age_seconds: float = SETTLE_SECONDS,
                now: float | None = None) -> tuple[list[Path], list[Path]]:
    """(ready, waiting): the inbox's files oldest first; ``waiting`` were modified too recently to
    be sure they are complete. Dot files and in-progress names (``.part``, ``.tmp``...) are skipped."""
    now = time.time() if now is None else now
    candidates = [p for p in inbox.iterdir() if p.is_file() and not p.name.startswith(".")
                  and p.suffix.lower() not in IN_PROGRESS_SUFFIXES]
    candidates.sort(key=lambda p: (p.stat().st_mtime, p.name))
    ready = [p for p in candidates if now - p.stat().st_mtime >= min_age_seconds]
    return ready, [p for p in candidates if p not in ready]


def move_into(path: Path, folder: Path) -> Path:
    """Move ``path`` into ``folder`` (created), atomically when on the same file system."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    shutil.move(str(path), str(target))  # os.rename on one file system; copy + delete across them
    return target


def reject(path: Path, folder: Path, reason: str) -> Path:
    """Move a refused file to ``folder`` with ``<name>.reason.txt`` beside it saying why."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{path.name}.reason.txt").write_text(reason + "\n", encoding="utf-8")
    return move_into(path, folder)


@contextmanager
def refresh_lock(inbox: Path) -> Iterator[None]:
    """Hold the inbox's lock for the run, or raise RefreshBusy at once.

    An flock: the kernel releases it when the process ends, even by SIGKILL, so a killed
    run never leaves the inbox locked.
    """
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / LOCK_NAME
    handle = path.open("a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RefreshBusy(f"another lgs refresh is running ({holder}); this run did nothing, "
                              "try again when it has finished") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {dt.datetime.now().astimezone():%Y-%m-%d %H:%M:%S %Z}")
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock


def is_server_failure(exc: BaseException) -> bool:
    """Whether a failed load is the server's doing (gone, disk full, unreachable: stop the run and
    keep the file for the next one) rather than the file's (any other error: reject the file and go
    on, so a poison file never blocks the ones after it)."""
    return isinstance(exc, (db.DatabaseError, psycopg2.OperationalError, psycopg2.InterfaceError))


def load_inbox(paths: RefreshPaths, run_id: str, files: list[Path], *, progress: bool,
               say: Callable[[str], None], outcomes: list[FileOutcome] | None = None,
               done: Callable[[list[FileOutcome]], None] | None = None) -> list[FileOutcome]:
    """Load each file in its own transaction; move it to processed/ after it committed, or to
    rejected/ with its reason when it cannot be loaded. A failure of the database itself stops
    the run and leaves the file where it is, to be tried again. ``outcomes`` (the run's list)
    grows file by file, so a run stopped half-way still logs what it loaded; ``done`` is called
    with it after each file (the run's row records it)."""
    outcomes = [] if outcomes is None else outcomes
    done = done or (lambda _outcomes: None)
    if files:  # the loader (pandas, pyarrow: 0.3 s of imports) only when there is something to load
        from lgs_analytics.ingest import load as ingest
    for path in files:
        started = time.perf_counter()
        try:
            result = ingest.load_path(path, progress=progress)
        except Exception as exc:
            if is_server_failure(exc):
                raise
            reason = first_line(exc, LOG_LINE_LIMIT)
            if not isinstance(exc, ExportError):
                reason = f"{path}: could not be loaded ({reason}); nothing from this file was written"
            moved = reject(path, paths.rejected / run_id, reason)
            outcomes.append(FileOutcome(path.name, "rejected", str(moved), reason=reason,
                                        seconds=time.perf_counter() - started))
            say(f"rejected {path.name}: {reason} -> {moved.parent}")
            done(outcomes)
            continue
        moved = move_into(path, paths.processed / run_id)
        outcomes.append(FileOutcome(
            path.name, "already loaded" if result.already_loaded else "loaded", str(moved),
            result.rows_read, result.rows_new, result.rows_duplicate, result.rows_quarantined,
            result.dropped_columns, seconds=time.perf_counter() - started))
        say(result.summary().replace(str(path), path.name) + f" -> {moved.parent}")
        done(outcomes)
    return outcomes


