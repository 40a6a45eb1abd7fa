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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

# lifetimes changes the global warning filters when imported (keep that local) and sets a pandas
# option pandas 3 deprecated (a Pandas4Warning: silence just that one).
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="The 'mode.chained_assignment' option is deprecated")
    from autograd import value_and_grad  # type: ignore[import-untyped]
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter
    from lifetimes.utils import ConvergenceError
from scipy.optimize import minimize  # type: ignore[import-untyped]

from lgs_analytics.analytics.clean import CleanResult
from lgs_analytics.analytics.frames import line_totals, require_columns
from lgs_analytics.analytics.rfm import resolve_as_of, standard_metrics
from lgs_analytics.results import Forecast

SUMMARY_COLUMNS: tuple[str, ...] = ("frequency", "recency", "T", "monetary_value")
CAL_HOLD_COLUMNS: tuple[str, ...] = (*(f"{c}_cal" for c in SUMMARY_COLUMNS), "frequency_holdout",
                                     "duration_holdout")
PREDICTION_COLUMNS: tuple[str, ...] = (
    "p_alive", "expected_purchases", "expected_avg_order_value", "expected_spend", "clv", "p_no_purchase")
MIN_CUSTOMERS = 20
# The published per-customer chance of no order in the next NO_ORDER_DAYS days (:func:`p_no_purchase`).
NO_ORDER_DAYS = 90
NO_ORDER_COLUMN = "p_no_order_90d"
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
    """Fitted models: a purchase model (``bgf``: BG/NBD, MBG/NBD or Pareto/NBD, named by ``name``),
    Gamma-Gamma (``ggf``), fit time and sample sizes."""

    bgf: BetaGeoFitter | ParetoNBDFitter
    ggf: GammaGammaFitter
    fit_seconds: float
    customers: int
    repeat_buyers: int
    name: str = "bgnbd"


# The purchase models the holdout chooses from: BG/NBD (Fader, Hardie & Lee 2005), MBG/NBD (Batislam
# et al. 2007: a customer may also drop out right after the first purchase, so one-time buyers get a
# real P(alive)) and Pareto/NBD (Schmittlein et al. 1987). Listed simplest first: on a tie the
# simpler one is chosen.
PURCHASE_MODELS: dict[str, str] = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD", "pareto": "Pareto/NBD"}
# The candidates a build tries. Pareto/NBD is left out: lifetimes fits it without gradients
# (Nelder-Mead, hyp2f1), 2.2 s on the real file's 2,809 calibration customers and as much again for
# the refit, over the 5 s a build may spend on the forecast; there it scored as BG/NBD (-10.3%).
CANDIDATES: tuple[str, ...] = ("bgnbd", "mbgnbd")
# Log-parameters are kept within +-LOG_BOUND: a parameter at the bound is a boundary optimum (e.g.
# a -> 0: nobody visibly drops out), an answer rather than a failure (lifetimes' unbounded BFGS
# stops there with "precision loss", and whether it does depends on the BLAS kernel).
LOG_BOUND = 11.0
STARTS: tuple[tuple[float, ...], ...] = ((0.1, 0.1, 0.1, 0.1), (0.0, 0.0, 0.0, 0.0))


def _minimise(nll: Callable[..., Any], size: int, args: tuple[Any, ...]) -> np.ndarray:
    """Log-parameters minimising lifetimes' ``nll`` (autograd-differentiable) within +-LOG_BOUND,
    the best of a few starts (L-BFGS-B). Raises ConvergenceError when no start gives a finite
    optimum."""
    best: Any = None
    for start in STARTS:
        out = minimize(value_and_grad(nll), np.array(start[:size]), jac=True, args=args, method="L-BFGS-B",
                       bounds=[(-LOG_BOUND, LOG_BOUND)] * size, options={"maxiter": 500})
        if np.isfinite(out.fun) and np.isfinite(out.x).all() and (best is None or out.fun < best.fun - 1e-12):
            best = out
    if best is None:
        raise ConvergenceError("no start gave a finite optimum")
    return np.asarray(best.x, dtype="float64")


