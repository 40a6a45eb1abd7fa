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
