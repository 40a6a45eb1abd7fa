"""Tests of lgs_analytics.charts and lgs_analytics.segment_charts.

The inputs come from the real metrics, rfm and segments functions run on a tiny fixture:
16 lines, 4 months (September to December 2011), 6 customers, one guest invoice, one
cancellation; the data end on Friday 2011-12-09, so December is a partial month.  Each
chart must return a Figure with a title, axis labels with units, the partial month marked
where the chart is monthly, and save to PNG, without any warning.
"""

from __future__ import annotations

import io
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from lgs_analytics.analytics import (
    metrics,  # noqa: E402
    rfm,  # noqa: E402
    segments,  # noqa: E402
)
from lgs_analytics.numbers import gbp  # noqa: E402
from lgs_analytics.report.charts import customers as segment_charts  # noqa: E402
from lgs_analytics.report.charts import sales as charts  # noqa: E402
from lgs_analytics.report.charts.style import partial_note  # noqa: E402

HEART, CAKE = "WHITE HANGING HEART T-LIGHT HOLDER", "REGENCY CAKESTAND 3 TIER"
BOTTLE, UK = "KNITTED UNION FLAG HOT WATER BOTTLE", "United Kingdom"
ROWS = [
    ("536001", "85123A", HEART, 2, "2011-09-01 10:00", 2.55, 1, UK),
    ("536001", "22423", CAKE, 1, "2011-09-01 10:00", 12.75, 1, UK),
    ("536002", "85123A", HEART, 4, "2011-09-12 11:00", 2.55, 2, "France"),
    ("536003", "84029G", BOTTLE, 2, "2011-09-20 09:30", 3.75, 3, "Germany"),
    ("536004", "85123A", HEART, 6, "2011-10-03 09:30", 2.55, 1, UK),
    ("536004", "84029G", BOTTLE, 2, "2011-10-03 09:30", 3.75, 1, UK),
    ("536005", "22423", CAKE, 3, "2011-10-10 14:00", 12.75, 4, "Germany"),
    ("C536006", "22423", CAKE, -1, "2011-10-11 08:00", 12.75, 4, "Germany"),
    ("536007", "84029G", BOTTLE, 1, "2011-11-07 12:00", 3.75, 2, "France"),
    ("536007", "85123A", HEART, 4, "2011-11-07 12:00", 2.55, 2, "France"),
    ("536008", "85123A", HEART, 10, "2011-11-08 15:00", 2.55, None, UK),
    ("536009", "22423", CAKE, 2, "2011-11-21 10:00", 12.75, 5, "EIRE"),
    ("536010", "84029G", BOTTLE, 2, "2011-12-05 10:00", 3.75, 1, UK),
    ("536011", "22423", CAKE, 2, "2011-12-06 11:00", 12.75, 6, "EIRE"),
    ("536011", "85123A", HEART, 12, "2011-12-06 11:00", 2.55, 6, "EIRE"),
    ("536012", "22423", CAKE, 1, "2011-12-09 12:50", 12.75, 2, "France"),
]
COLUMNS = ["invoice_no", "stock_code", "description", "quantity", "invoice_date", "unit_price",
           "customer_id", "country"]
DATA_END = pd.Timestamp("2011-12-09 12:50")


