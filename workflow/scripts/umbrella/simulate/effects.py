"""Pooled results of the meta-analyses (the effects sheet) and the study-level rows behind some of them.

Most meta-analyses get 1-4 pooled results drawn directly (an effect, its SE from the number of studies and
participants, a between-study variance). The largest (a fifth, at least three) get the planted study-level
meta-analyses of :mod:`.scenarios` instead, and their pooled results are the pools of those rows
(:mod:`.study_level`). The sheet gives each result as a review prints it: estimate and 95 % CI on the natural
scale, I², tau², a p-value in words and the review's verdict.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from umbrella.core.vocabulary import RATIO_MEASURES, Z975
from umbrella.simulate.arrays import ids, rounded, top_k
from umbrella.simulate.outcomes import (
    COMPARISONS,
    DEP,
    FAVOURS,
    GROUP_NAMES,
    GROUP_WEIGHTS,
    QOL,
    REC,
    TIMEPOINTS,
    benefit_sign,
    outcome_name,
)
from umbrella.simulate.reviews import MA, Citations
from umbrella.simulate.scenarios import meta_analyses
from umbrella.simulate.study_level import study_effects


def effects(
    rng: np.random.Generator,
    review_ids: np.ndarray,
    rtype: np.ndarray,
    cit: Citations,
    population: np.ndarray,
    amstar_score: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The effects and study_effects sheets (``population`` and ``amstar_score``: per review)."""
    ma = np.flatnonzero((rtype == MA) & (cit.n_primary >= 2))
    n_se = min(len(ma), max(3, int(round(0.2 * len(ma))))) if len(ma) else 0
    with_rows = ma[np.argsort(-cit.n_primary[ma], kind="stable")[:n_se]]
    plain = _drawn(rng, ma[~np.isin(ma, with_rows)], cit)
    # The study-level meta-analyses draw from a stream of their own, so that the other effects keep their
    # values when the scenarios change.
    rng_rows = rng.spawn(1)[0]
    planned = meta_analyses(rng_rows, with_rows, cit.n_primary)
    rows, pooled = study_effects(rng_rows, planned, cit, review_ids, amstar_score)
    pooled = pd.DataFrame({"r": planned.review, "g": planned.group, "measure": planned.measure,
                           "outcome": planned.outcome, "y": pooled["mu"], "se": pooled["se"], "k": pooled["k"],
                           "n": pooled["n"].astype(np.int64), "i2": pooled["i2"], "tau2": pooled["tau2"]})  # fmt: skip
    results = pd.concat([plain, pooled], ignore_index=True).sort_values(["r", "g"], kind="stable")
    return _sheet(rng, results.reset_index(drop=True), review_ids, population), rows


def _drawn(rng: np.random.Generator, reviews: np.ndarray, cit: Citations) -> pd.DataFrame:
    """1-4 pooled results in distinct outcome groups per review of ``reviews`` (codes), on the analysis scale:
    columns r (review), g (group), measure, outcome, y, se, k, n, i2, tau2."""
    n_rows = np.minimum(1 + rng.binomial(3, 0.5, size=len(reviews)), len(GROUP_WEIGHTS))
    if len(reviews):
        chosen = top_k(rng, np.tile(np.log(GROUP_WEIGHTS), (len(reviews), 1)), n_rows)
    else:
        chosen = np.zeros((0, len(GROUP_WEIGHTS)), bool)
    rev, grp = np.nonzero(chosen)
    rev = reviews[rev]
    m = len(rev)
    u = rng.random(m)
    binary_ok = np.isin(grp, [DEP, REC])
    measure = np.where(binary_ok & (u < 0.125), "OR", np.where(binary_ok & (u < 0.25), "RR", "SMD")).astype(object)
    measure = np.where((grp == QOL) & (u < 0.15), "MD", measure).astype(object)
    ratio = np.isin(measure, list(RATIO_MEASURES))
    k = np.minimum(cit.n_primary[rev], 2 + rng.poisson(4, size=m))
    n = np.minimum(cit.n_participants[rev], np.maximum(k * np.round(rng.lognormal(math.log(70), 0.5, size=m)), 20))
    n = np.maximum(n, 1).astype(np.int64)
    mu = np.where(ratio, rng.normal(0.32, 0.2, size=m), rng.normal(0.25, 0.15, size=m)) * benefit_sign(grp)
    md_scale = np.where(measure == "MD", rng.uniform(8, 15, size=m), 1.0)
    v_within = np.where(ratio, 4.0 / (n / k * 0.21), 4.0 / (n / k))
    tau2 = np.where(rng.random(m) < 0.3, 0.0, rng.gamma(1.0, 0.05, size=m))
    tau2 = np.where(k > 1, tau2, 0.0)
    se = np.sqrt((v_within + tau2) / k)
    y = mu + rng.normal(size=m) * se
    names = [outcome_name(g, meas, j) for g, meas, j in zip(grp, measure, rng.integers(0, 6, size=m), strict=True)]
    return pd.DataFrame(
        {
            "r": rev,
            "g": grp,
            "measure": measure,
            "outcome": names,
            "y": y * md_scale,
            "se": se * md_scale,
            "k": k,
            "n": n,
            "i2": np.where(k > 1, 100 * tau2 / (tau2 + v_within), 0.0),
            "tau2": tau2 * md_scale**2,
        }
    )


