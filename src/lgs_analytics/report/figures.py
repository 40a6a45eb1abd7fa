"""The report's charts as the page shows them: crisp inline SVG that takes the page's width, with
its finding (report.findings) as the accessible name and the caption.

:data:`CHARTS` names every chart with the function that draws it from a page and the one that
states its finding; the notebook asks for one by name (``figures.chart("monthly_sales", page)``).
SVG, not PNG: sharp at any zoom and in print, text selectable and searchable, and no font or
image from anywhere else (text is drawn with the reader's own sans-serif font).
"""

from __future__ import annotations

import gc
import html
import io
import multiprocessing
import os
import re
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING

import pandas as pd
from IPython.display import HTML

from lgs_analytics.analytics import geography, metrics
from lgs_analytics.analytics.recommend import strongest_pairs
from lgs_analytics.numbers import gbp
from lgs_analytics.report import findings
from lgs_analytics.results import Page

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class _Charts:
    """The chart modules, imported on first use: a report of the published build shows the SVGs
    the build drew and never needs matplotlib (0.9 s of import)."""

    def __getattr__(self, name: str):
        import matplotlib

        from lgs_analytics.report.charts import customers, geography, predictions, sales

        # Text as <text> in the reader's font, not glyph outlines: a third of the size, and selectable.
        matplotlib.rcParams["svg.fonttype"] = "none"
        matplotlib.rcParams["svg.hashsalt"] = "lgs"  # the same chart gives the same file, run after run
        self.sales, self.segments, self.predictions = sales, customers, predictions
        self.geography = geography
        return getattr(self, name)


_charts = _Charts()


Draw = Callable[[Page], "Figure"]
CHARTS: dict[str, tuple[Draw, Callable[[Page], str]]] = {
    "invoice_amounts": (
        lambda p: _charts.sales.plot_invoice_amounts(
            p.analysis.amounts, p.analysis.amounts_summary, "all orders"
        ),
        findings.invoice_amounts,
    ),
    "invoice_amounts_p85": (
        lambda p: _charts.sales.plot_invoice_amounts(
            p.analysis.amounts_p85, p.analysis.amounts_p85_summary,
            f"orders up to the 85th percentile ({gbp(p.analysis.amounts_summary['p85'], 2)})",
        ),
        findings.invoice_amounts_p85,
    ),
    "monthly_orders": (
        lambda p: _charts.sales.plot_monthly_orders(p.analysis.orders, p.analysis.data_end),
        findings.monthly_orders,
    ),
    "monthly_sales": (
        lambda p: _charts.sales.plot_monthly_sales(p.analysis.sales, p.analysis.data_end),
        findings.monthly_sales,
    ),
    "monthly_growth": (
        lambda p: _charts.sales.plot_monthly_growth(p.analysis.sales, p.analysis.data_end),
        findings.monthly_growth,
    ),
    "active_customers": (
        lambda p: _charts.sales.plot_monthly_active_users(p.analysis.active_users, p.analysis.data_end),
        findings.active_customers,
    ),
    "new_vs_existing": (
        lambda p: _charts.sales.plot_new_vs_existing(p.analysis.new_vs_existing, p.analysis.data_end),
        findings.new_vs_existing,
    ),
    "cohort_retention": (
        lambda p: _charts.segments.plot_cohort_retention(p.analysis.retention, p.analysis.data_end),
        findings.cohort_retention,
    ),
    "countries": (lambda p: _charts.sales.plot_sales_by_country(p.analysis.countries), findings.countries),
    "countries_abroad": (
        lambda p: _charts.sales.plot_sales_by_country(
            metrics.abroad(p.analysis.countries), "Sales by country outside the United Kingdom (GBP)"
        ),
        findings.countries_abroad,
    ),
    "customer_map": (
        lambda p: _charts.geography.plot_tile_map(geography.by_country(p.campaign)),
        findings.customer_map,
    ),
    "top_products": (lambda p: _charts.sales.plot_top_products(p.analysis.products), findings.top_products),
    "sold_together": (
        lambda p: _charts.sales.plot_sold_together(
            strongest_pairs(p.recommendations.pairs if p.recommendations is not None else pd.DataFrame())),
        findings.sold_together,
    ),
    "basket_size": (
        lambda p: _charts.sales.plot_basket_size(p.analysis.baskets_by_month, p.analysis.data_end),
        findings.basket_size,
    ),
    "segment_sizes": (
        lambda p: _charts.segments.plot_segment_sizes(p.scores.segments),
        findings.segment_sizes,
    ),
    "rf_grid": (
        lambda p: _charts.segments.plot_rf_grid(p.scores.customers, findings.rf_gaps(p.scores.customers),
                                                p.scores.rules),
        findings.rf_grid,
    ),
    "segment_profiles": (
        lambda p: _charts.segments.plot_segment_profiles(p.scores.segments),
        findings.segment_profiles,
    ),
    "migration": (lambda p: _charts.segments.plot_migration(p.migration), findings.migration),
    "holdout_check": (
        lambda p: _charts.predictions.plot_holdout_check(
            p.forecast.holdout_buckets, p.forecast.holdout_metrics
        ),
        findings.holdout_check,
    ),
    "clv_distribution": (
        lambda p: _charts.predictions.plot_clv_distribution(p.forecast.customers),
        findings.clv_distribution,
    ),
    "p_alive_by_segment": (
        lambda p: _charts.predictions.plot_p_alive_by_segment(p.forecast.customers, p.scores.customers),
        findings.p_alive_by_segment,
    ),
}
PREDICTION_CHARTS = ("clv_distribution", "p_alive_by_segment")

