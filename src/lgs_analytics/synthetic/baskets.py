"""Products and lines: the catalogue, baskets, quantities, prices, cancelled lines, write-offs.

Products come from a fixed catalogue by Zipf popularity (distinct within an invoice) at the real
file's price points; quantities in packs (bigger abroad). Non-product codes replace a few lines,
cancellations copy lines of their purchase (mostly the dearer ones), and some customers' lines are
entered twice.
"""

from __future__ import annotations

import numpy as np

from lgs_analytics.synthetic.calibration import (
    BAD_DEBT,
    BIG_BUY,
    BIG_CANCEL,
    BULK_BREAK,
    BULK_P,
    BULK_UNITS,
    CANCEL,
    CANCEL_ONE_UNIT,
    CANCEL_PRICE_BIAS,
    CANCEL_UNITS_BIAS,
    COLOURS,
    DOTCOM_MARKUP,
    GUEST,
    GUEST_SHOP_PRICE,
    GUEST_THRIFT,
    ITEMS,
    LOOSE_MEAN,
    LOOSE_SHARE,
    MOTIFS,
    NO_DESCRIPTION_ROWS,
    NOTES,
    OUTLIERS,
    PACK_POWER,
    PACK_SPREAD,
    PACK_UNITS,
    PACKS,
    PACKS_BOUGHT,
    PACKS_POWER,
    POST_TARIFF,
    PRICE_POINTS,
    PRICE_SHARES,
    REG,
    SHOP_PRICE_BELOW,
    SHOP_PRICE_SHARE,
    SIZES,
    SPECIALS,
    WRITE_OFF,
    WRITE_OFF_MEDIAN,
    WRITE_OFF_NEGATIVE,
    WRITE_OFF_SPREAD,
)
from lgs_analytics.synthetic.timeline import Table


