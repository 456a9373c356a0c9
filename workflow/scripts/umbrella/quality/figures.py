"""Figures of the quality stage: the review x item matrix, answers per item, and the ratings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from umbrella.core.plots import OKABE_ITO, RATING_STYLE, WHITE_TEXT_RATINGS, figure, integer_ticks, save_svg
from umbrella.core.registry import registry
from umbrella.core.vocabulary import FIGURE_ROWS, RATING_LABELS, RATING_RANK, RATINGS
from umbrella.quality.rating import ITEMS, RatingRule

#: Answer -> (label, colour, marker, hatch); markers and hatches keep the figures readable in greyscale.
ANSWER_STYLE = {
    "Y": ("Yes", OKABE_ITO["bluish_green"], "o", ""),
    "PY": ("Partial yes", OKABE_ITO["sky_blue"], "^", ".."),
    "N": ("No", OKABE_ITO["vermillion"], "X", "xx"),
    "NMA": ("No meta-analysis", "#C2C2C2", "s", "//"),
    None: ("Missing", "#FFFFFF", "$?$", ""),
}


def order_reviews(ratings: pd.DataFrame) -> pd.DataFrame:
    """Reviews sorted by rating (high first, incomplete last), then review_id."""
    key = ratings["rating"].map(RATING_RANK)
    return ratings.assign(_k=key).sort_values(["_k", "review_id"], kind="stable").drop(columns="_k")


#: Where the overall rating stands, right of item 16.
OVERALL_X = 17.6


def matrix_figure(
    matrix: pd.DataFrame,
    ratings: pd.DataFrame,
    rule: RatingRule,
    labels: pd.Series,
    path: Path,
    figure_rows: int = FIGURE_ROWS,
) -> None:
    """Reviews (rows, sorted by rating then id) x items 1-16 (critical items starred and shaded), with the
    overall rating as the last column; above ``figure_rows`` reviews, a compact grid (:func:`compact_matrix`)."""
    save_svg(draw_matrix(matrix, ratings, rule, labels, figure_rows), path)


def draw_matrix(
    matrix: pd.DataFrame, ratings: pd.DataFrame, rule: RatingRule, labels: pd.Series, figure_rows: int = FIGURE_ROWS
) -> Figure:
    """The figure of :func:`matrix_figure`, not yet saved."""
    rated = order_reviews(ratings[ratings["review_id"].isin(matrix.index)])
    ids = list(rated["review_id"])
    n = len(ids)
    if n > figure_rows:
        return compact_matrix(matrix.loc[ids].to_numpy(dtype=object), list(rated["rating"]), rule)
    fig, ax = figure(7.2, 1.6 + 0.22 * max(n, 1))
    for j in ITEMS:
        if j in rule.critical_items:
            ax.add_patch(Rectangle((j - 0.5, -0.5), 1, n, color="#EEEEEE", zorder=0, linewidth=0))
    _plot_answers(ax, matrix.loc[ids].to_numpy(dtype=object))
    _plot_overall(ax, rated["rating"])
    _matrix_axes(ax, [labels.get(r, r) for r in ids], rule)
    ax.legend(
        handles=_matrix_legend_handles(),
        loc="upper center",
        bbox_to_anchor=(0.5, -0.02 - 0.6 / max(n, 1)),
        ncol=5,
        frameon=False,
        fontsize=7,
    )
    return fig


def _plot_answers(ax: Axes, answers: np.ndarray) -> None:
    """One marker per answer (review = row, item = column), styled by the answer."""
    for answer, (_, colour, marker, _) in ANSWER_STYLE.items():
        mask = pd.isna(answers) if answer is None else answers == answer
        rows, cols = np.nonzero(mask)
        if len(rows):
            ax.scatter(
                cols + 1,
                rows,
                marker=marker,
                s=38,
                c=colour if answer is not None else OKABE_ITO["grey"],
                edgecolors="black" if answer is not None else "none",
                linewidths=0.4,
                zorder=3,
            )


def _plot_overall(ax: Axes, ratings: pd.Series) -> None:
    """The overall rating of each review as a coloured, labelled cell in the last column."""
    for i, rating in enumerate(ratings):
        text, colour = RATING_STYLE[rating]
        ax.add_patch(Rectangle((OVERALL_X - 0.55, i - 0.4), 1.1, 0.8, color=colour, zorder=2, linewidth=0))
        ax.text(
            OVERALL_X,
            i,
            text,
            ha="center",
            va="center",
            fontsize=7,
            zorder=4,
            color="white" if rating in WHITE_TEXT_RATINGS else "black",
        )


def _matrix_axes(ax: Axes, review_names: list[str], rule: RatingRule) -> None:
    """Items on top (critical ones starred and bold), reviews down the side, no frame."""
    n = len(review_names)
    ax.set_ylim(n - 0.5, -0.5)
    _item_axis(ax, rule)
    ax.set_yticks(range(n))
    ax.set_yticklabels(review_names)
    _bare_frame(ax)
    ax.set_xlabel("AMSTAR-2 item (* critical, shaded)")


def _item_axis(ax: Axes, rule: RatingRule) -> None:
    """Items 1-16 on top, critical ones starred and bold, then "Overall"."""
    ax.set_xlim(0.4, OVERALL_X + 0.7)
    ax.set_xticks([*ITEMS, OVERALL_X])
    ax.set_xticklabels([f"{j}*" if j in rule.critical_items else str(j) for j in ITEMS] + ["Overall"])
    for tick, j in zip(ax.get_xticklabels()[:16], ITEMS, strict=True):
        if j in rule.critical_items:
            tick.set_fontweight("bold")
    ax.xaxis.tick_top()


def _bare_frame(ax: Axes) -> None:
    """No ticks, no spines."""
    ax.tick_params(length=0)
    for side in ("left", "bottom", "top", "right"):
        ax.spines[side].set_visible(False)


def _matrix_legend_handles() -> list[Artist]:
    """A marker per answer, then a colour patch per rating."""
    return [
        Line2D(
            [],
            [],
            linestyle="",
            marker=m,
            markersize=6,
            markerfacecolor=c if a is not None else OKABE_ITO["grey"],
            markeredgecolor="black" if a is not None else "none",
            label=label,
        )
        for a, (label, c, m, _) in ANSWER_STYLE.items()
    ] + [Patch(color=c, label=f"{t} = {RATING_LABELS[r]}") for r, (t, c) in RATING_STYLE.items()]


# ---------------------------------------------------------------------------------------------------------------
# The compact matrix, for more reviews than the figure has rows for

#: Sub-columns of an item's cell in the compact matrix; some answers get stripes in a few of them.
COMPACT_SUBCOLUMNS = 12
#: Answer -> (sub-columns, colour) of the stripes that keep it apart in greyscale, and its legend hatch.
COMPACT_STRIPES = {"PY": ((5, 6), "#FFFFFF", "|"), "N": ((4, 7), "#000000", "||")}
#: Height of the grid in inches: this much per review, within the bounds.
COMPACT_INCH_PER_ROW = 0.02
COMPACT_HEIGHT = (2.5, 7.0)
#: A rating group gets its letter in the strip (and a label at the side) when at least this tall (inches).
COMPACT_LABEL_INCH = 0.14


def _answer_codes(answers: np.ndarray) -> np.ndarray:
    """The index in ANSWER_STYLE of every answer (missing and unknown ones count as missing)."""
    codes = np.full(answers.shape, len(ANSWER_STYLE) - 1, dtype=np.intp)
    for i, answer in enumerate(ANSWER_STYLE):
        if answer is not None:
            codes[answers == answer] = i
    return codes


def _rgb(colours: list[str]) -> np.ndarray:
    """The colours as 8-bit RGB rows."""
    return np.array([[round(255 * v) for v in to_rgb(c)] for c in colours], dtype=np.uint8).reshape(-1, 3)


def _answer_image(answers: np.ndarray) -> np.ndarray:
    """An 8-bit RGB image of the answers: a row per review, COMPACT_SUBCOLUMNS pixels per item, some answers
    striped."""
    codes = _answer_codes(answers)
    palette = _rgb([colour for _, colour, _, _ in ANSWER_STYLE.values()])
    image = np.repeat(palette[codes][:, :, None, :], COMPACT_SUBCOLUMNS, axis=2)
    for answer, (columns, colour, _) in COMPACT_STRIPES.items():
        cells = codes == list(ANSWER_STYLE).index(answer)
        for column in columns:
            image[cells, column] = _rgb([colour])[0]
    return image.reshape(codes.shape[0], -1, 3)


def _rating_groups(ratings: list[str]) -> list[tuple[str, int, int]]:
    """(rating, first row, number of rows) of each run of equal ratings, in order."""
    groups: list[tuple[str, int, int]] = []
    for i, rating in enumerate(ratings):
        if groups and groups[-1][0] == rating:
            groups[-1] = (rating, groups[-1][1], groups[-1][2] + 1)
        else:
            groups.append((rating, i, 1))
    return groups


def _answers_table_label() -> str:
    """Where every review's answers are listed: the supplement label of the answers table."""
    for output in registry():
        if output.key == "amstar2_answers" and output.supplement:
            return f"table {output.supplement['label']}"
    return "amstar2.csv"


