"""Words and tables for stakeholders: the executive summary, the cleaning audit and the
segment action table, as HTML the notebook displays (and the exported report keeps).

Pure: each function takes computed results and returns an ``IPython.display.HTML``;
every number shown comes from the package's own metrics, never from the notebook.
"""

from __future__ import annotations

import html

import pandas as pd
from IPython.display import HTML

from lgs_analytics.analytics import campaign
from lgs_analytics.analytics.segment_rules import SegmentRules
from lgs_analytics.numbers import count, gbp, pct
from lgs_analytics.privacy import output_key, pseudonymise_customers
from lgs_analytics.report import findings
from lgs_analytics.results import Analysis, CampaignResult, Forecast, Page, Provenance, Scores

STYLE = """<style>
.lgs-summary {font-family: system-ui, sans-serif; max-width: 62em; line-height: 1.45}
.lgs-kpis {display: flex; flex-wrap: wrap; gap: .6em; margin: .6em 0 1em}
.lgs-kpi {border: 1px solid #d0d7de; border-radius: 6px; padding: .45em .8em; min-width: 9em}
.lgs-kpi b {display: block; font-size: 1.35em; color: #1f3b57}
.lgs-kpi span {font-size: .85em; color: #57606a}
table.lgs-table {border-collapse: collapse; margin: .5em 0 1em; font-size: .92em}
/* !important: JupyterLab's output styles right-align every table cell */
table.lgs-table th, table.lgs-table td {border-bottom: 1px solid #d0d7de; padding: .3em .7em;
  text-align: left !important; vertical-align: top}
table.lgs-table td.num, table.lgs-table th.num {text-align: right !important;
  font-variant-numeric: tabular-nums}
.lgs-banner {font-family: system-ui, sans-serif; max-width: 62em; padding: .6em 1em; margin: .4em 0;
  border-radius: 6px; font-weight: 600}
.lgs-synthetic {background: #fff1c2; border: 2px solid #b88700; color: #5c4400}
.lgs-what-if {background: #e4efff; border: 2px solid #2f6fca; color: #163a6b}
.lgs-note {font-size: .88em; color: #57606a; max-width: 62em}
.lgs-actions {max-width: none}
.lgs-actions table.lgs-table {font-size: .92em; width: 100%}
.lgs-actions td {overflow-wrap: break-word}
/* A4: fixed columns, the widest for what to do, so a long word never runs into the next column */
@media print {
  .lgs-actions table.lgs-table {table-layout: fixed; font-size: .8em}
  .lgs-actions table.lgs-table th, .lgs-actions table.lgs-table td {padding: .25em .35em}
  .lgs-actions th:nth-child(1) {width: 14%} .lgs-actions th:nth-child(2) {width: 11%}
  .lgs-actions th:nth-child(3), .lgs-actions th:nth-child(4), .lgs-actions th:nth-child(5) {width: 12%}
  .lgs-actions th:nth-child(6) {width: 26%} .lgs-actions th:nth-child(7) {width: 13%}
}
.lgs-group {color: #1f3b57}
.lgs-provenance {font-family: system-ui, sans-serif; max-width: 62em; color: #3b4450; font-size: .92em}
</style>"""


