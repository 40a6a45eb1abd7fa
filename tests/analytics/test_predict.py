"""CLV models: CDNOW against the published fits, hand-checked summaries, synthetic LGS data."""

from __future__ import annotations

import math
import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln, gammaln

from lgs_analytics.analytics.predict import (  # first: it imports lifetimes quietly
    BUCKET_LABELS,
    CAL_HOLD_COLUMNS,
    PREDICTION_COLUMNS,
    SUMMARY_COLUMNS,
    Models,
    calibration_holdout,
    calibration_summary,
    churn_risk_flag,
    customer_past_value,
    customer_summary,
    fit_models,
    fit_models_robustly,
    holdout_check,
    population_mean_value,
    predict_customers,
)
from lgs_analytics.config import DB_COLUMNS, EXPORT_COLUMNS
from lgs_analytics.jobs.build import clean_frame
from lgs_analytics.synthetic import generate_export

# --- CDNOW: Fader, Hardie & Lee (2005) --------------------------------------------------------


def bgnbd_log_likelihood(params: pd.Series, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> float:
    """Total BG/NBD log-likelihood, equation (6) of Fader, Hardie & Lee (2005), in the data's units.

    L = B(a, b+x)/B(a, b) * G(r+x) a^r / (G(r) (alpha+T)^(r+x))
        + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x)).
    (lifetimes reports a mean negative log-likelihood with time rescaled to max(T) = 1.)
    """
    r, alpha, a, b = (float(params[k]) for k in ("r", "alpha", "a", "b"))
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    alive = common + betaln(a, b + x) - (r + x) * np.log(alpha + T)
    dropped = common + betaln(a + 1, b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x)
    return float(np.logaddexp(alive, np.where(x > 0, dropped, -np.inf)).sum())


@pytest.fixture(scope="module")
def cdnow() -> tuple[pd.DataFrame, Models]:
    from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

    summary = load_cdnow_summary_data_with_monetary_value()  # weeks; frequency 0 -> monetary 0
    return summary, fit_models(summary)


def test_cdnow_summary_is_the_bgnbd_one(cdnow: tuple[pd.DataFrame, Models]) -> None:
    from lifetimes.datasets import load_cdnow_summary

    summary, _ = cdnow
    plain = load_cdnow_summary(index_col=[0])
    assert len(summary) == 2357
    np.testing.assert_array_equal(summary[["frequency", "recency", "T"]].to_numpy(),
                                  plain[["frequency", "recency", "T"]].to_numpy())


def test_cdnow_bgnbd_matches_the_paper(cdnow: tuple[pd.DataFrame, Models]) -> None:
    summary, models = cdnow
    params = models.bgf.params_
    for name, published in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert round(float(params[name]), 3) == pytest.approx(published, abs=1.5e-3), name
        assert float(params[name]) == pytest.approx(published, rel=1e-2), name
    ll = bgnbd_log_likelihood(params, summary["frequency"].to_numpy(), summary["recency"].to_numpy(),
                              summary["T"].to_numpy())
    assert ll == pytest.approx(-9582.4, abs=0.5)
    assert models.customers == 2357


def test_cdnow_gamma_gamma_matches_the_paper(cdnow: tuple[pd.DataFrame, Models]) -> None:
    _, models = cdnow
    assert models.repeat_buyers == 946
    params = models.ggf.params_
    for name, published in {"p": 6.25, "q": 3.74, "v": 15.44}.items():
        assert float(params[name]) == pytest.approx(published, rel=1e-2), name
    # population mean spend per purchase: v p / (q - 1), about $35.
    assert population_mean_value(models) == pytest.approx(15.44 * 6.25 / 2.74, rel=1e-2)


def test_cdnow_predictions(cdnow: tuple[pd.DataFrame, Models]) -> None:
    summary, models = cdnow
    pred = predict_customers(models, summary, horizon_days=39)  # weeks here
    assert list(pred.columns) == list(PREDICTION_COLUMNS)
    assert (pred.dtypes == "float64").all()
    assert pred.index.equals(summary.index)
    one_time = summary["frequency"] == 0
    assert (pred.loc[one_time, "p_alive"] == 1.0).all()
    assert (pred.loc[one_time, "expected_avg_order_value"] == round(population_mean_value(models), 2)).all()
    spend = pred["expected_purchases"] * pred["expected_avg_order_value"]
    np.testing.assert_allclose(pred["expected_spend"], spend, atol=0.01 + 1e-4 * spend.max())


def test_clv_is_the_discounted_monthly_sum(cdnow: tuple[pd.DataFrame, Models]) -> None:
    # clv = sum over months m = 1..12 of order value x expected purchases in days
    # (30(m-1), 30m] / 1.01^m: lifetimes' freq="D" means 30-day months (CDNOW counts weeks; same sums).
    summary, models = cdnow
    row = summary.loc[[1]]  # x = 2, t_x = 30.43, T = 38.86, mean spend 22.35
    x, t_x, T = row["frequency"], row["recency"], row["T"]
    order_value = float(models.ggf.conditional_expected_average_profit(x, row["monetary_value"]).iloc[0])
    cumulative = [float(models.bgf.conditional_expected_number_of_purchases_up_to_time(30 * m, x, t_x, T)
                        .iloc[0]) for m in range(13)]
    by_hand = sum(order_value * (cumulative[m] - cumulative[m - 1]) / 1.01 ** m for m in range(1, 13))
    pred = predict_customers(models, row, horizon_days=90, clv_months=12, monthly_discount=0.01)
    assert pred.loc[1, "clv"] == pytest.approx(by_hand, abs=0.006)
    assert pred.loc[1, "expected_purchases"] == pytest.approx(cumulative[3], abs=1e-4)
    assert pred.loc[1, "expected_avg_order_value"] == pytest.approx(order_value, abs=0.006)


def test_fit_leaves_warning_filters_alone(cdnow: tuple[pd.DataFrame, Models]) -> None:
    summary, _ = cdnow
    before = list(warnings.filters)
    fit_models(summary)
    assert warnings.filters == before



def test_a_fit_whose_standard_errors_are_undefined_warns_nothing() -> None:
    # 20 customers on which lifetimes' variance matrix has a negative diagonal entry: the standard
    # errors it computes after the fit (and we never read) would be the square root of it.
    summary = pd.DataFrame({  # one customer per position
        "frequency": [1, 1, 0, 1, 1, 1, 3, 3, 3, 1, 3, 3, 2, 2, 2, 1, 1, 2, 0, 2],
        "recency": [196, 159, 0, 13, 209, 33, 212, 170, 30, 181, 147, 206, 1, 89, 304, 192, 160, 221, 0, 184],
        "T": [196, 230, 51, 367, 209, 113, 212, 170, 189, 181, 147, 206, 102, 89, 304, 317, 160, 323,
              180, 184],
        "monetary_value": [41, 58, 0, 63, 60, 117, 51, 137, 20, 79, 135, 86, 125, 95, 104, 95, 21, 182,
                           0, 32],
    }).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        models = fit_models(summary)
    assert models.customers == 20
    assert not hasattr(models.bgf, "standard_errors_")  # our own bounded fit computes none


def test_a_fit_that_tries_extreme_parameters_floods_no_warning() -> None:
    # 200 customers, 20 of whom bought twice: the optimizer steps through parameters where the
    # log-likelihood overflows and takes log(0); numpy warned at each step (99 lines here, some 200
    # a build on the real sample). The bounded fit settles (lifetimes' own gave up): silently.
    summary = pd.DataFrame({"frequency": [1.0] * 20 + [0.0] * 180, "recency": [170.0] * 20 + [0.0] * 180,
                            "T": [180.0] * 200, "monetary_value": [20.0] * 20 + [0.0] * 180})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        models = fit_models_robustly(summary)
    assert [str(w.message) for w in caught] == []
    assert np.isfinite(models.bgf.params_.to_numpy()).all()


# --- a hand-checked fixture ---------------------------------------------------------------------

AS_OF = "2011-12-10"
COLUMNS = ["invoice_no", "stock_code", "description", "quantity", "invoice_date", "unit_price",
           "customer_id", "country"]
FIXTURE = [
    # 101: three purchase days; two invoices on 2011-11-15 count once.
    ("500001", 101, "2011-11-01 10:00", 2, 5.00),    # 10
    ("500001", 101, "2011-11-01 10:00", 1, 20.00),   # 20  -> day 1: 30 (first purchase)
    ("500002", 101, "2011-11-15 09:00", 4, 2.50),    # 10
    ("500003", 101, "2011-11-15 14:30", 1, 15.00),   # 15  -> day 2: 25
    ("500004", 101, "2011-12-01 11:00", 3, 5.00),    # 15  -> day 3: 15
    # 102: a one-time buyer the day before as_of.
    ("500005", 102, "2011-12-09 16:00", 10, 1.25),   # 12.50
    # 103: two purchase days, then one on as_of itself (ignored: as_of is exclusive).
    ("500006", 103, "2011-06-01 12:00", 1, 100.00),  # 100 (first purchase)
    ("500007", 103, "2011-09-01 12:00", 2, 30.00),   # 60
    ("500008", 103, "2011-12-10 08:00", 1, 1000.00),
    # 104: only after as_of.
    ("500009", 104, "2011-12-12 10:00", 1, 9.99),
]


@pytest.fixture
def fixture_purchases() -> pd.DataFrame:
    rows = [(inv, f"2{i:04d}", f"item {i}", qty, pd.Timestamp(date), price, cust, "United Kingdom")
            for i, (inv, cust, date, qty, price) in enumerate(FIXTURE)]
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["customer_id"] = df["customer_id"].astype("Int64")
    return df.assign(line_total=df["quantity"] * df["unit_price"])


def test_customer_summary_by_hand(fixture_purchases: pd.DataFrame) -> None:
    out = customer_summary(fixture_purchases, as_of=AS_OF)
    assert list(out.columns) == list(SUMMARY_COLUMNS)
    assert out.index.name == "customer_id" and out.index.dtype == "int64"
    assert out["frequency"].dtype == "int64"
    expected = pd.DataFrame({
        # 101: days 11-01, 11-15, 12-01 -> 2 repeats; 11-01 -> 12-01 = 30 d; 11-01 -> 12-10 = 39 d;
        #      repeat days spent 25 and 15 -> mean 20.
        # 102: one day -> 0 repeats, recency 0, T 1 (12-09 -> 12-10), monetary 0.
        # 103: 06-01, 09-01 -> 1 repeat; 30 + 31 + 31 = 92 d; 92 + 91 (Sep-Nov) + 9 = 192 d; 60.
        "frequency": [2, 0, 1],
        "recency": [30.0, 0.0, 92.0],
        "T": [39.0, 1.0, 192.0],
        "monetary_value": [20.0, 0.0, 60.0],
    }, index=pd.Index([101, 102, 103], name="customer_id"))
    pd.testing.assert_frame_equal(out, expected)


def test_customer_summary_default_as_of_is_the_day_after_the_last_purchase(
    fixture_purchases: pd.DataFrame,
) -> None:
    out = customer_summary(fixture_purchases)  # as_of 2011-12-13: 104 counts, 103 has 3 days
    assert out.loc[104].to_dict() == {"frequency": 0, "recency": 0.0, "T": 1.0, "monetary_value": 0.0}
    # 103: 06-01, 09-01, 12-10 -> 2 repeats, recency 192, T 195, monetary (60 + 1000) / 2.
    assert out.loc[103].to_dict() == {"frequency": 2, "recency": 192.0, "T": 195.0, "monetary_value": 530.0}
    assert out.loc[101, "T"] == 42.0


def test_customer_summary_with_purchase_periods(fixture_purchases: pd.DataFrame) -> None:
    # 30-day periods ending at 12-10: [11-10, 12-10) holds 11-15 and 12-01 (one purchase, dated
    # 11-15, spend 25 + 15 = 40); 11-01 is in the period before.
    out = customer_summary(fixture_purchases, as_of=AS_OF, freq_days=30)
    assert out.loc[101].to_dict() == {"frequency": 1, "recency": 14.0, "T": 39.0, "monetary_value": 40.0}
    with pytest.raises(ValueError, match="freq_days"):
        customer_summary(fixture_purchases, as_of=AS_OF, freq_days=0)


def test_calibration_holdout_by_hand(fixture_purchases: pd.DataFrame) -> None:
    out = calibration_holdout(fixture_purchases, "2011-11-10", "2011-12-11")
    assert list(out.columns) == list(CAL_HOLD_COLUMNS)
    expected = pd.DataFrame({
        # 101: calibration only 11-01 (T 11-01 -> 11-10 = 9); holdout 11-15 (twice), 12-01 -> 2 days.
        # 103: 06-01, 09-01; T 06-01 -> 11-10 = 92 + 30 + 31 + 9 = 162; holdout 12-10 -> 1.
        # 102 (first bought 12-09) and 104 (12-12) have no calibration purchase.
        "frequency_cal": [0, 1],
        "recency_cal": [0.0, 92.0],
        "T_cal": [9.0, 162.0],
        "monetary_value_cal": [0.0, 60.0],
        "frequency_holdout": [2, 1],
        "duration_holdout": [31.0, 31.0],  # 11-10 -> 12-11
    }, index=pd.Index([101, 103], name="customer_id"))
    pd.testing.assert_frame_equal(out, expected)
    assert list(calibration_summary(out).columns) == list(SUMMARY_COLUMNS)
    with pytest.raises(ValueError, match="must be after calibration_end"):
        calibration_holdout(fixture_purchases, "2011-11-10", "2011-11-10")


def test_customer_past_value(fixture_purchases: pd.DataFrame) -> None:
    value = customer_past_value(fixture_purchases, as_of=AS_OF)
    assert value.to_dict() == {101: 70.0, 102: 12.5, 103: 160.0}  # 30 + 25 + 15; 12.50; 100 + 60


def test_too_few_customers(fixture_purchases: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"too few customers to predict churn and lifetime value: 3 bought"):
        fit_models(customer_summary(fixture_purchases, as_of=AS_OF))


def test_no_repeat_buyers() -> None:
    summary = pd.DataFrame({"frequency": [0] * 25, "recency": [0.0] * 25, "T": [10.0] * 25,
                            "monetary_value": [0.0] * 25})
    with pytest.raises(ValueError, match="no repeat buyers"):
        fit_models(summary)


# --- synthetic LGS data -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic(rules_db) -> pd.DataFrame:
    sheets = generate_export(rows=60_000, seed=1)
    raw = pd.concat(sheets.values(), ignore_index=True).drop_duplicates()  # the sheets' overlap
    raw = raw.rename(columns=dict(zip(EXPORT_COLUMNS, DB_COLUMNS, strict=True)))
    raw["customer_id"] = raw["customer_id"].astype("Int64")
    return clean_frame(raw.assign(is_repeat=False), rules_db).purchases


@pytest.fixture(scope="module")
def synthetic_fit(synthetic: pd.DataFrame) -> tuple[pd.DataFrame, Models, pd.DataFrame]:
    summary = customer_summary(synthetic)
    models = fit_models(summary)
    return summary, models, predict_customers(models, summary)


def test_synthetic_predictions(synthetic: pd.DataFrame,
                               synthetic_fit: tuple[pd.DataFrame, Models, pd.DataFrame]) -> None:
    summary, models, pred = synthetic_fit
    assert pred.index.equals(summary.index)
    assert set(pred.index) == set(synthetic["customer_id"].astype("int64"))
    assert models.customers == len(summary) and 0 < models.repeat_buyers < len(summary)
    assert models.fit_seconds > 0
    assert not pred.isna().any().any()
    assert pred["p_alive"].between(0, 1).all()
    assert (pred["expected_purchases"] >= 0).all()
    assert (pred["expected_avg_order_value"] > 0).all()
    assert (pred["clv"] >= 0).all() and (pred["expected_spend"] >= 0).all()
    # a year's CLV exceeds the next 90 days' expected spend, customer by customer (up to rounding)
    assert (pred["clv"] >= pred["expected_spend"] - 0.01).all()


def test_synthetic_churn_risk_flag(synthetic: pd.DataFrame,
                                  synthetic_fit: tuple[pd.DataFrame, Models, pd.DataFrame]) -> None:
    # (the ranked alerts are the campaign list's: tests/analytics/test_campaign.py)
    _, _, pred = synthetic_fit
    value = customer_past_value(synthetic)
    threshold = value.quantile(0.75)
    flag = churn_risk_flag(pred, value)
    assert flag.dtype == bool and flag.index.equals(pred.index)
    assert flag.sum() > 0
    flagged = pred[flag]
    assert (flagged["p_no_purchase"] >= 0.5).all()
    old_rule = churn_risk_flag(pred, value, 0.5, score="p_alive")
    assert (pred.loc[old_rule, "p_alive"] < 0.5).all()
    assert (value.reindex(flagged.index) >= threshold).all()


def test_synthetic_holdout_check(synthetic: pd.DataFrame) -> None:
    cal_hold = calibration_holdout(synthetic, "2011-06-09", "2011-12-10")
    models = fit_models(calibration_summary(cal_hold))
    table, metrics = holdout_check(models, cal_hold)
    assert list(table.index) == list(BUCKET_LABELS)
    assert list(table.columns) == ["customers", "mean_actual", "mean_predicted"]
    assert table["customers"].sum() == len(cal_hold) == metrics["customers"]
    assert metrics["total_actual"] == cal_hold["frequency_holdout"].sum()
    assert math.isfinite(metrics["error_pct"]) and math.isfinite(metrics["mae"])
    assert metrics["total_predicted"] > 0


class SteadyRate:
    """A purchase model that expects 0.1 purchase days a day of every customer, whatever their past."""

    def conditional_expected_number_of_purchases_up_to_time(self, t, x, recency, age):
        return np.full(len(x), 0.1 * t)


def test_holdout_by_month_by_hand() -> None:
    from lgs_analytics.analytics.predict import holdout_by_month

    # Holdout 20 Oct - 4 Dec 2011: 12 days of October, 30 of November, 4 of December. Customers 1 and
    # 2 were seen before it: 0.2 expected purchase days a day between them, 2.4 / 6.0 / 0.8.
    cal_hold = pd.DataFrame({"frequency_cal": [1, 0], "recency_cal": [10.0, 0.0], "T_cal": [40.0, 5.0],
                             "monetary_value_cal": [5.0, 0.0], "frequency_holdout": [3, 1],
                             "duration_holdout": [46.0, 46.0]}, index=pd.Index([1, 2], name="customer_id"))
    dates = ["2011-10-10", "2011-10-25", "2011-11-03 09:00", "2011-11-03 15:00", "2011-11-20", "2011-12-01",
             "2011-11-10", "2011-12-05"]
    purchases = pd.DataFrame({"customer_id": pd.array([1, 1, 1, 1, 1, 2, 3, 2], dtype="Int64"),
                              "invoice_date": pd.to_datetime(dates, format="ISO8601"), "quantity": 1,
                              "unit_price": 2.0})
    models = Models(bgf=SteadyRate(), ggf=None, fit_seconds=0.0, customers=2, repeat_buyers=1)  # type: ignore[arg-type]
    rows = holdout_by_month(models, cal_hold, purchases, "2011-10-20", "2011-12-05")
    # Actual: October 1 (25th; the 10th is before the holdout); November 2 (two invoices on the 3rd
    # are one purchase day, and customer 3 was not seen before); December 1 (the 5th is after it).
    assert rows == [
        {"month": "2011-10", "days": 12, "actual": 1, "predicted": 2.4, "error_pct": 140.0},
        {"month": "2011-11", "days": 30, "actual": 2, "predicted": 6.0, "error_pct": 200.0},
        {"month": "2011-12", "days": 4, "actual": 1, "predicted": 0.8, "error_pct": -20.0}]


def test_holdout_by_month_adds_up_to_the_holdout_check(synthetic: pd.DataFrame) -> None:
    from lgs_analytics.analytics.predict import holdout_by_month

    cal_hold = calibration_holdout(synthetic, "2011-06-09", "2011-12-10")
    models = fit_models(calibration_summary(cal_hold))
    _, metrics = holdout_check(models, cal_hold)
    rows = holdout_by_month(models, cal_hold, synthetic, "2011-06-09", "2011-12-10")
    assert [r["month"] for r in rows] == ["2011-06", "2011-07", "2011-08", "2011-09", "2011-10", "2011-11",
                                          "2011-12"]
    assert sum(r["days"] for r in rows) == 184
    assert sum(r["actual"] for r in rows) == metrics["total_actual"]
    assert sum(r["predicted"] for r in rows) == pytest.approx(metrics["total_predicted"], abs=0.5)


def test_robust_fit_falls_back_to_a_penalty_and_stops_on_hopeless_data(monkeypatch):
    from lgs_analytics.analytics import predict

    tried = []

    def fake_fit(summary, penalizer=0.0, model="bgnbd"):
        tried.append(penalizer)
        if penalizer < 0.01:
            raise predict.ModelUnavailable(predict.UNSETTLED, "did not converge")
        return penalizer

    monkeypatch.setattr(predict, "fit_models", fake_fit)
    assert predict.fit_models_robustly(None) == 0.01 and tried == [0.0, 0.001, 0.01]
    tried.clear()

    def too_few(summary, penalizer=0.0, model="bgnbd"):
        tried.append(penalizer)
        raise predict.ModelUnavailable("too few customers to predict churn and lifetime value: 3")

    monkeypatch.setattr(predict, "fit_models", too_few)
    with pytest.raises(ValueError, match="too few"):
        predict.fit_models_robustly(None)
    assert tried == [0.0]


def test_the_holdout_check_decides_whether_predictions_are_published():
    from lgs_analytics.analytics.predict import quality_problem

    buckets = pd.DataFrame({"customers": [1395, 594, 40], "mean_actual": [1.1, 1.8, 6.3],
                            "mean_predicted": [1.0, 1.8, 2.0]}, index=pd.Index(["0", "1", "6"]))
    assert quality_problem(buckets, {"error_pct": -10.3}) == ""  # a small bucket may be off
    assert "by -40%, more than the 35%" in quality_problem(buckets, {"error_pct": -40.0})
    skewed = buckets.assign(mean_predicted=[1.0, 0.8, 6.3])
    problem = quality_problem(skewed, {"error_pct": -12.0})
    assert "customers with 1 earlier repeat purchases by -56%" in problem
    assert "no purchases in the last six months" in quality_problem(buckets, {"error_pct": float("nan")})


def test_a_fit_whose_one_time_buyers_would_get_nan_is_refused(monkeypatch, synthetic):
    """a + b < 1 makes lifetimes return NaN for one-time buyers: such a fit is never used."""
    from lgs_analytics.analytics import predict

    summary = predict.customer_summary(synthetic)
    real_fit = predict.fit_purchase_model

    def fit_with_small_a_plus_b(*args, **kwargs):
        fitted = real_fit(*args, **kwargs)
        fitted.params_ = fitted.params_.copy()
        fitted.params_[["a", "b"]] = [0.3, 0.4]
        return fitted

    monkeypatch.setattr(predict, "fit_purchase_model", fit_with_small_a_plus_b)
    with pytest.raises(predict.ModelUnavailable, match="too short or too irregular") as caught:
        predict.fit_models_robustly(summary)
    assert "a + b > 1" in caught.value.detail


# --- the churn flag's backtest, by hand ---------------------------------------------------------


def test_p_no_purchase_by_hand(cdnow: tuple[pd.DataFrame, Models]) -> None:
    from lgs_analytics.analytics.predict import p_no_purchase

    summary, models = cdnow
    r, alpha = (float(models.bgf.params_[k]) for k in ("r", "alpha"))
    once = int(summary.index[summary["frequency"] == 0][0])  # bought once: P(alive) 1 for BG/NBD
    rows = summary.loc[[1, once]]  # customer 1: x = 2, t_x = 30.43, T = 38.86
    quiet = p_no_purchase(models, rows, 10)
    T = float(summary.loc[once, "T"])
    assert quiet[1] == pytest.approx(((alpha + T) / (alpha + T + 10)) ** r, rel=1e-9)
    alive = float(np.asarray(models.bgf.conditional_probability_alive(2, 30.43, 38.86)).ravel()[0])
    stays_quiet = ((alpha + 38.86) / (alpha + 38.86 + 10)) ** (r + 2)
    assert quiet[0] == pytest.approx(1 - alive + alive * stays_quiet, rel=1e-3)
    assert p_no_purchase(models, rows, 0) == pytest.approx([1.0, 1.0])


def test_backtest_counts_by_hand() -> None:
    from lgs_analytics.analytics.predict import backtest_table, choose_threshold, gap_rule

    # five customers scored at a past date; frequency/recency/T in days at that date
    summary = pd.DataFrame({"frequency": [2, 1, 0, 3, 1], "recency": [20.0, 10.0, 0.0, 90.0, 50.0],
                            "T": [100.0, 15.0, 40.0, 100.0, 200.0]}, index=pd.Index([1, 2, 3, 4, 5]))
    # gaps 10, 10, -, 30, 50; days since 80, 5, 40, 10, 150 -> over twice the gap: 1 and 5
    assert gap_rule(summary).tolist() == [True, False, False, False, True]
    returned = pd.Series([False, True, False, True, True], index=summary.index)
    score = pd.Series([0.9, 0.2, 0.7, 0.4, 0.5], index=summary.index)
    # thresholds 0.3 .. 0.95: at 0.55..0.7 both lapsed (1, 3) flagged, no returner: J = 1, the highest 0.7
    assert choose_threshold(score, returned) == 0.7
    past = pd.Series([100.0, 20.0, 5.0, 300.0, 40.0], index=summary.index)
    rows = backtest_table({"model": score >= 0.7, "gap": gap_rule(summary)}, returned, past)
    table = [(r["rule"], r["group"], r["customers"], r["not_returned_pct"], r["past_spend"]) for r in rows]
    assert table == [("model", "flagged", 2, 100.0, 105.0), ("model", "not flagged", 3, 0.0, 360.0),
                     ("gap", "flagged", 2, 50.0, 140.0), ("gap", "not flagged", 3, 33.3, 325.0)]


# --- the vendored real sample: predictions, and the same with and without OPENBLAS_CORETYPE -------

PUBLISHED = """
import pickle, sys, warnings
warnings.simplefilter("ignore")
from lgs_analytics.analytics import predict
f = predict.forecast(pickle.load(open(sys.argv[1], "rb")))
c = f.customers
print(f.unavailable, f.model, f.holdout_metrics, f.backtest.get("threshold"), f.backtest.get("rows"))
if not f.unavailable:
    print(len(c), int(c["churn_risk"].sum()),
          *(f"{c[k].sum():.4g}" for k in ("p_alive", "expected_purchases", "clv", "p_no_order_90d")))
"""


@pytest.fixture(scope="module")
def sample_cleaned(rules_db, tmp_path_factory) -> Path:
    from tests.conftest import SAMPLE_2010_2011

    raw = pd.read_csv(SAMPLE_2010_2011, dtype={"InvoiceNo": str, "StockCode": str},
                      parse_dates=["InvoiceDate"])
    raw.columns = list(DB_COLUMNS)
    raw["customer_id"] = raw["customer_id"].astype("Int64")
    cleaned = clean_frame(raw.assign(is_repeat=raw.duplicated()), rules_db)
    path = tmp_path_factory.mktemp("sample") / "cleaned.pkl"
    path.write_bytes(pickle.dumps(cleaned))
    return path


def test_the_real_sample_publishes_predictions_the_same_on_every_blas_kernel(sample_cleaned: Path) -> None:
    src = str(Path(__file__).resolve().parents[2] / "src")
    outputs = []
    for coretype in ("Haswell", None):
        env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
        env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
        if coretype:
            env["OPENBLAS_CORETYPE"] = coretype
        done = subprocess.run([sys.executable, "-c", PUBLISHED, str(sample_cleaned)], env=env,
                              capture_output=True, text=True, timeout=300, check=True)
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    first, counts = outputs[0].splitlines()
    assert not first.startswith(" ") or "BG/NBD" in first  # published: no reason before the model
    customers, alerts = (int(v) for v in counts.split()[:2])
    assert customers > 500 and alerts > 0
    assert 0 < float(counts.split()[-1]) < customers  # p_no_order_90d published, each within 0-1
