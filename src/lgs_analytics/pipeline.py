"""Wiring only: read the raw layer -> clean -> aggregate -> score -> forecast -> publish, and
read the published build back for the pages that show it.

``lgs build`` is :func:`build` (the one writer of the marts); ``lgs report``, the notebook and
the dashboard call :func:`page`, which reads the published build or, for other parameters,
computes a what-if in memory and writes nothing. The rules live in ``analytics`` (pure), the
SQL in ``store``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pandas as pd

from lgs_analytics.analytics import campaign, metrics, rfm
from lgs_analytics.analytics.clean import CleaningRule, CleanResult, split_lines
from lgs_analytics.analytics.frames import line_totals
from lgs_analytics.analytics.segments import segment_summary
from lgs_analytics.errors import BuildRefused
from lgs_analytics.memory import release_freed_memory
from lgs_analytics.results import Analysis, Build, BuildParameters, Forecast, Page, Provenance, Scores
from lgs_analytics.store import db, publish, tables
from lgs_analytics.store.frames import frame_to_record, record_to_frame

METHODS = rfm.METHODS
HOLDOUT_DAYS = 182  # the last six months of the data check the model fitted on the months before


def package_version() -> str:
    try:
        return version("lgs-analytics")
    except PackageNotFoundError:
        return "unknown"


# --- reading the raw layer -------------------------------------------------------------------


def _window(start, end) -> str:
    if start is None and end is None:
        return "in the database"
    return f"between {start or 'the first day'} and {end or 'the last day'}"


def read_lines(start=None, end=None, conn=None) -> pd.DataFrame:
    """The transactions in [start, end] (dates inclusive), grouped by invoice and cleaning step
    (tables.read_lines), from Postgres (on ``conn``, a snapshot, when given)."""
    if conn is None:
        with db.connect() as own:
            return read_lines(start, end, own)
    frame = tables.read_lines(conn, start, end)
    if frame.empty:
        raise ValueError(f"no transactions {_window(start, end)}; load an export first "
                         "(lgs load data/raw/<export>.csv) or widen the dates")
    return frame


def cleaning_rules(conn) -> tuple[CleaningRule, ...]:
    """The cleaning rules the database applies (sql/07_lines.sql), in order."""
    return tuple(CleaningRule(*row) for row in tables.read_cleaning_rules(conn))


def clean_frame(lines: pd.DataFrame, url: str | None = None) -> CleanResult:
    """The cleaning rules (sql/07_lines.sql) applied by Postgres to lines in memory that were never
    loaded: the eight transaction columns and ``is_repeat`` (an identical earlier line of the invoice).
    The lines stay single, with their own columns and ``line_total``; writes nothing."""
    inputs = pd.DataFrame({
        "invoice_no": lines["invoice_no"].astype("string"),
        "stock_code": lines["stock_code"].astype("string"), "quantity": lines["quantity"].astype("int64"),
        "unit_price": lines["unit_price"].astype("float64"),
        "customer_id": lines["customer_id"].astype("Int64"),
        "occurrence": np.where(lines["is_repeat"].fillna(False).astype(bool), 2, 1)})
    with db.connect(url) as conn:
        steps, rules = tables.clean_steps(conn, inputs), cleaning_rules(conn)
    work = lines.drop(columns="is_repeat").reset_index(drop=True)
    work["line_total"] = line_totals(work)
    work["step"] = np.asarray(steps, dtype="int64")
    return split_lines(work, rules)


def read_cleaned(start=None, end=None) -> CleanResult:
    """Purchases, cancellations and the cleaning audit of [start, end], from one snapshot."""
    with db.snapshot() as conn:
        return split_lines(read_lines(start, end, conn), cleaning_rules(conn))


def read_export_rows(start=None, end=None, conn=None) -> pd.DataFrame:
    """Every row as exported (the classic method's input), from Postgres (on ``conn`` when given)."""
    if conn is None:
        with db.connect() as own:
            return read_export_rows(start, end, own)
    frame = tables.read_export_rows(conn, start, end)
    if frame.empty:
        raise ValueError(f"no exported rows {_window(start, end)}; load an export first")
    return frame


# --- computing (pure steps, wired) -----------------------------------------------------------

TOP = 10  # countries and products the report names; the rest are "Other"


def analyse(cleaned: CleanResult, transactions: pd.DataFrame, products: pd.DataFrame, top: int = TOP,
            start=None) -> Analysis:
    """Every sales aggregate of the report, from the cleaned lines, all lines and the best products
    (SQL: tables.read_top_products); ``start``, the window's first day, tells a month the window cuts
    from one the shop opened late in."""
    purchases, cancellations = cleaned.purchases, cleaned.cancellations
    amounts = metrics.invoice_amounts(purchases)["amount"]
    amounts_p85 = metrics.trim_to_quantile(amounts, 0.85)
    baskets = metrics.basket_sizes(purchases)
    return Analysis(
        audit=cleaned.audit,
        headline=metrics.headline_numbers(purchases, cancellations, transactions, start),
        amounts=amounts,
        amounts_summary=metrics.amount_summary(amounts),
        amounts_p85=amounts_p85,
        amounts_p85_summary=metrics.amount_summary(amounts_p85),
        orders=metrics.monthly_orders(transactions, start),
        sales=metrics.monthly_sales(purchases, cancellations, start),
        active_users=metrics.monthly_active_users(transactions, purchases, start),
        new_vs_existing=metrics.new_vs_existing(purchases, start),
        retention=metrics.cohort_retention(purchases),
        countries=metrics.sales_by_country(purchases, cancellations, top=top),
        products=products,
        baskets=metrics.basket_summary(baskets),
        baskets_by_month=metrics.basket_summary(baskets, by_month=True),
    )


def score(method: str, as_of=None, *, cleaned: CleanResult | None = None,
          export_rows: pd.DataFrame | None = None) -> Scores:
    """Score every customer with ``method`` on the input it needs (rfm.METHOD_INPUT)."""
    if method not in METHODS:
        raise ValueError(f"unknown RFM method '{method}': use one of {', '.join(METHODS)}")
    frames = (cleaned.purchases, cleaned.cancellations) if cleaned is not None else ()
    as_of_ts = rfm.resolve_as_of(method, as_of, *frames)
    customers = rfm.rfm(method, raw=export_rows, as_of=as_of_ts,
                        purchases=cleaned.purchases if cleaned is not None else None,
                        cancellations=cleaned.cancellations if cleaned is not None else None)
    return Scores(method, as_of_ts, customers, segment_summary(customers))


def read_and_score(method: str, as_of=None, start=None, end=None) -> Scores:
    """Read the input ``method`` scores (rfm.METHOD_INPUT) from the raw layer and score it, in memory."""
    if rfm.METHOD_INPUT.get(method) == "export_rows":
        return score(method, as_of, export_rows=read_export_rows(start, end))
    return score(method, as_of, cleaned=read_cleaned(start, end))


def _unavailable(as_of: pd.Timestamp, horizon_days: int, reason: str, detail: str = "",
                 buckets: pd.DataFrame | None = None, holdout: dict | None = None) -> Forecast:
    empty = pd.DataFrame()
    return Forecast(as_of, horizon_days, empty, empty if buckets is None else buckets, holdout or {},
                    0.0, unavailable=reason, detail=detail or reason)


def forecast(cleaned: CleanResult, as_of=None, horizon_days: int = 90, strict: bool = False) -> Forecast:
    """Fit BG/NBD and Gamma-Gamma on the purchases before ``as_of``, check them on a holdout
    period, predict every customer and flag high-value customers likely to have lapsed.

    The predictions are withheld (``unavailable`` says why, in plain words) when the models
    cannot be fitted, give unusable numbers, or fail the holdout check; ``strict`` (the
    `lgs predict` command) raises the reason as a ValueError instead.
    """
    from lgs_analytics.analytics import predict

    purchases, cancellations = cleaned.purchases, cleaned.cancellations
    as_of_ts = rfm.resolve_as_of("standard", as_of, purchases, cancellations)
    buckets, holdout = None, None
    try:
        calibration_end = as_of_ts - pd.Timedelta(days=HOLDOUT_DAYS)
        cal_hold = predict.calibration_holdout(purchases, calibration_end, as_of_ts)
        buckets, holdout = predict.holdout_check(
            predict.fit_models_robustly(predict.calibration_summary(cal_hold)), cal_hold)
        problem = predict.quality_problem(buckets, holdout)
        if problem:
            raise predict.ModelUnavailable(problem, f"holdout check failed: {holdout}")
        summary = predict.customer_summary(purchases, as_of_ts)
        models = predict.fit_models_robustly(summary)
        customers = predict.predict_customers(models, summary, horizon_days=horizon_days)
        unusable = int(customers.isna().any(axis=1).sum())
        if unusable:
            raise predict.ModelUnavailable(
                f"the models gave no usable prediction for {unusable:,} of {len(customers):,} customers",
                f"NaN predictions for {unusable} customers, BG/NBD {models.bgf.params_.round(4).to_dict()}")
    except Exception as exc:  # whatever the models do on odd data, the report and the build go on
        unavailable = exc if isinstance(exc, predict.ModelUnavailable) else predict.ModelUnavailable(
            "the models could not be fitted to this data", f"{type(exc).__name__}: {exc}")
        if strict:
            raise ValueError(f"no predictions: {unavailable}") from exc
        return _unavailable(as_of_ts, horizon_days, str(unavailable), unavailable.detail, buckets, holdout)
    # Past value net of returns: a huge order cancelled the same day is not value.
    past_value = rfm.standard_metrics(purchases, cancellations, as_of_ts)["monetary"]
    customers["churn_risk"] = predict.churn_risk_flag(customers, past_value)
    customers["past_value"] = past_value.reindex(customers.index).fillna(0.0).round(2)
    return Forecast(as_of_ts, horizon_days, customers, buckets, holdout, models.fit_seconds)



@dataclass(frozen=True)
class Inputs:
    """What a build computes from, read in one snapshot: the lines grouped by invoice and cleaning
    step, the rules, the best products, and the rows as exported when the classic method needs them."""

    lines: pd.DataFrame
    rules: tuple[CleaningRule, ...]
    products: pd.DataFrame
    export_rows: pd.DataFrame | None = None


def read_inputs(parameters: BuildParameters) -> tuple[list[dict], Inputs]:
    """(batches, inputs) from ONE snapshot: the provenance lists exactly the loads the numbers come
    from, even while another load commits."""
    p = parameters
    with db.snapshot() as conn:
        batches = tables.read_batches(conn)
        inputs = Inputs(read_lines(p.start, p.end, conn), cleaning_rules(conn),
                        tables.read_top_products(conn, p.start, p.end, TOP),
                        read_export_rows(p.start, p.end, conn)
                        if any(rfm.METHOD_INPUT[m] == "export_rows" for m in p.methods) else None)
    return batches, inputs


def compute(parameters: BuildParameters, say: Callable[[str], None] = lambda _: None,
            inputs: Inputs | None = None) -> Build:
    """Everything a build publishes, computed in memory from the raw layer (writes nothing);
    ``inputs`` when already read."""
    p = parameters
    clock = time.perf_counter()
    inputs = inputs if inputs is not None else read_inputs(p)[1]
    cleaned = split_lines(inputs.lines, inputs.rules)
    analysis = analyse(cleaned, inputs.lines, inputs.products, TOP, start=p.start)
    say(f"read {int(inputs.lines['lines'].sum()):,} transactions as {len(inputs.lines):,} invoice groups, "
        f"aggregates ready ({time.perf_counter() - clock:.1f} s)")
    as_of = p.scores_as_of
    scores = {m: score(m, as_of, cleaned=cleaned, export_rows=inputs.export_rows) for m in p.methods}
    say(f"scored {', '.join(f'{m} ({len(s.customers):,} customers)' for m, s in scores.items())} "
        f"({time.perf_counter() - clock:.1f} s)")
    outlook = forecast(cleaned, as_of, p.horizon_days)
    say(f"predictions: {outlook.unavailable or f'{len(outlook.customers):,} customers'} "
        f"({time.perf_counter() - clock:.1f} s)")
    listed = scores.get("standard") or next(iter(scores.values()))
    return Build(p, analysis, scores, outlook, campaign_list(cleaned, listed, outlook),
                 metrics.customer_invoices(cleaned.purchases, cleaned.cancellations))


def campaign_list(cleaned: CleanResult, scores: Scores, outlook: Forecast) -> pd.DataFrame:
    """The campaign list of ``scores``: segments and actions, where each customer is, the models' view."""
    profile = campaign.customer_profile(cleaned.purchases, scores.as_of)
    predictions = None if outlook.unavailable else outlook.customers
    return campaign.campaign_list(scores.customers, scores.segments, profile, predictions)


# --- publishing ------------------------------------------------------------------------------


def _frames(result: Build) -> dict[str, pd.DataFrame]:
    """The report aggregates as named frames (dicts as one-row frames, series as one column)."""
    frames = {}
    for name in Analysis.field_names():
        value = getattr(result.analysis, name)
        frames[name] = (record_to_frame(value) if isinstance(value, dict)
                        else value.to_frame() if isinstance(value, pd.Series) else value)
    if not result.forecast.holdout_buckets.empty:  # also when a failed check withheld the predictions
        frames["holdout_buckets"] = result.forecast.holdout_buckets
    return frames


def _build_record(parameters: BuildParameters, started: dt.datetime, batches: list[dict],
                  result: Build | None = None, detail: str = "") -> dict:
    outlook = result.forecast if result is not None else None
    standard = result.scores.get("standard") if result is not None else None
    return {
        "started_at": started, "methods": list(parameters.methods),
        "as_of": result.as_of.date() if result is not None else parameters.as_of,
        "window_start": parameters.start, "window_end": parameters.end,
        "parameters": parameters.as_json(), "batches": batches,
        "last_batch_id": max((b["batch_id"] for b in batches), default=None),
        "rows_read": sum(b["rows_read"] for b in batches),
        "customers": len(standard.customers) if standard is not None else 0,
        "synthetic": any(b["synthetic"] for b in batches),
        "forecast": {} if outlook is None else {
            "as_of": outlook.as_of.date().isoformat(), "horizon_days": outlook.horizon_days,
            "holdout_metrics": outlook.holdout_metrics, "fit_seconds": round(outlook.fit_seconds, 3),
            "published": not outlook.unavailable, "unavailable": outlook.unavailable,
            "detail": outlook.detail},
        "package_version": package_version(), "detail": detail,
    }


def _record_failure(parameters: BuildParameters, started: dt.datetime, batches: list[dict] | None,
                    exc: Exception) -> None:
    try:
        with db.connect() as conn:
            batches = batches if batches is not None else tables.read_batches(conn)
            publish.record_refused(conn, _build_record(parameters, started, batches,
                                                       detail=f"{type(exc).__name__}: {exc}"[:500]),
                                   status="failed")
    except Exception:  # noqa: BLE001 - the database itself may be what failed; the error is raised anyway
        pass


def _refusal(result: Build) -> str:
    """Why a computed build must not be published (empty when it may)."""
    for method, scores in result.scores.items():
        if scores.customers.empty:
            return (f"no customer bought before {scores.as_of:%Y-%m-%d} ({method} scores); "
                    "choose an as-of date after the first invoice")
    return ""


def regroup_lines() -> tuple[int, int]:
    """Group every transaction line again (``rebuild_line_groups``, sql/07_lines.sql) instead of
    trusting the groups each load added; return (groups, how many differed from the loads' groups)."""
    with db.connect() as conn:
        groups, changed = db.query(conn, "SELECT groups, changed FROM rebuild_line_groups()")[0]
    return int(groups), int(changed)


def build(parameters: BuildParameters | None = None, say: Callable[[str], None] = lambda _: None,
          full: bool = False, seconds: dict[str, float] | None = None) -> tuple[int, Build]:
    """Compute and publish the marts in one transaction; return (build id, results). ``full``
    regroups every line first (`lgs build --full`); ``seconds``, when given, receives how long the
    marts (reading, computing, publishing) and the charts took.

    Raises :class:`BuildRefused` (after logging the refusal in ``builds``) when the build would
    publish nothing; the last good build stays published.
    """
    parameters = parameters or BuildParameters()
    started = dt.datetime.now(dt.UTC)
    if full:
        clock = time.perf_counter()
        groups, changed = regroup_lines()
        say(f"regrouped every transaction line: {groups:,} invoice groups, {changed:,} of them different "
            f"from the groups the loads had added ({time.perf_counter() - clock:.1f} s)")
    batches: list[dict] | None = None  # the snapshot's; read apart only for a build that never got one
    try:
        batches, inputs = read_inputs(parameters)
        release_freed_memory()  # what reading held: before computing
        result = compute(parameters, say, inputs)
        del inputs
        release_freed_memory()  # what computing held: before the chart workers fork
        reason = _refusal(result)
    except ValueError as exc:  # nothing in the window, too little data to score
        result, reason = None, str(exc).splitlines()[0]
    except Exception as exc:  # logged as failed (best effort), then raised as it was
        _record_failure(parameters, started, batches, exc)
        raise
    if reason:
        with db.connect() as conn:
            batches = batches if batches is not None else tables.read_batches(conn)
            publish.record_refused(conn, _build_record(parameters, started, batches, detail=reason))
        raise BuildRefused(f"build refused: {reason}; the published build is unchanged")
    drawing = time.perf_counter()
    charts = draw_charts(result, say)
    drawn = time.perf_counter()
    record = _build_record(parameters, started, batches, result)
    try:
        with db.connect() as conn:
            scores = {m: (s.as_of, s.customers, s.segments) for m, s in result.scores.items()}
            predictions = None if result.forecast.unavailable else result.forecast.customers
            build_id = publish.publish(conn, record, scores, predictions, _frames(result), result.campaign,
                                       result.customer_orders, charts)
    except publish.Superseded as exc:  # a slower build never takes the place of a newer one
        with db.connect() as conn:
            publish.record_refused(conn, {**record, "detail": str(exc)})
        raise BuildRefused(f"build refused: {exc}") from None
    if seconds is not None:
        seconds["charts"] = round(drawn - drawing, 2)
        seconds["marts"] = round((dt.datetime.now(dt.UTC) - started).total_seconds() - seconds["charts"], 2)
    return build_id, result


def draw_charts(result: Build, say: Callable[[str], None] = lambda _: None) -> dict[str, tuple[str, str]]:
    """The report's charts of the build's default page (standard scores), drawn once here so that
    every report of the published build only assembles them."""
    if "standard" not in result.scores:
        return {}
    from lgs_analytics.report import figures

    clock = time.perf_counter()
    page = Page(Provenance(None, None, result.parameters), result.analysis, result.scores["standard"],
                result.forecast, result.campaign)
    charts = figures.render_all(page)
    say(f"drew {len(charts)} report charts ({time.perf_counter() - clock:.1f} s)")
    return charts


# --- reading the published build -------------------------------------------------------------


def _provenance(row: dict | None, batches: list[dict], what_if: str = "") -> Provenance:
    if row is None:
        return Provenance(None, None, BuildParameters(), tuple(batches), what_if)
    return Provenance(row["build_id"], pd.Timestamp(row["finished_at"]),
                      BuildParameters.from_json(row["parameters"]),
                      tuple(row["batches"]), what_if, row["forecast"].get("unavailable", ""),
                      row["package_version"])


def current_build() -> Provenance | None:
    """The current build's provenance, or None before the first build."""
    with db.connect() as conn:
        row = tables.read_current_build(conn)
    return None if row is None else _provenance(row, row["batches"])


def is_stale() -> tuple[bool, int | None]:
    """(stale, newest batch): whether a load added lines after the current build read the raw layer
    (a load of lines all loaded before does not count; see refresh.build_state)."""
    from lgs_analytics.refresh import build_state

    state = build_state()
    return state.stale, state.newest_batch


RECORDS = ("headline", "amounts_summary", "amounts_p85_summary")  # Analysis fields that are dicts


def published(method: str = "standard") -> Page:
    """The current build as a page: exactly what the web app and the dashboard read (one snapshot,
    so a build published meanwhile never mixes into it)."""
    with db.snapshot() as conn:
        row = tables.read_current_build(conn)
        if row is None:
            raise ValueError("nothing is published yet: run `lgs build` (or `lgs report --load data/raw`)")
        if method not in row["methods"]:
            raise ValueError(f"the current build has no '{method}' scores: run `lgs build --classic`")
        as_of, customers, segments = tables.read_scores(conn, method)
        frames = tables.read_frames(conn, row["build_id"])
        predictions = tables.read_predictions(conn)
        listed = tables.read_campaign(conn)
        charts = tables.read_charts(conn, row["build_id"]) if method == "standard" else {}
    info = _provenance(row, row["batches"])
    values = {}
    for name in Analysis.field_names():
        frame = frames[name]
        values[name] = (frame_to_record(frame) if name in RECORDS
                        else frame.iloc[:, 0] if name in ("amounts", "amounts_p85") else frame)
    meta = row["forecast"]
    if meta.get("unavailable"):
        outlook = _unavailable(pd.Timestamp(meta["as_of"]), meta["horizon_days"], meta["unavailable"],
                               meta.get("detail", ""), frames.get("holdout_buckets"), meta["holdout_metrics"])
    else:
        outlook = Forecast(pd.Timestamp(meta["as_of"]), meta["horizon_days"], predictions,
                           frames["holdout_buckets"], meta["holdout_metrics"],
                           meta["fit_seconds"])
    if method != "standard":  # the published list is of the standard scores: not this page's segments
        listed = listed.iloc[0:0]
    return Page(info, Analysis(**values), Scores(method, as_of, customers, segments), outlook, listed, charts)


def published_campaign(segment: str | None = None, churn_risk: bool = False
                       ) -> tuple[Provenance, pd.DataFrame]:
    """(the current build, its campaign rows): one segment's (any case), the churn alerts, or both."""
    with db.snapshot() as conn:
        row = tables.read_current_build(conn)
        if row is None:
            raise ValueError("nothing is published yet: run `lgs build` (or `lgs report --load data/raw`)")
        listed = tables.read_campaign(conn)
    return _provenance(row, row["batches"]), campaign.select(listed, segment, churn_risk)


def what_if(method: str = "standard", as_of=None, start=None, end=None) -> Page:
    """The page for other parameters, computed in memory: it never changes what the web app reads."""
    parameters = BuildParameters((method,), _day(as_of), _day(start), _day(end))
    result = compute(parameters)
    with db.connect() as conn:
        row = tables.read_current_build(conn)
        batches = tables.read_batches(conn)
    shown = ", ".join(f"{k.replace('_', '-')} {v}" for k, v in parameters.as_json().items()
                      if v and k not in ("methods", "horizon_days"))
    base = f"build {row['build_id']}" if row else "no published build yet"
    label = (f"What-if: {method} method{', ' + shown if shown else ''}. Computed for this page only: "
             f"the web app and the dashboard show {base}.")
    return Page(_provenance(row, batches, label), result.analysis, result.scores[method], result.forecast,
                result.campaign)


def _day(value) -> dt.date | None:
    return None if value is None else pd.Timestamp(value).date()


def page(method: str = "standard", as_of=None, start=None, end=None) -> Page:
    """The published build when the parameters are its own, else a what-if (the notebook's one read)."""
    current = current_build()
    if current is not None and current.parameters.same_view(method, as_of, start, end):
        return published(method)
    if current is None and as_of is None and start is None and end is None and method == "standard":
        raise ValueError("nothing is published yet: run `lgs build` (or `lgs report --load data/raw`)")
    return what_if(method, as_of, start, end)
