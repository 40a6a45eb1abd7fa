"""Which export a row came from, and which repeat of an identical line it is.

A file may stack several exports (the CSV of both sheets of the real workbook), and
consecutive exports overlap. Within one export an identical line may legitimately
repeat (the data set's "exact duplicates"). So a line is identified by its values
*and* its repeat number within its export: the same line carried by two overlapping
exports gets the same identity and is loaded once, while true repeats are all kept.
Postgres derives the stable line_id (an md5 of the values and the repeat number) in
sql/03_load.sql; this module supplies the export part and the repeat number.
"""

from __future__ import annotations

import pandas as pd

# A stacked export starts again where the dates jump back by more than this.
NEW_EXPORT_GAP = pd.Timedelta(days=1)
VALUE_COLUMNS = ("invoice", "stock_code", "description", "quantity", "invoice_date", "price",
                 "customer_id", "country")


def export_parts(sheet: pd.Series, invoice_date: pd.Series) -> pd.Series:
    """1, 2, ... per row: a new part starts where a sheet's dates go back by more than a day.

    ``invoice_date`` is in file order, as ISO text or datetimes.
    """
    dates = pd.to_datetime(invoice_date, format="ISO8601")
    previous = dates.groupby(sheet.to_numpy()).shift()
    starts = (dates < previous - NEW_EXPORT_GAP).astype("int64")
    return starts.groupby(sheet.to_numpy()).cumsum() + 1


def occurrences(rows: pd.DataFrame, part: pd.Series) -> pd.Series:
    """1 for a line's first copy within its sheet and export part, 2 for the next identical one...

    ``rows`` holds the normalised values (``VALUE_COLUMNS``, as validate.type_rows gives them);
    prices are compared as numbers, so ``2.5`` and ``2.50`` are the same line.
    """
    values = pd.DataFrame({c: rows[c] for c in VALUE_COLUMNS})
    values["price"] = pd.to_numeric(values["price"])
    # Group by a 64-bit hash of the values: one key column groups ten times faster than ten.
    key = pd.util.hash_pandas_object(values, index=False)
    frame = pd.DataFrame({"sheet": rows["sheet"].to_numpy(), "part": part.to_numpy(), "key": key.to_numpy()})
    return frame.groupby(["sheet", "part", "key"], sort=False).cumcount() + 1