def compact_matrix(answers: np.ndarray, ratings: list[str], rule: RatingRule) -> Figure:
    """The answers of many reviews (``answers``: reviews x items, in row order; ``ratings``: theirs) as a grid of
    thin unlabelled rows, the answers as colours (striped where greyscale would confuse them), and the overall
    ratings as a strip with a letter per rating group; the height is bounded, whatever the number of reviews."""
    n = len(ratings)
    panel_h = min(max(COMPACT_INCH_PER_ROW * n, COMPACT_HEIGHT[0]), COMPACT_HEIGHT[1])
    top_in, bottom_in, width = 0.75, 1.15, 7.2
    height = top_in + panel_h + bottom_in
    fig, _ = figure(width, height)
    fig.clf()
    ax = fig.add_axes((0.1, bottom_in / height, 0.86, panel_h / height))
    rows = (n - 0.5, -0.5)
    ax.imshow(_answer_image(answers), extent=(0.5, 16.5, *rows), aspect="auto", interpolation="none", zorder=1)
    strip = _rgb([RATING_STYLE[r][1] for r in ratings])[:, None, :]
    ax.imshow(strip, extent=(OVERALL_X - 0.55, OVERALL_X + 0.55, *rows), aspect="auto", interpolation="none")
    ax.vlines(np.arange(1.5, 16.5), *rows, colors="white", linewidth=0.8, zorder=2)
    groups = _rating_groups(ratings)
    ax.hlines([first - 0.5 for _, first, _ in groups[1:]], 0.5, OVERALL_X + 0.55, colors="black", linewidth=0.6,
              zorder=3)  # fmt: skip
    tall = [(r, first, size) for r, first, size in groups if size * panel_h / n >= COMPACT_LABEL_INCH]
    for rating, first, size in tall:
        ax.text(OVERALL_X, first + (size - 1) / 2, RATING_STYLE[rating][0], ha="center", va="center", fontsize=7,
                zorder=4, color="white" if rating in WHITE_TEXT_RATINGS else "black")  # fmt: skip
    ax.set_ylim(*rows)
    _item_axis(ax, rule)
    _bare_frame(ax)
    ax.set_yticks([first + (size - 1) / 2 for _, first, size in tall])
    ax.set_yticklabels([RATING_LABELS[r] for r, _, _ in tall], fontsize=7)
    ax.set_ylabel("Reviews, one row each, by rating then review id", fontsize=8)
    ax.set_xlabel("AMSTAR-2 item (* critical)")
    ax.set_title(
        f"{n:,} reviews; one row per review; the answers of each are in {_answers_table_label()}",
        loc="left",
        fontsize=8,
        pad=22,
    )
    counts = {r: ratings.count(r) for r in RATING_STYLE}
    ax.legend(
        handles=_compact_legend_handles(counts),
        loc="upper center",
        bbox_to_anchor=(0.5, -0.35 / panel_h),
        ncol=5,
        frameon=False,
        fontsize=7,
    )
    return fig


