"""The evidence map of the effects stage: outcome groups (columns) x reviews (rows), one marker per harmonised
review-level result.

Directions are encoded by marker shape, ratings by colour *and* a legend entry, the number of studies by area,
so the map reads in greyscale. Every result gets a marker, whatever numbers it lacks.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.transforms import offset_copy

from umbrella.core.plots import figure, save_svg
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
#: (direction, hollow) -> markers as (x, y, area, colour).
MarkersByStyle = dict[tuple[str, bool], list[tuple[float, float, float, str]]]


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
            markers.setdefault((direction, DIRECTION_STYLE[direction][2]), []).append(
                (x + float(dx), y, _k_area(cell_int(row.get("k_studies"))), rating_style(rating)[1])
            )
    return markers, seen_ratings


def _draw_markers(ax, markers: MarkersByStyle) -> None:
    """The markers, one scatter per style: hollow ones as a coloured ring, "unknown" larger."""
    for (direction, hollow), pts in sorted(markers.items()):
        xs, ys, areas, colours = (list(v) for v in zip(*pts, strict=True))
        marker = DIRECTION_STYLE[direction][1]
        if hollow:
            # A coloured ring with a thin black outline, so that pale colours still show.
            ax.scatter(xs, ys, s=areas, marker=marker, facecolors="none", edgecolors="black", linewidths=2.8, zorder=3)
            ax.scatter(xs, ys, s=areas, marker=marker, facecolors="none", edgecolors=colours, linewidths=1.8, zorder=4)
        elif direction == "unknown":
            ax.scatter(
                xs, ys, s=[a * 1.8 for a in areas], marker=marker, c=colours, edgecolors="black", linewidths=0.4,
                zorder=4,
            )  # fmt: skip
        else:
            ax.scatter(xs, ys, s=areas, marker=marker, c=colours, edgecolors="black", linewidths=0.5, zorder=4)


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


def _draw_legends(fig, ax, seen_ratings: set[str | None]) -> None:
    """Direction, rating and size legends stacked to the right of the map."""
    grey = "#BBBBBB"
    direction_handles = [
        Line2D([], [], linestyle="", marker=mk, markersize=7, markerfacecolor="none" if hollow else grey,
               markeredgecolor="black", markeredgewidth=1.2 if hollow else 0.5, label=label)
        for label, mk, hollow in DIRECTION_STYLE.values()
    ]  # fmt: skip
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
        (size_handles, "Studies (k)", -166, {"labelspacing": 1.1}),
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


def evidence_map(rows: pd.DataFrame, path: Path) -> None:
    """Outcome groups (columns) x reviews (rows): one marker per result, shape = direction, colour = AMSTAR-2
    rating, area = number of studies; several results of a review in a group sit side by side."""
    if rows.empty:
        draw_no_results("Evidence map", path)
        return
    groups = outcome_groups(rows)
    group_order = sorted(set(groups), key=text_sort_key)
    labels, review_y = _review_labels(rows)
    fig, ax = figure(max(5.5, 3.4 + 0.75 * len(group_order)), 1.9 + 0.3 * len(labels))
    markers, seen_ratings = _markers(_cells(rows, groups, group_order, review_y))
    _draw_markers(ax, markers)
    _draw_grid(ax, group_order, labels)
    _draw_legends(fig, ax, seen_ratings)
    save_svg(fig, path)
