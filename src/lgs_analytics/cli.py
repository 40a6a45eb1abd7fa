"""The `lgs` command: a stable contract (see README): generate, load, rfm, predict, report, refresh, db."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from lgs_analytics import config, outputs, privacy
from lgs_analytics.errors import BuildRefused, first_line, redact

ENV_SHOP_URL = "LGS_SHOP_URL"  # `lgs live`'s source: the shop's database, read-only
REFRESH_BUSY_EXIT = 75  # EX_TEMPFAIL: try again later
# Heavy modules (pandas, psycopg2, nbformat, the models) are imported by the commands that need
# them, not here: `lgs --help` stays fast and Ctrl-C in the first second is still one line.


def fail(message: str, code: int = 2) -> int:
    print(f"lgs: error: {redact(message)}", file=sys.stderr)
    return code


# --- commands ------------------------------------------------------------------------------------


def cmd_generate(args: argparse.Namespace) -> int:
    import time

    if args.out.suffix.lower() not in (".csv", ".xlsx"):
        return fail(f"--out must end in .csv or .xlsx (got '{args.out.suffix or args.out.name}')")
    from lgs_analytics.synthetic import customer_attributes, generate_export, write_attributes, write_export
    from lgs_analytics.synthetic.customers import check_attributes_path

    outputs.check_output(args.out)  # before the generating: a link or a device is never replaced
    if args.customers is not None:
        check_attributes_path(args.customers)
        outputs.check_output(args.customers)
    started = time.perf_counter()
    sheets = generate_export(rows=args.rows, seed=args.seed)
    write_export(sheets, args.out)
    rows = sum(len(s) for s in sheets.values())
    print(f"wrote {rows:,} synthetic rows (seed {args.seed}) to {args.out} "
          f"in {time.perf_counter() - started:.1f} s")
    if args.customers is not None:
        attributes = customer_attributes(sheets, args.seed)
        write_attributes(attributes, args.customers)
        print(f"wrote synthetic CRM attributes of {len(attributes):,} customers to {args.customers} "
              "(load them with lgs load-customers)")
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    from lgs_analytics.ingest.formats import ExportError
    from lgs_analytics.ingest.load import load_path

    failed = 0
    totals = [0, 0, 0, 0]
    for path in args.paths:
        try:
            result = load_path(path, progress=not args.quiet, mix_synthetic=args.mix_synthetic)
        except ExportError as exc:
            print(f"lgs: error: {exc} (nothing from this file was written)", file=sys.stderr)
            failed += 1
            continue
        print(result.summary())
        counts = (result.rows_read, result.rows_new, result.rows_duplicate, result.rows_quarantined)
        totals = [t + v for t, v in zip(totals, counts, strict=True)]
    if len(args.paths) > 1:
        print(f"total: {totals[0]:,} rows read, {totals[1]:,} loaded as new, "
              f"{totals[2]:,} duplicate, {totals[3]:,} quarantined; {failed} file(s) refused")
    return 1 if failed else 0


def cmd_load_customers(args: argparse.Namespace) -> int:
    from lgs_analytics.jobs.customers import AttributesRefused, load_attributes

    try:
        print(load_attributes(args.path).summary())
    except AttributesRefused as exc:
        return fail(str(exc), 1)
    return 0


def cmd_rfm(args: argparse.Namespace) -> int:
    from lgs_analytics.jobs.build import read_and_score

    key = privacy.output_key(args.pseudonymise)  # before the work: a missing key fails at once
    check_writable(args.out)
    scores = read_and_score(args.method, args.as_of)
    if scores.customers.empty:
        return fail(f"no customer bought before {scores.as_of:%Y-%m-%d}: nothing to score, {args.out} "
                    "not written; choose a later --as-of", 1)
    outputs.write_csv(privacy.pseudonymise_customers(scores.customers, key), args.out)
    top = scores.segments.head(3)
    shares = ", ".join(f"{r.segment} {r.customers:,}" for r in top.itertuples())
    custom = "" if scores.rules.source == "default" else f", segment rules {scores.rules.label}"
    print(f"scored {len(scores.customers):,} customers ({args.method}, as of {scores.as_of.date()}{custom}) "
          f"to {args.out}{' (customer IDs pseudonymised)' if key else ''}; largest segments: {shares}. "
          "The web app's tables are unchanged (publishing is `lgs build`'s job)")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from lgs_analytics.analytics.predict import forecast
    from lgs_analytics.jobs.build import read_cleaned

    key = privacy.output_key(args.pseudonymise and args.out is not None)
    if args.out is not None:
        check_writable(args.out)
    result = forecast(read_cleaned(), as_of=args.as_of,
                      horizon_days=args.horizon_days, strict=True)
    customers = result.customers.reset_index()
    if args.out is not None:
        outputs.write_csv(privacy.pseudonymise_customers(customers, key), args.out)
    m = result.holdout_metrics
    flagged = int(customers["churn_risk"].sum())
    print(f"predicted {len(customers):,} customers as of {result.as_of.date()} "
          f"(fit {result.fit_seconds:.2f} s): {flagged:,} flagged as churn risks; "
          f"holdout check {m['total_actual']:,.0f} actual vs {m['total_predicted']:,.0f} predicted "
          f"purchases ({m['error_pct']:+.1f}%)"
          + (f"; CSV {args.out}" if args.out else "") + (" (customer IDs pseudonymised)" if key else "")
          + ". The web app's tables are unchanged (publishing is `lgs build`'s job)")
    return 0


def cmd_campaign(args: argparse.Namespace) -> int:
    from lgs_analytics.jobs.page import published_campaign
    from lgs_analytics.report import campaigns

    if args.words:
        return campaign_results(args)
    if args.moved is not None:
        if args.segment is not None or args.churn_risk or args.due:
            return fail("--moved makes a list of its own: leave out --segment, --churn-risk and --due", 2)
        if args.name is not None or args.control is not None:
            return fail("--name and --control record a --segment, --churn-risk or --due list; a --moved list "
                        "is written without a control group", 2)
        if args.out is None:
            return fail("say where to write the list: --out FILE (.csv or .xlsx)", 2)
        return moved_campaign(args)
    if args.since is not None:
        return fail("--since goes with --moved (e.g. --moved slipped --since 2011-09-01)", 2)
    if args.segment is None and not args.churn_risk and not args.due:
        return fail("say which campaign: --segment NAME (e.g. --segment 'At Risk'), --churn-risk, --due, "
                    "--moved KIND, or several", 2)
    if args.out is None:
        return fail("say where to write the list: --out FILE (.csv or .xlsx); or see the results of recorded "
                    "campaigns with `lgs campaign results`")
    if args.name is None:
        given = [flag for flag, value in (("--control", args.control), ("--window", args.window),
                                          ("--as-of", args.as_of)) if value is not None]
        if given:
            return fail(f"{given[0]} records a campaign with a control group: give it a --name too, e.g. "
                        "--name 'At Risk win-back June'")
    key = privacy.output_key(args.pseudonymise)
    check_writable(args.out)
    campaigns.check_suffix(args.out)
    if args.name is not None:
        return record_campaign(args, key)
    build, rows = published_campaign(args.segment, args.churn_risk, args.due)
    if args.churn_risk and build.forecast_note:  # an empty file would read as "nobody is at risk"
        return fail(f"no predictions: {build.forecast_note}; build {build.build_id} has no churn alerts, "
                    f"{args.out} not written. Use --segment 'At Risk' or --segment \"Can't Lose\" instead", 1)
    campaigns.write_rows(rows, args.out, key)
    what = " ".join(filter(None, [rows["segment"].iloc[0] if args.segment and len(rows) else args.segment,
                                  "churn alerts" if args.churn_risk else "",
                                  "due back or overdue" if args.due else ""]))
    print(f"{len(rows):,} customers ({what}, build {build.build_id}, spend £{rows['spend'].sum():,.2f}) "
          f"written to {args.out}{' (customer IDs pseudonymised)' if key else ''}")
    return 0


def cmd_recommend(args: argparse.Namespace) -> int:
    from lgs_analytics.jobs.page import published_recommendations
    from lgs_analytics.report import recommendations

    if (args.customer is None) == (args.product is None):
        return fail("say for whom or what: --customer ID (their next products) or --product CODE (what sells "
                    "with it, and who would buy it next)", 2)
    if args.out is not None:
        check_writable(args.out)
    key = privacy.output_key(args.pseudonymise)
    code = args.product.strip().upper() if args.product is not None else None
    build, lists, pairs = published_recommendations(args.customer, code)
    if code is None and lists.empty:
        return fail(f"customer {args.customer} is not in build {build.build_id} (no purchase before its "
                    "as-of date): check the ID, e.g. in a campaign file", 1)
    shown = privacy.pseudonymise_customers(lists, key)
    if code is None:
        who = shown["customer_id"].iloc[0]  # the ID, or its pseudonym
        lines = recommendations.customer_lines(who, shown)
    else:
        lines = recommendations.product_lines(code, pairs, shown)
    print("\n".join(lines))
    if args.out is not None:
        outputs.write_csv(shown, args.out)
        print(f"{len(shown):,} rows written to {args.out} (build {build.build_id})")
    return 0


def record_campaign(args: argparse.Namespace, key: bytes | None) -> int:
    """``lgs campaign ... --name NAME``: record the campaign, write its treated customers only."""
    import datetime as dt

    from lgs_analytics.analytics.uplift import parse_share
    from lgs_analytics.jobs import campaigns as recorder
    from lgs_analytics.report import campaigns

    share = parse_share(args.control if args.control is not None else "10%")
    window = args.window if args.window is not None else recorder.DEFAULT_WINDOW_DAYS
    done = recorder.record(args.name, args.segment, args.churn_risk, args.due, share, window, args.as_of,
                           write=lambda rows: campaigns.write_rows(rows, args.out, key))
    source = f"build {done.build_id}" if done.build_id is not None else f"scored as of {done.as_of} in memory"
    last = done.as_of + dt.timedelta(days=window - 1)
    print(f"campaign '{done.name}' recorded ({source}): {len(done.treated):,} treated customers written to "
          f"{args.out}{' (customer IDs pseudonymised)' if key else ''}; {done.control:,} kept back as the "
          f"control group (never exported). Window {done.as_of} to {last}: then `lgs campaign results "
          f"'{done.name}'`")
    return 0


def campaign_results(args: argparse.Namespace) -> int:
    """``lgs campaign results [NAME]``: each recorded campaign's measured effect, in words."""
    from lgs_analytics.jobs import campaigns as recorder

    if args.words[0] != "results" or len(args.words) > 2:
        return fail(f"unknown campaign command {' '.join(args.words)!r}: use `lgs campaign results [NAME]`, "
                    "or --segment/--churn-risk/--due with --out to write a list")
    measured = recorder.results(args.words[1] if len(args.words) == 2 else None)
    if not measured:
        print("no campaign recorded yet: record one with `lgs campaign --segment NAME --name NAME --control "
              "10% --out FILE`")
        return 0
    for result in measured:
        u = result.uplift
        groups = "" if u is None else (
            f"  treated {u.treated.customers:,}: {u.treated.share_ordered:.1%} ordered, "
            f"£{u.treated.spend_mean:,.2f} per customer; control {u.control.customers:,}: "
            f"{u.control.share_ordered:.1%} ordered, £{u.control.spend_mean:,.2f} per customer\n")
        print(f"{result.name} ({result.list_name}, as of {result.as_of}, control "
              f"{result.control_share:.0%}):\n{groups}  {result.sentence}\n  {result.measured_on}")
    return 0


