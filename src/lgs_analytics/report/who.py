"""The report's "Who the customers are": customer types, segment mix by region, and the breakdowns by
the CRM's age bands, genders and areas, every cell of fewer than ten customers shown as "<10"
(analytics.demographics.breakdown, privacy.suppress_small_cells), or a plain sentence saying the
export carries no such attributes (nothing is ever invented).

Pure: takes a page, returns HTML.
"""

from __future__ import annotations

import html

import pandas as pd
from IPython.display import HTML

from lgs_analytics.analytics import customer_type as ct
from lgs_analytics.analytics import demographics
from lgs_analytics.numbers import gbp
from lgs_analytics.privacy import MIN_CELL, suppress_small_cells
from lgs_analytics.report.sections import STYLE, _table
from lgs_analytics.results import Page

NO_ATTRIBUTES = ("No CRM attributes are loaded: the web-shop export carries a country and nothing else "
                 "about a customer, so there is no breakdown by age band, gender or area, and none is "
                 "invented. `lgs load-customers FILE` adds them from LGS's customer records (stored only "
                 "as age band, gender and postcode area).")
RULE = (f"A customer's type comes from their median purchase order: <strong>wholesale</strong> at "
        f"{ct.WHOLESALE_UNITS:,}+ units or {gbp(ct.WHOLESALE_GBP)}+, <strong>retail</strong> under "
        f"{ct.RETAIL_UNITS:,} units and under {gbp(ct.RETAIL_GBP)}, <strong>trade</strong> in between "
        "(shops buying by the dozen).")
SUPPRESSION = (f"Cells counting fewer than {MIN_CELL} customers are shown as &lt;{MIN_CELL}, with the "
               "figures computed from them. (A cell can still be worked out by subtracting the others "
               "of its row from the row's total: that secondary suppression is not done yet.)")


def _html_table(table: pd.DataFrame, numeric: bool = True) -> str:
    header = [demographics.LABELS.get(str(c), str(c).replace("_", " ")) for c in table.columns]
    rows = [[html.escape(str(v)) for v in row] for row in table.itertuples(index=False)]
    right = set(range(1, len(header))) if numeric else set()
    return f'<div style="overflow-x: auto">{_table(rows, header, right)}</div>'


def type_summary(campaign: pd.DataFrame) -> pd.DataFrame:
    """The types' customers, shares, spend and median order, small cells suppressed."""
    table = ct.type_table(campaign).reset_index()
    shown = table.assign(spend=table["spend"].map(lambda v: f"£{v:,.0f}"),
                         customer_share=table["customer_share"].map(lambda v: f"{v:.1f}%"),
                         spend_share=table["spend_share"].map(lambda v: f"{v:.1f}%"),
                         median_order_gbp=table["median_order_gbp"].map(lambda v: f"£{v:,.0f}"),
                         median_order_units=table["median_order_units"].map(lambda v: f"{v:,.0f}"))
    return suppress_small_cells(shown, {"customers": ("customer_share", "spend", "spend_share",
                                                      "median_order_units", "median_order_gbp")})


def offers_by_type(campaign: pd.DataFrame, top: int = 3) -> pd.DataFrame:
    """The first recommended product most often given to each type: how the recommendations differ."""
    rows = []
    for kind in ct.TYPES:
        offers = campaign.loc[campaign["customer_type"] == kind, "offer_1"].dropna()
        counts = offers.value_counts()
        counts = counts[counts >= MIN_CELL].head(top)
        rows.append({"customer_type": kind, "most recommended first": "; ".join(
            f"{name} ({n:,})" for name, n in counts.items()) or f"none given to {MIN_CELL}+ customers"})
    return pd.DataFrame(rows)


def section(page: Page) -> HTML:
    """Types, regions and (when loaded) the CRM breakdowns, as one block of HTML."""
    listed = page.campaign
    parts = [STYLE, '<style>div.lgs-summary.lgs-who {max-width: none} .lgs-who p {max-width: 62em}</style>',
             '<div class="lgs-summary lgs-who">', f"<p>{RULE}</p>", _html_table(type_summary(listed)),
             "<h4>Segments by customer type</h4>",
             _html_table(demographics.breakdown(listed, "customer_type"))]
    if "offer_1" in listed and listed["offer_1"].notna().any():
        parts += ["<h4>What each type is offered first</h4>",
                  _html_table(offers_by_type(listed), numeric=False)]
    parts += ["<h4>Segments by region</h4>", _html_table(demographics.breakdown(listed, "region"))]
    if demographics.has_attributes(listed):
        for by in ("age_band", "gender", "area"):
            if listed[by].notna().any():
                parts += [f"<h4>By {demographics.BREAKDOWNS[by].lower()} (from the CRM)</h4>",
                          _html_table(demographics.breakdown(listed, by))]
    else:
        parts.append(f"<p>{html.escape(NO_ATTRIBUTES)}</p>")
    parts += [f'<p class="lgs-note">{SUPPRESSION}</p>', "</div>"]
    return HTML("".join(parts))
