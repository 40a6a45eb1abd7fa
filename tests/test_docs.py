"""The documentation says what the code does.

- docs/data-contract.md describes every table and view the sql/ scripts create, and each of its
  column tables lists exactly the columns, with their types, of a database those scripts built: a
  column renamed in sql/ and not in the doc fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "docs" / "data-contract.md"

_CREATED = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:UNLOGGED\s+)?(TABLE|VIEW|FUNCTION)\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)",
    re.IGNORECASE | re.MULTILINE)
_SECTION = re.compile(r"^### `(\w+)`(?: \((?:view)\))?\s*$", re.MULTILINE)
_COLUMN_ROW = re.compile(r"^\|\s*`?(\w+)`?\s*\|\s*`?([^|`]+?)`?\s*\|.*\|\s*$")
_SAME_COLUMNS = re.compile(r"^Columns: as `(\w+)`\.\s*$", re.MULTILINE)

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
