"""Reading and validating the extraction sheets against their JSON Schemas.

Each sheet (``reviews``, ``amstar2``, ``effects``, ...) is a ``.csv`` or ``.xlsx`` file in the analysis' data
folder, described by ``workflow/schemas/sheets/<sheet>.schema.yaml``. The schema describes one row: each
property is a column with its type, vocabulary (``enum``, with case-insensitive ``x-aliases``), pattern and
range; ``required`` lists the columns that must be present and filled; ``x-sheet`` gives the key, the sort order
and the row-level checks. Validation is vectorised per column and collects every problem before raising one
:class:`~umbrella.core.errors.InputError`.

This module checks a sheet as a whole (its columns, its key) and the dataset (the sheets together); the steps
live in their own modules, whose names are re-exported here:

- :mod:`umbrella.core.sheet_schemas`: loading a sheet's schema, its columns and their types;
- :mod:`umbrella.core.sheet_files`: reading a file into a frame of text cells;
- :mod:`umbrella.core.sheet_cells`: parsing and checking one column's cells by its schema;
- :mod:`umbrella.core.row_checks`: the row checks a schema names;
- :mod:`umbrella.core.citation_matrix`: the wide citation matrix read as a long table.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from umbrella.core.citation_matrix import WIDE_VALUES, parse_wide_matrix
from umbrella.core.datasets import SHEETS, find_sheets, sheet_display, worksheet_of
from umbrella.core.errors import InputError, Problem
from umbrella.core.metaumbrella import as_written, from_metaumbrella
from umbrella.core.row_checks import INPUT_SETS, ROW_CHECKS
from umbrella.core.sheet_cells import MISSING_TOKENS, TEXT_FORMATS, parse_column
from umbrella.core.sheet_files import normalise_header, read_raw
from umbrella.core.sheet_schemas import SCHEMA_DIR, column_types, columns, load_schema

__all__ = [
    "INPUT_SETS",
    "MISSING_TOKENS",
    "ROW_CHECKS",
    "SCHEMA_DIR",
    "TEXT_FORMATS",
    "WIDE_VALUES",
    "Sheet",
    "check_references",
    "column_types",
    "columns",
    "load_dataset",
    "load_files",
    "load_schema",
    "load_sheet",
    "normalise_header",
    "parse_column",
    "parse_sheet",
    "parse_wide_matrix",
    "read_raw",
]


@dataclass
class Sheet:
    """A validated sheet: its file, its typed table (contract columns first, then extra columns) and facts."""

    name: str
    path: Path
    display: str
    table: pd.DataFrame
    extra_columns: list[str]


# --------------------------------------------------------------------------------------------------------------
# One sheet


def parse_sheet(
    sheet: str,
    raw: pd.DataFrame,
    display: str,
    vocabularies: Mapping[str, list[str]] | None = None,
) -> tuple[pd.DataFrame, list[str], list[Problem]]:
    """Validate and type one sheet read by :func:`read_raw`.

    Checks, all at once: missing required columns (with a close match named, if any), blank required cells,
    every cell's type, vocabulary, pattern and range, duplicate keys, and the sheet's row checks. Returns the
    typed table indexed by spreadsheet row, its extra (non-contract) columns, and the problems.
    """
    schema = load_schema(sheet)
    props: dict = schema["properties"]
    meta = schema.get("x-sheet", {})
    if meta.get("wide"):
        return parse_wide_matrix(raw, display)
    required = list(schema.get("required", []))
    problems = _missing_columns(raw, props, required, display)
    typed, cell_problems = _typed_columns(raw, props, required, vocabularies or {}, display)
    problems += cell_problems
    extras = [c for c in raw.columns if c not in props]
    for col in extras:
        typed[col] = raw[col].where(raw[col].ne(""), None).astype(object)
    repeats = [c for c, spec in props.items() if spec.get("x-repeats-key")]
    problems += _duplicate_keys(raw, meta.get("key", []), required, display, repeats)
    for check in meta.get("checks", []):
        problems += ROW_CHECKS[check](typed, display)
    return typed, extras, problems


def _missing_columns(raw: pd.DataFrame, props: Mapping, required: Sequence[str], display: str) -> list[Problem]:
    """A problem per required column absent from the header, naming an unknown column it may be misspelt as."""
    problems = []
    for col in required:
        if col not in raw.columns:
            unknown = [c for c in raw.columns if c not in props]
            close = difflib.get_close_matches(col, unknown, n=1, cutoff=0.6)
            hint = f"; is {close[0]!r} meant to be {col!r}?" if close else ""
            problems.append(Problem(display, row=1, column=col, message=f"required column is missing{hint}", order=-1))
    return problems


def _typed_columns(
    raw: pd.DataFrame,
    props: Mapping[str, Mapping],
    required: Sequence[str],
    vocabularies: Mapping[str, list[str]],
    display: str,
) -> tuple[pd.DataFrame, list[Problem]]:
    """The contract columns in schema order, typed (an absent column blank, or its default), and the problems
    of their cells: bad values, and blanks where a value is required."""
    typed = pd.DataFrame(index=raw.index)
    problems: list[Problem] = []
    for col, spec in props.items():
        if col not in raw.columns:
            typed[col] = _absent_column(spec, raw.index)
            continue
        enum = _config_vocabulary(spec, vocabularies)
        typed[col], col_problems = parse_column(raw[col], spec, col, display, enum=enum)
        problems += col_problems
        if col in required:
            problems += _required_blanks(raw[col], spec, col, display)
    return typed, problems


def _required_blanks(raw: pd.Series, spec: Mapping, col: str, display: str) -> list[Problem]:
    """A problem per blank cell of a required column; in a number column, ``NA`` and the other ways of writing
    "not known" are blanks too."""
    blank = raw.eq("")
    if spec.get("type") in ("integer", "number"):
        blank |= raw.str.lower().isin(MISSING_TOKENS)
    return [
        Problem(
            display,
            row=int(row),
            column=col,
            value=value,
            message="is blank; a value is required" if value == "" else "means 'not known'; a value is required",
        )
        for row, value in raw[blank].items()
    ]


def _absent_column(spec: Mapping, index: pd.Index) -> pd.Series:
    """A column the sheet does not have: blank in its type, or the schema's default for a number."""
    if spec.get("type") == "integer":
        return pd.Series(pd.NA, index=index, dtype="Int64")
    if spec.get("type") == "number":
        return pd.Series(float(spec.get("default", np.nan)), index=index, dtype="float64")
    return pd.Series(None, index=index, dtype=object)


