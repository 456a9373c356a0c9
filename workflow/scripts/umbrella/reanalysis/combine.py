"""Several effect sizes of one study in one meta-analysis, a control group shared between comparisons, and effects
to be reversed: the study_effects columns ``multiple_es``, ``within_r``, ``shared_controls`` and ``reverse``, as
metaumbrella's ``multiple_es``, ``r``, ``shared_nexp``/``shared_controls`` and ``reverse_es`` (Gosling et al. 2023).

* Shared controls (Cochrane Handbook 23.3.4): before the effect size is computed, the control group's n (and, for
  2x2 counts, its events) is divided by the number of comparisons sharing it; means and SDs are kept. An estimate
  given with its SE or CI is taken as given (only its control n is divided).
* Reverse: after the effect size is computed, its sign is flipped on the analysis scale (a ratio becomes 1/ratio,
  a difference −difference; the CI follows, its limits swapped).
* Combining (Borenstein et al. 2009, ch. 23–24), after each row's effect size and before pooling, per outcome,
  review and study: ``groups`` (independent subgroups) by the fixed-effect pool Σwᵢyᵢ/Σwᵢ with variance 1/Σwᵢ,
  wᵢ = 1/vᵢ, n summed; ``outcomes`` (several outcomes or time points on the same participants) by the mean ȳ with
  variance (1/m)²·(Σvᵢ + Σ_{i≠j} r·√vᵢ·√vⱼ), r the within-study correlation, n the largest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from umbrella.core.errors import InputError, Problem
from umbrella.reanalysis.effect_sizes import analysis_measure

#: The combining rules of ``multiple_es``.
MULTIPLE_ES = ("groups", "outcomes")
#: The columns a study is identified by within a meta-analysis.
STUDY_KEY = ["outcome", "review_id", "study_id"]
#: Per-study sizes: summed over "groups", the largest over "outcomes".
SIZE_COLUMNS = ("n", "n_cases", "n_controls", "n1", "n2")


def _column(df: pd.DataFrame, name: str, dtype: type = float) -> pd.Series:
    if name in df:
        return df[name]
    return pd.Series(np.nan if dtype is float else None, index=df.index, dtype=dtype)


def split_shared_controls(study_effects: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The sheet with each shared control group divided by ``shared_controls`` (the number of comparisons
    sharing it): ``n_control`` and ``events_control``, and the cases and controls the row gives: for
    differences ``n_controls`` (the control group) divided, for counts the part of the control group's events and
    non-events given to the other comparisons taken off ``n_cases`` and ``n_controls``. Also which rows were
    split. Values are not rounded (Cochrane Handbook 23.3.4)."""
    share = pd.to_numeric(_column(study_effects, "shared_controls"), errors="coerce").to_numpy(dtype=float)
    split = np.isfinite(share) & (share > 1)
    if not split.any():
        return study_effects, split
    out = study_effects.copy()
    kept = np.where(split, 1 / np.where(split, share, 1.0), 1.0)
    n_c = _numbers(out, "n_control")
    events = _numbers(out, "events_control")
    counts = np.isfinite(n_c) & np.isfinite(events) & ~out["measure"].isin(["SMD", "G", "MD", "R"]).to_numpy()
    cases, controls = _numbers(out, "n_cases"), _numbers(out, "n_controls")
    out["n_control"], out["events_control"] = n_c * kept, events * kept
    out["n_cases"] = np.where(counts, cases - events * (1 - kept), cases)
    out["n_controls"] = np.where(counts, controls - (n_c - events) * (1 - kept), controls * kept)
    return out, split


