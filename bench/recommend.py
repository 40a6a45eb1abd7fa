"""`make bench-recommend`: what the recommendations (issue 30) add to `lgs build`, and how they grow.

Two measures, each on the real 2010-2011 file (when a `shared/data` folder is beside the checkout)
and on generated exports:

- ``build``: `lgs build` of this tree against `lgs build` of git revision ``--old`` (the last one
  without recommendations, unpacked with `git archive` and run from the same virtualenv through
  PYTHONPATH, on its own embedded server), the same export loaded on each side; medians of
  ``--runs`` alternating runs, so both sides see the same machine load, and the peak memory of the
  command's process tree. The difference is what the recommendations cost a build.
- ``step``: the recommendation step alone, in this process: reading the baskets and descriptions
  (SQL) and computing the holdout check, the lists and the pairs (analytics/recommend.py), at
  1x and ``--scale`` x the full generated size: how it grows.

Writes bench/recommend.json. Usage: python bench/recommend.py [--runs K] [--old REV] [--scale F]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
from build_vs_report import old_tree
from run import LGS, ROOT, run_measured

FULL_ROWS = 1_067_371
REAL = ROOT.parent / "shared" / "data" / "online_retail_2010_2011.csv.gz"


def median_stage(runs: list[tuple[float, int]]) -> dict:
    times = [t for t, _ in runs]
    return {
        "median_s": round(statistics.median(times), 2),
        "runs_s": [round(t, 2) for t in times],
        "peak_mib": max(m for _, m in runs) // 2**20,
    }


def compare_builds(export: Path, work: Path, old: Path, runs: int, name: str) -> dict:
    """`lgs build` now and at the old revision on the same export, alternating."""
    chosen = ("DATABASE_URL", "PYTHONPATH", "LGS_PROJECT_ROOT")
    base = {k: v for k, v in os.environ.items() if k not in chosen}
    new_env = {**base, "LGS_HOME": str(work / f"{name}-new")}
    old_env = {
        **base,
        "LGS_HOME": str(work / f"{name}-old"),
        "PYTHONPATH": str(old / "src"),
        "LGS_PROJECT_ROOT": str(old),
    }
    for env in (new_env, old_env):
        subprocess.run([*LGS, "load", "--quiet", str(export)], env=env, check=True, capture_output=True)
    before, after = [], []
    for i in range(runs):
        before.append(run_measured([*LGS, "build", "--quiet"], old_env))
        after.append(run_measured([*LGS, "build", "--quiet"], new_env))
        print(
            f"  {name} run {i + 1}: build without {before[-1][0]:.1f} s, with {after[-1][0]:.1f} s",
            flush=True,
        )
    out = {"without": median_stage(before), "with": median_stage(after)}
    out["added_s"] = round(out["with"]["median_s"] - out["without"]["median_s"], 2)
    out["added_peak_mib"] = out["with"]["peak_mib"] - out["without"]["peak_mib"]
    out["home"] = new_env["LGS_HOME"]
    return out


def time_step(home: str, runs: int) -> dict:
    """The recommendation step alone on the database in ``home``: SQL reads, then the computing."""
    os.environ["LGS_HOME"] = home
    os.environ.pop("DATABASE_URL", None)
    from lgs_analytics.analytics import recommend
    from lgs_analytics.store import db, tables

    reads, computes, peak = [], [], 0
    process = psutil.Process()
    for _ in range(runs):
        started = time.perf_counter()
        with db.snapshot() as conn:
            baskets = tables.read_basket_items(conn)
            names = tables.read_product_descriptions(conn)
            countries = dict(db.query(conn, "SELECT customer_id, country FROM campaign_customers"))
        read = time.perf_counter()
        import pandas as pd

        as_of = baskets["invoice_date"].max().normalize() + pd.Timedelta(days=1)
        result = recommend.recommendations(baskets, names, as_of, pd.Series(countries))
        computes.append(time.perf_counter() - read)
        reads.append(read - started)
        peak = max(peak, process.memory_info().rss)
    return {
        "basket_items": len(baskets),
        "customers": len(countries),
        "read_median_s": round(statistics.median(reads), 2),
        "compute_median_s": round(statistics.median(computes), 2),
        "process_rss_mib": peak // 2**20,
        "holdout": {k: result.quality.get(k) for k in ("customers", "popularity", "co-occurrence", "scorer")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--old", default="8440e88", help="the last revision without recommendations")
    parser.add_argument("--scale", type=float, default=10.0, help="the larger generated size, x full")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "recommend.json")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lgs-bench-recommend-"))
    old = old_tree(args.old, work)
    results: dict = {"old_revision": args.old, "runs": args.runs}
    exports = {}
    if REAL.exists():
        exports["real"] = REAL
    for name, rows in (
        ("generated_1x", FULL_ROWS),
        (f"generated_{args.scale:g}x", int(FULL_ROWS * args.scale)),
    ):
        path = work / f"{name}_synthetic.csv"
        subprocess.run(
            [*LGS, "generate", "--rows", str(rows), "--out", str(path)],
            env={**os.environ, "LGS_HOME": str(work / "generate")},
            check=True,
            capture_output=True,
        )
        exports[name] = path
    for name, export in exports.items():
        print(f"bench: {name} ({export.name})", flush=True)
        if name.endswith(f"{args.scale:g}x"):  # the large size: the step alone, once loaded and built
            home = str(work / f"{name}-new")
            env = {**os.environ, "LGS_HOME": home}
            subprocess.run([*LGS, "load", "--quiet", str(export)], env=env, check=True, capture_output=True)
            results[name] = {
                "build": dict(
                    zip(("seconds", "peak_bytes"), run_measured([*LGS, "build", "--quiet"], env), strict=True)
                )
            }
        else:
            results[name] = {"build": compare_builds(export, work, old, args.runs, name)}
            home = results[name]["build"].pop("home")
        results[name]["step"] = time_step(home, args.runs)
        print(json.dumps(results[name], indent=2), flush=True)
    results["load_average_1_5_15"] = os.getloadavg()
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
