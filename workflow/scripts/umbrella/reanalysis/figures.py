"""The umbrella forest plot: one row per re-analysed meta-analysis on the equivalent Hedges' g scale.

The sign convention is the per-outcome forest plots': g oriented so that benefit lies to the right, under the
configured favours labels. Each meta-analysis takes the direction that favours the intervention from the
effects sheet's row of the same review and outcome (its own ``favours``, else the config's for its outcome
group), else from the config's ``effects.favours`` for its outcome; a meta-analysis whose direction is not known
is listed but not plotted, as in the per-outcome forest plots. A row whose sign was reversed has a dagger after
its label; the result in its own measure is printed as the data give it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.patches import Patch
from matplotlib.transforms import offset_copy

from umbrella.core.plots import ORDERED_4, REVERSED_MARK, clipped_segment, figure, save_svg
from umbrella.core.registry import registry
from umbrella.core.vocabulary import FIGURE_ROWS, LOGIT_SCALE, RATIO_MEASURES
from umbrella.effects.forest import FAVOURS_LABELS, reversed_handle, x_range
from umbrella.effects.harmonise import favours_sign, favours_used
from umbrella.effects.settings import EffectSettings

#: Colour of each evidence class: steps of lightness from class I (dark) to ns (white), so that the classes read
#: in greyscale; the class is also printed on its row.
CLASS_STYLE = {
    "I": ORDERED_4[0],
    "II": ORDERED_4[1],
    "III": ORDERED_4[2],
    "IV": ORDERED_4[3],
    "V": "#FFFFFF",
    "ns": "#FFFFFF",
}


def _as_g(values: pd.Series, measure: pd.Series) -> np.ndarray:
    x = values.to_numpy(dtype=float)
    ratio = measure.isin(list(RATIO_MEASURES)).to_numpy()
    g_like = measure.isin(["SMD", "G"]).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ratio, np.log(x) / LOGIT_SCALE, np.where(g_like, x, np.nan))


def most_studies(rows: pd.DataFrame, figure_rows: int) -> pd.DataFrame:
    """The ``figure_rows`` rows with the most studies (``k``; ties and missing k: the earlier row first), in their
    order."""
    if len(rows) <= figure_rows:
        return rows
    k = pd.to_numeric(rows["k"], errors="coerce").fillna(-1).to_numpy()
    keep = np.sort(np.argsort(-k, kind="stable")[:figure_rows])
    return rows.iloc[keep].reset_index(drop=True)


def _pooled_table_label() -> str:
    """Where every meta-analysis is listed: the supplement label and file of the pooled table."""
    for output in registry():
        if output.key == "pooled" and output.supplement:
            return f"table {output.supplement['label']} ({Path(output.path).name})"
    return "pooled.csv"


def meta_favours(pooled: pd.DataFrame, effects: pd.DataFrame | None, settings: EffectSettings) -> pd.Series:
    """The direction that favours the intervention (``lower`` / ``higher``, else missing) of each pooled row: that
    of the effects sheet's first row (by effect_id) of the same review and outcome, as the effects stage resolves
    it (:func:`umbrella.effects.harmonise.favours_used`), else the config's ``effects.favours`` for the outcome."""
    by_meta: dict[tuple[str, str], object] = {}
    if effects is not None and not effects.empty:
        rows = effects.sort_values("effect_id", kind="stable")
        group = rows["outcome_group"] if "outcome_group" in rows else pd.Series(None, index=rows.index)
        favours = rows["favours"] if "favours" in rows else pd.Series(None, index=rows.index)
        used, _ = favours_used(favours, group, settings)
        for key, value in zip(zip(rows["review_id"], rows["outcome"], strict=True), used, strict=True):
            if isinstance(value, str) and key not in by_meta:
                by_meta[key] = value
    return pd.Series(
        [
            by_meta.get((r, o)) or settings.favours.get(o)
            for r, o in zip(pooled["review_id"], pooled["outcome"], strict=True)
        ],
        index=pooled.index,
        dtype=object,
    )


def _oriented(rows: pd.DataFrame, sign: np.ndarray) -> tuple[np.ndarray, ...]:
    """Point, CI and PI limits as g oriented so that benefit is positive (limits swapped where the sign is
    reversed); NaN where the sign is not known or the measure is not on the g scale."""
    g = _as_g(rows["estimate"], rows["measure"]) * sign
    lo, hi = _as_g(rows["ci_lower"], rows["measure"]) * sign, _as_g(rows["ci_upper"], rows["measure"]) * sign
    plo, phi = _as_g(rows["pi_lower"], rows["measure"]) * sign, _as_g(rows["pi_upper"], rows["measure"]) * sign
    return g, np.fmin(lo, hi), np.fmax(lo, hi), np.fmin(plo, phi), np.fmax(plo, phi)


