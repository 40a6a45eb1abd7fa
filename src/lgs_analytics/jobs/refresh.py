"""`lgs refresh`, the weekly job: load every new export of the inbox, publish a new build (scores,
segments, predictions, report aggregates) and render the report from it, moving each file on
and logging the run.

The inbox (its files, the lock, each file's load and move) is :mod:`~lgs_analytics.jobs.inbox`'s.

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
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg2

from lgs_analytics.errors import first_line
from lgs_analytics.jobs.inbox import (
    LOG_LINE_LIMIT,
    SETTLE_SECONDS,
    FileOutcome,
    RefreshPaths,
    inbox_files,
    load_inbox,
    refresh_lock,
)
from lgs_analytics.privacy import output_key
from lgs_analytics.store import db, runs


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


# --- the run -------------------------------------------------------------------------------------


def utc_now() -> dt.datetime:
    """This host's clock, for names and messages only: the schedule is told by the database's."""
    return dt.datetime.now(dt.UTC)


def new_run_id(now: dt.datetime | None = None) -> str:
    """The start time (UTC, sortable) and a random suffix: unique even for runs a second apart."""
    now = now or utc_now()
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _start_run(run_id: str) -> None:
    with db.connect() as conn:
        runs.start_run(conn, run_id)


def _counts(files: list[FileOutcome]) -> tuple[int, int, int]:
    """(files loaded, files rejected, new lines): what refresh_runs records of a run's files."""
    rejected = sum(f.outcome == "rejected" for f in files)
    return len(files) - rejected, rejected, sum(f.rows_new for f in files)


def _progress_run(run_id: str, files: list[FileOutcome]) -> None:
    """Record what the run has committed so far (after each file): a run killed later keeps it."""
    with db.connect(apply_schema=False) as conn:
        runs.progress_run(conn, run_id, *_counts(files))


def _finish_run(result: RefreshResult, last_batch_id: int | None) -> None:
    with db.connect() as conn:
        runs.finish_run(conn, result.run_id, result.status, *_counts(result.files), result.recomputed,
                        last_batch_id, result.build_id, result.detail)


def build_state() -> runs.BuildState:
    """Whether a load added lines after the current build read the raw layer (no pandas: a refresh
    with nothing new stays light)."""
    with db.connect() as conn:
        return runs.build_state(conn)


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


def rebuild_due(report: Path) -> tuple[str, runs.BuildState]:
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


def published_predictions(build_id: int) -> str:
    """What build ``build_id`` recorded and published of predictions, in the words of `lgs build`."""
    from lgs_analytics.jobs.build import predictions_line

    with db.connect() as conn:
        row = runs.published_predictions(conn, build_id)
    if row is None:
        return ""
    unavailable, customers, alerts = row
    why = unavailable or ("" if customers else "the build published none")
    return predictions_line(why, customers, alerts)


def recompute(paths: RefreshPaths, *, method: str, pseudonymise: bool, progress: bool,
              say: Callable[[str], None], steps: dict[str, float], notes: list[str]) -> int:
    """Publish a new build (classic scores too if the current build has them, or ``method`` is
    classic), then render the report from it, which only reads. Returns the build id."""
    from lgs_analytics.jobs import build, page
    from lgs_analytics.report.render import render
    from lgs_analytics.results import BuildParameters

    started = time.perf_counter()
    methods = build.methods(True if method == "classic" else None, page.current_build())
    build_id, _, line = build.run(BuildParameters(methods))
    steps["build"] = round(time.perf_counter() - started, 2)
    say(line)
    started = time.perf_counter()
    render(paths.report, {"method": method, "pseudonymise": pseudonymise}, progress=progress)
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
