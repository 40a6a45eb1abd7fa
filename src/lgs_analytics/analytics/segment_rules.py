"""Segment rules as configuration: read and check a ``segments.toml`` (the format is documented in
the default file beside this module, ``segments.toml``, and in docs/segments.md).

:func:`parse_rules` turns the text of a rules file into :class:`SegmentRules`, or refuses it with ONE
line naming what is wrong (:class:`SegmentRulesError`): malformed TOML, an unknown key, a missing or
duplicate name, an unknown kind, a bad range, a missing description or action, and above all a map
that leaves an R x F cell in no segment or puts one in two. Pure: text in, rules out; reading the
file is :func:`read_rules`'s, choosing it (``LGS_SEGMENTS``) :func:`active_rules`'s.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from lgs_analytics.config import ENV_SEGMENTS

SCORES = range(1, 6)
# The 25 R x F cells as codes, R first: "11", "12", ... "55".
CELLS: tuple[str, ...] = tuple(f"{r}{f}" for r in SCORES for f in SCORES)
WIN_BACK = "win back"
KEEP_AND_GROW = "keep and grow"
KINDS = (WIN_BACK, KEEP_AND_GROW)
SEGMENT_KEYS = ("name", "kind", "r", "f", "cells", "description", "action")
DEFAULT_SOURCE = "default"
DEFAULT_FILE = "segments.toml"


class SegmentRulesError(ValueError):
    """A rules file that cannot be used, in one line naming the file and what is wrong."""


@dataclass(frozen=True)
class Segment:
    """One segment: its name, kind (win back / keep and grow), R x F cells (sorted codes) and the
    sentence that describes it and the one that says what to do."""

    name: str
    kind: str
    cells: tuple[str, ...]
    description: str
    action: str

    @property
    def pattern(self) -> str:
        """An anchored regular expression matching exactly its cells: ``^[1-2][3-4]$`` for a block
        of contiguous scores, else the codes listed, ``^(?:11|34)$``."""
        rs, fs = sorted({c[0] for c in self.cells}), sorted({c[1] for c in self.cells})
        block = [r + f for r in rs for f in fs]
        contiguous = all(int(s[-1]) - int(s[0]) == len(s) - 1 for s in (rs, fs))
        if list(self.cells) == block and contiguous:
            return "^" + "".join(s[0] if len(s) == 1 else f"[{s[0]}-{s[-1]}]" for s in (rs, fs)) + "$"
        return f"^(?:{'|'.join(self.cells)})$"

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "cells": list(self.cells),
                "description": self.description, "action": self.action}


@dataclass(frozen=True)
class SegmentRules:
    """The segments in their order (most to least valuable: the tie-break of every ranking), and
    where they were read from (``source``: "default" or the file's path; not part of the digest)."""

    segments: tuple[Segment, ...]
    source: str = DEFAULT_SOURCE

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.segments)

    @property
    def win_back(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.segments if s.kind == WIN_BACK)

    @property
    def lookup(self) -> dict[str, str]:
        """R x F code -> segment name, for all 25 codes."""
        return {cell: s.name for s in self.segments for cell in s.cells}

    @property
    def patterns(self) -> dict[str, str]:
        """Anchored pattern -> segment name (the form of the former ``SEGMENT_MAP``)."""
        return {s.pattern: s.name for s in self.segments}

    @property
    def label(self) -> str:
        """How the report names the rules: "default", or the file's name, with a short digest."""
        shown = self.source if self.source == DEFAULT_SOURCE else Path(self.source).name
        return f"{shown} ({self.digest[:12]})"

    def canonical(self) -> list[dict[str, Any]]:
        """What the rules mean, independent of how the file spells them (a block or listed cells,
        comments, spacing): the digest's input and what a build records."""
        return [s.as_json() for s in self.segments]

    @property
    def digest(self) -> str:
        """sha256 of the canonical form: two files with the same meaning have the same digest."""
        text = json.dumps(self.canonical(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def as_json(self) -> dict[str, Any]:
        """The record a build keeps (``builds.parameters.segment_rules``)."""
        return {"source": self.source, "digest": self.digest, "segments": self.canonical()}


def _fail(source: str, message: str) -> SegmentRulesError:
    return SegmentRulesError(f"segment rules {source}: {message}")


def _scores(source: str, where: str, key: str, value: Any) -> tuple[int, int]:
    """An ``r`` or ``f`` value as (low, high): one score, or an inclusive [low, high] range, 1-5."""
    bounds = [value] if not isinstance(value, list) else value
    if not 1 <= len(bounds) <= 2 or not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds):
        raise _fail(source, f"{where}: {key} = {json.dumps(value)} is not a score or a [low, high] range of "
                            f"whole numbers; write e.g. {key} = 3 or {key} = [1, 2]")
    low, high = bounds[0], bounds[-1]
    if not (1 <= low <= 5 and 1 <= high <= 5):
        raise _fail(source, f"{where}: {key} = {json.dumps(value)} is outside the scores 1-5")
    if low > high:
        raise _fail(source, f"{where}: {key} = {json.dumps(value)} runs backwards; write [{high}, {low}]")
    return low, high


def _listed_cells(source: str, where: str, value: Any) -> list[str]:
    """``cells``: a list of "RF" codes (strings, or whole numbers such as 34), each of scores 1-5."""
    if not isinstance(value, list) or not value:
        raise _fail(source, f"{where}: cells must be a list of R x F codes such as [\"34\", \"35\"]")
    codes = [str(v) if isinstance(v, (str, int)) and not isinstance(v, bool) else "" for v in value]
    bad = [json.dumps(v) for v, c in zip(value, codes, strict=True) if c not in CELLS]
    if bad:
        raise _fail(source, f"{where}: cells {', '.join(bad)} are not R x F codes; each is two scores "
                            "1-5, recency first, e.g. \"34\"")
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise _fail(source, f"{where}: cells {', '.join(twice)} are listed twice")
    return codes


def _text(source: str, where: str, table: dict[str, Any], key: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(source, f"{where} has no {key}; give it {key} = \"...\" (one sentence)")
    return value.strip()


def _segment(source: str, number: int, table: Any) -> Segment:
    where = f"segment {number}"
    if not isinstance(table, dict):
        raise _fail(source, f"{where} is not a table; write each segment as a [[segment]] table")
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _fail(source, f"{where} has no name; give it name = \"...\"")
    name = name.strip()
    where = f"segment '{name}'"
    unknown = [k for k in table if k not in SEGMENT_KEYS]
    if unknown:
        raise _fail(source, f"{where}: unknown key {', '.join(repr(k) for k in unknown)} (a segment has "
                            f"{', '.join(SEGMENT_KEYS)})")
    kind = table.get("kind")
    if kind not in KINDS:
        raise _fail(source, f"{where}: kind = {json.dumps(kind) if kind is not None else 'missing'}; "
                            f"give kind = \"{WIN_BACK}\" or kind = \"{KEEP_AND_GROW}\"")
    if ("r" in table) != ("f" in table):
        raise _fail(source, f"{where}: give both r and f (a block of cells), or list them with cells")
    if "r" not in table and "cells" not in table:
        raise _fail(source, f"{where} has no cells; give r and f (e.g. r = [1, 2], f = [3, 4]) or cells")
    cells: list[str] = []
    if "r" in table:
        (r_low, r_high), (f_low, f_high) = (_scores(source, where, "r", table["r"]),
                                            _scores(source, where, "f", table["f"]))
        cells = [f"{r}{f}" for r in range(r_low, r_high + 1) for f in range(f_low, f_high + 1)]
    listed = _listed_cells(source, where, table["cells"]) if "cells" in table else []
    both = sorted(set(cells) & set(listed))
    if both:
        raise _fail(source, f"{where}: cells {', '.join(both)} are both in its r x f block and in its cells")
    return Segment(name, str(kind), tuple(sorted(cells + listed)), _text(source, where, table, "description"),
                   _text(source, where, table, "action"))


def _check_map(source: str, segments: list[Segment]) -> None:
    """Every one of the 25 cells in exactly one segment, and no name twice."""
    names = [s.name for s in segments]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise _fail(source, f"segment names {', '.join(repr(n) for n in twice)} are used twice; "
                            "give each segment its own name")
    owners: dict[str, list[str]] = {cell: [] for cell in CELLS}
    for s in segments:
        for cell in s.cells:
            owners[cell].append(s.name)
    shared = [f"cell {cell} is in both {' and '.join(who)}" for cell, who in owners.items() if len(who) > 1]
    if shared:
        raise _fail(source, "; ".join(shared) + ": put each cell in one segment")
    missing = [cell for cell, who in owners.items() if not who]
    if missing:
        raise _fail(source, f"{'cells' if len(missing) > 1 else 'cell'} {', '.join(missing)} "
                            f"{'are' if len(missing) > 1 else 'is'} in no segment: every one of the 25 "
                            "R x F cells (11 to 55) needs one")


def rules_from_data(data: dict[str, Any], source: str = DEFAULT_SOURCE) -> SegmentRules:
    """Rules from the parsed TOML (or a build's recorded ``segments`` list): checked, or refused in
    one line (:class:`SegmentRulesError`)."""
    unknown = [k for k in data if k != "segment"]
    if unknown:
        raise _fail(source, f"unknown key {', '.join(repr(k) for k in unknown)} at the top; the file holds "
                            "only [[segment]] tables")
    tables = data.get("segment")
    if not isinstance(tables, list) or not tables:
        raise _fail(source, "no [[segment]] tables; copy the default segments.toml and edit it")
    segments = [_segment(source, number, table) for number, table in enumerate(tables, start=1)]
    _check_map(source, segments)
    return SegmentRules(tuple(segments), source)


def parse_rules(text: str, source: str = DEFAULT_SOURCE) -> SegmentRules:
    """The rules in the text of a ``segments.toml``; ``source`` names it in every refusal."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _fail(source, f"not valid TOML: {str(exc).splitlines()[0]}") from None
    return rules_from_data(data, source)


def rules_from_json(record: dict[str, Any]) -> SegmentRules:
    """The rules a build recorded (:meth:`SegmentRules.as_json`), checked again."""
    listed = [{"name": s["name"], "kind": s["kind"], "cells": s["cells"], "description": s["description"],
               "action": s["action"]} for s in record.get("segments", [])]
    rules = rules_from_data({"segment": listed}, str(record.get("source", DEFAULT_SOURCE)))
    return rules


def read_rules(path: Path) -> SegmentRules:
    """The rules in the file at ``path``, or a one-line refusal (also when it cannot be read)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _fail(str(path), "no such file; give the path of a segments.toml") from None
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise _fail(str(path), f"cannot be read ({why})") from None
    return parse_rules(text, str(path))


@cache
def default_rules() -> SegmentRules:
    """The rules shipped with the package (``segments.toml`` beside this module): today's map."""
    text = resources.files("lgs_analytics.analytics").joinpath(DEFAULT_FILE).read_text(encoding="utf-8")
    return parse_rules(text, DEFAULT_SOURCE)


_read: dict[tuple[str, int, int], SegmentRules] = {}


def active_rules() -> SegmentRules:
    """The rules in force: the file ``LGS_SEGMENTS`` names (in the environment or ``.env``; `lgs
    ... --segments FILE` sets it), else the default. Read again whenever the file changes; a bad file
    is refused in one line (:class:`SegmentRulesError`). Needs no pandas: the CLI checks the rules
    before a command's work (a refresh with nothing to do imports no pandas)."""
    name = os.environ.get(ENV_SEGMENTS, "").strip()
    if not name:
        return default_rules()
    path = Path(name).expanduser()
    try:
        stat = path.stat()
    except OSError:
        return read_rules(path)  # refuses it in one line
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _read:
        _read.clear()
        _read[key] = read_rules(path)
    return _read[key]


__all__ = ["CELLS", "KEEP_AND_GROW", "KINDS", "WIN_BACK", "Segment", "SegmentRules", "SegmentRulesError",
           "active_rules", "default_rules", "parse_rules", "read_rules", "rules_from_data", "rules_from_json"]