def moved_campaign(args: argparse.Namespace) -> int:
    """`lgs campaign --moved KIND`: the customers who moved between segments since a date."""
    from lgs_analytics.analytics.history import MOVED_MEANING
    from lgs_analytics.jobs.page import published_moved
    from lgs_analytics.report import campaigns

    key = privacy.output_key(args.pseudonymise)
    check_writable(args.out)
    campaigns.check_suffix(args.out)
    build, since, rows = published_moved(args.moved, args.since)
    campaigns.write_rows(rows, args.out, key)
    print(f"{len(rows):,} customers ({args.moved} since {since:%Y-%m-%d}: {MOVED_MEANING[args.moved]}; "
          f"build {build.build_id}, spend £{rows['spend'].sum():,.2f}) "
          f"written to {args.out}{' (customer IDs pseudonymised)' if key else ''}")
    return 0


def cmd_migration(args: argparse.Namespace) -> int:
    from lgs_analytics.analytics.history import migration_summary
    from lgs_analytics.jobs.page import published_migration

    if args.out is not None:
        check_writable(args.out)
        if args.out.suffix.lower() != ".csv":
            return fail(f"--out {args.out}: give a .csv file name, e.g. migration.csv", 2)
    build, table = published_migration(args.start, args.end)
    if args.out is not None:
        outputs.write_csv(table.rename(columns={"spend_before": "spend_before_gbp",
                                                "spend_between": "spend_between_gbp"}), args.out)
    print(f"segment migration from {args.start} to {args.end} (build {build.build_id}): "
          "customers, their spend before and between the dates (GBP)")
    width = max(len(s) for s in (*table["from_segment"], *table["to_segment"], "from"))
    print(f"{'from':<{width}}  {'to':<{width}}  {'customers':>9}  {'before':>13}  {'between':>13}")
    for r in table.itertuples():
        print(f"{r.from_segment:<{width}}  {r.to_segment:<{width}}  {r.customers:>9,}  "
              f"{r.spend_before:>13,.2f}  {r.spend_between:>13,.2f}")
    s = migration_summary(table)  # the report's figures: the new customers are not "changed"
    print(f"{s['start_customers']:,} customers on {args.start} + {s['new_customers']:,} new = "
          f"{s['end_customers']:,} on {args.end}; {s['changed']:,} of the {s['start_customers']:,} changed "
          f"segment; spend between £{s['spend_between']:,.2f}" + (f"; CSV {args.out}" if args.out else ""))
    return 0


