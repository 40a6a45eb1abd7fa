"""End to end: the README's main command (`make report`) at small scale, and the HTML it writes."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lgs_analytics import config
from lgs_analytics.jobs import page as page_job
from lgs_analytics.numbers import count, gbp
from tests.conftest import scratch_database

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
ROWS = 30_000


def notebook_sources() -> tuple[list[str], int]:
    """The notebook's markdown headings and how many of its cells draw a chart."""
    cells = json.loads(config.notebook_path().read_text())["cells"]
    headings = [line.lstrip("#").strip() for c in cells if c["cell_type"] == "markdown"
                for line in "".join(c["source"]).splitlines() if line.startswith("#")]
    charts = sum(1 for c in cells if c["cell_type"] == "code" and "figures.chart(" in "".join(c["source"]))
    return headings, charts


@pytest.fixture(scope="module")
def report(tmp_path_factory, pg_server):
    """Run `make report` once on a generated export, against a fresh database."""
    work = tmp_path_factory.mktemp("e2e")
    raw = work / "raw"
    raw.mkdir()
    subprocess.run([sys.executable, "-m", "lgs_analytics.cli", "generate", "--rows", str(ROWS), "--seed", "7",
                    "--out", str(raw / "export_synthetic.csv")], check=True, capture_output=True)
    out = work / "report.html"
    with scratch_database(pg_server, "e2e") as url:
        env = {**os.environ, "DATABASE_URL": url}
        done = subprocess.run(["make", "--no-print-directory", "report", f"RAW={raw}", f"OUT={out}"],
                              cwd=config.project_root(), env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        yield {"html": out.read_text(encoding="utf-8"), "stdout": done.stdout, "stderr": done.stderr,
               "url": url, "out": out}


def test_output_names_the_load_the_build_and_the_report(report):
    assert f"report written: {report['out'].resolve()}" in report["stdout"]
    assert f"{ROWS:,} rows read" in report["stdout"]
    assert "published build 1 " in report["stdout"] and "the published build 1" in report["stdout"]
    assert report["out"].with_suffix(".ipynb").exists()


def test_the_report_is_self_contained_nothing_from_another_host(report):
    page = report["html"]
    assert re.findall(r'(?:src|href)\s*=\s*["\']?(?:https?:)?//', page) == []
    assert "<script" not in page  # no code at all: it opens offline, with JavaScript off


def test_the_page_template_ships_with_the_package():
    import tomllib

    from lgs_analytics.report import render


    data = tomllib.loads((config.project_root() / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert (render.TEMPLATES / "lgs" / "index.html.j2").exists()
    assert "report/templates/lgs/*" in data["package-data"]["lgs_analytics"]


def test_a_report_on_generated_data_says_so_and_names_its_files(report):
    text = html.unescape(report["html"])
    assert "SYNTHETIC DATA" in text
    assert "Build 1, made " in text
    # The two sheets overlap (1-9 December 2010), as the real workbook's do: their shared lines are not new.
    [new] = set(re.findall(rf"export_synthetic\.csv \({ROWS:,} rows, ([\d,]+) new, synthetic\)", text))
    assert 0 < int(new.replace(",", "")) < ROWS
    assert "What-if" not in text


def test_a_report_on_the_real_sample_has_no_synthetic_banner(real_head_xlsx, tmp_path, database_url):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / real_head_xlsx.name).write_bytes(real_head_xlsx.read_bytes())
    out = tmp_path / "real.html"
    done = subprocess.run([str(Path(sys.executable).with_name("lgs")), "report", "--load", str(raw), "--out",
                           str(out), "--quiet"], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "DATABASE_URL": database_url})
    assert done.returncode == 0, done.stdout + done.stderr
    text = html.unescape(out.read_text(encoding="utf-8"))
    assert "SYNTHETIC DATA" not in text and 'class="lgs-banner lgs-synthetic"' not in text
    assert "synthetic)" not in text  # no file is listed as synthetic
    assert "online_retail_II_head.xlsx (998 rows)" in text
    assert 'data-mime-type="application/vnd.jupyter.error"' not in out.read_text(encoding="utf-8")


def test_the_kernel_is_not_reached_over_tcp(report):
    # IPC sockets in Jupyter's private runtime folder (report_kernel.py): no plain-text TCP warning.
    assert "running over TCP" not in report["stderr"], report["stderr"]


def test_every_section_heading_is_present(report):
    headings, _ = notebook_sources()
    text = html.unescape(report["html"])
    for heading in ["What to do now", "Headline figures", "Key trends", *headings]:
        assert heading in text, heading


def test_no_code_no_errors_and_one_image_per_chart(report):
    page = report["html"]
    assert "page_job.page" not in page and "figures.chart" not in page and "import " not in page
    assert "Traceback" not in page and 'data-mime-type="application/vnd.jupyter.stderr"' not in page
    assert 'data-mime-type="application/vnd.jupyter.error"' not in page
    _, charts = notebook_sources()
    assert charts >= 14
    assert len(re.findall(r'<figure class="lgs-figure"><svg', page)) >= charts


def test_executive_summary_numbers_are_the_published_builds(report, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", report["url"])
    page = page_job.published()
    analysis, scores = page.analysis, page.scores
    h = analysis.headline
    summary = html.unescape(report["html"].split('id="Headline-figures"', 1)[1].split('id="Sales"', 1)[0])
    actions = html.unescape(report["html"].split('id="What-to-do-now"', 1)[1].split('class="lgs-toc"', 1)[0])
    for expected in (gbp(h["net_revenue"]), count(h["customers"]), count(h["customer_orders"]),
                     gbp(h["average_order_value"], 2), f"{h['period_start']:%d %B %Y}",
                     f"{h['period_end']:%d %B %Y}"):
        assert expected in summary, expected
    for row in scores.segments[scores.segments["customers"] > 0].itertuples():  # the action box lists all
        assert f"<b>{row.segment}</b></td><td class=\"num\">{count(row.customers)}" in actions.replace(
            "&#x27;", "'"), row.segment
        assert f"{gbp(row.revenue)}" in actions and row.action in actions


def test_the_compose_report_command_runs_outside_docker(tmp_path, database_url):
    """The `report` service's exact command, run here against the embedded server's database."""
    import yaml

    compose = yaml.safe_load((config.project_root() / "docker-compose.yml").read_text())
    command = compose["services"]["report"]["command"]
    assert command[0] == "lgs"
    (tmp_path / "data" / "raw").mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "lgs_analytics.cli", "generate", "--rows", "20000", "--out",
                    str(tmp_path / "data" / "raw" / "export_synthetic.csv")], check=True, capture_output=True)
    lgs = Path(sys.executable).with_name("lgs")
    done = subprocess.run([str(lgs), *command[1:]], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": database_url}, timeout=600)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "reports" / "retail_report.html").stat().st_size > 100_000


def test_the_demo_then_real_data_never_blend(real_head_xlsx, tmp_path, database_url):
    """The README's path from the demo to real data: `make report` on an empty data/raw generates an
    export; the real export then put there is refused while the generated data is loaded (one line,
    saying how to proceed), and after `lgs db reset --yes` the report is on the real rows alone."""
    import psycopg2

    raw, out = tmp_path / "raw", tmp_path / "report.html"
    env = {**os.environ, "DATABASE_URL": database_url}

    def lgs(*args):
        return subprocess.run([str(Path(sys.executable).with_name("lgs")), *args], capture_output=True,
                              text=True, timeout=600, env=env)

    demo = lgs("report", "--load", str(raw), "--rows", "5000", "--out", str(out), "--quiet")
    assert demo.returncode == 0, demo.stderr
    assert "generating a SYNTHETIC one" in demo.stdout
    generated = raw / "lgs_synthetic_export.csv"
    (raw / real_head_xlsx.name).write_bytes(real_head_xlsx.read_bytes())

    beside = lgs("report", "--load", str(raw), "--out", str(out), "--quiet")  # both files in the folder
    assert beside.returncode == 2 and beside.stderr.count("\n") == 1
    assert "lgs_synthetic_export.csv) beside real ones" in beside.stderr

    generated.unlink()
    refused = lgs("report", "--load", str(raw), "--out", str(out), "--quiet")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert "a real export, and this database holds generated (synthetic) data (lgs_synthetic_export.csv)" \
        in refused.stderr and "lgs db reset --yes" in refused.stderr
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT bool_and(synthetic), count(*) FROM load_batches")
        assert cur.fetchone() == (True, 1)  # nothing of the real file was written
        cur.execute("SELECT count(*) FROM builds")
        assert cur.fetchone() == (1,)  # and no build blended them

    assert lgs("db", "reset", "--yes").returncode == 0
    real = lgs("report", "--load", str(raw), "--out", str(out), "--quiet")
    assert real.returncode == 0, real.stderr
    text = html.unescape(out.read_text(encoding="utf-8"))
    assert "SYNTHETIC DATA" not in text and "online_retail_II_head.xlsx (998 rows)" in text
    assert "lgs_synthetic_export.csv" not in text
