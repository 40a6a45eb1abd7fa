"""Customer charts: cohort retention and the RFM segments (segment sizes vs revenue, the
R x F score grid, segment profiles).

Inputs are :func:`lgs_analytics.analytics.metrics.cohort_retention`,
:func:`lgs_analytics.analytics.segments.segment_summary` (one row per segment, in its order) and the
per-customer table of :mod:`lgs_analytics.analytics.rfm`.  Each function returns a
matplotlib Figure (pyplot-managed, never shown or closed here).  Every segment keeps one
colour across the charts (:data:`SEGMENT_COLORS`): blues and greens for valuable or
growing customers, ambers and reds for those slipping away, grey for the dormant.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import PercentFormatter

from lgs_analytics.analytics.segment_rules import SegmentRules
from lgs_analytics.analytics.segments import active_rules, assign_segments
from lgs_analytics.numbers import gbp
from lgs_analytics.report.charts.style import (
    COUNT_TICKS,
    FIGSIZE,
    GBP_TICKS,
    INK,
    RED,
    _count_axis,
    _figure,
    _note,
    _partial_end,
    _title,
    partial_note,
)
from lgs_analytics.report.findings import segment_shares

SEGMENT_COLORS: dict[str, str] = {
    "Champions": "#2F6690", "Loyal Customers": "#4F8FB8", "Potential Loyalists": "#86B7D6",
    "New Customers": "#5E9C7F", "Promising": "#A8CFA0", "Need Attention": "#E3C16F",
    "About to Sleep": "#E0A458", "At Risk": "#D17A4F", "Can't Lose": "#B0503C",
    "Hibernating": "#9AA5B1",
}
SCORES = range(1, 6)


def plot_cohort_retention(retention: pd.DataFrame, data_end: Any = None) -> Figure:
    """Heatmap of :func:`metrics.cohort_retention` (share of each first-purchase cohort active
    N months later), drawn with seaborn, every cell labelled in % at a readable size.  The
    colour scale spans months 1+ (month 0 is always 100 %).  With ``data_end`` in a partial
    month, the cells of that calendar month are outlined and noted."""
    import seaborn as sns  # here: only this chart and the R x F grid need it

    data = retention.astype("float64") * 100
    n_rows, n_cols = data.shape
    fig, ax = _figure(figsize=(FIGSIZE[0], max(FIGSIZE[1], min(0.38 * n_rows + 1.6, 14.0))), grid=None)
    later = data.iloc[:, 1:].to_numpy()
    vmax = float(np.nanmax(later)) if np.isfinite(later).any() else 100.0
    vmax = min(max(vmax, 5.0), 100.0)
    size = 10 if n_cols <= 14 else 8 if n_cols <= 26 else 6
    sns.heatmap(data, ax=ax, cmap="Blues", vmin=0, vmax=vmax, mask=data.isna(), annot=n_rows <= 40,
                fmt=".0f", annot_kws={"fontsize": size}, linewidths=0.5, linecolor="white",
                cbar_kws={"label": "% of cohort buying again", "format": PercentFormatter(decimals=0),
                          "extend": "max" if vmax < 100 else "neither", "fraction": 0.04, "aspect": 40},
                xticklabels=[str(c) for c in retention.columns],
                yticklabels=[c.strftime("%b %Y") for c in retention.index])
    ax.tick_params(length=0, labelsize=9)
    ax.set_yticklabels(ax.get_yticklabels(), rotation=0)
    ax.set_xlabel("Months since first purchase (0 = first purchase month)")
    ax.set_ylabel("Cohort (month of first purchase)")
    _title(ax, "Customer retention by cohort (% of the cohort buying in each later month)")
    month = _partial_end(data_end)
    if month is not None:
        ages = month.ordinal - retention.index.asi8
        for r, age in enumerate(ages):
            if 0 <= age < n_cols:
                ax.add_patch(Rectangle((age, r), 1, 1, fill=False, edgecolor=RED, linestyle="--",
                                       linewidth=1.2))
        _note(ax, f"dashed: {partial_note(month, data_end)}")
    return fig


def _colors(segments: pd.Series) -> list[str]:
    return [SEGMENT_COLORS.get(s, "#9AA5B1") for s in segments]


def _barh_panels(summary: pd.DataFrame, ncols: int) -> tuple[Figure, Any, np.ndarray]:
    """A figure of ``ncols`` horizontal-bar panels sharing one segment axis (first row on top)."""
    fig, axes = _figure(1, ncols, sharey=True, grid="x")
    y = np.arange(len(summary))
    axes[0].set_yticks(y, [f"{s} ({n:,})" for s, n in zip(summary["segment"], summary["customers"],
                                                           strict=True)])
    axes[0].invert_yaxis()
    axes[0].set_ylabel("Segment (customers)")
    return fig, axes, y


def plot_segment_sizes(summary: pd.DataFrame) -> Figure:
    """Share of customers vs share of revenue per segment (two bar panels), from
    :func:`segments.segment_summary`; bars labelled with customers and revenue (GBP)."""
    summary = segment_shares(summary)  # the table's shares, rounded once
    fig, (left, right), y = _barh_panels(summary, 2)
    colors = _colors(summary["segment"])
    panels = ((left, "customer_share", "Share of customers (%)",
               [f"{n:,} ({p:.1f}%)" for n, p in zip(summary["customers"], summary["customer_share"],
                                                     strict=True)]),
              (right, "revenue_share", "Share of revenue (%)",
               [f"{gbp(v)} ({p:.1f}%)" for v, p in zip(summary["revenue"], summary["revenue_share"],
                                                       strict=True)]))
    for ax, column, label, texts in panels:
        bars = ax.barh(y, summary[column].to_numpy(dtype=float), color=colors, height=0.7)
        ax.bar_label(bars, labels=texts, fontsize=8, padding=3, color=INK)
        ax.margins(x=0.35)
        ax.set_xlim(left=min(0.0, float(summary[column].min())))
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))
        ax.set_xlabel(label)
    _title(left, "Customers")
    _title(right, "Revenue (GBP)")
    fig.suptitle("Customer segments: share of customers vs share of revenue", x=0.01, ha="left",
                 fontsize=13, fontweight="bold", color=INK)
    return fig


def plot_rf_grid(scores: pd.DataFrame, gaps: Sequence[str] = (), rules: SegmentRules | None = None) -> Figure:
    """Heatmap of customers by recency score (rows, 5 = most recent at the top) and
    frequency score (columns), from an RFM table (``r_score``, ``f_score``); every cell
    shows its count, and the segment regions of the map are outlined and named. ``gaps``
    (findings.rf_gaps: why a score no customer has is skipped) are written under the grid. ``rules``:
    the segment rules that scored them (None: the active rules)."""
    rules = rules or active_rules()
    counts = pd.crosstab(scores["r_score"], scores["f_score"]).reindex(
        index=SCORES, columns=SCORES, fill_value=0).to_numpy()
    r, f = np.meshgrid(np.arange(1, 6), np.arange(1, 6), indexing="ij")
    names = assign_segments(pd.Series(r.ravel()), pd.Series(f.ravel()), rules).to_numpy().reshape(5, 5)
    fig, ax = _figure(figsize=(FIGSIZE[0], FIGSIZE[1] + 1.0), grid=None)
    top = max(int(counts.max()), 1)
    image = ax.imshow(counts, cmap=colormaps["Blues"], vmin=0, vmax=top, origin="lower",
                      extent=(0.5, 5.5, 0.5, 5.5), aspect="auto")
    fig.colorbar(image, ax=ax, format=COUNT_TICKS, shrink=0.9).set_label("Customers")
    for (i, j), n in np.ndenumerate(counts):
        ax.text(j + 1, i + 1 - 0.08, f"{n:,}", ha="center", va="center", fontsize=11, fontweight="bold",
                color="white" if n > 0.55 * top else INK)
        if i + 1 < 5 and names[i, j] != names[i + 1, j]:
            ax.plot([j + 0.5, j + 1.5], [i + 1.5, i + 1.5], color=INK, linewidth=2)
        if j + 1 < 5 and names[i, j] != names[i, j + 1]:
            ax.plot([j + 1.5, j + 1.5], [i + 0.5, i + 1.5], color=INK, linewidth=2)
    for name in rules.names:
        cells = np.argwhere(names == name)
        i, j = cells[np.lexsort((cells[:, 1], -cells[:, 0]))[0]]  # the region's top-left cell
        ax.text(j + 0.55, i + 1.42, name, ha="left", va="top", fontsize=7.5, style="italic",
                color="white" if counts[i, j] > 0.55 * top else INK)
    ax.set_xticks(SCORES)
    ax.set_yticks(SCORES)
    ax.set_xlabel("\n".join(["Frequency score (1 = fewest orders, 5 = most orders)",
                             *(textwrap.fill(gap, 120) for gap in gaps)]))
    ax.set_ylabel("Recency score (5 = most recent)")
    ax.spines[["left", "bottom"]].set_visible(False)
    ax.tick_params(length=0)
    _title(ax, f"Customers by recency and frequency score ({int(counts.sum()):,} customers)")
    return fig


def plot_segment_profiles(summary: pd.DataFrame) -> Figure:
    """Mean recency (days), frequency (orders) and monetary value (GBP) per segment, three
    panels, from :func:`segments.segment_summary`; empty segments show "no customers"."""
    fig, axes, y = _barh_panels(summary, 3)
    colors = _colors(summary["segment"])
    panels = (("mean_recency", "Mean recency (days since last order)", "Recency", lambda v: f"{v:,.0f} d"),
              ("mean_frequency", "Mean frequency (orders)", "Frequency", lambda v: f"{v:,.1f}"),
              ("mean_monetary", "Mean monetary value (£)", "Monetary", lambda v: gbp(v)))
    for ax, (column, label, title, fmt) in zip(axes, panels, strict=True):
        values = summary[column].to_numpy(dtype=float)
        bars = ax.barh(y, np.nan_to_num(values), color=colors, height=0.7)
        ax.bar_label(bars, labels=["no customers" if np.isnan(v) else fmt(v) for v in values],
                     fontsize=8, padding=3, color=INK)
        ax.margins(x=0.4)
        ax.set_xlim(left=min(0.0, float(np.nanmin(values, initial=0.0))))
        if column == "mean_monetary":
            ax.xaxis.set_major_formatter(GBP_TICKS)
        elif column == "mean_recency":
            _count_axis(ax.xaxis)
        ax.set_xlabel(label)
        _title(ax, title)
    fig.suptitle("Segment profiles: mean per customer", x=0.01, ha="left", fontsize=13,
                 fontweight="bold", color=INK)
    return fig


def _short_money(value: float) -> str:
    """£1.2m, £35k, £870: a cell's money in a few characters."""
    size = abs(value)
    text = (f"£{size / 1e6:.1f}m" if size >= 1e6 else f"£{size / 1e3:.0f}k" if size >= 1e3
            else f"£{size:.0f}")
    return ("−" if value < 0 and text != "£0" else "") + text


