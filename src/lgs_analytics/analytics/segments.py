"""RFM segments: the segment map, what each segment means and what to do about it.

A customer's segment depends only on the two-character code made of their recency score
and frequency score (both 1-5), e.g. R=5, F=4 -> ``"54"`` -> Champions. The map is configuration
(:mod:`segment_rules`): the default ``segments.toml`` shipped beside this module (the seed
notebook's map, its 10 segments covering the 25 possible codes exactly once), or the file named by
``LGS_SEGMENTS`` (:func:`active_rules`). Every function here takes ``rules`` (None: the active rules).
"""

from __future__ import annotations

import pandas as pd

from lgs_analytics.analytics.segment_rules import SegmentRules, active_rules, default_rules

_DEFAULT = default_rules()

# The default map as anchored R+F code pattern -> segment name (``^[1-2][1-2]$`` -> Hibernating ...).
SEGMENT_MAP: dict[str, str] = _DEFAULT.patterns

# The default segments from most to least valuable, with a one-sentence description for
# stakeholders and the recommended action.  The order in which to act on them is not fixed
# here: it is the money at stake (:func:`act_order`), so it follows the data.
SEGMENTS: pd.DataFrame = pd.DataFrame([(s.name, s.description, s.action) for s in _DEFAULT.segments],
                                      columns=["segment", "description", "action"])

SEGMENT_NAMES: tuple[str, ...] = _DEFAULT.names

# Segments whose customers are slipping away (``kind = "win back"`` in the rules): a win-back
# campaign, whose money at stake is what they used to spend. The others are keep-and-grow campaigns:
# their money at stake is the value expected from them (the next 12 months' predicted value, or past
# spend when there are no predictions).
WIN_BACK_SEGMENTS: tuple[str, ...] = _DEFAULT.win_back

def rules_digest(rules: SegmentRules | None = None) -> str:
    """sha256 (hex) of the rules' canonical form (default: the active rules): what a build and each
    segment-history row record, so a change of rules is visible as a different digest."""
    return (rules or active_rules()).digest


def segment_table(rules: SegmentRules | None = None) -> pd.DataFrame:
    """``segment, description, action`` of every segment of ``rules``, in their order (:data:`SEGMENTS`
    for the default)."""
    rules = rules or active_rules()
    return pd.DataFrame([(s.name, s.description, s.action) for s in rules.segments],
                        columns=["segment", "description", "action"])


def act_order(money_at_stake: pd.Series, rules: SegmentRules | None = None) -> pd.Series:
    """The order in which to act on the segments, ``priority`` (1 = act first), for every segment.

    ``money_at_stake``: GBP per segment name (a segment left out has none). The win-back segments
    come first, then the keep-and-grow ones; within each, the most money at stake first (ties in
    the rules' order, :data:`SEGMENTS` for the default). The one definition of the order: the
    segments mart, the campaign list and the report's action table all take it from here.
    """
    rules = rules or active_rules()
    stake = money_at_stake.reindex(list(rules.names)).astype("float64").fillna(0.0)
    frame = pd.DataFrame({"later": ~stake.index.isin(rules.win_back), "stake": stake.to_numpy(),
                          "seed": range(len(stake))}, index=stake.index)
    ranked = frame.sort_values(["later", "stake", "seed"], ascending=[True, False, True], kind="stable")
    return pd.Series(range(1, len(ranked) + 1), index=ranked.index, name="priority", dtype="int64")


def assign_segments(r_score: pd.Series, f_score: pd.Series, rules: SegmentRules | None = None) -> pd.Series:
    """Map recency and frequency scores (integers 1-5) to segment names.

    The two scores are joined into a code such as ``"54"`` and looked up in the cells of
    ``rules`` (each of the 25 codes in exactly one segment: checked when the rules are read).
    Returns a string Series named ``segment`` with the index of ``r_score``.  Raises ValueError
    if a score is missing or outside 1-5 (such a code is in no segment).
    """
    if len(r_score) != len(f_score):
        raise ValueError("r_score and f_score must have the same length")
    r_codes = r_score.astype("string").reset_index(drop=True)
    f_codes = f_score.astype("string").reset_index(drop=True)
    codes = (r_codes + f_codes).set_axis(r_score.index)
    segments = codes.map((rules or active_rules()).lookup)
    if segments.isna().any():
        bad = sorted(codes[segments.isna()].fillna("<NA>").unique())
        raise ValueError(f"scores must be integers 1-5; no segment for R+F codes {bad}")
    return segments.astype(str).rename("segment")


def segment_summary(rfm_df: pd.DataFrame, rules: SegmentRules | None = None) -> pd.DataFrame:
    """Summarise an RFM table (one row per customer) by segment.

    Input columns used: ``customer_id``, ``segment``, ``recency``, ``frequency``,
    ``monetary``.  Returns one row for each segment of ``rules`` (also empty ones), ordered
    by ``customers`` descending (ties in the rules' order), with columns:
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
    rules = rules or active_rules()
    unknown = set(rfm_df["segment"].unique()) - set(rules.names)
    if unknown:
        raise ValueError(f"unknown segments {sorted(map(str, unknown))}")
    stats = rfm_df.groupby("segment").agg(
        customers=("customer_id", "size"),
        revenue=("monetary", "sum"),
        mean_recency=("recency", "mean"),
        mean_frequency=("frequency", "mean"),
        mean_monetary=("monetary", "mean"),
    )
    out = segment_table(rules).merge(stats, left_on="segment", right_index=True, how="left")
    out["customers"] = out["customers"].fillna(0).astype("int64")
    out["revenue"] = out["revenue"].fillna(0.0).astype("float64").round(2)
    # Without predictions a segment's money at stake is what its customers spent; the campaign
    # list (campaign.campaign_list) re-ranks the keep-and-grow segments by their predicted value.
    out["priority"] = out["segment"].map(act_order(out.set_index("segment")["revenue"], rules))
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


__all__ = ["SEGMENTS", "SEGMENT_MAP", "SEGMENT_NAMES", "WIN_BACK_SEGMENTS", "SegmentRules", "act_order",
           "active_rules", "assign_segments", "repeat_buyers_p_alive", "rules_digest", "segment_summary",
           "segment_table"]


def repeat_buyers_p_alive(predictions: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """Mean P(alive) and customers per segment over repeat buyers only, highest first: BG/NBD gives
    every one-time buyer 100% (it sees drop-out only after a repeat purchase), which would lift
    the segments full of them to the level of the loyal ones."""
    repeat = scores.loc[scores["frequency"] > 1, ["customer_id", "segment"]]
    chances = predictions.reset_index()[["customer_id", "p_alive"]]
    joined = repeat.merge(chances, on="customer_id", how="inner")
    return joined.groupby("segment")["p_alive"].agg(["mean", "size"]).sort_values("mean", ascending=False)
