"""Implicit ALS against LGS's co-occurrence recommender on the project's time-split holdout.

Not a dependency of the package (ALS is not used: these figures are why), so it runs in a venv of
its own, against a database with the real 2010-2011 file loaded and built:

    python3 -m venv /tmp/als-venv
    /tmp/als-venv/bin/pip install implicit==0.7.2 pandas numpy scipy psycopg2-binary pyarrow
    DATABASE_URL=$(lgs db url) PYTHONPATH=src /tmp/als-venv/bin/python bench/als_vs_cooc.py

It writes bench/als_vs_cooc.json (and the grid as bench/als_vs_cooc_grid.csv); docs/recommendations.md
quotes the figures of 2026-12-07.

The split (train, checked customers, their new products, the in-range filter, top 10) is the one of
lgs_analytics.analytics.recommend.holdout; popularity and co-occurrence are that module's own
scorers (recommend.recommend), so their figures are the build's. ALS is scored on exactly the same
checked customers and new products.

Honesty about tuning: every ALS setting of the grid is scored on the test window itself (which
flatters the best of them), and, separately, selected on an earlier validation window (the 90/100
days before the test cut-off, trained on what came before it) and then scored once on the test
window, which does not.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import implicit
import numpy as np
import pandas as pd
import psycopg2
import scipy.sparse as sp
from implicit.als import AlternatingLeastSquares
from scipy.stats import binomtest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
from lgs_analytics.analytics import recommend as R  # noqa: E402

DSN = os.environ["DATABASE_URL"]
AS_OF = pd.Timestamp("2011-12-10")
OUT = os.path.dirname(os.path.abspath(__file__))
SEED = 42

GRID = {
    "confidence": ["binary", "log1p"],
    "alpha": [1.0, 10.0, 40.0],
    "factors": [32, 64, 128],
    "regularization": [0.01, 0.1],
    "iterations": [20],  # one value: 108 settings x 4 fits would not fit the time box
}


def load() -> tuple[pd.DataFrame, pd.Series]:
    conn = psycopg2.connect(DSN)
    conn.set_session(readonly=True, autocommit=True)  # read-only: nothing is ever written
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT invoice_no, customer_id, stock_code, invoice_date FROM basket_items(NULL, NULL)"
            )
            items = pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])
            cur.execute("SELECT customer_id, country FROM campaign_customers")
            countries = pd.DataFrame(cur.fetchall(), columns=["customer_id", "country"])
    finally:
        conn.close()
    items["invoice_date"] = pd.to_datetime(items["invoice_date"])
    items["customer_id"] = items["customer_id"].astype("int64")
    items["stock_code"] = items["stock_code"].astype(str)
    return items, countries.set_index("customer_id")["country"]


def split(items: pd.DataFrame, as_of: pd.Timestamp, days: int):
    """Exactly recommend.holdout's split: train, checked customers, their new products."""
    return R.holdout_split(items, as_of, days)


def figures(found: pd.Series) -> dict:
    return {"hit_rate": float((found > 0).mean()), "mean_hits": float(found.mean())}


def baselines(before, cutoff, countries, checked, new) -> dict:
    out = {}
    for scorer in (R.POPULARITY, R.COOCCURRENCE):
        t = time.perf_counter()
        lists = R.recommend(before, cutoff, countries, scorer, checked, R.TOP_N)
        seconds = time.perf_counter() - t
        found = R.hits(lists, new)
        out[scorer] = {**figures(found), "seconds": seconds, "found": found}
    return out