def plot_migration(table: pd.DataFrame) -> Figure:
    """From/to heat table of a segment migration (analytics.history.migration, its dates in its attrs):
    rows the segment on the start date (the new customers first), columns the segment on the end
    date; each cell shows its customers (bold, the colour) and what they spent between the dates
    (GBP); the diagonal (stayed) is outlined. Row and column labels carry their totals."""
    from lgs_analytics.analytics.history import segment_order

    sources, targets = segment_order(table["from_segment"]), segment_order(table["to_segment"])
    def grid(column: str) -> pd.DataFrame:
        cells = table.pivot_table(index="from_segment", columns="to_segment", values=column, aggfunc="sum")
        return cells.reindex(index=sources, columns=targets).fillna(0)

    counts = grid("customers").astype("int64")
    cells, spent = counts.to_numpy(), grid("spend_between").to_numpy(dtype="float64")
    fig, ax = _figure(figsize=(FIGSIZE[0] + 2.0, 0.55 * len(sources) + 2.6), grid=None)
    top = max(int(cells.max()), 1)
    image = ax.imshow(cells, cmap=colormaps["Blues"], vmin=0, vmax=top, aspect="auto")
    fig.colorbar(image, ax=ax, format=COUNT_TICKS, shrink=0.9).set_label("Customers")
    for (i, j), n in np.ndenumerate(cells):
        if n == 0:
            continue
        color = "white" if n > 0.55 * top else INK
        ax.text(j, i - 0.14, f"{n:,}", ha="center", va="center", fontsize=9, fontweight="bold", color=color)
        ax.text(j, i + 0.24, _short_money(float(spent[i, j])), ha="center", va="center", fontsize=6.5,
                color=color)
        if sources[i] == targets[j]:
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=INK, linewidth=1.5))
    ax.set_yticks(range(len(sources)),
                  [f"{s} ({n:,})" for s, n in zip(sources, cells.sum(axis=1), strict=True)], fontsize=8)
    ax.set_xticks(range(len(targets)),
                  [f"{t} ({n:,})" for t, n in zip(targets, cells.sum(axis=0), strict=True)], rotation=35,
                  ha="right", fontsize=8)
    start, end = table.attrs.get("start", "the start"), table.attrs.get("end", "the end")
    ax.set_ylabel(f"Segment on {start} (customers)")
    ax.set_xlabel(f"Segment on {end} (customers). Cells: customers (bold) and their spend between the "
                  "dates (GBP); outlined: stayed")
    ax.tick_params(length=0)
    ax.spines[["left", "bottom"]].set_visible(False)
    _title(ax, f"Segment migration from {start} to {end}: {int(cells.sum()):,} customers, "
               f"{gbp(float(table['spend_between'].sum()))} spent between the dates")
    return fig


__all__ = [
    "SEGMENT_COLORS", "plot_cohort_retention", "plot_migration", "plot_rf_grid", "plot_segment_profiles",
    "plot_segment_sizes",
]
