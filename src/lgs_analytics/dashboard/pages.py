"""The Overview, Segments, Churn alerts and Campaigns pages, built from a :class:`~.data.Board`."""

from __future__ import annotations

import io
from collections.abc import Callable

import panel as pn

from lgs_analytics.analytics.history import migration_summary, segment_order
from lgs_analytics.dashboard import charts, grids, kpi, text
from lgs_analytics.dashboard.data import Board
from lgs_analytics.dashboard.selection import CustomerFilter, flow_customers, rf_grid
from lgs_analytics.dashboard.tiles import TILE_CSS, headline_tiles, kpi_tile, tiles
from lgs_analytics.numbers import count, gbp
from lgs_analytics.report import campaigns, sections
from lgs_analytics.results import CampaignResult

MONTHLY_CHARTS = (  # column, title, y-axis label, money
    ("net_sales", "Net sales per month", "Net sales (£)", True),
    ("orders", "Purchase invoices per month (guest orders included)", "Invoices", False),
    ("active_customers", "Active customers per month", "Customers", False),
    ("new_customers", "New customers per month", "Customers", False),
)


def provenance_text(board: Board) -> str:
    """Which build, when, from which files and rows: the page's provenance line, in Markdown."""
    p = board.provenance
    files = ", ".join(text.markdown(f.rsplit('/', 1)[-1]) for f in p.files) or "no files"
    note = f"; {text.markdown(board.no_predictions)}" if board.no_predictions else ""
    return (f"Build **{p.build_id}**, published {p.built_at:%d %b %Y %H:%M} UTC; scores as of "
            f"{board.as_of:%d %b %Y}; from {count(p.rows_read)} rows read in {files}; "
            f"lgs-analytics {text.markdown(p.package_version)}{note}.")


def monthly_charts(board: Board) -> pn.viewable.Viewable:
    """The four monthly charts, two by two, with hover values."""
    return pn.GridBox(*(pn.pane.Bokeh(charts.monthly_chart(board.monthly, *spec), sizing_mode="stretch_width")
                        for spec in MONTHLY_CHARTS), ncols=2, sizing_mode="stretch_width")


def overview(board: Board, charts_slot: pn.Column) -> pn.viewable.Viewable:
    """KPI tiles against a year before, the build's totals, provenance; the monthly charts go
    into ``charts_slot`` (filled once the tiles are on screen: see app.Session)."""
    figures = kpi.year_over_year(board.monthly)
    month_tiles = (tiles(*(kpi_tile(k) for k in figures)) if figures
                   else "<p>No complete month in this build to compare.</p>")
    return pn.Column(
        pn.pane.Markdown("## Overview"),
        pn.pane.HTML(month_tiles, stylesheets=[TILE_CSS], sizing_mode="stretch_width",
                     css_classes=["lgs-kpis"]),
        pn.pane.HTML(headline_tiles(board.headline, board.alerts, board.no_predictions),
                     stylesheets=[TILE_CSS], sizing_mode="stretch_width", css_classes=["lgs-headline"]),
        charts_slot,
        pn.pane.Markdown(provenance_text(board), css_classes=["lgs-provenance"]),
        sizing_mode="stretch_width")


def _clear_then(source, callback: Callable[[list[int]], None]):
    """A Bokeh selection watcher that hands over the tapped rows and clears the selection, so the
    same bar or cell can be clicked again."""
    def watch(_attr, _old, new):
        if new:
            source.selected.indices = []
            callback(new)
    return watch


def segments_page(board: Board, open_customers: Callable[[CustomerFilter], None]) -> pn.viewable.Viewable:
    """Segment sizes and revenue shares, the R x F grid; each click opens the customers it names."""
    bars, bar_source = charts.segment_chart(board.segments)
    bar_source.selected.on_change("indices", _clear_then(bar_source, lambda rows: open_customers(
        CustomerFilter(segments=(bar_source.data["segment"][rows[0]],)))))
    grid = rf_grid(board.customers, board.provenance.parameters.segment_rules)
    cells, cell_source = charts.rf_grid_chart(grid)
    cell_source.selected.on_change("indices", _clear_then(cell_source, lambda rows: open_customers(
        CustomerFilter(rf_cell=(int(grid["r_score"].iloc[rows[0]]), int(grid["f_score"].iloc[rows[0]]))))))
    summary = board.segments.sort_values("priority")
    table = pn.widgets.Tabulator(grids.shown(summary, grids.SEGMENT_COLUMNS), name="segments",
                                 **grids.options(grids.SEGMENT_COLUMNS, widths={"action": "40%"}))
    table.on_click(lambda event: open_customers(
        CustomerFilter(segments=(str(table.value["segment"].iloc[event.row]),))))
    return pn.Column(
        pn.pane.Markdown("## Segments\nIn the order to act on them; click a segment (row or bar) or a "
                         "grid cell to open its customers."),
        table, pn.Row(pn.pane.Bokeh(bars, sizing_mode="stretch_width"),
                      pn.pane.Bokeh(cells, sizing_mode="stretch_width"), sizing_mode="stretch_width"),
        sizing_mode="stretch_width")


