"""`make bench`: time the stages of `make report` at full size, and a seed-style baseline.

Every stage runs several times in this one process tree, on this machine, and the
figures are medians; the baseline (the whole table through pandas.read_sql_table,
then the seed notebook's lambda groupbys) runs in the same session so the ratio is
measured, not guessed. Peak memory is the largest resident set of each command's
process tree (the notebook's kernel included), sampled every 50 ms. Writes
bench/results.json and prints a table.

Usage: python bench/run.py [--rows N] [--runs K] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
LGS = [sys.executable, "-m", "lgs_analytics.cli"]


def rss(processes: list[psutil.Process]) -> int:
    """Bytes the processes hold in memory (resident set sizes, summed)."""
    return sum(p.memory_info().rss for p in processes if p.is_running())


def run_measured(cmd: list[str], env: dict,
                 memory: Callable[[list[psutil.Process]], int] = rss) -> tuple[float, int]:
    """Wall time (s) and peak memory (bytes) of a command and all its descendants, sampled every
    50 ms; ``memory`` says what a process tree holds (bench/scale.py adds the embedded server)."""
    peak = 0
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    root = psutil.Process(proc.pid)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                peak = max(peak, memory(procs))
            except psutil.Error:
                pass
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    if proc.returncode:
        last = err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}"
        raise SystemExit(f"bench: {' '.join(cmd[2:])} failed: {last}")
    return elapsed, peak


def timed(func, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return times


def seed_style_analysis(url: str) -> None:
    """The seed notebook's way: the whole table through read_sql_table, lambda aggregations."""
    import pandas as pd
    import sqlalchemy

    from lgs_analytics.store.db import sqlalchemy_url

    engine = sqlalchemy.create_engine(sqlalchemy_url(url))
    df = pd.read_sql_table("transactions", engine)
    engine.dispose()
    df = df[(df["quantity"] > 0) & (df["unit_price"] > 0)].dropna()
    df["total"] = df["quantity"] * df["unit_price"].astype(float)
    df["month"] = df["invoice_date"].apply(lambda d: d.strftime("%Y%m"))
    df.groupby("month").agg({"invoice_no": lambda x: x.nunique(), "customer_id": lambda x: x.nunique(),
                             "total": lambda x: x.sum()})
    as_of = pd.Timestamp("2012-01-01")
    rfm = df.groupby("customer_id").agg({"invoice_date": lambda x: (as_of - x.max()).days,
                                         "invoice_no": lambda x: x.nunique(), "total": lambda x: x.sum()})
    pd.qcut(rfm["invoice_date"], 5, labels=[5, 4, 3, 2, 1])
    pd.qcut(rfm["invoice_no"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5])


def our_analysis() -> None:
    """This project's way, for the same job (one read, monthly metrics, one RFM): the lines grouped by
    invoice and cleaning step and the best products, from Postgres, then every metric of the report
    and the standard RFM, vectorised."""
    from lgs_analytics.analytics import metrics, rfm
    from lgs_analytics.analytics.clean import split_lines
    from lgs_analytics.jobs import build as build_job
    from lgs_analytics.results import BuildParameters

    _, inputs = build_job.read_inputs(BuildParameters())
    cleaned = split_lines(inputs.lines, inputs.rules)
    metrics.analyse(cleaned, inputs.lines, inputs.products)
    rfm.score("standard", cleaned=cleaned)


DATABASE_STATE = ("SELECT count(*), sum(quantity * unit_price)::text, "
                  "md5(string_agg(line_id::text, ',' ORDER BY line_id)) FROM transactions")
GROUPS_STATE = "SELECT count(*), md5(string_agg(g::text, '|' ORDER BY g::text)) FROM line_groups g"


def database_state() -> dict:
    """What the analyses read: the lines (their ids' digest), how many, and the revenue; the line
    groups the build reads (how many, and a digest of every one)."""
    from lgs_analytics.store import db

    with db.connect() as conn:
        lines, revenue, digest = db.query(conn, DATABASE_STATE)[0]
        groups, groups_digest = db.query(conn, GROUPS_STATE)[0]
    return {"transactions": lines, "revenue_gbp": revenue, "line_ids_md5": digest,
            "line_groups": groups, "line_groups_md5": groups_digest}


def refresh_steps(work: Path) -> dict[str, float]:
    """The steps' seconds of the last `lgs refresh` run, from its log (load, build: marts and charts,
    report)."""
    return json.loads((work / "data" / "logs" / "refresh.jsonl").read_text().splitlines()[-1])["steps"]


def step_medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {step: round(statistics.median(r[step] for r in runs), 2) for step in runs[0]}


