"""The automated refresh: load every new export of the inbox, publish a new build (scores,
segments, predictions, report aggregates) and render the report from it, moving each file on
and logging the run.

Layout (all beside the inbox, by default ``data/``)::

    inbox/       exports waiting (copy in under a temporary name or a dot name, then rename)
    processed/   <run id>/<file>: loaded, or already loaded before
    rejected/    <run id>/<file> and <file>.reason.txt: not an export; nothing of it was written
    logs/refresh.jsonl   one JSON record per run (file names, counts, reasons: no customer data)

Safety: one refresh at a time (an exclusive lock on ``inbox/.lgs-refresh.lock``, released by
the kernel however the process ends); each file loads in one transaction and is moved only
after it committed; each table is replaced in one transaction; the report is written under a
temporary name and renamed. Killed at any moment, the database holds the old state or the new
one, and the next run finishes the job: a file still in the inbox is loaded (or recognised by
its checksum), a build that has not read the newest lines is rebuilt, and so is a report that is
not of the current build. The run's row in refresh_runs is brought up to date after each file, so
a run killed half-way still says what it had loaded.

Clocks: every time the schedule compares is the database's (refresh_runs.started_at and now()
on the server), and the report is matched to its build by id, never by time: a scheduler whose
clock differs from the database's neither runs early nor waits late.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg2

from lgs_analytics import config
from lgs_analytics.errors import first_line
from lgs_analytics.ingest.formats import ExportError
from lgs_analytics.privacy import output_key
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
                   report or config.reports_dir() / "retail_report.html")


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


@dataclass
class RefreshResult:
    """One run: its files, whether the scores and report were rebuilt, and how long each step took."""

    run_id: str
    started_at: str
    files: list[FileOutcome] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # files too fresh to be complete yet
    recomputed: bool = False
    build_id: int | None = None  # the build this run published
    predictions: str = ""  # what that build published of predictions, or "no predictions: <why>"
    steps: dict[str, float] = field(default_factory=dict)  # step -> seconds
    notes: list[str] = field(default_factory=list)
    status: str = "running"
    detail: str = ""
    seconds: float = 0.0

    @property
    def rejected(self) -> list[FileOutcome]:
        return [f for f in self.files if f.outcome == "rejected"]

    @property
    def rows_new(self) -> int:
        return sum(f.rows_new for f in self.files)


# --- the inbox -----------------------------------------------------------------------------------


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


# --- the run -------------------------------------------------------------------------------------


def utc_now() -> dt.datetime:
    """This host's clock, for names and messages only: the schedule is told by the database's."""
    return dt.datetime.now(dt.UTC)


def new_run_id(now: dt.datetime | None = None) -> str:
    """The start time (UTC, sortable) and a random suffix: unique even for runs a second apart."""
    now = now or utc_now()
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


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


def _start_run(run_id: str) -> None:
    """Record the run; runs still marked running were cut short (this one holds the lock)."""
    with db.connect() as conn:
        db.query(conn, "UPDATE refresh_runs SET status = 'interrupted', finished_at = now(), "
                       "detail = 'the run was stopped before it finished' WHERE status = 'running'")
        db.query(conn, "INSERT INTO refresh_runs (run_id) VALUES (%s)", (run_id,))


def _counts(files: list[FileOutcome]) -> tuple[int, int, int]:
    """(files loaded, files rejected, new lines): what refresh_runs records of a run's files."""
    rejected = sum(f.outcome == "rejected" for f in files)
    return len(files) - rejected, rejected, sum(f.rows_new for f in files)


def _progress_run(run_id: str, files: list[FileOutcome]) -> None:
    """Record what the run has committed so far (after each file): a run killed later keeps it."""
    with db.connect(apply_schema=False) as conn:
        db.query(conn, "UPDATE refresh_runs SET files_loaded = %s, files_rejected = %s, rows_new = %s "
                       "WHERE run_id = %s", (*_counts(files), run_id))


def _finish_run(result: RefreshResult, last_batch_id: int | None) -> None:
    with db.connect() as conn:
        db.query(conn, """UPDATE refresh_runs SET finished_at = now(), status = %s, files_loaded = %s,
                          files_rejected = %s, rows_new = %s, recomputed = %s,
                          last_batch_id = COALESCE(%s, last_batch_id), build_id = %s, detail = %s
                          WHERE run_id = %s""",
                 (result.status, *_counts(result.files), result.recomputed, last_batch_id, result.build_id,
                  result.detail, result.run_id))


