"""Reading a plain-text pg_dump of the ``retail`` table: its ``COPY ... FROM stdin;`` block only.

LGS IT may hand over the export as ``pg_dump --table=retail [--data-only]``. The dump is SQL, but
none of it is ever executed: the reader looks for the line ``COPY [schema.]retail (columns...)
FROM stdin;`` and reads the data lines after it up to the line ``\\.``, in PostgreSQL's COPY text
format (fields separated by tabs, ``\\N`` for NULL, backslash escapes such as ``\\t``, ``\\n``,
``\\\\`` and octal ``\\351``). Everything else in the file (SET, CREATE TABLE, other tables' data,
ALTER, GRANT...) is skipped. Line numbers are the dump file's, so the quarantine points at the
line. A dump without such a block is refused in one line that says what to export instead.

The data lines are read a block (8 MiB) at a time and decoded by copytext.py; they are held to the
bounds of every reader (chunks.py): a line over 1 MiB, a stretch of mostly blank lines or a long run
of them is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow.compute as pc

from lgs_analytics.ingest.chunks import (
    LINE_MAX_BYTES,
    BlankRuns,
    Chunk,
    check_line_density,
    empty_rows,
    long_line,
)
from lgs_analytics.ingest.columns import check_header, column_order
from lgs_analytics.ingest.copytext import Layout, copy_rows
from lgs_analytics.ingest.formats import DUMP_ADVICE, DUMP_COMMAND, PG_CUSTOM_MAGIC, ExportError, Source

TABLE = "retail"
READ_BYTES = 8 << 20  # as the CSV reader: a chunk of rows per block, memory flat
IDENTIFIER = r'"(?:[^"]|"")+"|[^\s."(),]+'
COPY_LINE = re.compile(rf"COPY\s+(?:(?P<schema>{IDENTIFIER})\.)?(?P<table>{IDENTIFIER})\s*"
                       r"(?:\((?P<columns>.*)\))?\s*FROM\s+stdin\s*;\s*", re.IGNORECASE)
INSERT_LINE = re.compile(rf"INSERT\s+INTO\s+(?:(?:{IDENTIFIER})\.)?(?P<table>{IDENTIFIER})[\s(]",
                         re.IGNORECASE)
ENCODING_LINE = re.compile(r"SET\s+client_encoding\s*=\s*'(?P<name>[^']*)'", re.IGNORECASE)
UTF8_ENCODINGS = {"UTF8", "UTF-8", "UNICODE", "SQL_ASCII"}  # SQL_ASCII: bytes as stored, read as UTF-8
END_OF_DATA = "\\."


@dataclass(frozen=True)
class _Block:
    """The COPY block being read: where it starts, and the layout of its data lines."""

    line: int
    name: str  # as written, e.g. public.retail
    layout: Layout


def read_dump(source: Source) -> Iterator[Chunk]:
    """Yield the rows of the dump's COPY block of ``retail`` as text chunks (see the module)."""
    with source.reading(), source.open() as (stream, position):
        lines = _Lines(stream, source)
        block = _find_block(lines, source)
        yield from _read_block(block, lines, source, position)
        _refuse_a_second_block(lines, source, block)


