"""`lgs load-customers FILE`: LGS's CRM attributes (customer id; any of birth date or year, gender,
postcode or city), generalised (analytics.demographics) and stored in ONE transaction.

The guarantees of `lgs load`: a file that cannot be read, or has no customer id or no attribute
column, is refused in one line before anything is written; a row that cannot be generalised goes to
quarantine with its row number and reason (never its values); loaded + quarantined = rows read; the
same file again changes nothing (its checksum). Only the columns named below are read at all: names,
e-mails, addresses, phones and any other column are dropped unread, and said so.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lgs_analytics.analytics import demographics
from lgs_analytics.ingest.formats import SYNTHETIC_MARK
from lgs_analytics.ingest.load import file_sha256
from lgs_analytics.privacy import is_personal_column
from lgs_analytics.store import customers as store
from lgs_analytics.store import db, loads

# Header (lower case, letters only) -> the attribute it carries.
COLUMNS = {
    "customerid": "customer_id", "customer": "customer_id", "customerno": "customer_id",
    "customernumber": "customer_id", "id": "customer_id",
    "birthdate": "birth", "dateofbirth": "birth", "dob": "birth", "birthday": "birth",
    "birthyear": "birth", "yearofbirth": "birth", "yob": "birth",
    "gender": "gender", "sex": "gender",
    "postcode": "postcode", "postalcode": "postcode", "zip": "postcode", "zipcode": "postcode",
    "city": "city", "town": "city",
}
ATTRIBUTES = ("birth", "gender", "postcode", "city")
SUFFIXES = (".csv", ".csv.gz", ".txt", ".xlsx")


class AttributesRefused(ValueError):
    """The whole file is refused, in one line saying what to do; nothing was written."""


@dataclass
class AttributesLoad:
    path: Path
    load_id: int | None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    kept: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    already: bool = False
    reasons: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        if self.already:
            return f"{self.path.name}: already loaded (load {self.load_id}); nothing changed"
        kept = ", ".join(self.kept)
        line = (f"{self.path.name}: {self.rows_read:,} rows read = {self.rows_loaded:,} loaded + "
                f"{self.rows_quarantined:,} quarantined; stored {kept} (generalised) for "
                f"{self.rows_loaded:,} customers")
        if self.reasons:
            line += "; quarantined: " + ", ".join(f"{n:,} {why}" for why, n in self.reasons.items())
        if self.dropped:
            line += f"; dropped unread: {', '.join(self.dropped)}"
        return line


def _key(header: str) -> str:
    return re.sub(r"[^a-z]", "", str(header).lower())


def _read(path: Path, wanted: list[str] | None) -> pd.DataFrame:
    """The file as text; only the ``wanted`` columns (None: the header alone)."""
    name = path.name.lower()
    rows = 0 if wanted is None else None
    if name.endswith(".xlsx"):
        return pd.read_excel(path, engine="calamine", dtype=str, nrows=rows, keep_default_na=False,
                             usecols=(lambda c: c in wanted) if wanted is not None else None)
    return pd.read_csv(path, dtype=str, nrows=rows, keep_default_na=False, encoding="utf-8-sig",
                       usecols=(lambda c: c in wanted) if wanted is not None else None)


def read_attributes(path: Path) -> tuple[pd.DataFrame, dict[str, str], tuple[str, ...]]:
    """(the wanted columns as text, header -> attribute, the dropped headers); raises
    :class:`AttributesRefused` when the file cannot be taken at all."""
    if not path.is_file():
        raise AttributesRefused(f"{path}: no such file; give the CRM attributes file's path")
    if not path.name.lower().endswith(SUFFIXES):
        raise AttributesRefused(f"{path.name}: not a .csv or .xlsx file; save the CRM attributes as CSV "
                                "with a header row (nothing was loaded)")
    try:
        header = [str(c) for c in _read(path, None).columns]
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise AttributesRefused(f"{path.name}: cannot be read as a table ({type(exc).__name__}); save it as "
                                "UTF-8 CSV with a header row (nothing was loaded)") from None
    chosen: dict[str, str] = {}
    for column in header:
        meaning = COLUMNS.get(_key(column))
        if meaning and meaning not in chosen.values():
            chosen[column] = meaning
    if "customer_id" not in chosen.values():
        raise AttributesRefused(f"{path.name} has no customer id column (CustomerID, Customer ID or "
                                "customer_id) in its first row; add one (nothing was loaded)")
    if not set(chosen.values()) & set(ATTRIBUTES):
        raise AttributesRefused(f"{path.name} has none of birth_date, birth_year, gender, postcode, city: "
                                "nothing to load (nothing was loaded)")
    dropped = tuple(c for c in header if c not in chosen)
    try:
        frame = _read(path, list(chosen))
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise AttributesRefused(f"{path.name}: cannot be read as a table ({type(exc).__name__}); save it as "
                                "UTF-8 CSV with a header row (nothing was loaded)") from None
    if frame.empty:
        raise AttributesRefused(f"{path.name} has a header and no rows: nothing to load (nothing was loaded)")
    return frame, chosen, dropped


Stored = tuple[int, str | None, str | None, str | None]  # customer_id, age_band, gender, area
Refused = tuple[int, int | None, str]  # source_row, customer_id (None: not a number), reason


def generalise_rows(frame: pd.DataFrame, chosen: dict[str, str], on: dt.date
                    ) -> tuple[list[Stored], list[Refused]]:
    """(stored rows (customer_id, age_band, gender, area), quarantined rows (source_row, customer_id
    or None, reason)) of the file's text columns."""
    by_meaning = {meaning: column for column, meaning in chosen.items()}

    def text(meaning: str) -> pd.Series:
        column = by_meaning.get(meaning)
        return frame[column].fillna("").astype(str) if column else pd.Series("", index=frame.index)

    ids, birth, gender, postcode, city = (text(m) for m in ("customer_id", *ATTRIBUTES))
    stored: list[Stored] = []
    refused: list[Refused] = []
    seen: dict[int, int] = {}
    for position, (raw_id, b, g, p, c) in enumerate(zip(ids, birth, gender, postcode, city, strict=True)):
        row = position + 1
        match = re.fullmatch(r"\s*(\d{1,9})(?:\.0+)?\s*", raw_id)
        customer = int(match[1]) if match else None
        if customer is None:
            refused.append((row, None, "customer id is not a whole number"))
            continue
        if customer in seen:
            refused.append((row, customer, f"customer id repeated (row {seen[customer]} has it)"))
            continue
        seen[customer] = row
        try:
            band, category, area = demographics.generalise(b, g, p, c, on)
        except demographics.AttributeRefused as exc:
            refused.append((row, customer, str(exc)))
            continue
        stored.append((customer, band, category, area))
    return stored, refused


