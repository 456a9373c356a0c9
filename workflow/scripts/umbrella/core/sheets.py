"""Reading and validating the extraction sheets against their JSON Schemas.

Each sheet (``reviews``, ``amstar2``, ``effects``, ...) is a ``.csv`` or ``.xlsx`` file in the analysis' data
folder, described by ``workflow/schemas/sheets/<sheet>.schema.yaml``. The schema describes one row: each
property is a column with its type, vocabulary (``enum``, with case-insensitive ``x-aliases``), pattern and
range; ``required`` lists the columns that must be present and filled; ``x-sheet`` gives the key, the sort order
and the row-level checks. Validation is vectorised per column and collects every problem before raising one
:class:`~umbrella.core.errors.InputError`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from umbrella.core.datasets import SHEETS, find_sheets
from umbrella.core.errors import InputError, Problem
from umbrella.core.vocabulary import RATIO_MEASURES

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas" / "sheets"


#: Cells read as missing in numeric columns (as R and Excel users write them).
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "nr", "not reported", "-", "\u2013", "\u2014", "."})
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-"})


@cache
def load_schema(sheet: str) -> dict:
    """The JSON Schema (as a dict) of one sheet."""
    with open(SCHEMA_DIR / f"{sheet}.schema.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def columns(sheet: str) -> list[str]:
    """The contract columns of a sheet, in schema order."""
    return list(load_schema(sheet)["properties"])


def column_types(sheet: str) -> dict[str, str]:
    """Column -> JSON Schema type of a sheet (for reading its tidy table back with the right types)."""
    return {col: spec.get("type", "string") for col, spec in load_schema(sheet)["properties"].items()}


# --------------------------------------------------------------------------------------------------------------
# Finding and reading files


def normalise_header(name: object) -> str:
    """Column names are matched without regard to case, surrounding spaces, or spaces inside (`Review ID`)."""
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def read_raw(path: str | Path, display: str | None = None) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read a sheet as text cells (CSV: UTF-8, with or without BOM; XLSX: the first worksheet).

    Cells are stripped of surrounding whitespace; blank cells are empty strings. Returns ``(None, problems)``
    when the file cannot be read.
    """
    path = Path(path)
    display = display or str(path)
    try:
        if path.suffix.lower() == ".xlsx":
            df = pd.read_excel(path, sheet_name=0, dtype=object, header=0, engine="openpyxl")
            df = df.map(_excel_cell_to_text)
        else:
            # header=None: a row with more cells than the header is an error naming its line, not a shifted row
            grid = pd.read_csv(
                path, header=None, dtype=str, keep_default_na=False, encoding="utf-8-sig", skip_blank_lines=True
            )
            if grid.empty:
                raise pd.errors.EmptyDataError
            df = grid.iloc[1:].set_axis(list(grid.iloc[0]), axis=1).reset_index(drop=True)
    except UnicodeDecodeError as exc:
        return None, [
            Problem(display, message=f"cannot be read as UTF-8 text (byte {exc.start}); save it as UTF-8 CSV")
        ]
    except pd.errors.EmptyDataError:
        return None, [Problem(display, message="the file is empty (no header row)")]
    except pd.errors.ParserError as exc:
        hint = " (a cell holding a comma or a quote must be quoted, with quotes inside it doubled)"
        return None, [Problem(display, message=f"cannot be read as CSV: {_first_line(exc)}{hint}")]
    except Exception as exc:  # corrupt workbook, not a zip, permission denied...
        return None, [Problem(display, message=f"cannot be read: {type(exc).__name__}: {_first_line(exc)}")]
    problems: list[Problem] = []
    headers = [normalise_header(c) for c in df.columns]
    seen: dict[str, int] = {}
    for i, h in enumerate(headers):
        if h.startswith("unnamed:") or h == "":
            if df.iloc[:, i].astype(str).str.strip().ne("").any():
                problems.append(Problem(display, row=1, message=f"column {i + 1} has values but no header"))
            continue
        if h in seen:
            problems.append(Problem(display, row=1, column=h, message="this column appears twice in the header"))
        seen.setdefault(h, i)
    keep = [i for i, h in enumerate(headers) if not (h.startswith("unnamed:") or h == "")]
    originals = [str(c).strip() for c in df.columns]
    df = df.iloc[:, keep]
    df.columns = [headers[i] for i in keep]
    df.attrs["headers"] = {headers[i]: originals[i] for i in keep}
    df = df.loc[:, ~df.columns.duplicated()]
    df = df.astype(str).apply(lambda s: s.str.strip())
    # Rows that are entirely blank (trailing rows in Excel) are not data.
    df = df.loc[df.ne("").any(axis=1)]
    df.index = df.index + 2  # spreadsheet row numbers
    return df, problems


