"""The overlap stage's files: read the tidy tables, build the citation matrix, write the tables and figure."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from umbrella.core.sheets import column_types
from umbrella.core.tables import read_table, write_table
from umbrella.core.vocabulary import FIGURE_ROWS, review_label
from umbrella.overlap.cca import (
    OverlapSettings,
    build_matrix,
    by_outcome,
    overall,
    pairwise,
    study_frequency,
    unique_studies,
)
from umbrella.overlap.figures import heatmap_figure, summary_figure
from umbrella.overlap.matrix import WORKBOOK_CELLS, matrix_table
from umbrella.overlap.matrix_figure import matrix_figure


def inclusion_scopes(
    studies: pd.DataFrame, study_effects: pd.DataFrame | None, effects: pd.DataFrame | None
) -> list[tuple[str, str, pd.DataFrame]]:
    """The per-outcome matrices: outcomes named in the studies sheet, outcomes of the study-level data, and
    each outcome group of the effects sheet (the review-level lists of the reviews reporting it)."""
    scopes: list[tuple[str, str, pd.DataFrame]] = []
    if "outcome" in studies:
        for outcome, rows in studies.dropna(subset=["outcome"]).groupby("outcome", sort=True):
            scopes.append(("studies_outcome", outcome, rows))
    years = studies.groupby("study_id")["study_year"].min() if "study_year" in studies else None
    if study_effects is not None and len(study_effects):
        se = study_effects.rename(columns={"year": "study_year"})
        if years is not None:
            se["study_year"] = se["study_year"].fillna(se["study_id"].map(years))
        for outcome, rows in se.groupby("outcome", sort=True):
            scopes.append(("study_effects_outcome", outcome, rows))
    if effects is not None and len(effects):
        listed = set(studies["review_id"])
        for group, rows in effects.dropna(subset=["outcome_group"]).groupby("outcome_group", sort=True):
            reviews = set(rows["review_id"]) & listed
            if len(reviews) >= 2:
                scopes.append(("effects_outcome_group", group, studies[studies["review_id"].isin(reviews)]))
    return scopes


def run_overlap(
    inputs: Mapping[str, str | Path],
    settings: Mapping | None,
    outputs: Mapping[str, str | Path],
    scale: Mapping | None = None,
) -> None:
    """Write cca_overall, cca_pairwise, study_frequency, review_studies, cca_by_outcome and the citation matrix
    (study_review_matrix), the heatmap and the matrix figure. ``scale``: the config section ``scale``
    (figure_rows, workbook_cells)."""
    conventions = OverlapSettings.from_config(settings)
    reviews = read_table(inputs["reviews"], column_types("reviews"))
    search_end = dict(zip(reviews["review_id"], reviews["search_end"], strict=True))
    declared = None
    if "studies" in inputs:
        studies = read_table(inputs["studies"], column_types("studies"))
    else:
        wide = read_table(inputs["citation_matrix"], column_types("citation_matrix"))
        studies = wide[wide["value"] == "1"].assign(study_year=float("nan"), outcome=None)
        declared = wide[wide["value"] == "NA"][["review_id", "study_id"]]
    study_effects = (
        read_table(inputs["study_effects"], column_types("study_effects")) if "study_effects" in inputs else None
    )
    effects = read_table(inputs["effects"], column_types("effects")) if "effects" in inputs else None

    matrix = build_matrix(studies, search_end, conventions, declared)
    pairs = pairwise(matrix, conventions)
    unique = unique_studies(matrix)
    write_table(overall(matrix, conventions), outputs["overall"])
    write_table(pairs, outputs["pairwise"])
    write_table(study_frequency(matrix), outputs["frequency"])
    write_table(unique, outputs["review_studies"])
    write_table(
        by_outcome(inclusion_scopes(studies, study_effects, effects), search_end, conventions), outputs["by_outcome"]
    )
    labels = dict(zip(reviews["review_id"], review_label(reviews), strict=True))
    if len(matrix.reviews) <= conventions.heatmap_max_reviews:
        heatmap_figure(pairs, unique, labels, Path(outputs["figure"]))
    else:
        summary_figure(pairs, len(matrix.reviews), Path(outputs["figure"]))
    scale = dict(scale or {})
    cells = int(scale.get("workbook_cells", WORKBOOK_CELLS))
    write_table(matrix_table(matrix, conventions, cells).table, outputs["matrix"])
    rows = int(scale.get("figure_rows", FIGURE_ROWS))
    matrix_figure(matrix, conventions, labels, Path(outputs["matrix_figure"]), rows, conventions.heatmap_max_reviews)
