"""The Customers page (search, filters, the campaign-list download) and the Customer page (one
customer's history, scores and the models' view)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import pandas as pd
import panel as pn

from lgs_analytics.analytics.customer_type import TYPES
from lgs_analytics.dashboard import charts, grids, text
from lgs_analytics.dashboard.data import Board, Unscored
from lgs_analytics.dashboard.selection import CustomerFilter, open_bounds, select_customers, span
from lgs_analytics.dashboard.tiles import TILE_CSS, profile_html
from lgs_analytics.numbers import count, gbp
from lgs_analytics.report import campaigns

PAGE_SIZE = 20


def _date(value) -> dt.date:
    return pd.Timestamp(value).date()


def reconciliation(customers: pd.DataFrame, net_sales: float, left_out: Unscored) -> str:
    """Why the customer table's total spend is not net sales (the Overview's), in the data's own
    numbers: the customers the scores leave out and, if any, what else the scores do not count.
    Empty when the two agree to the penny."""
    total = float(customers["spend"].sum())
    rest = net_sales - total - left_out.amount
    if abs(net_sales - total) < 0.005:
        return ""
    parts = [f"The {count(len(customers))} scored customers below spent {gbp(total)} in all; net sales "
             f"(Overview), {gbp(net_sales)}, also count"]
    if left_out.customers:
        who = f"{count(left_out.customers)} customer{'' if left_out.customers == 1 else 's'}"
        what = (f"of cancellations by {who} who bought nothing in the period, so not scored"
                if left_out.only_cancelled else f"of invoices by {who} the scores leave out")
        parts.append(f"{gbp(left_out.amount)} {what}")
    if abs(rest) >= 0.005:
        parts.append(f"{gbp(rest)} of invoices the scores do not count (after the as-of date)")
    return parts[0] + " " + " and ".join(parts[1:]) + "."


class CustomerList:
    """The filterable customer table; every change re-selects in memory and sends one page."""

    def __init__(self, board: Board, open_customer: Callable[[str], None]) -> None:
        self.board = board
        people = board.customers
        self.spend_span = span(people["spend"])
        self.clv_span = span(people["clv_12m"])
        self.search = pn.widgets.TextInput(name="Search", placeholder="customer ID or country", width=200)
        # Choices.js draws option labels as HTML: the labels are escaped, the values the real text.
        self.segments = pn.widgets.MultiChoice(name="Segment", width=260, options=text.choices(
            board.segments.sort_values("priority")["segment"]))
        self.countries = pn.widgets.MultiChoice(name="Country", width=220, options=text.choices(
            sorted(people["country"].dropna().unique())), css_classes=["lgs-countries"])
        self.types = pn.widgets.MultiChoice(name="Customer type", width=200, options=list(TYPES),
                                            css_classes=["lgs-types"])
        self.churn = pn.widgets.Checkbox(name="Churn alerts only", margin=(28, 10, 0, 10),
                                         css_classes=["lgs-churn"], disabled=bool(board.no_predictions))
        self.due = pn.widgets.Checkbox(name="Due back or overdue", margin=(28, 10, 0, 10),
                                       css_classes=["lgs-due"])
        self.spend = pn.widgets.EditableRangeSlider(name="Spend (£)", start=self.spend_span[0],
                                                    end=self.spend_span[1], value=self.spend_span,
                                                    step=1, format="0,0", width=260, margin=(5, 20))
        self.clv = pn.widgets.EditableRangeSlider(name="CLV, next 12 months (£)", start=self.clv_span[0],
                                                  end=max(self.clv_span[1], self.clv_span[0] + 1),
                                                  value=self.clv_span, step=1, format="0,0", width=260,
                                                  margin=(5, 20),
                                                  disabled=bool(people["clv_12m"].isna().all()),
                                                  visible=not board.no_predictions)  # no CLV: no 0 … 0
        first, last = _date(people["last_order"].min()), _date(people["last_order"].max())
        self.last_order = pn.widgets.DateRangePicker(name="Last order between", value=(first, last),
                                                     start=first, end=last, width=220)
        self.reset = pn.widgets.Button(name="Clear filters", button_type="light", margin=(26, 10, 0, 10))
        self.rf_cell: tuple[int, int] | None = None
        self.summary = pn.pane.Markdown("", css_classes=["lgs-count"], margin=(0, 10))
        self.table = pn.widgets.Tabulator(grids.shown(people.iloc[:0], grids.CUSTOMER_COLUMNS),
                                          pagination="remote", page_size=PAGE_SIZE,
                                          css_classes=["lgs-customers"],
                                          **grids.options(grids.CUSTOMER_COLUMNS))
        self.download = pn.widgets.FileDownload(callback=self._csv, filename="campaign-list.csv",
                                                label="Download these customers (CSV)", button_type="primary",
                                                width=300, embed=False)
        self.rows = people
        self.table.on_click(lambda event: open_customer(str(self.table.value["customer"].iloc[event.row])))
        for widget in (self.search, self.segments, self.countries, self.types, self.churn, self.due,
                       self.spend, self.clv, self.last_order):
            widget.param.watch(self._changed, "value")
        self.reset.on_click(lambda _: self.show(CustomerFilter()))
        self.refresh()

    def chosen(self) -> CustomerFilter:
        """The filter the widgets describe."""
        return CustomerFilter(
            search=self.search.value or "", segments=tuple(self.segments.value),
            countries=tuple(self.countries.value), customer_types=tuple(self.types.value),
            churn_risk=bool(self.churn.value),
            due_back=bool(self.due.value), rf_cell=self.rf_cell,
            spend=open_bounds(self.spend.value, self.spend_span),
            clv=open_bounds(self.clv.value, self.clv_span) if not self.clv.disabled else (None, None),
            last_order=tuple(self.last_order.value or (None, None)))

    def show(self, chosen: CustomerFilter) -> None:
        """Set the widgets to ``chosen`` (a click-through from a segment, a grid cell or the reset
        button) and select once, not once per widget."""
        self.rf_cell = chosen.rf_cell
        self._quiet = True
        try:
            self.search.value = chosen.search
            self.segments.value = list(chosen.segments)
            self.countries.value = list(chosen.countries)
            self.types.value = list(chosen.customer_types)
            self.churn.value = chosen.churn_risk
            self.due.value = chosen.due_back
            self.spend.value = self.spend_span
            self.clv.value = self.clv_span
            self.last_order.value = (self.last_order.start, self.last_order.end)
        finally:
            self._quiet = False
        self.refresh()

    _quiet = False

    def _changed(self, _event) -> None:
        if not self._quiet:
            with pn.io.hold():
                self.refresh()

    def refresh(self) -> None:
        self.rows = select_customers(self.board.customers, self.chosen())
        cell = f" in grid cell R{self.rf_cell[0]} F{self.rf_cell[1]}" if self.rf_cell else ""
        self.summary.object = (f"**{count(len(self.rows))} customers**{cell} match · spend "
                               f"{gbp(self.rows['spend'].sum())}"
                               + (" · IDs pseudonymised" if self.board.pseudonymised else ""))
        self.table.value = grids.shown(self.rows, grids.CUSTOMER_COLUMNS)
        self.table.page = 1
        self.download.filename = f"campaign-list-{len(self.rows)}-customers.csv"

    def _csv(self) -> io.StringIO:
        """The rows on screen, as `lgs campaign` writes them (IDs pseudonymised when the option is on)."""
        return io.StringIO(campaigns.csv_text(self.rows, self.board.key))

    def view(self) -> pn.viewable.Viewable:
        filters = pn.Row(self.search, self.segments, self.countries, self.types, self.churn, self.due,
                         self.reset)
        ranges = pn.Row(self.spend, self.clv, self.last_order)
        board = self.board
        missing = f"**CLV 12 m, P(alive), churn alert: {text.markdown(board.no_predictions)}.**"
        notes = [missing if board.no_predictions else "",
                 reconciliation(board.customers, board.headline["net_revenue"], board.unscored)]
        return pn.Column(pn.pane.Markdown("## Customers\nSearch, filter and sort; click a row to open the "
                                          "customer. The download is exactly the rows that match."),
                         *(pn.pane.Markdown(note, css_classes=["lgs-customers-note"],
                                            sizing_mode="stretch_width") for note in notes if note),
                         filters, ranges, pn.Row(self.summary, pn.layout.HSpacer(), self.download),
                         self.table, sizing_mode="stretch_width")


def next_products_note(products: pd.DataFrame, shown: bool) -> str:
    """The heading of a customer's recommended products: what they are and how they were chosen."""
    if not shown:
        return ""
    if products.empty:
        return "**Next products:** none in this build."
    how = ("products bought together with theirs, checked against what customers bought next"
           if (products["scorer"] == "co-occurrence").any() else
           "the most popular products where they are (personal lists did not beat popularity in this build)")
    return f"**Next products to offer** ({count(len(products))}, new to them and still sold): {how}."


