"""Business metrics: invoice amounts, monthly orders, sales, users, cohorts, countries.

Pure functions: DataFrame in, DataFrame (or dict) out, no I/O.  Inputs follow the
:mod:`lgs_analytics.analytics.clean` contract: ``purchases`` (product lines of identified customers,
positive quantity and price, with ``line_total``), ``cancellations`` (``C`` invoice lines,
negative quantity and ``line_total``) and, where noted, ``transactions`` (all lines, guests
included). Each row is a group of lines of one invoice (``lines`` of them) or a single line: sums
and distinct invoices are the same either way. The best products are SQL (``top_products`` in
``sql/06_reports.sql``): ranking them needs every line's stock code, which the groups do not keep.

Conventions:

* Month keys are a ``month`` column of dtype ``period[M]`` (display ``2011-12``;
  :func:`yyyymm` turns them into ``201112``).  Monthly frames hold one row per calendar
  month from the first to the last month of their input, gaps filled with zero, and an
  ``is_partial`` flag from :func:`partial_months`.
* An invoice belongs to the month of its earliest line.
* Money is GBP; percentages are in percent (12.5 means 12.5 %).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from lgs_analytics.analytics.clean import CleanResult
from lgs_analytics.analytics.frames import line_counts
from lgs_analytics.results import Analysis

CLOSED_WEEKDAYS: tuple[int, ...] = (5,)  # the shop does not trade on Saturdays


def _ordinals(dates: pd.Series | pd.Index) -> npt.NDArray[np.int64]:
    """Months since 1970-01 (the ordinal of a ``period[M]``) of datetime values."""
    return np.asarray(dates, dtype="datetime64[ns]").astype("datetime64[M]").astype("int64")


def _periods(ordinals: npt.ArrayLike) -> pd.PeriodIndex:
    # from_ordinals is public (pandas 2.2+) but missing from pandas-stubs.
    periods: pd.PeriodIndex = pd.PeriodIndex.from_ordinals(  # type: ignore[attr-defined]
        np.asarray(ordinals, dtype="int64"), freq="M")
    return periods


def yyyymm(months: pd.Series) -> pd.Series:
    """``period[M]`` values as YYYYMM integers (2011-12 -> 201112)."""
    numbers: pd.Series = (months.dt.year * 100 + months.dt.month).astype("int64")  # .dt is untyped
    return numbers


def _trading_day(day: pd.Timestamp, step: int) -> pd.Timestamp:
    while day.weekday() in CLOSED_WEEKDAYS:
        day += pd.Timedelta(days=step)
    return day


def partial_months(dates: pd.Series, start: dt.date | str | None = None) -> set[pd.Period]:
    """Months only partly covered by the data, as a set of ``Period('YYYY-MM', 'M')``.

    The last month is partial when the last date falls before that month's last trading
    day (Saturdays closed): data ending 2011-12-09 makes December 2011 partial.  The
    first month likewise when the first date falls after its first trading day, unless the
    analyst's window ``start`` covers the month from its beginning: then a late first
    invoice is the shop's own holiday (4 January 2011), not a cut.
    """
    dates = dates.dropna()
    if dates.empty:
        return set()
    first, last = dates.min().normalize(), dates.max().normalize()
    partial: set[pd.Period] = set()
    first_month, last_month = first.to_period("M"), last.to_period("M")
    opened = _trading_day(first_month.start_time.normalize(), +1)
    cut = pd.Timestamp(start).normalize() > opened if start is not None else first > opened
    if cut:
        partial.add(first_month)
    if last < _trading_day(last_month.end_time.normalize(), -1):
        partial.add(last_month)
    return partial


def _monthly(columns: dict[str, pd.Series], dates: list[pd.Series],
             start: dt.date | str | None = None) -> pd.DataFrame:
    """One row per month from the first to the last of ``dates``: ``month``, the given
    per-month series (indexed by month ordinal, gaps filled with 0) and ``is_partial``."""
    span = pd.concat([pd.Series([d.min(), d.max()]) for d in dates]).dropna()
    lo, hi = _ordinals(pd.Series([span.min(), span.max()])) if len(span) else (0, -1)
    months = _periods(np.arange(lo, hi + 1))
    frame = pd.DataFrame({"month": months})
    for name, values in columns.items():
        frame[name] = values.reindex(months.asi8, fill_value=0).to_numpy()
    frame["is_partial"] = frame["month"].isin(partial_months(span, start))
    return frame


def _invoices(purchases: pd.DataFrame) -> pd.DataFrame:
    """One row per invoice: invoice_no, customer_id, invoice_date (earliest line), amount,
    lines, units and ``_m`` (month ordinal)."""
    invoices = purchases.assign(_lines=line_counts(purchases)).groupby("invoice_no", sort=True).agg(
        customer_id=("customer_id", "first"), invoice_date=("invoice_date", "min"),
        amount=("line_total", "sum"), lines=("_lines", "sum"), units=("quantity", "sum"),
    ).reset_index()
    invoices["_m"] = _ordinals(invoices["invoice_date"])
    return invoices


def _customer_months(purchases: pd.DataFrame) -> pd.DataFrame:
    """Distinct (customer_id, ``_m``) pairs with ``first``: the customer's first month."""
    invoices = _invoices(purchases)
    pairs = invoices.loc[invoices["customer_id"].notna(), ["customer_id", "_m"]].drop_duplicates()
    pairs["first"] = pairs.groupby("customer_id")["_m"].transform("min")
    return pairs


