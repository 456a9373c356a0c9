"""Each study's effect size on the analysis scale (log for ratios), from whichever numbers the study_effects sheet
gives, vectorised over the rows.

Priority: 2x2 counts (OR, RR, RD with 0.5 added to every cell of a study only when one of its cells is zero) or
events and person-time (IRR), then change scores or pre/post values (SMC, MC), then means and SDs (an MD, or
Hedges' g = J·d with the exact small-sample correction J of Hedges 1981), then a correlation with its sample size
(R, Z), then an estimate with its SE, then an estimate with its CI at ``ci_level`` % (default 95; SE =
(upper − lower)/(2·z_{1−(1−level)/2}) on the analysis scale). The variance of g is
1/n₁ + 1/n₂ + g²/(2N) as metafor's escalc (Viechtbauer 2010) or J²·(1/n₁ + 1/n₂ + d²/(2N)) as metaumbrella
(Gosling et al. 2023); a Cohen's d given with its SE or CI and both group sizes becomes g = J·d with SE J·SE, as
metaumbrella does.

The other measures of metaumbrella 1.1, each as metafor's escalc (Viechtbauer 2010; checked in
tests/test_measures.py against tests/reference/measures_escalc.R):

* OR, RR, HR, IRR on the log scale; logOR, logRR, logHR and logIRR are the same measures given already logged.
* IRR from events x and person-time t of each arm: ln((x₁/t₁)/(x₂/t₂)), variance 1/x₁ + 1/x₂, with 1/2 added to
  both counts when one is zero (escalc "IRR").
* R and Z on Fisher's z = atanh(r), variance 1/(n − 3) (escalc "ZCOR"; Fisher 1921); a CI of r is turned into
  one of z. Pooled on z and shown back on r = tanh(z).
* SMC: the standardised mean change of each arm by change-score standardisation, J(n − 1)·(post − pre)/SD_change
  with variance 1/n + SMC²/(2n) (escalc "SMCC"; Gibbons et al. 1993, Becker 1988), intervention minus control,
  variances added, as metaumbrella. MC: the raw mean change, variance SD_change²/n (escalc "MC"), likewise.
  SD_change is given, or √(SD_pre² + SD_post² − 2·r·SD_pre·SD_post) with r the row's ``pre_post_cor``, else the
  configured one (metaumbrella's default 0.8).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from umbrella.core.vocabulary import (
    CORRELATION_MEASURES,
    LOG_RATIO_MEASURES,
    LOGIT_SCALE,
    RATIO_MEASURES,
    Z975,
)
from umbrella.reanalysis.evidence import G_LIKE

#: The numeric columns of the study_effects sheet that effect sizes are computed from (NaN when absent).
NUMERIC_INPUTS = (
    "estimate", "se", "ci_lower", "ci_upper", "events_treat", "n_treat", "events_control", "n_control",
    "mean_treat", "sd_treat", "mean_control", "sd_control", "n_cases", "n_controls",
    "ci_level", "n_sample", "pre_post_cor", "mean_pre_treat", "sd_pre_treat", "mean_pre_control", "sd_pre_control",
    "mean_change_treat", "sd_change_treat", "mean_change_control", "sd_change_control", "time_treat",
    "time_control",
)  # fmt: skip
#: metaumbrella's default correlation between pre and post scores (its ``pre_post_cor``).
PRE_POST_COR = 0.8
#: The columns of the pooled table shown on the natural scale: r = tanh(z) for correlations.
R_SCALE_COLUMNS = (
    "estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "largest_ci_lower", "largest_ci_upper",
    "esb_true_effect",
)  # fmt: skip


def analysis_measure(measure: pd.Series) -> pd.Series:
    """The measure a study is pooled as: a logged ratio as its ratio (logOR as OR), Fisher's z (Z) as R."""
    return measure.replace({**LOG_RATIO_MEASURES, "Z": "R"})


def correlations_as_r(pooled: pd.DataFrame) -> pd.DataFrame:
    """The pooled rows of R (pooled on Fisher's z) shown back on r = tanh(z), with the equivalent g
    2r/√(1 − r²) (as metaumbrella) and OR exp(g·π/√3); other rows unchanged."""
    r = pooled["measure"].isin(list(CORRELATION_MEASURES)).to_numpy()
    if not r.any():
        return pooled
    out = pooled.copy()
    for col in R_SCALE_COLUMNS:
        if col in out:
            x = out[col].to_numpy(dtype=float)
            out[col] = np.where(r, np.tanh(x), x)
    if "g_equiv" in out:
        with np.errstate(invalid="ignore", divide="ignore"):
            est = out["estimate"].to_numpy(dtype=float)
            g = np.where(r, 2 * est / np.sqrt(1 - est**2), out["g_equiv"].to_numpy(dtype=float))
        out["g_equiv"] = g
        out["or_equiv"] = np.where(r, np.exp(g * LOGIT_SCALE), out["or_equiv"].to_numpy(dtype=float))
    return out


