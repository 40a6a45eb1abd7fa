"""`make lab`, the README's way into JupyterLab: it serves the notebook as root (containers, CI and many
servers run as root, where a plain `jupyter lab` exits asking for --allow-root) and as another user."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from lgs_analytics import config

NOTEBOOK = "notebooks/retail_analytics.ipynb"
TOKEN = "a-test-token-for-the-lab"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serves_the_notebook(prefix: list[str], env: dict, timeout: float = 90) -> tuple[bool, str]:
    """Start `make lab` (behind ``prefix``, e.g. runuser) and ask its contents API for the notebook."""
    port = _free_port()
    argv = [*prefix, "make", "--no-print-directory", "-C", str(config.project_root()), "lab",
            f"LAB_PORT={port}", f"LAB_ARGS=--no-browser --ServerApp.token={TOKEN}"]
    server = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    # JupyterLab opened on a notebook serves the notebook's folder: the notebook is at its top.
    url = f"http://127.0.0.1:{port}/api/contents/{Path(NOTEBOOK).name}?content=0"
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and server.poll() is None:
            try:
                request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
                with urllib.request.urlopen(request, timeout=5) as answer:
                    return json.load(answer)["name"] == "retail_analytics.ipynb", ""
            except OSError:
                time.sleep(0.5)
        return False, "" if server.poll() is None else server.stdout.read()[-2000:]
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def _home(tmp_path: Path, owner: str | None = None) -> dict:
    home = tmp_path / "home"
    home.mkdir()
    if owner:
        shutil.chown(home, owner)
    return {**os.environ, "HOME": str(home), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "JUPYTER_DATA_DIR": str(home / "data"), "IPYTHONDIR": str(home / "ipython")}


def test_make_lab_serves_the_notebook_as_the_current_user(tmp_path):
    served, output = _serves_the_notebook([], _home(tmp_path))
    assert served, output  # as root: with --allow-root, which `make lab` adds for uid 0


def test_make_lab_serves_the_notebook_as_a_non_root_user(tmp_path):
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root and runuser to switch to another user (the test above ran as this one)")
    prefix = ["runuser", "-u", "nobody", "--"]
    root = config.project_root()
    readable = subprocess.run([*prefix, str(root / ".venv" / "bin" / "python"), "-c",
                               f"open({str(root / NOTEBOOK)!r}).close()"], capture_output=True)
    if readable.returncode != 0:  # e.g. a clone in a private folder, or a Python under /root (here)
        # Then at least the command make would run for that user: JupyterLab without --allow-root.
        dry = subprocess.run([*prefix, "make", "--no-print-directory", "-n", "-C", str(root), "lab"],
                             capture_output=True, text=True)
        assert dry.returncode == 0 and "jupyter lab --ip 127.0.0.1" in dry.stdout, dry.stderr
        assert "--allow-root" not in dry.stdout
        pytest.skip("user nobody cannot run this checkout's Python (checked the command only): "
                    f"{readable.stderr.decode().strip().splitlines()[-1:]}")
    served, output = _serves_the_notebook(prefix, _home(tmp_path, owner="nobody"))
    assert served, output
