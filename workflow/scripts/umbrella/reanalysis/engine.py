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
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats

from umbrella.core.vocabulary import LOGIT_SCALE, RATIO_MEASURES, Z975
from umbrella.reanalysis.evidence import G_LIKE, GRADE_LABELS, GradeSettings, grade, ioannidis, personalised


@dataclass(frozen=True)
class MetaSettings:
    """Conventions of the re-analysis (config section ``reanalysis``)."""

    tau2: str = "REML"
    ci: str = "z"
    i2: str = "q"
    prediction_interval: str = "t_k_minus_1"
    n_cases_threshold: int = 1000
    smd_variance: str = "escalc"
    esb_method: str = "TESSPSST"
    esb_true_effect: str | float = "UWLS"
    classes: str = "ioannidis"
    personalised: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    grade: GradeSettings = field(default_factory=GradeSettings)

    @classmethod
    def from_config(cls, settings: Mapping | None) -> MetaSettings:
        s = dict(settings or {})
        base = cls()
        esb = dict(s.get("esb") or {})
        return cls(
            tau2=s.get("tau2", base.tau2),
            ci=s.get("ci", base.ci),
            i2=s.get("i2", base.i2),
            prediction_interval=s.get("prediction_interval", base.prediction_interval),
            n_cases_threshold=s.get("n_cases_threshold", base.n_cases_threshold),
            smd_variance=s.get("smd_variance", base.smd_variance),
            esb_method=esb.get("method", base.esb_method),
            esb_true_effect=esb.get("true_effect", base.esb_true_effect),
            classes=s.get("classes", base.classes),
            personalised={str(k): dict(v or {}) for k, v in (s.get("personalised") or {}).items()},
            grade=GradeSettings.from_config(s.get("grade")),
        )

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
            "tau2": "I² = τ²/(τ² + s²), s² the typical within-study variance (as metafor; Q-based under the "
            "common-effect model)",
        }[self.i2]
        pi = {"t_k_minus_1": "t with k − 1 df", "t_k_minus_2": "t with k − 2 df", "z": "the normal distribution"}[
            self.prediction_interval
        ]
        smd = {
            "escalc": "g = J·d with variance 1/n₁ + 1/n₂ + g²/(2N) (metafor's escalc)",
            "metaumbrella": "g = J·d with variance J²·(1/n₁ + 1/n₂ + d²/(2N)) (metaumbrella)",
        }[self.smd_variance]
        test = {
            "TESSPSST": "the smaller p of TESS and PSST",
            "TESS": "TESS (the proportion of excess significance against 5 %)",
            "PSST": "PSST (the proportion of significant studies against the mean power)",
        }[self.esb_method]
        truth = self.esb_true_effect
        truth_words = {
            "UWLS": "the unrestricted weighted least squares (UWLS) estimate",
            "largest": "the largest study's effect",
            "pooled": "the pooled estimate",
        }.get(str(truth), f"{truth} (given in the configuration; natural scale for ratios)")
        sentences = [
            "Study effect sizes: estimate with SE or CI (log scale for ratios); 2x2 counts as OR, RR or RD with 0.5 "
            "added to every cell of a study only when one of its cells is zero; means and SDs as MD, or as Hedges' "
            f"{smd}, J = Γ(m/2)/(√(m/2)·Γ((m − 1)/2)) the exact small-sample correction, m = n₁ + n₂ − 2. A "
            "Cohen's d (SMD) given with its SE or CI and both group sizes becomes g = J·d with SE J·SE.",
            f"Random-effects model per outcome with τ² by {tau}; confidence interval by {ci}; {i2}; prediction "
            f"interval with {pi}.",
            "Egger's test: weighted regression of the effect on its SE (weights 1/SE²), k ≥ 3. Leave-one-out: the "
            "largest p of the k fits without one study. Largest study: the largest n (ties: the smaller effect; "
            "no n: the smallest SE). Low risk of bias: the share of random-effects weight from studies rated low.",
            f"Excess significance (Stanley et al. 2021, as metaumbrella 1.1 esb.test): {test}, one-sided, with "
            f"{truth_words} as the true effect θ; each study's power 1 − Φ((1.96·SE − |θ|)/√(SE² + τ²)) in the "
            "direction of θ, against the number of studies with p < 0.05. Differences (SMD, G, MD) are tested as "
            "Cohen's d with SE √(1/n₁ + 1/n₂) and p from t with n₁ + n₂ − 2 df, τ² from the g-scale fit.",
        ]
        if self.classes == "personalised":
            sentences.append(
                "Evidence classes by personalised criteria (metaumbrella's Personalized system; thresholds in the "
                "table below): a meta-analysis is in the best of classes I–IV whose every criterion it meets, "
                "with strict comparisons, and in class V when it meets none; a missing input fails its criterion."
            )
        else:
            sentences.append(
                f"Ioannidis classes (Fusar-Poli & Radua 2018): I: more than {self.n_cases_threshold:,} cases, "
                "p < 10⁻⁶, I² < 50 %, prediction interval excluding the null, Egger p > 0.05 and "
                "excess-significance p > 0.05; II: more than the threshold of cases, p < 10⁻⁶ and the largest study "
                "significant in the same direction; III: more than the threshold of cases and p < 10⁻³; IV: "
                "p < 0.05; otherwise ns. A criterion whose inputs are missing is not met and is named."
            )
        g = self.grade
        labels = ", ".join(GRADE_LABELS[g.labels])
        sentences.append(
            "Algorithmic GRADE (metaumbrella 1.1): start high (one level lower when k < 5) and downgrade for risk "
            "of bias (2 below 50 %, 1 below 75 % of the weight at low risk), inconsistency (the CINeMA rule on "
            f"the CI and prediction interval against equivalence ranges OR {g.eq_range_or[0]:g}–{g.eq_range_or[1]:g}"
            f" and g {g.eq_range_g[0]:g} to {g.eq_range_g[1]:g}; otherwise I² ≥ 30 % or 50 % with ≥ 10 % of studies "
            "significant the other way), indirectness (the study_effects column; when absent: "
            f"{g.missing_indirectness.replace('_', ' ')}), imprecision (CI spanning the null and a large effect, "
            "fewer than 394 or 64 cases or controls) and publication bias (Egger or excess-significance p ≤ 0.10); "
            f"missing inputs count as the worst case. Labels: {labels}. Differences are graded on the g scale, "
            "ratios as odds ratios; R and RD are not graded."
        )
        return sentences