def check_writable(out: Path) -> None:
    """Refuse an --out that cannot be a file before the long work starts."""
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; give a file path such as {out / 'scores.csv'}")
    in_the_way = _first_file_on(out.parent)
    if in_the_way is not None:
        raise ValueError(f"--out {out}: {in_the_way} is a file, where lgs needs a folder; give a path "
                         "in a folder (nothing was written)")
    outputs.check_output(out)  # a device, a link, a pipe: never replaced


def run_build(parameters, classic: bool | None = None, full: bool = False, quiet: bool = False) -> int:
    """Publish a build (``lgs build``, and the build step of ``report --load``) and say what it published."""
    from dataclasses import replace

    from lgs_analytics.jobs import build, page

    parameters = replace(parameters, methods=build.methods(classic, page.current_build()))
    build_id, _, line = build.run(parameters, say=(lambda _: None) if quiet else (lambda x: print(f"  {x}")),
                                  full=full)
    print(line)
    return build_id


def cmd_build(args: argparse.Namespace) -> int:
    from lgs_analytics.results import BuildParameters

    run_build(BuildParameters(("standard",), args.as_of, args.start, args.end), args.classic, args.full,
              args.quiet)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from lgs_analytics.jobs import page
    from lgs_analytics.report.render import check_outputs, render

    privacy.output_key(args.pseudonymise)  # a missing key fails before the long work
    if args.out is not None:  # before the long work, and before the database is reached
        check_writable(args.out)
        check_outputs(args.out)  # the notebook and the campaign folder beside it too
    if args.start is not None and args.end is not None and args.start > args.end:
        return fail(f"--start {args.start} is after --end {args.end}; give a window that runs forward")
    if args.load is not None:  # load + build + report: the main job
        from lgs_analytics.jobs.load import load_folder
        from lgs_analytics.results import BuildParameters

        load_folder(args.load, args.rows, progress=not args.quiet)
        run_build(BuildParameters(), quiet=args.quiet)
    current, what_if = page.view(args.method, args.as_of, args.start, args.end)
    out = args.out or config.report_path(what_if)
    check_writable(out)
    check_outputs(out)
    if current is None and not what_if:
        return fail("nothing is published yet: run `lgs build` first (or `lgs report --load data/raw`, "
                    "which loads, builds and reports)")
    if current is not None and page.is_stale():
        print("note: exports were loaded after the current build; run `lgs build` to include them",
              file=sys.stderr)
    parameters = {"method": args.method, "as_of": args.as_of and args.as_of.isoformat(),
                  "start": args.start and args.start.isoformat(), "end": args.end and args.end.isoformat(),
                  "pseudonymise": args.pseudonymise}
    shown = f"build {current.build_id}" if current is not None else "no build"
    print(f"executing {config.notebook_path().name} ({args.method} RFM; "
          f"{'a what-if, the web app keeps ' + shown if what_if else 'the published ' + shown}) ...")
    out = render(out, parameters, progress=not args.quiet)
    print(f"report written: {out.resolve()} (executed notebook beside it: {out.with_suffix('.ipynb').name})")
    return 0


