"""RFM segments: the 10-entry segment map, what each segment means and what to do about it.

A customer's segment depends only on the two-character code made of their recency score
and frequency score (both 1-5), e.g. R=5, F=4 -> ``"54"`` -> Champions.  The map is the
seed notebook's, with every pattern anchored (``^...$``) so a pattern can only ever match
a whole code.  Its 10 patterns cover the 25 possible codes exactly once.
"""

from __future__ import annotations

import hashlib
import json

import pandas as pd

# R+F code pattern -> segment name.  The 10 entries of DESIGN.md, in the seed's order.
SEGMENT_MAP: dict[str, str] = {
    r"^[1-2][1-2]$": "Hibernating",
    r"^[1-2][3-4]$": "At Risk",
    r"^[1-2]5$": "Can't Lose",
    r"^3[1-2]$": "About to Sleep",
    r"^33$": "Need Attention",
    r"^[3-4][4-5]$": "Loyal Customers",
    r"^41$": "Promising",
    r"^51$": "New Customers",
    r"^[4-5][2-3]$": "Potential Loyalists",
    r"^5[4-5]$": "Champions",
}

# The segments from most to least valuable, with a one-sentence description for
# stakeholders and the recommended action.  The order in which to act on them is not fixed
# here: it is the money at stake (:func:`act_order`), so it follows the data.
SEGMENTS: pd.DataFrame = pd.DataFrame(
    [
        ("Champions",
         "Bought very recently and buy often: the best customers.",
         "Reward them: early access to new products and loyalty rewards."),
        ("Loyal Customers",
         "Buy often and fairly recently.",
         "Upsell higher-value products and enrol them in the loyalty programme."),
        ("Potential Loyalists",
         "Recent customers with a few orders who could become loyal.",
         "Offer a membership or loyalty scheme and personalised recommendations."),
        ("New Customers",
         "Bought very recently, but only once.",
         "Onboard them: a welcome series and help with the first repeat order."),
        ("Promising",
         "Bought recently, but only once.",
         "Build brand awareness: free shipping or a small discount on the next order."),
        ("Need Attention",
         "Middling recency and frequency: at risk of drifting away.",
         "Send limited-time offers based on past purchases."),
        ("About to Sleep",
         "Have not bought for a while and bought rarely.",
         "Reconnect with product recommendations and popular items."),
        ("At Risk",
         "Used to buy regularly but have not bought for a long time.",
         "Send a personalised reactivation offer."),
        ("Can't Lose",
         "Used to buy very often but have not bought for a long time.",
         "Win them back personally: a call or a tailored offer from the account team."),
        ("Hibernating",
         "Bought rarely and long ago.",
         "Low-cost win-back: include them in general campaigns only."),
    ],
    columns=["segment", "description", "action"],
)

SEGMENT_NAMES: tuple[str, ...] = tuple(SEGMENTS["segment"])

# Segments whose customers are slipping away: a win-back campaign, whose money at stake is what they
# used to spend. The others are keep-and-grow campaigns: their money at stake is the value expected
# from them (the next 12 months' predicted value, or past spend when there are no predictions).
WIN_BACK_SEGMENTS: tuple[str, ...] = ("Can't Lose", "At Risk", "About to Sleep", "Need Attention",
                                      "Hibernating")


def act_order(money_at_stake: pd.Series) -> pd.Series:
    """The order in which to act on the segments, ``priority`` (1 = act first), for every segment.

    ``money_at_stake``: GBP per segment name (a segment left out has none). The win-back segments
    come first, then the keep-and-grow ones; within each, the most money at stake first (ties in
    :data:`SEGMENTS` order). The one definition of the order: the segments mart, the campaign list
    and the report's action table all take it from here.
    """
    stake = money_at_stake.reindex(list(SEGMENT_NAMES)).astype("float64").fillna(0.0)
    frame = pd.DataFrame({"later": ~stake.index.isin(WIN_BACK_SEGMENTS), "stake": stake.to_numpy(),
                          "seed": range(len(stake))}, index=stake.index)
    ranked = frame.sort_values(["later", "stake", "seed"], ascending=[True, False, True], kind="stable")
    return pd.Series(range(1, len(ranked) + 1), index=ranked.index, name="priority", dtype="int64")


