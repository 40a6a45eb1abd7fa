"""Synthetic LGS exports that look like the real UCI "Online Retail II" workbook.

Calibrated against the real 2010-2011 file (``../shared/data/online_retail_2010_2011.csv.gz``, the
workbook's second sheet): each constant below says which real figure it comes from, and
``bench/fidelity.py`` compares a generated export with that file figure by figure. No complete real
first sheet is at hand, so its rates are the published whole-export figures (DESIGN.md, "The data
contract") less what the real 2010-2011 file holds.

* **Calendar.** Trading days from 2009-12-01 to 2011-12-09, closed on Saturdays and from 24
  December to 3 January. A day weighs as the real customer invoices in its month (strong Q4, peak
  in November), a weekday profile and the early-December rush. "Warped time" ``u`` in [0, 1) is
  the cumulative weight: anything uniform in ``u`` is seasonal on the calendar. Each kind of
  invoice takes its minute from its own real hour-of-day profile (customers order around noon;
  the dotcom's bulk orders come in the afternoon).
* **Customers** buy till they die (in warped time): Poisson purchases at a log-normal rate and an
  exponential lifetime with a gamma distributed drop-out rate. Some were customers before
  the export starts; the rest are acquired through the two years, fewer in December.
* **Invoices**: customers' purchases; guest (dotcom) orders without a Customer ID, a quarter of
  them one or two items and 30% bulk orders of 93+ lines; cancellations ("C") copying lines of
  an earlier invoice (mostly the dearer lines) with quantities negated, the same day or days to
  weeks later, so a sheet has some customers who only cancel; zero-price stock write-offs (mostly
  without description); the real file's three bad-debt "A" rows; its two huge single-line orders
  cancelled minutes later.
* **Lines.** An exact row budget per period (before / in / after the sheets' overlap) is shared
  out over purchase invoices by weight, so the total and the sheets' sizes are exact; a month's
  orders are as big as the real ones (bigger in Q4), so rows per month follow the real export.
  Products come from a fixed catalogue by Zipf popularity (distinct within an invoice) at the
  real file's price points in their real shares of the lines; quantities in packs (bigger abroad).
  Non-product codes (POST, DOT, M, ...) replace a few lines; ~1.3% of customers' lines are entered
  twice. The invoices of 1-9 December 2010 are in both sheets, so the stacked export's exact
  duplicates (~3.2%) are those repeats plus the overlap, as in the real one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lgs_analytics.config import EXPORT_COLUMNS, REAL_ROW_COUNT, SHEET_NAMES
from lgs_analytics.ingest.formats import SYNTHETIC_MARK, WORKBOOK_PROPERTY
from lgs_analytics.outputs import replacing

MIN_ROWS = 100
# Real rows per month, Dec 2009 .. Dec 2011 (Dec 2010 as in the second sheet): the rows' seasonality.
MONTH_ROWS = np.array([45228, 31555, 29388, 41511, 34057, 35323, 39983, 33383, 33306, 42091, 59098, 78015,
                       42481, 35147, 27707, 36748, 29916, 37030, 36874, 39518, 35284, 50226, 60742, 84711,
                       25526], dtype=float)
# Customer purchase invoices per month, the purchases' seasonality: from Dec 2010 on, the real
# 2010-2011 file's; before, the month's real rows times that file's invoices per row a year later.
MONTH_INVOICES = np.array([1491, 886, 1059, 1492, 1308, 1483, 1510, 1124, 1209, 1472, 1877, 2448,
                           1400, 987, 998, 1321, 1149, 1555, 1393, 1331, 1281, 1756, 1929, 2658, 778],
                          dtype=float)
# Customer invoices per trading day, Mon..Sun, in the real 2010-2011 file: Saturday closed, Sunday quiet.
WEEKDAY = np.array([1.0, 1.01, 1.07, 1.25, 0.93, 0.0, 0.71])
DECEMBER_RUSH = 0.7  # 1-9 December: 97 customer invoices a day in the real Dec 2010, 57 on later days
FIRST_DAY, LAST_DAY = np.datetime64("2009-12-01"), np.datetime64("2011-12-09")
END = np.datetime64("2011-12-09T12:50")  # the export's last minute
OVERLAP = (np.datetime64("2010-12-01T00:00"), np.datetime64("2010-12-10T00:00"))
SHEET1_SHARE, OVERLAP_SHARE = 525_461 / REAL_ROW_COUNT, 22_523 / REAL_ROW_COUNT  # of all rows
# Invoices per hour of day, 07 h .. 20 h, in the real 2010-2011 file, by kind (the few 06:xx ones at
# 07 h; the day starts at 07:45). Customers' bigger orders (9+, 23+, 50+ lines) come later in the day
# than small ones; the biggest 30% of guest orders (93+ lines) mostly come at 15-17 h.
HOURS = {
    "customer": (18, 201, 525, 752, 712, 892, 735, 679, 673, 369, 163, 62, 31, 2),
    "customer 9+": (7, 253, 577, 900, 758, 1100, 910, 783, 724, 377, 203, 61, 61, 1),
    "customer 23+": (4, 82, 247, 476, 585, 790, 659, 553, 432, 234, 125, 37, 36, 10),
    "customer 50+": (1, 19, 45, 98, 222, 347, 333, 260, 209, 120, 53, 9, 16, 5),
    "guest": (0, 11, 59, 110, 99, 69, 99, 159, 193, 124, 70, 5, 1, 0),
    "guest 93+": (0, 0, 19, 18, 13, 20, 10, 11, 80, 73, 34, 10, 1, 0),
    "guest 250+": (0, 0, 13, 7, 7, 1, 8, 13, 28, 38, 19, 8, 0, 0),
    "cancellation": (23, 54, 234, 397, 523, 498, 430, 400, 401, 400, 304, 89, 73, 10),
    "write-off": (0, 4, 105, 203, 246, 244, 185, 277, 331, 217, 234, 52, 0, 0),
}
CUSTOMER_LINES, GUEST_LINES_BULK = (9, 23, 50), (93, 250)  # the lines that take the next profile
REG, GUEST, CANCEL, WRITE_OFF, BAD_DEBT, BIG_BUY, BIG_CANCEL = range(7)  # invoice kinds
PROFILE = np.array([0, 4, 7, 8, 0, 0, 7])  # each kind's hour profile (row of HOURS); big orders the next
# Counts per period (before / in / after the overlap of 1-9 Dec 2010) at full size, scaled with the
# rows. "In" and "after" are the real 2010-2011 file's; "before" is the whole export's figure less those.
CUSTOMERS = 5_942
GUEST_INVOICES = (1_873, 58, 1_369)  # 1,427 in the 2010-2011 file, 3,300 in all
CANCEL_INVOICES = (4_456, 136, 3_700)  # 3,836 of the 8,292 distinct "C" invoices are in the 2010-2011 file
# Stock write-offs: 2,098 invoices of 2,108 rows in the 2010-2011 file, of 5,250 and 6,100 in all.
WRITE_OFF_INVOICES, WRITE_OFF_ROWS = (3_152, 118, 1_980), (3_992, 118, 1_990)
NO_DESCRIPTION_ROWS = (2_821, 107, 1_347)  # 4,382 rows in the stacked export, 1,454 in the 2010-2011 file
# Guest orders' share of the purchase lines: with write-offs and guest cancellations, 24.9% of the
# 2010-2011 file's rows (135,080) and 22.8% of the stacked export's (243,007) have no customer.
GUEST_LINE_SHARE = np.array([0.196, 0.343, 0.246])
# Customers' lines entered twice: 4,872 of 383,419 after the overlap, 320 of 14,505 in it (5,268 exact
# duplicate rows in the 2010-2011 file); the stacked export's 34,335 leave ~6,450 for the rest.
DUPLICATE_SHARE = np.array([0.0164, 0.0221, 0.0127])
GUEST_CANCEL_SHARE = 182 / 3_836  # "C" invoices without a customer in the 2010-2011 file
BAD_DEBTS, BAD_DEBT_TIME = 3, np.datetime64("2011-08-12T14:50")  # the real A563185-7, a minute apart
# Guests buy cheaper products (popularity times price ** -0.2: usual prices 1.65 at the median, 7.95
# at the 95th percentile, against 1.95 and 8.50 for customers) and pay the shop price, 1.97 times the
# usual one, for anything under 3.00 and for 65% of the dearer lines: their lines cost 3.29 at the
# median, 12.75 at the 95th percentile.
DOTCOM_MARKUP, GUEST_THRIFT, GUEST_SHOP_PRICE, FIRST_INVOICE = 1.97, 0.2, (3.0, 0.65), 489_434
GUEST_ABROAD = 55 / 1_427  # guest orders from abroad (EIRE, Hong Kong, ...) in the 2010-2011 file
# Lines of a guest order: the real 2010-2011 file's 5% quantiles (one item to 1,114 lines).
GUEST_LINES = np.array([1, 1, 1, 1, 2, 3, 5, 9, 15, 25, 36, 46, 55, 69, 93, 145, 174, 199, 249, 405, 1114.0])
# Buy till you die in warped time (1.0 = the two years; rates per unit of u): Poisson purchases at a
# log-normal rate (mean, sigma) while alive, an exponential lifetime at a gamma drop-out rate (shape,
# mean). The Pareto/NBD's gamma rates cannot give both the real one-time and heavy buyers; these were
# fitted by simulation to the real 2010-2011 file (its 4,334 buying customers, 18,402 purchase invoices,
# customers buying once / up to twice / three times 34.7%, 53.9%, 65.5%, recency quantiles, the ten
# standard RFM segment shares) and to ~19,000 customer invoices in the first sheet (53,628 invoices in
# all less the other kinds). Customers there at the start are a steady state: drop-out ~ Gamma(shape - 1).
EXISTING_SHARE, RATE_MEAN, RATE_SIGMA, DROP_SHAPE, DROP_MEAN = 0.69, 7.6, 1.09, 4.3, 0.71
# New customers arrive as orders do, but seldom in December: 39 first purchases in the real file's 8
# days of December 2011 (4.9 a day), 325 in November's 26 (12.5 a day) at as many orders a day.
DECEMBER_ACQUISITION = 0.4
# Foreign customers' orders: more lines (23.2 product lines against 21.0) and larger quantities
# (median 12 units a line against 4), so they buy 17% of the sales with 10% of the orders.
FOREIGN_BASKET = 1.15
# Cancellations in the real file: 56% of one line, 20% of two (mean 2.4); entered a median 9.4 days
# after the customer's last purchase of the product (quartiles 4 and 24 days; 10% within a day); the
# dearer and bigger lines more likely (a line weighs price ** 0.5 * units ** 0.7: cancelled lines
# cost 2.55 at the median and hold 13.2 units on average, lines bought 1.95 and 12.7); 41% of the
# cancelled lines are of one unit.
CANCEL_FEW, CANCEL_MANY_LINES = 0.89, 7.0  # 89% a geometric number of lines (mean 1.6), else 2 + mean 7
CANCEL_SAME_DAY, CANCEL_MEDIAN_DAYS, CANCEL_SPREAD = 0.02, 10.0, 1.4  # the delay: log-normal in days
CANCEL_PRICE_BIAS, CANCEL_UNITS_BIAS, CANCEL_ONE_UNIT = 0.5, 0.7, 0.4
# Stock write-offs: |quantity| median 20 (quartiles 5 and 66), 63% negative, in the real file.
WRITE_OFF_MEDIAN, WRITE_OFF_SPREAD, WRITE_OFF_NEGATIVE = 20.0, 1.7, 0.63

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
# A product's usual (modal) price and its share of the customers' product lines, per 10,000, in the
# real 2010-2011 file (prices under 0.02% of the lines merged into the nearest): the catalogue's prices
# take these shares by popularity, so the lines' prices are the real ones (median 1.95, 95th percentile
# 8.50, 99th 12.75).
PRICE_SHARES = {float(p): int(s) for p, s in (e.split(":") for e in (
    "0.06:7,0.12:18,0.14:2,0.19:45,0.21:22,0.29:148,0.38:10,0.39:202,0.42:558,0.55:196,0.59:7,0.62:3,0.63:7,"
    "0.65:204,0.75:16,0.79:57,0.82:8,0.83:150,0.85:682,0.95:38,1.06:4,1.25:1214,1.45:274,1.49:14,1.55:3,"
    "1.65:969,1.69:107,1.95:257,2.08:500,2.10:441,2.25:27,2.49:32,2.55:291,2.89:74,2.95:708,3.25:66,3.29:6,"
    "3.35:8,3.75:439,3.95:72,4.15:148,4.25:197,4.65:12,4.95:492,5.45:26,5.75:25,5.95:209,6.25:26,6.35:9,"
    "6.65:3,6.75:41,6.95:33,7.50:15,7.65:4,7.90:5,7.95:252,8.15:2,8.25:63,8.50:141,8.95:24,9.95:147,"
    "10.40:4,10.95:13,11.95:6,12.50:27,12.75:98,14.95:22,15.00:2,15.95:5,16.95:41,19.95:3,24.95:3,25.00:4,"
    "39.95:10").split(","))}
PRICE_POINTS = np.array(list(PRICE_SHARES))
# Bulk breaks: 7.7% of the real customers' lines are below their product's usual price, at a median
# 0.86 of it, the more often the more units (2% of lines of 1-3 units, 84% of lines over 96); 3.7% are
# above it, mostly at the shop price (here: 3.7% of the lines of products under 5.00).
BULK_BREAK, BULK_UNITS, BULK_P = 0.86, (4, 12, 24, 48, 96), (0.022, 0.05, 0.07, 0.15, 0.45, 0.8)
SHOP_PRICE_SHARE, SHOP_PRICE_BELOW = 0.037, 5.0
PACKS = np.array([1, 2, 3, 4, 6, 10, 12, 24, 48])
# Units a line, fitted by simulation to the real file's quantities of customers' lines (shares of 1, 2,
# 3, ... 48 units; mean and median per price band), at home (mean 11.7, median 4) and abroad (21.5, 12;
# worth 35.3 a line against 20.1 at home):
# a product's pack ~ 8.5 / price ** 0.68 units (log-normal spread); a line buys some loose units
# (geometric, mean 2) or a number of packs (share ~ packs ** -power).
PACK_UNITS, PACK_POWER, PACK_SPREAD = 8.5, 0.68, 0.22
LOOSE_SHARE, LOOSE_MEAN = (0.38, 0.035), 2.0  # at home / abroad
PACKS_BOUGHT, PACKS_POWER = np.array([1, 2, 3, 4, 5, 6, 8, 10, 12, 20]), (1.49, 1.16)
# The real file's two record orders, bought and cancelled the same day: code, name, price, units,
# time bought, minutes until cancelled.
OUTLIERS = (("23843", "PAPER CRAFT , LITTLE BIRDIE", 2.08, 80_995, "2011-12-09T09:15", 12),
            ("23166", "MEDIUM CERAMIC TOP STORAGE JAR", 1.04, 74_215, "2011-01-18T10:01", 16))
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
# Countries of the export that the 2010-2011 file lacks (it has 38): their customers stop buying
# well before the overlap (by EARLY warped time); every other country has a customer after it.
SHEET1_ONLY = np.flatnonzero(np.isin(COUNTRY_NAMES, ("Korea", "Thailand", "West Indies", "Bermuda",
                                                      "Nigeria")))
EARLY = 0.1
# Non-product lines: code, description, rows at full size, pool of lines replaced, quantity,
# median price and its log-normal spread (prices: the real 2010-2011 file's medians and 10-90% ranges,
# e.g. DOT 185 from 76 to 646; M 7.95 from 0.36 to 870, 43% of them on cancellations).
SPECIALS = (
    ("POST", "POSTAGE", 2400, "foreign", 1, 18.0, 0.5), ("C2", "CARRIAGE", 280, "foreign", 1, 50.0, 0),
    ("DOT", "DOTCOM POSTAGE", 1550, "guest", 1, 185.0, 0.9), ("M", "Manual", 810, "any", 1, 7.95, 3.0),
    ("M", "Manual", 610, "cancel", -1, 7.95, 3.0), ("BANK CHARGES", "Bank Charges", 100, "any", 1, 80.0, 1.5),
    ("PADS", "PADS TO MATCH ALL CUSHIONS", 18, "any", 1, 0.001, 0),
    ("ADJUST", "Adjustment by john on 26/01/2010 16", 32, "any", 1, 40.0, 1.0),
    ("TEST001", "This is a test product.", 11, "guest", 5, 4.5, 0),
    ("D", "Discount", 180, "cancel", -1, 23.0, 1.2), ("S", "SAMPLES", 100, "cancel", -1, 19.5, 1.3),
    ("CRUK", "CRUK Commission", 16, "cancel", -1, 470.0, 1.0),
    ("AMAZONFEE", "AMAZON FEE", 43, "cancel", -1, 6000.0, 0.6))
# Postage abroad is a tariff: 18.00 on 57% of the real POST lines, 15, 40 and 28 on 11%, 11%, 8%;
# 80% of them cost more than 17.
POST_TARIFF = (np.array([18.0, 15.0, 40.0, 28.0, 4.0]), np.array([0.60, 0.10, 0.12, 0.08, 0.10]))
NOTES = ("damaged,?,check,found,sold as set on dotcom,thrown away,wet damaged,mixed up,lost,missing,"
         "Unsaleable, destroyed.,dotcom,amazon,given away,smashed,incorrect stock entry.,faulty").split(",")

Table = dict[str, np.ndarray]


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


def _minute_profiles() -> tuple[np.ndarray, np.ndarray]:
    """The trading day's minutes (07:45 to 20:59) and each hour profile's cumulative share of them."""
    minutes = np.arange(7 * 60 + 45, 21 * 60)
    hour = minutes // 60 - 7
    per_minute = np.array(list(HOURS.values()), dtype=float)[:, hour] / np.bincount(hour)[hour]
    cdf = np.cumsum(per_minute, axis=1)
    return minutes, cdf / cdf[:, -1:]


def _calendar() -> Table:
    """Trading days with their weight and cumulative weight (warped time), the lines an order of the
    month takes (relative), the minute-of-day profiles and the warped times of the overlap's edges."""
    days = np.arange(FIRST_DAY, LAST_DAY + 1)
    month = (days.astype("datetime64[M]") - FIRST_DAY.astype("datetime64[M]")).astype(int)
    dom = (days - days.astype("datetime64[M]")).astype(int) + 1
    december = month % 12 == 0
    closed = (december & (dom >= 24)) | ((month % 12 == 1) & (dom <= 3))
    weight = WEEKDAY[(days.astype(int) + 3) % 7] * (1 + DECEMBER_RUSH * (december & (dom <= 9))) * ~closed
    weight *= MONTH_INVOICES[month] / np.bincount(month, weight)[month]
    weight /= weight.sum()
    cum = np.concatenate([[0.0], np.cumsum(weight)])
    basket = MONTH_ROWS / MONTH_INVOICES
    minutes, cdf = _minute_profiles()
    return {"days": days, "month": month, "weight": weight, "cum": cum,
            "lines": (basket / (basket @ MONTH_INVOICES / MONTH_INVOICES.sum()))[month],
            "minutes": minutes, "cdf": cdf,
            "last": cdf[:, minutes.searchsorted(12 * 60 + 50)],  # the export ends 2011-12-09 12:50
            "edges": cum[days.searchsorted(np.array(OVERLAP).astype("datetime64[D]"))]}


