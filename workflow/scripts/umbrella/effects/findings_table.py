"""The summary-of-findings table: one row per outcome with its best evidence, the certainty of that evidence and
the verdict.

Each outcome of the effects stage (an ``outcome`` row of ``outcome_summary``) gets the number of reviews reporting
it, the largest number of studies and of participants of any of its meta-analyses (published or re-analysed),
its best evidence, the certainty of that evidence and the verdict of ``outcome_summary``.

The best evidence is chosen in two steps. Where meta-analyses of the outcome were re-run from study-level data
(the ``pooled`` table; a re-run joins an outcome when the same review reports a result of that outcome in the
effects sheet) and ``effects.findings_from`` is ``reanalysis`` (the default), it is the re-run with the highest
algorithmic GRADE, then the first by the effects stage's own best-evidence order (``effects.best_review``: by
default the highest AMSTAR-2 confidence of its review, then the most studies, then the most recent review;
:func:`umbrella.effects.summary.best_keys`), then the smallest review_id. Otherwise it is the result
``outcome_summary`` names best for the outcome (the same order among the published results with known numbers,
then effect_id). The certainty is that re-run's GRADE, or the AMSTAR-2
confidence of the best result's review when it was not re-run or GRADE does not cover its measure (R, RD).

Effects are given as reported (the measure's natural scale, sign as in the data) and as the equivalent Hedges' g
oriented so that a positive value favours the intervention, the scale of the per-outcome forest plots
(:mod:`umbrella.effects.harmonise`). Everything is computed by joins and one sort, so the cost grows with the
number of results (n log n for the sort).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from umbrella.core.tables import output_columns
from umbrella.core.vocabulary import RATING_LABELS, RATIO_MEASURES
from umbrella.effects.harmonise import _oriented, _to_g
from umbrella.effects.settings import EffectSettings
from umbrella.effects.summary import best_keys
from umbrella.reanalysis.grade import GRADE_LABELS

#: The columns of the table, in order, as the output registry declares them.
FINDINGS_COLUMNS = output_columns("summary_of_findings")
KEY = ["outcome_group", "outcome"]
UNGROUPED = "Ungrouped"
#: The values of ``certainty_source``.
FROM_GRADE, FROM_AMSTAR2 = "GRADE", "AMSTAR-2"
FAVOURS_SIGN = {"higher": 1.0, "lower": -1.0}


def _empty_pooled() -> pd.DataFrame:
    columns = ["outcome", "review_id", "measure", "k", "n_total", "estimate", "ci_lower", "ci_upper", "class", "grade"]
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _links(effects: pd.DataFrame) -> pd.DataFrame:
    """Per review, outcome group and outcome of the effects sheet: the review's label, AMSTAR-2 rating and
    the direction that favours the intervention (the first known by effect_id)."""
    ordered = effects.sort_values("effect_id", kind="stable")
    return ordered.groupby(["review_id", *KEY], sort=True, as_index=False).agg(
        review=("review", "first"),
        amstar2_rating=("amstar2_rating", "first"),
        favours_used=("favours_used", "first"),
    )


def matched_reanalyses(effects: pd.DataFrame, pooled: pd.DataFrame | None) -> tuple[pd.DataFrame, int]:
    """The re-run meta-analyses joined to the outcomes of the effects sheet on review and outcome (a re-run
    whose review reports the outcome under two groups joins both), and how many re-runs join none."""
    pooled = _empty_pooled() if pooled is None else pooled
    links = _links(effects)
    joined = pooled.merge(links, on=["review_id", "outcome"], how="left", indicator=True)
    unmatched = joined.loc[joined["_merge"] == "left_only", ["review_id", "outcome"]].drop_duplicates()
    return joined[joined["_merge"] == "both"].drop(columns="_merge").reset_index(drop=True), len(unmatched)


def _oriented_g(rows: pd.DataFrame, settings: EffectSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The re-run's estimate and limits as equivalent g with positive favouring the intervention, converted as
    the effects stage converts a published result (ratios on the log scale, correlations as 2r/√(1 − r²), MD by
    the configured SD)."""
    ratio = rows["measure"].isin(list(RATIO_MEASURES)).to_numpy()
    limits = ("estimate", "ci_lower", "ci_upper")
    values = [pd.to_numeric(rows[c], errors="coerce").to_numpy(dtype=float) for c in limits]
    with np.errstate(divide="ignore", invalid="ignore"):
        y, lo, hi = (np.where(ratio, np.log(v), v) for v in values)
    g, glo, ghi = _to_g(rows, y, lo, hi, settings)
    sign = rows["favours_used"].map(FAVOURS_SIGN).astype(float).to_numpy()
    lower, upper = _oriented(glo, ghi, sign)
    return g * sign, lower, upper


