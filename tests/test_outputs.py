"""Outputs go only to regular files or new paths, whole or not at all (lgs_analytics.outputs)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from lgs_analytics import cli, outputs


def test_a_new_path_and_a_regular_file_are_accepted(tmp_path):
    outputs.check_output(tmp_path / "new.csv")
    (tmp_path / "old.csv").write_text("x")
    outputs.check_output(tmp_path / "old.csv")


@pytest.mark.parametrize("make, says", [
    (lambda p: os.symlink("/dev/full", p), "is a symbolic link"),
    (lambda p: os.mkfifo(p), "is a named pipe"),
])
def test_a_link_or_a_pipe_is_refused(tmp_path, make, says):
    path = tmp_path / "out.html"
    make(path)
    with pytest.raises(ValueError, match=says):
        outputs.check_output(path)


def test_a_device_is_refused():
    with pytest.raises(ValueError, match="/dev/null: is a character device; lgs writes only to regular"):
        outputs.check_output(Path("/dev/null"))


def test_a_failed_write_leaves_the_old_file_and_no_working_file(tmp_path):
    path = tmp_path / "report.html"
    path.write_text("the old report")
    with pytest.raises(OSError), outputs.replacing(path) as partial:
        partial.write_text("half of a new")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert path.read_text() == "the old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


@pytest.mark.parametrize("argv", [
    ["generate", "--rows", "100", "--out", "{link}"],
    ["rfm", "--out", "{link}"],
    ["report", "--out", "{link}"],
    ["campaign", "--segment", "At Risk", "--out", "{link}"],
])
def test_every_out_refuses_a_link_before_any_work(tmp_path, capsys, argv):
    target = tmp_path / "elsewhere_synthetic.csv"
    target.write_text("precious")
    link = tmp_path / ("link_synthetic.csv" if argv[0] != "report" else "link.html")
    link.symlink_to(target)
    assert cli.main([a.format(link=link) for a in argv]) == 2
    err = capsys.readouterr().err
    assert "is a symbolic link" in err and err.count("\n") == 1
    assert target.read_text() == "precious" and link.is_symlink()


def test_a_full_disk_under_generate_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    import xlsxwriter
    import xlsxwriter.exceptions

    def full(self):
        raise xlsxwriter.exceptions.FileCreateError(OSError(errno.ENOSPC, "No space left on device"))

    monkeypatch.setattr(xlsxwriter.Workbook, "close", full)
    assert cli.main(["generate", "--rows", "200", "--out", str(tmp_path / "x_synthetic.xlsx")]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_every_csv_is_safe_to_open_in_a_spreadsheet(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"segment": ["=HYPERLINK(\"http://x\")", "Champions", "@SUM(1)"],
                          "monetary": [-12.5, 3.0, 0.0]})
    path = outputs.write_csv(frame, tmp_path / "scores.csv")
    assert path.read_bytes() == (b"segment,monetary\r\n\"'=HYPERLINK(\"\"http://x\"\")\",-12.5\r\n"
                                 b"Champions,3.0\r\n'@SUM(1),0.0\r\n")


@pytest.mark.parametrize("beside", ["report.ipynb", "report_campaigns"])
def test_a_report_never_replaces_a_link_beside_it(tmp_path, capsys, beside):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / beside).symlink_to(tmp_path / "elsewhere")
    assert cli.main(["report", "--out", str(tmp_path / "report.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ("symbolic link" in err or "is a link" in err)
    assert (tmp_path / beside).is_symlink()