def assign_segments(r_score: pd.Series, f_score: pd.Series) -> pd.Series:
    """Map recency and frequency scores (integers 1-5) to segment names.

    The two scores are joined into a code such as ``"54"`` and matched against the
    anchored patterns of :data:`SEGMENT_MAP`.  Returns a string Series named ``segment``
    with the index of ``r_score``.  Raises ValueError if a score is missing or outside
    1-5 (such a code matches no pattern).
    """
    if len(r_score) != len(f_score):
        raise ValueError("r_score and f_score must have the same length")
    r_codes = r_score.astype("string").reset_index(drop=True)
    f_codes = f_score.astype("string").reset_index(drop=True)
    codes = (r_codes + f_codes).set_axis(r_score.index)
    # Match the (at most 25) distinct codes, then map every row through that lookup.
    distinct = pd.Series(codes.dropna().unique(), dtype="string")
    lookup: dict[str, str] = {}
    for pattern, name in SEGMENT_MAP.items():
        for code in distinct[distinct.str.match(pattern)]:
            if code in lookup:  # pragma: no cover - the map is checked by the tests
                raise ValueError(f"segment map is ambiguous for code {code!r}")
            lookup[code] = name
    segments = codes.map(lookup)
    if segments.isna().any():
        bad = sorted(codes[segments.isna()].fillna("<NA>").unique())
        raise ValueError(f"scores must be integers 1-5; no segment for R+F codes {bad}")
    return segments.astype(str).rename("segment")


def segment_summary(rfm_df: pd.DataFrame) -> pd.DataFrame:
    """Summarise an RFM table (one row per customer) by segment.

    Input columns used: ``customer_id``, ``segment``, ``recency``, ``frequency``,
    ``monetary``.  Returns one row for each of the 10 segments (also empty ones), ordered
    by ``customers`` descending (ties in :data:`SEGMENTS` order), with columns:
    ``segment, description, action, priority`` (:func:`act_order` by revenue: the order without
    predictions), ``customers, customer_share`` (% of customers), ``revenue`` (sum of monetary,
    GBP), ``revenue_share`` (% of revenue),
    ``mean_recency`` (days), ``mean_frequency`` (invoices), ``mean_monetary`` (GBP).
    Empty segments have 0 customers, revenue and shares, and NaN means (a mean of no
    customers is undefined; show it as a dash).
    """
    missing = {"customer_id", "segment", "recency", "frequency", "monetary"} - set(rfm_df)
    if missing:
        raise ValueError(f"segment_summary needs columns {sorted(missing)}")
    unknown = set(rfm_df["segment"].unique()) - set(SEGMENT_NAMES)
    if unknown:
        raise ValueError(f"unknown segments {sorted(map(str, unknown))}")
    stats = rfm_df.groupby("segment").agg(
        customers=("customer_id", "size"),
        revenue=("monetary", "sum"),
        mean_recency=("recency", "mean"),
        mean_frequency=("frequency", "mean"),
        mean_monetary=("monetary", "mean"),
    )
    out = SEGMENTS.merge(stats, left_on="segment", right_index=True, how="left")
    out["customers"] = out["customers"].fillna(0).astype("int64")
    out["revenue"] = out["revenue"].fillna(0.0).astype("float64").round(2)
    # Without predictions a segment's money at stake is what its customers spent; the campaign
    # list (campaign.campaign_list) re-ranks the keep-and-grow segments by their predicted value.
    out["priority"] = out["segment"].map(act_order(out.set_index("segment")["revenue"]))
    total_customers = int(out["customers"].sum())
    total_revenue = float(out["revenue"].sum())
    out["customer_share"] = (
        100.0 * out["customers"] / total_customers if total_customers else 0.0
    )
    out["revenue_share"] = 100.0 * out["revenue"] / total_revenue if total_revenue else 0.0
    for col in ("mean_recency", "mean_frequency", "mean_monetary"):
        out[col] = out[col].astype("float64")
    out = out.sort_values("customers", ascending=False, kind="stable")
    columns = [
        "segment", "description", "action", "priority", "customers", "customer_share",
        "revenue", "revenue_share", "mean_recency", "mean_frequency", "mean_monetary",
    ]
    return out[columns].reset_index(drop=True)


__all__ = ["SEGMENTS", "SEGMENT_MAP", "SEGMENT_NAMES", "WIN_BACK_SEGMENTS", "act_order", "assign_segments",
           "repeat_buyers_p_alive", "rules_digest", "segment_summary"]


def rules_digest() -> str:
    """SHA-256 (hex) of the segment rules in canonical JSON (:data:`SEGMENT_MAP` and :data:`SEGMENTS`):
    the segment history records it with every row, so a change of rules shows in the history."""
    rules = {"map": SEGMENT_MAP, "segments": SEGMENTS.to_dict(orient="records")}
    canonical = json.dumps(rules, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def repeat_buyers_p_alive(predictions: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """Mean P(alive) and customers per segment over repeat buyers only, highest first: BG/NBD gives
    every one-time buyer 100% (it sees drop-out only after a repeat purchase), which would lift
    the segments full of them to the level of the loyal ones."""
    repeat = scores.loc[scores["frequency"] > 1, ["customer_id", "segment"]]
    chances = predictions.reset_index()[["customer_id", "p_alive"]]
    joined = repeat.merge(chances, on="customer_id", how="inner")
    return joined.groupby("segment")["p_alive"].agg(["mean", "size"]).sort_values("mean", ascending=False)
