"""Cleaning of transaction lines: named, ordered, audited rules.

Every line loaded ends up in exactly one place: the purchases kept for analysis, the
cancellations set aside (they are netted against purchases in the standard RFM monetary
value, not lost), or the rows removed by the *first* rule that matches it.  The audit
table says, rule by rule, how many rows and how much money (GBP, quantity x unit price)
each rule took out, and reconciles: rows loaded = sum of rows removed + rows remaining.

Rules, in order (see :data:`CLEANING_RULES`):

1. exact duplicates      -- ``is_repeat`` lines (an identical earlier line of the same invoice)
2. missing customer id   -- cannot be attributed to a customer
3. adjustments           -- ``A`` invoices (bad-debt adjustments, not sales)
4. non-product codes     -- postage, fees, manual lines, samples, gift vouchers, tests
5. zero or negative price
6. cancellations         -- ``C`` invoices: set aside into ``CleanResult.cancellations``
7. stock write-offs      -- non-positive quantity on a non-cancellation invoice

Stock codes: a product code is five digits followed by optional letters (``85123A``,
``15056BL``, ``79323P``), after trimming spaces, in any letter case.  Codes starting with
``DCGS`` (``DCGS0058``, ``DCGSSBOY``) are also products: in the real export they are named
merchandise (dog collars, party bags, lamps) sold through the dotcom gift shop at normal
prices.  Everything else is a non-product line: the known service codes in
:data:`NON_PRODUCT_CODES` and any other code that fits neither pattern, e.g. gift vouchers
(``gift_0001_20``), ``SP1002`` or ``ADJUST2``.

Each rule is a row-wise predicate (a row matches or not, whatever the other rows), so
all predicates are evaluated on the whole frame at once and each row is attributed to the
first rule it matches: the same result as applying the rules one after another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lgs_analytics.analytics.frames import line_totals, require_columns
from lgs_analytics.config import DB_COLUMNS

TRANSACTION_COLUMNS = DB_COLUMNS

PRODUCT_CODE_PATTERN = r"^(?:\d{5}[A-Za-z]*|DCGS[A-Za-z0-9]+)$"

# Service and bookkeeping codes of the real export.  None of them fits the product
# pattern; they are listed to document what the rule is for and to be sure they go.
NON_PRODUCT_CODES: frozenset[str] = frozenset({
    "POST", "DOT", "M", "C2", "D", "S", "B", "PADS", "BANK CHARGES", "AMAZONFEE",
    "ADJUST", "TEST001", "CRUK",
})


@dataclass(frozen=True)
class CleaningRule:
    """One cleaning rule: a short step name, a sentence for stakeholders, a predicate.

    ``matches(df)`` returns a boolean Series (True = the rule takes the row).  A rule with
    ``set_aside=True`` moves its rows to the cancellations instead of dropping them.
    """

    step: str
    rule: str
    matches: Callable[[pd.DataFrame], pd.Series]
    set_aside: bool = False


@dataclass(frozen=True)
class CleanResult:
    """The outcome of :func:`clean_transactions`.

    ``purchases`` and ``cancellations`` have the 8 transaction columns plus ``line_total``
    (quantity x unit_price, GBP; negative on cancellations).  ``audit`` has one row per
    step: ``step, rule, rows_removed, revenue_removed, rows_remaining, revenue_remaining``.
    """

    purchases: pd.DataFrame
    cancellations: pd.DataFrame
    audit: pd.DataFrame


def _per_distinct(values: pd.Series, test: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Evaluate a string test once per distinct value and spread it over the rows.

    A million lines hold only some 50k invoices and 5k stock codes, so this is much
    faster than string operations on every row.  Missing values test False.
    """
    codes, uniques = pd.factorize(values)
    flags = test(pd.Series(uniques, dtype="string")).fillna(False).to_numpy(dtype=bool)
    hit = np.zeros(len(codes), dtype=bool)
    present = codes >= 0
    hit[present] = flags[codes[present]]
    return pd.Series(hit, index=values.index)


def _invoice_prefix(df: pd.DataFrame, prefix: str) -> pd.Series:
    def starts_with_prefix(invoices: pd.Series) -> pd.Series:
        return invoices.str.strip().str.upper().str.startswith(prefix)

    return _per_distinct(df["invoice_no"], starts_with_prefix)


def is_exact_duplicate(df: pd.DataFrame) -> pd.Series:
    """Lines flagged ``is_repeat``: an identical earlier line of the same invoice."""
    return df["is_repeat"].fillna(False).astype(bool)


def is_missing_customer(df: pd.DataFrame) -> pd.Series:
    """Lines without a customer id."""
    return df["customer_id"].isna()


def is_adjustment(df: pd.DataFrame) -> pd.Series:
    """Lines of ``A`` invoices (bad-debt adjustments)."""
    return _invoice_prefix(df, "A")


def is_non_product(df: pd.DataFrame) -> pd.Series:
    """Lines whose stock code is not a product code (see the module docstring)."""
    return ~_per_distinct(df["stock_code"], _is_product_code)


