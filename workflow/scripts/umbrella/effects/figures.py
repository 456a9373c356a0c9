"""Figures of the effects stage: one forest plot per outcome group and an evidence map.

Both draw harmonised review-level pooled results, one row per result. The plotted scale is the equivalent
Hedges' g oriented so that a positive value favours the intervention (``g_benefit``), so the beneficial side
is always on the right; the result as the review reported it is printed beside it. Ratings are encoded by
colour *and* by a letter or legend entry, directions by marker shape, so the figures read in greyscale.
Results that cannot be put on the common scale are still listed, with a note, never dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory, offset_copy

from umbrella.core.plots import OKABE_ITO, RATING_STYLE, figure, save_svg
from umbrella.core.vocabulary import RATING_LABELS, RATIO_MEASURES
from umbrella.effects.forest_files import forest_file_names, group_slug  # noqa: F401 (group_slug re-exported)

MINUS = "\u2212"
DASH = "\u2013"
#: Style of a result whose review has no AMSTAR-2 rating (not one of RATING_STYLE's keys).
NOT_RATED = ("\u2013", "#FFFFFF")
#: Direction -> (label, marker, hollow).
DIRECTION_STYLE = {
    "benefit": ("Favours intervention", "^", False),
    "no_difference": ("No difference", "o", True),
    "harm": ("Favours control", "v", False),
    "unknown": ("Direction unknown", "$?$", False),
}
#: The x axis of the forest plots never extends beyond +-X_CAP; longer lines end in an arrow.
X_CAP = 4.0
UNGROUPED = "Ungrouped"

# Forest plot geometry: inches per row, and the x positions (figure fraction) of the text columns.
ROW_INCH = 0.2
COL_REVIEW = 0.01
COL_RATING = 0.315
PANEL = (0.35, 0.31)  # left, width of the plot panel
COL_K = 0.695
COL_N = 0.79
COL_RESULT = 0.81
MAX_LABEL = 34
MAX_HEADER = 90


# ---------------------------------------------------------------------------------------------------------------
# Small value helpers (every column may hold NaN / None, or be absent)


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    if name in rows.columns:
        return rows[name]
    return pd.Series([None] * len(rows), index=rows.index, dtype=object)


def _text(value: object) -> str:
    """A cell as stripped text; missing values and NaN give ``""``."""
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value).strip()


def _float(value: object) -> float:
    """A cell as a finite float, or NaN."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return x if math.isfinite(x) else math.nan


def _int(value: object) -> int | None:
    x = _float(value)
    return None if math.isnan(x) else int(round(x))


def _rating(value: object) -> str | None:
    """The rating key in RATING_STYLE, or None if missing / not recognised."""
    key = _text(value).lower().replace(" ", "_").replace("-", "_")
    return key if key in RATING_STYLE else None


def _rating_style(rating: str | None) -> tuple[str, str]:
    return RATING_STYLE[rating] if rating is not None else NOT_RATED


def _flags(value: object) -> list[str]:
    return [f.strip() for f in _text(value).split(";") if f.strip()]


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _shorten_middle(text: str, limit: int) -> str:
    """Long labels lose their middle, keeping the end (where a review label has its year)."""
    if len(text) <= limit:
        return text
    tail = limit // 3
    return text[: limit - tail - 1].rstrip() + "\u2026" + text[-tail:].lstrip()


def _number(x: float, decimals: int) -> str:
    text = f"{x:,.{decimals}f}"
    if text.startswith("-"):
        # "-0.00" is zero: print it without a sign.
        text = text[1:] if float(text[1:].replace(",", "")) == 0 else MINUS + text[1:]
    return text


def _decimals(measure: str, values: list[float]) -> int:
    if measure in RATIO_MEASURES:
        return 2
    if measure == "MD":
        largest = max((abs(v) for v in values if not math.isnan(v)), default=0.0)
        return 2 if largest < 10 else 1 if largest < 100 else 0
    return 2


def format_result(measure: object, estimate: object, lower: object, upper: object) -> str:
    """The result as reported, e.g. ``"SMD −0.39 [−0.54, −0.24]"`` (real minus signs)."""
    m = _text(measure).upper()
    est, lo, hi = _float(estimate), _float(lower), _float(upper)
    if math.isnan(est):
        return f"{m} not reported".strip()
    d = _decimals(m, [est, lo, hi])
    ci = f" [{_number(lo, d)}, {_number(hi, d)}]" if not (math.isnan(lo) or math.isnan(hi)) else " (no CI)"
    return f"{m} {_number(est, d)}{ci}".strip()


