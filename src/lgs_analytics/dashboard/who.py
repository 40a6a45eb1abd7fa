"""The "Who" page: where the customers are (a tile map, hover for each country's customers and net
sales), what kind of buyer they are, and the segments by region and by the CRM's age band, gender
and area, every cell of fewer than ten customers shown as "<10" (analytics.demographics.breakdown:
the report's function and suppression). A customer-type choice narrows the whole page."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
import panel as pn
from bokeh.models import ColumnDataSource, HoverTool, Range1d
from bokeh.plotting import figure

from lgs_analytics.analytics import demographics, geography
from lgs_analytics.analytics.customer_type import TYPES
from lgs_analytics.dashboard.data import Board
from lgs_analytics.outputs import CSV_LINE_END, spreadsheet_safe
from lgs_analytics.privacy import MIN_CELL, SUPPRESSED, count_text
from lgs_analytics.report.who import NO_ATTRIBUTES, RULE, SUPPRESSION

ALL = "all types"
FEW = "#D9D2C3"  # the report's colour for a country of fewer than ten customers
BLUES = ("#DCE8F2", "#B7D0E4", "#8DB3D3", "#6393BE", "#3A6F93", "#234862")


def map_data(countries: pd.DataFrame) -> dict[str, Any]:
    """The tiles' columns: every tile of the map, coloured by log net sales where it has customers."""
    shown = countries[countries["col"].notna()]
    taken = {(int(r["col"]), int(r["row"])): r for r in shown.to_dict("records")}
    spend = shown.loc[shown["customers"] >= MIN_CELL, "spend"].clip(lower=1)
    low, high = (float(np.log10(spend.min())), float(np.log10(spend.max()))) if len(spend) else (0.0, 1.0)
    data: dict[str, Any] = {k: [] for k in ("x", "y", "label", "country", "customers", "sales", "region",
                                             "color", "text_color")}
    for key, (col, row) in geography.TILES.items():
        hit = taken.get((col, row))
        level = 0.0 if hit is None or high == low else min(max(
            (float(np.log10(max(hit["spend"], 1))) - low) / (high - low), 0.0), 1.0)
        shade = BLUES[min(int(level * (len(BLUES) - 1) + 0.5), len(BLUES) - 1)]
        data["x"].append(col + 0.5)
        data["y"].append(-row - 0.5)
        data["label"].append(f"{hit['label']}\n{count_text(hit['customers'])}" if hit is not None
                             else geography.LABEL_OF_UNCODED.get(key, key))
        data["country"].append(hit["country"] if hit is not None else "no customers")
        few = hit is not None and hit["customers"] < MIN_CELL  # no figure about fewer than ten customers
        if few:
            shade, level = FEW, 0.0
        data["customers"].append(count_text(hit["customers"]) if hit is not None else "0")
        data["sales"].append(SUPPRESSED if few else f"£{hit['spend']:,.0f}" if hit is not None else "£0")
        data["region"].append(hit["region"] if hit is not None else "")
        data["color"].append(shade if hit is not None else "#F1F3F5")
        data["text_color"].append("white" if hit is not None and level > 0.6 else "#33404D")
    return data


def map_chart(source: ColumnDataSource):
    fig = figure(title="Customers and net sales by country (hover a square; darker: more sales)",
                 height=480, width=620, tools="", match_aspect=True, x_range=Range1d(start=-0.2, end=10.2),
                 y_range=Range1d(start=-11.2, end=0.5))
    tiles = fig.rect("x", "y", 0.92, 0.92, source=source, fill_color="color", line_color="white")
    fig.text("x", "y", text="label", source=source, text_align="center", text_baseline="middle",
             text_font_size="11px", text_color="text_color")
    fig.add_tools(HoverTool(renderers=[tiles], tooltips=[("Country", "@country"), ("Customers", "@customers"),
                                                          ("Net sales", "@sales"), ("Region", "@region")]))
    fig.axis.visible = False
    fig.grid.visible = False
    fig.toolbar.logo = None
    fig.toolbar_location = None
    fig.outline_line_color = None
    return fig


TABLE_CSS = """<style>
table.lgs-who-table {border-collapse: collapse; font: 13px system-ui, sans-serif; color: #33404D}
table.lgs-who-table th, table.lgs-who-table td {border: 0; border-bottom: 1px solid #E3E7EB;
  padding: 4px 8px; text-align: right; font-variant-numeric: tabular-nums}
table.lgs-who-table th:first-child, table.lgs-who-table td:first-child {text-align: left}
</style>"""


def _table(frame: pd.DataFrame, css: str) -> pn.pane.HTML:
    shown = frame.rename(columns=demographics.LABELS)
    markup = shown.to_html(index=False, escape=True, classes="lgs-who-table", border=0)
    return pn.pane.HTML(TABLE_CSS + markup, css_classes=[css], sizing_mode="stretch_width")


class WhoPage:
    """The map and the breakdowns, for all customers or one type."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self.kind = pn.widgets.RadioButtonGroup(options=[ALL, *TYPES], value=ALL,
                                                css_classes=["lgs-who-type"])
        self.source = ColumnDataSource(map_data(geography.by_country(board.customers)))
        self.tables = pn.Column(sizing_mode="stretch_width")
        self.download = pn.widgets.FileDownload(callback=self._csv, filename="customer-breakdowns.csv",
                                                label="Download these tables (CSV, small cells suppressed)",
                                                button_type="primary", width=380, embed=False)
        self.kind.param.watch(lambda _e: self.refresh(), "value")
        self.refresh()

    def rows(self) -> pd.DataFrame:
        people = self.board.customers
        return people if self.kind.value == ALL else people[people["customer_type"] == self.kind.value]

    def refresh(self) -> None:
        rows = self.rows()
        self.source.data = map_data(geography.by_country(rows))
        parts = [pn.pane.Markdown("### Segments by customer type"),
                 _table(demographics.breakdown(self.board.customers, "customer_type"), "lgs-who-types"),
                 pn.pane.Markdown("### Segments by region"), _table(demographics.breakdown(rows, "region"),
                                                                    "lgs-who-region")]
        if demographics.has_attributes(rows):
            for by in ("age_band", "gender", "area"):
                parts += [pn.pane.Markdown(f"### By {demographics.BREAKDOWNS[by].lower()} (from the CRM)"),
                          _table(demographics.breakdown(rows, by), f"lgs-who-{by.replace('_', '-')}")]
        else:
            parts.append(pn.pane.Markdown(NO_ATTRIBUTES, css_classes=["lgs-who-none"]))
        self.tables.objects = parts

    def _csv(self) -> io.StringIO:
        """The tables on screen as one CSV: suppressed as shown, text formula-safe."""
        table = demographics.breakdowns(self.rows())
        return io.StringIO(spreadsheet_safe(table).to_csv(index=False, lineterminator=CSV_LINE_END))

    def view(self) -> pn.viewable.Viewable:
        return pn.Column(pn.pane.Markdown("## Who the customers are"), pn.pane.HTML(f"<p>{RULE}</p>"),
                         pn.Row(self.kind, pn.layout.HSpacer(), self.download),
                         pn.pane.Bokeh(map_chart(self.source)), self.tables,
                         pn.pane.HTML(f'<p style="color:#57606a">{SUPPRESSION}</p>'),
                         sizing_mode="stretch_width")