def _table(rows: list[list[str]], header: list[str], numeric: set[int]) -> str:
    def cell(tag: str, i: int, text: str) -> str:
        cls = ' class="num"' if i in numeric else ""
        return f"<{tag}{cls}>{text}</{tag}>"

    def row(values: list[str]) -> str:  # one value: a group heading across the whole table
        if len(values) == 1:
            return f'<tr><td colspan="{len(header)}">{values[0]}</td></tr>'
        return "<tr>" + "".join(cell("td", i, v) for i, v in enumerate(values)) + "</tr>"

    head = "".join(cell("th", i, html.escape(h)) for i, h in enumerate(header))
    body = "".join(row(r) for r in rows)
    return f'<table class="lgs-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def key_trends(analysis: Analysis) -> list[str]:
    """One sentence each: the peak month, the latest complete month, customers, reach."""
    sales = analysis.sales[~analysis.sales["is_partial"]]
    trends = []
    if len(sales):
        best = sales.loc[sales["net_sales"].idxmax()]
        season = ", in the Q4 gift season" if best["month"].quarter == 4 else ""
        trends.append(f"Net sales peaked in {best['month']:%B %Y} at {gbp(best['net_sales'])}{season}.")
        last = sales.iloc[-1]
        year_before = sales[sales["month"] == last["month"] - 12]
        if len(year_before) and year_before["net_sales"].iloc[0] > 0:
            change = (last["net_sales"] / year_before["net_sales"].iloc[0] - 1) * 100
            direction = "up" if change >= 0 else "down"
            trends.append(f"{last['month']:%B %Y}, the latest complete month, made {gbp(last['net_sales'])}: "
                          f"{pct(abs(change))} {direction} on {last['month'] - 12:%B %Y}.")
    active = findings.active_peak(analysis.active_users)
    if active:
        trends.append(active[0].upper() + active[1:])
    if analysis.headline["customers"]:
        repeat = pct(analysis.headline["repeat_customer_pct"], 0)
        trends.append(f"{repeat} of customers ordered more than once; "
                      f"the average order was worth {gbp(analysis.headline['average_order_value'], 2)}.")
    countries = analysis.countries
    if len(countries):
        top = countries.iloc[0]
        trends.append(f"{top['country']} brought {pct(top['share_pct'], 0)} of sales.")
    return trends


def _files(batches: tuple[dict, ...], shown: int = 4) -> str:
    """Each file with its rows read and, when some repeated lines already loaded, how many were new."""
    def repeated(b: dict) -> bool:  # builds made before rows_new was recorded have none
        return b.get("rows_new") is not None and b["rows_new"] < b.get("rows_loaded", b["rows_read"])

    names = [f"{html.escape(b['file'].rsplit('/', 1)[-1])} ({count(b['rows_read'])} rows"
             + (f", {count(b['rows_new'])} new" if repeated(b) else "")
             + (", synthetic" if b.get("synthetic") else "") + ")" for b in batches]
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def provenance_header(info: Provenance) -> HTML:
    """Which build the page shows (when, from which files and rows), with a SYNTHETIC DATA banner
    when any file came from the generator and a what-if label when the page is not the build."""
    parts = []
    if info.synthetic:
        parts.append('<div class="lgs-banner lgs-synthetic">SYNTHETIC DATA: this report was made from '
                     "generated data (lgs generate), not from LGS's real exports. Do not act on its "
                     "numbers.</div>")
    if info.what_if:
        parts.append(f'<div class="lgs-banner lgs-what-if">{html.escape(info.what_if)}</div>')
    files = _files(info.batches)
    if info.build_id is not None:
        made = f"{info.built_at:%d %B %Y, %H:%M} UTC" if info.built_at is not None else "an unknown time"
        # Overlapping exports repeat lines already loaded: say how many of the rows read were new
        # (builds made before rows_new was recorded per file say rows read only).
        new = [b.get("rows_new") for b in info.batches]
        of_which = f", {count(sum(new))} of them new lines" if new and None not in new else ""
        source = (f"Build {info.build_id}, made {made} from {len(info.batches)} file(s), "
                  f"{count(info.rows_read)} rows read{of_which}: {files}.")
    else:
        source = f"Nothing published yet; computed from {len(info.batches)} file(s): {files}."
    parts.append(f'<p class="lgs-provenance">{source}</p>')
    return HTML(STYLE + "".join(parts))


