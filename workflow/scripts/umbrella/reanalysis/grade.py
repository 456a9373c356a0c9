"""Algorithmic GRADE of re-analysed meta-analyses, as metaumbrella 1.1.0 ``add.evidence(criteria = "GRADE")``
(Gosling et al.), with the CINeMA rule for inconsistency (Nikolakopoulou et al. 2020), vectorised over the rows of
a pooled table (see :data:`umbrella.reanalysis.analysis.POOLED_COLUMNS`).

Start at High, one level lower when k < 5, and go down by five domains, each a function here with the downgrade in
a column of its own: risk of bias, inconsistency, indirectness, imprecision and publication bias. Ratios are
graded as odds ratios on their natural scale, differences on the Hedges' g scale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from umbrella.reanalysis.pooled_values import join_notes, numeric, p_words

GRADE_LABELS = {
    "metaumbrella": ("High", "Moderate", "Weak", "Very weak"),
    "grade": ("High", "Moderate", "Low", "Very low"),
}
INDIRECTNESS = {"no": 0, "serious": 1, "very_serious": 2}


@dataclass(frozen=True)
class GradeSettings:
    """Conventions of the algorithmic GRADE (config ``reanalysis.grade``)."""

    labels: str = "metaumbrella"
    eq_range_or: tuple[float, float] = (0.8, 1.25)
    eq_range_g: tuple[float, float] = (-0.10, 0.10)
    missing_indirectness: str = "very_serious"

    @classmethod
    def from_config(cls, settings: Mapping | None) -> GradeSettings:
        s = dict(settings or {})
        base = cls()
        return cls(
            labels=s.get("labels", base.labels),
            eq_range_or=tuple(s.get("eq_range_or", base.eq_range_or)),
            eq_range_g=tuple(s.get("eq_range_g", base.eq_range_g)),
            missing_indirectness=s.get("missing_indirectness", base.missing_indirectness),
        )


GRADE_DOMAINS = (
    ("grade_rob", "risk of bias"),
    ("grade_inconsistency", "inconsistency"),
    ("grade_indirectness", "indirectness"),
    ("grade_imprecision", "imprecision"),
    ("grade_publication_bias", "publication bias"),
)


def _inconsistency_cinema(
    lo: np.ndarray, hi: np.ndarray, plo: np.ndarray, phi: np.ndarray, null: np.ndarray, eq_lo: np.ndarray,
    eq_hi: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Downgrade 0/1/2 from where the CI and the prediction interval lie against the null and the equivalence
    range (the CINeMA table; metaumbrella 1.1's rule order); NaN where no rule applies."""
    low_ci_in = (lo < null) & (lo >= eq_lo)
    low_pi_in = (plo < null) & (plo >= eq_lo)
    up_ci_in = (hi >= null) & (hi <= eq_hi)
    up_pi_in = (phi >= null) & (phi <= eq_hi)
    low_ci_pos, low_pi_pos = lo >= null, plo >= null
    up_ci_neg, up_pi_neg = hi < null, phi < null
    low_ci_out, low_pi_out = lo < eq_lo, plo < eq_lo
    up_ci_out, up_pi_out = hi > eq_hi, phi > eq_hi
    rules = [  # (condition, downgrade), first match wins
        ((low_ci_in & low_pi_out) & (up_ci_in & up_pi_out), 2),
        ((low_ci_pos & low_pi_out) | (up_ci_neg & up_pi_out), 2),
        ((low_ci_in & low_pi_out) | (up_ci_in & up_pi_out), 1),
        ((low_ci_pos & low_pi_in) | (up_ci_neg & up_pi_in), 1),
        ((low_ci_pos & low_pi_pos) | (up_ci_neg & up_pi_neg), 0),
        ((low_ci_in & low_pi_in) | (up_ci_in & up_pi_in), 0),
        ((low_ci_out & low_pi_out) | (up_ci_out & up_pi_out), 0),
    ]
    return np.select([c for c, _ in rules], [float(d) for _, d in rules], np.nan)