def invoice_amounts(purchases: pd.DataFrame) -> pd.DataFrame:
    """Per purchase invoice: ``invoice_no, customer_id, invoice_date, amount`` (GBP, the sum
    of quantity x unit_price over its lines)."""
    return _invoices(purchases)[["invoice_no", "customer_id", "invoice_date", "amount"]]


def amount_summary(amounts: pd.Series) -> dict[str, float]:
    """Distribution summary of invoice amounts.

    Keys: count, min, max, median, mean, mode (most frequent amount rounded to pennies;
    the smallest on a tie) and p85 (85th percentile, linear interpolation).
    """
    counts = amounts.round(2).value_counts()
    mode = float(counts.index[counts.to_numpy() == counts.max()].min()) if len(counts) else np.nan
    return {
        "count": int(amounts.count()), "min": float(amounts.min()), "max": float(amounts.max()),
        "median": float(amounts.median()), "mean": float(amounts.mean()), "mode": mode,
        "p85": float(amounts.quantile(0.85)),
    }


def trim_to_quantile(amounts: pd.Series, q: float = 0.85) -> pd.Series:
    """The amounts at or below their ``q`` quantile (default: the 85th percentile)."""
    return amounts[amounts <= amounts.quantile(q)]


def monthly_orders(transactions: pd.DataFrame, start: dt.date | str | None = None) -> pd.DataFrame:
    """Placed and cancelled orders per month, from all invoices (guests included).

    Columns: ``month``; ``placed`` = distinct purchase invoices (not ``C`` nor ``A``);
    ``cancelled`` = distinct ``C`` invoices; ``seed_placed_shortcut`` = all distinct
    invoices - 2 x cancelled (the seed exercise's shortcut, shown for comparison only);
    ``is_partial``.
    """
    first = transactions.groupby("invoice_no", sort=False)["invoice_date"].min()
    prefix = pd.Series(first.index.astype("string")).str.strip().str[:1].str.upper().fillna("")
    month = _ordinals(first)
    cancelled, placed = prefix.eq("C").to_numpy(bool), ~prefix.isin(["C", "A"]).to_numpy(bool)
    every = pd.Series(month).value_counts()
    n_cancelled = pd.Series(month[cancelled]).value_counts()
    return _monthly({
        "placed": pd.Series(month[placed]).value_counts(),
        "cancelled": n_cancelled,
        "seed_placed_shortcut": every.sub(2 * n_cancelled, fill_value=0).astype("int64"),
    }, [transactions["invoice_date"]], start)


def _identified(cancellations: pd.DataFrame) -> pd.DataFrame:
    return cancellations[cancellations["customer_id"].notna()]


def monthly_sales(purchases: pd.DataFrame, cancellations: pd.DataFrame,
                  start: dt.date | str | None = None) -> pd.DataFrame:
    """Sales per month (GBP): ``month, gross_sales, cancelled_sales, net_sales, growth_pct,
    is_partial`` and ``yoy_pct``.

    ``cancelled_sales`` is positive (the value of the month's cancellations of identified
    customers); ``net_sales`` = gross - cancelled.  ``growth_pct`` is the month-over-month
    change of net sales in percent; NaN for the first month, after a month without sales,
    and wherever this or the previous month is partial (a partial month is not compared).
    ``yoy_pct``: the change on the same month a year before, both complete (a seasonal shop
    compares December with December).
    """
    cancellations = _identified(cancellations)
    gross = purchases.groupby(_ordinals(purchases["invoice_date"]))["line_total"].sum()
    cancelled = -cancellations.groupby(_ordinals(cancellations["invoice_date"]))["line_total"].sum()
    frame = _monthly({"gross_sales": gross, "cancelled_sales": cancelled},
                     [purchases["invoice_date"], cancellations["invoice_date"]], start)
    frame["net_sales"] = frame["gross_sales"] - frame["cancelled_sales"]
    previous = frame["net_sales"].shift(1)
    comparable = ~(frame["is_partial"] | frame["is_partial"].shift(1, fill_value=True)) & previous.ne(0)
    frame["growth_pct"] = ((frame["net_sales"] - previous) / previous * 100).where(comparable)
    frame["yoy_pct"] = _year_over_year(frame)
    columns = ["month", "gross_sales", "cancelled_sales", "net_sales", "growth_pct", "yoy_pct", "is_partial"]
    return frame[columns]


