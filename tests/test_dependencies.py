"""Dependencies declared = dependencies imported: requirements.txt (the runtime pins) names every
third-party distribution src/lgs_analytics imports, and nothing else but the few listed below."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "lgs_analytics"

# Pinned though nothing in the package imports them, and why.
NOT_IMPORTED = {
    "jupyterlab": "`make lab` runs its `jupyter lab` command on the notebook",
    "ipykernel": "the python3 kernel papermill starts to run the notebook (lgs report)",
    "nbclient": "papermill executes the notebook through it; pinned to a version papermill works with",
    "setuptools": "lifetimes.datasets (the CDNOW data the model tests use) imports pkg_resources",
}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def top_level_imports(root: Path) -> dict[str, set[str]]:
    """Top-level module name -> the files importing it, over every import statement (in functions
    too; relative ones left out)."""
    found: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(root)))
    return found


def imported_distributions() -> dict[str, set[str]]:
    """Distribution (normalized name) -> the files importing it, for every third-party import."""
    providers = importlib.metadata.packages_distributions()
    third_party: dict[str, set[str]] = {}
    unknown = []
    for module, files in top_level_imports(PACKAGE).items():
        if module in sys.stdlib_module_names or module == "lgs_analytics":
            continue
        if module not in providers:
            unknown.append(f"{module} ({', '.join(sorted(files))})")
        for dist in providers.get(module, []):
            third_party.setdefault(normalized(dist), set()).update(files)
    assert not unknown, f"imported but installed by no distribution: {unknown}"
    return third_party


def requirement_names(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(normalized(re.split(r"[\s\[<>=!~;]", line, maxsplit=1)[0]))
    return names


def declared() -> set[str]:
    return requirement_names((ROOT / "requirements.txt").read_text())


def test_every_imported_distribution_is_pinned():
    missing = {d: sorted(f) for d, f in imported_distributions().items() if d not in declared()}
    assert not missing, f"imported but not in requirements.txt: {missing}"


def test_every_pinned_distribution_is_imported_or_says_why_not():
    unused = declared() - set(imported_distributions()) - set(NOT_IMPORTED)
    assert not unused, f"in requirements.txt but imported nowhere in src/lgs_analytics: {sorted(unused)}"


def test_the_allow_list_is_current():
    allowed = set(NOT_IMPORTED)
    assert allowed <= declared(), sorted(allowed - declared())
    assert not allowed & set(imported_distributions()), "imported now: drop it from NOT_IMPORTED"


def test_every_pin_is_exact():
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", line), f"{name}: {line}"


def test_the_project_dependencies_are_the_imports():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = requirement_names("\n".join(project["dependencies"]))
    assert listed <= declared(), f"in pyproject.toml, not pinned: {sorted(listed - declared())}"
    imported = set(imported_distributions())
    assert imported <= listed, f"imported, not in pyproject.toml: {sorted(imported - listed)}"
    assert listed <= imported | set(NOT_IMPORTED), sorted(listed - imported - set(NOT_IMPORTED))


def test_an_import_inside_a_function_counts(tmp_path):
    (tmp_path / "m.py").write_text("def f():\n    import squarify\n    from a.b import c\n"
                                   "from . import sibling\n")
    assert set(top_level_imports(tmp_path)) == {"squarify", "a"}
