"""One browser session of the dashboard: the header, the synthetic-data banner and the nine pages.

A click on a segment, a grid cell or a customer switches page inside the same session (no page
load), so it answers in one round trip.
"""

from __future__ import annotations

import html

import panel as pn

from lgs_analytics.dashboard import pages
from lgs_analytics.dashboard.customers import CustomerList, CustomerPage
from lgs_analytics.dashboard.data import Board, BoardSource, campaign_results
from lgs_analytics.dashboard.live import LivePage
from lgs_analytics.dashboard.products import ProductPage
from lgs_analytics.dashboard.selection import CustomerFilter
from lgs_analytics.dashboard.who import WhoPage

TITLE = "LGS marketing dashboard"
PAGES = ("Overview", "Segments", "Customers", "Customer", "Churn alerts", "Movement", "Products",
         "Campaigns", "Live", "Who")
HEADER_CSS = """
.lgs-header { font-family: system-ui, sans-serif; color: #33404D; display: flex; align-items: baseline;
              gap: 18px; flex-wrap: wrap; }
.lgs-header h1 { font-size: 22px; margin: 6px 0; } .lgs-header span { font-size: 13px; color: #5B6875; }
.lgs-synthetic { background: #B04A35; color: white; font-weight: 700; padding: 8px 14px; border-radius: 4px;
                 font-family: system-ui, sans-serif; letter-spacing: .03em; }
"""


def header(board: Board) -> pn.viewable.Viewable:
    p = board.provenance
    line = (f"build {p.build_id} · published {p.built_at:%d %b %Y %H:%M} UTC · "
            f"scores as of {board.as_of:%d %b %Y}")
    return pn.pane.HTML(f'<div class="lgs-header"><h1>{TITLE}</h1><span>{html.escape(line)}</span></div>',
                        stylesheets=[HEADER_CSS], sizing_mode="stretch_width", margin=(0, 10))


def banner(board: Board) -> pn.viewable.Viewable | None:
    if not board.provenance.synthetic:
        return None
    return pn.pane.HTML('<div class="lgs-synthetic">SYNTHETIC DATA: this build was computed from generated '
                        'exports, not from LGS sales. Do not act on these customers.</div>',
                        stylesheets=[HEADER_CSS], sizing_mode="stretch_width", css_classes=["lgs-banner"])


class Session:
    """The pages of one session, wired so that each can open another.

    Only the Overview's tiles are built before the first paint (each Bokeh canvas costs the
    browser a few hundred milliseconds here); its charts and the other pages follow as soon as
    the browser has drawn them (``pn.state.onload``), so they are ready before anyone clicks.
    """

    def __init__(self, board: Board) -> None:
        self.board = board
        self.customer: CustomerPage | None = None
        self.customers: CustomerList | None = None
        self.products: ProductPage | None = None
        self.live: LivePage | None = None
        self.charts = pn.Column(sizing_mode="stretch_width", min_height=560)
        self.slots = {name: pn.Column(sizing_mode="stretch_width") for name in PAGES[1:]}
        self.tabs = pn.Tabs((PAGES[0], pages.overview(board, self.charts)), *self.slots.items(),
                            sizing_mode="stretch_width", margin=(0, 10))
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            pn.state.onload(self.build_rest)
        else:  # not served (a notebook, a test): build everything now
            self.build_rest()

    def build_rest(self) -> None:
        """Fill the pages behind the Overview (once)."""
        if self.customers is not None:
            return
        self.charts.objects = [pages.monthly_charts(self.board)]
        self.customer = CustomerPage(self.board)
        self.customers = CustomerList(self.board, self.open_customer)
        self.slots["Segments"].objects = [pages.segments_page(self.board, self.open_customers)]
        self.slots["Customers"].objects = [self.customers.view()]
        self.slots["Customer"].objects = [self.customer.view()]
        self.slots["Churn alerts"].objects = [pages.alerts_page(self.board, self.open_customer)]
        self.slots["Movement"].objects = [pages.movement_page(self.board, self.open_customer)]
        self.products = ProductPage(self.board, self.open_customer)
        self.slots["Products"].objects = [self.products.view()]
        self.slots["Campaigns"].objects = [pages.campaigns_page(campaign_results())]
        self.slots["Who"].objects = [WhoPage(self.board).view()]
        self.live = LivePage(self.board.key, self.open_customer)
        self.slots["Live"].objects = [self.live.view()]
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            self.live.start()

    def open_customers(self, chosen: CustomerFilter) -> None:
        self.build_rest()
        with pn.io.hold():  # one message to the browser, not one per widget
            self.customers.show(chosen)
            self.tabs.active = PAGES.index("Customers")

    def open_customer(self, label: str) -> None:
        self.build_rest()
        with pn.io.hold():
            self.customer.show(label)
            self.tabs.active = PAGES.index("Customer")

    def view(self) -> pn.viewable.Viewable:
        parts = [header(self.board), banner(self.board), self.tabs]
        return pn.Column(*(p for p in parts if p is not None), sizing_mode="stretch_width")


def app(source: BoardSource):
    """The page factory the server calls for each new browser session."""
    def session() -> pn.viewable.Viewable:
        return Session(source.get()).view()
    return session
