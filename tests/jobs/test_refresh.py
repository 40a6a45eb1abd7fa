"""`lgs refresh`: overlapping weekly exports, the inbox's moves, the lock, kill-safety, the schedule."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from lgs_analytics import cli, privacy
from lgs_analytics.ingest.load import load_path
from lgs_analytics.jobs import inbox, refresh, schedule
from lgs_analytics.jobs.inbox import RefreshBusy, RefreshPaths, refresh_lock
from lgs_analytics.jobs.schedule import parse_interval
from lgs_analytics.store import db
from lgs_analytics.synthetic import cut_exports, generate_export, write_export
from tests.conftest import write_csv

pytestmark = pytest.mark.integration

GOOD = ["489434", "85048", "GLASS BALL", "12", "2009-12-01 07:45:00", "6.95", "13085.0", "United Kingdom"]


def fetch(sql, params=()):
    with db.connect() as conn:
        return db.query(conn, sql, params)


def database_state() -> dict:
    """What the analyses see: every line once, its values, and the revenue."""
    lines = fetch("SELECT line_id::text, invoice_no, stock_code, description, quantity, invoice_date, "
                  "unit_price, customer_id, country, occurrence FROM transactions ORDER BY line_id")
    revenue = fetch("SELECT coalesce(sum(quantity * unit_price), 0) FROM transactions")[0][0]
    return {"lines": lines, "count": len(lines), "revenue": revenue}


def publish_stand_in(methods: str = "{standard}") -> int:
    """A build row as `lgs build` leaves it (read every batch loaded so far), without its marts."""
    return fetch("INSERT INTO builds (started_at, status, methods, last_batch_id, package_version, forecast) "
                 "VALUES (now(), 'published', %s, (SELECT max(batch_id) FROM load_batches), 'test', "
                 """'{"unavailable": "a stand-in build"}') RETURNING build_id""", (methods,))[0][0]


def report_of(build_id: int) -> str:
    """A stand-in report as the real one names its build (report.tables.provenance_header)."""
    return f'<p class="lgs-provenance">Build {build_id}, made 01 December 2025, 10:00 UTC from 1 file(s)</p>'


class Rebuilds:
    """Stands in for build + report (ten seconds) in the tests of the inbox's handling: counts
    the calls, records a build (no marts) and writes a placeholder report."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, paths, **options) -> int:
        self.calls += 1
        options["steps"]["build"] = options["steps"]["report"] = 0.0
        build_id = publish_stand_in()
        paths.report.parent.mkdir(parents=True, exist_ok=True)
        paths.report.write_text(report_of(build_id), encoding="utf-8")
        return build_id


@pytest.fixture
def paths(tmp_path) -> RefreshPaths:
    return RefreshPaths.beside(tmp_path / "data" / "inbox", tmp_path / "reports" / "report.html")


def drop(paths: RefreshPaths, name: str, rows: list[list[str]], age_seconds: float = 3600) -> Path:
    paths.inbox.mkdir(parents=True, exist_ok=True)
    path = write_csv(paths.inbox / name, rows)
    stamp = time.time() - age_seconds
    os.utime(path, (stamp, stamp))
    return path


def quiet(*_args) -> None:
    return None


@pytest.fixture(scope="module")
def weekly(tmp_path_factory) -> dict[str, Path]:
    """One generated data set written whole, and cut into three overlapping exports."""
    folder = tmp_path_factory.mktemp("weekly")
    sheets = generate_export(rows=20_000, seed=5)  # (seeded: some churn alerts)
    files = {"whole": folder / "whole_synthetic.csv"}
    write_export(sheets, files["whole"])
    for n, cut in enumerate(cut_exports(sheets, parts=3), start=1):
        files[f"week{n}"] = folder / f"week{n}_synthetic.csv"
        write_export(cut, files[f"week{n}"])
    return files


def test_cut_exports_overlap_and_cover_every_row(weekly):
    whole = pd.read_csv(weekly["whole"], dtype=str, keep_default_na=False)
    weeks = [pd.read_csv(weekly[f"week{n}"], dtype=str, keep_default_na=False) for n in (1, 2, 3)]
    assert sum(len(w) for w in weeks) > len(whole)  # they overlap
    assert pd.concat(weeks).drop_duplicates().merge(whole.drop_duplicates(), how="outer",
                                                    indicator=True)["_merge"].eq("both").all()
    for earlier, later in zip(weeks, weeks[1:], strict=False):
        assert later["InvoiceDate"].min() < earlier["InvoiceDate"].max()