def _sort_text(value: str) -> tuple[bool, str, str]:
    """Sort key for text: missing last, then case-insensitive, then exact (for determinism)."""
    return (value == "", value.casefold(), value)


# ---------------------------------------------------------------------------------------------------------------
# Forest plot


@dataclass(frozen=True)
class ForestRow:
    """One line of a forest plot: a bold ``header`` (outcome and timepoint) or a ``result``."""

    kind: str  # "header" | "result"
    y: float  # data y position; rows go down the page as y grows
    label: str  # header text, or the review label
    effect_id: str = ""
    rating: str | None = None  # a key of RATING_STYLE, or None when not rated
    letter: str = ""
    k: int | None = None
    k_text: str = ""
    n_text: str = ""
    result_text: str = ""
    g: float = math.nan
    lower: float = math.nan
    upper: float = math.nan
    pi_lower: float = math.nan
    pi_upper: float = math.nan
    note: str = ""  # why there is no point on the common scale


def _header(outcome: str, timepoint: str) -> str:
    text = outcome or "Outcome not given"
    return _truncate(f"{text} \u00b7 {timepoint}" if timepoint else text, MAX_HEADER)


def forest_layout(rows: pd.DataFrame) -> list[ForestRow]:
    """The lines of a forest plot in drawing order with their y positions: results grouped by outcome then
    timepoint (a header line each), sorted by review label within. Every input row gives one result line."""
    if rows.empty:
        return []
    records = []
    for position, (_, row) in enumerate(rows.iterrows()):
        label = _text(row.get("review")) or _text(row.get("review_id")) or _text(row.get("effect_id")) or "(unnamed)"
        records.append(
            {
                "outcome": _text(row.get("outcome")),
                "timepoint": _text(row.get("timepoint")),
                "label": label,
                "effect_id": _text(row.get("effect_id")),
                "position": position,
                "row": row,
            }
        )
    records.sort(
        key=lambda r: (
            _sort_text(r["outcome"]),
            _sort_text(r["timepoint"]),
            _sort_text(r["label"]),
            _sort_text(r["effect_id"]),
            r["position"],
        )
    )
    out: list[ForestRow] = []
    y = 0.0
    current: tuple[str, str] | None = None
    for r in records:
        key = (r["outcome"], r["timepoint"])
        if key != current:
            if current is not None:
                y += 0.4  # a little space before each new header
            out.append(ForestRow(kind="header", y=y, label=_header(*key)))
            y += 1.0
            current = key
        row = r["row"]
        rating = _rating(row.get("amstar2_rating"))
        k = _int(row.get("k_studies"))
        n = _int(row.get("n_participants"))
        g = _float(row.get("g_benefit"))
        note = ""
        if math.isnan(g):
            note = "incomplete" if "incomplete" in _flags(row.get("flags")) else "not on the common scale"
        out.append(
            ForestRow(
                kind="result",
                y=y,
                label=_shorten_middle(r["label"], MAX_LABEL),
                effect_id=r["effect_id"],
                rating=rating,
                letter=_rating_style(rating)[0],
                k=k,
                k_text=DASH if k is None else f"{k:,}",
                n_text=DASH if n is None else f"{n:,}",
                result_text=format_result(
                    row.get("measure"), row.get("estimate"), row.get("ci_lower"), row.get("ci_upper")
                ),
                g=g,
                lower=_float(row.get("g_benefit_lower")) if not math.isnan(g) else math.nan,
                upper=_float(row.get("g_benefit_upper")) if not math.isnan(g) else math.nan,
                pi_lower=_float(row.get("pi_g_benefit_lower")) if not math.isnan(g) else math.nan,
                pi_upper=_float(row.get("pi_g_benefit_upper")) if not math.isnan(g) else math.nan,
                note=note,
            )
        )
        y += 1.0
    return out


