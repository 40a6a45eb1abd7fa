"""The dashboard's charts: Bokeh figures with hover values, titles and axis units (GBP).

Each function takes a frame and returns a figure (and, for the clickable ones, the data source
whose selection the page listens to). No data is computed here beyond shaping it for display.
"""

from __future__ import annotations

import pandas as pd
from bokeh.models import (
    ColumnDataSource,
    CustomJSTickFormatter,
    DataRange1d,
    HoverTool,
    NumeralTickFormatter,
    Range1d,
)
from bokeh.plotting import figure
from bokeh.transform import dodge, linear_cmap

from lgs_analytics.numbers import gbp

# The report's palette (report/charts/style.py), so the page and the report look alike.
BLUE, AMBER, GREEN, RED, GREY, INK = "#3A6F93", "#E0A458", "#5E9C7F", "#C0614B", "#9AA5B1", "#33404D"
PALE = "#A9C3D6"  # a partial month, drawn lighter
GRID_PALETTE = ("#F4F7FA", "#D6E3EE", "#A9C3D6", "#6F9ABB", "#3A6F93", "#234862")
# numbro (NumeralTickFormatter) drops a £ sign: pounds are formatted in the browser.
POUNDS_JS = "return (tick < 0 ? '−£' : '£') + Math.abs(tick).toLocaleString('en-GB');"
MONTH_WIDTH_MS = 24 * 24 * 3600 * 1000  # bar width: 24 days
ORDER_BAR_DAYS = 3  # an invoice's bar
# The orders chart shows at least this many days: a customer whose invoices all fall in one week would
# otherwise get one bar as wide as the chart, its date axis in hours.
ORDERS_MIN_DAYS = 90


def _style(fig, y_label: str, money: bool) -> None:
    fig.toolbar.logo = None
    fig.toolbar_location = None
    fig.title.text_font_size = "13px"
    fig.title.text_color = INK
    fig.yaxis.axis_label = y_label
    if money:
        fig.yaxis.formatter = CustomJSTickFormatter(code=POUNDS_JS)  # one model per figure
    elif y_label:
        fig.yaxis.formatter = NumeralTickFormatter(format="0,0")
    fig.xgrid.grid_line_color = None
    fig.outline_line_color = None
    fig.min_border_left = 60


def monthly_chart(monthly: pd.DataFrame, column: str, title: str, y_label: str, money: bool = False):
    """Bars of one monthly figure; a partial month drawn lighter and named in the title."""
    partial = monthly.loc[monthly["is_partial"], "month"]
    if len(partial):
        title += f" ({partial.iloc[-1].strftime('%b %Y')} is partial)"
    source = ColumnDataSource({
        "start": monthly["month"].dt.to_timestamp() + pd.Timedelta(days=15),
        "label": monthly["month"].dt.strftime("%b %Y") + monthly["is_partial"].map({True: " (partial)",
                                                                                    False: ""}),
        "value": monthly[column].astype(float),
        "color": monthly["is_partial"].map({True: PALE, False: BLUE}),
    })
    fig = figure(title=title, x_axis_type="datetime", height=250, sizing_mode="stretch_width",
                 tools="", y_range=(0, max(1.0, float(monthly[column].max()) * 1.08)))
    fig.vbar(x="start", top="value", width=MONTH_WIDTH_MS, color="color", source=source)
    value = "£@value{0,0}" if money else "@value{0,0}"
    fig.add_tools(HoverTool(tooltips=[("Month", "@label"), (y_label, value)], mode="vline"))
    _style(fig, y_label, money)
    fig.xaxis.axis_label = "Month"
    return fig


