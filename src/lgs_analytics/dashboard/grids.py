"""The dashboard's tables: which columns the browser gets, their titles (with units) and formats.

Only the columns listed here leave the server: with pseudonymising on, the real customer ID is
not among them. Every text column is drawn with Tabulator's ``plaintext`` formatter (:data:`TEXT`),
which escapes: a country from an export is shown as it is spelled, never run as HTML.
"""

from __future__ import annotations

import pandas as pd
from bokeh.models.widgets.tables import DateFormatter, HTMLTemplateFormatter, NumberFormatter

CUSTOMER_COLUMNS: dict[str, str] = {
    "customer": "Customer", "segment": "Segment", "country": "Country", "customer_type": "Type",
    "last_order": "Last order", "days_since": "Days since", "orders": "Orders", "spend": "Spend (£)",
    "clv_12m": "CLV 12 m (£)",
    "p_alive": "P(alive)", "churn_risk": "Churn alert",
}
ALERT_COLUMNS: dict[str, str] = {
    "customer": "Customer", "value_at_risk": "Value at risk (£)", "churn_group": "Group",
    "segment": "Segment", "p_alive": "P(alive)", "spend": "Spend (£)", "last_order": "Last order",
    "days_since": "Days since", "country": "Country",
}
SEGMENT_COLUMNS: dict[str, str] = {
    "segment": "Segment", "customers": "Customers", "customer_share": "Customers (%)",
    "revenue": "Revenue (£)", "revenue_share": "Revenue (%)", "action": "Recommended action",
}
FLOW_COLUMNS: dict[str, str] = {
    "from_segment": "From", "to_segment": "To", "customers": "Customers", "spend_before": "Spend before (£)",
    "spend_between": "Spend between (£)",
}
ORDER_COLUMNS: dict[str, str] = {
    "invoice_no": "Invoice", "invoice_date": "Date", "kind": "Kind", "lines": "Lines", "units": "Units",
    "amount": "Amount (£)", "country": "Country",
}

NEXT_PRODUCT_COLUMNS: dict[str, str] = {
    "rank": "#", "stock_code": "Product", "description": "Description", "reason": "Why",
}
PARTNER_COLUMNS: dict[str, str] = {
    "related_code": "Product", "related_description": "Description", "baskets_together": "Baskets with both",
    "share": "Of its baskets (%)", "lift": "Times chance",
}
LIVE_COLUMNS: dict[str, str] = {
    "raised_at": "Raised (UTC)", "kind": "Event", "customer": "Customer", "invoice_no": "Invoice",
    "amount": "Order (£)", "segment": "Segment", "detail": "What happened",
}
BUYER_COLUMNS: dict[str, str] = {
    "customer": "Customer", "segment": "Segment", "rank": "Rank on their list", "reason": "Why",
}

# Tabulator's own money format: numbro (Bokeh's NumberFormatter) drops a £ sign.
MONEY = {"type": "money", "symbol": "£", "thousand": ",", "precision": 2}
# What a cell shows for a figure the build does not have (a model's, without predictions): the
# report's own mark for a missing number (report.formats), never NaN. The page says why.
MISSING = "–"
# The models' money columns: empty without predictions, where Tabulator's money format would print
# NaN. Pounds and pence as MONEY shows them, or MISSING; the column stays numeric (sorts as numbers).
MODEL_MONEY = HTMLTemplateFormatter(template=(
    f'<%= (value == null || isNaN(value)) ? "{MISSING}" : (value < 0 ? "−£" : "£") + Math.abs(value)'
    '.toLocaleString("en-GB", {minimumFractionDigits: 2, maximumFractionDigits: 2}) %>'))
MONEY_WHOLE = {"type": "money", "symbol": "£", "thousand": ",", "precision": 0}
WHOLE = NumberFormatter(format="0,0", text_align="right")
SHARE = NumberFormatter(format="0.0", text_align="right")
PROBABILITY = NumberFormatter(format="0.00", text_align="right", nan_format=MISSING, null_format=MISSING)
DAY = DateFormatter(format="%Y-%m-%d")
# Text: Tabulator's own formatter that escapes the value (never an HTML template around data).
TEXT = "plaintext"
TEXT_COLUMNS = ("customer", "segment", "country", "action", "churn_group", "churn_risk", "invoice_no", "kind",
                "stock_code", "description", "reason", "related_code", "related_description", "from_segment",
                "to_segment", "customer_type", "detail")
FORMATTERS = {
    "spend": MONEY, "amount": MONEY, "revenue": MONEY_WHOLE, "spend_before": MONEY_WHOLE,
    "spend_between": MONEY_WHOLE,
    "clv_12m": MODEL_MONEY, "value_at_risk": MODEL_MONEY,
    "days_since": WHOLE, "orders": WHOLE, "customers": WHOLE, "lines": WHOLE, "units": WHOLE,
    "customer_share": SHARE, "revenue_share": SHARE, "share": SHARE, "rank": WHOLE, "baskets_together": WHOLE,
    "lift": NumberFormatter(format="0,0", text_align="right"), "p_alive": PROBABILITY, "last_order": DAY,
    "invoice_date": DateFormatter(format="%Y-%m-%d %H:%M"),
    "raised_at": DateFormatter(format="%Y-%m-%d %H:%M:%S"),
    **dict.fromkeys(TEXT_COLUMNS, TEXT),
}


def shown(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Only ``columns`` of ``frame`` (in that order), with a plain 0..n index. The churn alert reads
    ``yes`` or empty, and :data:`MISSING` for a customer the models did not predict (no P(alive))."""
    out = frame[list(columns)].reset_index(drop=True)
    if "share" in out:  # a share of baskets, 0-1: shown in percent
        out["share"] = (100 * out["share"].astype("float64")).round(1)
    if "churn_risk" in out:
        predicted = frame["p_alive"].notna().to_numpy()
        out["churn_risk"] = out["churn_risk"].map({True: "yes", False: ""}).where(predicted, MISSING)
    return out


def options(columns: dict[str, str], **extra) -> dict:
    """Tabulator keyword arguments: titles, formats, read-only, no index."""
    # Copies: Panel pops the "type" out of a dict formatter it is given.
    formatters = {c: dict(f) if isinstance(f, dict) else f for c, f in FORMATTERS.items() if c in columns}
    return {"titles": columns, "formatters": formatters,
            "show_index": False, "disabled": True, "sizing_mode": "stretch_width", "layout": "fit_columns",
            **extra}