def test_three_overlapping_weekly_exports_give_the_database_of_one_load_of_the_whole(
        database_url, pg_server, paths, weekly, monkeypatch):
    monkeypatch.setenv(privacy.ENV_PSEUDONYM_KEY, "a-test-key-of-32-characters-xxxx")
    for n in (1, 2, 3):
        target = paths.inbox / weekly[f"week{n}"].name
        paths.inbox.mkdir(parents=True, exist_ok=True)
        target.write_bytes(weekly[f"week{n}"].read_bytes())
        os.utime(target, (time.time() - 1000 + n, time.time() - 1000 + n))  # arrival order
    # The real rebuild, report included, with customer IDs pseudonymised in it.
    result = refresh.refresh(paths, progress=False, say=quiet, pseudonymise=True)
    assert [f.outcome for f in result.files] == ["loaded"] * 3
    assert result.recomputed and result.status == "succeeded"
    assert sum(f.rows_duplicate for f in result.files) > 0  # the overlaps were recognised
    weekly_state = database_state()

    # A single load of the whole data set, into a database of its own.
    import psycopg2

    admin = psycopg2.connect(pg_server)
    admin.autocommit = True
    admin.cursor().execute('CREATE DATABASE "t_refresh_whole"')
    try:
        os.environ["DATABASE_URL"] = pg_server.replace("/postgres?", "/t_refresh_whole?")
        load_path(weekly["whole"], progress=False)
        whole_state = database_state()
    finally:
        os.environ["DATABASE_URL"] = database_url
        admin.cursor().execute('DROP DATABASE "t_refresh_whole" WITH (FORCE)')
        admin.close()
    assert weekly_state["count"] == whole_state["count"]
    assert weekly_state["revenue"] == whole_state["revenue"]
    assert weekly_state["lines"] == whole_state["lines"]

    # The report and the web-app tables were rebuilt from what was loaded.
    assert paths.report.exists() and paths.report.with_suffix(".ipynb").exists()
    page = paths.report.read_text(encoding="utf-8")
    assert "Customer segments" in page
    # Asked to pseudonymise: no table cell holds a customer number (12346-18287).
    assert re.search(r"<td>\s*1[2-8]\d{3}\s*</td>", page) is None
    flagged = [r[0] for r in fetch("SELECT customer_id FROM customer_predictions WHERE churn_risk")]
    key = privacy.pseudonym_key()
    shown = sum(f"<td>{privacy.pseudonym(c, key)}</td>" in page for c in flagged)
    assert flagged and shown == min(20, len(flagged))  # the table lists the 20 most valuable
    executed = paths.report.with_suffix(".ipynb").read_text(encoding="utf-8")
    assert "pseudonymise = True" in executed and "a-test-key" not in executed + page
    assert fetch("SELECT count(*) > 0 FROM customer_rfm WHERE method = 'standard'") == [(True,)]
    assert sorted(p.name for p in (paths.processed / result.run_id).iterdir()) == [
        "week1_synthetic.csv", "week2_synthetic.csv", "week3_synthetic.csv"]
    assert list(paths.inbox.iterdir()) == [paths.inbox / inbox.LOCK_NAME]
    log = [json.loads(line) for line in paths.log_file.read_text().splitlines()]
    assert log[-1]["run_id"] == result.run_id and log[-1]["status"] == "succeeded"
    assert fetch("SELECT status, files_loaded, recomputed, last_batch_id, build_id FROM refresh_runs") == [
        ("succeeded", 3, True, 3, result.build_id)]
    assert fetch("SELECT build_id, last_batch_id, synthetic FROM current_build") == [
        (result.build_id, 3, True)]
    # The report names its build, which is how the next run knows it is up to date (no clock).
    assert refresh.report_build(paths.report) == result.build_id
    assert refresh.rebuild_due(paths.report)[0] == ""


@pytest.mark.parametrize("order", [("week3", "week1", "week2"), ("week2", "week3", "week1")])
def test_any_arrival_order_gives_the_same_database(database_url, paths, weekly, order):
    for n, name in enumerate(order):
        target = paths.inbox / f"{name}_synthetic.csv"
        paths.inbox.mkdir(parents=True, exist_ok=True)
        target.write_bytes(weekly[name].read_bytes())
        os.utime(target, (time.time() - 1000 + n, time.time() - 1000 + n))
    result = refresh.refresh(paths, progress=False, say=quiet, rebuild=Rebuilds())
    assert [f.file for f in result.files] == [f"{name}_synthetic.csv" for name in order]
    in_order = database_state()
    with db.connect() as conn:
        db.query(conn, "TRUNCATE load_batches, export_rows, transactions, quarantine")
    for n in (1, 2, 3):
        load_path(weekly[f"week{n}"], progress=False)
    assert database_state() == in_order


def test_a_bad_file_is_rejected_with_its_reason_and_the_rest_still_runs(database_url, paths, capsys):
    drop(paths, "a_good.csv", [GOOD], age_seconds=3000)
    (paths.inbox / "b_notes.txt").write_text("Invoice;StockCode\n1;2\n", encoding="utf-8")
    os.utime(paths.inbox / "b_notes.txt", (time.time() - 2000, time.time() - 2000))
    drop(paths, "c_good.csv", [GOOD[:3] + ["24"] + GOOD[4:]], age_seconds=1000)
    rebuilds = Rebuilds()
    result = refresh.refresh(paths, progress=False, say=quiet, rebuild=rebuilds)
    assert [(f.file, f.outcome) for f in result.files] == [
        ("a_good.csv", "loaded"), ("b_notes.txt", "rejected"), ("c_good.csv", "loaded")]
    rejected = paths.rejected / result.run_id
    assert (rejected / "b_notes.txt").exists()
    reason = (rejected / "b_notes.txt.reason.txt").read_text(encoding="utf-8")
    assert "separated by semicolons" in reason and reason.count("\n") == 1
    assert fetch("SELECT count(*) FROM transactions") == [(2,)]
    assert rebuilds.calls == 1
    assert fetch("SELECT files_loaded, files_rejected FROM refresh_runs") == [(2, 1)]


