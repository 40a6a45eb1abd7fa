"""Campaign files: the rows of a campaign list as the marketing team takes them into its mailing or
CRM tool, CSV or Excel by the file's suffix, with the units in the column names.

Every text cell is written so that a spreadsheet shows it as text and never runs it as a formula
(:func:`spreadsheet_safe`): a country or other text from an export can be ``=HYPERLINK(...)``.

Pure of the database: takes the list (analytics.campaign) and writes files.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lgs_analytics.analytics import campaign
from lgs_analytics.outputs import CSV_LINE_END, replacing, spreadsheet_safe
from lgs_analytics.privacy import pseudonymise_customers

# List column -> the file's column: plain names with their units, in the order a caller reads them.
FILE_COLUMNS = {
    "customer_id": "customer_id", "segment": "segment", "action": "action", "last_order": "last_order",
    "days_since": "days_since_last_order", "country": "country", "region": "region",
    "customer_type": "customer_type", "orders": "orders", "spend": "spend_gbp",
    "p_alive": "p_alive", "p_no_order_90d": "chance_no_order_90d", "clv_12m": "clv_12m_gbp",
    "value_at_risk": "value_at_risk_gbp",
    "churn_group": "churn_group", "usual_gap_days": "usual_gap_days", "due_from": "due_from",
    "due_to": "due_to", "due_status": "due_status",
    "offer_1_code": "offer_1_code", "offer_1": "offer_1_description",
    "offer_2_code": "offer_2_code", "offer_2": "offer_2_description",
    "offer_3_code": "offer_3_code", "offer_3": "offer_3_description",
}
# A "moved" list's (analytics.history.moved) own columns: where its customers were, and on which date.
MOVED_COLUMNS = {"moved_from": "segment_before", "moved_since": "segment_before_on"}
SUFFIXES = (".csv", ".xlsx")
# xlsxwriter would turn a string starting with "=" into a live formula and "http://..." into a link.
XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


WHAT_IF_PREFIX = "what-if-"  # a what-if's campaign files: never taken for the published build's


def file_rows(rows: pd.DataFrame, key: bytes | None = None, what_if: str = "") -> pd.DataFrame:
    """The campaign rows as written: :data:`FILE_COLUMNS`, dates as dates, IDs pseudonymised with ``key``,
    text that a spreadsheet would run as a formula quoted (:func:`spreadsheet_safe`); a what-if's rows
    lead with a ``what_if`` column saying what they are."""
    columns = {**FILE_COLUMNS, **{k: v for k, v in MOVED_COLUMNS.items() if k in rows}}
    out = rows[list(columns)].rename(columns=columns)
    if "segment_before_on" in out:
        out["segment_before_on"] = pd.to_datetime(out["segment_before_on"]).dt.date
    for column in ("last_order", "due_from", "due_to"):
        out[column] = pd.to_datetime(out[column]).dt.date
    out["p_alive"] = out["p_alive"].round(4)
    out["chance_no_order_90d"] = out["chance_no_order_90d"].round(4)
    if what_if:
        out.insert(0, "what_if", what_if)
    return spreadsheet_safe(pseudonymise_customers(out, key))


def csv_text(rows: pd.DataFrame, key: bytes | None = None) -> str:
    """The campaign rows as the text of a CSV file: what :func:`write_rows` writes to a .csv (the
    dashboard's downloads)."""
    return file_rows(rows, key).to_csv(index=False, lineterminator=CSV_LINE_END)


def check_suffix(path: Path) -> None:
    if path.suffix.lower() not in SUFFIXES:
        raise ValueError(f"--out {path}: give a .csv or .xlsx file name, e.g. campaign-at-risk.csv")


def write_rows(rows: pd.DataFrame, path: Path, key: bytes | None = None, what_if: str = "") -> Path:
    """Write the campaign rows to ``path`` (.csv or .xlsx), complete or not at all."""
    check_suffix(path)
    data = file_rows(rows, key, what_if)
    with replacing(path) as partial:
        if path.suffix.lower() == ".xlsx":
            data.to_excel(partial, index=False, sheet_name="campaign", engine="xlsxwriter",
                          engine_kwargs={"options": XLSX_OPTIONS})
        else:
            data.to_csv(partial, index=False, lineterminator=CSV_LINE_END)
    return path


def write_plan_files(listed: pd.DataFrame, plan: pd.DataFrame, folder: Path, key: bytes | None = None,
                     what_if: str = "") -> dict[str, Path]:
    """One CSV per row of the action plan (campaign.action_plan) in ``folder``; campaign -> path. A
    what-if's files are named ``what-if-campaign-...`` and say what they are in their first column."""
    written = {}
    for row in plan.itertuples():
        if row.campaign.startswith("Churn alerts: "):
            alerts = campaign.churn_alerts(listed)
            rows = alerts[alerts["churn_group"] == row.campaign.removeprefix("Churn alerts: ")]
        else:
            rows = campaign.select(listed, row.campaign)
        name = f"{WHAT_IF_PREFIX}{row.file}" if what_if else row.file
        written[row.campaign] = write_rows(rows, folder / name, key, what_if)
    return written


def write_for_report(listed: pd.DataFrame, folder: str | Path | None, href: str | None,
                     pseudonymise: bool = False, what_if: str = "") -> dict[str, str] | None:
    """The report's campaign files: one per action (campaign.action_plan) in ``folder``; returns
    campaign -> link (``href``/file name) for the action box, or None when no folder is given
    (an analyst running the notebook by hand: nothing is written). ``what_if``: the page's what-if
    label (empty for the published build), carried by every file's name and rows."""
    if folder is None or listed.empty:
        return None
    from lgs_analytics.privacy import output_key

    written = write_plan_files(listed, campaign.action_plan(listed), Path(folder), output_key(pseudonymise),
                               what_if)
    prefix = (href or str(folder)).rstrip("/")
    return {name: f"{prefix}/{path.name}" for name, path in written.items()}
