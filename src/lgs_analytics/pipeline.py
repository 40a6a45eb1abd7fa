"""The analysis steps with their I/O: read from Postgres, clean, score, write the web-app tables.

The notebook and the `lgs` command call these, so both compute the same numbers;
the analytics modules they call (clean, rfm, segments, metrics) stay pure.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import db, metrics, tables
from .clean import CleanResult, clean_transactions
from .rfm import CLASSIC_AS_OF, default_as_of, rfm_classic, rfm_standard
from .segments import segment_summary

METHODS = ("standard", "classic")


@dataclass(frozen=True)
class Scores:
    """One RFM run: per-customer scores, the segment summary, and the as-of date used."""

    method: str
    as_of: pd.Timestamp
    customers: pd.DataFrame
    segments: pd.DataFrame


def load_export(path=None) -> str | None:
    """Load an export into the database (idempotent); None loads nothing. Returns the summary line."""
    if path is None:
        return None
    from pathlib import Path

    from .ingest import load_path

    return load_path(Path(path), progress=False).summary()


def read_transactions(start=None, end=None) -> pd.DataFrame:
    """The de-duplicated transactions in [start, end] (dates inclusive), from Postgres."""
    with db.connect() as conn:
        frame = tables.read_transactions(conn, start, end)
    if frame.empty:
        raise ValueError("no transactions in the database for that period; load an export first "
                         "(lgs load data/raw/<export>.csv)")
    return frame


def read_export_rows(start=None, end=None) -> pd.DataFrame:
    """Every row as exported (the classic method's input), from Postgres."""
    with db.connect() as conn:
        frame = tables.read_export_rows(conn, start, end)
    if frame.empty:
        raise ValueError("no exported rows in the database; load an export first")
    return frame


def clean(transactions: pd.DataFrame) -> CleanResult:
    return clean_transactions(transactions)


def score(method: str, *, cleaned: CleanResult | None = None, raw: pd.DataFrame | None = None,
          as_of=None) -> Scores:
    """Score every customer with ``method`` ('standard' needs ``cleaned``, 'classic' ``raw``)."""
    if method == "standard":
        if cleaned is None:
            raise ValueError("the standard method scores cleaned transactions")
        as_of_ts = (pd.Timestamp(as_of).normalize() if as_of is not None
                    else default_as_of(cleaned.purchases, cleaned.cancellations))
        customers = rfm_standard(cleaned.purchases, cleaned.cancellations, as_of_ts)
    elif method == "classic":
        if raw is None:
            raise ValueError("the classic method scores the rows as exported")
        as_of_ts = pd.Timestamp(as_of) if as_of is not None else CLASSIC_AS_OF
        customers = rfm_classic(raw, as_of_ts)
    else:
        raise ValueError(f"unknown RFM method '{method}': use one of {', '.join(METHODS)}")
    return Scores(method, as_of_ts, customers, segment_summary(customers))


def save_scores(scores: Scores) -> None:
    """Replace the method's rows of the web-app tables customer_rfm and segments, atomically."""
    with db.connect() as conn:
        tables.save_scores(conn, scores.method, scores.as_of, scores.customers, scores.segments)


def run_rfm(method: str = "standard", as_of=None, start=None, end=None, save: bool = True,
            cleaned: CleanResult | None = None) -> Scores:
    """Read, clean when the method needs it (unless ``cleaned`` is given), score, and (by
    default) save for the web app. Classic always reads the rows as exported."""
    if method == "classic":
        result = score("classic", raw=read_export_rows(start, end), as_of=as_of)
    else:
        cleaned = cleaned if cleaned is not None else clean(read_transactions(start, end))
        result = score(method, cleaned=cleaned, as_of=as_of)
    if save:
        save_scores(result)
    return result


@dataclass(frozen=True)
class Analysis:
    """Everything the report shows, computed once from one read of the database."""

    transactions: pd.DataFrame
    cleaned: CleanResult
    headline: dict
    amounts: pd.Series
    amounts_summary: dict
    amounts_p85: pd.Series
    amounts_p85_summary: dict
    orders: pd.DataFrame
    sales: pd.DataFrame
    active_users: pd.DataFrame
    new_vs_existing: pd.DataFrame
    retention: pd.DataFrame
    countries: pd.DataFrame
    products: pd.DataFrame
    baskets: pd.DataFrame
    baskets_by_month: pd.DataFrame

    @property
    def data_end(self) -> pd.Timestamp:
        """The last invoice's date and time: how far the last (maybe partial) month goes."""
        return self.headline["period_end"]


def analyse(transactions: pd.DataFrame, top: int = 10) -> Analysis:
    """Clean the transactions and compute every sales metric of the report."""
    cleaned = clean(transactions)
    purchases, cancellations = cleaned.purchases, cleaned.cancellations
    amounts = metrics.invoice_amounts(purchases)["amount"]
    amounts_p85 = metrics.trim_to_quantile(amounts, 0.85)
    baskets = metrics.basket_sizes(purchases)
    return Analysis(
        transactions=transactions,
        cleaned=cleaned,
        headline=metrics.headline_numbers(purchases, cancellations, transactions),
        amounts=amounts,
        amounts_summary=metrics.amount_summary(amounts),
        amounts_p85=amounts_p85,
        amounts_p85_summary=metrics.amount_summary(amounts_p85),
        orders=metrics.monthly_orders(transactions),
        sales=metrics.monthly_sales(purchases, cancellations),
        active_users=metrics.monthly_active_users(purchases),
        new_vs_existing=metrics.new_vs_existing(purchases),
        retention=metrics.cohort_retention(purchases),
        countries=metrics.sales_by_country(purchases, cancellations, top=top),
        products=metrics.top_products(purchases, n=top),
        baskets=metrics.basket_summary(baskets),
        baskets_by_month=metrics.basket_summary(baskets, by_month=True),
    )


def score_analysis(analysis: Analysis, method: str = "standard", as_of=None, start=None, end=None,
                   save: bool = True) -> Scores:
    """Score the analysed customers (classic reads the rows as exported) and save for the web app."""
    return run_rfm(method, as_of, start, end, save, cleaned=analysis.cleaned)


@dataclass(frozen=True)
class Forecast:
    """Churn and lifetime-value predictions, with the holdout check that says how far to trust them.

    ``unavailable`` says why there are none (too little data for the models), else is empty.
    """

    as_of: pd.Timestamp
    horizon_days: int
    customers: pd.DataFrame  # indexed by customer_id: p_alive ... clv, churn_risk, past_value
    alerts: pd.DataFrame
    holdout_buckets: pd.DataFrame
    holdout_metrics: dict
    fit_seconds: float
    unavailable: str = ""


HOLDOUT_DAYS = 182  # the last six months of the data check the model fitted on the months before


def forecast(cleaned: CleanResult, as_of=None, horizon_days: int = 90, save: bool = True,
             strict: bool = False) -> Forecast:
    """Fit BG/NBD and Gamma-Gamma on the purchases before ``as_of``, predict every customer,
    flag high-value customers likely to have lapsed, and check the model on a holdout period.

    When the models cannot be fitted (too little data), the report still runs: the result
    is empty with the reason in ``unavailable`` and the web-app table is left as it was;
    ``strict`` raises the error instead (the `lgs predict` command).
    """
    from . import predict
    from .rfm import standard_metrics

    purchases, cancellations = cleaned.purchases, cleaned.cancellations
    as_of_ts = (pd.Timestamp(as_of).normalize() if as_of is not None
                else default_as_of(purchases, cancellations))
    try:
        summary = predict.customer_summary(purchases, as_of_ts)
        models = predict.fit_models_robustly(summary)
        calibration_end = as_of_ts - pd.Timedelta(days=HOLDOUT_DAYS)
        cal_hold = predict.calibration_holdout(purchases, calibration_end, as_of_ts)
        buckets, metrics = predict.holdout_check(
            predict.fit_models_robustly(predict.calibration_summary(cal_hold)), cal_hold)
    except ValueError as exc:
        if strict:
            raise
        empty = pd.DataFrame()
        return Forecast(as_of_ts, horizon_days, empty, empty, empty, {}, 0.0, unavailable=str(exc))
    customers = predict.predict_customers(models, summary, horizon_days=horizon_days)
    # Past value net of returns: a huge order cancelled the same day is not value.
    past_value = standard_metrics(purchases, cancellations, as_of_ts)["monetary"]
    customers["churn_risk"] = predict.churn_risk_flag(customers, past_value)
    customers["past_value"] = past_value.reindex(customers.index).fillna(0.0).round(2)
    result = Forecast(as_of_ts, horizon_days, customers, predict.churn_alerts(customers, past_value), buckets,
                      metrics, models.fit_seconds)
    if save:
        with db.connect() as conn:
            tables.save_predictions(conn, as_of_ts, horizon_days, customers)
    return result
