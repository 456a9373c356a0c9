"""Syntheses: implementation by framework domain, experiences, question overview, PRISMA flow checks."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from conftest import write
from umbrella.core.errors import InputError
from umbrella.core.sheets import load_dataset
from umbrella.synthesis.figures import implementation_figure, prisma_figure
from umbrella.synthesis.findings import (
    experiences_table,
    implementation_by_domain,
    implementation_table,
    quality_summary,
    questions_table,
)
from umbrella.synthesis.prisma import check_prisma, derived_counts, flow_rows

CFIR_2022 = {
    "innovation": "Innovation",
    "outer_setting": "Outer setting",
    "inner_setting": "Inner setting",
    "individuals": "Individuals",
    "implementation_process": "Implementation process",
}
CFIR_2009 = {
    "intervention_characteristics": "Intervention characteristics",
    "outer_setting": "Outer setting",
    "inner_setting": "Inner setting",
    "characteristics_of_individuals": "Characteristics of individuals",
    "process": "Process",
}
RATINGS = {"A": "critically_low", "B": "critically_low", "C": "low", "D": "high"}


def vocab(domains: dict[str, str]) -> dict[str, list[str]]:
    return {
        "research_questions": ["effectiveness", "implementation", "experiences"],
        "framework_domains": list(domains),
    }


def test_quality_summary_words() -> None:
    assert quality_summary(["A", "B", "C"], RATINGS) == "3 reviews: 2 critically low, 1 low"
    assert quality_summary(["D", "X", "D"], RATINGS) == "2 reviews: 1 high, 1 not rated"
    assert quality_summary([], RATINGS) == "0 reviews"


IMPLEMENTATION = (
    "review_id,cfir_domain,construct,factor,role\n"
    "A,Inner Setting,Culture,Supportive culture,facilitator\n"
    "B,inner_setting,Culture,Supportive culture,Facilitators\n"
    "C,inner_setting,Culture,Supportive culture,facilitator\n"
    "A,inner_setting,Culture,Stigma from staff,barrier\n"
    "D,innovation,Design,Training,facilitator\n"
    "C,outer_setting,,,\n"
)


def sheets(tmp_path: Path, domains: dict[str, str], implementation: str = IMPLEMENTATION) -> dict:
    write(tmp_path, "reviews.csv", "review_id,research_questions\nA,implementation\nB,implementation\nC,\nD,\n")
    write(tmp_path, "implementation.csv", implementation)
    return load_dataset(tmp_path, vocab(domains))


def test_implementation_table_groups_factors_with_their_reviews_and_quality(tmp_path: Path) -> None:
    table = sheets(tmp_path, CFIR_2022)["implementation"].table
    out = implementation_table(table, RATINGS, CFIR_2022)
    assert out["domain"].tolist() == ["innovation", "outer_setting", "inner_setting", "inner_setting"]
    culture = out[(out["factor"] == "Supportive culture")].iloc[0]
    assert (culture["n_reviews"], culture["review_ids"], culture["role"]) == (3, "A;B;C", "facilitator")
    assert culture["quality"] == "3 reviews: 2 critically low, 1 low"
    assert culture["n_critically_low"] == 2 and culture["n_low"] == 1
    unknown = out[out["domain"] == "outer_setting"].iloc[0]
    assert (unknown["construct"], unknown["factor"], unknown["role"], unknown["n_reviews"]) == ("", "", "", 1)
    by_domain = implementation_by_domain(table, CFIR_2022).set_index(["domain", "role"])
    assert by_domain.loc[("inner_setting", "facilitator"), ["n_factors", "n_reviews"]].tolist() == [1, 3]
    assert by_domain.loc[("inner_setting", "barrier"), ["n_factors", "n_reviews"]].tolist() == [1, 1]
    assert by_domain.loc[("individuals", "barrier"), "n_factors"] == 0  # every domain listed
    assert by_domain.loc[("outer_setting", "not reported"), "n_reviews"] == 1


def test_non_default_framework(tmp_path: Path) -> None:
    text = "review_id,cfir_domain,construct,factor,role\n"
    text += "A,Process,Planning,Plan,facilitator\nB,Characteristics of individuals,,,\n"
    table = sheets(tmp_path, CFIR_2009, text)["implementation"].table
    out = implementation_table(table, RATINGS, CFIR_2009)
    assert out["domain"].tolist() == ["characteristics_of_individuals", "process"]
    assert out["domain_label"].tolist() == ["Characteristics of individuals", "Process"]


def test_a_domain_outside_the_framework_is_an_input_error_naming_the_allowed_ones(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        sheets(tmp_path, CFIR_2009)  # CFIR 2022 domains against a CFIR 2009 framework
    found = [p.describe() for p in info.value.problems]
    assert len(found) == 1  # innovation (row 6); the other domains exist in both versions
    assert "implementation.csv, row 6, column cfir_domain: 'innovation': is not an allowed value" in found[0]
    assert "allowed: intervention_characteristics, outer_setting, inner_setting" in found[0]


def test_experiences_table() -> None:
    exp = pd.DataFrame(
        {
            "review_id": ["A", "B", "C", "A"],
            "perspective": ["service users", "staff", "service users", None],
            "theme": ["Connection", "Connection", "Connection", "Role"],
            "subtheme": ["Belonging", "Belonging", "Hope", None],
            "finding": ["Felt less alone", "Saw change", None, "Role unclear"],
        }
    )
    out = experiences_table(exp, RATINGS)
    assert out[["theme", "subtheme"]].values.tolist() == [
        ["Connection", "Belonging"],
        ["Connection", "Hope"],
        ["Role", ""],
    ]
    first = out.iloc[0]
    assert first["perspectives"] == "service users;staff" and first["n_reviews"] == 2
    assert first["findings"] == "Felt less alone | Saw change" and first["quality"] == "2 reviews: 2 critically low"
    assert out.iloc[1]["n_findings"] == 0


def test_questions_table() -> None:
    reviews = pd.DataFrame(
        {
            "review_id": ["A", "B", "C"],
            "research_questions": ["effectiveness", "effectiveness;experiences", None],
            "review_type": ["sr_meta_analysis", None, "scoping"],
        }
    )
    questions = {
        "effectiveness": {"label": "Does it work?", "finding": "Small benefit."},
        "experiences": {"label": "E?"},
    }
    out = questions_table(reviews, questions, RATINGS, {"reviews_by_question": {"effectiveness": 5}}).set_index(
        "question"
    )
    eff = out.loc["effectiveness"]
    assert (eff["n_reviews"], eff["published_n"], eff["review_ids"]) == (2, 5, "A;B")
    assert eff["review_types"] == "1 systematic review with meta-analysis; 1 not reported"
    assert eff["quality"] == "2 reviews: 2 critically low" and eff["finding"] == "Small benefit."
    assert out.loc["experiences", "n_reviews"] == 1 and pd.isna(out.loc["experiences", "published_n"])


PRISMA = {
    "sources": {"MEDLINE": 600, "Embase": 400},
    "duplicates_removed": 300,
    "removed_other": 0,
    "records_screened": 700,
    "records_excluded": 640,
    "reports_sought": 60,
    "reports_not_retrieved": 5,
    "reports_assessed": 55,
    "reports_excluded": {"Not a review": 30, "Wrong population": 20},
    "reviews_included": 5,
}


def test_consistent_flow_has_no_problem() -> None:
    assert check_prisma(PRISMA, 5) == []
    rows = flow_rows(PRISMA)
    assert [r["n"] for r in rows if r["box"] == "source"] == [600, 400]
    assert next(r for r in rows if r["box"] == "reports_excluded")["n"] == 50


@pytest.mark.parametrize(
    ("change", "key", "expected"),
    [
        ({"records_screened": 690}, "records_screened", "should be 700 (records identified 1000 - duplicates 300"),
        ({"duplicates_removed": 310}, "records_screened", "should be 690"),
        ({"reports_sought": 61}, "reports_sought", "should be 60 (records screened 700 - records excluded 640)"),
        ({"reports_assessed": 56}, "reports_assessed", "should be 55 (reports sought 60 - not retrieved 5)"),
        ({"reviews_included": 6}, "reviews_included", "should be 5 (reports assessed 55 - reports excluded 50"),
        ({"reports_excluded": {"Not a review": 31, "Wrong population": 20}}, "reviews_included", "should be 4"),
    ],
)
def test_every_box_arithmetic_error(change: dict, key: str, expected: str) -> None:
    prisma = {**copy.deepcopy(PRISMA), **change}
    found = [p.describe() for p in check_prisma(prisma, None, "my.yaml")]
    assert any(f"my.yaml, key prisma.{key}" in p and expected in p for p in found), found


def test_included_reviews_must_match_the_sheet_unless_explained() -> None:
    found = check_prisma(PRISMA, 4)
    assert len(found) == 1 and "differs from the 4 rows of the reviews sheet" in found[0].message
    assert check_prisma({**PRISMA, "included_difference": "partial extraction"}, 4) == []


def test_boxes_left_out_are_derived() -> None:
    minimal = {"sources": {"Databases": 100}, "duplicates_removed": 10, "reviews_included": 3}
    counts = derived_counts(minimal)
    assert counts["records_screened"] == 90 and counts["records_excluded"] is None
    assert check_prisma(minimal, 3) == []


def test_figures_are_deterministic_svg(tmp_path: Path) -> None:
    by_domain = implementation_by_domain(
        pd.DataFrame(
            {
                "review_id": ["A"],
                "cfir_domain": ["inner_setting"],
                "construct": ["C"],
                "factor": ["F"],
                "role": ["barrier"],
            }
        ),
        CFIR_2022,
    )
    for i in (1, 2):
        implementation_figure(by_domain, "CFIR 2022", tmp_path / f"impl{i}.svg")
        prisma_figure({**PRISMA, "included_difference": "partial"}, 4, tmp_path / f"flow{i}.svg")
    for name in ("impl", "flow"):
        first = (tmp_path / f"{name}1.svg").read_bytes()
        assert first == (tmp_path / f"{name}2.svg").read_bytes()
        ET.fromstring(first)


def test_a_row_naming_no_construct_or_factor_counts_no_factor(tmp_path: Path) -> None:
    """A review supporting a domain without naming its factors (as Cooper et al.'s Table 5 gives them) adds a
    review, not a factor: the chart must not show "1 factor" where none was extracted."""
    table = sheets(tmp_path, CFIR_2022)["implementation"].table
    by_domain = implementation_by_domain(table, CFIR_2022).set_index(["domain", "role"])
    assert by_domain.loc[("outer_setting", "not reported"), "n_factors"] == 0
    assert by_domain.loc[("outer_setting", "not reported"), "n_reviews"] == 1
    # a row naming only its construct is a factor still
    named = implementation_by_domain(
        pd.concat([table, table.iloc[[5]].assign(construct="Partnerships")], ignore_index=True), CFIR_2022
    ).set_index(["domain", "role"])
    assert named.loc[("outer_setting", "not reported"), "n_factors"] == 1