def action_box(listed: pd.DataFrame, outlook: Forecast, links: dict[str, str] | None = None) -> HTML:
    """What to do first: one row per campaign in the order to act (analytics.campaign.action_plan: the
    segments' priority), with its list.

    ``listed``: the page's campaign list (analytics.campaign.campaign_list); ``links``: campaign
    name -> the campaign file's address relative to the report (None: the files were not written).
    """
    if listed.empty:
        return HTML(STYLE + "<p>No campaign lists on this page: they are made from the standard RFM scores "
                    "(run the report with the standard method).</p>")
    plan = campaign.action_plan(listed)
    forecast = not plan["stake_basis"].eq(campaign.PAST_SPEND).loc[plan["kind"].eq("keep and grow")].any()
    why = f"no predictions: {outlook.unavailable or 'this campaign list has none'}"
    rows = []
    for kind, members in plan.groupby("kind", sort=False):
        rows.append([f'<b class="lgs-group">{html.escape(plan_heading(kind, forecast, why))}</b>'])
        for r in members.itertuples():
            link = (links or {}).get(r.campaign)
            file = (f'<a href="{html.escape(link)}">{count(r.customers)} customers (CSV)</a>' if link
                    else html.escape(r.file))
            guess = r.kind == "keep and grow" and r.stake_basis == campaign.PAST_SPEND
            stake = f"<b>{gbp(r.money_at_stake)}</b>" + (" (past spend)" if guess else "")
            expected = "no predictions" if pd.isna(r.expected_value) else gbp(r.expected_value)
            rows.append([f"<b>{html.escape(r.campaign)}</b>", count(r.customers), gbp(r.past_spend),
                         expected, stake, html.escape(r.action), file])
    table = _table(rows, ["Campaign", "Customers", "Past spend", "Expected 12-month value", "Money at stake",
                          "What to do", "Campaign list"], numeric={1, 2, 3, 4})
    grow = ("for keep-and-grow, the value the model expects from them in the next 12 months" if forecast
            else f"for keep-and-grow, with {why}, also what they have spent: a record, not a forecast")
    note = ("<p class=\"lgs-note\">Money at stake: for a win-back campaign, what its customers have spent "
            "(net of returns), which the shop loses if they go; for the churn alerts, that spend times the "
            f"model's chance of no order from them in the next 90 days; {html.escape(grow)}. A churn alert's "
            "customer is "
            "also counted in their segment.</p>")
    return HTML(f'{STYLE}<div class="lgs-summary lgs-actions">{table}{note}{_churn_sentence(listed, outlook)}'
                "</div>")


def plan_heading(kind: str, forecast: bool, why: str) -> str:
    """The action table's heading of a kind of campaign: what its money at stake is. Without
    predictions (``forecast`` False, ``why``: "no predictions: <reason>") keep-and-grow's is past
    spend, and says so: never a past figure under a forward-looking heading."""
    if kind == "win back":
        return "Win back: money at stake is what these customers spent"
    if forecast:
        return ("Keep and grow, in the order of what these customers spent: money at stake is the next "
                "12 months' expected value")
    return f"Keep and grow ({why}): money at stake is what these customers spent (past spend)"


def _churn_sentence(listed: pd.DataFrame, outlook: Forecast) -> str:
    """Why there are churn alerts or not, in one plain sentence."""
    if outlook.unavailable:
        return ("<p>No churn alerts: the prediction models could not be trusted on this data (see "
                "<i>Looking ahead</i>). Use the At Risk and Can't Lose lists above.</p>")
    flagged = listed[listed["churn_risk"]]
    if len(flagged):
        lost = int((flagged["churn_group"] == "long lost").sum())
        threshold = outlook.backtest.get("threshold")
        chance = f"{pct(threshold * 100, 0)} or more" if threshold is not None else "a high"
        return (f"<p><b>{count(len(flagged))} churn alerts</b>: valuable customers (the top quarter by past "
                f"spend) with {chance} chance of placing no order in the next 90 days (the threshold the "
                f"backtest chose), {count(len(flagged) - lost)} of them recoverable (last order within "
                f"{campaign.LONG_LOST_DAYS} days) and {count(lost)} long lost. They are listed under "
                "<i>Churn alerts</i>.</p>")
    highest = listed["p_no_order_90d"].max()
    return ("<p><b>No churn alerts.</b> No valuable customer's chance of placing no order in the next 90 "
            "days reaches the backtest's threshold (the highest of any customer is "
            f"{pct(highest * 100, 0)}). Use the At Risk and Can't Lose lists to win customers back.</p>")


def headline_figures(analysis: Analysis) -> list[tuple[str, str]]:
    """(value, what it counts) for each headline card: all on one basis, identified customers' orders."""
    h = analysis.headline
    return [
        (gbp(h["net_revenue"]), "net sales: identified customers' product sales − their cancellations"),
        (count(h["customers"]), "customers who bought (identified by a customer ID)"),
        (count(h["customer_orders"]), "orders of those customers (purchase invoices)"),
        (gbp(h["average_order_value"], 2), "average order: gross sales ÷ those orders"),
        (pct(h["cancellation_rate_pct"]), "of all invoices were cancellations"),
    ]


