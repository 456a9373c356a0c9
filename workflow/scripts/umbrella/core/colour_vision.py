"""How a colour looks under colour-vision deficiency and in greyscale, to check the figures' palettes.

Dichromacy is simulated with the matrices of Machado, Oliveira & Fernandes (2009), "A physiologically-based model
for simulation of color vision deficiency", IEEE TVCG 15(6):1291-1298, at severity 1.0 (protanopia,
deuteranopia, tritanopia), applied to linear RGB. Colours are compared in CIE L*a*b* (D65 white): greyscale keeps
L* alone, and the difference of two colours is CIE 1976 ΔE*ab (the Euclidean distance in L*a*b*).
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import to_rgb

#: Machado et al. 2009, Table 1 (severity 1.0): linear RGB -> linear RGB as a dichromat sees it.
MACHADO_2009 = {
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
    "tritanopia": np.array(
        [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
    ),
}
#: sRGB (D65) linear RGB -> CIE XYZ (IEC 61966-2-1).
_RGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
_WHITE = _RGB_TO_XYZ.sum(axis=1)


def linear_rgb(colour: str) -> np.ndarray:
    """A matplotlib colour as linear RGB in [0, 1] (the sRGB transfer function undone)."""
    c = np.array(to_rgb(colour), dtype=float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _srgb(linear: np.ndarray) -> np.ndarray:
    c = np.clip(linear, 0.0, 1.0)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


def simulate(colour: str, vision: str) -> str:
    """``colour`` as seen with ``vision`` (``normal``, ``greyscale`` or a key of MACHADO_2009), as ``#rrggbb``.
    Greyscale keeps the colour's luminance (CIE Y) alone."""
    rgb = linear_rgb(colour)
    if vision == "greyscale":
        rgb = np.full(3, _RGB_TO_XYZ[1] @ rgb)
    elif vision != "normal":
        rgb = MACHADO_2009[vision] @ rgb
    r, g, b = (int(round(255 * v)) for v in _srgb(rgb))
    return f"#{r:02X}{g:02X}{b:02X}"


def lab(colour: str) -> np.ndarray:
    """CIE L*a*b* (D65) of a colour."""
    t = (_RGB_TO_XYZ @ linear_rgb(colour)) / _WHITE
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(a: str, b: str) -> float:
    """CIE 1976 colour difference ΔE*ab of two colours."""
    return float(np.linalg.norm(lab(a) - lab(b)))


def lightness(colour: str) -> float:
    """CIE L* of a colour (0 black, 100 white): what is left of it in greyscale."""
    return float(lab(colour)[0])