def _year_over_year(frame: pd.DataFrame) -> pd.Series:
    """% change of net sales on the same month a year before; NaN unless both months are complete."""
    by_month = frame.set_index("month")
    before = by_month.reindex(by_month.index - 12)
    comparable = ~by_month["is_partial"].to_numpy() & (before["is_partial"] == False).to_numpy()  # noqa: E712
    net, net_before = by_month["net_sales"].to_numpy(float), before["net_sales"].to_numpy(float)
    valid = comparable & (net_before > 0)
    ratio = np.divide(net, net_before, out=np.full(len(net), np.nan), where=valid)  # no 0 divides
    return pd.Series((ratio - 1) * 100, index=frame.index)


def monthly_active_users(transactions: pd.DataFrame, purchases: pd.DataFrame,
                         start: dt.date | str | None = None) -> pd.DataFrame:
    """Active customers per month: ``month, active_customers, buying_customers, is_partial``.

    ``active_customers`` is the seed's definition: distinct identified customers with any
    invoice in the month (purchases, cancellations, any line), from ``transactions`` (686 in
    December 2011 on the real 2010-2011 data). ``buying_customers`` is narrower: those with a
    product purchase kept by the cleaning (``purchases``).
    """
    known = transactions[transactions["customer_id"].notna()]
    any_invoice = pd.DataFrame({"customer_id": known["customer_id"].to_numpy(),
                                "_m": _ordinals(known["invoice_date"])}).drop_duplicates()
    buying = _customer_months(purchases)
    return _monthly({"active_customers": any_invoice["_m"].value_counts(),
                     "buying_customers": buying["_m"].value_counts()},
                    [transactions["invoice_date"]], start)


def new_vs_existing(purchases: pd.DataFrame, start: dt.date | str | None = None) -> pd.DataFrame:
    """Active customers per month split by whether the month is their first purchase month.

    Columns: ``month, new_customers, existing_customers, is_partial``.  The first month of
    the data counts every customer as new (nothing earlier is known).
    """
    pairs = _customer_months(purchases)
    is_new = pairs["_m"] == pairs["first"]
    return _monthly({
        "new_customers": pairs.loc[is_new, "_m"].value_counts(),
        "existing_customers": pairs.loc[~is_new, "_m"].value_counts(),
    }, [purchases["invoice_date"]], start)


def cohort_counts(purchases: pd.DataFrame) -> pd.DataFrame:
    """Active customers by cohort (first purchase month) and months since first purchase.

    Index ``cohort`` (``period[M]``), columns ``months_since_first`` 0..N, nullable ints;
    column 0 is the cohort size; cells past the end of the data are ``<NA>``.
    """
    pairs = _customer_months(purchases)
    age = pairs["_m"] - pairs["first"]
    counts = pairs.groupby([pairs["first"], age]).size().unstack(fill_value=0)
    width = int(age.max()) + 1 if len(age) else 0
    counts = counts.reindex(columns=range(width), fill_value=0)
    last = pairs["_m"].max()
    unseen = counts.columns.to_numpy()[None, :] > (last - counts.index.to_numpy())[:, None]
    counts = counts.astype("Int64").mask(unseen)
    counts.index = _periods(counts.index).rename("cohort")
    counts.columns = pd.Index(range(width), name="months_since_first")
    return counts


def cohort_sizes(purchases: pd.DataFrame) -> pd.Series:
    """New customers per cohort (first purchase month), indexed by ``cohort``."""
    return cohort_counts(purchases)[0].astype("int64").rename("customers")


def cohort_retention(purchases: pd.DataFrame) -> pd.DataFrame:
    """Share (0..1) of each cohort active N months after its first purchase month.

    Same shape as :func:`cohort_counts`; month 0 is 1.0; cells past the end of the data
    are NaN.
    """
    counts = cohort_counts(purchases).astype("float64")
    return counts.div(counts[0], axis=0)