def grade(pooled: pd.DataFrame, scale: pd.DataFrame, contradict: np.ndarray, settings: GradeSettings) -> pd.DataFrame:
    """Algorithmic GRADE as metaumbrella 1.1.0 ``add.evidence(criteria = "GRADE")``.

    Start at High, one level lower when k < 5, and go down by the sum of five domains: risk of bias (0 when at
    least 75 % of the random-effects weight is at low risk, 1 from 50 %, else 2), inconsistency (the CINeMA
    rule on the CI and prediction interval against the equivalence range; where it cannot decide, 2 when I² ≥
    50 % and at least 10 % of the studies are significant the other way, 1 from I² ≥ 30 %), indirectness (no /
    serious / very serious: 0/1/2), imprecision (2 when the CI spans the null and a large effect — g 0.8, OR 5
    or 0.2 — with fewer than 394 cases or controls, or with fewer than 64; 1 for one of the first two) and
    publication bias (1 when Egger p or excess-significance p ≤ 0.10). Missing inputs count as the worst
    case (risk of bias, imprecision, inconsistency 2; publication bias 1; indirectness as configured) and are
    listed in ``grade_assumed``.

    ``scale`` gives, per row, the ``kind`` ("or", "g" or "" for measures GRADE does not cover: R, RD) and the
    CI and PI (``ci_lower``, ``ci_upper``, ``pi_lower``, ``pi_upper``) on that scale (OR natural, g);
    ``contradict`` the share of studies significant against the pooled direction."""
    intervals = GradingIntervals.of(scale, settings)
    start = (numeric(pooled, "k") < 5).astype(int)
    domains = {
        "grade_rob": _risk_of_bias(pooled),
        "grade_inconsistency": _inconsistency(pooled, intervals, contradict),
        "grade_indirectness": _indirectness(pooled, settings.missing_indirectness),
        "grade_imprecision": _imprecision(pooled, intervals),
        "grade_publication_bias": _publication_bias(pooled),
    }
    downgrades = {col: domain.downgrade for col, domain in domains.items()}
    total = start + sum(downgrades.values())
    labels = np.array(GRADE_LABELS[settings.labels], dtype=object)[np.minimum(total, 3)]
    out = pd.DataFrame(
        {
            "grade": np.where(intervals.graded, labels, None),
            "grade_start": np.where(intervals.graded, start, -1),
            **{col: np.where(intervals.graded, d, -1) for col, d in downgrades.items()},
            "grade_downgrades": np.where(
                intervals.graded,
                join_notes(_downgrade_words(domains, start)),
                "not graded: GRADE covers ratios and mean differences",
            ),
            "grade_assumed": join_notes(_assumed_words(domains, intervals.graded)),
        },
        index=pooled.index,
    )
    for col in ("grade_start", *domains):
        out[col] = pd.array(np.where(intervals.graded, out[col], pd.NA), dtype="Int64")
    return out


@dataclass(frozen=True)
class GradingIntervals:
    """Per row, GRADE's scale (odds ratio, natural; or g), whether the row is graded at all, its CI and
    prediction interval on that scale, the null and the equivalence range."""

    is_or: np.ndarray
    graded: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    plo: np.ndarray
    phi: np.ndarray
    null: np.ndarray
    eq_lo: np.ndarray
    eq_hi: np.ndarray

    @classmethod
    def of(cls, scale: pd.DataFrame, settings: GradeSettings) -> GradingIntervals:
        kind = scale["kind"].to_numpy()
        is_or = kind == "or"
        return cls(
            is_or=is_or,
            graded=kind != "",
            lo=numeric(scale, "ci_lower"),
            hi=numeric(scale, "ci_upper"),
            plo=numeric(scale, "pi_lower"),
            phi=numeric(scale, "pi_upper"),
            null=np.where(is_or, 1.0, 0.0),
            eq_lo=np.where(is_or, settings.eq_range_or[0], settings.eq_range_g[0]),
            eq_hi=np.where(is_or, settings.eq_range_or[1], settings.eq_range_g[1]),
        )