def _config_vocabulary(spec: Mapping, vocabularies: Mapping[str, list[str]]) -> list[str] | None:
    """The values the config declares for a column whose schema takes them from there (``None`` if none)."""
    source = spec.get("x-enum-from-config")
    if source and source in vocabularies:
        return list(vocabularies[source])
    return None


def _duplicate_keys(
    raw: pd.DataFrame,
    key_columns: Sequence[str],
    required: Sequence[str],
    display: str,
    repeats: Sequence[str] = (),
) -> list[Problem]:
    """A problem per row whose key (case-insensitive) an earlier row has; checked only when every required
    key column is present. A column marked ``x-repeats-key`` (``multiple_es``) allows a key on several rows when
    every one of them has it filled with the same value."""
    key = [k for k in key_columns if k in raw.columns]
    if not key or not set(key) >= {k for k in key_columns if k in required}:
        return []
    keys = raw[key].apply(lambda s: s.str.lower())
    dup = keys.duplicated(keep=False)
    marks = [c for c in repeats if c in raw.columns]
    allowed = pd.Series(False, index=raw.index)
    if marks and dup.any():
        mark = raw[marks].apply(lambda s: s.str.strip().str.lower()).agg("|".join, axis=1)
        filled = raw[marks].apply(lambda s: s.str.strip().ne("")).all(axis=1)
        same = mark.groupby([keys[k] for k in key]).transform("nunique").eq(1)
        every = filled.groupby([keys[k] for k in key]).transform("all")
        allowed = dup & same & every
    named = " and ".join(f"`{c}`" for c in repeats)
    hint = f"; several effect sizes of one study need {named}, the same in each of its rows" if repeats else ""
    problems = []
    first: dict[tuple, int] = {}
    for row, values in keys[dup & ~allowed].iterrows():
        k = tuple(values)
        if k not in first:
            first[k] = int(row)
            continue
        shown = ", ".join(f"{c}={raw.at[row, c]!r}" for c in key)
        problems.append(
            Problem(
                display,
                row=int(row),
                column=key[0] if len(key) == 1 else " + ".join(key),
                message=f"duplicate key ({shown}); the same key is in row {first[k]}{hint}",
            )
        )
    return problems


