"""The recommendation section and `lgs recommend`'s text (report/recommendations.py), numbers checked."""

from __future__ import annotations

import pandas as pd

from lgs_analytics.report import findings, recommendations
from lgs_analytics.results import Recommendations

QUALITY = {
    "cutoff": "2011-09-11",
    "days": 90,
    "top": 10,
    "customers": 1860,
    "scorer": "co-occurrence",
    "popularity": {"hit_rate": 0.3462, "mean_hits": 0.5817},
    "co-occurrence": {"hit_rate": 0.5011, "mean_hits": 0.978},
    "why": "...",
}
PAIRS = pd.DataFrame(
    {
        "stock_code": ["23498", "23552", "22697"],
        "description": ["CLASSIC BICYCLE CLIPS ", "PUNCTURE KIT", "TEACUP"],
        "rank": [1, 1, 1],
        "related_code": ["23552", "23498", "22698"],
        "related_description": ["PUNCTURE KIT", "CLASSIC BICYCLE CLIPS ", "PINK TEACUP"],
        "score": [0.12, 0.12, 0.06],
        "lift": [159.2, 159.2, 24.4],
        "baskets_together": [43, 43, 368],
        "share": [0.705, 0.30, 0.838],
    }
)


def test_the_quality_sentence_states_the_holdout_figures():
    text = recommendations.quality_sentence(QUALITY)
    assert "purchases before 2011-09-11" in text and "1,860 customers" in text and "90 days" in text
    assert "50.1% of them bought at least one of the 10 products" in text and "against 34.6%" in text
    assert text.endswith("Personal lists are published.")
    withheld = recommendations.quality_sentence({**QUALITY, "scorer": "popularity"})
    assert withheld.endswith("the popular products of their country.")
    assert (
        recommendations.quality_sentence(
            {"why": "only 12 customers bought ...", "scorer": "popularity", "customers": 12}
        )
        == "Not checked: only 12 customers bought ...."
    )


def test_the_quality_table_and_the_pairs_table():
    table = recommendations.quality_table(QUALITY)
    assert '<td>Popularity</td><td class="num">34.6%</td><td class="num">0.58</td>' in table
    assert '<td>Co-occurrence</td><td class="num">50.1%</td><td class="num">0.98</td>' in table
    pairs = recommendations.pairs_table(PAIRS)
    assert pairs.count("<tr>") == 3  # the header and two pairs: the bicycle pair once
    assert (
        "CLASSIC BICYCLE CLIPS  (23498)" in pairs and "70.5%" in pairs and "159×" in pairs and "368" in pairs
    )


def test_the_finding_names_the_strongest_pair():
    page = type("P", (), {"recommendations": Recommendations(pd.DataFrame(), PAIRS, QUALITY)})()
    assert findings.sold_together(page) == (
        "The strongest pair: 70% of the baskets with Classic Bicycle Clips also hold Puncture Kit "
        "(43 baskets, 159 times what chance would give)."
    )
    page.recommendations = None
    assert findings.sold_together(page) == "No two products were bought together in 3 baskets or more."


def test_lgs_recommend_lines():
    lists = pd.DataFrame(
        {
            "customer_id": [7, 7],
            "rank": [1, 2],
            "stock_code": ["23552", "84879"],
            "description": ["PUNCTURE KIT ", None],
            "reason": ["bought together with CLIPS", "popular in Germany"],
            "scorer": ["co-occurrence", "popularity"],
        }
    )
    assert recommendations.customer_lines(7, lists) == [
        "customer 7: 2 products new to them (bought together)",
        "  1. 23552    PUNCTURE KIT — bought together with CLIPS",
        "  2. 84879     — popular in Germany",
    ]
    buyers = lists.assign(stock_code="23552")
    lines = recommendations.product_lines("23498", PAIRS.iloc[:1], buyers)
    assert lines[0] == "product 23498 (CLASSIC BICYCLE CLIPS) sells with:"
    assert (
        lines[1] == "  1. 23552    PUNCTURE KIT — in 43 baskets together, 70.5% of its baskets, 159× chance"
    )
    assert lines[2] == "likely next buyers (2 customers have it on their list; the 2 strongest):"
    assert recommendations.product_lines("X", PAIRS.iloc[:0], buyers.iloc[:0]) == [
        "product X: no product sells with it in at least 3 baskets of up to 50 products",
        "no customer has X among their recommended products",
    ]
