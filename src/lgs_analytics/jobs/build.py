"""`lgs build`: read the raw layer in one snapshot, compute every mart in memory, publish them in
one transaction. The one routine that writes the marts; `lgs report --load`, `lgs refresh` and the
compose services call it too.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pandas as pd

from lgs_analytics.analytics import campaign, history, metrics, predict, recommend, rfm
from lgs_analytics.analytics.clean import CleaningRule, CleanResult, split_lines
from lgs_analytics.analytics.frames import line_totals
from lgs_analytics.errors import BuildRefused
from lgs_analytics.memory import release_freed_memory
from lgs_analytics.results import Analysis, Build, BuildParameters, Page, Provenance, Scores
from lgs_analytics.store import customers, db, publish, tables
from lgs_analytics.store.parquet import record_to_frame


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
    """The cleaning rules the database applies (sql/), in order."""
    return tuple(CleaningRule(*row) for row in tables.read_cleaning_rules(conn))


def clean_frame(lines: pd.DataFrame, url: str | None = None) -> CleanResult:
    """The cleaning rules (sql/) applied by Postgres to lines in memory that were never loaded: the
    eight transaction columns and ``is_repeat`` (an identical earlier line of the invoice). The lines
    stay single, with their own columns and ``line_total``; writes nothing."""
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


def read_and_score(method: str, as_of=None, start=None, end=None) -> Scores:
    """Read the input ``method`` scores (rfm.METHOD_INPUT) from the raw layer and score it, in memory."""
    if rfm.METHOD_INPUT.get(method) == "export_rows":
        return rfm.score(method, as_of, export_rows=read_export_rows(start, end))
    return rfm.score(method, as_of, cleaned=read_cleaned(start, end))


@dataclass(frozen=True)
class Inputs:
    """What a build computes from, read in one snapshot: the lines grouped by invoice and cleaning
    step, the rules, the best products, the purchase baskets and product descriptions (for the
    recommendations), and the rows as exported when the classic method needs them."""

    lines: pd.DataFrame
    rules: tuple[CleaningRule, ...]
    products: pd.DataFrame
    baskets: pd.DataFrame
    descriptions: pd.Series
    export_rows: pd.DataFrame | None = None
    segment_history: pd.DataFrame | None = None  # the published segment history (read by builds)
    attributes: pd.DataFrame | None = None  # the CRM's generalised attributes (lgs load-customers)


def read_inputs(parameters: BuildParameters) -> tuple[list[dict], Inputs]:
    """(batches, inputs) from ONE snapshot: the provenance lists exactly the loads the numbers come
    from, even while another load commits."""
    p = parameters
    with db.snapshot() as conn:
        batches = tables.read_batches(conn)
        inputs = Inputs(read_lines(p.start, p.end, conn), cleaning_rules(conn),
                        tables.read_top_products(conn, p.start, p.end, metrics.TOP),
                        tables.read_basket_items(conn, p.start, p.end),
                        tables.read_product_descriptions(conn, p.start, p.end),
                        read_export_rows(p.start, p.end, conn)
                        if any(rfm.METHOD_INPUT[m] == "export_rows" for m in p.methods) else None,
                        tables.read_segment_history(conn), customers.read_attributes(conn))
    return batches, inputs


# --- computing (the pure steps, wired) -------------------------------------------------------


def compute(parameters: BuildParameters, say: Callable[[str], None] = lambda _: None,
            inputs: Inputs | None = None) -> Build:
    """Everything a build publishes, computed in memory from the raw layer (writes nothing);
    ``inputs`` when already read."""
    p = parameters
    clock = time.perf_counter()
    inputs = inputs if inputs is not None else read_inputs(p)[1]
    cleaned = split_lines(inputs.lines, inputs.rules)
    analysis = metrics.analyse(cleaned, inputs.lines, inputs.products, metrics.TOP, start=p.start)
    say(f"read {int(inputs.lines['lines'].sum()):,} transactions as {len(inputs.lines):,} invoice groups, "
        f"aggregates ready ({time.perf_counter() - clock:.1f} s)")
    as_of = p.scores_as_of
    scores = {m: rfm.score(m, as_of, cleaned=cleaned, export_rows=inputs.export_rows, rules=p.segment_rules)
              for m in p.methods}
    say(f"scored {', '.join(f'{m} ({len(s.customers):,} customers)' for m, s in scores.items())} "
        f"by segment rules {p.segment_rules.label} "
        f"({time.perf_counter() - clock:.1f} s)")
    outlook = predict.forecast(cleaned, as_of, p.horizon_days)
    say(f"predictions: {outlook.unavailable or f'{len(outlook.customers):,} customers'} "
        f"({time.perf_counter() - clock:.1f} s)")
    listed = campaign.for_scores(cleaned, scores.get("standard") or next(iter(scores.values())), outlook)
    recommended = recommend.recommendations(inputs.baskets, inputs.descriptions, _scores_as_of(scores),
                                            listed.set_index("customer_id")["country"])
    say(f"recommendations: {recommended.quality['why']} ({time.perf_counter() - clock:.1f} s)")
    orders = metrics.customer_invoices(cleaned.purchases, cleaned.cancellations)
    added, moved = segment_history(inputs.segment_history, cleaned, scores.get("standard"), orders, say)
    listed = campaign.with_attributes(campaign.with_offers(listed, recommended.customers), inputs.attributes)
    return Build(p, analysis, scores, outlook, listed, orders,
                 recommendations=recommended, history=added, migration=moved)


def _scores_as_of(scores: dict[str, Scores]) -> pd.Timestamp:
    """The as-of date of a build's scores: the standard method's (the predictions' and the lists')."""
    return (scores.get("standard") or next(iter(scores.values()))).as_of


def segment_history(known: pd.DataFrame | None, cleaned: CleanResult, standard: Scores | None,
                    orders: pd.DataFrame, say: Callable[[str], None] = lambda _: None
                    ) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """(the history rows this build adds, the report's migration over the history with them): on an
    empty history, the monthly back-fill (history.to_append). None, None without a history read or
    standard scores."""
    if known is None or standard is None:
        return None, None
    clock = time.perf_counter()
    added = history.to_append(known, cleaned, standard.customers, standard.as_of)
    if known.empty:
        say(f"back-filled the segment history: {len(added):,} changes at "
            f"{added['as_of'].nunique()} monthly dates ({time.perf_counter() - clock:.1f} s)")
    full = pd.concat([known, added], ignore_index=True) if len(added) else known
    window = history.report_window(full, standard.as_of)
    if window is None:
        return added, None
    moved = history.migration(full, orders, *window)
    moved.attrs.update(start=window[0].date().isoformat(), end=window[1].date().isoformat())
    return added, moved


# --- publishing ------------------------------------------------------------------------------


def methods(classic: bool | None, current: Provenance | None) -> tuple[str, ...]:
    """standard, plus classic when asked for, or (``classic`` None) when the current build has it:
    a build never drops the classic scores the web app was given."""
    if classic is None:
        classic = current is not None and "classic" in current.parameters.methods
    return ("standard", "classic") if classic else ("standard",)


def _frames(result: Build) -> dict[str, pd.DataFrame]:
    """The report aggregates as named frames (dicts as one-row frames, series as one column)."""
    frames = {}
    for name in Analysis.field_names():
        value = getattr(result.analysis, name)
        frames[name] = (record_to_frame(value) if isinstance(value, dict)
                        else value.to_frame() if isinstance(value, pd.Series) else value)
    if not result.forecast.holdout_buckets.empty:  # also when a failed check withheld the predictions
        frames["holdout_buckets"] = result.forecast.holdout_buckets
    if result.migration is not None:  # with its dates as columns: parquet keeps no attrs
        frames["migration"] = result.migration.assign(start=result.migration.attrs["start"],
                                                      end=result.migration.attrs["end"])
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
            "detail": outlook.detail, "model": outlook.model, "candidates": outlook.candidates,
            "backtest": outlook.backtest, "holdout_by_month": outlook.by_month},
        "recommendations": {} if result is None or result.recommendations is None
        else result.recommendations.quality,
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
    """Group every transaction line again instead of trusting the groups each load added; return
    (groups, how many differed from the loads' groups)."""
    with db.connect() as conn:
        return tables.regroup_lines(conn)


def build(parameters: BuildParameters | None = None, say: Callable[[str], None] = lambda _: None,
          full: bool = False, seconds: dict[str, float] | None = None) -> tuple[int, Build]:
    """Compute and publish the marts in one transaction; return (build id, results). ``full``
    regroups every line first (`lgs build --full`); ``seconds``, when given, receives how long the
    marts (reading, computing, publishing) and the charts took.

    Raises :class:`BuildRefused` (after logging the refusal in ``builds``) when the build would
    publish nothing, or when a build of a newer snapshot was published meanwhile; the last good
    build stays published.
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
            recommended = (None if result.recommendations is None
                           else (result.recommendations.customers, result.recommendations.pairs))
            build_id = publish.publish(conn, record, scores, predictions, _frames(result), result.campaign,
                                       result.customer_orders, charts, recommended, result.history)
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
                result.forecast, result.campaign, recommendations=result.recommendations,
                migration=result.migration)
    charts = figures.render_all(page)
    say(f"drew {len(charts)} report charts ({time.perf_counter() - clock:.1f} s)")
    return charts


def predictions_line(unavailable: str, customers: int, alerts: int) -> str:
    """What a build published of predictions, in the words every command prints."""
    if unavailable:
        return f"no predictions: {unavailable}"
    return f"predictions for {customers:,} customers ({alerts:,} churn alerts)"


def predictions_text(outlook) -> str:
    """:func:`predictions_line` of a computed :class:`~lgs_analytics.results.Forecast`."""
    alerts = 0 if outlook.unavailable else int(outlook.customers["churn_risk"].sum())
    return predictions_line(outlook.unavailable, len(outlook.customers), alerts)


def run(parameters: BuildParameters, say: Callable[[str], None] = lambda _: None,
        full: bool = False) -> tuple[int, Build, str]:
    """:func:`build`, timed: (build id, results, the line that says what was published)."""
    started = time.perf_counter()
    parts: dict[str, float] = {}
    build_id, result = build(parameters, say=say, full=full, seconds=parts)
    line = (f"published build {build_id} in {time.perf_counter() - started:.1f} s "
            f"(marts {parts['marts']:.1f} s, charts {parts['charts']:.1f} s): "
            f"{len(result.scores['standard'].customers):,} customers scored "
            f"({', '.join(result.scores)}) as of {result.as_of:%Y-%m-%d}; "
            f"{predictions_text(result.forecast)}")
    return build_id, result, line
