"""Binary COPY data written from arrow columns: checked byte by byte, and read back by Postgres."""

from __future__ import annotations

import uuid

import pyarrow as pa
import pytest

from lgs_analytics.store import copybinary, db


def test_one_row_is_spelled_as_the_binary_copy_format_says():
    table = pa.table({"n": pa.array([7], pa.int32()), "big": pa.array([-2], pa.int64()),
                      "text": pa.array(["é"]), "id": pa.array([bytes(range(16))], pa.binary(16))})
    expected = (copybinary.HEADER + b"\x00\x04"                      # 4 fields in the row
                + b"\x00\x00\x00\x04" + b"\x00\x00\x00\x07"          # int32 7
                + b"\x00\x00\x00\x08" + b"\xff" * 7 + b"\xfe"        # int64 -2
                + b"\x00\x00\x00\x02" + "é".encode()                 # text: its utf-8 bytes
                + b"\x00\x00\x00\x10" + bytes(range(16))             # uuid: 16 bytes
                + copybinary.TRAILER)
    assert copybinary.encode(table) == expected


def test_nulls_are_length_minus_one_and_no_bytes():
    table = pa.table({"n": pa.array([None], pa.int32()), "text": pa.array([None], pa.string())})
    assert copybinary.encode(table) == (copybinary.HEADER + b"\x00\x02" + b"\xff\xff\xff\xff" * 2
                                        + copybinary.TRAILER)


def test_an_empty_table_is_a_header_and_a_trailer():
    empty = pa.table({"n": pa.array([], pa.int32())})
    assert copybinary.encode(empty) == copybinary.HEADER + copybinary.TRAILER


def test_a_slice_encodes_only_its_own_rows():
    table = pa.table({"n": pa.array([1, 2, 3], pa.int32()), "text": ["a", "bb", "ccc"],
                      "id": pa.array([bytes([i]) * 16 for i in range(3)], pa.binary(16))})
    second = pa.table({"n": pa.array([2], pa.int32()), "text": ["bb"],
                       "id": pa.array([b"\x01" * 16], pa.binary(16))})
    assert copybinary.encode(table.slice(1, 1)) == copybinary.encode(second)


def test_an_unsupported_type_is_refused_by_name():
    with pytest.raises(TypeError, match="double"):
        copybinary.encode(pa.table({"x": pa.array([1.5])}))


@pytest.mark.integration
def test_postgres_reads_back_every_value(database_url):
    ids = [uuid.uuid4().bytes for _ in range(4)]
    texts = ["plain", "tab\tnew\nline \\ back\"slash, comma", None, "ünïcödé ☃"]
    table = pa.table({"n": pa.array([0, -1, None, 2**31 - 1], pa.int32()),
                      "big": pa.array([2**40, None, -(2**63), 5], pa.int64()),
                      "text": pa.array(texts), "id": pa.array([ids[0], ids[1], None, ids[3]], pa.binary(16))})
    with db.connect() as conn:
        db.query(conn, "CREATE TEMP TABLE copied (n integer, big bigint, text text, id uuid)")
        assert db.copy_in_binary(conn, "copied", table.column_names, copybinary.encode(table)) == 4
        back = db.query(conn, "SELECT n, big, text, id::text FROM copied")
    assert back == [(0, 2**40, texts[0], str(uuid.UUID(bytes=ids[0]))),
                    (-1, None, texts[1], str(uuid.UUID(bytes=ids[1]))),
                    (None, -(2**63), None, None),
                    (2**31 - 1, 5, texts[3], str(uuid.UUID(bytes=ids[3])))]