def fit_purchase_model(summary: pd.DataFrame, name: str = "bgnbd",
                       penalizer: float = 0.0) -> BetaGeoFitter | ParetoNBDFitter:
    """Fit one of :data:`PURCHASE_MODELS` to ``frequency``, ``recency`` and ``T`` (days).

    Times are scaled so the oldest customer's age is 1 (lifetimes' own scaling; the unit, days or
    weeks, then makes no difference). BG/NBD and MBG/NBD use the bounded multi-start
    :func:`_minimise`; Pareto/NBD lifetimes' own fit (Nelder-Mead, no gradient available)."""
    x = summary["frequency"].to_numpy(dtype="int64")
    scale = float(summary["T"].max())
    recency, age = summary["recency"].to_numpy(dtype="float64"), summary["T"].to_numpy(dtype="float64")
    if name == "pareto":
        return ParetoNBDFitter(penalizer_coef=penalizer).fit(x, recency, age)
    fitter = {"bgnbd": BetaGeoFitter, "mbgnbd": ModifiedBetaGeoFitter}[name](penalizer_coef=penalizer)
    args = (x, recency / scale, age / scale, np.ones(len(x)), penalizer)
    params = pd.Series(np.exp(_minimise(fitter._negative_log_likelihood, 4, args)),
                       index=["r", "alpha", "a", "b"])
    params["alpha"] *= scale
    fitter.params_ = params
    fitter.predict = fitter.conditional_expected_number_of_purchases_up_to_time  # as lifetimes' fit does
    return fitter


def fit_spend_model(repeat: pd.DataFrame, penalizer: float = 0.0) -> GammaGammaFitter:
    """Gamma-Gamma on the repeat buyers' ``frequency`` and ``monetary_value`` (GBP), fitted on
    spend scaled to a mean of 1 (v scales with the money, p and q do not; a penalty then weighs
    the parameters alike whatever the currency)."""
    scale = float(repeat["monetary_value"].mean())
    fitter = GammaGammaFitter(penalizer_coef=penalizer)
    spend = repeat["monetary_value"].to_numpy(dtype="float64") / scale
    args = (repeat["frequency"].to_numpy(dtype="int64"), spend, np.ones(len(repeat)), penalizer)
    params = pd.Series(np.exp(_minimise(fitter._negative_log_likelihood, 3, args)), index=["p", "q", "v"])
    params["v"] *= scale
    fitter.params_ = params
    return fitter


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


def fit_models(summary: pd.DataFrame, penalizer: float = 0.0, model: str = "bgnbd") -> Models:
    """Fit a purchase model (:data:`PURCHASE_MODELS`, default BG/NBD) on every customer and
    Gamma-Gamma on the repeat buyers.

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
    # warned once per step (some 200 lines a build). None of it is the result: the parameters are
    # checked below.
    try:
        with (warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()),
              np.errstate(all="ignore")):
            warnings.simplefilter("ignore")
            bgf = fit_purchase_model(summary, model, penalizer)
            ggf = fit_spend_model(repeat, penalizer)
    except (ConvergenceError, np.linalg.LinAlgError) as err:
        raise ModelUnavailable(UNSETTLED, f"the fit did not converge (penalizer {penalizer}): "
                               f"{type(err).__name__}") from err
    seconds = time.perf_counter() - started
    params = pd.concat([bgf.params_, ggf.params_])
    # Gamma-Gamma's mean spend needs q > 1; BG/NBD's expectations for one-time buyers need a + b > 1
    # (below it lifetimes returns NaN for them).
    small_ab = "a" in params and params["a"] + params["b"] <= 1
    if not np.isfinite(params.to_numpy()).all() or params["q"] <= 1 or small_ab:
        raise ModelUnavailable(UNSETTLED, f"unusable parameters {params.round(4).to_dict()} with penalizer "
                               f"{penalizer} (needs q > 1 and a + b > 1)")
    return Models(bgf=bgf, ggf=ggf, fit_seconds=seconds, customers=len(summary), repeat_buyers=len(repeat),
                  name=model)


PENALIZERS = (0.0, 0.001, 0.01, 0.1)
UNSETTLED = ("the purchase histories are too short or too irregular for the models to settle on usable "
             "numbers")


def fit_models_robustly(summary: pd.DataFrame, penalizers: tuple[float, ...] = PENALIZERS,
                        model: str = "bgnbd") -> Models:
    """:func:`fit_models` with no penalty, or the smallest penalty that converges.

    Small or oddly shaped data (a few thousand rows, one season) can make the unpenalised
    fit diverge; a light L2 penalty then keeps the parameters finite. Raises the last error
    when even the largest penalty fails (too few customers, no repeat buyers...).
    """
    error: ModelUnavailable | None = None
    for penalizer in penalizers:
        try:
            return fit_models(summary, penalizer, model)
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

    ``p_alive`` (4 dp; 1.0 for BG/NBD's one-time buyers: its drop-outs happen after a purchase);
    ``expected_purchases`` (purchase days in the next ``horizon_days``, 4 dp);
    ``expected_avg_order_value`` (Gamma-Gamma: the customer's mean shrunk towards the
    population mean, which one-time buyers get); ``expected_spend`` (expected purchases x
    order value); ``clv`` (lifetimes' ``customer_lifetime_value`` over ``clv_months`` months
    of 30 days, discounted by ``monthly_discount`` a month); ``p_no_purchase`` (the chance of no
    purchase in the next ``horizon_days``, :func:`p_no_purchase`, 4 dp).
    """
    require_columns(summary, SUMMARY_COLUMNS, "predict_customers")
    frequency = summary["frequency"].astype("float64")
    recency, age = summary["recency"].astype("float64"), summary["T"].astype("float64")
    # One-time buyers (and any non-positive spend) get the population mean: with frequency 0
    # Gamma-Gamma puts no weight on the customer's own value anyway.
    value = summary["monetary_value"].astype("float64")
    value = value.where(value > 0, population_mean_value(models))
    bgf, ggf = models.bgf, models.ggf
    p_alive = _p_alive(models, frequency.to_numpy(), recency.to_numpy(), age.to_numpy())
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
        "p_no_purchase": p_no_purchase(models, summary, horizon_days).round(4),
    }, index=summary.index)


