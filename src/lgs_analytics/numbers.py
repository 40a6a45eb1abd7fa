"""Numbers as stakeholders read them, shared by the charts and the report's tables."""

from __future__ import annotations

import math


def _missing(value) -> bool:
    try:
        return value is None or math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def gbp(value: float, decimals: int = 0) -> str:
    """``1234.5`` -> ``'£1,235'`` (``decimals`` digits after the point; minus sign in front; NaN -> –)."""
    if _missing(value):
        return "–"
    sign = "−" if value < 0 else ""
    return f"{sign}£{abs(value):,.{decimals}f}"


def count(value: float) -> str:
    """A whole count with thousands separators: ``5878`` -> ``'5,878'``."""
    return "–" if _missing(value) else f"{int(round(float(value))):,}"


def pct(value: float, decimals: int = 1) -> str:
    """A value already in percent: ``12.345`` -> ``'12.3%'``."""
    return "–" if _missing(value) else f"{float(value):.{decimals}f}%"
