"""The citation matrix the overlap stage publishes (study_review_matrix: table S4e and its figure): against the
example matrix of ccaR, structurally missing cells, row order, the wide and compact forms, the figure's cap,
byte-identical reruns, and, on the simulated analysis, agreement with review_studies and cca_overall."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from umbrella.core.tables import write_table
from umbrella.overlap.cca import OverlapSettings, build_matrix, overall
from umbrella.overlap.matrix import LEADING_COLUMNS, matrix_table, missing_cells, missing_per_study
from umbrella.overlap.matrix_figure import draw_matrix, matrix_figure, select_view

#: ccaR's example citation matrix (thdiakon/ccaR, inst/extdata/test.csv): 14 studies x 6 reviews, 0/1 cells;
#: tests/data/SOURCES.md gives N = 43, r = 14, c = 6 and CCA = 29/70 = 41.43 %.
CCAR = ROOT / "tests/data/ccaR_test_citation_matrix.csv"

WIDE = 10**9  # cells: every test matrix is written wide


def published() -> pd.DataFrame:
    """The ccaR example as published: study ids as the index, one 0/1 column per review."""
    return pd.read_csv(CCAR, index_col=0)


def inclusions(matrix: pd.DataFrame) -> pd.DataFrame:
    """The long inclusions (review_id, study_id) of a 0/1 matrix."""
    long = matrix.rename_axis("study_id").reset_index().melt(id_vars="study_id", var_name="review_id")
    return long[long["value"] == 1][["review_id", "study_id"]]


def written(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The table as a reader gets it back from the CSV file (blank cells missing)."""
    write_table(table, path)
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


@pytest.fixture
def ccar_table(tmp_path: Path) -> pd.DataFrame:
    m = build_matrix(inclusions(published()), {}, OverlapSettings())
    return written(matrix_table(m, OverlapSettings(), WIDE).table, tmp_path / "matrix.csv")


# ----------------------------------------------------------------------------------------------------------------
# ccaR's published matrix


def test_the_table_reproduces_the_published_matrix(ccar_table: pd.DataFrame) -> None:
    expected = published()
    got = ccar_table.set_index("study_id")[list(expected.columns)].loc[expected.index]
    assert list(ccar_table.columns[len(LEADING_COLUMNS) :]) == sorted(expected.columns)  # ccaR sorts them too
    assert (got.to_numpy() == expected.to_numpy()).all()


def test_the_counts_per_study_are_the_published_row_sums(ccar_table: pd.DataFrame) -> None:
    expected = published().sum(axis=1)
    got = ccar_table.set_index("study_id")["n_reviews"]
    assert got.loc[expected.index].tolist() == expected.tolist()
    assert got.sum() == 43 and len(got) == 14  # N and r of the published example
    for study, reviews in ccar_table.set_index("study_id")["reviews"].items():
        assert reviews.split(";") == [r for r in sorted(published().columns) if published().loc[study, r] == 1]


def test_rows_are_sorted_by_reviews_then_study_id(ccar_table: pd.DataFrame) -> None:
    sums = published().sum(axis=1)
    expected = sorted(sums.index, key=lambda s: (-sums[s], s))
    assert ccar_table["study_id"].tolist() == expected
    assert ccar_table["study_id"].tolist() != sorted(sums.index)  # the order is not merely by id


# ----------------------------------------------------------------------------------------------------------------
# Structurally missing cells


def test_cells_declared_na_are_blank_not_zero(tmp_path: Path) -> None:
    matrix = published()
    declared = pd.DataFrame({"review_id": ["Morton2014", "Middleton2014"], "study_id": ["Yu2012", "Ji2011"]})
    m = build_matrix(inclusions(matrix), {}, OverlapSettings(), declared)
    table = written(matrix_table(m, OverlapSettings(), WIDE).table, tmp_path / "m.csv").set_index("study_id")
    assert np.isnan(table.loc["Yu2012", "Morton2014"]) and np.isnan(table.loc["Ji2011", "Middleton2014"])
    assert table.loc["Yu2012", "n_missing"] == 1 and table.loc["Ji2011", "n_missing"] == 1
    assert table["n_missing"].sum() == 2
    assert table.loc["Clark2009", "Morton2014"] == 0  # a cell not declared stays 0
    off = OverlapSettings(structural_missingness=False)
    plain = matrix_table(build_matrix(inclusions(matrix), {}, off, declared), off, WIDE).table
    assert plain["n_missing"].sum() == 0