def _day(u: np.ndarray, cal: Table) -> np.ndarray:
    """The trading day (index into the calendar) of each warped time (never a closed day)."""
    day = cal["cum"].searchsorted(np.clip(u, 1e-12, 1 - 1e-12), "right") - 1
    return np.clip(day, 0, len(cal["days"]) - 1)


def _to_time(u: np.ndarray, cal: Table, profile: np.ndarray) -> np.ndarray:
    """Warped time to a timestamp at minute resolution: the day from ``u``, the minute from the
    invoice's hour profile (monotonic in ``u`` within a profile)."""
    day = _day(u, cal)
    frac = (np.clip(u, 1e-12, 1 - 1e-12) - cal["cum"][day]) / cal["weight"][day]
    minute = np.empty(len(u), np.int64)
    for p in np.unique(profile):
        at = profile == p
        f = frac[at] * np.where(day[at] == len(cal["days"]) - 1, cal["last"][p], 1.0)
        minute[at] = cal["minutes"][np.minimum(cal["cdf"][p].searchsorted(f), len(cal["minutes"]) - 1)]
    return cal["days"][day].astype("datetime64[m]") + minute.astype("timedelta64[m]")


def _births(u: np.ndarray, cal: Table) -> np.ndarray:
    """New customers' first purchases in warped time, from uniforms: uniform in warped time, but a
    December day counts DECEMBER_ACQUISITION times its weight."""
    weight = cal["weight"] * np.where(cal["month"] % 12 == 0, DECEMBER_ACQUISITION, 1.0)
    cum = np.concatenate([[0.0], np.cumsum(weight)]) / weight.sum()
    day = np.clip(cum.searchsorted(u, "right") - 1, 0, len(weight) - 1)
    return cal["cum"][day] + (u - cum[day]) / (cum[day + 1] - cum[day]) * cal["weight"][day]


