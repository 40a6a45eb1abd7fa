"""What a build computes and the readers show: plain data, no I/O.

A :class:`Build` is what ``lgs build`` computes and publishes (``store.publish``); a
:class:`Page` is what the notebook, the report and (later) the dashboard show: the published
build read back (``store.tables``), or an analyst's what-if computed in memory, with its
:class:`Provenance` saying which.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import pandas as pd

from lgs_analytics.analytics.segment_rules import SegmentRules, default_rules, rules_from_json
from lgs_analytics.analytics.segments import active_rules

if TYPE_CHECKING:  # (analytics.uplift imports scipy: not at every import of these plain types)
    from lgs_analytics.analytics.uplift import Uplift

# A date as the pages and the CLI give it: a date, a Timestamp (a datetime, so a date) or ISO text.
DateLike = dt.date | str


@dataclass(frozen=True)
class Scores:
    """One RFM run: per-customer scores, the segment summary, and the as-of date used."""

    method: str
    as_of: pd.Timestamp
    customers: pd.DataFrame  # analytics.rfm.RFM_COLUMNS, one row per customer
    segments: pd.DataFrame  # analytics.segments.segment_summary
    rules: SegmentRules = field(default_factory=default_rules)  # the segment rules that scored them


@dataclass(frozen=True)
class Analysis:
    """Every sales aggregate the report shows: per month, cohort, country, product, invoice.

    Aggregates only, never the transaction rows, so it is small whatever the data's size.
    """

    audit: pd.DataFrame
    headline: dict[str, Any]  # analytics.metrics.headline_numbers: counts, money, dates
    amounts: pd.Series
    amounts_summary: dict[str, float]
    amounts_p85: pd.Series
    amounts_p85_summary: dict[str, float]
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
        end: pd.Timestamp = self.headline["period_end"]
        return end

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


@dataclass(frozen=True)
class Forecast:
    """Churn and lifetime-value predictions, with the holdout check that says how far to trust them.

    ``unavailable`` says in plain words why none are published (too little data, a fit that
    gives unusable numbers, a failed holdout check), else is empty; ``detail`` is the technical
    reason, for the build's record. After a failed holdout check the check itself is still there.
    """

    as_of: pd.Timestamp
    horizon_days: int
    customers: pd.DataFrame  # indexed by customer_id: p_alive ... clv, churn_risk, past_value
    holdout_buckets: pd.DataFrame
    holdout_metrics: dict[str, float]
    fit_seconds: float
    unavailable: str = ""
    detail: str = ""
    model: str = ""  # the purchase model published (BG/NBD, MBG/NBD or Pareto/NBD), chosen by the holdout
    # every candidate purchase model's holdout result: {name: {model, error_pct, mae, passes, problem...}}
    candidates: dict[str, dict[str, Any]] = field(default_factory=dict)
    # the churn flag's backtest: {as_of, days_after, horizon_days, threshold, model, rows: [{rule, group,
    # customers, not_returned_pct, past_spend}]}
    backtest: dict[str, Any] = field(default_factory=dict)
    # the holdout error by calendar month (predict.holdout_by_month): [{month, days, actual, predicted,
    # error_pct}], oldest first; empty when no holdout check could be made
    by_month: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class BuildParameters:
    """What a build (or a what-if) computes: the RFM methods, the as-of date and the window.

    ``None`` means the default: as of the day after the last invoice (classic: the seed's
    fixed date), the whole history. Dates are inclusive. ``segment_rules``: the rules in force when
    the parameters were made (analytics.segments.active_rules), recorded with the build.
    """

    methods: tuple[str, ...] = ("standard",)
    as_of: dt.date | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    horizon_days: int = 90
    segment_rules: SegmentRules = field(default_factory=active_rules)

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"the window starts ({self.start}) after it ends ({self.end}); "
                             "give --start on or before --end")

    @property
    def scores_as_of(self) -> dt.date | None:
        """The as-of date the scores and predictions use: the one given, else the day after the
        window's end (a spring window is scored as of its own end, not the data's), else None
        (each method's default)."""
        if self.as_of is not None:
            return self.as_of
        return None if self.end is None else self.end + dt.timedelta(days=1)

    def as_json(self) -> dict[str, Any]:
        iso = {k: (v.isoformat() if isinstance(v, dt.date) else v)
               for k, v in (("as_of", self.as_of), ("start", self.start), ("end", self.end))}
        return {"methods": list(self.methods), **iso, "horizon_days": self.horizon_days,
                "segment_rules": self.segment_rules.as_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuildParameters:
        def date(key: str) -> dt.date | None:
            return dt.date.fromisoformat(data[key]) if data.get(key) else None

        rules = rules_from_json(data["segment_rules"]) if data.get("segment_rules") else default_rules()
        return cls(tuple(data.get("methods", ("standard",))), date("as_of"), date("start"), date("end"),
                   int(data.get("horizon_days", 90)), rules)

    def same_view(self, method: str, as_of: DateLike | None, start: DateLike | None,
                  end: DateLike | None) -> bool:
        """Whether a page asking for ``method`` with these dates, under the active segment rules,
        shows exactly this build."""
        def day(value: DateLike | None) -> dt.date | None:
            return None if value is None else pd.Timestamp(value).date()

        return (method in self.methods and day(as_of) == self.as_of and day(start) == self.start
                and day(end) == self.end and self.segment_rules.digest == active_rules().digest)


@dataclass(frozen=True)
class Recommendations:
    """What a build publishes of recommendations (analytics.recommend), with the evidence behind them."""

    customers: pd.DataFrame  # recommend.LIST_COLUMNS + description: up to TOP_N rows per customer
    pairs: pd.DataFrame  # recommend.PAIR_COLUMNS + description, related_description
    quality: dict[str, Any]  # the holdout check (recommend.holdout), the scorer published and why

    @classmethod
    def none(cls, why: str) -> Recommendations:
        """No recommendations (a what-if page reading none, a build before there were any)."""
        return cls(pd.DataFrame(), pd.DataFrame(), {"why": why, "scorer": ""})


@dataclass(frozen=True)
class Build:
    """One build's results, in memory: what ``lgs build`` publishes."""

    parameters: BuildParameters
    analysis: Analysis
    scores: dict[str, Scores]  # by method
    forecast: Forecast
    campaign: pd.DataFrame  # analytics.campaign.campaign_list of the standard scores
    customer_orders: pd.DataFrame  # analytics.metrics.customer_invoices: each customer's invoices
    recommendations: Recommendations | None = None
    # The segment history rows the build appends (analytics.history.to_append); None: a what-if's.
    history: pd.DataFrame | None = None
    # The migration between the report's two history dates (analytics.history.migration), with the
    # dates as ``start`` and ``end`` in its attrs; None without a history date before the as-of.
    migration: pd.DataFrame | None = None

    @property
    def as_of(self) -> pd.Timestamp:
        """The standard scores' as-of date (the predictions use the same)."""
        return self.scores["standard"].as_of if "standard" in self.scores else self.forecast.as_of


@dataclass(frozen=True)
class Provenance:
    """Where a page's numbers come from: which build (or a what-if), when, from which loads."""

    build_id: int | None  # None: nothing published yet
    built_at: pd.Timestamp | None
    parameters: BuildParameters
    batches: tuple[dict[str, Any], ...] = ()  # file, rows_read, rows_loaded, synthetic, loaded_at
    what_if: str = ""  # why this page is not the published build; empty when it is
    forecast_note: str = ""  # why the build published no predictions; empty when it did
    package_version: str = ""

    @property
    def synthetic(self) -> bool:
        return any(b.get("synthetic") for b in self.batches)

    @property
    def rows_read(self) -> int:
        return sum(int(b.get("rows_read") or 0) for b in self.batches)

    @property
    def files(self) -> list[str]:
        return [str(b.get("file", "")) for b in self.batches]


@dataclass(frozen=True)
class Page:
    """What one report (or dashboard view) shows: one method's scores, the sales and the outlook."""

    provenance: Provenance
    analysis: Analysis
    scores: Scores
    forecast: Forecast
    campaign: pd.DataFrame  # analytics.campaign.campaign_list of these scores: one row per customer
    # The build's charts, drawn once when it was published: name -> (caption, SVG). Empty for a
    # what-if, whose charts are drawn as the page is shown.
    charts: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Every identified customer's invoices (metrics.customer_invoices), when the reader asked for them
    # (the dashboard's customer pages); None otherwise.
    orders: pd.DataFrame | None = None
    recommendations: Recommendations | None = None  # None: the page has none (an older build)
    # The segment migration the report shows (Build.migration); None when there is none.
    migration: pd.DataFrame | None = None

    @property
    def is_what_if(self) -> bool:
        return bool(self.provenance.what_if)


@dataclass(frozen=True)
class CampaignResult:
    """A recorded campaign (``lgs campaign --name``) measured on the loaded transactions.

    The window runs from ``as_of`` for ``window_days`` days (``window_last`` its last day);
    ``measured_to`` is the last day measured (the window's last, or the last loaded invoice date
    while the window runs), ``days_measured`` how many days that is (0: nothing loaded after
    ``as_of`` yet, and ``uplift`` is None). ``invoices``/``lines`` are the campaign customers'
    transactions counted, ``batches`` the loads that carried transactions of the window.
    """

    name: str
    created_at: pd.Timestamp
    definition: dict[str, Any]
    build_id: int | None
    as_of: dt.date
    window_days: int
    control_share: float
    customers: int
    treated: int
    control: int
    measured_to: dt.date | None
    days_measured: int
    invoices: int
    lines: int
    batches: tuple[int, ...]
    uplift: Uplift | None
    sentence: str

    @property
    def window_last(self) -> dt.date:
        return self.as_of + dt.timedelta(days=self.window_days - 1)

    @property
    def window_over(self) -> bool:
        return self.measured_to is not None and self.measured_to >= self.window_last

    @property
    def list_name(self) -> str:
        """The list in words: "At Risk", "churn alerts", "At Risk, due back or overdue"..."""
        d = self.definition
        parts = [d.get("segment") or "", "churn alerts" if d.get("churn_risk") else "",
                 "due back or overdue" if d.get("due") else ""]
        return ", ".join(p for p in parts if p) or "every customer"

    @property
    def measured_on(self) -> str:
        """Which transactions the result counts, in words."""
        window = f"window {self.as_of:%Y-%m-%d} to {self.window_last:%Y-%m-%d}"
        if self.measured_to is None or self.days_measured == 0:
            return f"{window}; no transactions loaded from {self.as_of:%Y-%m-%d} on yet"
        loads = ", ".join(str(b) for b in self.batches) or "none"
        return (f"{window}; measured on {self.days_measured} day(s) to {self.measured_to:%Y-%m-%d}: "
                f"{self.invoices:,} invoices ({self.lines:,} lines) of the campaign's customers, from "
                f"load(s) {loads}")