def _compact_legend_handles(counts: dict[str, int]) -> list[Artist]:
    """A patch per answer (striped as in the grid), then one per rating with its number of reviews."""
    handles: list[Artist] = []
    for answer, (label, colour, _, _) in ANSWER_STYLE.items():
        _, stripe, hatch = COMPACT_STRIPES.get(answer, ((), "black", ""))
        handles.append(
            Patch(facecolor=colour, edgecolor="black", linewidth=0.4, hatch=hatch, hatchcolor=stripe, label=label)
        )
    return handles + [
        Patch(facecolor=c, edgecolor="black", linewidth=0.4, label=f"{t} = {RATING_LABELS[r]} ({counts[r]:,})")
        for r, (t, c) in RATING_STYLE.items()
    ]


def items_figure(items: pd.DataFrame, path: Path) -> None:
    """Stacked horizontal bars: the answers to each item across reviews (percent of reviews)."""
    fig, ax = figure(7.2, 4.6)
    y = np.arange(len(items))
    total = items[["n_yes", "n_partial_yes", "n_no", "n_nma", "n_missing"]].sum(axis=1).replace(0, 1)
    left = np.zeros(len(items))
    columns = [("n_yes", "Y"), ("n_partial_yes", "PY"), ("n_no", "N"), ("n_nma", "NMA"), ("n_missing", None)]
    for col, answer in columns:
        label, colour, _, hatch = ANSWER_STYLE[answer]
        width = (100 * items[col] / total).to_numpy()
        ax.barh(y, width, left=left, color=colour, hatch=hatch, edgecolor="black", linewidth=0.4, label=label)
        left += width
    ax.set_yticks(y)
    ax.set_yticklabels(
        [
            f"{'*' if c else ''}{i}. {lab}"
            for i, lab, c in zip(items["item"], items["label"], items["critical"], strict=True)
        ],
        fontsize=7,
    )
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("Reviews (%)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.4, -0.1), ncol=5, frameon=False, fontsize=7)
    ax.set_title("Answers per AMSTAR-2 item (* critical)", loc="left")
    save_svg(fig, path)


#: Where a review's overall rating comes from: (rating_source, hatch, legend label).
RATING_SOURCES = [("items", "", "From item answers"), ("reported", "//", "Published rating"), ("", "..", "No rating")]


def ratings_figure(ratings: pd.DataFrame, path: Path) -> None:
    """Reviews per overall rating, split by where the rating comes from (item answers or published)."""
    fig, ax = figure(5.0, 2.6)
    levels = list(RATINGS) + (["incomplete"] if ratings["rating"].eq("incomplete").any() else [])
    x = np.arange(len(levels))
    bottom = np.zeros(len(levels))
    sources = []
    for source, hatch, label in RATING_SOURCES:
        counts = np.array([((ratings["rating"] == r) & (ratings["rating_source"] == source)).sum() for r in levels])
        if counts.sum() == 0:
            continue
        colours = [RATING_STYLE[r][1] for r in levels]
        bars = ax.bar(x, counts, bottom=bottom, color=colours, hatch=hatch, edgecolor="black", linewidth=0.4)
        for bar, rating in zip(bars, levels, strict=True):
            bar.set_hatchcolor("white" if rating in WHITE_TEXT_RATINGS else "black")  # visible on dark colours
        bottom += counts
        sources.append(Patch(facecolor="white", edgecolor="black", linewidth=0.4, hatch=hatch, label=label))
    for xi, total in zip(x, bottom, strict=True):
        ax.text(xi, total, f"{int(total)}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x)
    ax.set_xticklabels([RATING_LABELS[r].replace(" ", "\n") for r in levels])
    ax.set_ylabel("Reviews")
    ax.set_ylim(0, max(bottom.max(), 1) * 1.15)
    integer_ticks(ax.yaxis)
    # The legend tells the sources apart by hatch alone (white swatches), the bars' colours are the ratings'.
    ax.legend(handles=sources, frameon=False, fontsize=7)
    ax.set_title("Overall confidence (AMSTAR-2)", loc="left")
    save_svg(fig, path)
