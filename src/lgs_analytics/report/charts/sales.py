"""Charts for the LGS report: invoice amounts, monthly orders, sales, growth, active and new
customers, countries, products and basket size; the house style shared by all charts.

Every function takes a table returned by :mod:`lgs_analytics.analytics.metrics` and returns a
matplotlib :class:`~matplotlib.figure.Figure` (a plain Figure, not registered with pyplot:
the caller displays it).  No I/O, no global style changes.  Cohort retention and the RFM
charts live in :mod:`lgs_analytics.report.charts.customers`; the shared style in
:mod:`lgs_analytics.report.charts.style`.

Monthly charts mark partial months (``is_partial``) with a shaded column, hatched bars or
a dashed line segment and a note.  Pass ``data_end`` (the last invoice date, e.g.
``headline_numbers(...)["period_end"]``) to say how far the last month goes ("data to
9 Dec 2011"); without it the note names the month only.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from lgs_analytics.numbers import gbp
from lgs_analytics.report.charts.style import (
    AMBER,
    BLUE,
    GBP_TICKS,
    GREEN,
    GREY,
    INK,
    RED,
    _bars,
    _count_axis,
    _figure,
    _finish_monthly,
    _legend,
    _lighter,
    _line,
    _mark_partial,
    _month_axis,
    _monthly,
    _partial,
    _title,
)
from lgs_analytics.report.findings import ACTIVE, BUYING, BUYING_NOUN, growth_title


def plot_invoice_amounts(amounts: pd.Series, summary: dict[str, float], title_suffix: str = "",
                         log_scale: bool | None = None) -> Figure:
    """Histogram over a box plot of invoice amounts (GBP), min, max, median, mode and mean
    marked.  ``summary`` is :func:`metrics.amount_summary` of ``amounts``.  ``log_scale``
    (default: automatic, when the largest amount exceeds 50 x the median) spaces bins
    logarithmically so a long right tail does not squash the chart."""
    values = pd.Series(amounts, dtype="float64").dropna().to_numpy()
    lo, hi = (values.min(), values.max()) if len(values) else (0.0, 1.0)
    if log_scale is None:
        log_scale = bool(lo > 0 and hi > 50 * max(summary["median"], 1e-9))
    fig, (hist, box) = _figure(2, 1, sharex=True, height_ratios=[4, 1])
    box.grid(False)
    bins = np.geomspace(lo, hi, 60) if log_scale and hi > lo else 50
    hist.hist(values, bins=bins, color=BLUE, alpha=0.85)
    for key, color, style in (("median", INK, "-"), ("mean", RED, "--"), ("mode", AMBER, ":")):
        hist.axvline(summary[key], color=color, linestyle=style, linewidth=1.8,
                     label=f"{key} {gbp(summary[key], 2)}")
    _legend(hist, title=f"{summary['count']:,} invoices", title_fontsize=9, loc="upper left",
            bbox_to_anchor=(1.0, 1.0))
    hist.set_ylabel("Invoices")
    _count_axis(hist.yaxis)
    _title(hist, "Invoice amounts" + (f" — {title_suffix}" if title_suffix else ""))
    box.boxplot(values, orientation="horizontal", widths=0.6, patch_artist=True,
                boxprops={"facecolor": _lighter(BLUE, 0.6), "edgecolor": BLUE},
                medianprops={"color": INK, "linewidth": 1.8}, whiskerprops={"color": BLUE},
                capprops={"color": BLUE},
                flierprops={"marker": "o", "markersize": 2, "markeredgecolor": GREY, "alpha": 0.5})
    for value, name, align in ((summary["min"], "min", "left"), (summary["max"], "max", "right")):
        box.annotate(f"{name} {gbp(value, 2)}", xy=(value, 1.42), ha=align, va="center", fontsize=8,
                     color=INK)
    box.set_ylim(0.55, 1.65)
    box.set_yticks([])
    box.spines["left"].set_visible(False)
    if log_scale:
        box.set_xscale("log")
    box.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: gbp(v, 2 if 0 < v < 1 else 0)))
    box.set_xlabel("Invoice amount (£" + (", log scale)" if log_scale else ")"))
    return fig


def plot_monthly_orders(orders: pd.DataFrame, data_end: Any = None,
                        show_seed_shortcut: bool = True) -> Figure:
    """Purchase and cancellation invoices per month, guests' included (grouped bars), from
    :func:`metrics.monthly_orders`; the seed's shortcut (all invoices − 2 × cancelled) as a dashed
    line for comparison."""
    fig, ax, x, partial = _monthly(orders, data_end)
    _bars(ax, x - 0.2, orders["placed"], partial, BLUE, "Purchase invoices (all, guests included)", width=0.4)
    _bars(ax, x + 0.2, orders["cancelled"], partial, RED, "Cancellation invoices", width=0.4)
    if show_seed_shortcut and "seed_placed_shortcut" in orders:
        ax.plot(x, orders["seed_placed_shortcut"].to_numpy(dtype=float), color=GREY, linestyle="--",
                linewidth=1.5, label="seed shortcut (all − 2×cancelled)")
    _finish_monthly(ax, orders, partial, data_end, "Invoices per month",
                    "Purchase and cancellation invoices per month (guests included)")
    return fig


def plot_monthly_sales(sales: pd.DataFrame, data_end: Any = None) -> Figure:
    """Net sales per month in GBP (bars) with gross sales (line), from
    :func:`metrics.monthly_sales`."""
    fig, ax, x, partial = _monthly(sales, data_end)
    _bars(ax, x, sales["net_sales"], partial, BLUE, "Net sales (gross − cancellations)", width=0.7)
    _line(ax, sales["gross_sales"], partial, color=AMBER, label="Gross sales")
    _finish_monthly(ax, sales, partial, data_end, "Sales per month (£)", "Monthly sales (GBP)", GBP_TICKS)
    return fig


def plot_monthly_growth(sales: pd.DataFrame, data_end: Any = None) -> Figure:
    """Month-over-month growth of net sales in percent (``growth_pct`` of
    :func:`metrics.monthly_sales`): bars around a zero line; months without a comparison
    (the first, a partial month and the month after one) are gaps marked "n/a"."""
    fig, ax, x, partial = _monthly(sales, data_end)
    growth = sales["growth_pct"].to_numpy(dtype=float)
    colors = np.where(growth < 0, RED, GREEN)
    bars = ax.bar(x, np.nan_to_num(growth), color=colors, width=0.7)
    ax.bar_label(bars, labels=["" if np.isnan(g) else f"{g:+.0f}%" for g in growth], fontsize=7,
                 padding=2, color=INK)
    for i in np.flatnonzero(np.isnan(growth)):
        ax.text(i, 0, "n/a", ha="center", va="bottom", fontsize=7, color=GREY)
    ax.axhline(0, color=INK, linewidth=1)
    yearly = sales["yoy_pct"].to_numpy(dtype=float) if "yoy_pct" in sales else np.full(len(sales), np.nan)
    if np.isfinite(yearly).any():
        ax.plot(x, yearly, color=BLUE, marker="D", markersize=6, linewidth=2,
                label="vs the same month a year before")
        bars.set_label("vs the previous month")
    ax.margins(y=0.15)
    _finish_monthly(ax, sales, partial, data_end, "Change in net sales (%)",
                    growth_title(sales),
                    PercentFormatter(xmax=100, decimals=0), legend=bool(np.isfinite(yearly).any()),
                    extra=" — not compared")
    return fig


def plot_monthly_active_users(mau: pd.DataFrame, data_end: Any = None) -> Figure:
    """Active customers per month (bars: any invoice, the seed's definition) and, as a line, the
    narrower buying customers (a product purchase), from :func:`metrics.monthly_active_users`."""
    fig, ax, x, partial = _monthly(mau, data_end)
    bars = _bars(ax, x, mau["active_customers"], partial, BLUE, ACTIVE[0].upper() + ACTIVE[1:], width=0.7)
    ax.bar_label(bars, labels=[f"{v:,}" for v in mau["active_customers"]], fontsize=7, padding=2,
                 color=INK, rotation=90 if len(mau) > 15 else 0)
    if "buying_customers" in mau:
        _line(ax, mau["buying_customers"].to_numpy(dtype=float), partial, color=AMBER,
              label=BUYING[0].upper() + BUYING[1:])
    ax.margins(y=0.12)
    _finish_monthly(ax, mau, partial, data_end, "Distinct customers", "Monthly active customers")
    return fig


def plot_new_vs_existing(nve: pd.DataFrame, data_end: Any = None) -> Figure:
    """Buying customers per month, stacked: existing (bought in an earlier month of the data) and new
    (first purchase in the data that month), from :func:`metrics.new_vs_existing`."""
    fig, ax, x, partial = _monthly(nve, data_end)
    existing = nve["existing_customers"].to_numpy(dtype=float)
    _bars(ax, x, existing, partial, BLUE, "Existing (bought in an earlier month of the data)", width=0.7)
    _bars(ax, x, nve["new_customers"], partial, AMBER, "New (first purchase in the data)", width=0.7,
          bottom=existing)
    _finish_monthly(ax, nve, partial, data_end, f"{BUYING_NOUN.capitalize()} per month",
                    f"New vs existing {BUYING_NOUN} per month")
    return fig


def plot_sales_by_country(countries: pd.DataFrame, title: str = "Sales by country (GBP)") -> Figure:
    """Horizontal bars of sales (GBP) by country from :func:`metrics.sales_by_country`, each
    labelled with its share of sales and number of customers; "Other" in grey."""
    fig, ax = _figure(grid="x")
    sales = countries["sales"].to_numpy(dtype=float)
    y = np.arange(len(countries))
    colors = np.where(countries["country"].eq("Other"), GREY, BLUE)
    ax.barh(y, sales, color=colors, height=0.7)
    top = max(float(np.nanmax(sales)), 1.0) if len(sales) else 1.0
    for i, row in enumerate(countries.itertuples(index=False)):
        text = f"{gbp(row.sales)}  ·  {row.share_pct:.1f}% of all sales  ·  {row.customers:,} customers"
        inside = row.sales > 0.6 * top
        ax.text(row.sales + (-0.01 if inside else 0.01) * top, i, text, va="center", fontsize=8,
                ha="right" if inside else "left", color="white" if inside else INK)
    ax.set_yticks(y, countries["country"].tolist())
    ax.invert_yaxis()
    ax.set_xlim(min(0.0, float(np.nanmin(sales, initial=0.0))), top * 1.02)
    ax.xaxis.set_major_formatter(GBP_TICKS)
    ax.set_xlabel("Sales (£)")
    ax.set_ylabel("Country")
    _title(ax, title)
    return fig


def _shorten(text: str, width: int = 34) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def plot_top_products(products: pd.DataFrame, by: str = "revenue") -> Figure:
    """Horizontal bars of the best products (``top_products`` in sql/06_reports.sql), by ``revenue``
    (GBP) or ``quantity`` (units), labelled with their (shortened) descriptions."""
    if by not in ("revenue", "quantity"):
        raise ValueError(f"by must be 'revenue' or 'quantity', not {by!r}")
    fig, ax = _figure(grid="x")
    values = products[by].to_numpy(dtype=float)
    y = np.arange(len(products))
    ax.barh(y, values, color=BLUE, height=0.7)
    names = products["description"].fillna(products["stock_code"]).astype(str)
    ax.set_yticks(y, [f"{_shorten(n)} ({c})" for n, c in zip(names, products["stock_code"], strict=True)],
                  fontsize=8)
    ax.invert_yaxis()
    money = by == "revenue"
    ax.bar_label(ax.containers[0], labels=[gbp(v) if money else f"{v:,.0f}" for v in values],
                 fontsize=8, padding=3, color=INK)
    ax.margins(x=0.12)
    if money:
        ax.xaxis.set_major_formatter(GBP_TICKS)
    else:
        _count_axis(ax.xaxis)
    ax.set_xlabel("Revenue net of cancellations (£)" if money else "Units sold net of cancellations")
    ax.set_ylabel("Product (stock code)")
    _title(ax, f"Top {len(products)} products by " + ("net revenue (GBP)" if money else "net units sold"))
    return fig


def plot_sold_together(pairs: pd.DataFrame) -> Figure:
    """Horizontal bars of the strongest pairs (report.recommendations.strongest_pairs): the share of
    the first product's baskets that also hold the second, labelled with the baskets holding both."""
    fig, ax = _figure(grid="x")
    if pairs.empty:
        ax.text(0.5, 0.5, "No two products were bought together in 3 baskets or more", ha="center",
                va="center", transform=ax.transAxes, color=INK)
        ax.set_axis_off()
        _title(ax, "Products bought together")
        return fig
    shares = 100 * pairs["share"].to_numpy(dtype=float)
    y = np.arange(len(pairs))
    ax.barh(y, shares, color=BLUE, height=0.7)
    first = pairs["description"].fillna(pairs["stock_code"]).astype(str)
    second = pairs["related_description"].fillna(pairs["related_code"]).astype(str)
    ax.set_yticks(y, [f"{_shorten(a, 26)} → {_shorten(b, 26)}" for a, b in zip(first, second, strict=True)],
                  fontsize=8)
    ax.invert_yaxis()
    ax.bar_label(ax.containers[0], labels=[f"{s:.0f}% · {n:,} baskets" for s, n in
                                           zip(shares, pairs["baskets_together"], strict=True)],
                 fontsize=8, padding=3, color=INK)
    ax.set_xlim(0, 118)
    ax.set_xlabel("Share of the baskets with the first product that also hold the second (%)")
    ax.set_ylabel("Product → the product it sells with")
    _title(ax, f"Products bought together: the {len(pairs)} strongest pairs")
    return fig


def plot_basket_size(baskets_by_month: pd.DataFrame, data_end: Any = None) -> Figure:
    """Mean and median product lines and units per order by month, two panels, from
    ``metrics.basket_summary(baskets, by_month=True)``."""
    if "month" not in baskets_by_month:
        raise ValueError("plot_basket_size needs the monthly summary: basket_summary(baskets, by_month=True)")
    fig, axes = _figure(1, 2, sharex=True)
    partial = _partial(baskets_by_month, data_end)
    for ax, what, unit in zip(axes, ("lines", "units"), ("Product lines", "Units"), strict=True):
        _line(ax, baskets_by_month[f"mean_{what}"], partial, color=BLUE, label="mean")
        _line(ax, baskets_by_month[f"median_{what}"], partial, color=AMBER, label="median")
        _month_axis(ax, baskets_by_month["month"], max_labels=9)
        _mark_partial(ax, baskets_by_month["month"], partial, data_end, inside=True)
        values = baskets_by_month[[f"mean_{what}", f"median_{what}"]].to_numpy(dtype=float)
        top = np.nanmax(values, initial=1.0)
        ax.set_ylim(0, top * 1.15)
        ax.set_ylabel(f"{unit} per order")
        _count_axis(ax.yaxis, integer=False)
        _legend(ax, loc="lower left")
        _title(ax, unit)
    fig.suptitle("Basket size per month", x=0.01, ha="left", fontsize=13, fontweight="bold", color=INK)
    return fig


__all__ = [
    "plot_basket_size", "plot_invoice_amounts", "plot_monthly_active_users", "plot_monthly_growth",
    "plot_monthly_orders", "plot_monthly_sales", "plot_new_vs_existing", "plot_sales_by_country",
    "plot_top_products",
]
