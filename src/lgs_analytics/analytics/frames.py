"""Small checks and columns shared by the pure analytics modules (clean, rfm, predict)."""

from __future__ import annotations

import pandas as pd


def require_columns(df: pd.DataFrame, columns: tuple[str, ...], who: str) -> None:
    """Refuse a frame that lacks columns, naming them and the function that needs them."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{who} needs columns {missing}")


def line_totals(df: pd.DataFrame) -> pd.Series:
    """quantity x unit_price (GBP) per line; the ``line_total`` column when it is already there."""
    if "line_total" in df.columns:
        return df["line_total"].astype("float64")
    return df["quantity"].astype("float64") * df["unit_price"].astype("float64")
