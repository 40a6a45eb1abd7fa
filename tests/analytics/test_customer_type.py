"""The wholesale / trade / retail rule, on hand-made orders at its thresholds."""

from __future__ import annotations

import pandas as pd

from lgs_analytics.analytics import customer_type as ct


def orders(rows: list[tuple[int, str, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "kind", "units", "amount"])


def test_the_median_order_decides_the_type():
    types = ct.customer_types(orders([
        (1, "purchase", 12, 30.0), (1, "purchase", 20, 60.0), (1, "purchase", 5000, 9000.0),  # one bulk order
        (2, "purchase", 500, 400.0),                        # 500 units: wholesale
        (3, "purchase", 40, 1000.0),                        # £1,000: wholesale
        (4, "purchase", 99, 249.99),                        # just under both: retail
        (5, "purchase", 100, 100.0),                        # 100 units: trade
        (6, "purchase", 10, 250.0), (6, "cancellation", -900, -2000.0),  # cancellations do not count
    ]))["customer_type"]
    assert types.to_dict() == {1: "retail", 2: "wholesale", 3: "wholesale", 4: "retail", 5: "trade",
                               6: "trade"}


def test_type_table_states_counts_shares_and_median_orders():
    campaign = pd.DataFrame({"customer_type": ["retail", "retail", "wholesale", None],
                             "spend": [100.0, 300.0, 600.0, 5.0],
                             "order_units_median": [10.0, 30.0, 800.0, None],
                             "order_value_median": [50.0, 70.0, 2000.0, None]})
    table = ct.type_table(campaign)
    assert table.loc["retail", "customers"] == 2 and table.loc["retail", "spend_share"] == 40.0
    assert table.loc["wholesale", "spend_share"] == 60.0 and table.loc["trade", "customers"] == 0
    assert table.loc["retail", "median_order_units"] == 20.0