def _excel_cell_to_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# --------------------------------------------------------------------------------------------------------------
# Parsing one column


def _enum_lookup(spec: Mapping) -> dict[str, str]:
    table: dict[str, str] = {}
    for value in spec.get("enum", []):
        table[_token(value)] = value
    for alias, value in (spec.get("x-aliases") or {}).items():
        table[_token(alias)] = value
    return table


def _token(value: object) -> str:
    return re.sub(r"[\s_\-]+", " ", str(value).strip().lower())


def _allowed(spec: Mapping, enum: Iterable[str] | None = None) -> str:
    values = list(enum if enum is not None else spec.get("enum", []))
    return "allowed: " + ", ".join(values)


def _number_hint(spec: Mapping) -> str:
    bounds = []
    if "minimum" in spec:
        bounds.append(f">= {spec['minimum']:g}")
    if "exclusiveMinimum" in spec:
        bounds.append(f"> {spec['exclusiveMinimum']:g}")
    if "maximum" in spec:
        bounds.append(f"<= {spec['maximum']:g}")
    if "exclusiveMaximum" in spec:
        bounds.append(f"< {spec['exclusiveMaximum']:g}")
    kind = "a whole number" if spec.get("type") == "integer" else "a number (decimal point, no thousands separator)"
    return kind + (" " + " and ".join(bounds) if bounds else "")