# --------------------------------------------------------------------------------------------------------------
# The whole dataset


def check_references(sheets: Mapping[str, Sheet]) -> list[Problem]:
    """Every ``review_id`` in another sheet must be a review of the ``reviews`` sheet."""
    if "reviews" not in sheets:
        return []
    known = set(sheets["reviews"].table["review_id"].dropna())
    problems = []
    for name, sheet in sheets.items():
        props = load_schema(name)["properties"]
        for col, spec in props.items():
            if spec.get("x-references") != "reviews.review_id" or col not in sheet.table:
                continue
            values = sheet.table[col]
            unknown = values.notna() & ~values.isin(known)
            if load_schema(name).get("x-sheet", {}).get("wide"):
                for value in sorted(set(values[unknown])):
                    message = f"this column is not a review_id of the reviews sheet{_did_you_mean(value, known)}"
                    problems.append(Problem(sheet.display, row=1, column=value, message=message))
                continue
            for row, value in values[unknown].items():
                message = f"is not a review_id of the reviews sheet{_did_you_mean(value, known)}"
                problems.append(Problem(sheet.display, row=int(row), column=col, value=value, message=message))
    return problems


#: The sheets that list which primary studies each review includes.
STUDY_LISTS = ("studies", "citation_matrix")


def check_study_references(sheets: Mapping[str, Sheet]) -> list[Problem]:
    """Every study of the ``study_effects`` sheet must be listed for its review in the ``studies`` sheet (or the
    wide citation matrix), when one is given."""
    listing = next((sheets[name] for name in STUDY_LISTS if name in sheets), None)
    if listing is None or "study_effects" not in sheets:
        return []
    listed = listing.table
    if "value" in listed:
        listed = listed[listed["value"].eq("1")]
    pairs = set(zip(listed["review_id"], listed["study_id"], strict=True))
    studies = set(listed["study_id"].dropna())
    source = _short(listing.display)
    effects = sheets["study_effects"]
    problems = []
    table = effects.table
    for row, review, study in zip(table.index, table["review_id"], table["study_id"], strict=True):
        if study is None or review is None or (review, study) in pairs:
            continue
        if study in studies:
            message = f"this study is not listed for review {review} in {source}"
        else:
            message = f"is not a study_id of {source}{_did_you_mean(study, studies)}"
        problems.append(Problem(effects.display, row=int(row), column="study_id", value=study, message=message))
    return problems


def case_variants(sheets: Mapping[str, Sheet], column: str = "study_id", limit: int = 20) -> list[str]:
    """Notes on identifiers that differ only in case (``Smith2015`` and ``smith2015``): they are counted as
    different studies, so each is named with its file and rows. Invisible characters are removed when a sheet is
    read, so identifiers that differ only by them are already the same."""
    ids = [
        pd.DataFrame({"id": sheet.table[column], "file": _short(sheet.display), "row": sheet.table.index})
        for sheet in sheets.values()
        if column in sheet.table
    ]
    if not ids:
        return []
    every = pd.concat(ids, ignore_index=True).dropna(subset=["id"])
    every["id"] = every["id"].astype(str)
    every["folded"] = every["id"].str.casefold()
    spellings_of = every.groupby("folded")["id"].transform("nunique")
    seen: dict[str, dict[str, list[str]]] = {}
    for folded, spelling, file, row in every.loc[spellings_of > 1, ["folded", "id", "file", "row"]].itertuples(
        index=False
    ):
        seen.setdefault(folded, {}).setdefault(spelling, []).append(f"{file} row {row}")
    notes = []
    for spellings in seen.values():
        if len(spellings) < 2:
            continue
        shown = " and ".join(
            f"{spelling!r} ({', '.join(where[:3])}{' and more' if len(where) > 3 else ''})"
            for spelling, where in sorted(spellings.items())
        )
        notes.append(
            f"{column}s that differ only in case are counted as different studies: {shown}; if they are one "
            "study, write it the same way in every row"
        )
    if len(notes) > limit:
        notes = notes[:limit] + [f"and {len(notes) - limit:,} more {column}s that differ only in case"]
    return notes


