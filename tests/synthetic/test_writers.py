"""The generator's writers: the .csv / .xlsx files as the web shop writes them, and the marker
(ingest.formats) that every generated file carries."""

from __future__ import annotations

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from lgs_analytics.config import EXPORT_COLUMNS, SHEET_NAMES
from lgs_analytics.ingest.formats import is_synthetic_export
from lgs_analytics.synthetic import generate_export, write_export


def test_round_trip_csv_and_xlsx(tmp_path):
    small = generate_export(3_000, seed=5)
    csv_path, xlsx_path = tmp_path / "out" / "lgs_synthetic.csv", tmp_path / "out" / "lgs_synthetic.xlsx"
    write_export(small, csv_path)  # creates the folder
    write_export(small, xlsx_path)
    back = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    assert list(back.columns) == list(EXPORT_COLUMNS) and len(back) == 3_000
    ids = back["Customer ID"]
    assert ids.str.fullmatch(r"(\d{5}\.0)?").all() and (ids == "").any()  # 13085.0 or empty, as the real CSV
    assert back["InvoiceDate"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:00").all()
    book = CalamineWorkbook.from_path(str(xlsx_path))
    assert book.sheet_names == list(SHEET_NAMES)
    for name in SHEET_NAMES:
        rows = book.get_sheet_by_name(name).to_python()
        assert rows[0] == list(EXPORT_COLUMNS) and len(rows) - 1 == len(small[name])
        first = small[name].iloc[0]
        assert rows[1][4] == first["InvoiceDate"].to_pydatetime()  # a real Excel date, to the minute
        assert rows[1][3] == first["Quantity"] and rows[1][5] == first["Price"]


def test_unsupported_suffix_and_too_few_rows(tmp_path):
    with pytest.raises(ValueError, match=r"unsupported output format '\.json': use \.csv or \.xlsx"):
        write_export(generate_export(100), tmp_path / "lgs_synthetic.json")
    assert not (tmp_path / "lgs_synthetic.json").exists()
    with pytest.raises(ValueError, match="at least 100"):
        generate_export(99)


def test_every_generated_file_is_marked_synthetic(tmp_path):
    small = generate_export(200, seed=1)
    with pytest.raises(ValueError, match="must contain 'synthetic'.*export_synthetic.csv"):
        write_export(small, tmp_path / "export.csv")
    assert not (tmp_path / "export.csv").exists()
    write_export(small, tmp_path / "a_synthetic.csv")
    write_export(small, tmp_path / "b_synthetic.xlsx")
    assert is_synthetic_export(tmp_path / "a_synthetic.csv")
    renamed = (tmp_path / "b_synthetic.xlsx").rename(tmp_path / "weekly.xlsx")
    assert is_synthetic_export(renamed)  # the workbook's own property survives a rename


def test_the_real_sample_is_not_taken_for_synthetic(real_head_xlsx, tmp_path):
    assert not is_synthetic_export(real_head_xlsx)
    assert not is_synthetic_export(tmp_path / "missing.xlsx")
