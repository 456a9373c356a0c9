"""The effects stage's files: read the tidy tables, harmonise, summarise, write the tables and figures."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from umbrella.core.sheets import column_types
from umbrella.core.tables import read_table, write_table
from umbrella.core.vocabulary import review_label
from umbrella.effects.evidence_class import review_level_classes
from umbrella.effects.evidence_map import evidence_map
from umbrella.effects.forest import write_forest_plots
from umbrella.effects.harmonise import harmonise
from umbrella.effects.settings import EffectSettings
from umbrella.effects.summary import outcome_summary

#: The columns of the ``review_effects`` table, in order.
REVIEW_EFFECT_COLUMNS = [
    "effect_id",
    "review_id",
    "review",
    "outcome_group",
    "outcome",
    "timepoint",
    "population",
    "comparison",
    "measure",
    "estimate",
    "ci_lower",
    "ci_upper",
    "ci_level",
    "k_studies",
    "n_participants",
    "n_cases",
    "i2",
    "tau2",
    "p_value",
    "p_reported",
    "p_relation",
    "se",
    "z",
    "p_recomputed",
    "favours_used",
    "favours_source",
    "direction",
    "g_equiv",
    "g_lower",
    "g_upper",
    "or_equiv",
    "g_benefit",
    "g_benefit_lower",
    "g_benefit_upper",
    "tau2_used",
    "tau2_source",
    "pi_lower",
    "pi_upper",
    "pi_g_benefit_lower",
    "pi_g_benefit_upper",
    "flag_incomplete",
    "flag_p_mismatch",
    "flag_ci_asymmetric",
    "flag_no_favours",
    "flags",
    "amstar2_rating",
    "verdict",
    "class",
    "class_notes",
]


def run_effects(
    effects: str | Path,
    reviews: str | Path,
    ratings: str | Path,
    settings: Mapping | None,
    outputs: Mapping[str, str | Path],
    n_cases_threshold: int = 1000,
) -> None:
    """Write ``review_effects`` and ``outcome_summary`` tables, the forest plots (folder ``forest``) and the
    ``evidence_map`` figure."""
    conventions = EffectSettings.from_config(settings)
    effect_table = read_table(effects, column_types("effects"))
    review_table = read_table(reviews, column_types("reviews"))
    rating_table = read_table(ratings, {})
    harmonised = harmonise(
        effect_table, conventions, dict(zip(rating_table["review_id"], rating_table["rating"], strict=True))
    )
    labels = dict(zip(review_table["review_id"], review_label(review_table), strict=True))
    years = dict(
        zip(
            review_table["review_id"], review_table.get("year", pd.Series(pd.NA, index=review_table.index)), strict=True
        )
    )
    harmonised["review"] = harmonised["review_id"].map(labels)
    harmonised["review_year"] = harmonised["review_id"].map(years)
    if "n_cases" not in harmonised:
        harmonised["n_cases"] = pd.array([pd.NA] * len(harmonised), dtype="Int64")
    harmonised = harmonised.join(review_level_classes(harmonised, n_cases_threshold))
    write_table(harmonised[REVIEW_EFFECT_COLUMNS], outputs["review_effects"])
    write_table(outcome_summary(harmonised, conventions), outputs["outcome_summary"])
    write_forest_plots(harmonised, Path(outputs["forest"]))
    evidence_map(harmonised, Path(outputs["evidence_map"]))
