"""`make fidelity`: how closely a generated export matches the real data, figure by figure.

Reads the real UCI "Online Retail" file (1 Dec 2010 - 9 Dec 2011, older column names) with pandas
and generates a full-size export, whose second sheet (``Year 2010-2011``) covers the same period
at a comparable size. Every figure has ONE definition, applied to both, through the package's own
analytics wherever they exist (cleaning rules, standard RFM, segments). Prints real vs generated
vs difference and writes bench/fidelity.json.

Definitions (the "clean" figures use the package's cleaning rules, applied by Postgres through
``build_job.clean_frame`` (the embedded server, or DATABASE_URL), with ``is_repeat`` = an identical
earlier row, as the store derives it from ``occurrence > 1``):

* unit price median / 95th / 99th percentile: of all rows; ``clean`` variants of the purchase
  lines the cleaning keeps (DESIGN.md quotes those: 1.95 / 8.50 / 12.75 on the real data);
* UK share of net sales: UK purchases net of UK cancellations over all of them (identified
  customers, product lines), and the gross share beside it (DESIGN.md's 82.9%);
* cancelled value: cancelled lines' value over gross purchases, both after cleaning;
* units per basket: mean units per purchase invoice after cleaning;
* hour of day: share of rows (invoice lines) per hour, 8 h to 20 h; the 17 h share of invoices
  beside it (DESIGN.md's 4.7% counts invoices);
* cancellation-only customers: identified customers all of whose invoices are ``C`` invoices;
* segment shares: standard RFM (as-of the day after the last invoice), share of scored customers;
* rows without customer id, exact duplicate rows (an identical earlier row), share of invoices
  that are cancellations, countries and customers.

DESIGN.md's real figures take another base in three places, shown beside the main ones: unit
prices of the cleaned purchase lines (1.95 / 8.50 / 12.75; of all rows 2.08 / 9.95 / 18.00), the UK
share of gross sales (82.9%; of net sales 82.3%) and invoices at 17 h (4.7%; lines 5.3%).

Usage: python bench/fidelity.py [--real PATH] [--seed N] [--rows N] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lgs_analytics.analytics.rfm import rfm_standard
from lgs_analytics.analytics.segments import SEGMENT_NAMES
from lgs_analytics.config import DB_COLUMNS, EXPORT_COLUMNS, REAL_ROW_COUNT, SHEET_NAMES
from lgs_analytics.jobs.build import clean_frame
from lgs_analytics.synthetic import generate_export

ROOT = Path(__file__).resolve().parents[1]
REAL_FILE = ROOT.parent / "shared" / "data" / "online_retail_2010_2011.csv.gz"
OLD_COLUMNS = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
               "CustomerID", "Country")
HOURS = range(8, 21)
TEXT = {"InvoiceNo": str, "StockCode": str, "Description": str, "Country": str}


def read_real(path: Path) -> pd.DataFrame:
    """The real file with the package's snake-case column names."""
    frame = pd.read_csv(path, dtype=TEXT, parse_dates=["InvoiceDate"])
    return frame[list(OLD_COLUMNS)].set_axis(list(DB_COLUMNS), axis=1)


def generated(rows: int, seed: int) -> tuple[pd.DataFrame, float]:
    """The generated export's second sheet (the real file's period) and the generation time (s)."""
    started = time.perf_counter()
    sheets = generate_export(rows, seed)
    seconds = time.perf_counter() - started
    return sheets[SHEET_NAMES[1]][list(EXPORT_COLUMNS)].set_axis(list(DB_COLUMNS), axis=1), seconds


