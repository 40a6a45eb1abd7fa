"""Personal data: which export columns are personal (dropped before Postgres), and the
pseudonyms that replace customer IDs in everything exported outside the database.

A pseudonym is a keyed hash (HMAC-SHA256) of the customer ID: the same customer gets the
same pseudonym in every CSV and report made with the same key, so files can still be
joined with each other, but nobody without the key can tell (or test guesses of) the real
ID. The key comes only from the environment (``LGS_PSEUDONYM_KEY``), never from code or
files in git.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from typing import TYPE_CHECKING

from lgs_analytics.config import PLACEHOLDER_PREFIX  # one definition, with the settings (re-exported)

if TYPE_CHECKING:  # pandas is imported where pseudonyms are made, not by `lgs --help`
    import pandas as pd

ENV_PSEUDONYM_KEY = "LGS_PSEUDONYM_KEY"
ENV_PSEUDONYMISE = "LGS_PSEUDONYMISE"
MIN_KEY_CHARACTERS = 16
PSEUDONYM_PREFIX = "P"
PSEUDONYM_HEX_DIGITS = 12  # 48 bits: no collision expected among millions of customers

# Header words that mark a column as personal data (matched in the lower-cased name with
# everything but letters removed: "E-mail", "Customer Name", "phone_number", "Post Code").
PERSONAL_WORDS = re.compile(
    r"name|e?mail|address|street|city|town|county|postcode|postalcode|zip|phone|mobile|^tel|fax"
    r"|birth|^dob$|passport|nationalid|ssn|iban|card"
)


def is_personal_column(name: str) -> bool:
    """True for a column such as ``Email``, ``Customer Name`` or ``Phone`` (not the export's own)."""
    return bool(PERSONAL_WORDS.search(re.sub(r"[^a-z]", "", str(name).lower())))


def pseudonymise_by_default() -> bool:
    """Whether commands pseudonymise without being asked (``LGS_PSEUDONYMISE=1`` in the environment)."""
    return os.environ.get(ENV_PSEUDONYMISE, "").strip().lower() in ("1", "true", "yes", "on")


def pseudonym_key() -> bytes:
    """The secret key from ``LGS_PSEUDONYM_KEY``; a one-line ValueError says what to set if it is unfit."""
    key = os.environ.get(ENV_PSEUDONYM_KEY, "")
    if len(key.strip()) < MIN_KEY_CHARACTERS:
        raise ValueError(
            f"pseudonymising customer IDs needs a secret key of at least {MIN_KEY_CHARACTERS} characters "
            f"in {ENV_PSEUDONYM_KEY}; set it in the environment or .env (e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`) and keep it the same "
            "between runs"
        )
    if key.strip().lower().startswith(PLACEHOLDER_PREFIX):
        raise ValueError(
            f"{ENV_PSEUDONYM_KEY} is still the placeholder from .env.example, which anyone with the "
            "repository can read and so reverse every pseudonym; set a secret of your own (e.g. the output "
            "of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )
    return key.strip().encode()


def pseudonym(customer_id: int, key: bytes) -> str:
    """``P`` and 12 hex digits of HMAC-SHA256(key, the ID as digits)."""
    digest = hmac.new(key, str(int(customer_id)).encode(), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:PSEUDONYM_HEX_DIGITS]


def pseudonymise_ids(ids: pd.Series, key: bytes) -> pd.Series:
    """Each ID replaced by its pseudonym (missing IDs stay missing); same index and name."""
    unique = ids.dropna().unique()
    mapping = {value: pseudonym(value, key) for value in unique}  # one hash per customer, not per row
    return ids.map(mapping).astype("string")


def pseudonymise_customers(frame: pd.DataFrame, key: bytes | None,
                           column: str = "customer_id") -> pd.DataFrame:
    """A copy of ``frame`` with its customer IDs (column or index) pseudonymised; as is when no key."""
    import pandas as pd

    if key is None:
        return frame
    if column in frame.columns:
        return frame.assign(**{column: pseudonymise_ids(frame[column], key)})
    if frame.index.name == column:
        labels = pseudonymise_ids(frame.index.to_series(), key)
        return frame.set_axis(pd.Index(labels, name=column), axis=0)
    raise ValueError(f"no {column} column to pseudonymise")


def output_key(pseudonymise: bool) -> bytes | None:
    """The key to pseudonymise outputs with, or None when the user did not ask for it."""
    return pseudonym_key() if pseudonymise else None


# --- small cells -------------------------------------------------------------------------------
# A breakdown (by age band, gender, area, region, type) never shows a figure about fewer than
# MIN_CELL customers: with a few CRM attributes, a cell of three could be one family.
MIN_CELL = 10
SUPPRESSED = f"<{MIN_CELL}"


def suppress_small_cells(table: pd.DataFrame, counts: dict[str, tuple[str, ...]],
                         minimum: int = MIN_CELL) -> pd.DataFrame:
    """``table`` as text, every count of fewer than ``minimum`` customers (zero too) shown as
    :data:`SUPPRESSED`, and with it the figures derived from that count (``counts``: count column ->
    the columns computed from it, e.g. a row's customers -> its spend, shares and rates). Cells are
    formatted before (numbers as ``1,234``); the one suppression every surface and file uses."""
    import pandas as pd

    out = table.astype(object).where(table.notna(), "")
    for column in table.columns:
        if pd.api.types.is_integer_dtype(table[column]):
            out[column] = table[column].map(lambda v: f"{int(v):,}" if pd.notna(v) else "")
    for column, derived in counts.items():
        small = pd.to_numeric(table[column], errors="coerce").fillna(0) < minimum
        for name in (column, *derived):
            out.loc[small, name] = SUPPRESSED
    return out.astype("string")


def count_text(customers: int, minimum: int = MIN_CELL) -> str:
    """A count of customers as shown: ``1,234``, or :data:`SUPPRESSED` under ``minimum``."""
    return f"{int(customers):,}" if customers >= minimum else SUPPRESSED


def is_suppressed_safe(table: pd.DataFrame, counts: tuple[str, ...], minimum: int = MIN_CELL) -> bool:
    """True when no cell of the ``counts`` columns of a shown table is a number under ``minimum``: what
    the tests assert of every surface."""
    for column in counts:
        for value in table[column].astype(str):
            digits = value.replace(",", "")
            if value != SUPPRESSED and digits.isdigit() and int(digits) < minimum:
                return False
    return True