def test_cli_refresh_exits_1_when_a_file_was_rejected_and_names_the_log(database_url, paths, monkeypatch,
                                                                        capsys):
    monkeypatch.setattr(refresh, "recompute", Rebuilds())
    drop(paths, "good.csv", [GOOD])
    (paths.inbox / "empty.csv").write_bytes(b"")
    os.utime(paths.inbox / "empty.csv", (time.time() - 3600, time.time() - 3600))  # settled
    code = cli.main(["refresh", "--inbox", str(paths.inbox), "--out", str(paths.report), "--quiet"])
    out = capsys.readouterr().out
    assert code == 1
    assert "rejected empty.csv: " in out and "0 bytes" in out
    assert "1 file(s) processed (1 new lines), 1 rejected" in out and str(paths.log_file) in out


def test_nothing_new_recomputes_nothing_but_a_load_by_hand_makes_the_scores_stale(database_url, paths,
                                                                                  tmp_path):
    rebuilds = Rebuilds()
    drop(paths, "w1.csv", [GOOD])
    refresh.refresh(paths, progress=False, say=quiet, rebuild=rebuilds)
    again = refresh.refresh(paths, progress=False, say=quiet, rebuild=rebuilds)
    assert (again.files, again.recomputed, rebuilds.calls) == ([], False, 1)
    # The same file again: recognised by its checksum, moved on, nothing recomputed.
    drop(paths, "w1_again.csv", [GOOD])
    same = refresh.refresh(paths, progress=False, say=quiet, rebuild=rebuilds)
    assert [f.outcome for f in same.files] == ["already loaded"] and rebuilds.calls == 1
    # Loaded outside the refresh (or by a run killed before it recomputed): stale, so rebuilt.
    load_path(write_csv(tmp_path / "by_hand.csv", [GOOD[:3] + ["5"] + GOOD[4:]]), progress=False)
    catch_up = refresh.refresh(paths, progress=False, say=quiet, rebuild=rebuilds)
    assert catch_up.recomputed and rebuilds.calls == 2
    assert refresh.refresh(paths, progress=False, say=quiet, rebuild=rebuilds).recomputed is False
    assert refresh.refresh(paths, progress=False, say=quiet, rebuild=rebuilds, force=True).recomputed


SECOND = ["489434", "79323P", "PINK CHERRY LIGHTS", "12", "2009-12-01 07:45:00", "6.75", "13085.0",
          "United Kingdom"]


def test_an_export_of_lines_all_loaded_before_makes_nothing_stale(database_url, paths, tmp_path):
    from lgs_analytics.jobs import page as page_job

    rebuilds = Rebuilds()
    drop(paths, "w1.csv", [GOOD, SECOND])
    assert refresh.refresh(paths, progress=False, say=quiet, rebuild=rebuilds).recomputed
    # The next export overlaps it whole: a file never seen (a new checksum), no new line.
    drop(paths, "w2.csv", [SECOND])
    said = []
    overlap = refresh.refresh(paths, progress=False, say=said.append, rebuild=rebuilds)
    assert [(f.outcome, f.rows_new, f.rows_duplicate) for f in overlap.files] == [("loaded", 0, 1)]
    assert (overlap.recomputed, rebuilds.calls) == (False, 1)
    assert said[-1] == f"no new lines loaded; build 1 and the report {paths.report} are up to date"
    # Loaded by hand, the same; and `lgs report` does not call the build out of date.
    load_path(write_csv(tmp_path / "by_hand.csv", [GOOD]), progress=False)
    assert page_job.is_stale() is False
    assert refresh.refresh(paths, progress=False, say=quiet, rebuild=rebuilds).recomputed is False
    assert fetch("SELECT recomputed, rows_new FROM refresh_runs ORDER BY started_at") == [
        (True, 2), (False, 0), (False, 0)]
    # New lines, by hand: stale, so the next refresh rebuilds, and says why.
    load_path(write_csv(tmp_path / "new.csv", [GOOD[:3] + ["5"] + GOOD[4:]]), progress=False)
    assert page_job.is_stale() is True
    catch_up = refresh.refresh(paths, progress=False, say=quiet, rebuild=rebuilds)
    assert catch_up.recomputed and rebuilds.calls == 2
    assert catch_up.notes == ["rebuilt: lines were loaded after build 1 read them"]


def test_rows_loaded_again_make_classic_scores_stale_as_they_read_every_exported_row(database_url, tmp_path):
    load_path(write_csv(tmp_path / "w1.csv", [GOOD, SECOND]), progress=False)
    build_id = publish_stand_in()
    load_path(write_csv(tmp_path / "w2.csv", [SECOND]), progress=False)  # no new line
    assert refresh.build_state().stale is False
    fetch("UPDATE builds SET methods = '{standard,classic}' WHERE build_id = %s RETURNING 1", (build_id,))
    assert refresh.build_state().stale is True  # classic counts the overlap's rows


def test_a_report_missing_or_older_than_the_build_is_rendered_again(database_url, paths):
    rebuilds = Rebuilds()
    drop(paths, "w1.csv", [GOOD])
    refresh.refresh(paths, progress=False, say=quiet, rebuild=rebuilds)
    paths.report.unlink()  # e.g. the run was stopped after publishing the build
    again = refresh.refresh(paths, progress=False, say=quiet, rebuild=rebuilds)
    assert again.recomputed and again.notes == [f"rebuilt: build 1 has no report at {paths.report} yet"]
    paths.report.write_text(report_of(1), encoding="utf-8")  # last week's report, put back
    assert refresh.refresh(paths, progress=False, say=quiet, rebuild=rebuilds).notes == [
        f"rebuilt: the report {paths.report} is of build 1, not of build 2"]
    paths.report.write_text("<html>something else</html>", encoding="utf-8")
    assert refresh.refresh(paths, progress=False, say=quiet, rebuild=rebuilds).notes == [
        f"rebuilt: the report {paths.report} does not say which build it shows"]
    assert refresh.refresh(paths, progress=False, say=quiet, rebuild=rebuilds).recomputed is False


