"""Recompute the published facts of an "Online Retail" CSV (older layout) with plain pandas,
independently of the lgs package: `python tests/data/facts.py FILE.csv.gz > FACTS.json`.

On the complete 541,909-row file it reproduces the facts in ../shared/data/README.md; the
vendored sample's facts (online_retail_2010_2011_sample.facts.json) were made with it.
"""

from __future__ import annotations

import json
import sys

import pandas as pd


def facts(path: str) -> dict:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    blank = df.eq("")
    quantity, price = df["Quantity"].astype(int), df["UnitPrice"].astype(float)
    total = quantity * price
    classic = df[(quantity > 0) & (total > 0) & ~blank.any(axis=1)]
    return {
        "rows": len(df),
        "rows_without_customer": int(blank["CustomerID"].sum()),
        "rows_without_description": int(blank["Description"].sum()),
        "exact_duplicate_rows": int(df.duplicated().sum()),
        "invoices": int(df["InvoiceNo"].nunique()),
        "cancellation_invoices": int(df.loc[df["InvoiceNo"].str.startswith("C"), "InvoiceNo"].nunique()),
        "customers": int(df.loc[~blank["CustomerID"], "CustomerID"].nunique()),
        "stock_codes": int(df["StockCode"].nunique()),
        "countries": int(df["Country"].nunique()),
        "sum_quantity_x_price": round(float(total.sum()), 2),
        "classic_rows": len(classic),
        "classic_customers": int(classic["CustomerID"].nunique()),
        "classic_monetary": round(float(total[classic.index].sum()), 2),
    }


if __name__ == "__main__":
    print(json.dumps(facts(sys.argv[1]), indent=2))
