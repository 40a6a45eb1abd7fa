"""Charts of the churn and lifetime-value predictions: the holdout check, the CLV
distribution and P(alive) by RFM segment. Pure: frames in, a plain Figure out."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from lgs_analytics.analytics import segments
from lgs_analytics.numbers import gbp
from lgs_analytics.report.charts.customers import SEGMENT_COLORS
from lgs_analytics.report.charts.style import (
    AMBER,
    BLUE,
    INK,
    RED,
    _count_axis,
    _figure,
    _legend,
    _note,
    _title,
)


def _unavailable(title: str) -> Figure:
    """An honest empty chart: the models could not be fitted on this data."""
    fig, ax = _figure(grid=None)
    ax.set_axis_off()
    ax.text(0.5, 0.5, "No predictions for this data (see above)", ha="center", va="center", color=INK)
    _title(ax, title)
    return fig


def plot_holdout_check(buckets: pd.DataFrame, metrics: dict) -> Figure:
    """Mean purchases per customer in the holdout period, actual vs predicted, by the number
    of repeat purchases in the calibration period (the two results of ``predict.holdout_check``)."""
    if buckets.empty:
        return _unavailable("Does the model predict the future? Holdout check")
    fig, ax = _figure()
    x = np.arange(len(buckets))
    ax.bar(x - 0.2, buckets["mean_actual"].to_numpy(dtype=float), width=0.4, color=BLUE, label="actual")
    ax.bar(x + 0.2, buckets["mean_predicted"].to_numpy(dtype=float), width=0.4, color=AMBER,
           label="predicted (BG/NBD)")
    ax.set_xticks(x, [f"{b}\n({n:,})" for b, n in zip(buckets.index, buckets["customers"], strict=True)])
    ax.set_xlabel("Repeat purchases in the calibration period (customers)")
    ax.set_ylabel("Purchases per customer in the holdout period")
    _count_axis(ax.yaxis, integer=False)
    _legend(ax, loc="upper left")
    _note(ax, f"all customers: {metrics['total_actual']:,.0f} actual vs {metrics['total_predicted']:,.0f} "
              f"predicted purchases ({metrics['error_pct']:+.1f}%)")
    _title(ax, "Does the model predict the future? Holdout check")
    return fig


def plot_clv_distribution(predictions: pd.DataFrame) -> Figure:
    """Histogram of the customers' 12-month CLV (GBP) on a log scale, median and mean marked."""
    if predictions.empty:
        return _unavailable("Customer lifetime value")
    clv = predictions["clv"].to_numpy(dtype=float)
    positive = clv[clv > 0]
    fig, ax = _figure()
    if len(positive):
        bins = np.geomspace(max(positive.min(), 1.0), max(positive.max(), 2.0), 50)
        ax.hist(np.clip(positive, bins[0], None), bins=bins, color=BLUE, alpha=0.85)
        ax.set_xscale("log")
    for value, name, color, style in ((np.median(clv), "median", INK, "-"), (clv.mean(), "mean", RED, "--")):
        ax.axvline(max(value, 1.0), color=color, linestyle=style, linewidth=1.8, label=f"{name} {gbp(value)}")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: gbp(v)))
    ax.set_xlabel("Predicted customer lifetime value, next 12 months (£, log scale)")
    ax.set_ylabel("Customers")
    _count_axis(ax.yaxis)
    _legend(ax, loc="upper left")
    _title(ax, f"Customer lifetime value ({len(clv):,} customers, total {gbp(clv.sum())})")
    return fig


def plot_p_alive_by_segment(predictions: pd.DataFrame, scores: pd.DataFrame) -> Figure:
    """Mean probability of still being an active customer, per RFM segment, repeat buyers only."""
    if predictions.empty:
        return _unavailable("Probability of being alive, by segment")
    by_segment = segments.repeat_buyers_p_alive(predictions, scores)
    fig, ax = _figure(grid="x")
    y = np.arange(len(by_segment))
    bars = ax.barh(y, by_segment["mean"].to_numpy(), height=0.7,
                   color=[SEGMENT_COLORS.get(s, "#9AA5B1") for s in by_segment.index])
    ax.bar_label(bars, labels=[f"{m:.0%}" for m in by_segment["mean"]], padding=3, fontsize=8, color=INK)
    ax.set_yticks(y, [f"{s} ({n:,})" for s, n in zip(by_segment.index, by_segment["size"], strict=True)])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.08)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.set_xlabel("Mean probability the customer is still active (%)")
    ax.set_ylabel("RFM segment (repeat buyers)")
    _title(ax, "Chance of still buying, by segment (repeat buyers only)")
    return fig
