"""RFM scoring of customers: Recency, Frequency, Monetary value, scores 1-5, segment.

Two methods, both returning one row per customer, sorted by ``customer_id``, with the
columns of :data:`RFM_COLUMNS`:

- ``classic`` (:func:`rfm_classic`) reproduces the seed notebook exactly, on the raw rows
  as exported (duplicates and overlapping exports counted as they are), with quintile
  scores from ``pd.qcut``.
- ``standard`` (:func:`rfm_standard`, the default) works on cleaned purchases, nets
  cancellations into monetary and uses tie-robust rank scores.

``recency`` is in days, ``frequency`` in distinct invoices, ``monetary`` in GBP rounded
to pennies; ``r_score``, ``f_score``, ``m_score`` are integers 1-5 (5 = best: most recent,
most frequent, highest spending); ``rfm_score`` is the three scores as text (``"545"``);
``segment`` comes from R and F (:mod:`lgs_analytics.analytics.segments`).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, cast

import numpy as np
import pandas as pd

from lgs_analytics.analytics.clean import CleanResult
from lgs_analytics.analytics.frames import line_totals, require_columns, returned_values
from lgs_analytics.analytics.segment_rules import SegmentRules
from lgs_analytics.analytics.segments import active_rules, assign_segments, segment_summary
from lgs_analytics.config import DB_COLUMNS
from lgs_analytics.results import Scores

RFM_COLUMNS: tuple[str, ...] = (
    "customer_id", "recency", "frequency", "monetary",
    "r_score", "f_score", "m_score", "rfm_score", "segment",
)
RAW_COLUMNS = DB_COLUMNS
# The seed notebook's fixed as-of date.
CLASSIC_AS_OF = pd.Timestamp("2012-01-01")

Method = Literal["classic", "standard"]
METHODS: tuple[str, ...] = ("standard", "classic")  # the default first
# What each method scores: the cleaned, de-duplicated transactions, or every row as exported.
METHOD_INPUT: dict[str, str] = {"standard": "transactions", "classic": "export_rows"}


def resolve_as_of(method: str, as_of: dt.date | str | None = None, *frames: pd.DataFrame) -> pd.Timestamp:
    """The as-of date a method scores at: the one given, else its default (the only place it is set).

    classic: the seed's fixed 2012-01-01 (a given date keeps its time of day, as the seed does);
    standard: midnight of the day given, else of the day after the last invoice in ``frames``.
    """
    if method == "classic":
        return CLASSIC_AS_OF if as_of is None else pd.Timestamp(as_of)
    if as_of is not None:
        return pd.Timestamp(as_of).normalize()
    return default_as_of(*frames)


def _per_customer(lines: pd.DataFrame, line_total: pd.Series) -> pd.DataFrame:
    """Last invoice date, distinct invoices and sum of line totals per customer."""
    frame = pd.DataFrame({
        "customer_id": lines["customer_id"].astype("int64").to_numpy(),
        "invoice_no": pd.factorize(lines["invoice_no"])[0],
        "invoice_date": lines["invoice_date"].to_numpy(),
        "line_total": line_total.to_numpy(),
    })
    grouped = frame.groupby("customer_id", sort=True)
    out = grouped.agg(last_date=("invoice_date", "max"), monetary=("line_total", "sum"))
    out["frequency"] = grouped["invoice_no"].nunique().astype("int64")
    return out


def _finish(metrics: pd.DataFrame, r: pd.Series, f: pd.Series, m: pd.Series,
            rules: SegmentRules | None = None) -> pd.DataFrame:
    """Assemble the output table from per-customer metrics and the three scores; the segments of
    ``rules`` (None: the active rules)."""
    out = pd.DataFrame({
        "customer_id": metrics.index.to_numpy(dtype="int64"),
        "recency": metrics["recency"].to_numpy(dtype="int64"),
        "frequency": metrics["frequency"].to_numpy(dtype="int64"),
        "monetary": metrics["monetary"].to_numpy(dtype="float64").round(2),
        "r_score": np.asarray(r, dtype="int64"),
        "f_score": np.asarray(f, dtype="int64"),
        "m_score": np.asarray(m, dtype="int64"),
    })
    out["rfm_score"] = (
        out["r_score"].astype(str) + out["f_score"].astype(str) + out["m_score"].astype(str)
    )
    out["segment"] = assign_segments(out["r_score"], out["f_score"], rules)
    return out[list(RFM_COLUMNS)].sort_values("customer_id").reset_index(drop=True)


# --- classic ---------------------------------------------------------------------------


def classic_lines(raw: pd.DataFrame) -> pd.DataFrame:
    """The seed's cleaning: quantity > 0, line total > 0, no missing value in any column."""
    require_columns(raw, RAW_COLUMNS, "rfm_classic")
    lines = raw[list(RAW_COLUMNS)]
    keep = (lines["quantity"] > 0) & (line_totals(lines) > 0)
    return lines[keep.fillna(False).astype(bool)].dropna()


