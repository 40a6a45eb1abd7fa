"""The campaign list and the action plan, on four hand-scored customers."""

from __future__ import annotations

import pandas as pd
import pytest

from lgs_analytics.analytics import campaign

AS_OF = pd.Timestamp("2011-12-10")


def scores() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "recency": [3, 200, 400, 30],
            "frequency": [12, 5, 4, 1],
            "monetary": [5000.0, 3000.0, 2500.0, 100.0],
            "r_score": [5, 1, 1, 4],
            "f_score": [5, 3, 4, 1],
            "m_score": [5, 4, 4, 1],
            "rfm_score": ["555", "134", "144", "411"],
            "segment": ["Champions", "At Risk", "At Risk", "Promising"],
        }
    )


def segments() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment": ["Champions", "At Risk", "Promising"],
            "action": ["Reward them.", "Reactivate.", "Nudge."],
            "priority": [6, 1, 7],  # segments.act_order: At Risk (win back) first, then by spend
        }
    )


def purchases() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.array([1, 1, 2, 3, 4], dtype="Int64"),
            "invoice_date": pd.to_datetime(
                ["2011-01-05", "2011-12-07", "2011-05-24", "2010-11-05", "2011-11-10"]
            ),
            "country": ["France", "United Kingdom", "Germany", "EIRE", "Spain"],
            "invoice_no": ["1", "2", "3", "4", "5"],
            "quantity": [24, 600, 12, 150, 6],
            "line_total": [90.0, 700.0, 30.0, 300.0, 20.0],
        }
    )


def predictions(promising_clv: float = 50.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "p_alive": [0.99, 0.4, 0.1, 1.0],
            "clv": [900.0, 300.0, 20.0, promising_clv],
            "churn_risk": [False, True, True, False],
            "p_no_order_90d": [0.05, 0.62, 0.93, 0.4],
        },
        index=pd.Index([1, 2, 3, 4], name="customer_id"),
    )


def listed(with_predictions: bool = True, promising_clv: float = 50.0) -> pd.DataFrame:
    profile = campaign.customer_profile(purchases(), AS_OF)
    return campaign.campaign_list(scores(), segments(), profile,
                                  predictions(promising_clv) if with_predictions else None)


def test_profile_takes_the_latest_country_and_the_first_and_last_order():
    profile = campaign.customer_profile(purchases(), AS_OF)
    assert profile.loc[1, "country"] == "United Kingdom"  # moved: the latest order's country
    assert profile.loc[1, "first_order"] == pd.Timestamp("2011-01-05")
    assert profile.loc[1, "last_order"] == pd.Timestamp("2011-12-07")


def test_campaign_list_joins_segment_action_profile_and_model():
    rows = listed().set_index("customer_id")
    assert list(listed().columns) == list(campaign.CAMPAIGN_COLUMNS)
    assert list(listed()["customer_id"]) == [2, 3, 1, 4]  # priority 1 first, richest first within it
    assert rows.loc[2, "action"] == "Reactivate." and rows.loc[2, "orders"] == 5
    assert rows.loc[2, "value_at_risk"] == pytest.approx(3000 * 0.62)  # spend x the chance of no order
    assert rows.loc[2, "churn_group"] == "recoverable" and rows.loc[3, "churn_group"] == "long lost"
    assert pd.isna(rows.loc[1, "value_at_risk"]) and pd.isna(rows.loc[1, "churn_group"])
    assert rows.loc[2, "p_no_order_90d"] == 0.62 and rows.loc[4, "p_no_order_90d"] == 0.4


def test_without_predictions_nobody_is_flagged_and_the_model_columns_are_empty():
    rows = listed(with_predictions=False)
    assert not rows["churn_risk"].any() and rows["p_alive"].isna().all() and rows["churn_group"].isna().all()
    assert rows["p_no_order_90d"].isna().all()


def test_churn_alerts_rank_by_value_at_risk():
    alerts = campaign.churn_alerts(listed())
    assert list(alerts["customer_id"]) == [3, 2]  # 2500 x 0.93 = 2325 before 3000 x 0.62 = 1860


def test_select_finds_a_segment_in_any_case_and_names_the_choices_otherwise():
    assert list(campaign.select(listed(), "at risk")["customer_id"]) == [2, 3]
    assert list(campaign.select(listed(), "At Risk", churn_risk=True)["customer_id"]) == [3, 2]
    with pytest.raises(ValueError, match="no segment 'Loyal' in this build: use one of At Risk, Champions"):
        campaign.select(listed(), "Loyal")


def test_action_plan_puts_win_back_first_and_adds_up_to_the_list():
    plan = campaign.action_plan(listed())
    assert list(plan["campaign"]) == [
        "At Risk",
        "Churn alerts: long lost",
        "Churn alerts: recoverable",
        "Champions",
        "Promising",
    ]
    at_risk = plan.set_index("campaign").loc["At Risk"]
    assert (at_risk["customers"], at_risk["past_spend"], at_risk["money_at_stake"]) == (2, 5500.0, 5500.0)
    assert at_risk["expected_value"] == 320.0 and at_risk["file"] == "campaign-at-risk.csv"
    champions = plan.set_index("campaign").loc["Champions"]
    assert champions["kind"] == "keep and grow" and champions["money_at_stake"] == 900.0  # expected value
    lost = plan.set_index("campaign").loc["Churn alerts: long lost"]
    assert lost["money_at_stake"] == pytest.approx(2325.0)


