"""The dashboard in a real browser (Python Playwright driving Debian's Chromium), served by
`lgs dashboard` on the real 2010-2011 data: what marketing sees is what the marts hold.

Screenshots of every page land in the test's tmp folder (pytest keeps the last runs).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pandas as pd
import psycopg2
import pytest

from lgs_analytics.numbers import count, gbp
from tests.conftest import built_database

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "marketing-test-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def query(url: str, sql: str, params=()):
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


@contextlib.contextmanager
def serving(url: str, tmp_path_factory):
    """`lgs dashboard` serving the database at ``url`` (password required) until the block ends."""
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    port = free_port()
    process = None
    try:
        env = {**os.environ, "DATABASE_URL": url, "LGS_DASHBOARD_PASSWORD": PASSWORD}
        command = [sys.executable, "-m", "lgs_analytics.cli", "dashboard", "--port", str(port)]
        log_path = tmp_path_factory.mktemp("dashboard") / "server.log"
        log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed with the process below
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(base + "/liveness", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"lgs dashboard did not start: {log_path.read_text()}") from None
                time.sleep(0.5)
        yield {"base": base, "url": url, "log": log_path, "shown": set()}
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=20)
            log.close()
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous


@pytest.fixture(scope="module")
def server(real_built, tmp_path_factory):
    """`lgs dashboard` serving the real file's build (loaded and built once a session)."""
    with serving(real_built, tmp_path_factory) as served:
        yield served


@pytest.fixture(scope="module")
def head_server(real_head_xlsx, pg_server, tmp_path_factory):
    """`lgs dashboard` serving a build of the 998 real rows of the xlsx head, on which the models do not
    fit: a build with no predictions, in a database of its own."""
    with built_database(pg_server, real_head_xlsx, "head") as url, serving(url, tmp_path_factory) as served:
        yield served


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_without_the_password_nothing_is_served(server):
    opener = urllib.request.build_opener(NoRedirect)
    for path in ("/", "/?tab=Customers"):
        with pytest.raises(urllib.error.HTTPError) as answer:
            opener.open(server["base"] + path, timeout=10)
        assert answer.value.code == 302 and "/login" in answer.value.headers["Location"]
    wrong = urllib.parse.urlencode({"username": "marketing", "password": "not-the-password"}).encode()
    try:
        body = opener.open(server["base"] + "/login", data=wrong, timeout=10).read().decode()
    except urllib.error.HTTPError as refused:
        body = refused.read().decode()
        assert refused.code in (302, 401, 403)
    [(customer,)] = query(server["url"], "SELECT customer_id FROM campaign_customers "
                                         "ORDER BY spend DESC LIMIT 1")
    assert str(customer) not in body and "Net sales" not in body and "At Risk" not in body


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (.ci/run installs it with apt-get)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield chromium
        chromium.close()