def _sheet(
    rng: np.random.Generator, results: pd.DataFrame, review_ids: np.ndarray, population: np.ndarray
) -> pd.DataFrame:
    """The effects sheet from pooled results on the analysis scale (columns as :func:`_drawn` gives them)."""
    e = len(results)
    measure = results["measure"].to_numpy(object)
    y, se = results["y"].to_numpy(float), results["se"].to_numpy(float)
    est, lo, hi = _as_printed(y, se, np.isin(measure, list(RATIO_MEASURES)))
    p = 2 * stats.norm.sf(np.abs(y / se))
    grp, r = results["g"].to_numpy(int), results["r"].to_numpy(int)
    good = np.where(FAVOURS[grp] == "lower", y < 0, y > 0)
    verdict = np.where(p >= 0.05, "No clear difference", np.where(good, "Favours peer support", "Favours control"))
    return pd.DataFrame(
        {
            "effect_id": ids("E", e, 3),
            "review_id": review_ids[r],
            "outcome": results["outcome"].to_numpy(object),
            "outcome_group": GROUP_NAMES[grp],
            "timepoint": TIMEPOINTS[np.searchsorted([0.6, 0.85], rng.random(e), side="right")],
            "population": np.asarray(population, dtype=object)[r],
            "comparison": COMPARISONS[rng.integers(0, len(COMPARISONS), size=e)],
            "measure": measure,
            "estimate": est,
            "ci_lower": lo,
            "ci_upper": hi,
            "ci_level": np.full(e, 95.0),
            "k_studies": results["k"].to_numpy(np.int64),
            "n_participants": results["n"].to_numpy(np.int64),
            "i2": rounded(results["i2"].to_numpy(float), 1),
            "tau2": rounded(results["tau2"].to_numpy(float), 4),
            "p_value": _p_text(p),
            "favours": FAVOURS[grp],
            "verdict": verdict.astype(object),
            "source": "simulated",
            "notes": None,
        }
    )


def _as_printed(y: np.ndarray, se: np.ndarray, ratio: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimate and 95 % CI on the natural scale, rounded as reviews print them (3 decimals for ratios, else 2),
    the limits at least one last digit away from the estimate (and ratios above 0)."""
    lo, hi = y - Z975 * se, y + Z975 * se
    est = np.where(ratio, np.exp(y), y)
    lo = np.where(ratio, np.exp(lo), lo)
    hi = np.where(ratio, np.exp(hi), hi)
    est = np.where(ratio, rounded(est, 3), rounded(est, 2))
    step = np.where(ratio, 0.001, 0.01)
    lo = np.minimum(np.where(ratio, rounded(lo, 3), rounded(lo, 2)), rounded(est - step, 3))
    hi = np.maximum(np.where(ratio, rounded(hi, 3), rounded(hi, 2)), rounded(est + step, 3))
    return est, np.where(ratio, np.maximum(lo, 0.001), lo), hi


def _p_text(p: np.ndarray) -> np.ndarray:
    """p-values as reviews print them: < 0.00001, < 0.001, three decimals below 0.1, else two."""
    out = []
    for v in p:
        if v < 0.00001:
            out.append("< 0.00001")
        elif v < 0.001:
            out.append("< 0.001")
        elif v < 0.1:
            out.append(f"{v:.3f}")
        else:
            out.append(f"{v:.2f}")
    return np.array(out, dtype=object)