def test_studies_published_after_a_search_are_blank_unless_included(tmp_path: Path) -> None:
    inc = pd.DataFrame(
        {
            "review_id": ["A", "A", "B", "B", "C"],
            "study_id": ["s1", "s2", "s1", "s3", "s3"],
            "study_year": [2001, 2005, 2001, 2012, 2012],
        }
    )
    search = {"A": "2006-05", "B": "2010", "C": "2015-01"}  # B includes s3 (2012) all the same
    m = build_matrix(inc, search, OverlapSettings())
    table = written(matrix_table(m, OverlapSettings(), WIDE).table, tmp_path / "m.csv").set_index("study_id")
    assert np.isnan(table.loc["s3", "A"])  # 2012 > 2006: could not be in A
    assert table.loc["s3", "B"] == 1  # late but included: counts as included
    assert table.loc["s2", "B"] == 0 and table.loc["s2", "C"] == 0  # 2005: possible in both
    assert table["n_missing"].to_dict() == {"s1": 0, "s3": 1, "s2": 0}
    assert table["n_missing"].sum() == overall(m, OverlapSettings()).loc[0, "x"]
    impossible = OverlapSettings(same_year="impossible")
    strict = matrix_table(build_matrix(inc, {"A": "2005"}, impossible), impossible, WIDE).table.set_index("study_id")
    assert strict.loc["s2", "n_missing"] == 0  # A includes s2, published in its search year


def test_compact_and_wide_count_the_same_missing_cells() -> None:
    rng = np.random.default_rng(3)
    n_reviews, n_studies = 40, 300
    reviews = [f"R{j:02d}" for j in range(n_reviews)]
    studies = [f"S{i:03d}" for i in range(n_studies)]
    year = dict(zip(studies, rng.integers(1990, 2024, n_studies), strict=True))
    cells = rng.random((n_studies, n_reviews)) < 0.08
    rows, cols = np.nonzero(cells)
    inc = pd.DataFrame({"review_id": np.array(reviews)[cols], "study_id": np.array(studies)[rows]})
    inc["study_year"] = inc["study_id"].map(year).astype(float)
    search = {r: f"{y}-06" for r, y in zip(reviews, rng.integers(2000, 2024, n_reviews), strict=True)}
    search["R00"] = None  # no search date: no missing cell in its column
    m = build_matrix(inc, search, OverlapSettings())
    grid = missing_cells(m, OverlapSettings())
    assert grid.any() and not grid[:, 0].any()
    assert (missing_per_study(m, OverlapSettings()) == grid.sum(axis=1)).all()
    assert grid.sum() == overall(m, OverlapSettings()).loc[0, "x"]


# ----------------------------------------------------------------------------------------------------------------
# The cap: wide or compact table, and the figure's rows and columns


def test_the_wide_table_needs_its_cells_within_the_limit() -> None:
    m = build_matrix(inclusions(published()), {}, OverlapSettings())
    cells = 14 * (len(LEADING_COLUMNS) + 6)
    wide = matrix_table(m, OverlapSettings(), cells)
    compact = matrix_table(m, OverlapSettings(), cells - 1)
    assert wide.wide and len(wide.table.columns) == len(LEADING_COLUMNS) + 6
    assert not compact.wide and list(compact.table.columns) == LEADING_COLUMNS
    pd.testing.assert_frame_equal(compact.table, wide.table[LEADING_COLUMNS])