@dataclass(frozen=True)
class Domain:
    """One GRADE domain per row: the downgrade, the reason in words, and where the worst case was assumed
    for a missing input (``assumed``, with the words ``assumed_words``)."""

    downgrade: np.ndarray
    reasons: list[str]
    assumed: np.ndarray | None = None
    assumed_words: str = ""


def _risk_of_bias(pooled: pd.DataFrame) -> Domain:
    """0 when at least 75 % of the weight is at low risk, 1 from 50 %, else (or unrated) 2."""
    rob = numeric(pooled, "rob_low_pct")
    return Domain(
        downgrade=np.select([rob >= 75, rob >= 50], [0, 1], 2),
        reasons=[f"{x:.0f} % of the weight at low risk" if np.isfinite(x) else "no study rated" for x in rob],
        assumed=~np.isfinite(rob),
        assumed_words="risk of bias not rated: very serious (−2)",
    )


def _inconsistency(pooled: pd.DataFrame, intervals: GradingIntervals, contradict: np.ndarray) -> Domain:
    """The CINeMA rule where the CI and prediction interval decide; else from I² and the share of studies
    significant the other way (2 when I² ≥ 50 % and that share ≥ 10 %, 1 from I² ≥ 30 %; without I², 2 from the
    share alone)."""
    lo, hi, plo, phi = intervals.lo, intervals.hi, intervals.plo, intervals.phi
    has_pi = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(plo) & np.isfinite(phi)
    cinema = _inconsistency_cinema(lo, hi, plo, phi, intervals.null, intervals.eq_lo, intervals.eq_hi)
    d_inc = np.where(has_pi, cinema, np.nan)
    i2 = numeric(pooled, "i2")
    with np.errstate(invalid="ignore"):
        against = contradict >= 0.10
    by_i2 = np.select([(i2 >= 50) & against, (i2 >= 30) & against], [2.0, 1.0], 0.0)
    fallback = np.where(np.isfinite(i2), by_i2, np.where(against, 2.0, 0.0))
    decided = has_pi & np.isfinite(cinema)
    reasons = [
        f"CI {_signed(lo[i])} to {_signed(hi[i])}, prediction interval {_signed(plo[i])} to {_signed(phi[i])}, "
        f"equivalence range {_signed(intervals.eq_lo[i])} to {_signed(intervals.eq_hi[i])}"
        if decided[i]
        else f"I² {i2[i]:.0f} %, {contradict[i]:.0%} of studies significant the other way"
        for i in range(len(pooled))
    ]
    return Domain(np.where(np.isfinite(d_inc), d_inc, fallback).astype(int), reasons)


def _indirectness(pooled: pd.DataFrame, missing: str) -> Domain:
    """no / serious / very serious: 0/1/2; ``missing`` where the column gives none."""
    n = len(pooled)
    indirect = pooled["indirectness"] if "indirectness" in pooled else pd.Series([None] * n, index=pooled.index)
    missing_ind = indirect.isna().to_numpy()
    d_ind = indirect.fillna(missing).map(INDIRECTNESS).to_numpy(dtype=int)
    return Domain(
        downgrade=d_ind,
        reasons=[
            ("very serious" if d == 2 else "serious") + (", assumed" if missing_ind[i] else "")
            for i, d in enumerate(d_ind)
        ],
        assumed=missing_ind,
        assumed_words=f"indirectness not given: {missing.replace('_', ' ')} (−{INDIRECTNESS[missing]})",
    )