def _x_limits(layout: list[ForestRow]) -> tuple[float, float]:
    """x range covering every point and CI (and 0), padded, within +-X_CAP, at least +-0.5. Prediction
    intervals widen it by at most half its width on each side (beyond that they end in an arrow), so that one
    very wide PI does not squash every other result."""
    core = [0.0] + [v for r in layout for v in (r.g, r.lower, r.upper) if not math.isnan(v)]
    lo, hi = min(core), max(core)
    span = max(hi - lo, 1.0)
    pis = [v for r in layout for v in (r.pi_lower, r.pi_upper) if not math.isnan(v)]
    lo = min([lo, *[max(v, lo - span / 2) for v in pis]])
    hi = max([hi, *[min(v, hi + span / 2) for v in pis]])
    pad = 0.06 * max(hi - lo, 1.0)
    return max(min(lo - pad, -0.5), -X_CAP), min(max(hi + pad, 0.5), X_CAP)


def _marker_area(k: int | None) -> float:
    """Marker area (pt^2) growing with the square root of the number of studies."""
    return 14.0 + 7.0 * math.sqrt(min(max(k or 1, 1), 100))


def _segment(ax, y: float, lo: float, hi: float, xlim: tuple[float, float], **style) -> None:
    """A horizontal line from lo to hi clipped to xlim, with an arrowhead where it was clipped."""
    if math.isnan(lo) or math.isnan(hi):
        return
    a, b = max(min(lo, hi), xlim[0]), min(max(lo, hi), xlim[1])
    if a >= b:
        return
    ax.plot([a, b], [y, y], solid_capstyle="butt", **style)
    colour = style.get("color", "black")
    if min(lo, hi) < xlim[0]:
        ax.plot([a], [y], marker="<", markersize=4, color=colour, zorder=style.get("zorder", 2), clip_on=False)
    if max(lo, hi) > xlim[1]:
        ax.plot([b], [y], marker=">", markersize=4, color=colour, zorder=style.get("zorder", 2), clip_on=False)