def fill_pre_post_cor(df: pd.DataFrame, pre_post_cor: float) -> pd.DataFrame:
    """The sheet with its blank ``pre_post_cor`` cells (or a missing column) set to the configured correlation."""
    given = df["pre_post_cor"] if "pre_post_cor" in df else pd.Series(np.nan, index=df.index)
    return df.assign(pre_post_cor=pd.to_numeric(given, errors="coerce").fillna(pre_post_cor))


def z_for_level(level: np.ndarray) -> np.ndarray:
    """The normal quantile z_{1−(1−L/100)/2} of a two-sided L % interval (L blank: 95)."""
    from scipy import stats

    level = np.where(np.isfinite(level), level, 95.0)
    ok = (level > 0) & (level < 100)
    return np.where(level == 95.0, Z975, np.where(ok, stats.norm.ppf(0.5 + np.where(ok, level, 95.0) / 200), np.nan))


def hedges_j(m: np.ndarray) -> np.ndarray:
    """The exact small-sample correction J(m) = Γ(m/2)/(√(m/2)·Γ((m − 1)/2)) of Hedges (1981), m = n₁ + n₂ − 2
    (as metafor's escalc and metaumbrella); NaN for m ≤ 1."""
    m = np.asarray(m, dtype=float)
    ok = np.isfinite(m) & (m > 1)
    safe = np.where(ok, m, 2.0)
    j = np.exp(special.gammaln(safe / 2) - 0.5 * np.log(safe / 2) - special.gammaln((safe - 1) / 2))
    return np.where(ok, j, np.nan)


def study_effect_sizes(
    df: pd.DataFrame, smd_variance: str = "escalc", pre_post_cor: float = PRE_POST_COR
) -> pd.DataFrame:
    """Each study's effect on the analysis scale (log for ratios): columns yi, vi, n, n_cases, n_controls,
    input (which set of numbers was used), the group sizes n1 and n2, and for SMD, G and MD the study as Hedges'
    g (g, g_v) and Cohen's d (d). Priority: 2x2 counts, then means, then estimate+se, then estimate+CI.

    SMD and G from means: d = (m₁ − m₂)/s_pooled, g = J·d with the exact J; the variance is
    1/n₁ + 1/n₂ + g²/(2N) (``smd_variance="escalc"``, metafor) or J²·(1/n₁ + 1/n₂ + d²/(2N)) (``"metaumbrella"``).
    An SMD (Cohen's d) given as estimate with SE or CI and both group sizes becomes g = J·d with SE J·SE, as
    metaumbrella does; a G is taken as it is. An MD given with its SE and group sizes has d = MD·√(1/n₁ + 1/n₂)/SE.
    SMC and MC from change scores or pre/post values (``pre_post_cor`` where the row has none), IRR from events
    and person-time, R and Z on Fisher's z: see the module's notes. Vectorised."""
    given = df["measure"].astype(object).to_numpy()
    measure = analysis_measure(df["measure"].astype(object)).to_numpy()
    f = {c: df[c].to_numpy(dtype=float) if c in df else np.full(len(df), np.nan) for c in NUMERIC_INPUTS}
    f["pre_post_cor"] = np.where(np.isfinite(f["pre_post_cor"]), f["pre_post_cor"], pre_post_cor)
    g_like = np.isin(measure, list(G_LIKE))
    n1, n2 = _group_sizes(f, g_like)
    scale = np.where(np.isin(given, list(RATIO_MEASURES)), "log", np.where(given == "R", "atanh", ""))
    y, v, source = _from_estimate(f, scale)
    y, v, source = _from_correlation(measure, f, y, v, source, scale)
    diff = _standardised(measure, f, n1, n2, y, v, smd_variance)
    y, v, source = _from_means(measure, f, n1, n2, y, v, source, diff)
    y, v, source = _from_changes(measure, f, y, v, source)
    y, v, source, counts = _from_counts(measure, f, y, v, source)
    y, v, source, person_time = _from_person_time(measure, f, y, v, source)
    n, n_cases, n_controls = _sample_sizes(f, counts, person_time)
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


