"""`lgs live` against a real second Postgres playing the shop's database (tests/shop_db.py): orders
written there become lines and events here; a late commit, a restart, a SIGKILL, an outage and a
quarantined row neither skip nor repeat a line; nothing is written to the shop; and live lines built
equal a file load of the same rows."""

from __future__ import annotations

import collections
import datetime as dt
import os
import signal
import subprocess
import sys
import time

import psycopg2
import pytest

from lgs_analytics import cli
from lgs_analytics.store import db, tables
from lgs_analytics.store import shop as shop_sql
from tests.conftest import scratch_database, write_csv
from tests.shop_db import ShopServer

pytestmark = pytest.mark.integration
T0 = dt.datetime(2026, 12, 7, 9, 0)
PRODUCTS = [
    ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 2.55),
    ("22752", "SET 7 BABUSHKA NESTING BOXES", 7.65),
    ("21730", "GLASS STAR FROSTED T-LIGHT HOLDER", 4.25),
    ("84879", "ASSORTED COLOUR BIRD ORNAMENT", 1.69),
]


@pytest.fixture(scope="module")
def shop_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("shop")
    os.chmod(base, 0o755)  # the server runs as the wheel's own user when the tests run as root
    server = ShopServer(base)
    yield server
    server.stop()


def order(
    invoice: int, customer: int | None, when: dt.datetime, lines: int = 2, quantity: int = 6
) -> list[tuple]:
    """One invoice's lines: the first ``lines`` products, ``quantity`` units each."""
    return [
        (str(invoice), code, name, quantity, when, price, customer, "United Kingdom")
        for code, name, price in PRODUCTS[:lines]
    ]


def live(shop, *extra: str) -> int:
    return cli.main(["live", "--source", shop.reader_url, "--once", *extra])


def our_lines(url: str) -> collections.Counter:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, "
            "country FROM transactions"
        )
        rows = cur.fetchall()
    conn.close()
    return collections.Counter(rows)


def shop_lines(shop) -> collections.Counter:
    return collections.Counter(
        shop.query(
            "SELECT invoice_no, stock_code, description, quantity, invoice_date, "
            "unit_price, customer_id, country FROM retail"
        )
    )


def one(url: str, statement: str):
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(statement)
        rows = cur.fetchall()
    conn.close()
    return rows


def batches(url: str) -> int:
    return int(one(url, "SELECT coalesce(sum(batches), 0) FROM live_cursor")[0][0])


def live_rows_read(url: str) -> int:
    """Shop rows read over every live batch: a row read twice would count twice."""
    return int(
        one(url, "SELECT coalesce(sum(rows_read), 0) FROM load_batches WHERE source_file LIKE 'live:%'")[0][0]
    )


def test_orders_become_lines_facts_and_events_and_nothing_is_written_to_the_shop(
    shop_server, database_url, tmp_path, capsys
):
    shop = shop_server.new_shop()
    shop.write(order(900001, 17001, T0))
    shop.write(
        order(900002, 17002, T0 + dt.timedelta(minutes=5), lines=3)
        + order(900003, 17001, T0 + dt.timedelta(hours=2))
    )
    catalog = shop.query("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace")
    assert live(shop) == 0
    assert our_lines(database_url) == shop_lines(shop)
    assert live_rows_read(database_url) == 7
    events = sorted(
        one(database_url, "SELECT kind, customer_id, invoice_no, amount::float, build_id FROM live_events")
    )
    assert events == [
        ("second order", 17001, "900003", pytest.approx(61.2), None),
        ("welcome", 17001, "900001", pytest.approx(61.2), None),  # 6 x 2.55 + 6 x 7.65
        ("welcome", 17002, "900002", pytest.approx(86.7), None),
    ]  # + 6 x 4.25
    facts = one(
        database_url, "SELECT customer_id, orders, spend::float, last_order FROM live_customers ORDER BY 1"
    )
    assert facts == [
        (17001, 2, pytest.approx(122.4), T0 + dt.timedelta(hours=2)),
        (17002, 1, pytest.approx(86.7), T0 + dt.timedelta(minutes=5)),
    ]
    # A restart reads nothing again; the weekly export bringing the same lines adds none.
    assert live(shop) == 0
    assert live_rows_read(database_url) == 7
    week = write_csv(
        tmp_path / "week.csv",
        [[str(v) if v is not None else "" for v in row] for row in shop.query("SELECT * FROM retail")],
    )
    assert cli.main(["load", "--quiet", str(week)]) == 0
    assert "7 rows read = 7 loaded (0 new, 7 duplicate" in capsys.readouterr().out
    assert our_lines(database_url) == shop_lines(shop)
    # Nothing written to the shop: its rows and objects are as written, and its sessions refuse writes.
    assert shop.query("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace") == catalog
    assert shop.query("SELECT n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables") == [(7, 0, 0)]
    with shop_sql.session(shop.owner_url) as conn, pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
        conn.cursor().execute("DELETE FROM retail")


