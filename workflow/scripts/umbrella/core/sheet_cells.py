"""Parsing one column of a sheet from text cells to its schema type, and checking every cell.

Numbers are read leniently (a Unicode minus, spaces, a trailing ``%`` where ``x-percent`` allows it, the usual
ways of writing "not known") and checked against their range; text is normalised by its format (``x-format``),
mapped to its vocabulary (``enum`` with case-insensitive ``x-aliases``, or a ``;``-list of it) and matched
against its pattern. Every bad cell is a :class:`~umbrella.core.errors.Problem` naming its row and value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from umbrella.core.errors import Problem

#: Cells read as missing in numeric columns (as R and Excel users write them).
MISSING_TOKENS = frozenset({"", "na", "n/a", "nr", "not reported", "-", "\u2013", "\u2014", "."})
#: The largest whole number read exactly (2^53): a larger one is an error, not a rounded or overflowing value.
MAX_WHOLE = 2**53
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-"})


@dataclass(frozen=True)
class TextFormat:
    """A format of text cells, named by a column's ``x-format``: how a cell is normalised before it is checked
    against the column's pattern, and what a cell that does not match is told (before the schema's example)."""

    normalise: Callable[[pd.Series], pd.Series]
    mismatch: str
    #: Cells (normalised, not blank) that the format rejects beyond the column's pattern, if it checks any.
    invalid: Callable[[pd.Series], pd.Series] | None = None


def _year_month(values: pd.Series) -> pd.Series:
    # 2022-11-30, 2022-11-30 00:00:00 (a spreadsheet date) and 2022/11 all become 2022-11.
    return values.str.replace(r"^(\d{4})[-/.](\d{1,2})(?:[-/.]\d{1,2})?(?:[ T].*)?$", _ym, regex=True)


def _ym(m: re.Match) -> str:
    return f"{m.group(1)}-{int(m.group(2)):02d}"


def _doi(values: pd.Series) -> pd.Series:
    # https://doi.org/10.1/x, http://dx.doi.org/10.1/x and doi:10.1/x all become 10.1/x.
    return values.str.replace(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", regex=True, flags=re.I)


def _unchanged(values: pd.Series) -> pd.Series:
    return values


def _not_p_value(values: pd.Series) -> pd.Series:
    # A printed p-value: a number in [0, 1], after <, <=, >, >=, = or "p =" if any, or NS.
    from umbrella.effects.printed_p import parse_p

    return values.map(lambda v: parse_p(v)[1] == "")


#: The text formats a schema may name in ``x-format``.
TEXT_FORMATS: dict[str, TextFormat] = {
    "year-month": TextFormat(_year_month, "is not a date; expected YYYY or YYYY-MM"),
    "doi": TextFormat(_doi, "is not a DOI; expected 10.xxxx/yyyy"),
    "p-value": TextFormat(
        _unchanged,
        "is not a p-value; expected a number from 0 to 1, as printed (0.03, < 0.001, p = .04, ≤ 0.05) or NS",
        _not_p_value,
    ),
}


def text_format(column: str, spec: Mapping) -> TextFormat | None:
    """The format of a text column: the one its schema names (``x-format``), if any."""
    return TEXT_FORMATS.get(spec.get("x-format", ""))


@dataclass
class _Cells:
    """The cells of one column as written, where they come from, and the problems found in them so far."""

    text: pd.Series
    column: str
    display: str
    problems: list[Problem] = field(default_factory=list)

    def flag(self, mask: pd.Series, message: str) -> None:
        """One problem per cell selected by ``mask``, showing the cell as written."""
        for row, value in self.text[mask].items():
            self.flag_cell(row, value, message)

    def flag_cell(self, row: object, value: str, message: str) -> None:
        self.problems.append(Problem(self.display, row=int(row), column=self.column, value=value, message=message))


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
    cells = _Cells(raw.fillna("").astype(str), column, display)
    if spec.get("type", "string") in ("integer", "number"):
        return _parse_numbers(cells, spec), cells.problems
    return _parse_text(cells, spec, enum), cells.problems


# --------------------------------------------------------------------------------------------------------------
# Number columns


def _parse_numbers(cells: _Cells, spec: Mapping) -> pd.Series:
    """Numbers (``float64``) or whole numbers (``Int64``); a cell that is not one, or out of range, is blank."""
    text = cells.text
    cleaned = text.str.translate(_MINUS).str.replace(r"\s+", "", regex=True)
    if spec.get("x-percent"):
        cleaned = cleaned.str.replace(r"%$", "", regex=True)
    missing = text.str.lower().isin(MISSING_TOKENS)
    values = pd.to_numeric(cleaned.where(~missing, None), errors="coerce").astype("float64")
    not_number = ~missing & values.isna()
    hint = _number_hint(spec)
    if not_number.any():
        cells.flag(not_number, f"is not a number; expected {hint}")
    # inf, -Infinity and 1e999 are read as infinite: never a value a sheet can hold
    infinite = values.notna() & ~np.isfinite(values.to_numpy(dtype="float64", na_value=np.nan))
    if infinite.any():
        cells.flag(infinite, f"is not a finite number; expected {hint}")
        values = values.where(~infinite)
    whole = spec.get("type") == "integer"
    if whole:
        fractional = values.notna() & (values != np.floor(values))
        if fractional.any():
            cells.flag(fractional, f"is not a whole number; expected {hint}")
        huge = values.abs() > MAX_WHOLE
        if huge.any():
            cells.flag(huge & ~fractional, f"is too large; expected {hint} up to {MAX_WHOLE:,}")
        values = values.where(~fractional & ~huge)
    out_of_range = _out_of_range(values, spec)
    if out_of_range.any():
        cells.flag(out_of_range, f"is out of range; expected {hint}")
        values = values.where(~out_of_range)
    if "default" in spec:
        values = values.where(~missing, float(spec["default"]))
    return values.round().astype("Int64") if whole else values


def _out_of_range(values: pd.Series, spec: Mapping) -> pd.Series:
    out = pd.Series(False, index=values.index)
    if "minimum" in spec:
        out |= values < spec["minimum"]
    if "maximum" in spec:
        out |= values > spec["maximum"]
    if "exclusiveMinimum" in spec:
        out |= values <= spec["exclusiveMinimum"]
    if "exclusiveMaximum" in spec:
        out |= values >= spec["exclusiveMaximum"]
    return out


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


# --------------------------------------------------------------------------------------------------------------
# Text columns


def _parse_text(cells: _Cells, spec: Mapping, enum: list[str] | None) -> pd.Series:
    """Text (``object``, ``None`` for blanks): normalised by its format, mapped to its vocabulary, matched
    against its pattern."""
    blank = cells.text.eq("")
    values = cells.text.copy()
    fmt = text_format(cells.column, spec)
    if fmt is not None:
        values = fmt.normalise(values)
    vocabulary = enum if enum is not None else spec.get("enum")
    if vocabulary is not None:
        values = _canonical_values(cells, values, blank, spec, vocabulary)
    if fmt is not None and fmt.invalid is not None:
        invalid = ~blank & fmt.invalid(values.where(~blank, ""))
        if invalid.any():
            cells.flag(invalid, _pattern_message(spec, fmt))
    pattern = spec.get("pattern")
    if pattern:
        mismatch = ~blank & values.notna() & ~values.fillna("").str.match(pattern)
        if mismatch.any():
            cells.flag(mismatch, _pattern_message(spec, fmt))
    result = values.where(~blank, None).astype(object)
    return result.where(result.notna(), None)


def _canonical_values(
    cells: _Cells, values: pd.Series, blank: pd.Series, spec: Mapping, vocabulary: Sequence[str]
) -> pd.Series:
    """Each cell as its canonical value of the vocabulary (``None`` where it is not one); a list column's
    cells as their canonical values in vocabulary order, each once."""
    lookup = _enum_lookup(vocabulary, spec.get("x-aliases") or {})
    separator = spec.get("x-list-separator")
    if separator:
        return _canonical_lists(cells, values, blank, lookup, vocabulary, separator)
    canonical = values.map(lambda v: lookup.get(_token(v)))
    unknown = ~blank & canonical.isna()
    if unknown.any():
        cells.flag(unknown, f"is not an allowed value; {_allowed(vocabulary)}")
    return canonical


def _canonical_lists(
    cells: _Cells,
    values: pd.Series,
    blank: pd.Series,
    lookup: Mapping[str, str],
    vocabulary: Sequence[str],
    separator: str,
) -> pd.Series:
    order = {v: i for i, v in enumerate(vocabulary)}

    def canon_list(cell: str) -> str | None:
        items = [_token(x) for x in cell.split(separator) if x.strip()]
        if not all(x in lookup for x in items):
            return None
        return separator.join(sorted({lookup[x] for x in items}, key=order.__getitem__))

    canonical = values.map(canon_list)
    unknown = ~blank & canonical.isna()
    for row, cell in cells.text[unknown].items():
        wrong = [x.strip() for x in cell.split(separator) if x.strip() and _token(x) not in lookup]
        message = f"unknown value {', '.join(map(repr, wrong))}; {_allowed(vocabulary)} (separated by {separator!r})"
        cells.flag_cell(row, cell, message)
    return canonical


def _enum_lookup(vocabulary: Sequence[str], aliases: Mapping[str, str]) -> dict[str, str]:
    """Token (case, spaces, ``_`` and ``-`` ignored) -> canonical value, for the values and their aliases."""
    table: dict[str, str] = {}
    for value in vocabulary:
        table[_token(value)] = value
    for alias, value in aliases.items():
        table[_token(alias)] = value
    return table


def _token(value: object) -> str:
    return re.sub(r"[\s_\-]+", " ", str(value).strip().lower())


def _allowed(vocabulary: Sequence[str]) -> str:
    return "allowed: " + ", ".join(vocabulary)


def _pattern_message(spec: Mapping, fmt: TextFormat | None) -> str:
    examples = spec.get("examples")
    example = f" (e.g. {examples[0]})" if examples else ""
    if fmt is not None:
        return fmt.mismatch + example
    return f"has characters that are not allowed; expected letters, digits, _ . - only{example}"
