"""The evidence map of the effects stage: outcome groups (columns) x reviews (rows), one marker per harmonised
review-level result.

Directions are encoded by marker shape, ratings by colour in steps of lightness (results without a usable rating
also by a hatch), the number of studies by area, so the map reads in greyscale and under colour-vision
deficiency. Every result gets a marker, whatever numbers it lacks.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import offset_copy

from umbrella.core.plots import RATING_HATCH, RATING_STYLE, figure, save_svg
from umbrella.core.registry import registry
from umbrella.core.vocabulary import FIGURE_ROWS, RATING_LABELS
from umbrella.effects.figure_common import (
    cell_int,
    cell_text,
    column_or_blank,
    draw_no_results,
    outcome_groups,
    rating_key,
    rating_legend_handles,
    rating_style,
    shorten_middle,
    text_sort_key,
    truncate,
)

#: Direction -> (label, marker, hollow).
DIRECTION_STYLE = {
    "benefit": ("Favours intervention", "^", False),
    "no_difference": ("No difference", "o", True),
    "harm": ("Favours control", "v", False),
    "unknown": ("Direction unknown", "$?$", False),
}
#: (x, y) cell of the map -> its results as (sort key, row).
Cells = dict[tuple[int, int], list[tuple]]
#: (direction, hollow, hatch) -> markers as (x, y, area, colour).
MarkersByStyle = dict[tuple[str, bool, str], list[tuple[float, float, float, str]]]


def _direction(value: object) -> str:
    """A direction cell as a key of DIRECTION_STYLE; anything else is ``"unknown"``."""
    key = cell_text(value).lower().replace(" ", "_").replace("-", "_")
    return key if key in DIRECTION_STYLE else "unknown"


def _k_area(k: int | None) -> float:
    """Evidence-map marker area (pt^2) growing linearly with k (capped at 40; missing counts as 1)."""
    return 24.0 + 5.0 * min(max(k or 1, 1), 40)


def _review_labels(rows: pd.DataFrame) -> tuple[list[str], pd.Series]:
    """The reviews (keyed by review_id, else label) sorted by label, and each row's key. Labels shared by
    different reviews get the review id appended."""
    ids = column_or_blank(rows, "review_id").map(cell_text)
    names = column_or_blank(rows, "review").map(cell_text)
    keys = [i or n or "(unnamed)" for i, n in zip(ids, names, strict=True)]
    label_of: dict[str, str] = {}
    for key, name in zip(keys, names, strict=True):
        label_of.setdefault(key, name or key)
    counts: dict[str, int] = {}
    for label in label_of.values():
        counts[label] = counts.get(label, 0) + 1
    display = {k: (lab if counts[lab] == 1 or lab == k else f"{lab} ({k})") for k, lab in label_of.items()}
    order = sorted(display, key=lambda k: (text_sort_key(display[k]), k))
    return [display[k] for k in order], pd.Series([order.index(k) for k in keys], index=rows.index, dtype=int).rename(
        "y"
    )


def _cells(rows: pd.DataFrame, groups: pd.Series, group_order: list[str], review_y: pd.Series) -> Cells:
    """The results of each cell (group column, review row), with the key that orders them side by side:
    outcome, timepoint, effect id, input position."""
    cells: Cells = {}
    for position, (idx, row) in enumerate(rows.iterrows()):
        x, y = group_order.index(groups[idx]), int(review_y[idx])
        sort_key = (
            text_sort_key(cell_text(row.get("outcome"))),
            text_sort_key(cell_text(row.get("timepoint"))),
            text_sort_key(cell_text(row.get("effect_id"))),
            position,
        )
        cells.setdefault((x, y), []).append((sort_key, row))
    return cells


def _markers(cells: Cells) -> tuple[MarkersByStyle, set[str | None]]:
    """Every result's marker, spread across its cell when the cell holds several, grouped by marker style; and
    the ratings seen."""
    markers: MarkersByStyle = {}
    seen_ratings: set[str | None] = set()
    for (x, y), members in sorted(cells.items()):
        members.sort(key=lambda m: m[0])
        m = len(members)
        half = min(0.32, 0.09 * (m - 1))
        offsets = np.linspace(-half, half, m) if m > 1 else [0.0]
        for dx, (_, row) in zip(offsets, members, strict=True):
            rating = rating_key(row.get("amstar2_rating"))
            seen_ratings.add(rating)
            direction = _direction(row.get("direction"))
            key = (direction, DIRECTION_STYLE[direction][2], RATING_HATCH.get(rating, ""))
            markers.setdefault(key, []).append(
                (x + float(dx), y, _k_area(cell_int(row.get("k_studies"))), rating_style(rating)[1])
            )
    return markers, seen_ratings


def _draw_markers(ax, markers: MarkersByStyle) -> None:
    """The markers, one scatter per style: hollow ones as a coloured ring, "unknown" larger; a hatch over the
    markers of results without a usable rating."""
    for (direction, hollow, hatch), pts in sorted(markers.items()):
        xs, ys, areas, colours = (list(v) for v in zip(*pts, strict=True))
        _scatter(ax, xs, ys, areas, colours, direction, hollow, hatch)


def _scatter(ax, xs, ys, areas, colours, direction: str, hollow: bool, hatch: str) -> None:
    """Markers of one direction (its shape; hollow: a coloured ring with a thin black outline, so that pale
    colours still show; "unknown" larger), filled with their rating's colour, hatched in black if ``hatch``."""
    marker = DIRECTION_STYLE[direction][1]
    if direction == "unknown":
        areas = [a * 1.8 for a in areas]
    if hollow:
        ax.scatter(xs, ys, s=areas, marker=marker, facecolors="none", edgecolors="black", linewidths=2.8, zorder=3)
        ax.scatter(xs, ys, s=areas, marker=marker, facecolors="none", edgecolors=colours, linewidths=1.8, zorder=4)
    else:
        width = 0.4 if direction == "unknown" else 0.5
        ax.scatter(xs, ys, s=areas, marker=marker, c=colours, edgecolors="black", linewidths=width, zorder=4)
    if hatch and direction != "unknown":
        ax.scatter(xs, ys, s=areas, marker=marker, facecolors="none", edgecolors="none", hatch=hatch,
                   hatchcolor="black", linewidths=0, zorder=5)  # fmt: skip


