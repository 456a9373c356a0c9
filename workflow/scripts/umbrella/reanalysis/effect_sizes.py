"""Each study's effect size on the analysis scale (log for ratios), from whichever numbers the study_effects sheet
gives, vectorised over the rows.

Priority: 2x2 counts (OR, RR, RD with 0.5 added to every cell of a study only when one of its cells is zero), then
means and SDs (an MD, or Hedges' g = J·d with the exact small-sample correction J of Hedges 1981), then an estimate
with its SE, then an estimate with its 95 % CI (SE = (upper − lower)/(2·z₀.₉₇₅)). The variance of g is
1/n₁ + 1/n₂ + g²/(2N) as metafor's escalc (Viechtbauer 2010) or J²·(1/n₁ + 1/n₂ + d²/(2N)) as metaumbrella
(Gosling et al. 2023); a Cohen's d given with its SE or CI and both group sizes becomes g = J·d with SE J·SE, as
metaumbrella does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from umbrella.core.vocabulary import RATIO_MEASURES, Z975
from umbrella.reanalysis.evidence import G_LIKE

#: The numeric columns of the study_effects sheet that effect sizes are computed from (NaN when absent).
NUMERIC_INPUTS = (
    "estimate", "se", "ci_lower", "ci_upper", "events_treat", "n_treat", "events_control", "n_control",
    "mean_treat", "sd_treat", "mean_control", "sd_control", "n_cases", "n_controls",
)  # fmt: skip


def hedges_j(m: np.ndarray) -> np.ndarray:
    """The exact small-sample correction J(m) = Γ(m/2)/(√(m/2)·Γ((m − 1)/2)) of Hedges (1981), m = n₁ + n₂ − 2
    (as metafor's escalc and metaumbrella); NaN for m ≤ 1."""
    m = np.asarray(m, dtype=float)
    ok = np.isfinite(m) & (m > 1)
    safe = np.where(ok, m, 2.0)
    j = np.exp(special.gammaln(safe / 2) - 0.5 * np.log(safe / 2) - special.gammaln((safe - 1) / 2))
    return np.where(ok, j, np.nan)


def study_effect_sizes(df: pd.DataFrame, smd_variance: str = "escalc") -> pd.DataFrame:
    """Each study's effect on the analysis scale (log for ratios): columns yi, vi, n, n_cases, n_controls,
    input (which set of numbers was used), the group sizes n1 and n2, and for SMD, G and MD the study as Hedges'
    g (g, g_v) and Cohen's d (d). Priority: 2x2 counts, then means, then estimate+se, then estimate+CI.

    SMD and G from means: d = (m₁ − m₂)/s_pooled, g = J·d with the exact J; the variance is
    1/n₁ + 1/n₂ + g²/(2N) (``smd_variance="escalc"``, metafor) or J²·(1/n₁ + 1/n₂ + d²/(2N)) (``"metaumbrella"``).
    An SMD (Cohen's d) given as estimate with SE or CI and both group sizes becomes g = J·d with SE J·SE, as
    metaumbrella does; a G is taken as it is. An MD given with its SE and group sizes has d = MD·√(1/n₁ + 1/n₂)/SE.
    Vectorised."""
    measure = df["measure"].astype(object).to_numpy()
    f = {c: df[c].to_numpy(dtype=float) if c in df else np.full(len(df), np.nan) for c in NUMERIC_INPUTS}
    g_like = np.isin(measure, list(G_LIKE))
    n1, n2 = _group_sizes(f, g_like)
    y, v, source = _from_estimate(f, np.isin(measure, list(RATIO_MEASURES)))
    diff = _standardised(measure, f, n1, n2, y, v, smd_variance)
    y, v, source = _from_means(measure, f, n1, n2, y, v, source, diff)
    y, v, source, counts = _from_counts(measure, f, y, v, source)
    n, n_cases, n_controls = _sample_sizes(f, counts)
    keep = g_like & np.isfinite(diff["g"]) & np.isfinite(diff["g_v"])
    return pd.DataFrame(
        {"yi": y, "vi": v, "n": n, "n_cases": n_cases, "n_controls": n_controls, "input": source, "n1": n1,
         "n2": n2, "g": np.where(keep, diff["g"], np.nan), "g_v": np.where(keep, diff["g_v"], np.nan),
         "d": np.where(keep, diff["d"], np.nan)},
        index=df.index,
    )  # fmt: skip


def _log(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), np.nan)


