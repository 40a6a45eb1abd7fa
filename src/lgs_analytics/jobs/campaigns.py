"""Campaigns with a control group: record one (``lgs campaign ... --name``), and measure them
(``lgs campaign results``, the report's and the dashboard's campaign results).

Recording takes the campaign list (the published build's, or one scored as of a past date in
memory, as a what-if is), splits it with :func:`uplift.split`, and keeps both groups in
``campaigns`` / ``campaign_members``; only the treated customers are handed back for the file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lgs_analytics.analytics import campaign, uplift
from lgs_analytics.jobs.build import compute
from lgs_analytics.results import BuildParameters, CampaignResult
from lgs_analytics.store import campaigns as store
from lgs_analytics.store import db, tables

DEFAULT_WINDOW_DAYS = 90
NOTHING_PUBLISHED = "nothing is published yet: run `lgs build` (or record the campaign with --as-of DATE)"


@dataclass(frozen=True)
class Recorded:
    """A campaign just recorded: its name, the list's as-of date, build (None: scored in memory), and
    the treated rows (the campaign list's columns) that go into the file."""

    name: str
    as_of: dt.date
    build_id: int | None
    treated: pd.DataFrame
    control: int
    window_days: int


def _listed(as_of: dt.date | None) -> tuple[pd.DataFrame, dt.date, int | None, str]:
    """(the campaign list, its as-of date, its build id or None, why it has no churn alerts or '')."""
    if as_of is None:
        with db.snapshot() as conn:
            row = tables.read_current_build(conn)
            if row is None:
                raise ValueError(NOTHING_PUBLISHED)
            listed = tables.read_campaign(conn)
        return listed, row["as_of"], int(row["build_id"]), row["forecast"].get("unavailable", "")
    # Scored from the lines before as_of only: the list as it would have been that day.
    result = compute(BuildParameters(("standard",), as_of, None, as_of - dt.timedelta(days=1)))
    if result.campaign.empty:
        raise ValueError(f"no customer bought before {as_of}: no list to record; choose a later --as-of")
    return result.campaign, as_of, None, result.forecast.unavailable


def record(name: str, segment: str | None, churn_risk: bool, due_back: bool, control_share: float,
           window_days: int = DEFAULT_WINDOW_DAYS, as_of: dt.date | None = None,
           write: Callable[[pd.DataFrame], Path] | None = None) -> Recorded:
    """Record campaign ``name`` with ``control_share`` of its list kept back; ``write`` (the treated
    rows -> the file) runs inside the recording transaction, so a file that cannot be written leaves
    nothing recorded. A name already recorded is refused."""
    name = name.strip()
    if not name:
        raise ValueError("--name is empty: give the campaign a name, e.g. --name 'At Risk win-back June'")
    listed, listed_as_of, build_id, no_predictions = _listed(as_of)
    if churn_risk and no_predictions:
        raise ValueError(f"no predictions as of {listed_as_of} ({no_predictions}): no churn alerts to "
                         "record; use --segment 'At Risk' instead")
    rows = campaign.select(listed, segment, churn_risk, due_back)
    if rows.empty:
        raise ValueError("this list has no customers: nothing recorded; choose another list")
    key = name.encode("utf-8")
    groups = uplift.split(rows["customer_id"], key, control_share)
    members = pd.DataFrame({"customer_id": rows["customer_id"].astype("int64"), "grp": groups})
    treated = rows[groups == uplift.TREATED].reset_index(drop=True)
    if min(len(treated), len(rows) - len(treated)) < uplift.MIN_GROUP:
        raise ValueError(f"the split of these {len(rows):,} customers leaves {len(treated):,} treated and "
                         f"{len(rows) - len(treated):,} in control: too few to compare (at least "
                         f"{uplift.MIN_GROUP} each); nothing recorded: choose a larger list or another "
                         "--control")
    definition = {"segment": rows["segment"].iloc[0] if segment else None, "churn_risk": churn_risk,
                  "due": due_back}
    with db.connect() as conn:
        existing = store.read_campaigns(conn, name)
        if existing:
            raise ValueError(f"a campaign named '{existing[0]['name']}' was recorded on "
                             f"{existing[0]['created_at']:%Y-%m-%d}: choose another --name (its results: "
                             f"lgs campaign results '{existing[0]['name']}')")
        recorded = store.record_campaign(conn, {
            "name": name, "definition": definition, "build_id": build_id,
            "last_batch_id": db.newest_batch(conn),
            "as_of": listed_as_of, "window_days": window_days, "control_share": round(control_share, 4),
            "split_key": name, "customers": len(rows), "treated": len(treated),
            "control": len(rows) - len(treated)}, members)
        if recorded is None:  # recorded by another command meanwhile
            raise ValueError(f"a campaign named '{name}' was just recorded by another command: choose "
                             "another --name")
        if write is not None:
            write(treated)
    return Recorded(name, listed_as_of, build_id, treated, len(rows) - len(treated), window_days)


def _day(value: object) -> dt.date | None:
    return None if value is None else pd.Timestamp(value).date()


def measure(row: dict, conn) -> CampaignResult:
    """One recorded campaign measured on the transactions loaded now."""
    as_of: dt.date = row["as_of"]
    window_last = as_of + dt.timedelta(days=row["window_days"] - 1)
    before = window_last + dt.timedelta(days=1)
    seen = store.read_measured_on(conn, row["campaign_id"], as_of, before)
    data_last = _day(seen["data_last"])
    measured_to = None if data_last is None or data_last < as_of else min(data_last, window_last)
    days = 0 if measured_to is None else (measured_to - as_of).days + 1
    result = None
    if days:
        try:
            result = uplift.measure(store.read_outcomes(conn, row["campaign_id"], as_of, before))
        except ValueError as exc:  # recorded before groups this small were refused: say so, not fail
            said = f"Cannot be compared: {exc}."
        else:
            over = measured_to == window_last
            said = uplift.sentence(result, window_over=over)
            if not over:
                said += f" The window ends {window_last:%Y-%m-%d}; measured so far on {days} day(s)."
    else:
        said = (f"Nothing to measure yet: the window starts {as_of:%Y-%m-%d}, and no transaction from then "
                "on is loaded.")
    return CampaignResult(row["name"], pd.Timestamp(row["created_at"]), dict(row["definition"]),
                          row["build_id"], as_of, int(row["window_days"]), float(row["control_share"]),
                          int(row["customers"]), int(row["treated"]), int(row["control"]), measured_to,
                          days, seen["invoices"], seen["lines"], tuple(seen["batches"]), result, said)


def results(name: str | None = None) -> list[CampaignResult]:
    """Every recorded campaign (or the one named ``name``) measured on the loaded transactions, oldest
    first; an unknown name is refused in one line naming those recorded."""
    with db.snapshot() as conn:
        rows = store.read_campaigns(conn, name)
        if name is not None and not rows:
            known = store.read_campaign_names(conn)
            raise ValueError(f"no campaign named '{name}': " + (
                f"recorded are {', '.join(repr(k) for k in known)}" if known else
                "none is recorded yet; record one with lgs campaign --segment NAME --name NAME --out FILE"))
        return [measure(row, conn) for row in rows]