def reconciliation(analysis: Analysis) -> str:
    """The footnote that ties the headline figures together, and says what they leave out."""
    h = analysis.headline
    return (f"Gross sales {gbp(h['gross_revenue'])} − cancellations {gbp(h['cancelled_revenue'])} = net "
            f"{gbp(h['net_revenue'])}. Gross {gbp(h['gross_revenue'])} ÷ {count(h['customer_orders'])} "
            "orders "
            f"= {gbp(h['average_order_value'], 2)} average order (gross: before cancellations). Not in these "
            f"figures: {count(h['other_orders'])} other purchase invoices (guest orders without a customer "
            f"ID, and invoices with no product line), {count(h['purchase_orders'])} purchase invoices in "
            "all. The "
            f"cancelled share is over all {count(h['invoices'])} invoices.")


def executive_summary(analysis: Analysis, scores: Scores) -> HTML:
    """The headline figures (one basis, reconciled in a footnote), the period and the key trends."""
    h = analysis.headline
    partial = (f" The last month, {h['last_month']:%B %Y}, has only {h['last_month_days']} days of data and "
               "is marked as partial on every chart." if h["last_month_partial"] else "")
    kpi_html = "".join(f'<div class="lgs-kpi"><b>{v}</b><span>{html.escape(k)}</span></div>'
                       for v, k in headline_figures(analysis))
    trends = "".join(f"<li>{html.escape(t)}</li>" for t in key_trends(analysis))
    return HTML(
        f'{STYLE}<div class="lgs-summary">'
        f"<p>Period covered: <b>{h['period_start']:%d %B %Y}</b> to <b>{h['period_end']:%d %B %Y}</b> "
        f"({h['months_covered']} months).{html.escape(partial)} Customers scored as of "
        f"{scores.as_of:%d %B %Y}.</p>"
        f'<div class="lgs-kpis">{kpi_html}</div>'
        f'<p class="lgs-note">{html.escape(reconciliation(analysis))}</p>'
        f"<h3>Key trends</h3><ul>{trends}</ul></div>"
    )


def audit_table(audit: pd.DataFrame) -> HTML:
    """The cleaning audit: what each rule removed, in rows and GBP, reconciled to what remains."""
    rows = [[html.escape(r.step), html.escape(r.rule), count(r.rows_removed), gbp(r.revenue_removed),
             count(r.rows_remaining)] for r in audit.itertuples()]
    return HTML(STYLE + _table(rows, ["Step", "Rule", "Rows removed", "Revenue removed", "Rows remaining"],
                               numeric={2, 3, 4}))


def segment_action_table(segments: pd.DataFrame, rules: SegmentRules | None = None) -> HTML:
    """Every segment with its size, value and the campaign recommended for it, in the order to act on
    them (``priority``: the action table's order); shares as the segment chart shows them. ``rules``:
    the segment rules that scored them, named under the table when given."""
    rows = [[html.escape(r.segment), html.escape(r.description), count(r.customers), pct(r.customer_share),
             gbp(r.revenue), pct(r.revenue_share), html.escape(r.action)]
            for r in findings.segment_shares(segments).sort_values("priority", kind="stable").itertuples()]
    note = ("" if rules is None else
            f'<p class="lgs-note">Segment rules: {html.escape(rules.label)}, the map from recency and '
            "frequency scores to segments (docs/segments.md says how to change it).</p>")
    return HTML(STYLE + _table(rows, ["Segment", "Who they are", "Customers", "Share", "Revenue (GBP)",
                                      "Revenue share", "Recommended action"], numeric={2, 3, 4, 5}) + note)


