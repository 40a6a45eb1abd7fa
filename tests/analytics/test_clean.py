"""Cleaning rules (SQL: sql/03_lines.sql) and their audit (analytics.clean), on a hand-made fixture
with one case per rule; the rules run in Postgres (tests/cleaning.py), the split and audit in Python."""

from __future__ import annotations

import pandas as pd
import pytest

from lgs_analytics.analytics.clean import CleaningRule, audit, split_lines
from lgs_analytics.jobs.build import clean_frame

pytestmark = pytest.mark.integration
NON_PRODUCT_CODES = ("POST", "DOT", "M", "C2", "D", "S", "B", "PADS", "BANK CHARGES", "AMAZONFEE",
                     "ADJUST", "TEST001", "CRUK")

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


def test_audit_rows_by_hand(rules_db) -> None:
    audit = clean_frame(_transactions(), rules_db).audit
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


def test_audit_reconciles(rules_db) -> None:
    result = clean_frame(_transactions(), rules_db)
    audit = result.audit
    loaded = int(audit["rows_remaining"].iloc[0])
    assert loaded == len(_transactions())
    assert loaded == int(audit["rows_removed"].sum()) + int(audit["rows_remaining"].iloc[-1])
    assert int(audit["rows_remaining"].iloc[-1]) == len(result.purchases)
    loaded_revenue = audit["revenue_remaining"].iloc[0]
    assert loaded_revenue == pytest.approx(
        audit["revenue_removed"].sum() + audit["revenue_remaining"].iloc[-1]
    )
    assert audit["step"].tolist()[1:] == [step for step, *_ in EXPECTED_AUDIT[1:]]


def test_purchases_and_cancellations(rules_db) -> None:
    result = clean_frame(_transactions(), rules_db)
    p, c = result.purchases, result.cancellations
    assert p["stock_code"].tolist() == ["85123A", "22041", "15056BL", "DCGS0058", "84029E"]
    assert p["line_total"].round(2).tolist() == [15.30, 15.00, 17.85, 4.25, 27.12]
    assert "is_repeat" not in p.columns and "step" not in p.columns
    # cancellations are kept aside, not lost
    assert c["invoice_no"].tolist() == ["C500006", "C500006"]
    assert c["stock_code"].tolist() == ["85123A", "22041"]
    assert c["line_total"].round(2).tolist() == [-5.10, -1.25]
    assert c["customer_id"].tolist() == [13085, 13085]
    assert list(c.columns) == list(p.columns)


def test_input_is_not_modified(rules_db) -> None:
    df = _transactions()
    before = df.copy()
    clean_frame(df, rules_db)
    pd.testing.assert_frame_equal(df, before)


def test_empty_frame(rules_db) -> None:
    result = clean_frame(_transactions().iloc[0:0], rules_db)
    assert result.audit["rows_removed"].sum() == 0
    assert len(result.purchases) == 0 and len(result.cancellations) == 0


RULES = (CleaningRule(1, "exact duplicates", "Repeats."), CleaningRule(6, "cancellations", "C.", True))


def test_groups_of_lines_audit_as_their_lines() -> None:
    # Pure: three groups (5 lines) with the steps the database gave them; counts weigh by lines.
    groups = pd.DataFrame({"invoice_no": ["1", "1", "C2"], "invoice_date": pd.to_datetime(["2011-01-03"] * 3),
                           "customer_id": pd.array([7, 7, 7], dtype="Int64"), "step": [0, 1, 6],
                           "lines": [3, 1, 1], "quantity": [9, 1, -2], "line_total": [30.0, 5.0, -4.0],
                           "returned": [30.0, 5.0, 4.0]})
    table = audit(groups, RULES)
    assert table[["step", "rows_removed", "rows_remaining"]].values.tolist() == [
        ["rows loaded", 0, 5], ["exact duplicates", 1, 4], ["cancellations", 1, 3]]
    assert table["revenue_remaining"].tolist() == [31.0, 26.0, 30.0]
    split = split_lines(groups, RULES)
    assert split.purchases["lines"].tolist() == [3] and split.cancellations["line_total"].tolist() == [-4.0]


def test_a_step_no_rule_names_is_refused() -> None:
    groups = pd.DataFrame({"invoice_no": ["1"], "invoice_date": pd.to_datetime(["2011-01-03"]),
                           "customer_id": pd.array([7], dtype="Int64"), "step": [4], "line_total": [1.0]})
    with pytest.raises(ValueError, match=r"steps \[4\] that no rule names.*lgs build --full"):
        split_lines(groups, RULES)


def _code_steps(url: str, codes) -> list[int]:
    lines = pd.DataFrame({"invoice_no": "500001", "stock_code": list(codes), "quantity": 1, "unit_price": 1.0,
                          "invoice_date": T, "customer_id": pd.array([1] * len(codes), dtype="Int64"),
                          "is_repeat": False})
    result = clean_frame(lines, url)  # a product line is a purchase, any other code a step-4 removal
    kept = set(result.purchases["stock_code"])
    return [0 if code in kept else 4 for code in codes]


def test_product_code_rule(rules_db) -> None:
    cases = [
        ("85123A", False), ("15056BL", False), ("79323P", False), ("22041", False),
        ("85049e", False), (" 47503J ", False), ("DCGS0058", False), ("DCGSSBOY", False),
        ("POST", True), ("DOT", True), ("M", True), ("m", True), ("C2", True), ("D", True),
        ("S", True), ("B", True), ("PADS", True), ("BANK CHARGES", True),
        ("AMAZONFEE", True), ("ADJUST", True), ("ADJUST2", True), ("TEST001", True),
        ("gift_0001_20", True), ("SP1002", True), ("1234", True), ("123456", True),
    ]
    steps = _code_steps(rules_db, [code for code, _ in cases])
    assert [(code, step == 4) for (code, _), step in zip(cases, steps, strict=True)] == cases


def test_listed_non_product_codes_are_removed(rules_db) -> None:
    assert set(_code_steps(rules_db, NON_PRODUCT_CODES)) == {4}


def test_values_the_loader_never_stores_fail_their_rules_safely(rules_db) -> None:
    # In-memory lines may carry what a load refuses: a missing price or code is removed, not kept.
    lines = pd.DataFrame({"invoice_no": ["1", "2", "3"], "stock_code": ["85123A", None, "８５１２３A"],
                          "quantity": [1, 1, 1], "unit_price": [float("nan"), 1.0, 1.0], "invoice_date": T,
                          "customer_id": pd.array([1, 1, 1], dtype="Int64"), "is_repeat": False})
    audit = clean_frame(lines, rules_db).audit.set_index("step")["rows_removed"]
    assert audit["zero or negative price"] == 1  # the NaN price
    assert audit["non-product codes"] == 2  # no code, and full-width digits (product codes are ASCII)