def refresh_runs(files: list[Path], work: Path, env: dict, runs: int,
                 before: list[Path] | None = None) -> tuple[list[tuple[float, int]], dict, list[dict]]:
    """Time `lgs refresh` of ``files`` dropped into an inbox, from a reset database (into which
    ``before`` is loaded first, untimed). Returns the runs (seconds, peak bytes), the database state
    after them and each run's steps (from its log)."""
    import shutil

    inbox = work / "data" / "inbox"
    measured, steps = [], []
    for _ in range(runs):
        subprocess.run([*LGS, "db", "reset", "--yes"], env=env, check=True, capture_output=True)
        for path in before or []:
            subprocess.run([*LGS, "load", "--quiet", str(path)], env=env, check=True, capture_output=True)
        shutil.rmtree(work / "data", ignore_errors=True)
        inbox.mkdir(parents=True)
        for n, path in enumerate(files):
            shutil.copy(path, inbox / path.name)
            os.utime(inbox / path.name, (time.time() - 1000 + n, time.time() - 1000 + n))  # arrival order
        measured.append(run_measured([*LGS, "refresh", "--quiet", "--inbox", str(inbox),
                                      "--out", str(work / "refresh_report.html")], env))
        steps.append(refresh_steps(work))
    return measured, database_state(), steps


def weekly_files(rows: int, work: Path) -> dict[str, list[Path]]:
    """The generated data set (seed 0, as `lgs generate`) cut into exports as LGS sends them:
    three overlapping thirds; and the history up to four weeks before the end plus the latest
    six weeks (a weekly export overlapping the last one by two weeks)."""
    import pandas as pd

    from lgs_analytics.synthetic import cut_exports, generate_export, write_export

    sheets = generate_export(rows=rows, seed=0)
    folder = work / "weekly"
    files: dict[str, list[Path]] = {"thirds": [], "increment": []}
    for n, cut in enumerate(cut_exports(sheets, parts=3), start=1):
        files["thirds"].append(folder / f"export_synthetic_part{n}.csv")
        write_export(cut, files["thirds"][-1])
    end = max(frame["InvoiceDate"].max() for frame in sheets.values())
    for name, keep in (("history", lambda d: d < end - pd.Timedelta(weeks=4)),
                       ("latest_six_weeks", lambda d: d >= end - pd.Timedelta(weeks=6))):
        cut = {sheet: frame[keep(frame["InvoiceDate"])] for sheet, frame in sheets.items()}
        files["increment"].append(folder / f"{name}_synthetic.csv")
        write_export({k: v for k, v in cut.items() if len(v)}, files["increment"][-1])
    return files


