"""Forest plots of the effects stage: one per outcome group, one line per harmonised review-level result.

The plotted scale is the equivalent Hedges' g oriented so that a positive value favours the intervention
(``g_benefit``), so the beneficial side is always on the right, under the configured favours labels; a result
whose sign was reversed for that (its measure favours the intervention when lower) has a dagger after its
label, explained in the legend, and the result as the review reported it is printed beside it. Every outcome
group's plot spans one x range (see :func:`write_forest_plots`), so that plots side by side compare.
Ratings are encoded by colour *and* by a letter, so the plots read in greyscale. Results that cannot
be put on the common scale are still listed, with a note, never dropped. The lines themselves are laid out in
:mod:`umbrella.effects.forest_layout`.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory, offset_copy

from umbrella.core.plots import RATING_HATCH, REVERSED_MARK, WHITE_TEXT_RATINGS, clipped_segment, figure, save_svg
from umbrella.core.vocabulary import FIGURE_ROWS
from umbrella.effects.figure_common import (
    UNGROUPED,
    draw_no_results,
    outcome_groups,
    rating_legend_handles,
    rating_style,
)
from umbrella.effects.forest_files import forest_file_names, page_file_names
from umbrella.effects.forest_layout import ForestRow, forest_page_layouts

#: The x axis of the forest plots never extends beyond +-X_CAP; longer lines end in an arrow.
X_CAP = 4.0
#: The words under the axis, left and right of the null line, when the config gives none.
FAVOURS_LABELS = ("Favours control", "Favours intervention")

# Forest plot geometry: inches per row, and the x positions (figure fraction) of the text columns.
ROW_INCH = 0.2
COL_REVIEW = 0.01
COL_RATING = 0.315
PANEL = (0.35, 0.31)  # left, width of the plot panel
COL_K = 0.695
COL_N = 0.79
COL_RESULT = 0.81


def _x_limits(layout: list[ForestRow]) -> tuple[float, float]:
    """x range covering every point and CI (and 0), padded, within +-X_CAP, at least +-0.5. Prediction
    intervals widen it by at most half its width on each side (beyond that they end in an arrow), so that one
    very wide PI does not squash every other result."""
    return x_range(
        [v for r in layout for v in (r.g, r.lower, r.upper)], [v for r in layout for v in (r.pi_lower, r.pi_upper)]
    )


def x_range(core_values: list[float], pi_values: list[float]) -> tuple[float, float]:
    """The x range of :func:`_x_limits` from the points and CI limits (``core_values``) and the prediction
    interval limits (``pi_values``); NaN values are ignored."""
    core = [0.0] + [v for v in core_values if not math.isnan(v)]
    lo, hi = min(core), max(core)
    span = max(hi - lo, 1.0)
    pis = [v for v in pi_values if not math.isnan(v)]
    lo = min([lo, *[max(v, lo - span / 2) for v in pis]])
    hi = max([hi, *[min(v, hi + span / 2) for v in pis]])
    pad = 0.06 * max(hi - lo, 1.0)
    return max(min(lo - pad, -0.5), -X_CAP), min(max(hi + pad, 0.5), X_CAP)


def _marker_area(k: int | None) -> float:
    """Marker area (pt^2) growing with the square root of the number of studies."""
    return 14.0 + 7.0 * math.sqrt(min(max(k or 1, 1), 100))


#: A horizontal line clipped to the x range, with an arrowhead where it was clipped.
_segment = clipped_segment


def _text_columns(ax):
    """The transform of the text columns: x in figure fraction, y in data rows."""
    return blended_transform_factory(ax.figure.transFigure, ax.transData)


def _put(ax, x: float, y: float, s: str, **kw) -> None:
    """Text in the text columns at figure fraction ``x`` and data row ``y``, centred vertically."""
    ax.text(x, y, s, transform=_text_columns(ax), va="center", clip_on=False, **kw)


def _forest_axes(layout: list[ForestRow], xlim: tuple[float, float]) -> tuple:
    """The figure and its plot panel (height growing with the lines, rows going down) spanning ``xlim``."""
    y_top, y_bottom = -1.7, layout[-1].y + 0.7
    panel_h = (y_bottom - y_top) * ROW_INCH
    top_in, bottom_in = 0.35, 1.25
    height = top_in + panel_h + bottom_in
    fig, _ = figure(7.5, height)
    fig.clf()
    ax = fig.add_axes((PANEL[0], bottom_in / height, PANEL[1], panel_h / height))
    ax.set_xlim(*xlim)
    ax.set_ylim(y_bottom, y_top)
    return fig, ax


def _draw_headings(ax, title: str) -> None:
    """The title, the column headings and a rule under them."""
    _put(ax, COL_REVIEW, -2.6, title, fontsize=10, fontweight="bold")
    heading_y = -1.0
    for x, s, ha in [
        (COL_REVIEW, "Review", "left"),
        (COL_RATING, "AMSTAR-2", "center"),
        (COL_K, "k", "right"),
        (COL_N, "n", "right"),
        (COL_RESULT, "Result as reported", "left"),
    ]:
        _put(ax, x, heading_y, s, ha=ha, fontsize=7.5, fontweight="bold")
    ax.add_line(
        Line2D(
            [COL_REVIEW, 0.99], [-0.5, -0.5], transform=_text_columns(ax), color="black", linewidth=0.5, clip_on=False
        )
    )


def _draw_null_line(ax, layout: list[ForestRow]) -> None:
    """The null line, broken at each header so that long headers stay readable."""
    blocks: list[list[float]] = []
    for r in layout:
        if r.kind == "header":
            blocks.append([])
        else:
            blocks[-1].append(r.y)
    for ys in blocks:
        ax.vlines(0.0, min(ys) - 0.5, max(ys) + 0.5, colors="black", linewidth=0.6, zorder=1)


def _draw_line(ax, r: ForestRow, xlim: tuple[float, float]) -> None:
    """One line: a header, or a result's text columns and its intervals (or the note why there are none)."""
    if r.kind == "header":
        _put(ax, COL_REVIEW, r.y, r.label, ha="left", fontsize=8, fontweight="bold")
        return
    label = f"{r.label} {REVERSED_MARK}" if r.reversed else r.label
    _put(ax, COL_REVIEW + 0.01, r.y, label, ha="left", fontsize=7.5)
    letter, colour = rating_style(r.rating)
    _put(
        ax,
        COL_RATING,
        r.y,
        letter,
        ha="center",
        fontsize=6.5,
        color="white" if r.rating in WHITE_TEXT_RATINGS else "black",
        bbox={"boxstyle": "round,pad=0.25", "facecolor": colour, "edgecolor": "black", "linewidth": 0.3},
    )
    _put(ax, COL_K, r.y, r.k_text, ha="right", fontsize=7.5)
    _put(ax, COL_N, r.y, r.n_text, ha="right", fontsize=7.5)
    _put(ax, COL_RESULT, r.y, r.result_text, ha="left", fontsize=7.5)
    if math.isnan(r.g):
        ax.text(
            sum(xlim) / 2, r.y, r.note, ha="center", va="center", fontsize=7, style="italic", color="#555555",
            zorder=5, bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"},
        )  # fmt: skip
        return
    _segment(ax, r.y, r.pi_lower, r.pi_upper, xlim, color="#AAAAAA", linewidth=3.2, zorder=2)
    _segment(ax, r.y, r.lower, r.upper, xlim, color="black", linewidth=1.0, zorder=3)