def forecast_status(outlook: Forecast) -> HTML:
    """One paragraph: what the models were fitted on and how well they did, or why there are none."""
    if outlook.unavailable:
        return HTML(STYLE + f"<p><b>No predictions for this data:</b> {html.escape(outlook.unavailable)}. "
                    "Churn alerts and lifetime values are withheld rather than guessed; the segments and "
                    "campaign lists above do not depend on them.</p>")
    m = outlook.holdout_metrics
    flagged = int(outlook.customers["churn_risk"].sum())
    model = html.escape(outlook.model or "BG/NBD")
    return HTML(STYLE + "<p>Two models from the customer-base literature are fitted to every customer's "
                f"purchase history: {model}, for how often a customer buys and the chance they have silently "
                "stopped, and Gamma-Gamma, for how much an order is worth.</p>"
                f"<p>Predictions for <b>{count(len(outlook.customers))}</b> customers as of "
                f"{outlook.as_of:%d %B %Y}: <b>{count(flagged)}</b> high-value customers flagged as churn "
                f"risks; expected CLV over 12 months {gbp(outlook.customers['clv'].sum())}. In the holdout "
                f"check the model predicted {count(m['total_predicted'])} purchases against "
                f"{count(m['total_actual'])} made ({m['error_pct']:+.1f}%).</p>")


ALERT_HEADER = ["Customer", "Segment", "Last order", "Days since", "Past spend", "No order in 90 days",
                "Value at risk", "CLV (12 months)"]


def _alert_rows(alerts: pd.DataFrame) -> list[list[str]]:
    return [[html.escape(str(r.customer_id)), html.escape(r.segment), f"{r.last_order:%d %b %Y}",
             count(r.days_since), gbp(r.spend), pct(r.p_no_order_90d * 100, 0), gbp(r.value_at_risk),
             gbp(r.clv_12m)]
            for r in alerts.itertuples()]


def churn_alert_table(listed: pd.DataFrame, outlook: Forecast, pseudonymise: bool = False,
                      limit: int = 20) -> HTML:
    """The valuable customers the model thinks are slipping away, highest value at risk first: the
    recoverable (a call this week) apart from the long lost (a low-cost win-back).

    With ``pseudonymise``, customer IDs show as keyed pseudonyms (privacy.pseudonym_key()).
    """
    if outlook.unavailable:
        return HTML(STYLE + "<p>No churn alerts: the prediction models could not be trusted on this data "
                    "(see above).</p>")
    alerts = campaign.churn_alerts(listed)
    if alerts.empty:
        return HTML(STYLE + "<p>No customer is both valuable and likely to have stopped buying.</p>")
    key = output_key(pseudonymise)
    parts = []
    for group, heading, advice in (
            ("recoverable", "Recoverable", "last order within a year: call them this week"),
            ("long lost", "Long lost", f"silent for over {campaign.LONG_LOST_DAYS} days: a low-cost win-back "
                                       "mailing, not a call")):
        members = alerts[alerts["churn_group"] == group]
        if members.empty:
            continue
        shown = pseudonymise_customers(members.head(limit), key)
        more = (f" The {len(shown)} with the most value at risk are shown; the campaign list has all "
                f"{len(members):,}." if len(members) > len(shown) else "")
        parts.append(f"<h4>{heading}: {count(len(members))} customers ({advice})</h4>"
                     + _table(_alert_rows(shown), ALERT_HEADER, numeric={3, 4, 5, 6, 7})
                     + f"<p>{html.escape(more)}</p>")
    loyal = alerts[alerts["segment"].isin(["Loyal Customers", "Champions"])]
    if len(loyal):
        parts.append(f"<p>{count(len(loyal))} flagged customers are in a loyal segment (Loyal Customers or "
                     "Champions): RFM scores them on their many past orders, while the model sees that they "
                     "have been silent much longer than their usual gap between orders.</p>")
    if pseudonymise:
        parts.append("<p>Customer IDs are pseudonymised: whoever holds the key (LGS_PSEUDONYM_KEY) can match "
                     "them to the campaign files made with it.</p>")
    return HTML(STYLE + "".join(parts))


def candidates_text(outlook: Forecast) -> HTML:
    """One sentence: each candidate purchase model's holdout error, and which one is published."""
    parts = [f"{html.escape(c['model'])} {c['error_pct']:+.1f}%" if c.get("fitted")
             else f"{html.escape(c['model'])} could not be fitted" for c in outlook.candidates.values()]
    if not parts:
        return HTML("")
    chosen = (f" The published predictions use {html.escape(outlook.model)}, the closest that passed."
              if outlook.model else "")
    return HTML(f"<p>Each candidate model was tested this way; its error on the total purchases: "
                f"{'; '.join(parts)}.{chosen}</p>")


