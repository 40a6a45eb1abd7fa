"""Words and tables for stakeholders: the executive summary, the cleaning audit and the
segment action table, as HTML the notebook displays (and the exported report keeps).

Pure: each function takes computed results and returns an ``IPython.display.HTML``;
every number shown comes from the package's own metrics, never from the notebook.
"""

from __future__ import annotations

import html

import pandas as pd
from IPython.display import HTML

from lgs_analytics.privacy import output_key, pseudonymise_customers
from lgs_analytics.report.formats import count, gbp, pct
from lgs_analytics.results import Analysis, Forecast, Provenance, Scores

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
.lgs-provenance {font-family: system-ui, sans-serif; max-width: 62em; color: #3b4450; font-size: .92em}
</style>"""


def _table(rows: list[list[str]], header: list[str], numeric: set[int]) -> str:
    def cell(tag: str, i: int, text: str) -> str:
        cls = ' class="num"' if i in numeric else ""
        return f"<{tag}{cls}>{text}</{tag}>"

    head = "".join(cell("th", i, html.escape(h)) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>" for r in rows)
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
    users = analysis.active_users[~analysis.active_users["is_partial"]]
    if len(users):
        peak = users.loc[users["active_customers"].idxmax()]
        trends.append(f"Active customers peaked at {count(peak['active_customers'])} "
                      f"in {peak['month']:%B %Y}.")
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
    names = [f"{html.escape(b['file'].rsplit('/', 1)[-1])} ({count(b['rows_read'])} rows"
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
        source = (f"Build {info.build_id}, made {made} from {len(info.batches)} file(s), "
                  f"{count(info.rows_read)} rows read: {files}.")
    else:
        source = f"Nothing published yet; computed from {len(info.batches)} file(s): {files}."
    parts.append(f'<p class="lgs-provenance">{source}</p>')
    return HTML(STYLE + "".join(parts))


def executive_summary(analysis: Analysis, scores: Scores, top_segments: int = 3) -> HTML:
    """The report's opening: period, revenue, customers, orders, top segments, key trends."""
    h = analysis.headline
    partial = (f" (the last month, {h['last_month']:%B %Y}, covers only {h['last_month_days']} days "
               "and is marked as partial on every chart)" if h["last_month_partial"] else "")
    kpis = [
        (gbp(h["net_revenue"]), "net revenue: identified customers' product sales − cancellations"),
        (count(h["customers"]), "customers who bought (identified)"),
        (count(h["purchase_orders"]), "orders placed (all purchase invoices, guests included)"),
        (pct(h["cancellation_rate_pct"]), "cancelled invoices (share of all invoices)"),
        (gbp(h["average_order_value"], 2), "average order value (gross, identified customers)"),
    ]
    kpi_html = "".join(f'<div class="lgs-kpi"><b>{v}</b><span>{html.escape(k)}</span></div>' for v, k in kpis)
    segments = scores.segments[scores.segments["customers"] > 0].head(top_segments)
    rows = [[html.escape(r.segment), count(r.customers), pct(r.customer_share), pct(r.revenue_share),
             html.escape(r.action)] for r in segments.itertuples()]
    table = _table(rows, ["Segment", "Customers", "Share of customers", "Share of revenue",
                          "Recommended action"], numeric={1, 2, 3})
    trends = "".join(f"<li>{html.escape(t)}</li>" for t in key_trends(analysis))
    return HTML(
        f'{STYLE}<div class="lgs-summary"><h2>Executive summary</h2>'
        f"<p>Period covered: <b>{h['period_start']:%d %B %Y}</b> to <b>{h['period_end']:%d %B %Y}</b> "
        f"({h['months_covered']} months){html.escape(partial)}. "
        f"Customers scored with the <b>{html.escape(scores.method)}</b> RFM method as of "
        f"{scores.as_of:%d %B %Y}.</p>"
        f'<div class="lgs-kpis">{kpi_html}</div>'
        f"<h3>Largest customer segments</h3>{table}"
        f"<h3>Key trends</h3><ul>{trends}</ul></div>"
    )


def audit_table(audit: pd.DataFrame) -> HTML:
    """The cleaning audit: what each rule removed, in rows and GBP, reconciled to what remains."""
    rows = [[html.escape(r.step), html.escape(r.rule), count(r.rows_removed), gbp(r.revenue_removed),
             count(r.rows_remaining)] for r in audit.itertuples()]
    return HTML(STYLE + _table(rows, ["Step", "Rule", "Rows removed", "Revenue removed", "Rows remaining"],
                               numeric={2, 3, 4}))


def segment_action_table(segments: pd.DataFrame) -> HTML:
    """Every segment with its size, value and the campaign recommended for it."""
    rows = [[html.escape(r.segment), html.escape(r.description), count(r.customers), pct(r.customer_share),
             gbp(r.revenue), pct(r.revenue_share), html.escape(r.action)]
            for r in segments.sort_values("priority").itertuples()]
    return HTML(STYLE + _table(rows, ["Segment", "Who they are", "Customers", "Share", "Revenue (GBP)",
                                      "Revenue share", "Recommended action"], numeric={2, 3, 4, 5}))


def forecast_status(outlook: Forecast) -> HTML:
    """One paragraph: what the models were fitted on and how well they did, or why there are none."""
    if outlook.unavailable:
        shows = ("The check on the last six months is shown below; the other prediction charts are left "
                 "empty." if not outlook.holdout_buckets.empty else "The prediction charts below are empty.")
        return HTML(STYLE + f"<p><b>No predictions for this data:</b> {html.escape(outlook.unavailable)}. "
                    f"Churn alerts and lifetime values are withheld rather than guessed. {shows} The RFM "
                    "segments above do not depend on these models.</p>")
    m = outlook.holdout_metrics
    flagged = int(outlook.customers["churn_risk"].sum())
    return HTML(STYLE + f"<p>Predictions for <b>{count(len(outlook.customers))}</b> customers as of "
                f"{outlook.as_of:%d %B %Y}: <b>{count(flagged)}</b> high-value customers flagged as churn "
                f"risks; expected CLV over 12 months {gbp(outlook.customers['clv'].sum())}. In the holdout "
                f"check the model predicted {count(m['total_predicted'])} purchases against "
                f"{count(m['total_actual'])} made ({m['error_pct']:+.1f}%).</p>")


def churn_alert_table(outlook: Forecast, pseudonymise: bool = False, limit: int = 20) -> HTML:
    """The most valuable customers the model thinks are slipping away, for a personal call.

    With ``pseudonymise``, customer IDs show as keyed pseudonyms (privacy.pseudonym_key()).
    """
    if outlook.unavailable:
        return HTML(STYLE + "<p>No churn alerts: the predictive models could not be fitted (see above).</p>")
    alerts = outlook.alerts
    flagged = int(outlook.customers["churn_risk"].sum())
    if alerts.empty:
        return HTML(STYLE + "<p>No customer is both high-value and likely to have lapsed.</p>")
    alerts = pseudonymise_customers(alerts.head(limit), output_key(pseudonymise))
    rows = [[html.escape(str(r.customer_id)), gbp(r.past_value), pct(r.p_alive * 100, 0),
             f"{r.expected_purchases:.2f}", gbp(r.clv), html.escape(r.reason)]
            for r in alerts.itertuples()]
    shown = len(alerts)
    more = (f"<p>The {shown} most valuable of {flagged:,} flagged customers; the web app lists them "
            "all among its churn alerts.</p>") if flagged > shown else ""
    if pseudonymise:
        more += ("<p>Customer IDs are pseudonymised: whoever holds the key (LGS_PSEUDONYM_KEY) "
                 "can match them to the CSV exports made with it.</p>")
    return HTML(STYLE + _table(rows, ["Customer", "Past value", "P(alive)", "Expected orders (90 days)",
                                      "CLV (12 months)", "Why flagged"], numeric={1, 2, 3, 4}) + more)
