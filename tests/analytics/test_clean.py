"""Cleaning rules and their audit, on a hand-made fixture with one case per rule."""

from __future__ import annotations

import pandas as pd
import pytest

from lgs_analytics.analytics.clean import (
    CLEANING_RULES,
    NON_PRODUCT_CODES,
    clean_transactions,
    is_non_product,
)

COLUMNS = [
    "invoice_no", "stock_code", "description", "quantity", "invoice_date",
    "unit_price", "customer_id", "country", "is_repeat",
]
NA = pd.NA
T = pd.Timestamp("2011-12-01 10:00")

# (no, invoice, code, qty, price, customer, is_repeat)  -> rule, line total
ROWS = [
    (1, "500001", "85123A", 6, 2.55, 13085, False),   # purchase          15.30
    (2, "500001", "85123A", 6, 2.55, 13085, True),    # exact duplicate   15.30
    (3, "500001", "22041", 12, 1.25, 13085, False),   # purchase          15.00
    (4, "500002", "21232", 4, 3.00, NA, False),       # missing customer  12.00
    (5, "500002", "21233", 2, 5.00, NA, False),       # missing customer  10.00
    (6, "500002", "21233", 2, 5.00, NA, True),        # exact duplicate   10.00 (first rule wins)
    (7, "A500003", "B", 1, -1000.00, 12346, False),   # adjustment     -1000.00
    (8, "500004", "POST", 1, 18.00, 12347, False),    # non-product       18.00
    (9, "500004", "BANK CHARGES", 1, 15.00, 12347, False),  # non-product 15.00
    (10, "500004", "15056BL", 3, 5.95, 12347, False),  # purchase         17.85
    (11, "500004", "DCGS0058", 1, 4.25, 12347, False),  # purchase (DCGS)  4.25
    (12, "500005", "79323P", 10, 0.00, 12347, False),  # zero price        0.00
    (13, "500010", "22042", 1, -2.50, 12348, False),   # negative price   -2.50
    (14, "C500006", "85123A", -2, 2.55, 13085, False),  # cancellation    -5.10
    (15, "C500006", "22041", -1, 1.25, 13085, False),  # cancellation     -1.25
    (16, "C500006", "POST", -1, 18.00, 13085, False),  # non-product     -18.00
    (17, "500007", "21733", -5, 2.10, 12347, False),   # write-off       -10.50
    (18, "500008", "gift_0001_20", 1, 16.67, 12347, False),  # non-product 16.67
    (19, "500009", "84029E", 8, 3.39, 12348, False),   # purchase         27.12
]


def _transactions() -> pd.DataFrame:
    df = pd.DataFrame(
        [
            (inv, code, f"item {no}", qty, T + pd.Timedelta(minutes=no), price, cust,
             "United Kingdom", rep)
            for no, inv, code, qty, price, cust, rep in ROWS
        ],
        columns=COLUMNS,
    )
    df["customer_id"] = df["customer_id"].astype("Int64")
    df["quantity"] = df["quantity"].astype("int64")
    return df


# Hand-computed audit:
#   loaded 19 rows, revenue = 15.30+15.30+15.00+12+10+10-1000+18+15+17.85+4.25+0-2.50
#                             -5.10-1.25-18-10.50+16.67+27.12 = -860.86
#   exact duplicates   rows 2, 6           15.30 + 10.00            =    25.30   left 17
#   missing customer   rows 4, 5           12.00 + 10.00            =    22.00   left 15
#   adjustments        row 7                                        = -1000.00   left 14
#   non-product codes  rows 8, 9, 16, 18   18 + 15 - 18 + 16.67     =    31.67   left 10
#   zero/neg price     rows 12, 13         0 - 2.50                 =    -2.50   left 8
#   cancellations      rows 14, 15         -5.10 - 1.25             =    -6.35   left 6
#   stock write-offs   row 17                                       =   -10.50   left 5
#   purchases          rows 1, 3, 10, 11, 19: 15.30+15+17.85+4.25+27.12 = 79.52
EXPECTED_AUDIT = [
    ("rows loaded", 0, 0.00, 19),
    ("exact duplicates", 2, 25.30, 17),
    ("missing customer id", 2, 22.00, 15),
    ("adjustments", 1, -1000.00, 14),
    ("non-product codes", 4, 31.67, 10),
    ("zero or negative price", 2, -2.50, 8),
    ("cancellations", 2, -6.35, 6),
    ("stock write-offs", 1, -10.50, 5),
]