def parse_column(
    raw: pd.Series,
    spec: Mapping,
    column: str,
    display: str,
    enum: list[str] | None = None,
) -> tuple[pd.Series, list[Problem]]:
    """Parse one column of text cells to its schema type; return the typed column and its problems.

    Integers become pandas ``Int64``, numbers ``float64``, text ``object`` with ``None`` for blanks. ``enum``
    overrides the schema's vocabulary (used for values declared in the config).
    """
    problems: list[Problem] = []
    kind = spec.get("type", "string")
    text = raw.fillna("").astype(str)

    def bad(mask: pd.Series, message: str) -> None:
        for row, value in text[mask].items():
            problems.append(Problem(display, row=int(row), column=column, value=value, message=message))

    if kind in ("integer", "number"):
        cleaned = text.str.translate(_MINUS).str.replace(r"\s+", "", regex=True)
        if spec.get("x-percent"):
            cleaned = cleaned.str.replace(r"%$", "", regex=True)
        missing = text.str.lower().isin(MISSING_TOKENS)
        values = pd.to_numeric(cleaned.where(~missing, None), errors="coerce").astype("float64")
        not_number = ~missing & values.isna()
        hint = _number_hint(spec)
        if not_number.any():
            bad(not_number, f"is not a number; expected {hint}")
        if kind == "integer":
            fractional = values.notna() & (values != np.floor(values))
            if fractional.any():
                bad(fractional, f"is not a whole number; expected {hint}")
            values = values.where(~fractional)
        out_of_range = pd.Series(False, index=values.index)
        if "minimum" in spec:
            out_of_range |= values < spec["minimum"]
        if "maximum" in spec:
            out_of_range |= values > spec["maximum"]
        if "exclusiveMinimum" in spec:
            out_of_range |= values <= spec["exclusiveMinimum"]
        if "exclusiveMaximum" in spec:
            out_of_range |= values >= spec["exclusiveMaximum"]
        if out_of_range.any():
            bad(out_of_range, f"is out of range; expected {hint}")
            values = values.where(~out_of_range)
        if "default" in spec:
            values = values.where(~missing, float(spec["default"]))
        if kind == "integer":
            return values.round().astype("Int64"), problems
        return values, problems

    # Text columns
    values = text.copy()
    blank = values.eq("")
    if spec.get("x-format") == "year-month":
        # 2022-11-30, 2022-11-30 00:00:00 (a spreadsheet date) and 2022/11 all become 2022-11.
        values = values.str.replace(r"^(\d{4})[-/.](\d{1,2})(?:[-/.]\d{1,2})?(?:[ T].*)?$", _ym, regex=True)
    if column == "doi":
        values = values.str.replace(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", regex=True, flags=re.I)
    separator = spec.get("x-list-separator")
    vocabulary = enum if enum is not None else spec.get("enum")
    if vocabulary is not None:
        lookup = _enum_lookup({**spec, "enum": vocabulary})
        if separator:
            order = {v: i for i, v in enumerate(vocabulary)}

            def canon_list(cell: str) -> str | None:
                items = [_token(x) for x in cell.split(separator) if x.strip()]
                if not all(x in lookup for x in items):
                    return None
                return separator.join(sorted({lookup[x] for x in items}, key=order.__getitem__))

            canonical = values.map(canon_list)
            unknown = ~blank & canonical.isna()
            for row, cell in text[unknown].items():
                wrong = [x.strip() for x in cell.split(separator) if x.strip() and _token(x) not in lookup]
                problems.append(
                    Problem(
                        display,
                        row=int(row),
                        column=column,
                        value=cell,
                        message=f"unknown value {', '.join(map(repr, wrong))}; {_allowed(spec, vocabulary)} "
                        f"(separated by {separator!r})",
                    )
                )
        else:
            canonical = values.map(lambda v: lookup.get(_token(v)))
            unknown = ~blank & canonical.isna()
            if unknown.any():
                bad(unknown, f"is not an allowed value; {_allowed(spec, vocabulary)}")
        values = canonical
    pattern = spec.get("pattern")
    if pattern:
        mismatch = ~blank & values.notna() & ~values.fillna("").str.match(pattern)
        if mismatch.any():
            bad(mismatch, _pattern_message(column, spec))
    result = values.where(~blank, None).astype(object)
    result = result.where(result.notna(), None)
    return result, problems


def _ym(m: re.Match) -> str:
    return f"{m.group(1)}-{int(m.group(2)):02d}"


def _pattern_message(column: str, spec: Mapping) -> str:
    examples = spec.get("examples")
    example = f" (e.g. {examples[0]})" if examples else ""
    if spec.get("x-format") == "year-month":
        return "is not a date; expected YYYY or YYYY-MM" + example
    if column == "doi":
        return "is not a DOI; expected 10.xxxx/yyyy" + example
    return f"has characters that are not allowed; expected letters, digits, _ . - only{example}"


# --------------------------------------------------------------------------------------------------------------
# Parsing one sheet


@dataclass
class Sheet:
    """A validated sheet: its file, its typed table (contract columns first, then extra columns) and facts."""

    name: str
    path: Path
    display: str
    table: pd.DataFrame
    extra_columns: list[str]


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
    vocabularies = vocabularies or {}
    problems: list[Problem] = []
    required = list(schema.get("required", []))
    for col in required:
        if col not in raw.columns:
            unknown = [c for c in raw.columns if c not in props]
            close = difflib.get_close_matches(col, unknown, n=1, cutoff=0.6)
            hint = f"; is {close[0]!r} meant to be {col!r}?" if close else ""
            problems.append(Problem(display, row=1, column=col, message=f"required column is missing{hint}", order=-1))
    typed = pd.DataFrame(index=raw.index)
    for col, spec in props.items():
        if col not in raw.columns:
            if spec.get("type") == "integer":
                typed[col] = pd.Series(pd.NA, index=raw.index, dtype="Int64")
            elif spec.get("type") == "number":
                typed[col] = pd.Series(float(spec.get("default", np.nan)), index=raw.index, dtype="float64")
            else:
                typed[col] = pd.Series(None, index=raw.index, dtype=object)
            continue
        enum = None
        source = spec.get("x-enum-from-config")
        if source and source in vocabularies:
            enum = list(vocabularies[source])
        typed[col], col_problems = parse_column(raw[col], spec, col, display, enum=enum)
        problems += col_problems
        if col in required:
            for row in raw.index[raw[col].eq("")]:
                problems.append(
                    Problem(display, row=int(row), column=col, value="", message="is blank; a value is required")
                )
    extras = [c for c in raw.columns if c not in props]
    for col in extras:
        typed[col] = raw[col].where(raw[col].ne(""), None).astype(object)
    key = [k for k in meta.get("key", []) if k in raw.columns]
    if key and set(key) >= {k for k in meta.get("key", []) if k in required}:
        keys = raw[key].apply(lambda s: s.str.lower()) if len(key) else None
        dup = keys.duplicated(keep=False)
        if dup.any():
            first: dict[tuple, int] = {}
            for row, values in keys[dup].iterrows():
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
                        message=f"duplicate key ({shown}); the same key is in row {first[k]}",
                    )
                )
    for check in meta.get("checks", []):
        problems += ROW_CHECKS[check](typed, display)
    return typed, extras, problems


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
    for row in raw.index[ids.eq("")]:
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


