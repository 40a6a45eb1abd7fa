"""Synthetic LGS exports that look like the real UCI "Online Retail II" workbook.

* **Calendar.** Trading days from 2009-12-01 to 2011-12-09, closed on Saturdays and from 24
  December to 3 January. A day weighs as the real export's rows in its month (strong Q4, peak in
  November), a weekday profile and the early-December rush. "Warped time" ``u`` in [0, 1) is the
  cumulative weight: anything uniform in ``u`` is seasonal on the calendar. A bell-shaped
  time-of-day profile (07:45 to 20:30) picks the minute.
* **Customers** buy till they die (Pareto/NBD in warped time): a gamma distributed purchase rate
  and an exponential lifetime with a gamma distributed drop-out rate. Some were customers before
  the export starts; the rest are acquired uniformly in ``u`` with their first purchase.
* **Invoices**: customers' purchases; guest (dotcom) checkouts without a Customer ID;
  cancellations ("C") copying lines of the customer's earlier invoice with quantities negated;
  zero-price stock write-offs (mostly without description); a few bad-debt "A" rows; huge
  single-line orders cancelled minutes later.
* **Lines.** An exact row budget per period (before / in / after the sheets' overlap) is shared
  out over purchase invoices by weight, so the total and the sheets' sizes are exact. Products
  come from a fixed catalogue by Zipf popularity (distinct within an invoice), quantities in
  packs, prices at retail price points. Non-product codes (POST, DOT, M, ...) replace a few lines;
  ~1.2% of lines are entered twice. The invoices of 1-9 December 2010 are in both sheets, so the
  stacked export's exact duplicates (~3.2%) are those repeats plus the overlap, as in the real one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lgs_analytics.config import EXPORT_COLUMNS, REAL_ROW_COUNT, SHEET_NAMES

MIN_ROWS = 100
# Real rows per month, Dec 2009 .. Dec 2011 (Dec 2010 as in the second sheet): the seasonality.
MONTH_ROWS = np.array([45228, 31555, 29388, 41511, 34057, 35323, 39983, 33383, 33306, 42091, 59098, 78015,
                       42481, 35147, 27707, 36748, 29916, 37030, 36874, 39518, 35284, 50226, 60742, 84711,
                       25526], dtype=float)
WEEKDAY = np.array([1.0, 1.1, 1.05, 1.2, 0.85, 0.0, 0.65])  # Mon..Sun: Saturday closed, Sunday quiet
FIRST_DAY, LAST_DAY = np.datetime64("2009-12-01"), np.datetime64("2011-12-09")
OVERLAP = (np.datetime64("2010-12-01T00:00"), np.datetime64("2010-12-10T00:00"))
SHEET1_SHARE, OVERLAP_SHARE = 525_461 / REAL_ROW_COUNT, 22_523 / REAL_ROW_COUNT  # of all rows
# Counts of the real export at full size (scaled with rows); the overlap repeats ~2% of them.
CUSTOMERS, GUEST_INVOICES, CANCEL_INVOICES = 5_942, 3_300, 8_292
WRITE_OFF_INVOICES, WRITE_OFF_ROWS, NO_DESCRIPTION_ROWS, BAD_DEBTS = 5_250, 6_100, 4_290, 3
DUPLICATE_SHARE = 0.0117  # of purchase lines, entered twice (the overlap adds ~2.1% of rows)
GUEST_LINE_SHARE = 0.237  # of purchase lines: with write-offs, ~22.8% of rows have no customer
DOTCOM_MARKUP, FIRST_INVOICE = 1.65, 489_434  # guests pay shop, not wholesale, prices
# Pareto/NBD in warped time (1.0 = the two years): rates per unit of u.
EXISTING_SHARE, RATE_SHAPE, RATE_MEAN, DROP_SHAPE, DROP_MEAN = 0.5, 0.7, 9.6, 1.0, 1.3

COLOURS = ("RED PINK BLUE GREEN WHITE IVORY CREAM BLACK SILVER GOLD PURPLE YELLOW ORANGE TURQUOISE "
           "LILAC MINT VINTAGE ANTIQUE FLORAL STRIPED GINGHAM ZINC WOODEN GLASS ENAMEL CERAMIC").split()
MOTIFS = ("HEART,STAR,BIRD,OWL,CHERRY,ROSE,DAISY,BUTTERFLY,REINDEER,SNOWFLAKE,CHRISTMAS TREE,ANGEL,"
          "UNION JACK,LONDON,PARIS,SPACEBOY,DOLLY GIRL,WOODLAND,CIRCUS PARADE,SKULL,DINOSAUR,TEATIME,"
          "CUPCAKE,FAIRY,BABUSHKA,LOVEBIRD,DOVE,BICYCLE,SCANDINAVIAN,GARDEN,SEASIDE,ALPHABET,"
          "HOME SWEET HOME,TOADSTOOL,BUNNY,CAT,DOG,RETROSPOT,REGENCY,SPOTTY").split(",")
ITEMS = {name: float(price) for name, price in (item.split(":") for item in (
    "T-LIGHT HOLDER:1.65,LANTERN:4.95,CANDLE POT:1.25,MUG:1.25,TEACUP AND SAUCER:2.95,CAKE STAND:9.95,"
    "CAKE CASES:0.55,LUNCH BOX:1.95,LUNCH BAG:1.65,JUMBO BAG:1.95,SHOPPER BAG:2.10,TEA TOWEL:1.25,APRON:4.95,"
    "OVEN GLOVE:2.95,CUSHION COVER:3.75,DOORMAT:7.95,WALL CLOCK:8.50,ALARM CLOCK:3.75,PHOTO FRAME:2.95,"
    "MIRROR:4.95,TRINKET BOX:1.25,STORAGE TIN:2.95,BISCUIT TIN:4.95,JAM JAR:0.85,BOWL:1.25,PLATE:1.69,"
    "BEAKER:0.42,NAPKINS:0.85,PAPER CUPS:0.65,BUNTING:2.95,GARLAND:3.75,WREATH:6.75,DECORATION:0.85,"
    "ORNAMENT:1.69,BAUBLE:0.29,FAIRY LIGHTS:6.95,STRING LIGHTS:4.25,HOT WATER BOTTLE:4.25,HAND WARMER:1.85,"
    "NOTEBOOK:1.65,PENCILS:0.21,STICKER SHEET:0.85,GIFT TAPE:0.65,WRAP:0.42,GIFT BAG:0.55,CHARLOTTE BAG:0.85,"
    "PURSE:2.10,KEY RING:0.85,HAIR CLIP:0.65,BRACELET:4.25,NECKLACE:8.50,COAT RACK:4.95,HOOK:1.25,SIGN:2.10,"
    "PLANTER:3.75,WATERING CAN:2.95,BIRD HOUSE:7.95,DOLL:3.75,JIGSAW:1.95,PLAYING CARDS:1.25,MEMO BOARD:5.95,"
    "CABINET:29.95,TABLE LAMP:14.95,PICNIC HAMPER:19.95").split(","))}
SIZES = {"": 1.0, "SMALL ": 0.75, "LARGE ": 1.4, "SET OF 3 ": 2.2, "SET/6 ": 1.8, "PACK OF 12 ": 1.5}
PRICE_POINTS = np.array([0.19, 0.21, 0.29, 0.39, 0.42, 0.55, 0.65, 0.72, 0.79, 0.85, 0.95, 1.25, 1.45, 1.65,
                         1.69, 1.95, 2.10, 2.46, 2.55, 2.95, 3.25, 3.39, 3.75, 4.25, 4.95, 5.45, 5.95, 6.75,
                         7.95, 8.50, 9.95, 10.95, 12.75, 14.95, 16.95, 19.95, 24.95, 29.95, 39.95, 49.95,
                         59.95, 75.0, 125.0, 165.0])
PACKS = np.array([1, 2, 3, 4, 6, 8, 10, 12, 24, 48])
# The real file's two record orders, bought and cancelled the same day: code, name, price, units.
OUTLIERS = (("23843", "PAPER CRAFT , LITTLE BIRDIE", 2.08, 80_995),
            ("23166", "MEDIUM CERAMIC TOP STORAGE JAR", 1.04, 74_215))
# Customers per country in the real data; the United Kingdom has the rest (~91%).
COUNTRIES = {c: int(n) for c, n in (e.split(":") for e in (
    "Germany:107,France:95,Spain:41,Belgium:29,Portugal:24,Netherlands:23,Switzerland:22,Sweden:19,Italy:17,"
    "Australia:15,Finland:15,Austria:13,Channel Islands:13,Norway:12,Denmark:12,Cyprus:11,Japan:10,"
    "Unspecified:10,Greece:6,USA:6,Poland:6,EIRE:5,Israel:5,Canada:4,Malta:3,Lithuania:3,"
    "United Arab Emirates:3,Bahrain:2,Korea:2,Hong Kong:2,Iceland:1,Singapore:1,RSA:1,Brazil:1,Thailand:1,"
    "European Community:1,Lebanon:1,West Indies:1,Bermuda:1,Nigeria:1,Czech Republic:1,Saudi Arabia:1"
).split(","))}
COUNTRY_NAMES = np.array(["United Kingdom", *COUNTRIES], dtype=object)
FOREIGN_CUSTOMER_SHARE, FOREIGN_SKEW = 532 / 5_942, 0.9
# Non-product lines: code, description, rows at full size, pool of lines replaced, quantity,
# median price and its log-normal spread.
SPECIALS = (
    ("POST", "POSTAGE", 2100, "foreign", 1, 18.0, 0.5), ("C2", "CARRIAGE", 280, "foreign", 1, 50.0, 0),
    ("DOT", "DOTCOM POSTAGE", 1450, "guest", 1, 80.0, 1.0), ("M", "Manual", 1420, "any", 1, 2.5, 1.6),
    ("BANK CHARGES", "Bank Charges", 100, "any", 1, 15.0, 0),
    ("PADS", "PADS TO MATCH ALL CUSHIONS", 18, "any", 1, 0.001, 0),
    ("ADJUST", "Adjustment by john on 26/01/2010 16", 32, "any", 1, 40.0, 1.0),
    ("TEST001", "This is a test product.", 11, "guest", 5, 4.5, 0),
    ("D", "Discount", 180, "cancel", -1, 20.0, 1.0), ("S", "SAMPLES", 100, "cancel", -1, 15.0, 1.0),
    ("CRUK", "CRUK Commission", 16, "cancel", -1, 200.0, 0.8),
    ("AMAZONFEE", "AMAZON FEE", 43, "cancel", -1, 6000.0, 0.6))
NOTES = ("damaged,?,check,found,sold as set on dotcom,thrown away,wet damaged,mixed up,lost,missing,"
         "Unsaleable, destroyed.,dotcom,amazon,given away,smashed,incorrect stock entry.,faulty").split(",")
REG, GUEST, CANCEL, WRITE_OFF, BAD_DEBT, BIG_BUY, BIG_CANCEL = range(7)  # invoice kinds

Table = dict[str, np.ndarray]


def _nearest(points: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The nearest of ``points`` to each value, on a log scale (price points, pack sizes)."""
    return points[np.abs(np.log(points)[None, :] - np.log(values)[:, None]).argmin(axis=1)]


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
    price = _nearest(PRICE_POINTS, base * rng.lognormal(0.0, 0.25, len(fam)))
    pack = _nearest(PACKS, np.clip(7 / price**0.8 * rng.lognormal(0.0, 0.4, len(fam)), 1, 48))
    popularity = 1.0 / (rng.permutation(len(fam)) + 30.0) ** 0.9  # Zipf: the top product ~0.5% of lines
    return {"code": np.array(code + [o[0] for o in OUTLIERS], dtype=object),
            "desc": np.array(desc + [o[1] for o in OUTLIERS], dtype=object),
            "price": np.append(price, [o[2] for o in OUTLIERS]), "pack": np.append(pack, [1, 1]),
            "cdf": np.cumsum(popularity) / popularity.sum()}  # the outliers' products are never drawn