def segment_chart(segments: pd.DataFrame):
    """Each segment's share of customers and of revenue (%), side by side, in the order to act on
    them (``priority`` 1 at the top); tap a segment to open it.

    Returns (figure, source): the source's ``segment`` column names the selected rows.
    """
    # A categorical axis draws its first factor at the bottom: the last priority goes first.
    ordered = segments.sort_values("priority", ascending=False, kind="stable").reset_index(drop=True)
    source = ColumnDataSource({
        "segment": ordered["segment"], "customers": ordered["customers"],
        "customer_share": ordered["customer_share"], "revenue": ordered["revenue"],
        "revenue_share": ordered["revenue_share"],
    })
    fig = figure(title="Share of customers and of revenue by segment, act on the top first; click a segment "
                       "for its customers",
                 y_range=list(ordered["segment"]), height=380, sizing_mode="stretch_width", tools="tap")
    people = fig.hbar(y=dodge("segment", 0.18, range=fig.y_range), right="customer_share", height=0.34,
                      color=BLUE, source=source, legend_label="customers (%)")
    money = fig.hbar(y=dodge("segment", -0.18, range=fig.y_range), right="revenue_share", height=0.34,
                     color=AMBER, source=source, legend_label="revenue (%)")
    fig.add_tools(HoverTool(renderers=[people, money], tooltips=[
        ("Segment", "@segment"), ("Customers", "@customers{0,0} (@customer_share{0.0}%)"),
        ("Revenue", "£@revenue{0,0} (@revenue_share{0.0}%)")]))
    _style(fig, "", False)
    fig.xaxis.axis_label = "Share of all customers / of all revenue (%)"
    fig.xaxis.formatter = NumeralTickFormatter(format="0")
    fig.legend.location = "bottom_right"
    fig.ygrid.grid_line_color = None
    return fig, source


def rf_grid_chart(grid: pd.DataFrame):
    """The 5 x 5 grid of recency (R) and frequency (F) scores, shaded by customers, each cell
    labelled with its count and segment; tap a cell to open its customers.

    Returns (figure, source): selected indices are positions in ``grid``.
    """
    dark = grid["customers"] > 0.55 * max(1, int(grid["customers"].max()))  # white text on dark cells
    data = grid.assign(r=grid["r_score"].astype(str), f=grid["f_score"].astype(str),
                       count=grid["customers"].map("{:,}".format), ink=dark.map({True: "white", False: INK}))
    source = ColumnDataSource(data)
    scores = [str(s) for s in range(1, 6)]
    fig = figure(title="Customers by recency (R) and frequency (F) score; click a cell for its customers",
                 x_range=scores, y_range=scores, height=420, sizing_mode="stretch_width", tools="tap")
    shade = linear_cmap("customers", GRID_PALETTE, 0, max(1, int(grid["customers"].max())))
    cells = fig.rect(x="f", y="r", width=0.96, height=0.96, source=source, line_color="white",
                     fill_color=shade)
    fig.text(x="f", y="r", text="count", source=source, text_align="center", text_baseline="bottom",
             text_font_size="14px", text_color="ink", y_offset=-2)
    fig.text(x="f", y="r", text="segment", source=source, text_align="center", text_baseline="top",
             text_font_size="10px", text_color="ink", y_offset=2)
    fig.add_tools(HoverTool(renderers=[cells], tooltips=[
        ("Scores", "R @r, F @f"), ("Segment", "@segment"), ("Customers", "@customers{0,0}"),
        ("Spend", "£@spend{0,0}")]))
    _style(fig, "Recency score R (5 = bought most recently)", False)
    fig.xaxis.axis_label = "Frequency score F (5 = buys most often)"
    fig.ygrid.grid_line_color = None
    return fig, source


def migration_chart(table: pd.DataFrame, sources: list[str], targets: list[str]):
    """The from/to grid of a segment migration (analytics.history.migration): rows the segment on the
    start date, columns the segment on the end date, shaded by customers, each cell labelled with its
    customers and their spend between the dates; tap a cell to list its customers.

    Returns (figure, source): selected indices are positions in ``table``.
    """
    top = max(1, int(table["customers"].max()))
    dark = table["customers"] > 0.55 * top
    data = table.assign(count=table["customers"].map("{:,}".format),
                        money=table["spend_between"].map(gbp),
                        ink=dark.map({True: "white", False: INK}))
    source = ColumnDataSource(data)
    start, end = table.attrs.get("start", "the start"), table.attrs.get("end", "the end")
    fig = figure(title=f"Customers by segment on {start} (rows) and on {end} (columns), with their spend "
                       "between the dates; click a cell for its customers",
                 x_range=targets, y_range=list(reversed(sources)), height=110 + 44 * len(sources),
                 sizing_mode="stretch_width", tools="tap")
    shade = linear_cmap("customers", GRID_PALETTE, 0, top)
    cells = fig.rect(x="to_segment", y="from_segment", width=0.96, height=0.94, source=source,
                     line_color="white", fill_color=shade)
    fig.text(x="to_segment", y="from_segment", text="count", source=source, text_align="center",
             text_baseline="bottom", text_font_size="12px", text_color="ink", y_offset=-1)
    fig.text(x="to_segment", y="from_segment", text="money", source=source, text_align="center",
             text_baseline="top", text_font_size="9px", text_color="ink", y_offset=1)
    fig.add_tools(HoverTool(renderers=[cells], tooltips=[
        ("From", "@from_segment"), ("To", "@to_segment"), ("Customers", "@customers{0,0}"),
        ("Spend before", "£@spend_before{0,0}"), ("Spend between", "£@spend_between{0,0}")]))
    _style(fig, "", False)  # no number format: the axes name segments
    fig.yaxis.axis_label = f"Segment on {start}"
    fig.xaxis.axis_label = f"Segment on {end}"
    fig.min_border_left = 140
    fig.xaxis.major_label_orientation = 0.6
    fig.xgrid.grid_line_color = None
    fig.ygrid.grid_line_color = None
    return fig, source