class AlsData:
    """The train customer x product matrix (all customers and products before the cut-off)."""

    def __init__(self, before: pd.DataFrame, cutoff: pd.Timestamp, checked: pd.Index):
        self.customers = pd.Index(np.sort(before["customer_id"].unique()))
        self.products = pd.Index(np.sort(before["stock_code"].astype(str).unique()))
        pairs = before.groupby(["customer_id", "stock_code"])["invoice_no"].nunique()  # invoices per pair
        rows = self.customers.get_indexer(pairs.index.get_level_values(0))
        cols = self.products.get_indexer(pairs.index.get_level_values(1).astype(str))
        shape = (len(self.customers), len(self.products))
        self.binary = sp.csr_matrix((np.ones(len(pairs), "float32"), (rows, cols)), shape=shape)
        self.log1p = sp.csr_matrix((np.log1p(pairs.to_numpy()).astype("float32"), (rows, cols)), shape=shape)
        allowed = self.products.isin(R.in_range(before, cutoff))  # same in-range rule as the build
        self.out_of_range = np.flatnonzero(~allowed)
        self.rows = self.customers.get_indexer(checked)
        assert (self.rows >= 0).all()
        self.checked = checked


def als_run(data: AlsData, new: pd.DataFrame, cfg: dict, seed: int = SEED) -> dict:
    matrix = data.binary if cfg["confidence"] == "binary" else data.log1p
    t = time.perf_counter()
    model = AlternatingLeastSquares(
        factors=cfg["factors"],
        regularization=cfg["regularization"],
        alpha=cfg["alpha"],
        iterations=cfg["iterations"],
        random_state=seed,
        calculate_training_loss=False,
    )
    model.fit(matrix, show_progress=False)
    ids, _ = model.recommend(
        data.rows,
        matrix[data.rows],
        N=R.TOP_N,
        filter_already_liked_items=True,
        filter_items=data.out_of_range,
    )
    seconds = time.perf_counter() - t
    lists = pd.DataFrame(
        {
            "customer_id": np.repeat(data.checked.to_numpy(), ids.shape[1]),
            "stock_code": data.products[ids.ravel()].astype(str),
        }
    )
    found = R.hits(lists, new)
    return {**figures(found), "seconds": seconds, "found": found, "model": model, "ids": ids}


def check_filters(data: AlsData, run: dict, matrix: sp.csr_matrix) -> None:
    """The ALS lists hold no bought product and no out-of-range product, and equal a plain top 10."""
    ids = run["ids"]
    bought = matrix[data.rows]
    assert not np.asarray(bought[np.repeat(np.arange(len(ids)), ids.shape[1]), ids.ravel()]).any()
    assert not np.isin(ids, data.out_of_range).any()
    model = run["model"]
    scores = model.user_factors[data.rows] @ model.item_factors.T
    scores[:, data.out_of_range] = -np.inf
    scores[bought.nonzero()] = -np.inf
    top = np.argsort(-scores, axis=1)[:, : ids.shape[1]]
    agree = np.mean([len(set(a) & set(b)) / len(a) for a, b in zip(top, ids, strict=True)])
    assert agree > 0.999, agree


def label(cfg: dict) -> str:
    return (
        f"{cfg['confidence']}, alpha={cfg['alpha']:g}, factors={cfg['factors']}, "
        f"reg={cfg['regularization']:g}, iters={cfg['iterations']}"
    )


