"""The tile map: one square per country, Europe roughly in place and the rest of the world on the
rows below, coloured by net sales and labelled with the ISO code and the customers (tiles, not a
choropleth: the report is built offline and carries no country shapes; equal squares also keep
Malta or Bahrain as visible as Germany). A country of fewer than ten customers shows "<10" and one
flat colour: no figure about fewer than ten customers (privacy.suppress_small_cells' rule)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from lgs_analytics.analytics.geography import LABEL_OF_UNCODED, TILES, WORLD_ROW
from lgs_analytics.numbers import gbp
from lgs_analytics.privacy import MIN_CELL, count_text
from lgs_analytics.report.charts.style import GREY, INK, SHADE, _figure, _title

FEW = "#D9D2C3"  # a country of fewer than ten customers: one flat colour, no sales shown


def plot_tile_map(countries: pd.DataFrame) -> Figure:
    """``countries``: geography.by_country (country, label, customers, spend, col, row)."""
    fig, ax = _figure(figsize=(10.0, 6.2), grid=None)
    placed = countries[countries["col"].notna() & (countries["spend"] > 0)]
    few = placed[placed["customers"] < MIN_CELL]
    placed = placed[placed["customers"] >= MIN_CELL]
    cmap = colormaps["Blues"]
    top = float(placed["spend"].max()) if len(placed) else 1.0
    norm = LogNorm(vmin=max(min(float(placed["spend"].min()) if len(placed) else 1.0, top / 10), 1.0) / 10,
                   vmax=max(top, 10.0))
    taken = {(int(r["col"]), int(r["row"])): r for r in placed.to_dict("records")}
    small = {(int(r["col"]), int(r["row"])): r for r in few.to_dict("records")}
    for key, (col, row) in TILES.items():
        hit = taken.get((col, row))
        if hit is None and (col, row) in small:
            ax.add_patch(Rectangle((col, -row), 0.94, -0.94, facecolor=FEW, edgecolor="white", linewidth=1))
            ax.text(col + 0.47, -row - 0.33, small[(col, row)]["label"], ha="center", va="center",
                    fontsize=9, fontweight="bold", color=INK)
            ax.text(col + 0.47, -row - 0.68, count_text(0), ha="center", va="center", fontsize=7.5,
                    color=INK)
            continue
        face = cmap(0.15 + 0.85 * float(norm(hit["spend"]))) if hit is not None else SHADE
        ax.add_patch(Rectangle((col, -row), 0.94, -0.94, facecolor=face, edgecolor="white", linewidth=1))
        if hit is None:
            ax.text(col + 0.47, -row - 0.47, LABEL_OF_UNCODED.get(key, key), ha="center", va="center",
                    fontsize=7, color=GREY)
            continue
        dark = norm(hit["spend"]) > 0.55
        ax.text(col + 0.47, -row - 0.33, hit["label"], ha="center", va="center", fontsize=9,
                fontweight="bold", color="white" if dark else INK)
        ax.text(col + 0.47, -row - 0.68, count_text(hit["customers"]), ha="center", va="center", fontsize=7.5,
                color="white" if dark else INK)
    ax.axhline(-WORLD_ROW + 0.35, color="#C9D1D9", linewidth=0.8, linestyle=(0, (3, 3)))
    ax.text(0, -WORLD_ROW + 0.55, "Rest of the world", fontsize=8.5, color=INK, va="bottom")
    ax.text(0, 0.2, "Europe", fontsize=8.5, color=INK, va="bottom")
    cols = [c for c, _ in TILES.values()]
    ax.set_xlim(-0.2, max(cols) + 1.1)
    bottom = -max(r for _, r in TILES.values()) - 1.0  # the last row's lower edge; the notes go below it
    ax.set_ylim(bottom - 1.3, 0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    unplaced = countries[countries["col"].isna()]
    if len(unplaced):
        pairs = zip(unplaced["country"], unplaced["customers"], strict=True)
        names = ", ".join(f"{name} ({count_text(int(n))})" for name, n in pairs)
        ax.text(0, bottom - 1.0, f"Not on the map (no place): {names}", ha="left", va="center",
                fontsize=7.5, color=INK)
    sm = fig.colorbar(_mappable(cmap, norm), ax=ax, shrink=0.55, pad=0.01)
    sm.set_label("Net sales (GBP, log scale)", fontsize=9)
    sm.ax.yaxis.set_major_formatter(lambda v, _p: gbp(v))
    ax.add_patch(Rectangle((0, bottom - 0.6), 0.3, 0.3, facecolor=FEW))
    ax.text(0.4, bottom - 0.45, f"fewer than {MIN_CELL} customers: no figures", fontsize=7.5, color=INK,
            va="center")
    _title(ax, "Customers and net sales by country")
    return fig


def _mappable(cmap, norm):
    from matplotlib.cm import ScalarMappable

    mappable = ScalarMappable(norm=norm, cmap=cmap)
    mappable.set_array(np.array([]))
    return mappable
