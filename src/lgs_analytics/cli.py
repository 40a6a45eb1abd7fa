"""The `lgs` command: a stable contract (see README): generate, load, rfm, predict, report, refresh, db."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from lgs_analytics import config, outputs, privacy
from lgs_analytics.errors import BuildRefused, first_line, redact

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
    from lgs_analytics.synthetic import generate_export, write_export

    outputs.check_output(args.out)  # before the generating: a link or a device is never replaced
    started = time.perf_counter()
    sheets = generate_export(rows=args.rows, seed=args.seed)
    write_export(sheets, args.out)
    rows = sum(len(s) for s in sheets.values())
    print(f"wrote {rows:,} synthetic rows (seed {args.seed}) to {args.out} "
          f"in {time.perf_counter() - started:.1f} s")
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    from lgs_analytics.ingest.load import load_path
    from lgs_analytics.ingest.readers import ExportError

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


def cmd_rfm(args: argparse.Namespace) -> int:
    from lgs_analytics.pipeline import read_and_score

    key = privacy.output_key(args.pseudonymise)  # before the work: a missing key fails at once
    check_writable(args.out)
    scores = read_and_score(args.method, args.as_of)
    if scores.customers.empty:
        return fail(f"no customer bought before {scores.as_of:%Y-%m-%d}: nothing to score, {args.out} "
                    "not written; choose a later --as-of", 1)
    outputs.write_csv(privacy.pseudonymise_customers(scores.customers, key), args.out)
    top = scores.segments.head(3)
    shares = ", ".join(f"{r.segment} {r.customers:,}" for r in top.itertuples())
    print(f"scored {len(scores.customers):,} customers ({args.method}, as of {scores.as_of.date()}) "
          f"to {args.out}{' (customer IDs pseudonymised)' if key else ''}; largest segments: {shares}. "
          "The web app's tables are unchanged (publishing is `lgs build`'s job)")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from lgs_analytics.pipeline import forecast, read_cleaned

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
    from lgs_analytics.pipeline import published_campaign
    from lgs_analytics.report import campaigns

    if args.segment is None and not args.churn_risk:
        return fail("say which campaign: --segment NAME (e.g. --segment 'At Risk'), --churn-risk, or both", 2)
    key = privacy.output_key(args.pseudonymise)
    check_writable(args.out)
    campaigns.check_suffix(args.out)
    build, rows = published_campaign(args.segment, args.churn_risk)
    if args.churn_risk and build.forecast_note:  # an empty file would read as "nobody is at risk"
        return fail(f"no predictions: {build.forecast_note}; build {build.build_id} has no churn alerts, "
                    f"{args.out} not written. Use --segment 'At Risk' or --segment \"Can't Lose\" instead", 1)
    campaigns.write_rows(rows, args.out, key)
    what = " ".join(filter(None, [rows["segment"].iloc[0] if args.segment and len(rows) else args.segment,
                                  "churn alerts" if args.churn_risk else ""]))
    print(f"{len(rows):,} customers ({what}, build {build.build_id}, spend £{rows['spend'].sum():,.2f}) "
          f"written to {args.out}{' (customer IDs pseudonymised)' if key else ''}")
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


def build_methods(requested: bool | None) -> tuple[str, ...]:
    """standard, plus classic when asked for, or (by default) when the current build has it."""
    from lgs_analytics.pipeline import current_build

    if requested is None:
        current = current_build()
        requested = current is not None and "classic" in current.parameters.methods
    return ("standard", "classic") if requested else ("standard",)


def run_build(args: argparse.Namespace, classic: bool | None = None) -> int:
    """Compute and publish the marts (``lgs build``, and the build step of report --load and refresh)."""
    import time

    from lgs_analytics.pipeline import build
    from lgs_analytics.refresh import predictions_text
    from lgs_analytics.results import BuildParameters

    started = time.perf_counter()
    parameters = BuildParameters(build_methods(classic), getattr(args, "as_of", None),
                                 getattr(args, "start", None), getattr(args, "end", None))
    say = (lambda _: None) if getattr(args, "quiet", False) else (lambda line: print(f"  {line}"))
    parts: dict[str, float] = {}
    build_id, result = build(parameters, say=say, full=getattr(args, "full", False), seconds=parts)
    outlook = result.forecast
    alerts = 0 if outlook.unavailable else int(outlook.customers["churn_risk"].sum())
    predictions = predictions_text(outlook.unavailable, len(outlook.customers), alerts)
    print(f"published build {build_id} in {time.perf_counter() - started:.1f} s "
          f"(marts {parts['marts']:.1f} s, charts {parts['charts']:.1f} s): "
          f"{len(result.scores['standard'].customers):,} customers scored "
          f"({', '.join(result.scores)}) as of {result.as_of:%Y-%m-%d}; {predictions}")
    return build_id


def cmd_build(args: argparse.Namespace) -> int:
    run_build(args, args.classic)
    return 0


GENERATED_EXPORT_NAME = "lgs_synthetic_export.csv"


def exports_in(folder: Path) -> tuple[list[Path], list[Path]]:
    """(exports, others) of a folder in name order: the files `lgs load` reads, and any other file
    (dot files and a README aside). Weekly exports sort by date when so named."""
    from lgs_analytics.ingest.formats import TEXT_SUFFIX, is_export_file

    def loadable(path: Path) -> bool:  # a .txt is read as a CSV when named, so it counts here too
        return is_export_file(path) or path.suffix.lower() == TEXT_SUFFIX

    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                   and not p.name.upper().startswith("README"))
    return [p for p in files if loadable(p)], [p for p in files if not loadable(p)]


def load_folder(folder: Path, rows: int, progress: bool = True) -> None:
    """Load every export in ``folder`` (or ``folder`` itself, when it is one export file). A folder
    holding nothing gets a synthetic export first, said so; a file that is not an export stops the
    run before anything loads (never generated data beside real files)."""
    from lgs_analytics.ingest.formats import EXPORT_SUFFIXES, is_synthetic_export
    from lgs_analytics.ingest.load import load_path
    from lgs_analytics.ingest.readers import ExportError
    from lgs_analytics.synthetic import generate_export, write_export

    if folder.is_file():  # `lgs report --load week.csv`: the one export, read (or refused) as lgs load would
        print(load_path(folder, progress=progress).summary())
        return
    if not folder.exists() and folder.name.lower().endswith(EXPORT_SUFFIXES):
        raise ExportError(f"{folder}: no such file; check the name (a folder of exports is also accepted)")
    folder.mkdir(parents=True, exist_ok=True)
    files, others = exports_in(folder)
    if others:
        more = f" and {len(others) - 5} more" if len(others) > 5 else ""
        names = ", ".join(p.name for p in others[:5]) + more
        raise ExportError(f"{folder} holds files lgs cannot load: {names}; move them out, or save them as "
                          ".csv, .csv.gz, .xlsx, .zip or a pg_dump .sql (.sql.gz) (nothing was loaded)")
    generated = [p.name for p in files if is_synthetic_export(p)]
    if generated and len(generated) < len(files):
        raise ExportError(f"{folder} holds generated (synthetic) exports ({', '.join(generated)}) beside "
                          "real ones: move the generated ones out, and run `lgs db reset --yes` if they were "
                          "loaded, so the report is on real data only (nothing was loaded)")
    if not files:
        target = folder / GENERATED_EXPORT_NAME
        print(f"no export in {folder}: generating a SYNTHETIC one ({rows:,} rows) at {target}; "
              "put the real export there to report on it")
        write_export(generate_export(rows=rows), target)
        files = [target]
    for path in files:
        print(load_path(path, progress=progress).summary())


def cmd_report(args: argparse.Namespace) -> int:
    from lgs_analytics.pipeline import current_build, is_stale
    from lgs_analytics.report.build import build_report

    privacy.output_key(args.pseudonymise)  # a missing key fails before the long work
    if args.out is not None:
        check_writable(args.out)
    if args.start is not None and args.end is not None and args.start > args.end:
        return fail(f"--start {args.start} is after --end {args.end}; give a window that runs forward")
    if args.load is not None:  # load + build + report: the main job
        load_folder(args.load, args.rows, progress=not args.quiet)
        run_build(argparse.Namespace(quiet=args.quiet))
    current = current_build()
    dates = (args.as_of, args.start, args.end)
    asked_for_defaults = args.method == "standard" and all(v is None for v in dates)
    what_if = not (current.parameters.same_view(args.method, args.as_of, args.start, args.end)
                   if current is not None else asked_for_defaults)
    out = args.out or config.report_path(what_if)
    check_writable(out)
    if current is None and not what_if:
        return fail("nothing is published yet: run `lgs build` first (or `lgs report --load data/raw`, "
                    "which loads, builds and reports)")
    if current is not None and is_stale()[0]:
        print("note: exports were loaded after the current build; run `lgs build` to include them",
              file=sys.stderr)
    parameters = {"method": args.method, "as_of": args.as_of and args.as_of.isoformat(),
                  "start": args.start and args.start.isoformat(), "end": args.end and args.end.isoformat(),
                  "pseudonymise": args.pseudonymise}
    shown = f"build {current.build_id}" if current is not None else "no build"
    print(f"executing {config.notebook_path().name} ({args.method} RFM; "
          f"{'a what-if, the web app keeps ' + shown if what_if else 'the published ' + shown}) ...")
    out = build_report(out, parameters, progress=not args.quiet)
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
    from lgs_analytics.refresh import RefreshPaths, refresh, run_every

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
            version = db.query(conn, "SHOW server_version")[0][0]
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


def cmd_dashboard(args: argparse.Namespace) -> int:
    from lgs_analytics.dashboard.serve import serve

    return serve(args.host, args.port, args.pseudonymise)


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
    from lgs_analytics.refresh import parse_interval

    try:
        return parse_interval(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_pseudonymise(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pseudonymise", action=argparse.BooleanOptionalAction, default=privacy.pseudonymise_by_default(),
        help=f"show customer IDs as keyed pseudonyms in what this writes (key from "
             f"{privacy.ENV_PSEUDONYM_KEY}; default on when {privacy.ENV_PSEUDONYMISE}=1)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lgs", description="London Gift Shop retail analytics: load exports, score customers, report.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = sub.add_parser("generate", help="write a synthetic LGS export (.csv or .xlsx by suffix)")
    gen.add_argument("--rows", type=positive_int, default=config.REAL_ROW_COUNT,
                     help=f"rows over both sheets (default {config.REAL_ROW_COUNT:,}, the real size)")
    gen.add_argument("--seed", type=int, default=0, help="random seed (same seed, same file)")
    gen.add_argument("--out", type=Path, required=True, help="output path ending in .csv or .xlsx")
    gen.set_defaults(func=cmd_generate)

    load = sub.add_parser("load", help="validate and load exports into Postgres (idempotent)")
    load.add_argument("paths", type=Path, nargs="+", metavar="PATH", help=".xlsx or .csv exports")
    load.add_argument("--quiet", action="store_true", help="no progress bar")
    load.add_argument("--mix-synthetic", action="store_true",
                      help="load generated and real exports into one database (refused by default: a "
                           "build would blend them)")
    load.set_defaults(func=cmd_load)

    rfm = sub.add_parser("rfm", help="score every customer by RFM into a CSV "
                                     "(the web-app tables are lgs build's)")
    rfm.add_argument("--method", choices=["classic", "standard"], default="standard",
                     help="standard (default): de-duplicated, net of cancellations; classic: the seed's")
    rfm.add_argument("--as-of", type=iso_date, default=None,
                     help="score as of this date (YYYY-MM-DD); default: the day after the last invoice "
                          "(standard) or 2012-01-01 (classic)")
    rfm.add_argument("--out", type=Path, required=True, help="output CSV path")
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

    cam = sub.add_parser("campaign", help="write a campaign list from the published build (.csv or .xlsx)")
    cam.add_argument("--segment", metavar="NAME", help="an RFM segment, e.g. 'At Risk' or \"Can't Lose\"")
    cam.add_argument("--churn-risk", action="store_true",
                     help="only the churn alerts (with --segment: that segment's), most value at risk first")
    cam.add_argument("--out", type=Path, required=True, metavar="PATH",
                     help="the file to write: .csv or .xlsx")
    cam.add_argument("--pseudonymise", action=argparse.BooleanOptionalAction,
                     default=privacy.pseudonymise_by_default(),
                     help=f"show customer IDs as keyed pseudonyms (key from {privacy.ENV_PSEUDONYM_KEY}; "
                          f"default on when {privacy.ENV_PSEUDONYMISE}=1)")
    cam.set_defaults(func=cmd_campaign)

    bld = sub.add_parser("build", help="compute scores, segments, predictions and report aggregates and "
                                       "publish them for the web app (one transaction)")
    bld.add_argument("--as-of", type=iso_date, default=None,
                     help="score as of this date (YYYY-MM-DD); default: the day after the last invoice")
    bld.add_argument("--start", type=iso_date, default=None, help="first invoice date to include")
    bld.add_argument("--end", type=iso_date, default=None, help="last invoice date to include")
    bld.add_argument("--classic", action=argparse.BooleanOptionalAction, default=None,
                     help="also publish the classic (seed) scores; default: as the current build does")
    bld.add_argument("--full", action="store_true",
                     help="regroup every transaction line first instead of trusting the groups each load "
                          "added, and say how many groups differed (0: they agreed)")
    bld.add_argument("--quiet", action="store_true", help="no step-by-step progress")
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
    rep.add_argument("--method", choices=["classic", "standard"], default="standard",
                     help="RFM method (classic: a what-if unless the build publishes classic scores)")
    rep.add_argument("--as-of", type=iso_date, default=None,
                     help="what-if: score as of this date (YYYY-MM-DD), in the report only")
    rep.add_argument("--start", type=iso_date, default=None, help="what-if: first invoice date to include")
    rep.add_argument("--end", type=iso_date, default=None, help="what-if: last invoice date to include")
    rep.add_argument("--quiet", action="store_true", help="no progress bars")
    add_pseudonymise(rep)
    rep.set_defaults(func=cmd_report)

    ref = sub.add_parser("refresh", help="load new exports from the inbox, then rebuild scores, "
                                         "predictions and the report (the weekly job)")
    ref.add_argument("--inbox", type=Path, default=config.inbox_dir(), metavar="DIR",
                     help="folder of new exports (default data/inbox/); processed/, rejected/ and "
                          "logs/ are made beside it")
    ref.add_argument("--out", type=Path, default=config.report_path(),
                     help="HTML report path (default reports/retail_report.html)")
    ref.add_argument("--method", choices=["classic", "standard"], default="standard", help="RFM method")
    ref.add_argument("--min-age", type=float, default=300, metavar="SECONDS",
                     help="leave files changed less than this long ago for the next run, as still being "
                          "copied (default 300)")
    ref.add_argument("--force", action="store_true", help="rebuild scores and report even with nothing new")
    ref.add_argument("--every", type=interval, default=None, metavar="INTERVAL",
                     help="keep running: refresh every INTERVAL (e.g. 7d, 1w, 12h; 1m to 366d) counted from "
                          "the last run; the Docker scheduler uses this")
    ref.add_argument("--quiet", action="store_true", help="no progress bars")
    add_pseudonymise(ref)
    ref.set_defaults(func=cmd_refresh)

    dash = sub.add_parser("dashboard", help="serve the marketing dashboard of the published build "
                                            "(http://127.0.0.1:8050/)")
    dash.add_argument("--host", default="127.0.0.1",
                      help="interface to listen on (default 127.0.0.1; any other needs "
                           "LGS_DASHBOARD_PASSWORD)")
    dash.add_argument("--port", type=positive_int, default=8050, help="port (default 8050)")
    add_pseudonymise(dash)
    dash.set_defaults(func=cmd_dashboard)

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
        (loaded("lgs_analytics.report.build", "ReportError"), None, 1),
        (loaded("lgs_analytics.refresh", "RefreshBusy"), None, REFRESH_BUSY_EXIT),
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every failure a user can act on is one line on stderr and an exit code."""
    try:
        config.load_env_file()  # before the parser: .env may set defaults such as LGS_PSEUDONYMISE
        args = build_parser().parse_args(argv)
        func: Callable[[argparse.Namespace], int] = args.func
        return func(args)
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
