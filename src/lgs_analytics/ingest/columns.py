"""The export's column names as every LGS export spells them, and the header check.

One mapping table and one normalising function serve every format (CSV, xlsx, pg_dump):
the Online Retail II names (``Customer ID``), the older UCI "Online Retail" names
(``CustomerID``, ``InvoiceNo``, ``UnitPrice``) and the Postgres snake-case names
(``customer_id``), in any letter case, with or without spaces and underscores.
"""

from __future__ import annotations

import re

from lgs_analytics.config import EXPORT_COLUMNS
from lgs_analytics.ingest.formats import ExportError
from lgs_analytics.privacy import is_personal_column

# Normalised spelling (see column_key) -> the II name the rest of the package uses.
COLUMN_NAMES: dict[str, str] = {
    "invoice": "Invoice", "invoiceno": "Invoice",
    "stockcode": "StockCode",
    "description": "Description",
    "quantity": "Quantity",
    "invoicedate": "InvoiceDate",
    "price": "Price", "unitprice": "Price",
    "customerid": "Customer ID",
    "country": "Country",
}
OLDER_NAMES = ("InvoiceNo", "UnitPrice", "CustomerID")  # named in the refusal, so a user sees both work
SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "pipes"}


def shown(text: str, limit: int = 60) -> str:
    """A value of the file as a refusal names it: control characters (a line break in a quoted
    header name or a cell) escaped, so the refusal stays one line, and cut at ``limit``."""
    text = str(text)
    if any(ord(c) < 32 or c == "\x7f" for c in text):
        text = "".join(c if ord(c) >= 32 and c != "\x7f" else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[:limit] + "..."


def column_key(name: str) -> str:
    """A header name without letter case, spaces or underscores: ``Customer ID`` -> ``customerid``."""
    return re.sub(r"[\s_]+", "", str(name)).lower()


def export_column(name: str) -> str | None:
    """The export column a header name means (``CUSTOMER_ID`` -> ``Customer ID``), or None."""
    return COLUMN_NAMES.get(column_key(name))


def check_header(names: list[str], where: str) -> tuple[str, ...]:
    """Refuse a header that is not the export's eight columns (any order and spelling, see above).

    Personal columns an export may carry (names, e-mails, addresses, phones) are allowed:
    they are returned, to be left unread. Any other extra column is refused, since a file
    of another shape could be misread.
    """
    got = [str(n).strip() for n in names]
    if len(got) == 1 and any(sep in got[0] for sep in SEPARATORS):
        name = next(n for sep, n in SEPARATORS.items() if sep in got[0])
        raise ExportError(f"{shown(where, 1000)}: columns are separated by {name}; "
                          "save it as comma-separated CSV")
    meant = [export_column(g) for g in got]
    missing = [c for c in EXPORT_COLUMNS if c not in meant]
    personal = tuple(g for g, m in zip(got, meant, strict=True) if m is None and is_personal_column(g))
    extra = [g for g, m in zip(got, meant, strict=True) if m is None and g not in personal]
    duplicated = [c for c in EXPORT_COLUMNS if meant.count(c) > 1]
    problems = []
    if missing:
        problems.append("missing " + ", ".join(missing))
    if extra:
        names = [shown(e) if e else "(a column without a name)" for e in extra[:5]]
        problems.append("unexpected " + ", ".join(names) + (" ..." if len(extra) > 5 else ""))
    if duplicated:
        problems.append("repeated " + ", ".join(_spellings(c, got, meant) for c in duplicated))
    if problems:
        raise ExportError(
            f"{shown(where, 1000)}: not an LGS export ({'; '.join(problems)}); expected the columns "
            f"{', '.join(EXPORT_COLUMNS)} (or the older {', '.join(OLDER_NAMES)})"
        )
    return personal


def _spellings(column: str, got: list[str], meant: list[str | None]) -> str:
    """``Invoice (as Invoice and InvoiceNo)``, or just ``Quantity`` when spelled the same each time."""
    spelled = list(dict.fromkeys(g for g, m in zip(got, meant, strict=True) if m == column))
    return f"{column} (as {' and '.join(shown(s) for s in spelled)})" if len(spelled) > 1 else column


def column_order(header: list[str]) -> list[int]:
    """Positions of the export's columns in a checked header, in EXPORT_COLUMNS order."""
    meant = [export_column(h) for h in header]
    return [meant.index(c) for c in EXPORT_COLUMNS]