# --------------------------------------------------------------------------------------------------------------
# Study effect sizes


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
    m = df["measure"].astype(object).to_numpy()
    f = {c: df[c].to_numpy(dtype=float) if c in df else np.full(len(df), np.nan) for c in _NUMERIC}
    y = np.full(len(df), np.nan)
    v = np.full(len(df), np.nan)
    source = np.full(len(df), "", dtype=object)
    ratio = np.isin(m, list(RATIO_MEASURES))
    g_like = np.isin(m, list(G_LIKE))

    # group sizes: the arms, else (for differences) cases and controls as metaumbrella's sheets give them
    n1 = np.where(np.isfinite(f["n_treat"]), f["n_treat"], np.where(g_like, f["n_cases"], np.nan))
    n2 = np.where(np.isfinite(f["n_control"]), f["n_control"], np.where(g_like, f["n_controls"], np.nan))
    with np.errstate(invalid="ignore", divide="ignore"):
        j = hedges_j(n1 + n2 - 2)
        unit = 1 / n1 + 1 / n2  # the variance of d without its d² term

    # estimate + CI, then estimate + se (later assignments win, so the order is lowest priority first)
    est = np.where(ratio, _log(f["estimate"]), f["estimate"])
    lo, hi = np.where(ratio, _log(f["ci_lower"]), f["ci_lower"]), np.where(ratio, _log(f["ci_upper"]), f["ci_upper"])
    ok = np.isfinite(est) & np.isfinite(lo) & np.isfinite(hi)
    y, v, source = np.where(ok, est, y), np.where(ok, ((hi - lo) / (2 * Z975)) ** 2, v), np.where(ok, "ci", source)
    ok = np.isfinite(est) & np.isfinite(f["se"])
    y, v, source = np.where(ok, est, y), np.where(ok, f["se"] ** 2, v), np.where(ok, "se", source)
    given = np.isfinite(y)

    # means and SDs
    m1, m2, s1, s2 = f["mean_treat"], f["mean_control"], f["sd_treat"], f["sd_control"]
    means = np.isfinite(m1) & np.isfinite(m2) & np.isfinite(s1) & np.isfinite(s2) & np.isfinite(n1) & np.isfinite(n2)
    with np.errstate(invalid="ignore", divide="ignore"):
        sp = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
        # Cohen's d of every difference: from means; from an MD and its SE (MD/SE = t); or the SMD as given
        d = np.where(means, (m1 - m2) / sp, np.where(m == "MD", y * np.sqrt(unit / v), np.where(m == "SMD", y, y / j)))
        g = np.where((m == "G") & ~means, y, j * d)
        if smd_variance == "metaumbrella":
            g_v = j**2 * (unit + d**2 / (2 * (n1 + n2)))
        else:
            g_v = unit + g**2 / (2 * (n1 + n2))
    # a d or g given with its SE keeps that SE (scaled by J for a d)
    g_v = np.where(given & ~means & (m == "SMD"), j**2 * v, np.where(given & ~means & (m == "G"), v, g_v))
    is_md = means & (m == "MD")
    d_to_g = given & ~means & (m == "SMD") & np.isfinite(j)
    is_g = (means & np.isin(m, ["SMD", "G"])) | d_to_g
    y = np.where(is_md, m1 - m2, np.where(is_g, g, y))
    v = np.where(is_md, s1**2 / n1 + s2**2 / n2, np.where(is_g, g_v, v))
    source = np.where(is_md | (means & is_g), "means", np.where(d_to_g, source + ", d as g", source))

    # 2x2 counts
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
    for measure, value, var in (("OR", log_or, v_or), ("RR", log_rr, v_rr), ("RD", rd, v_rd)):
        sel = counts & (m == measure)
        y, v, source = np.where(sel, value, y), np.where(sel, var, v), np.where(sel, "counts", source)

    arms = np.isfinite(f["n_treat"]) & np.isfinite(f["n_control"])
    n = np.where(arms, f["n_treat"] + f["n_control"], f["n_cases"] + f["n_controls"])
    n_cases = np.where(np.isfinite(f["n_cases"]), f["n_cases"], np.where(counts, a + c, f["n_treat"]))
    n_controls = np.where(np.isfinite(f["n_controls"]), f["n_controls"], np.where(counts, b + dd, f["n_control"]))
    keep = g_like & np.isfinite(g) & np.isfinite(g_v)
    return pd.DataFrame(
        {"yi": y, "vi": v, "n": n, "n_cases": n_cases, "n_controls": n_controls, "input": source, "n1": n1,
         "n2": n2, "g": np.where(keep, g, np.nan), "g_v": np.where(keep, g_v, np.nan),
         "d": np.where(keep, d, np.nan)},
        index=df.index,
    )  # fmt: skip


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
    "ci_upper", "p_value", "tau2", "q", "q_p", "i2", "pi_lower", "pi_upper", "egger_t", "egger_p",
    "esb_observed", "esb_expected", "esb_true_effect", "esb_z", "esb_p", "largest_study", "largest_ci_lower",
    "largest_ci_upper", "jk_max_p", "rob_low_pct", "indirectness", "amstar", "g_equiv", "or_equiv", "class",
    "class_notes", "grade", "grade_start", "grade_rob", "grade_inconsistency", "grade_indirectness",
    "grade_imprecision", "grade_publication_bias", "grade_downgrades", "grade_assumed", "converted",
]  # fmt: skip
STUDY_COLUMNS = ["outcome", "review_id", "study_id", "measure", "input", "yi", "vi", "n", "n_cases", "n_controls",
                 "rob"]  # fmt: skip
