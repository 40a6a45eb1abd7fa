"""The house style of the report's charts: palette, figure, axes, month axis, partial-month marks.

Shared by :mod:`lgs_analytics.report.charts.sales` (sales, orders, customers) and
:mod:`lgs_analytics.report.charts.customers` (cohorts and RFM segments).
"""

from __future__ import annotations

from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import colors as mcolors
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from lgs_analytics.analytics.metrics import partial_months
from lgs_analytics.numbers import gbp

FIGSIZE: tuple[float, float] = (10.0, 4.5)
# A calm palette: steel blue for the main series, amber for the second, muted red/green for
# bad/good, grey for "other" and context.
BLUE, AMBER, GREEN, RED, GREY, INK = "#3A6F93", "#E0A458", "#5E9C7F", "#C0614B", "#9AA5B1", "#33404D"
SHADE = "#EDF0F3"

# Text from the data (product descriptions, countries) is never parsed as mathtext: a description
# holding "$^^$" would otherwise stop the whole report with matplotlib's math parser error.
matplotlib.rcParams["text.parse_math"] = False

GBP_TICKS = FuncFormatter(lambda value, _pos: gbp(value))
COUNT_TICKS = FuncFormatter(lambda v, _pos: f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}")


def _figure(nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] = FIGSIZE, grid: str | None = "y",
            **kwargs: Any) -> tuple[Figure, Any]:
    """A constrained-layout figure; light grid lines along ``grid`` ("x", "y" or None)."""
    # A plain Figure, not a pyplot one: nothing global to close, and Jupyter shows it once
    # (as the cell's result) instead of twice.
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(nrows, ncols, **kwargs)
    for ax in np.ravel(axes):
        ax.spines[["top", "right"]].set_visible(False)
        if grid:
            ax.grid(axis=grid, color="#E3E7EB", linewidth=0.8)
        ax.set_axisbelow(True)
        ax.tick_params(labelsize=9)
    return fig, axes


NOTE_GID = "lgs-note"  # a note above the axes (:func:`_note`)
TITLE_PAD, NOTED_TITLE_PAD = 6.0, 17.0  # points: with a note above the axes, the title sits above it


def _title(ax: Axes, text: str) -> None:
    """The chart's title, left; raised above the note when the axes have one, so a long title and a
    note ("shaded: Dec 2011: partial month ...") never write over each other."""
    noted = any(t.get_gid() == NOTE_GID for t in ax.texts)
    ax.set_title(text, loc="left", fontsize=12, fontweight="bold", color=INK,
                 pad=NOTED_TITLE_PAD if noted else TITLE_PAD)


def _lighter(color: str, amount: float = 0.55) -> tuple[float, float, float]:
    rgb = np.array(mcolors.to_rgb(color))
    return tuple(rgb + (1 - rgb) * amount)


def _month_axis(ax: Axes, months: pd.Series, max_labels: int = 26) -> None:
    n = len(months)
    step = max(1, int(np.ceil(n / max_labels)))
    labels = [m.strftime("%b %Y") if i % step == 0 else "" for i, m in enumerate(months)]
    rotate = np.ceil(n / step) > 6  # more than 6 "Dec 2011" labels collide when horizontal
    ax.set_xticks(range(n), labels, rotation=45 if rotate else 0, ha="right" if rotate else "center",
                  rotation_mode="anchor" if rotate else "default")
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_xlabel("Month")


def partial_note(month: pd.Period, data_end: Any = None) -> str:
    """The note for a partial month: "Dec 2011: partial month (data to 9 Dec)" when
    ``data_end`` falls in it, else "Dec 2011: partial month"."""
    note = f"{month:%b %Y}: partial month"
    if data_end is not None and pd.Timestamp(data_end).to_period("M") == month:
        end = pd.Timestamp(data_end)
        note += f" (data to {end.day} {end:%b})"
    return note


def _partial_end(data_end: Any) -> pd.Period | None:
    """The month of ``data_end`` if the data stop before its last trading day, else None."""
    if data_end is None:
        return None
    end = pd.Timestamp(data_end)
    month = end.to_period("M")
    return month if month in partial_months(pd.Series([month.start_time, end])) else None