def orders_data(orders: pd.DataFrame) -> dict:
    """The columns :func:`orders_chart` draws, for one customer's invoices."""
    return {"invoice_date": orders["invoice_date"], "invoice_no": orders["invoice_no"].astype(str),
            "kind": orders["kind"].astype(str), "amount": orders["amount"], "lines": orders["lines"],
            "units": orders["units"],
            "color": orders["kind"].map({"purchase": BLUE, "cancellation": RED}).fillna(GREY).astype(str),
            "day": orders["invoice_date"].dt.strftime("%d %b %Y %H:%M")}


def orders_window(dates: pd.Series) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The dates the orders chart shows for these invoices (None for none): their span with a bar's
    width and 5% either side, widened to :data:`ORDERS_MIN_DAYS` around its middle."""
    if dates.empty:
        return None
    first, last = dates.min(), dates.max()
    pad = pd.Timedelta(days=ORDER_BAR_DAYS) + (last - first) * 0.05
    start, end = first - pad, last + pad
    short = pd.Timedelta(days=ORDERS_MIN_DAYS) - (end - start)
    if short > pd.Timedelta(0):
        start, end = start - short / 2, end + short / 2
    return start, end


def show_orders(fig, source: ColumnDataSource, orders: pd.DataFrame,
                empty_dates: pd.Series | None = None) -> None:
    """Show another customer's invoices on an orders chart (same canvas, new data and dates; with no
    invoices, the dates of ``empty_dates``, not the previous customer's)."""
    source.data = orders_data(orders)
    window = orders_window(orders["invoice_date"])
    if window is None and empty_dates is not None:
        window = orders_window(empty_dates)
    if window is not None:
        fig.x_range.start, fig.x_range.end = window


def orders_chart(orders: pd.DataFrame, empty_dates: pd.Series | None = None):
    """One customer's invoices over time: purchases up, cancellations down (GBP).

    Returns (figure, source): a page shows another customer with :func:`show_orders`, which
    replaces the source's data and the dates shown, and redraws without a new canvas. The dates
    are explicit (an auto-fitting range ignores dates set later): with no orders, those of
    ``empty_dates`` (e.g. every customer's invoices).
    """
    source = ColumnDataSource(orders_data(orders))
    window = orders_window(orders["invoice_date"])
    if window is None and empty_dates is not None:
        window = orders_window(empty_dates)
    fig = figure(title="Orders over time: purchases up, cancellations down", x_axis_type="datetime",
                 height=280, sizing_mode="stretch_width", tools="",
                 x_range=Range1d(*window) if window else DataRange1d())
    fig.vbar(x="invoice_date", top="amount", width=ORDER_BAR_DAYS * 24 * 3600 * 1000, color="color",
             source=source)
    fig.scatter(x="invoice_date", y="amount", color="color", size=6, source=source)
    fig.add_tools(HoverTool(tooltips=[("Invoice", "@invoice_no (@kind)"), ("Date", "@day"),
                                      ("Amount", "£@amount{0,0.00}"), ("Lines / units", "@lines / @units")]))
    _style(fig, "Invoice amount (£)", True)
    fig.xaxis.axis_label = "Invoice date"
    return fig, source