def umbrella_forest(
    pooled: pd.DataFrame,
    labels: dict[str, str],
    path: Path,
    figure_rows: int = FIGURE_ROWS,
    favours: pd.Series | None = None,
    favours_labels: tuple[str, str] = FAVOURS_LABELS,
) -> None:
    """Each meta-analysis as an equivalent g oriented so that benefit lies to the right (``favours``: each
    pooled row's direction that favours the intervention, see :func:`meta_favours`), with its CI (and PI,
    lighter; intervals cut by the axis end in arrows), coloured by Ioannidis class, with the class and the
    result in its own measure as text; a dagger marks a reversed sign; rows that cannot be put on the g scale,
    or whose direction is not known, are listed. Above ``figure_rows`` meta-analyses, only the ``figure_rows``
    with the most studies, with a note saying so."""
    pooled = pooled.assign(_favours=favours if favours is not None else None)
    rows = pooled.sort_values(["outcome", "review_id"]).reset_index(drop=True)
    shown = most_studies(rows, figure_rows)
    cut = (
        f"Showing the {len(shown):,} meta-analyses with the most studies of {len(rows):,}; every one is in "
        f"{_pooled_table_label()}"
        if len(shown) < len(rows)
        else ""
    )
    rows = shown
    n = len(rows)
    fig, ax = figure(7.5, 1.6 + 0.3 * max(n, 1))
    if n == 0:
        ax.text(0.5, 0.5, "No results", ha="center", va="center", transform=ax.transAxes)
        ax.axis("off")
        save_svg(fig, path)
        return
    sign = favours_sign(rows["_favours"])
    g, lo, hi, plo, phi = _oriented(rows, sign)
    reversed_sign = sign < 0
    y = np.arange(n)
    xlim = x_range([*g, *lo, *hi], [*plo, *phi])
    for yi, a, b in zip(y, plo, phi, strict=True):
        clipped_segment(ax, yi, a, b, xlim, color="#AAAAAA", linewidth=4, zorder=1)
    for yi, a, b in zip(y, lo, hi, strict=True):
        clipped_segment(ax, yi, a, b, xlim, color="black", linewidth=1.2, zorder=2)
    colours = [CLASS_STYLE.get(c, "#FFFFFF") for c in rows["class"]]
    ax.scatter(np.clip(g, *xlim), y, s=40, marker="s", c=colours, edgecolors="black", linewidths=0.5, zorder=3)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlim(*xlim)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_yticks(y)
    ax.set_yticklabels(
        [
            f"{o} \u2014 {labels.get(r, r)}" + (f" {REVERSED_MARK}" if rev else "")
            for o, r, rev in zip(rows["outcome"], rows["review_id"], reversed_sign, strict=True)
        ]
    )
    _result_texts(ax, rows, g, sign)
    ax.set_xlabel("Equivalent Hedges' g, benefit to the right (ratios via ln OR = g\u00b7\u03c0/\u221a3)")
    _favours_under_axis(ax, favours_labels)
    handles = [
        Patch(facecolor=c, edgecolor="black", linewidth=0.4, label=f"Class {k}" if k != "ns" else "ns")
        for k, c in CLASS_STYLE.items()
        if k in set(rows["class"]) or k in ("I", "II", "III", "IV")
    ] + ([reversed_handle()] if reversed_sign.any() else [])
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=offset_copy(ax.transAxes, fig=fig, y=-58, units="points"),
        ncol=4,
        frameon=False,
        fontsize=7,
    )
    title = "Re-analysed meta-analyses (evidence class; grey bar: prediction interval)"
    ax.set_title(f"{title}\n{cut}" if cut else title, loc="left", fontsize=9)
    save_svg(fig, path)


def _result_texts(ax, rows: pd.DataFrame, g: np.ndarray, sign: np.ndarray) -> None:
    """Right of the panel: class, k and the result in its own measure (as the data give it), with a note for a
    row not plotted."""
    right = ax.get_xlim()[1]
    left = ax.get_xlim()[0]
    for yi, (_, row), gi, si in zip(range(len(rows)), rows.iterrows(), g, sign, strict=True):
        estimate, lower, upper = (f"{row[c]:.2f}" for c in ("estimate", "ci_lower", "ci_upper"))
        result = f"{row['measure']} {estimate} [{lower}, {upper}]"
        if not np.isfinite(si):
            note = "  (side favouring the intervention not known)"
        elif not np.isfinite(gi):
            note = "  (not on the g scale)"
        else:
            note = ""
        ax.text(
            right + 0.05 * (right - left),
            yi,
            f"{row['class']:>3}  k={row['k']}  {result}{note}".replace("-", "\u2212"),
            va="center",
            fontsize=7,
            family="DejaVu Sans Mono",
        )


def _favours_under_axis(ax, favours_labels: tuple[str, str]) -> None:
    """Which side favours which arm, under the x-axis label, either side of the null line."""
    control, intervention = favours_labels
    for s, ha, dx in [(f"\u2190 {control}", "right", -4), (f"{intervention} \u2192", "left", 4)]:
        ax.annotate(s, xy=(0.0, 0.0), xycoords=("data", "axes fraction"), xytext=(dx, -38),
                    textcoords="offset points", ha=ha, va="top", fontsize=7.5)  # fmt: skip
