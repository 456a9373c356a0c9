"""Study-level re-analysis: effect sizes, a random-effects engine vectorised across outcomes, small-study and
excess-significance tests, leave-one-out, and the evidence classes of umbrella reviews.

Every outcome's studies sit in one row of padded (outcomes x studies) arrays with a mask, so one numpy pass fits
all outcomes: no Python loop per outcome. The conventions are those of metafor (Viechtbauer 2010) where they
exist, with metaumbrella's (Gosling et al. 2023) as settings: tau² by REML (default), ML, PM, DL or a common
effect; a Wald (z) or Hartung–Knapp–Sidik–Jonkman CI; Q-based or tau²-based I²; prediction interval on t with
k − 1 or k − 2 df or z. Iterative tau² estimators solve their estimating equation by bracketed bisection on
[0, upper], which converges wherever Fisher scoring would fail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

RATIO = frozenset({"OR", "RR", "HR", "IRR"})
Z975 = float(stats.norm.ppf(0.975))
TAU2_METHODS = ("REML", "ML", "PM", "DL", "FE")
LOGIT_SCALE = np.pi / np.sqrt(3)


@dataclass(frozen=True)
class MetaSettings:
    """Conventions of the re-analysis (config section ``reanalysis``)."""

    tau2: str = "REML"
    ci: str = "z"
    i2: str = "q"
    prediction_interval: str = "t_k_minus_1"
    n_cases_threshold: int = 1000

    @classmethod
    def from_config(cls, settings: Mapping | None) -> MetaSettings:
        s = dict(settings or {})
        base = cls()
        return cls(**{k: s.get(k, getattr(base, k)) for k in cls.__dataclass_fields__})

    def describe(self) -> list[str]:
        tau = {
            "REML": "restricted maximum likelihood (REML)",
            "ML": "maximum likelihood",
            "PM": "the Paule–Mandel estimator",
            "DL": "the DerSimonian–Laird estimator",
            "FE": "none: a common-effect (fixed-effect) model",
        }[self.tau2]
        ci = {"z": "a Wald (z) interval", "hksj": "the Hartung–Knapp–Sidik–Jonkman method (t, k − 1 df)"}[self.ci]
        i2 = {
            "q": "I² = (Q − df)/Q (Higgins & Thompson; as meta and metaumbrella)",
            "tau2": "I² = τ²/(τ² + s²), s² the typical within-study variance (as metafor)",
        }[self.i2]
        pi = {"t_k_minus_1": "t with k − 1 df", "t_k_minus_2": "t with k − 2 df", "z": "the normal distribution"}[
            self.prediction_interval
        ]
        return [
            "Study effect sizes: estimate with SE or CI (log scale for ratios); 2x2 counts as OR, RR or RD with 0.5 "
            "added to every cell of a study only when one of its cells is zero; means and SDs as MD, or SMD as "
            "Hedges' g with J = 1 − 3/(4(n₁ + n₂ − 2) − 1).",
            f"Random-effects model per outcome with τ² by {tau}; confidence interval by {ci}; {i2}; prediction "
            f"interval with {pi}.",
            "Egger's test: weighted regression of the effect on its SE (weights 1/SE²), k ≥ 3. Excess significance: "
            "TESS and PSST of Stanley et al. 2021 with the UWLS (common-effect) estimate as the true effect and "
            "two-sided power, the smaller p reported. Leave-one-out: the largest p of the k fits without one "
            "study. Largest study: the largest n (ties: the smaller effect; no n: the smallest SE). Low risk of "
            "bias: the share of random-effects weight from studies rated low.",
            f"Ioannidis classes (Fusar-Poli & Radua 2018): I: more than {self.n_cases_threshold:,} cases, p < 10⁻⁶, "
            "I² < 50 %, prediction interval excluding the null, Egger p > 0.05 and excess-significance p > 0.05; "
            "II: more than the threshold of cases, p < 10⁻⁶ and the largest study significant in the same "
            "direction; III: more than the threshold of cases and p < 10⁻³; IV: p < 0.05; otherwise ns. A criterion "
            "whose inputs are missing is not assessable, never failed; the class is then the best one whose "
            "criteria are all met, and the table lists what could not be assessed.",
            "Algorithmic GRADE (metaumbrella 1.1): start high (moderate when k < 5) and downgrade for risk of bias "
            "(< 75 % or < 50 % of weight at low risk), inconsistency (the prediction interval crossing more "
            "regions around the null than the CI; without one, I² ≥ 30 % or 50 % with ≥ 10 % of studies "
            "significant the other way), imprecision (CI spanning the null and a large effect, fewer than 394 or "
            "64 participants per arm) and publication bias (Egger or excess-significance p ≤ 0.10); indirectness "
            "is not in the sheet and not assessed. High, moderate, weak, very weak.",
        ]


# --------------------------------------------------------------------------------------------------------------
# Study effect sizes


def study_effect_sizes(df: pd.DataFrame) -> pd.DataFrame:
    """Each study's effect on the analysis scale (log for ratios): columns yi, vi, n, n_cases, n_controls,
    input (which set of numbers was used). Priority: 2x2 counts, then means, then estimate+se, then
    estimate+CI. Vectorised."""
    m = df["measure"].astype(object).to_numpy()
    f = {c: df[c].to_numpy(dtype=float) if c in df else np.full(len(df), np.nan) for c in _NUMERIC}
    y = np.full(len(df), np.nan)
    v = np.full(len(df), np.nan)
    source = np.full(len(df), "", dtype=object)
    ratio = np.isin(m, list(RATIO))

    # estimate + CI, then estimate + se (later assignments win, so the order is lowest priority first)
    est = np.where(ratio, _log(f["estimate"]), f["estimate"])
    lo, hi = np.where(ratio, _log(f["ci_lower"]), f["ci_lower"]), np.where(ratio, _log(f["ci_upper"]), f["ci_upper"])
    ok = np.isfinite(est) & np.isfinite(lo) & np.isfinite(hi)
    y, v, source = np.where(ok, est, y), np.where(ok, ((hi - lo) / (2 * Z975)) ** 2, v), np.where(ok, "ci", source)
    ok = np.isfinite(est) & np.isfinite(f["se"])
    y, v, source = np.where(ok, est, y), np.where(ok, f["se"] ** 2, v), np.where(ok, "se", source)

    # means and SDs
    n1, n2 = f["n_treat"], f["n_control"]
    m1, m2, s1, s2 = f["mean_treat"], f["mean_control"], f["sd_treat"], f["sd_control"]
    means = np.isfinite(m1) & np.isfinite(m2) & np.isfinite(s1) & np.isfinite(s2) & np.isfinite(n1) & np.isfinite(n2)
    with np.errstate(invalid="ignore", divide="ignore"):
        md, md_v = m1 - m2, s1**2 / n1 + s2**2 / n2
        sp = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
        j = 1 - 3 / (4 * (n1 + n2 - 2) - 1)
        g = j * (m1 - m2) / sp
        g_v = 1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2))
    is_md = means & (m == "MD")
    is_g = means & np.isin(m, ["SMD", "G"])
    y, v = np.where(is_md, md, y), np.where(is_md, md_v, v)
    y, v = np.where(is_g, g, y), np.where(is_g, g_v, v)
    source = np.where(is_md | is_g, "means", source)

    # 2x2 counts
    a, c = f["events_treat"], f["events_control"]
    counts = np.isfinite(a) & np.isfinite(c) & np.isfinite(n1) & np.isfinite(n2)
    b, d = n1 - a, n2 - c
    zero = counts & ((a == 0) | (b == 0) | (c == 0) | (d == 0))
    add = np.where(zero, 0.5, 0.0)
    a_, b_, c_, d_ = a + add, b + add, c + add, d + add
    with np.errstate(invalid="ignore", divide="ignore"):
        log_or, v_or = np.log(a_ * d_ / (b_ * c_)), 1 / a_ + 1 / b_ + 1 / c_ + 1 / d_
        n1_, n2_ = a_ + b_, c_ + d_
        log_rr, v_rr = np.log((a_ / n1_) / (c_ / n2_)), 1 / a_ - 1 / n1_ + 1 / c_ - 1 / n2_
        p1, p2 = a_ / n1_, c_ / n2_
        rd, v_rd = p1 - p2, p1 * (1 - p1) / n1_ + p2 * (1 - p2) / n2_
    for measure, value, var in (("OR", log_or, v_or), ("RR", log_rr, v_rr), ("RD", rd, v_rd)):
        sel = counts & (m == measure)
        y, v, source = np.where(sel, value, y), np.where(sel, var, v), np.where(sel, "counts", source)

    n = np.where(np.isfinite(n1) & np.isfinite(n2), n1 + n2, f["n_cases"] + f["n_controls"])
    n_cases = np.where(np.isfinite(f["n_cases"]), f["n_cases"], np.where(counts, a + c, n1))
    n_controls = np.where(np.isfinite(f["n_controls"]), f["n_controls"], np.where(counts, b + d, n2))
    return pd.DataFrame(
        {"yi": y, "vi": v, "n": n, "n_cases": n_cases, "n_controls": n_controls, "input": source}, index=df.index
    )


_NUMERIC = (
    "estimate", "se", "ci_lower", "ci_upper", "events_treat", "n_treat", "events_control", "n_control",
    "mean_treat", "sd_treat", "mean_control", "sd_control", "n_cases", "n_controls",
)  # fmt: skip


def _log(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), np.nan)


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
        if settings.i2 == "tau2":
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


def egger(p: Padded) -> tuple[np.ndarray, np.ndarray]:
    """Egger's test: t and two-sided p of the slope on SE in the weighted regression of y on SE (weights
    1/SE²; df k − 2); NaN below k = 3."""
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
    ok = p.k >= 3
    return np.where(ok, t, np.nan), np.where(ok, pval, np.nan)


def excess_significance(p: Padded, tau2: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """The smaller one-sided p of TESS and PSST (Stanley et al. 2021), the true effect ``theta`` (UWLS).

    A study's power is its chance of significance in either direction, matching the count of studies that are
    significant in either direction."""
    se = np.sqrt(p.v)
    k = p.k.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = np.sqrt(se**2 + tau2[:, None])
        shift = np.abs(theta)[:, None]
        # both tails, so that the expected count matches studies significant in either direction
        power = 1 - special.ndtr((Z975 * se - shift) / spread) + special.ndtr((-Z975 * se - shift) / spread)
        power = np.where(p.mask, power, 0.0)
        expected = power.sum(axis=1)
        significant = _sum((np.abs(p.y / se) > Z975).astype(float), p.mask)
        pe = expected / k
        psst = (significant / k - pe) / np.sqrt(pe * (1 - pe) / k)
        tess = ((significant - expected) / k - 0.05) / np.sqrt(0.0475 / k)
        pvalue = np.fmin(stats.norm.sf(psst), stats.norm.sf(tess))
    return np.where(k >= 2, pvalue, np.nan)


def leave_one_out(p: Padded, settings: MetaSettings) -> tuple[np.ndarray, np.ndarray]:
    """The fits without each study: the largest p and the estimates (outcomes x studies, NaN where none)."""
    g, width = p.y.shape
    rows = np.repeat(np.arange(g), width)
    drop = np.tile(np.arange(width), g)
    keep = p.mask[rows] & (np.arange(width)[None, :] != drop[:, None])
    valid = p.mask[rows, drop] & (p.k[rows] >= 2)
    expanded = Padded(p.y[rows], p.v[rows], keep & valid[:, None])
    res = fit(expanded, settings)
    pvals = np.where(valid, res["p_value"], np.nan).reshape(g, width)
    estimates = np.where(valid, res["estimate"], np.nan).reshape(g, width)
    with np.errstate(invalid="ignore"):
        jk = np.where(
            np.isfinite(pvals).any(axis=1), np.nanmax(np.where(np.isfinite(pvals), pvals, -1.0), axis=1), np.nan
        )
    return jk, estimates


# --------------------------------------------------------------------------------------------------------------
# Per meta-analysis: the whole re-analysis


POOLED_COLUMNS = [
    "outcome", "review_id", "measure", "k", "n_cases", "n_controls", "n_total", "estimate", "se", "ci_lower",
    "ci_upper", "p_value", "tau2", "q", "q_p", "i2", "pi_lower", "pi_upper", "egger_t", "egger_p", "esb_p",
    "largest_study", "largest_ci_lower", "largest_ci_upper", "jk_max_p", "rob_low_pct", "g_equiv", "or_equiv",
    "class_ioannidis", "not_assessable", "grade", "grade_downgrades", "grade_not_assessed", "converted",
]  # fmt: skip


def _to_natural(x: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    return np.where(ratio, np.exp(x), x)


def reanalyse(study_effects: pd.DataFrame, settings: MetaSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Re-run every meta-analysis of the study-level sheet (one per outcome and review): returns the pooled
    table (:data:`POOLED_COLUMNS`, ratios on the natural scale) and the study effect sizes used."""
    es = study_effect_sizes(study_effects)
    studies = pd.concat([study_effects[["outcome", "review_id", "study_id", "measure"]], es], axis=1)
    if "rob" in study_effects:
        studies["rob"] = study_effects["rob"]
    else:
        studies["rob"] = None
    studies = studies[np.isfinite(studies["yi"]) & np.isfinite(studies["vi"]) & (studies["vi"] > 0)]
    keys = (
        studies[["outcome", "review_id"]].drop_duplicates().sort_values(["outcome", "review_id"]).reset_index(drop=True)
    )
    if keys.empty:
        return pd.DataFrame(columns=POOLED_COLUMNS), studies
    codes = (
        pd.MultiIndex.from_frame(studies[["outcome", "review_id"]])
        .map({k: i for i, k in enumerate(pd.MultiIndex.from_frame(keys))})
        .to_numpy()
    )
    # One measure per meta-analysis: mixed measures are pooled as equivalent g (ratios via ln OR = g·π/√3).
    measures = studies.groupby(codes)["measure"].agg(lambda s: sorted(set(s)))
    mixed = measures.map(len).to_numpy() > 1
    y, v = studies["yi"].to_numpy(dtype=float), studies["vi"].to_numpy(dtype=float)
    row_mixed = mixed[codes]
    row_ratio = studies["measure"].isin(list(RATIO)).to_numpy()
    convertible = ~row_mixed | np.isin(studies["measure"].to_numpy(), ["SMD", "G", *RATIO])
    y = np.where(row_mixed & row_ratio, y / LOGIT_SCALE, y)
    v = np.where(row_mixed & row_ratio, v / LOGIT_SCALE**2, v)
    keep = convertible
    studies, codes, y, v = studies[keep], codes[keep], y[keep], v[keep]
    p, position = pad(codes, y, v, len(keys))
    res = fit(p, settings)
    measure = np.where(mixed, "G", measures.map(lambda m: m[0]).to_numpy())
    ratio = np.isin(measure, list(RATIO))

    egger_t, egger_p = egger(p)
    tau2 = np.nan_to_num(res["tau2"])
    esb = excess_significance(p, tau2, res["fe_estimate"])
    jk, _ = leave_one_out(p, settings)

    # Weights, n, risk of bias, largest study
    w = np.where(p.mask, 1 / (p.v + tau2[:, None]), 0.0)
    n_grid = np.full(p.y.shape, np.nan)
    n_grid[codes, position] = studies["n"].to_numpy(dtype=float)
    low = np.zeros(p.y.shape)
    rated = np.zeros(p.y.shape, dtype=bool)
    rob = studies["rob"].astype(object).to_numpy()
    low[codes, position] = (rob == "low").astype(float)
    rated[codes, position] = pd.notna(rob)
    with np.errstate(invalid="ignore", divide="ignore"):
        rob_low = 100 * (w * low * rated).sum(axis=1) / (w * rated).sum(axis=1)
    rob_low = np.where(rated.any(axis=1), rob_low, np.nan)
    largest_idx = _largest(p, n_grid)
    rows = np.arange(len(keys))
    ly, lse = p.y[rows, largest_idx], np.sqrt(p.v[rows, largest_idx])
    ids = np.full(p.y.shape, "", dtype=object)
    ids[codes, position] = studies["study_id"].to_numpy()
    sums = studies.groupby(codes)[["n_cases", "n_controls", "n"]].sum(min_count=1).reindex(rows)

    g_scale = np.where(
        ratio, res["estimate"] / LOGIT_SCALE, np.where(np.isin(measure, ["SMD", "G"]), res["estimate"], np.nan)
    )
    out = keys.assign(
        measure=measure,
        k=res["k"],
        n_cases=sums["n_cases"].to_numpy(),
        n_controls=sums["n_controls"].to_numpy(),
        n_total=sums["n"].to_numpy(),
        estimate=_to_natural(res["estimate"], ratio),
        se=res["se"],
        ci_lower=_to_natural(res["ci_lower"], ratio),
        ci_upper=_to_natural(res["ci_upper"], ratio),
        p_value=res["p_value"],
        tau2=res["tau2"],
        q=res["q"],
        q_p=res["q_p"],
        i2=res["i2"],
        pi_lower=_to_natural(res["pi_lower"], ratio),
        pi_upper=_to_natural(res["pi_upper"], ratio),
        egger_t=egger_t,
        egger_p=egger_p,
        esb_p=esb,
        largest_study=ids[rows, largest_idx],
        largest_ci_lower=_to_natural(ly - Z975 * lse, ratio),
        largest_ci_upper=_to_natural(ly + Z975 * lse, ratio),
        jk_max_p=jk,
        rob_low_pct=rob_low,
        g_equiv=g_scale,
        or_equiv=np.exp(g_scale * LOGIT_SCALE),
        converted=np.where(mixed, "mixed measures pooled as equivalent g", ""),
    )
    classes = ioannidis(out, settings.n_cases_threshold)
    out["class_ioannidis"], out["not_assessable"] = classes["class"], classes["not_assessable"]
    grade_table = grade(out, p, ratio)
    out["grade"], out["grade_downgrades"], out["grade_not_assessed"] = (
        grade_table["grade"],
        grade_table["downgrades"],
        grade_table["not_assessed"],
    )
    for col in ("n_cases", "n_controls", "n_total"):
        out[col] = out[col].round().astype("Int64")
    return out[POOLED_COLUMNS], studies