def _customers(rng: np.random.Generator, n: int, cal: Table) -> tuple[Table, Table]:
    """``n`` customers (ID, country, basket size) and their purchases (customer, warped time)."""
    m = 3 * n + 50
    existing = rng.random(m) < EXISTING_SHARE
    birth = np.where(existing, 0.0, _births(rng.random(m), cal))
    rate = RATE_MEAN * rng.lognormal(-RATE_SIGMA**2 / 2, RATE_SIGMA, m)
    drop = rng.gamma(np.where(existing, DROP_SHAPE - 1, DROP_SHAPE), DROP_MEAN / DROP_SHAPE, m)
    end = np.minimum(birth + rng.exponential(1.0, m) / drop, 1.0)
    repeats = rng.poisson(rate * (end - birth))
    # New customers are seen at their first purchase; existing ones only if they buy again.
    seen = np.flatnonzero(repeats + ~existing > 0)[:n]
    birth, end, repeats, new = birth[seen], end[seen], repeats[seen], ~existing[seen]
    again = np.repeat(np.arange(len(seen)), repeats)
    who = np.concatenate([np.flatnonzero(new), again])
    u = np.concatenate([birth[new], birth[again] + rng.random(len(again)) * (end - birth)[again]])
    basket = rng.lognormal(0.0, 0.6, len(seen))
    last = np.zeros(len(seen))
    np.maximum.at(last, who, u)
    early, late = last < cal["edges"][0] - EARLY, last >= cal["edges"][1]
    country = _countries(rng, (repeats + new) * basket, early, late)
    pool = np.arange(12346, 12346 + max(CUSTOMERS, len(seen)))  # 12346-18287 up to the real size
    ids = np.sort(rng.choice(pool, len(seen), replace=False)).astype(float)
    ids = ids[np.argsort(np.argsort(country == 0, kind="stable"))]  # as in the real file: 12xxx abroad
    return {"id": ids, "country": country, "basket": basket, "end": end}, {"cust": who, "u": u}