def p_no_purchase(models: Models, summary: pd.DataFrame, days: float) -> np.ndarray:
    """Each customer's chance of no purchase in the next ``days`` days.

    Closed form: 1 - P(alive) + P(alive) ((alpha + T) / (alpha + T + days))^(r + x) -- a customer
    still alive buys at a Poisson rate whose posterior is Gamma(r + x, alpha + T). Exact for BG/NBD
    and MBG/NBD (a drop-out happens only at a purchase); for Pareto/NBD it ignores drop-outs during
    the window, so it is a lower bound.
    """
    frequency = summary["frequency"].to_numpy(dtype="float64")
    recency, age = summary["recency"].to_numpy(dtype="float64"), summary["T"].to_numpy(dtype="float64")
    r, alpha = float(models.bgf.params_["r"]), float(models.bgf.params_["alpha"])
    alive = _p_alive(models, frequency, recency, age)
    quiet = np.exp((r + frequency) * (np.log(alpha + age) - np.log(alpha + age + days)))
    return np.asarray(1.0 - alive + alive * quiet, dtype="float64")


def _p_alive(models: Models, frequency: np.ndarray, recency: np.ndarray, age: np.ndarray) -> np.ndarray:
    return np.asarray(models.bgf.conditional_probability_alive(frequency, recency, age), dtype="float64")


def customer_past_value(purchases: pd.DataFrame, as_of: pd.Timestamp | str | None = None) -> pd.Series:
    """Historical spend per customer (GBP, all purchases before ``as_of``), indexed by customer_id."""
    require_columns(purchases, ("invoice_date", "customer_id"), "customer_past_value")
    keep = purchases["customer_id"].notna()
    if as_of is not None:
        keep &= purchases["invoice_date"] < _as_of(as_of)
    bought = purchases[keep.fillna(False).astype(bool)]
    total = line_totals(bought).groupby(bought["customer_id"].astype("int64")).sum()
    return total.rename("past_value").rename_axis("customer_id")


RISK_THRESHOLDS: tuple[float, ...] = tuple(round(0.3 + 0.05 * k, 2) for k in range(14))  # 0.30 .. 0.95
BACKTEST_DAYS = HOLDOUT_DAYS = 182  # the last six months check the models fitted on the months before
GAP_RULE = "2 x mean gap"


def churn_risk_flag(predictions: pd.DataFrame, past_value: pd.Series, threshold: float = 0.5,
                    min_value_quantile: float = 0.75, score: str = "p_no_purchase") -> pd.Series:
    """True for valuable customers probably lost, indexed like ``predictions``.

    ``past_value``: historical spend (GBP) by customer_id, e.g. :func:`customer_past_value`
    or RFM's ``monetary``.  Flagged: ``score`` (default the chance of no purchase in the horizon)
    at least ``threshold`` -- with ``score="p_alive"``, p_alive below it -- and past value at least its
    ``min_value_quantile`` quantile among the predicted customers (no value: no flag).
    """
    value = past_value.astype("float64").reindex(predictions.index)
    risky = (predictions[score] < threshold) if score == "p_alive" else (predictions[score] >= threshold)
    flag = risky & (value >= value.quantile(min_value_quantile))
    return flag.fillna(False).astype(bool).rename("churn_risk")