def test_audit_rows_by_hand() -> None:
    audit = clean_transactions(_transactions()).audit
    got = [
        (s, int(n), round(float(v), 2), int(left))
        for s, n, v, left in audit[
            ["step", "rows_removed", "revenue_removed", "rows_remaining"]
        ].itertuples(index=False)
    ]
    assert got == EXPECTED_AUDIT
    assert audit["revenue_remaining"].iloc[0] == pytest.approx(-860.86)
    assert audit["revenue_remaining"].iloc[-1] == pytest.approx(79.52)
    assert audit["rule"].str.len().min() > 20


def test_audit_reconciles() -> None:
    result = clean_transactions(_transactions())
    audit = result.audit
    loaded = int(audit["rows_remaining"].iloc[0])
    assert loaded == len(_transactions())
    assert loaded == int(audit["rows_removed"].sum()) + int(audit["rows_remaining"].iloc[-1])
    assert int(audit["rows_remaining"].iloc[-1]) == len(result.purchases)
    loaded_revenue = audit["revenue_remaining"].iloc[0]
    assert loaded_revenue == pytest.approx(
        audit["revenue_removed"].sum() + audit["revenue_remaining"].iloc[-1]
    )
    assert audit["step"].tolist()[1:] == [rule.step for rule in CLEANING_RULES]


def test_purchases_and_cancellations() -> None:
    result = clean_transactions(_transactions())
    p, c = result.purchases, result.cancellations
    assert p["stock_code"].tolist() == ["85123A", "22041", "15056BL", "DCGS0058", "84029E"]
    assert p["line_total"].round(2).tolist() == [15.30, 15.00, 17.85, 4.25, 27.12]
    assert "is_repeat" not in p.columns
    assert list(p.columns[-1:]) == ["line_total"]
    # cancellations are kept aside, not lost
    assert c["invoice_no"].tolist() == ["C500006", "C500006"]
    assert c["stock_code"].tolist() == ["85123A", "22041"]
    assert c["line_total"].round(2).tolist() == [-5.10, -1.25]
    assert c["customer_id"].tolist() == [13085, 13085]
    assert list(c.columns) == list(p.columns)


def test_input_is_not_modified() -> None:
    df = _transactions()
    before = df.copy()
    clean_transactions(df)
    pd.testing.assert_frame_equal(df, before)


def test_missing_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="is_repeat"):
        clean_transactions(_transactions().drop(columns="is_repeat"))


def test_empty_frame() -> None:
    result = clean_transactions(_transactions().iloc[0:0])
    assert result.audit["rows_removed"].sum() == 0
    assert len(result.purchases) == 0 and len(result.cancellations) == 0


@pytest.mark.parametrize(
    ("code", "non_product"),
    [
        ("85123A", False), ("15056BL", False), ("79323P", False), ("22041", False),
        ("85049e", False), (" 47503J ", False), ("DCGS0058", False), ("DCGSSBOY", False),
        ("POST", True), ("DOT", True), ("M", True), ("m", True), ("C2", True), ("D", True),
        ("S", True), ("B", True), ("PADS", True), ("BANK CHARGES", True),
        ("AMAZONFEE", True), ("ADJUST", True), ("ADJUST2", True), ("TEST001", True),
        ("gift_0001_20", True), ("SP1002", True), ("1234", True), ("123456", True),
    ],
)
def test_product_code_rule(code: str, non_product: bool) -> None:
    df = pd.DataFrame({"stock_code": pd.Series([code], dtype="string")})
    assert bool(is_non_product(df).iloc[0]) is non_product


def test_listed_non_product_codes_are_removed() -> None:
    df = pd.DataFrame({"stock_code": sorted(NON_PRODUCT_CODES)})
    assert is_non_product(df).all()