def main() -> None:
    t0 = time.perf_counter()
    items, countries = load()
    configs = [dict(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values())]
    report: dict = {"implicit": implicit.__version__, "n_settings": len(configs), "splits": {}}
    rows_all = []
    for days in (90, 100):
        # test split (the build's) and a validation split just before it, for honest selection
        cutoff, before, new, checked = split(items, AS_OF, days)
        v_as_of = cutoff
        v_cutoff, v_before, v_new, v_checked = split(items[items["invoice_date"] < v_as_of], v_as_of, days)
        base = baselines(before, cutoff, countries, checked, new)
        v_base = baselines(v_before, v_cutoff, countries, v_checked, v_new)
        reference = R.holdout(items, AS_OF, countries, days=days)
        assert reference["customers"] == len(checked)
        for scorer in (R.POPULARITY, R.COOCCURRENCE):
            assert abs(reference[scorer]["hit_rate"] - round(base[scorer]["hit_rate"], 4)) < 1e-9, scorer
        print(f"[{days}d] cutoff {cutoff.date()} customers {len(checked)} reference {reference}", flush=True)
        print(f"[{days}d] validation cutoff {v_cutoff.date()} customers {len(v_checked)}", flush=True)

        data, v_data = AlsData(before, cutoff, checked), AlsData(v_before, v_cutoff, v_checked)
        results = []
        for i, cfg in enumerate(configs):
            test = als_run(data, new, cfg)
            val = als_run(v_data, v_new, cfg)
            if i == 0:
                check_filters(data, test, data.binary)
            results.append({"cfg": cfg, "test": test, "val": val})
            print(
                f"[{days}d] {i + 1:3d}/{len(configs)} {label(cfg):60s} test {test['hit_rate']:.4f} "
                f"{test['mean_hits']:.3f} {test['seconds']:.2f}s  val {val['hit_rate']:.4f}",
                flush=True,
            )
        best_test = max(results, key=lambda r: (r["test"]["hit_rate"], r["test"]["mean_hits"]))
        best_val = max(results, key=lambda r: (r["val"]["hit_rate"], r["val"]["mean_hits"]))
        # seed spread of the two chosen settings on the test split
        seeds = {}
        for name, chosen in (("best_on_test", best_test), ("best_on_validation", best_val)):
            rates = [als_run(data, new, chosen["cfg"], seed=s)["hit_rate"] for s in (1, 2, 3, 4, 5)]
            seeds[name] = {"min": min(rates), "max": max(rates), "mean": float(np.mean(rates))}
        # paired comparison with co-occurrence on the same customers (exact McNemar)
        cooc = base[R.COOCCURRENCE]["found"].reindex(checked) > 0
        paired = {}
        for name, chosen in (("best_on_test", best_test), ("best_on_validation", best_val)):
            als_hit = chosen["test"]["found"].reindex(checked) > 0
            only_als, only_cooc = int((als_hit & ~cooc).sum()), int((~als_hit & cooc).sum())
            p = binomtest(only_als, only_als + only_cooc, 0.5).pvalue if only_als + only_cooc else 1.0
            paired[name] = {
                "only_als": only_als,
                "only_cooc": only_cooc,
                "both": int((als_hit & cooc).sum()),
                "p": p,
            }
        for r in results:
            rows_all.append(
                {
                    "days": days,
                    **r["cfg"],
                    "test_hit_rate": r["test"]["hit_rate"],
                    "test_mean_hits": r["test"]["mean_hits"],
                    "test_seconds": r["test"]["seconds"],
                    "val_hit_rate": r["val"]["hit_rate"],
                    "val_mean_hits": r["val"]["mean_hits"],
                }
            )
        strip = lambda d: {k: v for k, v in d.items() if k not in ("found", "model", "ids")}  # noqa: E731
        report["splits"][days] = {
            "cutoff": str(cutoff.date()),
            "customers": len(checked),
            "validation_cutoff": str(v_cutoff.date()),
            "validation_customers": len(v_checked),
            "popularity": strip(base[R.POPULARITY]),
            "cooccurrence": strip(base[R.COOCCURRENCE]),
            "val_popularity": strip(v_base[R.POPULARITY]),
            "val_cooccurrence": strip(v_base[R.COOCCURRENCE]),
            "best_on_test": {
                "cfg": best_test["cfg"],
                "test": strip(best_test["test"]),
                "val": strip(best_test["val"]),
            },
            "best_on_validation": {
                "cfg": best_val["cfg"],
                "test": strip(best_val["test"]),
                "val": strip(best_val["val"]),
            },
            "als_median_test_hit_rate": float(np.median([r["test"]["hit_rate"] for r in results])),
            "als_settings_beating_cooc_on_test": int(
                sum(r["test"]["hit_rate"] > base[R.COOCCURRENCE]["hit_rate"] for r in results)
            ),
            "seed_spread": seeds,
            "paired_vs_cooc": paired,
        }
    pd.DataFrame(rows_all).to_csv(f"{OUT}/als_vs_cooc_grid.csv", index=False)
    report["total_seconds"] = time.perf_counter() - t0
    with open(f"{OUT}/als_vs_cooc.json", "w") as fh:
        json.dump(report, fh, indent=2, default=str)
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
