"""The effects stage's files: read the tidy tables, harmonise, summarise, write the tables and figures."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from umbrella.core.sheets import column_types
from umbrella.core.tables import output_columns, read_table, write_table
from umbrella.core.vocabulary import FIGURE_ROWS, review_label
from umbrella.effects.evidence_class import review_level_classes
from umbrella.effects.evidence_map import evidence_map
from umbrella.effects.forest import write_forest_plots
from umbrella.effects.harmonise import harmonise
from umbrella.effects.settings import EffectSettings
from umbrella.effects.summary import outcome_summary

#: The columns of the ``review_effects`` table, in order, as the output registry declares them.
REVIEW_EFFECT_COLUMNS = output_columns("review_effects")


def run_effects(
    effects: str | Path,
    reviews: str | Path,
    ratings: str | Path,
    settings: Mapping | None,
    outputs: Mapping[str, str | Path],
    n_cases_threshold: int = 1000,
    figure_rows: int = FIGURE_ROWS,
    workers: int = 1,
) -> None:
    """Write ``review_effects`` and ``outcome_summary`` tables, the forest plots (folder ``forest``) and the
    ``evidence_map`` figure; no figure draws more than ``figure_rows`` rows (forest plots go on pages, the
    evidence map becomes a summary)."""
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
    write_forest_plots(harmonised, Path(outputs["forest"]), figure_rows, workers, conventions.favours_labels)
    evidence_map(harmonised, Path(outputs["evidence_map"]), figure_rows, conventions.favours_labels)
