"""The row budget: lines per invoice, so that the export has exactly the rows asked for.

A period's purchase lines go to its months as the real rows do, and within a month to its
purchases by weight; guest orders take their real share of the lines, and some customers' lines
are repeats (entered twice).
"""

from __future__ import annotations

import numpy as np

from lgs_analytics.synthetic.calibration import (
    CANCEL,
    DUPLICATE_SHARE,
    GUEST,
    GUEST_LINE_SHARE,
    MONTH_ROWS,
    OVERLAP_SHARE,
    REG,
    SHEET1_SHARE,
)
from lgs_analytics.synthetic.timeline import Table, _period_of_day


def _budget(rng: np.random.Generator, inv: Table, rows: int, cal: Table) -> tuple[np.ndarray, np.ndarray]:
    """Lines per invoice and repeated lines per period, so that the export has exactly ``rows`` rows.

    The overlap gets its real share of rows (they count twice: they are in both sheets), the rest
    is split to give the first sheet its real share, and a period's lines go to its months as the
    real rows do. A purchase gets at least the lines its cancellation copies; within a period,
    guest orders take their real share of the lines.
    """
    kind, g = inv["kind"], inv["group"]
    buy, cancel = np.isin(kind, (REG, GUEST)), kind == CANCEL
    low = buy.astype(np.int64)
    low[inv["src"][cancel]] = np.maximum(1, inv["k"][cancel])
    fixed = np.bincount(g[~buy], inv["k"][~buy], 3).astype(np.int64)
    low_g = np.bincount(g[buy], low[buy], 3).astype(np.int64)
    has = np.bincount(g[buy], minlength=3) > 0
    x = np.zeros(3, np.int64)  # purchase lines per period
    x[1] = max(low_g[1], round(rows * OVERLAP_SHARE) - fixed[1]) if has[1] else 0
    if rows - fixed @ [1, 2, 1] - 2 * x[1] < low_g[0] + low_g[2]:
        x[1] = low_g[1]
    rest = rows - fixed @ [1, 2, 1] - 2 * x[1]
    target = round(rows * SHEET1_SHARE) - fixed[0] - fixed[1] - x[1]
    x[0] = min(max(target, low_g[0]), rest - low_g[2]) if has[0] and has[2] else rest * has[0]
    x[2] = rest - x[0]
    if (x < low_g).any() or (x[~has] != 0).any():
        raise RuntimeError(f"cannot lay out {rows} rows over the invoices drawn; try another seed")
    dups = np.minimum((x * (1 - GUEST_LINE_SHARE) * DUPLICATE_SHARE).astype(np.int64), x - low_g)
    n_lines = np.where(buy, low, inv["k"])
    month = cal["month"][inv["day"]]
    for group in np.flatnonzero(has):
        idx = np.flatnonzero(buy & (g == group))
        free, guest = x[group] - dups[group] - low_g[group], kind[idx] == GUEST
        # Guest orders take their share of the period's lines, their minimum lines included.
        share = (GUEST_LINE_SHARE[group] * x[group] - low[idx][guest].sum()) / max(free, 1)
        w = _period_weights(inv["weight"][idx], guest, share)
        cells = rng.multinomial(free, _month_shares(month[idx], group, cal))
        for m in np.flatnonzero(cells):
            at = month[idx] == m
            n_lines[idx[at]] += rng.multinomial(cells[m], w[at] / w[at].sum())
    return n_lines, dups


def _month_shares(month: np.ndarray, group: int, cal: Table) -> np.ndarray:
    """Each month's share of a period's purchase lines: as the real rows per month, among the months
    that have purchases in the period (``month`` of each)."""
    in_group = _period_of_day(np.arange(len(cal["days"])), cal) == group
    rows = np.bincount(cal["month"][in_group], (cal["weight"] * cal["lines"])[in_group], len(MONTH_ROWS))
    rows[~np.isin(np.arange(len(rows)), month)] = 0
    return rows / rows.sum()


def _period_weights(weight: np.ndarray, guest: np.ndarray, share: float) -> np.ndarray:
    """A period's purchase weights as probabilities, guest orders together taking ``share``."""
    w = weight.copy()
    if guest.any() and not guest.all():
        share = min(max(share, 0.0), 1.0)
        w[guest] *= share / w[guest].sum()
        w[~guest] *= (1 - share) / w[~guest].sum()
    return w / w.sum()
