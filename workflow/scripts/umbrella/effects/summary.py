"""Per-outcome summary of the harmonised results: counts by direction, the best evidence and a verdict.

One row per outcome group and one per outcome within it; results with missing numbers are listed but not
counted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from umbrella.core.vocabulary import RATING_RANK, RATINGS
from umbrella.effects.settings import EffectSettings

SUMMARY_COLUMNS = [
    "scope",
    "outcome_group",
    "outcome",
    "n_reviews",
    "n_meta_analyses",
    "n_benefit",
    "n_null",
    "n_harm",
    "n_unknown",
    "max_k",
    "total_participants",
    "participants_note",
    "best_review",
    "best_effect_id",
    "best_measure",
    "best_estimate",
    "best_ci_lower",
    "best_ci_upper",
    "best_amstar2",
    "verdict",
]
PARTICIPANTS_NOTE = (
    "sum over reviews of each review's largest reported n; reviews sharing primary studies count their "
    "participants more than once"
)


def verdict(directions: pd.Series, n_reviews_with_results: int, mostly_share: float) -> str:
    """The verdict of one outcome from the directions of its results with known numbers."""
    counted = directions[directions.isin(["benefit", "no_difference", "harm"])]
    if n_reviews_with_results <= 1 or counted.empty:
        return "insufficient"
    n = len(counted)
    benefit, harm = int((counted == "benefit").sum()), int((counted == "harm").sum())
    if benefit == n:
        return "consistent benefit"
    if harm == n:
        return "consistent harm"
    if benefit == 0 and harm == 0:
        return "no evidence of effect"
    if harm == 0 and benefit / n > mostly_share:
        return "mostly benefit"
    if benefit == 0 and harm / n > mostly_share:
        return "mostly harm"
    return "mixed"


def best_keys(rows: pd.DataFrame, order: tuple[str, ...]) -> pd.DataFrame:
    """Sort keys of the configured best-evidence criteria (smaller is better), one column per criterion:
    ``amstar2`` the rank of ``amstar2_rating`` (unrated last), ``k_studies`` most studies first, ``year`` the
    most recent ``review_year`` first."""
    keys = pd.DataFrame(index=rows.index)
    for criterion in order:
        if criterion == "amstar2":
            keys[criterion] = rows["amstar2_rating"].map({r: RATING_RANK[r] for r in RATINGS}).fillna(len(RATINGS))
        elif criterion == "k_studies":
            keys[criterion] = -rows["k_studies"].astype(float).fillna(-1)
        elif criterion == "year":
            keys[criterion] = -pd.to_numeric(rows["review_year"], errors="coerce").astype(float).fillna(-1)
        else:
            raise ValueError(f"unknown best_review criterion {criterion!r} (amstar2, k_studies, year)")
    return keys


def best_result(rows: pd.DataFrame, order: tuple[str, ...]) -> pd.Series | None:
    """The result of the best review by the configured criteria (ties broken by effect_id)."""
    usable = rows[~rows["flag_incomplete"]]
    if usable.empty:
        return None
    keys = best_keys(usable, order)
    keys["effect_id"] = usable["effect_id"]
    first = keys.sort_values(list(keys.columns), kind="stable").index[0]
    return usable.loc[first]


def _summary_row(scope: str, group: str, outcome: str, rows: pd.DataFrame, settings: EffectSettings) -> dict:
    """The summary of one outcome group or outcome from its harmonised ``rows``."""
    complete = rows[~rows["flag_incomplete"]]
    best = best_result(rows, settings.best_review)
    return {
        "scope": scope,
        "outcome_group": group,
        "outcome": outcome,
        "n_reviews": int(rows["review_id"].nunique()),
        "n_meta_analyses": len(complete),
        "n_benefit": int((complete["direction"] == "benefit").sum()),
        "n_null": int((complete["direction"] == "no_difference").sum()),
        "n_harm": int((complete["direction"] == "harm").sum()),
        "n_unknown": int((rows["direction"] == "unknown").sum()),
        "max_k": rows["k_studies"].max(),
        "total_participants": rows.groupby("review_id")["n_participants"].max().sum(min_count=1),
        "participants_note": PARTICIPANTS_NOTE,
        "best_review": None if best is None else best["review"],
        "best_effect_id": None if best is None else best["effect_id"],
        "best_measure": None if best is None else best["measure"],
        "best_estimate": np.nan if best is None else best["estimate"],
        "best_ci_lower": np.nan if best is None else best["ci_lower"],
        "best_ci_upper": np.nan if best is None else best["ci_upper"],
        "best_amstar2": None if best is None else best["amstar2_rating"],
        "verdict": verdict(complete["direction"], complete["review_id"].nunique(), settings.mostly_share),
    }


def outcome_summary(harmonised: pd.DataFrame, settings: EffectSettings) -> pd.DataFrame:
    """One row per outcome group (scope ``outcome_group``) and per outcome within it (scope ``outcome``).

    ``harmonised`` is the output of :func:`umbrella.effects.harmonise.harmonise` with a ``review`` label and
    ``review_year`` column.
    """
    rows = []
    df = harmonised.assign(outcome_group=harmonised["outcome_group"].fillna("Ungrouped"))
    for group, in_group in df.groupby("outcome_group", sort=True):
        rows.append(_summary_row("outcome_group", group, "", in_group, settings))
        for outcome, in_outcome in in_group.groupby("outcome", sort=True):
            rows.append(_summary_row("outcome", group, outcome, in_outcome, settings))
    out = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    for col in ("max_k", "total_participants"):
        out[col] = out[col].astype("Float64").round().astype("Int64")
    return out
