"""Tidy tables and counts of the extract stage."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from conftest import CONFIG_QUESTIONS, write
from umbrella.core.sheets import load_dataset
from umbrella.core.tables import read_table, write_table
from umbrella.extract.reviews import (
    characteristics,
    counts_by_question,
    counts_by_type,
    counts_by_year,
    review_label,
    tidy,
)

QUESTIONS = {k: {"label": k.title()} for k in CONFIG_QUESTIONS["research_questions"]}

REVIEWS = (
    "review_id,first_author,year,review_type,research_questions,review_type_basis\n"
    "C,Cole,2021,sr_meta_analysis,effectiveness,printed\n"
    "A,Ames,2019,sr_meta_analysis,effectiveness;experiences,inferred from Table 2\n"
    "B,,2019,scoping,experiences,printed\n"
    "D,Dunn,,,,\n"
)


def reviews_table(tmp_path: Path) -> pd.DataFrame:
    write(tmp_path, "reviews.csv", REVIEWS)
    return tidy(load_dataset(tmp_path, CONFIG_QUESTIONS)["reviews"])


def test_tidy_sorts_by_key_and_puts_contract_columns_first(tmp_path: Path) -> None:
    t = reviews_table(tmp_path)
    assert list(t["review_id"]) == ["A", "B", "C", "D"]
    assert t.columns[0] == "review_id" and t.columns[-1] == "review_type_basis"
    assert list(t.index) == [0, 1, 2, 3]


def test_counts_by_type_with_inferred_and_published(tmp_path: Path) -> None:
    t = reviews_table(tmp_path)
    out = counts_by_type(t, {"reviews_by_type": {"sr_meta_analysis": 5, "scoping": 1}}).set_index("review_type")
    assert out.loc["sr_meta_analysis", "n_reviews"] == 2
    assert out.loc["sr_meta_analysis", "n_inferred"] == 1
    assert out.loc["sr_meta_analysis", "published_n"] == 5
    assert out.loc["scoping", "n_reviews"] == 1
    assert out.loc["not reported", "n_reviews"] == 1
    assert pd.isna(out.loc["realist", "published_n"])
    assert out["n_reviews"].sum() == len(t)


def test_counts_by_question_count_each_question_of_a_review(tmp_path: Path) -> None:
    t = reviews_table(tmp_path)
    out = counts_by_question(t, QUESTIONS, None).set_index("question")
    assert list(out.index) == ["effectiveness", "implementation", "experiences", "not reported"]
    assert out.loc["effectiveness", "n_reviews"] == 2
    assert out.loc["experiences", "n_reviews"] == 2
    assert out.loc["implementation", "n_reviews"] == 0
    assert out.loc["not reported", "n_reviews"] == 1
    assert out["published_n"].isna().all()


def test_counts_by_year_ascending_with_unknown_last(tmp_path: Path) -> None:
    out = counts_by_year(reviews_table(tmp_path))
    assert out["year"].tolist()[:2] == [2019, 2021]
    assert pd.isna(out["year"].iloc[-1])
    assert out["n_reviews"].tolist() == [2, 1, 1]


def test_characteristics_and_labels(tmp_path: Path) -> None:
    t = reviews_table(tmp_path)
    assert review_label(t).tolist() == ["Ames 2019", "B", "Cole 2021", "D"]
    out = characteristics(t)
    assert out["review_id"].tolist() == ["A", "B", "C", "D"]  # by year, then id; unknown year last


def test_write_table_is_deterministic_and_round_trips(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "id": ["b", "a"],
            "x": [0.1 + 0.2, 1 / 3],
            "k": pd.array([3, None], dtype="Int64"),
            "flag": [True, False],
            "text": ["a,b", None],
        }
    )
    write_table(df, tmp_path / "one.csv")
    write_table(df.copy(), tmp_path / "two.csv")
    raw = (tmp_path / "one.csv").read_bytes()
    assert raw == (tmp_path / "two.csv").read_bytes()
    assert b"\r\n" not in raw
    assert raw.decode().splitlines() == [
        "id,x,k,flag,text",
        'b,0.3,3,true,"a,b"',
        "a,0.3333333333,,false,",
    ]
    back = read_table(tmp_path / "one.csv", {"k": "integer", "x": "number"})
    assert back["k"].tolist()[0] == 3 and pd.isna(back["k"].iloc[1])
    assert not list(tmp_path.glob(".*.tmp"))
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "one.csv").stat().st_mode & 0o777 == 0o666 & ~umask


def test_identifiers_stay_text_when_read_back(tmp_path: Path) -> None:
    write_table(pd.DataFrame({"review_id": ["001", "1e5"], "year": [2019, 2020]}), tmp_path / "t.csv")
    back = read_table(tmp_path / "t.csv", {"review_id": "string", "year": "integer"})
    assert back["review_id"].tolist() == ["001", "1e5"]
