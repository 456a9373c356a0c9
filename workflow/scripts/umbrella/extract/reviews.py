"""Tidy tables from validated sheets, and the descriptive counts of the included reviews."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from umbrella.core.sheets import Sheet, load_schema
from umbrella.core.tables import write_table
from umbrella.core.vocabulary import REVIEW_TYPES, review_label

#: Words for the review types of the `reviews` sheet, in the order tables list them.
NOT_REPORTED = "not reported"


def tidy(sheet: Sheet) -> pd.DataFrame:
    """The sheet's typed table with contract columns first, sorted by the schema's ``x-sheet.sort`` keys.

    Sorting is stable and puts blanks last, so the output order depends only on the data.
    """
    order = load_schema(sheet.name).get("x-sheet", {}).get("sort", [])
    table = sheet.table
    if order:
        keys = pd.DataFrame({f"k{i}": table[c] for i, c in enumerate(order)}, index=table.index)
        table = table.loc[keys.sort_values(list(keys.columns), kind="stable", na_position="last").index]
    return table.reset_index(drop=True)


def _inferred(reviews: pd.DataFrame, column: str) -> pd.Series:
    """Rows whose value in ``column`` is inferred rather than printed, per an optional `<column>_basis` column."""
    basis = f"{column}_basis"
    if basis not in reviews:
        return pd.Series(False, index=reviews.index)
    return reviews[basis].fillna("").str.lower().str.startswith("inferred")


def counts_by_type(reviews: pd.DataFrame, published: Mapping | None = None) -> pd.DataFrame:
    """Reviews per review_type (every type listed, then those not reported), with the published count if known.

    ``n_inferred`` counts the reviews whose type is inferred (an optional ``review_type_basis`` column).
    """
    published_n = (published or {}).get("reviews_by_type", {}) if published else {}
    inferred = _inferred(reviews, "review_type")
    rows = []
    for key, label in REVIEW_TYPES.items():
        mask = reviews["review_type"].eq(key)
        rows.append((key, label, int(mask.sum()), int((mask & inferred).sum()), published_n.get(key)))
    missing = reviews["review_type"].isna()
    rows.append((NOT_REPORTED, "Not reported in the extracted text", int(missing.sum()), 0, None))
    out = pd.DataFrame(rows, columns=["review_type", "label", "n_reviews", "n_inferred", "published_n"])
    out["published_n"] = out["published_n"].astype("Int64")
    return out


def counts_by_question(
    reviews: pd.DataFrame, questions: Mapping[str, Mapping], published: Mapping | None = None
) -> pd.DataFrame:
    """Reviews per research question (a review may address several), in the config's order."""
    published_n = (published or {}).get("reviews_by_question", {}) if published else {}
    inferred = _inferred(reviews, "research_questions")
    keys = reviews["research_questions"].fillna("").str.split(";")
    rows = []
    for key, spec in questions.items():
        mask = keys.map(lambda ks, k=key: k in ks)
        rows.append((key, spec.get("label", key), int(mask.sum()), int((mask & inferred).sum()), published_n.get(key)))
    missing = reviews["research_questions"].isna()
    rows.append((NOT_REPORTED, "Not reported in the extracted text", int(missing.sum()), 0, None))
    out = pd.DataFrame(rows, columns=["question", "label", "n_reviews", "n_inferred", "published_n"])
    out["published_n"] = out["published_n"].astype("Int64")
    return out


def counts_by_year(reviews: pd.DataFrame) -> pd.DataFrame:
    """Reviews per publication year, ascending; reviews without a year in a last row with a blank year."""
    years = reviews["year"]
    out = years.value_counts(dropna=False).rename("n_reviews").rename_axis("year").reset_index()
    out["year"] = out["year"].astype("Int64")
    out = out.sort_values("year", na_position="last", kind="stable").reset_index(drop=True)
    out["n_reviews"] = out["n_reviews"].astype(int)
    return out


CHARACTERISTICS_COLUMNS = [
    "review_id",
    "review",
    "title",
    "year",
    "review_type",
    "research_questions",
    "n_primary_studies",
    "n_participants",
    "population",
    "age_group",
    "setting",
    "intervention",
    "countries",
    "search_end",
    "amstar2_reported",
    "source",
]


def characteristics(reviews: pd.DataFrame) -> pd.DataFrame:
    """Characteristics of the included reviews: one row per review, in order of year then review_id."""
    out = reviews.assign(review=review_label(reviews))[CHARACTERISTICS_COLUMNS]
    return out.sort_values(["year", "review_id"], na_position="last", kind="stable").reset_index(drop=True)


def write_reviews_outputs(
    reviews: pd.DataFrame,
    questions: Mapping[str, Mapping],
    published: Mapping | None,
    paths: Mapping[str, str | Path],
) -> None:
    """Write the tidy reviews table and its counts to the paths named by ``reviews``, ``by_type``,
    ``by_question``, ``by_year`` and ``characteristics``."""
    write_table(reviews, paths["reviews"])
    write_table(counts_by_type(reviews, published), paths["by_type"])
    write_table(counts_by_question(reviews, questions, published), paths["by_question"])
    write_table(counts_by_year(reviews), paths["by_year"])
    write_table(characteristics(reviews), paths["characteristics"])
