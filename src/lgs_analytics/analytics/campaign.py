"""Campaign lists: who to contact, why, and how much money rides on it.

One row per scored customer (:func:`campaign_list`) joins what RFM says (segment, action,
orders, spend, days since the last order) with what the models say (P(alive), the chance of no
order in the next 90 days, 12-month CLV, value at risk) and where the customer is (country, first
and last order). The report's action box, its campaign files, ``lgs campaign`` and the dashboard
all read this one list, published by ``lgs build`` as the ``campaign_customers`` mart, so their
counts and sums agree.

Pure: frames in, frames out.
"""

from __future__ import annotations

import re

import pandas as pd

from lgs_analytics.analytics import customer_type, due, geography
from lgs_analytics.analytics.clean import CleanResult
from lgs_analytics.analytics.segment_rules import SegmentRules
from lgs_analytics.analytics.segments import WIN_BACK_SEGMENTS, active_rules
from lgs_analytics.results import Forecast, Scores

# A flagged customer silent for longer than this is listed apart as long lost: a win-back
# campaign, not a retention call, is what can still reach them.
LONG_LOST_DAYS = 365

CAMPAIGN_COLUMNS: tuple[str, ...] = (
    "customer_id", "segment", "action", "priority", "r_score", "f_score", "m_score", "rfm_score",
    "country", "first_order", "last_order", "days_since", "orders", "spend",
    "p_alive", "clv_12m", "value_at_risk", "churn_risk", "churn_group",
    "usual_gap_days", "due_from", "due_to", "due_status", "p_no_order_90d",
    "offer_1_code", "offer_1", "offer_2_code", "offer_2", "offer_3_code", "offer_3",
    "country_code", "region", "customer_type", "order_units_median", "order_value_median",
    "age_band", "gender", "area",
)
# The CRM's generalised attributes (analytics.demographics), joined by :func:`with_attributes`.
ATTRIBUTE_COLUMNS = ("age_band", "gender", "area")
OFFERS = 3  # products a campaign row carries: the customer's first recommended products

# What a campaign's money at stake is (the action plan's ``stake_basis``).
PAST_SPEND, EXPECTED_VALUE, VALUE_AT_RISK = "past spend", "expected value", "value at risk"