def classic_metrics(raw: pd.DataFrame, as_of: pd.Timestamp | str | None = None) -> pd.DataFrame:
    """Per-customer recency, frequency and monetary exactly as the seed computes them.

    Indexed by ``customer_id`` (int64), columns ``recency`` (whole days from the last
    invoice to ``as_of``, default 2012-01-01, time of day included as in the seed),
    ``frequency`` (distinct invoices) and ``monetary`` (sum of line totals, unrounded).
    """
    as_of_ts = resolve_as_of("classic", as_of)
    lines = classic_lines(raw)
    metrics = _per_customer(lines, line_totals(lines))
    metrics["recency"] = (as_of_ts - metrics["last_date"]).dt.days.astype("int64")
    return metrics[["recency", "frequency", "monetary"]]


def rfm_classic(raw: pd.DataFrame, as_of: pd.Timestamp | str | None = None,
                rules: SegmentRules | None = None) -> pd.DataFrame:
    """RFM exactly as the seed notebook computes it, on the raw exported rows.

    ``raw`` holds every row as exported (both sheets stacked, overlap and exact
    duplicates included) with the 8 transaction columns.  Rows with quantity <= 0 or line
    total <= 0 and rows with any missing value (description included) are dropped;
    scores are quintiles from ``pd.qcut``: recency reversed (recent = 5), frequency ranked
    with ``method="first"`` (ties broken by customer id order) before cutting, monetary
    cut directly.  ``as_of`` defaults to 2012-01-01; later rows are not dropped (the seed
    does not), so an earlier ``as_of`` can give negative recency.

    Raises ValueError when the seed's method cannot score the data: fewer than 5
    customers, or so many tied recency or monetary values that two quintile edges
    coincide (``pd.qcut`` refuses).  Use :func:`rfm_standard` for such data.
    """
    metrics = classic_metrics(raw, as_of)
    if len(metrics) < 5:
        raise ValueError(
            f"classic needs at least 5 customers to cut quintiles, got {len(metrics)}; "
            "use the standard method for small data"
        )
    try:
        r = pd.qcut(metrics["recency"], 5, labels=[5, 4, 3, 2, 1])
        f = pd.qcut(metrics["frequency"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5])
        m = pd.qcut(metrics["monetary"], 5, labels=[1, 2, 3, 4, 5])
    except ValueError as err:
        raise ValueError(
            "classic cannot score these data: too many customers share the same recency "
            f"or monetary value, so two quintile edges coincide ({err}); "
            "use the standard method, which is robust to ties"
        ) from err
    return _finish(metrics, r, f, m, rules)


# --- standard --------------------------------------------------------------------------


