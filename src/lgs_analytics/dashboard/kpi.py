"""The overview's KPI tiles: the latest complete month against the same month a year before.

Pure: the published monthly frames in, figures out. A partial last month (December 2011 has
nine days) is never compared: it would look like a collapse.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

# Tile key -> (label, what it counts). Each is a column of :func:`monthly_figures`.
TILES: dict[str, tuple[str, str]] = {
    "net_sales": ("Net sales", "purchases minus cancellations, GBP"),
    "orders": ("Purchase invoices", "purchase invoices placed, guest orders included"),
    "active_customers": ("Active customers", "customers with any invoice in the month"),
    "new_customers": ("New customers", "customers whose first purchase fell in the month"),
}


def monthly_figures(sales: pd.DataFrame, orders: pd.DataFrame, active_users: pd.DataFrame,
                    new_vs_existing: pd.DataFrame) -> pd.DataFrame:
    """One row per month (``month`` a Period): net_sales, orders, active_customers, new_customers,
    is_partial; from the build's own aggregates (analytics.metrics), nothing recomputed."""
    out = sales[["month", "net_sales", "is_partial"]].merge(
        orders[["month", "placed"]].rename(columns={"placed": "orders"}), on="month", how="outer")
    out = out.merge(active_users[["month", "active_customers"]], on="month", how="outer")
    out = out.merge(new_vs_existing[["month", "new_customers"]], on="month", how="outer")
    out["is_partial"] = out["is_partial"].fillna(False).astype(bool)
    for column in ("orders", "active_customers", "new_customers"):
        out[column] = out[column].fillna(0).astype("int64")
    out["net_sales"] = out["net_sales"].fillna(0.0)
    return out.sort_values("month").reset_index(drop=True)


@dataclass(frozen=True)
class Kpi:
    """One tile: a month's figure and the same month's a year before (None: not in the data)."""

    key: str
    label: str
    counts: str
    month: pd.Period
    value: float
    previous_month: pd.Period
    previous: float | None

    @property
    def change_pct(self) -> float | None:
        """Percent change against a year before; None without a base to compare with."""
        if self.previous is None or self.previous == 0:
            return None
        return (self.value - self.previous) / abs(self.previous) * 100


def latest_full_month(monthly: pd.DataFrame) -> pd.Period | None:
    """The last month that is not partial, or None when every month is."""
    full = monthly.loc[~monthly["is_partial"], "month"]
    return None if full.empty else full.iloc[-1]


def year_over_year(monthly: pd.DataFrame, month: pd.Period | None = None) -> list[Kpi]:
    """The tiles of :data:`TILES` for ``month`` (default: the latest complete one) against the
    same month a year before; empty when no month is complete."""
    month = latest_full_month(monthly) if month is None else month
    if month is None:
        return []
    by_month = monthly.set_index("month")
    before = month - 12
    row = by_month.loc[month]
    base = by_month.loc[before] if before in by_month.index else None
    return [Kpi(key, label, counts, month, float(row[key]), before,
                None if base is None else float(base[key]))
            for key, (label, counts) in TILES.items()]


def change_text(kpi: Kpi) -> str:
    """``'+12.5% vs Nov 2010'``, or why there is no comparison."""
    when = kpi.previous_month.strftime("%b %Y")
    if kpi.previous is None:
        return f"no data for {when}"
    if kpi.change_pct is None:
        return f"none in {when}"
    sign = "+" if kpi.change_pct >= 0 else "−"
    return f"{sign}{abs(kpi.change_pct):.1f}% vs {when}"
