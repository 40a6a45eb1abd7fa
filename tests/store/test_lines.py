"""The lines grouped for the build (sql/03_lines.sql): kept up to date by each load, equal to a
regrouping from scratch, corrected when the rules change, and the best products computed in SQL
(sql/06_reports.sql)."""

from __future__ import annotations

import gzip
import pickle

import pandas as pd
import pytest

from lgs_analytics import cli
from lgs_analytics.jobs import build as build_job
from lgs_analytics.results import Analysis, BuildParameters
from lgs_analytics.store import db, tables
from tests.analytics.test_metrics import ROWS
from tests.conftest import SAMPLE_2010_2011

pytestmark = pytest.mark.integration

GROUPS = ("SELECT invoice_no, invoice_date, customer_id, country, step, lines, quantity, amount, returned "
          "FROM line_groups ORDER BY invoice_no, invoice_date, customer_id, country, step")


def _insert_lines(rows: list[tuple], batch_id: int = 1) -> None:
    """Hand lines straight into transactions (occurrence 1), each with the step the rules give it."""
    with db.connect() as conn:
        for invoice, code, description, quantity, date, price, customer, country in rows:
            db.query(conn, """
                INSERT INTO transactions (line_id, invoice_no, stock_code, description, quantity,
                                          invoice_date, unit_price, customer_id, country, occurrence,
                                          first_batch_id, step)
                VALUES (gen_random_uuid(), %s, %s, %s, %s, %s, %s, %s, %s, 1, %s,
                        clean_step(%s, %s, %s, %s, %s, 1))""",
                (invoice, code, description, quantity, date, price, customer, country, batch_id,
                 invoice, code, quantity, price, customer))


def _products(n: int = 10, by: str = "revenue", start=None, end=None) -> pd.DataFrame:
    with db.connect() as conn:
        return tables.read_top_products(conn, start, end, n, by)


def test_top_products_net_of_cancellations(database_url) -> None:
    # The metrics fixture: 22423 qty 1 + 3 + 2 = 6, £60 on 3 invoices, less C536005's 1 unit and £10;
    # 85123A qty 12, £30 on 4 invoices (the guest's 10 units are not a purchase); 84029G 5, £25.
    _insert_lines(ROWS)
    top = _products(n=2)
    assert top.to_dict("list") == {
        "stock_code": ["22423", "85123A"], "description": ["CAKESTAND", "WHITE HEART"],
        "quantity": [5, 12], "revenue": [50.0, 30.0], "invoices": [3, 4]}
    assert _products(n=3, by="quantity")["stock_code"].tolist() == ["85123A", "22423", "84029G"]
    # A window: October 2011 alone holds 22423 (3 - 1 units), 84029G and 85123A (£10 and £5).
    october = _products(start="2011-10-01", end="2011-10-31")
    assert october[["stock_code", "revenue"]].values.tolist() == [["22423", 20.0], ["84029G", 10.0],
                                                                  ["85123A", 5.0]]
    with pytest.raises(ValueError, match="by must be"):
        _products(by="price")


def test_a_huge_line_cancelled_the_same_day_does_not_top_the_products(database_url) -> None:
    # The real data's 80,995 paper birdies, bought and cancelled within minutes on 2011-12-09.
    birdie = "PAPER CRAFT , LITTLE BIRDIE"
    _insert_lines([*ROWS, ("581483", "23843", birdie, 80995, "2011-12-09 09:15", 2.08, 5, "UK"),
                   ("C581484", "23843", birdie, -80995, "2011-12-09 09:27", 2.08, 5, "UK")])
    assert "23843" not in _products(n=3)["stock_code"].tolist()


BASKET_LINES = [  # invoice, code, description, quantity, date, price, customer, country
    ("536001", "22423", "CAKESTAND", 2, "2011-10-03 10:00", 10.0, 7, "UK"),
    ("536001", "22423", "CAKESTAND", 1, "2011-10-03 10:00", 10.0, 7, "UK"),  # the same product again
    ("536001", "85123A", "WHITE HEART", 4, "2011-10-03 10:00", 2.5, 7, "UK"),
    ("536001", "POST", "POSTAGE", 1, "2011-10-03 10:00", 18.0, 7, "UK"),  # not a product
    ("536001", "84029G", "FREE GIFT", 1, "2011-10-03 10:00", 0.0, 7, "UK"),  # free: not a sale
    ("536002", "22423", "CAKE STAND", 1, "2011-11-03 10:00", 10.0, None, "UK"),  # a guest
    ("C536003", "22423", "CAKESTAND", -1, "2011-11-04 10:00", 10.0, 7, "UK"),  # a cancellation
    ("536004", "22423", "CAKE STAND", 1, "2011-11-05 10:00", 10.0, 8, "UK"),
]


