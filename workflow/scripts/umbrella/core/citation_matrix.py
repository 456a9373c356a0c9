"""The citation matrix given as a wide sheet: a first column of study ids and one column per review, with 1
where the review includes the study, 0 or blank where it does not and NA where it is not known. It is read as
the long table (study_id, review_id, value) of its 1 and NA cells.
"""

from __future__ import annotations

import pandas as pd

from umbrella.core.errors import Problem

WIDE_VALUES = {"1": "1", "1.0": "1", "0": None, "0.0": None, "": None, "na": "NA", "n/a": "NA"}


def parse_wide_matrix(raw: pd.DataFrame, display: str) -> tuple[pd.DataFrame, list[str], list[Problem]]:
    """A wide 0/1/NA citation matrix (first column = study ids, other columns = review ids) as a long table
    (study_id, review_id, value) of its 1 and NA cells, indexed by spreadsheet row; every bad cell is a problem.
    """
    problems: list[Problem] = []
    if raw.shape[1] < 2:
        problems.append(
            Problem(display, row=1, message="needs a first column of study ids and one column per review", order=-1)
        )
        return pd.DataFrame(columns=["study_id", "review_id", "value"]), [], problems
    headers = raw.attrs.get("headers", {})
    raw = raw.rename(columns=lambda c: headers.get(c, c))  # review ids keep their case
    original = list(raw.columns)
    study_col, review_cols = original[0], original[1:]
    ids = raw[study_col]
    problems += _study_id_problems(ids, study_col, display)
    cells = raw[review_cols].apply(lambda s: s.str.lower())
    known = cells.isin(list(WIDE_VALUES))
    for col in review_cols:
        for row, value in raw.loc[~known[col], col].items():
            problems.append(
                Problem(
                    display, row=int(row), column=col, value=value, message="is not allowed; allowed: 1, 0, blank, NA"
                )
            )
    mapped = cells.where(known).apply(lambda s: s.map(WIDE_VALUES))
    long = mapped.assign(study_id=ids).melt(
        id_vars="study_id", var_name="review_id", value_name="value", ignore_index=False
    )
    long = long[long["value"].notna()]
    long.index.name = None
    return long[["study_id", "review_id", "value"]].astype(object), [], problems


def _study_id_problems(ids: pd.Series, study_col: str, display: str) -> list[Problem]:
    """Blank study ids, and every repeat of a study id after its first row."""
    problems = []
    for row in ids.index[ids.eq("")]:
        problems.append(
            Problem(display, row=int(row), column=study_col, value="", message="is blank; a study id is required")
        )
    dup = ids.ne("") & ids.duplicated(keep=False)
    first: dict[str, int] = {}
    for row, value in ids[dup].items():
        if value in first:
            problems.append(
                Problem(
                    display,
                    row=int(row),
                    column=study_col,
                    value=value,
                    message=f"duplicate study id; also in row {first[value]}",
                )
            )
        else:
            first[value] = int(row)
    return problems
