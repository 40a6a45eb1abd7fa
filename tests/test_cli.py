"""The `lgs` contract: commands, one-line errors without tracebacks, exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lgs_analytics import cli
from lgs_analytics.jobs.load import exports_in, load_folder
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


def test_a_folder_is_searched_for_every_format_lgs_load_reads(tmp_path):
    for name in ("a.csv", "b.CSV.GZ", "c.xlsx", "d.zip", "e.sql", "f.sql.gz", "g.txt", "README.md",
                 ".hidden.csv", "notes.docx"):
        (tmp_path / name).write_bytes(b"x")
    exports, others = exports_in(tmp_path)
    assert [p.name for p in exports] == ["a.csv", "b.CSV.GZ", "c.xlsx", "d.zip", "e.sql", "f.sql.gz", "g.txt"]
    assert [p.name for p in others] == ["notes.docx"]


@pytest.mark.integration
def test_report_load_stops_on_a_file_it_cannot_read_and_never_generates_beside_it(database_url, tmp_path,
                                                                                 capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    write_csv(raw / "week1.csv", [["489434", "85048", "LED", "12", "2009-12-01 07:45", "6.95", "13085",
                                   "United Kingdom"]])
    (raw / "notes.docx").write_bytes(b"PK\x03\x04 not an export")
    assert cli.main(["report", "--load", str(raw), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "notes.docx" in err and "nothing was loaded" in err
    assert sorted(p.name for p in raw.iterdir()) == ["notes.docx", "week1.csv"]  # nothing generated
    from lgs_analytics.store import db

    with db.connect() as conn:
        assert db.query(conn, "SELECT count(*) FROM load_batches") == [(0,)]


@pytest.mark.integration
def test_an_empty_folder_gets_a_synthetic_export_and_says_so(database_url, tmp_path, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "README.md").write_text("exports go here")
    load_folder(raw, rows=2_000)
    out = capsys.readouterr().out
    assert "generating a SYNTHETIC one" in out and "2,000 rows read" in out
    from lgs_analytics.store import db

    with db.connect() as conn:
        assert db.query(conn, "SELECT synthetic FROM load_batches") == [(True,)]


@pytest.mark.integration
def test_load_given_one_export_file_loads_that_file_and_refuses_a_non_export_in_one_line(
        database_url, tmp_path, capsys):
    export = write_csv(tmp_path / "week1.csv", [["489434", "85048", "GLASS BALL", "12", "2009-12-01 07:45:00",
                                                 "6.95", "13085", "United Kingdom"]])
    load_folder(export, rows=2_000)
    assert "1 rows read = 1 loaded" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["week1.csv"]  # nothing generated beside it
    notes = tmp_path / "notes.docx"
    notes.write_bytes(b"PK not an export")
    assert cli.main(["report", "--load", str(notes), "--quiet", "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "notes.docx" in err


def test_one_error_boundary_for_every_command(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    # A path through a file: one line naming the file in the way, not a traceback nor "File exists".
    for argv in (["generate", "--rows", "100", "--out", str(blocker / "x_synthetic.csv")],
                 ["report", "--load", str(blocker / "raw"), "--quiet"],
                 ["refresh", "--inbox", str(blocker), "--quiet"]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err == f"lgs: error: {blocker}: is a file, where lgs needs a folder; give a folder's path " \
                      "(or move the file away)\n", argv
    # --out a folder, or a path through a file, is refused before any work (no database reached).
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    assert cli.main(["rfm", "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    for command in ("report", "refresh"):  # refresh: before it loads and moves the inbox's files
        assert cli.main([command, "--out", str(blocker / "report.html"), "--inbox" if command == "refresh"
                         else "--quiet", *([str(tmp_path / "inbox")] if command == "refresh" else [])]) == 2
        assert f"{blocker} is a file, where lgs needs a folder" in capsys.readouterr().err
    assert not (tmp_path / "inbox").exists()
    # A mistyped export name is not taken for a folder to fill with a synthetic export.
    assert cli.main(["report", "--load", str(tmp_path / "wek1.csv"), "--quiet"]) == 2
    assert "wek1.csv: no such file" in capsys.readouterr().err
    assert not (tmp_path / "wek1.csv").exists()
    # Ctrl-C at any moment, the parser included.
    monkeypatch.setattr(cli, "build_parser", lambda: (_ for _ in ()).throw(KeyboardInterrupt()))
    assert cli.main(["--help"]) == 130
    assert capsys.readouterr().err.startswith("lgs: error: interrupted")


def test_a_bug_is_not_dressed_up_as_a_user_error():
    assert cli.explain(RuntimeError("a bug")) is None
    assert cli.explain(ValueError("bad input\nmore")) == ("bad input", 2)


def test_lgs_help_imports_no_heavy_library():
    heavy = "('pandas', 'psycopg2', 'nbformat', 'matplotlib', 'lifetimes')"
    code = (f"import sys, lgs_analytics.cli as c; c.build_parser(); "
            f"print([m for m in {heavy} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_churn_alerts_without_predictions_are_refused_not_an_empty_file(database_url, real_head_xlsx,
                                                                        tmp_path, capsys):
    # 998 real rows: too few purchase histories for the models, so the build publishes no predictions.
    assert cli.main(["load", "--quiet", str(real_head_xlsx)]) == 0
    assert cli.main(["build", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "; no predictions: " in out and "churn alerts" not in out
    assert cli.main(["campaign", "--churn-risk", "--out", str(tmp_path / "alerts.csv")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lgs: error: no predictions: ") and err.count("\n") == 1
    assert "has no churn alerts" in err and "--segment 'At Risk'" in err
    assert not (tmp_path / "alerts.csv").exists()
    assert cli.main(["campaign", "--segment", "At Risk", "--out", str(tmp_path / "at-risk.csv")]) in (0, 2)