def _is_product_code(codes: pd.Series) -> pd.Series:
    tidy = codes.str.strip()
    return tidy.str.match(PRODUCT_CODE_PATTERN) & ~tidy.str.upper().isin(NON_PRODUCT_CODES)


def is_non_positive_price(df: pd.DataFrame) -> pd.Series:
    """Lines with a unit price of zero or less (free samples, bookkeeping)."""
    return ~(df["unit_price"] > 0)


def is_cancellation(df: pd.DataFrame) -> pd.Series:
    """Lines of ``C`` invoices (cancellations and returns)."""
    return _invoice_prefix(df, "C")


def is_write_off(df: pd.DataFrame) -> pd.Series:
    """Non-positive quantity on an invoice that is not a cancellation (stock write-off)."""
    return ~(df["quantity"] > 0) & ~is_cancellation(df)


CLEANING_RULES: tuple[CleaningRule, ...] = (
    CleaningRule(
        "exact duplicates",
        "Lines that repeat an identical earlier line of the same invoice in the same export.",
        is_exact_duplicate,
    ),
    CleaningRule(
        "missing customer id",
        "Lines without a customer id cannot be attributed to a customer.",
        is_missing_customer,
    ),
    CleaningRule(
        "adjustments",
        "Bad-debt adjustments ('A' invoices) are bookkeeping entries, not sales.",
        is_adjustment,
    ),
    CleaningRule(
        "non-product codes",
        "Postage, bank charges, fees, manual entries, samples, vouchers and tests are not "
        "products.",
        is_non_product,
    ),
    CleaningRule(
        "zero or negative price",
        "Lines with a unit price of zero or less are free items or bookkeeping.",
        is_non_positive_price,
    ),
    CleaningRule(
        "cancellations",
        "Cancelled and returned lines ('C' invoices) are set aside and netted against "
        "purchases.",
        is_cancellation,
        set_aside=True,
    ),
    CleaningRule(
        "stock write-offs",
        "Lines with zero or negative quantity that are not cancellations are stock "
        "write-offs.",
        is_write_off,
    ),
)

AUDIT_COLUMNS: tuple[str, ...] = (
    "step", "rule", "rows_removed", "revenue_removed", "rows_remaining", "revenue_remaining",
)


def add_line_total(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` with ``line_total`` = quantity x unit_price (GBP)."""
    out = df.copy()
    out["line_total"] = line_totals(df)
    return out


def clean_transactions(
    df: pd.DataFrame, rules: tuple[CleaningRule, ...] = CLEANING_RULES
) -> CleanResult:
    """Apply the cleaning rules in order and audit what each one removed.

    ``df`` has the 8 transaction columns plus ``is_repeat``.  Each row is taken by the
    first rule that matches it.  Returns purchases (rows no rule took), cancellations
    (rows of the set-aside rule) and the audit table, whose first row is "rows loaded".
    Money in the audit is rounded to pennies.
    """
    required = (*TRANSACTION_COLUMNS, "is_repeat")
    require_columns(df, required, "clean_transactions")
    work = add_line_total(df[list(required)].reset_index(drop=True))

    # 0 = kept; i + 1 = taken by rules[i] (the first rule that matches).
    masks = [rule.matches(work).to_numpy(dtype=bool) for rule in rules]
    taken_by = np.select(masks, np.arange(1, len(rules) + 1), default=0)
    money = work["line_total"].to_numpy()
    removed_rows = np.bincount(taken_by, minlength=len(rules) + 1)
    removed_money = np.bincount(taken_by, weights=money, minlength=len(rules) + 1)

    loaded_revenue = float(money.sum())
    rows = [("rows loaded", "Transaction lines loaded from the database.", 0, 0.0,
             len(work), loaded_revenue)]
    remaining, remaining_money = len(work), loaded_revenue
    for i, rule in enumerate(rules, start=1):
        remaining -= int(removed_rows[i])
        remaining_money -= float(removed_money[i])
        rows.append((rule.step, rule.rule, int(removed_rows[i]), float(removed_money[i]),
                     remaining, remaining_money))
    audit = pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))
    audit["rows_removed"] = audit["rows_removed"].astype("int64")
    audit["rows_remaining"] = audit["rows_remaining"].astype("int64")
    audit["revenue_removed"] = audit["revenue_removed"].round(2)
    audit["revenue_remaining"] = audit["revenue_remaining"].round(2)

    output = work.drop(columns="is_repeat")
    set_aside = [i for i, rule in enumerate(rules, start=1) if rule.set_aside]
    purchases = output[taken_by == 0].reset_index(drop=True)
    cancellations = output[np.isin(taken_by, set_aside)].reset_index(drop=True)
    return CleanResult(purchases=purchases, cancellations=cancellations, audit=audit)


__all__ = [
    "AUDIT_COLUMNS", "CLEANING_RULES", "NON_PRODUCT_CODES", "PRODUCT_CODE_PATTERN",
    "TRANSACTION_COLUMNS", "CleanResult", "CleaningRule", "add_line_total",
    "clean_transactions", "is_adjustment", "is_cancellation", "is_exact_duplicate",
    "is_missing_customer", "is_non_positive_price", "is_non_product", "is_write_off",
]