HOME = "United Kingdom"  # where LGS is: every other country is abroad
OTHER = "Other"  # the countries beyond the ones named, as one row


def abroad(countries: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`sales_by_country` outside the United Kingdom (``Other``, the rest of the
    world beyond the named countries, included)."""
    return countries[countries["country"] != HOME]


def sales_by_country(purchases: pd.DataFrame, cancellations: pd.DataFrame | None = None,
                     top: int = 10) -> pd.DataFrame:
    """Sales, customers and share by country; the countries beyond ``top`` as ``Other``.

    ``sales`` is gross (GBP), or net of ``cancellations`` when given.  Columns:
    ``country, sales, customers, share_pct`` (share of total sales, in percent), sorted by
    sales with ``Other`` last.
    """
    sales = purchases.groupby("country")["line_total"].sum()
    if cancellations is not None:
        sales = sales.add(_identified(cancellations).groupby("country")["line_total"].sum(),
                          fill_value=0)
    ranked = sales.reset_index().sort_values(["line_total", "country"], ascending=[False, True])
    leaders = ranked["country"].head(top)
    pairs = purchases.groupby(["country", "customer_id"]).size().index.to_frame(index=False)
    label = pd.Series(pd.Index(ranked["country"]).where(ranked["country"].isin(leaders), OTHER),
                      index=ranked["country"].to_numpy())
    result = pd.DataFrame({
        "sales": sales.groupby(label).sum(),
        "customers": pairs["customer_id"].groupby(pairs["country"].map(label)).nunique(),
    })
    result["customers"] = result["customers"].fillna(0).astype("int64")
    order = [*leaders, OTHER] if len(ranked) > top else list(leaders)
    result = result.reindex(order).rename_axis("country").reset_index()
    result["share_pct"] = result["sales"] / result["sales"].sum() * 100
    return result


def customer_invoices(purchases: pd.DataFrame, cancellations: pd.DataFrame) -> pd.DataFrame:
    """Every invoice of an identified customer: ``customer_id, invoice_no, invoice_date, kind``
    (``purchase`` or ``cancellation``), ``lines, units, amount`` (GBP; negative for a
    cancellation), ``country``; by customer, then date. A customer's history, as the dashboard shows it."""
    frames = []
    for kind, lines in (("purchase", purchases), ("cancellation", _identified(cancellations))):
        lines = lines[lines["customer_id"].notna()]
        invoices = lines.assign(_lines=line_counts(lines)).groupby("invoice_no", sort=False).agg(
            customer_id=("customer_id", "first"), invoice_date=("invoice_date", "min"),
            lines=("_lines", "sum"), units=("quantity", "sum"), amount=("line_total", "sum"),
            country=("country", "first")).reset_index()
        frames.append(invoices.assign(kind=kind))
    out = pd.concat(frames, ignore_index=True)
    out = out.astype({"customer_id": "int64", "lines": "int64", "units": "int64", "amount": "float64",
                      "invoice_no": "string", "country": "string", "kind": "string"})
    out["amount"] = out["amount"].round(2)
    columns = ["customer_id", "invoice_no", "invoice_date", "kind", "lines", "units", "amount", "country"]
    return out.sort_values(["customer_id", "invoice_date", "invoice_no"], kind="stable")[columns].reset_index(
        drop=True)


def basket_sizes(purchases: pd.DataFrame) -> pd.DataFrame:
    """Per purchase invoice: ``invoice_no, month, lines`` (product lines), ``units``."""
    invoices = _invoices(purchases)
    return pd.DataFrame({"invoice_no": invoices["invoice_no"], "month": _periods(invoices["_m"]),
                         "lines": invoices["lines"], "units": invoices["units"]})


def basket_summary(baskets: pd.DataFrame, by_month: bool = False) -> pd.DataFrame:
    """Mean and median lines and units per invoice, from :func:`basket_sizes`.

    Columns: ``invoices, mean_lines, median_lines, mean_units, median_units``; one row
    overall, or per ``month`` (a leading column) with ``by_month=True``.
    """
    keys = baskets["month"] if by_month else np.zeros(len(baskets), dtype="int8")
    summary = baskets.groupby(keys).agg(
        invoices=("lines", "size"), mean_lines=("lines", "mean"), median_lines=("lines", "median"),
        mean_units=("units", "mean"), median_units=("units", "median"))
    return summary.rename_axis("month").reset_index() if by_month else summary.reset_index(drop=True)


def headline_numbers(purchases: pd.DataFrame, cancellations: pd.DataFrame,
                     transactions: pd.DataFrame, start: dt.date | str | None = None) -> dict[str, Any]:
    """Key numbers for the executive summary.

    Period and orders come from ``transactions`` (all invoices, guests included); money
    and customers from purchases and cancellations of identified customers.  Keys:
    period_start, period_end (Timestamps of the first and last invoice), months_covered,
    gross_revenue, cancelled_revenue (positive), net_revenue, customers, purchase_orders
    and cancelled_orders (as in :func:`monthly_orders`), invoices (all distinct invoices,
    guests, cancellations and adjustments included), cancellation_rate_pct (cancelled /
    all invoices, %: 14.81% on the real 2010-2011 data), customer_orders (purchase invoices of
    identified customers: the basis of the money figures), other_orders (purchase_orders -
    customer_orders: guest orders and invoices with no product line), average_order_value
    (gross_revenue / customer_orders, GBP),
    last_month (Period), last_month_partial (bool), last_month_days (days of the last
    month the data covers, e.g. 9 for data ending 2011-12-09), repeat_customer_pct (% of
    customers with more than one purchase invoice).
    """
    orders = monthly_orders(transactions, start)
    dates = transactions["invoice_date"]
    first, end = dates.min(), dates.max()
    gross = float(purchases["line_total"].sum())
    cancelled = -float(_identified(cancellations)["line_total"].sum())
    placed, n_cancelled = int(orders["placed"].sum()), int(orders["cancelled"].sum())
    n_all = int(transactions["invoice_no"].nunique())
    n_invoices = purchases["invoice_no"].nunique()
    orders_per_customer = purchases.groupby("customer_id")["invoice_no"].nunique()
    last_month = end.to_period("M")
    covered_from = first if first.to_period("M") == last_month else last_month.start_time
    return {
        "period_start": first, "period_end": end, "months_covered": len(orders),
        "gross_revenue": gross, "cancelled_revenue": cancelled, "net_revenue": gross - cancelled,
        "customers": int(purchases["customer_id"].nunique()),
        "purchase_orders": placed, "cancelled_orders": n_cancelled, "invoices": n_all,
        "cancellation_rate_pct": n_cancelled / n_all * 100 if n_all else float("nan"),
        "customer_orders": int(n_invoices), "other_orders": placed - int(n_invoices),
        "average_order_value": gross / n_invoices if n_invoices else float("nan"),
        "last_month": last_month, "last_month_partial": last_month in partial_months(dates, start),
        "last_month_days": int((end.normalize() - covered_from.normalize()).days) + 1,
        "repeat_customer_pct": float((orders_per_customer > 1).mean() * 100) if len(orders_per_customer)
        else float("nan"),
    }


__all__ = [
    "CLOSED_WEEKDAYS", "amount_summary", "basket_sizes", "basket_summary", "cohort_counts",
    "cohort_retention", "cohort_sizes", "customer_invoices", "headline_numbers", "invoice_amounts",
    "monthly_active_users",
    "monthly_orders", "monthly_sales", "new_vs_existing", "partial_months", "sales_by_country",
    "trim_to_quantile", "yyyymm",
]


TOP = 10  # countries and products the report names; the rest are "Other"


def analyse(cleaned: CleanResult, transactions: pd.DataFrame, products: pd.DataFrame, top: int = TOP,
            start: dt.date | str | None = None) -> Analysis:
    """Every sales aggregate of the report, from the cleaned lines, all lines and the best products
    (ranked in SQL); ``start``, the window's first day, tells a month the window cuts from one the shop
    opened late in."""
    purchases, cancellations = cleaned.purchases, cleaned.cancellations
    amounts = invoice_amounts(purchases)["amount"]
    amounts_p85 = trim_to_quantile(amounts, 0.85)
    baskets = basket_sizes(purchases)
    return Analysis(
        audit=cleaned.audit,
        headline=headline_numbers(purchases, cancellations, transactions, start),
        amounts=amounts,
        amounts_summary=amount_summary(amounts),
        amounts_p85=amounts_p85,
        amounts_p85_summary=amount_summary(amounts_p85),
        orders=monthly_orders(transactions, start),
        sales=monthly_sales(purchases, cancellations, start),
        active_users=monthly_active_users(transactions, purchases, start),
        new_vs_existing=new_vs_existing(purchases, start),
        retention=cohort_retention(purchases),
        countries=sales_by_country(purchases, cancellations, top=top),
        products=products,
        baskets=basket_summary(baskets),
        baskets_by_month=basket_summary(baskets, by_month=True),
    )
