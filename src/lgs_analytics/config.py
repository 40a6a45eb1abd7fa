"""Project-wide constants and settings read from the environment (never from code)."""

from __future__ import annotations

import os
from pathlib import Path

# Columns of the LGS export, in order, as the web shop writes them (UCI "Online Retail II").
EXPORT_COLUMNS: tuple[str, ...] = (
    "Invoice", "StockCode", "Description", "Quantity",
    "InvoiceDate", "Price", "Customer ID", "Country",
)
# The same columns in Postgres and in every DataFrame of the package.
DB_COLUMNS: tuple[str, ...] = (
    "invoice_no", "stock_code", "description", "quantity",
    "invoice_date", "unit_price", "customer_id", "country",
)

# Sheet names of the real two-year workbook.
SHEET_NAMES: tuple[str, str] = ("Year 2009-2010", "Year 2010-2011")
# Rows in the real export (both sheets): the default size of a generated data set.
REAL_ROW_COUNT = 1_067_371

ENV_DATABASE_URL = "DATABASE_URL"
ENV_LGS_HOME = "LGS_HOME"
# A segments.toml replacing the default segment rules (analytics/segments.toml); `--segments` sets it.
ENV_SEGMENTS = "LGS_SEGMENTS"


def project_root() -> Path:
    """The checkout holding sql/ and notebooks/ (the package is installed editable from it)."""
    env = os.environ.get("LGS_PROJECT_ROOT")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2]


def sql_dir() -> Path:
    return project_root() / "sql"


def notebook_path() -> Path:
    return project_root() / "notebooks" / "retail_analytics.ipynb"


def reports_dir() -> Path:
    return project_root() / "reports"


def report_path(what_if: bool = False) -> Path:
    """The report's default file: a what-if has its own, so it never replaces the published build's
    report or its campaign files."""
    return reports_dir() / ("retail_report_what_if.html" if what_if else "retail_report.html")


def inbox_dir() -> Path:
    """Where new weekly exports arrive for ``lgs refresh``."""
    return project_root() / "data" / "inbox"


def raw_data_dir() -> Path:
    """Where exports are dropped (``lgs report --load`` with no folder reads it)."""
    return project_root() / "data" / "raw"


def lgs_home() -> Path:
    """State directory of the embedded Postgres server (``LGS_HOME``, default ``.lgs/``)."""
    return Path(os.environ.get(ENV_LGS_HOME) or project_root() / ".lgs").resolve()


PLACEHOLDER_PREFIX = "change-me"  # .env.example's placeholders all start so: never accepted as secrets


def database_url_from_env() -> str | None:
    """An external server chosen by the user, or None for the embedded one. Raises ValueError for a
    value that is neither a postgresql:// URL nor a libpq keyword string, without repeating it (it
    may hold a password)."""
    url = os.environ.get(ENV_DATABASE_URL, "").strip()
    if url and not (url.lower().startswith(("postgresql://", "postgres://")) or "=" in url):
        raise ValueError(f"{ENV_DATABASE_URL} is not a postgresql:// URL (its value is not shown: it may "
                         "hold a password); set it as postgresql://user:password@host:5432/database, or "
                         "unset it to use the embedded server")
    if url and refused_placeholder(url):
        raise ValueError(f"{ENV_DATABASE_URL}'s password is still the placeholder from .env.example; set "
                         "POSTGRES_PASSWORD in .env to a secret of your own (a database already made with "
                         "it: `docker compose down -v` to start again, or ALTER USER ... PASSWORD)")
    return url or None


def refused_placeholder(url: str) -> bool:
    """Whether the URL's password is one of .env.example's placeholders: public, so no secret (and with
    Engine before 28 a port published on 127.0.0.1 is reachable from the local network)."""
    from lgs_analytics.errors import password_of

    return password_of(url).strip().lower().startswith(PLACEHOLDER_PREFIX)


def env_file() -> Path:
    return project_root() / ".env"


def load_env_file(path: Path | None = None) -> None:
    """Read the project's ``.env`` (if any) as docker compose does: a variable already set in the
    environment wins over the file. Every ``lgs`` command calls this first."""
    from dotenv import load_dotenv

    load_dotenv(path or env_file(), override=False)