def _draw_points(ax, results: list[ForestRow], xlim: tuple[float, float]) -> None:
    """The points of the results on the g scale: squares sized by k, coloured by rating, kept inside xlim."""
    plotted = [r for r in results if not math.isnan(r.g)]
    if plotted:
        ax.scatter(
            [min(max(r.g, xlim[0]), xlim[1]) for r in plotted],
            [r.y for r in plotted],
            s=[_marker_area(r.k) for r in plotted],
            c=[rating_style(r.rating)[1] for r in plotted],
            marker="s",
            edgecolors="black",
            linewidths=0.5,
            zorder=4,
            clip_on=False,
        )
    for rating, hatch in RATING_HATCH.items():
        hatched = [r for r in plotted if r.rating == rating]
        if hatched:
            ax.scatter(
                [min(max(r.g, xlim[0]), xlim[1]) for r in hatched],
                [r.y for r in hatched],
                s=[_marker_area(r.k) for r in hatched],
                marker="s", facecolors="none", edgecolors="none", hatch=hatch, hatchcolor="black", linewidths=0,
                zorder=5, clip_on=False,
            )  # fmt: skip


def _draw_x_axis(ax, favours_labels: tuple[str, str] = FAVOURS_LABELS) -> None:
    """The bare g axis, its label and which side favours which arm under it."""
    for side in ("left", "top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_yticks([])
    ax.tick_params(axis="x", labelsize=7.5)
    ax.set_xlabel("Equivalent Hedges' g", fontsize=8)
    below = ("data", "axes fraction")
    control, intervention = favours_labels
    for s, ha, dx in [(f"\u2190 {control}", "right", -4), (f"{intervention} \u2192", "left", 4)]:
        # Under the x-axis label, either side of the null line.
        ax.annotate(
            s,
            xy=(0.0, 0.0),
            xycoords=below,
            xytext=(dx, -31),
            textcoords="offset points",
            ha=ha,
            va="top",
            fontsize=7.5,
        )


def reversed_handle() -> Line2D:
    """The legend entry of the mark after a result whose sign was reversed."""
    return Line2D([], [], linestyle="", marker=f"${REVERSED_MARK}$", markersize=6, color="black",
                  label="Sign reversed (lower values favour the intervention)")  # fmt: skip


def _draw_legend(fig, ax, ratings: set[str | None], any_reversed: bool = False) -> None:
    """Ratings (and "not rated" when ``ratings`` holds None), CI, prediction interval, marker size and, when a
    result's sign was reversed, its mark, in four columns under the axis."""
    handles = rating_legend_handles(ratings) + [
        Line2D([], [], color="black", linewidth=1.0, label="95% CI"),
        Line2D([], [], color="#AAAAAA", linewidth=3.2, label="Prediction interval"),
        Line2D([], [], linestyle="", marker="s", markersize=6, markerfacecolor="white", markeredgecolor="black",
               label="Size \u221d \u221ak"),
    ] + ([reversed_handle()] if any_reversed else [])  # fmt: skip
    legend_at = offset_copy(blended_transform_factory(fig.transFigure, ax.transAxes), fig=fig, y=-50, units="points")
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=legend_at,
        ncol=4,
        frameon=False,
        fontsize=7,
    )