def _countries(rng: np.random.Generator, activity: np.ndarray, early: np.ndarray,
               late: np.ndarray) -> np.ndarray:
    """Country per customer (0 = United Kingdom). Every country gets one customer before the rest are
    shared out by weight; the SHEET1_ONLY countries take ``early`` customers (gone before the
    overlap), every other country one ``late`` customer (buying after it)."""
    weights = np.array(list(COUNTRIES.values()), dtype=float)
    n_foreign = round(len(activity) * FOREIGN_CUSTOMER_SHARE)
    rest = max(n_foreign - len(weights), 0) * weights / weights.sum()
    quota = (np.arange(len(weights)) < n_foreign) + np.floor(rest).astype(int)
    quota[np.argsort(np.floor(rest) - rest)[: n_foreign - quota.sum()]] += 1
    # Foreign customers: a systematic sample along activity, leaning to the busy (as in the real
    # data, 9% of the customers with 8% of the rows), so their share of rows hardly varies.
    quantile = ((np.arange(quota.sum()) + rng.random()) / max(quota.sum(), 1)) ** FOREIGN_SKEW
    chosen = np.argsort(activity)[(quantile * len(activity)).astype(int)]
    labels = np.repeat(np.arange(1, len(COUNTRY_NAMES)), quota)
    only = np.isin(labels, SHEET1_ONLY)
    anchor = np.zeros(len(labels), bool)
    anchor[np.unique(labels, return_index=True)[1]] = True
    anchor &= ~only
    order = np.where(early[chosen], 0, np.where(late[chosen], 2, 1)) + rng.random(len(chosen))
    ranked = chosen[np.argsort(order)]  # the early ones first, the late ones last
    country = np.zeros(len(activity), int)
    country[ranked[: only.sum()]] = labels[only]
    country[ranked[len(ranked) - anchor.sum():]] = labels[anchor]
    country[ranked[only.sum(): len(ranked) - anchor.sum()]] = rng.permutation(labels[~only & ~anchor])
    return country