def _partial(frame: pd.DataFrame, data_end: Any = None) -> np.ndarray:
    """Partial-month flags: ``is_partial`` if the frame has it, else the month of
    ``data_end`` when that month is partial."""
    if "is_partial" in frame:
        return frame["is_partial"].to_numpy(dtype=bool)
    month = _partial_end(data_end)
    if month is None:
        return np.zeros(len(frame), dtype=bool)
    return (frame["month"] == month).to_numpy(dtype=bool)


def _note(ax: Axes, text: str, inside: bool = False) -> None:
    """A small italic note at the top right above the axes, below the title (or inside, bottom right)."""
    ax.annotate(text, xy=(1.0, 0.02 if inside else 1.0), xycoords="axes fraction",
                xytext=(-4 if inside else 0, 0 if inside else 3), textcoords="offset points",
                ha="right", va="bottom", fontsize=8, style="italic", color=INK,
                gid=None if inside else NOTE_GID)
    if not inside and ax.get_title(loc="left"):  # titled first: raise the title above the note
        _title(ax, ax.get_title(loc="left"))


def _mark_partial(ax: Axes, months: pd.Series, partial: np.ndarray, data_end: Any = None,
                  extra: str = "", inside: bool = False) -> None:
    """Shade partial months and name them in a note (shaded column = partial month)."""
    for i in np.flatnonzero(partial):
        ax.axvspan(i - 0.5, i + 0.5, color=SHADE, zorder=0, linewidth=0)
    if partial.any():
        notes = [partial_note(months.iloc[i], data_end) for i in np.flatnonzero(partial)]
        _note(ax, "shaded: " + "; ".join(notes) + extra, inside)


def _count_axis(axis: Any, integer: bool = True) -> None:
    """Ticks with thousands separators; whole numbers only unless ``integer`` is False."""
    if integer:
        axis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10], integer=True))
    axis.set_major_formatter(COUNT_TICKS)


def _bars(ax: Axes, x: np.ndarray, heights: Any, partial: np.ndarray, color: str, label: str,
          **kwargs: Any) -> Any:
    """Bars; partial months lighter and hatched."""
    bars = ax.bar(x, np.asarray(heights, dtype=float), color=color, label=label, **kwargs)
    for bar in np.asarray(bars.patches, dtype=object)[partial]:
        bar.set_facecolor(_lighter(color))
        bar.set_edgecolor(color)
        bar.set_hatch("///")
    return bars


def _line(ax: Axes, values: Any, partial: np.ndarray, **kwargs: Any) -> None:
    """A line with markers; the segments touching a partial month dashed, its marker hollow."""
    y = np.asarray(values, dtype=float)
    x = np.arange(len(y))
    ax.plot(x, np.where(partial, np.nan, y), marker="o", markersize=4, linewidth=2, **kwargs)
    kwargs.pop("label", None)
    for i in np.flatnonzero(partial):
        lo, hi = max(i - 1, 0), min(i + 2, len(y))
        ax.plot(x[lo:hi], y[lo:hi], linestyle="--", linewidth=2, **kwargs)
        ax.plot(x[i], y[i], marker="o", markersize=5, markerfacecolor="white", **kwargs)


def _legend(ax: Axes, **kwargs: Any) -> None:
    ax.legend(frameon=False, fontsize=9, **kwargs)


def _monthly(frame: pd.DataFrame, data_end: Any) -> tuple[Figure, Axes, np.ndarray, np.ndarray]:
    """Figure, axes, x positions and partial flags of a one-panel monthly chart."""
    fig, ax = _figure()
    return fig, ax, np.arange(len(frame)), _partial(frame, data_end)


def _finish_monthly(ax: Axes, frame: pd.DataFrame, partial: np.ndarray, data_end: Any, ylabel: str,
                    title: str, ticks: Any = None, legend: bool = True, extra: str = "") -> None:
    """Month axis, partial-month marks, y label and ticks (counts unless ``ticks``), title."""
    _month_axis(ax, frame["month"])
    _mark_partial(ax, frame["month"], partial, data_end, extra)
    ax.set_ylabel(ylabel)
    if ticks is None:
        _count_axis(ax.yaxis)
    else:
        ax.yaxis.set_major_formatter(ticks)
    if legend:
        _legend(ax, loc="upper left")
    _title(ax, title)