def _largest(p: Padded, n: np.ndarray) -> np.ndarray:
    """Column of the largest study per row: largest n; ties to the smaller |effect|; without n, smallest SE."""
    has_n = np.isfinite(n) & p.mask
    big = np.where(has_n, n, -np.inf)
    best_n = big.max(axis=1)
    tie = has_n & (big == best_n[:, None])
    by_n = np.argmin(np.where(tie, np.abs(p.y), np.inf), axis=1)
    by_se = np.argmin(np.where(p.mask, p.v, np.inf), axis=1)
    return np.where(has_n.any(axis=1), by_n, by_se)


def _null_excluded(lower: np.ndarray, upper: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    null = np.where(ratio, 1.0, 0.0)
    return ((lower > null) & (upper > null)) | ((lower < null) & (upper < null))


def ioannidis(pooled: pd.DataFrame, threshold: int = 1000) -> pd.DataFrame:
    """Class I–IV or ns, and the criteria that could not be assessed (missing inputs are never failures)."""
    ratio = pooled["measure"].isin(list(RATIO)).to_numpy()
    p = pooled["p_value"].to_numpy(dtype=float)
    cases = pooled["n_cases"].to_numpy(dtype=float)
    i2 = pooled["i2"].to_numpy(dtype=float)
    pi_lo, pi_hi = pooled["pi_lower"].to_numpy(dtype=float), pooled["pi_upper"].to_numpy(dtype=float)
    egger_p, esb_p = pooled["egger_p"].to_numpy(dtype=float), pooled["esb_p"].to_numpy(dtype=float)
    llo, lhi = pooled["largest_ci_lower"].to_numpy(dtype=float), pooled["largest_ci_upper"].to_numpy(dtype=float)
    lo, hi = pooled["ci_lower"].to_numpy(dtype=float), pooled["ci_upper"].to_numpy(dtype=float)
    null = np.where(ratio, 1.0, 0.0)
    same_sign = np.sign(llo - null) == np.sign(lo - null)

    criteria = {  # name -> (met, assessable)
        "cases": (cases > threshold, np.isfinite(cases)),
        "p<1e-6": (p < 1e-6, np.isfinite(p)),
        "p<1e-3": (p < 1e-3, np.isfinite(p)),
        "i2<50": (i2 < 50, np.isfinite(i2)),
        "pi": (_null_excluded(pi_lo, pi_hi, ratio), np.isfinite(pi_lo) & np.isfinite(pi_hi)),
        "egger": (egger_p > 0.05, np.isfinite(egger_p)),
        "esb": (esb_p > 0.05, np.isfinite(esb_p)),
        "largest": (
            _null_excluded(llo, lhi, ratio) & same_sign & _null_excluded(lo, hi, ratio),
            np.isfinite(llo) & np.isfinite(lhi),
        ),
    }

    def all_met(names: list[str]) -> np.ndarray:
        return np.logical_and.reduce([criteria[n][0] & criteria[n][1] for n in names])

    c1 = all_met(["cases", "p<1e-6", "i2<50", "pi", "egger", "esb"])
    c2 = all_met(["cases", "p<1e-6", "largest"])
    c3 = all_met(["cases", "p<1e-3"])
    c4 = np.isfinite(p) & (p < 0.05)
    label = np.where(c1, "I", np.where(c2, "II", np.where(c3, "III", np.where(c4, "IV", "ns"))))
    words = {"cases": f"cases > {threshold:,}", "i2<50": "I²", "pi": "prediction interval", "egger": "Egger",
             "esb": "excess significance", "largest": "largest study"}  # fmt: skip
    missing = []
    for i in range(len(pooled)):
        if label[i] == "I" or not c4[i]:
            missing.append("")
            continue
        names = [words[n] for n in ("cases", "i2<50", "pi", "egger", "esb", "largest") if not criteria[n][1][i]]
        missing.append("; ".join(names))
    return pd.DataFrame({"class": label, "not_assessable": missing}, index=pooled.index)


GRADE_LABELS = ("High", "Moderate", "Weak", "Very weak")


def grade(pooled: pd.DataFrame, p: Padded, ratio: np.ndarray) -> pd.DataFrame:
    """Algorithmic GRADE in the manner of metaumbrella 1.1 (see :meth:`MetaSettings.describe`)."""
    k = pooled["k"].to_numpy()
    start = np.where(k < 5, 1, 0)
    rob = pooled["rob_low_pct"].to_numpy(dtype=float)
    d_rob = np.where(rob >= 75, 0, np.where(rob >= 50, 1, 2))
    rob_ok = np.isfinite(rob)

    # inconsistency: regions (below / inside / above the equivalence range) spanned by the PI beyond the CI
    lo, hi = pooled["ci_lower"].to_numpy(dtype=float), pooled["ci_upper"].to_numpy(dtype=float)
    pi_lo, pi_hi = pooled["pi_lower"].to_numpy(dtype=float), pooled["pi_upper"].to_numpy(dtype=float)
    eq_lo = np.where(ratio, 0.8, -0.10)
    eq_hi = np.where(ratio, 1.25, 0.10)

    def regions(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a < eq_lo).astype(int) + ((a < eq_hi) & (b > eq_lo)).astype(int) + (b > eq_hi).astype(int)

    has_pi = np.isfinite(pi_lo) & np.isfinite(pi_hi)
    d_inc_pi = np.clip(regions(pi_lo, pi_hi) - regions(lo, hi), 0, 2)
    i2 = pooled["i2"].to_numpy(dtype=float)
    pooled_sign = np.sign(
        np.where(ratio, np.log(np.where(pooled["estimate"] > 0, pooled["estimate"], 1)), pooled["estimate"])
    )
    se = np.sqrt(p.v)
    opposite = _sum(((np.abs(p.y / se) > Z975) & (np.sign(p.y) == -pooled_sign[:, None])).astype(float), p.mask)
    share_opposite = opposite / np.maximum(k, 1)
    d_inc_i2 = np.where((i2 >= 50) & (share_opposite >= 0.1), 2, np.where((i2 >= 30) & (share_opposite >= 0.1), 1, 0))
    d_inc = np.where(has_pi, d_inc_pi, d_inc_i2)
    inc_ok = has_pi | np.isfinite(i2)

    # imprecision
    large_lo = np.where(ratio, 0.2, -0.8)
    large_hi = np.where(ratio, 5.0, 0.8)
    null = np.where(ratio, 1.0, 0.0)
    spans = (lo < null) & (hi > null) & ((lo <= large_lo) | (hi >= large_hi))
    per_arm = pooled["n_total"].to_numpy(dtype=float) / 2
    small = per_arm < 394
    tiny = per_arm < 64
    d_imp = np.where((spans & small) | tiny, 2, np.where(spans ^ small, 1, 0))
    imp_ok = np.isfinite(per_arm)

    egger_p, esb_p = pooled["egger_p"].to_numpy(dtype=float), pooled["esb_p"].to_numpy(dtype=float)
    d_pub = ((egger_p <= 0.10) | (esb_p <= 0.10)).astype(int)
    pub_ok = np.isfinite(egger_p) | np.isfinite(esb_p)

    domains = [
        ("risk of bias", d_rob, rob_ok),
        ("inconsistency", d_inc, inc_ok),
        ("imprecision", d_imp, imp_ok),
        ("publication bias", d_pub, pub_ok),
    ]
    total = start + sum(np.where(ok, d, 0) for _, d, ok in domains)
    labels = np.array(GRADE_LABELS, dtype=object)[np.minimum(total, 3)]
    downgrades = [
        "; ".join(f"{name} −{int(d[i])}" for name, d, ok in domains if ok[i] and d[i] > 0)
        + ("; k < 5 (start moderate)" if start[i] else "")
        for i in range(len(pooled))
    ]
    not_assessed = [
        "; ".join(["indirectness"] + [name for name, _, ok in domains if not ok[i]]) for i in range(len(pooled))
    ]
    return pd.DataFrame(
        {"grade": labels, "downgrades": [d.strip("; ") for d in downgrades], "not_assessed": not_assessed},
        index=pooled.index,
    )
