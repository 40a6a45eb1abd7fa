"""Customer lifetime value: BG/NBD purchases, Gamma-Gamma spend, the churn-risk flag, holdout check.

The models come from ``lifetimes`` 0.11.3: BG/NBD (:class:`BetaGeoFitter`, Fader, Hardie &
Lee 2005) for future purchases and the probability a customer is still "alive",
Gamma-Gamma (:class:`GammaGammaFitter`) for spend per purchase.  The summaries they take are
built here, vectorised (the ``lifetimes.utils`` calibration/holdout helper fails on pandas 3).

Lifetimes' vocabulary differs from RFM's (:mod:`lgs_analytics.analytics.rfm`); all times are in days.
A *purchase* is a purchase day (several invoices on one day count once), or with
``freq_days`` > 1 a period of that many days, dated by its first purchase day.
``frequency`` = repeat purchases (purchases - 1); ``recency`` = days from the first to the
last purchase (NOT RFM's recency, which is ``T - recency`` here); ``T`` = days from the first
purchase to ``as_of``; ``monetary_value`` = mean GBP per repeat purchase (first excluded, 0
for one-time buyers), as Gamma-Gamma expects.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import time
import warnings
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

# lifetimes changes the global warning filters when imported (keep that local) and sets a pandas
# option pandas 3 deprecated (a Pandas4Warning: silence just that one).
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="The 'mode.chained_assignment' option is deprecated")
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import ConvergenceError

from lgs_analytics.analytics.clean import CleanResult
from lgs_analytics.analytics.frames import line_totals, require_columns
from lgs_analytics.analytics.rfm import resolve_as_of, standard_metrics
from lgs_analytics.results import Forecast

SUMMARY_COLUMNS: tuple[str, ...] = ("frequency", "recency", "T", "monetary_value")
CAL_HOLD_COLUMNS: tuple[str, ...] = (*(f"{c}_cal" for c in SUMMARY_COLUMNS), "frequency_holdout",
                                     "duration_holdout")
PREDICTION_COLUMNS: tuple[str, ...] = (
    "p_alive", "expected_purchases", "expected_avg_order_value", "expected_spend", "clv")
MIN_CUSTOMERS = 20
# The holdout check decides whether predictions are published: a model that misses the last
# six months' purchases by more than this (overall, or for a frequency bucket of at least
# QUALITY_MIN_BUCKET customers) is not trusted. On the real 2010-2011 data it misses by -10%
# overall and by at most -24% per bucket (7+); the Q4 peak makes some under-prediction normal.
QUALITY_MAX_ERROR_PCT = 35.0
QUALITY_MAX_BUCKET_ERROR_PCT = 50.0
QUALITY_MIN_BUCKET = 50


class ModelUnavailable(ValueError):
    """The models cannot give usable predictions for this data. The message says why in plain
    words (for the report); ``detail`` keeps the technical reason (for the build's record)."""

    def __init__(self, plain: str, detail: str = "") -> None:
        super().__init__(plain)
        self.detail = detail or plain
BUCKET_LABELS: tuple[str, ...] = ("0", "1", "2", "3", "4", "5", "6", "7+")


@dataclass(frozen=True)
class Models:
    """Fitted models: BG/NBD (``bgf``), Gamma-Gamma (``ggf``), fit time and sample sizes."""

    bgf: BetaGeoFitter
    ggf: GammaGammaFitter
    fit_seconds: float
    customers: int
    repeat_buyers: int


def _purchase_occasions(
    purchases: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp, freq_days: int
) -> pd.DataFrame:
    """One row per customer and purchase period in [start, end), sorted: first ``day`` and ``spend``.

    ``day`` counts days from ``end`` (negative); periods of ``freq_days`` days end at ``end``.
    """
    require_columns(purchases, ("invoice_date", "customer_id"), "the purchase summary")
    if freq_days < 1:
        raise ValueError(f"freq_days must be a whole number of days >= 1, got {freq_days}")
    dates = purchases["invoice_date"]
    keep = (dates < end) & purchases["customer_id"].notna()
    if start is not None:
        keep &= dates >= start
    lines = purchases[keep.fillna(False).astype(bool)]
    day = ((lines["invoice_date"].dt.normalize() - end) // pd.Timedelta(days=1)).to_numpy(dtype="int64")
    frame = pd.DataFrame({"customer_id": lines["customer_id"].to_numpy(dtype="int64"),
                          "period": day // freq_days, "day": day, "spend": line_totals(lines).to_numpy()})
    grouped = frame.groupby(["customer_id", "period"], sort=True)
    return grouped.agg(day=("day", "min"), spend=("spend", "sum")).reset_index()


def _as_of(value: pd.Timestamp | str) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def customer_summary(
    purchases: pd.DataFrame, as_of: pd.Timestamp | str | None = None, freq_days: int = 1
) -> pd.DataFrame:
    """Per-customer frequency, recency, T and monetary value, as the lifetimes models take them.

    ``purchases`` are cleaned purchase lines (:func:`lgs_analytics.analytics.clean.split_lines`).
    ``as_of`` (taken at midnight; default the day after the last purchase) ends the
    observation: later lines are ignored.  Indexed by ``customer_id`` (int64), sorted;
    columns ``frequency`` (int64, repeat purchase days), ``recency`` (days from the first to
    the last purchase, float -- not RFM's recency), ``T`` (days from the first purchase to
    ``as_of``, float) and ``monetary_value`` (mean GBP per repeat purchase day, the first
    excluded; 0.0 when frequency is 0).  With ``freq_days`` > 1 a purchase is a period of
    that many days (anchored at ``as_of``, dated by its first purchase day); times stay in days.
    """
    end = resolve_as_of("standard", as_of, purchases)
    occasions = _purchase_occasions(purchases, None, end, freq_days)
    per = occasions.groupby("customer_id", sort=True).agg(
        n=("day", "size"), first_day=("day", "min"), last_day=("day", "max"),
        total=("spend", "sum"), first_spend=("spend", "first"))
    frequency = per["n"] - 1
    repeat_spend = per["total"] - per["first_spend"]
    out = pd.DataFrame({
        "frequency": frequency.astype("int64"),
        "recency": (per["last_day"] - per["first_day"]).astype("float64"),
        "T": (-per["first_day"]).astype("float64"),
        "monetary_value": (repeat_spend / frequency.where(frequency > 0)).fillna(0.0).astype("float64"),
    })
    return out.set_axis(out.index.astype("int64").rename("customer_id"))


def calibration_holdout(purchases: pd.DataFrame, calibration_end: pd.Timestamp | str,
                        holdout_end: pd.Timestamp | str, freq_days: int = 1) -> pd.DataFrame:
    """Calibration summary and holdout purchases, to check the models out of sample.

    One row per customer who bought before ``calibration_end`` (dates taken at midnight):
    the :func:`customer_summary` columns as of ``calibration_end`` suffixed ``_cal``,
    ``frequency_holdout`` (purchase days in [calibration_end, holdout_end), int64) and
    ``duration_holdout`` (days, float).
    """
    cal_end, hold_end = _as_of(calibration_end), _as_of(holdout_end)
    if hold_end <= cal_end:
        raise ValueError(f"holdout_end ({hold_end.date()}) must be after calibration_end ({cal_end.date()})")
    calibration = customer_summary(purchases, cal_end, freq_days).add_suffix("_cal")
    holdout = _purchase_occasions(purchases, cal_end, hold_end, freq_days)
    counts = holdout.groupby("customer_id").size()
    calibration["frequency_holdout"] = counts.reindex(calibration.index, fill_value=0).astype("int64")
    calibration["duration_holdout"] = float((hold_end - cal_end) / pd.Timedelta(days=1))
    return calibration[list(CAL_HOLD_COLUMNS)]


def calibration_summary(cal_hold: pd.DataFrame) -> pd.DataFrame:
    """The calibration part of :func:`calibration_holdout`, named as :func:`fit_models` wants."""
    require_columns(cal_hold, CAL_HOLD_COLUMNS[:4], "calibration_summary")
    return cal_hold[list(CAL_HOLD_COLUMNS[:4])].set_axis(list(SUMMARY_COLUMNS), axis=1)


def fit_models(summary: pd.DataFrame, penalizer: float = 0.0) -> Models:
    """Fit BG/NBD on every customer and Gamma-Gamma on the repeat buyers.

    ``summary`` comes from :func:`customer_summary`.  Gamma-Gamma takes the customers with
    frequency > 0 and monetary value > 0.  ``penalizer`` is lifetimes' L2 penalty on the
    parameters of both models (try 0.001-0.1 when a fit does not converge).  Raises
    ValueError when there are fewer than :data:`MIN_CUSTOMERS` customers, no repeat buyer,
    or a fit does not converge to usable parameters.
    """
    require_columns(summary, SUMMARY_COLUMNS, "fit_models")
    if len(summary) < MIN_CUSTOMERS:
        raise ModelUnavailable(f"too few customers to predict churn and lifetime value: {len(summary)} "
                               f"bought in this period, the models need at least {MIN_CUSTOMERS}")
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    if repeat.empty:
        raise ModelUnavailable("no repeat buyers: no customer bought on two different days, so there is no "
                               "buying pattern to learn from")
    started = time.perf_counter()
    # lifetimes prints the optimizer's result on failure and resets warning filters. On its way the
    # optimizer tries extreme parameters, where the log-likelihood overflows or takes log(0): numpy
    # warned once per step (some 200 lines a build). After each fit lifetimes also takes the square
    # root of its variance matrix's diagonal for standard errors, which we never read: on a flat
    # optimum an entry is negative. None of it is the result: the parameters are checked below.
    try:
        with (warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()),
              np.errstate(all="ignore")):
            bgf = BetaGeoFitter(penalizer_coef=penalizer).fit(
                summary["frequency"], summary["recency"], summary["T"])
            ggf = GammaGammaFitter(penalizer_coef=penalizer).fit(
                repeat["frequency"], repeat["monetary_value"])
    except (ConvergenceError, np.linalg.LinAlgError) as err:
        raise ModelUnavailable(UNSETTLED, f"the fit did not converge (penalizer {penalizer}): "
                               f"{type(err).__name__}") from err
    seconds = time.perf_counter() - started
    params = pd.concat([bgf.params_, ggf.params_])
    # Gamma-Gamma's mean spend needs q > 1; BG/NBD's expectations for one-time buyers need a + b > 1
    # (below it lifetimes returns NaN for them).
    if not np.isfinite(params.to_numpy()).all() or params["q"] <= 1 or params["a"] + params["b"] <= 1:
        raise ModelUnavailable(UNSETTLED, f"unusable parameters {params.round(4).to_dict()} with penalizer "
                               f"{penalizer} (needs q > 1 and a + b > 1)")
    return Models(bgf=bgf, ggf=ggf, fit_seconds=seconds, customers=len(summary), repeat_buyers=len(repeat))


PENALIZERS = (0.0, 0.001, 0.01, 0.1)
UNSETTLED = ("the purchase histories are too short or too irregular for the models to settle on usable "
             "numbers")


def fit_models_robustly(summary: pd.DataFrame, penalizers: tuple[float, ...] = PENALIZERS) -> Models:
    """:func:`fit_models` with no penalty, or the smallest penalty that converges.

    Small or oddly shaped data (a few thousand rows, one season) can make the unpenalised
    fit diverge; a light L2 penalty then keeps the parameters finite. Raises the last error
    when even the largest penalty fails (too few customers, no repeat buyers...).
    """
    error: ModelUnavailable | None = None
    for penalizer in penalizers:
        try:
            return fit_models(summary, penalizer)
        except ModelUnavailable as exc:
            error = exc
            if exc.args[0] != UNSETTLED:  # too few customers, no repeat buyers: no penalty helps
                break
    assert error is not None
    raise error


def quality_problem(buckets: pd.DataFrame, metrics: dict[str, float]) -> str:
    """Why the holdout check says the predictions must not be published, in plain words; '' if fine."""
    error = metrics.get("error_pct", float("nan"))
    if not np.isfinite(error):
        return "there were no purchases in the last six months to test the models on"
    if abs(error) > QUALITY_MAX_ERROR_PCT:
        return (f"tested on the last six months, the models missed the purchases made by {error:+.0f}%, "
                f"more than the {QUALITY_MAX_ERROR_PCT:.0f}% we accept")
    big = buckets[(buckets["customers"] >= QUALITY_MIN_BUCKET) & (buckets["mean_actual"] > 0)]
    off = (big["mean_predicted"] / big["mean_actual"] - 1) * 100
    worst = cast(str, off.abs().idxmax()) if len(off) else None  # the index holds BUCKET_LABELS
    if worst is not None and abs(off[worst]) > QUALITY_MAX_BUCKET_ERROR_PCT:
        return (f"tested on the last six months, the models missed the purchases of customers with {worst} "
                f"earlier repeat purchases by {off[worst]:+.0f}%, more than the "
                f"{QUALITY_MAX_BUCKET_ERROR_PCT:.0f}% we accept")
    return ""


def population_mean_value(models: Models) -> float:
    """Gamma-Gamma population mean spend per purchase (GBP): v p / (q - 1)."""
    p, q, v = models.ggf.params_[["p", "q", "v"]]
    return float(v * p / (q - 1))


def predict_customers(models: Models, summary: pd.DataFrame, horizon_days: int = 90, clv_months: int = 12,
                      monthly_discount: float = 0.01) -> pd.DataFrame:
    """Per-customer predictions, indexed like ``summary``, all float64 (money in GBP, 2 dp).

    ``p_alive`` (4 dp; 1.0 for one-time buyers: BG/NBD drop-outs happen after a purchase);
    ``expected_purchases`` (purchase days in the next ``horizon_days``, 4 dp);
    ``expected_avg_order_value`` (Gamma-Gamma: the customer's mean shrunk towards the
    population mean, which one-time buyers get); ``expected_spend`` (expected purchases x
    order value); ``clv`` (lifetimes' ``customer_lifetime_value`` over ``clv_months`` months
    of 30 days, discounted by ``monthly_discount`` a month).
    """
    require_columns(summary, SUMMARY_COLUMNS, "predict_customers")
    frequency = summary["frequency"].astype("float64")
    recency, age = summary["recency"].astype("float64"), summary["T"].astype("float64")
    # One-time buyers (and any non-positive spend) get the population mean: with frequency 0
    # Gamma-Gamma puts no weight on the customer's own value anyway.
    value = summary["monetary_value"].astype("float64")
    value = value.where(value > 0, population_mean_value(models))
    bgf, ggf = models.bgf, models.ggf
    p_alive = bgf.conditional_probability_alive(frequency.to_numpy(), recency.to_numpy(), age.to_numpy())
    expected = bgf.conditional_expected_number_of_purchases_up_to_time(horizon_days, frequency, recency, age)
    order_value = ggf.conditional_expected_average_profit(frequency, value)
    clv = ggf.customer_lifetime_value(
        bgf, frequency, recency, age, value, time=clv_months, discount_rate=monthly_discount, freq="D")
    expected, order_value = np.asarray(expected, dtype="float64"), np.asarray(order_value, dtype="float64")
    return pd.DataFrame({
        "p_alive": np.asarray(p_alive, dtype="float64").round(4),
        "expected_purchases": expected.round(4),
        "expected_avg_order_value": order_value.round(2),
        "expected_spend": (expected * order_value).round(2),
        "clv": np.asarray(clv, dtype="float64").round(2),
    }, index=summary.index)


def customer_past_value(purchases: pd.DataFrame, as_of: pd.Timestamp | str | None = None) -> pd.Series:
    """Historical spend per customer (GBP, all purchases before ``as_of``), indexed by customer_id."""
    require_columns(purchases, ("invoice_date", "customer_id"), "customer_past_value")
    keep = purchases["customer_id"].notna()
    if as_of is not None:
        keep &= purchases["invoice_date"] < _as_of(as_of)
    bought = purchases[keep.fillna(False).astype(bool)]
    total = line_totals(bought).groupby(bought["customer_id"].astype("int64")).sum()
    return total.rename("past_value").rename_axis("customer_id")


def churn_risk_flag(predictions: pd.DataFrame, past_value: pd.Series, p_alive_below: float = 0.5,
                    min_value_quantile: float = 0.75) -> pd.Series:
    """True for valuable customers probably lost, indexed like ``predictions``.

    ``past_value``: historical spend (GBP) by customer_id, e.g. :func:`customer_past_value`
    or RFM's ``monetary``.  Flagged: p_alive below ``p_alive_below`` and past value at least
    its ``min_value_quantile`` quantile among the predicted customers (no value: no flag).
    """
    value = past_value.astype("float64").reindex(predictions.index)
    threshold = value.quantile(min_value_quantile)
    flag = (predictions["p_alive"] < p_alive_below) & (value >= threshold)
    return flag.fillna(False).astype(bool).rename("churn_risk")


def holdout_predictions(models: Models, cal_hold: pd.DataFrame) -> pd.DataFrame:
    """Per customer: ``frequency_cal``, ``actual`` and ``predicted`` holdout purchases."""
    require_columns(cal_hold, CAL_HOLD_COLUMNS, "holdout_predictions")
    predicted = models.bgf.conditional_expected_number_of_purchases_up_to_time(
        cal_hold["duration_holdout"], cal_hold["frequency_cal"], cal_hold["recency_cal"], cal_hold["T_cal"])
    return pd.DataFrame({
        "frequency_cal": cal_hold["frequency_cal"].astype("int64"),
        "actual": cal_hold["frequency_holdout"].astype("float64"),
        "predicted": np.asarray(predicted, dtype="float64"),
    }, index=cal_hold.index)


def holdout_check(models: Models, cal_hold: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """Predicted vs actual holdout purchases, by calibration frequency and overall.

    ``models`` should be fitted on :func:`calibration_summary` of ``cal_hold``.  Returns a
    table indexed by ``frequency_cal`` bucket (0 .. 6, 7+; empty ones kept) with
    ``customers``, ``mean_actual`` and ``mean_predicted`` (purchases per customer, 3 dp), and
    metrics ``customers``, ``total_actual``, ``total_predicted``, ``error_pct`` (of the total,
    %) and ``mae`` (mean absolute error per customer).
    """
    per = holdout_predictions(models, cal_hold)
    bucket = pd.Categorical.from_codes(
        per["frequency_cal"].clip(upper=len(BUCKET_LABELS) - 1).to_numpy("int64"),
        categories=pd.Index(list(BUCKET_LABELS)))
    grouped = per.groupby(pd.Series(bucket, index=per.index), observed=False)
    table = pd.DataFrame({"customers": grouped.size().astype("int64"),
                          "mean_actual": grouped["actual"].mean().round(3),
                          "mean_predicted": grouped["predicted"].mean().round(3)})
    table.index = pd.Index(list(BUCKET_LABELS), name="frequency_cal")
    actual, predicted = float(per["actual"].sum()), float(per["predicted"].sum())
    metrics = {
        "customers": len(per),
        "total_actual": actual,
        "total_predicted": round(predicted, 1),
        "error_pct": round(100 * (predicted - actual) / actual, 2) if actual else float("nan"),
        "mae": round(float((per["predicted"] - per["actual"]).abs().mean()), 4),
    }
    return table, metrics


__all__ = [
    "BUCKET_LABELS", "CAL_HOLD_COLUMNS", "MIN_CUSTOMERS", "ModelUnavailable", "Models",
    "PREDICTION_COLUMNS", "SUMMARY_COLUMNS", "calibration_holdout", "calibration_summary",
    "churn_risk_flag", "customer_summary", "fit_models", "fit_models_robustly",
    "holdout_check", "quality_problem",
    "customer_past_value", "holdout_predictions", "population_mean_value", "predict_customers",
]


HOLDOUT_DAYS = 182  # the last six months of the data check the models fitted on the months before


def unavailable(as_of: pd.Timestamp, horizon_days: int, reason: str, detail: str = "",
                buckets: pd.DataFrame | None = None, holdout: dict[str, float] | None = None) -> Forecast:
    """A :class:`Forecast` that publishes no prediction, saying why (``reason``, in plain words)."""
    empty = pd.DataFrame()
    return Forecast(as_of, horizon_days, empty, empty if buckets is None else buckets, holdout or {},
                    0.0, unavailable=reason, detail=detail or reason)


def forecast(cleaned: CleanResult, as_of: dt.date | str | None = None, horizon_days: int = 90,
             strict: bool = False) -> Forecast:
    """The model policy, as one call: fit BG/NBD and Gamma-Gamma on all but the last
    :data:`HOLDOUT_DAYS` before ``as_of``, check them on those days (:func:`quality_problem`), then
    refit on everything, predict every customer and flag high-value customers likely to have lapsed.

    The predictions are withheld (``unavailable`` says why, in plain words) when the models cannot
    be fitted, give unusable numbers, or fail the holdout check; ``strict`` (the `lgs predict`
    command) raises the reason as a ValueError instead.
    """
    purchases, cancellations = cleaned.purchases, cleaned.cancellations
    as_of_ts = resolve_as_of("standard", as_of, purchases, cancellations)
    buckets, holdout = None, None
    try:
        calibration_end = as_of_ts - pd.Timedelta(days=HOLDOUT_DAYS)
        cal_hold = calibration_holdout(purchases, calibration_end, as_of_ts)
        buckets, holdout = holdout_check(fit_models_robustly(calibration_summary(cal_hold)), cal_hold)
        problem = quality_problem(buckets, holdout)
        if problem:
            raise ModelUnavailable(problem, f"holdout check failed: {holdout}")
        summary = customer_summary(purchases, as_of_ts)
        models = fit_models_robustly(summary)
        customers = predict_customers(models, summary, horizon_days=horizon_days)
        unusable = int(customers.isna().any(axis=1).sum())
        if unusable:
            raise ModelUnavailable(
                f"the models gave no usable prediction for {unusable:,} of {len(customers):,} customers",
                f"NaN predictions for {unusable} customers, BG/NBD {models.bgf.params_.round(4).to_dict()}")
    except Exception as exc:  # whatever the models do on odd data, the report and the build go on
        why = exc if isinstance(exc, ModelUnavailable) else ModelUnavailable(
            "the models could not be fitted to this data", f"{type(exc).__name__}: {exc}")
        if strict:
            raise ValueError(f"no predictions: {why}") from exc
        return unavailable(as_of_ts, horizon_days, str(why), why.detail, buckets, holdout)
    # Past value net of returns: a huge order cancelled the same day is not value.
    past_value = standard_metrics(purchases, cancellations, as_of_ts)["monetary"]
    customers["churn_risk"] = churn_risk_flag(customers, past_value)
    customers["past_value"] = past_value.reindex(customers.index).fillna(0.0).round(2)
    return Forecast(as_of_ts, horizon_days, customers, buckets, holdout, models.fit_seconds)
