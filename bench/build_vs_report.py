"""`make bench-build`: `lgs build` + `lgs report` now, against the old all-in-one `lgs report`.

Before `lgs build` existed, `lgs report` cleaned, scored, predicted and wrote the web-app
tables while rendering the notebook. This times, in one run on one generated export, each
loaded once per side: the old `lgs report` (the code of git revision ``--old``, unpacked with
`git archive` and run from the same virtualenv through PYTHONPATH, on its own embedded
server) and the new `lgs build` and `lgs report` (each timed separately). Medians of
``--runs`` alternating runs, so both sides see the same machine load; peak memory is the
command's process tree, kernel included. Writes bench/build_vs_report.json.

Usage: python bench/build_vs_report.py [--rows N] [--runs K] [--old REV]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

from run import LGS, ROOT, run_measured  # bench/run.py: the same measuring


def old_tree(revision: str, work: Path) -> Path:
    tree = work / "old"
    tree.mkdir()
    archive = subprocess.run(["git", "archive", revision], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_067_371)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--old", default="808d1dc", help="the revision before lgs build (default 808d1dc)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "build_vs_report.json")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lgs-bench-build-"))
    chosen = ("DATABASE_URL", "PYTHONPATH", "LGS_PROJECT_ROOT")
    base = {k: v for k, v in os.environ.items() if k not in chosen}
    new_env = {**base, "LGS_HOME": str(work / "home-new")}
    tree = old_tree(args.old, work)
    old_env = {**base, "LGS_HOME": str(work / "home-old"), "PYTHONPATH": str(tree / "src"),
               "LGS_PROJECT_ROOT": str(tree)}
    export = work / "export_synthetic.csv"
    subprocess.run([*LGS, "generate", "--rows", str(args.rows), "--out", str(export)], env=new_env,
                   check=True, capture_output=True)
    for env in (new_env, old_env):
        subprocess.run([*LGS, "load", "--quiet", str(export)], env=env, check=True, capture_output=True)
    print(f"bench: {args.rows:,} rows loaded on both sides; {args.runs} alternating runs", flush=True)

    old, build, report = [], [], []
    for i in range(args.runs):
        old.append(run_measured([*LGS, "report", "--quiet", "--out", str(work / "old.html")], old_env))
        build.append(run_measured([*LGS, "build", "--quiet"], new_env))
        report.append(run_measured([*LGS, "report", "--quiet", "--out", str(work / "new.html")], new_env))
        print(f"  run {i + 1}: old report {old[-1][0]:.1f} s; build {build[-1][0]:.1f} s + "
              f"report {report[-1][0]:.1f} s", flush=True)

    def stage(runs: list[tuple[float, int]]) -> dict:
        times = [t for t, _ in runs]
        return {"median_s": round(statistics.median(times), 2), "runs_s": [round(t, 2) for t in times],
                "peak_mib": max(m for _, m in runs) // 2**20}

    results = {"rows": args.rows, "old_revision": args.old, "old_report_all_in_one": stage(old),
               "build": stage(build), "report_from_published_build": stage(report),
               "load_average_1_5_15": os.getloadavg()}
    both = [b[0] + r[0] for b, r in zip(build, report, strict=True)]
    results["build_plus_report_median_s"] = round(statistics.median(both), 2)
    results["report_vs_old_report_ratio"] = round(
        statistics.median(t for t, _ in report) / statistics.median(t for t, _ in old), 2)
    results["build_plus_report_vs_old_report_ratio"] = round(
        statistics.median(both) / statistics.median(t for t, _ in old), 2)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    for env in (new_env, old_env):
        subprocess.run([*LGS, "db", "stop"], env=env, check=False, capture_output=True)


if __name__ == "__main__":
    main()