def _nearest(points: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The nearest of the sorted ``points`` to each value, on a log scale (price points, pack sizes)."""
    return points[np.sqrt(points[1:] * points[:-1]).searchsorted(values)]


def _catalogue() -> Table:
    """The shop's product range, the same for every seed: ~4,000 products in colour-variant families."""
    rng, sizes, n_fam = np.random.default_rng(20091201), list(SIZES), 3_000
    combo = rng.choice(len(MOTIFS) * len(ITEMS) * len(sizes), n_fam, replace=False)
    motif, item, size = np.unravel_index(combo, (len(MOTIFS), len(ITEMS), len(sizes)))
    variants = np.where(rng.random(n_fam) < 0.8, 1, rng.integers(2, 7, n_fam))
    fam = np.repeat(np.arange(n_fam), variants)
    nth = np.arange(len(fam)) - np.repeat(np.cumsum(variants) - variants, variants)
    colour = np.argsort(rng.random((n_fam, len(COLOURS))), axis=1)[fam, nth]  # distinct within a family
    family_code = rng.choice(np.setdiff1d(np.arange(10002, 90999), [23166, 23843]), n_fam, replace=False)
    items = list(ITEMS)
    # Like 85123A / 22222: a letter per colour variant; some names keep the real file's trailing space.
    desc = [f"{sizes[size[f]]}{COLOURS[c]} {MOTIFS[motif[f]]} {items[item[f]]}" + (" " if t < 0.15 else "")
            for f, c, t in zip(fam, colour, rng.random(len(fam)), strict=True)]
    code = [f"{family_code[f]}{chr(65 + k) if variants[f] > 1 else ''}"
            for f, k in zip(fam, nth, strict=True)]
    base = np.array([ITEMS[items[i]] * SIZES[sizes[s]] for i, s in zip(item, size, strict=True)])[fam]
    popularity = 1.0 / (rng.permutation(len(fam)) + 30.0) ** 0.9  # Zipf: the top product ~0.5% of lines
    price = _real_prices(base * rng.lognormal(0.0, 0.25, len(fam)), popularity)
    noise = rng.lognormal(0.0, 1.0, len(fam)) ** PACK_SPREAD
    pack = _nearest(PACKS, np.clip(PACK_UNITS / price**PACK_POWER * noise, 1, 48))
    return {"code": np.array(code + [o[0] for o in OUTLIERS], dtype=object),
            "desc": np.array(desc + [o[1] for o in OUTLIERS], dtype=object),
            "price": np.append(price, [o[2] for o in OUTLIERS]), "pack": np.append(pack, [1, 1]),
            "cdf": _cdf(popularity),  # the outliers' products are never drawn
            "guest cdf": _cdf(popularity * price**-GUEST_THRIFT)}  # guests favour cheaper products


def _cdf(weight: np.ndarray) -> np.ndarray:
    """Cumulative shares of ``weight``: draw index ``cdf.searchsorted(uniform, "right")``."""
    return np.cumsum(weight) / weight.sum()


def _real_prices(base: np.ndarray, popularity: np.ndarray) -> np.ndarray:
    """Products in order of their base price take the real price points, each point as many of the
    lines (by popularity) as it has in the real file: a cabinet still costs more than a pencil."""
    order = np.argsort(base, kind="stable")
    share = popularity[order] / popularity.sum()
    middle = np.cumsum(share) - share / 2
    real = np.cumsum(list(PRICE_SHARES.values())) / sum(PRICE_SHARES.values())
    price = np.empty(len(base))
    price[order] = PRICE_POINTS[np.minimum(real.searchsorted(middle), len(real) - 1)]
    return price


def _distinct_products(rng: np.random.Generator, line_inv: np.ndarray, cdf: np.ndarray) -> np.ndarray:
    """Products by popularity, redrawn until no invoice holds the same product twice."""
    prod = cdf.searchsorted(rng.random(len(line_inv)), "right")
    todo = np.arange(len(line_inv))
    for _ in range(100):  # clashes thin out fast: a handful of rounds
        key = line_inv[todo] * len(cdf) + prod[todo]
        order = np.argsort(key, kind="stable")
        clash = np.zeros(len(todo), bool)
        clash[order[1:]] = key[order[1:]] == key[order[:-1]]
        prod[todo[clash]] = cdf.searchsorted(rng.random(clash.sum()), "right")
        todo = todo[np.isin(line_inv[todo], line_inv[todo[clash]])]  # only the invoices that clashed
    return prod


def _quantities(rng: np.random.Generator, pack: np.ndarray, abroad: np.ndarray,
                guest: np.ndarray) -> np.ndarray:
    """Units a purchase line: loose units or packs (fewer loose, more packs abroad); dotcom shoppers
    buy singles."""
    n, u = len(pack), rng.random(len(pack))
    packs = np.empty(n, np.int64)
    for where, power in ((~abroad, PACKS_POWER[0]), (abroad, PACKS_POWER[1])):
        cdf = np.cumsum(PACKS_BOUGHT ** -power)
        packs[where] = PACKS_BOUGHT[np.minimum((cdf / cdf[-1]).searchsorted(u[where]), len(cdf) - 1)]
    loose = rng.random(n) < np.where(abroad, LOOSE_SHARE[1], LOOSE_SHARE[0])
    qty = np.where(loose, rng.geometric(1 / LOOSE_MEAN, n), pack * packs)
    return np.where(guest, rng.geometric(0.55, n), qty)


def _specials(rng: np.random.Generator, lines: Table, pools: dict[str, np.ndarray], first: int,
              scale: float) -> None:
    """Turn a few lines of each pool into non-product lines (POST, DOT, M, D, ...), in place."""
    free = np.ones(len(lines["qty"]), bool)
    for j, (code, _, full, pool, qty, median, spread) in enumerate(SPECIALS):
        cand = np.flatnonzero(pools[pool] & free) if pool in pools else np.empty(0, int)
        pick = rng.choice(cand, min(len(cand), max(1, round(full * scale))), replace=False)
        free[pick] = False
        lines["code"][pick] = lines["desc"][pick] = first + j
        lines["qty"][pick] = qty
        price = median * rng.lognormal(0.0, spread, len(pick))
        if code == "POST":
            price = rng.choice(POST_TARIFF[0], len(pick), p=POST_TARIFF[1])
        lines["price"][pick] = np.round(price, 2 if median >= 0.01 else 3)  # PADS cost 0.001


def _purchase_lines(rng: np.random.Generator, lines: Table, lk: np.ndarray, inv: Table, cat: Table) -> None:
    """Products, quantities and prices of the purchase lines, in place."""
    buy, guest = np.isin(lk, (REG, GUEST)), lk == GUEST
    prod = np.empty(buy.sum(), np.int64)
    for who, cdf in ((~guest[buy], cat["cdf"]), (guest[buy], cat["guest cdf"])):
        prod[who] = _distinct_products(rng, lines["inv"][buy][who], cdf)
    abroad = inv["country"][lines["inv"][buy]] != 0
    qty = _quantities(rng, cat["pack"][prod], abroad, guest[buy])
    price = cat["price"][prod]
    bulk = rng.random(len(qty)) < np.array(BULK_P)[np.searchsorted(BULK_UNITS, qty, "right")]
    price[bulk] = _nearest(PRICE_POINTS, price[bulk] * BULK_BREAK)  # a wholesale break on big quantities
    u = rng.random(len(qty))
    shop = np.where(guest[buy], (price < GUEST_SHOP_PRICE[0]) | (u < GUEST_SHOP_PRICE[1]),
                    ~bulk & (price < SHOP_PRICE_BELOW) & (u < SHOP_PRICE_SHARE))
    lines["code"][buy], lines["qty"][buy] = prod, qty
    lines["price"][buy] = np.where(shop, np.round(price * DOTCOM_MARKUP, 2), price)


def _cancelled_lines(rng: np.random.Generator, lines: Table, lk: np.ndarray, inv: Table, start: np.ndarray,
                     line_no: np.ndarray) -> None:
    """Cancellations copy lines of their purchase, the dearer and bigger ones more likely, quantities
    negated (some return one unit only), in place."""
    back = np.flatnonzero(np.isin(lk, (CANCEL, BIG_CANCEL)))
    bought = inv["src"][lines["inv"][back]]
    is_source = np.zeros(len(start), bool)
    is_source[bought] = True
    sub = np.flatnonzero(is_source[lines["inv"]])  # the purchases' lines, invoice by invoice
    weight = np.maximum(lines["price"][sub], 0.01) ** CANCEL_PRICE_BIAS
    key = rng.exponential(1.0, len(sub)) / (weight * np.abs(lines["qty"][sub]) ** CANCEL_UNITS_BIAS)
    ranked = sub[np.lexsort((key, lines["inv"][sub]))]  # each purchase's lines in the order they go
    source = ranked[lines["inv"][sub].searchsorted(bought) + line_no[back]]
    for col in ("code", "desc", "price"):
        lines[col][back] = lines[col][source]
    one = (lk[back] == CANCEL) & (rng.random(len(back)) < CANCEL_ONE_UNIT)
    lines["qty"][back] = -np.where(one, 1, lines["qty"][source]).astype(np.int64)


def _lines(rng: np.random.Generator, inv: Table, n_lines: np.ndarray, dups: np.ndarray, cat: Table,
           scale: float) -> Table:
    """Every line: invoice, code and description index, quantity, price, order inside the invoice."""
    n_cat, start = len(cat["code"]), np.cumsum(n_lines) - n_lines
    line_inv = np.repeat(np.arange(len(n_lines)), n_lines)
    line_no = np.arange(len(line_inv)) - start[line_inv]
    lk = inv["kind"][line_inv]
    lines = {"inv": line_inv, "code": np.zeros(len(lk), np.int64), "qty": np.ones(len(lk), np.int64),
             "price": np.zeros(len(lk)), "key": line_no.astype(float)}
    _purchase_lines(rng, lines, lk, inv, cat)
    big = np.flatnonzero(lk == BIG_BUY)
    lines["code"][big] = n_cat - len(OUTLIERS) + np.arange(len(big)) % len(OUTLIERS)
    lines["qty"][big] = np.array([o[3] for o in OUTLIERS])[np.arange(len(big)) % len(OUTLIERS)]
    lines["price"][big] = cat["price"][lines["code"][big]]
    lines["desc"] = lines["code"].copy()
    buy, abroad = np.isin(lk, (REG, GUEST)), inv["country"][line_inv] != 0
    _specials(rng, lines, {"foreign": (lk == REG) & (line_no == 0) & abroad,
                           "guest": (lk == GUEST) & (line_no == 0), "any": buy}, n_cat, scale)
    _cancelled_lines(rng, lines, lk, inv, start, line_no)
    _specials(rng, lines, {"cancel": lk == CANCEL}, n_cat, scale)
    _write_offs(rng, lines, lk, inv, n_cat, scale)
    # Exact duplicates: customers' lines entered twice, anywhere in their invoice.
    period = inv["group"][line_inv]
    copies = np.concatenate([rng.choice(_duplicable(lk, period == g, dups[g]), dups[g], replace=False)
                             for g in range(3)])
    out = {col: np.concatenate([values, values[copies]]) for col, values in lines.items()}
    out["key"][len(lk):] = rng.random(len(copies)) * n_lines[line_inv[copies]]
    return out


def _duplicable(lk: np.ndarray, in_period: np.ndarray, n: int) -> np.ndarray:
    """The lines a period's repeats are drawn from: its customers' lines (any purchase line if too few)."""
    pool = np.flatnonzero((lk == REG) & in_period)
    return pool if len(pool) >= n else np.flatnonzero(np.isin(lk, (REG, GUEST)) & in_period)


def _write_offs(rng: np.random.Generator, lines: Table, lk: np.ndarray, inv: Table, n_cat: int,
                scale: float) -> None:
    """Stock write-offs (zero price, no customer, a note or mostly no description) and bad debts,
    in place."""
    off, notes = np.flatnonzero(lk == WRITE_OFF), n_cat + len(SPECIALS)
    lines["code"][off] = rng.integers(0, n_cat - len(OUTLIERS), len(off))
    size = np.maximum(1, np.round(rng.lognormal(np.log(WRITE_OFF_MEDIAN), WRITE_OFF_SPREAD, len(off))))
    lines["qty"][off] = np.where(rng.random(len(off)) < WRITE_OFF_NEGATIVE, -size, size).astype(np.int64)
    lines["desc"][off] = notes + rng.integers(0, len(NOTES), len(off))
    period = inv["group"][lines["inv"][off]]
    blank = [rng.choice(off[period == g], min((period == g).sum(), round(full * scale)), replace=False)
             for g, full in enumerate(NO_DESCRIPTION_ROWS)]
    blank = np.concatenate(blank) if sum(map(len, blank)) or not len(off) else rng.choice(off, 1)
    lines["desc"][blank] = -1
    bad = np.flatnonzero(lk == BAD_DEBT)
    lines["code"][bad], lines["desc"][bad] = notes, notes + len(NOTES)  # "B", "Adjust bad debt"
    lines["price"][bad] = -np.round(rng.lognormal(np.log(11062.06), 0.5, len(bad)), 2)