def test_the_figure_shows_the_most_included_studies_and_reviews_above_the_cap() -> None:
    matrix = published()
    m = build_matrix(inclusions(matrix), {}, OverlapSettings())
    view = select_view(m, figure_rows=4, max_reviews=3)
    sums = matrix.sum(axis=1)
    top = sorted(sums.index, key=lambda s: (-sums[s], s))[:4]
    assert [m.studies[i] for i in view.rows] == top
    per_review = matrix.loc[top].sum(axis=0)
    best = sorted(per_review.index, key=lambda r: (-per_review[r], r))[:3]
    assert [m.reviews[j] for j in view.columns] == sorted(best)
    fig = draw_matrix(m, OverlapSettings(), {}, figure_rows=4, max_reviews=3)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == top
    assert len(ax.get_xticklabels()) == 3
    assert "the 4 of 14 studies" in ax.get_title(loc="left") and "the 3 of 6 reviews" in ax.get_title(loc="left")
    whole = draw_matrix(m, OverlapSettings(), {}, figure_rows=60, max_reviews=60).axes[0]
    assert len(whole.get_yticklabels()) == 14 and "14 primary studies" in whole.get_title(loc="left")


def test_the_figure_hatches_the_missing_cells() -> None:
    declared = pd.DataFrame({"review_id": ["Morton2014"], "study_id": ["Yu2012"]})
    m = build_matrix(inclusions(published()), {}, OverlapSettings(), declared)
    ax = draw_matrix(m, OverlapSettings(), {}, figure_rows=60, max_reviews=60).axes[0]
    hatched = [c for c in ax.collections if c.get_hatch()]
    assert len(hatched) == 1 and len(hatched[0].get_paths()) == 1


def test_reruns_write_identical_bytes(tmp_path: Path) -> None:
    declared = pd.DataFrame({"review_id": ["Morton2014"], "study_id": ["Yu2012"]})
    for run in ("a", "b"):
        m = build_matrix(inclusions(published()), {}, OverlapSettings(), declared)
        write_table(matrix_table(m, OverlapSettings(), WIDE).table, tmp_path / run / "m.csv")
        matrix_figure(m, OverlapSettings(), {}, tmp_path / run / "m.svg", 60, 60)
    for name in ("m.csv", "m.svg", "m.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


# ----------------------------------------------------------------------------------------------------------------
# The simulated analysis, end to end


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


@pytest.mark.e2e
def test_the_simulated_table_agrees_with_review_studies(simulated_run: Path) -> None:
    header, rows = read_rows(simulated_run / "results/simulated/overlap/study_review_matrix.csv")
    _, per_review = read_rows(simulated_run / "results/simulated/overlap/review_studies.csv")
    reviews = header[len(LEADING_COLUMNS) :]
    assert reviews == [r["review_id"] for r in per_review]  # wide: 189 x 35 is far below the limit
    for r in per_review:
        included = [row for row in rows if row[r["review_id"]] == "1"]
        assert len(included) == int(r["n_studies"]), r["review_id"]
        assert sum(row["n_reviews"] == "1" for row in included) == int(r["n_unique"]), r["review_id"]
    for row in rows:
        marks = [row[r] for r in reviews]
        assert set(marks) <= {"1", "0", ""}
        assert marks.count("1") == int(row["n_reviews"]) and marks.count("") == int(row["n_missing"])
        assert row["reviews"].split(";") == [r for r in reviews if row[r] == "1"]
    _, cca = read_rows(simulated_run / "results/simulated/overlap/cca_overall.csv")
    assert sum(int(row["n_missing"]) for row in rows) == int(cca[0]["x"]) > 0
    assert sum(int(row["n_reviews"]) for row in rows) == int(cca[0]["N"])


@pytest.mark.e2e
def test_the_simulated_report_and_supplement_show_the_matrix(simulated_run: Path) -> None:
    html = (simulated_run / "reports/simulated/umbrella_review.html").read_text(encoding="utf-8")
    section = html[html.index('<section id="overlap">') : html.index('<section id="effects">')]
    assert "<h3>Citation matrix</h3>" in section
    assert "Shown: the 60 of 189 studies included by the most reviews" in section
    assert "S4e in the supplement" in section
    _, dictionary = read_rows(simulated_run / "reports/simulated/supplement/data_dictionary.csv")
    columns = [row for row in dictionary if row["table"] == "S4e_citation_matrix"]
    assert len(columns) == len(LEADING_COLUMNS) + 35
    assert all("Extra column" not in row["description"] for row in columns)
    assert {row["type"] for row in columns[len(LEADING_COLUMNS) :]} == {"integer"}
