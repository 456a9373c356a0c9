"""The random-effects model, vectorised across outcomes: padded arrays, tau² estimators, the fit, leave-one-out.

Every outcome's studies sit in one row of padded (outcomes x studies) arrays with a mask, so one numpy pass fits
all outcomes: no Python loop per outcome. The conventions are those of metafor (Viechtbauer 2010) where they
exist, with metaumbrella's (Gosling et al. 2023) as settings: tau² by REML (default), ML, PM, DL or a common
effect; a Wald (z) or Hartung–Knapp–Sidik–Jonkman CI; Q-based or tau²-based I²; prediction interval on t with
k − 1 or k − 2 df or z. Iterative tau² estimators solve their estimating equation by bracketed bisection on
[0, upper], which converges wherever Fisher scoring would fail.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from umbrella.core.vocabulary import Z975
from umbrella.reanalysis.settings import MetaSettings

# --------------------------------------------------------------------------------------------------------------
# Padded arrays


@dataclass
class Padded:
    """Outcomes x studies: effects ``y``, variances ``v`` (0 where masked) and the ``mask`` of real cells."""

    y: np.ndarray
    v: np.ndarray
    mask: np.ndarray

    @property
    def k(self) -> np.ndarray:
        return self.mask.sum(axis=1)


def pad(codes: np.ndarray, y: np.ndarray, v: np.ndarray, n_groups: int | None = None) -> tuple[Padded, np.ndarray]:
    """Pack study rows (group code per row) into padded arrays; also returns each row's column position."""
    codes = np.asarray(codes)
    n_groups = int(codes.max()) + 1 if n_groups is None else n_groups
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.searchsorted(sorted_codes, np.arange(n_groups))
    position = np.empty(len(codes), dtype=int)
    position[order] = np.arange(len(codes)) - starts[sorted_codes]
    width = int(position.max()) + 1 if len(codes) else 1
    yy = np.zeros((n_groups, width))
    vv = np.ones((n_groups, width))
    mask = np.zeros((n_groups, width), dtype=bool)
    yy[codes, position] = y
    vv[codes, position] = v
    mask[codes, position] = True
    return Padded(yy, vv, mask), position


def _sum(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask, x, 0.0).sum(axis=1)


