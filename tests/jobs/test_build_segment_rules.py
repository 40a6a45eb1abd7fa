"""Segment rules through the `lgs` command: a custom file scores customers by its own map, the build
records the rules and their digest, and a bad file is one line and an exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from lgs_analytics import cli
from lgs_analytics.analytics.segment_rules import default_rules, parse_rules
from lgs_analytics.ingest.load import load_path
from lgs_analytics.jobs import page as page_job
from lgs_analytics.store import db
from lgs_analytics.synthetic import generate_export, write_export
from tests.analytics.test_segment_rules import SPLIT_TEXT

pytestmark = pytest.mark.integration
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def loaded(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("LGS_SEGMENTS", "")  # restored afterwards: `--segments` sets it for the process
    path = tmp_path / "export_synthetic.csv"
    write_export(generate_export(rows=20_000, seed=5), path)
    load_path(path, progress=False)
    return path


@pytest.fixture
def split_file(tmp_path) -> Path:
    path = tmp_path / "split.toml"
    path.write_text(SPLIT_TEXT, encoding="utf-8")
    return path


def fetch(sql, params=()):
    with db.connect() as conn:
        return db.query(conn, sql, params)


def test_a_custom_file_scores_by_its_map_and_the_build_records_it(loaded, split_file, monkeypatch, capsys):
    assert cli.main(["build", "--quiet"]) == 0
    default_build = fetch("SELECT build_id, parameters->'segment_rules'->>'digest' FROM current_build")[0]
    assert default_build[1] == default_rules().digest
    lost_before = fetch("SELECT count(*) FROM customer_rfm WHERE method = 'standard' AND r_score = 1 "
                        "AND f_score <= 2")[0][0]
    assert cli.main(["build", "--segments", str(split_file)]) == 0
    assert f"by segment rules split.toml ({parse_rules(SPLIT_TEXT).digest[:12]})" in capsys.readouterr().out
    rules = parse_rules(SPLIT_TEXT)
    build_id, digest, recorded = fetch("SELECT build_id, parameters->'segment_rules'->>'digest', "
                                       "parameters->'segment_rules' FROM current_build")[0]
    assert build_id > default_build[0] and digest == rules.digest != default_build[1]
    assert recorded["source"] == str(split_file) and recorded["segments"][-1]["cells"] == ["11", "12"]
    # every customer is in the segment its R x F cell has in the file; "Lost" holds the R=1, F<=2 cells
    scored = pd.DataFrame(fetch("SELECT r_score, f_score, segment FROM customer_rfm "
                                "WHERE method = 'standard'"), columns=["r", "f", "segment"])
    cells = scored["r"].astype(str) + scored["f"].astype(str)
    assert cells.map(rules.lookup).eq(scored["segment"]).all()
    assert lost_before > 0 and scored["segment"].eq("Lost").sum() == lost_before
    assert fetch("SELECT count(*), count(*) FILTER (WHERE segment = 'Lost') FROM segments")[0] == (11, 1)
    assert fetch("SELECT count(*) FROM campaign_customers WHERE segment = 'Lost'")[0][0] == lost_before
    # the published page carries the build's rules; under other rules it would be a what-if
    assert page_job.published().scores.rules.digest == rules.digest
    assert not page_job.view()[1]  # --segments set LGS_SEGMENTS for the process: the build is the page
    monkeypatch.setenv("LGS_SEGMENTS", "")
    current, what_if = page_job.view()
    assert what_if and current.parameters.segment_rules.digest == rules.digest
    shown = page_job.what_if()
    assert f"segment rules default ({default_rules().digest[:12]})" in shown.provenance.what_if
    assert shown.scores.rules == default_rules() and "Lost" not in set(shown.scores.customers["segment"])


def test_lgs_rfm_scores_with_the_file_lgs_segments_names(loaded, split_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LGS_SEGMENTS", str(split_file))
    out = tmp_path / "scores.csv"
    assert cli.main(["rfm", "--out", str(out)]) == 0
    assert "segment rules split.toml (" in capsys.readouterr().out
    scores = pd.read_csv(out, dtype={"r_score": str, "f_score": str})
    lost = scores["r_score"].eq("1") & scores["f_score"].isin(["1", "2"])
    assert lost.any() and scores.loc[lost, "segment"].eq("Lost").all()
    assert not scores.loc[~lost, "segment"].eq("Lost").any()
    assert fetch("SELECT count(*) FROM customer_rfm")[0][0] == 0  # `lgs rfm` publishes nothing


def test_a_bad_file_is_one_line_and_exit_2_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(SPLIT_TEXT.replace('cells = ["11", "12"]', 'cells = ["11"]'), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(SRC), "LGS_HOME": str(tmp_path / "home"), "LGS_SEGMENTS": ""}
    env.pop("DATABASE_URL", None)
    for argv in (["build", "--segments", str(bad)], ["rfm", "--out", str(tmp_path / "x.csv")]):
        run_env = env if argv[0] == "build" else {**env, "LGS_SEGMENTS": str(bad)}
        done = subprocess.run([sys.executable, "-m", "lgs_analytics.cli", *argv], env=run_env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr == (f"lgs: error: segment rules {bad}: cell 12 is in no segment: every one of the "
                               "25 R x F cells (11 to 55) needs one\n")
    assert not (tmp_path / "home").exists()  # refused before any database was started
