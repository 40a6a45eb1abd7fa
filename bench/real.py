"""`make bench` (real-data part): the real 2010-2011 export against generated rows of the same count.

Times, median of ``--runs``, each into a freshly reset embedded database: `lgs load` of the real
file as it is (older layout, gzip), of the same file decompressed, and of as many generated rows
in the II layout; then `lgs build` and `lgs report` on the real data. Peak memory is each
command's process tree (the notebook kernel included). Reads ../shared/data/online_retail_2010_2011.csv.gz
where it exists, else the vendored real sample (tests/data). Writes bench/real.json.

Usage: python bench/real.py [--runs K] [--out PATH]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from run import LGS, ROOT, run_measured  # bench/run.py: the same measuring

FULL = ROOT.parent / "shared" / "data" / "online_retail_2010_2011.csv.gz"
SAMPLE = ROOT / "tests" / "data" / "online_retail_2010_2011_sample.csv.gz"


def stage(runs: list[tuple[float, int]]) -> dict:
    times = [t for t, _ in runs]
    return {"median_s": round(statistics.median(times), 2), "runs_s": [round(t, 2) for t in times],
            "peak_mib": max(m for _, m in runs) // 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "real.json")
    args = parser.parse_args()

    real = FULL if FULL.exists() else SAMPLE
    work = Path(tempfile.mkdtemp(prefix="lgs-bench-real-"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"LGS_HOME": str(work / "home")}
    plain = work / "online_retail_2010_2011.csv"
    with gzip.open(real, "rb") as source, plain.open("wb") as target:
        shutil.copyfileobj(source, target)
    rows = sum(1 for _ in plain.open("rb")) - 1
    generated = work / "generated_synthetic.csv"
    subprocess.run([*LGS, "generate", "--rows", str(rows), "--out", str(generated)], env=env, check=True,
                   capture_output=True)
    print(f"bench: {real.name} ({rows:,} rows) and {rows:,} generated rows; {args.runs} runs", flush=True)

    loads: dict[str, list] = {"real_gzip_older_layout": [], "real_plain_csv": [], "generated_csv": []}
    build, report = [], []
    for i in range(args.runs):
        for name, path in (("generated_csv", generated), ("real_plain_csv", plain),
                           ("real_gzip_older_layout", real)):
            subprocess.run([*LGS, "db", "reset", "--yes"], env=env, check=True, capture_output=True)
            loads[name].append(run_measured([*LGS, "load", "--quiet", str(path)], env))
        build.append(run_measured([*LGS, "build", "--quiet"], env))  # on the real .gz, loaded last
        report.append(run_measured([*LGS, "report", "--quiet", "--out", str(work / "real.html")], env))
        print(f"  run {i + 1}: load real .gz {loads['real_gzip_older_layout'][-1][0]:.1f} s, "
              f"plain {loads['real_plain_csv'][-1][0]:.1f} s, "
              f"generated {loads['generated_csv'][-1][0]:.1f} s; "
              f"build {build[-1][0]:.1f} s, report {report[-1][0]:.1f} s", flush=True)

    results = {"file": str(real.relative_to(ROOT.parent)) if real == FULL else str(real.relative_to(ROOT)),
               "rows": rows, **{f"load_{k}": stage(v) for k, v in loads.items()},
               "build_real": stage(build), "report_real": stage(report),
               "report_html_bytes": (work / "real.html").stat().st_size,
               "load_average_1_5_15": os.getloadavg()}
    generated_load = results["load_generated_csv"]["median_s"]
    results["real_gzip_vs_generated_load_ratio"] = round(
        results["load_real_gzip_older_layout"]["median_s"] / generated_load, 2)
    results["real_plain_vs_generated_load_ratio"] = round(results["load_real_plain_csv"]["median_s"]
                                                          / generated_load, 2)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    subprocess.run([*LGS, "db", "stop"], env=env, check=False, capture_output=True)


if __name__ == "__main__":
    main()
