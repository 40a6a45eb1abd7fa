"""The `lgs` contract: commands, one-line errors without tracebacks, exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lgs_analytics import cli
from tests.conftest import write_csv


def run_lgs(*args, env=None):
    return subprocess.run([sys.executable, "-m", "lgs_analytics.cli", *args], capture_output=True,
                          text=True, check=False, env=env)


def test_missing_file_is_a_one_line_error_without_traceback(tmp_path):
    done = run_lgs("load", str(tmp_path / "nope.csv"))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "no such file" in done.stderr and "Traceback" not in done.stderr


def test_bad_generate_suffix_is_a_one_line_error(tmp_path, capsys):
    assert cli.main(["generate", "--rows", "1000", "--out", str(tmp_path / "x.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lgs: error:") and err.count("\n") == 1


def test_rows_must_be_positive():
    with pytest.raises(SystemExit):
        cli.main(["generate", "--rows", "0", "--out", "x.csv"])


def test_reset_needs_confirmation(capsys):
    assert cli.main(["db", "reset"]) == 2
    assert "--yes" in capsys.readouterr().err


@pytest.mark.integration
def test_load_prints_counts_and_refuses_bad_files_but_loads_the_good(database_url, tmp_path, capsys):
    good = write_csv(tmp_path / "good.csv", [
        ["489434", "85048", "GLASS BALL", "12", "2009-12-01 07:45", "6.95", "13085", "United Kingdom"],
        ["489434", "85048", "GLASS BALL", "x", "2009-12-01 07:45", "6.95", "13085", "United Kingdom"]])
    bad = tmp_path / "bad.csv"
    bad.write_text("a;b;c\n1;2;3\n")
    assert cli.main(["load", str(bad), str(good)]) == 1
    out, err = capsys.readouterr()
    assert "2 rows read = 1 loaded (1 new, 0 duplicate of rows already loaded) + 1 quarantined" in out
    assert "separated by semicolons" in err and "nothing from this file was written" in err
    assert "1 file(s) refused" in out
    assert cli.main(["load", str(good)]) == 0
    assert "already loaded" in capsys.readouterr().out


@pytest.mark.integration
def test_db_commands_with_database_url(database_url, capsys):
    assert cli.main(["db", "url"]) == 0
    assert capsys.readouterr().out.strip() == database_url
    assert cli.main(["db", "start"]) == 0
    assert "schema applied" in capsys.readouterr().out
    assert cli.main(["db", "stop"]) == 2
    assert "external server" in capsys.readouterr().err
    assert cli.main(["db", "reset", "--yes"]) == 0
    assert "dropped" in capsys.readouterr().out


@pytest.mark.integration
def test_report_on_an_empty_database_says_what_to_run(database_url, tmp_path, capsys):
    assert cli.main(["report", "--out", str(tmp_path / "r.html")]) == 2
    assert "nothing is published yet: run `lgs build` first" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()
