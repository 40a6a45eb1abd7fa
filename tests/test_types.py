"""The type checker (pyproject.toml [tool.mypy]) passes, as `make lint` runs it: strict on analytics,
results and store, checking on the rest."""

from __future__ import annotations

import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STRICT = ["lgs_analytics.analytics.*", "lgs_analytics.results", "lgs_analytics.store.*"]
# Set for every module in [tool.mypy] itself (mypy allows no other place for the first).
GLOBAL_FLAGS = {"warn_redundant_casts", "warn_unused_ignores", "check_untyped_defs"}


def mypy_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]


def test_the_package_type_checks():
    clock = time.perf_counter()
    # The cache (.mypy_cache, as configured) makes a second run take seconds; a cold one about 35 s of CPU.
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout
    assert time.perf_counter() - clock < 240


def test_the_strict_modules_get_every_flag_of_mypy_strict():
    # `strict = true` in an override turns the flags on for every module (mypy 2.4), so the override
    # spells them out; mypy's own list of them, read here, keeps the spelling complete.
    from mypy.main import define_options

    _, _, assignments = define_options()
    config = mypy_config()
    strict = next(o for o in config["overrides"] if o["module"] == STRICT)
    for flag, value in assignments:
        where = config if flag in GLOBAL_FLAGS else strict
        assert where.get(flag) is value, f"{flag} = {str(value).lower()} missing for {STRICT}"


def test_nothing_strict_is_relaxed_and_untyped_libraries_are_named_one_by_one():
    config = mypy_config()
    assert "ignore_missing_imports" not in config  # never for every import at once
    for override in config["overrides"]:
        modules = override["module"]
        if override.get("ignore_missing_imports"):
            assert not any(m.startswith("lgs_analytics") for m in modules)
        if "disable_error_code" in override:  # never for a strict module
            assert not [m for m in modules if m.startswith(tuple(s.removesuffix("*") for s in STRICT))]