def _draw_grid(ax, group_order: list[str], labels: list[str]) -> None:
    """Cell borders, group names along the top (slanted when more than two), review labels down the side."""
    n_cols, n_rows = len(group_order), len(labels)
    for x in range(n_cols + 1):
        ax.axvline(x - 0.5, color="#DDDDDD", linewidth=0.5, zorder=0)
    for y in range(n_rows + 1):
        ax.axhline(y - 0.5, color="#EEEEEE", linewidth=0.5, zorder=0)
    ax.set_xlim(-0.5, n_cols - 0.5)
    ax.set_ylim(n_rows - 0.5, -0.5)
    ax.set_xticks(range(n_cols))
    ax.set_xticklabels(
        [truncate(g, 40) for g in group_order],
        rotation=30 if n_cols > 2 else 0,
        ha="left" if n_cols > 2 else "center",
        rotation_mode="anchor",
        fontsize=8,
    )
    ax.xaxis.tick_top()
    ax.set_yticks(range(n_rows))
    ax.set_yticklabels([shorten_middle(lab, 40) for lab in labels], fontsize=8)
    ax.tick_params(length=0)
    for side in ("left", "bottom", "top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title("Evidence map", loc="left", pad=14 if n_cols <= 2 else 60)


def direction_labels(favours_labels: tuple[str, str] | None = None) -> dict[str, str]:
    """Each direction's legend label; benefit and harm take the forest plots' favours labels when given."""
    labels = {key: label for key, (label, _, _) in DIRECTION_STYLE.items()}
    if favours_labels:
        labels["harm"], labels["benefit"] = favours_labels
    return labels


def _draw_legends(
    fig,
    ax,
    seen_ratings: set[str | None],
    size_handles: list | None = None,
    size_title: str = "Studies (k)",
    favours_labels: tuple[str, str] | None = None,
) -> None:
    """Direction, rating and size legends (by default: number of studies) stacked to the right of the map."""
    grey = "#BBBBBB"
    names = direction_labels(favours_labels)
    direction_handles = [
        Line2D([], [], linestyle="", marker=mk, markersize=7, markerfacecolor="none" if hollow else grey,
               markeredgecolor="black", markeredgewidth=1.2 if hollow else 0.5, label=names[key])
        for key, (_, mk, hollow) in DIRECTION_STYLE.items()
    ]  # fmt: skip
    if size_handles is None:
        size_handles = [
            Line2D([], [], linestyle="", marker="o", markersize=math.sqrt(_k_area(k)), markerfacecolor=grey,
                   markeredgecolor="black", markeredgewidth=0.5, label=f"k = {k}")
            for k in (5, 10, 20)
        ]  # fmt: skip
    # Legends stacked to the right of the map, placed in points from its top so they never overlap.
    common = {"loc": "upper left", "frameon": False, "fontsize": 7, "title_fontsize": 7.5, "alignment": "left"}
    stack = [
        (direction_handles, "Direction", 0, {}),
        (rating_legend_handles(seen_ratings), "AMSTAR-2 confidence", -72, {}),
        (size_handles, size_title, -166, {"labelspacing": 1.1}),
    ]
    for handles, title, dy, extra in stack:
        # Figure legends: not clipped to the axes and counted in the tight bounding box.
        fig.legend(
            handles=handles,
            title=title,
            bbox_to_anchor=(1.02, 1.0),
            bbox_transform=offset_copy(ax.transAxes, fig=fig, y=dy, units="points"),
            **common,
            **extra,
        )


def evidence_map(
    rows: pd.DataFrame, path: Path, figure_rows: int = FIGURE_ROWS, favours_labels: tuple[str, str] | None = None
) -> None:
    """Outcome groups (columns) x reviews (rows): one marker per result, shape = direction, colour = AMSTAR-2
    rating, area = number of studies; several results of a review in a group sit side by side. Above
    ``figure_rows`` reviews, a summary instead (:func:`summary_map`). ``favours_labels`` (control, intervention)
    name the directions benefit and harm in the legend."""
    if rows.empty:
        draw_no_results("Evidence map", path)
        return
    groups = outcome_groups(rows)
    group_order = sorted(set(groups), key=text_sort_key)
    labels, review_y = _review_labels(rows)
    if len(labels) > figure_rows:
        save_svg(summary_map(rows, groups, group_order, len(labels), favours_labels), path)
        return
    fig, ax = figure(max(5.5, 3.4 + 0.75 * len(group_order)), 1.9 + 0.3 * len(labels))
    markers, seen_ratings = _markers(_cells(rows, groups, group_order, review_y))
    _draw_markers(ax, markers)
    _draw_grid(ax, group_order, labels)
    _draw_legends(fig, ax, seen_ratings, favours_labels=favours_labels)
    save_svg(fig, path)


# ---------------------------------------------------------------------------------------------------------------
# The summary map, for more reviews than the map has rows for

#: x offset of each direction's marker within a cell of the summary map.
SUMMARY_SLOTS = dict(zip(DIRECTION_STYLE, (-0.33, -0.11, 0.11, 0.33), strict=True))
#: Marker area (pt^2) of the largest count in the summary map; the others in proportion, at least the floor.
SUMMARY_AREA = (6.0, 240.0)


def _results_table_label() -> str:
    """Where every result is listed: the supplement label and file of the review-level results table."""
    for output in registry():
        if output.key == "review_effects" and output.supplement:
            return f"table {output.supplement['label']} ({Path(output.path).name})"
    return "review_effects.csv"


def _count_area(count: int, largest: int) -> float:
    """Summary-map marker area (pt^2) in proportion to the count."""
    low, high = SUMMARY_AREA
    return max(low, high * count / max(largest, 1))


def _size_counts(largest: int) -> list[int]:
    """Up to three round counts for the size legend: the largest count rounded down to 1, 2 or 5 times a power
    of ten, then about a quarter and a sixteenth of it."""
    counts = []
    for share in (1, 4, 16):
        target = largest / share
        if target < 1:
            break
        power = 10 ** math.floor(math.log10(target))
        count = max(step * power for step in (1, 2, 5) if step * power <= target)
        if count not in counts:
            counts.append(int(count))
    return counts


def summary_map(
    rows: pd.DataFrame,
    groups: pd.Series,
    group_order: list[str],
    n_reviews: int,
    favours_labels: tuple[str, str] | None = None,
) -> Figure:
    """Outcome groups (columns) x AMSTAR-2 ratings (rows): per cell, a marker per direction of effect whose area
    and printed number are the results with that rating and direction; for a number of reviews too large for a
    row each. Returns the figure, not yet saved."""
    ratings = [rating_key(v) for v in column_or_blank(rows, "amstar2_rating")]
    directions = [_direction(v) for v in column_or_blank(rows, "direction")]
    counts = Counter(zip(groups, ratings, directions, strict=True))
    levels = [r for r in [*RATING_STYLE, None] if r in set(ratings)]
    largest = max(counts.values())
    fig, ax = figure(max(5.5, 3.4 + 1.3 * len(group_order)), 2.2 + 0.55 * len(levels))
    for direction, slot in SUMMARY_SLOTS.items():
        hollow = DIRECTION_STYLE[direction][2]
        for y, rating in enumerate(levels):
            cells = [
                (x + slot, y, counts[(group, rating, direction)])
                for x, group in enumerate(group_order)
                if counts[(group, rating, direction)]
            ]
            if not cells:
                continue
            xs, ys, ns = (list(v) for v in zip(*cells, strict=True))
            areas = [_count_area(n, largest) for n in ns]
            colours = [rating_style(rating)[1]] * len(xs)
            _scatter(ax, xs, ys, areas, colours, direction, hollow, RATING_HATCH.get(rating, ""))
            for x, n in zip(xs, ns, strict=True):
                ax.text(x, y + 0.3, f"{n:,}", ha="center", va="center", fontsize=6.5, zorder=5)
    names = [RATING_LABELS[r] if r is not None else "Not rated" for r in levels]
    _draw_grid(ax, group_order, names)
    ax.set_yticklabels(names, fontsize=8)
    ax.set_ylabel("AMSTAR-2 confidence", fontsize=8)
    ax.set_title(
        f"Evidence map: results per outcome group, AMSTAR-2 confidence and direction\n"
        f"{n_reviews:,} reviews, {len(rows):,} results: counted, not one row per review; every result is in "
        f"{_results_table_label()}",
        loc="left",
        fontsize=8,
        pad=14 if len(group_order) <= 2 else 60,
    )
    size_handles = [
        Line2D([], [], linestyle="", marker="o", markersize=math.sqrt(_count_area(n, largest)),
               markerfacecolor="#BBBBBB", markeredgecolor="black", markeredgewidth=0.5, label=f"{n:,} results")
        for n in _size_counts(largest)
    ]  # fmt: skip
    _draw_legends(
        fig, ax, set(levels), size_handles=size_handles, size_title="Results (area)", favours_labels=favours_labels
    )
    return fig
