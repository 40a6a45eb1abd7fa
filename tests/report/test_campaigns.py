"""Campaign files: the columns a mailing tool takes, one file per action, nothing half-written."""

from __future__ import annotations

import pandas as pd
import pytest

from lgs_analytics.report import campaigns
from tests.analytics.test_campaign import listed


def test_a_file_per_action_whose_rows_add_up_to_the_plan(tmp_path):
    links = campaigns.write_for_report(listed(), tmp_path / "out", "report_campaigns")
    assert links["At Risk"] == "report_campaigns/campaign-at-risk.csv"
    at_risk = pd.read_csv(tmp_path / "out" / "campaign-at-risk.csv")
    assert list(at_risk.columns) == list(campaigns.FILE_COLUMNS.values())
    assert list(at_risk["customer_id"]) == [2, 3] and at_risk["spend_gbp"].sum() == 5500.0
    lost = pd.read_csv(tmp_path / "out" / "campaign-churn-alerts-long-lost.csv")
    assert list(lost["customer_id"]) == [3] and lost["churn_group"].tolist() == ["long lost"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        campaigns.campaigns.action_plan(listed())["file"])  # nothing else: no partial file left


def test_nothing_is_written_without_a_folder(tmp_path):
    assert campaigns.write_for_report(listed(), None, None) is None


def test_a_workbook_has_the_same_rows(tmp_path):
    campaigns.write_rows(listed(), tmp_path / "all.xlsx")
    rows = pd.read_excel(tmp_path / "all.xlsx", engine="calamine")
    assert len(rows) == 4 and rows["last_order"].astype(str).str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()


def test_an_unknown_suffix_is_refused_before_writing(tmp_path):
    with pytest.raises(ValueError, match="give a .csv or .xlsx file name"):
        campaigns.write_rows(listed(), tmp_path / "list.json")
    assert list(tmp_path.iterdir()) == []
