"""The layering contract (pyproject.toml, import-linter): the four wings import only what they may."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
WINGS = ("ingest", "store", "analytics", "report", "report.charts")


def contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
                          cwd=root, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(root / "src"), "PATH": "/usr/bin:/bin"})


def test_the_contract_is_kept():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(contracts())} kept, 0 broken" in done.stdout


def test_report_may_not_import_the_writer_nor_analytics_the_store():
    by_source = {tuple(c["source_modules"]): set(c["forbidden_modules"]) for c in contracts()}
    assert "lgs_analytics.store.publish" in by_source[("lgs_analytics.report",)]
    assert "lgs_analytics.store" in by_source[("lgs_analytics.analytics", "lgs_analytics.results")]


@pytest.mark.parametrize("module, forbidden", [
    ("report/sections.py", "from lgs_analytics.store import publish"),
    ("analytics/rfm.py", "from lgs_analytics.store import db"),
    ("ingest/load.py", "from lgs_analytics import synthetic"),  # the loader never imports the generator
    ("synthetic/model.py", "from lgs_analytics.ingest import load"),  # only the marker, ingest.formats
])
def test_the_contract_breaks_when_a_module_imports_what_it_must_not(tmp_path, module, forbidden):
    skip = shutil.ignore_patterns("*.egg-info", "__pycache__")
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=skip)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "src" / "lgs_analytics" / module
    target.write_text(target.read_text() + f"\n{forbidden}  # noqa\n")
    done = lint_imports(tmp_path)
    assert done.returncode != 0 and "BROKEN" in done.stdout, done.stdout


def test_every_wing_is_a_regular_package_so_a_plain_install_ships_it():
    from setuptools import find_packages

    found = set(find_packages(str(ROOT / "src")))
    assert {f"lgs_analytics.{w}" for w in WINGS} <= found
    assert "lgs_analytics.synthetic" in found  # `lgs generate` in a plain install