def customer_profile(purchases: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per customer (index customer_id): ``country`` of the latest purchase, its ``country_code`` and
    ``region`` (analytics.geography), ``first_order`` and ``last_order`` (dates) over the purchases
    before ``as_of``, the median order and ``customer_type`` (analytics.customer_type), and when the
    customer is due back (:func:`due.due_back`: ``usual_gap_days``, ``due_from``, ``due_to``,
    ``due_status``)."""
    bought = purchases[(purchases["invoice_date"] < as_of) & purchases["customer_id"].notna()]
    latest_first = bought.sort_values("invoice_date", kind="stable")
    by_customer = latest_first.groupby(latest_first["customer_id"].astype("int64"))
    profile = pd.DataFrame({
        "country": by_customer["country"].last().astype("string"),
        "first_order": by_customer["invoice_date"].min().dt.normalize(),
        "last_order": by_customer["invoice_date"].max().dt.normalize(),
    })
    profile.index.name = "customer_id"
    profile = profile.join(geography.geography(profile["country"]))
    orders = (bought.groupby("invoice_no", sort=False)
              .agg(customer_id=("customer_id", "first"), units=("quantity", "sum"),
                   amount=("line_total", "sum"))
              .assign(kind="purchase"))
    orders["customer_id"] = orders["customer_id"].astype("int64")
    return profile.join(customer_type.customer_types(orders)).join(due.due_back(purchases, as_of))


def value_at_risk(past_value: pd.Series, p_no_order: pd.Series) -> pd.Series:
    """GBP: past spend (net of returns) times the model's chance that the customer places no order in
    the next 90 days (the score the churn flag is chosen on; P(alive) is about 1 for every repeat buyer
    of twelve months' data, where nobody visibly drops out)."""
    return (past_value * p_no_order).round(2)


def churn_group(churn_risk: pd.Series, days_since: pd.Series) -> pd.Series:
    """``recoverable`` or ``long lost`` (silent over :data:`LONG_LOST_DAYS`) for flagged customers."""
    group = pd.Series(pd.NA, index=churn_risk.index, dtype="string")
    flagged = churn_risk.fillna(False).astype(bool)
    group[flagged] = "recoverable"
    group[flagged & (days_since > LONG_LOST_DAYS)] = "long lost"
    return group


def campaign_list(customers: pd.DataFrame, segments: pd.DataFrame, profile: pd.DataFrame,
                  predictions: pd.DataFrame | None) -> pd.DataFrame:
    """One row per scored customer, columns :data:`CAMPAIGN_COLUMNS`, in the order to act on them
    (the segments' ``priority``, :func:`segments.act_order`: the action plan's order), most valuable
    first within a segment.

    ``customers``: standard RFM scores (rfm.RFM_COLUMNS); ``segments``: the segment summary
    (segment, action, priority); ``profile``: :func:`customer_profile`; ``predictions``: indexed
    by customer_id with p_alive, clv, churn_risk and p_no_order_90d (None or empty: the model columns
    stay empty).
    """
    out = customers.merge(segments[["segment", "action", "priority"]], on="segment", how="left")
    out = out.join(profile, on="customer_id")
    out = out.rename(columns={"recency": "days_since", "frequency": "orders", "monetary": "spend"})
    if predictions is not None and len(predictions):
        model = predictions.reindex(out["customer_id"])
        out["p_alive"] = model["p_alive"].to_numpy()
        out["clv_12m"] = model["clv"].to_numpy()
        out["churn_risk"] = model["churn_risk"].fillna(False).astype(bool).to_numpy()
        out["p_no_order_90d"] = model["p_no_order_90d"].to_numpy()
        out["value_at_risk"] = value_at_risk(out["spend"], out["p_no_order_90d"]).where(out["churn_risk"])
    else:
        out["p_alive"] = out["clv_12m"] = out["value_at_risk"] = out["p_no_order_90d"] = float("nan")
        out["churn_risk"] = False
    out["churn_group"] = churn_group(out["churn_risk"], out["days_since"])
    for n in range(1, OFFERS + 1):
        out[f"offer_{n}_code"] = out[f"offer_{n}"] = pd.Series(pd.NA, index=out.index, dtype="string")
    for column in ATTRIBUTE_COLUMNS:
        out[column] = pd.Series(pd.NA, index=out.index, dtype="string")
    out = out.sort_values(["priority", "spend", "customer_id"], ascending=[True, False, True], kind="stable")
    return out[list(CAMPAIGN_COLUMNS)].reset_index(drop=True)


def _stake(members: pd.DataFrame, win_back: bool) -> tuple[float, str]:
    """(money at stake, what it is) of a segment's customers: past spend for a win-back, the sum of
    their 12-month CLV for keep-and-grow (past spend when there are no predictions)."""
    past = float(members["spend"].sum())
    expected = float(members["clv_12m"].sum(min_count=1))
    if win_back or pd.isna(expected):
        return past, PAST_SPEND
    return expected, EXPECTED_VALUE


def churn_alerts(campaign: pd.DataFrame) -> pd.DataFrame:
    """The flagged customers, highest value at risk first (the recoverable and the long lost alike;
    :func:`churn_group` tells them apart)."""
    flagged = campaign[campaign["churn_risk"]]
    return flagged.sort_values(["value_at_risk", "customer_id"], ascending=[False, True],
                               kind="stable").reset_index(drop=True)


def due_list(campaign: pd.DataFrame) -> pd.DataFrame:
    """The customers due back or overdue (:mod:`due`: their usual gap has passed), most valuable
    (past spend) first."""
    rows = campaign[campaign["due_status"].isin([due.DUE, due.OVERDUE])]
    return rows.sort_values(["spend", "customer_id"], ascending=[False, True], kind="stable")


def select(campaign: pd.DataFrame, segment: str | None = None, churn_risk: bool = False,
           due_back: bool = False) -> pd.DataFrame:
    """The rows of one campaign: a segment (by name, any case), the churn alerts, the customers due
    back (:func:`due_list`), or several of these at once."""
    rows = campaign
    if segment is not None:
        known = {s.casefold(): s for s in campaign["segment"].unique()}
        name = known.get(segment.strip().casefold())
        if name is None:
            raise ValueError(f"no segment '{segment}' in this build: use one of "
                             f"{', '.join(sorted(known.values()))}")
        rows = rows[rows["segment"] == name]
    if churn_risk:
        rows = churn_alerts(rows)
    if due_back:
        rows = due_list(rows)
    return rows.reset_index(drop=True)


def action_plan(campaign: pd.DataFrame, rules: SegmentRules | None = None) -> pd.DataFrame:
    """The report's action box: one row per campaign in the order to act, the segments' ``priority``
    (:func:`segments.act_order`): the win-back campaigns first, ranked by the money at stake (the
    churn alerts among them), then keep-and-grow, ranked by what its customers spent.

    Columns: ``campaign`` (segment name, or ``Churn alerts: recoverable`` / ``: long lost``),
    ``kind`` (``win back`` or ``keep and grow``), ``customers``, ``past_spend``, ``expected_value``
    (sum of 12-month CLV; NaN without predictions), ``money_at_stake``, ``stake_basis`` (what the
    money at stake is: :data:`PAST_SPEND` for a win-back, and for keep-and-grow when there are no
    predictions; :data:`EXPECTED_VALUE` for keep-and-grow; :data:`VALUE_AT_RISK` for the churn
    alerts), ``action``, ``file`` (the campaign file's name, :func:`file_name`). Segments with no
    customer are left out. ``rules``: the segment rules that say which segments are win-back (None:
    the active rules).
    """
    win_backs = (rules or active_rules()).win_back
    rows = []
    for segment, members in campaign.groupby("segment", sort=False):
        win_back = segment in win_backs
        rows.append(_plan_row(str(segment), "win back" if win_back else "keep and grow", members,
                              str(members["action"].iloc[0]), *_stake(members, win_back),
                              int(members["priority"].iloc[0])))
    alerts = campaign[campaign["churn_risk"]]
    for group, action in (("recoverable", "Call them this week: a personal offer from the account team."),
                          ("long lost", "Include them in a low-cost win-back mailing; do not call.")):
        members = alerts[alerts["churn_group"] == group]
        if len(members):
            rows.append(_plan_row(f"Churn alerts: {group}", "win back", members, action,
                                  float(members["value_at_risk"].sum()), VALUE_AT_RISK, None))
    plan = pd.DataFrame(rows, columns=["campaign", "kind", "customers", "past_spend", "expected_value",
                                       "money_at_stake", "stake_basis", "action", "file", "_priority"])
    # False sorts first: win back by money at stake (a win-back segment's priority follows its
    # spend, which is its money at stake), then keep and grow in priority order.
    plan["_later"] = plan["kind"].ne("win back")
    plan["_rank"] = (-plan["money_at_stake"]).where(~plan["_later"], plan["_priority"])
    return (plan.sort_values(["_later", "_rank", "_priority"], kind="stable", na_position="last")
            .drop(columns=["_later", "_rank", "_priority"]).reset_index(drop=True))


def _plan_row(name: str, kind: str, members: pd.DataFrame, action: str, stake: float, basis: str,
              priority: int | None) -> dict[str, str | int | float | None]:
    return {"campaign": name, "kind": kind, "customers": len(members),
            "past_spend": round(float(members["spend"].sum()), 2),
            "expected_value": round(float(members["clv_12m"].sum(min_count=1)), 2),
            "money_at_stake": round(stake, 2), "stake_basis": basis, "action": action,
            "file": file_name(name), "_priority": priority}


def file_name(campaign: str, suffix: str = ".csv") -> str:
    """``campaign-at-risk.csv`` for "At Risk", ``campaign-churn-alerts-recoverable.csv`` ..."""
    slug = re.sub(r"[^a-z0-9]+", "-", campaign.casefold().replace("'", "")).strip("-")
    return f"campaign-{slug}{suffix}"


def with_offers(campaign: pd.DataFrame, recommended: pd.DataFrame) -> pd.DataFrame:
    """The list with each customer's first :data:`OFFERS` recommended products (``recommended``:
    customer_id, rank, stock_code, description, as analytics.recommend makes them) as
    ``offer_1_code``, ``offer_1`` (the description) ...: what to put in their mail."""
    out = campaign.copy()
    if recommended.empty:
        return out
    top = recommended[recommended["rank"] <= OFFERS].set_index(["customer_id", "rank"])
    for n in range(1, OFFERS + 1):
        picks = top.xs(n, level="rank") if n in top.index.get_level_values("rank") else top.iloc[0:0]
        out[f"offer_{n}_code"] = out["customer_id"].map(picks["stock_code"]).astype("string")
        out[f"offer_{n}"] = out["customer_id"].map(picks["description"]).astype("string")
    return out


def with_attributes(campaign: pd.DataFrame, attributes: pd.DataFrame | None) -> pd.DataFrame:
    """The list with each customer's generalised CRM attributes (``attributes``: customer_id,
    age_band, gender, area, as ``lgs load-customers`` stores them); missing where the CRM has none."""
    out = campaign.copy()
    if attributes is None or attributes.empty:
        return out
    known = attributes.set_index("customer_id")
    for column in ATTRIBUTE_COLUMNS:
        out[column] = out["customer_id"].map(known[column]).astype("string")
    return out


__all__ = ["ATTRIBUTE_COLUMNS", "CAMPAIGN_COLUMNS",
           "OFFERS", "EXPECTED_VALUE", "LONG_LOST_DAYS", "PAST_SPEND", "VALUE_AT_RISK",
           "WIN_BACK_SEGMENTS", "action_plan", "campaign_list", "churn_alerts", "churn_group",
           "customer_profile", "due_list", "file_name", "select", "value_at_risk", "with_attributes",
           "with_offers"]


def for_scores(cleaned: CleanResult, scores: Scores, outlook: Forecast) -> pd.DataFrame:
    """:func:`campaign_list` of ``scores``: segments and actions, where each customer is (the cleaned
    purchases before the scores' as-of date), and the models' view when ``outlook`` has one."""
    profile = customer_profile(cleaned.purchases, scores.as_of)
    predictions = None if outlook.unavailable else outlook.customers
    return campaign_list(scores.customers, scores.segments, profile, predictions)