def best_reanalyses(
    matched: pd.DataFrame, years: pd.Series, settings: EffectSettings, grade_labels: tuple[str, ...]
) -> pd.DataFrame:
    """Per outcome, the re-run with the highest GRADE, then the first by ``settings.best_review`` (AMSTAR-2 of
    its review, its k, its review's year), then the smallest review_id; only re-runs with an estimate count."""
    rows = matched[pd.to_numeric(matched["estimate"], errors="coerce").notna()].copy()
    rows["k_studies"] = pd.to_numeric(rows["k"], errors="coerce")
    rows["review_year"] = rows["review_id"].map(years)
    keys = best_keys(rows, settings.best_review)
    keys.insert(0, "_grade", rows["grade"].map({g: i for i, g in enumerate(grade_labels)}).fillna(len(grade_labels)))
    keys = pd.concat([rows[KEY], keys, rows[["review_id"]]], axis=1)
    order = keys.sort_values(list(keys.columns), kind="stable").index
    best = rows.loc[order].drop_duplicates(KEY, keep="first")
    g, lower, upper = _oriented_g(best, settings)
    return pd.DataFrame(
        {
            **{c: best[c].to_numpy() for c in KEY},
            "best_source": "reanalysis",
            "best_review_id": best["review_id"].to_numpy(),
            "best_review": best["review"].to_numpy(),
            "best_effect_id": None,
            "best_measure": best["measure"].to_numpy(),
            "best_estimate": pd.to_numeric(best["estimate"], errors="coerce").to_numpy(dtype=float),
            "best_ci_lower": pd.to_numeric(best["ci_lower"], errors="coerce").to_numpy(dtype=float),
            "best_ci_upper": pd.to_numeric(best["ci_upper"], errors="coerce").to_numpy(dtype=float),
            "best_ci_level": 95.0,
            "best_k": pd.to_numeric(best["k"], errors="coerce").to_numpy(dtype=float),
            "best_participants": pd.to_numeric(best["n_total"], errors="coerce").to_numpy(dtype=float),
            "best_g_benefit": g,
            "best_g_benefit_lower": lower,
            "best_g_benefit_upper": upper,
            "best_amstar2": best["amstar2_rating"].to_numpy(),
            "best_grade": best["grade"].to_numpy(),
            "best_class": best["class"].to_numpy(),
        }
    )