def alerts_page(board: Board, open_customer: Callable[[str], None]) -> pn.viewable.Viewable:
    """The churn alerts, highest value at risk first, with their download."""
    if board.no_predictions:
        return pn.Column(pn.pane.Markdown(
            f"## Churn alerts\n**{text.markdown(board.no_predictions)}.** Churn alerts and value at risk "
            "need the models' predictions; use the At Risk and Can't Lose segments to win customers back.",
            css_classes=["lgs-alerts-note"]))
    alerts = board.alerts
    if alerts.empty:
        return pn.Column(pn.pane.Markdown("## Churn alerts\nNo churn alerts in this build: the models flag "
                                          "no valuable customer as lapsed.", css_classes=["lgs-alerts-note"]))
    table = pn.widgets.Tabulator(grids.shown(alerts, grids.ALERT_COLUMNS), pagination="remote",
                                 page_size=20,
                                 css_classes=["lgs-alerts"], **grids.options(grids.ALERT_COLUMNS))
    table.on_click(lambda event: open_customer(str(table.value["customer"].iloc[event.row])))
    download = pn.widgets.FileDownload(
        callback=lambda: io.StringIO(campaigns.csv_text(alerts, board.key)),
        filename="churn-alerts.csv", label="Download the churn alerts (CSV)", button_type="primary",
        width=300, embed=False)
    lost = int((alerts["churn_group"] == "long lost").sum())
    summary = (f"## Churn alerts\n**{count(len(alerts))} customers** the models think have probably "
               f"stopped buying, worth {gbp(alerts['value_at_risk'].sum())} at risk (past spend × chance "
               f"they have stopped); {count(lost)} of them silent for over a year (long lost). Click a row "
               "to open the customer.")
    return pn.Column(pn.pane.Markdown(summary, sizing_mode="stretch_width"), download, table,
                     sizing_mode="stretch_width")


def campaigns_page(results: list[CampaignResult]) -> pn.viewable.Viewable:
    """The campaigns recorded with a control group and their measured effect (the report's table)."""
    if not results:
        return pn.Column(pn.pane.Markdown(
            "## Campaigns\nNo campaign is recorded with a control group yet. Record one with `lgs campaign "
            "--segment 'At Risk' --name 'At Risk win-back' --control 10% --out at-risk.csv`: the file holds "
            "the customers to contact, the control group is kept back, and its result shows here.",
            css_classes=["lgs-campaigns-note"]), sizing_mode="stretch_width")
    return pn.Column(pn.pane.HTML(sections.campaign_results(results).data, sizing_mode="stretch_width",
                                  css_classes=["lgs-campaigns"]), sizing_mode="stretch_width")


def movement_page(board: Board, open_customer: Callable[[str], None]) -> pn.viewable.Viewable:
    """The segment migration over the report's dates: click a cell (a flow) to list its customers,
    then a customer to open them."""
    table, moves = board.migration, board.moves
    if table is None or moves is None:
        return pn.Column(pn.pane.Markdown(
            "## Movement\nNo segment history before this build's as-of date yet: the migration between "
            "segments shows after the next build.", css_classes=["lgs-movement-note"]))
    s = migration_summary(table)
    sources, targets = segment_order(table["from_segment"]), segment_order(table["to_segment"])
    grid, source = charts.migration_chart(table, sources, targets)
    heading = pn.pane.Markdown("Click a cell to list the customers who made that move.",
                               css_classes=["lgs-flow-heading"], sizing_mode="stretch_width")
    people = pn.widgets.Tabulator(grids.shown(board.customers.iloc[0:0], grids.CUSTOMER_COLUMNS),
                                  pagination="remote", page_size=15, css_classes=["lgs-flow"],
                                  **grids.options(grids.CUSTOMER_COLUMNS))

    flows = pn.widgets.Tabulator(grids.shown(table, grids.FLOW_COLUMNS), pagination="remote",
                                 page_size=len(table),
                                 css_classes=["lgs-flows"], **grids.options(grids.FLOW_COLUMNS))

    def show_flow(rows: list[int]) -> None:
        row = table.iloc[rows[0]]
        source_name, target_name = str(row["from_segment"]), str(row["to_segment"])
        chosen = flow_customers(board.customers, moves, source_name, target_name)
        with pn.io.hold():
            people.value = grids.shown(chosen, grids.CUSTOMER_COLUMNS)
            heading.object = (f"**{text.markdown(source_name)} → {text.markdown(target_name)}: "
                              f"{count(len(chosen))} customers**, spend {gbp(chosen['spend'].sum())} "
                              "to date; click a row to open the customer.")

    source.selected.on_change("indices", _clear_then(source, show_flow))
    flows.on_click(lambda event: show_flow([event.row]))
    people.on_click(lambda event: open_customer(str(people.value["customer"].iloc[event.row])))
    summary = (f"## Movement\nFrom {table.attrs['start']} to {table.attrs['end']}: {count(s['changed'])} "
               f"of {count(s['start_customers'])} customers changed segment, {count(s['new_customers'])} "
               f"new; {count(s['slipped_customers'])} Champions or Loyal Customers slipped into a win-back "
               f"segment, {count(s['won_back_customers'])} lapsed customers came back. `lgs migration` "
               "gives any two dates.")
    return pn.Column(pn.pane.Markdown(summary, sizing_mode="stretch_width"),
                     pn.pane.Bokeh(grid, sizing_mode="stretch_width"), heading, people,
                     pn.pane.Markdown("The same flows as a table (click a row for its customers):"), flows,
                     sizing_mode="stretch_width")