BACKTEST_HEADER = ["Rule", "Group", "Customers", "Did not come back", "Their past spend"]


def backtest_section(outlook: Forecast) -> HTML:
    """The churn flag's backtest: customers scored as of six months before the data's end, flagged
    or not, and how many of each group bought nothing in the six months after; beside the plain
    "2 x mean gap" rule on the same customers."""
    bt = outlook.backtest
    if not bt:
        return HTML("")
    rows = [[html.escape(r["rule"]), html.escape(r["group"]), count(r["customers"]),
             "–" if r["not_returned_pct"] is None else pct(r["not_returned_pct"]), gbp(r["past_spend"])]
            for r in bt["rows"]]
    intro = (f"<h3>Would the churn flag have worked? The backtest</h3><p>Every customer was scored as of "
             f"{pd.Timestamp(bt['as_of']):%d %B %Y} by {html.escape(bt['model'])} fitted on the purchases "
             f"before then; the model flags a customer whose chance of no order in the next "
             f"{bt['horizon_days']} days is at least {bt['threshold'] * 100:.0f}% (the threshold that best "
             f"separated, on this data, those who came back from those who did not). The table shows who "
             f"bought nothing in the {bt['days_after']} days after, beside the plain rule "
             f"\u201cdays since the last order over twice the customer's usual gap\u201d "
             f"(it cannot judge one-time buyers, who stay in its not-flagged group).</p>")
    return HTML(intro + _table(rows, BACKTEST_HEADER, numeric={2, 3, 4}))


SEASON_HEADER = ["Month", "Days in the holdout", "Purchases", "Predicted", "Error"]
SEASON_MIN_DAYS = 15  # a month with fewer holdout days is listed but not judged
SEASON_TOLERANCE_PCT = 10.0  # a month missed by less is not worth a warning
GIFT_SEASON = (10, 11, 12)


def seasonality_sentence(rows: list[dict]) -> str:
    """One or two sentences on the holdout error by month (predict.holdout_by_month): the month the
    model misses most, which way, and what to expect from it; '' without months to judge."""
    judged = [r for r in rows if r["days"] >= SEASON_MIN_DAYS and r["error_pct"] is not None]
    if not judged:
        return ""
    under = min(judged, key=lambda r: r["error_pct"])
    over = max(judged, key=lambda r: r["error_pct"])
    if under["error_pct"] > -SEASON_TOLERANCE_PCT and over["error_pct"] < SEASON_TOLERANCE_PCT:
        worst = max(abs(under["error_pct"]), abs(over["error_pct"]))
        return (f"Month by month the model stays within {worst:.0f}% of the purchases made: no season in "
                "the holdout throws it off.")
    if -under["error_pct"] >= over["error_pct"]:
        month = pd.Timestamp(under["month"])
        when = "in the gift season" if month.month in GIFT_SEASON else f"in {month:%B}"
        text = (f"The model under-predicts {month:%B %Y} by {-under['error_pct']:.0f}%: it assumes a steady "
                f"buying rate, so expect more orders {when} than it says.")
        short = sum(r["actual"] - r["predicted"] for r in rows)
        gap = under["actual"] - under["predicted"]
        if short > 0 and gap > short:
            text += (f" {month:%B} alone is {count(gap)} purchases short, more than the whole holdout's net "
                     f"shortfall of {count(short)}.")
        elif short > 0 and gap / short >= 0.4:
            text += (f" {month:%B} alone makes up {100 * gap / short:.0f}% of the holdout's shortfall of "
                     f"{count(short)} purchases.")
        return text
    month = pd.Timestamp(over["month"])
    return (f"The model over-predicts {month:%B %Y} by {over['error_pct']:.0f}%: it assumes a steady buying "
            f"rate, so expect fewer orders in {month:%B} than it says.")


