"""The citation matrix drawn as a grid: primary studies (rows) x reviews (columns), a filled cell where the review
includes the study and a hatched grey cell where the study could not be in it (structural missingness), so that
the three kinds of cell read apart in greyscale. Capped like the other figures: above ``figure_rows`` studies
the rows are the studies included by the most reviews, above ``max_reviews`` reviews the columns are the
reviews that include the most of those studies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from umbrella.core.plots import OKABE_ITO, figure, save_svg
from umbrella.overlap.cca import CitationMatrix, OverlapSettings
from umbrella.overlap.matrix import missing_cells, study_order

#: How each kind of cell is drawn: face colour, hatch, legend label.
INCLUDED = (OKABE_ITO["blue"], "", "Included")
NOT_INCLUDED = ("#FFFFFF", "", "Not included")
MISSING = ("#D9D9D9", "////", "Could not be included (published after the review's search)")
#: Inches per grid cell, and the margins around the grid (labels, title, legend).
CELL_INCH = 0.17


@dataclass(frozen=True)
class MatrixView:
    """What the figure shows: the rows (study indices, in table order), the columns (review indices, in review
    order), and the sizes of the whole matrix."""

    rows: np.ndarray
    columns: np.ndarray
    n_studies: int
    n_reviews: int

    @property
    def capped(self) -> bool:
        return len(self.rows) < self.n_studies or len(self.columns) < self.n_reviews


def select_view(m: CitationMatrix, figure_rows: int, max_reviews: int) -> MatrixView:
    """The first ``figure_rows`` studies of the table's order (included by the most reviews, then by id) and, of
    more than ``max_reviews`` reviews, the ``max_reviews`` that include the most of those studies (ties in review
    order), shown in review order."""
    rows = study_order(m)[:figure_rows]
    columns = np.arange(len(m.reviews))
    if len(columns) > max_reviews:
        counts = np.asarray(m.included[rows].sum(axis=0)).ravel()
        columns = np.sort(np.argsort(-counts, kind="stable")[:max_reviews])
    return MatrixView(rows, columns, len(m.studies), len(m.reviews))


def view_title(view: MatrixView) -> str:
    """The figure's title: what the grid shows of the whole matrix."""
    if not view.capped:
        return f"Citation matrix: {view.n_studies:,} primary studies \u00d7 {view.n_reviews:,} reviews"
    studies = (
        f"the {len(view.rows):,} of {view.n_studies:,} studies included by the most reviews"
        if len(view.rows) < view.n_studies
        else f"all {view.n_studies:,} studies"
    )
    reviews = (
        f"the {len(view.columns):,} of {view.n_reviews:,} reviews including the most of them"
        if len(view.columns) < view.n_reviews
        else f"all {view.n_reviews:,} reviews"
    )
    return f"Citation matrix: {studies};\n{reviews} (the whole matrix is in the supplement)"


def draw_matrix(
    m: CitationMatrix,
    settings: OverlapSettings,
    labels: Mapping[str, str],
    figure_rows: int,
    max_reviews: int,
) -> Figure:
    """The grid of :func:`select_view`, rows labelled "study (year)" with the number of reviews including each
    study at the right, columns labelled by review, not yet saved."""
    view = select_view(m, figure_rows, max_reviews)
    included = m.included[view.rows][:, view.columns].toarray() > 0
    missing = missing_cells(m, settings, view.rows)[:, view.columns]
    n_rows, n_cols = included.shape
    fig, ax = figure(2.6 + CELL_INCH * n_cols, 1.9 + CELL_INCH * n_rows)
    for (colour, hatch, _), mask in ((INCLUDED, included), (MISSING, missing)):
        cells = [Rectangle((c - 0.5, r - 0.5), 1, 1) for r, c in zip(*np.nonzero(mask), strict=True)]
        # A collection's hatch is drawn in its edge colour.
        ax.add_collection(
            PatchCollection(cells, facecolor=colour, edgecolor="#555555", linewidth=0.3, hatch=hatch or None)
        )
    ax.set_xlim(-0.5, n_cols - 0.5)
    ax.set_ylim(n_rows - 0.5, -0.5)
    ax.set_aspect("equal")
    _grid_lines(ax, n_rows, n_cols)
    _labels(ax, m, view, labels)
    counts = np.asarray(m.included[view.rows].sum(axis=1)).ravel()
    for i, n in enumerate(counts):
        ax.text(n_cols - 0.5 + 0.4, i, f"{int(n)}", ha="left", va="center", fontsize=6.5)
    ax.text(n_cols - 0.5 + 0.4, -0.9, "Reviews", ha="left", va="bottom", fontsize=6.5, rotation=90)
    ax.set_title(view_title(view), loc="left", fontsize=8, pad=8)
    ax.legend(
        handles=[
            Patch(facecolor=colour, edgecolor="#555555", linewidth=0.4, hatch=hatch or None, label=label)
            for colour, hatch, label in (INCLUDED, NOT_INCLUDED, MISSING)
        ],
        loc="upper left",
        bbox_to_anchor=(0.0, -0.02 - 0.4 / max(n_rows, 1)),
        ncol=1,
        frameon=False,
        fontsize=7,
    )
    return fig


def _grid_lines(ax, n_rows: int, n_cols: int) -> None:
    """Thin lines between all cells, so the empty cells read as cells."""
    ax.hlines(np.arange(-0.5, n_rows), -0.5, n_cols - 0.5, colors="#BBBBBB", linewidth=0.3, zorder=0)
    ax.vlines(np.arange(-0.5, n_cols), -0.5, n_rows - 0.5, colors="#BBBBBB", linewidth=0.3, zorder=0)


def _labels(ax, m: CitationMatrix, view: MatrixView, labels: Mapping[str, str]) -> None:
    """Studies (with their year where known) down the side, reviews across the top, no frame."""
    names = []
    for i in view.rows:
        year = m.study_year[i]
        names.append(f"{m.studies[i]} ({int(year)})" if np.isfinite(year) else str(m.studies[i]))
    font = 6.5
    ax.set_yticks(range(len(view.rows)))
    ax.set_yticklabels(names, fontsize=font)
    ax.set_xticks(range(len(view.columns)))
    ax.set_xticklabels([labels.get(m.reviews[j], m.reviews[j]) for j in view.columns], rotation=90, fontsize=font)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for side in ("left", "bottom", "top", "right"):
        ax.spines[side].set_visible(False)


def matrix_figure(
    m: CitationMatrix,
    settings: OverlapSettings,
    labels: Mapping[str, str],
    path: Path,
    figure_rows: int,
    max_reviews: int,
) -> None:
    """Draw :func:`draw_matrix` and write it as SVG and PNG (:func:`umbrella.core.plots.save_svg`)."""
    save_svg(draw_matrix(m, settings, labels, figure_rows, max_reviews), path)