def stop_on_sigterm() -> None:
    """SIGTERM (`docker stop`, systemd, kill) stops like Ctrl-C: the run is recorded as interrupted,
    with what it had committed, instead of vanishing mid-way."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def cmd_refresh(args: argparse.Namespace) -> int:
    from lgs_analytics.jobs.inbox import RefreshPaths
    from lgs_analytics.jobs.refresh import refresh
    from lgs_analytics.jobs.schedule import run_every

    check_writable(args.out)  # before any file is loaded and moved
    stop_on_sigterm()
    paths = RefreshPaths.beside(args.inbox, args.out)
    options = {"min_age_seconds": args.min_age, "force": args.force, "method": args.method,
               "pseudonymise": args.pseudonymise, "progress": not args.quiet}
    if args.every is not None:
        privacy.output_key(args.pseudonymise)
        print(f"scheduled: lgs refresh every {args.every} (inbox {paths.inbox}); Ctrl-C or SIGTERM stops it")
        run_every(paths, args.every, **options)
        return 0
    result = refresh(paths, **options)
    loaded = [f for f in result.files if f.outcome != "rejected"]
    published = f"build {result.build_id} published ({result.predictions}), " if result.build_id else ""
    rebuilt = (f"; {published}report and web-app tables rebuilt" if result.recomputed
               else "; nothing recomputed")
    print(f"refresh {result.run_id} done in {result.seconds:.1f} s: {len(loaded)} file(s) processed "
          f"({result.rows_new:,} new lines), {len(result.rejected)} rejected"
          + (f", {len(result.waiting)} left to settle" if result.waiting else "")
          + f"{rebuilt}; log {paths.log_file}")
    return 1 if result.rejected else 0


def cmd_db(args: argparse.Namespace) -> int:
    from lgs_analytics.store import db, server

    external = config.database_url_from_env()
    home = config.lgs_home()
    if args.action == "url":
        print(external or server.start(home))
    elif args.action == "start":
        with db.connect() as conn:
            version = db.server_version(conn)
        where = "DATABASE_URL" if external else f"embedded, data in {home / 'pgdata'}"
        print(f"Postgres {version} ready ({where}); schema applied")
    elif args.action == "stop":
        if external:
            return fail("DATABASE_URL is set: lgs does not stop an external server; unset it to manage "
                        "the embedded one")
        print("embedded Postgres stopped" if server.stop(home) else "embedded Postgres was not running")
    elif args.action == "reset":
        if not args.yes:
            return fail("reset deletes every loaded row and score; run `lgs db reset --yes` to confirm")
        if external:
            with db.connect(apply_schema=False) as conn:
                db.drop_objects(conn)
            print("dropped the lgs tables on the DATABASE_URL server; the next command recreates them")
        else:
            server.reset(home)
            print(f"embedded Postgres reset: {home / 'pgdata'} deleted; the next command starts afresh")
    return 0


def cmd_live(args: argparse.Namespace) -> int:
    from lgs_analytics.jobs.live import run, source_name

    url = args.source or os.environ.get(ENV_SHOP_URL, "").strip()
    if not url:
        return fail(f"say which database to read: --source postgresql://lgs_reader@shop-db:5432/shop (or set "
                    f"{ENV_SHOP_URL} in the environment or .env, so the password stays off the command line)")
    name = source_name(url, args.table)
    if not args.once:
        stop_on_sigterm()
        print(f"lgs live: reading {name} every {args.every:g} s, batches of about {args.batch:,} rows; "
              "Ctrl-C or SIGTERM stops it", flush=True)
    return run(url, args.table, args.every, args.batch, args.once, args.listen,
               say=lambda line: print(line, flush=True),
               warn=lambda line: print(line, file=sys.stderr, flush=True))


def cmd_events(args: argparse.Namespace) -> int:
    from lgs_analytics.jobs.live import live_events

    key = privacy.output_key(args.pseudonymise)
    if args.out is not None:
        check_writable(args.out)
        if args.out.suffix.lower() != ".csv":
            return fail(f"--out {args.out}: give a .csv file name, e.g. events.csv")
    events = live_events(args.since)
    shown = privacy.pseudonymise_customers(events, key)
    if args.out is not None:
        outputs.write_csv(shown, args.out)
        print(f"{len(events):,} live events since {args.since:%Y-%m-%d %H:%M} UTC written to {args.out}"
              f"{' (customer IDs pseudonymised)' if key else ''}")
        return 0
    if events.empty:
        print(f"no live event since {args.since:%Y-%m-%d %H:%M} UTC")
        return 0
    for e in shown.itertuples(index=False):
        print(f"{e.raised_at:%Y-%m-%d %H:%M:%S}  {e.kind:<12}  customer {e.customer_id}  invoice "
              f"{e.invoice_no}  {e.detail}")
    return 0


def seconds(text: str) -> float:
    """``60s``, ``2m``, ``1h`` or a plain number of seconds (at least 0.1)."""
    import re

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*", text.lower())
    if not match:
        raise argparse.ArgumentTypeError(f"expected a duration such as 60s, 2m or 1h, got {text!r}")
    value = float(match[1]) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[match[2]]
    if not 0.1 <= value <= 86_400:
        raise argparse.ArgumentTypeError(f"{text!r}: give between 0.1 s and 24 h")
    return value


def since(text: str):
    """How far back: ``24h``, ``7d``, ``30m`` before now, or a date or time (YYYY-MM-DD[ HH:MM], UTC)."""
    import datetime as dt
    import re

    match = re.fullmatch(r"\s*(\d{1,6})\s*([mhdw])\s*", text.lower())
    now = dt.datetime.now(dt.UTC)
    if match:
        unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match[2]]
        return now - dt.timedelta(**{unit: int(match[1])})
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected e.g. 24h, 7d or a date YYYY-MM-DD, got {text!r}") \
            from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def cmd_dashboard(args: argparse.Namespace) -> int:
    from lgs_analytics.dashboard.serve import serve

    return serve(args.host, args.port, args.pseudonymise, wait=args.wait)


# --- parser --------------------------------------------------------------------------------------


def positive_int(text: str) -> int:
    value = int(text.replace(",", "").replace("_", ""))
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def iso_date(text: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def interval(text: str):
    from lgs_analytics.jobs.schedule import parse_interval

    try:
        return parse_interval(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_pseudonymise(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pseudonymise", action=argparse.BooleanOptionalAction, default=privacy.pseudonymise_by_default(),
        help=f"show customer IDs as keyed pseudonyms in what this writes (key from "
             f"{privacy.ENV_PSEUDONYM_KEY}; default on when {privacy.ENV_PSEUDONYMISE}=1)")


def add_quiet(parser: argparse.ArgumentParser, what: str = "no progress bars") -> None:
    parser.add_argument("--quiet", action="store_true", help=what)


def add_method(parser: argparse.ArgumentParser, what: str = "RFM method") -> None:
    parser.add_argument("--method", choices=["classic", "standard"], default="standard", help=what)


def add_segments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--segments", type=Path, default=None, metavar="FILE",
                        help=f"segment rules (a segments.toml) to score with; default: the file "
                             f"{config.ENV_SEGMENTS} names, else the built-in map")


def add_window(parser: argparse.ArgumentParser, what_if: bool = False) -> None:
    """--as-of, --start and --end: the scores' date and the invoices' window (a what-if's, for a page)."""
    prefix = "what-if: " if what_if else ""
    parser.add_argument("--as-of", type=iso_date, default=None,
                        help=f"{prefix}score as of this date (YYYY-MM-DD); default: the day after the last "
                             "invoice of the window")
    parser.add_argument("--start", type=iso_date, default=None, help=f"{prefix}first invoice date to include")
    parser.add_argument("--end", type=iso_date, default=None, help=f"{prefix}last invoice date to include")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lgs", description="London Gift Shop retail analytics: load exports, score customers, report.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = sub.add_parser("generate", help="write a synthetic LGS export (.csv or .xlsx by suffix)")
    gen.add_argument("--rows", type=positive_int, default=config.REAL_ROW_COUNT,
                     help=f"rows over both sheets (default {config.REAL_ROW_COUNT:,}, the real size)")
    gen.add_argument("--seed", type=int, default=0, help="random seed (same seed, same file)")
    gen.add_argument("--out", type=Path, required=True, help="output path ending in .csv or .xlsx")
    gen.add_argument("--customers", type=Path, default=None, metavar="PATH.csv",
                     help="also write a CRM attributes file for the generated customers (name must say "
                          "'synthetic'; keep it out of the exports folder)")
    gen.set_defaults(func=cmd_generate)

    load = sub.add_parser("load", help="validate and load exports into Postgres (idempotent)")
    load.add_argument("paths", type=Path, nargs="+", metavar="PATH", help=".xlsx or .csv exports")
    add_quiet(load, "no progress bar")
    load.add_argument("--mix-synthetic", action="store_true",
                      help="load generated and real exports into one database (refused by default: a "
                           "build would blend them)")
    load.set_defaults(func=cmd_load)

    lcu = sub.add_parser("load-customers", help="load CRM attributes (customer id; birth date or year, "
                                                "gender, postcode or city), stored only as age band, "
                                                "gender, area")
    lcu.add_argument("path", type=Path, metavar="FILE", help="a .csv or .xlsx with a header row")
    lcu.set_defaults(func=cmd_load_customers)

    rfm = sub.add_parser("rfm", help="score every customer by RFM into a CSV "
                                     "(the web-app tables are lgs build's)")
    add_method(rfm, "standard (default): de-duplicated, net of cancellations; classic: the seed's")
    rfm.add_argument("--as-of", type=iso_date, default=None,
                     help="score as of this date (YYYY-MM-DD); default: the day after the last invoice "
                          "(standard) or 2012-01-01 (classic)")
    rfm.add_argument("--out", type=Path, required=True, help="output CSV path")
    add_segments(rfm)
    add_pseudonymise(rfm)
    rfm.set_defaults(func=cmd_rfm)

    pre = sub.add_parser("predict",
                         help="churn probability and lifetime value per customer (BG/NBD, Gamma-Gamma)")
    pre.add_argument("--as-of", type=iso_date, default=None,
                     help="predict from the purchases before this date (default: the day after the last)")
    pre.add_argument("--horizon-days", type=positive_int, default=90,
                     help="expected purchases over this many days (default 90)")
    pre.add_argument("--out", type=Path, default=None, help="also write the predictions to this CSV")
    add_pseudonymise(pre)
    pre.set_defaults(func=cmd_predict)

    cam = sub.add_parser("campaign", help="write a campaign list from the published build (.csv or .xlsx); "
                                          "with --name, record it with a control group; `lgs campaign "
                                          "results [NAME]` measures recorded campaigns")
    cam.add_argument("words", nargs="*", metavar="results [NAME]",
                     help="`results`: measure every recorded campaign, or the one named")
    cam.add_argument("--segment", metavar="NAME", help="an RFM segment, e.g. 'At Risk' or \"Can't Lose\"")
    cam.add_argument("--churn-risk", action="store_true",
                     help="only the churn alerts (with --segment: that segment's), most value at risk first")
    cam.add_argument("--due", action="store_true",
                     help="only the customers due back or overdue by their usual gap between orders, "
                          "highest spend first")
    cam.add_argument("--moved", choices=("slipped", "won-back", "second-order"),
                     help="the customers who moved between segments: slipped (Champions or Loyal now in a "
                          "win-back segment), won-back (At Risk, Can't Lose or Hibernating now active), "
                          "second-order (one order on the --since date, two or more now)")
    cam.add_argument("--since", type=iso_date, metavar="DATE",
                     help="with --moved: their segment on this date (default: the history's date before "
                          "the build's as-of date)")
    cam.add_argument("--out", type=Path, default=None, metavar="PATH",
                     help="the file to write: .csv or .xlsx")
    cam.add_argument("--name", default=None,
                     help="record the campaign under this name, keep a control group back (not in the file) "
                          "and measure it later with `lgs campaign results NAME`")
    cam.add_argument("--control", default=None, metavar="PERCENT",
                     help="with --name: the share kept back as the control group (default 10%%)")
    cam.add_argument("--window", type=positive_int, default=None, metavar="DAYS",
                     help="with --name: days after the as-of date over which the effect is measured "
                          "(default 90)")
    cam.add_argument("--as-of", type=iso_date, default=None, metavar="DATE",
                     help="with --name: score the list as of this past date, in memory (an A/A test on "
                          "loaded data); default: the published build's list")
    add_pseudonymise(cam)
    cam.set_defaults(func=cmd_campaign)

    rec = sub.add_parser("recommend", help="a customer's next products, or what sells with a product and who "
                                           "would buy it next (from the published build)")
    rec.add_argument("--customer", type=positive_int, metavar="ID", help="a customer ID, e.g. 12347")
    rec.add_argument("--product", metavar="CODE", help="a stock code, e.g. 85123A")
    rec.add_argument("--out", type=Path, default=None, metavar="PATH",
                     help="also write the customer's products (or the product's likely buyers) to this CSV")
    add_pseudonymise(rec)
    rec.set_defaults(func=cmd_recommend)

    mig = sub.add_parser("migration", help="customers moving between segments from one date to another, "
                                           "with their spend (from the segment history)")
    mig.add_argument("--from", dest="start", type=iso_date, required=True, metavar="DATE",
                     help="segments on this date (the history's latest date on or before it)")
    mig.add_argument("--to", dest="end", type=iso_date, required=True, metavar="DATE",
                     help="segments on this date")
    mig.add_argument("--out", type=Path, default=None, metavar="PATH",
                     help="also write the table to this CSV")
    mig.set_defaults(func=cmd_migration)

    bld = sub.add_parser("build", help="compute scores, segments, predictions and report aggregates and "
                                       "publish them for the web app (one transaction)")
    add_window(bld)
    bld.add_argument("--classic", action=argparse.BooleanOptionalAction, default=None,
                     help="also publish the classic (seed) scores; default: as the current build does")
    bld.add_argument("--full", action="store_true",
                     help="regroup every transaction line first instead of trusting the groups each load "
                          "added, and say how many groups differed (0: they agreed)")
    add_segments(bld)
    add_quiet(bld, "no step-by-step progress")
    bld.set_defaults(func=cmd_build)

    rep = sub.add_parser("report", help="render the published build (or a what-if) as the HTML report")
    rep.add_argument("--out", type=Path, default=None,
                     help="HTML path (default reports/retail_report.html; a what-if: "
                          "reports/retail_report_what_if.html)")
    rep.add_argument("--load", type=Path, nargs="?", const=config.raw_data_dir(), default=None, metavar="DIR",
                     help="first load every export in DIR (default data/raw/; generating one if it has "
                          "none), or the one export file given, and publish a build from it: the main job")
    rep.add_argument("--rows", type=positive_int, default=config.REAL_ROW_COUNT,
                     help="size of the export generated when --load finds none")
    add_method(rep, "RFM method (classic: a what-if unless the build publishes classic scores)")
    add_window(rep, what_if=True)
    add_segments(rep)
    add_quiet(rep)
    add_pseudonymise(rep)
    rep.set_defaults(func=cmd_report)

    ref = sub.add_parser("refresh", help="load new exports from the inbox, then rebuild scores, "
                                         "predictions and the report (the weekly job)")
    ref.add_argument("--inbox", type=Path, default=config.inbox_dir(), metavar="DIR",
                     help="folder of new exports (default data/inbox/); processed/, rejected/ and "
                          "logs/ are made beside it")
    ref.add_argument("--out", type=Path, default=config.report_path(),
                     help="HTML report path (default reports/retail_report.html)")
    add_method(ref)
    ref.add_argument("--min-age", type=float, default=300, metavar="SECONDS",
                     help="leave files changed less than this long ago for the next run, as still being "
                          "copied (default 300)")
    ref.add_argument("--force", action="store_true", help="rebuild scores and report even with nothing new")
    add_segments(ref)
    ref.add_argument("--every", type=interval, default=None, metavar="INTERVAL",
                     help="keep running: refresh every INTERVAL (e.g. 7d, 1w, 12h; 1m to 366d) counted from "
                          "the last run; the Docker scheduler uses this")
    add_quiet(ref)
    add_pseudonymise(ref)
    ref.set_defaults(func=cmd_refresh)

    dash = sub.add_parser("dashboard", help="serve the marketing dashboard of the published build "
                                            "(http://127.0.0.1:8050/)")
    dash.add_argument("--host", default="127.0.0.1",
                      help="interface to listen on (default 127.0.0.1; any other needs "
                           "LGS_DASHBOARD_PASSWORD)")
    dash.add_argument("--port", type=positive_int, default=8050, help="port (default 8050)")
    dash.add_argument("--wait", action="store_true",
                      help="with nothing published yet, wait for the first build instead of refusing "
                           "(the compose service)")
    add_pseudonymise(dash)
    dash.set_defaults(func=cmd_dashboard)

    liv = sub.add_parser("live", help="read the shop's new orders from its Postgres as they come "
                                      "(read-only), "
                                      "and raise the live events")
    liv.add_argument("--source", default=None, metavar="URL",
                     help="the shop's database (a read-only role), e.g. "
                          "postgresql://lgs_reader@shop-db/shop; "
                          f"default {ENV_SHOP_URL}")
    liv.add_argument("--table", default="retail",
                     help="its table or view in the LGS dump layout (default retail)")
    liv.add_argument("--every", type=seconds, default=60.0, metavar="DURATION",
                     help="poll this often (default 60s; e.g. 10s, 2m)")
    liv.add_argument("--batch", type=positive_int, default=5_000, metavar="N",
                     help="rows per micro-batch, in whole shop transactions (default 5000)")
    liv.add_argument("--once", action="store_true",
                     help="catch up, then stop (exit 1 if the shop is unreachable)")
    liv.add_argument("--listen", default=None, metavar="CHANNEL",
                     help="also wake on a NOTIFY on this channel (a wake-up only: polling goes on)")
    liv.set_defaults(func=cmd_live)

    evt = sub.add_parser("events", help="the live events (welcome, won back, second order, big order) "
                                        "since a "
                                        "moment, on screen or to a CSV")
    evt.add_argument("--since", type=since, default=since("24h"), metavar="WHEN",
                     help="how far back: 24h (default), 7d, 30m, or a date or time YYYY-MM-DD[ HH:MM] (UTC)")
    evt.add_argument("--out", type=Path, default=None, help="write them to this .csv (spreadsheet-safe)")
    add_pseudonymise(evt)
    evt.set_defaults(func=cmd_events)

    dbp = sub.add_parser("db", help="the database: url, start, stop, reset")
    dbp.add_argument("action", choices=["url", "start", "stop", "reset"])
    dbp.add_argument("--yes", action="store_true", help="confirm `reset`")
    dbp.set_defaults(func=cmd_db)
    return parser


def _first_file_on(folder: Path) -> Path | None:
    """The file standing where ``folder`` or one of its parents should be a folder, if any
    (``x.csv`` for ``x.csv/out``)."""
    return next((p for p in (folder, *folder.parents) if p.is_file()), None)


def _file_in_the_way(exc: BaseException) -> Path | None:
    """The file that stands where a folder was needed (``x.csv`` for ``x.csv/out/r.html``), if that
    is why ``exc`` was raised."""
    if not isinstance(exc, (FileExistsError, NotADirectoryError)) or not exc.filename or exc.filename2:
        return None  # (a link's or a rename's target: not a folder that could not be made)
    return _first_file_on(Path(os.fsdecode(exc.filename)))


def explain(exc: BaseException) -> tuple[str, int] | None:
    """(one line, exit code) for a failure a user can act on; None for a bug (shown as a traceback).

    Classes are looked up only in modules already imported: an error of a module the command
    never loaded cannot be raised.
    """
    def loaded(module: str, name: str) -> type | None:
        return getattr(sys.modules.get(module), name, None)

    ordered = [
        (BuildRefused, None, 1),
        (loaded("lgs_analytics.report.render", "ReportError"), None, 1),
        (loaded("lgs_analytics.jobs.inbox", "RefreshBusy"), None, REFRESH_BUSY_EXIT),
        (loaded("lgs_analytics.store.server", "ServerError"), None, 2),
        (loaded("lgs_analytics.store.db", "DatabaseError"), None, 2),
        (ValueError, None, 2),  # ExportError and every refusal of bad input or options
        (loaded("psycopg2", "Error"), "the database refused the operation ({}); nothing was changed", 1),
    ]
    for kind, template, code in ordered:
        if kind is not None and isinstance(exc, kind):
            return (template.format(first_line(exc)) if template else first_line(exc)), code
    blocking = _file_in_the_way(exc)
    if blocking is not None:
        return (f"{blocking}: is a file, where lgs needs a folder; give a folder's path (or move the file "
                "away)"), 2
    if isinstance(exc, OSError):  # a full disk, /dev/full, no permission
        where = f"{exc.filename}: " if exc.filename else ""
        return (f"{where}{exc.strerror or first_line(exc)}; check the path, its permissions and the free "
                "disk space (nothing half-written was kept)"), 2 if isinstance(exc, FileNotFoundError) else 1
    return None


def use_segments(path: Path | None) -> None:
    """Make ``--segments FILE`` the rules in force for this command and what it starts (the report's
    notebook), as LGS_SEGMENTS, made absolute (the notebook's kernel runs elsewhere); then check the
    rules in force, so a bad file is refused in one line before any work."""
    from lgs_analytics.analytics.segment_rules import active_rules

    name = str(path) if path is not None else os.environ.get(config.ENV_SEGMENTS, "").strip()
    if name:
        os.environ[config.ENV_SEGMENTS] = str(Path(name).expanduser().resolve())
    active_rules()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every failure a user can act on is one line on stderr and an exit code."""
    try:
        config.load_env_file()  # before the parser: .env may set defaults such as LGS_PSEUDONYMISE
        args = build_parser().parse_args(argv)
        if hasattr(args, "segments"):  # the commands that score customers
            use_segments(args.segments)
        func: Callable[[argparse.Namespace], int] = args.func
        return func(args)
    except BrokenPipeError:  # `lgs recommend ... | head`: the reader stopped; nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
        return 0
    except KeyboardInterrupt:
        return fail("interrupted; nothing half-written was kept (each load and build is one transaction)",
                    130)
    except Exception as exc:
        explained = explain(exc)
        if explained is None:
            raise
        return fail(*explained)


if __name__ == "__main__":
    sys.exit(main())