def test_without_predictions_keep_and_grow_is_at_stake_for_its_past_spend():
    plan = campaign.action_plan(listed(with_predictions=False)).set_index("campaign")
    champions = plan.loc["Champions"]
    assert pd.isna(champions["expected_value"])
    assert champions["money_at_stake"] == 5000.0 and champions["stake_basis"] == campaign.PAST_SPEND
    with_model = campaign.action_plan(listed()).set_index("campaign")
    assert with_model.loc["Champions", "stake_basis"] == campaign.EXPECTED_VALUE
    assert with_model.loc["At Risk", "stake_basis"] == campaign.PAST_SPEND
    assert with_model.loc["Churn alerts: long lost", "stake_basis"] == campaign.VALUE_AT_RISK


@pytest.mark.parametrize(("with_predictions", "promising_clv"), [(True, 50.0), (True, 2000.0), (False, 0.0)])
def test_one_order_the_action_plan_the_campaign_list_and_the_segments(with_predictions, promising_clv):
    rows = listed(with_predictions, promising_clv)
    plan = campaign.action_plan(rows)
    segments_in_plan = [c for c in plan["campaign"] if not c.startswith("Churn alerts")]
    # Promising's expected £2,000 beats Champions' £900, yet the order stays the segments' priority
    # (what they spent: £5,000 before £100), the order the segment table and the dashboard show.
    assert segments_in_plan == ["At Risk", "Champions", "Promising"]
    by_priority = rows.drop_duplicates("segment").sort_values("priority")["segment"].tolist()
    assert by_priority == segments_in_plan and rows["priority"].is_monotonic_increasing


def test_file_names_are_plain():
    assert campaign.file_name("Can't Lose") == "campaign-cant-lose.csv"
    assert campaign.file_name("Churn alerts: long lost", ".xlsx") == "campaign-churn-alerts-long-lost.xlsx"


def test_the_list_says_when_a_repeat_customer_is_due_back():
    bought = pd.concat([purchases(), pd.DataFrame({
        "customer_id": pd.array([2, 2, 3, 3], dtype="Int64"),
        "invoice_date": pd.to_datetime(["2011-11-14", "2011-11-24", "2010-09-26", "2010-10-16"]),
        "country": ["Germany"] * 2 + ["EIRE"] * 2})], ignore_index=True)
    rows = campaign.campaign_list(scores(), segments(), campaign.customer_profile(bought, AS_OF), None)
    rows = rows.set_index("customer_id")
    # 2 bought on 24 May, 14 and 24 Nov: gaps 174 and 10 days, median 92, range 51 .. 133 days
    assert rows.loc[2, "usual_gap_days"] == 92
    assert rows.loc[2, "due_from"] == pd.Timestamp("2011-11-24") + pd.Timedelta(days=51)
    assert rows.loc[2, "due_status"] == "not yet"
    # 3: 26 Sep, 16 Oct, 5 Nov 2010: every 20 days, due 22 .. 28 Nov 2010: overdue
    assert rows.loc[3, "usual_gap_days"] == 20
    assert (rows.loc[3, "due_from"], rows.loc[3, "due_to"]) == (pd.Timestamp("2010-11-22"),
                                                              pd.Timestamp("2010-11-28"))
    assert rows.loc[3, "due_status"] == "overdue"
    assert rows.loc[[1, 4], "due_status"].isna().all()  # two orders, one order: no date
    due_back = campaign.select(rows.reset_index(), due_back=True)
    assert list(due_back["customer_id"]) == [3]


def test_profile_places_each_customer_and_types_them_by_their_median_order():
    profile = campaign.customer_profile(purchases(), AS_OF)
    # customer 1: orders of 24 units/£90 and 600 units/£700 -> median 312 units, £395: trade
    assert profile.loc[1, "order_units_median"] == 312 and profile.loc[1, "order_value_median"] == 395.0
    assert profile.loc[1, "customer_type"] == "trade"
    assert profile.loc[2, "customer_type"] == "retail"  # 12 units, £30
    assert profile.loc[3, "country_code"] == "IE" and profile.loc[3, "region"] == "EU"  # "EIRE"
    assert profile.loc[1, "region"] == "United Kingdom"


def test_with_attributes_joins_the_crm_bands_and_leaves_the_rest_unknown():
    rows = campaign.with_attributes(listed(), pd.DataFrame({
        "customer_id": [2], "age_band": ["35-44"], "gender": ["female"], "area": ["SW"]}))
    rows = rows.set_index("customer_id")
    assert rows.loc[2, "age_band"] == "35-44" and rows.loc[2, "area"] == "SW"
    assert rows[["age_band", "gender", "area"]].drop(index=2).isna().all().all()
