"""The control-group split and the uplift arithmetic, against hand computations and published examples."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from lgs_analytics.analytics import uplift


def test_the_split_is_stable_whatever_the_order_and_rerun():
    ids = pd.Series(range(12346, 12346 + 500))
    first = uplift.split(ids, b"At Risk June", 0.10)
    again = uplift.split(ids[::-1], b"At Risk June", 0.10)
    assert first.to_dict() == again.to_dict()  # same customer, same group, any order
    assert set(first) == {"treated", "control"}
    other = uplift.split(ids, b"At Risk July", 0.10)  # another campaign's key: another split
    assert (first != other).any()


def test_the_split_keeps_back_the_share_asked_for_within_one_point_on_5000_customers():
    ids = pd.Series(range(10_000, 15_000))
    for share in (0.10, 0.25, 0.50):
        kept = (uplift.split(ids, b"campaign", share) == "control").mean()
        assert abs(kept - share) <= 0.01, (share, kept)


def test_a_larger_control_share_only_moves_treated_customers_to_control():
    ids = pd.Series(range(1000))
    small, large = uplift.split(ids, b"k", 0.10), uplift.split(ids, b"k", 0.30)
    assert ((small == "control") <= (large == "control")).all()


def test_the_place_in_0_1_is_the_hmac_of_the_id_read_as_a_number():
    import hashlib
    import hmac

    digest = hmac.new(b"key", b"12346", hashlib.sha256).digest()
    assert uplift.unit_hash(12346, b"key") == int.from_bytes(digest[:8], "big") / 2**64


@pytest.mark.parametrize("text, share", [("10%", 0.10), ("10", 0.10), (" 12.5 % ", 0.125), ("50%", 0.5)])
def test_the_control_share_is_a_percentage(text, share):
    assert uplift.parse_share(text) == pytest.approx(share)


@pytest.mark.parametrize("text", ["0%", "100%", "abc", "-5%", "150", ""])
def test_a_control_share_that_leaves_nothing_to_compare_is_refused_in_one_line(text):
    with pytest.raises(ValueError, match="--control") as refused:
        uplift.parse_share(text)
    assert "\n" not in str(refused.value)


def test_wilson_matches_newcombe_1998s_example():
    # Newcombe (1998a), 81 of 263: the score interval 0.2553 to 0.3662.
    low, high = uplift.wilson(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_the_share_difference_matches_newcombe_1998s_method_10_example():
    # Newcombe (1998b), 56/70 vs 48/80: difference 0.2, hybrid score interval 0.0524 to 0.3339.
    got = uplift.share_difference(uplift.Group(70, 56, 0.0, 0.0), uplift.Group(80, 48, 0.0, 0.0))
    assert (round(got.estimate, 4), round(got.low, 4), round(got.high, 4)) == (0.2, 0.0524, 0.3339)


def outcomes() -> pd.DataFrame:
    # Treated: 5 customers, 3 ordered, spends 10, 0, 30, 0, 20; control: 4, 2 ordered, spends 0, 10, 0, 2.
    return pd.DataFrame({"grp": ["treated"] * 5 + ["control"] * 4,
                         "ordered": [True, False, True, False, True, False, True, False, True],
                         "spend": [10.0, 0, 30, 0, 20, 0, 10, 0, 2]})


def test_the_uplift_of_a_hand_computed_example():
    got = uplift.measure(outcomes())
    # By hand: treated mean 12, variance (4+144+324+144+64)/4 = 170; control mean 3, variance
    # (9+49+9+1)/3 = 68/3. Difference 9; squared standard errors 170/5 = 34 and (68/3)/4 = 17/3;
    # se = sqrt(34 + 17/3) = 6.29815; Welch df = (34 + 17/3)^2 / (34^2/4 + (17/3)^2/3) = 5.25003;
    # t(0.975, 5.25003) = 2.53420 (tables: 2.571 at 5 df, 2.447 at 6); half-width 15.9607.
    assert (got.treated.customers, got.treated.ordered, got.treated.spend_mean) == (5, 3, 12.0)
    assert got.treated.spend_var == pytest.approx(170.0)
    assert (got.control.customers, got.control.ordered, got.control.spend_mean) == (4, 2, 3.0)
    assert got.control.spend_var == pytest.approx(68 / 3)
    se = math.sqrt(34 + 17 / 3)
    assert got.spend.estimate == pytest.approx(9.0)
    assert got.spend.low == pytest.approx(9 - 2.534197 * se, abs=1e-4)
    assert got.spend.high == pytest.approx(9 + 2.534197 * se, abs=1e-4)
    assert (round(got.spend.low, 2), round(got.spend.high, 2)) == (-6.96, 24.96)
    assert got.spend.covers_zero
    # The share: 3/5 - 2/4 = 0.1, Newcombe's interval from the Wilson intervals of 3/5 and 2/4.
    assert got.share.estimate == pytest.approx(0.1)
    l1, u1 = uplift.wilson(3, 5)
    l2, u2 = uplift.wilson(2, 4)
    assert got.share.low == pytest.approx(0.1 - math.sqrt((0.6 - l1) ** 2 + (u2 - 0.5) ** 2))
    assert got.share.high == pytest.approx(0.1 + math.sqrt((u1 - 0.6) ** 2 + (0.5 - l2) ** 2))
    assert got.share.low < 0 < got.share.high


def test_the_sentence_says_no_measurable_effect_when_the_interval_covers_zero():
    got = uplift.measure(outcomes())
    assert uplift.sentence(got).startswith("no measurable effect: +£9 per customer, 95% CI −£7 to £25;")
    assert uplift.sentence(got, window_over=False).startswith("no measurable effect yet: +£9 per customer")
    assert "customers who ordered +10.0 points (60% treated vs 50% control)" in uplift.sentence(got)


def test_a_difference_that_rounds_to_zero_points_has_no_sign():
    assert uplift._points(-0.0003) == "0.0" and uplift._points(0.0123) == "+1.2"


def test_the_sentence_states_an_effect_whose_interval_excludes_zero():
    frame = pd.DataFrame({"grp": ["treated"] * 4 + ["control"] * 4,
                          "ordered": [True] * 8, "spend": [20.0, 22, 24, 26, 10, 11, 12, 13]})
    said = uplift.sentence(uplift.measure(frame))
    assert said.startswith("+£12 per customer, 95% CI £")
    assert "no measurable" not in said


def test_a_group_of_fewer_than_two_customers_cannot_be_compared():
    with pytest.raises(ValueError, match="control group has 1 customer"):
        uplift.measure(outcomes().iloc[:6])
