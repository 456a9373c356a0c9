"""AMSTAR-2 ratings: the published rule cases, every setting, incomplete answers, several raters, properties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import CONFIG_QUESTIONS, write
from hypothesis import given, settings
from hypothesis import strategies as st
from umbrella.core.errors import InputError
from umbrella.core.sheets import load_dataset
from umbrella.quality.rating import (
    ITEMS,
    RATINGS,
    RatingRule,
    answer_matrix,
    assess,
    cohen_kappa,
    consensus_answers,
    item_summary,
    rate,
    rate_reviews,
    rater_agreement,
)


def matrix_of(*reviews: dict[int, str | None]) -> pd.DataFrame:
    """Answer matrix with one row per dict: item -> answer (items not given are "Y")."""
    rows = [[r.get(i, "Y") for i in ITEMS] for r in reviews]
    return pd.DataFrame(rows, index=[f"R{k}" for k in range(len(rows))], columns=list(ITEMS), dtype=object)


def rating(answers: dict[int, str | None], rule: RatingRule | None = None) -> str:
    return rate(matrix_of(answers), rule or RatingRule())["rating"].iloc[0]


# Shea et al. 2017 rule cases (reference_cases/SOURCES.md, "AMSTAR-2 overall confidence")
REFERENCE_CASES = {
    "A all yes": ({}, "high"),
    "B one non-critical weakness": ({3: "N"}, "high"),
    "C two non-critical weaknesses": ({3: "N", 10: "N"}, "moderate"),
    "D one critical flaw": ({7: "N"}, "low"),
    "E two critical flaws": ({2: "N", 4: "N"}, "critically_low"),
    "F no meta-analysis is neither": ({11: "NMA", 12: "NMA", 15: "NMA", 10: "N"}, "high"),
}


@pytest.mark.parametrize("case", list(REFERENCE_CASES))
def test_reference_cases(case: str) -> None:
    answers, expected = REFERENCE_CASES[case]
    assert rating(answers) == expected


def test_counts_and_item_lists() -> None:
    out = rate(matrix_of({2: "N", 7: "N", 3: "N", 16: "N", 5: "PY"}), RatingRule()).iloc[0]
    assert out["rating"] == "critically_low"
    assert (out["critical_flaws"], out["noncritical_weaknesses"]) == (2, 2)
    assert (out["flaw_items"], out["weakness_items"], out["missing_items"]) == ("2;7", "3;16", "")


@pytest.mark.parametrize(
    ("partial_yes", "answers", "expected"),
    [
        ("met", {2: "PY", 4: "PY"}, "high"),
        ("weakness", {2: "PY"}, "high"),
        ("weakness", {2: "PY", 8: "PY"}, "moderate"),
        ("flaw", {2: "PY"}, "low"),
        ("flaw", {2: "PY", 4: "PY"}, "critically_low"),
        ("flaw", {8: "PY", 3: "N"}, "moderate"),
    ],
)
def test_partial_yes_setting(partial_yes: str, answers: dict, expected: str) -> None:
    assert rating(answers, RatingRule(partial_yes=partial_yes)) == expected


def test_critical_items_setting() -> None:
    answers = {7: "N", 13: "N"}
    assert rating(answers) == "critically_low"
    assert rating(answers, RatingRule(critical_items=(2, 4, 9, 11, 15))) == "moderate"
    assert rating({3: "N"}, RatingRule(critical_items=(3,))) == "low"


def test_moderate_to_low_after_setting() -> None:
    three = {3: "N", 5: "N", 6: "N"}
    assert rating(three) == "moderate"
    assert rating(three, RatingRule(moderate_to_low_after=3)) == "moderate"
    assert rating(three, RatingRule(moderate_to_low_after=2)) == "low"
    assert rating({3: "N"}, RatingRule(moderate_to_low_after=0)) == "high"  # high is untouched


def test_rule_settings_are_checked_and_described() -> None:
    with pytest.raises(ValueError, match="partial_yes"):
        RatingRule(partial_yes="half")
    with pytest.raises(ValueError, match="between 1 and 16"):
        RatingRule(critical_items=(0, 2))
    words = " ".join(RatingRule(critical_items=(2, 4), partial_yes="flaw", moderate_to_low_after=3).describe())
    assert "Critical items: 2, 4." in words
    assert 'A "Partial yes" counts as "No"' in words
    assert "more than 3 non-critical weaknesses without a critical flaw rate low" in words


def test_missing_answers_make_a_review_incomplete_only_when_they_matter() -> None:
    # Two critical flaws already: no answer to item 5 can change "critically low".
    assert rating({2: "N", 4: "N", 5: None}) == "critically_low"
    # All yes but a critical item unanswered: high if Yes, low if No.
    assert rating({7: None}) == "incomplete"
    # One flaw, a non-critical item missing: low either way.
    assert rating({7: "N", 3: None}) == "low"
    # One weakness, another non-critical missing: high or moderate.
    assert rating({3: "N", 5: None}) == "incomplete"
    out = rate(matrix_of({3: "N", 5: None}), RatingRule()).iloc[0]
    assert out["missing_items"] == "5"


def reviews_frame(ids: list[str], reported: list[str | None]) -> pd.DataFrame:
    return pd.DataFrame({"review_id": ids, "amstar2_reported": reported})


def long_answers(review: str, answers: dict[int, str], rater: str | None = None) -> pd.DataFrame:
    full = {i: answers.get(i, "Y") for i in ITEMS}
    return pd.DataFrame({"review_id": review, "item": list(full), "answer": list(full.values()), "rater": rater})


def test_any_mix_of_item_answers_and_published_ratings() -> None:
    reviews = reviews_frame(["A", "B", "C", "D"], ["high", "low", None, None])
    answers = pd.concat([long_answers("A", {7: "N"}), long_answers("C", {})])
    out = rate_reviews(reviews, answers, RatingRule()).set_index("review_id")
    assert out.loc["A", ["rating", "rating_source", "reported_rating"]].tolist() == ["low", "items", "high"]
    assert out.loc["A", "agrees_with_reported"] is False or out.loc["A", "agrees_with_reported"] == False  # noqa: E712
    assert out.loc["A", "deciding"] == "one critical flaw, on item 7"
    assert out.loc["B", ["rating", "rating_source"]].tolist() == ["low", "reported"]
    assert pd.isna(out.loc["B", "agrees_with_reported"]) and pd.isna(out.loc["B", "critical_flaws"])
    assert out.loc["C", ["rating", "rating_source"]].tolist() == ["high", "items"]
    assert pd.isna(out.loc["C", "agrees_with_reported"])
    assert out.loc["D", ["rating", "rating_source"]].tolist() == ["incomplete", ""]


def test_consensus_rows_win_and_agreeing_raters_need_none() -> None:
    answers = pd.concat(
        [
            long_answers("A", {2: "N"}, "R1"),
            long_answers("A", {2: "Y"}, "R2"),
            pd.DataFrame({"review_id": ["A"], "item": [2], "answer": ["Y"], "rater": ["Consensus"]}),
        ]
    )
    resolved = consensus_answers(answers)
    assert len(resolved) == 16
    assert resolved.set_index("item").loc[2, "answer"] == "Y"


def test_raters_who_disagree_without_consensus_are_an_input_error(sheets_dir: Path) -> None:
    rows = "review_id,item,answer,rater\nA2019,2,Y,R1\nA2019,2,N,R2\nA2019,4,Y,R1\nA2019,4,Y,R2\n"
    rows += "B2020,7,PY,R1\nB2020,7,N,R2\nB2020,7,PY,consensus\nB2020,9,Y,R1\nB2020,9,N,R2\n"
    write(sheets_dir, "amstar2.csv", rows)
    with pytest.raises(InputError) as info:
        load_dataset(sheets_dir, CONFIG_QUESTIONS)
    found = [p.describe() for p in info.value.problems]
    assert len(found) == 2
    assert "row 2, column answer: raters disagree on review A2019, item 2 (R1: Y (row 2); R2: N (row 3))" in found[0]
    assert "review B2020, item 9" in found[1] and "`consensus`" in found[1]


def test_bad_answers_are_a_clear_input_error(sheets_dir: Path) -> None:
    write(sheets_dir, "amstar2.csv", "review_id,item,answer\nA2019,17,Y\nA2019,3,Perhaps\nA2019,12,no MA\n")
    with pytest.raises(InputError) as info:
        load_dataset(sheets_dir, CONFIG_QUESTIONS)
    text = str(info.value)
    assert "row 2, column item: '17': is out of range; expected a whole number >= 1 and <= 16" in text
    assert "row 3, column answer: 'Perhaps': is not an allowed value; allowed: Y, PY, N, NMA" in text
    assert "no MA" not in text  # an accepted alias of NMA


def test_item_summary_counts() -> None:
    answers = pd.concat([long_answers("A", {2: "N", 4: "PY"}), long_answers("B", {2: "N", 11: "NMA"})])
    answers = answers[~((answers["review_id"] == "B") & (answers["item"] == 16))]
    out = item_summary(answers, ["A", "B", "C"], RatingRule()).set_index("item")
    assert out.loc[2, ["n_yes", "n_no", "n_missing", "pct_no"]].tolist() == [0, 2, 1, 100.0]
    assert out.loc[4, ["n_yes", "n_partial_yes"]].tolist() == [1, 1]
    assert out.loc[11, "n_nma"] == 1 and bool(out.loc[11, "critical"]) and not bool(out.loc[3, "critical"])
    assert out.loc[16, ["n_yes", "n_missing"]].tolist() == [1, 2]


def test_cohen_kappa_against_a_hand_worked_case() -> None:
    # 10 pairs: 7 agree (4 Y-Y, 3 N-N); R1 says Y 6 times, R2 says Y 5 times.
    a = ["Y"] * 6 + ["N"] * 4
    b = ["Y"] * 4 + ["N"] * 2 + ["Y"] * 1 + ["N"] * 3
    p_o, p_e = 0.7, 0.6 * 0.5 + 0.4 * 0.5
    assert cohen_kappa(a, b) == pytest.approx((p_o - p_e) / (1 - p_e))
    assert np.isnan(cohen_kappa(["Y", "Y"], ["Y", "Y"]))
    assert cohen_kappa(["Y", "N"], ["Y", "N"]) == pytest.approx(1.0)


def test_rater_agreement_per_item_and_overall() -> None:
    answers = pd.concat(
        [
            long_answers("A", {}, "R1"),
            long_answers("A", {3: "N"}, "R2"),
            long_answers("B", {3: "N"}, "R1"),
            long_answers("B", {3: "N"}, "R2"),
            long_answers("A", {}, "consensus"),
        ]
    )
    out = rater_agreement(answers)
    assert set(out[["rater_a", "rater_b"]].itertuples(index=False, name=None)) == {("R1", "R2")}
    by_item = out.set_index("item")
    assert by_item.loc["3", ["n_pairs", "n_agree", "pct_agreement"]].tolist() == [2, 1, 50.0]
    assert by_item.loc["overall", ["n_pairs", "n_agree"]].tolist() == [32, 31]
    assert rater_agreement(long_answers("A", {}, None)).empty


def test_assess_on_the_bundled_simulated_data() -> None:
    from conftest import ROOT

    folder = ROOT / "data/raw/simulated"
    data = load_dataset(folder, CONFIG_QUESTIONS)
    results = assess(data["reviews"].table, data["amstar2"].table, RatingRule())
    assert (results.ratings["rating_source"] == "items").all()
    assert results.ratings["rating"].isin(RATINGS).all()
    assert 0 < (results.ratings["agrees_with_reported"] == False).sum() <= 3  # noqa: E712 (planted)
    assert not results.agreement.empty


answer = st.sampled_from(["Y", "PY", "N", None])
answer_rows = st.lists(st.lists(answer, min_size=16, max_size=16), min_size=1, max_size=20)
rules = st.builds(
    RatingRule,
    critical_items=st.lists(st.integers(1, 16), unique=True, max_size=16).map(tuple),
    partial_yes=st.sampled_from(["met", "weakness", "flaw"]),
    moderate_to_low_after=st.one_of(st.none(), st.integers(1, 10)),
)
ORDER = {r: i for i, r in enumerate(RATINGS)}


def _frame(rows: list[list]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(ITEMS), dtype=object)


@settings(max_examples=200, deadline=None)
@given(rows=answer_rows, rule=rules, item=st.integers(1, 16))
def test_turning_an_answer_into_no_never_raises_the_rating(rows: list[list], rule: RatingRule, item: int) -> None:
    before = rate(_frame(rows), rule)["rating"]
    worse = [list(r) for r in rows]
    for r in worse:
        r[item - 1] = "N"
    after = rate(_frame(worse), rule)["rating"]
    for b, a in zip(before, after, strict=True):
        if b != "incomplete" and a != "incomplete":
            assert ORDER[a] >= ORDER[b]


@settings(max_examples=200, deadline=None)
@given(rows=answer_rows, rule=rules)
def test_partial_yes_as_flaw_never_rates_higher_than_met(rows: list[list], rule: RatingRule) -> None:
    met = rate(_frame(rows), RatingRule(rule.critical_items, "met", rule.moderate_to_low_after))["rating"]
    flaw = rate(_frame(rows), RatingRule(rule.critical_items, "flaw", rule.moderate_to_low_after))["rating"]
    for m, f in zip(met, flaw, strict=True):
        if m != "incomplete" and f != "incomplete":
            assert ORDER[f] >= ORDER[m]


@settings(max_examples=100, deadline=None)
@given(rows=answer_rows, rule=rules)
def test_a_rated_review_keeps_its_rating_whatever_its_missing_answers_are(rows: list[list], rule: RatingRule) -> None:
    rated = rate(_frame(rows), rule)["rating"]
    for fill in ("Y", "PY", "N"):
        filled = [[fill if a is None else a for a in r] for r in rows]
        complete = rate(_frame(filled), rule)["rating"]
        for r, c in zip(rated, complete, strict=True):
            if r != "incomplete":
                assert r == c


def test_answer_matrix_orders_rows_and_marks_missing() -> None:
    answers = pd.DataFrame({"review_id": ["B", "A"], "item": [1, 2], "answer": ["N", "PY"]})
    m = answer_matrix(answers, ["A", "B", "C"])
    assert list(m.index) == ["A", "B", "C"] and m.loc["A", 2] == "PY" and m.loc["C", 1] is None
