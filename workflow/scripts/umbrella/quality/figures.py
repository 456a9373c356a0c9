"""Figures of the quality stage: the review x item matrix, answers per item, and the ratings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from umbrella.core.plots import OKABE_ITO, RATING_STYLE, figure, save_svg
from umbrella.core.vocabulary import RATING_LABELS, RATING_RANK, RATINGS
from umbrella.quality.rating import ITEMS, RatingRule

#: Answer -> (label, colour, marker, hatch); markers and hatches keep the figures readable in greyscale.
ANSWER_STYLE = {
    "Y": ("Yes", OKABE_ITO["bluish_green"], "o", ""),
    "PY": ("Partial yes", OKABE_ITO["sky_blue"], "^", ".."),
    "N": ("No", OKABE_ITO["vermillion"], "X", "xx"),
    "NMA": ("No meta-analysis", OKABE_ITO["grey"], "s", "//"),
    None: ("Missing", "#FFFFFF", "$?$", ""),
}


def order_reviews(ratings: pd.DataFrame) -> pd.DataFrame:
    """Reviews sorted by rating (high first, incomplete last), then review_id."""
    key = ratings["rating"].map(RATING_RANK)
    return ratings.assign(_k=key).sort_values(["_k", "review_id"], kind="stable").drop(columns="_k")


#: Where the overall rating stands, right of item 16.
OVERALL_X = 17.6


def matrix_figure(matrix: pd.DataFrame, ratings: pd.DataFrame, rule: RatingRule, labels: pd.Series, path: Path) -> None:
    """Reviews (rows, sorted by rating then id) x items 1-16 (critical items starred and shaded), with the
    overall rating as the last column."""
    rated = order_reviews(ratings[ratings["review_id"].isin(matrix.index)])
    ids = list(rated["review_id"])
    n = len(ids)
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
    save_svg(fig, path)


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
            color="white" if rating in ("high", "critically_low") else "black",
        )


def _matrix_axes(ax: Axes, review_names: list[str], rule: RatingRule) -> None:
    """Items on top (critical ones starred and bold), reviews down the side, no frame."""
    n = len(review_names)
    ax.set_xlim(0.4, OVERALL_X + 0.7)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xticks([*ITEMS, OVERALL_X])
    ax.set_xticklabels([f"{j}*" if j in rule.critical_items else str(j) for j in ITEMS] + ["Overall"])
    for tick, j in zip(ax.get_xticklabels()[:16], ITEMS, strict=True):
        if j in rule.critical_items:
            tick.set_fontweight("bold")
    ax.xaxis.tick_top()
    ax.set_yticks(range(n))
    ax.set_yticklabels(review_names)
    ax.tick_params(length=0)
    for side in ("left", "bottom", "top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("AMSTAR-2 item (* critical, shaded)")


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


def ratings_figure(ratings: pd.DataFrame, path: Path) -> None:
    """Reviews per overall rating, split by where the rating comes from (item answers or published)."""
    fig, ax = figure(5.0, 2.6)
    levels = list(RATINGS) + (["incomplete"] if ratings["rating"].eq("incomplete").any() else [])
    x = np.arange(len(levels))
    bottom = np.zeros(len(levels))
    for source, hatch, label in [
        ("items", "", "From item answers"),
        ("reported", "//", "Published rating"),
        ("", "..", "No rating"),
    ]:
        counts = np.array([((ratings["rating"] == r) & (ratings["rating_source"] == source)).sum() for r in levels])
        if counts.sum() == 0:
            continue
        colours = [RATING_STYLE[r][1] for r in levels]
        ax.bar(x, counts, bottom=bottom, color=colours, hatch=hatch, edgecolor="black", linewidth=0.4, label=label)
        bottom += counts
    for xi, total in zip(x, bottom, strict=True):
        ax.text(xi, total, f"{int(total)}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x)
    ax.set_xticklabels([RATING_LABELS[r].replace(" ", "\n") for r in levels])
    ax.set_ylabel("Reviews")
    ax.set_ylim(0, max(bottom.max(), 1) * 1.15)
    ax.legend(frameon=False, fontsize=7)
    ax.set_title("Overall confidence (AMSTAR-2)", loc="left")
    save_svg(fig, path)
