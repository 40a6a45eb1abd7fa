"""generate_export: the whole simulation, from the calendar to the two sheets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lgs_analytics.config import REAL_ROW_COUNT, SHEET_NAMES
from lgs_analytics.synthetic.baskets import _catalogue, _lines
from lgs_analytics.synthetic.budget import _budget
from lgs_analytics.synthetic.calibration import COUNTRY_NAMES, MIN_ROWS, NOTES, SPECIALS
from lgs_analytics.synthetic.model import _invoices, _stamp
from lgs_analytics.synthetic.timeline import Table, _calendar


def _sheets(inv: Table, lines: Table, cat: Table) -> dict[str, pd.DataFrame]:
    """The two sheets, rows sorted by time then invoice; the overlap invoices are in both."""
    codes = np.concatenate([cat["code"], [s[0] for s in SPECIALS], ["B"]])
    descs = np.concatenate([cat["desc"], [s[1] for s in SPECIALS], NOTES, ["Adjust bad debt", None]])
    order = np.lexsort((lines["key"], inv["rank"][lines["inv"]]))
    period = inv["group"][lines["inv"][order]]
    sheets = {}
    for name, idx in zip(SHEET_NAMES, (order[period <= 1], order[period >= 1]), strict=True):
        li = lines["inv"][idx]
        sheets[name] = pd.DataFrame({
            "Invoice": pd.array(inv["label"][li], dtype="str"),
            "StockCode": pd.array(codes[lines["code"][idx]], dtype="str"),
            "Description": pd.array(descs[lines["desc"][idx]], dtype="str"),
            "Quantity": lines["qty"][idx], "InvoiceDate": inv["time"][li].astype("datetime64[ns]"),
            "Price": lines["price"][idx], "Customer ID": inv["id"][li],
            "Country": pd.array(COUNTRY_NAMES[inv["country"][li]], dtype="str")})
    return sheets


def generate_export(rows: int = REAL_ROW_COUNT, seed: int = 0) -> dict[str, pd.DataFrame]:
    """A synthetic two-sheet LGS export of exactly ``rows`` rows, the same for the same ``seed``."""
    if rows < MIN_ROWS:
        raise ValueError(f"rows must be at least {MIN_ROWS} (got {rows}): too few for a realistic export")
    rng, cal = np.random.default_rng(seed), _calendar()
    cat, inv = _catalogue(), _invoices(rng, rows, cal)
    n_lines, dups = _budget(rng, inv, rows, cal)
    inv = _stamp(rng, inv, n_lines, cal)
    return _sheets(inv, _lines(rng, inv, n_lines, dups, cat, rows / REAL_ROW_COUNT), cat)