def seasonality_section(outlook: Forecast) -> HTML:
    """The holdout error by calendar month: is the November peak a problem for the holdout check?"""
    rows = outlook.by_month
    if not rows:
        return HTML("")
    table = [[f"{pd.Timestamp(r['month']):%B %Y}", count(r["days"]), count(r["actual"]),
              f"{r['predicted']:,.1f}", "–" if r["error_pct"] is None else f"{r['error_pct']:+.1f}%"]
             for r in rows]
    partial = [f"{pd.Timestamp(r['month']):%B}" for r in rows
               if r["days"] < pd.Timestamp(r["month"]).days_in_month]
    note = (f" Only part of {' and '.join(partial)} is in the holdout (a month with fewer than "
            f"{SEASON_MIN_DAYS} days there is not judged)." if partial else "")
    return HTML("<h3>Does the season throw it off? The holdout by month</h3><p>"
                + html.escape(seasonality_sentence(rows) + note) + "</p>"
                + _table(table, SEASON_HEADER, numeric={1, 2, 3, 4}))


def outlook(page: Page, pseudonymise: bool = False) -> HTML:
    """The prediction section: what the models say and how far to trust them. The holdout check and
    the churn backtest are always shown, also when the predictions are withheld (then after the
    reason, in words)."""
    from lgs_analytics.report import figures

    status = forecast_status(page.forecast).data
    evidence = ["<h3>Can we trust it? The holdout check</h3><p>The models were fitted on all but the last "
                "six months, then asked to predict those months. The bars compare the purchases customers "
                "made with the prediction, grouped by how often they had bought before.</p>",
                figures.charts(("holdout_check",), page).data if not page.forecast.holdout_buckets.empty
                else "<p>No holdout check could be made on this data.</p>",
                candidates_text(page.forecast).data, seasonality_section(page.forecast).data,
                backtest_section(page.forecast).data]
    if page.forecast.unavailable:
        return HTML(status + "".join(evidence))
    parts = [status, *evidence,
             "<h3>Customer lifetime value</h3><p>The value each customer is expected to bring in the next 12 "
             "months, discounted by 1% a month.</p>",
             figures.charts(("clv_distribution",), page).data,
             "<h3>Who is still buying?</h3><p>The model's chance that a customer still buys, averaged per "
             "segment over customers with more than one order.</p>",
             figures.charts(("p_alive_by_segment",), page).data,
             "<h3>Churn alerts</h3><p>Valuable customers (the top quarter by past spend, net of returns) "
             "whose chance of no order in the next "
             f"{page.forecast.horizon_days} days is at or above the backtested threshold, highest value at "
             "risk first (past spend × that chance).</p>",
             churn_alert_table(page.campaign, page.forecast, pseudonymise).data]
    return HTML("".join(parts))


CAMPAIGN_HEADER = ["Campaign", "List, as of", "Treated / control", "Ordered: treated vs control",
                   "Spend per customer: treated vs control", "Result"]


def _campaign_row(result: CampaignResult) -> list[str]:
    u = result.uplift
    ordered = spend = "–"
    if u is not None:
        ordered = f"{u.treated.share_ordered:.0%} vs {u.control.share_ordered:.0%}"
        spend = f"{gbp(u.treated.spend_mean)} vs {gbp(u.control.spend_mean)}"
    return [f"<b>{html.escape(result.name)}</b>",
            f"{html.escape(result.list_name)}, {result.as_of:%d %b %Y}",
            f"{count(result.treated)} / {count(result.control)} ({result.control_share:.0%} kept back)",
            ordered, spend,
            f'{html.escape(result.sentence)}<br><span class="lgs-note">{html.escape(result.measured_on)}'
            "</span>"]


def campaign_results(results: list[CampaignResult]) -> HTML:
    """The "Campaign results" section: each campaign recorded with a control group (``lgs campaign
    --name``), its groups compared over its window with the 95% intervals, and what it was measured
    on; nothing at all when no campaign is recorded."""
    if not results:
        return HTML("")
    intro = ("<p>Each campaign recorded with a control group: the customers kept back (never contacted) "
             "against those contacted, over the campaign's window from its as-of date. The difference is "
             "treated minus control, with its 95% interval (Welch for the spend per customer, net of "
             "cancellations; Newcombe's score interval for the share who ordered): an interval that "
             "covers 0 is no measurable effect.</p>")
    return HTML(STYLE + '<h2 id="Campaign-results">Campaign results</h2>' + intro
                + _table([_campaign_row(r) for r in results], CAMPAIGN_HEADER, numeric=set()))