# --------------------------------------------------------------------------------------------------------------
# Row checks named in the schemas' x-sheet.checks


def _row_problems(mask: pd.Series, table: pd.DataFrame, display: str, column: str, message) -> list[Problem]:
    out = []
    for row in table.index[mask.fillna(False).to_numpy(dtype=bool)]:
        value = table.at[row, column]
        out.append(
            Problem(
                display,
                row=int(row),
                column=column,
                value=None
                if value is None or pd.isna(value)
                else f"{value:g}"
                if isinstance(value, float)
                else str(value),
                message=message(table.loc[row]) if callable(message) else message,
            )
        )
    return out


def _fmt(x: object) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def check_ci_ordered(t: pd.DataFrame, display: str) -> list[Problem]:
    mask = t["ci_lower"] > t["ci_upper"]
    return _row_problems(
        mask, t, display, "ci_lower", lambda r: f"lower limit is above the upper limit ({_fmt(r.ci_upper)})"
    )


def check_estimate_in_ci(t: pd.DataFrame, display: str) -> list[Problem]:
    ordered = t["ci_lower"] <= t["ci_upper"]
    mask = ordered & ((t["estimate"] < t["ci_lower"]) | (t["estimate"] > t["ci_upper"]))
    return _row_problems(
        mask,
        t,
        display,
        "estimate",
        lambda r: f"lies outside its confidence interval [{_fmt(r.ci_lower)}, {_fmt(r.ci_upper)}]",
    )


def check_ratio_positive(t: pd.DataFrame, display: str) -> list[Problem]:
    ratio = t["measure"].isin(RATIO_MEASURES)
    out: list[Problem] = []
    for col in ("estimate", "ci_lower", "ci_upper"):
        mask = ratio & (t[col] <= 0)
        out += _row_problems(
            mask, t, display, col, lambda r: f"must be above 0 for the ratio measure {r.measure} (give ratios unlogged)"
        )
    return out


INPUT_SETS: dict[str, tuple[str, ...]] = {
    "estimate and se": ("estimate", "se"),
    "estimate and CI": ("estimate", "ci_lower", "ci_upper"),
    "2x2 counts": ("events_treat", "n_treat", "events_control", "n_control"),
    "means": ("mean_treat", "sd_treat", "n_treat", "mean_control", "sd_control", "n_control"),
}


def check_effect_inputs_complete(t: pd.DataFrame, display: str) -> list[Problem]:
    present = t[sorted({c for cols in INPUT_SETS.values() for c in cols})].notna()
    complete = pd.DataFrame({name: present[list(cols)].all(axis=1) for name, cols in INPUT_SETS.items()})
    missing = ~complete.any(axis=1)
    out = []
    for row in t.index[missing.to_numpy()]:
        # name the set closest to complete
        best = max(INPUT_SETS, key=lambda s: present.loc[row, list(INPUT_SETS[s])].mean())
        lacking = [c for c in INPUT_SETS[best] if not present.at[row, c]]
        out.append(
            Problem(
                display,
                row=int(row),
                column=lacking[0],
                message="no complete set of numbers: give estimate+se, estimate+ci_lower+ci_upper, the 2x2 counts "
                f"or the means; closest is {best}, which lacks {', '.join(lacking)}",
            )
        )
    return out


def check_events_within_n(t: pd.DataFrame, display: str) -> list[Problem]:
    out = []
    for arm in ("treat", "control"):
        mask = t[f"events_{arm}"] > t[f"n_{arm}"]
        out += _row_problems(
            mask, t, display, f"events_{arm}", lambda r, a=arm: f"more events than participants (n_{a} = {r[f'n_{a}']})"
        )
    return out


def check_nma_items(t: pd.DataFrame, display: str) -> list[Problem]:
    mask = t["answer"].eq("NMA") & ~t["item"].isin([11, 12, 15])
    return _row_problems(
        mask, t, display, "answer", "NMA (no meta-analysis conducted) applies only to items 11, 12 and 15"
    )


