"""Connections, the sql/ scripts, and fast bulk transfer between Postgres and pandas.

``DATABASE_URL`` selects an external server; without it the embedded one
(:mod:`lgs_analytics.store.server`) is started or reused. Bulk data always moves
with ``COPY`` (into Postgres and out of it through pyarrow): pulling a
million-row table through ``read_sql_table`` is about ten times slower.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import psycopg2
from psycopg2 import sql as pgsql

from lgs_analytics import config
from lgs_analytics.errors import first_line
from lgs_analytics.store import server

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    import sqlalchemy

Connection: TypeAlias = psycopg2.extensions.connection
Cursor: TypeAlias = psycopg2.extensions.cursor
# Query parameters: positional (%s) or named (%(name)s).
Params: TypeAlias = tuple[object, ...] | Mapping[str, object]
# A row as psycopg2 returns it: whatever the columns' types map to in Python.
Row: TypeAlias = tuple[Any, ...]


class DatabaseError(RuntimeError):
    """The database could not be reached or refused an operation (a user-facing, one-line error)."""


def database_url() -> str:
    """The libpq URL of the database every command uses."""
    url = config.database_url_from_env()
    if url:
        return url
    try:
        return server.start(config.lgs_home())
    except server.ServerError as exc:
        raise DatabaseError(str(exc)) from exc


def sqlalchemy_url(url: str | None = None) -> str:
    """The same URL spelled for SQLAlchemy (``postgres://`` no longer works there)."""
    url = url or database_url()
    for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    raise DatabaseError(f"DATABASE_URL must start with postgresql:// (got {url.split(':', 1)[0]}://...)")


def engine(url: str | None = None) -> sqlalchemy.engine.Engine:
    """A SQLAlchemy engine, for analysts who want ``pandas.read_sql`` on small queries."""
    import sqlalchemy

    return sqlalchemy.create_engine(sqlalchemy_url(url))


@contextmanager
def connect(url: str | None = None, *, apply_schema: bool = True) -> Iterator[Connection]:
    """A psycopg2 connection (one transaction; committed on success, rolled back on error)."""
    url = url or database_url()
    try:
        # Every wait has a limit: a server that accepts TCP and never answers fails after this.
        limits: dict[str, Any] = {} if "connect_timeout" in url else {"connect_timeout": connect_timeout()}
        conn = psycopg2.connect(url, **limits)
    except psycopg2.OperationalError as exc:
        raise DatabaseError(
            f"cannot connect to Postgres ({first_line(exc)}); check DATABASE_URL or unset it to use the "
            "embedded server"
        ) from exc
    try:
        require_utf8(conn)
        if apply_schema:
            run_sql_scripts(conn)
        yield conn
        conn.commit()
    except BaseException as exc:
        try:
            conn.rollback()
        except psycopg2.Error:  # the connection itself is gone: say so, not "connection already closed"
            raise DatabaseError(f"lost the connection to Postgres ({first_line(exc)}); the server stopped "
                                "or the disk is full; nothing of this operation was kept") from exc
        if isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError)) and conn.closed:
            raise DatabaseError(f"lost the connection to Postgres ({first_line(exc)}); nothing of this "
                                "operation was kept") from exc
        raise
    finally:
        conn.close()


def require_utf8(conn: Connection) -> None:
    """Refuse a database not encoded in UTF-8 (e.g. SQL_ASCII, what initdb makes without a UTF-8
    locale): descriptions such as "CAFÉ" would fail deep inside a load with a codec error. The
    server reports its encoding when the connection starts: no query is needed."""
    encoding = conn.get_parameter_status("server_encoding")
    if encoding is not None and encoding.upper().replace("-", "") != "UTF8":
        raise DatabaseError(
            f"database {conn.info.dbname!r} is encoded {encoding}; lgs needs UTF-8: create one with "
            "CREATE DATABASE lgs ENCODING 'UTF8' LOCALE 'C' TEMPLATE template0 (or initdb -E UTF8) "
            "and point DATABASE_URL at it")


CONNECT_TIMEOUT_SECONDS = 10


def connect_timeout() -> int:
    """Seconds to wait for a connection (``LGS_CONNECT_TIMEOUT``, default 10)."""
    import os

    try:
        return max(1, int(os.environ.get("LGS_CONNECT_TIMEOUT", CONNECT_TIMEOUT_SECONDS)))
    except ValueError:
        return CONNECT_TIMEOUT_SECONDS


