"""`lgs refresh --every INTERVAL`: the weekly job on a schedule that one fault can neither stop nor
spin.

The schedule is kept in refresh_runs and told by the database's clock alone, so a restarted
scheduler neither runs early nor skips a week, and a scheduler whose clock differs from the
database's neither runs early nor waits late. A failed attempt is said in one line and tried
again after a pause that doubles while the failures go on.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable

import psycopg2

from lgs_analytics.errors import first_line
from lgs_analytics.jobs.inbox import LOG_LINE_LIMIT, RefreshBusy, RefreshPaths
from lgs_analytics.jobs.refresh import refresh, utc_now
from lgs_analytics.store import db, runs

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


def doubling_pause(failures: int, first: float, cap: float) -> float:
    """Seconds to wait after the ``failures``-th failed attempt in a row: ``first``, twice that, four
    times... up to ``cap`` (the exponent bounded: 2 ** 1024 would overflow a float)."""
    return float(min(cap, first * 2 ** min(max(failures, 1) - 1, 32)))


def retry_pause(failures: int, every: dt.timedelta) -> float:
    """The refresh's pause: 60, 120, 240... seconds up to an hour or ``every``, whichever is shorter
    (a fault that persists costs one attempt an hour, not a spin)."""
    return doubling_pause(failures, RETRY_SECONDS, min(RETRY_MAX_SECONDS, every.total_seconds()))


def seconds_until_due(every: dt.timedelta) -> float:
    """Seconds until the next scheduled run: ``every`` after the last run started, 0 when due (or no run
    yet). Told entirely by the database's clock, which stamped started_at; never more than ``every``."""
    with db.connect() as conn:
        left = runs.seconds_until_due(conn, every)
    return 0.0 if left is None else min(max(left, 0.0), every.total_seconds())


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
