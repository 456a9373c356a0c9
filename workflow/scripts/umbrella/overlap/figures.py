"""Figures of the overlap stage: the pairwise CCA heatmap (upper triangle), or a summary for many reviews."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.patches import Patch

from umbrella.core.plots import OKABE_ITO, figure, save_svg
from umbrella.overlap.cca import BANDS, band_counts, pair_count

#: Colour per Pieper band (GROOVE's white / green / yellow / red, in colour-blind-safe tones); each cell is
#: also annotated with its number, so the figure reads in greyscale.
BAND_COLOURS = ["#FFFFFF", "#B7E4C7", OKABE_ITO["yellow"], OKABE_ITO["vermillion"]]


def heatmap_figure(pairs: pd.DataFrame, unique: pd.DataFrame, labels: dict[str, str], path: Path) -> None:
    """Upper triangle of pairwise CCA (%), coloured by band and annotated; the diagonal shows each review's
    studies found in no other review over its total."""
    reviews = list(unique["review_id"])
    n = len(reviews)
    grid = _cca_grid(pairs, reviews)
    size = max(3.0, 0.42 * n + 1.5)
    fig, ax = figure(size + 1.2, size)
    edges = [0.0] + [b for b, _ in BANDS[:-1]] + [100.0]
    cmap = ListedColormap(BAND_COLOURS)
    ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, norm=BoundaryNorm(edges, cmap.N), aspect="equal")
    font = max(4.5, min(8.0, 200 / max(n, 1)))
    _annotate_cells(ax, grid, unique, font)
    _heatmap_axes(ax, [labels.get(r, r) for r in reviews], font)
    ax.legend(
        handles=_band_legend_handles(),
        title="Pairwise CCA",
        loc="lower left",
        bbox_to_anchor=(0.0, 0.0),
        fontsize=7,
        title_fontsize=8,
        frameon=False,
    )
    ax.set_title(
        "Overlap between pairs of reviews (CCA %); diagonal: studies in no other review / all", loc="left", fontsize=9
    )
    save_svg(fig, path)


def _cca_grid(pairs: pd.DataFrame, reviews: list[str]) -> np.ndarray:
    """Reviews x reviews: the CCA of each pair above the diagonal (0 for a pair not listed, which shares no
    study), NaN elsewhere."""
    index = {r: i for i, r in enumerate(reviews)}
    grid = np.full((len(reviews), len(reviews)), np.nan)
    grid[np.triu_indices(len(reviews), k=1)] = 0.0
    for a, b, cca in pairs[["review_a", "review_b", "cca"]].itertuples(index=False):
        grid[index[a], index[b]] = cca
    return grid


def _annotate_cells(ax: Axes, grid: np.ndarray, unique: pd.DataFrame, font: float) -> None:
    """Each pair's CCA in its cell, and on the diagonal each review's unique studies over its studies."""
    n = len(grid)
    for i in range(n):
        for j in range(i + 1, n):
            if np.isfinite(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.0f}", ha="center", va="center", fontsize=font)
        row = unique.iloc[i]
        ax.text(
            i,
            i,
            f"{row['n_unique']}/{row['n_studies']}",
            ha="center",
            va="center",
            fontsize=font * 0.85,
            color="#333333",
        )


def _heatmap_axes(ax: Axes, names: list[str], font: float) -> None:
    """Review names on both axes, a light grid between the cells, no frame."""
    n = len(names)
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(names, rotation=90, fontsize=font)
    ax.set_yticklabels(names, fontsize=font)
    ax.set_xticks(np.arange(-0.5, n), minor=True)
    ax.set_yticks(np.arange(-0.5, n), minor=True)
    ax.grid(which="minor", color="#DDDDDD", linewidth=0.4)
    ax.tick_params(which="both", length=0)
    for side in ("left", "bottom", "top", "right"):
        ax.spines[side].set_visible(False)


def _band_legend_handles() -> list[Patch]:
    """A patch per Pieper band, named with its range of CCA."""
    lower = [0.0] + [b for b, _ in BANDS[:-1]]
    return [
        Patch(
            facecolor=c,
            edgecolor="black",
            linewidth=0.4,
            label=f"{name} ({lo:g}\u2013{hi:g} %)" if np.isfinite(hi) else f"{name} (\u2265 {lo:g} %)",
        )
        for c, (hi, name), lo in zip(BAND_COLOURS, BANDS, lower, strict=True)
    ]


def summary_figure(pairs: pd.DataFrame, n_reviews: int, path: Path) -> None:
    """For many reviews: the number of review pairs in each Pieper band (instead of an unreadable heatmap)."""
    fig, ax = figure(5.5, 2.8)
    names = [name for _, name in BANDS]
    counts = band_counts(pairs, n_reviews)
    hatches = ["", "..", "//", "xx"]
    x = np.arange(len(names))
    ax.bar(x, counts, color=BAND_COLOURS, edgecolor="black", linewidth=0.5, hatch=hatches)
    for xi, c in zip(x, counts, strict=True):
        ax.text(xi, c, f"{c:,}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x)
    ax.set_xticklabels(names)
    ax.set_ylabel("Pairs of reviews")
    ax.set_title(f"Pairwise overlap of {n_reviews:,} reviews ({pair_count(n_reviews):,} pairs) by CCA band", loc="left")
    save_svg(fig, path)