@contextmanager
def snapshot(url: str | None = None) -> Iterator[Connection]:
    """A read-only connection on one consistent state of the database (REPEATABLE READ): a build
    or a load committed meanwhile is wholly visible to it or not at all, so several reads agree."""
    with connect(url):
        pass  # bring the schema up to date first, in a transaction of its own
    with connect(url, apply_schema=False) as conn:
        query(conn, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield conn


def sql_scripts(directory: Path | None = None) -> list[Path]:
    """The numbered scripts of sql/, in the order they run (the Docker image runs them the same way)."""
    directory = directory or config.sql_dir()
    return sorted(directory.glob("[0-9][0-9]_*.sql"))


def scripts_digest(scripts: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in scripts:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _recorded_digest(cur: Cursor) -> str | None:
    cur.execute("SELECT to_regclass('lgs_schema') IS NOT NULL")
    if not cast(Row, cur.fetchone())[0]:  # a SELECT of one expression: always one row
        return None
    cur.execute("SELECT digest FROM lgs_schema")
    row = cur.fetchone()
    return row[0] if row else None


def run_sql_scripts(conn: Connection, directory: Path | None = None) -> None:
    """Bring the database to the sql/ scripts: run them all (they are idempotent) unless the
    database already records this exact set of scripts, so everyday commands take no DDL lock."""
    scripts = sql_scripts(directory)
    digest = scripts_digest(scripts)
    with conn.cursor() as cur:
        if _recorded_digest(cur) == digest:
            return
        # Serialise concurrent schema runs (two commands starting at once); a command that waited
        # finds the scripts run and runs nothing (03_lines.sql regroups every line).
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('lgs_schema'))")
        if _recorded_digest(cur) == digest:
            return
        for path in scripts:
            cur.execute(path.read_text(encoding="utf-8"))
        cur.execute("CREATE TABLE IF NOT EXISTS lgs_schema (digest char(64) NOT NULL)")
        cur.execute("DELETE FROM lgs_schema")
        cur.execute("INSERT INTO lgs_schema (digest) VALUES (%s)", (digest,))


COPY_BLOCK = 1 << 20


def copy_in(conn: Connection, table: str, columns: list[str], frame: pa.Table | pd.DataFrame) -> int:
    """Stream a table into Postgres with COPY (CSV through pyarrow); return the row count."""
    # pandas and pyarrow are imported where rows are copied: a command that only queries (a refresh
    # that finds nothing new) does without their 0.3 s of imports.
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if isinstance(frame, pd.DataFrame):
        frame = pa.Table.from_pandas(frame, preserve_index=False)
    buffer = io.BytesIO()
    pacsv.write_csv(frame, buffer, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    buffer.seek(0)
    _copy_from_stdin(conn, table, columns, "csv", buffer)
    rows: int = frame.num_rows  # pyarrow has no type information
    return rows


def copy_in_binary(conn: Connection, table: str, columns: list[str], copy_data: bytes) -> int:
    """Stream binary COPY data (store.copybinary.encode of rows with these columns) into a table;
    return the rows Postgres says it copied."""
    return _copy_from_stdin(conn, table, columns, "binary", io.BytesIO(copy_data))


def _copy_from_stdin(conn: Connection, table: str, columns: list[str], data_format: str,
                     data: io.BytesIO) -> int:
    """COPY ``data`` (``data_format``: csv or binary) into a table's columns; return the rows copied."""
    statement = pgsql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT {})").format(
        pgsql.Identifier(table), pgsql.SQL(", ").join(map(pgsql.Identifier, columns)), pgsql.SQL(data_format)
    )
    with conn.cursor() as cur:
        # In 1 MiB blocks, not psycopg2's 8 KiB: each block takes the GIL back from the loader's
        # reading thread (a 1x load, in five paired runs: median 9.27 s -> 8.99 s, faster in all five).
        cur.copy_expert(statement.as_string(conn), data, size=COPY_BLOCK)
        return cur.rowcount


def copy_out(
    conn: Connection, query: str, params: Params = (), dtypes: dict[str, pa.DataType] | None = None
) -> pd.DataFrame:
    """Run a query and return its rows as a DataFrame, via ``COPY (query) TO STDOUT`` and pyarrow.

    ``dtypes`` fixes column types that CSV inference could guess wrong (text codes that look
    like numbers, for instance).
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with conn.cursor() as cur:
        bound = cur.mogrify(query, params).decode() if params else query
        buffer = io.BytesIO()
        cur.copy_expert(f"COPY ({bound}) TO STDOUT WITH (FORMAT csv, HEADER true)", buffer)
    buffer.seek(0)
    if buffer.getbuffer().nbytes == 0:
        return pd.DataFrame()
    table = pacsv.read_csv(
        buffer,
        convert_options=pacsv.ConvertOptions(
            column_types=dtypes or {}, strings_can_be_null=True, quoted_strings_can_be_null=False,
            true_values=["t"], false_values=["f"],  # how COPY spells booleans
        ),
    )
    frame: pd.DataFrame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype()}.get)
    return frame


def query(conn: Connection, statement: str, params: Params = ()) -> list[Row]:
    """A small query's rows (never for bulk data: use :func:`copy_out`)."""
    with conn.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall() if cur.description else []


_CREATED = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:UNLOGGED\s+)?(TABLE|VIEW|FUNCTION)\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)",
    re.IGNORECASE | re.MULTILINE)


def owned_objects(directory: Path | None = None) -> list[tuple[str, str]]:
    """(kind, name) of every table, view and function the sql/ scripts create, read from the
    scripts themselves so the list can never leave one out; plus lgs_schema (run_sql_scripts)."""
    found = [(kind.upper(), name) for path in sql_scripts(directory)
             for kind, name in _CREATED.findall(path.read_text(encoding="utf-8"))]
    return [*dict.fromkeys(found), ("TABLE", "lgs_schema")]


def drop_objects(conn: Connection) -> None:
    """Drop every object the sql/ scripts create (for `lgs db reset` on an external server); nothing else."""
    with conn.cursor() as cur:
        for kind, name in owned_objects():
            statement = "DROP FUNCTION IF EXISTS {} CASCADE" if kind == "FUNCTION" else \
                f"DROP {kind} IF EXISTS {{}} CASCADE"
            cur.execute(pgsql.SQL(statement).format(pgsql.Identifier(name)))


def newest_batch(conn: Connection) -> int | None:
    """The id of the newest load batch (None before the first load): what a build or a refresh is
    compared with to know whether anything was loaded since."""
    newest: int | None = query(conn, "SELECT max(batch_id) FROM load_batches")[0][0]
    return newest


def server_version(conn: Connection) -> str:
    version: str = query(conn, "SHOW server_version")[0][0]
    return version