def summary(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 3), "runs": [round(v, 3) for v in values]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_067_371)
    parser.add_argument("--runs", type=int, default=3, help="runs of the slow stages (analysis: 2 more)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lgs-bench-"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["LGS_HOME"] = str(work / "home")
    os.environ.pop("DATABASE_URL", None)
    os.environ["LGS_HOME"] = env["LGS_HOME"]
    raw = work / "raw"
    raw.mkdir()
    export = raw / "export_synthetic.csv"
    print(f"bench: {args.rows:,} rows, {args.runs} runs, work dir {work}", flush=True)
    machine = {"cores": os.cpu_count(), "python": platform.python_version(),
               "memory_gib": round(psutil.virtual_memory().total / 2**30, 1)}
    results: dict = {"rows": args.rows, "machine": machine}

    generate = [run_measured([*LGS, "generate", "--rows", str(args.rows), "--out", str(export)], env)]
    results["generate"] = {**summary([t for t, _ in generate]), "peak_mib": generate[0][1] // 2**20}

    load, build, report = [], [], []
    for i in range(args.runs):
        subprocess.run([*LGS, "db", "reset", "--yes"], env=env, check=True, capture_output=True)
        load.append(run_measured([*LGS, "load", "--quiet", str(export)], env))
        build.append(run_measured([*LGS, "build", "--quiet"], env))
        report.append(run_measured([*LGS, "report", "--quiet", "--out", str(work / "report.html")], env))
        print(f"  run {i + 1}: load {load[-1][0]:.1f} s, build {build[-1][0]:.1f} s, "
              f"report (reads the build) {report[-1][0]:.1f} s", flush=True)
    for name, runs in (("load", load), ("build", build), ("report_from_published_build", report)):
        results[name] = {**summary([t for t, _ in runs]), "peak_mib": max(m for _, m in runs) // 2**20}
    results["report_html_bytes"] = (work / "report.html").stat().st_size
    results["report_target_s"] = 6.0  # issue 14: the published build renders in at most 6 s at full size
    results["end_to_end_load_build_report"] = summary(
        [a[0] + b[0] + c[0] for a, b, c in zip(load, build, report, strict=True)])
    single_load = database_state()

    # `lgs refresh`: three overlapping exports of the same data must give the single load's database.
    weekly = weekly_files(args.rows, work)
    thirds, after_thirds, _ = refresh_runs(weekly["thirds"], work, env, args.runs)
    results["refresh_three_overlapping_exports"] = {
        **summary([t for t, _ in thirds]), "peak_mib": max(m for _, m in thirds) // 2**20,
        "export_rows": [sum(1 for _ in p.open()) - 1 for p in weekly["thirds"]]}
    results["database_single_load"] = single_load
    results["database_after_refresh_of_three_exports"] = after_thirds
    results["refresh_equals_single_load"] = after_thirds == single_load
    from lgs_analytics.analytics import metrics, predict, rfm
    from lgs_analytics.jobs import build as build_job

    # The groups three loads added, against every line grouped again (lgs build --full).
    results["line_groups_differing_from_a_regrouping"] = build_job.regroup_lines()[1]
    print(f"  refresh of three overlapping exports: "
          f"{results['refresh_three_overlapping_exports']['median']:.1f} s; "
          f"same database as one load: {after_thirds == single_load}", flush=True)
    history, latest = weekly["increment"]
    weekly_runs, _, weekly_steps = refresh_runs([latest], work, env, args.runs, before=[history])
    results["refresh_weekly_export_into_full_database"] = {
        **summary([t for t, _ in weekly_runs]), "peak_mib": max(m for _, m in weekly_runs) // 2**20,
        "export_rows": sum(1 for _ in latest.open()) - 1, "steps_median_s": step_medians(weekly_steps)}
    print(f"  weekly refresh (six weeks' export into the full database): "
          f"{results['refresh_weekly_export_into_full_database']['median']:.1f} s, steps "
          f"{results['refresh_weekly_export_into_full_database']['steps_median_s']}", flush=True)

    from lgs_analytics.store import db

    url = db.database_url()
    stage_runs = args.runs + 2
    from lgs_analytics.analytics.clean import split_lines
    from lgs_analytics.results import BuildParameters

    inputs = build_job.read_inputs(BuildParameters())[1]
    results["read_inputs_line_groups_and_products"] = summary(
        timed(lambda: build_job.read_inputs(BuildParameters()), stage_runs))
    cleaned = split_lines(inputs.lines, inputs.rules)
    results["clean"] = summary(timed(lambda: split_lines(inputs.lines, inputs.rules), stage_runs))
    results["metrics_all"] = summary(timed(lambda: metrics.analyse(cleaned, inputs.lines, inputs.products),
                                           stage_runs))
    raw_rows = build_job.read_export_rows()
    results["rfm_standard"] = summary(timed(lambda: rfm.score("standard", cleaned=cleaned), stage_runs))
    results["rfm_classic"] = summary(timed(lambda: rfm.score("classic", export_rows=raw_rows),
                                           stage_runs))
    results["read_export_rows_copy"] = summary(timed(build_job.read_export_rows, stage_runs))
    results["metrics_plus_both_rfm"] = {"median": round(results["metrics_all"]["median"]
                                                        + results["rfm_standard"]["median"]
                                                        + results["rfm_classic"]["median"], 3)}


    summary_frame = predict.customer_summary(cleaned.purchases)
    results["predict_fit_bgnbd_gamma_gamma"] = {
        **summary(timed(lambda: predict.fit_models_robustly(summary_frame), stage_runs)),
        "customers": len(summary_frame)}
    results["predict_forecast_with_holdout_check"] = summary(
        timed(lambda: predict.forecast(cleaned), stage_runs))

    ours = timed(our_analysis, args.runs)
    baseline = timed(lambda: seed_style_analysis(url), args.runs)
    results["analysis_ours_read_metrics_rfm"] = summary(ours)
    results["analysis_seed_style_read_sql_table_lambdas"] = summary(baseline)
    speedup = statistics.median(baseline) / statistics.median(ours)
    results["analysis_speedup_vs_seed_style"] = round(speedup, 1)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.exists():  # bench/scale.py's growth figures (its 10x part is run apart) are kept
        results.setdefault("scale", json.loads(args.out.read_text()).get("scale"))
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n{'stage':44} {'median s':>9} {'peak MiB':>9}")
    for key, value in results.items():
        if isinstance(value, dict) and "median" in value:
            print(f"{key:44} {value['median']:9.2f} {value.get('peak_mib', ''):>9}")
    print(f"{'analysis speed-up vs seed style':44} {results['analysis_speedup_vs_seed_style']:8.1f}x")
    print(f"results written to {args.out}")
    subprocess.run([*LGS, "db", "stop"], env=env, check=False, capture_output=True)


if __name__ == "__main__":
    main()
