"""PostgreSQL's COPY text format, as pg_dump writes a table's data: one line a row, fields separated
by tabs, ``\\N`` for NULL, and backslash escapes (``\\t``, ``\\n``, ``\\r``, ``\\\\``, ``\\b``,
``\\f``, ``\\v``, octal ``\\351``, hex ``\\xe9``; any other escaped character is itself).

Lines are split and columns picked with pyarrow, a block of lines at a time; only the rare value
holding an escape, and the rarer line whose split needs care, go through Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lgs_analytics.ingest.chunks import PERSONAL_LINE_WITHHELD, STAGING_COLUMNS, BadLine, staged_table

NULL = "\\N"
# A line the vectorised split cannot take: an escaped tab (backslash, then a real tab) is data, not
# a separator, and a line ending in a backslash runs on. COPY TO writes neither; Python reads them.
UNUSUAL_LINE = r"\\\t|\\$"
# One token of a COPY text line: an escape, a field separator, or a run of plain characters.
TOKEN = re.compile(r"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.))|(\t)|([^\\\t]+)", re.DOTALL)
SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
NOT_UTF8_ESCAPE = "an escaped byte sequence is not UTF-8 text"


@dataclass(frozen=True)
class Layout:
    """The fields of a COPY block's lines."""

    width: int  # fields per data line
    order: list[int]  # positions of the export's columns among the fields
    personal: tuple[str, ...]  # personal columns: never read, and a bad line's text withheld


def copy_rows(texts: list[str], first: int, layout: Layout) -> tuple[pa.Table, list[BadLine]]:
    """Data lines numbered from ``first`` as a staged table, and the lines that cannot be read."""
    lines = pa.array(texts, pa.string())
    numbers = np.arange(first, first + len(texts), dtype=np.int64)
    unusual = pc.match_substring_regex(lines, UNUSUAL_LINE).to_numpy(zero_copy_only=False)
    empty = pc.equal(lines, "").to_numpy(zero_copy_only=False)  # an empty line holds nothing, as in a CSV
    usual = ~unusual & ~empty
    table, bad = _usual_rows(lines.filter(pa.array(usual)), numbers[usual], layout)
    if unusual.any():
        extra, more_bad = _unusual_rows([(int(n), texts[n - first]) for n in numbers[unusual]], layout)
        table = pa.concat_tables([table, extra]).sort_by("source_row")
        bad += more_bad
    return table, sorted(bad, key=lambda b: b.source_row)


def _usual_rows(lines: pa.Array, numbers: np.ndarray, layout: Layout) -> tuple[pa.Table, list[BadLine]]:
    """Lines split at every tab (none is escaped), their values unescaped column by column."""
    fields = pc.split_pattern(lines, "\t")
    widths = pc.list_value_length(fields).to_numpy(zero_copy_only=False)
    fit = widths == layout.width
    bad = [_bad_line(layout, n, lines[int(i)].as_py(), f"line has {w} fields, expected {layout.width}")
           for i, n, w in zip(np.flatnonzero(~fit), numbers[~fit], widths[~fit], strict=True)]
    fields = fields.filter(pa.array(fit))
    columns, failed = zip(*(_column(pc.list_element(fields, i)) for i in layout.order), strict=True)
    undecodable = np.zeros(len(fields), dtype=bool)
    undecodable[sorted(set().union(*failed))] = True
    texts = lines.filter(pa.array(fit))
    bad += [_bad_line(layout, n, texts[int(i)].as_py(), NOT_UTF8_ESCAPE)
            for i, n in zip(np.flatnonzero(undecodable), numbers[fit][undecodable], strict=True)]
    keep = pa.array(~undecodable)
    return staged_table("", numbers[fit][~undecodable], [c.filter(keep) for c in columns]), bad


def _column(raw: pa.Array) -> tuple[pa.Array, set[int]]:
    """A column's text from its raw COPY fields (``\\N`` is NULL), and the rows it cannot decode."""
    is_null = pc.equal(raw, NULL)
    escaped = pc.and_(pc.match_substring(raw, "\\"), pc.invert(is_null))
    failed: set[int] = set()
    if pc.any(escaped).as_py():  # the rare value with an escape: unescaped in Python
        values = raw.to_pylist()
        for i in np.flatnonzero(escaped.to_numpy(zero_copy_only=False)):
            try:
                values[i] = unescape(values[i])
            except UnicodeDecodeError:
                failed.add(int(i))
        raw = pa.array(values, pa.string())
    return pc.if_else(is_null, pa.scalar(None, pa.string()), raw), failed


def _unusual_rows(lines: list[tuple[int, str]], layout: Layout) -> tuple[pa.Table, list[BadLine]]:
    """Lines with an escaped tab or a trailing backslash, split token by token in Python."""
    numbers, rows, bad = [], [], []
    for number, text in lines:
        fields, problem = _fields(text)
        if problem is None and len(fields) != layout.width:
            problem = f"line has {len(fields)} fields, expected {layout.width}"
        if problem is None:
            numbers.append(number)
            rows.append([fields[i] for i in layout.order])
        else:
            bad.append(_bad_line(layout, number, text, problem))
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(STAGING_COLUMNS[2:])
    return staged_table("", numbers, [list(c) for c in columns]), bad


def _bad_line(layout: Layout, number: int, text: str, reason: str) -> BadLine:
    # A line that cannot be split cannot be told apart from its personal fields: withhold it.
    return BadLine("", int(number), PERSONAL_LINE_WITHHELD if layout.personal else text[:2000], reason)


def _fields(text: str) -> tuple[list[str | None], str | None]:
    """(the fields of one COPY text line, None) or ([], why it cannot be read)."""
    if (len(text) - len(text.rstrip("\\"))) % 2:  # Postgres would join it to the next line
        return [], "line ends in a lone backslash (COPY never writes one)"
    fields: list[str | None] = []
    for raw in _split(text):
        try:
            fields.append(None if raw == NULL else unescape(raw))
        except UnicodeDecodeError:
            return [], NOT_UTF8_ESCAPE
    return fields, None


def _split(text: str) -> list[str]:
    """The raw fields of a line: tabs separate them, but an escaped tab (``\\`` + tab) is data."""
    fields, current = [], []
    for match in TOKEN.finditer(text):
        if match[4] is not None:
            fields.append("".join(current))
            current = []
        else:
            current.append(match[0])
    fields.append("".join(current))
    return fields


def unescape(raw: str) -> str:
    """A field's text: ``\\t`` a tab, ``\\351`` or ``\\xe9`` one byte (UTF-8 bytes combine), ``\\x`` x."""
    if "\\" not in raw:
        return raw
    out = bytearray()
    for match in TOKEN.finditer(raw):
        octal, hexa, char, _, plain = match.groups()
        if octal is not None:
            out.append(int(octal, 8) & 0xFF)  # Postgres keeps the low byte of \400-\777
        elif hexa is not None:
            out.append(int(hexa, 16))
        elif char is not None:
            out += SIMPLE_ESCAPES.get(char, char).encode()
        else:
            out += (plain if plain is not None else "\t").encode()
    return out.decode("utf-8")