def test_a_transaction_that_commits_late_is_read_not_skipped(shop_server, database_url):
    shop = shop_server.new_shop()
    early = psycopg2.connect(shop.owner_url)  # begins first, commits last
    early.cursor().execute(
        "INSERT INTO retail VALUES ('900010', '85123A', 'HEART', 1, %s, 2.55, 17010, 'France')", (T0,)
    )
    shop.write(order(900011, 17011, T0 + dt.timedelta(minutes=1)))
    assert live(shop) == 0
    assert sum(our_lines(database_url).values()) == 2  # the committed order only
    early.commit()
    early.close()
    shop.write(order(900012, 17012, T0 + dt.timedelta(minutes=2)))
    assert live(shop) == 0
    assert our_lines(database_url) == shop_lines(shop)
    assert live_rows_read(database_url) == 5


def test_bounded_batches_of_whole_transactions_and_the_repeats_of_a_line(shop_server, database_url):
    shop = shop_server.new_shop()
    for n in range(10):
        shop.write(order(900100 + n, 17100 + n % 3, T0 + dt.timedelta(minutes=n), lines=3))
    repeat = order(900200, 17200, T0)[:1]
    shop.write(
        repeat + repeat
    )  # an identical line twice in an invoice: both kept (the second an exact duplicate)
    shop.write(repeat)  # and a third copy, in another shop transaction and so another batch
    assert live(shop, "--batch", "2") == 0
    assert one(database_url, "SELECT count(*), max(rows_read) FROM load_batches") == [(12, 3)]
    with db.connect(database_url) as conn:  # a build's provenance: the source once, not a line a batch
        (provenance,) = tables.read_batches(conn)
    assert (provenance["batches"], provenance["rows_read"], provenance["file"]) == (
        12, 33, f"live:postgresql://lgs_reader@127.0.0.1:{shop.port}/{shop.name}#retail")
    assert our_lines(database_url) == shop_lines(shop)
    assert one(
        database_url,
        "SELECT array_agg(occurrence ORDER BY occurrence) FROM transactions WHERE invoice_no = '900200'",
    ) == [([1, 2, 3],)]


def test_a_row_the_loader_quarantines_is_kept_and_the_cursor_moves_on(shop_server, database_url):
    shop = shop_server.new_shop()
    shop.write(order(900300, 17300, T0) + [("X900301", "22752", "BABUSHKA", 2, T0, 7.65, 17300, "France")])
    assert live(shop) == 0
    assert one(database_url, "SELECT source_file, reason FROM quarantine") == [
        (
            f"live:postgresql://lgs_reader@127.0.0.1:{shop.port}/{shop.name}#retail",
            "Invoice has a letter other than the prefixes C (cancellation) and A (adjustment)",
        )
    ]
    assert live(shop) == 0  # read once: the cursor moved past it
    assert live_rows_read(database_url) == 3
    assert one(database_url, "SELECT count(*) FROM quarantine") == [(1,)]


