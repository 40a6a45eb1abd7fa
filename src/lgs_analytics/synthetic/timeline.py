"""The trading calendar and warped time.

Trading days from 2009-12-01 to 2011-12-09, closed on Saturdays and from 24 December to 3 January.
A day weighs as the real customer invoices in its month, a weekday profile and the early-December
rush. "Warped time" ``u`` in [0, 1) is the cumulative weight: anything uniform in ``u`` is seasonal
on the calendar. The export has three periods: before, in and after the sheets' overlap (1-9
December 2010).
"""

from __future__ import annotations

import numpy as np

from lgs_analytics.synthetic.calibration import (
    DECEMBER_ACQUISITION,
    DECEMBER_RUSH,
    FIRST_DAY,
    HOURS,
    LAST_DAY,
    MONTH_INVOICES,
    MONTH_ROWS,
    OVERLAP,
    WEEKDAY,
)

Table = dict[str, np.ndarray]


def _minute_profiles() -> tuple[np.ndarray, np.ndarray]:
    """The trading day's minutes (07:45 to 20:59) and each hour profile's cumulative share of them."""
    minutes = np.arange(7 * 60 + 45, 21 * 60)
    hour = minutes // 60 - 7
    per_minute = np.array(list(HOURS.values()), dtype=float)[:, hour] / np.bincount(hour)[hour]
    cdf = np.cumsum(per_minute, axis=1)
    return minutes, cdf / cdf[:, -1:]


def _calendar() -> Table:
    """Trading days with their weight and cumulative weight (warped time), the lines an order of the
    month takes (relative), the minute-of-day profiles and the warped times of the overlap's edges."""
    days = np.arange(FIRST_DAY, LAST_DAY + 1)
    month = (days.astype("datetime64[M]") - FIRST_DAY.astype("datetime64[M]")).astype(int)
    dom = (days - days.astype("datetime64[M]")).astype(int) + 1
    december = month % 12 == 0
    closed = (december & (dom >= 24)) | ((month % 12 == 1) & (dom <= 3))
    weight = WEEKDAY[(days.astype(int) + 3) % 7] * (1 + DECEMBER_RUSH * (december & (dom <= 9))) * ~closed
    weight *= MONTH_INVOICES[month] / np.bincount(month, weight)[month]
    weight /= weight.sum()
    cum = np.concatenate([[0.0], np.cumsum(weight)])
    basket = MONTH_ROWS / MONTH_INVOICES
    minutes, cdf = _minute_profiles()
    return {"days": days, "month": month, "weight": weight, "cum": cum,
            "lines": (basket / (basket @ MONTH_INVOICES / MONTH_INVOICES.sum()))[month],
            "minutes": minutes, "cdf": cdf,
            "last": cdf[:, minutes.searchsorted(12 * 60 + 50)],  # the export ends 2011-12-09 12:50
            "edges": cum[days.searchsorted(np.array(OVERLAP).astype("datetime64[D]"))]}


def _day(u: np.ndarray, cal: Table) -> np.ndarray:
    """The trading day (index into the calendar) of each warped time (never a closed day)."""
    day = cal["cum"].searchsorted(np.clip(u, 1e-12, 1 - 1e-12), "right") - 1
    return np.clip(day, 0, len(cal["days"]) - 1)


def _to_time(u: np.ndarray, cal: Table, profile: np.ndarray) -> np.ndarray:
    """Warped time to a timestamp at minute resolution: the day from ``u``, the minute from the
    invoice's hour profile (monotonic in ``u`` within a profile)."""
    day = _day(u, cal)
    frac = (np.clip(u, 1e-12, 1 - 1e-12) - cal["cum"][day]) / cal["weight"][day]
    minute = np.empty(len(u), np.int64)
    for p in np.unique(profile):
        at = profile == p
        f = frac[at] * np.where(day[at] == len(cal["days"]) - 1, cal["last"][p], 1.0)
        minute[at] = cal["minutes"][np.minimum(cal["cdf"][p].searchsorted(f), len(cal["minutes"]) - 1)]
    return cal["days"][day].astype("datetime64[m]") + minute.astype("timedelta64[m]")


def _births(u: np.ndarray, cal: Table) -> np.ndarray:
    """New customers' first purchases in warped time, from uniforms: uniform in warped time, but a
    December day counts DECEMBER_ACQUISITION times its weight."""
    weight = cal["weight"] * np.where(cal["month"] % 12 == 0, DECEMBER_ACQUISITION, 1.0)
    cum = np.concatenate([[0.0], np.cumsum(weight)]) / weight.sum()
    day = np.clip(cum.searchsorted(u, "right") - 1, 0, len(weight) - 1)
    return cal["cum"][day] + (u - cum[day]) / (cum[day + 1] - cum[day]) * cal["weight"][day]


def _per_period(full: tuple[int, int, int], scale: float, least: tuple[int, int, int]) -> np.ndarray:
    """Counts per period (before / in / after the overlap) scaled to the export, at least ``least``."""
    return np.maximum(np.round(np.array(full) * scale).astype(np.int64), least)


def _in_periods(rng: np.random.Generator, counts: np.ndarray, cal: Table) -> np.ndarray:
    """Warped times, ``counts[g]`` of them uniform within each period ``g``."""
    bounds = np.array([0.0, *cal["edges"], 1.0])
    g = np.repeat(np.arange(3), counts)
    return bounds[g] + rng.random(len(g)) * (bounds[g + 1] - bounds[g])


def _period(u: np.ndarray, cal: Table) -> np.ndarray:
    """Period of each warped time: 0 before, 1 in, 2 after the sheets' overlap."""
    return cal["edges"].searchsorted(u, "right")


def _period_of_day(day: np.ndarray, cal: Table) -> np.ndarray:
    """Period of each trading day (index into the calendar): 0 before, 1 in, 2 after the overlap."""
    return cal["days"].searchsorted(np.array(OVERLAP).astype("datetime64[D]")).searchsorted(day, "right")
