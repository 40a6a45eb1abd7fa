"""The tile map: one square per country, Europe roughly in place and the rest of the world on the
rows below, coloured by net sales and labelled with the ISO code and the customers (tiles, not a
choropleth: the report is built offline and carries no country shapes; equal squares also keep
Malta or Bahrain as visible as Germany)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from lgs_analytics.analytics.geography import LABEL_OF_UNCODED, TILES, WORLD_ROW
from lgs_analytics.numbers import gbp
from lgs_analytics.report.charts.style import GREY, INK, SHADE, _figure, _title


def plot_tile_map(countries: pd.DataFrame) -> Figure:
    """``countries``: geography.by_country (country, label, customers, spend, col, row)."""
    fig, ax = _figure(figsize=(10.0, 6.2), grid=None)
    placed = countries[countries["col"].notna() & (countries["spend"] > 0)]
    cmap = colormaps["Blues"]
    top = float(placed["spend"].max()) if len(placed) else 1.0
    norm = LogNorm(vmin=max(min(float(placed["spend"].min()) if len(placed) else 1.0, top / 10), 1.0) / 10,
                   vmax=max(top, 10.0))
    taken = {(int(r["col"]), int(r["row"])): r for r in placed.to_dict("records")}
    for key, (col, row) in TILES.items():
        hit = taken.get((col, row))
        face = cmap(0.15 + 0.85 * float(norm(hit["spend"]))) if hit is not None else SHADE
        ax.add_patch(Rectangle((col, -row), 0.94, -0.94, facecolor=face, edgecolor="white", linewidth=1))
        if hit is None:
            ax.text(col + 0.47, -row - 0.47, LABEL_OF_UNCODED.get(key, key), ha="center", va="center",
                    fontsize=7, color=GREY)
            continue
        dark = norm(hit["spend"]) > 0.55
        ax.text(col + 0.47, -row - 0.33, hit["label"], ha="center", va="center", fontsize=9,
                fontweight="bold", color="white" if dark else INK)
        ax.text(col + 0.47, -row - 0.68, f"{hit['customers']:,}", ha="center", va="center", fontsize=7.5,
                color="white" if dark else INK)
    ax.axhline(-WORLD_ROW + 0.35, color="#C9D1D9", linewidth=0.8, linestyle=(0, (3, 3)))
    ax.text(0, -WORLD_ROW + 0.55, "Rest of the world", fontsize=8.5, color=INK, va="bottom")
    ax.text(0, 0.2, "Europe", fontsize=8.5, color=INK, va="bottom")
    cols = [c for c, _ in TILES.values()]
    ax.set_xlim(-0.2, max(cols) + 1.1)
    ax.set_ylim(-max(r for _, r in TILES.values()) - 1.1, 0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    unplaced = countries[countries["col"].isna()]
    if len(unplaced):
        names = ", ".join(f"{r.country} ({r.customers:,})" for r in unplaced.itertuples())
        ax.text(max(cols) + 1.1, -max(r for _, r in TILES.values()) - 1.05, f"Not on the map: {names}",
                ha="right", va="bottom", fontsize=7.5, color=INK)
    sm = fig.colorbar(_mappable(cmap, norm), ax=ax, shrink=0.55, pad=0.01)
    sm.set_label("Net sales (GBP, log scale)", fontsize=9)
    sm.ax.yaxis.set_major_formatter(lambda v, _p: gbp(v))
    _title(ax, "Customers and net sales by country")
    return fig


def _mappable(cmap, norm):
    from matplotlib.cm import ScalarMappable

    mappable = ScalarMappable(norm=norm, cmap=cmap)
    mappable.set_array(np.array([]))
    return mappable