def gap_rule(summary: pd.DataFrame) -> pd.Series:
    """The plain rule: days since the last purchase > 2 x the customer's mean gap between purchases
    (repeat buyers only; one-time buyers have no gap), indexed like ``summary``."""
    frequency = summary["frequency"].astype("float64")
    since = summary["T"] - summary["recency"]
    gap = summary["recency"] / frequency.where(frequency > 0)
    return (since > 2 * gap).fillna(False).astype(bool).rename(GAP_RULE)


def choose_threshold(score: pd.Series, returned: pd.Series,
                     thresholds: tuple[float, ...] = RISK_THRESHOLDS) -> float:
    """The threshold on ``score`` (flag at or above it) that best separates the customers who did
    not come back from those who did: the largest share of the lapsed flagged minus the share of
    the returning flagged (Youden's J; ties: the higher threshold, the shorter list)."""
    lapsed = ~returned.astype(bool)
    best, best_j = thresholds[-1], -np.inf
    for t in thresholds:
        flag = score >= t
        caught = flag[lapsed].mean() if lapsed.any() else 0.0
        j = caught - (flag[~lapsed].mean() if (~lapsed).any() else 0.0)
        if j >= best_j - 1e-12:
            best, best_j = t, float(j)
    return best


def backtest_table(flags: dict[str, pd.Series], returned: pd.Series,
                   past_value: pd.Series) -> list[dict[str, Any]]:
    """Per rule, flagged vs not flagged: ``customers``, ``not_returned_pct`` (share with no purchase
    in the period after the scoring date, %, 1 dp) and ``past_spend`` (GBP before it, 2 dp).
    ``flags``, ``returned`` and ``past_value`` are indexed by customer_id (the scored customers)."""
    value = past_value.astype("float64").reindex(returned.index).fillna(0.0)
    rows: list[dict[str, Any]] = []
    for rule, flag in flags.items():
        flag = flag.reindex(returned.index, fill_value=False).astype(bool)
        for group, members in (("flagged", flag), ("not flagged", ~flag)):
            n = int(members.sum())
            lapsed = round(100 * float((~returned[members]).mean()), 1) if n else None
            rows.append({"rule": rule, "group": group, "customers": n, "not_returned_pct": lapsed,
                         "past_spend": round(float(value[members].sum()), 2)})
    return rows


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


def holdout_by_month(models: Models, cal_hold: pd.DataFrame, purchases: pd.DataFrame,
                     calibration_end: pd.Timestamp | str,
                     holdout_end: pd.Timestamp | str) -> list[dict[str, Any]]:
    """The holdout error by calendar month: is a seasonal peak inside the holdout what the models miss?

    ``models`` are fitted on :func:`calibration_summary` of ``cal_hold`` (:func:`calibration_holdout`
    of ``purchases`` for the same dates). The expected purchases of each calibration customer up to
    each month boundary (``conditional_expected_number_of_purchases_up_to_time``) differ into the
    month's prediction; the actual are the purchase days in the month of the same customers. One row
    per month of [calibration_end, holdout_end), oldest first: ``month`` ("2011-11"), ``days`` (of
    the holdout in it: the first and last months may be partial), ``actual`` (purchase days),
    ``predicted`` (1 dp) and ``error_pct`` ((predicted - actual) / actual, %, 1 dp; None without
    purchases). The months' predictions add up to :func:`holdout_check`'s total."""
    require_columns(cal_hold, CAL_HOLD_COLUMNS, "holdout_by_month")
    start, end = _as_of(calibration_end), _as_of(holdout_end)
    firsts = pd.date_range(start.to_period("M").to_timestamp(), end - pd.Timedelta(days=1), freq="MS")
    bounds = [start, *firsts[1:], end]
    offsets = [float((b - start) / pd.Timedelta(days=1)) for b in bounds]
    x, recency, age = (cal_hold[c].to_numpy(dtype="float64")
                       for c in ("frequency_cal", "recency_cal", "T_cal"))
    cumulative = [0.0] + [
        float(np.asarray(models.bgf.conditional_expected_number_of_purchases_up_to_time(t, x, recency, age),
                         dtype="float64").sum()) for t in offsets[1:]]
    days = _purchase_occasions(purchases, start, end, 1)
    days = days[days["customer_id"].isin(cal_hold.index)]
    dates = end + pd.to_timedelta(days["day"], unit="D")
    actual = dates.dt.to_period("M").astype(str).value_counts()
    rows: list[dict[str, Any]] = []
    for k, first in enumerate(bounds[:-1]):
        month = first.strftime("%Y-%m")
        bought = int(actual.get(month, 0))
        predicted = cumulative[k + 1] - cumulative[k]
        rows.append({"month": month, "days": int(offsets[k + 1] - offsets[k]), "actual": bought,
                     "predicted": round(predicted, 1),
                     "error_pct": round(100 * (predicted - bought) / bought, 1) if bought else None})
    return rows


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
    "BUCKET_LABELS", "CAL_HOLD_COLUMNS", "MIN_CUSTOMERS", "NO_ORDER_COLUMN", "NO_ORDER_DAYS",
    "ModelUnavailable", "Models",
    "PREDICTION_COLUMNS", "SUMMARY_COLUMNS", "calibration_holdout", "calibration_summary",
    "churn_risk_flag", "customer_summary", "fit_models", "fit_models_robustly",
    "holdout_by_month", "holdout_check", "quality_problem",
    "customer_past_value", "holdout_predictions", "population_mean_value", "predict_customers",
]



