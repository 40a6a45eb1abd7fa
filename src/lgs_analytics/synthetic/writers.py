"""Writing a generated export as the web shop does (a stacked CSV or a two-sheet workbook), marked
as generated; and cutting one export into overlapping weekly ones.

``cut_exports`` is for the tests and the benchmarks (``bench/run.py``'s increments): it lives here,
not in the tests' helpers, so that both import the one definition.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lgs_analytics.config import EXPORT_COLUMNS
from lgs_analytics.ingest.formats import SYNTHETIC_MARK, WORKBOOK_PROPERTY
from lgs_analytics.outputs import replacing


def write_export(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    """Write an export as the web shop does: ``.csv`` (sheets stacked) or ``.xlsx`` (two sheets).

    The name must say "synthetic" (e.g. ``lgs_synthetic_export.csv``): see :data:`SYNTHETIC_MARK`.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValueError(f"unsupported output format '{path.suffix}': use .csv or .xlsx")
    if SYNTHETIC_MARK not in path.name.lower():
        example = path.with_name(f"{path.stem}_{SYNTHETIC_MARK}{path.suffix}")
        raise ValueError(f"a generated export's name must contain '{SYNTHETIC_MARK}' so every report on it "
                         f"is marked as such: use e.g. {example}")
    with replacing(path) as partial:  # whole or not at all: a full disk leaves no half export
        if suffix == ".xlsx":
            _write_xlsx(sheets, partial)
            return
        # Like the real CSV: one header, Customer ID as 13085.0 (or empty), seconds in the dates.
        with partial.open("w", encoding="utf-8", newline="") as fh:
            for n, frame in enumerate(sheets.values()):
                frame.to_csv(fh, header=n == 0, index=False, date_format="%Y-%m-%d %H:%M:%S")


def _write_xlsx(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    """A workbook like the real one: all-digit invoices and codes as numbers, dates as Excel dates."""
    import xlsxwriter
    import xlsxwriter.exceptions

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})  # rows stream to disk
    book.set_custom_property(WORKBOOK_PROPERTY, "lgs generate (synthetic data)")
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for name, df in sheets.items():
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, EXPORT_COLUMNS)
        num, text = sheet.write_number, sheet.write_string
        serial = (df["InvoiceDate"].to_numpy() - np.datetime64("1899-12-30")) / np.timedelta64(1, "D")
        columns = (_number_or_text(df["Invoice"]), _number_or_text(df["StockCode"]),
                   df["Description"].to_numpy(dtype=object, na_value=None), df["Quantity"].tolist(),
                   serial.tolist(), df["Price"].tolist(), df["Customer ID"].tolist(), df["Country"].tolist())
        rows = enumerate(zip(*columns, strict=True), 1)
        for r, (invoice, code, desc, qty, date, price, cust, country) in rows:
            (text if invoice.__class__ is str else num)(r, 0, invoice)
            (text if code.__class__ is str else num)(r, 1, code)
            if desc is not None:
                text(r, 2, desc)
            num(r, 3, qty)
            num(r, 4, date, when)
            num(r, 5, price)
            if cust == cust:  # NaN (a guest checkout) stays an empty cell
                num(r, 6, cust)
            text(r, 7, country)
    try:
        book.close()
    except xlsxwriter.exceptions.FileCreateError as exc:  # e.g. a full disk: the OSError it wraps
        raise (exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else OSError(str(exc))) from None


def _number_or_text(values: pd.Series) -> list:
    """All-digit codes as integers (numbers in Excel, as in the real file), the others as text."""
    digits = values.str.fullmatch(r"\d+").to_numpy(dtype=bool)
    out = values.to_numpy(dtype=object)
    out[digits] = values[digits].astype("int64").tolist()
    return out.tolist()


EXPORT_OVERLAP = pd.Timedelta(days=14)


def cut_exports(sheets: dict[str, pd.DataFrame], parts: int = 3,
                overlap: pd.Timedelta = EXPORT_OVERLAP) -> list[dict[str, pd.DataFrame]]:
    """Cut one export into ``parts`` consecutive exports, each starting ``overlap`` before the
    previous one ends, as LGS's weekly exports overlap. Every row lands in at least one export;
    rows keep their sheet and order, so an invoice is never split."""
    dates = pd.concat([frame["InvoiceDate"] for frame in sheets.values()])
    first, last = dates.min(), dates.max()
    bounds = [first + (last - first) * k / parts for k in range(parts + 1)]
    exports = []
    for k in range(parts):
        start = bounds[k] - overlap if k else first
        end = bounds[k + 1]
        cut = {}
        for name, frame in sheets.items():
            stamp = frame["InvoiceDate"]
            inside = (stamp >= start) & ((stamp < end) if k < parts - 1 else (stamp <= last))
            if inside.any():
                cut[name] = frame[inside]
        exports.append(cut)
    return exports
