"""`lgs dashboard` refuses in one line before serving anything, and `lgs --help` never loads Panel."""

from __future__ import annotations

import subprocess
import sys

from lgs_analytics import cli


def test_a_bind_beyond_loopback_without_a_password_is_one_line_and_exit_2(monkeypatch, capsys):
    monkeypatch.delenv("LGS_DASHBOARD_PASSWORD", raising=False)
    monkeypatch.setattr("lgs_analytics.config.load_env_file", lambda: None)  # not the checkout's .env
    assert cli.main(["dashboard", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("lgs: error: --host 0.0.0.0 would serve customer data")


def test_the_placeholder_password_is_refused(monkeypatch, capsys):
    monkeypatch.setenv("LGS_DASHBOARD_PASSWORD", "change-me-dashboard-password")
    monkeypatch.setattr("lgs_analytics.config.load_env_file", lambda: None)
    assert cli.main(["dashboard", "--host", "0.0.0.0", "--port", "8050"]) == 2
    assert "placeholder" in capsys.readouterr().err


def test_the_cli_imports_no_panel():
    done = subprocess.run([sys.executable, "-c", "import sys, lgs_analytics.cli as c; c.build_parser(); "
                                                 "print('panel' in sys.modules, 'bokeh' in sys.modules)"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


class Unpublished:
    """A board source with nothing published for its first ``empty`` reads."""

    def __init__(self, empty: int):
        self.empty, self.reads = empty, 0

    def get(self):
        from lgs_analytics.jobs.page import NOTHING_PUBLISHED, NothingPublished

        self.reads += 1
        if self.reads <= self.empty:
            raise NothingPublished(NOTHING_PUBLISHED)
        return "the board"


def test_with_nothing_published_the_dashboard_refuses_or_with_wait_waits_for_the_first_build():
    import pytest

    from lgs_analytics.dashboard.serve import WAIT_SECONDS, first_board
    from lgs_analytics.jobs.page import NothingPublished

    with pytest.raises(NothingPublished):
        first_board(Unpublished(1), wait=False, say=print, sleep=lambda s: None)
    said, slept = [], []
    assert first_board(Unpublished(3), wait=True, say=said.append, sleep=slept.append) == "the board"
    assert slept == [WAIT_SECONDS] * 3
    assert len(said) == 1 and said[0].startswith("waiting for the first build (nothing is published yet")