def unavailable(as_of: pd.Timestamp, horizon_days: int, reason: str, detail: str = "",
                buckets: pd.DataFrame | None = None, holdout: dict[str, float] | None = None,
                candidates: dict[str, dict[str, Any]] | None = None,
                backtest: dict[str, Any] | None = None,
                by_month: list[dict[str, Any]] | None = None) -> Forecast:
    """A :class:`Forecast` that publishes no prediction, saying why (``reason``, in plain words)."""
    empty = pd.DataFrame()
    return Forecast(as_of, horizon_days, empty, empty if buckets is None else buckets, holdout or {},
                    0.0, unavailable=reason, detail=detail or reason, candidates=candidates or {},
                    backtest=backtest or {}, by_month=by_month or [])


def _candidates(
    cal_hold: pd.DataFrame, candidates: tuple[str, ...] = CANDIDATES,
) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[Models, pd.DataFrame, dict[str, float]]]]:
    """Every purchase model fitted on the calibration months and scored on the holdout."""
    summary = calibration_summary(cal_hold)
    record: dict[str, dict[str, Any]] = {}
    fitted: dict[str, tuple[Models, pd.DataFrame, dict[str, float]]] = {}
    for name in candidates:
        label = PURCHASE_MODELS[name]
        try:
            models = fit_models_robustly(summary, model=name)
            buckets, metrics = holdout_check(models, cal_hold)
        except ModelUnavailable as exc:
            if exc.args[0] != UNSETTLED:  # too few customers, no repeat buyers: the same for every model
                raise
            record[name] = {"model": label, "fitted": False, "problem": str(exc), "detail": exc.detail}
            continue
        problem = quality_problem(buckets, metrics)
        record[name] = {"model": label, "fitted": True, "error_pct": metrics["error_pct"],
                        "mae": metrics["mae"], "passes": not problem, "problem": problem,
                        "fit_seconds": round(models.fit_seconds, 3),
                        "params": {k: float(f"{v:.4g}") for k, v in models.bgf.params_.items()}}
        fitted[name] = (models, buckets, metrics)
    return record, fitted


def _best(record: dict[str, dict[str, Any]], names: list[str]) -> str:
    """The candidate with the smallest holdout error (0.1 point), then MAE; ties: the simpler model."""
    order = list(PURCHASE_MODELS)
    return min(names, key=lambda n: (round(abs(record[n]["error_pct"]), 1), round(record[n]["mae"], 3),
                                     order.index(n)))


def backtest(models: Models, cal_hold: pd.DataFrame, past_value: pd.Series, horizon_days: int,
             as_of: pd.Timestamp) -> dict[str, Any]:
    """Score the customers as of the calibration end with ``models`` (fitted on the months before),
    choose the churn threshold (:func:`choose_threshold`) on whether they bought in the months after,
    and compare the rules there (:func:`backtest_table`)."""
    summary = calibration_summary(cal_hold)
    returned = (cal_hold["frequency_holdout"] > 0).rename("returned")
    score = pd.Series(p_no_purchase(models, summary, horizon_days), index=summary.index, name="p_no_purchase")
    threshold = choose_threshold(score, returned)
    alerts = churn_risk_flag(score.to_frame(), past_value, threshold)
    flags = {"model": score >= threshold, "model, top quarter by spend (the alerts)": alerts,
             GAP_RULE: gap_rule(summary)}
    return {"as_of": as_of.date().isoformat(), "days_after": int(cal_hold["duration_holdout"].iloc[0]),
            "horizon_days": horizon_days, "threshold": threshold, "model": PURCHASE_MODELS[models.name],
            "rows": backtest_table(flags, returned, past_value)}


