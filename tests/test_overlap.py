"""Overlap of primary studies: CCA overall and pairwise (ccaR's example), structural missingness, the wide
matrix, per-outcome scopes, properties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, write
from hypothesis import given, settings
from hypothesis import strategies as st
from umbrella.core.errors import InputError
from umbrella.core.sheets import load_dataset
from umbrella.overlap.cca import (
    OverlapSettings,
    band,
    band_counts,
    build_matrix,
    by_outcome,
    overall,
    pair_count,
    pairwise,
    study_frequency,
    unique_studies,
)

CCAR = ROOT / "tests/data/ccaR_test_citation_matrix.csv"
DEFAULT = OverlapSettings()


def long_from_wide(wide: pd.DataFrame) -> pd.DataFrame:
    first = wide.columns[0]
    melted = wide.melt(id_vars=first, var_name="review_id", value_name="v")
    return melted[melted["v"] == 1].rename(columns={first: "study_id"})[["review_id", "study_id"]]


def inclusions(pairs: dict[str, list[str]], years: dict[str, int] | None = None) -> pd.DataFrame:
    rows = [(r, s) for r, studies in pairs.items() for s in studies]
    df = pd.DataFrame(rows, columns=["review_id", "study_id"])
    df["study_year"] = df["study_id"].map(years or {}).astype(float)
    return df


def test_ccar_example_overall() -> None:
    m = build_matrix(long_from_wide(pd.read_csv(CCAR)), {}, DEFAULT)
    row = overall(m, DEFAULT).iloc[0]
    assert (row["N"], row["r"], row["c"], row["x"]) == (43, 14, 6, 0)
    assert row["cca"] == pytest.approx(100 * 29 / 70) and row["band"] == "very high"


def test_hand_worked_pairwise() -> None:
    m = build_matrix(inclusions({"A": ["s1", "s2", "s3"], "B": ["s2", "s3", "s4", "s5"], "C": ["s6"]}), {}, DEFAULT)
    pairs = pairwise(m, DEFAULT).set_index(["review_a", "review_b"])
    ab = pairs.loc[("A", "B")]
    assert (ab["n_overlap"], ab["N"], ab["r"]) == (2, 7, 5)
    assert ab["cca"] == pytest.approx(100 * (7 - 5) / (5 * 2 - 5))  # 40 %
    # Pairs that share no study are not listed; they count as slight (CCA 0 %) in the band counts.
    assert list(pairs.index) == [("A", "B")]
    assert band_counts(pairwise(m, DEFAULT), 3) == [2, 0, 0, 1] and pair_count(3) == 3
    assert study_frequency(m).values.tolist() == [[1, 4], [2, 2]]
    assert unique_studies(m).set_index("review_id")["n_unique"].to_dict() == {"A": 1, "B": 2, "C": 1}


def test_structural_missingness_hand_worked() -> None:
    # Review A searched to 2010: s3 (2015) cannot be in A. B searched to 2020 includes it.
    data = inclusions({"A": ["s1", "s2"], "B": ["s2", "s3"]}, {"s1": 2005, "s2": 2008, "s3": 2015})
    m = build_matrix(data, {"A": "2010-06", "B": "2020"}, DEFAULT)
    row = overall(m, DEFAULT).iloc[0]
    # N = 4, r = 3, c = 2, X = 1 (s3 x A)
    assert (row["N"], row["r"], row["x"]) == (4, 3, 1)
    assert row["cca"] == pytest.approx(100 * 1 / 3)
    assert row["cca_adjusted"] == pytest.approx(100 * 1 / 2)
    pair = pairwise(m, DEFAULT).iloc[0]
    assert (pair["x"], pair["cca_adjusted"]) == (1, pytest.approx(50.0))
    off = OverlapSettings(structural_missingness=False)
    assert overall(build_matrix(data, {"A": "2010", "B": "2020"}, off), off).iloc[0]["x"] == 0


def test_same_year_rule_and_contradicting_inclusions() -> None:
    data = inclusions({"A": ["s1", "s4"], "B": ["s2", "s3"]}, {"s1": 2000, "s2": 2010, "s3": 2012, "s4": 2012})
    search = {"A": "2010", "B": "2012"}
    possible = overall(build_matrix(data, search, DEFAULT), DEFAULT).iloc[0]["x"]
    impossible = OverlapSettings(same_year="impossible")
    stricter = overall(build_matrix(data, search, impossible), impossible).iloc[0]["x"]
    # possible: A cannot have s3 (2012 > 2010); s4 (2012) is in A all the same, so it is not missing.
    assert possible == 1
    # impossible: A also cannot have s2 (2010); B cannot have s3/s4 from 2012, but s3 is in B -> s4 only.
    assert stricter == 3


def test_declared_missing_cells_count_as_x() -> None:
    data = inclusions({"A": ["s1"], "B": ["s1", "s2"]})
    declared = pd.DataFrame({"review_id": ["A"], "study_id": ["s2"]})
    row = overall(build_matrix(data, {}, DEFAULT, declared), DEFAULT).iloc[0]
    assert row["x"] == 1 and row["cca_adjusted"] == pytest.approx(100.0)


def test_normalised_id_matching() -> None:
    data = inclusions({"A": ["Smith 2010a"], "B": ["smith2010A"]})
    assert overall(build_matrix(data, {}, DEFAULT), DEFAULT).iloc[0]["r"] == 2
    norm = OverlapSettings(match_ids="normalised")
    assert overall(build_matrix(data, {}, norm), norm).iloc[0]["cca"] == pytest.approx(100.0)


def test_bands() -> None:
    assert band([0, 4.99, 5, 9.9, 10, 14.99, 15, 80, np.nan]).tolist() == [
        "slight", "slight", "moderate", "moderate", "high", "high", "very high", "very high", "",
    ]  # fmt: skip


def test_by_outcome_scopes_and_warning() -> None:
    scopes = [
        ("studies_outcome", "Depression", inclusions({"A": ["s1", "s2"], "B": ["s1", "s2"]})),
        ("studies_outcome", "Hope", inclusions({"A": ["s3"], "B": ["s4"]})),
    ]
    out = by_outcome(scopes, {}, DEFAULT).set_index("outcome")
    assert out.loc["Depression", "cca"] == pytest.approx(100.0) and bool(out.loc["Depression", "warning"])
    assert out.loc["Hope", "cca"] == 0 and not bool(out.loc["Hope", "warning"])
    assert out.loc["Depression", "reviews"] == "A;B"


def test_wide_matrix_sheet(tmp_path: Path) -> None:
    write(tmp_path, "reviews.csv", "review_id\nGuo2016\nChasan2014\n")
    write(
        tmp_path, "citation_matrix.csv", "Primary_study,Guo2016,Chasan2014\nCheung2011,1,1\nClark2009,0,NA\nHu2012,1,\n"
    )
    table = load_dataset(tmp_path, {})["citation_matrix"].table
    assert sorted(table.itertuples(index=False, name=None)) == [
        ("Cheung2011", "Chasan2014", "1"),
        ("Cheung2011", "Guo2016", "1"),
        ("Clark2009", "Chasan2014", "NA"),
        ("Hu2012", "Guo2016", "1"),
    ]


def test_wide_matrix_errors_name_each_cell(tmp_path: Path) -> None:
    write(tmp_path, "reviews.csv", "review_id\nGuo2016\n")
    write(tmp_path, "citation_matrix.csv", "study,Guo2016,Guo2061\nS1,1,0\nS1,yes,1\n,1,0\n")
    with pytest.raises(InputError) as info:
        load_dataset(tmp_path, {})
    found = [p.describe() for p in info.value.problems]
    assert any("row 3, column study: 'S1': duplicate study id; also in row 2" in p for p in found)
    assert any("row 3, column Guo2016: 'yes': is not allowed; allowed: 1, 0, blank, NA" in p for p in found)
    assert any("row 4, column study: '': is blank" in p for p in found)
    assert any(
        "row 1, column Guo2061: this column is not a review_id of the reviews sheet; did you mean 'Guo2016'" in p
        for p in found
    )


def test_studies_and_citation_matrix_together_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "reviews.csv", "review_id\nA\n")
    write(tmp_path, "studies.csv", "review_id,study_id\nA,S1\n")
    write(tmp_path, "citation_matrix.csv", "study,A\nS1,1\n")
    with pytest.raises(InputError, match="give the citation matrix once"):
        load_dataset(tmp_path, {})


matrices = st.lists(st.lists(st.booleans(), min_size=2, max_size=6), min_size=1, max_size=12).filter(
    lambda rows: len({len(r) for r in rows}) == 1
)


def _from_bools(rows: list[list[bool]], order: list[int] | None = None) -> pd.DataFrame:
    order = order or list(range(len(rows)))
    data = [(f"R{j}", f"S{i}") for i in order for j, v in enumerate(rows[i]) if v]
    return pd.DataFrame(data, columns=["review_id", "study_id"])


@settings(max_examples=150, deadline=None)
@given(rows=matrices, seed=st.integers(0, 1000))
def test_cca_properties(rows: list[list[bool]], seed: int) -> None:
    data = _from_bools(rows)
    if data["review_id"].nunique() < 2:
        return
    m = build_matrix(data, {}, DEFAULT)
    value = overall(m, DEFAULT).iloc[0]["cca"]
    assert 0 <= value <= 100
    pairs = pairwise(m, DEFAULT)
    assert ((pairs["cca"] >= 0) & (pairs["cca"] <= 100)).all()
    shuffled = list(np.random.default_rng(seed).permutation(len(rows)))
    again = build_matrix(_from_bools(rows, shuffled).sample(frac=1, random_state=seed), {}, DEFAULT)
    assert overall(again, DEFAULT).iloc[0]["cca"] == pytest.approx(value)
    pd.testing.assert_frame_equal(pairwise(again, DEFAULT), pairs)


@given(n=st.integers(1, 30))
def test_identical_reviews_give_100_and_disjoint_give_0(n: int) -> None:
    studies = [f"S{i}" for i in range(n)]
    same = build_matrix(inclusions({"A": studies, "B": studies}), {}, DEFAULT)
    assert overall(same, DEFAULT).iloc[0]["cca"] == pytest.approx(100.0)
    apart = build_matrix(inclusions({"A": studies, "B": [f"T{i}" for i in range(n)]}), {}, DEFAULT)
    assert overall(apart, DEFAULT).iloc[0]["cca"] == 0


def _brute_force_pair_x(data: pd.DataFrame, search: dict, declared: pd.DataFrame, a: str, b: str) -> int:
    """Structurally missing cells of the pair (a, b), cell by cell: a study of one review that the other does
    not include and either was declared missing from it or was published after its last search year."""
    years = data.groupby("study_id")["study_year"].min()
    has = {r: set(g["study_id"]) for r, g in data.groupby("review_id")}
    marked = set(map(tuple, declared[["review_id", "study_id"]].to_numpy()))
    x = 0
    for p, q in ((a, b), (b, a)):
        limit = float(search[p][:4]) if search.get(p) else np.nan
        for study in has[q] - has[p]:
            late = np.isfinite(limit) and np.isfinite(years[study]) and years[study] > limit
            x += int((p, study) in marked or late)
    return x


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_pairwise_missing_cells_match_a_cell_by_cell_count(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_reviews, n_studies = int(rng.integers(2, 12)), int(rng.integers(3, 40))
    rows = {(f"R{rng.integers(n_reviews)}", f"S{rng.integers(n_studies)}") for _ in range(int(rng.integers(4, 80)))}
    data = pd.DataFrame(sorted(rows), columns=["review_id", "study_id"])
    years = {f"S{i}": np.nan if rng.random() < 0.2 else float(rng.integers(2000, 2020)) for i in range(n_studies)}
    data["study_year"] = data["study_id"].map(years)
    search = {f"R{i}": None if rng.random() < 0.2 else str(rng.integers(2003, 2020)) for i in range(n_reviews)}
    # Declared-missing cells as a wide matrix gives them: studies without a year, in cells not included.
    undated = [s for s, y in years.items() if not np.isfinite(y)]
    cells = {(f"R{rng.integers(n_reviews)}", undated[rng.integers(len(undated))]) for _ in range(5 if undated else 0)}
    declared = pd.DataFrame(sorted(cells - rows), columns=["review_id", "study_id"])
    m = build_matrix(data, search, DEFAULT, declared)
    pairs = pairwise(m, DEFAULT)
    assert (pairs["n_overlap"] > 0).all()
    for row in pairs.itertuples():
        assert row.x == _brute_force_pair_x(data, search, declared, row.review_a, row.review_b)
