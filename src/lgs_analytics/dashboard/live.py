"""The Live page: the events `lgs live` raises as the shop's orders come (docs/live.md), newest
first, re-read every few seconds without a page load; a click opens the customer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import panel as pn

from lgs_analytics.dashboard import grids, text
from lgs_analytics.dashboard.data import live_events
from lgs_analytics.numbers import count, gbp

REFRESH_MS = 5_000  # how often an open Live page re-reads the events
# The sentence of each event wraps (still plain text: Tabulator's plaintext formatter escapes it).
WRAP_DETAIL = (".tabulator-row .tabulator-cell[tabulator-field='detail'] { white-space: normal !important; "
               "overflow-wrap: anywhere; }")
WINDOWS = {"Last hour": 1.0, "Last 24 hours": 24.0, "Last 7 days": 168.0}


def summary(events, hours: float, now: dt.datetime) -> str:
    """The line above the table: how many events of which kinds, their orders' value, when read."""
    window = next(name for name, value in WINDOWS.items() if value == hours).lower()
    if events.empty:
        return (f"No live event in the {window} (read {now:%H:%M:%S} UTC). `lgs live` raises them as "
                "the shop's orders come: a first order, a second, a win-back customer ordering, an unusually "
                "large order.")
    counts = events["kind"].value_counts()
    kinds = ", ".join(f"{count(n)} {text.markdown(str(kind))}" for kind, n in counts.items())
    builds = sorted({int(b) for b in events["build_id"].dropna()})
    named = f"; segments from build {', '.join(map(str, builds))}" if builds else ""
    return (f"**{count(len(events))} events** in the {window} ({kinds}), orders worth "
            f"{gbp(events.drop_duplicates('invoice_no')['amount'].sum())}{named}; read {now:%H:%M:%S} UTC. "
            "Click a row to open the customer (a new customer appears there after the next build).")


class LivePage:
    """The events of the chosen window; :meth:`refresh` re-reads them (the periodic callback)."""

    def __init__(self, key: bytes | None, open_customer: Callable[[str], None]) -> None:
        self.key = key
        self.window = pn.widgets.RadioButtonGroup(options=WINDOWS, value=24.0, name="window")
        self.note = pn.pane.Markdown("", css_classes=["lgs-live-note"], sizing_mode="stretch_width")
        self.table = pn.widgets.Tabulator(
            grids.shown(live_events(0.0, key).iloc[0:0], grids.LIVE_COLUMNS), pagination="remote",
            page_size=25,
            css_classes=["lgs-live"], stylesheets=[WRAP_DETAIL],
            **grids.options(grids.LIVE_COLUMNS, widths={"raised_at": 165, "kind": 115, "segment": 130,
                                                        "detail": "45%"}))
        self.table.on_click(lambda event: open_customer(str(self.table.value["customer"].iloc[event.row])))
        self.window.param.watch(lambda _event: self.refresh(), "value")
        self.refresh()

    def refresh(self) -> None:
        events = live_events(self.window.value, self.key)
        with pn.io.hold():
            self.table.value = grids.shown(events, grids.LIVE_COLUMNS)
            self.note.object = summary(events, self.window.value, dt.datetime.now(dt.UTC))

    def start(self) -> None:
        """Re-read every REFRESH_MS while the browser session lives (served sessions only)."""
        pn.state.add_periodic_callback(self.refresh, period=REFRESH_MS)

    def view(self) -> pn.viewable.Viewable:
        return pn.Column(pn.pane.Markdown("## Live\nThe moments to act on, as the shop's orders come in; "
                                          "the page updates itself every few seconds."),
                         self.window, self.note, self.table, sizing_mode="stretch_width")