def load_attributes(path: Path, on: dt.date | None = None) -> AttributesLoad:
    """Load one CRM attributes file (module docstring); the ages banded on ``on`` (default: today)."""
    on = on or dt.date.today()
    frame, chosen, dropped = read_attributes(path)
    sha = file_sha256(path)
    synthetic = SYNTHETIC_MARK in path.name.lower()
    stored, refused = generalise_rows(frame, chosen, on)
    with db.connect() as conn:
        loads.lock_file(conn, sha)
        known = store.load_of(conn, sha)
        if known is not None:
            return AttributesLoad(path, known, already=True)
        if synthetic and loads.files_loaded(conn, synthetic=False):
            raise AttributesRefused(f"{path.name} is generated (synthetic) and the database holds real "
                                    "exports: generated attributes would be taken for LGS's CRM; load "
                                    "the CRM's own file (nothing was loaded)")
        load_id = store.record_load(conn, str(path), sha, on, len(frame), len(stored), len(refused),
                                    list(dropped), synthetic)
        if stored:
            store.store(conn, load_id, stored)
        if refused:
            store.quarantine(conn, load_id, refused)
    reasons: dict[str, int] = {}
    for _, _, why in refused:
        reason = "customer id repeated" if why.startswith("customer id repeated") else why
        reasons[reason] = reasons.get(reason, 0) + 1
    kept = {"birth": "age band", "gender": "gender", "postcode": "postcode area", "city": "town"}
    return AttributesLoad(path, load_id, len(frame), len(stored), len(refused),
                          tuple(kept[m] for m in ATTRIBUTES if m in chosen.values()),
                          tuple(f"{c} (personal)" if is_personal_column(c) else c for c in dropped),
                          reasons=reasons)
