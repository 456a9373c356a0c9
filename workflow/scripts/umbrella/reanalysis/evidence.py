"""Evidence classes of re-analysed meta-analyses, as metaumbrella 1.1 `add.evidence`.

Three systems, each vectorised over the rows of a pooled table (see
:data:`umbrella.reanalysis.analysis.POOLED_COLUMNS`); the first two are here:

* :func:`ioannidis`: classes I–IV and ns (Fusar-Poli & Radua 2018, "Ten simple rules for conducting umbrella
  reviews"), with every criterion whose inputs are missing named instead of silently failed;
* :func:`personalised`: the user's thresholds per class I–IV on 13 criteria, class V when none is met;
* :func:`~umbrella.reanalysis.grade.grade`: GRADE reached algorithmically (Gosling et al., metaumbrella 1.1.0,
  with the CINeMA rule for inconsistency), with the downgrade of each domain in a column of its own; in
  :mod:`umbrella.reanalysis.grade`.

Ratios are compared on their natural scale, differences on the Hedges' g scale, as metaumbrella does.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from umbrella.core.vocabulary import RATIO_MEASURES
from umbrella.reanalysis.pooled_values import join_notes, numeric

G_LIKE = frozenset({"SMD", "G", "MD"})
IOANNIDIS_CLASSES = ("I", "II", "III", "IV", "ns")
PERSONALISED_CLASSES = ("I", "II", "III", "IV", "V")

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


def _null(ratio: np.ndarray) -> np.ndarray:
    return np.where(ratio, 1.0, 0.0)


def excludes_null(lower: np.ndarray, upper: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """Whether [lower, upper] lies wholly on one side of the null (1 for ratios, 0 otherwise)."""
    null = _null(ratio)
    return ((lower > null) & (upper > null)) | ((lower < null) & (upper < null))


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
    p = numeric(pooled, "p_value")
    cases = numeric(pooled, "n_cases")
    i2 = numeric(pooled, "i2")
    pi_lo, pi_hi = numeric(pooled, "pi_lower"), numeric(pooled, "pi_upper")
    egger_p, esb_p = numeric(pooled, "egger_p"), numeric(pooled, "esb_p")
    llo, lhi = numeric(pooled, "largest_ci_lower"), numeric(pooled, "largest_ci_upper")
    lo, hi = numeric(pooled, "ci_lower"), numeric(pooled, "ci_upper")
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
    return pd.DataFrame({"class": label, "notes": join_notes(notes)}, index=pooled.index)


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
    from scipy import stats  # imported where used: the report needs none of it

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
    criteria = PersonalisedCriteria(pooled)
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
            ok, assessable = criteria.check(name, threshold)
            needs[cls].append((ok & assessable, assessable, f"{CRITERIA[name][1]}: missing, not met"))
        met = np.logical_and.reduce([m for m, _, _ in needs[cls]])
        label = np.where(~decided & met, cls, label)
        decided |= met
    notes = _blocking(label, needs, PERSONALISED_CLASSES)
    return pd.DataFrame({"class": label, "notes": join_notes(notes)}, index=pooled.index)


class PersonalisedCriteria:
    """The inputs of the personalised criteria for every row of a pooled table, and the check of each."""

    #: criterion -> the pooled table's column compared with its threshold ("above" and "below" criteria)
    COLUMNS = {
        "n_studies": "k",
        "total_n": "n_total",
        "n_cases": "n_cases",
        "p_value": "p_value",
        "I2": "i2",
        "rob": "rob_low_pct",
        "amstar": "amstar",
        "egger_p": "egger_p",
        "esb_p": "esb_p",
        "JK_p": "jk_max_p",
    }

    def __init__(self, pooled: pd.DataFrame) -> None:
        self.pooled = pooled
        self.ratio = pooled["measure"].isin(list(RATIO_MEASURES)).to_numpy()
        self.values = {name: numeric(pooled, column) for name, column in self.COLUMNS.items()}

    def check(self, name: str, threshold: object) -> tuple[np.ndarray, np.ndarray]:
        """Whether each row meets the criterion ``name`` at ``threshold``, and whether it could be assessed."""
        kind = CRITERIA[name][0]
        if kind == "notnull":
            return self.prediction_interval() if name == "pi" else self.largest_study()
        if kind == "power":
            return self.power(float(threshold))
        x = self.values[name]
        met = x > float(threshold) if kind == "above" else x < float(threshold)
        return met, np.isfinite(x)

    def prediction_interval(self) -> tuple[np.ndarray, np.ndarray]:
        """The prediction interval excludes the null."""
        plo, phi = numeric(self.pooled, "pi_lower"), numeric(self.pooled, "pi_upper")
        return excludes_null(plo, phi, self.ratio), np.isfinite(plo) & np.isfinite(phi)

    def largest_study(self) -> tuple[np.ndarray, np.ndarray]:
        """The largest study's CI excludes the null, and not on the other side of the null than a pooled CI
        that excludes it."""
        pooled, ratio = self.pooled, self.ratio
        lo, hi = numeric(pooled, "ci_lower"), numeric(pooled, "ci_upper")
        llo, lhi = numeric(pooled, "largest_ci_lower"), numeric(pooled, "largest_ci_upper")
        opposite = excludes_null(llo, lhi, ratio) & excludes_null(lo, hi, ratio)
        opposite &= np.sign(llo - _null(ratio)) != np.sign(lo - _null(ratio))
        return excludes_null(llo, lhi, ratio) & ~opposite, np.isfinite(llo) & np.isfinite(lhi)

    def power(self, smd: float) -> tuple[np.ndarray, np.ndarray]:
        """The power to detect an SMD of ``smd`` exceeds 80 %, with cases and controls as the groups (IRR: half
        the cases each, as metaumbrella; R: half the total each)."""
        measure = self.pooled["measure"].astype(str).to_numpy()
        n_cases, n_controls = numeric(self.pooled, "n_cases"), numeric(self.pooled, "n_controls")
        n_total = numeric(self.pooled, "n_total")
        half_cases = measure == "IRR"
        by_total = measure == "R"
        group1 = np.where(half_cases, n_cases / 2, np.where(by_total, n_total / 2, n_cases))
        group2 = np.where(half_cases, n_cases / 2, np.where(by_total, n_total / 2, n_controls))
        power = power_d(group1, group2, smd)
        return power > 0.80, np.isfinite(power)


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
