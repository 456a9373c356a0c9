"""Figures of the synthesis stage: implementation factors by domain and role, and the PRISMA 2020 flow diagram
(drawn with matplotlib: no Graphviz binary needed)."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from umbrella.core.plots import OKABE_ITO, figure, integer_ticks, save_svg
from umbrella.synthesis.prisma import derived_counts

ROLE_STYLE = {
    "barrier": ("Barrier", OKABE_ITO["vermillion"], "xx"),
    "facilitator": ("Facilitator", OKABE_ITO["bluish_green"], ""),
    "not reported": ("Role not reported", "#DDDDDD", "//"),
}


def implementation_figure(by_domain: pd.DataFrame, framework: str, path: Path) -> None:
    """Two panels, domains as rows: distinct factors and supporting reviews, stacked by role (colour and
    hatch, so the roles read in greyscale)."""
    domains = list(dict.fromkeys(by_domain["domain"]))
    labels = [by_domain.loc[by_domain["domain"] == d, "domain_label"].iloc[0] for d in domains]
    fig, ax = figure(7.2, 0.5 + 0.45 * len(domains))
    fig.delaxes(ax)
    axes = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(domains))
    unreported = bool(by_domain.loc[by_domain["role"] == "not reported", ["n_factors", "n_reviews"]].to_numpy().sum())
    titles = ("Factors", "Reviews")
    xlabels = ("Distinct factors named", "Reviews")
    for ax, column, title, xlabel in zip(axes, ("n_factors", "n_reviews"), titles, xlabels, strict=True):
        left = np.zeros(len(domains))
        for role, (label, colour, hatch) in ROLE_STYLE.items():
            values = np.array(
                [by_domain.loc[(by_domain["domain"] == d) & (by_domain["role"] == role), column].sum() for d in domains]
            )
            if role == "not reported" and not unreported:
                continue
            ax.barh(y, values, left=left, color=colour, hatch=hatch, edgecolor="black", linewidth=0.4, label=label)
            left += values
        if column == "n_factors":
            for yi, total in zip(y, left, strict=True):
                ax.text(total, yi, f" {int(total)}", va="center", fontsize=8)
        ax.set_title(title, loc="left")
        ax.set_xlim(0, max(left.max(), 1) * 1.2)
        integer_ticks(ax.xaxis)
        ax.set_xlabel(xlabel)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels(labels)
    axes[0].invert_yaxis()
    axes[1].set_title("Reviews (a review may support both roles)", loc="left", fontsize=9)
    handles, labels_ = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels_, loc="lower center", ncol=3, frameon=False, fontsize=7, bbox_to_anchor=(0.5, -0.2))
    fig.suptitle(f"Implementation factors by {framework} domain", x=0.02, y=1.04, ha="left", fontsize=10)
    save_svg(fig, path)


def _box(ax: plt.Axes, x: float, y: float, w: float, h: float, text: str, fill: str = "white") -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x, y), w, h, boxstyle="round,pad=0,rounding_size=0.06", facecolor=fill, edgecolor="black", linewidth=0.8
        )
    )
    ax.text(x + 0.12, y + h / 2, text, va="center", ha="left", fontsize=8, linespacing=1.35)


def _arrow(ax: plt.Axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, linewidth=0.8, color="black"))


def _n(value: Any) -> str:
    return "not reported" if value is None else f"{value:,}"


def _lines(title: str, items: list[tuple[str, Any]], width: int = 44) -> str:
    out = textwrap.wrap(title, width)
    for label, n in items:
        out += textwrap.wrap(f"{label} (n = {_n(n)})", width, initial_indent="  ", subsequent_indent="    ")
    return "\n".join(out)


#: Where the flow's boxes stand: the main boxes (what goes on) left, the side boxes (what leaves) right.
MAIN_X, MAIN_W, SIDE_X, SIDE_W = 1.0, 3.6, 5.2, 3.6
#: Vertical space between two rows of boxes.
ROW_GAP = 0.45


def prisma_figure(prisma: Mapping[str, Any], n_reviews_in_sheets: int, path: Path) -> None:
    """The PRISMA 2020 flow diagram for an overview (unit = reviews): identification, screening, included."""
    c = derived_counts(prisma)
    rows = _flow_rows(prisma, c)
    included = _included_text(prisma, c, n_reviews_in_sheets)
    heights = [_box_height(max(m.count("\n"), s.count("\n")) + 1) for _, m, s in rows]
    inc_h = _box_height(included.count("\n") + 1)
    total = sum(heights) + inc_h + ROW_GAP * len(rows) + 0.4
    fig, ax = figure(7.5, total * 0.75)
    ax.set_xlim(0, 9.0)
    ax.set_ylim(0, total)
    ax.axis("off")
    stage_spans = _draw_flow(ax, rows, heights, included, inc_h, top=total - 0.2)
    _draw_stage_bands(ax, stage_spans)
    ax.set_title("PRISMA 2020 flow of reviews", loc="left", fontsize=10)
    save_svg(fig, path)


def _flow_rows(prisma: Mapping[str, Any], c: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The rows of the flow above the included reviews: stage, main box text, side box text."""
    return [
        (
            "Identification",
            _lines("Records identified from:", list(prisma["sources"].items())),
            _lines(
                "Records removed before screening:",
                [("Duplicate records", c["duplicates_removed"]), ("Other reasons", c["removed_other"])],
            ),
        ),
        (
            "Screening",
            f"Records screened\n(n = {_n(c['records_screened'])})",
            f"Records excluded\n(n = {_n(c['records_excluded'])})",
        ),
        (
            "Screening",
            f"Reports sought for retrieval\n(n = {_n(c['reports_sought'])})",
            f"Reports not retrieved\n(n = {_n(c['reports_not_retrieved'])})",
        ),
        (
            "Screening",
            f"Reports assessed for eligibility\n(n = {_n(c['reports_assessed'])})",
            _lines(
                "Reports excluded:", list(prisma.get("reports_excluded", {}).items()) or [("reasons not given", None)]
            ),
        ),
    ]