def _weighted(p: Padded, tau2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w = np.where(p.mask, 1.0 / (p.v + tau2[:, None]), 0.0)
    sw = w.sum(axis=1)
    safe = np.where(sw > 0, sw, np.nan)  # rows without studies (e.g. in leave-one-out) stay NaN, silently
    return w, sw, (w * p.y).sum(axis=1) / safe


# --------------------------------------------------------------------------------------------------------------
# tau² estimators


def _bisect(fn, lower: np.ndarray, upper: np.ndarray, active: np.ndarray, iterations: int = 64) -> np.ndarray:
    """Root of a decreasing-at-the-root function per row by bisection on [lower, upper] (rows in ``active``)."""
    lo, hi = lower.copy(), upper.copy()
    for _ in range(iterations):
        mid = (lo + hi) / 2
        positive = fn(mid) > 0
        lo = np.where(active & positive, mid, lo)
        hi = np.where(active & ~positive, mid, hi)
    return (lo + hi) / 2


def _bracket(fn, start: np.ndarray, active: np.ndarray) -> np.ndarray:
    upper = start.copy()
    for _ in range(200):
        still = active & (fn(upper) > 0)
        if not still.any():
            break
        upper = np.where(still, upper * 4, upper)
    return upper


def tau2_dl(p: Padded) -> np.ndarray:
    """DerSimonian–Laird: max(0, (Q − (k − 1)) / (Σw − Σw²/Σw))."""
    w, sw, mu = _weighted(p, np.zeros(len(p.y)))
    q = _sum(w * (p.y - mu[:, None]) ** 2, p.mask)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = sw - (w**2).sum(axis=1) / sw
        tau2 = np.maximum(0.0, (q - (p.k - 1)) / c)
    return np.where(p.k > 1, np.nan_to_num(tau2), 0.0)


def _iterative(p: Padded, score) -> np.ndarray:
    """tau² ≥ 0 where ``score`` (decreasing through its root) changes sign; 0 where the score at 0 is ≤ 0."""
    k = p.k
    active = (k > 1) & (score(np.zeros(len(p.y))) > 0)
    if not active.any():
        return np.zeros(len(p.y))
    k_safe = np.maximum(k, 1)
    mean = _sum(p.y, p.mask) / k_safe
    spread = _sum((p.y - mean[:, None]) ** 2, p.mask) / k_safe + np.where(p.mask, p.v, 0.0).max(axis=1)
    start = np.where(active, np.maximum(spread, 1e-8), 1.0)
    upper = _bracket(score, start, active)
    tau2 = _bisect(score, np.zeros(len(p.y)), upper, active)
    return np.where(active, tau2, 0.0)


def tau2_pm(p: Padded) -> np.ndarray:
    """Paule–Mandel: the τ² at which the generalised Q equals k − 1."""

    def score(t: np.ndarray) -> np.ndarray:
        w, _, mu = _weighted(p, t)
        return _sum(w * (p.y - mu[:, None]) ** 2, p.mask) - (p.k - 1)

    return _iterative(p, score)


def tau2_ml(p: Padded) -> np.ndarray:
    """Maximum likelihood: root of ½Σw²(y − μ)² − ½Σw."""

    def score(t: np.ndarray) -> np.ndarray:
        w, sw, mu = _weighted(p, t)
        return _sum(w**2 * (p.y - mu[:, None]) ** 2, p.mask) - sw

    return _iterative(p, score)


def tau2_reml(p: Padded) -> np.ndarray:
    """Restricted maximum likelihood: root of ½Σw²(y − μ)² − ½Σw + ½Σw²/Σw."""

    def score(t: np.ndarray) -> np.ndarray:
        w, sw, mu = _weighted(p, t)
        return _sum(w**2 * (p.y - mu[:, None]) ** 2, p.mask) - sw + (w**2).sum(axis=1) / np.where(sw > 0, sw, np.nan)

    return _iterative(p, score)


TAU2 = {"REML": tau2_reml, "ML": tau2_ml, "PM": tau2_pm, "DL": tau2_dl, "FE": lambda p: np.zeros(len(p.y))}


# --------------------------------------------------------------------------------------------------------------
# The model


def fit(p: Padded, settings: MetaSettings) -> dict[str, np.ndarray]:
    """Random-effects (or common-effect) fit of every row: estimate, se, ci, p, tau2, q, q_p, i2, pi."""
    k = p.k.astype(float)
    tau2 = TAU2[settings.tau2](p)
    w, sw, mu = _weighted(p, tau2)
    wf, swf, muf = _weighted(p, np.zeros(len(p.y)))
    q = _sum(wf * (p.y - muf[:, None]) ** 2, p.mask)
    df = k - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        se = 1 / np.sqrt(sw)
        if settings.ci == "hksj":
            se = np.sqrt(_sum(w * (p.y - mu[:, None]) ** 2, p.mask) / (df * sw))
            crit = stats.t.ppf(0.975, np.where(df >= 1, df, np.nan))
            pval = 2 * stats.t.sf(np.abs(mu / se), np.where(df >= 1, df, np.nan))
        else:
            crit = np.full(len(k), Z975)
            pval = 2 * stats.norm.sf(np.abs(mu / se))
        q_p = np.where(df >= 1, stats.chi2.sf(q, np.maximum(df, 1)), np.nan)
        if settings.i2 == "tau2" and settings.tau2 != "FE":  # a common-effect model has no τ²: Q-based
            s2 = df * swf / (swf**2 - (wf**2).sum(axis=1))
            i2 = 100 * tau2 / (tau2 + s2)
        else:
            i2 = np.where(q > 0, 100 * np.maximum(0.0, (q - df) / q), 0.0)
        lost = {"t_k_minus_1": 1, "t_k_minus_2": 2, "z": None}[settings.prediction_interval]
        if lost is None:
            qpi = np.full(len(k), Z975)
        else:
            dfp = k - lost
            qpi = np.where(dfp >= 1, stats.t.ppf(0.975, np.where(dfp >= 1, dfp, 1)), np.nan)
        half_pi = qpi * np.sqrt(se**2 + tau2)
    single = k < 2
    return {
        "k": k.astype(int),
        "estimate": mu,
        "se": se,
        "ci_lower": mu - crit * se,
        "ci_upper": mu + crit * se,
        "p_value": pval,
        "tau2": np.where(single, np.nan, tau2),
        "q": np.where(single, np.nan, q),
        "q_p": q_p,
        "i2": np.where(single, np.nan, i2),
        "pi_lower": np.where(single, np.nan, mu - half_pi),
        "pi_upper": np.where(single, np.nan, mu + half_pi),
        "fe_estimate": muf,
    }


def leave_one_out_fits(p: Padded, settings: MetaSettings) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Every fit without one study (metafor's ``leave1out``), all outcomes in one pass: the mask of the fits
    made (outcomes x studies: a study there, and k ≥ 2) and each column of :func:`fit` in the same layout,
    NaN where no fit was made. Cell [i, j] is outcome i without its study in column j."""
    g, width = p.y.shape
    rows = np.repeat(np.arange(g), width)
    drop = np.tile(np.arange(width), g)
    keep = p.mask[rows] & (np.arange(width)[None, :] != drop[:, None])
    valid = p.mask[rows, drop] & (p.k[rows] >= 2)
    expanded = Padded(p.y[rows], p.v[rows], keep & valid[:, None])
    res = fit(expanded, settings)
    return valid.reshape(g, width), {
        key: np.where(valid, value, np.nan).reshape(g, width) for key, value in res.items()
    }


def leave_one_out(p: Padded, settings: MetaSettings) -> tuple[np.ndarray, np.ndarray]:
    """The fits without each study: the largest p and the estimates (outcomes x studies, NaN where none)."""
    _, res = leave_one_out_fits(p, settings)
    pvals, estimates = res["p_value"], res["estimate"]
    with np.errstate(invalid="ignore"):
        jk = np.where(
            np.isfinite(pvals).any(axis=1), np.nanmax(np.where(np.isfinite(pvals), pvals, -1.0), axis=1), np.nan
        )
    return jk, estimates