@pytest.fixture(autouse=True)
def no_warnings():
    """Every chart must build and save without a single warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# The fixture's best products as sql/06_reports.sql ranks them, net of C536006 (by hand: 22423 9 - 1
# units at £12.75 on 5 invoices; 85123A 28 units at £2.55, the guest's 10 left out; 84029G 7 at £3.75).
PRODUCTS = pd.DataFrame({"stock_code": ["22423", "85123A", "84029G"], "description": [CAKE, HEART, BOTTLE],
                         "quantity": [8, 28, 7], "revenue": [102.0, 71.4, 26.25], "invoices": [5, 5, 4]})


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    tx = pd.DataFrame(ROWS, columns=COLUMNS)
    tx["invoice_date"] = pd.to_datetime(tx["invoice_date"])
    tx["customer_id"] = tx["customer_id"].astype("Int64")
    lines = tx.assign(line_total=tx["quantity"] * tx["unit_price"])
    purchases = lines[~lines["invoice_no"].str.startswith("C") & lines["customer_id"].notna()]
    cancellations = lines[lines["invoice_no"].str.startswith("C")]
    purchases, cancellations = purchases.reset_index(drop=True), cancellations.reset_index(drop=True)
    scores = rfm.rfm_standard(purchases, cancellations)
    amounts = metrics.invoice_amounts(purchases)["amount"]
    return {
        "transactions": tx, "purchases": purchases, "cancellations": cancellations,
        "amounts": amounts, "orders": metrics.monthly_orders(tx),
        "sales": metrics.monthly_sales(purchases, cancellations),
        "mau": metrics.monthly_active_users(tx, purchases), "nve": metrics.new_vs_existing(purchases),
        "retention": metrics.cohort_retention(purchases),
        "countries": metrics.sales_by_country(purchases, cancellations, top=2),
        "products": PRODUCTS,
        "baskets": metrics.basket_summary(metrics.basket_sizes(purchases), by_month=True),
        "scores": scores, "summary": segments.segment_summary(scores),
    }


def _axes(fig: Figure) -> list:
    """The plotting axes of a figure (colour bars left out)."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def _texts(fig: Figure) -> str:
    """Every piece of text drawn in the figure, joined."""
    parts = [t.get_text() for ax in fig.axes for t in ax.texts]
    parts += [ax.get_title(loc) for ax in fig.axes for loc in ("left", "center", "right")]
    parts += [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    if fig._suptitle is not None:
        parts.append(fig._suptitle.get_text())
    return "\n".join(parts)


def _labels(fig: Figure, axis: str) -> str:
    return " | ".join(getattr(ax, f"get_{axis}label")() for ax in _axes(fig))


def check(fig: Figure, x_units: tuple[str, ...] = (), y_units: tuple[str, ...] = ()) -> str:
    """The common checks; returns the figure's text for further checks.  Each unit tuple
    holds alternatives: one of them must appear in the axis labels."""
    assert isinstance(fig, Figure)
    axes = _axes(fig)
    assert axes
    titles = [ax.get_title(loc) for ax in axes for loc in ("left", "center")]
    assert any(t.strip() for t in titles)
    xlabels, ylabels = _labels(fig, "x"), _labels(fig, "y")
    assert xlabels.strip(" |") and ylabels.strip(" |")
    if x_units:
        assert any(u in xlabels for u in x_units), xlabels
    if y_units:
        assert any(u in ylabels for u in y_units), ylabels
    width, height = fig.get_size_inches()
    assert 8 <= width <= 12 and 4 <= height <= 12
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")
    return _texts(fig)


MONEY = ("£", "GBP")


def test_gbp_formatting() -> None:
    assert gbp(1234.5) == "£1,234" or gbp(1234.5) == "£1,235"
    assert gbp(1234567.891, 2) == "£1,234,567.89"
    assert gbp(-3, 2) == "−£3.00"


def test_partial_note_is_computed_from_the_data() -> None:
    dec = pd.Period("2011-12", "M")
    assert partial_note(dec, DATA_END) == "Dec 2011: partial month (data to 9 Dec)"
    assert partial_note(dec) == "Dec 2011: partial month"
    assert partial_note(pd.Period("2010-12", "M"), DATA_END) == "Dec 2010: partial month"


@pytest.mark.parametrize("trim", [False, True])
def test_invoice_amounts(data, trim: bool) -> None:
    amounts = metrics.trim_to_quantile(data["amounts"]) if trim else data["amounts"]
    summary = metrics.amount_summary(amounts)
    fig = charts.plot_invoice_amounts(amounts, summary, "orders up to the 85th percentile" if trim else "")
    text = check(fig, x_units=MONEY, y_units=("Invoices",))
    assert f"min {gbp(summary['min'], 2)}" in text
    assert f"max {gbp(summary['max'], 2)}" in text
    for key in ("median", "mean", "mode"):
        assert f"{key} {gbp(summary[key], 2)}" in text
    assert ("85th percentile" in text) is trim
    del fig  # a plain Figure: nothing registered with pyplot to close


def test_invoice_amounts_log_scale_for_a_long_tail() -> None:
    amounts = pd.Series([10.0, 12.0, 15.0, 15.0, 20.0, 25.0, 30.0, 40.0, 5000.0])
    fig = charts.plot_invoice_amounts(amounts, metrics.amount_summary(amounts))
    check(fig, x_units=("log scale",))
    assert _axes(fig)[1].get_xscale() == "log"
    del fig  # a plain Figure: nothing registered with pyplot to close


def test_monthly_orders(data) -> None:
    fig = charts.plot_monthly_orders(data["orders"], DATA_END)
    text = check(fig, x_units=("Month",), y_units=("Invoices",))
    assert "Dec 2011: partial month (data to 9 Dec)" in text
    assert "Purchase invoices (all, guests included)" in text  # says what the bars count: guests too
    assert "seed shortcut (all − 2×cancelled)" in text
    ax = _axes(fig)[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Sep 2011", "Oct 2011", "Nov 2011", "Dec 2011"]
    partial_bars = [p for p in ax.patches if p.get_hatch()]
    assert len(partial_bars) == 2  # placed and cancelled of December
    del fig  # a plain Figure: nothing registered with pyplot to close
    fig = charts.plot_monthly_orders(data["orders"], show_seed_shortcut=False)
    text = check(fig)
    assert "Dec 2011: partial month" in text and "seed shortcut" not in text
    del fig  # a plain Figure: nothing registered with pyplot to close


def test_monthly_sales(data) -> None:
    fig = charts.plot_monthly_sales(data["sales"], DATA_END)
    text = check(fig, y_units=MONEY)
    assert "partial month (data to 9 Dec)" in text
    assert "Net sales" in text and "Gross sales" in text
    assert "£" in _axes(fig)[0].yaxis.get_major_formatter()(1500.0, 0)
    del fig  # a plain Figure: nothing registered with pyplot to close


def test_monthly_growth(data) -> None:
    sales = data["sales"]
    fig = charts.plot_monthly_growth(sales, DATA_END)
    text = check(fig, y_units=("%",))
    assert "partial month" in text and "not compared" in text
    assert text.count("n/a") == int(sales["growth_pct"].isna().sum())
    ax = _axes(fig)[0]
    assert any(list(line.get_ydata()) == [0, 0] for line in ax.get_lines())  # the zero line
    heights = sorted(round(p.get_height(), 6) for p in ax.containers[0])
    expected = sorted(round(v, 6) for v in sales["growth_pct"].fillna(0))
    assert heights == expected  # in percent, not as fractions
    assert ax.yaxis.get_major_formatter()(50, 0) == "50%"
    del fig  # a plain Figure: nothing registered with pyplot to close


def test_monthly_active_users_and_new_vs_existing(data) -> None:
    fig = charts.plot_monthly_active_users(data["mau"])
    text = check(fig, y_units=("customers",))
    assert "Dec 2011: partial month" in text
    assert "Active customers (any invoice, cancellations included)" in text
    assert "Buying customers (with a product purchase)" in text
    del fig  # a plain Figure: nothing registered with pyplot to close
    fig = charts.plot_new_vs_existing(data["nve"], DATA_END)
    text = check(fig, y_units=("Buying customers",))  # it counts buyers, not any-invoice active ones
    assert "partial month (data to 9 Dec)" in text and "New (first purchase in the data)" in text
    del fig  # a plain Figure: nothing registered with pyplot to close


def test_cohort_retention(data) -> None:
    retention = data["retention"]
    fig = segment_charts.plot_cohort_retention(retention, DATA_END)
    text = check(fig, x_units=("Months since first purchase",), y_units=("Cohort",))
    assert "partial month (data to 9 Dec)" in text
    colorbar = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert colorbar and "% of cohort buying again" in colorbar[0].get_ylabel()
    assert [t.get_text() for t in _axes(fig)[0].get_yticklabels()] == [
        "Sep 2011", "Oct 2011", "Nov 2011", "Dec 2011"]
    assert text.count("100") >= len(retention)  # month 0 labelled in %
    del fig  # a plain Figure: nothing registered with pyplot to close
    fig = segment_charts.plot_cohort_retention(retention)  # no end date: nothing outlined
    assert "partial month" not in check(fig)
    del fig  # a plain Figure: nothing registered with pyplot to close


def test_sales_by_country(data) -> None:
    fig = charts.plot_sales_by_country(data["countries"])
    text = check(fig, x_units=MONEY)
    assert "Other" in [t.get_text() for t in _axes(fig)[0].get_yticklabels()]
    assert "customers" in text and "%" in text
    del fig  # a plain Figure: nothing registered with pyplot to close


@pytest.mark.parametrize("by", ["revenue", "quantity"])
def test_top_products(data, by: str) -> None:
    fig = charts.plot_top_products(data["products"], by=by)
    check(fig, x_units=MONEY if by == "revenue" else ("Units",))
    labels = [t.get_text() for t in _axes(fig)[0].get_yticklabels()]
    assert "KNITTED UNION FLAG HOT WATER BOTT… (84029G)" in labels  # 35 characters cut to 34
    del fig  # a plain Figure: nothing registered with pyplot to close
    with pytest.raises(ValueError, match="by must be"):
        charts.plot_top_products(data["products"], by="lines")


def test_basket_size(data) -> None:
    fig = charts.plot_basket_size(data["baskets"], DATA_END)
    text = check(fig, y_units=("per order",))
    assert "partial month (data to 9 Dec)" in text and "Basket size" in text
    del fig  # a plain Figure: nothing registered with pyplot to close
    with pytest.raises(ValueError, match="by_month=True"):
        charts.plot_basket_size(metrics.basket_summary(metrics.basket_sizes(data["purchases"])))


def test_segment_sizes(data) -> None:
    summary = data["summary"]
    fig = segment_charts.plot_segment_sizes(summary)
    text = check(fig, x_units=("%",), y_units=("Segment",))
    assert "Share of customers (%)" in _labels(fig, "x") and "Share of revenue (%)" in _labels(fig, "x")
    ticks = [t.get_text() for t in _axes(fig)[0].get_yticklabels()]
    assert ticks == [f"{s} ({n:,})" for s, n in zip(summary["segment"], summary["customers"], strict=True)]
    assert "GBP" in text or "£" in text
    del fig  # a plain Figure: nothing registered with pyplot to close


def test_rf_grid(data) -> None:
    scores = data["scores"]
    fig = segment_charts.plot_rf_grid(scores)
    text = check(fig, x_units=("Frequency score",), y_units=("Recency score",))
    counts = [int(t.get_text().replace(",", "")) for t in _axes(fig)[0].texts if t.get_text().isdigit()]
    assert len(counts) == 25 and sum(counts) == len(scores)
    for name in segments.SEGMENT_NAMES:
        assert name in text
    del fig  # a plain Figure: nothing registered with pyplot to close


def test_rf_grid_writes_why_a_score_is_empty_under_the_grid(data) -> None:
    gap = "No customer scores F=2: the 3 customers with 1 order (30%) all share F=1."
    fig = segment_charts.plot_rf_grid(data["scores"], [gap])
    assert gap in _axes(fig)[0].get_xlabel()
    del fig  # a plain Figure: nothing registered with pyplot to close


@pytest.mark.parametrize("draw", [
    lambda d: charts.plot_monthly_growth(d["sales"], DATA_END),
    lambda d: charts.plot_monthly_orders(d["orders"], DATA_END),
    lambda d: segment_charts.plot_cohort_retention(d["retention"], DATA_END),  # titled before its note
])
def test_a_title_sits_above_the_partial_month_note_never_on_it(data, draw) -> None:
    fig = draw(data)
    fig.canvas.draw()  # Agg: lay the figure out
    ax = _axes(fig)[0]
    notes = [t for t in ax.texts if t.get_gid() == "lgs-note"]
    assert len(notes) == 1
    title, note = ax.title.get_window_extent(), notes[0].get_window_extent()
    assert title.y0 >= note.y1 - 0.5  # a row of its own: a long title cannot run into the note
    del fig  # a plain Figure: nothing registered with pyplot to close


def test_growth_title_says_what_is_shown(data) -> None:
    assert data["sales"]["yoy_pct"].isna().all()  # four months: no month has a year before
    fig = charts.plot_monthly_growth(data["sales"], DATA_END)
    assert _axes(fig)[0].get_title(loc="left") == "Monthly sales growth on the month before (%)"
    del fig  # a plain Figure: nothing registered with pyplot to close


def test_segment_profiles_show_empty_segments(data) -> None:
    summary = data["summary"]
    assert summary["mean_recency"].isna().any()  # the fixture leaves some segments empty
    fig = segment_charts.plot_segment_profiles(summary)
    text = check(fig, x_units=("days",), y_units=("Segment",))
    xlabels = _labels(fig, "x")
    assert "orders" in xlabels and "£" in xlabels
    assert text.count("no customers") == 3 * int(summary["mean_recency"].isna().sum())
    del fig  # a plain Figure: nothing registered with pyplot to close


def test_segment_charts_are_reachable_from_charts() -> None:
    assert segment_charts.plot_rf_grid is segment_charts.plot_rf_grid
    assert segment_charts.plot_segment_sizes is segment_charts.plot_segment_sizes
    with pytest.raises(AttributeError):
        _ = charts.plot_nothing


def test_text_from_the_data_is_never_read_as_math(data) -> None:
    """A product description such as "$^^$" used to stop the report (mathtext parse error)."""
    products = data["products"].copy()
    products.loc[0, "description"] = "$^^$ HEART $x_1$ TIN"
    fig = charts.plot_top_products(products)
    fig.savefig(io.BytesIO(), format="png")  # drawing is where the math parser would raise
    assert any("$^^$ HEART" in t.get_text() for ax in fig.axes for t in ax.get_yticklabels())


def test_charts_are_drawn_in_this_process_while_other_threads_run() -> None:
    import threading

    from lgs_analytics.report import figures

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert figures.drawing_processes(18) == 1  # a fork could inherit another thread's held lock
    finally:
        stop.set()
        other.join()
    assert figures.drawing_processes(1) == 1


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux's prctl")
def test_a_chart_worker_dies_with_the_process_that_forked_it(tmp_path):
    # A killed `lgs refresh` must not leave a drawing worker behind (holding its inherited inbox
    # lock). The parent here starts a worker as render_all does, then dies at once, without cleanup.
    import subprocess
    import time

    import psutil

    pid_file = tmp_path / "worker.pid"
    code = f"""
import multiprocessing, os, time
from concurrent.futures import ProcessPoolExecutor
from lgs_analytics.report.figures import _worker_start
pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"),
                           initializer=_worker_start, initargs=(os.getpid(),))
open({str(pid_file)!r}, "w").write(str(pool.submit(os.getpid).result()))
pool.submit(time.sleep, 60)
os._exit(0)
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    worker = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and psutil.pid_exists(worker) and \
            psutil.Process(worker).status() != psutil.STATUS_ZOMBIE:
        time.sleep(0.1)
    assert not psutil.pid_exists(worker) or psutil.Process(worker).status() == psutil.STATUS_ZOMBIE


@pytest.mark.parametrize("label", [
    "Outside the United Kingdom the largest markets were Narnia\\1 onmouseover=alert(document.domain) x",
    "The best seller was $\\frac{1}{$ (£12)",  # a bad escape (\F) in a template: every build failed
    'A "quoted" <b>label</b> & \\g<0>',
])
def test_a_charts_name_is_its_label_as_text_whatever_the_label_holds(label) -> None:
    import html
    import re

    from lgs_analytics.report.figures import svg

    fig = Figure(figsize=(2, 1))
    fig.add_subplot().plot([0, 1], [0, 1])
    markup = svg(fig, label)
    opening = markup[:markup.index(">")]
    assert re.findall(r'aria-label="([^"]*)"', opening) == [html.escape(label, quote=True)]
    attributes = re.findall(r'\s([a-z:-]+)=', opening.split('aria-label="')[0])
    assert set(attributes) <= {"xmlns", "xmlns:xlink", "viewbox", "viewBox", "version", "role"}
    assert f"<title>{html.escape(label)}</title>" in markup


def test_migration_heat_table() -> None:
    from lgs_analytics.analytics import history
    from tests.analytics.test_history import END, START, hand_history, orders

    table = history.migration(hand_history(), orders(), START, END)
    table.attrs.update(start="2011-01-15", end="2011-03-10")
    fig = segment_charts.plot_migration(table)
    text = check(fig, x_units=("Segment on 2011-03-10",), y_units=("Segment on 2011-01-15",))
    ax = _axes(fig)[0]
    counts = [t.get_text() for t in ax.texts if t.get_text().isdigit()]
    assert sorted(counts) == ["1"] * 6  # six flows of one customer each
    assert "£200" not in text and "−£30" in text and "£80" in text  # the spend between the dates
    assert "6 customers, £220 spent between the dates" in text
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows == ["Not yet a customer (2)", "Champions (2)", "New Customers (1)", "At Risk (1)"]
    assert "GBP" in ax.get_xlabel()
    del fig  # a plain Figure: nothing registered with pyplot to close