def check_raters_agree(t: pd.DataFrame, display: str) -> list[Problem]:
    """Several raters may answer an item; where they disagree, a ``consensus`` row must give the answer."""
    rater = t["rater"].fillna("").astype(str).str.strip().str.lower()
    keys = [t["review_id"], t["item"]]
    has_consensus = rater.eq("consensus").groupby(keys, dropna=True).transform("any").fillna(False)
    others = t[~has_consensus.astype(bool) & rater.ne("consensus") & t["answer"].notna()]
    if others.empty:
        return []
    n_answers = others.groupby(["review_id", "item"])["answer"].transform("nunique")
    out = []
    for (review, item), g in others[n_answers > 1].groupby(["review_id", "item"], sort=True):
        answers = zip(g.index, g["rater"], g["answer"], strict=True)
        given = "; ".join(f"{r or 'blank rater'}: {a} (row {row})" for row, r, a in answers)
        out.append(
            Problem(
                display,
                row=int(g.index[0]),
                column="answer",
                message=f"raters disagree on review {review}, item {int(item)} ({given}) and no row of rater "
                "`consensus` gives the agreed answer",
            )
        )
    return out


ROW_CHECKS = {
    "ci_ordered": check_ci_ordered,
    "estimate_in_ci": check_estimate_in_ci,
    "ratio_positive": check_ratio_positive,
    "effect_inputs_complete": check_effect_inputs_complete,
    "events_within_n": check_events_within_n,
    "nma_items": check_nma_items,
    "raters_agree": check_raters_agree,
}


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
                    close = difflib.get_close_matches(value, sorted(known), n=1)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    problems.append(
                        Problem(
                            sheet.display,
                            row=1,
                            column=value,
                            message=f"this column is not a review_id of the reviews sheet{hint}",
                        )
                    )
                continue
            for row, value in values[unknown].items():
                close = difflib.get_close_matches(value, sorted(known), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                problems.append(
                    Problem(
                        sheet.display,
                        row=int(row),
                        column=col,
                        value=value,
                        message=f"is not a review_id of the reviews sheet{hint}",
                    )
                )
    return problems


def load_sheet(sheet: str, path: str | Path, vocabularies: Mapping[str, list[str]] | None = None) -> Sheet:
    """Read and validate one sheet file on its own (no cross-sheet checks); raise :class:`InputError`."""
    display = str(path)
    raw, problems = read_raw(path, display)
    if raw is None:
        raise InputError(problems)
    table, extras, sheet_problems = parse_sheet(sheet, raw, display, vocabularies)
    problems += sheet_problems
    if problems:
        raise InputError(problems)
    return Sheet(sheet, Path(path), display, table, extras)


def load_dataset(
    data_dir: str | Path,
    vocabularies: Mapping[str, list[str]] | None = None,
) -> dict[str, Sheet]:
    """Find, read and validate every sheet in ``data_dir``; raise :class:`InputError` listing every problem."""
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
    sheets: dict[str, Sheet] = {}
    for name in sorted(files, key=SHEETS.index):
        path = Path(files[name])
        order = SHEETS.index(name)
        display = str(files[name])
        raw, read_problems = read_raw(path, display)
        problems += [_with_order(p, order) for p in read_problems]
        if raw is None:
            continue
        table, extras, sheet_problems = parse_sheet(name, raw, display, vocabularies)
        problems += [_with_order(p, order) for p in sheet_problems]
        sheets[name] = Sheet(name, path, display, table, extras)
    if "studies" in files and "citation_matrix" in files:
        problems.append(
            Problem(
                str(files["citation_matrix"]),
                message=f"give the citation matrix once: {Path(files['studies']).name} (long) or this wide sheet",
                order=SHEETS.index("citation_matrix") * 10,
            )
        )
    ref_problems = check_references(sheets)
    problems += [_with_order(p, SHEETS.index(_sheet_of(p, sheets))) for p in ref_problems]
    if problems:
        raise InputError(problems)
    return sheets


def _with_order(p: Problem, order: int) -> Problem:
    # Problems are listed sheet by sheet; within a sheet, missing columns come first.
    return Problem(p.file, p.row, p.column, p.value, p.message, order=order * 10 + (0 if p.order < 0 else 5))


def _sheet_of(p: Problem, sheets: Mapping[str, Sheet]) -> str:
    return next(name for name, s in sheets.items() if s.display == p.file)
