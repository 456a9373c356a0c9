"""The re-analysis' files: read the study-level table, re-run every meta-analysis, write tables and figure; then
the detail of each meta-analysis (leave-one-out table, three figures each)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from umbrella.core.sheets import column_types
from umbrella.core.tables import output_types, read_table, write_table
from umbrella.core.vocabulary import FIGURE_ROWS, review_label
from umbrella.effects.settings import EffectSettings
from umbrella.reanalysis.analysis import STUDY_COLUMNS, reanalyse
from umbrella.reanalysis.detail import detail, leave_one_out_table
from umbrella.reanalysis.figures import meta_favours, umbrella_forest
from umbrella.reanalysis.settings import MetaSettings


def run_reanalysis(
    study_effects: str | Path,
    reviews: str | Path,
    settings: Mapping | None,
    outputs: Mapping[str, str | Path],
    figure_rows: int = FIGURE_ROWS,
    effects: str | Path | None = None,
    effect_settings: Mapping | None = None,
) -> None:
    """Write ``pooled`` and ``study_effect_sizes`` tables and the ``forest`` figure (of the ``figure_rows``
    meta-analyses with the most studies when there are more), its signs oriented as the effects stage's with
    the tidy ``effects`` sheet (when there is one) and the config's ``effects`` section."""
    conventions = MetaSettings.from_config(settings)
    table = read_table(study_effects, column_types("study_effects"))
    pooled, studies = reanalyse(table, conventions)
    write_table(pooled, outputs["pooled"])
    write_table(studies[STUDY_COLUMNS].sort_values(["outcome", "review_id", "study_id"]), outputs["study_effect_sizes"])
    review_table = read_table(reviews, column_types("reviews"))
    labels = dict(zip(review_table["review_id"], review_label(review_table), strict=True))
    effect_conventions = EffectSettings.from_config(effect_settings)
    effect_table = read_table(effects, column_types("effects")) if effects else None
    favours = meta_favours(pooled, effect_table, effect_conventions)
    umbrella_forest(pooled, labels, Path(outputs["forest"]), figure_rows, favours, effect_conventions.favours_labels)


def run_detail(
    pooled: str | Path,
    study_effect_sizes: str | Path,
    reviews: str | Path,
    settings: Mapping | None,
    outputs: Mapping[str, str | Path],
    workers: int = 1,
    limit: int | None = None,
) -> None:
    """Write the ``leave_one_out`` table of every meta-analysis of ``pooled`` and, into the folder ``figures``,
    the forest, funnel and leave-one-out plots of the first ``limit`` (all when None; SVG, drawn by ``workers``
    processes); figures of meta-analyses that are no longer drawn are removed."""
    from umbrella.reanalysis.detail_figures import figure_sets, write_detail_figures

    conventions = MetaSettings.from_config(settings)
    d = detail(
        read_table(pooled, output_types("pooled")),
        read_table(study_effect_sizes, output_types("study_effect_sizes")),
        conventions,
    )
    write_table(leave_one_out_table(d), outputs["leave_one_out"])
    review_table = read_table(reviews, column_types("reviews"))
    labels = dict(zip(review_table["review_id"], review_label(review_table), strict=True))
    folder = Path(outputs["figures"])
    for old in folder.glob("ma_*.svg"):
        old.unlink()
    sets = figure_sets(d, labels, conventions)
    write_detail_figures(sets if limit is None else sets[:limit], folder, workers)