def _calendar() -> Table:
    """Trading days with their cumulative weight (warped time) and the minute-of-day profile."""
    days = np.arange(FIRST_DAY, LAST_DAY + 1)
    month = (days.astype("datetime64[M]") - FIRST_DAY.astype("datetime64[M]")).astype(int)
    dom = (days - days.astype("datetime64[M]")).astype(int) + 1
    december = month % 12 == 0
    closed = (december & (dom >= 24)) | ((month % 12 == 1) & (dom <= 3))
    weight = WEEKDAY[(days.astype(int) + 3) % 7] * (1 + 0.7 * (december & (dom <= 9))) * ~closed
    weight *= MONTH_ROWS[month] / np.bincount(month, weight)[month]
    minutes = np.arange(7 * 60 + 45, 20 * 60 + 31)
    cdf = np.cumsum(np.exp(-0.5 * ((minutes - 750) / 130.0) ** 2))
    cap = np.ones(len(days))
    cap[-1] = cdf[minutes.searchsorted(12 * 60 + 50)] / cdf[-1]  # the export ends 2011-12-09 12:50
    return {"days": days, "cum": np.concatenate([[0.0], np.cumsum(weight)]) / weight.sum(),
            "minutes": minutes, "cdf": cdf / cdf[-1], "cap": cap}


