"""The quality stage's files: read the tidy tables, rate, write the tables and figures."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from umbrella.core.sheets import column_types
from umbrella.core.tables import read_table, write_table
from umbrella.core.vocabulary import FIGURE_ROWS, review_label
from umbrella.quality.figures import items_figure, matrix_figure, ratings_figure
from umbrella.quality.rating import RatingRule, answer_matrix, assess, consensus_answers


def run_quality(
    reviews: str | Path,
    amstar2: str | Path | None,
    settings: Mapping | None,
    outputs: Mapping[str, str | Path],
    figure_rows: int = FIGURE_ROWS,
) -> None:
    """Rate every review and write ``ratings``, ``item_summary`` and ``agreement`` tables and the figures named in
    ``outputs`` (``ratings_figure``; ``matrix_figure`` and ``items_figure`` when item answers exist). Above
    ``figure_rows`` reviews the matrix is a compact grid."""
    rule = RatingRule.from_config(settings)
    review_table = read_table(reviews, column_types("reviews"))
    answers = read_table(amstar2, column_types("amstar2")) if amstar2 else None
    results = assess(review_table, answers, rule)
    write_table(results.ratings, outputs["ratings"])
    write_table(results.items, outputs["item_summary"])
    write_table(results.agreement, outputs["agreement"])
    ratings_figure(results.ratings, Path(outputs["ratings_figure"]))
    if answers is not None and "matrix_figure" in outputs:
        rated_ids = sorted(set(answers["review_id"]))
        labels = review_label(review_table).set_axis(review_table["review_id"])
        matrix = answer_matrix(consensus_answers(answers), rated_ids)
        matrix_figure(matrix, results.ratings, rule, labels, Path(outputs["matrix_figure"]), figure_rows)
    if "items_figure" in outputs:
        items_figure(results.items, Path(outputs["items_figure"]))
