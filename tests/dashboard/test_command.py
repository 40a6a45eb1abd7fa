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