_SIZE = re.compile(r'<svg([^>]*?) width="[^"]*" height="[^"]*"')


def svg(fig: Figure, label: str) -> str:
    """The figure as inline SVG markup that scales to its container, named by ``label``."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    markup = buffer.getvalue()
    markup = markup[markup.index("<svg") :]  # no XML prolog or DOCTYPE inside HTML
    # A function, never a template built from the label: text from an export (a country such as
    # "Narnia\\1 onmouseover=...") is data, and a template would read its backslashes as group references.
    named = f' role="img" aria-label="{html.escape(label, quote=True)}"'
    markup = _SIZE.sub(lambda match: f"<svg{match[1]}{named}", markup, count=1)
    return markup.replace(">", f"><title>{html.escape(label)}</title>", 1)


def figure_html(markup: str, caption: str) -> str:
    return f'<figure class="lgs-figure">{markup}<figcaption>{html.escape(caption)}</figcaption></figure>'


STYLE = """<style>
figure.lgs-figure {margin: .4em 0 1.6em; max-width: 100%; break-inside: avoid; page-break-inside: avoid}
figure.lgs-figure svg {width: 100%; height: auto; display: block}
figure.lgs-figure figcaption {font-family: system-ui, sans-serif; font-size: .95em; color: #33404D;
  margin-top: .3em; max-width: 62em}
</style>"""


def render(name: str, page: Page) -> tuple[str, str]:
    """(caption, SVG) of one chart, drawn now."""
    draw, finding = CHARTS[name]
    caption = finding(page)
    return caption, svg(draw(page), caption)


def drawable(page: Page) -> tuple[str, ...]:
    """The charts this page can show: the prediction charts only when there are predictions."""
    skip = set(PREDICTION_CHARTS) if page.forecast.unavailable else set()
    if page.recommendations is None or page.recommendations.pairs.empty:
        skip.add("sold_together")
    if page.forecast.holdout_buckets.empty:
        skip.add("holdout_check")
    if page.migration is None or page.migration.empty:
        skip.add("migration")
    return tuple(name for name in CHARTS if name not in skip)


_DRAWING: Page | None = None  # the page render_all's drawing processes inherit (fork: never pickled)
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def _worker_start(parent: int) -> None:
    """In each drawing process: die with the parent. A killed `lgs refresh` must not leave
    workers waiting forever on their queue while holding its inherited inbox lock."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the check below still catches a parent gone
        pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def _render_inherited(name: str) -> tuple[str, str]:
    return render(name, _DRAWING)


def drawing_processes(charts: int) -> int:
    """How many processes may draw: one per core this process may run on, never more than the
    charts, and 1 (draw here) where forking is unsafe: no fork, or threads running (a JupyterLab
    kernel, a served dashboard), whose locks a forked child could inherit held."""
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(charts, cores))


def render_all(page: Page, workers: int | None = None) -> dict[str, tuple[str, str]]:
    """Every chart of the page, drawn: what ``lgs build`` publishes so that reports need not draw.

    Drawing is CPU-bound Python (matplotlib), so the charts are shared out between ``workers``
    processes (default :func:`drawing_processes`): this one and others forked from it, which inherit
    the page. With one, they are drawn here one after the other. The same page gives the same SVG
    either way (``svg.hashsalt``)."""
    global _DRAWING
    names = drawable(page)
    workers = drawing_processes(len(names)) if workers is None else min(workers, len(names))
    if workers < 2:
        return {name: render(name, page) for name in names}
    _charts.sales  # import matplotlib and set its SVG options once, before forking  # noqa: B018
    _DRAWING = page
    here, elsewhere = names[::workers], [n for i, n in enumerate(names) if i % workers]
    # The children share this process's memory until they write to it; a garbage collection in a
    # child would write to every object it visits. Frozen objects it skips.
    gc.freeze()
    try:
        with ProcessPoolExecutor(workers - 1, mp_context=multiprocessing.get_context("fork"),
                                 initializer=_worker_start, initargs=(os.getpid(),)) as pool:
            drawn_elsewhere = pool.map(_render_inherited, elsewhere)
            drawn = {name: render(name, page) for name in here}
            drawn |= dict(zip(elsewhere, drawn_elsewhere, strict=True))
    finally:
        gc.unfreeze()
        _DRAWING = None
    return {name: drawn[name] for name in names}


def _figure(name: str, page: Page) -> str:
    if name == "migration" and name not in page.charts and name not in drawable(page):
        return f"<p>{html.escape(findings.migration(page))}</p>"  # no history before the as-of date yet
    caption, markup = page.charts[name] if name in page.charts else render(name, page)
    return figure_html(markup, caption)


def chart(name: str, page: Page) -> HTML:
    """One chart of the page (as the build drew it, or drawn now for a what-if) with its finding
    as caption and accessible name."""
    return HTML(STYLE + _figure(name, page))


def charts(names: tuple[str, ...], page: Page) -> HTML:
    """Several charts, one after the other (the prediction section's)."""
    return HTML(STYLE + "".join(_figure(name, page) for name in names))