def rank_scores(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """Tie-robust quintile scores 1-5 from ranks.

    Each value gets its average rank r among the n values (ties share the mean of their
    ranks) and the mid-rank percentile p = (r - 0.5) / n, which lies strictly between 0
    and 1; the score is floor(5 p) + 1.  On n distinct values this is exactly quintiles
    (n = 5 gives 1, 2, 3, 4, 5; n = 10 gives two of each).  Unlike ``pd.qcut`` it never
    fails: equal values always get equal scores, every score is 1-5, and data without
    information (a single customer, or all values tied) gets the neutral middle score 3
    instead of an arbitrary top or bottom one.  Reversing the order maps a score s to
    6 - s (except at exact quintile boundaries), so "lower is better" is just a flip.
    The arithmetic is done in integers (2r is always whole) so boundaries are exact.
    """
    n = len(values)
    ranks = values.rank(method="average", ascending=higher_is_better)
    twice_rank_minus_one = np.rint(2 * ranks.to_numpy(dtype="float64") - 1).astype("int64")
    scores = (5 * twice_rank_minus_one) // (2 * max(n, 1)) + 1
    return pd.Series(np.clip(scores, 1, 5), index=values.index, dtype="int64")


def default_as_of(*frames: pd.DataFrame) -> pd.Timestamp:
    """Midnight of the day after the last invoice date found in ``frames``."""
    dates = [f["invoice_date"].max() for f in frames if len(f)]
    dates = [d for d in dates if pd.notna(d)]
    if not dates:
        raise ValueError("no invoice dates: cannot choose an as-of date")
    return pd.Timestamp(max(dates)).normalize() + pd.Timedelta(days=1)


def standard_metrics(
    purchases: pd.DataFrame, cancellations: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Per-customer recency, frequency and net monetary before ``as_of`` (midnight).

    Indexed by ``customer_id``; only customers with at least one purchase.
    """
    bought = purchases[purchases["invoice_date"] < as_of]
    returned = cancellations[cancellations["invoice_date"] < as_of]
    metrics = _per_customer(bought, line_totals(bought))
    returned = returned[returned["customer_id"].notna()]
    returned_value = returned_values(returned).groupby(returned["customer_id"].astype("int64")).sum()
    metrics["monetary"] = metrics["monetary"] - returned_value.reindex(
        metrics.index, fill_value=0.0
    )
    last_day = metrics["last_date"].dt.normalize()
    metrics["recency"] = (as_of - last_day).dt.days.astype("int64")
    return metrics[["recency", "frequency", "monetary"]]


def rfm_standard(
    purchases: pd.DataFrame,
    cancellations: pd.DataFrame,
    as_of: pd.Timestamp | str | None = None,
    rules: SegmentRules | None = None,
) -> pd.DataFrame:
    """RFM on cleaned data (the default method).

    ``purchases`` and ``cancellations`` come from
    :func:`lgs_analytics.analytics.clean.split_lines` (overlapping exports and exact
    duplicates removed, product lines only).  Definitions:

    - ``as_of``: default midnight of the day after the last invoice date in either frame;
      a given date is taken at midnight and lines on or after it are ignored, so scoring
      "as of" a past date sees only what was known then.
    - recency: calendar days from the day of the last purchase to ``as_of`` (bought on
      the last day of the data = 1).
    - frequency: distinct purchase invoices.
    - monetary: purchase line totals minus the value of the customer's cancelled or
      returned lines (absolute value of their line totals); it can be negative when a
      customer returns goods bought before the data starts.
    - customers with cancellations or returns but no purchase are excluded: they have no
      last purchase to measure recency from and no order to count.
    - scores: :func:`rank_scores`, tie-robust and always 1-5, also on one customer.
    """
    require_columns(purchases, ("invoice_no", "invoice_date", "customer_id"), "rfm_standard purchases")
    require_columns(cancellations, ("invoice_date", "customer_id"), "rfm_standard cancellations")
    as_of_ts = resolve_as_of("standard", as_of, purchases, cancellations)
    metrics = standard_metrics(purchases, cancellations, as_of_ts)
    r = rank_scores(metrics["recency"], higher_is_better=False)
    f = rank_scores(metrics["frequency"])
    m = rank_scores(metrics["monetary"])
    return _finish(metrics, r, f, m, rules)


def rfm(
    method: Method = "standard",
    *,
    raw: pd.DataFrame | None = None,
    purchases: pd.DataFrame | None = None,
    cancellations: pd.DataFrame | None = None,
    as_of: pd.Timestamp | str | None = None,
    rules: SegmentRules | None = None,
) -> pd.DataFrame:
    """Score customers with ``method`` (the one dispatch on the method's name): ``classic`` needs
    ``raw`` (:data:`METHOD_INPUT`), ``standard`` needs ``purchases`` and ``cancellations``."""
    if method == "classic":
        if raw is None:
            raise ValueError("the classic method needs the raw rows (raw=...)")
        return rfm_classic(raw, as_of, rules)
    if method == "standard":
        if purchases is None or cancellations is None:
            raise ValueError("the standard method needs purchases=... and cancellations=...")
        return rfm_standard(purchases, cancellations, as_of, rules)
    raise ValueError(f"unknown RFM method {method!r}: use one of {', '.join(METHODS)}")


__all__ = [
    "CLASSIC_AS_OF", "METHODS", "METHOD_INPUT", "RFM_COLUMNS", "classic_lines", "classic_metrics",
    "default_as_of", "resolve_as_of",
    "rank_scores", "rfm", "rfm_classic", "rfm_standard", "score", "standard_metrics",
]


def score(method: str, as_of: dt.date | str | None = None, *,
          cleaned: CleanResult | None = None, export_rows: pd.DataFrame | None = None,
          rules: SegmentRules | None = None) -> Scores:
    """Score every customer with ``method`` on the input it needs (:data:`METHOD_INPUT`): the cleaned
    lines (standard) or the rows as exported (classic); with the segment summary, by ``rules``
    (None: the active rules, read once here)."""
    rules = rules or active_rules()
    if method not in METHODS:
        raise ValueError(f"unknown RFM method '{method}': use one of {', '.join(METHODS)}")
    frames = (cleaned.purchases, cleaned.cancellations) if cleaned is not None else ()
    as_of_ts = resolve_as_of(method, as_of, *frames)
    customers = rfm(cast(Method, method), raw=export_rows, as_of=as_of_ts,
                    purchases=cleaned.purchases if cleaned is not None else None,
                    cancellations=cleaned.cancellations if cleaned is not None else None, rules=rules)
    return Scores(method, as_of_ts, customers, segment_summary(customers, rules), rules)
