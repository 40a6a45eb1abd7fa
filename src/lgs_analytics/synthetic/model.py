"""Customers and invoices: buy till you die, guest orders, cancellations, write-offs, their times.

* **Customers** buy till they die (in warped time, :mod:`.timeline`): Poisson purchases at a
  log-normal rate and an exponential lifetime with a gamma distributed drop-out rate. Some were
  customers before the export starts; the rest are acquired through the two years, fewer in December.
* **Invoices**: customers' purchases; guest (dotcom) orders without a Customer ID; cancellations
  ("C") of an earlier purchase, the same day or days to weeks later; zero-price stock write-offs;
  the real file's three bad-debt "A" rows and its two huge single-line orders cancelled minutes later.
  Each takes its minute from its kind's real hour-of-day profile, and numbers follow time.

How many lines each invoice has is :mod:`.budget`'s; what is on them, :mod:`.baskets`'.
"""

from __future__ import annotations

import numpy as np

from lgs_analytics.config import REAL_ROW_COUNT
from lgs_analytics.synthetic.calibration import (
    BAD_DEBT,
    BAD_DEBT_TIME,
    BAD_DEBTS,
    BIG_BUY,
    BIG_CANCEL,
    CANCEL,
    CANCEL_FEW,
    CANCEL_INVOICES,
    CANCEL_MANY_LINES,
    CANCEL_MEDIAN_DAYS,
    CANCEL_SAME_DAY,
    CANCEL_SPREAD,
    COUNTRIES,
    COUNTRY_NAMES,
    CUSTOMER_LINES,
    CUSTOMERS,
    DROP_MEAN,
    DROP_SHAPE,
    EARLY,
    END,
    EXISTING_SHARE,
    FIRST_INVOICE,
    FOREIGN_BASKET,
    FOREIGN_CUSTOMER_SHARE,
    FOREIGN_SKEW,
    GUEST,
    GUEST_ABROAD,
    GUEST_CANCEL_SHARE,
    GUEST_INVOICES,
    GUEST_LINES,
    GUEST_LINES_BULK,
    OUTLIERS,
    PROFILE,
    RATE_MEAN,
    RATE_SIGMA,
    REG,
    SHEET1_ONLY,
    WRITE_OFF,
    WRITE_OFF_INVOICES,
    WRITE_OFF_ROWS,
)
from lgs_analytics.synthetic.timeline import (
    Table,
    _births,
    _day,
    _in_periods,
    _per_period,
    _period,
    _period_of_day,
    _to_time,
)


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
