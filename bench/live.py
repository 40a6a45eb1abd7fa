"""`make bench-live`: from an order committed in the shop's database to its event visible in the
live_events mart (what the Live page reads), at 1 and 20 orders a second sustained, and how much our
database grows. Writes bench/live.json.

Our side: an embedded server in a temporary LGS_HOME holding the vendored real sample (66,356 rows,
547 customers) loaded and built, so orders from its customers raise "won back", "second order" and
"big order" against a real build. The shop: a second Postgres server (tests/shop_db.py) with the
`retail` table, read by `lgs live --every 1s` through the read-only role. A writer commits orders at a
steady rate, each a new invoice of 1-4 lines (a third from new customers: "welcome"); a watcher polls
live_events every 50 ms and notes when each invoice's first event is visible. Latency = seen - commit.

Run from the project root: python -m bench.live [--seconds 300] [--rates 1,20]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg2

from tests.shop_db import ShopServer

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "data" / "online_retail_2010_2011_sample.csv.gz"
PRODUCTS = [("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 2.95), ("22423", "REGENCY CAKESTAND 3 TIER", 12.75),
            ("85099B", "JUMBO BAG RED RETROSPOT", 2.08), ("47566", "PARTY BUNTING", 4.95),
            ("20725", "LUNCH BAG RED RETROSPOT", 1.65), ("84879", "ASSORTED COLOUR BIRD ORNAMENT", 1.69)]
POLL_EVERY = "1s"


def lgs(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "lgs_analytics.cli", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def customers(url: str) -> tuple[list[int], list[int]]:
    """(win-back customers, other scored customers) of the build."""
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT customer_id, segment IN ('At Risk', 'Can''t Lose', 'Hibernating') FROM customer_rfm "
                    "WHERE method = 'standard'")
        rows = cur.fetchall()
    conn.close()
    return [c for c, lapsed in rows if lapsed], [c for c, lapsed in rows if not lapsed]


def an_order(rng: random.Random, invoice: int, win_back: list[int], others: list[int]) -> list[tuple]:
    pick = rng.random()
    customer = (rng.choice(win_back) if pick < 0.35 else rng.choice(others) if pick < 0.7
                else 200_000 + invoice)
    big = 20 if rng.random() < 0.05 else 1
    when = time.strftime("%Y-%m-%d %H:%M:%S")
    return [(str(invoice), code, name, rng.randint(1, 12) * big, when, price, customer, "United Kingdom")
            for code, name, price in rng.sample(PRODUCTS, rng.randint(1, 4))]


def database_size(url: str) -> int:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_database_size(current_database())")
        size = int(cur.fetchone()[0])
    conn.close()
    return size


def watch(url: str, seen: dict[str, float], stop: threading.Event) -> None:
    """Note when each invoice's first event becomes visible (polls every 50 ms)."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    last = 0
    with conn.cursor() as cur:
        while not stop.is_set():
            cur.execute("SELECT event_id, invoice_no FROM live_events WHERE event_id > %s ORDER BY event_id", (last,))
            now = time.time()
            for event_id, invoice in cur.fetchall():
                seen.setdefault(invoice, now)
                last = max(last, event_id)
            time.sleep(0.05)
    conn.close()


def run_rate(shop, url: str, rate: float, seconds: float, first_invoice: int, win_back, others) -> dict:
    rng = random.Random(int(rate * 1000))
    seen: dict[str, float] = {}
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(url, seen, stop), daemon=True)
    watcher.start()
    size_before = database_size(url)
    committed: dict[str, float] = {}
    conn = psycopg2.connect(shop.owner_url)
    start, n = time.time(), 0
    with conn.cursor() as cur:
        while (due := start + n / rate) < start + seconds:
            time.sleep(max(0.0, due - time.time()))
            invoice = first_invoice + n
            cur.executemany("INSERT INTO retail VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                            an_order(rng, invoice, win_back, others))
            conn.commit()
            committed[str(invoice)] = time.time()
            n += 1
    conn.close()
    time.sleep(15)  # the last orders' events
    stop.set()
    watcher.join()
    achieved = (n - 1) / (max(committed.values()) - start) if n > 1 else 0.0
    latencies = sorted(seen[i] - t for i, t in committed.items() if i in seen)
    growth = database_size(url) - size_before
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)] if latencies else None
    return {"orders_per_second": rate, "achieved_per_second": round(achieved, 2), "seconds": seconds,
            "orders": n, "orders_with_an_event": len(latencies),
            "median_seconds": round(statistics.median(latencies), 3) if latencies else None,
            "p95_seconds": round(p95, 3) if p95 is not None else None,
            "max_seconds": round(latencies[-1], 3) if latencies else None,
            "db_growth_bytes": growth, "db_growth_bytes_per_order": round(growth / n) if n else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="each rate sustained this long (default 300)")
    parser.add_argument("--rates", default="1,20", help="orders a second, comma-separated (default 1,20)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "live.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lgs_bench_live_") as work:
        os.chmod(work, 0o755)
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"LGS_HOME": f"{work}/home"}
        lgs("load", "--quiet", str(SAMPLE), env=env)
        lgs("build", "--quiet", env=env)
        url = subprocess.run([sys.executable, "-m", "lgs_analytics.cli", "db", "url"], env=env, check=True,
                             capture_output=True, text=True).stdout.strip()
        win_back, others = customers(url)
        server = ShopServer(Path(work))
        shop = server.new_shop()
        log = open(Path(work) / "live.log", "w")  # noqa: SIM115 - closed below
        live = subprocess.Popen([sys.executable, "-m", "lgs_analytics.cli", "live", "--source", shop.reader_url,
                                 "--every", POLL_EVERY], env=env, stdout=log, stderr=subprocess.STDOUT)
        results = []
        try:
            for number, rate in enumerate(float(r) for r in args.rates.split(",")):
                result = run_rate(shop, url, rate, args.seconds, 1_000_000 * (number + 1), win_back, others)
                print(json.dumps(result), flush=True)
                results.append(result)
        finally:
            live.terminate()
            live.wait(timeout=60)
            log.close()
            server.stop()
            lgs("db", "stop", env=env)
    args.out.write_text(json.dumps({
        "what": "seconds from an order committed in the shop's database to its first event visible in "
                "live_events (the Live page's data), lgs live polling every 1 s; our database's growth",
        "poll_every": POLL_EVERY, "base": "the vendored real sample (66,356 rows, 547 customers), built",
        "machine": f"{os.cpu_count()} cores, shared (load average {os.getloadavg()[0]:.1f} at the end)",
        "runs": results}, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
