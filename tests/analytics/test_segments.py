"""Segment map, segment table and segment summary."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from lgs_analytics.analytics.segments import (
    SEGMENT_MAP,
    SEGMENT_NAMES,
    SEGMENTS,
    act_order,
    assign_segments,
    segment_summary,
)

# All 25 R+F codes with their segment, written out by hand from DESIGN.md's map.
EXPECTED: dict[str, str] = {
    "11": "Hibernating", "12": "Hibernating", "21": "Hibernating", "22": "Hibernating",
    "13": "At Risk", "14": "At Risk", "23": "At Risk", "24": "At Risk",
    "15": "Can't Lose", "25": "Can't Lose",
    "31": "About to Sleep", "32": "About to Sleep",
    "33": "Need Attention",
    "34": "Loyal Customers", "35": "Loyal Customers",
    "44": "Loyal Customers", "45": "Loyal Customers",
    "41": "Promising",
    "51": "New Customers",
    "42": "Potential Loyalists", "43": "Potential Loyalists",
    "52": "Potential Loyalists", "53": "Potential Loyalists",
    "54": "Champions", "55": "Champions",
}


def test_expected_table_covers_all_25_codes() -> None:
    assert sorted(EXPECTED) == [f"{r}{f}" for r in range(1, 6) for f in range(1, 6)]
    assert set(EXPECTED.values()) == set(SEGMENT_NAMES)
    assert len(SEGMENT_NAMES) == 10


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_every_code_maps_to_its_segment(code: str) -> None:
    r = pd.Series([int(code[0])])
    f = pd.Series([int(code[1])])
    assert assign_segments(r, f).tolist() == [EXPECTED[code]]


def test_each_code_matches_exactly_one_anchored_pattern() -> None:
    for code, name in EXPECTED.items():
        hits = [seg for pat, seg in SEGMENT_MAP.items() if re.search(pat, code)]
        assert hits == [name], code
    # Anchored: no pattern matches a longer string containing a valid code.
    for pat in SEGMENT_MAP:
        assert pat.startswith("^") and pat.endswith("$")
        assert not any(re.search(pat, c + "1") for c in EXPECTED)


def test_assign_segments_vectorised_keeps_index_and_order() -> None:
    r = pd.Series([5, 1, 3, 5, 2], index=[10, 11, 12, 13, 14])
    f = pd.Series([5, 1, 3, 1, 5], index=[10, 11, 12, 13, 14])
    out = assign_segments(r, f)
    assert out.index.tolist() == [10, 11, 12, 13, 14]
    assert out.name == "segment"
    assert out.tolist() == [
        "Champions", "Hibernating", "Need Attention", "New Customers", "Can't Lose",
    ]


def test_assign_segments_accepts_categorical_scores() -> None:
    r = pd.Series(pd.Categorical([5, 4], categories=[5, 4, 3, 2, 1]))
    f = pd.Series(pd.Categorical([4, 1], categories=[1, 2, 3, 4, 5]))
    assert assign_segments(r, f).tolist() == ["Champions", "Promising"]


@pytest.mark.parametrize("bad", [0, 6])
def test_assign_segments_rejects_scores_outside_1_to_5(bad: int) -> None:
    with pytest.raises(ValueError, match="1-5"):
        assign_segments(pd.Series([bad]), pd.Series([3]))


def test_segments_table() -> None:
    assert list(SEGMENTS.columns) == ["segment", "description", "action"]  # the order is the data's
    assert SEGMENTS["segment"].tolist()[0] == "Champions"
    assert SEGMENTS["description"].str.len().min() > 10
    assert SEGMENTS["action"].str.len().min() > 10
    champions = SEGMENTS.set_index("segment").loc["Champions", "action"]
    assert "early access" in champions.lower()


def _rfm_table() -> pd.DataFrame:
    # 5 customers in 3 segments; 7 segments empty.
    return pd.DataFrame({
        "customer_id": [1, 2, 3, 4, 5],
        "recency": [1, 3, 100, 200, 5],
        "frequency": [10, 6, 1, 1, 8],
        "monetary": [1000.0, 500.0, 20.0, 30.0, 450.0],
        "segment": ["Champions", "Champions", "Hibernating", "Hibernating", "Champions"],
    })


def test_segment_summary_by_hand() -> None:
    out = segment_summary(_rfm_table())
    assert len(out) == 10
    assert set(out["segment"]) == set(SEGMENT_NAMES)
    assert out["customers"].tolist()[:2] == [3, 2]
    assert out["customers"].sum() == 5
    champ = out.set_index("segment").loc["Champions"]
    # 3 of 5 customers = 60 %; revenue 1000 + 500 + 450 = 1950 of 2000 = 97.5 %
    assert champ["customers"] == 3
    assert champ["customer_share"] == pytest.approx(60.0)
    assert champ["revenue"] == pytest.approx(1950.0)
    assert champ["revenue_share"] == pytest.approx(97.5)
    assert champ["mean_recency"] == pytest.approx(3.0)  # (1 + 3 + 5) / 3
    assert champ["mean_frequency"] == pytest.approx(8.0)  # (10 + 6 + 8) / 3
    assert champ["mean_monetary"] == pytest.approx(650.0)  # 1950 / 3
    hib = out.set_index("segment").loc["Hibernating"]
    assert hib["revenue"] == pytest.approx(50.0)
    assert hib["revenue_share"] == pytest.approx(2.5)
    assert hib["mean_recency"] == pytest.approx(150.0)
    assert out["customer_share"].sum() == pytest.approx(100.0)
    assert out["revenue_share"].sum() == pytest.approx(100.0)


def test_segment_summary_empty_segments_are_zero_and_in_table_order() -> None:
    out = segment_summary(_rfm_table())
    empty = out.iloc[2:]
    assert (empty["customers"] == 0).all()
    assert (empty["revenue"] == 0).all()
    assert (empty["customer_share"] == 0).all()
    assert empty["mean_recency"].isna().all()
    # ties (all 0) keep the SEGMENTS order
    expected = [s for s in SEGMENTS["segment"] if s not in {"Champions", "Hibernating"}]
    assert empty["segment"].tolist() == expected
    assert list(out.columns[:4]) == ["segment", "description", "action", "priority"]


def test_act_order_puts_win_back_first_then_each_kind_by_money_at_stake() -> None:
    stakes = pd.Series({"At Risk": 100.0, "Hibernating": 300.0, "Champions": 50.0, "Loyal Customers": 900.0})
    order = act_order(stakes)
    assert order.sort_values().index.tolist() == [
        "Hibernating", "At Risk",  # win back by money at stake: 300, 100
        "Need Attention", "About to Sleep", "Can't Lose",  # win back with none: in SEGMENTS order
        "Loyal Customers", "Champions",  # keep and grow: 900, 50
        "Potential Loyalists", "New Customers", "Promising",
    ]
    assert order.loc["Hibernating"] == 1 and sorted(order) == list(range(1, 11))


def test_segment_summary_priority_ranks_by_revenue_win_back_first() -> None:
    out = segment_summary(_rfm_table()).set_index("segment")["priority"]
    # Hibernating (win back, £50) before Champions (keep and grow, £1,950): a win-back comes first.
    assert out.loc["Hibernating"] == 1 and out.loc["Champions"] == 6
    assert sorted(out) == list(range(1, 11))


def test_segment_summary_of_no_customers() -> None:
    empty = _rfm_table().iloc[0:0]
    out = segment_summary(empty)
    assert len(out) == 10
    assert out["customers"].sum() == 0
    assert out["customer_share"].sum() == 0
    assert math.isnan(out["mean_monetary"].iloc[0])


def test_segment_summary_rejects_unknown_segment() -> None:
    df = _rfm_table()
    df.loc[0, "segment"] = "VIP"
    with pytest.raises(ValueError, match="unknown segments"):
        segment_summary(df)
