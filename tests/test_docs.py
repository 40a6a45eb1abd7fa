"""The documentation says what the code does.

- docs/data-contract.md describes every table and view the sql/ scripts create, and each of its
  column tables lists exactly the columns, with their types, of a database those scripts built: a
  column renamed in sql/ and not in the doc fails here.
- The README's layout map names every top-level folder git tracks and every package folder of
  src/lgs_analytics; its Docker section names every compose service and counts them right.
- The README stays a manual (at most 330 lines) and links only inside the repository; every
  relative link of the docs leads to a file that exists, and every #anchor to a heading there.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CONTRACT = ROOT / "docs" / "data-contract.md"
PACKAGE = ROOT / "src" / "lgs_analytics"
README_MAX_LINES = 330

_CREATED = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:UNLOGGED\s+)?(TABLE|VIEW|FUNCTION)\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)",
    re.IGNORECASE | re.MULTILINE)
_SECTION = re.compile(r"^### `(\w+)`(?: \((?:view)\))?\s*$", re.MULTILINE)
_COLUMN_ROW = re.compile(r"^\|\s*`?(\w+)`?\s*\|\s*`?([^|`]+?)`?\s*\|.*\|\s*$")
_SAME_COLUMNS = re.compile(r"^Columns: as `(\w+)`\.\s*$", re.MULTILINE)
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")

# How the doc may spell a type, and how PostgreSQL's format_type() spells it.
_TYPE_ALIASES = {"char": "character", "varchar": "character varying", "int": "integer", "bool": "boolean",
                 "timestamp": "timestamp without time zone", "timestamptz": "timestamp with time zone"}


def sql_objects() -> dict[str, set[str]]:
    """{"TABLE": names, "VIEW": names, "FUNCTION": names} created by the sql/ scripts."""
    found: dict[str, set[str]] = {"TABLE": set(), "VIEW": set(), "FUNCTION": set()}
    for path in sorted((ROOT / "sql").glob("*.sql")):
        for kind, name in _CREATED.findall(path.read_text(encoding="utf-8")):
            found[kind.upper()].add(name.lower())
    return found


def normal_type(spelled: str) -> str:
    spelled = re.sub(r"\s+", " ", spelled.strip().lower())
    match = re.fullmatch(r"([a-z ]+?)\s*(\(.*\))?(\[\])?", spelled)
    if not match:
        return spelled
    base, size, array = match.groups()
    return _TYPE_ALIASES.get(base, base) + (size or "").replace(" ", "") + (array or "")


def documented_relations(text: str) -> dict[str, dict[str, str] | str]:
    """Each `### \\`name\\`` section of the contract: {column: type} from its column table, or the name
    of the relation whose columns it shares ("Columns: as `builds`.")."""
    relations: dict[str, dict[str, str] | str] = {}
    heads = list(_SECTION.finditer(text))
    for head, following in zip(heads, [*heads[1:], None], strict=True):
        body = text[head.end():following.start() if following else len(text)]
        body = body.split("\n## ", 1)[0]  # a section ends at the next heading of either level
        same = _SAME_COLUMNS.search(body)
        if same:
            relations[head.group(1)] = same.group(1)
            continue
        columns: dict[str, str] = {}
        in_table = False
        for line in body.splitlines():
            if re.match(r"^\|\s*column\s*\|\s*type\s*\|", line):
                in_table = True
                continue
            if in_table and re.match(r"^\|[-| ]+\|\s*$", line):
                continue
            row = _COLUMN_ROW.match(line) if in_table else None
            if row:
                columns[row.group(1)] = normal_type(row.group(2))
            elif in_table:
                in_table = False
        relations[head.group(1)] = columns
    return relations


def test_the_parser_reads_a_column_table():
    text = ("### `t` (view)\n\nWords.\n\n| column | type | meaning |\n|---|---|---|\n"
            "| a | char(3) | x |\n| b_c | timestamptz | y, z |\n| d | text[] | |\n\n"
            "### `u`\n\nColumns: as `t`.\n\n## Next\n")
    assert documented_relations(text) == {
        "t": {"a": "character(3)", "b_c": "timestamp with time zone", "d": "text[]"}, "u": "t"}
    assert normal_type("numeric(10, 2)") == "numeric(10,2)"


def test_every_table_and_view_the_sql_creates_is_in_the_data_contract():
    documented = set(documented_relations(CONTRACT.read_text(encoding="utf-8")))
    created = sql_objects()
    missing = (created["TABLE"] | created["VIEW"]) - documented
    assert not missing, f"docs/data-contract.md has no section for {sorted(missing)}"


def test_the_data_contract_names_no_table_the_sql_does_not_create():
    created = sql_objects()
    documented = set(documented_relations(CONTRACT.read_text(encoding="utf-8")))
    extra = documented - created["TABLE"] - created["VIEW"] - {"lgs_schema"}  # lgs_schema: made by store.db
    assert not extra, f"docs/data-contract.md describes {sorted(extra)}, which sql/ never creates"


def test_every_function_the_sql_creates_is_in_the_data_contract():
    text = CONTRACT.read_text(encoding="utf-8")
    missing = {name for name in sql_objects()["FUNCTION"] if f"`{name}(" not in text}
    assert not missing, f"docs/data-contract.md does not name the functions {sorted(missing)}"


@pytest.fixture(scope="module")
def catalog(rules_db) -> dict[str, dict[str, str]]:
    """{relation: {column: type}} of every table and view in a database the sql/ scripts built."""
    from lgs_analytics.store import db

    with db.connect(rules_db) as conn, conn.cursor() as cur:
        cur.execute("""
            SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm')
              AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY c.relname, a.attnum""")
        relations: dict[str, dict[str, str]] = {}
        for relation, column, spelled in cur.fetchall():
            relations.setdefault(relation, {})[column] = normal_type(spelled)
    return relations


@pytest.mark.integration
def test_every_table_and_view_in_the_database_is_in_the_data_contract(catalog):
    missing = set(catalog) - set(documented_relations(CONTRACT.read_text(encoding="utf-8")))
    assert not missing, f"docs/data-contract.md has no section for {sorted(missing)}"


@pytest.mark.integration
def test_each_documented_column_table_is_exactly_the_databases(catalog):
    problems = []
    for relation, columns in documented_relations(CONTRACT.read_text(encoding="utf-8")).items():
        actual = catalog.get(relation)
        if actual is None:
            problems.append(f"{relation}: not in the database")
            continue
        expected = catalog.get(columns, {}) if isinstance(columns, str) else columns
        if isinstance(columns, str) and actual != expected:
            problems.append(f"{relation}: documented as having the columns of {columns}, but differs")
            continue
        if not expected:
            problems.append(f"{relation}: no column table in the doc")
            continue
        for name in sorted(set(expected) - set(actual)):
            problems.append(f"{relation}.{name}: in the doc, not in the database")
        for name in sorted(set(actual) - set(expected)):
            problems.append(f"{relation}.{name}: in the database ({actual[name]}), not in the doc")
        for name in sorted(set(actual) & set(expected)):
            if actual[name] != expected[name]:
                problems.append(f"{relation}.{name}: the doc says {expected[name]}, "
                                f"the database {actual[name]}")
    assert not problems, "docs/data-contract.md disagrees with sql/:\n" + "\n".join(problems)


def layout_map() -> str:
    """The code block of the README's "Layout" section."""
    section = README.read_text(encoding="utf-8").split("\n## Layout", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert blocks, "the README's Layout section has no code block"
    return "\n".join(blocks)


def tracked_top_level_folders() -> set[str]:
    try:
        files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                               check=True, timeout=30).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        pytest.skip("git is not available to list the tracked folders")
    return {name.split("/", 1)[0] for name in files if "/" in name}


