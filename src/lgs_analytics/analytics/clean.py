"""The cleaned lines: purchases, cancellations and the audit of what each cleaning rule took.

The rules themselves are SQL (``sql/03_lines.sql``, table ``cleaning_rules`` and function
``clean_step``): Postgres gives every line the number of the first rule that takes it and keeps
the lines grouped by invoice, date, customer, country and step (``line_groups``). This module
splits those groups and audits them; it never tests a line itself, so the rules have one
definition.

Every line loaded ends up in exactly one place: the purchases kept for analysis (step 0), the
cancellations set aside (they are netted against purchases in the standard RFM monetary value,
not lost), or the lines removed by the rule that took them. The audit says, rule by rule, how
many lines and how much money (GBP, quantity x unit price) each rule took out, and reconciles:
lines loaded = lines removed + lines remaining.

A frame of lines here has one row per group: ``invoice_no, invoice_date, customer_id, country,
step``, ``lines`` (how many lines), ``quantity`` (their units), ``line_total`` (their GBP) and
``returned`` (the sum of their totals' absolute values). A frame of single lines (no ``lines``
column) is a frame of groups of one: the analytics read both (``frames.line_counts``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lgs_analytics.analytics.frames import line_counts, line_totals, require_columns

KEPT = 0  # the step of a line no rule takes: a purchase


@dataclass(frozen=True)
class CleaningRule:
    """One rule of ``cleaning_rules``: its step number, short name, sentence for stakeholders,
    and whether its lines are set aside (cancellations) rather than dropped."""

    step: int
    name: str
    rule: str
    set_aside: bool = False


@dataclass(frozen=True)
class CleanResult:
    """The outcome of :func:`split_lines`.

    ``purchases`` and ``cancellations`` are line groups without the ``step`` column (negative
    totals on cancellations). ``audit`` has one row per step: ``step, rule, rows_removed,
    revenue_removed, rows_remaining, revenue_remaining`` (``step`` is the rule's name).
    """

    purchases: pd.DataFrame
    cancellations: pd.DataFrame
    audit: pd.DataFrame


AUDIT_COLUMNS: tuple[str, ...] = (
    "step", "rule", "rows_removed", "revenue_removed", "rows_remaining", "revenue_remaining",
)


def audit(lines: pd.DataFrame, rules: tuple[CleaningRule, ...]) -> pd.DataFrame:
    """Lines and GBP each rule took, in rule order, after a first row "rows loaded"; money rounded
    to pennies. Lines of a step no rule names are refused (the rules and the data disagree)."""
    steps = lines["step"].to_numpy(dtype="int64")
    known = {KEPT, *(r.step for r in rules)}
    unknown = sorted(int(s) for s in set(np.unique(steps)) - known)
    if unknown:
        raise ValueError(f"lines carry cleaning steps {unknown} that no rule names; run `lgs build --full`")
    size = max(known) + 1
    removed_rows = np.bincount(steps, weights=line_counts(lines).to_numpy(), minlength=size)
    removed_money = np.bincount(steps, weights=line_totals(lines).to_numpy(), minlength=size)
    loaded_rows, loaded_money = int(removed_rows.sum()), float(removed_money.sum())
    rows = [("rows loaded", "Transaction lines loaded from the database.", 0, 0.0, loaded_rows, loaded_money)]
    remaining, remaining_money = loaded_rows, loaded_money
    for rule in sorted(rules, key=lambda r: r.step):
        remaining -= int(removed_rows[rule.step])
        remaining_money -= float(removed_money[rule.step])
        rows.append((rule.name, rule.rule, int(removed_rows[rule.step]), float(removed_money[rule.step]),
                     remaining, remaining_money))
    table = pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))
    table = table.astype({"rows_removed": "int64", "rows_remaining": "int64"})
    table["revenue_removed"] = table["revenue_removed"].round(2)
    table["revenue_remaining"] = table["revenue_remaining"].round(2)
    return table


def split_lines(lines: pd.DataFrame, rules: tuple[CleaningRule, ...]) -> CleanResult:
    """Purchases (step 0), cancellations (the set-aside rules' lines) and the audit of ``lines``."""
    require_columns(lines, ("step", "invoice_no", "invoice_date", "customer_id"), "split_lines")
    steps = lines["step"].to_numpy(dtype="int64")
    set_aside = [r.step for r in rules if r.set_aside]

    def rows(taken: np.ndarray) -> pd.DataFrame:  # filtered first: no copy of every line
        return lines[taken].drop(columns="step").reset_index(drop=True)

    return CleanResult(purchases=rows(steps == KEPT), cancellations=rows(np.isin(steps, set_aside)),
                       audit=audit(lines, rules))


__all__ = ["AUDIT_COLUMNS", "KEPT", "CleanResult", "CleaningRule", "audit", "split_lines"]
