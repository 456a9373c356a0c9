"""Figure conventions shared by every stage: deterministic SVG, colour-blind-safe colours, a bare-machine font.

Colours come from the Okabe-Ito palette (safe for the common colour-vision deficiencies). An ordered category
drawn by colour alone (the AMSTAR-2 ratings, the evidence classes) takes steps of lightness, so that it reads in
greyscale too; any other category is also told by marker shape, hatch or text. The palettes are checked under
simulated deuteranopia, protanopia and in greyscale (:mod:`umbrella.core.colour_vision`).
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
}

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "svg.hashsalt": "umbrella-review",
    "svg.fonttype": "path",
    "path.simplify": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


matplotlib.rcParams.update(STYLE)


def figure(width: float, height: float) -> tuple[plt.Figure, plt.Axes]:
    """A new figure (inches) in the pipeline's style."""
    return plt.subplots(figsize=(width, height))


PNG_DPI = 300


def save_svg(fig: plt.Figure, path: str | Path, png: bool = True) -> None:
    """Write ``fig`` as SVG and, beside it unless ``png`` is false, as a 300-dpi PNG (for slides and journals),
    both with bytes that depend only on the content (fixed hash salt, no date or software stamp), then close it.
    The PNG costs about twice the SVG's time, so figures drawn by the thousand leave it out."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="svg", metadata={"Date": None}, bbox_inches="tight")
    if png:
        fig.savefig(
            path.with_suffix(".png"), format="png", dpi=PNG_DPI, metadata={"Software": None}, bbox_inches="tight"
        )
    plt.close(fig)


#: An ordered scale of four steps from dark blue to pale amber, the hues of Okabe-Ito's blue and orange with
#: CIE L* about 28, 52, 71 and 88: neighbours differ by at least 15 in L* (greyscale) and by at least 20 in
#: ΔE*ab under simulated deuteranopia and protanopia.
ORDERED_4 = ("#00456D", "#1982BE", OKABE_ITO["orange"], "#FFD882")

#: How each AMSTAR-2 rating is drawn: its short text and its colour (lightness falls with confidence, so the
#: ratings read in greyscale and under colour-vision deficiency).
RATING_STYLE = {
    "high": ("H", ORDERED_4[0]),
    "moderate": ("M", ORDERED_4[1]),
    "low": ("L", ORDERED_4[2]),
    "critically_low": ("CL", ORDERED_4[3]),
    "incomplete": ("?", "#BBBBBB"),
}
#: Ratings whose letter is drawn in white on their colour (dark colours).
WHITE_TEXT_RATINGS = frozenset({"high", "moderate"})
#: Hatch of the markers and swatches of a result without a usable rating (incomplete; ``None``: not rated),
#: whose colours are not far enough in lightness from the ratings' to read in greyscale.
RATING_HATCH = {"incomplete": "////", None: "...."}

#: The mark after the label of a result whose sign was reversed so that benefit lies to the right (its measure
#: favours the intervention when lower), and the note that explains it.
REVERSED_MARK = "\u2020"
REVERSED_NOTE = f"{REVERSED_MARK} sign reversed: lower values favour the intervention"


def integer_ticks(axis) -> None:
    """Ticks at whole numbers only, on an axis of counts (``ax.xaxis`` or ``ax.yaxis``)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))


def clipped_segment(ax, y: float, lo: float, hi: float, xlim: tuple[float, float], **style) -> None:
    """A horizontal line from ``lo`` to ``hi`` at ``y``, cut to ``xlim``, ending in an arrowhead on each side
    where it was cut (so an interval wider than the axis is never mistaken for one that ends there)."""
    if math.isnan(lo) or math.isnan(hi):
        return
    a, b = max(min(lo, hi), xlim[0]), min(max(lo, hi), xlim[1])
    if a >= b:
        return
    ax.plot([a, b], [y, y], solid_capstyle="butt", **style)
    colour = style.get("color", "black")
    arrow = {"markersize": 4, "color": colour, "zorder": style.get("zorder", 2), "clip_on": False}
    if min(lo, hi) < xlim[0]:
        ax.plot([a], [y], marker="<", **arrow)
    if max(lo, hi) > xlim[1]:
        ax.plot([b], [y], marker=">", **arrow)
