"""Double extraction (umbrella.extract.agreement): kappa against published numbers, and two or three extractors'
copies of the simulated data with known differences planted in their CSV text."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.inter_rater import aggregate_raters, to_table
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa
from umbrella.core.config import load_config, vocabularies
from umbrella.core.sheets import load_dataset
from umbrella.extract.agreement import (
    AGREEMENT_COLUMNS,
    ALL_CELLS,
    ROWS,
    cohens_kappa,
    compare_copies,
    compared_columns,
    fleiss_kappa,
)

SIMULATED = ROOT / "data" / "raw" / "simulated"
VOCABULARIES = vocabularies(load_config(ROOT / "config" / "simulated.yaml"))

# --------------------------------------------------------------------------------------------------------------
# Kappa against published numbers

#: Fleiss (1971), Psychological Bulletin 76:378-382: psychiatric diagnoses of 30 patients by 6 raters each
#: (1 depression, 2 personality disorder, 3 schizophrenia, 4 neurosis, 5 other), as irr's `diagnoses` data holds
#: them (rater 1 to 6 from left to right). Fleiss prints kappa = .430.
FLEISS_1971 = (
    "444444 222555 233335 555555 222444 113333 333355 113334 114444 555555 144444 124444 222333 144444 224445 "
    "333335 111455 111112 224444 133555 555555 244444 224555 114444 144445 222224 111155 224444 133333 555555"
).split()
#: Wikipedia, "Fleiss' kappa", worked example: 10 items, 14 raters, the raters per category 1-5; kappa = 0.210.
WIKIPEDIA_FLEISS = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def test_cohens_kappa_reproduces_the_worked_example() -> None:
    # Wikipedia, "Cohen's kappa", worked example: 50 proposals, both yes 20, A yes B no 5, A no B yes 10, both no
    # 15: p_o = 0.7, p_e = 0.5, kappa = 0.4 (printed); irr::kappa2 gives 0.400000000000000 (tests/reference/kappa_irr.R)
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohens_kappa(a, b) == pytest.approx(0.4, abs=1e-15)


def test_fleiss_kappa_reproduces_the_worked_example() -> None:
    # printed 0.210; irr::kappam.fleiss gives 0.209930704421955 (tests/reference/kappa_irr.R)
    ratings = [[c for c, n in enumerate(row, start=1) for _ in range(n)] for row in WIKIPEDIA_FLEISS]
    kappa = fleiss_kappa(ratings)
    assert round(kappa, 3) == 0.210
    assert kappa == pytest.approx(0.209930704421955, abs=1e-12)


def test_fleiss_kappa_reproduces_fleiss_1971() -> None:
    ratings = [list(patient) for patient in FLEISS_1971]
    kappa = fleiss_kappa(ratings)
    assert round(kappa, 3) == 0.430  # as Fleiss (1971) prints it
    assert kappa == pytest.approx(0.430244520060141, abs=1e-12)  # irr::kappam.fleiss (tests/reference/kappa_irr.R)
    three = fleiss_kappa([list(patient[:3]) for patient in FLEISS_1971])
    assert three == pytest.approx(0.534336782690499, abs=1e-12)  # irr::kappam.fleiss of raters 1-3
    pair = cohens_kappa([p[0] for p in FLEISS_1971], [p[1] for p in FLEISS_1971])
    assert pair == pytest.approx(0.651162790697674, abs=1e-12)  # irr::kappa2 of raters 1 and 2


def test_kappa_is_none_when_undefined_and_blank_is_a_category() -> None:
    assert cohens_kappa([], []) is None
    assert cohens_kappa(["Y", "Y"], ["Y", "Y"]) is None  # expected agreement 1
    assert fleiss_kappa([["Y", "Y", "Y"], ["Y", "Y", "Y"]]) is None
    assert fleiss_kappa([]) is None
    # blank vs Y on one item of four: a 2x2 table [[1, 0], [1, 2]] of (blank, Y): p_o = 3/4,
    # p_e = (2·1 + 2·3)/16 = 1/2, kappa = 1/2
    assert cohens_kappa([None, np.nan, "Y", "Y"], [None, "Y", "Y", "Y"]) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        cohens_kappa(["Y"], ["Y", "N"])
    with pytest.raises(ValueError):
        fleiss_kappa([["Y", "N"], ["Y"]])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["Y", "PY", "N", None]), st.sampled_from(["Y", "PY", "N", None])),
                min_size=2, max_size=40))  # fmt: skip
def test_cohens_kappa_equals_statsmodels(pairs: list[tuple]) -> None:
    codes = {"Y": 0, "PY": 1, "N": 2, None: 3}
    table, _ = to_table(np.array([[codes[x], codes[y]] for x, y in pairs]), bins=4)
    a, b = zip(*pairs, strict=True)
    ours = cohens_kappa(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        theirs = sm_cohens_kappa(table, return_results=False)
    if ours is None:
        assert not np.isfinite(theirs) or theirs == pytest.approx(1.0)
    else:
        assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    raters=st.integers(2, 6),
    items=st.lists(st.lists(st.sampled_from(["a", "b", "c", ""]), min_size=6, max_size=6), min_size=1, max_size=30),
)
def test_fleiss_kappa_equals_statsmodels(raters: int, items: list[list[str]]) -> None:
    ratings = [row[:raters] for row in items]
    ours = fleiss_kappa(ratings)
    counts, _ = aggregate_raters(np.array(ratings, dtype=object))
    with np.errstate(divide="ignore", invalid="ignore"):
        theirs = sm_fleiss_kappa(counts, method="fleiss")
    if ours is None:
        assert not np.isfinite(theirs)
    else:
        assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


# --------------------------------------------------------------------------------------------------------------
# Planted differences in copies of the simulated data


def copy_of(tmp_path: Path, name: str, changes: dict[str, list[tuple[str, str]]]) -> Path:
    """A copy of the simulated CSV sheets with each (old, new) text replaced once in its sheet's file; an old text
    of "" appends the new text as a last row."""
    folder = tmp_path / name
    shutil.copytree(SIMULATED, folder)
    for sheet, edits in changes.items():
        path = folder / f"{sheet}.csv"
        text = path.read_text(encoding="utf-8")
        for old, new in edits:
            if old == "":
                text += new
                continue
            assert text.count(old) == 1, (sheet, old)
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
    return folder


def tables(folder: Path) -> dict[str, pd.DataFrame]:
    return {name: sheet.table for name, sheet in load_dataset(folder, VOCABULARIES).items()}


#: In every copy: a studies key written in two ways (case and spaces) that must still match.
SHARED = {"studies": [("Sim001,S00016,1999,\n", "Sim001,S00016,1999,Personal recovery\n")]}
SHARED_B = {"studies": [("Sim001,S00016,1999,\n", "Sim001,S00016,1999,personal   Recovery\n")]}

#: Copy B: what differs from copy A (the simulated data as bundled), and what must not count.
PLANTED_B = {
    "reviews": [
        ("Sim003,Thornwick,2021,", "Sim003,Thornwick,2022,"),  # a changed year
        ("Canada; USA,2021-03,high,simulated,\n", "Canada; USA,2021-03,high,simulated,checked twice\n"),  # notes
    ],
    "effects": [
        (",SMD,-0.28,-0.42,", ",SMD,-0.31,-0.42,"),  # E001: a changed number
        ("simulated,\nE002,", "p. 4 (Table 2),\nE002,"),  # E001: another source, not compared
        (",SMD,0.23,0,0.45,95,4,316,,", ",SMD,0.230,0,0.45,95.0,4,316,40,"),  # E002: 0.230 = 0.23; n_cases filled
        ("E003,Sim005,", "e003,Sim005,"),  # E003: the key in another case, not a difference...
        ("0.23,0.08,0.39,95,5,", "0.23,0.08,0.39,95,6,"),  # ... while its k_studies differs
        ("E004,Sim007,Depressive symptoms,Depression,6-month", "E004,Sim007,Depressive  symptoms,Depression,6-Month"),
    ],
    "amstar2": [
        ("Sim001,1,N,R1,\n", "Sim001,1,partial yes,R1,\n"),  # a changed answer (written long)
        ("Sim001,2,Y,R1,\n", "Sim001,2,yes,R1,a note\n"),  # the same answer written long; a note, not compared
    ],
    "studies": [("Sim001,S00011,1997,\n", "")],  # a deleted row
    "implementation": [("", "Sim014,inner_setting,Culture,Planted factor,barrier\n")],  # an extra row
}
#: (sheet, key, column, kind, A, B): exactly the differences planted in B, in the order they are listed.
EXPECTED_AB = [
    ("reviews", "review_id = Sim003", "year", "value", "2021", "2022"),
    ("amstar2", "review_id = Sim001; item = 1; rater = R1", "answer", "value", "N", "PY"),
    ("effects", "effect_id = E001", "estimate", "value", "-0.28", "-0.31"),
    ("effects", "effect_id = E002", "n_cases", "value", "", "40"),
    ("effects", "effect_id = E003", "k_studies", "value", "5", "6"),
    ("effects", "effect_id = E004", "timepoint", "value", "6-month follow-up", "6-Month follow-up"),
    ("studies", "review_id = Sim001; study_id = S00011; outcome = ", "", "row", "present", "absent"),
    (
        "implementation",
        "review_id = Sim014; cfir_domain = inner_setting; construct = Culture; factor = Planted factor; role = barrier",
        "",
        "row",
        "absent",
        "present",
    ),
]


def merged(*changes: dict) -> dict:
    out: dict[str, list] = {}
    for change in changes:
        for sheet, edits in change.items():
            out.setdefault(sheet, []).extend(edits)
    return out


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, pd.DataFrame]]:
    tmp = tmp_path_factory.mktemp("copies")
    a = copy_of(tmp, "A", SHARED)
    b = copy_of(tmp, "B", merged(SHARED_B, PLANTED_B))
    c = copy_of(tmp, "C", merged(SHARED, {"effects": [(",SMD,-0.28,-0.42,", ",SMD,-0.29,-0.42,")]}))
    reconciled = copy_of(
        tmp,
        "reconciled",
        merged(
            SHARED,
            {"effects": [(",SMD,-0.28,-0.42,", ",SMD,-0.30,-0.42,")]},
            {"effects": [(next(line + "\n" for line in _lines("effects") if line.startswith("E002,")), "")]},
            {"implementation": [("", "Sim015,inner_setting,Culture,Only in the reconciled set,barrier\n")]},
        ),
    )
    return {"A": tables(a), "B": tables(b), "C": tables(c), "reconciled": tables(reconciled)}


def _lines(sheet: str) -> list[str]:
    return (SIMULATED / f"{sheet}.csv").read_text(encoding="utf-8").splitlines()


def listed(found: pd.DataFrame, extractors: list[str]) -> list[tuple]:
    return [tuple(row) for row in found[["sheet", "key", "column", "kind", *extractors]].itertuples(index=False)]


def test_two_copies_differ_exactly_where_planted(copies) -> None:
    result = compare_copies({"A": copies["A"], "B": copies["B"]})
    assert listed(result.disagreements, ["A", "B"]) == EXPECTED_AB
    assert list(result.disagreements.columns) == ["sheet", "key", "column", "kind", "A", "B", "reconciled", "status"]
    assert result.extractors == ("A", "B")
    assert set(result.disagreements["status"]) == {"unreconciled"}
    assert set(result.disagreements["reconciled"]) == {""}
    assert result.n_unreconciled == len(EXPECTED_AB)


def test_key_is_shown_as_the_first_copy_writes_it(copies) -> None:
    result = compare_copies({"B": copies["B"], "A": copies["A"]})
    found = listed(result.disagreements, ["B", "A"])
    expected = [(s, k.replace("E003", "e003"), c, kind, b, a) for s, k, c, kind, a, b in EXPECTED_AB]
    # rows follow the sheet's sort order as the first copy writes the keys: e003 after E004, as a tidy sheet has it
    expected[4], expected[5] = expected[5], expected[4]
    assert found == expected
    assert list(result.disagreements.columns[4:6]) == ["B", "A"]


def test_agreement_counts_the_planted_differences(copies) -> None:
    agreement = compare_copies({"A": copies["A"], "B": copies["B"]}).agreement
    assert list(agreement.columns) == AGREEMENT_COLUMNS
    row = agreement.set_index(["sheet", "column"])
    n_effects = len(copies["A"]["effects"])
    assert row.loc[("effects", "estimate"), ["n_compared", "n_agree", "n_disagreements"]].tolist() == [
        n_effects,
        n_effects - 1,
        1,
    ]
    # n_cases is blank in every simulated effect: only the one filled in B is compared
    assert row.loc[("effects", "n_cases"), ["n_compared", "n_agree"]].tolist() == [1, 0]
    assert row.loc[("effects", "n_cases"), "percent_agreement"] == 0.0
    n_studies = len(copies["A"]["studies"])
    assert row.loc[("studies", ROWS), ["n_compared", "n_agree", "n_disagreements"]].tolist() == [
        n_studies,
        n_studies - 1,
        1,
    ]
    n_impl = len(copies["A"]["implementation"])
    assert row.loc[("implementation", ROWS), ["n_compared", "n_agree"]].tolist() == [n_impl + 1, n_impl]
    assert ("implementation", "role") not in row.index  # rows only: a row is its own key
    # not compared: free-text remarks and the key
    assert ("effects", "source") not in row.index and ("amstar2", "note") not in row.index
    assert ("effects", "effect_id") not in row.index and ("amstar2", "rater") not in row.index
    assert row.loc[("amstar2", "answer"), "categorical"]
    assert not row.loc[("effects", "estimate"), "categorical"]
    # the sheet's cells pooled
    cells = agreement[(agreement["sheet"] == "effects") & ~agreement["column"].isin([ROWS, ALL_CELLS])]
    assert row.loc[("effects", ALL_CELLS), "n_compared"] == cells["n_compared"].sum()
    assert row.loc[("effects", ALL_CELLS), "n_disagreements"] == 4
    # each disagreement is counted once on its column (or on the rows), and again in its sheet's pooled cells
    assert agreement.loc[agreement["column"] != ALL_CELLS, "n_disagreements"].sum() == len(EXPECTED_AB)
    # order: sheets as SHEETS lists them, columns in schema order
    assert list(dict.fromkeys(agreement["sheet"])) == [
        "reviews",
        "amstar2",
        "effects",
        "studies",
        "study_effects",
        "implementation",
        "experiences",
    ]
    assert agreement.loc[agreement["sheet"] == "effects", "column"].tolist()[:3] == [
        "review_id",
        "outcome",
        "outcome_group",
    ]


def test_amstar2_kappa_is_cohens_over_the_compared_answers(copies) -> None:
    agreement = compare_copies({"A": copies["A"], "B": copies["B"]}).agreement.set_index(["sheet", "column"])
    a, b = copies["A"]["amstar2"], copies["B"]["amstar2"]
    assert list(a[["review_id", "item", "rater"]].itertuples(index=False)) == list(
        b[["review_id", "item", "rater"]].itertuples(index=False)
    )
    assert agreement.loc[("amstar2", "answer"), "kappa"] == pytest.approx(cohens_kappa(a["answer"], b["answer"]))
    assert agreement.loc[("amstar2", "answer"), "n_compared"] == len(a)


def test_three_extractors(copies) -> None:
    result = compare_copies({"A": copies["A"], "B": copies["B"], "C": copies["C"]})
    found = result.disagreements.set_index(["sheet", "key", "column"])
    assert found.loc[("effects", "effect_id = E001", "estimate"), ["A", "B", "C"]].tolist() == [
        "-0.28",
        "-0.31",
        "-0.29",
    ]
    assert found.loc[("reviews", "review_id = Sim003", "year"), ["A", "B", "C"]].tolist() == ["2021", "2022", "2021"]
    row = ("studies", "review_id = Sim001; study_id = S00011; outcome = ", "")
    assert found.loc[row, ["kind", "A", "B", "C"]].tolist() == ["row", "present", "absent", "present"]
    assert len(result.disagreements) == len(EXPECTED_AB)
    answers = np.column_stack([copies[e]["amstar2"]["answer"].to_numpy(dtype=object) for e in "ABC"])
    kappa = result.agreement.set_index(["sheet", "column"]).loc[("amstar2", "answer"), "kappa"]
    assert kappa == pytest.approx(fleiss_kappa(answers.tolist()))
    assert kappa != pytest.approx(cohens_kappa(answers[:, 0], answers[:, 1]))


def test_reconciled_set_settles_disagreements(copies) -> None:
    result = compare_copies({"A": copies["A"], "B": copies["B"]}, reconciled=copies["reconciled"])
    status = {
        (s, k, c): (r, st)
        for s, k, c, r, st in result.disagreements[["sheet", "key", "column", "reconciled", "status"]].itertuples(
            index=False
        )
    }
    assert status == {
        ("reviews", "review_id = Sim003", "year"): ("2021", "reconciled"),
        ("amstar2", "review_id = Sim001; item = 1; rater = R1", "answer"): ("N", "reconciled"),
        ("effects", "effect_id = E001", "estimate"): ("-0.3", "reconciled"),
        ("effects", "effect_id = E002", "n_cases"): ("", "unreconciled"),  # the reconciled set lacks E002
        ("effects", "effect_id = E003", "k_studies"): ("5", "reconciled"),
        ("effects", "effect_id = E004", "timepoint"): ("6-month follow-up", "reconciled"),
        ("studies", "review_id = Sim001; study_id = S00011; outcome = ", ""): ("present", "reconciled"),
        (
            "implementation",
            "review_id = Sim014; cfir_domain = inner_setting; construct = Culture; factor = Planted factor; "
            "role = barrier",
            "",
        ): ("absent", "reconciled"),
    }
    assert result.n_unreconciled == 1
    # the analysis runs on one extractor's own copy: nothing is settled
    own = compare_copies({"A": copies["A"], "B": copies["B"]}, reconciled=copies["A"], reconciled_copy="A")
    assert own.n_unreconciled == len(EXPECTED_AB)
    assert set(own.disagreements["reconciled"]) == {""}
    with pytest.raises(ValueError, match="not one of the extractors"):
        compare_copies({"A": copies["A"], "B": copies["B"]}, reconciled_copy="Z")


def test_same_copies_same_tables_whatever_the_row_order(copies) -> None:
    first = compare_copies({"A": copies["A"], "B": copies["B"]})
    shuffled = {
        name: table.sample(frac=1.0, random_state=7) if name != "reviews" else table[::-1]
        for name, table in copies["B"].items()
    }
    again = compare_copies({"A": copies["A"], "B": shuffled})
    pd.testing.assert_frame_equal(first.disagreements, again.disagreements)
    pd.testing.assert_frame_equal(first.agreement, again.agreement)


def test_identical_copies_agree_everywhere(copies) -> None:
    result = compare_copies({"A": copies["A"], "B": {k: v.copy() for k, v in copies["A"].items()}})
    assert result.disagreements.empty
    assert list(result.disagreements.columns) == ["sheet", "key", "column", "kind", "A", "B", "reconciled", "status"]
    compared = result.agreement[result.agreement["n_compared"] > 0]
    assert (compared["percent_agreement"] == 100).all()
    assert (result.agreement["n_disagreements"] == 0).all()


# --------------------------------------------------------------------------------------------------------------
# Small hand-made copies


def reviews(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["review_id", "year", "review_type", "notes"])
    frame["year"] = frame["year"].astype("Int64")
    return frame.astype({"review_id": object, "review_type": object, "notes": object})


def test_agreement_on_a_hand_made_example() -> None:
    a = reviews(
        [
            ("R1", 2019, "sr_meta_analysis", "x"),
            ("R2", 2020, "scoping", None),
            ("R3", 2021, "sr_meta_analysis", None),
            ("R4", 2022, None, None),
            ("R5", 2018, None, None),
            ("R6", 2017, "other", None),
        ]
    )
    b = reviews(
        [
            ("r1", 2019, "sr_meta_analysis", "y"),
            ("R2", 2021, "scoping", None),
            ("R3", 2021, "scoping", None),
            ("R4", 2022, "sr_meta_analysis", None),
            ("R5", 2018, None, None),
            ("R7", 2016, "other", None),
        ]
    )
    result = compare_copies({"A": {"reviews": a}, "B": {"reviews": b}})
    row = result.agreement.set_index("column")
    # rows: R1..R7 (R1 = r1), five in both
    assert row.loc[ROWS, ["n_compared", "n_agree", "n_disagreements"]].tolist() == [7, 5, 2]
    # year: five compared, R2 differs
    assert row.loc["year", ["n_compared", "n_agree", "n_disagreements"]].tolist() == [5, 4, 1]
    assert row.loc["year", "percent_agreement"] == pytest.approx(80.0)
    # review_type: R5 blank in both (not counted); pairs (m, m), (s, s), (m, s), (blank, m):
    # p_o = 2/4, A: m 2, s 1, blank 1; B: m 2, s 2: p_e = (2·2 + 1·2)/16 = 3/8, kappa = (1/2 − 3/8)/(5/8) = 0.2
    assert row.loc["review_type", ["n_compared", "n_agree", "categorical"]].tolist() == [4, 2, True]
    assert row.loc["review_type", "kappa"] == pytest.approx(0.2)
    assert np.isnan(row.loc["year", "kappa"])
    # columns blank in every copy are not counted; notes are not compared
    assert row.loc["title", "n_compared"] == 0 and np.isnan(row.loc["title", "percent_agreement"])
    assert "notes" not in row.index
    assert row.loc[ALL_CELLS, ["n_compared", "n_agree", "n_disagreements"]].tolist() == [9, 6, 3]
    assert listed(result.disagreements, ["A", "B"]) == [
        ("reviews", "review_id = R2", "year", "value", "2020", "2021"),
        ("reviews", "review_id = R3", "review_type", "value", "sr_meta_analysis", "scoping"),
        ("reviews", "review_id = R4", "review_type", "value", "", "sr_meta_analysis"),
        ("reviews", "review_id = R6", "", "row", "present", "absent"),
        ("reviews", "review_id = R7", "", "row", "absent", "present"),
    ]


def test_values_compare_as_typed() -> None:
    def effects(estimates: list, outcomes: list) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "effect_id": ["E1", "E2", "E3", "E4"],
                "outcome": pd.Series(outcomes, dtype=object),
                "estimate": pd.Series(estimates, dtype="float64"),
            }
        )

    a = effects([0.5, 0.1 + 0.2, 1e-7, 2.0], ["Hope", "Hope", " Self  esteem ", "hope"])
    b = effects([0.50, 0.3, 1.5e-7, 2.5], ["Hope", "Hope ", "Self esteem", "Hope"])
    found = compare_copies({"A": {"effects": a}, "B": {"effects": b}}).disagreements
    # 0.1 + 0.2 = 0.3 at 12 significant digits; whitespace is not a difference, case is; columns in schema order
    assert listed(found, ["A", "B"]) == [
        ("effects", "effect_id = E3", "estimate", "value", "1e-07", "1.5e-07"),
        ("effects", "effect_id = E4", "outcome", "value", "hope", "Hope"),
        ("effects", "effect_id = E4", "estimate", "value", "2", "2.5"),
    ]


def test_repeated_keys_are_matched_on_the_full_key_then_in_turn() -> None:
    def amstar(rows: list[tuple]) -> pd.DataFrame:
        frame = pd.DataFrame(rows, columns=["review_id", "item", "answer", "rater"]).astype(object)
        frame["item"] = frame["item"].astype("Int64")
        return frame

    # each extractor is a rater: their copies match on review and item
    a = amstar([("R1", 1, "Y", "AB"), ("R1", 2, "N", "AB")])
    b = amstar([("R1", 1, "Y", "CD"), ("R1", 2, "PY", "CD")])
    found = compare_copies({"A": {"amstar2": a}, "B": {"amstar2": b}}).disagreements
    assert listed(found, ["A", "B"]) == [("amstar2", "review_id = R1; item = 2", "answer", "value", "N", "PY")]
    # a copy holding several raters: that item is matched on the rater too
    b = amstar([("R1", 1, "Y", "AB"), ("R1", 1, "N", "consensus"), ("R1", 2, "N", "CD")])
    found = compare_copies({"A": {"amstar2": a}, "B": {"amstar2": b}}).disagreements
    assert listed(found, ["A", "B"]) == [
        ("amstar2", "review_id = R1; item = 1; rater = consensus", "", "row", "absent", "present"),
    ]
    # rows that share even the full key (study_effects marked multiple_es) are matched in turn
    study = pd.DataFrame(
        {
            "outcome": ["Hope", "Hope", "Hope"],
            "review_id": ["R1", "R1", "R1"],
            "study_id": ["S1", "S1", "S2"],
            "measure": ["SMD", "SMD", "SMD"],
            "estimate": [0.1, 0.2, 0.3],
            "multiple_es": ["groups", "groups", None],
        }
    ).astype({"outcome": object, "review_id": object, "study_id": object, "measure": object, "multiple_es": object})
    other = study.copy()
    other.loc[1, "estimate"] = 0.25
    found = compare_copies({"A": {"study_effects": study}, "B": {"study_effects": other}}).disagreements
    assert listed(found, ["A", "B"]) == [
        (
            "study_effects",
            "outcome = Hope; review_id = R1; study_id = S1; occurrence = 2",
            "estimate",
            "value",
            "0.2",
            "0.25",
        )
    ]


def test_wide_citation_matrix(tmp_path: Path) -> None:
    def folder(name: str, matrix: str) -> dict[str, pd.DataFrame]:
        path = tmp_path / name
        path.mkdir()
        (path / "reviews.csv").write_text("review_id\nR1\nR2\n", encoding="utf-8")
        (path / "citation_matrix.csv").write_text(matrix, encoding="utf-8")
        return tables(path)

    a = folder("A", "study,R1,R2\nS1,1,0\nS2,1,NA\nS3,0,1\n")
    b = folder("B", "study,R1,R2\nS1,1,1\nS2,1,1\nS3,,1\n")
    result = compare_copies({"A": a, "B": b})
    assert listed(result.disagreements[result.disagreements["sheet"] == "citation_matrix"], ["A", "B"]) == [
        ("citation_matrix", "study_id = S1; review_id = R2", "", "row", "absent", "present"),
        ("citation_matrix", "study_id = S2; review_id = R2", "value", "value", "NA", "1"),
    ]
    row = result.agreement.set_index(["sheet", "column"])
    assert row.loc[("citation_matrix", "value"), ["n_compared", "n_agree"]].tolist() == [4, 3]
    assert row.loc[("citation_matrix", ROWS), ["n_compared", "n_agree"]].tolist() == [5, 4]


def test_sheets_missing_from_a_copy_and_bad_calls() -> None:
    a = {"reviews": reviews([("R1", 2019, None, None)]), "effects": pd.DataFrame({"effect_id": ["E1"]})}
    b = {"reviews": reviews([("R1", 2019, None, None)])}
    result = compare_copies({"A": a, "B": b})
    assert listed(result.disagreements, ["A", "B"]) == [("effects", "effect_id = E1", "", "row", "present", "absent")]
    with pytest.raises(ValueError, match="at least two"):
        compare_copies({"A": a})
    with pytest.raises(ValueError, match="cannot be named"):
        compare_copies({"A": a, "status": b})


def test_compared_columns_follow_the_schema_and_shared_extras() -> None:
    a = pd.DataFrame(columns=["review_id", "year", "notes", "extra", "only_a"])
    b = pd.DataFrame(columns=["review_id", "year", "extra"])
    cols = compared_columns("reviews", [a, b])
    assert cols[0] == "first_author" and cols[-1] == "extra"
    assert not {"review_id", "source", "notes", "only_a"} & set(cols)
    assert compared_columns("amstar2", []) == ["answer"]


def test_rows_without_a_key_are_listed_by_content_whatever_their_order() -> None:
    rows = [("R1", "users", "Hope", "Agency", "felt heard"), ("R1", "users", "Hope", "Agency", "felt able")]
    columns = ["review_id", "perspective", "theme", "subtheme", "finding"]
    a = pd.DataFrame(rows, columns=columns).astype(object)
    b = pd.DataFrame(rows[:0], columns=columns).astype(object)
    found = compare_copies({"A": {"experiences": a}, "B": {"experiences": b}}).disagreements
    again = compare_copies({"A": {"experiences": a[::-1]}, "B": {"experiences": b}}).disagreements
    shown = "review_id = R1; perspective = users; theme = Hope; subtheme = Agency; finding = "
    assert found["key"].tolist() == [shown + "felt able", shown + "felt heard"]
    pd.testing.assert_frame_equal(found, again)
