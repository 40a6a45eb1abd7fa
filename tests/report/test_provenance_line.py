"""The report's provenance line says what its row counts count: rows read, and how many of them
were new lines (overlapping exports repeat lines already loaded)."""

from __future__ import annotations

import pandas as pd

from lgs_analytics.report.sections import provenance_header
from lgs_analytics.results import BuildParameters, Provenance


def batch(file: str, read: int, loaded: int, new: int | None) -> dict:
    row = {"batch_id": 1, "file": file, "rows_read": read, "rows_loaded": loaded, "synthetic": False}
    return row if new is None else row | {"rows_new": new}


def line(*batches: dict) -> str:
    return provenance_header(Provenance(3, pd.Timestamp("2011-12-10 08:00"), BuildParameters(), batches)).data


def test_rows_read_say_how_many_were_new_lines_and_which_file_repeated_lines():
    text = line(batch("/data/processed/r1/week1.csv", 1_000, 990, 990),  # 10 quarantined, all new
                batch("/data/processed/r2/week2.csv", 800, 800, 300))  # 500 already loaded
    assert ("from 2 file(s), 1,800 rows read, 1,290 of them new lines: week1.csv (1,000 rows), "
            "week2.csv (800 rows, 300 new).") in text


def test_a_build_made_before_new_lines_were_recorded_says_rows_read_only():
    text = line(batch("week1.csv", 1_000, 1_000, None), batch("week2.csv", 800, 800, None))
    assert "from 2 file(s), 1,800 rows read: week1.csv (1,000 rows), week2.csv (800 rows)." in text