def _per_period(full: tuple[int, int, int], scale: float, least: tuple[int, int, int]) -> np.ndarray:
    """Counts per period (before / in / after the overlap) scaled to the export, at least ``least``."""
    return np.maximum(np.round(np.array(full) * scale).astype(np.int64), least)


def _in_periods(rng: np.random.Generator, counts: np.ndarray, cal: Table) -> np.ndarray:
    """Warped times, ``counts[g]`` of them uniform within each period ``g``."""
    bounds = np.array([0.0, *cal["edges"], 1.0])
    g = np.repeat(np.arange(3), counts)
    return bounds[g] + rng.random(len(g)) * (bounds[g + 1] - bounds[g])


def _period(u: np.ndarray, cal: Table) -> np.ndarray:
    """Period of each warped time: 0 before, 1 in, 2 after the sheets' overlap."""
    return cal["edges"].searchsorted(u, "right")


def _cancellations(rng: np.random.Generator, buy_u: np.ndarray, guest: np.ndarray, same_day: np.ndarray,
                   until: np.ndarray, scale: float, cap: int, cal: Table) -> tuple[np.ndarray, ...]:
    """Source purchase (index into ``buy_u``), lines, delay (minutes) and day of each cancellation.

    Each period gets its real count of cancellations (a few of guest orders, never more than half the
    period's purchases), drawn from the purchases whose cancellation falls in it: a return weeks
    later may cancel a purchase of the period before (not one of ``same_day``), by the day ``until``
    the customer is one. A cancellation takes a line or two, sometimes many.
    """
    n, bought = len(buy_u), _day(buy_u, cal)
    days = np.minimum(CANCEL_MEDIAN_DAYS * rng.lognormal(0.0, CANCEL_SPREAD, n), until - bought)
    same = (rng.random(n) < CANCEL_SAME_DAY) | same_day | (days < 1)
    delay = np.where(same, 1 + rng.exponential(40.0, n), 1440 * np.maximum(1.0, days))
    open_days = np.flatnonzero(cal["weight"] > 0)
    at = open_days.searchsorted(bought + np.where(same, 0, np.ceil(delay / 1440)).astype(np.int64))
    day = np.where(at < len(open_days), open_days[np.minimum(at, len(open_days) - 1)], bought)
    delay[at >= len(open_days)] %= 60  # one after the export's end is entered the same day instead
    period, order = _period_of_day(day, cal), rng.permutation(n)
    counts = _per_period(CANCEL_INVOICES, scale, (0, 0, 0))
    counts[counts.argmax()] = max(counts.max(), 1)
    src = []
    for g, count in enumerate(counts):
        n_guest = rng.binomial(count, GUEST_CANCEL_SHARE)
        limit = max(1, (_period(buy_u, cal) == g).sum() // 2)
        for is_guest, k in ((False, count - n_guest), (True, n_guest)):
            pool = order[(period[order] == g) & (guest[order] == is_guest)]
            src.append(pool[: min(k, limit)])
    src = np.concatenate(src)
    few = rng.random(len(src)) < CANCEL_FEW
    lines = np.where(few, rng.geometric(0.625, len(src)), 2 + rng.geometric(1 / CANCEL_MANY_LINES, len(src)))
    return src, np.minimum(lines, max(1, cap)), 1 + delay[src], day[src]


def _period_of_day(day: np.ndarray, cal: Table) -> np.ndarray:
    """Period of each trading day (index into the calendar): 0 before, 1 in, 2 after the overlap."""
    return cal["days"].searchsorted(np.array(OVERLAP).astype("datetime64[D]")).searchsorted(day, "right")


def _invoices(rng: np.random.Generator, rows: int, cal: Table) -> Table:
    """Every invoice: kind, customer, country, day and warped time, source and delay (cancellations),
    weight (purchases' share of the lines), fixed line count (the others) and period."""
    scale = rows / REAL_ROW_COUNT
    cust, buys = _customers(rng, max(5, round(CUSTOMERS * scale)), cal)
    guest_u = _in_periods(rng, _per_period(GUEST_INVOICES, scale, (1, 0, 1)), cal)
    cap = rows // 4 - len(guest_u)  # binds only for tiny exports: keeps a few lines per invoice
    if len(buys["u"]) > cap:
        buys = {k: v[np.sort(rng.choice(len(v), cap, replace=False))] for k, v in buys.items()}
    buy_u = np.concatenate([buys["u"], guest_u])
    who = np.concatenate([buys["cust"], np.full(len(guest_u), -1)])
    stay = np.isin(np.append(cust["country"], 0)[who], SHEET1_ONLY)  # their countries stay in sheet 1
    alive = _day(np.append(cust["end"], 1.0)[who], cal)  # customers return goods while still customers
    src, cancel_k, delay, cancel_day = _cancellations(rng, buy_u, who < 0, stay, alive, scale, rows // 50,
                                                      cal)
    off_u, off_k = _write_off_invoices(rng, scale, cal)
    n_bad, n_big = max(1, round(BAD_DEBTS * scale)), 2 if scale >= 0.5 else 1
    big_cust = rng.choice(np.flatnonzero(cust["country"] == 0), n_big)  # both real ones are British
    parts = [  # kind, customer (-1: none), u, source invoice, fixed line count (0: shared out later), delay
        (REG, buys["cust"], buys["u"], -1, 0, 0), (GUEST, -1, guest_u, -1, 0, 0),
        (CANCEL, who[src], buy_u[src], src, cancel_k, delay), (WRITE_OFF, -1, off_u, -1, off_k, 0),
        (BAD_DEBT, -1, np.full(n_bad, 0.5), -1, 1, 0), (BIG_BUY, big_cust, np.full(n_big, 0.5), -1, 1, 0)]
    n_before = sum(len(p[2]) for p in parts)
    parts.append((BIG_CANCEL, big_cust, np.full(n_big, 0.5), np.arange(n_before - n_big, n_before), 1, 0))
    inv = {name: np.concatenate([np.broadcast_to(p[i], len(p[2])) for p in parts])
           for i, name in enumerate(("kind", "cust", "u", "src", "k", "delay"))}
    kind, who = inv["kind"].astype(int), inv["cust"].astype(int)
    inv.update(kind=kind, src=inv["src"].astype(int), id=np.where(who < 0, np.nan, cust["id"][who]),
               country=_invoice_countries(rng, kind, inv["src"].astype(int), who, cust["country"]),
               delay=inv["delay"].astype(float), day=_day(inv["u"], cal))
    inv["day"][kind == CANCEL] = cancel_day
    fixed = np.isin(kind, (BAD_DEBT, BIG_BUY, BIG_CANCEL))
    inv["day"][fixed] = cal["days"].searchsorted(_fixed_times(kind[fixed]).astype("datetime64[D]"))
    inv["group"] = _period_of_day(inv["day"], cal)
    inv["weight"] = _weights(rng, inv, cust["basket"][buys["cust"]], cal)
    return inv


def _write_off_invoices(rng: np.random.Generator, scale: float, cal: Table) -> tuple[np.ndarray, ...]:
    """Warped time and lines of each stock write-off, at the real counts per period."""
    count = _per_period(WRITE_OFF_INVOICES, scale, (1, 0, 0))
    extra = np.maximum(_per_period(WRITE_OFF_ROWS, scale, (0, 0, 0)) - count, 0)
    lines = [1 + rng.multinomial(e, np.ones(n) / n) for e, n in zip(extra, count, strict=True) if n]
    return _in_periods(rng, count, cal), np.concatenate(lines)


def _invoice_countries(rng: np.random.Generator, kind: np.ndarray, src: np.ndarray, who: np.ndarray,
                       country: np.ndarray) -> np.ndarray:
    """Each invoice's country: its customer's; a few guest orders from abroad (never from a country of
    the first sheet only); a cancellation's is its purchase's."""
    out = np.where(who < 0, 0, country[who])
    abroad = (kind == GUEST) & (rng.random(len(kind)) < GUEST_ABROAD)
    weights = np.array(list(COUNTRIES.values()), dtype=float)
    weights[SHEET1_ONLY - 1] = 0
    out[abroad] = 1 + rng.choice(len(weights), abroad.sum(), p=weights / weights.sum())
    cancel = kind == CANCEL
    out[cancel] = out[src[cancel]]
    return out


def _fixed_times(kind: np.ndarray) -> np.ndarray:
    """The real file's times of its bad debts (a minute apart) and of its two huge orders and their
    cancellations, for invoices of those kinds (in order)."""
    time = np.empty(len(kind), "datetime64[m]")
    bad, big, undo = kind == BAD_DEBT, kind == BIG_BUY, kind == BIG_CANCEL
    time[bad] = BAD_DEBT_TIME + np.arange(bad.sum()).astype("timedelta64[m]")
    time[big] = np.array([o[4] for o in OUTLIERS], dtype="datetime64[m]")[: big.sum()]
    time[undo] = time[big] + np.array([o[5] for o in OUTLIERS], dtype="timedelta64[m]")[: big.sum()]
    return time


def _weights(rng: np.random.Generator, inv: Table, basket: np.ndarray, cal: Table) -> np.ndarray:
    """Purchases' relative share of the lines: the customer's basket (bigger abroad) or a guest order
    of the real size mix, times the month's real basket size."""
    kind = inv["kind"]
    weight = np.zeros(len(kind))
    reg, guest = kind == REG, kind == GUEST
    weight[reg] = basket * rng.lognormal(0.0, 0.75, reg.sum()) * np.where(inv["country"][reg] != 0,
                                                                             FOREIGN_BASKET, 1.0)
    q = rng.random(guest.sum()) * (len(GUEST_LINES) - 1)
    at = np.minimum(q.astype(int), len(GUEST_LINES) - 2)
    weight[guest] = np.exp(np.log(GUEST_LINES[at]) + (q - at) * np.diff(np.log(GUEST_LINES))[at])
    buy = reg | guest
    weight[buy] *= cal["lines"][_day(inv["u"][buy], cal)]
    return weight


def _stamp(rng: np.random.Generator, inv: Table, n_lines: np.ndarray, cal: Table) -> Table:
    """Time, rank in time and number of each invoice. The minute comes from the kind's hour profile,
    bigger orders' (CUSTOMER_LINES, GUEST_LINES_BULK) from the next ones."""
    kind = inv["kind"]
    reg = kind == REG
    profile = PROFILE[kind] + reg * np.searchsorted(CUSTOMER_LINES, n_lines, "right") \
        + (kind == GUEST) * np.searchsorted(GUEST_LINES_BULK, n_lines, "right")
    time = _to_time(inv["u"], cal, profile)
    fixed = np.isin(kind, (BAD_DEBT, BIG_BUY, BIG_CANCEL))
    time[fixed] = _fixed_times(kind[fixed])
    cancel = kind == CANCEL
    bought = time[inv["src"][cancel]]
    time[cancel] = _cancel_times(rng, bought, inv["delay"][cancel], inv["day"][cancel], cal)
    inv["time"] = time
    # Numbers follow time, with gaps (other systems share the sequence); six digits up to ~10M rows.
    inv["rank"] = np.argsort(np.lexsort((rng.random(len(time)), time)))
    step = min(1.0, max(1 / 1.72, 1.1 * len(time) / (999_999 - FIRST_INVOICE)))
    number = FIRST_INVOICE + np.cumsum(rng.geometric(step, len(time))) - 1
    prefix = np.select([np.isin(kind, (CANCEL, BIG_CANCEL)), kind == BAD_DEBT], ["C", "A"], "")
    inv["label"] = np.char.add(prefix, number[inv["rank"]].astype(str)).astype(object)
    return inv


def _cancel_times(rng: np.random.Generator, bought: np.ndarray, delay: np.ndarray, day: np.ndarray,
                  cal: Table) -> np.ndarray:
    """When each cancellation is entered: ``delay`` minutes after its purchase the same day, or on a
    later trading ``day`` at a time of the cancellations' hour profile; never after the export's end."""
    p = PROFILE[CANCEL]
    later = delay >= 1440
    frac = rng.random(len(delay)) * np.where(day == len(cal["days"]) - 1, cal["last"][p], 1.0)
    minute = cal["minutes"][np.minimum(cal["cdf"][p].searchsorted(frac), len(cal["minutes"]) - 1)]
    on_day = cal["days"][day].astype("datetime64[m]") + minute.astype("timedelta64[m]")
    same = bought + np.minimum(delay, 1439).astype("timedelta64[m]")
    return np.minimum(np.where(later, on_day, same), END)


def _budget(rng: np.random.Generator, inv: Table, rows: int, cal: Table) -> tuple[np.ndarray, np.ndarray]:
    """Lines per invoice and repeated lines per period, so that the export has exactly ``rows`` rows.

    The overlap gets its real share of rows (they count twice: they are in both sheets), the rest
    is split to give the first sheet its real share, and a period's lines go to its months as the
    real rows do. A purchase gets at least the lines its cancellation copies; within a period,
    guest orders take their real share of the lines.
    """
    kind, g = inv["kind"], inv["group"]
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
    dups = np.minimum((x * (1 - GUEST_LINE_SHARE) * DUPLICATE_SHARE).astype(np.int64), x - low_g)
    n_lines = np.where(buy, low, inv["k"])
    month = cal["month"][inv["day"]]
    for group in np.flatnonzero(has):
        idx = np.flatnonzero(buy & (g == group))
        free, guest = x[group] - dups[group] - low_g[group], kind[idx] == GUEST
        # Guest orders take their share of the period's lines, their minimum lines included.
        share = (GUEST_LINE_SHARE[group] * x[group] - low[idx][guest].sum()) / max(free, 1)
        w = _period_weights(inv["weight"][idx], guest, share)
        cells = rng.multinomial(free, _month_shares(month[idx], group, cal))
        for m in np.flatnonzero(cells):
            at = month[idx] == m
            n_lines[idx[at]] += rng.multinomial(cells[m], w[at] / w[at].sum())
    return n_lines, dups


def _month_shares(month: np.ndarray, group: int, cal: Table) -> np.ndarray:
    """Each month's share of a period's purchase lines: as the real rows per month, among the months
    that have purchases in the period (``month`` of each)."""
    in_group = _period_of_day(np.arange(len(cal["days"])), cal) == group
    rows = np.bincount(cal["month"][in_group], (cal["weight"] * cal["lines"])[in_group], len(MONTH_ROWS))
    rows[~np.isin(np.arange(len(rows)), month)] = 0
    return rows / rows.sum()


def _period_weights(weight: np.ndarray, guest: np.ndarray, share: float) -> np.ndarray:
    """A period's purchase weights as probabilities, guest orders together taking ``share``."""
    w = weight.copy()
    if guest.any() and not guest.all():
        share = min(max(share, 0.0), 1.0)
        w[guest] *= share / w[guest].sum()
        w[~guest] *= (1 - share) / w[~guest].sum()
    return w / w.sum()


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
    rng, cal = np.random.default_rng(seed), _calendar()
    cat, inv = _catalogue(), _invoices(rng, rows, cal)
    n_lines, dups = _budget(rng, inv, rows, cal)
    inv = _stamp(rng, inv, n_lines, cal)
    return _sheets(inv, _lines(rng, inv, n_lines, dups, cat, rows / REAL_ROW_COUNT), cat)


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
    with replacing(path) as partial:  # whole or not at all: a full disk leaves no half export
        if suffix == ".xlsx":
            _write_xlsx(sheets, partial)
            return
        # Like the real CSV: one header, Customer ID as 13085.0 (or empty), seconds in the dates.
        with partial.open("w", encoding="utf-8", newline="") as fh:
            for n, frame in enumerate(sheets.values()):
                frame.to_csv(fh, header=n == 0, index=False, date_format="%Y-%m-%d %H:%M:%S")


def _write_xlsx(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    """A workbook like the real one: all-digit invoices and codes as numbers, dates as Excel dates."""
    import xlsxwriter
    import xlsxwriter.exceptions

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
    try:
        book.close()
    except xlsxwriter.exceptions.FileCreateError as exc:  # e.g. a full disk: the OSError it wraps
        raise (exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else OSError(str(exc))) from None


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