def _cleaned(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Purchases and cancellations after the package's cleaning rules."""
    result = clean_frame(df.assign(is_repeat=df.duplicated().to_numpy()))
    return result.purchases, result.cancellations


def _prices(df: pd.DataFrame, purchases: pd.DataFrame) -> dict[str, float]:
    """Unit price median, 95th and 99th percentile of all rows and of the kept purchase lines."""
    out = {}
    for label, prices in (("", df["unit_price"]), ("clean_", purchases["unit_price"])):
        for name, q in (("median", 0.5), ("p95", 0.95), ("p99", 0.99)):
            out[f"{label}price_{name}"] = float(prices.quantile(q))
    return out


def _sales(purchases: pd.DataFrame, cancellations: pd.DataFrame) -> dict[str, float]:
    """UK share of net and gross sales, cancelled value over gross, mean units per basket."""
    gross = purchases.groupby("country")["line_total"].sum()
    net = gross.add(cancellations.groupby("country")["line_total"].sum(), fill_value=0)
    units = purchases.groupby("invoice_no")["quantity"].sum()
    return {"uk_share_net_sales_pct": 100 * net.get("United Kingdom", 0.0) / net.sum(),
            "uk_share_gross_sales_pct": 100 * gross.get("United Kingdom", 0.0) / gross.sum(),
            "cancelled_value_pct_of_gross": -100 * cancellations["line_total"].sum() / gross.sum(),
            "units_per_basket": float(units.mean())}


def _hours(df: pd.DataFrame) -> dict[str, float]:
    """Share of rows per hour of day (8 h to 20 h), and of invoices at 17 h."""
    lines = df["invoice_date"].dt.hour.value_counts(normalize=True)
    first = df.groupby("invoice_no")["invoice_date"].min().dt.hour.value_counts(normalize=True)
    out = {f"lines_at_{h:02d}h_pct": 100 * float(lines.get(h, 0.0)) for h in HOURS}
    out["invoices_at_17h_pct"] = 100 * float(first.get(17, 0.0))
    return out


def _customers(df: pd.DataFrame, purchases: pd.DataFrame, cancellations: pd.DataFrame) -> dict[str, float]:
    """Cancellation-only customers and the standard RFM segment shares."""
    known = df[df["customer_id"].notna()]
    only_c = known.groupby("customer_id")["invoice_no"].agg(lambda s: s.str.startswith("C").all())
    shares = rfm_standard(purchases, cancellations)["segment"].value_counts(normalize=True)
    out = {"cancel_only_customers": int(only_c.sum()),
           "cancel_only_customers_pct": 100 * float(only_c.mean())}
    out.update({f"segment_{name}_pct": 100 * float(shares.get(name, 0.0)) for name in SEGMENT_NAMES})
    return out


def _quirks(df: pd.DataFrame) -> dict[str, float]:
    """Rows, missing customer id, exact duplicates, cancellation invoices, countries, customers."""
    invoices = pd.Series(df["invoice_no"].unique())
    return {"rows": len(df), "no_customer_id_pct": 100 * float(df["customer_id"].isna().mean()),
            "exact_duplicate_pct": 100 * float(df.duplicated().mean()),
            "cancel_invoice_share_pct": 100 * float(invoices.str.startswith("C").mean()),
            "invoices": len(invoices), "countries": int(df["country"].nunique()),
            "customers": int(df["customer_id"].nunique())}


def figures(df: pd.DataFrame) -> dict[str, float]:
    """Every figure of the comparison, for one export in the package's column names."""
    purchases, cancellations = _cleaned(df)
    return {**_prices(df, purchases), **_sales(purchases, cancellations), **_hours(df),
            **_customers(df, purchases, cancellations), **_quirks(df)}


def compare(real: dict[str, float], gen: dict[str, float]) -> list[dict]:
    """One row per figure: real, generated, difference (points for a %) and relative difference."""
    rows = []
    for name, value in real.items():
        other = gen[name]
        rel = (other - value) / abs(value) * 100 if value else float("nan")
        rows.append({"figure": name, "real": round(value, 4), "generated": round(other, 4),
                     "diff": round(other - value, 4), "rel_diff_pct": round(rel, 2)})
    return rows


def print_table(rows: list[dict]) -> None:
    """The side-by-side table."""
    print(f"{'figure':34} {'real':>12} {'generated':>12} {'diff':>10} {'rel %':>8}")
    for r in rows:
        rel = "" if np.isnan(r["rel_diff_pct"]) else f"{r['rel_diff_pct']:+.1f}"
        print(f"{r['figure']:34} {r['real']:12.2f} {r['generated']:12.2f} {r['diff']:+10.2f} {rel:>8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=REAL_FILE)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows", type=int, default=REAL_ROW_COUNT, help="rows of the generated export")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "fidelity.json")
    args = parser.parse_args()
    if not args.real.is_file():
        sys.exit(f"fidelity: the real 2010-2011 file is not at {args.real}; pass --real PATH (the UCI "
                 "\"Online Retail\" CSV, .csv or .csv.gz) to compare a generated export with it")
    gen, seconds = generated(args.rows, args.seed)
    rows = compare(figures(read_real(args.real)), figures(gen))
    print_table(rows)
    print(f"\ngenerate_export({args.rows:,}, seed={args.seed}): {seconds:.1f} s")
    result = {"real_file": args.real.name, "generated": {"rows": args.rows, "seed": args.seed,
              "sheet": SHEET_NAMES[1], "seconds": round(seconds, 2)}, "figures": rows}
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
