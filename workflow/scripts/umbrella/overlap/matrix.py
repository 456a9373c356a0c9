"""The citation matrix as a table for the supplement: one row per primary study, one column per review, laid out
as GROOVE lays out its matrix (Pérez-Bracchiglione et al., Res Synth Methods 2022;13:381–388): the study, its
year, and a mark in the column of each review that includes it.

Cells hold 1 where the review includes the study, 0 where it does not, and are blank where the study could not
be in the review (structural missingness, Hennessy & Johnson 2020: published after the review's last search, or
NA in a wide citation matrix sheet): the 0/1/NA matrix that ccaR reads. Everything comes from the sparse matrix
of :mod:`umbrella.overlap.cca`; the dense grid is made only when the table is written wide, which it is only
when its cells fit the workbook (``scale.workbook_cells``); a larger matrix is written compactly, one row per
study with the list of its reviews, in memory and time linear in the studies, reviews and inclusions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from umbrella.overlap.cca import CitationMatrix, OverlapSettings, _date_rule

#: The columns written before the reviews' columns, in every form of the table.
LEADING_COLUMNS = ["study_id", "study_year", "n_reviews", "n_missing", "reviews"]
#: Columns a spreadsheet sheet holds: a wider matrix is written compactly.
SHEET_COLUMNS = 16_384
#: Default cells of the wide table (config ``scale.workbook_cells``): a larger matrix is written compactly.
WORKBOOK_CELLS = 2_000_000


@dataclass(frozen=True)
class MatrixTable:
    """The citation matrix as written: the table, and whether it has one column per review (``wide``)."""

    table: pd.DataFrame
    wide: bool


def study_order(m: CitationMatrix) -> np.ndarray:
    """Row order of the table: studies included by the most reviews first, then by study_id (the matrix's
    studies are sorted by id, so a stable sort on the count keeps ids in order within a count)."""
    counts = np.asarray(m.included.sum(axis=1)).ravel()
    return np.argsort(-counts, kind="stable")


def missing_cells(m: CitationMatrix, settings: OverlapSettings, rows: np.ndarray | None = None) -> np.ndarray:
    """Dense boolean grid (the studies ``rows``, default all, x every review): the structurally missing cells,
    i.e. cells declared NA or whose study was published after the review's limit year, less the cells the review
    includes all the same. All False when ``settings.structural_missingness`` is off."""
    rows = np.arange(len(m.studies)) if rows is None else np.asarray(rows)
    shape = (len(rows), len(m.reviews))
    if not settings.structural_missingness:
        return np.zeros(shape, dtype=bool)
    _, limit, _ = _date_rule(m, settings)
    years = m.study_year[rows]
    with np.errstate(invalid="ignore"):
        late = years[:, None] > limit[None, :]  # False wherever a year or a limit is unknown
    declared = m.declared_missing[rows].toarray() > 0
    included = m.included[rows].toarray() > 0
    return (late | declared) & ~included


def missing_per_study(m: CitationMatrix, settings: OverlapSettings) -> np.ndarray:
    """Structurally missing cells of each study's row, without the dense grid: reviews whose limit year is
    below the study's year (a binary search in the sorted limits), plus cells declared NA that are not late, less
    late cells the review includes all the same."""
    r = len(m.studies)
    if not settings.structural_missingness:
        return np.zeros(r, dtype=int)
    known, limit, contradicting = _date_rule(m, settings)
    limits = np.sort(limit[np.isfinite(limit)])
    late = np.zeros(r, dtype=int)
    late[known] = np.searchsorted(limits, m.study_year[known], side="left")  # limits strictly below the year
    dm = m.declared_missing.tocoo()
    with np.errstate(invalid="ignore"):
        declared_late = m.study_year[dm.row] > limit[dm.col]
    declared_only = np.bincount(dm.row[~declared_late], minlength=r)
    return late + declared_only - np.asarray(contradicting.sum(axis=1)).ravel().astype(int)


def review_lists(m: CitationMatrix, order: np.ndarray) -> list[str]:
    """For each study (in ``order``), the ``;``-separated ids of the reviews that include it, in review order."""
    csr = m.included.tocsr()
    csr.sort_indices()
    names = np.array(m.reviews, dtype=object)
    return [";".join(names[csr.indices[csr.indptr[i] : csr.indptr[i + 1]]]) for i in order]


def fits_wide(n_studies: int, n_reviews: int, max_cells: int) -> bool:
    """Whether the wide table (a column per review) has at most ``max_cells`` cells and fits a sheet."""
    columns = len(LEADING_COLUMNS) + n_reviews
    return n_studies * columns <= max_cells and columns <= SHEET_COLUMNS


def matrix_table(m: CitationMatrix, settings: OverlapSettings, max_cells: int) -> MatrixTable:
    """The citation matrix as a table, rows in :func:`study_order`: study_id, study_year, n_reviews (reviews
    including it), n_missing (reviews that could not include it), reviews (their ids), then, when the table fits
    ``max_cells`` cells (:func:`fits_wide`) and no review id is one of those column names, one column per review
    (1 included, 0 not, blank structurally missing)."""
    order = study_order(m)
    n_reviews = np.asarray(m.included.sum(axis=1)).ravel().astype(int)[order]
    years = pd.array(np.where(np.isfinite(m.study_year), m.study_year, np.nan)[order], dtype="Float64")
    wide = fits_wide(len(m.studies), len(m.reviews), max_cells) and not set(m.reviews) & set(LEADING_COLUMNS)
    if wide:
        missing = missing_cells(m, settings, order)
        n_missing = missing.sum(axis=1).astype(int)
    else:
        n_missing = missing_per_study(m, settings)[order]
    table = pd.DataFrame(
        {
            "study_id": pd.Series(np.array(m.studies, dtype=object)[order], dtype=object),
            "study_year": years.astype("Int64"),
            "n_reviews": n_reviews,
            "n_missing": n_missing,
            "reviews": pd.Series(review_lists(m, order), dtype=object),
        }
    )
    if wide:
        cells = sparse.csr_matrix(m.included)[order].toarray().astype(float)
        cells[missing] = np.nan
        table = pd.concat([table, pd.DataFrame(cells, columns=list(m.reviews))], axis=1)
    return MatrixTable(table, wide)