class _Lines:
    """The dump's lines a block at a time: (number of the first, texts without line breaks).

    Blocks end at a line break, so a UTF-8 character is never cut; what a step leaves of a block
    is handed back (``give_back``) for the next step to start with.
    """

    def __init__(self, stream, source: Source) -> None:
        self._stream, self._source = stream, source
        self._number, self._rest, self._back = 1, b"", None
        self._first = True
        self._offset = 0  # bytes read so far

    def next(self) -> tuple[int, list[str]] | None:
        """The next block of whole lines (what was handed back first); None at the end of the file."""
        if self._back is not None:
            back, self._back = self._back, None
            return back
        while True:
            block = self._stream.read(READ_BYTES)
            if self._first and block.startswith(PG_CUSTOM_MAGIC):
                raise ExportError(f"{self._source.where}: a pg_dump archive in custom format, not a plain "
                                  f"SQL dump; {DUMP_ADVICE}")
            self._first = False
            check_line_density(block, self._source.where, self._offset)
            self._offset += len(block)
            data = self._rest + block
            cut = data.rfind(b"\n") + 1 if block else len(data)  # the last line may lack its break
            if not data:
                return None
            if cut == 0:
                if len(data) > LINE_MAX_BYTES:
                    raise ExportError(f"{self._source.where}: {long_line(f'line {self._number}')}")
                self._rest = data
                continue
            self._rest = data[cut:]
            return self._decode(data[:cut])

    def give_back(self, number: int, lines: list[str]) -> None:
        """Hand back the unread rest of a block (its first line's number, its lines)."""
        if lines:
            self._back = (number, lines)

    def _decode(self, data: bytes) -> tuple[int, list[str]]:
        """Whole lines as text, numbered on from the last block; a byte that is not UTF-8 is refused."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = self._number + data.count(b"\n", 0, exc.start)
            raise ExportError(f"{self._source.where}: not UTF-8 text (byte 0x{data[exc.start]:02x} in line "
                              f"{line}); dump it again with --encoding=UTF8") from None
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
        if "\r" in text:  # a CRLF file (a CR in data is always escaped, as \r)
            lines = [t[:-1] if t.endswith("\r") else t for t in lines]
        first, self._number = self._number, self._number + len(lines)
        if len(data) > LINE_MAX_BYTES:  # a line may be that long: the longest (in characters) first
            longest = max(range(len(lines)), key=lambda i: len(lines[i]))
            if len(lines[longest]) * 4 > LINE_MAX_BYTES:
                for i, line in enumerate(lines):
                    if len(line) * 4 > LINE_MAX_BYTES and len(line.encode()) > LINE_MAX_BYTES:
                        raise ExportError(f"{self._source.where}: {long_line(f'line {first + i}')}")
        return first, lines


def _find_block(lines: _Lines, source: Source) -> _Block:
    """Skip to the COPY block of ``retail`` (over other tables' data); refuse a dump without one."""
    others: list[str] = []
    inserts = False
    while (item := lines.next()) is not None:
        start, texts = item
        for i, text in enumerate(texts):
            if text[:1] not in "SCIsci":  # neither SET, COPY nor INSERT: a comment, CREATE, data...
                continue
            if encoding := ENCODING_LINE.match(text):
                _check_encoding(encoding["name"], source)
            elif copy := COPY_LINE.fullmatch(text):
                lines.give_back(start + i + 1, texts[i + 1:])
                if _name(copy["table"]) == TABLE:
                    return _block(copy, start + i, source)
                others.append(_written(copy))
                _skip_data(lines, source, _written(copy), start + i)
                break
            elif (insert := INSERT_LINE.match(text)) and _name(insert["table"]) == TABLE:
                inserts = True
    if inserts:
        raise ExportError(f"{source.where}: the dump holds the {TABLE} rows as INSERT statements, which "
                          f"are never run; dump them as COPY data (without --inserts): {DUMP_COMMAND}")
    held = ""
    if others:
        held = f" (only the data of {', '.join(others[:5])}{' ...' if len(others) > 5 else ''})"
    raise ExportError(f"{source.where}: no COPY data of table {TABLE}{held}, so it is no dump of the LGS "
                      f"export; {DUMP_ADVICE}")


def _check_encoding(name: str, source: Source) -> None:
    if name.upper() not in UTF8_ENCODINGS:
        raise ExportError(f"{source.where}: the dump is in the {name} encoding; dump it again with "
                          "--encoding=UTF8")


def _name(identifier: str) -> str:
    """An SQL identifier as Postgres resolves it: quoted as written, unquoted in lower case."""
    if identifier.startswith('"'):
        return identifier[1:-1].replace('""', '"')
    return identifier.lower()


def _written(copy: re.Match) -> str:
    return f"{copy['schema']}.{copy['table']}" if copy["schema"] else copy["table"]


def _block(copy: re.Match, number: int, source: Source) -> _Block:
    """The COPY block's columns, checked as a header is (any spelling; personal ones left unread)."""
    where = f"{source.where} (COPY {_written(copy)} at line {number})"
    if copy["columns"] is None:
        raise ExportError(f"{where}: the COPY names no columns, so they cannot be told apart; "
                          f"{DUMP_ADVICE}")
    columns = [_name(c) for c in re.findall(IDENTIFIER, copy["columns"])]
    personal = check_header(columns, where)
    return _Block(number, _written(copy), Layout(len(columns), column_order(columns), personal))


def _data_lines(lines: _Lines, source: Source, name: str, start: int) -> Iterator[tuple[int, list[str]]]:
    """The data lines of the COPY block at line ``start``, a block at a time, up to its ``\\.`` line."""
    while (item := lines.next()) is not None:
        first, texts = item
        try:
            end = texts.index(END_OF_DATA)  # a data line is never "\." (COPY escapes the backslash)
        except ValueError:
            yield first, texts
            continue
        yield first, texts[:end]
        lines.give_back(first + end + 1, texts[end + 1:])
        return
    raise ExportError(f"{source.where}: the dump ends inside the data of {name} (COPY at line {start}, "
                      "no closing \\. line): it is cut short; dump it again")


def _skip_data(lines: _Lines, source: Source, name: str, start: int) -> None:
    """Read past another table's data (its lines are data, whatever they look like)."""
    for _ in _data_lines(lines, source, name, start):
        pass


def _read_block(block: _Block, lines: _Lines, source: Source, position) -> Iterator[Chunk]:
    """The block's data lines as chunks of text rows; lines that cannot be split are BadLines."""
    blanks = BlankRuns(source.where)
    for first, texts in _data_lines(lines, source, block.name, block.line):
        table, bad = copy_rows(texts, first, block.layout)
        # Runs of blank lines: empty lines (which copy_rows drops) and rows of empty fields.
        blank = (np.fromiter((not t for t in texts), dtype=bool, count=len(texts)) if "" in texts
                 else np.zeros(len(texts), dtype=bool))
        empty = empty_rows(table)
        if empty is not None:
            blank[table.filter(empty).column("source_row").to_numpy() - first] = True
            table = table.filter(pc.invert(empty))
        blanks.add(blank, np.arange(first, first + len(texts)))
        # A table has no row order: its dump is one export, never stacked exports told apart by date.
        yield Chunk("", table, position(), bad, block.layout.personal, one_export=True)


def _refuse_a_second_block(lines: _Lines, source: Source, first: _Block) -> None:
    """A dump with two retail tables (two schemas) is ambiguous: refuse it rather than guess."""
    while (item := lines.next()) is not None:
        start, texts = item
        for i, text in enumerate(texts):
            copy = COPY_LINE.fullmatch(text) if text[:1] in "Cc" else None
            if copy and _name(copy["table"]) == TABLE:
                raise ExportError(f"{source.where}: the dump holds two {TABLE} tables ({first.name} at line "
                                  f"{first.line}, {_written(copy)} at line {start + i}); dump one: "
                                  f"pg_dump --data-only --table=SCHEMA.{TABLE}")
            if copy:
                lines.give_back(start + i + 1, texts[i + 1:])
                _skip_data(lines, source, _written(copy), start + i)
                break