# A load makes the current build stale when it added lines the build has not read. A load of lines
# all loaded before (an export overlapping earlier ones, under a new checksum) changes nothing the
# standard scores, the predictions or the report aggregates read (transactions), so it does not;
# its rows do enter the classic method's input (every exported row, overlaps included), so it does
# when the current build has classic scores. With no build yet, any load of new lines makes it stale.
_BUILD_STATE = """
    SELECT (SELECT max(batch_id) FROM load_batches), b.build_id, b.finished_at,
           EXISTS (SELECT 1 FROM load_batches l
                   WHERE l.batch_id > coalesce(b.last_batch_id, 0)
                     AND (l.rows_new > 0 OR (l.rows_loaded > 0 AND 'classic' = ANY (b.methods))))
    FROM (SELECT) AS one LEFT JOIN current_build b ON true"""


@dataclass(frozen=True)
class BuildState:
    """The current build against the loads: whether it is stale (see _BUILD_STATE)."""

    newest_batch: int | None  # None before the first load
    build_id: int | None  # None before the first build
    built_at: dt.datetime | None
    stale: bool


def build_state() -> BuildState:
    """Whether a load added lines after the current build read the raw layer (no pandas: a refresh
    with nothing new stays light)."""
    with db.connect() as conn:
        return BuildState(*db.query(conn, _BUILD_STATE)[0])


# The report's provenance line (report.tables.provenance_header) names the build it shows.
_REPORT_BUILD = re.compile(rb'<p class="lgs-provenance">Build (\d+),')


def report_build(report: Path) -> int | None:
    """The build ``report`` was rendered from, as its provenance line says; None when it names none
    (missing, unreadable, or not a report of a build)."""
    try:
        found = _REPORT_BUILD.search(report.read_bytes())
    except OSError:
        return None
    return int(found[1]) if found else None


def rebuild_due(report: Path) -> tuple[str, BuildState]:
    """(why a rebuild is due, or "" when it is not; the state it was told from). Due when a load added lines
    the current build has not read (this run's, a run killed after loading, an `lgs load` by hand),
    or when ``report`` is missing or is not of the current build (a run stopped before writing it).
    The report is matched to the build by id, not by time: its file's time is this host's clock,
    the build's the database's."""
    state = build_state()
    if state.stale:
        return ("new lines were loaded and nothing is built yet" if state.build_id is None else
                f"lines were loaded after build {state.build_id} read them"), state
    if state.build_id is not None:
        if not report.exists():
            return f"build {state.build_id} has no report at {report} yet", state
        shown = report_build(report)
        if shown != state.build_id:
            return (f"the report {report} is of build {shown}, not of build {state.build_id}" if shown
                    else f"the report {report} does not say which build it shows"), state
    return "", state


def predictions_text(unavailable: str, customers: int, alerts: int) -> str:
    """What a build published of predictions, for the lines `lgs build` and `lgs refresh` print."""
    if unavailable:
        return f"no predictions: {unavailable}"
    return f"predictions for {customers:,} customers ({alerts:,} churn alerts)"


def published_predictions(build_id: int) -> str:
    """:func:`predictions_text` of what build ``build_id`` recorded and published."""
    with db.connect() as conn:
        rows = db.query(conn, """
            SELECT coalesce(b.forecast->>'unavailable', ''), count(p.customer_id),
                   count(p.customer_id) FILTER (WHERE p.churn_risk)
            FROM builds b LEFT JOIN customer_predictions p ON p.build_id = b.build_id
            WHERE b.build_id = %s GROUP BY b.build_id""", (build_id,))
    if not rows:
        return ""
    unavailable, customers, alerts = rows[0]
    if not unavailable and not customers:
        unavailable = "the build published none"
    return predictions_text(unavailable, customers, alerts)