def _group_sizes(f: dict[str, np.ndarray], g_like: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """n₁ and n₂: the arms, else (for differences) cases and controls as metaumbrella's sheets give them."""
    n1 = np.where(np.isfinite(f["n_treat"]), f["n_treat"], np.where(g_like, f["n_cases"], np.nan))
    n2 = np.where(np.isfinite(f["n_control"]), f["n_control"], np.where(g_like, f["n_controls"], np.nan))
    return n1, n2


def _from_estimate(f: dict[str, np.ndarray], ratio: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """y, v and the input's name from an estimate with its CI, overridden by an estimate with its SE (log scale
    for ratios); NaN and "" where neither is given."""
    y = np.full(len(ratio), np.nan)
    v = np.full(len(ratio), np.nan)
    source = np.full(len(ratio), "", dtype=object)
    est = np.where(ratio, _log(f["estimate"]), f["estimate"])
    lo, hi = np.where(ratio, _log(f["ci_lower"]), f["ci_lower"]), np.where(ratio, _log(f["ci_upper"]), f["ci_upper"])
    ok = np.isfinite(est) & np.isfinite(lo) & np.isfinite(hi)
    y, v, source = np.where(ok, est, y), np.where(ok, ((hi - lo) / (2 * Z975)) ** 2, v), np.where(ok, "ci", source)
    ok = np.isfinite(est) & np.isfinite(f["se"])
    y, v, source = np.where(ok, est, y), np.where(ok, f["se"] ** 2, v), np.where(ok, "se", source)
    return y, v, source


def _has_means(f: dict[str, np.ndarray], n1: np.ndarray, n2: np.ndarray) -> np.ndarray:
    m1, m2, s1, s2 = f["mean_treat"], f["mean_control"], f["sd_treat"], f["sd_control"]
    return np.isfinite(m1) & np.isfinite(m2) & np.isfinite(s1) & np.isfinite(s2) & np.isfinite(n1) & np.isfinite(n2)


def _standardised(
    measure: np.ndarray, f: dict[str, np.ndarray], n1: np.ndarray, n2: np.ndarray, y: np.ndarray, v: np.ndarray,
    smd_variance: str,
) -> dict[str, np.ndarray]:  # fmt: skip
    """Every row as Cohen's d and Hedges' g with the variance of g, and J and whether means and SDs were given.

    d from means; from an MD and its SE (MD/SE = t); or the SMD as given (a G as g/J). A d or g given with its SE
    keeps that SE (scaled by J for a d)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        j = hedges_j(n1 + n2 - 2)
        unit = 1 / n1 + 1 / n2  # the variance of d without its d² term
    given = np.isfinite(y)
    means = _has_means(f, n1, n2)
    m1, m2, s1, s2 = f["mean_treat"], f["mean_control"], f["sd_treat"], f["sd_control"]
    with np.errstate(invalid="ignore", divide="ignore"):
        sp = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
        d = np.where(
            means,
            (m1 - m2) / sp,
            np.where(measure == "MD", y * np.sqrt(unit / v), np.where(measure == "SMD", y, y / j)),
        )
        g = np.where((measure == "G") & ~means, y, j * d)
        if smd_variance == "metaumbrella":
            g_v = j**2 * (unit + d**2 / (2 * (n1 + n2)))
        else:
            g_v = unit + g**2 / (2 * (n1 + n2))
    g_v = np.where(given & ~means & (measure == "SMD"), j**2 * v, np.where(given & ~means & (measure == "G"), v, g_v))
    return {"means": means, "j": j, "d": d, "g": g, "g_v": g_v}


def _from_means(
    measure: np.ndarray, f: dict[str, np.ndarray], n1: np.ndarray, n2: np.ndarray, y: np.ndarray, v: np.ndarray,
    source: np.ndarray, diff: dict[str, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """y, v and input where means and SDs give an MD or a g, or where a Cohen's d given with its SE becomes g."""
    means = diff["means"]
    given = np.isfinite(y)
    is_md = means & (measure == "MD")
    d_to_g = given & ~means & (measure == "SMD") & np.isfinite(diff["j"])
    is_g = (means & np.isin(measure, ["SMD", "G"])) | d_to_g
    y = np.where(is_md, f["mean_treat"] - f["mean_control"], np.where(is_g, diff["g"], y))
    v = np.where(is_md, f["sd_treat"] ** 2 / n1 + f["sd_control"] ** 2 / n2, np.where(is_g, diff["g_v"], v))
    source = np.where(is_md | (means & is_g), "means", np.where(d_to_g, source + ", d as g", source))
    return y, v, source


def _from_counts(
    measure: np.ndarray, f: dict[str, np.ndarray], y: np.ndarray, v: np.ndarray, source: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """y, v and input where 2x2 counts give an OR, RR or RD (0.5 added to every cell of a table with a zero
    cell); also which rows have the counts."""
    a, c = f["events_treat"], f["events_control"]
    counts = np.isfinite(a) & np.isfinite(c) & np.isfinite(f["n_treat"]) & np.isfinite(f["n_control"])
    b, dd = f["n_treat"] - a, f["n_control"] - c
    zero = counts & ((a == 0) | (b == 0) | (c == 0) | (dd == 0))
    add = np.where(zero, 0.5, 0.0)
    a_, b_, c_, d_ = a + add, b + add, c + add, dd + add
    with np.errstate(invalid="ignore", divide="ignore"):
        log_or, v_or = np.log(a_ * d_ / (b_ * c_)), 1 / a_ + 1 / b_ + 1 / c_ + 1 / d_
        n1_, n2_ = a_ + b_, c_ + d_
        log_rr, v_rr = np.log((a_ / n1_) / (c_ / n2_)), 1 / a_ - 1 / n1_ + 1 / c_ - 1 / n2_
        p1, p2 = a_ / n1_, c_ / n2_
        rd, v_rd = p1 - p2, p1 * (1 - p1) / n1_ + p2 * (1 - p2) / n2_
    for name, value, var in (("OR", log_or, v_or), ("RR", log_rr, v_rr), ("RD", rd, v_rd)):
        sel = counts & (measure == name)
        y, v, source = np.where(sel, value, y), np.where(sel, var, v), np.where(sel, "counts", source)
    return y, v, source, counts


def _sample_sizes(f: dict[str, np.ndarray], counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The total n (both arms, else cases and controls), and the cases and controls (as given, else from the
    counts: the events and the non-events, else the arms)."""
    a, c = f["events_treat"], f["events_control"]
    b, dd = f["n_treat"] - a, f["n_control"] - c
    arms = np.isfinite(f["n_treat"]) & np.isfinite(f["n_control"])
    n = np.where(arms, f["n_treat"] + f["n_control"], f["n_cases"] + f["n_controls"])
    n_cases = np.where(np.isfinite(f["n_cases"]), f["n_cases"], np.where(counts, a + c, f["n_treat"]))
    n_controls = np.where(np.isfinite(f["n_controls"]), f["n_controls"], np.where(counts, b + dd, f["n_control"]))
    return n, n_cases, n_controls
