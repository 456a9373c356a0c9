"""Figure conventions shared by every stage: deterministic SVG, colour-blind-safe colours, a bare-machine font.

Colours are the Okabe-Ito palette (safe for the common colour-vision deficiencies); every figure also encodes
its categories by marker shape, hatch or text, so that it reads in greyscale.
"""

from __future__ import annotations

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


#: How each AMSTAR-2 rating is drawn: its short text and its colour (colour-blind safe).
RATING_STYLE = {
    "high": ("H", OKABE_ITO["blue"]),
    "moderate": ("M", OKABE_ITO["sky_blue"]),
    "low": ("L", OKABE_ITO["orange"]),
    "critically_low": ("CL", OKABE_ITO["vermillion"]),
    "incomplete": ("?", "#DDDDDD"),
}
