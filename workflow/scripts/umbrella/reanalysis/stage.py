"""The re-analysis' files: read the study-level table, re-run every meta-analysis, write tables and figure; then
the detail of each meta-analysis (leave-one-out table, three figures each)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from umbrella.core.sheets import column_types
from umbrella.core.tables import output_types, read_table, write_table
from umbrella.core.vocabulary import FIGURE_ROWS, review_label
from umbrella.reanalysis.analysis import STUDY_COLUMNS, reanalyse
from umbrella.reanalysis.detail import detail, leave_one_out_table
from umbrella.reanalysis.figures import umbrella_forest
from umbrella.reanalysis.settings import MetaSettings


def run_reanalysis(
    study_effects: str | Path,
    reviews: str | Path,
    settings: Mapping | None,
    outputs: Mapping[str, str | Path],
    figure_rows: int = FIGURE_ROWS,
) -> None:
    """Write ``pooled`` and ``study_effect_sizes`` tables and the ``forest`` figure (of the ``figure_rows``
    meta-analyses with the most studies when there are more)."""
    conventions = MetaSettings.from_config(settings)
    table = read_table(study_effects, column_types("study_effects"))
    pooled, studies = reanalyse(table, conventions)
    write_table(pooled, outputs["pooled"])
    write_table(studies[STUDY_COLUMNS].sort_values(["outcome", "review_id", "study_id"]), outputs["study_effect_sizes"])
    review_table = read_table(reviews, column_types("reviews"))
    labels = dict(zip(review_table["review_id"], review_label(review_table), strict=True))
    umbrella_forest(pooled, labels, Path(outputs["forest"]), figure_rows)


def run_detail(
    pooled: str | Path,
    study_effect_sizes: str | Path,
    reviews: str | Path,
    settings: Mapping | None,
    outputs: Mapping[str, str | Path],
    workers: int = 1,
) -> None:
    """Write the ``leave_one_out`` table and, into the folder ``figures``, the forest, funnel and leave-one-out
    plots of every meta-analysis of ``pooled`` (SVG, drawn by ``workers`` processes); figures of meta-analyses
    that are no longer there are removed."""
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
    write_detail_figures(figure_sets(d, labels, conventions), folder, workers)