def package_folders() -> set[str]:
    return {path.parent.name for path in PACKAGE.rglob("__init__.py") if path.parent != PACKAGE}


def named_in(text: str, folder: str) -> bool:
    return re.search(rf"(?<![\w.-]){re.escape(folder)}/", text) is not None


def test_the_layout_map_names_every_tracked_folder_and_every_package():
    text = layout_map()
    folders = tracked_top_level_folders() | package_folders() | {"lgs_analytics"}
    missing = sorted(folder for folder in folders if not named_in(text, folder))
    assert not missing, f"the README's layout map does not name {[f + '/' for f in missing]}"


def test_the_docker_section_names_and_counts_every_compose_service():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    section = README.read_text(encoding="utf-8").split("\n## Docker quick start", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^- `(\w+)`", section, re.MULTILINE)
    assert sorted(listed) == sorted(services)
    # `up` starts those without a profile (the others are named with theirs, e.g. `--profile live`).
    started = [name for name, service in services.items() if not service.get("profiles")]
    words = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven"}
    count = re.search(r"\b(\w+) services start\b", section, re.IGNORECASE)
    assert count and count.group(1).lower() in {words.get(len(started)), str(len(started))}
    for name, service in services.items():
        for profile in service.get("profiles", []):
            assert f"--profile {profile}" in section, f"README: how to start {name}"


def test_the_readme_stays_a_manual():
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, (f"README.md has {lines} lines (at most {README_MAX_LINES}): "
                                       "move reference detail to docs/ and figures to bench/README.md")


def slugs(markdown: str) -> set[str]:
    """GitHub's anchors of a page's headings."""
    found = set()
    for heading in re.findall(r"^#{1,6} +(.+?)\s*$", markdown, re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


def doc_pages() -> list[Path]:
    return [README, *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "bench").glob("*.md"))]


@pytest.mark.parametrize("page", doc_pages(), ids=lambda path: str(path.relative_to(ROOT)))
def test_links_lead_to_files_and_headings_that_exist(page):
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)  # code is not links
    problems = []
    for match in _LINK.finditer(text):
        target = match.group(1) or match.group(2)
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
            if page == README:
                problems.append(f"{target}: the README links only inside the repository")
            continue
        path_part, _, anchor = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        if not linked.is_relative_to(ROOT):
            problems.append(f"{target}: outside the repository")
        elif not linked.exists():
            problems.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in slugs(linked.read_text(encoding="utf-8")):
            problems.append(f"{target}: no such heading")
    assert not problems, f"{page.relative_to(ROOT)}:\n" + "\n".join(problems)