def test_basket_items_are_the_customers_purchased_products_only(database_url) -> None:
    _insert_lines(BASKET_LINES)
    with db.connect() as conn:
        baskets = tables.read_basket_items(conn)
        october = tables.read_basket_items(conn, "2011-10-01", "2011-10-31")
        names = tables.read_product_descriptions(conn)
    rows = sorted(baskets[["invoice_no", "customer_id", "stock_code"]].itertuples(index=False, name=None))
    # 22423 is on two lines of 536001: it comes twice (a basket is a set of products to the analytics).
    assert rows == [("536001", 7, "22423"), ("536001", 7, "22423"), ("536001", 7, "85123A"),
                    ("536004", 8, "22423")]
    assert set(october["invoice_no"]) == {"536001"}
    # The most common description on purchase lines: CAKESTAND twice (536001), CAKE STAND once (536004).
    assert names.to_dict() == {"22423": "CAKESTAND", "85123A": "WHITE HEART"}


def _sample_lines() -> list[str]:
    with gzip.open(SAMPLE_2010_2011, "rt", encoding="utf-8") as handle:
        return handle.read().splitlines()


def _computed() -> dict[str, object]:
    """Every frame a build computes, by name, pickled to compare exactly."""
    result = build_job.compute(BuildParameters())
    frames = {f"analysis.{n}": getattr(result.analysis, n) for n in Analysis.field_names()}
    frames |= {"scores": result.scores["standard"].customers, "campaign": result.campaign,
               "orders": result.customer_orders, "predictions": result.forecast.customers}
    return {name: pickle.dumps(frame) for name, frame in frames.items()}


def test_groups_added_load_by_load_equal_a_regrouping_from_scratch(database_url, tmp_path) -> None:
    # Three overlapping exports of real lines, cut through invoices: each load adds its new lines
    # to groups the earlier loads began (an invoice's lines arrive in two files).
    header, *lines = _sample_lines()
    parts = [lines[:30_000], lines[25_000:50_000], lines[45_000:]]
    for i, part in enumerate(parts, start=1):
        path = tmp_path / f"export_{i}.csv"
        path.write_text("\n".join([header, *part]) + "\n", encoding="utf-8")
        assert cli.main(["load", "--quiet", str(path)]) == 0
    with db.connect() as conn:
        incremental = db.query(conn, GROUPS)
        n_lines, n_rows = db.query(conn, "SELECT (SELECT sum(lines) FROM line_groups), "
                                         "(SELECT count(*) FROM transactions)")[0]
    assert n_lines == n_rows == len(lines)  # the sample has no overlap of its own: every line is new once
    built = _computed()
    assert build_job.regroup_lines() == (len(incremental), 0)
    with db.connect() as conn:
        assert db.query(conn, GROUPS) == incremental
    rebuilt = _computed()
    assert [name for name in built if built[name] != rebuilt[name]] == []


def test_lines_whose_rule_changed_are_corrected_when_the_scripts_run_again(database_url) -> None:
    _insert_lines(ROWS)
    with db.connect() as conn:
        db.query(conn, "SELECT * FROM rebuild_line_groups()")
        right = db.query(conn, GROUPS)
        # As if the rules had given other steps (an older release): wrong steps, wrong groups.
        db.query(conn, "UPDATE transactions SET step = 3")
        [(_, changed)] = db.query(conn, "SELECT * FROM rebuild_line_groups()")
        assert db.query(conn, GROUPS) != right and changed > 0
        db.query(conn, "UPDATE lgs_schema SET digest = repeat('0', 64)")  # sql/ changed since
    with db.connect() as conn:  # runs the scripts again
        assert db.query(conn, GROUPS) == right
        wrong = db.query(conn, "SELECT count(*) FROM transactions WHERE step IS DISTINCT FROM clean_step("
                               "invoice_no, stock_code, quantity, unit_price, customer_id, occurrence)")
        assert wrong == [(0,)]


def test_lgs_build_full_regroups_and_publishes_the_same(database_url, tmp_path, capsys) -> None:
    header, *lines = _sample_lines()
    path = tmp_path / "export.csv"
    path.write_text("\n".join([header, *lines[:20_000]]) + "\n", encoding="utf-8")
    assert cli.main(["load", "--quiet", str(path)]) == 0
    assert cli.main(["build"]) == 0
    with db.connect() as conn:
        first = db.query(conn, "SELECT customer_id, recency, frequency, monetary, segment FROM customer_rfm "
                               "ORDER BY customer_id")
    assert cli.main(["build", "--full"]) == 0
    assert "0 of them different from the groups the loads had added" in capsys.readouterr().out
    with db.connect() as conn:
        assert db.query(conn, "SELECT customer_id, recency, frequency, monetary, segment FROM customer_rfm "
                              "ORDER BY customer_id") == first