def recompute(paths: RefreshPaths, *, method: str, pseudonymise: bool, progress: bool,
              say: Callable[[str], None], steps: dict[str, float], notes: list[str]) -> int:
    """Publish a new build (classic scores too if the current build has them), then render the
    report from it, which only reads. Returns the build id."""
    from lgs_analytics.pipeline import build, current_build
    from lgs_analytics.report.build import build_report
    from lgs_analytics.results import BuildParameters

    started = time.perf_counter()
    current = current_build()
    keep_classic = method == "classic" or (current is not None and "classic" in current.parameters.methods)
    parts: dict[str, float] = {}
    build_id, result = build(BuildParameters(("standard", "classic") if keep_classic else ("standard",)),
                             seconds=parts)
    steps["build"] = round(time.perf_counter() - started, 2)
    steps.update({f"build_{part}": value for part, value in parts.items()})  # build_marts, build_charts
    outlook = result.forecast
    alerts = 0 if outlook.unavailable else int(outlook.customers["churn_risk"].sum())
    say(f"published build {build_id}: scores ({', '.join(result.scores)}), segments, report aggregates; "
        + predictions_text(outlook.unavailable, len(outlook.customers), alerts))
    started = time.perf_counter()
    build_report(paths.report, {"method": method, "pseudonymise": pseudonymise}, progress=progress)
    steps["report"] = round(time.perf_counter() - started, 2)
    say(f"report written: {paths.report} (from build {build_id})")
    return build_id


def refresh(paths: RefreshPaths, *, min_age_seconds: float = SETTLE_SECONDS, force: bool = False,
            method: str = "standard", pseudonymise: bool = False, progress: bool = True,
            say: Callable[[str], None] = print, rebuild: Callable[..., None] | None = None) -> RefreshResult:
    """One refresh run (see the module docstring); raises RefreshBusy if another one runs.

    ``rebuild`` replaces :func:`recompute` (build and report, about ten seconds), for tests of
    the inbox handling.
    """
    output_key(pseudonymise)  # fail before anything moves if the key is missing
    for folder in (paths.inbox, paths.processed, paths.rejected, paths.log_file.parent):
        folder.mkdir(parents=True, exist_ok=True)
    clock = time.perf_counter()
    with refresh_lock(paths.inbox):
        result = RefreshResult(new_run_id(), utc_now().isoformat(timespec="seconds"))
        last_batch = None
        try:
            _start_run(result.run_id)
            ready, waiting = inbox_files(paths.inbox, min_age_seconds)
            result.waiting = [p.name for p in waiting]
            for name in result.waiting:
                say(f"left {name} in the inbox: changed less than {min_age_seconds:g} s ago, "
                    "may still be copying")
            started = time.perf_counter()
            load_inbox(paths, result.run_id, ready, progress=progress, say=say, outcomes=result.files,
                       done=lambda files: _progress_run(result.run_id, files))
            if ready:
                result.steps["load"] = round(time.perf_counter() - started, 2)
            due, state = rebuild_due(paths.report)
            last_batch = state.newest_batch
            if force or due:
                why = ("asked to (--force)" if force else
                       f"{result.rows_new:,} new lines loaded" if result.rows_new else due)
                result.notes.append(f"rebuilt: {why}")
                if not force and not result.rows_new:
                    say(f"rebuilding: {why}")
                result.build_id = (rebuild or recompute)(
                    paths, method=method, pseudonymise=pseudonymise, progress=progress, say=say,
                    steps=result.steps, notes=result.notes)
                result.recomputed = True
                if result.build_id is not None:
                    result.predictions = published_predictions(result.build_id)
            else:
                said = "no new lines loaded" if result.files else "nothing new to load"
                say(f"{said}; build {state.build_id} and the report {paths.report} are up to date"
                    if state.build_id is not None else f"{said}; no line loaded yet, nothing to build")
            result.status = "succeeded"
        except BaseException as exc:
            stopped = isinstance(exc, (KeyboardInterrupt, SystemExit))
            result.status = "interrupted" if stopped else "failed"
            result.detail = first_line(exc, LOG_LINE_LIMIT) if not stopped else (
                f"the run was stopped ({exc.__class__.__name__}) before it finished")
            raise
        finally:
            result.seconds = round(time.perf_counter() - clock, 2)
            _record(paths, result, last_batch if result.status == "succeeded" and result.recomputed else None)
    return result


def _record(paths: RefreshPaths, result: RefreshResult, last_batch_id: int | None) -> None:
    """Append the run to the JSON-lines log, then to refresh_runs (if the database answers)."""
    record = asdict(result) | {"finished_at": utc_now().isoformat(timespec="seconds")}
    with paths.log_file.open("a", encoding="utf-8") as log:
        log.write(json.dumps(record) + "\n")
    try:
        _finish_run(result, last_batch_id)
    except (db.DatabaseError, psycopg2.Error):
        pass  # the database is what failed; the log file has the run


# --- the schedule --------------------------------------------------------------------------------

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_INTERVAL = dt.timedelta(days=366)
RETRY_SECONDS = 60  # the pause after a failed attempt, doubled after each further failure in a row,
RETRY_MAX_SECONDS = 3600  # up to this or the interval, whichever is shorter