def test_the_report_is_matched_to_its_build_by_id_whatever_the_clocks(database_url, paths):
    # The report's file time is this host's clock, the build's time the database's: an hour apart,
    # one way or the other, they must neither re-render an up-to-date report nor keep a stale one.
    rebuilds = Rebuilds()
    drop(paths, "w1.csv", [GOOD])
    refresh.refresh(paths, progress=False, say=quiet, rebuild=rebuilds)
    for shift in (-7200, 7200):
        os.utime(paths.report, (time.time() + shift, time.time() + shift))
        assert refresh.rebuild_due(paths.report)[0] == ""
    publish_stand_in()  # build 2 (e.g. `lgs build`), no report rendered from it yet
    assert refresh.rebuild_due(paths.report)[0] == f"the report {paths.report} is of build 1, not of build 2"
    assert refresh.refresh(paths, progress=False, say=quiet, rebuild=rebuilds).recomputed
    assert rebuilds.calls == 2 and refresh.report_build(paths.report) == 3


def test_the_first_refresh_after_report_load_rebuilds_nothing_and_no_line_claims_predictions(
        database_url, paths, tmp_path, monkeypatch, capsys):
    from lgs_analytics.report import render as report
    from tests.conftest import REAL_HEAD_XLSX

    def renders(out, parameters, progress=True):  # the notebook (ten seconds) is not what is tested
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report_of(fetch("SELECT build_id FROM current_build")[0][0]), encoding="utf-8")
        return out

    monkeypatch.setattr(report, "render", renders)
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / REAL_HEAD_XLSX.name).write_bytes(REAL_HEAD_XLSX.read_bytes())
    assert cli.main(["report", "--quiet", "--load", str(raw), "--out", str(paths.report)]) == 0  # make report
    built = capsys.readouterr().out
    real_recompute, rebuilds = refresh.recompute, Rebuilds()
    monkeypatch.setattr(refresh, "recompute", rebuilds)
    paths.inbox.mkdir(parents=True)
    assert cli.main(["refresh", "--inbox", str(paths.inbox), "--out", str(paths.report), "--quiet"]) == 0
    assert "0 file(s) processed (0 new lines), 0 rejected; nothing recomputed" in capsys.readouterr().out
    assert rebuilds.calls == 0
    # The sample has no repeat buyer: the models cannot be fitted, so no predictions are published.
    assert "; no predictions: no repeat buyers" in built and "predictions for" not in built
    assert fetch("SELECT batches->0->>'rows_new' FROM current_build") == [("998",)]

    monkeypatch.setattr(refresh, "recompute", real_recompute)
    drop(paths, "w2.csv", [GOOD[:3] + ["7"] + GOOD[4:6] + ["19999.0", "France"]])  # a new one-off buyer
    assert cli.main(["refresh", "--inbox", str(paths.inbox), "--out", str(paths.report), "--quiet"]) == 0
    out = capsys.readouterr().out
    # The build's line is lgs build's own: one sentence for what a build published, wherever it runs.
    assert re.search(r"published build 2 in [\d.]+ s \(marts [\d.]+ s, charts [\d.]+ s\): [\d,]+ customers "
                     r"scored \(standard\) as of [\d-]+; no predictions: no repeat buyers", out), out
    assert "; build 2 published (no predictions: no repeat buyers" in out and "predictions for" not in out
    log = json.loads(paths.log_file.read_text().splitlines()[-1])
    assert log["predictions"].startswith("no predictions: no repeat buyers")
    assert log["notes"] == ["rebuilt: 1 new lines loaded"]
    assert fetch("SELECT recomputed, build_id FROM refresh_runs ORDER BY started_at") == [
        (False, None), (True, 2)]