def _to_time(u: np.ndarray, cal: Table) -> np.ndarray:
    """Warped time to a timestamp at minute resolution (monotonic; never on a closed day)."""
    u = np.clip(u, 1e-12, 1 - 1e-12)
    day = np.clip(cal["cum"].searchsorted(u, "right") - 1, 0, len(cal["days"]) - 1)
    frac = (u - cal["cum"][day]) / (cal["cum"][day + 1] - cal["cum"][day])
    minute = cal["minutes"][np.minimum(cal["cdf"].searchsorted(frac * cal["cap"][day]), len(cal["cdf"]) - 1)]
    return cal["days"][day].astype("datetime64[m]") + minute.astype("timedelta64[m]")


def _customers(rng: np.random.Generator, n: int) -> tuple[Table, Table]:
    """``n`` customers (ID, country, basket size) and their purchases (customer, warped time)."""
    m = 3 * n + 50
    existing = rng.random(m) < EXISTING_SHARE
    birth = np.where(existing, 0.0, rng.random(m))
    rate = rng.gamma(RATE_SHAPE, RATE_MEAN / RATE_SHAPE, m)
    end = np.minimum(birth + rng.exponential(1.0, m) / rng.gamma(DROP_SHAPE, DROP_MEAN / DROP_SHAPE, m), 1.0)
    repeats = rng.poisson(rate * (end - birth))
    # New customers are seen at their first purchase; existing ones only if they buy again.
    seen = np.flatnonzero(repeats + ~existing > 0)[:n]
    birth, end, repeats, new = birth[seen], end[seen], repeats[seen], ~existing[seen]
    again = np.repeat(np.arange(len(seen)), repeats)
    who = np.concatenate([np.flatnonzero(new), again])
    u = np.concatenate([birth[new], birth[again] + rng.random(len(again)) * (end - birth)[again]])
    basket = rng.lognormal(0.0, 0.6, len(seen))
    # Every country gets one customer before the rest are shared out by weight.
    weights = np.array(list(COUNTRIES.values()), dtype=float)
    n_foreign = round(len(seen) * FOREIGN_CUSTOMER_SHARE)
    rest = max(n_foreign - len(weights), 0) * weights / weights.sum()
    quota = (np.arange(len(weights)) < n_foreign) + np.floor(rest).astype(int)
    quota[np.argsort(np.floor(rest) - rest)[: n_foreign - quota.sum()]] += 1
    # Foreign customers: a systematic sample along activity, leaning to the busy (as in the real
    # data, 9% of the customers with 8% of the rows), so their share of rows hardly varies.
    quantile = ((np.arange(quota.sum()) + rng.random()) / max(quota.sum(), 1)) ** FOREIGN_SKEW
    country = np.zeros(len(seen), int)
    country[np.argsort((repeats + new) * basket)[(quantile * len(seen)).astype(int)]] = \
        rng.permutation(np.repeat(np.arange(1, len(COUNTRY_NAMES)), quota))
    pool = np.arange(12346, 12346 + max(CUSTOMERS, len(seen)))  # 12346-18287 up to the real size
    ids = np.sort(rng.choice(pool, len(seen), replace=False)).astype(float)
    ids = ids[np.argsort(np.argsort(country == 0, kind="stable"))]  # as in the real file: 12xxx abroad
    return {"id": ids, "country": country, "basket": basket}, {"cust": who, "u": u}