def signed_in(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    tab.goto(server["base"] + "/login")
    tab.fill("input[name=password]", PASSWORD)
    tab.click("button[type=submit], input[type=submit]")
    tab.wait_for_selector("text=NET SALES, WHOLE PERIOD", timeout=60_000)
    return tab


def open_page(tab, name: str) -> None:
    tab.locator(".bk-tab", has_text=name).first.click()


def test_the_dashboard_shows_the_build_and_clicks_through_to_its_customers(server, browser, tmp_path):
    from lgs_analytics.jobs import page as page_job

    published = page_job.published()  # DATABASE_URL is the served database's (the fixture's)
    build_id, net = published.provenance.build_id, published.analysis.headline["net_revenue"]
    [(at_risk,)] = query(server["url"], "SELECT count(*) FROM customer_rfm WHERE method = 'standard' "
                                        "AND segment = 'At Risk'")
    tab = signed_in(browser, server)
    # Panel draws inside shadow roots: Playwright's text locators pierce them, inner_text of <body> does not.
    assert tab.get_by_text(f"build {build_id} ·").count() >= 1
    assert tab.get_by_text(gbp(net), exact=True).count() >= 1  # the net sales tile, whole period
    # The orders tile counts the orders its average divides over (the report's headline basis).
    h = published.analysis.headline
    assert tab.get_by_text(count(h["customer_orders"]), exact=True).count() >= 1
    average = f"average order {gbp(h['average_order_value'], 2)} (gross ÷ these orders)"
    assert tab.get_by_text(average).count() >= 1
    tab.screenshot(path=str(tmp_path / "overview.png"))

    open_page(tab, "Segments")
    tab.locator(".tabulator-cell:visible", has_text=re.compile(r"^At Risk$")).first.click()
    tab.wait_for_selector(f"text={at_risk:,} customers", timeout=10_000)
    tab.screenshot(path=str(tmp_path / "customers-at-risk.png"))
    # The table's total against net sales: the customers only the invoices know, counted in SQL.
    [(left_out, amount)] = query(server["url"], "SELECT count(DISTINCT customer_id), sum(amount) FROM "
                                                "customer_orders WHERE customer_id NOT IN "
                                                "(SELECT customer_id FROM campaign_customers)")
    reconciled = f"{gbp(float(amount))} of cancellations by {count(left_out)} customers"
    assert tab.get_by_text(reconciled).count() == 1
    with tab.expect_download() as download:
        tab.get_by_text("Download these customers (CSV)").click()
    rows = pd.read_csv(download.value.path())
    assert len(rows) == at_risk and set(rows["segment"]) == {"At Risk"}
    ids = {int(c) for (c,) in query(server["url"], "SELECT customer_id FROM campaign_customers "
                                                   "WHERE segment = 'At Risk'")}
    assert set(rows["customer_id"]) == ids

    first = tab.locator(".tabulator-row:visible .tabulator-cell[tabulator-field=customer]").first
    customer = int(first.inner_text())
    server["shown"].add(customer)
    first.click()
    invoices = tab.locator(".tabulator-cell:visible[tabulator-field=invoice_no]")
    invoices.first.wait_for(timeout=10_000)
    expected = [i for (i,) in query(server["url"], "SELECT invoice_no FROM customer_orders "
                                                   "WHERE customer_id = %s ORDER BY invoice_date, invoice_no",
                                    (customer,))]
    assert invoices.all_inner_texts()[:15] == expected[:15]
    [(gap,)] = query(server["url"], "SELECT usual_gap_days FROM campaign_customers WHERE customer_id = %s",
                     (customer,))
    due_back = "Usually orders every" if gap is not None else "needs 3 or more order days"
    assert tab.get_by_text(due_back).count() == 1  # the due-back tile, in words
    tab.screenshot(path=str(tmp_path / "customer.png"))
    offered = [c for (c,) in query(server["url"], "SELECT stock_code FROM customer_recommendations "
                                                  "WHERE customer_id = %s ORDER BY rank", (customer,))]
    codes = tab.locator(".lgs-next-products .tabulator-cell:visible[tabulator-field=stock_code]")
    assert offered and codes.all_inner_texts() == offered  # their next products, in order

    open_page(tab, "Products")  # a product's partners, as published, from its code typed whole
    [(product, partner)] = query(server["url"], "SELECT stock_code, related_code FROM product_pairs "
                                                "WHERE rank = 1 ORDER BY baskets_together DESC LIMIT 1")
    picker = tab.locator(".lgs-product-picker input").first
    picker.fill(product)
    picker.press("Enter")
    first_partner = tab.locator(".tabulator-cell:visible[tabulator-field=related_code]").first
    first_partner.wait_for(timeout=10_000)
    assert first_partner.inner_text() == partner

    open_page(tab, "Segments")
    tab.screenshot(path=str(tmp_path / "segments.png"))
    open_page(tab, "Churn alerts")
    tab.wait_for_selector("text=Churn alerts", timeout=10_000)
    tab.screenshot(path=str(tmp_path / "churn-alerts.png"))
    tab.context.close()


def test_a_click_on_a_flow_between_segments_lists_its_customers(server, browser, tmp_path):
    from lgs_analytics.analytics import history
    from lgs_analytics.jobs import page as page_job

    table = page_job.published().migration  # DATABASE_URL is the served database's (the fixture's)
    moved = table[table["from_segment"] != table["to_segment"]]
    flow = moved.loc[moved["customers"].idxmax()]  # the largest move
    _, known, _ = page_job.published_history()
    moves = history.moves(known, table.attrs["start"], table.attrs["end"])
    ids = moves.index[(moves["from_segment"] == flow["from_segment"])
                      & (moves["to_segment"] == flow["to_segment"])]
    tab = signed_in(browser, server)
    open_page(tab, "Movement")
    row = tab.locator(".lgs-flows .tabulator-row:visible").filter(
        has=tab.locator(f".tabulator-cell[tabulator-field=from_segment]:text-is(\"{flow['from_segment']}\")")
    ).filter(has=tab.locator(f".tabulator-cell[tabulator-field=to_segment]:text-is(\"{flow['to_segment']}\")"))
    row.first.click()
    heading = f"{flow['from_segment']} → {flow['to_segment']}: {int(flow['customers']):,} customers"
    tab.get_by_text(heading).first.wait_for(timeout=10_000)
    assert len(ids) == int(flow["customers"])
    listed = tab.locator(".lgs-flow .tabulator-row:visible .tabulator-cell[tabulator-field=customer]")
    shown = {int(c) for c in listed.all_inner_texts()}
    assert shown and shown <= {int(i) for i in ids}
    tab.screenshot(path=str(tmp_path / "movement.png"))
    customer = int(listed.first.inner_text())
    server["shown"].add(customer)
    listed.first.click()  # opens the customer
    tab.locator(".tabulator-cell:visible[tabulator-field=invoice_no]").first.wait_for(timeout=10_000)
    tab.context.close()


def test_no_customer_data_reaches_the_servers_log(server):
    """Runs after the browser test: the customers it opened are not in what the server printed."""
    text = server["log"].read_text(encoding="utf-8")
    assert "dashboard of build" in text and "password required" in text
    assert server["shown"], "the browser test opened no customer"
    for customer in server["shown"]:
        assert str(customer) not in text
    assert "Traceback" not in text


def test_without_predictions_every_page_says_so_and_why(head_server, browser, tmp_path):
    """A build whose models did not fit: no 0, £0 or NaN where a prediction would be, but the reason."""
    from lgs_analytics.jobs import page as page_job

    reason = page_job.published().forecast.unavailable  # DATABASE_URL is the served database's
    assert reason, "the models were expected not to fit the 998 rows"
    said = f"no predictions: {reason}"
    tab = signed_in(browser, head_server)
    assert tab.get_by_text(said, exact=True).count() == 1  # the churn alerts tile
    assert tab.get_by_text("value at risk £0").count() == 0
    tab.screenshot(path=str(tmp_path / "overview-no-predictions.png"))

    open_page(tab, "Customers")
    tab.get_by_text(f"CLV 12 m, P(alive), churn alert: {said}.").wait_for(timeout=10_000)
    for field in ("clv_12m", "p_alive", "churn_risk"):
        cells = tab.locator(f".tabulator-row:visible .tabulator-cell[tabulator-field={field}]")
        cells.first.wait_for(timeout=10_000)
        assert set(cells.all_inner_texts()) == {"–"}, field
    tab.screenshot(path=str(tmp_path / "customers-no-predictions.png"))

    tab.locator(".tabulator-row:visible .tabulator-cell[tabulator-field=customer]").first.click()
    profile = tab.locator(".tile:visible", has_text="P(alive)")
    profile.wait_for(timeout=10_000)
    assert said in profile.inner_text() and "no churn alert" not in profile.inner_text()
    tab.screenshot(path=str(tmp_path / "customer-no-predictions.png"))

    open_page(tab, "Churn alerts")
    tab.get_by_text(f"{said}.", exact=False).first.wait_for(timeout=10_000)
    tab.screenshot(path=str(tmp_path / "churn-alerts-no-predictions.png"))
    # The history needs no predictions: December 2009 and December 2010, back-filled. Changes only: the
    # months without a purchase left no row, so the migration starts on the first date, 1 January 2010.
    migration = page_job.published().migration
    assert (migration.attrs["start"], migration.attrs["end"]) == ("2010-01-01", "2010-12-02")
    open_page(tab, "Movement")
    tab.get_by_text("From 2010-01-01 to 2010-12-02:").first.wait_for(timeout=10_000)
    tab.context.close()


def test_hand_made_urls_leave_no_customer_id_in_the_log(head_server):
    """Tornado logs every 404 with its URL: a customer ID typed into one must not reach the log."""
    [(customer,)] = query(head_server["url"], "SELECT customer_id FROM campaign_customers "
                                              "ORDER BY spend DESC LIMIT 1")
    opener = urllib.request.build_opener(NoRedirect)
    for path in (f"/customer/{customer}", f"/?customer={customer}", f"/export/{customer}.csv?id={customer}"):
        with pytest.raises(urllib.error.HTTPError) as answer:
            opener.open(head_server["base"] + path, timeout=10)
        assert answer.value.code in (302, 404)
    time.sleep(0.5)  # let the server write its last lines
    text = head_server["log"].read_text(encoding="utf-8")
    assert "404 GET /REDACTED (127.0.0.1)" in text  # the lines are there, without the ID
    assert str(customer) not in text