def _no_results(title: str, path: Path) -> None:
    fig, ax = figure(7.5, 2.0)
    ax.text(0.5, 0.5, "No results", ha="center", va="center", fontsize=11, color=OKABE_ITO["grey"])
    # Axis kept (but bare) so that the tight bounding box keeps the whole panel and the text stays centred.
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("left", "bottom", "top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, loc="left")
    save_svg(fig, path)


def _rating_handles(ratings: set[str | None]) -> list:
    handles = [
        Patch(facecolor=c, edgecolor="black", linewidth=0.4, label=f"{t} = {RATING_LABELS[r]}")
        for r, (t, c) in RATING_STYLE.items()
    ]
    if None in ratings:
        handles.append(
            Patch(facecolor=NOT_RATED[1], edgecolor="black", linewidth=0.4, label=f"{NOT_RATED[0]} = Not rated")
        )
    return handles


def forest_figure(rows: pd.DataFrame, group: str, path: Path) -> None:
    """A forest plot of one outcome group: one line per result with its review, AMSTAR-2 rating (colour and
    letter), k, n and the result as reported; the point and CI (and PI, where known) on the equivalent Hedges'
    g scale, oriented so that the intervention's side is on the right."""
    layout = forest_layout(rows)
    if not layout:
        _no_results(group, path)
        return
    results = [r for r in layout if r.kind == "result"]
    last = layout[-1].y
    y_top, y_bottom = -1.7, last + 0.7
    panel_h = (y_bottom - y_top) * ROW_INCH
    top_in, bottom_in = 0.35, 1.25
    height = top_in + panel_h + bottom_in
    fig, _ = figure(7.5, height)
    fig.clf()
    ax = fig.add_axes((PANEL[0], bottom_in / height, PANEL[1], panel_h / height))
    text_at = blended_transform_factory(fig.transFigure, ax.transData)
    xlim = _x_limits(layout)
    ax.set_xlim(*xlim)
    ax.set_ylim(y_bottom, y_top)

    def put(x: float, y: float, s: str, **kw) -> None:
        ax.text(x, y, s, transform=text_at, va="center", clip_on=False, **kw)

    # Title and column headings.
    put(COL_REVIEW, -2.6, group or UNGROUPED, fontsize=10, fontweight="bold")
    heading_y = -1.0
    for x, s, ha in [
        (COL_REVIEW, "Review", "left"),
        (COL_RATING, "AMSTAR-2", "center"),
        (COL_K, "k", "right"),
        (COL_N, "n", "right"),
        (COL_RESULT, "Result as reported", "left"),
    ]:
        put(x, heading_y, s, ha=ha, fontsize=7.5, fontweight="bold")
    ax.add_line(
        Line2D([COL_REVIEW, 0.99], [-0.5, -0.5], transform=text_at, color="black", linewidth=0.5, clip_on=False)
    )

    # The null line, broken at each header so that long headers stay readable.
    blocks: list[list[float]] = []
    for r in layout:
        if r.kind == "header":
            blocks.append([])
        else:
            blocks[-1].append(r.y)
    for ys in blocks:
        ax.vlines(0.0, min(ys) - 0.5, max(ys) + 0.5, colors="black", linewidth=0.6, zorder=1)
    for r in layout:
        if r.kind == "header":
            put(COL_REVIEW, r.y, r.label, ha="left", fontsize=8, fontweight="bold")
            continue
        put(COL_REVIEW + 0.01, r.y, r.label, ha="left", fontsize=7.5)
        letter, colour = _rating_style(r.rating)
        put(
            COL_RATING,
            r.y,
            letter,
            ha="center",
            fontsize=6.5,
            color="white" if r.rating in ("high", "critically_low") else "black",
            bbox={"boxstyle": "round,pad=0.25", "facecolor": colour, "edgecolor": "black", "linewidth": 0.3},
        )
        put(COL_K, r.y, r.k_text, ha="right", fontsize=7.5)
        put(COL_N, r.y, r.n_text, ha="right", fontsize=7.5)
        put(COL_RESULT, r.y, r.result_text, ha="left", fontsize=7.5)
        if math.isnan(r.g):
            ax.text(
                sum(xlim) / 2, r.y, r.note, ha="center", va="center", fontsize=7, style="italic", color="#555555",
                zorder=5, bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"},
            )  # fmt: skip
            continue
        _segment(ax, r.y, r.pi_lower, r.pi_upper, xlim, color="#AAAAAA", linewidth=3.2, zorder=2)
        _segment(ax, r.y, r.lower, r.upper, xlim, color="black", linewidth=1.0, zorder=3)
    plotted = [r for r in results if not math.isnan(r.g)]
    if plotted:
        ax.scatter(
            [min(max(r.g, xlim[0]), xlim[1]) for r in plotted],
            [r.y for r in plotted],
            s=[_marker_area(r.k) for r in plotted],
            c=[_rating_style(r.rating)[1] for r in plotted],
            marker="s",
            edgecolors="black",
            linewidths=0.5,
            zorder=4,
            clip_on=False,
        )

    for side in ("left", "top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_yticks([])
    ax.tick_params(axis="x", labelsize=7.5)
    ax.set_xlabel("Equivalent Hedges' g", fontsize=8)
    below = ("data", "axes fraction")
    for s, ha, dx in [("\u2190 Favours control", "right", -4), ("Favours intervention \u2192", "left", 4)]:
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

    handles = _rating_handles({r.rating for r in results}) + [
        Line2D([], [], color="black", linewidth=1.0, label="95% CI"),
        Line2D([], [], color="#AAAAAA", linewidth=3.2, label="Prediction interval"),
        Line2D([], [], linestyle="", marker="s", markersize=6, markerfacecolor="white", markeredgecolor="black",
               label="Size \u221d \u221ak"),
    ]  # fmt: skip
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
    save_svg(fig, path)


# ---------------------------------------------------------------------------------------------------------------
# Outcome groups and their files


def _groups(rows: pd.DataFrame) -> pd.Series:
    """Each row's outcome group as text; missing or blank -> ``"Ungrouped"``."""
    return _column(rows, "outcome_group").map(lambda v: _text(v) or UNGROUPED).astype(object)


def write_forest_plots(rows: pd.DataFrame, folder: Path) -> list[Path]:
    """Write ``forest_<slug>.svg`` per outcome group into ``folder`` (created) and return the paths, in group
    order; groups whose slugs collide get ``_2``, ``_3`` ... in that order."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    groups = _groups(rows)
    paths: list[Path] = []
    for group, name in forest_file_names(list(groups)).items():
        path = folder / name
        forest_figure(rows[(groups == group).to_numpy()], group, path)
        paths.append(path)
    return paths


# ---------------------------------------------------------------------------------------------------------------
# Evidence map


def _direction(value: object) -> str:
    key = _text(value).lower().replace(" ", "_").replace("-", "_")
    return key if key in DIRECTION_STYLE else "unknown"


def _k_area(k: int | None) -> float:
    """Evidence-map marker area (pt^2) growing linearly with k (capped at 40; missing counts as 1)."""
    return 24.0 + 5.0 * min(max(k or 1, 1), 40)


def _review_labels(rows: pd.DataFrame) -> tuple[list[str], pd.Series]:
    """The reviews (keyed by review_id, else label) sorted by label, and each row's key. Labels shared by
    different reviews get the review id appended."""
    ids = _column(rows, "review_id").map(_text)
    names = _column(rows, "review").map(_text)
    keys = [i or n or "(unnamed)" for i, n in zip(ids, names, strict=True)]
    label_of: dict[str, str] = {}
    for key, name in zip(keys, names, strict=True):
        label_of.setdefault(key, name or key)
    counts: dict[str, int] = {}
    for label in label_of.values():
        counts[label] = counts.get(label, 0) + 1
    display = {k: (lab if counts[lab] == 1 or lab == k else f"{lab} ({k})") for k, lab in label_of.items()}
    order = sorted(display, key=lambda k: (_sort_text(display[k]), k))
    return [display[k] for k in order], pd.Series([order.index(k) for k in keys], index=rows.index, dtype=int).rename(
        "y"
    )


def evidence_map(rows: pd.DataFrame, path: Path) -> None:
    """Outcome groups (columns) x reviews (rows): one marker per result, shape = direction, colour = AMSTAR-2
    rating, area = number of studies; several results of a review in a group sit side by side."""
    if rows.empty:
        _no_results("Evidence map", path)
        return
    groups = _groups(rows)
    group_order = sorted(set(groups), key=_sort_text)
    labels, review_y = _review_labels(rows)
    n_cols, n_rows = len(group_order), len(labels)
    fig, ax = figure(max(5.5, 3.4 + 0.75 * n_cols), 1.9 + 0.3 * n_rows)

    cells: dict[tuple[int, int], list[tuple]] = {}
    for position, (idx, row) in enumerate(rows.iterrows()):
        x, y = group_order.index(groups[idx]), int(review_y[idx])
        sort_key = (
            _sort_text(_text(row.get("outcome"))),
            _sort_text(_text(row.get("timepoint"))),
            _sort_text(_text(row.get("effect_id"))),
            position,
        )
        cells.setdefault((x, y), []).append((sort_key, row))
    points: dict[tuple[str, bool], list[tuple[float, float, float, str]]] = {}
    seen_ratings: set[str | None] = set()
    for (x, y), members in sorted(cells.items()):
        members.sort(key=lambda m: m[0])
        m = len(members)
        half = min(0.32, 0.09 * (m - 1))
        offsets = np.linspace(-half, half, m) if m > 1 else [0.0]
        for dx, (_, row) in zip(offsets, members, strict=True):
            rating = _rating(row.get("amstar2_rating"))
            seen_ratings.add(rating)
            direction = _direction(row.get("direction"))
            points.setdefault((direction, DIRECTION_STYLE[direction][2]), []).append(
                (x + float(dx), y, _k_area(_int(row.get("k_studies"))), _rating_style(rating)[1])
            )
    for (direction, hollow), pts in sorted(points.items()):
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

    for x in range(n_cols + 1):
        ax.axvline(x - 0.5, color="#DDDDDD", linewidth=0.5, zorder=0)
    for y in range(n_rows + 1):
        ax.axhline(y - 0.5, color="#EEEEEE", linewidth=0.5, zorder=0)
    ax.set_xlim(-0.5, n_cols - 0.5)
    ax.set_ylim(n_rows - 0.5, -0.5)
    ax.set_xticks(range(n_cols))
    ax.set_xticklabels(
        [_truncate(g, 40) for g in group_order],
        rotation=30 if n_cols > 2 else 0,
        ha="left" if n_cols > 2 else "center",
        rotation_mode="anchor",
        fontsize=8,
    )
    ax.xaxis.tick_top()
    ax.set_yticks(range(n_rows))
    ax.set_yticklabels([_shorten_middle(lab, 40) for lab in labels], fontsize=8)
    ax.tick_params(length=0)
    for side in ("left", "bottom", "top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title("Evidence map", loc="left", pad=14 if n_cols <= 2 else 60)

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
        (_rating_handles(seen_ratings), "AMSTAR-2 confidence", -72, {}),
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
    save_svg(fig, path)