def _included_text(prisma: Mapping[str, Any], c: Mapping[str, Any], n_reviews_in_sheets: int) -> str:
    """The last box: the reviews included, and the number in the sheets where the config explains a difference."""
    included = f"Reviews included in the overview\n(n = {_n(c['reviews_included'])})"
    if prisma.get("included_difference"):
        note = textwrap.fill(f"In the extraction sheets: {n_reviews_in_sheets} ({prisma['included_difference']})", 44)
        included += "\n" + note
    return included


def _box_height(n_lines: int) -> float:
    return max(0.7, 0.23 * n_lines + 0.35)


def _draw_flow(
    ax: plt.Axes,
    rows: list[tuple[str, str, str]],
    heights: list[float],
    included: str,
    inc_h: float,
    top: float,
) -> dict[str, list[float]]:
    """Draw the rows of boxes from ``top`` down, the included box and the arrows; return each stage's vertical
    span (bottom, top)."""
    y = top
    tops = []
    stage_spans: dict[str, list[float]] = {}
    for (stage, main, side), h in zip(rows, heights, strict=True):
        bottom = y - h
        _box(ax, MAIN_X, bottom, MAIN_W, h, main)
        _box(ax, SIDE_X, bottom, SIDE_W, h, side)
        _arrow(ax, (MAIN_X + MAIN_W, bottom + h / 2), (SIDE_X, bottom + h / 2))
        tops.append((bottom, y))
        stage_spans.setdefault(stage, [bottom, y])
        stage_spans[stage][0] = bottom
        y = bottom - ROW_GAP
    bottom = y - inc_h
    _box(ax, MAIN_X, bottom, MAIN_W, inc_h, included, fill="#EEF3FA")
    stage_spans["Included"] = [bottom, y]
    for (b1, _), (_, t2) in zip(tops, [*tops[1:], (bottom, y)], strict=True):
        _arrow(ax, (MAIN_X + MAIN_W / 2, b1), (MAIN_X + MAIN_W / 2, t2))
    return stage_spans


def _draw_stage_bands(ax: plt.Axes, stage_spans: Mapping[str, list[float]]) -> None:
    """A shaded band with the stage's name (rotated) left of each stage's boxes."""
    for stage, (lo, hi) in stage_spans.items():
        ax.add_patch(
            FancyBboxPatch(
                (0.1, lo),
                0.55,
                hi - lo,
                boxstyle="round,pad=0,rounding_size=0.06",
                facecolor=OKABE_ITO["sky_blue"],
                edgecolor="none",
                alpha=0.6,
            )
        )
        ax.text(0.375, (lo + hi) / 2, stage, rotation=90, ha="center", va="center", fontsize=9, fontweight="bold")
