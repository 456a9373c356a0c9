"""Small-study and excess-significance tests of each outcome's studies, vectorised across outcomes.

Egger's regression test (Egger et al. 1997): the slope on SE in the weighted regression of the effects on their
SE, as metafor's ``regtest(model = "lm")``. The tests of excess statistical significance of Stanley et al. 2021
(TESS, PSST and their combination TESSPSST), as metaumbrella 1.1 ``esb.test`` (Gosling et al. 2023).
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from umbrella.reanalysis.model import Padded


def egger_regression(p: Padded) -> dict[str, np.ndarray]:
    """Egger's regression of every outcome: the weighted least-squares line y = intercept + slope·SE (weights
    1/SE²), as metafor's ``regtest(model = "lm")`` fits it, and the t and two-sided p of its slope (df k − 2),
    NaN below k = 3 and NaN when the regression has no residual variance (the studies lie on one line, e.g. two
    of three studies identical: :func:`exact_fit`), where the test is undefined. The funnel plots draw this
    line."""
    se = np.sqrt(p.v)
    w = np.where(p.mask, 1 / p.v, 0.0)
    sw = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        xm = (w * se).sum(axis=1) / sw
        ym = (w * p.y).sum(axis=1) / sw
        sxx = (w * (se - xm[:, None]) ** 2).sum(axis=1)
        sxy = (w * (se - xm[:, None]) * (p.y - ym[:, None])).sum(axis=1)
        slope = sxy / sxx
        intercept = ym - slope * xm
        resid = np.where(p.mask, p.y - intercept[:, None] - slope[:, None] * se, 0.0)
        df = p.k - 2
        sigma2 = (w * resid**2).sum(axis=1) / df
        t = slope / np.sqrt(sigma2 / sxx)
        pval = 2 * stats.t.sf(np.abs(t), np.where(df >= 1, df, 1))
        tss = (w * (p.y - ym[:, None]) ** 2).sum(axis=1)
    ok = (p.k >= 3) & ~exact_fit(sigma2 * df, tss)
    return {"intercept": intercept, "slope": slope, "t": np.where(ok, t, np.nan), "p": np.where(ok, pval, np.nan)}


def egger(p: Padded) -> tuple[np.ndarray, np.ndarray]:
    """Egger's test: t and two-sided p of the slope on SE in the weighted regression of y on SE (weights
    1/SE²; df k − 2); NaN below k = 3 and where the test is undefined (:func:`egger_regression`)."""
    line = egger_regression(p)
    return line["t"], line["p"]


def exact_fit(rss: np.ndarray, tss: np.ndarray) -> np.ndarray:
    """Whether each weighted regression fits its studies exactly: residual sum of squares ``rss`` below 1e-20 of
    the total ``tss`` (1 − R² < 1e-20, what round-off leaves of a perfect fit), or no variation at all. The
    studies then lie on one line (two of three studies identical, say): R's ``summary.lm`` warns "essentially
    perfect fit: summary may be unreliable", and metafor's ``regtest`` prints a t of about 10^15 and p < .0001
    made of round-off; here Egger's test is left undefined instead, so nothing is concluded from it."""
    with np.errstate(invalid="ignore"):
        return ~(rss > 1e-20 * tss)


ESB_METHODS = ("TESSPSST", "TESS", "PSST")


def excess_significance(
    y: np.ndarray, se: np.ndarray, df: np.ndarray, mask: np.ndarray, tau2: np.ndarray, theta: np.ndarray,
    method: str = "TESSPSST",
) -> dict[str, np.ndarray]:  # fmt: skip
    """Tests of excess statistical significance of Stanley et al. 2021, as metaumbrella 1.1 ``esb.test``.

    ``y``, ``se`` and ``df`` are outcomes x studies (``df`` infinite for a z test, else the t df of each
    study's own test), ``mask`` marks the studies, ``tau2`` and ``theta`` (the true effect) are per outcome. A
    study is significant when its two-sided p < 0.05; its power is the one tail in the direction of θ,
    1 − Φ((1.96·SE − |θ|)/√(SE² + τ²)). With O significant studies, E = Σ power and k studies:
    TESS z = ((O − E)/k − 0.05)/√(0.05·0.95/k), PSST z = (O/k − E/k)/√((E/k)(1 − E/k)/k), both one-sided;
    TESSPSST reports the smaller p and the larger z. Returns observed, expected, z and p (NaN below k = 2)."""
    if method not in ESB_METHODS:
        raise ValueError(f"unknown excess-significance test {method!r} ({', '.join(ESB_METHODS)})")
    k = mask.sum(axis=1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_study = 2 * stats.t.sf(np.abs(y / se), np.where(mask, df, np.inf))
        significant = np.where(mask, p_study < 0.05, False).sum(axis=1).astype(float)
        power = 1 - special.ndtr((1.96 * se - np.abs(theta)[:, None]) / np.sqrt(se**2 + tau2[:, None]))
        expected = np.where(mask, power, 0.0).sum(axis=1)
        tess = ((significant - expected) / k - 0.05) / np.sqrt(0.05 * 0.95 / k)
        pe = expected / k
        psst = (significant / k - pe) / np.sqrt(pe * (1 - pe) / k)
        z = {"TESS": tess, "PSST": psst, "TESSPSST": np.fmax(tess, psst)}[method]
        p = {"TESS": stats.norm.sf(tess), "PSST": stats.norm.sf(psst)}
        p["TESSPSST"] = np.fmin(p["TESS"], p["PSST"])
    valid = (k >= 2) & np.isfinite(expected)
    return {
        "observed": np.where(valid, significant, np.nan),
        "expected": np.where(valid, expected, np.nan),
        "z": np.where(valid, z, np.nan),
        "p": np.where(valid, p[method], np.nan),
    }
