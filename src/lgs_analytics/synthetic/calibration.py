"""The generator's constants, each calibrated on the real data (its comment says on what).

Calibrated against the real 2010-2011 file (``../shared/data/online_retail_2010_2011.csv.gz``, the
workbook's second sheet): each constant below says which real figure it comes from, and
``bench/fidelity.py`` compares a generated export with that file figure by figure. No complete real
first sheet is at hand, so its rates are the published whole-export figures (DESIGN.md, "The data
contract") less what the real 2010-2011 file holds.
"""

from __future__ import annotations

import numpy as np

from lgs_analytics.config import REAL_ROW_COUNT

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