def parse_interval(text: str) -> dt.timedelta:
    """``7d``, ``1w``, ``12h``, ``30m`` or ``90s`` as a timedelta (at least a minute, at most 366 days)."""
    match = re.fullmatch(r"\s*([+-]?)(\d+)\s*([smhdw])\s*", text.lower())
    if not match:
        raise ValueError(f"refresh interval {text!r} is not a number and a unit: use e.g. 7d, 1w, 12h or 30m")
    digits = match[2].lstrip("0")
    if match[1] == "-" or not digits:
        raise ValueError(f"refresh interval {text!r} is not positive; use e.g. 7d, 1w, 12h or 30m")
    seconds = int(digits) * _UNITS[match[3]] if len(digits) <= 12 else None  # (int() of 4,300+ digits fails)
    if seconds is None or seconds > MAX_INTERVAL.total_seconds():
        raise ValueError(f"refresh interval {text!r} is over {MAX_INTERVAL.days} days; use e.g. 7d or 1w")
    if seconds < 60:
        raise ValueError(f"refresh interval {text!r} is under a minute; use 1m or more")
    return dt.timedelta(seconds=seconds)


def retry_pause(failures: int, every: dt.timedelta) -> float:
    """Seconds to wait after the ``failures``-th failed attempt in a row: 60, 120, 240... up to an hour
    or ``every``, whichever is shorter (a fault that persists costs one attempt an hour, not a spin)."""
    cap = min(RETRY_MAX_SECONDS, every.total_seconds())
    return float(min(cap, RETRY_SECONDS * 2 ** min(max(failures, 1) - 1, 32)))


def seconds_until_due(every: dt.timedelta) -> float:
    """Seconds until the next scheduled run: ``every`` after the last run started, 0 when due (or no run
    yet). Told entirely by the database's clock, which stamped started_at; never more than ``every``."""
    with db.connect() as conn:
        left = db.query(conn, "SELECT extract(epoch FROM max(started_at) + %s - now())::float8 "
                              "FROM refresh_runs", (every,))[0][0]
    return 0.0 if left is None else min(max(float(left), 0.0), every.total_seconds())


def run_every(paths: RefreshPaths, every: dt.timedelta, *, say: Callable[[str], None] = print,
              sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
              runs: int | None = None, **options) -> None:
    """Refresh now if due, then every ``every``, forever (or ``runs`` attempts).

    The schedule is kept in refresh_runs, so a restarted scheduler neither runs early nor
    skips a week; it is told by the database's clock alone (:func:`seconds_until_due`), and this
    scheduler also never starts two runs less than ``every`` apart by its own monotonic ``clock``.
    A failed attempt (the run, or reading the schedule) is said in one line with its reason and
    tried again after :func:`retry_pause`, which doubles while the failures go on and starts
    afresh after a run succeeds.
    """
    failures = 0
    retry = False  # the last run failed: run again after the pause, whatever the schedule says
    last_start: float | None = None  # clock() when this scheduler last started a run
    done = 0
    while runs is None or done < runs:
        if not retry:
            try:
                wait = seconds_until_due(every)
            except (db.DatabaseError, psycopg2.Error) as exc:  # the server is down or restarting
                failures += 1
                pause = retry_pause(failures, every)
                say(f"cannot read the schedule ({first_line(exc, LOG_LINE_LIMIT)}); "
                    f"trying again in {pause:g} s")
                sleep(pause)
                continue
            if last_start is not None:
                wait = max(wait, every.total_seconds() - (clock() - last_start))
            if wait > 0:
                due = utc_now() + dt.timedelta(seconds=wait)
                say(f"next refresh at {due:%Y-%m-%d %H:%M:%S} UTC (every {every})")
                sleep(wait)
        retry = False
        last_start = clock()
        try:
            refresh(paths, say=say, **options)
        except RefreshBusy as exc:  # the other run is the schedule's: look again after the pause
            failures += 1
            pause = retry_pause(failures, every)
            say(f"skipped: {exc}; looking again in {pause:g} s")
            sleep(pause)
        except Exception as exc:  # the schedule outlives a failed run; the run log has it
            failures += 1
            pause = retry_pause(failures, every)
            retry = True
            say(f"refresh failed (attempt {failures} in a row): {first_line(exc, LOG_LINE_LIMIT)}; "
                f"trying again in {pause:g} s")
            sleep(pause)
        else:
            failures = 0
        done += 1
