"""The umbrella forest plot: one row per re-analysed meta-analysis on the equivalent Hedges' g scale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from umbrella.core.plots import OKABE_ITO, figure, save_svg
from umbrella.core.registry import registry
from umbrella.core.vocabulary import FIGURE_ROWS, LOGIT_SCALE, RATIO_MEASURES

CLASS_STYLE = {
    "I": OKABE_ITO["blue"],
    "II": OKABE_ITO["bluish_green"],
    "III": OKABE_ITO["orange"],
    "IV": OKABE_ITO["yellow"],
    "V": "#BBBBBB",
    "ns": "#BBBBBB",
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


def umbrella_forest(pooled: pd.DataFrame, labels: dict[str, str], path: Path, figure_rows: int = FIGURE_ROWS) -> None:
    """Each meta-analysis as an equivalent g with its CI (and PI, lighter), coloured by Ioannidis class, with
    the class and the result in its own measure as text; rows that cannot be put on the g scale are listed.
    Above ``figure_rows`` meta-analyses, only the ``figure_rows`` with the most studies, with a note saying so."""
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
    fig, ax = figure(7.5, 1.2 + 0.3 * max(n, 1))
    if n == 0:
        ax.text(0.5, 0.5, "No results", ha="center", va="center", transform=ax.transAxes)
        ax.axis("off")
        save_svg(fig, path)
        return
    g = _as_g(rows["estimate"], rows["measure"])
    lo, hi = _as_g(rows["ci_lower"], rows["measure"]), _as_g(rows["ci_upper"], rows["measure"])
    plo, phi = _as_g(rows["pi_lower"], rows["measure"]), _as_g(rows["pi_upper"], rows["measure"])
    y = np.arange(n)
    ax.hlines(y, plo, phi, color="#BBBBBB", linewidth=4, zorder=1)
    ax.hlines(y, lo, hi, color="black", linewidth=1.2, zorder=2)
    colours = [CLASS_STYLE.get(c, "#BBBBBB") for c in rows["class"]]
    ax.scatter(g, y, s=40, marker="s", c=colours, edgecolors="black", linewidths=0.5, zorder=3)
    ax.axvline(0, color="black", linewidth=0.8)
    finite = np.concatenate([v[np.isfinite(v)] for v in (lo, hi, g)] + [np.array([0.0])])
    span = max(float(np.max(np.abs(finite))), 0.2) * 1.15
    ax.set_xlim(-span, span)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_yticks(y)
    ax.set_yticklabels(
        [f"{o} \u2014 {labels.get(r, r)}" for o, r in zip(rows["outcome"], rows["review_id"], strict=True)]
    )
    right = ax.get_xlim()[1]
    for yi, (_, row), gi in zip(y, rows.iterrows(), g, strict=True):
        estimate, lower, upper = (f"{row[c]:.2f}" for c in ("estimate", "ci_lower", "ci_upper"))
        result = f"{row['measure']} {estimate} [{lower}, {upper}]"
        note = "" if np.isfinite(gi) else "  (not on the g scale)"
        ax.text(
            right * 1.05,
            yi,
            f"{row['class']:>3}  k={row['k']}  {result}{note}".replace("-", "\u2212"),
            va="center",
            fontsize=7,
            family="DejaVu Sans Mono",
        )
    ax.set_xlabel("Equivalent Hedges' g (sign as in the data; ratios via ln OR = g\u00b7\u03c0/\u221a3)")
    ax.legend(
        handles=[
            Patch(facecolor=c, edgecolor="black", linewidth=0.4, label=f"Class {k}" if k != "ns" else "ns")
            for k, c in CLASS_STYLE.items()
            if k in set(rows["class"]) or k in ("I", "II", "III", "IV")
        ],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.6 / max(n, 1) - 0.12),
        ncol=5,
        frameon=False,
        fontsize=7,
    )
    title = "Re-analysed meta-analyses (evidence class; grey bar: prediction interval)"
    ax.set_title(f"{title}\n{cut}" if cut else title, loc="left", fontsize=9)
    save_svg(fig, path)