def forecast(cleaned: CleanResult, as_of: dt.date | str | None = None, horizon_days: int = 90,
             strict: bool = False) -> Forecast:
    """The model policy, as one call: fit every purchase model (:data:`PURCHASE_MODELS`) and
    Gamma-Gamma on all but the last :data:`HOLDOUT_DAYS` before ``as_of``, check them on those days
    (:func:`quality_problem`) and keep the best that passes; backtest the churn flag on the same
    split (:func:`backtest`: it chooses the flag's threshold); then refit the chosen model on
    everything, predict every customer and flag high-value customers likely to have lapsed.

    The predictions are withheld (``unavailable`` says why, in plain words) when the models cannot
    be fitted, give unusable numbers, or fail the holdout check; ``strict`` (the `lgs predict`
    command) raises the reason as a ValueError instead. The holdout check, every candidate's error
    and the backtest are kept either way.
    """
    purchases, cancellations = cleaned.purchases, cleaned.cancellations
    as_of_ts = resolve_as_of("standard", as_of, purchases, cancellations)
    buckets: pd.DataFrame | None = None
    holdout: dict[str, float] | None = None
    record: dict[str, dict[str, Any]] = {}
    tested: dict[str, Any] = {}
    by_month: list[dict[str, Any]] = []
    try:
        calibration_end = as_of_ts - pd.Timedelta(days=HOLDOUT_DAYS)
        cal_hold = calibration_holdout(purchases, calibration_end, as_of_ts)
        record, fitted = _candidates(cal_hold)
        if not fitted:
            first = next(iter(record.values()))
            raise ModelUnavailable(first["problem"],
                                   "; ".join(f"{n}: {r['detail']}" for n, r in record.items()))
        passing = [n for n in fitted if record[n]["passes"]]
        name = _best(record, passing or list(fitted))
        cal_models, buckets, holdout = fitted[name]
        by_month = holdout_by_month(cal_models, cal_hold, purchases, calibration_end, as_of_ts)
        cal_value = standard_metrics(purchases, cancellations, calibration_end)["monetary"]
        tested = backtest(cal_models, cal_hold, cal_value, horizon_days, calibration_end)
        if not passing:
            raise ModelUnavailable(record[name]["problem"], f"holdout check failed for every model: {record}")
        summary = customer_summary(purchases, as_of_ts)
        models = fit_models_robustly(summary, model=name)
        customers = predict_customers(models, summary, horizon_days=horizon_days)
        unusable = int(customers.isna().any(axis=1).sum())
        if unusable:
            raise ModelUnavailable(
                f"the models gave no usable prediction for {unusable:,} of {len(customers):,} customers",
                f"NaN predictions for {unusable} customers, {name} {models.bgf.params_.round(4).to_dict()}")
    except Exception as exc:  # whatever the models do on odd data, the report and the build go on
        why = exc if isinstance(exc, ModelUnavailable) else ModelUnavailable(
            "the models could not be fitted to this data", f"{type(exc).__name__}: {exc}")
        if strict:
            raise ValueError(f"no predictions: {why}") from exc
        return unavailable(as_of_ts, horizon_days, str(why), why.detail, buckets, holdout, record, tested,
                           by_month)
    # Past value net of returns: a huge order cancelled the same day is not value.
    past_value = standard_metrics(purchases, cancellations, as_of_ts)["monetary"]
    customers["churn_risk"] = churn_risk_flag(customers, past_value, tested["threshold"])
    # Published as the chance of no order in the next 90 days whatever the horizon (the campaign files'
    # and the dashboard's fixed window); the horizon's own score decided the flag above.
    no_purchase = customers.pop("p_no_purchase")
    customers[NO_ORDER_COLUMN] = (no_purchase if horizon_days == NO_ORDER_DAYS  # the usual case: computed
                                  else p_no_purchase(models, summary, NO_ORDER_DAYS).round(4))
    customers["past_value"] = past_value.reindex(customers.index).fillna(0.0).round(2)
    return Forecast(as_of_ts, horizon_days, customers, buckets, holdout, models.fit_seconds,
                    model=PURCHASE_MODELS[name], candidates=record, backtest=tested, by_month=by_month)