def _invoices(rng: np.random.Generator, rows: int, cal: Table) -> Table:
    """Every invoice: kind, customer, country, warped time, source (cancellations), fixed lines."""
    scale = rows / REAL_ROW_COUNT
    cust, buys = _customers(rng, max(5, round(CUSTOMERS * scale)))
    n_guest = max(2, round(GUEST_INVOICES * scale))
    cap = rows // 4 - n_guest  # binds only for tiny exports: keeps a few lines per invoice
    if len(buys["u"]) > cap:
        buys = {k: v[np.sort(rng.choice(len(v), cap, replace=False))] for k, v in buys.items()}
    n_reg = len(buys["u"])
    edges = cal["cum"][cal["days"].searchsorted(np.array(OVERLAP).astype("datetime64[D]"))]
    guest_u = rng.random(n_guest)
    guest_u[:2] = [guest_u[0] * edges[0], edges[1] + guest_u[1] * (1 - edges[1])]  # one in each sheet
    n_cancel = min(max(1, round(CANCEL_INVOICES * scale)), n_reg // 2)
    src = rng.choice(n_reg, n_cancel, replace=False)
    # Mostly a line or two, sometimes the whole order; often the same day, else within days.
    cancel_k = np.minimum(np.where(rng.random(n_cancel) < 0.05, 4 + rng.geometric(1 / 14, n_cancel),
                                   rng.geometric(1 / 1.5, n_cancel)), max(1, rows // 50))
    delay = np.where(rng.random(n_cancel) < 0.35, rng.exponential(2e-5, n_cancel),
                     rng.exponential(0.005, n_cancel))
    n_off = max(1, round(WRITE_OFF_INVOICES * scale))
    off_k = 1 + np.bincount(rng.integers(0, n_off, max(n_off, round(WRITE_OFF_ROWS * scale)) - n_off),
                            minlength=n_off)
    n_bad, n_big = max(1, round(BAD_DEBTS * scale)), 2 if scale >= 0.5 else 1
    big_u = rng.uniform(0.05, 0.95, n_big)
    parts = [  # kind, customer (-1: none), u, source invoice, fixed line count (0: shared out later)
        (REG, buys["cust"], buys["u"], -1, 0), (GUEST, -1, guest_u, -1, 0),
        (CANCEL, buys["cust"][src], buys["u"][src] + delay, src, cancel_k),
        (WRITE_OFF, -1, rng.random(n_off), -1, off_k), (BAD_DEBT, -1, rng.random(n_bad), -1, 1),
        (BIG_BUY, rng.integers(0, len(cust["id"]), n_big), big_u, -1, 1)]
    n_before = sum(len(p[2]) for p in parts)
    parts.append((BIG_CANCEL, parts[-1][1], big_u, np.arange(n_before - n_big, n_before), 1))
    inv = {name: np.concatenate([np.broadcast_to(p[i], len(p[2])) for p in parts])
           for i, name in enumerate(("kind", "cust", "u", "src", "k"))}
    kind, who = inv["kind"].astype(int), inv["cust"].astype(int)
    inv.update(kind=kind, src=inv["src"].astype(int), id=np.where(who < 0, np.nan, cust["id"][who]),
               country=np.where(who < 0, 0, cust["country"][who]))
    abroad = (kind == GUEST) & (rng.random(len(kind)) < 0.03)  # a few foreign dotcom orders
    inv["country"][abroad] = rng.integers(1, len(COUNTRY_NAMES), abroad.sum())
    # Line weights: wholesalers fill big baskets; guest orders take a fixed share of the lines.
    weight = np.where(kind == GUEST, rng.lognormal(0.0, 0.9, len(kind)), 0.0)
    weight[kind == REG] = cust["basket"][buys["cust"]] * rng.lognormal(0.0, 0.75, n_reg)
    weight[kind == GUEST] *= GUEST_LINE_SHARE / weight[kind == GUEST].sum()
    weight[kind == REG] *= (1 - GUEST_LINE_SHARE) / weight[kind == REG].sum()
    inv["weight"] = weight
    return _stamp(rng, inv, cal)


def _stamp(rng: np.random.Generator, inv: Table, cal: Table) -> Table:
    """Time, period (0 before / 1 in / 2 after the overlap), rank in time and number of each invoice."""
    kind, time = inv["kind"], _to_time(inv["u"], cal)
    big = kind == BIG_CANCEL
    time[big] += rng.integers(1, 15, big.sum()).astype("timedelta64[m]")  # cancelled minutes later
    inv["time"], inv["group"] = time, (time >= OVERLAP[0]).astype(int) + (time >= OVERLAP[1])
    # Numbers follow time, with gaps (other systems share the sequence); six digits up to ~10M rows.
    inv["rank"] = np.argsort(np.lexsort((rng.random(len(time)), time)))
    step = min(1.0, max(1 / 1.72, 1.1 * len(time) / (999_999 - FIRST_INVOICE)))
    number = FIRST_INVOICE + np.cumsum(rng.geometric(step, len(time))) - 1
    prefix = np.select([np.isin(kind, (CANCEL, BIG_CANCEL)), kind == BAD_DEBT], ["C", "A"], "")
    inv["label"] = np.char.add(prefix, number[inv["rank"]].astype(str)).astype(object)
    return inv


def _budget(rng: np.random.Generator, inv: Table, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Lines per invoice and repeated lines per period, so that the export has exactly ``rows`` rows.

    The overlap gets its real share of rows (they count twice: they are in both sheets), the rest
    is split to give the first sheet its real share. A purchase gets at least the lines its
    cancellation copies.
    """
    kind, g, w = inv["kind"], inv["group"], inv["weight"]
    buy, cancel = np.isin(kind, (REG, GUEST)), kind == CANCEL
    low = buy.astype(np.int64)
    low[inv["src"][cancel]] = np.maximum(1, inv["k"][cancel])
    fixed = np.bincount(g[~buy], inv["k"][~buy], 3).astype(np.int64)
    low_g = np.bincount(g[buy], low[buy], 3).astype(np.int64)
    has = np.bincount(g[buy], minlength=3) > 0
    x = np.zeros(3, np.int64)  # purchase lines per period
    x[1] = max(low_g[1], round(rows * OVERLAP_SHARE) - fixed[1]) if has[1] else 0
    if rows - fixed @ [1, 2, 1] - 2 * x[1] < low_g[0] + low_g[2]:
        x[1] = low_g[1]
    rest = rows - fixed @ [1, 2, 1] - 2 * x[1]
    target = round(rows * SHEET1_SHARE) - fixed[0] - fixed[1] - x[1]
    x[0] = min(max(target, low_g[0]), rest - low_g[2]) if has[0] and has[2] else rest * has[0]
    x[2] = rest - x[0]
    if (x < low_g).any() or (x[~has] != 0).any():
        raise RuntimeError(f"cannot lay out {rows} rows over the invoices drawn; try another seed")
    dups = np.minimum((x * DUPLICATE_SHARE).astype(np.int64), x - low_g)
    n_lines = np.where(buy, low, inv["k"])
    for group in np.flatnonzero(has):
        idx = np.flatnonzero(buy & (g == group))
        n_lines[idx] += rng.multinomial(x[group] - dups[group] - low_g[group], w[idx] / w[idx].sum())
    return n_lines, dups


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


def _specials(rng: np.random.Generator, lines: Table, pools: dict[str, np.ndarray], first: int,
              scale: float) -> None:
    """Turn a few lines of each pool into non-product lines (POST, DOT, M, D, ...), in place."""
    free = np.ones(len(lines["qty"]), bool)
    for j, (_, _, full, pool, qty, median, spread) in enumerate(SPECIALS):
        cand = np.flatnonzero(pools[pool] & free) if pool in pools else np.empty(0, int)
        pick = rng.choice(cand, min(len(cand), max(1, round(full * scale))), replace=False)
        free[pick] = False
        lines["code"][pick] = lines["desc"][pick] = first + j
        lines["qty"][pick] = qty
        price = median * rng.lognormal(0.0, spread, len(pick))
        lines["price"][pick] = np.round(price, 2 if median >= 0.01 else 3)  # PADS cost 0.001


def _lines(rng: np.random.Generator, inv: Table, n_lines: np.ndarray, dups: np.ndarray, cat: Table,
           scale: float) -> Table:
    """Every line: invoice, code and description index, quantity, price, order inside the invoice."""
    n_cat, start = len(cat["code"]), np.cumsum(n_lines) - n_lines
    line_inv = np.repeat(np.arange(len(n_lines)), n_lines)
    line_no = np.arange(len(line_inv)) - start[line_inv]
    lk = inv["kind"][line_inv]
    lines = {"inv": line_inv, "code": np.zeros(len(lk), np.int64), "qty": np.ones(len(lk), np.int64),
             "price": np.zeros(len(lk)), "key": line_no.astype(float)}
    buy, guest = np.isin(lk, (REG, GUEST)), lk == GUEST
    prod, n = _distinct_products(rng, line_inv[buy], cat["cdf"]), buy.sum()
    mult = rng.choice(  # packs bought
        [1, 2, 3, 4, 5, 6, 8, 10, 12, 20], n, p=[.62, .18, .06, .05, .02, .02, .02, .01, .01, .01])
    qty = np.where(rng.random(n) < 0.12, rng.integers(1, 13, n), cat["pack"][prod] * mult)
    qty = np.where(guest[buy], rng.geometric(0.55, n), qty)  # dotcom shoppers buy singles
    price = cat["price"][prod]
    bulk = (qty >= 4 * cat["pack"][prod]) & (price >= 0.5)  # a wholesale break on big quantities
    price[bulk] = _nearest(PRICE_POINTS, price[bulk] * 0.85)
    lines["code"][buy], lines["qty"][buy] = prod, qty
    lines["price"][buy] = np.where(guest[buy], np.round(price * DOTCOM_MARKUP, 2), price)
    big = np.flatnonzero(lk == BIG_BUY)
    lines["code"][big] = n_cat - len(OUTLIERS) + np.arange(len(big)) % len(OUTLIERS)
    lines["qty"][big] = np.array([o[3] for o in OUTLIERS])[np.arange(len(big)) % len(OUTLIERS)]
    lines["price"][big] = cat["price"][lines["code"][big]]
    lines["desc"] = lines["code"].copy()
    abroad = inv["country"][line_inv] != 0
    _specials(rng, lines, {"foreign": (lk == REG) & (line_no == 0) & abroad, "guest": guest & (line_no == 0),
                           "any": buy}, n_cat, scale)
    # Cancellations copy lines of the customer's earlier invoice, quantities negated (some partly).
    back = np.flatnonzero(np.isin(lk, (CANCEL, BIG_CANCEL)))
    source = start[inv["src"][line_inv[back]]] + line_no[back]
    for col in ("code", "desc", "price"):
        lines[col][back] = lines[col][source]
    part = (lk[back] == CANCEL) & (rng.random(len(back)) < 0.15)
    lines["qty"][back] = -np.where(part, np.ceil(lines["qty"][source] * rng.uniform(0.1, 0.9, len(back))),
                                   lines["qty"][source]).astype(np.int64)
    _specials(rng, lines, {"cancel": lk == CANCEL}, n_cat, scale)
    # Stock write-offs: zero price, no customer, a note or (mostly) no description at all.
    off, notes = np.flatnonzero(lk == WRITE_OFF), n_cat + len(SPECIALS)
    lines["code"][off] = rng.integers(0, n_cat - len(OUTLIERS), len(off))
    size = np.maximum(1, np.round(rng.lognormal(2.8, 1.3, len(off)))).astype(np.int64)
    lines["qty"][off] = np.where(rng.random(len(off)) < 0.8, -size, size)
    lines["desc"][off] = notes + rng.integers(0, len(NOTES), len(off))
    blank = min(len(off), max(1, round(NO_DESCRIPTION_ROWS * scale)))
    lines["desc"][rng.choice(off, blank, replace=False)] = -1
    bad = np.flatnonzero(lk == BAD_DEBT)
    lines["code"][bad], lines["desc"][bad] = notes, notes + len(NOTES)  # "B", "Adjust bad debt"
    lines["price"][bad] = -np.round(rng.lognormal(np.log(11062.06), 0.5, len(bad)), 2)
    # Exact duplicates: purchase lines entered twice, anywhere in their invoice.
    period = inv["group"][line_inv]
    copies = np.concatenate([rng.choice(np.flatnonzero(buy & (period == g)), dups[g], replace=False)
                             for g in range(3)])
    out = {col: np.concatenate([values, values[copies]]) for col, values in lines.items()}
    out["key"][len(lk):] = rng.random(len(copies)) * n_lines[line_inv[copies]]
    return out


def _sheets(inv: Table, lines: Table, cat: Table) -> dict[str, pd.DataFrame]:
    """The two sheets, rows sorted by time then invoice; the overlap invoices are in both."""
    codes = np.concatenate([cat["code"], [s[0] for s in SPECIALS], ["B"]])
    descs = np.concatenate([cat["desc"], [s[1] for s in SPECIALS], NOTES, ["Adjust bad debt", None]])
    order = np.lexsort((lines["key"], inv["rank"][lines["inv"]]))
    period = inv["group"][lines["inv"][order]]
    sheets = {}
    for name, idx in zip(SHEET_NAMES, (order[period <= 1], order[period >= 1]), strict=True):
        li = lines["inv"][idx]
        sheets[name] = pd.DataFrame({
            "Invoice": pd.array(inv["label"][li], dtype="str"),
            "StockCode": pd.array(codes[lines["code"][idx]], dtype="str"),
            "Description": pd.array(descs[lines["desc"][idx]], dtype="str"),
            "Quantity": lines["qty"][idx], "InvoiceDate": inv["time"][li].astype("datetime64[ns]"),
            "Price": lines["price"][idx], "Customer ID": inv["id"][li],
            "Country": pd.array(COUNTRY_NAMES[inv["country"][li]], dtype="str")})
    return sheets


def generate_export(rows: int = REAL_ROW_COUNT, seed: int = 0) -> dict[str, pd.DataFrame]:
    """A synthetic two-sheet LGS export of exactly ``rows`` rows, the same for the same ``seed``."""
    if rows < MIN_ROWS:
        raise ValueError(f"rows must be at least {MIN_ROWS} (got {rows}): too few for a realistic export")
    rng = np.random.default_rng(seed)
    cat, inv = _catalogue(), _invoices(rng, rows, _calendar())
    n_lines, dups = _budget(rng, inv, rows)
    return _sheets(inv, _lines(rng, inv, n_lines, dups, cat, rows / REAL_ROW_COUNT), cat)


# Every generated file is marked, so that a report built on it says SYNTHETIC DATA: its name
# holds this word (a CSV has no room for a marker that would not change its layout), and a
# workbook also carries it as a custom document property, which survives a rename.
SYNTHETIC_MARK = "synthetic"
WORKBOOK_PROPERTY = "lgs-generator"


def is_synthetic_export(path: Path) -> bool:
    """Whether ``path`` was written by :func:`write_export` (its name, or a workbook's property)."""
    if SYNTHETIC_MARK in Path(path).name.lower():
        return True
    if Path(path).suffix.lower() != ".xlsx":
        return False
    import zipfile

    try:
        with zipfile.ZipFile(path) as book:
            custom = book.read("docProps/custom.xml") if "docProps/custom.xml" in book.namelist() else b""
    except (OSError, zipfile.BadZipFile, KeyError):
        return False
    return WORKBOOK_PROPERTY.encode() in custom


def write_export(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    """Write an export as the web shop does: ``.csv`` (sheets stacked) or ``.xlsx`` (two sheets).

    The name must say "synthetic" (e.g. ``lgs_synthetic_export.csv``): see :data:`SYNTHETIC_MARK`.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValueError(f"unsupported output format '{path.suffix}': use .csv or .xlsx")
    if SYNTHETIC_MARK not in path.name.lower():
        example = path.with_name(f"{path.stem}_{SYNTHETIC_MARK}{path.suffix}")
        raise ValueError(f"a generated export's name must contain '{SYNTHETIC_MARK}' so every report on it "
                         f"is marked as such: use e.g. {example}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".xlsx":
        _write_xlsx(sheets, path)
        return
    # Like the real CSV: one header, Customer ID as 13085.0 (or empty), seconds in the dates.
    with path.open("w", encoding="utf-8", newline="") as fh:
        for n, frame in enumerate(sheets.values()):
            frame.to_csv(fh, header=n == 0, index=False, date_format="%Y-%m-%d %H:%M:%S")


def _write_xlsx(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    """A workbook like the real one: all-digit invoices and codes as numbers, dates as Excel dates."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})  # rows stream to disk
    book.set_custom_property(WORKBOOK_PROPERTY, "lgs generate (synthetic data)")
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for name, df in sheets.items():
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, EXPORT_COLUMNS)
        num, text = sheet.write_number, sheet.write_string
        serial = (df["InvoiceDate"].to_numpy() - np.datetime64("1899-12-30")) / np.timedelta64(1, "D")
        columns = (_number_or_text(df["Invoice"]), _number_or_text(df["StockCode"]),
                   df["Description"].to_numpy(dtype=object, na_value=None), df["Quantity"].tolist(),
                   serial.tolist(), df["Price"].tolist(), df["Customer ID"].tolist(), df["Country"].tolist())
        rows = enumerate(zip(*columns, strict=True), 1)
        for r, (invoice, code, desc, qty, date, price, cust, country) in rows:
            (text if invoice.__class__ is str else num)(r, 0, invoice)
            (text if code.__class__ is str else num)(r, 1, code)
            if desc is not None:
                text(r, 2, desc)
            num(r, 3, qty)
            num(r, 4, date, when)
            num(r, 5, price)
            if cust == cust:  # NaN (a guest checkout) stays an empty cell
                num(r, 6, cust)
            text(r, 7, country)
    book.close()


def _number_or_text(values: pd.Series) -> list:
    """All-digit codes as integers (numbers in Excel, as in the real file), the others as text."""
    digits = values.str.fullmatch(r"\d+").to_numpy(dtype=bool)
    out = values.to_numpy(dtype=object)
    out[digits] = values[digits].astype("int64").tolist()
    return out.tolist()


EXPORT_OVERLAP = pd.Timedelta(days=14)


def cut_exports(sheets: dict[str, pd.DataFrame], parts: int = 3,
                overlap: pd.Timedelta = EXPORT_OVERLAP) -> list[dict[str, pd.DataFrame]]:
    """Cut one export into ``parts`` consecutive exports, each starting ``overlap`` before the
    previous one ends, as LGS's weekly exports overlap. Every row lands in at least one export;
    rows keep their sheet and order, so an invoice is never split."""
    dates = pd.concat([frame["InvoiceDate"] for frame in sheets.values()])
    first, last = dates.min(), dates.max()
    bounds = [first + (last - first) * k / parts for k in range(parts + 1)]
    exports = []
    for k in range(parts):
        start = bounds[k] - overlap if k else first
        end = bounds[k + 1]
        cut = {}
        for name, frame in sheets.items():
            stamp = frame["InvoiceDate"]
            inside = (stamp >= start) & ((stamp < end) if k < parts - 1 else (stamp <= last))
            if inside.any():
                cut[name] = frame[inside]
        exports.append(cut)
    return exports
