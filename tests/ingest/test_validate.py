"""Typing exported text: normalised values for good rows, every reason for bad ones."""

from __future__ import annotations

import pyarrow as pa
import pytest

from lgs_analytics.ingest.validate import DATE_REASON, type_rows

GOOD = {"invoice": "489434", "stock_code": "85048", "description": "GLASS BALL", "quantity": "12",
        "invoice_date": "2009-12-01 07:45:00", "price": "6.95", "customer_id": "13085",
        "country": "United Kingdom"}


def typed_one(**changes):
    values = {**GOOD, **changes}
    table = pa.table({"sheet": [""], "source_row": pa.array([2], pa.int32()),
                      **{k: pa.array([v], pa.string()) for k, v in values.items()}})
    typed, reason = type_rows(table)
    return typed.to_pylist()[0], reason.to_pylist()[0]


@pytest.mark.parametrize(
    ("changes", "column", "normalised"),
    [
        ({"invoice": "489434.0"}, "invoice", "489434"),
        ({"invoice": " C489434 "}, "invoice", "C489434"),
        ({"stock_code": "85048.0"}, "stock_code", "85048"),
        ({"stock_code": "85123A"}, "stock_code", "85123A"),
        ({"quantity": "-12"}, "quantity", "-12"),
        ({"quantity": "6.0"}, "quantity", "6"),
        ({"customer_id": "13085.0"}, "customer_id", "13085"),
        ({"customer_id": ""}, "customer_id", None),
        ({"description": ""}, "description", None),
        ({"description": "  SPACED  "}, "description", "  SPACED  "),
        ({"invoice_date": "12/1/2009 7:45"}, "invoice_date", "2009-12-01 07:45:00"),
        ({"invoice_date": "2009-12-01T07:45"}, "invoice_date", "2009-12-01 07:45:00"),
        ({"invoice_date": "2009-12-01"}, "invoice_date", "2009-12-01 00:00:00"),
        ({"invoice_date": "2/29/2012 23:59:59"}, "invoice_date", "2012-02-29 23:59:59"),
        ({"price": "1e-3"}, "price", "1e-3"),
    ],
)
def test_good_values_are_normalised(changes, column, normalised):
    typed, reason = typed_one(**changes)
    assert reason == ""
    assert typed[column] == normalised


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"quantity": "12.5"}, "Quantity is not a whole number"),
        ({"quantity": "1e3"}, "Quantity is not a whole number"),
        ({"quantity": ""}, "Quantity is empty"),
        ({"invoice_date": "2/30/2010 10:00"}, DATE_REASON),
        ({"invoice_date": "13/25/2010 10:00"}, DATE_REASON),
        ({"invoice_date": "2010-12-01 24:00"}, DATE_REASON),
        ({"invoice_date": "01.12.2010 10:00"}, DATE_REASON),
        ({"invoice_date": "yesterday"}, DATE_REASON),
        ({"price": "NaN"}, "Price is not a number"),
        ({"price": "Infinity"}, "Price is not a number"),
        ({"price": "£2"}, "Price is not a number"),
        ({"invoice": ""}, "Invoice is empty"),
        ({"invoice": "INV-1"}, "Invoice is not an invoice number"),
        ({"stock_code": " "}, "StockCode is empty"),
        ({"customer_id": "13085.5"}, "Customer ID is not a whole number"),
        ({"invoice": "", "quantity": "x", "price": "y"},
         "Invoice is empty; Quantity is not a whole number; Price is not a number"),
    ],
)
def test_bad_values_get_every_reason(changes, reason):
    assert typed_one(**changes)[1] == reason


def typed_many(changes: list[dict]) -> tuple[list[dict], list[str]]:
    rows = [{**GOOD, **change} for change in changes]
    table = pa.table({"sheet": [""] * len(rows), "source_row": pa.array(range(2, 2 + len(rows)), pa.int32()),
                      **{k: pa.array([r[k] for r in rows], pa.string()) for k in GOOD}})
    typed, reason = type_rows(table)
    return typed.to_pylist(), reason.to_pylist()


def test_in_a_chunk_each_reason_stays_on_its_own_row():
    # Reasons are worked out only for the failing rows, then put back: they must land where they belong.
    _, reasons = typed_many([{}, {"quantity": "x"}, {}, {"invoice": "", "price": "y"}, {}])
    assert reasons == ["", "Quantity is not a whole number", "",
                       "Invoice is empty; Price is not a number", ""]


def test_a_chunk_mixing_date_styles_types_each_date_in_its_own_row():
    # The US pattern is tried only on what the ISO one missed, then scattered back among the ISO dates.
    typed, reasons = typed_many([{"invoice_date": "2010-01-02 03:04"}, {"invoice_date": "12/1/2009 7:45"},
                                 {"invoice_date": "2011-12-09"}, {"invoice_date": "yesterday"},
                                 {"invoice_date": "2/29/2012 23:59:59"}])
    assert [row["invoice_date"] for row in typed] == [
        "2010-01-02 03:04:00", "2009-12-01 07:45:00", "2011-12-09 00:00:00", None, "2012-02-29 23:59:59"]
    assert reasons == ["", "", "", DATE_REASON, ""]