def tell(notes: Sequence[str], stream=None, limit: int = 50) -> None:
    """Write notes (text cleaned, identifiers that differ only in case) to the job's log (stderr)."""
    stream = stream or sys.stderr
    for note in notes[:limit]:
        print(f"Note: {note}", file=stream)
    if len(notes) > limit:
        print(f"Note: and {len(notes) - limit:,} more notes", file=stream)


def _did_you_mean(value: str, known: set[str]) -> str:
    close = difflib.get_close_matches(value, sorted(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def load_sheet(sheet: str, path: str | Path, vocabularies: Mapping[str, list[str]] | None = None) -> Sheet:
    """Read and validate one sheet file on its own (no cross-sheet checks); raise :class:`InputError`."""
    display = sheet_display(sheet, path)
    raw, problems = read_raw(path, display, worksheet_of(sheet, path))
    if raw is None:
        raise InputError(problems)
    tell(raw.attrs.get("notes", []))
    raw, shown_as, layout_problems = from_metaumbrella(sheet, raw, display, sys.stderr)
    table, extras, sheet_problems = parse_sheet(sheet, raw, display, vocabularies)
    problems += layout_problems + as_written(sheet_problems, shown_as)
    if problems:
        raise InputError(problems)
    return Sheet(sheet, Path(path), display, table, extras)


def load_dataset(
    data_dir: str | Path,
    vocabularies: Mapping[str, list[str]] | None = None,
) -> dict[str, Sheet]:
    """Find, read and validate every sheet in ``data_dir`` (a folder, or one .xlsx workbook); raise
    :class:`InputError` listing every problem."""
    files, problems = find_sheets(data_dir)
    if problems:
        raise InputError(problems)
    return load_files(files, vocabularies)


def load_files(
    files: Mapping[str, str | Path],
    vocabularies: Mapping[str, list[str]] | None = None,
) -> dict[str, Sheet]:
    """Read and validate the given sheet files (sheet name -> path), and check the references between them.

    ``vocabularies`` supplies values declared in the config (``research_questions``). Raises
    :class:`InputError` listing every problem of every sheet.
    """
    problems: list[Problem] = []
    notes: list[str] = []
    sheets: dict[str, Sheet] = {}
    for name in sorted(files, key=SHEETS.index):
        path = Path(files[name])
        order = SHEETS.index(name)
        display = sheet_display(name, path)
        raw, read_problems = read_raw(path, display, worksheet_of(name, path))
        problems += [_with_order(p, order) for p in read_problems]
        if raw is None:
            continue
        notes += raw.attrs.get("notes", [])
        raw, shown_as, layout_problems = from_metaumbrella(name, raw, display)
        table, extras, sheet_problems = parse_sheet(name, raw, display, vocabularies)
        problems += [_with_order(p, order) for p in layout_problems + as_written(sheet_problems, shown_as)]
        sheets[name] = Sheet(name, path, display, table, extras)
    if "studies" in files and "citation_matrix" in files:
        problems.append(
            Problem(
                sheet_display("citation_matrix", files["citation_matrix"]),
                message="give the citation matrix once: "
                f"{_short(sheet_display('studies', files['studies']))} (long) or this wide sheet",
                order=SHEETS.index("citation_matrix") * 10,
            )
        )
    if "reviews" in sheets and sheets["reviews"].table.empty:
        # every review_id elsewhere would be unknown: say the cause once, not each of its consequences
        reviews = sheets["reviews"]
        problems.append(Problem(reviews.display, message="the reviews sheet has no rows (only a header)"))
    else:
        ref_problems = check_references(sheets) + check_study_references(sheets)
        problems += [_with_order(p, SHEETS.index(_sheet_of(p, sheets))) for p in ref_problems]
    tell(notes + case_variants(sheets))
    if problems:
        raise InputError(problems)
    return sheets


def _with_order(p: Problem, order: int) -> Problem:
    # Problems are listed sheet by sheet; within a sheet, missing columns come first.
    return Problem(p.file, p.row, p.column, p.value, p.message, order=order * 10 + (0 if p.order < 0 else 5))


def _short(display: str) -> str:
    """A sheet's file without its folder (and its worksheet, if any)."""
    path, sep, worksheet = display.partition(", worksheet ")
    return Path(path).name + sep + worksheet


def _sheet_of(p: Problem, sheets: Mapping[str, Sheet]) -> str:
    return next(name for name, s in sheets.items() if s.display == p.file)
