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


def line_counts(df: pd.DataFrame) -> pd.Series:
    """Lines per row: the ``lines`` column of grouped lines (clean.split_lines), else 1 per line."""
    if "lines" in df.columns:
        return df["lines"].astype("int64")
    return pd.Series(1, index=df.index, dtype="int64")


def returned_values(df: pd.DataFrame) -> pd.Series:
    """GBP a returned line is worth, |quantity x unit_price|: the ``returned`` column of grouped
    lines (the sum of their lines' values), else each line's own."""
    if "returned" in df.columns:
        return df["returned"].astype("float64")
    return line_totals(df).abs()
