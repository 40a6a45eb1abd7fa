"""What each chart shows, in one sentence computed from the page's own numbers: the chart's alt text
and caption. Computed, never written in the notebook, so it is right for whatever window, as-of
date or data the page has (no caption about an autumn peak in a spring window).

Pure: a :class:`~lgs_analytics.results.Page` in, a sentence out.
"""

from __future__ import annotations

import pandas as pd

from lgs_analytics.analytics import history, metrics, recommend, segments
from lgs_analytics.numbers import count, gbp, pct
from lgs_analytics.results import Page

# What each monthly customer count counts (analytics.metrics.monthly_active_users): said the same way
# on the charts, in their captions and in the key trends.
ACTIVE = "active customers (any invoice, cancellations included)"
BUYING_NOUN = "buying customers"
BUYING = f"{BUYING_NOUN} (with a product purchase)"


def _complete(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[~frame["is_partial"]] if "is_partial" in frame else frame


def _partial_clause(frame: pd.DataFrame) -> str:
    partial = frame.loc[frame["is_partial"], "month"] if "is_partial" in frame else []
    if len(partial) == 0:
        return ""
    months = " and ".join(f"{m:%B %Y}" for m in partial)
    return f" {months} {'is' if len(partial) == 1 else 'are'} partial and shaded, not compared."


def _peak(frame: pd.DataFrame, column: str) -> pd.Series | None:
    complete = _complete(frame)
    return None if complete.empty else complete.loc[complete[column].idxmax()]


def invoice_amounts(page: Page) -> str:
    s = page.analysis.amounts_summary
    return (
        f"Half of the {count(s['count'])} orders were worth under {gbp(s['median'], 2)}; the mean, "
        f"{gbp(s['mean'], 2)}, is pulled up by a few very large orders (the largest {gbp(s['max'], 2)})."
    )


def invoice_amounts_p85(page: Page) -> str:
    s, p85 = page.analysis.amounts_p85_summary, page.analysis.amounts_summary["p85"]
    return (
        f"Among the {count(s['count'])} orders at or below the 85th percentile, {gbp(p85, 2)} (the "
        f"largest of them {gbp(s['max'], 2)}), the median order is {gbp(s['median'], 2)} and the most "
        f"common amount {gbp(s['mode'], 2)}."
    )


def orders_reconciled(page: Page) -> str:
    """How the orders chart's bars (every purchase invoice) add up to the headline's orders."""
    placed = int(page.analysis.orders["placed"].sum())
    customer_orders = page.analysis.headline["customer_orders"]
    return (
        f"The bars count all {count(placed)} purchase invoices, guest orders and invoices with no product "
        f"line included: the {count(customer_orders)} orders of the headline figures are identified "
        f"customers' product orders, {count(placed - customer_orders)} fewer."
    )


def monthly_orders(page: Page) -> str:
    orders = page.analysis.orders
    peak = _peak(orders, "placed")
    if peak is None:
        return "No complete month to compare." + _partial_clause(orders) + " " + orders_reconciled(page)
    share = orders["cancelled"].sum() / max(orders["placed"].sum(), 1) * 100
    return (
        f"Purchase invoices peaked in {peak['month']:%B %Y} at {count(peak['placed'])}; over the period "
        f"there was one cancellation invoice for every {100 / share:.0f} purchase invoices."
        if share
        else f"Purchase invoices peaked in {peak['month']:%B %Y} at {count(peak['placed'])}."
    ) + _partial_clause(orders) + " " + orders_reconciled(page)


def monthly_sales(page: Page) -> str:
    sales = page.analysis.sales
    peak = _peak(sales, "net_sales")
    if peak is None:
        return "No complete month to compare." + _partial_clause(sales)
    season = ", in the Q4 gift season" if peak["month"].quarter == 4 else ""
    return (
        f"Net sales peaked in {peak['month']:%B %Y} at {gbp(peak['net_sales'])}{season}; the period's net "
        f"sales were {gbp(sales['net_sales'].sum())}." + _partial_clause(sales)
    )


def growth_title(sales: pd.DataFrame) -> str:
    """The growth chart's title: the year-before comparison only when some month has one."""
    yearly = "yoy_pct" in sales and sales["yoy_pct"].notna().any()
    return ("Monthly sales growth: on the month before and on the same month a year before (%)" if yearly
            else "Monthly sales growth on the month before (%)")


def monthly_growth(page: Page) -> str:
    sales = page.analysis.sales
    growth = sales.dropna(subset=["growth_pct"])
    parts = []
    if len(growth):
        up, down = growth.loc[growth["growth_pct"].idxmax()], growth.loc[growth["growth_pct"].idxmin()]
        parts.append(
            f"The largest rise on the month before was {up['month']:%B %Y} ({up['growth_pct']:+.0f}%), "
            f"the largest fall {down['month']:%B %Y} ({down['growth_pct']:+.0f}%)."
        )
    yearly = sales.dropna(subset=["yoy_pct"]) if "yoy_pct" in sales else sales.iloc[0:0]
    if len(yearly):
        last = yearly.iloc[-1]
        parts.append(
            f"Against the same month a year before, {last['month']:%B %Y} was {last['yoy_pct']:+.0f}%."
        )
    else:
        parts.append(
            "Year-over-year growth needs the same complete month a year apart: this window has none."
        )
    return " ".join(parts)


def active_peak(users: pd.DataFrame) -> str:
    """The peak of monthly active customers, with how many of them bought: each number says what it
    counts. Empty when there is no complete month."""
    peak = _peak(users, "active_customers")
    if peak is None:
        return ""
    buying = (f"; {count(peak['buying_customers'])} of them were {BUYING}"
              if "buying_customers" in peak else "")
    return (f"Monthly {ACTIVE} peaked at {count(peak['active_customers'])} in {peak['month']:%B %Y}"
            f"{buying}.")


def active_customers(page: Page) -> str:
    users = page.analysis.active_users
    return (active_peak(users) or "No complete month to compare.") + _partial_clause(users)


def data_start(page: Page, first_month: pd.Period, cohorts: bool = False) -> str:
    """Why the first month's customers are not all new: the data's first date is not the shop's.
    Said of the first month's new customers, or (``cohorts``) of the first cohort."""
    start = page.analysis.headline["period_start"]
    first, later = ((f"the {first_month:%B %Y} cohort is every customer of that month", "the next cohorts")
                    if cohorts else (f"all {first_month:%B %Y}'s customers count as new",
                                     "the next months' new ones"))
    return (
        f"The data start on {start.day} {start:%B %Y}, so a first purchase here is only the first in "
        f"the data: {first}, the existing customer base included, and {later} include regulars seen "
        "here for the first time."
    )


def new_vs_existing(page: Page) -> str:
    frame = page.analysis.new_vs_existing
    complete = _complete(frame).iloc[1:]  # the first month's customers are all "new"
    start = " " + data_start(page, frame["month"].iloc[0]) if len(frame) else ""
    if complete.empty:
        return "Too few complete months to tell new from existing customers." + _partial_clause(frame) + start
    last = complete.iloc[-1]
    total = last["new_customers"] + last["existing_customers"]
    return (
        f"In {last['month']:%B %Y}, {count(last['new_customers'])} of {count(total)} {BUYING_NOUN} "
        f"({pct(last['new_customers'] / max(total, 1) * 100, 0)}) bought for the first time."
        + _partial_clause(frame) + start
    )


def cohort_retention(page: Page) -> str:
    retention = page.analysis.retention
    if retention.shape[1] < 2 or retention[retention.columns[1]].dropna().empty:
        return "The window is too short to see any cohort come back."
    month1 = retention[retention.columns[1]].dropna()
    best = month1.idxmax()
    return (
        f"On average {pct(month1.mean() * 100, 0)} of a cohort bought again the month after its first "
        f"purchase; the {best:%B %Y} cohort kept the most ({pct(month1.max() * 100, 0)}). "
        + data_start(page, retention.index[0], cohorts=True)
    )


def countries(page: Page) -> str:
    c = page.analysis.countries
    if c.empty:
        return "No sales by country in this window."
    top = c.iloc[0]
    share = pct(top["share_pct"], 0)
    return f"{top['country']} brought {share} of net sales, {count(top['customers'])} customers."


def countries_abroad(page: Page) -> str:
    outside = metrics.abroad(page.analysis.countries)
    abroad = outside[outside["country"] != metrics.OTHER].head(3)  # the named markets
    if abroad.empty:
        return "No sales outside the United Kingdom in this window."
    names = ", ".join(f"{r.country} ({gbp(r.sales)})" for r in abroad.itertuples())
    return f"Outside the United Kingdom the largest markets were {names}."


def customer_map(page: Page) -> str:
    """The map's finding: how many countries, the home share, the largest market abroad."""
    from lgs_analytics.analytics.geography import UK, by_country
    from lgs_analytics.privacy import MIN_CELL

    rows = by_country(page.campaign)
    if rows.empty:
        return "No customers to place on the map."
    home = rows[rows["region"] == UK]["customers"].sum()
    abroad = rows[(rows["region"] != UK) & (rows["customers"] >= MIN_CELL)]  # no figure about fewer than ten
    text = (f"{count(len(rows))} countries; {pct(100 * home / rows['customers'].sum(), 1)} of the customers "
            "are in the United Kingdom")
    if len(abroad):
        first = abroad.sort_values("spend", ascending=False).iloc[0]
        text += (f"; abroad, {first['country']} brings the most ({gbp(first['spend'])}, "
                 f"{count(first['customers'])} customers)")
    return text + "."


def top_products(page: Page) -> str:
    p = page.analysis.products
    if p.empty:
        return "No product sales in this window."
    top = p.iloc[0]
    return (
        f"The best seller, net of cancellations, was {str(top['description']).strip().title()} "
        f"({gbp(top['revenue'])} from {count(top['invoices'])} orders)."
    )


def sold_together(page: Page) -> str:
    if page.recommendations is None or recommend.strongest_pairs(page.recommendations.pairs).empty:
        return "No two products were bought together in 3 baskets or more."
    top = recommend.strongest_pairs(page.recommendations.pairs).iloc[0]
    return (f"The strongest pair: {pct(100 * top['share'], 0)} of the baskets with "
            f"{str(top['description']).strip().title()} also hold "
            f"{str(top['related_description']).strip().title()} "
            f"({count(top['baskets_together'])} baskets, {top['lift']:,.0f} times what chance would give).")


def basket_size(page: Page) -> str:
    b = page.analysis.baskets
    if b.empty:
        return "No orders in this window."
    row = b.iloc[0]
    return (
        f"A typical order holds {row['median_lines']:.0f} different products and {row['median_units']:.0f} "
        f"units (medians over {count(row['invoices'])} orders)."
    )


def segment_shares(summary: pd.DataFrame) -> pd.DataFrame:
    """The segment summary with ``customer_share`` and ``revenue_share`` (%) computed from its
    customers and revenue, the numbers every reader has alike (the mart keeps the shares rounded to
    2 decimals, which a 1-decimal label would round a second time: 3.9455% -> 3.95 -> 4.0%)."""
    customers, revenue = summary["customers"].sum(), summary["revenue"].sum()
    return summary.assign(
        customer_share=100.0 * summary["customers"] / customers if customers else 0.0,
        revenue_share=100.0 * summary["revenue"] / revenue if revenue else 0.0)


def segment_sizes(page: Page) -> str:
    seg = segment_shares(page.scores.segments)
    seg = seg[seg["customers"] > 0]
    if seg.empty:
        return "No customer scored."
    richest = seg.loc[seg["revenue_share"].idxmax()]
    return (
        f"{richest['segment']} are {pct(richest['customer_share'], 0)} of customers but bring "
        f"{pct(richest['revenue_share'], 0)} of revenue."
    )


# score column -> (the value it ranks, its letter, whether more is better, the value in words)
_SCORED = {
    "r_score": ("recency", "R", False, lambda v: f"who last bought {count(v)} day{'s' if v != 1 else ''} "
                                                   "before the as-of date"),
    "f_score": ("frequency", "F", True, lambda v: f"with {count(v)} order{'s' if v != 1 else ''}"),
}


def _score_gap(customers: pd.DataFrame, column: str, empty: list[int]) -> str:
    """Why the scores ``empty`` (a run of consecutive ones no customer has) are skipped: scores are
    tie-robust, so a large group of equal values shares one score and the next value jumps past."""
    value, letter, more_is_better, words = _SCORED[column]
    scores = customers[column]
    names = " or ".join(f"{letter}={s}" for s in empty)
    below, above = scores[scores < empty[0]], scores[scores > empty[-1]]
    sides = []
    for side, toward_gap in ((below, more_is_better), (above, not more_is_better)):
        if side.empty:
            continue
        score = int(side.max() if side is below else side.min())
        values = customers.loc[scores == score, value]
        edge = values.max() if toward_gap else values.min()
        sides.append((int((values == edge).sum()), edge, score))
    if not sides:
        return f"no customer scores {names}."
    size, edge, score = max(sides, key=lambda s: s[0])
    share = pct(size / len(customers) * 100, 0)
    other = [s for s in sides if s[2] != score]
    tail = f", while customers {words(other[0][1])} already score {letter}={other[0][2]}" if other else ""
    return (f"no customer scores {names}: the {count(size)} customers {words(edge)} ({share}) all share "
            f"{letter}={score} (tied values share a score){tail}.")


def rf_gaps(customers: pd.DataFrame) -> list[str]:
    """One sentence per run of recency or frequency scores no customer has (an empty row or column
    of the R x F grid), saying why; none when every score is used."""
    gaps = []
    if customers.empty:
        return gaps
    for column in ("r_score", "f_score"):
        used = set(customers[column].astype(int))
        run: list[int] = []
        for s in [*range(1, 6), 6]:
            if s <= 5 and s not in used:
                run.append(s)
            elif run:
                gaps.append(_score_gap(customers, column, run))
                run = []
    return [g[0].upper() + g[1:] for g in gaps]


def rf_grid(page: Page) -> str:
    c = page.scores.customers
    best = int(((c["r_score"] >= 4) & (c["f_score"] >= 4)).sum())
    gone = int(((c["r_score"] <= 2) & (c["f_score"] <= 2)).sum())
    return " ".join([
        f"{count(best)} customers bought recently and often (scores 4–5 on both); {count(gone)} bought "
        "rarely and long ago (1–2 on both).", *rf_gaps(c)])


def segment_profiles(page: Page) -> str:
    seg = page.scores.segments.dropna(subset=["mean_monetary"])
    if seg.empty:
        return "No customer scored."
    top, low = seg.loc[seg["mean_monetary"].idxmax()], seg.loc[seg["mean_monetary"].idxmin()]
    return (
        f"{top['segment']} spent {gbp(top['mean_monetary'])} each on average, {low['segment']} "
        f"{gbp(low['mean_monetary'])}."
    )


def holdout_check(page: Page) -> str:
    m = page.forecast.holdout_metrics
    if not m:
        return "No holdout check: too little history before the last six months."
    return (
        f"Fitted on all but the last six months, the model predicted {count(m['total_predicted'])} "
        f"purchases in them against {count(m['total_actual'])} made ({m['error_pct']:+.1f}%)."
    )


def clv_distribution(page: Page) -> str:
    clv = page.forecast.customers["clv"].sort_values(ascending=False)
    tenth = max(len(clv) // 10, 1)
    share = clv.head(tenth).sum() / clv.sum() * 100 if clv.sum() > 0 else float("nan")
    return (
        f"The top 10% of customers carry {pct(share, 0)} of the {gbp(clv.sum())} expected over the next "
        "12 months."
    )


def p_alive_by_segment(page: Page) -> str:
    by_segment = segments.repeat_buyers_p_alive(page.forecast.customers, page.scores.customers)
    if by_segment.empty:
        return "No repeat buyer to judge."
    low = by_segment.iloc[-1]
    return (
        f"Among repeat buyers, {low.name} have the lowest chance of still buying "
        f"({pct(low['mean'] * 100, 0)} "
        "on average); one-time buyers are left out, the model cannot judge them."
    )


def migration(page: Page) -> str:
    """Who moved between the migration's two dates, and the money moving with them."""
    table = page.migration
    if table is None or table.empty:
        return "No segment history before the as-of date yet: the migration shows after the next build."
    s = history.migration_summary(table)
    start, end = (pd.Timestamp(table.attrs[k]) for k in ("start", "end"))
    return (
        f"From {start:%-d %b %Y} to {end:%-d %b %Y}, {count(s['changed'])} of the "
        f"{count(s['start_customers'])} customers changed segment and {count(s['new_customers'])} new ones "
        f"arrived; {count(s['slipped_customers'])} Champions or Loyal Customers slipped into a win-back "
        f"segment (they had spent {gbp(s['slipped_spend_before'])} before), and "
        f"{count(s['won_back_customers'])} At Risk, Can't Lose or Hibernating customers came back, spending "
        f"{gbp(s['won_back_spend_between'])} meanwhile."
    )