def forest_figure(
    rows: pd.DataFrame,
    group: str,
    path: Path,
    figure_rows: int = FIGURE_ROWS,
    workers: int = 1,
    favours_labels: tuple[str, str] = FAVOURS_LABELS,
) -> list[Path]:
    """A forest plot of one outcome group: one line per result with its review, AMSTAR-2 rating (colour and
    letter), k, n and the result as reported; the point and CI (and PI, where known) on the equivalent Hedges'
    g scale, oriented so that the intervention's side is on the right. More than ``figure_rows`` results go on
    pages of ``figure_rows`` (``path``, then ``-2``, ``-3``... before the suffix, see
    :func:`umbrella.effects.forest_files.page_file_names`), all with the x range of the whole group and "page i of
    n" in their title; ``favours_labels`` go under the axis. Returns the paths written."""
    pages = _page_tasks(rows, group, path, figure_rows, favours_labels=favours_labels)
    draw_pages(pages, workers)
    return [task[-1] for task in pages]


def _page_tasks(
    rows: pd.DataFrame,
    group: str,
    path: Path,
    figure_rows: int,
    xlim: tuple[float, float] | None = None,
    favours_labels: tuple[str, str] = FAVOURS_LABELS,
) -> list[tuple]:
    """What :func:`_save_page` needs for each page of one group's forest plot: (layout, title, x range,
    ratings, favours labels, path), the x range that of the group unless given; an empty layout for a group
    without results."""
    pages = forest_page_layouts(rows, figure_rows)
    if not pages[0]:
        return [(None, group, None, None, favours_labels, path)]
    lines = [r for page in pages for r in page]
    xlim = xlim or _x_limits(lines)
    ratings = {r.rating for r in lines if r.kind == "result"}
    paths = [path.with_name(name) for name in page_file_names(path.name, len(pages))]
    title = group or UNGROUPED
    return [
        (
            layout,
            title if len(pages) == 1 else f"{title} (page {i} of {len(pages)})",
            xlim,
            ratings,
            favours_labels,
            page_path,
        )
        for i, (layout, page_path) in enumerate(zip(pages, paths, strict=True), start=1)
    ]


def _save_page(task: tuple) -> None:
    layout, title, xlim, ratings, favours_labels, path = task
    if layout is None:
        draw_no_results(title, path)
    else:
        save_svg(_draw_page(layout, title, xlim, ratings, favours_labels), path)


def draw_pages(tasks: list[tuple], workers: int = 1) -> None:
    """Draw and save every page; with ``workers`` > 1, in that many processes at once (each page is its own
    file, so the bytes do not depend on the order in which they are drawn)."""
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            _save_page(task)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(min(workers, len(tasks)), mp_context=multiprocessing.get_context("fork")) as pool:
        list(pool.map(_save_page, tasks))


def _draw_page(
    layout: list[ForestRow],
    title: str,
    xlim: tuple[float, float],
    ratings: set[str | None],
    favours_labels: tuple[str, str] = FAVOURS_LABELS,
) -> Figure:
    """One page of a forest plot, not yet saved."""
    results = [r for r in layout if r.kind == "result"]
    fig, ax = _forest_axes(layout, xlim)
    _draw_headings(ax, title)
    _draw_null_line(ax, layout)
    for r in layout:
        _draw_line(ax, r, xlim)
    _draw_points(ax, results, xlim)
    _draw_x_axis(ax, favours_labels)
    _draw_legend(fig, ax, ratings, any(r.reversed for r in results))
    return fig


def write_forest_plots(
    rows: pd.DataFrame,
    folder: Path,
    figure_rows: int = FIGURE_ROWS,
    workers: int = 1,
    favours_labels: tuple[str, str] = FAVOURS_LABELS,
) -> list[Path]:
    """Write ``forest_<slug>.svg`` per outcome group into ``folder`` (created), with further pages for groups of
    more than ``figure_rows`` results, and return the paths, in group order then page order; groups whose slugs
    collide get ``_2``, ``_3`` ... in that order. Every group's plot spans the x range of all results (one
    scale, the equivalent g, so plots side by side compare; intervals beyond it end in arrows). The pages are
    drawn by ``workers`` processes."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    groups = outcome_groups(rows)
    every_line = [r for page in forest_page_layouts(rows, max(len(rows), 1)) for r in page]
    xlim = _x_limits(every_line) if every_line else None
    tasks: list[tuple] = []
    for group, name in forest_file_names(list(groups)).items():
        tasks += _page_tasks(
            rows[(groups == group).to_numpy()], group, folder / name, figure_rows, xlim, favours_labels
        )
    draw_pages(tasks, workers)
    return [task[-1] for task in tasks]
