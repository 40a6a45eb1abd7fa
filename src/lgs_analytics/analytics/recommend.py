"""Recommendations: what sells together, and the products each customer is likely to buy next.

Item-to-item co-occurrence over purchase baskets (Amazon's item-to-item collaborative filtering,
with the market-basket measures of support and lift), chosen over a matrix factorisation because
on the real 2010-2011 file it beats both popularity and implicit ALS on a time-split holdout (see
docs/recommendations.md) at a fraction of the cost, and it explains itself: every personal
product comes with the product the customer bought that it sells with.

The inputs are the build's basket items (``basket_items``, sql/06_reports.sql: the purchase lines as
invoice, customer, product and date, the cleaning rules applied, so postage, fees and other
non-products never appear); a basket is the set of its products (a product on two lines of an
invoice counts once). Pure: frames in, frames out.

Every build checks the scorer on the data itself (:func:`holdout`): recommendations are made from
the purchases before a cut-off ``HOLDOUT_DAYS`` before the as-of date and compared with the
products each customer then bought for the first time. Personal recommendations are published only
when they beat popularity there; otherwise every customer gets the popular products of their
country, labelled as such, and the build says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp  # type: ignore[import-untyped]

from lgs_analytics.results import Recommendations

BASKET_CAP = 50  # baskets of more distinct products (wholesale restocks, up to 1,110) say little of taste
MIN_TOGETHER = 3  # support floor: products bought together in fewer baskets are not a pair
NEIGHBOURS = 50  # each product's strongest partners that score customers (a sparse, bounded model)
PAIRS_PER_PRODUCT = 10  # related products per product in the product_pairs mart
TOP_N = 10  # products per customer
RECENT_DAYS = 90  # in range: bought by some customer in the last 90 days before the as-of date
HOLDOUT_DAYS = 90  # the recommendations are checked on the last 90 days before the as-of date
MIN_HOLDOUT_CUSTOMERS = 30  # fewer customers with new products than this: no check, no personal lists
SHOWN_MIN_BASKETS = 20  # the report's strongest pairs: bought together often enough to plan around
COUNTRY_MIN_BUYERS = 20  # a country's own popular products need this many recent buyers
DENSE_CELLS = 4_000_000  # cells of a block of customers scored at once (32 MB of float64)

COOCCURRENCE = "co-occurrence"
POPULARITY = "popularity"
LIST_COLUMNS = ("customer_id", "rank", "stock_code", "score", "reason", "based_on", "scorer")
PAIR_COLUMNS = ("stock_code", "rank", "related_code", "score", "lift", "baskets_together", "share")


@dataclass(frozen=True)
class PairCounts:
    """What baskets say about pairs, additive over baskets (a basket has one date, so the counts of
    the baskets before a day plus those after are the counts of all), baskets of 2 to ``cap``
    products only. ``pairs[i, j]`` is complex: its real part the baskets holding products ``i`` and
    ``j``, its imaginary part the same with each basket of k products counting 1/(k - 1): one sparse
    product counts both, and the two always share one structure. ``baskets``: the baskets holding
    each product."""

    products: pd.Index  # stock codes; a product's position is its row and column
    pairs: sp.csr_matrix
    baskets: np.ndarray
    n_baskets: int

    def __add__(self, other: PairCounts) -> PairCounts:
        if not self.products.equals(other.products):
            raise ValueError("pair counts of different product lists cannot be added")
        return PairCounts(
            self.products,
            (self.pairs + other.pairs).tocsr(),
            self.baskets + other.baskets,
            self.n_baskets + other.n_baskets,
        )


@dataclass(frozen=True)
class Similarity:
    """Products that sell together: ``score[i, j]`` is the basket-size weighted cosine of products
    ``i`` and ``j`` (0 below the support floor), ``together[i, j]`` the baskets holding both."""

    products: pd.Index  # stock codes; a product's position is its row and column
    score: sp.csr_matrix
    together: sp.csr_matrix
    baskets: np.ndarray  # baskets holding each product (of those counted)
    n_baskets: int  # baskets counted: 2 to BASKET_CAP distinct products

    @cached_property
    def strongest(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(rows, columns, values, ranks) of each product's NEIGHBOURS strongest partners: ranked once
        for both the customers' scores and the pairs mart (a pass over every product pair)."""
        return _top_per_row(self.score, NEIGHBOURS)

    def top(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:attr:`strongest`, each product's first ``k`` only (``k`` at most NEIGHBOURS)."""
        if k > NEIGHBOURS:
            return _top_per_row(self.score, k)
        rows, columns, values, ranks = self.strongest
        kept = ranks <= k
        return rows[kept], columns[kept], values[kept], ranks[kept]


def _binary(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """A 0/1 matrix with a one at each (row, column) given, however often it is given."""
    matrix = sp.csr_matrix((np.ones(len(rows), dtype="float64"), (rows, columns)), shape=shape)
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def codes(items: pd.DataFrame) -> pd.Index:
    """The stock codes of ``items``, sorted: the product list a similarity is indexed by."""
    values = items["stock_code"]
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.cat.remove_unused_categories().cat.categories.to_series()
    found: pd.Index = pd.Index(np.sort(values.astype(str).unique()))
    return found


def _positions(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Each value's position in ``index`` (-1: not in it). Codes made categorical over ``index``
    itself (:func:`recommendations` does it once) are their own positions: no string is looked up
    (a lookup of 800,000 codes cost a second at full size)."""
    if isinstance(values.dtype, pd.CategoricalDtype) and values.cat.categories.equals(index):
        positions: np.ndarray = values.cat.codes.to_numpy().astype("int64")
        return positions
    return np.asarray(index.get_indexer(pd.Index(values.astype(str))))


def pair_counts(items: pd.DataFrame, products: pd.Index | None = None, cap: int = BASKET_CAP) -> PairCounts:
    """The :class:`PairCounts` of the baskets of ``items`` (invoice_no, stock_code), over ``products``
    (default: the codes of ``items``; a code outside it is left out)."""
    products = codes(items) if products is None else products
    baskets, names = pd.factorize(items["invoice_no"])
    incidence = _binary(baskets, _positions(items["stock_code"], products), (len(names), len(products)))
    size = np.asarray(incidence.sum(axis=1)).ravel()
    kept = (size >= 2) & (size <= cap)
    incidence, size = incidence[kept], size[kept]
    # One product for both counts: each basket's row weighs 1 + i/(k - 1).
    weights = sp.diags(1.0 + 1j / (size - 1.0))
    pairs = (incidence.T.tocsr() @ (weights @ incidence)).tocsr()
    pairs.sort_indices()
    return PairCounts(products, pairs, np.asarray(incidence.sum(axis=0)).ravel(), int(kept.sum()))


def similarity(
    items: pd.DataFrame | None = None,
    cap: int = BASKET_CAP,
    min_together: int = MIN_TOGETHER,
    counts: PairCounts | None = None,
) -> Similarity:
    """Pair scores from the baskets of ``items`` (invoice_no, stock_code), or from their ``counts``.

    A basket of k products (2 <= k <= ``cap``) adds 1/(k - 1) to each pair in it, so a product
    shares one unit of "bought with" among its basket partners: a 40-product restock order says less
    about any one pair than a 3-product gift order. The score divides that sum by the geometric mean
    of the two products' basket counts (a cosine), so a best seller is not everybody's partner.
    Pairs found together in fewer than ``min_together`` baskets score 0.
    """
    if counts is None:
        if items is None:
            raise ValueError("similarity needs items or their pair counts")
        counts = pair_counts(items, cap=cap)
    pairs = counts.pairs
    rows = np.repeat(np.arange(pairs.shape[0]), np.diff(pairs.indptr))
    together, weighted = pairs.data.real, pairs.data.imag
    kept = (together >= min_together) & (rows != pairs.indices)  # frequent pairs, no product with itself
    rows, columns = rows[kept], pairs.indices[kept]
    score = weighted[kept] / np.sqrt(
        np.maximum(counts.baskets[rows], 1.0) * np.maximum(counts.baskets[columns], 1.0)
    )
    # Still row by row, columns ascending: the filtered arrays are a canonical CSR as they are.
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=pairs.shape[0]))])
    return Similarity(
        counts.products,
        sp.csr_matrix((score, columns, indptr), shape=pairs.shape),
        sp.csr_matrix((np.rint(together[kept]), columns, indptr), shape=pairs.shape),
        counts.baskets,
        counts.n_baskets,
    )


def _rank_within_rows(
    rows: np.ndarray, columns: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(rows, columns, values, ranks from 1): each row's entries best first, ties by column. The
    entries come row by row, columns ascending within a row, so two stable sorts (values, then
    rows) give that order: five times faster than a lexsort of the three on 600,000 entries."""
    order = np.argsort(-values, kind="stable")
    order = order[np.argsort(rows[order], kind="stable")]
    rows, columns, values = rows[order], columns[order], values[order]
    ranks = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left") + 1
    return rows, columns, values, ranks


def _top_of_dense(dense: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(rows, columns, values, ranks from 1) of each row's ``k`` largest positive values of a dense
    block, best first, ties by column: a partial sort in C. Overwrites ``dense``."""
    width = dense.shape[1]
    k = min(k, width)
    np.negative(dense, out=dense)
    picked = (
        np.sort(np.argpartition(dense, k - 1, axis=1)[:, :k], axis=1)
        if k < width
        else np.tile(np.arange(width), (len(dense), 1))
    )
    values = -np.take_along_axis(dense, picked, axis=1).ravel().astype("float64")
    rows = np.repeat(np.arange(len(dense), dtype="int64"), picked.shape[1])
    rows, columns, values, ranks = _rank_within_rows(rows, picked.ravel().astype("int64"), values)
    kept = values > 0
    return rows[kept], columns[kept], values[kept], ranks[kept]


def _top_per_row(matrix: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(rows, columns, values, ranks from 1) of each row's ``k`` largest positive values, best first,
    ties by column (the stock code's order). A block of rows at a time as a dense array of at most
    DENSE_CELLS cells: a partial sort in C beats sorting what is stored (0.8 s against 1.2 s for the
    1,031,198 pairs of the full-size generated data; 0.4 s against 0.5 s for the real file's)."""
    block = max(1, DENSE_CELLS // max(matrix.shape[1], 1))
    parts = []
    for start in range(0, matrix.shape[0], block):
        rows, columns, values, ranks = _top_of_dense(
            matrix[start : start + block].astype(np.float32).toarray(), k
        )
        parts.append((rows + start, columns, values, ranks))
    if not parts:
        return (np.zeros(0, "int64"), np.zeros(0, "int64"), np.zeros(0, "float64"), np.zeros(0, "int64"))
    return tuple(np.concatenate(arrays) for arrays in zip(*parts, strict=True))  # type: ignore[return-value]


def neighbours(sim: Similarity, k: int = NEIGHBOURS) -> sp.csr_matrix:
    """Each product's ``k`` strongest partners (row i: the products that sell with product i)."""
    rows, columns, values, _ = sim.top(k)
    matrix = sp.csr_matrix((values, (rows, columns)), shape=sim.score.shape)
    matrix.sort_indices()
    return matrix


def product_pairs(sim: Similarity, k: int = PAIRS_PER_PRODUCT) -> pd.DataFrame:
    """Each product's ``k`` strongest partners (PAIR_COLUMNS): the score, the lift (how many times
    more often the two are in one basket than chance would put them there), the baskets holding
    both, and their share of the product's baskets ("customers who bought this also bought")."""
    rows, columns, values, ranks = sim.top(k)
    together = _partner_lookup(sim.together, rows, columns)  # no pair: empty, not a matrix
    lift = together * sim.n_baskets / (sim.baskets[rows] * sim.baskets[columns])
    return pd.DataFrame(
        {
            "stock_code": sim.products[rows].astype(str),
            "rank": ranks.astype("int64"),
            "related_code": sim.products[columns].astype(str),
            "score": values,
            "lift": lift.astype("float64"),
            "baskets_together": together.astype("int64"),
            "share": (together / sim.baskets[rows]).astype("float64"),
        }
    )


def in_range(items: pd.DataFrame, as_of: pd.Timestamp, days: int = RECENT_DAYS) -> pd.Index:
    """The products some customer bought in the ``days`` before ``as_of``: what the shop still sells."""
    recent = items["invoice_date"] >= as_of - pd.Timedelta(days=days)
    sold: pd.Index = pd.Index(np.sort(items.loc[recent, "stock_code"].astype(str).unique()))
    return sold


def popular(
    items: pd.DataFrame, as_of: pd.Timestamp, countries: pd.Series, days: int = RECENT_DAYS
) -> dict[str, pd.Series]:
    """Popular products, best first: country -> share of that country's buyers of the last ``days``
    who bought each product, for every country with COUNTRY_MIN_BUYERS such buyers, and ``""`` ->
    the same over all buyers (everyone else's list)."""
    recent = items[items["invoice_date"] >= as_of - pd.Timedelta(days=days)]
    buyers = recent[["customer_id", "stock_code"]].drop_duplicates()
    buyers = buyers.assign(
        country=buyers["customer_id"].map(countries).fillna("").astype(str),
        stock_code=buyers["stock_code"].astype(str),
    )
    lists = {"": _shares(buyers)}
    for country, rows in buyers.groupby("country", sort=True):
        if country and rows["customer_id"].nunique() >= COUNTRY_MIN_BUYERS:
            lists[str(country)] = _shares(rows)
    return lists


def _shares(buyers: pd.DataFrame) -> pd.Series:
    counts = buyers.groupby("stock_code")["customer_id"].nunique()
    shares = counts / max(buyers["customer_id"].nunique(), 1)
    return shares.sort_index().sort_values(ascending=False, kind="stable")


def _popular_reason(country: str) -> str:
    return f"popular in {country}" if country else "popular across the shop"


def _history(items: pd.DataFrame, products: pd.Index, customers: pd.Index) -> sp.csr_matrix:
    """customers x products: 1 where the customer bought the product (products outside ``products``
    are left out)."""
    columns = _positions(items["stock_code"], products)
    rows = customers.get_indexer(pd.Index(items["customer_id"]))
    known = (columns >= 0) & (rows >= 0)
    return _binary(rows[known], columns[known], (len(customers), len(products)))


def _partner_lookup(model: sp.csr_matrix, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """model[rows[i], columns[i]] for every i, in one sorted search (no dense matrix)."""
    width = model.shape[1]
    stored = np.repeat(np.arange(model.shape[0]), np.diff(model.indptr)) * width + model.indices
    wanted = rows.astype("int64") * width + columns
    at = np.minimum(np.searchsorted(stored, wanted), max(len(stored) - 1, 0))
    found = (stored[at] == wanted) if len(stored) else np.zeros(len(wanted), dtype=bool)
    return np.where(found, model.data[at] if len(stored) else 0.0, 0.0)


def _personal(
    bought: sp.csr_matrix, model: sp.csr_matrix, allowed: np.ndarray, n: int, reasons: bool = True
) -> pd.DataFrame:
    """For each customer row of ``bought``: the ``n`` best products new to them among ``allowed``,
    scored by the sum of their bought products' partner scores, with the bought product that
    contributes most (``based_on``; -1 without ``reasons``: the holdout needs only the products).
    Columns: row, product, score, rank, based_on (product).

    Customers are scored a block at a time as a dense array of at most DENSE_CELLS cells, so memory
    follows the block, not the customer count."""
    parts = []
    block = max(1, DENSE_CELLS // max(model.shape[1], 1))
    for start in range(0, bought.shape[0], block):
        chunk = bought[start : start + block]
        dense = (chunk @ model).astype(np.float32).toarray()  # ranks in half the memory traffic
        dense[:, ~allowed] = 0.0  # out of range
        dense[chunk.nonzero()] = 0.0  # already theirs
        rows, products, values, ranks = _top_of_dense(dense, n)
        del dense
        if not reasons:
            parts.append(
                pd.DataFrame(
                    {"row": rows + start, "product": products, "score": values, "rank": ranks, "based_on": -1}
                )
            )
            continue
        # Which of the customer's products each pick sells with most: every (pick, bought product),
        # grouped by pick, the customer's products in code order (the first of equals wins).
        counts = np.diff(chunk.indptr)[rows]
        pick = np.repeat(np.arange(len(rows)), counts)
        offsets = np.cumsum(counts) - counts
        owned = chunk.indices[np.repeat(chunk.indptr[rows] - offsets, counts) + np.arange(len(pick))]
        strength = _partner_lookup(model, owned, products[pick])
        best = np.maximum.reduceat(strength, offsets) if len(strength) else strength
        leaders = np.flatnonzero(strength == np.repeat(best, counts))
        leaders = leaders[np.unique(pick[leaders], return_index=True)[1]]
        parts.append(
            pd.DataFrame(
                {
                    "row": rows + start,
                    "product": products,
                    "score": values,
                    "rank": ranks,
                    "based_on": owned[leaders],
                }
            )
        )
    if not parts:
        return pd.DataFrame(
            {c: pd.Series(dtype="int64") for c in ("row", "product", "rank", "based_on")}
        ).assign(score=pd.Series(dtype="float64"))
    return pd.concat(parts, ignore_index=True)


def _fill(
    lists: pd.DataFrame,
    customers: pd.Index,
    bought: sp.csr_matrix,
    products: pd.Index,
    lists_by_country: dict[str, pd.Series],
    countries: pd.Series,
    n: int,
) -> pd.DataFrame:
    """Complete every customer's list to ``n`` products with their country's popular products
    (or the shop's) that they have not bought and are not on their list yet."""
    width = len(products)
    listed = _binary(
        customers.get_indexer(pd.Index(lists["customer_id"])),
        products.get_indexer(pd.Index(lists["stock_code"])),
        bought.shape,
    )
    taken = (bought + listed).tocsr()  # (customer row, product) a pick must avoid
    taken.sort_indices()
    keys = np.repeat(np.arange(len(customers), dtype="int64"), np.diff(taken.indptr)) * width + taken.indices
    have = np.bincount(customers.get_indexer(pd.Index(lists["customer_id"])), minlength=len(customers))
    country = countries.reindex(customers).fillna("").astype(str)
    key = np.where(country.isin(list(lists_by_country)), country, "")
    extra = []
    for name in np.unique(key):
        rows = np.flatnonzero((key == name) & (have < n))
        ranking = lists_by_country[str(name)]
        ranked = products.get_indexer(ranking.index)
        shares = ranking.to_numpy(dtype="float64")[ranked >= 0]
        ranked = ranked[ranked >= 0]
        depth = n
        while len(rows):  # the first products of the ranking, deeper for the few who bought most of them
            top = min(depth + n, len(ranked))
            row = np.repeat(rows, top)
            position = np.tile(np.arange(top), len(rows))
            wanted = row.astype("int64") * width + ranked[position]
            at = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
            free = (keys[at] != wanted) if len(keys) else np.ones(len(wanted), dtype=bool)
            row, position = row[free], position[free]
            order = np.cumsum(np.ones(len(row), "int64")) - 1 - np.searchsorted(row, row, side="left")
            slot = have[row] + order
            fits = slot < n
            done = np.bincount(row[fits], minlength=len(customers))[rows] + have[rows] >= n
            finished = rows[done | (top == len(ranked))]
            mine = np.isin(row, finished) & fits
            extra.append(
                pd.DataFrame(
                    {
                        "customer_id": customers[row[mine]],
                        "rank": slot[mine] + 1,
                        "stock_code": products[ranked[position[mine]]].astype(str),
                        "score": shares[position[mine]],
                        "reason": _popular_reason(str(name)),
                        "based_on": pd.NA,
                        "scorer": POPULARITY,
                    }
                )
            )
            rows = rows[~np.isin(rows, finished)]
            depth *= 4
    return pd.concat([lists, *extra], ignore_index=True) if extra else lists


def recommend(
    items: pd.DataFrame,
    as_of: pd.Timestamp,
    countries: pd.Series,
    scorer: str = COOCCURRENCE,
    customers: pd.Index | None = None,
    n: int = TOP_N,
    sim: Similarity | None = None,
    reasons: bool = True,
) -> pd.DataFrame:
    """Each customer's ``n`` next products (LIST_COLUMNS), from their purchases before ``as_of``.

    ``items``: basket items (invoice_no, customer_id, stock_code, invoice_date); ``countries``:
    customer_id -> country; ``customers``: whom to recommend for (default: everyone in ``countries``).
    Only products in range (:func:`in_range`) and new to the customer are recommended. With
    ``scorer`` co-occurrence, products that sell with what the customer bought come first (reason:
    "bought together with <code>") and their country's popular products complete the list; with
    popularity, all of it is the country's popular products. ``sim``: the similarity of these
    items when already computed; ``reasons``: name the product each pick sells with (off for the holdout).
    """
    history = items[items["invoice_date"] < as_of]
    customers = pd.Index(countries.index if customers is None else customers)
    lists_by_country = popular(history, as_of, countries)
    personal = scorer == COOCCURRENCE and len(history) > 0
    if personal and sim is None:
        sim = similarity(history)
    catalogue = sim.products if personal and sim is not None else codes(history)
    bought = _history(history, catalogue, customers)
    lists = pd.DataFrame({c: pd.Series(dtype="object") for c in LIST_COLUMNS})
    if personal and sim is not None:
        allowed = sim.products.isin(in_range(history, as_of))
        picks = _personal(bought, neighbours(sim), allowed, n, reasons)
        lists = pd.DataFrame(
            {
                "customer_id": customers[picks["row"].to_numpy()],
                "rank": picks["rank"].to_numpy(),
                "stock_code": sim.products[picks["product"].to_numpy()].astype(str),
                "score": picks["score"].to_numpy(),
                "reason": "bought together with",
                "based_on": pd.Series(sim.products[picks["based_on"].to_numpy()].astype(str)).where(
                    picks["based_on"].to_numpy() >= 0
                ),
                "scorer": COOCCURRENCE,
            }
        )
    out = _fill(lists, customers, bought, catalogue, lists_by_country, countries, n)
    out = out.astype(
        {
            "customer_id": "int64",
            "rank": "int64",
            "stock_code": "str",
            "score": "float64",
            "reason": "str",
            "based_on": "string",
            "scorer": "str",
        }
    )
    return out.sort_values(["customer_id", "rank"], kind="stable").reset_index(drop=True)


def hits(lists: pd.DataFrame, bought_next: pd.DataFrame) -> pd.Series:
    """Per customer in ``bought_next`` (customer_id, stock_code): how many of their recommended
    products (``lists``) they then bought (0 for a customer with no list)."""
    matched = lists.merge(bought_next.drop_duplicates(), on=["customer_id", "stock_code"], how="inner")
    counted = matched.groupby("customer_id").size()
    return counted.reindex(pd.Index(bought_next["customer_id"].unique()), fill_value=0)


def quality(found: pd.Series) -> dict[str, float]:
    """The holdout figures of one scorer: the share of customers with at least one hit in their list,
    and the mean number of hits per customer."""
    return {
        "hit_rate": round(float((found > 0).mean()), 4) if len(found) else 0.0,
        "mean_hits": round(float(found.mean()), 4) if len(found) else 0.0,
    }


def holdout_split(
    items: pd.DataFrame, as_of: pd.Timestamp, days: int = HOLDOUT_DAYS
) -> tuple[pd.Timestamp, pd.DataFrame, pd.DataFrame, pd.Index]:
    """(cut-off, the items before it, the (customer, product) pairs bought for the first time from it
    to ``as_of`` by customers who bought before it, those customers): what :func:`holdout` checks."""
    cutoff = as_of - pd.Timedelta(days=days)
    before = items[items["invoice_date"] < cutoff]
    after = items[(items["invoice_date"] >= cutoff) & (items["invoice_date"] < as_of)]
    seen = pd.MultiIndex.from_frame(before[["customer_id", "stock_code"]].astype({"stock_code": str}))
    later = after[["customer_id", "stock_code"]].astype({"stock_code": str}).drop_duplicates()
    new = later[
        ~pd.MultiIndex.from_frame(later).isin(seen) & later["customer_id"].isin(before["customer_id"])
    ]
    checked = pd.Index(np.sort(new["customer_id"].unique()))
    return cutoff, before, new, checked


def holdout(
    items: pd.DataFrame,
    as_of: pd.Timestamp,
    countries: pd.Series,
    n: int = TOP_N,
    days: int = HOLDOUT_DAYS,
    sim: Similarity | None = None,
) -> dict[str, object]:
    """Both scorers checked on the data: lists made from the purchases before ``as_of - days``,
    compared with the products each customer bought for the first time from then to ``as_of``;
    ``sim``: the similarity of the purchases before that cut-off, when already computed.

    Returns the cut-off, the customers checked (those who bought before and bought something new
    after), and per scorer the share of them with at least one hit in their top ``n`` and their mean
    hits; ``winner``: the scorer to publish (co-occurrence only when it beats popularity)."""
    cutoff, before, new, checked = holdout_split(items, as_of, days)
    result: dict[str, object] = {
        "cutoff": cutoff.date().isoformat(),
        "days": days,
        "top": n,
        "customers": len(checked),
    }
    if len(checked) < MIN_HOLDOUT_CUSTOMERS:
        result["winner"] = POPULARITY
        result["why"] = (
            f"only {len(checked):,} customers bought products new to them in the {days} days "
            f"before {as_of:%Y-%m-%d} (at least {MIN_HOLDOUT_CUSTOMERS} are needed to check "
            "personal recommendations): the lists are the popular products"
        )
        return result
    for scorer in (POPULARITY, COOCCURRENCE):
        lists = recommend(before, cutoff, countries, scorer, checked, n, sim=sim, reasons=False)
        result[scorer] = quality(hits(lists, new))
    personal, baseline = result[COOCCURRENCE], result[POPULARITY]
    assert isinstance(personal, dict) and isinstance(baseline, dict)
    beats = personal["hit_rate"] > baseline["hit_rate"]
    result["winner"] = COOCCURRENCE if beats else POPULARITY
    result["why"] = (
        f"products bought together beat popularity on the last {days} days: "
        f"{personal['hit_rate']:.1%} of {len(checked):,} customers bought one of their top {n}, "
        f"against {baseline['hit_rate']:.1%}"
        if beats
        else f"products bought together did not beat popularity on the last {days} days "
        f"({personal['hit_rate']:.1%} of {len(checked):,} customers bought one of their top {n}, "
        f"against {baseline['hit_rate']:.1%}): the lists are the popular products"
    )
    return result


def strongest_pairs(pairs: pd.DataFrame, n: int = 10, min_baskets: int = SHOWN_MIN_BASKETS) -> pd.DataFrame:
    """The ``n`` strongest pairs bought together in at least ``min_baskets`` baskets (all pairs when
    none is), each once (A-B or B-A, whichever has the higher share: "x% of the baskets with A also
    hold B" read from the rarer product), strongest first: the score, then the baskets holding both,
    then the codes. Three baskets make a pair for scoring customers; a pair worth a campaign of its own
    is one many customers bought."""
    if pairs.empty:
        return pairs
    frequent = pairs[pairs["baskets_together"] >= min_baskets]
    pairs = frequent if len(frequent) else pairs
    first, second = pairs["stock_code"].astype(str), pairs["related_code"].astype(str)
    keyed = pairs.assign(_lo=first.where(first < second, second), _hi=second.where(first < second, first))
    once = keyed.sort_values(["share", "stock_code"], ascending=[False, True], kind="stable").drop_duplicates(
        ["_lo", "_hi"]
    )
    return (
        once.sort_values(
            ["score", "baskets_together", "_lo", "_hi"], ascending=[False, False, True, True], kind="stable"
        )
        .head(n)
        .drop(columns=["_lo", "_hi"])
        .reset_index(drop=True)
    )


def with_descriptions(
    lists: pd.DataFrame, pairs: pd.DataFrame, descriptions: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The lists and pairs with product descriptions (``descriptions``: stock_code -> text; a code
    without one shows as itself), and the co-occurrence reasons in words."""

    def named(codes: pd.Series) -> pd.Series:
        text = codes.map(descriptions)
        return text.where(text.notna(), codes).astype("string")

    lists = lists.assign(description=named(lists["stock_code"]))
    together = lists["scorer"] == COOCCURRENCE
    partner = named(lists["based_on"].fillna("").astype(str))
    lists["reason"] = lists["reason"].where(~together, "bought together with " + partner.astype(str))
    pairs = pairs.assign(
        description=named(pairs["stock_code"]), related_description=named(pairs["related_code"])
    )
    return lists, pairs


def recommendations(
    items: pd.DataFrame, descriptions: pd.Series, as_of: pd.Timestamp, countries: pd.Series, n: int = TOP_N
) -> Recommendations:
    """What a build publishes: the holdout check, every customer's list by the scorer that passed it,
    and the pairs of every product, from the basket items before ``as_of``. The pairs are counted
    once: those of the baskets before the holdout's cut-off, then those after, added."""
    history = items[items["invoice_date"] < as_of]
    products = codes(history)
    history = history.assign(stock_code=pd.Categorical(history["stock_code"], categories=products))
    early = history["invoice_date"] < as_of - pd.Timedelta(days=HOLDOUT_DAYS)
    before = pair_counts(history[early], products)
    checked = holdout(history, as_of, countries, n, sim=similarity(counts=before))
    sim = similarity(counts=before + pair_counts(history[~early], products)) if len(history) else None
    scorer = str(checked["winner"])
    lists = recommend(history, as_of, countries, scorer, n=n, sim=sim)
    pairs = (
        product_pairs(sim)
        if sim is not None
        else pd.DataFrame({c: pd.Series(dtype="object") for c in PAIR_COLUMNS})
    )
    lists, pairs = with_descriptions(lists, pairs, descriptions)
    quality = {
        **checked,
        "scorer": scorer,
        "basket_cap": BASKET_CAP,
        "min_together": MIN_TOGETHER,
        "recent_days": RECENT_DAYS,
    }
    return Recommendations(lists, pairs, quality)
