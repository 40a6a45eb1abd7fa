"""Recommendations as people read them: the report's "Sold together" section, and the plain text
of `lgs recommend` (a customer's next products; a product's partners and likely buyers).

Pure of the database: takes what a build published (results.Recommendations) and writes HTML or
text.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
from IPython.display import HTML

from lgs_analytics.analytics.recommend import strongest_pairs
from lgs_analytics.numbers import count, pct
from lgs_analytics.report.sections import STYLE, _table


def quality_sentence(quality: dict) -> str:
    """What the build's holdout check showed, in one or two sentences."""
    if not quality:
        return "This build has no recommendations: it was published by an older version; run `lgs build`."
    personal, baseline = quality.get("co-occurrence"), quality.get("popularity")
    if not personal or not baseline:
        return f"Not checked: {quality.get('why', '')}."
    top, customers = quality["top"], quality["customers"]
    verdict = (
        "Personal lists are published."
        if quality["scorer"] == "co-occurrence"
        else "Personal lists are withheld: every customer gets the popular products of their country."
    )
    return (
        f"Checked on what happened next: lists made from the purchases before {quality['cutoff']} "
        f"were compared with the products {count(customers)} customers then bought for the first time "
        f"(the {quality['days']} days to the as-of date). {pct(100 * personal['hit_rate'])} of them bought "
        f"at least one of the {top} products recommended to them from what sells together, against "
        f"{pct(100 * baseline['hit_rate'])} when offered the {top} most popular products in their country. "
        f"{verdict}"
    )


QUALITY_HEADER = ["Recommended by", "Customers who bought one of their top 10", "Hits per customer"]


def quality_table(quality: dict) -> str:
    rows = [
        [
            html.escape(name.capitalize()),
            pct(100 * quality[name]["hit_rate"]),
            f"{quality[name]['mean_hits']:.2f}",
        ]
        for name in ("popularity", "co-occurrence")
        if quality.get(name)
    ]
    return _table(rows, QUALITY_HEADER, numeric={1, 2}) if rows else ""


PAIR_HEADER = ["Product", "Sells with", "Baskets with both", "Share of its baskets", "Times chance", "Score"]


def pairs_table(pairs: pd.DataFrame) -> str:
    rows = [
        [
            html.escape(f"{r['description']} ({r['stock_code']})"),
            html.escape(f"{r['related_description']} ({r['related_code']})"),
            count(r["baskets_together"]),
            pct(100 * r["share"]),
            f"{r['lift']:,.0f}×",
            f"{r['score']:.2f}",
        ]
        for r in _records(strongest_pairs(pairs))
    ]
    return _table(rows, PAIR_HEADER, numeric={2, 3, 4, 5})


def section(recommended) -> HTML:
    """The report's recommendation section: the holdout check, and the strongest pairs."""
    if recommended is None or not recommended.quality:
        return HTML(STYLE + f"<p>{html.escape(quality_sentence({}))}</p>")
    parts = [
        STYLE,
        f"<p>{html.escape(quality_sentence(recommended.quality))}</p>",
        quality_table(recommended.quality),
    ]
    if not recommended.pairs.empty:
        parts += ["<h3>The strongest pairs</h3>", pairs_table(recommended.pairs)]
    return HTML("".join(parts))


# --- the text of `lgs recommend` -------------------------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None or pd.isna(value) else str(value).strip()


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def customer_lines(customer_id: object, lists: pd.DataFrame) -> list[str]:
    """A customer's next products, one line each, best first."""
    if lists.empty:
        return [
            f"customer {customer_id} has no recommendations in the published build (not scored: "
            "no purchase before its as-of date)"
        ]
    scorer = "bought together" if (lists["scorer"] == "co-occurrence").any() else "popularity"
    lines = [f"customer {customer_id}: {len(lists)} products new to them ({scorer})"]
    lines += [
        f"{r['rank']:>3}. {r['stock_code']:<8} {_text(r['description'])} — {_text(r['reason'])}"
        for r in _records(lists)
    ]
    return lines


def product_lines(stock_code: str, pairs: pd.DataFrame, buyers: pd.DataFrame, shown: int = 10) -> list[str]:
    """A product's partners and the customers it is recommended to (strongest first)."""
    lines = []
    if pairs.empty:
        lines.append(
            f"product {stock_code}: no product sells with it in at least 3 baskets of up to 50 products"
        )
    else:
        lines.append(f"product {stock_code} ({_text(pairs['description'].iloc[0])}) sells with:")
        lines += [
            f"{r['rank']:>3}. {r['related_code']:<8} {_text(r['related_description'])} — "
            f"in {count(r['baskets_together'])} "
            f"baskets together, {pct(100 * r['share'])} of its baskets, {r['lift']:,.0f}× chance"
            for r in _records(pairs)
        ]
    if buyers.empty:
        lines.append(f"no customer has {stock_code} among their recommended products")
    else:
        lines.append(
            f"likely next buyers ({count(len(buyers))} customers have it on their list; "
            f"the {min(shown, len(buyers))} strongest):"
        )
        lines += [
            f"  customer {r['customer_id']}: rank {r['rank']} — {r['reason']}"
            for r in _records(buyers.head(shown))
        ]
    return lines
