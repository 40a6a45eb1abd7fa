"""The Live page in a real browser: the events `lgs live` raised from orders written in the shop's
database (tests/shop_db.py) show with the build they name, a new one appears without a page load,
and a click opens the customer."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest

from lgs_analytics import cli
from tests.conftest import built_database
from tests.dashboard.test_browser import BROWSER_ARGS, CHROMIUM, PASSWORD, query, serving
from tests.jobs.test_live import order
from tests.shop_db import ShopServer

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
NOW = dt.datetime.now().replace(microsecond=0)


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    base = tmp_path_factory.mktemp("live_shop")
    os.chmod(base, 0o755)
    server = ShopServer(base)
    yield server.new_shop()
    server.stop()


def live_once(shop, url: str) -> None:
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    try:
        assert cli.main(["live", "--source", shop.reader_url, "--once"]) == 0
    finally:
        os.environ["DATABASE_URL"] = previous or ""
        if previous is None:
            del os.environ["DATABASE_URL"]


def test_the_live_page_shows_the_events_updates_itself_and_opens_the_customer(shop, real_head_xlsx, pg_server,
                                                                            tmp_path_factory, tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (.ci/run installs it with apt-get)")
    from playwright.sync_api import sync_playwright

    with built_database(pg_server, real_head_xlsx, "livepage") as url:
        build_id, lapsed, segment = query(
            url, "SELECT build_id, customer_id, segment FROM customer_rfm WHERE method = 'standard' "
                 "AND segment IN ('Hibernating', 'At Risk', 'Can''t Lose') ORDER BY customer_id LIMIT 1")[0]
        shop.write(order(910001, lapsed, NOW - dt.timedelta(minutes=30), lines=3))
        shop.write(order(910002, 99101, NOW - dt.timedelta(minutes=20)))
        live_once(shop, url)
        with serving(url, tmp_path_factory) as served, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            tab = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            tab.goto(served["base"] + "/login")
            tab.fill("input[name=password]", PASSWORD)
            tab.click("button[type=submit], input[type=submit]")
            tab.wait_for_selector("text=NET SALES, WHOLE PERIOD", timeout=60_000)
            tab.locator(".bk-tab", has_text="Live").first.click()
            tab.wait_for_selector("text=3 events", timeout=30_000)
            assert tab.get_by_text(f"{segment} in build {build_id} (scores as of").count() == 1
            assert tab.get_by_text(re.compile(r"^won back$")).count() == 1
            # A new order in the shop: its event appears without a page load (the page re-reads itself).
            shop.write(order(910003, 99101, NOW - dt.timedelta(minutes=5)))
            live_once(shop, url)
            tab.wait_for_selector("text=4 events", timeout=30_000)
            assert tab.get_by_text(re.compile(r"^910003$")).count() == 1
            tab.screenshot(path=str(tmp_path / "live.png"))
            tab.locator(".lgs-live .tabulator-cell:visible[tabulator-field=customer]",
                        has_text=re.compile(f"^{lapsed}$")).first.click()
            tab.wait_for_selector(f"text=invoices of customer {lapsed} in build {build_id}", timeout=30_000)
            browser.close()
