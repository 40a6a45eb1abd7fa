"""Figure tiles as small HTML blocks: the overview's KPIs, the build's totals, a customer's profile.

Every value is escaped: country names and segment texts come from the data.
"""

from __future__ import annotations

import html
import math

import pandas as pd

from lgs_analytics.analytics import due
from lgs_analytics.dashboard.kpi import Kpi, change_text
from lgs_analytics.numbers import count, gbp, pct

TILE_CSS = """
.tiles { display: flex; flex-wrap: wrap; gap: 12px; margin: 4px 0 8px 0; }
.tile { background: #F4F7FA; border-left: 4px solid #3A6F93; border-radius: 4px; padding: 10px 14px;
        min-width: 170px; flex: 1 1 170px; font-family: system-ui, sans-serif; color: #33404D; }
.tile .label { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: #5B6875; }
.tile .value { font-size: 24px; font-weight: 600; margin: 2px 0; }
.tile .note { font-size: 12px; color: #5B6875; }
.tile .up { color: #2F7D5B; font-weight: 600; } .tile .down { color: #B04A35; font-weight: 600; }
.tile.wide { flex: 2 1 340px; } .tile .value.text { font-size: 16px; }
.tile .value.reason { font-size: 14px; font-weight: 600; }
"""


def tile(label: str, value: str, note: str = "", note_class: str = "", wide: bool = False,
         value_class: str = "") -> str:
    """One tile's HTML; every argument is plain text (escaped here)."""
    e = html.escape
    return (f'<div class="tile{" wide" if wide else ""}"><div class="label">{e(label)}</div>'
            f'<div class="value {value_class}">{e(value)}</div>'
            f'<div class="note {note_class}">{e(note)}</div></div>')


def tiles(*blocks: str) -> str:
    return '<div class="tiles">' + "".join(blocks) + "</div>"


def kpi_tile(k: Kpi) -> str:
    value = gbp(k.value) if k.key == "net_sales" else count(k.value)
    trend = "" if k.change_pct is None else ("up" if k.change_pct >= 0 else "down")
    return tile(f"{k.label}, {k.month.strftime('%b %Y')}", value, change_text(k), trend)


def headline_tiles(headline: dict, alerts: pd.DataFrame, no_predictions: str = "") -> str:
    """The build's own totals, each saying what it counts: the report's headline figures, on its one
    basis (identified customers' orders). ``no_predictions`` (``'no predictions: <reason>'``, or
    empty): what the churn tile says instead of a count when the build has no predictions."""
    return tiles(
        tile("Net sales, whole period", gbp(headline["net_revenue"]),
             f"purchases {gbp(headline['gross_revenue'])} less cancellations"),
        tile("Customers scored", count(headline["customers"]), "identified customers with a purchase"),
        orders_tile(headline),
        churn_tile(alerts, no_predictions),
    )


def orders_tile(headline: dict) -> str:
    """The identified customers' orders and their average order (gross ÷ those orders), as the
    report's headline card counts them, with the purchase invoices they leave out."""
    return tile("Orders of identified customers", count(headline["customer_orders"]),
                f"average order {gbp(headline['average_order_value'], 2)} (gross ÷ these orders); not "
                f"counted: {count(headline['other_orders'])} guest or non-product purchase invoices "
                f"({count(headline['purchase_orders'])} in all); cancelled share of all invoices "
             f"{pct(headline['cancellation_rate_pct'])}")


def churn_tile(alerts: pd.DataFrame, no_predictions: str = "") -> str:
    """The churn alerts and their value at risk; without predictions, why there are none."""
    if no_predictions:
        return tile("Churn alerts", no_predictions, "churn alerts and value at risk need the models",
                    wide=True, value_class="reason")
    at_risk = alerts["value_at_risk"].sum() if len(alerts) else 0.0
    return tile("Churn alerts", count(len(alerts)), f"value at risk {gbp(at_risk)}")


def _probability(value) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.2f}"


def due_tile(row: pd.Series) -> str:
    """When the customer is due back, in words (analytics.due): the usual gap and the range, or why
    there is no date."""
    words = due.in_words(row.get("usual_gap_days"), row.get("due_from"), row.get("due_to"))
    if not words:
        return tile("Due back", "no date", "needs 3 or more order days to see a rhythm")
    status = str(row["due_status"])
    return tile(f"Due back: {status}", words[0].upper() + words[1:],
                {"due": "expected now", "overdue": "past the usual range",
                 "not yet": "not expected yet"}.get(status, ""), wide=True, value_class="text")


def no_order_tile(row: pd.Series, no_predictions: str = "") -> str:
    """The model's chance that the customer places no order in the next 90 days, in words; without
    predictions, why there are none."""
    if no_predictions:
        return tile("Next 90 days", no_predictions, "the chance of no order needs the models", wide=True,
                    value_class="reason")
    chance = row.get("p_no_order_90d")
    if chance is None or pd.isna(chance):
        return tile("Next 90 days", "no prediction for this customer", wide=True, value_class="reason")
    return tile("Next 90 days", f"Chance of no order in the next 90 days: {100 * float(chance):.0f}%",
                "the model's estimate from the customer's own buying rhythm", wide=True, value_class="text")


def profile_html(row: pd.Series, no_predictions: str = "") -> str:
    """A customer's tiles: segment and action, R/F/M scores, orders and spend, when the customer is
    due back, the chance of no order in the next 90 days, P(alive) and CLV.
    ``no_predictions`` (``'no predictions: <reason>'``, or empty): what the model tiles say
    when the build has no predictions."""
    last = pd.Timestamp(row["last_order"]).strftime("%d %b %Y") if pd.notna(row["last_order"]) else "–"
    first = pd.Timestamp(row["first_order"]).strftime("%d %b %Y") if pd.notna(row["first_order"]) else "–"
    alert = ("churn alert" + (f" ({row['churn_group']})" if pd.notna(row["churn_group"]) else "")
             if row["churn_risk"] else "no churn alert")
    risk = f"; value at risk {gbp(row['value_at_risk'])}" if pd.notna(row["value_at_risk"]) else ""
    return tiles(
        tile(f"Customer {row['customer']}", str(row["segment"]), str(row["action"]), wide=True),
        tile("R / F / M scores", f"{row['r_score']} / {row['f_score']} / {row['m_score']}",
             "1-5 each; 5 = most recent, most frequent, highest spend"),
        tile("Orders and spend", f"{count(row['orders'])} · {gbp(row['spend'], 2)}",
             f"net of cancellations; first order {first}"),
        tile("Last order", last, f"{count(row['days_since'])} days before the as-of date; {row['country']}"),
        due_tile(row),
        no_order_tile(row, no_predictions),
        tile("P(alive)", _probability(row["p_alive"]), no_predictions or alert + risk),
        tile("CLV, next 12 months", gbp(row["clv_12m"]),
             no_predictions or "expected spend, discounted (model)"),
    )