def best_published(effects: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per outcome, the result ``outcome_summary`` names best (its ``best_effect_id``), from review_effects."""
    chosen = outcomes.loc[outcomes["best_effect_id"].notna(), [*KEY, "best_effect_id"]]
    rows = chosen.merge(
        effects.drop(columns=KEY), left_on="best_effect_id", right_on="effect_id", how="inner", validate="one_to_one"
    )
    return pd.DataFrame(
        {
            **{c: rows[c].to_numpy() for c in KEY},
            "best_source": "published",
            "best_review_id": rows["review_id"].to_numpy(),
            "best_review": rows["review"].to_numpy(),
            "best_effect_id": rows["effect_id"].to_numpy(),
            "best_measure": rows["measure"].to_numpy(),
            "best_estimate": rows["estimate"].to_numpy(dtype=float),
            "best_ci_lower": rows["ci_lower"].to_numpy(dtype=float),
            "best_ci_upper": rows["ci_upper"].to_numpy(dtype=float),
            "best_ci_level": rows["ci_level"].astype(float).fillna(95.0).to_numpy(),
            "best_k": rows["k_studies"].astype(float).to_numpy(),
            "best_participants": rows["n_participants"].astype(float).to_numpy(),
            "best_g_benefit": rows["g_benefit"].to_numpy(dtype=float),
            "best_g_benefit_lower": rows["g_benefit_lower"].to_numpy(dtype=float),
            "best_g_benefit_upper": rows["g_benefit_upper"].to_numpy(dtype=float),
            "best_amstar2": rows["amstar2_rating"].to_numpy(),
            "best_grade": None,
            "best_class": rows["class"].to_numpy(),
        }
    )


def _largest(effects: pd.DataFrame, matched: pd.DataFrame) -> pd.DataFrame:
    """Per outcome: the largest k and participants of any meta-analysis (published or re-run) and the number
    of re-runs."""
    published = pd.DataFrame(
        {
            **{c: effects[c] for c in KEY},
            "k": effects["k_studies"].astype(float),
            "n": effects["n_participants"].astype(float),
            "rerun": 0,
        }
    )
    rerun = pd.DataFrame(
        {
            **{c: matched[c] for c in KEY},
            "k": pd.to_numeric(matched["k"], errors="coerce").astype(float),
            "n": pd.to_numeric(matched["n_total"], errors="coerce").astype(float),
            "rerun": 1,
        }
    )
    both = pd.concat([published, rerun], ignore_index=True)
    return both.groupby(KEY, sort=True).agg(
        max_k=("k", "max"), max_participants=("n", "max"), n_reanalysed=("rerun", "sum")
    )


def summary_of_findings(
    review_effects: pd.DataFrame,
    outcome_summary: pd.DataFrame,
    reviews: pd.DataFrame,
    pooled: pd.DataFrame | None,
    settings: EffectSettings,
    grade_labels: tuple[str, ...],
) -> pd.DataFrame:
    """The summary-of-findings table: columns :data:`FINDINGS_COLUMNS`, one row per ``outcome`` row of
    ``outcome_summary``, sorted by outcome group and outcome. Re-run meta-analyses that join no outcome of the
    effects sheet are left out (:func:`matched_reanalyses` counts them).

    ``review_effects`` and ``outcome_summary`` are the effects stage's tables, ``reviews`` the tidy reviews
    sheet (for the years), ``pooled`` the re-analysis (None without study-level data) and ``grade_labels`` the
    configured GRADE labels, best first.
    """
    effects = review_effects.assign(outcome_group=review_effects["outcome_group"].fillna(UNGROUPED))
    outcomes = outcome_summary[outcome_summary["scope"] == "outcome"]
    matched, _ = matched_reanalyses(effects, pooled)
    years = pd.Series(reviews["year"].to_numpy() if "year" in reviews else np.nan, index=reviews["review_id"])
    candidates = matched if settings.findings_from == "reanalysis" else matched.iloc[:0]
    rerun = best_reanalyses(candidates, years, settings, grade_labels).set_index(KEY)
    published = best_published(effects, outcomes).set_index(KEY)
    best = pd.concat([rerun, published[~published.index.isin(rerun.index)]])
    out = (
        outcomes[[*KEY, "n_reviews", "n_meta_analyses", "verdict"]]
        .set_index(KEY)
        .join(_largest(effects, matched))
        .join(best)
        .reset_index()
        .sort_values(KEY, kind="stable")
    )
    graded = out["best_grade"].notna()
    rated = out["best_amstar2"].notna()
    out["certainty"] = np.where(graded, out["best_grade"], out["best_amstar2"].map(RATING_LABELS))
    out["certainty"] = out["certainty"].where(graded | rated, None)
    out["certainty_source"] = np.where(graded, FROM_GRADE, np.where(rated, FROM_AMSTAR2, None))
    out["n_reanalysed"] = out["n_reanalysed"].fillna(0)
    for col in ("max_k", "max_participants", "n_reanalysed", "best_k", "best_participants"):
        out[col] = out[col].astype("Float64").round().astype("Int64")
    for col in ("n_reviews", "n_meta_analyses"):
        out[col] = out[col].astype("Int64")
    for col in ("best_estimate", "best_ci_lower", "best_ci_upper", "best_ci_level"):
        out[col] = out[col].astype(float)
    for col in ("best_g_benefit", "best_g_benefit_lower", "best_g_benefit_upper"):
        out[col] = out[col].astype(float)
    text = [c for c in FINDINGS_COLUMNS if c not in out.select_dtypes(include="number").columns]
    out[text] = out[text].astype(object).where(out[text].notna(), None)
    return out[FINDINGS_COLUMNS].reset_index(drop=True)


def run_findings_table(
    review_effects: str | Path,
    outcome_summary: str | Path,
    reviews: str | Path,
    pooled: str | Path | None,
    settings: Mapping | None,
    grade_labels: str,
    output: str | Path,
) -> None:
    """Read the effects stage's tables (and the re-analysis, when there is one), write the summary of findings."""
    from umbrella.core.sheets import column_types
    from umbrella.core.tables import output_types, read_table, write_table

    table = summary_of_findings(
        read_table(review_effects, output_types("review_effects")),
        read_table(outcome_summary, output_types("outcome_summary")),
        read_table(reviews, column_types("reviews")),
        None if pooled is None else read_table(pooled, output_types("pooled")),
        EffectSettings.from_config(settings),
        GRADE_LABELS[grade_labels],
    )
    write_table(table, output)