def run_live(shop, url: str, *extra: str) -> subprocess.Popen:
    with db.connect(url):
        pass  # the schema, before the test polls its tables
    env = {k: v for k, v in os.environ.items() if k != "LGS_HOME"} | {"DATABASE_URL": url}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lgs_analytics.cli",
            "live",
            "--source",
            shop.reader_url,
            "--every",
            "0.2s",
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(check, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_killed_at_any_moment_it_resumes_exactly(shop_server, database_url):
    shop = shop_server.new_shop()
    for n in range(300):
        shop.write(order(901000 + n, 17500 + n % 40, T0 + dt.timedelta(minutes=n), lines=1 + n % 4))
    for kill_after in (1, 4):  # batches committed before the SIGKILL (it lands at any point of the next)
        process = run_live(shop, database_url, "--batch", "15")
        wait_for(lambda n=kill_after: batches(database_url) >= n)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        shop.write(order(902000 + kill_after, 17999, T0 + dt.timedelta(days=1)))
    assert live(shop) == 0
    assert our_lines(database_url) == shop_lines(shop)  # none skipped
    assert live_rows_read(database_url) == sum(shop_lines(shop).values())  # none read twice


def test_the_shop_down_it_says_so_backs_off_keeps_the_cursor_and_resumes(database_url, tmp_path):
    base = tmp_path / "outage"
    base.mkdir()
    os.chmod(base, 0o755)
    server = ShopServer(base)
    try:
        shop = server.new_shop()
        shop.write(order(903000, 17600, T0))
        process = run_live(shop, database_url)
        wait_for(lambda: live_rows_read(database_url) == 2)
        server.stop()
        time.sleep(2.0)
        server.start()
        shop.write(order(903001, 17601, T0 + dt.timedelta(minutes=1)))
        wait_for(lambda: live_rows_read(database_url) == 4)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
        assert our_lines(database_url) == shop_lines(shop)
    finally:
        server.stop()
    complaints = [line for line in err.splitlines() if "cannot read the shop's database" in line]
    assert complaints and all("the cursor is where it was; retrying in" in line for line in complaints)
    assert "resumed from the cursor" in err
    assert "Traceback" not in err
    assert process.returncode == 130  # stopped by SIGTERM, said in one line


def test_live_lines_built_equal_a_file_load_of_the_same_rows(
    shop_server, pg_server, real_head_xlsx, tmp_path, monkeypatch
):
    shop = shop_server.new_shop()
    rows = (
        order(904000, 13085, T0, lines=4)
        + order(904001, 99001, T0 + dt.timedelta(hours=1))
        + order(904002, 99001, T0 + dt.timedelta(hours=2), lines=3, quantity=48)
    )
    shop.write(rows)
    marts = ("customer_rfm", "segments", "campaign_customers", "customer_orders")
    results = []
    for via_live in (True, False):
        with scratch_database(pg_server, "equal") as url:
            monkeypatch.setenv("DATABASE_URL", url)
            assert cli.main(["load", "--quiet", str(real_head_xlsx)]) == 0
            if via_live:
                assert live(shop) == 0
            else:
                week = write_csv(
                    tmp_path / "rows.csv", [[str(v) if v is not None else "" for v in r] for r in rows]
                )
                assert cli.main(["load", "--quiet", str(week)]) == 0
            assert cli.main(["build", "--quiet"]) == 0
            results.append(
                {
                    "lines": one(url, "SELECT line_id, invoice_no FROM transactions ORDER BY 1"),
                    **{
                        m: one(url, f"SELECT * FROM {m} ORDER BY 2, 3")  # build_id first: left out
                        for m in marts
                    },
                }
            )
    for name in results[0]:
        strip = (lambda rs: [r[1:] for r in rs]) if name in marts else (lambda rs: rs)
        assert strip(results[0][name]) == strip(results[1][name]), name
    live_ids = {r[0] for r in results[0]["lines"] if r[1].startswith("9040")}
    assert len(live_ids) == len(rows)


def test_a_win_back_customer_ordering_is_won_back_in_the_build_named(
    shop_server, database_url, real_head_xlsx, tmp_path
):
    assert cli.main(["load", "--quiet", str(real_head_xlsx)]) == 0
    assert cli.main(["build", "--quiet"]) == 0
    build_id, customer, segment = one(
        database_url,
        "SELECT build_id, customer_id, segment FROM customer_rfm "
        "WHERE method = 'standard' AND segment IN ('Hibernating', "
        "'At Risk', 'Can''t Lose') ORDER BY customer_id LIMIT 1",
    )[0]
    shop = shop_server.new_shop()
    shop.write(order(905000, customer, T0))
    assert live(shop) == 0
    kind, event_segment, event_build, detail = one(
        database_url, "SELECT kind, segment, build_id, detail FROM live_events WHERE kind = 'won back'"
    )[0]
    assert (event_segment, event_build) == (segment, build_id)
    assert detail.startswith(f"{segment} in build {build_id} (scores as of ")
    out = tmp_path / "events.csv"
    os.environ["LGS_PSEUDONYM_KEY"] = "k" * 40
    try:
        assert cli.main(["events", "--since", "1h", "--out", str(out), "--pseudonymise"]) == 0
    finally:
        del os.environ["LGS_PSEUDONYM_KEY"]
    text = out.read_text()
    assert (
        text.splitlines()[0]
        == "event_id,raised_at,kind,customer_id,invoice_no,invoice_date,amount,segment,build_id,detail"
    )
    assert "won back" in text and f",{customer}," not in text and ",P" in text


def test_a_notify_wakes_it_before_the_next_poll(shop_server, database_url):
    shop = shop_server.new_shop()
    shop.write(order(906000, 17700, T0))
    process = run_live(shop, database_url, "--every", "60s", "--listen", "lgs_orders")
    try:
        wait_for(lambda: live_rows_read(database_url) == 2)
        time.sleep(1.5)  # the first poll is over: it listens now (a NOTIFY sent before would be lost)
        shop.write(order(906001, 17701, T0 + dt.timedelta(minutes=1)))
        shop.query("NOTIFY lgs_orders; SELECT 1")
        wait_for(lambda: live_rows_read(database_url) == 4, seconds=20)  # well before the 60 s poll
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


def test_once_with_the_shop_unreachable_says_so_in_one_line_and_keeps_nothing(database_url, capsys):
    from tests.shop_db import free_port

    closed = f"postgresql://lgs_reader:secret-pw@127.0.0.1:{free_port()}/shop"
    with db.connect(database_url):
        pass  # the schema
    assert cli.main(["live", "--source", closed, "--once"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cannot read the shop's database (down or slow?)" in err
    assert "the cursor is where it was: run it again" in err and "secret-pw" not in err
    nothing = "SELECT (SELECT count(*) FROM live_cursor), (SELECT count(*) FROM load_batches)"
    assert one(database_url, nothing) == [(0, 0)]