def _atanh(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        inside = np.abs(x) < 1
        return np.where(inside, np.arctanh(np.where(inside, x, 0.0)), np.nan)


def _on_scale(x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Natural-scale values on the analysis scale: log for ratios, Fisher's z for r."""
    return np.where(scale == "log", _log(x), np.where(scale == "atanh", _atanh(x), x))


def _from_estimate(f: dict[str, np.ndarray], scale: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """y, v and the input's name from an estimate with its CI at ``ci_level`` % (SE = (upper − lower)/(2·z)),
    overridden by an estimate with its SE, on the analysis scale (log for ratios, Fisher's z for r); NaN and ""
    where neither is given."""
    y = np.full(len(scale), np.nan)
    v = np.full(len(scale), np.nan)
    source = np.full(len(scale), "", dtype=object)
    est = _on_scale(f["estimate"], scale)
    lo, hi = _on_scale(f["ci_lower"], scale), _on_scale(f["ci_upper"], scale)
    z = z_for_level(f["ci_level"])
    ok = np.isfinite(est) & np.isfinite(lo) & np.isfinite(hi) & np.isfinite(z)
    y, v, source = np.where(ok, est, y), np.where(ok, ((hi - lo) / (2 * z)) ** 2, v), np.where(ok, "ci", source)
    ok = np.isfinite(est) & np.isfinite(f["se"])
    y, v, source = np.where(ok, est, y), np.where(ok, f["se"] ** 2, v), np.where(ok, "se", source)
    return y, v, source


def _from_correlation(
    measure: np.ndarray, f: dict[str, np.ndarray], y: np.ndarray, v: np.ndarray, source: np.ndarray,
    scale: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """R (as atanh r) and Z with the sample size: variance 1/(n − 3) (escalc "ZCOR")."""
    n = f["n_sample"]
    ok = (measure == "R") & np.isfinite(f["estimate"]) & np.isfinite(n) & (n > 3)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(scale == "atanh", _atanh(f["estimate"]), f["estimate"])
        ok &= np.isfinite(z)
        return np.where(ok, z, y), np.where(ok, 1 / (n - 3), v), np.where(ok, "n", source)


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


def _change_scores(f: dict[str, np.ndarray], arm: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One arm's mean change and its SD: as given, else post − pre with SD √(SD_pre² + SD_post² − 2r·SD_pre·SD_post);
    and whether they were given as change scores."""
    given = np.isfinite(f[f"mean_change_{arm}"]) & np.isfinite(f[f"sd_change_{arm}"])
    r, pre, post = f["pre_post_cor"], f[f"sd_pre_{arm}"], f[f"sd_{arm}"]
    with np.errstate(invalid="ignore"):
        sd = np.sqrt(pre**2 + post**2 - 2 * r * pre * post)
    mean = np.where(given, f[f"mean_change_{arm}"], f[f"mean_{arm}"] - f[f"mean_pre_{arm}"])
    return mean, np.where(given, f[f"sd_change_{arm}"], sd), given


def _from_changes(
    measure: np.ndarray, f: dict[str, np.ndarray], y: np.ndarray, v: np.ndarray, source: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """SMC (escalc "SMCC" per arm) and MC (escalc "MC" per arm), intervention minus control, from change scores
    or pre/post values."""
    m1, s1, given1 = _change_scores(f, "treat")
    m2, s2, given2 = _change_scores(f, "control")
    n1, n2 = f["n_treat"], f["n_control"]
    ok = np.isfinite(m1) & np.isfinite(s1) & np.isfinite(m2) & np.isfinite(s2) & (n1 > 1) & (n2 > 1)
    ok &= (s1 > 0) & (s2 > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        smc1, smc2 = hedges_j(n1 - 1) * m1 / s1, hedges_j(n2 - 1) * m2 / s2
        smc, smc_v = smc1 - smc2, 1 / n1 + smc1**2 / (2 * n1) + 1 / n2 + smc2**2 / (2 * n2)
        mc, mc_v = m1 - m2, s1**2 / n1 + s2**2 / n2
    name = np.where(given1 & given2, "change", "pre/post")
    for which, value, var in (("SMC", smc, smc_v), ("MC", mc, mc_v)):
        sel = ok & (measure == which)
        y, v, source = np.where(sel, value, y), np.where(sel, var, v), np.where(sel, name, source)
    return y, v, source


def _from_person_time(
    measure: np.ndarray, f: dict[str, np.ndarray], y: np.ndarray, v: np.ndarray, source: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """IRR from the events and person-time of each arm (escalc "IRR": 1/2 added to both counts when one is 0);
    also which rows have them."""
    x1, x2, t1, t2 = f["events_treat"], f["events_control"], f["time_treat"], f["time_control"]
    sel = (measure == "IRR") & np.isfinite(x1) & np.isfinite(x2) & (t1 > 0) & (t2 > 0)
    add = np.where((x1 == 0) | (x2 == 0), 0.5, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        a, c = x1 + add, x2 + add
        value, var = np.log((a / t1) / (c / t2)), 1 / a + 1 / c
    return np.where(sel, value, y), np.where(sel, var, v), np.where(sel, "person-time", source), sel


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


def _sample_sizes(
    f: dict[str, np.ndarray], counts: np.ndarray, person_time: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """The total n (n_sample, else both arms, else cases and controls), and the cases and controls (as given,
    else from the counts: the events and the non-events, else the arms; for person-time the events)."""
    a, c = f["events_treat"], f["events_control"]
    b, dd = f["n_treat"] - a, f["n_control"] - c
    arms = np.isfinite(f["n_treat"]) & np.isfinite(f["n_control"])
    n = np.where(arms, f["n_treat"] + f["n_control"], f["n_cases"] + f["n_controls"])
    n = np.where(np.isfinite(f["n_sample"]), f["n_sample"], n)
    counts_cases = np.where(counts | person_time, a + c, f["n_treat"])
    n_cases = np.where(np.isfinite(f["n_cases"]), f["n_cases"], counts_cases)
    n_controls = np.where(np.isfinite(f["n_controls"]), f["n_controls"], np.where(counts, b + dd, f["n_control"]))
    return n, n_cases, n_controls