def test_a_refresh_with_nothing_new_imports_neither_pandas_nor_pyarrow(database_url, paths):
    # Its fixed cost: with them, 0.5 s; without, 0.15 s.
    paths.inbox.mkdir(parents=True)
    heavy = "('pandas', 'pyarrow', 'numpy', 'psycopg2')"
    code = ("import sys; from lgs_analytics import cli; "
            f"code = cli.main(['refresh', '--inbox', {str(paths.inbox)!r}, '--out', {str(paths.report)!r}, "
            "'--quiet']); "
            f"print(code, [m for m in {heavy} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "DATABASE_URL": database_url})
    assert done.stdout.strip().splitlines()[-1] == "0 ['psycopg2']"


def test_files_still_arriving_and_in_progress_names_wait(database_url, paths):
    drop(paths, "fresh.csv", [GOOD], age_seconds=1)
    drop(paths, "upload.csv.part", [GOOD])
    drop(paths, ".hidden.csv", [GOOD])
    result = refresh.refresh(paths, min_age_seconds=60, progress=False, say=quiet, rebuild=Rebuilds())
    assert result.files == [] and result.waiting == ["fresh.csv"]
    assert {p.name for p in paths.inbox.iterdir()} == {"fresh.csv", "upload.csv.part", ".hidden.csv",
                                                        inbox.LOCK_NAME}


def test_a_second_refresh_while_one_runs_does_nothing(database_url, paths, capsys):
    drop(paths, "w1.csv", [GOOD])
    with refresh_lock(paths.inbox):
        with pytest.raises(RefreshBusy, match=r"another lgs refresh is running \(pid \d+"):
            refresh.refresh(paths, progress=False, say=quiet, rebuild=Rebuilds())
        code = cli.main(["refresh", "--inbox", str(paths.inbox), "--quiet"])
    err = capsys.readouterr().err
    assert code == cli.REFRESH_BUSY_EXIT
    assert err.startswith("lgs: error: another lgs refresh is running") and err.count("\n") == 1
    assert (paths.inbox / "w1.csv").exists()
    assert fetch("SELECT count(*) FROM load_batches") == [(0,)]


# Some other session of this database is writing staged rows (a load in progress).
WRITING_ROWS = ("EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() "
                "AND (query ILIKE '%%load_staged_rows%%' OR query ILIKE 'COPY%%staging%%'))")


@contextmanager
def refresh_caught_writing(paths: RefreshPaths, writing: str) -> Iterator[subprocess.Popen]:
    """`lgs refresh` of ``paths`` in a process of its own, handed over once the SELECT ``writing``
    is true (or the process has ended; at most 60 s); killed afterwards if still running."""
    process = subprocess.Popen([sys.executable, "-m", "lgs_analytics.cli", "refresh", "--inbox",
                                str(paths.inbox), "--out", str(paths.report), "--quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if fetch(writing)[0][0] or process.poll() is not None:
                break
            time.sleep(0.02)
        yield process
    finally:
        if process.poll() is None:
            process.kill()


def test_a_refresh_killed_while_loading_leaves_nothing_and_the_next_run_finishes(database_url, paths):
    paths.inbox.mkdir(parents=True)
    big = paths.inbox / "big_synthetic.csv"
    write_export(generate_export(rows=250_000, seed=5), big)
    os.utime(big, (time.time() - 3600, time.time() - 3600))
    with refresh_caught_writing(paths, f"SELECT {WRITING_ROWS}") as process:  # rows being written
        assert process.poll() is None, "the load finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    time.sleep(0.5)  # the server notices the closed connection and rolls back
    assert fetch("SELECT (SELECT count(*) FROM load_batches), (SELECT count(*) FROM transactions), "
                 "(SELECT count(*) FROM export_rows)") == [(0, 0, 0)]
    assert big.exists() and not any(paths.processed.iterdir())
    assert fetch("SELECT status FROM refresh_runs") == [("running",)]

    rebuilds = Rebuilds()
    result = refresh.refresh(paths, progress=False, say=quiet, rebuild=rebuilds)  # the lock was freed
    assert [f.outcome for f in result.files] == ["loaded"] and result.files[0].rows_read == 250_000
    assert rebuilds.calls == 1
    assert fetch("SELECT status FROM refresh_runs ORDER BY started_at") == [("interrupted",), ("succeeded",)]


@pytest.fixture(scope="module")
def big_export(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / "b_big_synthetic.csv"
    write_export(generate_export(rows=250_000, seed=5), path)
    return path


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_run_stopped_mid_load_records_the_files_it_had_committed(database_url, paths, big_export, stop):
    small = paths.inbox / "a_small_synthetic.csv"  # (generated data is never mixed with real rows)
    write_export(generate_export(rows=300, seed=9), small)
    os.utime(small, (time.time() - 7200, time.time() - 7200))
    big = paths.inbox / big_export.name
    big.write_bytes(big_export.read_bytes())
    os.utime(big, (time.time() - 3600, time.time() - 3600))
    # The small file committed, the big one being written.
    with refresh_caught_writing(paths, f"SELECT (SELECT count(*) FROM load_batches) = 1 AND {WRITING_ROWS}") \
            as process:
        assert process.poll() is None, "the load finished before it could be stopped"
        process.send_signal(stop)
        process.wait(timeout=30)
    time.sleep(0.5)  # the server notices the closed connection and rolls back
    assert fetch("SELECT count(*) FROM load_batches") == [(1,)] and big.exists()
    assert [p.name for p in paths.processed.glob("*/*")] == [small.name]
    (committed,) = fetch("SELECT rows_new FROM load_batches")[0]
    # The run's row says what it had committed, the small file's lines, and that it was stopped
    # (SIGTERM, as `docker stop` sends it, stops it as Ctrl-C does).
    assert committed > 0
    assert fetch("SELECT status, files_loaded, files_rejected, rows_new FROM refresh_runs") == [
        ("interrupted", 1, 0, committed)]
    result = refresh.refresh(paths, progress=False, say=quiet, rebuild=Rebuilds())
    assert [f.file for f in result.files] == [big.name]
    assert fetch("SELECT status, files_loaded, rows_new > 0 FROM refresh_runs ORDER BY started_at") == [
        ("interrupted", 1, True), ("succeeded", 1, True)]


def test_a_failing_rebuild_keeps_the_old_report_and_is_logged_as_failed(database_url, paths, monkeypatch):
    from lgs_analytics.report import render as report

    paths.report.parent.mkdir(parents=True)
    paths.report.write_text("last week's report", encoding="utf-8")

    def dies(executed, parameters, progress=True):
        executed.write_text("{}", encoding="utf-8")  # papermill had written part of it
        raise report.ReportError("the notebook failed in cell 3: KeyError: 'x'")

    drop(paths, "w1.csv", [GOOD])
    with monkeypatch.context() as patched, pytest.raises(report.ReportError):
        patched.setattr(report, "execute_notebook", dies)
        refresh.refresh(paths, progress=False, say=quiet)
    assert paths.report.read_text(encoding="utf-8") == "last week's report"
    assert not paths.report.with_suffix(".ipynb").exists()
    assert fetch("SELECT status, detail FROM refresh_runs") == [
        ("failed", "the notebook failed in cell 3: KeyError: 'x'")]
    log = json.loads(paths.log_file.read_text().splitlines()[-1])
    assert log["status"] == "failed" and log["files"][0]["outcome"] == "loaded"
    # The file is loaded and moved; the next run sees the scores are stale and rebuilds.
    rebuilds = Rebuilds()
    assert refresh.refresh(paths, progress=False, say=quiet, rebuild=rebuilds).recomputed


@pytest.mark.parametrize(("text", "seconds"), [("7d", 604800), ("1w", 604800), ("12h", 43200),
                                               (" 30m ", 1800), ("90S", 90)])
def test_intervals(text, seconds):
    assert parse_interval(text) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["weekly", "7", "30s", "1.5d", "-1d", "", "0d", "0m", "-5m", "367d", "53w",
                                  "100000000d", "9999999h", "9" * 5000 + "d"])
def test_bad_intervals_say_what_to_write(text):
    with pytest.raises(ValueError, match="interval"):
        parse_interval(text)


def test_the_longest_interval_is_366_days():
    assert parse_interval("366d") == schedule.MAX_INTERVAL == dt.timedelta(days=366)
    with pytest.raises(ValueError, match="is over 366 days"):
        parse_interval("8785h")


@pytest.mark.parametrize(("text", "says"), [
    ("100000000d", "is over 366 days"), ("9999999h", "is over 366 days"), ("-1d", "is not positive"),
    ("0d", "is not positive")])
def test_an_interval_out_of_range_is_refused_in_one_line(capsys, text, says):
    with pytest.raises(SystemExit) as info:
        cli.main(["refresh", f"--every={text}"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and says in err and "Traceback" not in err
    assert err.splitlines()[-1].startswith("lgs refresh: error: argument --every: refresh interval")


def test_bad_interval_on_the_command_line_is_a_one_line_error(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["refresh", "--every", "weekly"])
    assert info.value.code == 2
    assert "use e.g. 7d, 1w, 12h or 30m" in capsys.readouterr().err


def test_the_schedule_runs_when_due_and_then_every_interval(database_url, paths):
    slept, said = [], []
    rebuilds = Rebuilds()
    drop(paths, "w1.csv", [GOOD])
    schedule.run_every(paths, dt.timedelta(days=7), say=said.append, sleep=slept.append, runs=2,
                      progress=False, rebuild=rebuilds)
    # First run at once (no run before); the second waits a week from the first's start.
    assert len(slept) == 1 and 7 * 86400 - 60 < slept[0] <= 7 * 86400
    assert any(s.startswith("next refresh at ") for s in said)
    assert fetch("SELECT count(*) FROM refresh_runs WHERE status = 'succeeded'") == [(2,)]
    # A restarted scheduler keeps the rhythm: the last run started just now, so it waits.
    assert 6 * 86400 < schedule.seconds_until_due(dt.timedelta(days=7)) <= 7 * 86400


def test_the_schedule_waits_for_a_database_that_is_down(paths, monkeypatch):
    said, slept = [], []
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    calls = []
    monkeypatch.setattr(schedule, "refresh", lambda *args, **kwargs: calls.append(1))
    real_seconds_until_due = schedule.seconds_until_due

    def down_twice(every):
        if len(slept) < 2:
            return real_seconds_until_due(every)  # fails: nothing listens on port 1
        return 0.0

    monkeypatch.setattr(schedule, "seconds_until_due", down_twice)
    schedule.run_every(paths, dt.timedelta(days=1), say=said.append, sleep=slept.append, runs=1)
    assert said[0].startswith("cannot read the schedule (cannot connect to Postgres")
    assert said[0].endswith("trying again in 60 s") and len(said) == 2
    assert slept == [schedule.RETRY_SECONDS, 2 * schedule.RETRY_SECONDS] and calls == [1]


class Stop(Exception):
    """Ends a scheduler under test at the end of the simulated time."""


class FakeTime:
    """A monotonic clock that only sleeping moves; stops the scheduler past ``horizon`` seconds."""

    def __init__(self, horizon: float = float("inf")) -> None:
        self.now, self.horizon, self.slept = 0.0, horizon, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if self.now + seconds > self.horizon:
            raise Stop
        self.slept.append(seconds)
        self.now += seconds


def test_the_schedule_survives_a_failing_run_and_backs_off(paths, monkeypatch):
    said, outcomes = [], iter("ffffffsf")  # fail six times, succeed, fail

    def sometimes(*_args, **_kwargs):
        if next(outcomes) == "f":
            raise db.DatabaseError("lost the connection to Postgres (server closed the connection); "
                                   "postgresql://lgs:hunter2@db/lgs")

    monkeypatch.setattr(schedule, "refresh", sometimes)
    monkeypatch.setattr(schedule, "seconds_until_due", lambda every: 0.0)  # the database: always due
    clock = FakeTime()
    schedule.run_every(paths, dt.timedelta(minutes=10), say=said.append, sleep=clock.sleep, clock=clock,
                      runs=8)
    # 60 s doubling, capped at the interval (10 min); after the success, the interval, then 60 s again.
    assert clock.slept == [60, 120, 240, 480, 600, 600, 600, 60]
    failed = [line for line in said if line.startswith("refresh failed")]
    assert len(failed) == 7 and len(said) == 8  # one line per failed attempt (and the wait's)
    assert failed[0] == ("refresh failed (attempt 1 in a row): lost the connection to Postgres (server "
                         "closed the connection); postgresql://lgs:***@db/lgs; trying again in 60 s")
    assert failed[-1].startswith("refresh failed (attempt 1 in a row)") and "hunter2" not in "".join(said)
    assert [schedule.retry_pause(n, dt.timedelta(days=7)) for n in (1, 2, 6, 7, 100)] == [
        60, 120, 1920, 3600, 3600]


def test_a_run_that_fails_before_it_is_recorded_backs_off_instead_of_spinning(database_url, paths,
                                                                              monkeypatch):
    # The database's disk is full: the run cannot even be recorded, so the schedule says "due" again.
    def disk_full(run_id):
        raise db.DatabaseError('could not extend file "base/5/16384": No space left on device')

    monkeypatch.setattr(refresh, "_start_run", disk_full)
    said, clock = [], FakeTime(horizon=86400)
    with pytest.raises(Stop):
        schedule.run_every(paths, dt.timedelta(days=7), say=said.append, sleep=clock.sleep, clock=clock,
                          runs=1000, progress=False, rebuild=Rebuilds())
    assert clock.slept[:7] == [60, 120, 240, 480, 960, 1920, 3600] and set(clock.slept[7:]) == {3600}
    attempts = len(clock.slept) + 1  # a day: 6 attempts in the first hour, then one an hour
    assert attempts == 29
    assert len(said) == attempts and all("No space left on device" in line for line in said)
    assert len(paths.log_file.read_text().splitlines()) == attempts  # one record per attempt


@pytest.mark.parametrize("hours", [2, -2])
def test_a_scheduler_clock_hours_off_the_databases_neither_spins_nor_starves(database_url, paths,
                                                                              monkeypatch, hours):
    real_now = refresh.utc_now
    for job in (refresh, schedule):  # the run's clock and the scheduler's: this host's, skewed
        monkeypatch.setattr(job, "utc_now", lambda: real_now() + dt.timedelta(hours=hours))
    clock = FakeTime(horizon=3 * 3600)
    with pytest.raises(Stop):
        schedule.run_every(paths, dt.timedelta(hours=1), say=quiet, sleep=clock.sleep, clock=clock,
                          runs=50, progress=False, rebuild=Rebuilds())
    # Three simulated hours of `--every 1h`: a run at 0, 1, 2 and 3 h, each wait about an hour.
    assert fetch("SELECT count(*) FILTER (WHERE status = 'succeeded') FROM refresh_runs") == [(4,)]
    assert len(clock.slept) == 3 and all(3500 < s <= 3600 for s in clock.slept)
    # A restarted scheduler (no run of its own to count from) reads the wait from the database alone.
    restarted = FakeTime()
    schedule.run_every(paths, dt.timedelta(hours=1), say=quiet, sleep=restarted.sleep, clock=restarted,
                      runs=1, progress=False, rebuild=Rebuilds())
    assert len(restarted.slept) == 1 and 3500 < restarted.slept[0] <= 3600


def test_a_file_the_database_refuses_is_rejected_and_the_next_still_loads(database_url, paths, monkeypatch):
    import psycopg2.errors

    from lgs_analytics.ingest import load as ingest

    real_load = ingest.load_path

    def refuse_one(path, progress=True):
        if path.name == "a_overflow.csv":  # as if a value passed validation but not Postgres
            raise psycopg2.errors.NumericValueOutOfRange("numeric field overflow")
        return real_load(path, progress=progress)

    monkeypatch.setattr(ingest, "load_path", refuse_one)
    drop(paths, "a_overflow.csv", [GOOD], age_seconds=2000)
    drop(paths, "b_good.csv", [GOOD], age_seconds=1000)
    result = refresh.refresh(paths, progress=False, say=quiet, rebuild=Rebuilds())
    assert [(f.file, f.outcome) for f in result.files] == [("a_overflow.csv", "rejected"),
                                                           ("b_good.csv", "loaded")]
    assert "could not be loaded (numeric field overflow)" in result.files[0].reason
    assert (paths.rejected / result.run_id / "a_overflow.csv.reason.txt").exists()


def test_a_lost_database_stops_the_run_and_leaves_the_file_for_the_next(database_url, paths, monkeypatch):
    import psycopg2

    from lgs_analytics.ingest import load as ingest

    def server_gone(path, progress=True):
        raise psycopg2.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(ingest, "load_path", server_gone)
    drop(paths, "w1.csv", [GOOD])
    with pytest.raises(psycopg2.OperationalError):
        refresh.refresh(paths, progress=False, say=quiet, rebuild=Rebuilds())
    assert (paths.inbox / "w1.csv").exists() and not any(paths.rejected.iterdir())
    assert fetch("SELECT status, detail FROM refresh_runs") == [
        ("failed", "server closed the connection unexpectedly")]


def test_classic_scores_in_use_are_refreshed_too(database_url, paths, monkeypatch, tmp_path):
    from lgs_analytics.jobs import build as build_job
    from lgs_analytics.report import render as report
    from lgs_analytics.results import BuildParameters

    write_export(generate_export(rows=20_000, seed=5), tmp_path / "export_synthetic.csv")
    load_path(tmp_path / "export_synthetic.csv", progress=False)
    first, _ = build_job.build(BuildParameters(("standard", "classic")))
    monkeypatch.setattr(report, "render", lambda out, parameters, progress=True: out)
    steps, notes = {}, []
    build_id = refresh.recompute(paths, method="standard", pseudonymise=False, progress=False, say=quiet,
                                 steps=steps, notes=notes)
    assert build_id > first and {"build", "report"} <= set(steps)
    assert fetch("SELECT method, min(build_id) FROM customer_rfm GROUP BY method ORDER BY method") == [
        ("classic", build_id), ("standard", build_id)]


def test_a_refresh_killed_while_writing_the_report_keeps_the_old_one_and_the_next_run_rebuilds(
        database_url, paths):
    paths.report.parent.mkdir(parents=True)
    paths.report.write_text("last week's report", encoding="utf-8")
    drop(paths, "w1.csv", [GOOD])
    pattern = f".{paths.report.stem}.*.executing.ipynb"  # each run's own working name
    process = subprocess.Popen([sys.executable, "-m", "lgs_analytics.cli", "refresh", "--inbox",
                                str(paths.inbox), "--out", str(paths.report), "--quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while (not any(paths.report.parent.glob(pattern)) and process.poll() is None
               and time.monotonic() < deadline):
            time.sleep(0.02)  # papermill has started the notebook
        assert process.poll() is None, "the refresh finished before it could be killed"
        os.killpg(process.pid, signal.SIGKILL)  # the command and its notebook kernel
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert paths.report.read_text(encoding="utf-8") == "last week's report"
    assert not paths.report.with_suffix(".ipynb").exists()
    # The file's load had committed, so it moved on; the run never finished.
    assert fetch("SELECT count(*) FROM transactions") == [(1,)]
    assert not (paths.inbox / "w1.csv").exists()
    assert fetch("SELECT status, recomputed FROM refresh_runs") == [("running", False)]
    rebuilds = Rebuilds()
    result = refresh.refresh(paths, progress=False, say=quiet, rebuild=rebuilds)
    assert result.files == [] and result.recomputed and rebuilds.calls == 1  # the scores were stale
    assert fetch("SELECT status FROM refresh_runs ORDER BY started_at") == [("interrupted",), ("succeeded",)]


def test_a_file_still_being_copied_waits_by_default(database_url, paths):
    """Every entry point waits SETTLE_SECONDS (300 s) by default: a copy in progress is never loaded."""
    drop(paths, "copying.csv", [GOOD], age_seconds=5)
    result = refresh.refresh(paths, progress=False, say=quiet, rebuild=Rebuilds())
    assert result.files == [] and result.waiting == ["copying.csv"]
    assert cli.build_parser().parse_args(["refresh"]).min_age == inbox.SETTLE_SECONDS == 300


def test_a_poison_file_of_any_kind_is_rejected_and_never_blocks_the_queue(database_url, paths, monkeypatch):
    import csv

    from lgs_analytics.ingest import load as ingest

    real_load = ingest.load_path

    def poison(path, progress=True):
        if path.name == "a_poison.csv":  # e.g. a header field over the csv module's limit
            raise csv.Error("field larger than field limit (131072)")
        return real_load(path, progress=progress)

    monkeypatch.setattr(ingest, "load_path", poison)
    drop(paths, "a_poison.csv", [GOOD], age_seconds=2000)
    drop(paths, "b_good.csv", [GOOD], age_seconds=1000)
    result = refresh.refresh(paths, progress=False, say=quiet, rebuild=Rebuilds())
    outcomes = [(f.file, f.outcome) for f in result.files]
    assert outcomes == [("a_poison.csv", "rejected"), ("b_good.csv", "loaded")]
    assert "field larger than field limit" in result.files[0].reason


def test_a_run_stopped_half_way_logs_the_files_it_had_loaded(database_url, paths, monkeypatch):
    import psycopg2

    from lgs_analytics.ingest import load as ingest

    real_load = ingest.load_path

    def gone_on_the_second(path, progress=True):
        if path.name == "b_second.csv":
            raise psycopg2.OperationalError("server closed the connection unexpectedly")
        return real_load(path, progress=progress)

    monkeypatch.setattr(ingest, "load_path", gone_on_the_second)
    drop(paths, "a_first.csv", [GOOD], age_seconds=2000)
    drop(paths, "b_second.csv", [GOOD[:3] + ["7"] + GOOD[4:]], age_seconds=1000)
    with pytest.raises(psycopg2.OperationalError):
        refresh.refresh(paths, progress=False, say=quiet, rebuild=Rebuilds())
    log = json.loads(paths.log_file.read_text().splitlines()[-1])
    assert log["status"] == "failed" and [f["file"] for f in log["files"]] == ["a_first.csv"]
    assert (paths.inbox / "b_second.csv").exists()
