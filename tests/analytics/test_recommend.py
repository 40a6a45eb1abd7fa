"""Recommendations (analytics/recommend.py) on baskets whose pairs and scores are worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lgs_analytics.analytics import recommend

DAY = pd.Timestamp("2011-11-01")
AS_OF = pd.Timestamp("2011-12-01")


def items(rows: list[tuple[str, int, str]], day: pd.Timestamp = DAY) -> pd.DataFrame:
    """Basket items (invoice, customer, product) all bought on ``day``."""
    return pd.DataFrame(
        {
            "invoice_no": [r[0] for r in rows],
            "customer_id": [r[1] for r in rows],
            "stock_code": [r[2] for r in rows],
            "invoice_date": day,
        }
    )


# Five baskets. Sizes: I1 3 products, I2 2, I3 3, I4 2, I5 1 (a single product: no pair).
# A basket of k products adds 1/(k-1) to each of its pairs: I1 and I3 add 1/2, I2 and I4 add 1.
#   A-B: I1 + I2 + I3 = 1/2 + 1 + 1/2 = 2.0 (3 baskets)     B-C: I1 + I4 = 1/2 + 1 = 1.5 (2 baskets)
#   A-C: I1 = 0.5 (1)   A-D: I3 = 0.5 (1)   B-D: I3 = 0.5 (1)
# Baskets counted (2+ products) with each product: A 3, B 4, C 2, D 1; 4 baskets in all.
BASKETS = items(
    [
        ("I1", 1, "A"),
        ("I1", 1, "B"),
        ("I1", 1, "C"),
        ("I2", 2, "A"),
        ("I2", 2, "B"),
        ("I3", 3, "A"),
        ("I3", 3, "B"),
        ("I3", 3, "D"),
        ("I4", 2, "B"),
        ("I4", 2, "C"),
        ("I5", 4, "A"),
    ]
)
COUNTRIES = pd.Series({1: "United Kingdom", 2: "United Kingdom", 3: "France", 4: "France"})


def score(sim: recommend.Similarity, a: str, b: str) -> float:
    i, j = sim.products.get_loc(a), sim.products.get_loc(b)
    return float(sim.score[i, j])


def test_pair_scores_are_the_weighted_cosine_worked_out_by_hand():
    sim = recommend.similarity(BASKETS, min_together=1)
    assert sim.n_baskets == 4
    assert list(sim.baskets) == [3, 4, 2, 1]  # A B C D
    assert score(sim, "A", "B") == pytest.approx(2.0 / math.sqrt(3 * 4))
    assert score(sim, "B", "C") == pytest.approx(1.5 / math.sqrt(4 * 2))
    assert score(sim, "A", "C") == pytest.approx(0.5 / math.sqrt(3 * 2))
    assert score(sim, "A", "D") == pytest.approx(0.5 / math.sqrt(3 * 1))
    assert score(sim, "B", "D") == pytest.approx(0.5 / math.sqrt(4 * 1))
    assert score(sim, "C", "D") == 0 and score(sim, "A", "A") == 0
    assert score(sim, "B", "A") == score(sim, "A", "B")


def test_the_support_floor_drops_pairs_found_in_too_few_baskets():
    sim = recommend.similarity(BASKETS, min_together=2)
    kept = {(sim.products[i], sim.products[j]) for i, j in zip(*sim.score.nonzero(), strict=True)}
    assert kept == {("A", "B"), ("B", "A"), ("B", "C"), ("C", "B")}


def test_baskets_over_the_cap_are_left_out():
    big = items([("W", 9, code) for code in ("A", "B", "C", "D")])  # 4 products, cap 3: not a basket
    sim = recommend.similarity(pd.concat([BASKETS, big]), cap=3, min_together=1)
    assert sim.n_baskets == 4
    assert score(sim, "C", "D") == 0


def test_product_pairs_rank_each_product_s_partners_with_lift_and_share():
    pairs = recommend.product_pairs(recommend.similarity(BASKETS, min_together=1))
    a = pairs[pairs["stock_code"] == "A"]
    assert list(a["related_code"]) == ["B", "D", "C"]  # 0.577 > 0.289 > 0.204
    assert list(a["rank"]) == [1, 2, 3]
    ab = a.iloc[0]
    assert ab["baskets_together"] == 3
    assert ab["lift"] == pytest.approx(3 * 4 / (3 * 4))  # together x baskets / (with A x with B)
    assert ab["share"] == pytest.approx(3 / 3)  # every basket with A holds B
    ba = pairs[(pairs["stock_code"] == "B") & (pairs["related_code"] == "A")].iloc[0]
    assert ba["share"] == pytest.approx(3 / 4)


def test_a_customer_is_offered_what_sells_with_their_products_never_what_they_bought():
    sim = recommend.similarity(BASKETS, min_together=1)
    lists = recommend.recommend(BASKETS, AS_OF, COUNTRIES, sim=sim)
    four = lists[lists["customer_id"] == 4]  # bought A only: A's partners by score
    assert list(four["stock_code"]) == ["B", "D", "C"]
    assert list(four["based_on"]) == ["A", "A", "A"]
    assert four["score"].iloc[0] == pytest.approx(2.0 / math.sqrt(12))
    two = lists[lists["customer_id"] == 2]  # bought A, B, C: only D is new; A (0.289) beats B (0.25)
    assert list(two["stock_code"]) == ["D"]
    assert two["score"].iloc[0] == pytest.approx(0.5 / math.sqrt(3) + 0.5 / math.sqrt(4))
    assert two["based_on"].iloc[0] == "A"
    for customer, rows in lists.groupby("customer_id"):
        assert not set(rows["stock_code"]) & set(
            BASKETS.loc[BASKETS["customer_id"] == customer, "stock_code"]
        )


def test_products_no_longer_sold_are_not_offered():
    old = items([("I0", 5, "A"), ("I0", 5, "E")], day=pd.Timestamp("2011-01-10"))  # E: last sold in January
    lists = recommend.recommend(
        pd.concat([BASKETS, old]),
        AS_OF,
        COUNTRIES,
        sim=recommend.similarity(pd.concat([BASKETS, old]), min_together=1),
    )
    assert "E" not in set(lists["stock_code"])


def test_short_lists_are_completed_with_popular_products_labelled_as_such():
    lists = recommend.recommend(
        BASKETS, AS_OF, COUNTRIES, n=3, sim=recommend.similarity(BASKETS, min_together=2)
    )
    one = lists[lists["customer_id"] == 1]  # bought A, B, C; no pair leads anywhere new: D, popular
    assert list(one["stock_code"]) == ["D"]
    assert one["reason"].iloc[0] == "popular across the shop"  # the UK has under 20 recent buyers
    assert one["scorer"].iloc[0] == "popularity" and pd.isna(one["based_on"].iloc[0])
    assert one["score"].iloc[0] == pytest.approx(1 / 4)  # 1 of the 4 recent buyers bought D


def test_popularity_uses_a_country_s_own_list_when_it_has_enough_buyers():
    rows = [(f"F{c}", c, "X") for c in range(100, 125)] + [("U1", 1, "Y"), ("U2", 2, "Y"), ("U3", 3, "Y")]
    countries = pd.Series(
        {
            **{c: "Germany" for c in range(100, 125)},
            1: "United Kingdom",
            2: "United Kingdom",
            3: "United Kingdom",
            200: "Germany",
        }
    )
    lists = recommend.recommend(items(rows), AS_OF, countries, recommend.POPULARITY, n=1)
    assert lists.loc[lists["customer_id"] == 200, "reason"].item() == "popular in Germany"
    assert lists.loc[lists["customer_id"] == 200, "stock_code"].item() == "X"
    assert lists.loc[lists["customer_id"] == 1, "stock_code"].item() == "X"  # bought Y; the shop's list
    assert lists.loc[lists["customer_id"] == 1, "reason"].item() == "popular across the shop"


def test_hits_and_quality_count_what_customers_bought_next():
    lists = pd.DataFrame({"customer_id": [1, 1, 2, 2, 3], "stock_code": ["A", "B", "A", "C", "D"]})
    bought_next = pd.DataFrame({"customer_id": [1, 1, 2, 4], "stock_code": ["A", "B", "E", "A"]})
    found = recommend.hits(lists, bought_next)
    assert found.to_dict() == {1: 2, 2: 0, 4: 0}
    assert recommend.quality(found) == {"hit_rate": round(1 / 3, 4), "mean_hits": round(2 / 3, 4)}


def paired_shop(customers: int = 40) -> pd.DataFrame:
    """Products sell in pairs (P0-P1, P2-P3 ...); before the cut-off many baskets hold a pair, each test
    customer buys one product of a pair, and after it buys the partner. A best seller (Z) is bought
    by everyone before, so popularity offers the wrong things."""
    before, after = pd.Timestamp("2011-08-01"), pd.Timestamp("2011-11-15")
    rows = []
    for basket in range(60):
        pair = basket % 5
        rows += [
            (f"B{basket}", 1000 + basket, f"P{2 * pair}", before),
            (f"B{basket}", 1000 + basket, f"P{2 * pair + 1}", before),
            (f"B{basket}", 1000 + basket, "Z", before),
        ]
    for c in range(customers):
        pair = c % 5
        rows += [
            (f"C{c}", c, f"P{2 * pair}", before),
            (f"C{c}", c, "Z", before),
            (f"N{c}", c, f"P{2 * pair + 1}", after),
        ]
    rows += [("R1", 2000, f"P{k}", pd.Timestamp("2011-11-20")) for k in range(10)]  # all still sold
    return pd.DataFrame(rows, columns=["invoice_no", "customer_id", "stock_code", "invoice_date"])


def test_the_holdout_picks_co_occurrence_when_it_beats_popularity():
    shop = paired_shop()
    countries = pd.Series("United Kingdom", index=shop["customer_id"].unique())
    checked = recommend.holdout(shop, AS_OF, countries, n=1)
    assert checked["cutoff"] == "2011-09-02" and checked["customers"] == 40
    assert checked["co-occurrence"] == {"hit_rate": 1.0, "mean_hits": 1.0}
    assert checked["popularity"]["hit_rate"] < 1.0
    assert checked["winner"] == "co-occurrence"
    assert "beat popularity" in checked["why"] and "100.0% of 40 customers" in checked["why"]


def test_the_holdout_keeps_popularity_when_co_occurrence_does_not_beat_it():
    shop = paired_shop()
    after = shop["invoice_no"].str.startswith("N")
    shop.loc[after, "stock_code"] = "Q"  # everyone's next product: one always bought alone, by many
    shop = pd.concat(
        [
            shop,
            pd.DataFrame(
                {
                    "invoice_no": [f"Q{k}" for k in range(50)],
                    "customer_id": range(3000, 3050),
                    "stock_code": "Q",
                    "invoice_date": pd.Timestamp("2011-08-20"),
                }
            ),
        ]
    )
    countries = pd.Series("United Kingdom", index=shop["customer_id"].unique())
    checked = recommend.holdout(shop, AS_OF, countries, n=1)
    assert checked["winner"] == "popularity"
    assert checked["popularity"]["hit_rate"] == 1.0
    assert "did not beat popularity" in checked["why"]


def test_too_few_customers_to_check_means_no_personal_lists():
    shop = paired_shop(customers=10)
    countries = pd.Series("United Kingdom", index=shop["customer_id"].unique())
    checked = recommend.holdout(shop, AS_OF, countries)
    assert checked["winner"] == "popularity" and checked["customers"] == 10
    assert "only 10 customers" in checked["why"]


def test_recommendations_publish_the_winner_with_descriptions_and_reasons():
    shop = paired_shop()
    countries = pd.Series("United Kingdom", index=shop["customer_id"].unique())
    names = pd.Series({f"P{k}": f"PRODUCT {k}" for k in range(10)})
    result = recommend.recommendations(shop, names, AS_OF, countries, n=3)
    assert result.quality["scorer"] == "co-occurrence"
    zero = result.customers[result.customers["customer_id"] == 0]  # bought P0, Z (before) and P1 (after)
    assert zero["rank"].tolist() == [1, 2, 3]
    assert "P0" not in set(zero["stock_code"]) and "P1" not in set(zero["stock_code"])
    for row in zero.itertuples():
        assert row.reason == f"bought together with {names.get(row.based_on, row.based_on)}"
    assert set(result.pairs["baskets_together"]) and result.pairs["baskets_together"].min() >= 3
    assert (
        result.pairs.loc[result.pairs["stock_code"] == "Z", "description"].iloc[0] == "Z"
    )  # no name: the code


def test_strongest_pairs_lists_each_pair_once_from_its_rarer_product():
    pairs = recommend.product_pairs(recommend.similarity(BASKETS, min_together=1))
    top = recommend.strongest_pairs(pairs, n=2, min_baskets=1)
    assert list(zip(top["stock_code"], top["related_code"], strict=True)) == [("A", "B"), ("C", "B")]
    assert top["share"].tolist() == [1.0, 1.0]  # A->B 3/3; C->B 2/2 (not B->C 2/4)


def test_scoring_customers_in_blocks_changes_nothing(monkeypatch):
    sim = recommend.similarity(BASKETS, min_together=1)
    whole = recommend.recommend(BASKETS, AS_OF, COUNTRIES, sim=sim)
    monkeypatch.setattr(recommend, "DENSE_CELLS", 4)  # one customer per block
    pd.testing.assert_frame_equal(recommend.recommend(BASKETS, AS_OF, COUNTRIES, sim=sim), whole)


def test_the_ranking_is_exact_on_ties():
    dense = np.array([[0.5, 0.5, 0.0, 0.2], [0.0, 0.0, 0.0, 0.0], [0.1, 0.3, 0.3, 0.0]])
    rows, columns, values, ranks = recommend._top_of_dense(dense.copy(), 2)
    assert (
        rows.tolist() == [0, 0, 2, 2] and columns.tolist() == [0, 1, 1, 2] and ranks.tolist() == [1, 2, 1, 2]
    )
    assert values.tolist() == [0.5, 0.5, 0.3, 0.3]