def _numbers(df: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(_column(df, column), errors="coerce").to_numpy(dtype=float)


def reverse_effects(es: pd.DataFrame, flags: pd.Series | np.ndarray) -> pd.DataFrame:
    """The effect sizes with the flagged rows' signs flipped on the analysis scale (yi, and g and d where
    present): 1/ratio or −difference; variances unchanged."""
    flip = np.asarray(flags, dtype=bool)
    if not flip.any():
        return es
    out = es.copy()
    for column in ("yi", "g", "d"):
        if column in out:
            out[column] = np.where(flip, -out[column].to_numpy(dtype=float), out[column].to_numpy(dtype=float))
    return out


def reverse_flags(study_effects: pd.DataFrame) -> np.ndarray:
    """Which rows the ``reverse`` column marks (yes, true, 1 or reverse)."""
    words = _column(study_effects, "reverse", object).astype(object)
    return words.map(lambda w: str(w).strip().lower() in {"yes", "true", "1", "reverse"} if pd.notna(w) else False
                     ).to_numpy(dtype=bool)  # fmt: skip


def combine_studies(studies: pd.DataFrame, within_r: float = 0.5) -> pd.DataFrame:
    """One row per outcome, review and study: rows of a study marked ``multiple_es`` are combined ("groups" by
    the fixed-effect pool, "outcomes" by the mean with Borenstein's variance and the study's ``within_r``, else
    ``within_r``); other rows are kept as they are. ``studies`` has the keys, yi, vi, the sizes of
    :data:`SIZE_COLUMNS`, optionally g and g_v (combined the same way), ``multiple_es`` and ``within_r``; the
    result keeps the first row's other columns and says in ``combined`` how the study was combined."""
    studies = studies.copy()
    if "combined" not in studies:
        studies["combined"] = ""
    rule = _column(studies, "multiple_es", object).astype(object)
    keys = pd.MultiIndex.from_frame(studies[STUDY_KEY].astype(str))
    repeated = pd.Series(keys.duplicated(keep=False), index=studies.index)
    many = repeated & rule.isin(MULTIPLE_ES)
    if not many.any():
        return studies
    rows = studies[many]
    group = pd.MultiIndex.from_frame(rows[STUDY_KEY].astype(str)).factorize()[0]
    _check_one_measure(rows, group)
    r = pd.to_numeric(_column(rows, "within_r"), errors="coerce").groupby(group).mean().fillna(within_r).to_numpy()
    outcomes = (rows["multiple_es"] == "outcomes").groupby(group).first().to_numpy()
    first = ~pd.Series(group).duplicated().to_numpy()
    merged = rows[first].copy()
    m = np.bincount(group).astype(float)
    for y_col, v_col in (("yi", "vi"), ("g", "g_v")):
        if y_col in rows and v_col in rows:
            y, v = _combine(rows[y_col].to_numpy(dtype=float), rows[v_col].to_numpy(dtype=float), group, r, outcomes)
            merged[y_col], merged[v_col] = y, v
    for column in SIZE_COLUMNS:
        if column in rows:
            values = pd.to_numeric(rows[column], errors="coerce").groupby(group)
            merged[column] = np.where(outcomes, values.max().to_numpy(), values.sum(min_count=1).to_numpy())
    if "d" in rows:
        merged["d"] = np.nan
    words = np.where(
        outcomes,
        [f"outcomes: {k:g} effect sizes averaged (r = {c:g})" for k, c in zip(m, r, strict=True)],
        [f"groups: {k:g} effect sizes pooled (fixed effect)" for k in m],
    )
    merged["combined"] = [_join(a, b) for a, b in zip(merged["combined"], words, strict=True)]
    return pd.concat([studies[~many], merged]).sort_index()


def _check_one_measure(rows: pd.DataFrame, group: np.ndarray) -> None:
    """The rows combined into one study must share a measure (a logged ratio counts as its ratio, Z as R): an
    InputError naming the studies that do not."""
    mixed = analysis_measure(rows["measure"]).groupby(group).transform("nunique").gt(1).to_numpy()
    if not mixed.any():
        return
    bad = rows[mixed].drop_duplicates(STUDY_KEY)
    problems = [
        Problem(
            "study_effects",
            column="measure",
            value=f"{r.outcome} / {r.review_id} / {r.study_id}",
            message="the rows of a study marked multiple_es have different measures; they can be combined only "
            "on one scale",
        )
        for r in bad.itertuples()
    ]
    raise InputError(problems, heading="The study_effects sheet cannot be re-analysed")


def _combine(
    y: np.ndarray, v: np.ndarray, group: np.ndarray, r: np.ndarray, outcomes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per group: the mean and Borenstein's variance where ``outcomes``, else the fixed-effect pool."""
    n = group.max() + 1
    m = np.bincount(group, minlength=n).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = 1 / v
        sw = np.bincount(group, w, minlength=n)
        fe_y, fe_v = np.bincount(group, w * y, minlength=n) / sw, 1 / sw
        mean_y = np.bincount(group, y, minlength=n) / m
        sum_v, sum_sd = np.bincount(group, v, minlength=n), np.bincount(group, np.sqrt(v), minlength=n)
        # Σ_{i≠j} √vᵢ·√vⱼ = (Σ√vᵢ)² − Σvᵢ
        mean_v = (sum_v + r * (sum_sd**2 - sum_v)) / m**2
    return np.where(outcomes, mean_y, fe_y), np.where(outcomes, mean_v, fe_v)


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if isinstance(p, str) and p)


def describe_rows(study_effects: pd.DataFrame, split: np.ndarray, reversed_: np.ndarray) -> np.ndarray:
    """The ``combined`` words of each row before combining: a split control group and a reversed effect."""
    counts = pd.to_numeric(_column(study_effects, "shared_controls"), errors="coerce").to_numpy(dtype=float)
    split_words = np.where(split, [f"control group shared by {c:g} comparisons, split" for c in counts], "")
    rev_words = np.where(reversed_, "reversed", "")
    return np.array([_join(a, b) for a, b in zip(split_words, rev_words, strict=True)], dtype=object)