class CustomerPage:
    """One customer: segment and action, scores, the models' view and every invoice.

    Its panes are made once; showing another customer replaces their contents only.
    """

    def __init__(self, board: Board) -> None:
        self.board = board
        kind = " (pseudonym)" if board.pseudonymised else ""
        self.lookup = pn.widgets.TextInput(name="Customer ID" + kind,
                                           placeholder="e.g. " + str(board.customers["customer"].iloc[0]),
                                           width=220)
        self.go = pn.widgets.Button(name="Open", button_type="primary", margin=(26, 10, 0, 0))
        self.note = pn.pane.Markdown("Open a customer from the Customers or Churn alerts page, or type an ID "
                                     "above.", css_classes=["lgs-customer-note"])
        self.profile = pn.pane.HTML("", stylesheets=[TILE_CSS], sizing_mode="stretch_width",
                                    css_classes=["lgs-profile"])
        none = board.orders.iloc[:0]
        self.figure, self.source = charts.orders_chart(none, empty_dates=board.orders["invoice_date"])
        self.chart = pn.pane.Bokeh(self.figure, sizing_mode="stretch_width")
        self.orders = pn.widgets.Tabulator(grids.shown(none, grids.ORDER_COLUMNS), pagination="local",
                                           page_size=15, css_classes=["lgs-orders"],
                                           **grids.options(grids.ORDER_COLUMNS))
        self.next_note = pn.pane.Markdown("", css_classes=["lgs-next-note"], sizing_mode="stretch_width")
        self.next_products = pn.widgets.Tabulator(
            grids.shown(board.recommended_for(-1), grids.NEXT_PRODUCT_COLUMNS),
            css_classes=["lgs-next-products"],
            **grids.options(grids.NEXT_PRODUCT_COLUMNS, widths={"reason": "40%", "rank": 50}))
        self.body = pn.Column(self.profile, self.next_note, self.next_products, self.chart, self.orders,
                              sizing_mode="stretch_width")
        self.go.on_click(lambda _: self._render(self.lookup.value))
        self.lookup.param.watch(lambda event: self._render(event.new), "value")

    def show(self, label: str) -> None:
        """Open the customer shown as ``label`` (an ID, or a pseudonym when pseudonymising)."""
        if self.lookup.value == label:
            self._render(label)
        else:
            self.lookup.value = label  # the watcher renders it

    def _render(self, label: str) -> None:
        label = (label or "").strip()
        if not label:
            return
        row = self.board.customer(label)
        if row is None:
            self.note.object = f"No customer {text.markdown(label)} in build {self.board.build_id}."
            self._fill(self.board.orders.iloc[:0], "")
            return
        orders = self.board.orders_of(int(row["customer_id"]))
        self.note.object = (f"{count(len(orders))} invoices of customer {text.markdown(label)} in build "
                            f"{self.board.build_id}, "
                            "oldest first; hover a bar for the invoice.")
        self._fill(orders, profile_html(row, self.board.no_predictions), int(row["customer_id"]))

    def _fill(self, orders, profile: str, customer_id: int = -1) -> None:
        """The panes stay on the page (a pane that appears costs the browser a new layout)."""
        products = self.board.recommended_for(customer_id)
        with pn.io.hold():
            self.profile.object = profile
            self.next_note.object = next_products_note(products, customer_id >= 0)
            self.next_products.value = grids.shown(products, grids.NEXT_PRODUCT_COLUMNS)
            charts.show_orders(self.figure, self.source, orders,
                               empty_dates=self.board.orders["invoice_date"])
            self.orders.value = grids.shown(orders, grids.ORDER_COLUMNS)

    def view(self) -> pn.viewable.Viewable:
        return pn.Column(pn.pane.Markdown("## Customer"), pn.Row(self.lookup, self.go), self.note, self.body,
                         sizing_mode="stretch_width")
