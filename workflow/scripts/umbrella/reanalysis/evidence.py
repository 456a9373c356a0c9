"""Evidence classes and algorithmic GRADE of re-analysed meta-analyses, as metaumbrella 1.1 `add.evidence`.

Three systems, each vectorised over the rows of a pooled table (see
:data:`umbrella.reanalysis.analysis.POOLED_COLUMNS`):

* :func:`ioannidis`: classes I–IV and ns (Fusar-Poli & Radua 2018, "Ten simple rules for conducting umbrella
  reviews"), with every criterion whose inputs are missing named instead of silently failed;
* :func:`personalised`: the user's thresholds per class I–IV on 13 criteria, class V when none is met;
* :func:`grade`: GRADE reached algorithmically (Gosling et al., metaumbrella 1.1.0, with the CINeMA rule for
  inconsistency), with the downgrade of each domain in a column of its own.

Ratios are compared on their natural scale, differences on the Hedges' g scale, as metaumbrella does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from umbrella.core.vocabulary import RATIO_MEASURES

G_LIKE = frozenset({"SMD", "G", "MD"})
IOANNIDIS_CLASSES = ("I", "II", "III", "IV", "ns")
PERSONALISED_CLASSES = ("I", "II", "III", "IV", "V")
GRADE_LABELS = {
    "metaumbrella": ("High", "Moderate", "Weak", "Very weak"),
    "grade": ("High", "Moderate", "Low", "Very low"),
}
INDIRECTNESS = {"no": 0, "serious": 1, "very_serious": 2}

# Personalised criteria: name -> (kind, words). "above": value > threshold passes; "below": value < threshold;
# "notnull": the interval must exclude the null.
CRITERIA: dict[str, tuple[str, str]] = {
    "n_studies": ("above", "number of studies"),
    "total_n": ("above", "participants"),
    "n_cases": ("above", "cases"),
    "p_value": ("below", "p-value"),
    "I2": ("below", "I² (%)"),
    "imprecision": ("power", "power to detect this SMD > 80 %"),
    "rob": ("above", "weight at low risk of bias (%)"),
    "amstar": ("above", "AMSTAR score"),
    "egger_p": ("above", "Egger p"),
    "esb_p": ("above", "excess-significance p"),
    "JK_p": ("below", "largest leave-one-out p"),
    "pi": ("notnull", "prediction interval excludes the null"),
    "largest_CI": ("notnull", "largest study's CI excludes the null"),
}


def _num(df: pd.DataFrame, column: str) -> np.ndarray:
    if column not in df:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)


def _null(ratio: np.ndarray) -> np.ndarray:
    return np.where(ratio, 1.0, 0.0)


def excludes_null(lower: np.ndarray, upper: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """Whether [lower, upper] lies wholly on one side of the null (1 for ratios, 0 otherwise)."""
    null = _null(ratio)
    return ((lower > null) & (upper > null)) | ((lower < null) & (upper < null))


def _p_words(p: float) -> str:
    if not np.isfinite(p):
        return "not computed"
    return f"{p:.3f}" if p >= 0.001 else "< 0.001"


def _join(parts_per_row: list[list[str]]) -> list[str]:
    return ["; ".join(parts) for parts in parts_per_row]


# --------------------------------------------------------------------------------------------------------------
# Ioannidis


def ioannidis(pooled: pd.DataFrame, threshold: int = 1000) -> pd.DataFrame:
    """Class I–IV or ns (Fusar-Poli & Radua 2018) and the criteria of classes I–III that could not be assessed.

    I: more than ``threshold`` cases, p < 10⁻⁶, I² < 50 %, a prediction interval excluding the null, Egger p >
    0.05 and excess-significance p > 0.05; II: more than the threshold of cases, p < 10⁻⁶ and the largest
    study's CI excluding the null on the pooled side; III: more than the threshold of cases and p < 10⁻³;
    IV: p < 0.05; ns otherwise. A criterion whose inputs are missing is not met, and it is named in ``notes``
    (metaumbrella counts missing cases as 0 with a warning, which gives the same class)."""
    ratio = pooled["measure"].isin(list(RATIO_MEASURES)).to_numpy()
    p = _num(pooled, "p_value")
    cases = _num(pooled, "n_cases")
    i2 = _num(pooled, "i2")
    pi_lo, pi_hi = _num(pooled, "pi_lower"), _num(pooled, "pi_upper")
    egger_p, esb_p = _num(pooled, "egger_p"), _num(pooled, "esb_p")
    llo, lhi = _num(pooled, "largest_ci_lower"), _num(pooled, "largest_ci_upper")
    lo, hi = _num(pooled, "ci_lower"), _num(pooled, "ci_upper")
    same_side = np.sign(llo - _null(ratio)) == np.sign(lo - _null(ratio))
    criteria = {  # name -> (met, assessable, words)
        "cases": (cases > threshold, np.isfinite(cases), f"cases > {threshold:,}"),
        "p6": (p < 1e-6, np.isfinite(p), "p"),
        "p3": (p < 1e-3, np.isfinite(p), "p"),
        "i2": (i2 < 50, np.isfinite(i2), "I²"),
        "pi": (excludes_null(pi_lo, pi_hi, ratio), np.isfinite(pi_lo) & np.isfinite(pi_hi), "prediction interval"),
        "egger": (egger_p > 0.05, np.isfinite(egger_p), "Egger"),
        "esb": (esb_p > 0.05, np.isfinite(esb_p), "excess significance"),
        "largest": (
            excludes_null(llo, lhi, ratio) & same_side & excludes_null(lo, hi, ratio),
            np.isfinite(llo) & np.isfinite(lhi),
            "largest study",
        ),
    }

    def all_met(names: list[str]) -> np.ndarray:
        return np.logical_and.reduce([criteria[n][0] & criteria[n][1] for n in names])

    needs = {"I": ["cases", "p6", "i2", "pi", "egger", "esb"], "II": ["cases", "p6", "largest"], "III": ["cases", "p3"]}
    c4 = np.isfinite(p) & (p < 0.05)
    label = np.select([*(all_met(names) for names in needs.values()), c4], ["I", "II", "III", "IV"], "ns")
    missing = {name: [criteria[n] for n in names] for name, names in needs.items()}
    notes = _blocking(label, missing, ("I", "II", "III", "IV", "ns"))
    return pd.DataFrame({"class": label, "notes": _join(notes)}, index=pooled.index)


def _blocking(
    label: np.ndarray, needs: Mapping[str, list[tuple]], order: tuple[str, ...]
) -> list[list[str]]:  # fmt: skip
    """Per row, the criteria that could not be assessed in a class better than the one reached and whose
    other criteria were all met: the missing inputs that cost the row that class."""
    rank = {c: i for i, c in enumerate(order)}
    notes: list[list[str]] = [[] for _ in range(len(label))]
    for cls, criteria in needs.items():
        blocked = np.logical_and.reduce([met | ~ok for met, ok, *_ in criteria])
        for i in np.flatnonzero(blocked):
            if rank[cls] < rank[str(label[i])]:
                for _, ok, words in criteria:
                    if not ok[i] and words not in notes[i]:
                        notes[i].append(words)
    return notes


# --------------------------------------------------------------------------------------------------------------
# Personalised


def power_d(n1: np.ndarray, n2: np.ndarray, d: float) -> np.ndarray:
    """Power of a two-sided two-sample t test at α = 0.05 to detect a standardised difference ``d`` with group
    sizes n1 and n2 (non-central t with n1 + n2 − 2 df; as metaumbrella's imprecision criterion, after
    the `pwr` package)."""
    n1, n2 = np.asarray(n1, dtype=float), np.asarray(n2, dtype=float)
    df = n1 + n2 - 2
    ok = np.isfinite(df) & (df > 0) & (n1 > 0) & (n2 > 0)
    df_, n1_, n2_ = np.where(ok, df, 1.0), np.where(ok, n1, 1.0), np.where(ok, n2, 1.0)
    ncp = d / np.sqrt(1 / n1_ + 1 / n2_)
    crit = stats.t.ppf(0.975, df_)
    power = stats.nct.sf(crit, df_, ncp) + stats.nct.cdf(-crit, df_, ncp)
    return np.where(ok, np.minimum(power, 1.0), np.nan)


def personalised(pooled: pd.DataFrame, thresholds: Mapping[str, Mapping[str, object]]) -> pd.DataFrame:
    """Class I–V under the user's criteria (metaumbrella's "Personalized" system).

    ``thresholds`` maps a class ("I" … "IV") to {criterion: threshold} (:data:`CRITERIA`). A meta-analysis is
    in the best class all of whose criteria it meets, with strict comparisons (``n_studies``, ``total_n``,
    ``n_cases``, ``rob``, ``amstar``, ``egger_p``, ``esb_p`` must be above, ``p_value``, ``I2``, ``JK_p`` below
    the threshold; ``imprecision`` the power to detect that SMD must exceed 80 %; ``pi`` and ``largest_CI`` must
    exclude the null); class V when it meets no class. A missing input fails its criterion (conservatively,
    as metaumbrella does) and is named in ``notes``."""
    ratio = pooled["measure"].isin(list(RATIO_MEASURES)).to_numpy()
    measure = pooled["measure"].astype(str).to_numpy()
    n_cases, n_controls, n_total = _num(pooled, "n_cases"), _num(pooled, "n_controls"), _num(pooled, "n_total")
    lo, hi = _num(pooled, "ci_lower"), _num(pooled, "ci_upper")
    llo, lhi = _num(pooled, "largest_ci_lower"), _num(pooled, "largest_ci_upper")
    opposite = excludes_null(llo, lhi, ratio) & excludes_null(lo, hi, ratio)
    opposite &= np.sign(llo - _null(ratio)) != np.sign(lo - _null(ratio))
    values = {
        "n_studies": _num(pooled, "k"),
        "total_n": n_total,
        "n_cases": n_cases,
        "p_value": _num(pooled, "p_value"),
        "I2": _num(pooled, "i2"),
        "rob": _num(pooled, "rob_low_pct"),
        "amstar": _num(pooled, "amstar"),
        "egger_p": _num(pooled, "egger_p"),
        "esb_p": _num(pooled, "esb_p"),
        "JK_p": _num(pooled, "jk_max_p"),
    }
    # groups of the power calculation: IRR halves the cases (metaumbrella), R the total
    half_cases = measure == "IRR"
    by_total = measure == "R"
    group1 = np.where(half_cases, n_cases / 2, np.where(by_total, n_total / 2, n_cases))
    group2 = np.where(half_cases, n_cases / 2, np.where(by_total, n_total / 2, n_controls))

    def check(name: str, threshold: object) -> tuple[np.ndarray, np.ndarray]:
        kind = CRITERIA[name][0]
        if kind == "notnull":
            if name == "pi":
                plo, phi = _num(pooled, "pi_lower"), _num(pooled, "pi_upper")
                return excludes_null(plo, phi, ratio), np.isfinite(plo) & np.isfinite(phi)
            return excludes_null(llo, lhi, ratio) & ~opposite, np.isfinite(llo) & np.isfinite(lhi)
        if kind == "power":
            power = power_d(group1, group2, float(threshold))
            return power > 0.80, np.isfinite(power)
        x = values[name]
        met = x > float(threshold) if kind == "above" else x < float(threshold)
        return met, np.isfinite(x)

    n = len(pooled)
    label = np.full(n, "V", dtype=object)
    decided = np.zeros(n, dtype=bool)
    needs: dict[str, list[tuple]] = {}
    for cls in PERSONALISED_CLASSES[:4]:
        rules = thresholds.get(cls) or {}
        if not rules:
            continue
        needs[cls] = []
        for name, threshold in rules.items():
            ok, assessable = check(name, threshold)
            needs[cls].append((ok & assessable, assessable, f"{CRITERIA[name][1]}: missing, not met"))
        met = np.logical_and.reduce([m for m, _, _ in needs[cls]])
        label = np.where(~decided & met, cls, label)
        decided |= met
    notes = _blocking(label, needs, PERSONALISED_CLASSES)
    return pd.DataFrame({"class": label, "notes": _join(notes)}, index=pooled.index)


def criteria_table(thresholds: Mapping[str, Mapping[str, object]]) -> list[dict[str, str]]:
    """The personalised criteria as rows (criterion, its rule, and the threshold per class) for the report."""
    rows = []
    for name, (kind, words) in CRITERIA.items():
        cells = {cls: (thresholds.get(cls) or {}).get(name) for cls in PERSONALISED_CLASSES[:4]}
        if all(v is None for v in cells.values()):
            continue
        sign = {"above": ">", "below": "<", "power": "power > 80 % at SMD", "notnull": ""}[kind]
        rows.append(
            {
                "criterion": words,
                **{
                    cls: "–" if v is None else ("required" if kind == "notnull" else f"{sign} {v}".strip())
                    for cls, v in cells.items()
                },
            }
        )
    return rows


# --------------------------------------------------------------------------------------------------------------
# GRADE


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
    n = len(pooled)
    kind = scale["kind"].to_numpy()
    is_or = kind == "or"
    graded = kind != ""
    lo, hi = _num(scale, "ci_lower"), _num(scale, "ci_upper")
    plo, phi = _num(scale, "pi_lower"), _num(scale, "pi_upper")
    null = np.where(is_or, 1.0, 0.0)
    eq_lo = np.where(is_or, settings.eq_range_or[0], settings.eq_range_g[0])
    eq_hi = np.where(is_or, settings.eq_range_or[1], settings.eq_range_g[1])
    assumed: list[list[str]] = [[] for _ in range(n)]

    def note(mask: np.ndarray, text: str) -> None:
        for i in np.flatnonzero(mask & graded):
            assumed[i].append(text)

    k = _num(pooled, "k")
    start = (k < 5).astype(int)

    rob = _num(pooled, "rob_low_pct")
    d_rob = np.select([rob >= 75, rob >= 50], [0, 1], 2)
    note(~np.isfinite(rob), "risk of bias not rated: very serious (−2)")

    has_pi = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(plo) & np.isfinite(phi)
    d_inc = np.where(has_pi, _inconsistency_cinema(lo, hi, plo, phi, null, eq_lo, eq_hi), np.nan)
    i2 = _num(pooled, "i2")
    with np.errstate(invalid="ignore"):
        against = contradict >= 0.10
    by_i2 = np.select([(i2 >= 50) & against, (i2 >= 30) & against], [2.0, 1.0], 0.0)
    fallback = np.where(np.isfinite(i2), by_i2, np.where(against, 2.0, 0.0))
    d_inc = np.where(np.isfinite(d_inc), d_inc, fallback).astype(int)

    indirect = pooled["indirectness"] if "indirectness" in pooled else pd.Series([None] * n, index=pooled.index)
    missing_ind = indirect.isna().to_numpy()
    d_ind = indirect.fillna(settings.missing_indirectness).map(INDIRECTNESS).to_numpy(dtype=int)
    word = settings.missing_indirectness.replace("_", " ")
    note(missing_ind, f"indirectness not given: {word} (−{INDIRECTNESS[settings.missing_indirectness]})")

    cases, controls = _num(pooled, "n_cases"), _num(pooled, "n_controls")
    irr = pooled["measure"].to_numpy() == "IRR"
    cases, controls = np.where(irr, cases / 2, cases), np.where(irr, cases / 2, controls)
    big_lo, big_hi = np.where(is_or, 0.2, -0.8), np.where(is_or, 5.0, 0.8)
    spans = ((lo <= null) & (hi >= big_hi)) | ((lo <= big_lo) & (hi >= null))
    few = (cases < 394) | (controls < 394)
    very_few = (cases < 64) | (controls < 64)
    d_imp = np.select([spans & few, very_few, spans | few], [2, 2, 1], 0)
    no_n = ~(np.isfinite(cases) & np.isfinite(controls))
    d_imp = np.where(no_n | ~(np.isfinite(lo) & np.isfinite(hi)), 2, d_imp)
    note(no_n, "cases or controls not given: very serious imprecision (−2)")

    egger_p, esb_p = _num(pooled, "egger_p"), _num(pooled, "esb_p")
    d_pub = ((egger_p <= 0.10) | (esb_p <= 0.10)).astype(int)
    untested = ~np.isfinite(egger_p) & ~np.isfinite(esb_p)
    d_pub = np.where(untested, 1, d_pub)
    note(untested, "no small-study or excess-significance test: publication bias suspected (−1)")

    domains = {"grade_rob": d_rob, "grade_inconsistency": d_inc, "grade_indirectness": d_ind,
               "grade_imprecision": d_imp, "grade_publication_bias": d_pub}  # fmt: skip
    total = start + sum(domains.values())
    labels = np.array(GRADE_LABELS[settings.labels], dtype=object)[np.minimum(total, 3)]

    def fmt(x: float) -> str:
        return f"{x:.2f}".replace("-", "\u2212")

    cinema = has_pi & np.isfinite(_inconsistency_cinema(lo, hi, plo, phi, null, eq_lo, eq_hi))
    reasons = {
        "grade_rob": [f"{x:.0f} % of the weight at low risk" if np.isfinite(x) else "no study rated" for x in rob],
        "grade_inconsistency": [
            f"CI {fmt(lo[i])} to {fmt(hi[i])}, prediction interval {fmt(plo[i])} to {fmt(phi[i])}, equivalence "
            f"range {fmt(eq_lo[i])} to {fmt(eq_hi[i])}"
            if cinema[i]
            else f"I² {i2[i]:.0f} %, {contradict[i]:.0%} of studies significant the other way"
            for i in range(n)
        ],
        "grade_indirectness": [
            ("very serious" if d == 2 else "serious") + (", assumed" if missing_ind[i] else "")
            for i, d in enumerate(d_ind)
        ],
        "grade_imprecision": [
            f"{cases[i]:,.0f} cases, {controls[i]:,.0f} controls"
            + ("; CI spans the null and a large effect" if spans[i] else "")
            if not no_n[i]
            else "cases or controls not given"
            for i in range(n)
        ],  # fmt: skip
        "grade_publication_bias": [
            f"Egger p {_p_words(egger_p[i])}, excess-significance p {_p_words(esb_p[i])}" for i in range(n)
        ],
    }
    words = [
        [f"{name} −{int(domains[col][i])} ({reasons[col][i]})" for col, name in GRADE_DOMAINS if domains[col][i] > 0]
        + (["k < 5: start one level lower"] if start[i] else [])
        for i in range(n)
    ]
    out = pd.DataFrame(
        {
            "grade": np.where(graded, labels, None),
            "grade_start": np.where(graded, start, -1),
            **{col: np.where(graded, d, -1) for col, d in domains.items()},
            "grade_downgrades": np.where(graded, _join(words), "not graded: GRADE covers ratios and mean differences"),
            "grade_assumed": _join(assumed),
        },
        index=pooled.index,
    )
    for col in ("grade_start", *domains):
        out[col] = pd.array(np.where(graded, out[col], pd.NA), dtype="Int64")
    return out