def _imprecision(pooled: pd.DataFrame, intervals: GradingIntervals) -> Domain:
    """2 when the CI spans the null and a large effect (g ±0.8, OR 0.2 or 5) with fewer than 394 cases or
    controls, or with fewer than 64; 1 for one of the first two; 2 without cases, controls or CI. IRR halves
    the cases (metaumbrella)."""
    cases, controls = numeric(pooled, "n_cases"), numeric(pooled, "n_controls")
    irr = pooled["measure"].to_numpy() == "IRR"
    cases, controls = np.where(irr, cases / 2, cases), np.where(irr, cases / 2, controls)
    lo, hi, null = intervals.lo, intervals.hi, intervals.null
    big_lo, big_hi = np.where(intervals.is_or, 0.2, -0.8), np.where(intervals.is_or, 5.0, 0.8)
    spans = ((lo <= null) & (hi >= big_hi)) | ((lo <= big_lo) & (hi >= null))
    few = (cases < 394) | (controls < 394)
    very_few = (cases < 64) | (controls < 64)
    d_imp = np.select([spans & few, very_few, spans | few], [2, 2, 1], 0)
    no_n = ~(np.isfinite(cases) & np.isfinite(controls))
    reasons = [
        f"{cases[i]:,.0f} cases, {controls[i]:,.0f} controls"
        + ("; CI spans the null and a large effect" if spans[i] else "")
        if not no_n[i]
        else "cases or controls not given"
        for i in range(len(pooled))
    ]  # fmt: skip
    return Domain(
        downgrade=np.where(no_n | ~(np.isfinite(lo) & np.isfinite(hi)), 2, d_imp),
        reasons=reasons,
        assumed=no_n,
        assumed_words="cases or controls not given: very serious imprecision (−2)",
    )


def _publication_bias(pooled: pd.DataFrame) -> Domain:
    """1 when Egger p or excess-significance p ≤ 0.10, or when neither test could be run."""
    egger_p, esb_p = numeric(pooled, "egger_p"), numeric(pooled, "esb_p")
    k = numeric(pooled, "k")
    untested = ~np.isfinite(egger_p) & ~np.isfinite(esb_p)
    return Domain(
        downgrade=np.where(untested, 1, ((egger_p <= 0.10) | (esb_p <= 0.10)).astype(int)),
        reasons=[
            f"Egger p {_egger_words(egger_p[i], k[i])}, excess-significance p {p_words(esb_p[i])}"
            for i in range(len(pooled))
        ],
        assumed=untested,
        assumed_words="no small-study or excess-significance test: publication bias suspected (−1)",
    )


def _egger_words(p: float, k: float) -> str:
    """Egger's p in words; with 3 or more studies and no p, the test is undefined: its regression fits the
    studies exactly (e.g. two of three identical) or all studies have the same SE (see ``bias_tests.egger``)."""
    if not np.isfinite(p) and np.isfinite(k) and k >= 3:
        return "undefined (its regression fits the studies exactly, or all have the same SE)"
    return p_words(p)


def _signed(x: float) -> str:
    return f"{x:.2f}".replace("-", "\u2212")


def _downgrade_words(domains: Mapping[str, Domain], start: np.ndarray) -> list[list[str]]:
    """Per row, each domain that downgrades, by how much and why, then a lower start when k < 5."""
    return [
        [
            f"{name} −{int(domains[col].downgrade[i])} ({domains[col].reasons[i]})"
            for col, name in GRADE_DOMAINS
            if domains[col].downgrade[i] > 0
        ]
        + (["k < 5: start one level lower"] if start[i] else [])
        for i in range(len(start))
    ]


def _assumed_words(domains: Mapping[str, Domain], graded: np.ndarray) -> list[list[str]]:
    """Per graded row, the worst cases assumed for missing inputs, in the order of the domains."""
    assumed: list[list[str]] = [[] for _ in range(len(graded))]
    for domain in domains.values():
        if domain.assumed is not None:
            for i in np.flatnonzero(domain.assumed & graded):
                assumed[i].append(domain.assumed_words)
    return assumed