INDIRECTNESS_ORDER = ("no", "serious", "very_serious")


def _to_natural(x: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    return np.where(ratio, np.exp(x), x)


def reanalyse(study_effects: pd.DataFrame, settings: MetaSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Re-run every meta-analysis of the study-level sheet (one per outcome and review): returns the pooled
    table (:data:`POOLED_COLUMNS`, ratios on the natural scale) and the study effect sizes used."""
    es = study_effect_sizes(study_effects, settings.smd_variance)
    studies = pd.concat([study_effects[["outcome", "review_id", "study_id", "measure"]], es], axis=1)
    for column in ("rob", "indirectness", "amstar"):
        studies[column] = study_effects[column] if column in study_effects else None
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
    row_ratio = studies["measure"].isin(list(RATIO_MEASURES)).to_numpy()
    convertible = ~row_mixed | np.isin(studies["measure"].to_numpy(), ["SMD", "G", *RATIO_MEASURES])
    y = np.where(row_mixed & row_ratio, y / LOGIT_SCALE, y)
    v = np.where(row_mixed & row_ratio, v / LOGIT_SCALE**2, v)
    keep = convertible
    studies, codes, y, v = studies[keep], codes[keep], y[keep], v[keep]
    p, position = pad(codes, y, v, len(keys))
    res = fit(p, settings)
    measure = np.where(mixed, "G", measures.map(lambda m: m[0]).to_numpy())
    ratio = np.isin(measure, list(RATIO_MEASURES))
    rows = np.arange(len(keys))

    def grid(values: np.ndarray, fill: float | object = np.nan) -> np.ndarray:
        out = np.full(p.y.shape, fill, dtype=float if isinstance(fill, float) else object)
        out[codes, position] = values
        return out

    egger_t, egger_p = egger(p)
    tau2 = np.nan_to_num(res["tau2"])
    jk, _ = leave_one_out(p, settings)
    n_grid = grid(studies["n"].to_numpy(dtype=float))
    largest_idx = _largest(p, n_grid)
    ly, lse = p.y[rows, largest_idx], np.sqrt(p.v[rows, largest_idx])

    # Differences on the Hedges' g scale: the fit itself for SMD, G and mixed measures, a second fit for MD.
    g_scale = np.isin(measure, list(G_LIKE))
    is_md = measure == "MD"
    gy = np.where(np.isfinite(studies["g"]), studies["g"], y)
    gv = np.where(np.isfinite(studies["g_v"]), studies["g_v"], v)
    row_md = is_md[codes]
    gy, gv = np.where(row_md, studies["g"], gy), np.where(row_md, studies["g_v"], gv)
    g_fit, g_tau2 = res, tau2
    if is_md.any():
        g_mask = p.mask & np.isfinite(grid(gy)) & np.isfinite(grid(gv))
        g_fit = fit(Padded(np.nan_to_num(grid(gy)), np.where(g_mask, grid(gv), 1.0), g_mask), settings)
        g_fit = {key: np.where(is_md, g_fit[key], res[key]) for key in g_fit}
        g_tau2 = np.nan_to_num(g_fit["tau2"])
    md_incomplete = is_md & (p.mask & ~np.isfinite(grid(gy))).any(axis=1)

    # Excess significance: ratios on their log scale with z; differences as Cohen's d with t (metaumbrella).
    n1 = np.where(np.isfinite(studies["n1"]), studies["n1"], studies["n_cases"])
    n2 = np.where(np.isfinite(studies["n2"]), studies["n2"], studies["n_controls"])
    with np.errstate(invalid="ignore", divide="ignore"):
        imputed = np.round((2 + gy**2 / 4) / gv) * 2  # total n from g and its variance (metaumbrella)
        has_n = np.isfinite(n1) & np.isfinite(n2) & (n1 + n2 > 2)
        n1, n2 = np.where(has_n, n1, np.round(imputed / 2)), np.where(has_n, n2, np.round(imputed / 2))
        test_y = np.where(g_scale[codes], gy / hedges_j(n1 + n2 - 2), y)
        test_se = np.where(g_scale[codes], np.sqrt(1 / n1 + 1 / n2), np.sqrt(v))
        test_df = np.where(g_scale[codes], n1 + n2 - 2, np.inf)
    ty, tse, tdf = grid(test_y), grid(test_se), grid(test_df, np.inf)
    test_mask = p.mask & np.isfinite(ty) & np.isfinite(tse)
    esb_tau2 = 0.0 if settings.tau2 == "FE" else np.where(g_scale, g_tau2, tau2)
    theta = _true_effect(settings.esb_true_effect, ty, tse, test_mask, largest_idx, ratio, g_fit, res)
    esb = excess_significance(ty, tse, tdf, test_mask, np.broadcast_to(esb_tau2, theta.shape), theta,
                              settings.esb_method)  # fmt: skip
    broken = (p.mask & ~test_mask).any(axis=1) | md_incomplete
    esb = {key: np.where(broken, np.nan, value) for key, value in esb.items()}

    # Weights, n, risk of bias, indirectness, AMSTAR
    w = np.where(p.mask, 1 / (p.v + tau2[:, None]), 0.0)
    rob = studies["rob"].astype(object).to_numpy()
    low, rated = grid((rob == "low").astype(float), 0.0), grid(pd.notna(rob).astype(float), 0.0) > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        rob_low = 100 * (w * low * rated).sum(axis=1) / (w * rated).sum(axis=1)
    rob_low = np.where(rated.any(axis=1), rob_low, np.nan)
    level = studies["indirectness"].map({word: i for i, word in enumerate(INDIRECTNESS_ORDER)})
    worst = level.groupby(codes).max().reindex(rows)
    indirectness = worst.map(dict(enumerate(INDIRECTNESS_ORDER))).to_numpy(dtype=object)
    amstar = pd.to_numeric(studies["amstar"], errors="coerce").groupby(codes).first().reindex(rows).to_numpy()
    ids = grid(studies["study_id"].to_numpy(), "")
    sums = studies.groupby(codes)[["n_cases", "n_controls", "n"]].sum(min_count=1).reindex(rows)

    # studies significant against the pooled direction (metaumbrella's perc_contradict)
    with np.errstate(invalid="ignore"):
        study_lo, study_hi = p.y - Z975 * np.sqrt(p.v), p.y + Z975 * np.sqrt(p.v)
        against = np.where((res["estimate"] >= 0)[:, None], study_hi < 0, study_lo >= 0)
    contradict = _sum(against.astype(float), p.mask) / np.maximum(p.k, 1)

    as_g = np.isin(measure, ["SMD", "G"])
    g_equiv = np.where(ratio, res["estimate"] / LOGIT_SCALE, np.where(as_g, res["estimate"], np.nan))
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
        esb_observed=esb["observed"],
        esb_expected=esb["expected"],
        esb_true_effect=np.where(np.isfinite(esb["p"]), _to_natural(theta, ratio), np.nan),
        esb_z=esb["z"],
        esb_p=esb["p"],
        largest_study=ids[rows, largest_idx],
        largest_ci_lower=_to_natural(ly - Z975 * lse, ratio),
        largest_ci_upper=_to_natural(ly + Z975 * lse, ratio),
        jk_max_p=jk,
        rob_low_pct=rob_low,
        indirectness=indirectness,
        amstar=amstar,
        g_equiv=g_equiv,
        or_equiv=np.exp(g_equiv * LOGIT_SCALE),
        converted=np.where(mixed, "mixed measures pooled as equivalent g", ""),
    )
    if settings.classes == "personalised":
        classes = personalised(out, settings.personalised)
    else:
        classes = ioannidis(out, settings.n_cases_threshold)
    out["class"], out["class_notes"] = classes["class"], classes["notes"]
    kind = np.where(ratio, "or", np.where(g_scale, "g", ""))
    on_scale = pd.DataFrame(
        {
            "kind": kind,
            **{
                col: np.where(ratio, _to_natural(res[col], ratio), np.where(g_scale, g_fit[col], np.nan))
                for col in ("ci_lower", "ci_upper", "pi_lower", "pi_upper")
            },
        }
    )
    out = pd.concat([out, grade(out, on_scale, contradict, settings.grade)], axis=1)
    for col in ("n_cases", "n_controls", "n_total", "esb_observed"):
        out[col] = out[col].round().astype("Int64")
    return out[POOLED_COLUMNS], studies


def _true_effect(
    choice: str | float, ty: np.ndarray, tse: np.ndarray, mask: np.ndarray, largest_idx: np.ndarray,
    ratio: np.ndarray, g_fit: Mapping[str, np.ndarray], fit_result: Mapping[str, np.ndarray],
) -> np.ndarray:  # fmt: skip
    """θ of the excess-significance test on the test's scale (log for ratios, Cohen's d for differences):
    the UWLS estimate Σ(y/SE²)/Σ(1/SE²) (Stanley & Doucouliagos), the largest study, the pooled estimate, or a
    number (natural scale for ratios)."""
    rows = np.arange(len(ty))
    with np.errstate(invalid="ignore", divide="ignore"):
        if choice == "UWLS":
            w = np.where(mask, 1 / tse**2, 0.0)
            return (w * np.where(mask, ty, 0.0)).sum(axis=1) / w.sum(axis=1)
        if choice == "largest":
            return ty[rows, largest_idx]
        if choice == "pooled":
            return np.where(ratio, fit_result["estimate"], g_fit["estimate"])
        number = float(choice)
        return np.where(ratio, np.log(number) if number > 0 else np.nan, number)


def _largest(p: Padded, n: np.ndarray) -> np.ndarray:
    """Column of the largest study per row: largest n; ties to the smaller |effect|; without n, smallest SE."""
    has_n = np.isfinite(n) & p.mask
    big = np.where(has_n, n, -np.inf)
    best_n = big.max(axis=1)
    tie = has_n & (big == best_n[:, None])
    by_n = np.argmin(np.where(tie, np.abs(p.y), np.inf), axis=1)
    by_se = np.argmin(np.where(p.mask, p.v, np.inf), axis=1)
    return np.where(has_n.any(axis=1), by_n, by_se)
