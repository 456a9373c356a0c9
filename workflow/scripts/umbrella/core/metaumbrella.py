"""metaumbrella's study-level layout, read as a ``study_effects`` sheet and written from one.

metaumbrella (R, 1.1) takes one row per effect size with fixed column names (``meta_review``, ``factor``,
``author``, ``year``, ``measure``, ``value``, ``ci_lo``, ``ci_up``, the 2x2 counts ``n_cases_exp`` ...). A
``study_effects`` sheet whose header has both ``meta_review`` and ``factor`` is taken to be in that layout: its
columns are renamed or combined into this project's (:data:`RENAMED`, :func:`from_metaumbrella`) before the sheet
is checked against its schema, and the problems found are reported under the file's own column names
(:func:`as_written`).

Columns of metaumbrella that have no counterpart here are named in a message. Those that would change the
analysis if they were followed (:data:`REFUSED`: ``analysis``, ``discard``, and ``shared_controls`` /
``shared_nexp``, which in metaumbrella name a shared group rather than count its comparisons) are input problems
when a row fills them; the others (:data:`IGNORED`, e.g. the domain-level ``rob1_*``/``rob2_*``, and any column
metaumbrella does not know) are kept as extra columns, are not used, and are listed in a note in the job's log.

:func:`to_metaumbrella` is the way back: this project's ``study_effects`` table in metaumbrella's layout, so that
the re-analysis can be re-run with ``metaumbrella::umbrella()`` (``python -m umbrella.metaumbrella_export``).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TextIO

import numpy as np
import pandas as pd

from umbrella.core.errors import Problem
from umbrella.core.sheet_schemas import columns

#: Measures from means and SDs, whose arms' sizes metaumbrella gives as n_cases and n_controls.
_MEANS_MEASURES = {"SMD", "G", "MD", "SMC", "MC"}

#: metaumbrella's column -> this project's column, copied cell for cell.
RENAMED: dict[str, str] = {
    "meta_review": "review_id",
    "factor": "outcome",
    "year": "year",
    "measure": "measure",
    "value": "estimate",
    "se": "se",
    "ci_lo": "ci_lower",
    "ci_up": "ci_upper",
    "n_cases": "n_cases",
    "n_controls": "n_controls",
    "n_sample": "n_sample",
    "mean_cases": "mean_treat",
    "sd_cases": "sd_treat",
    "mean_controls": "mean_control",
    "sd_controls": "sd_control",
    "mean_pre_cases": "mean_pre_treat",
    "sd_pre_cases": "sd_pre_treat",
    "mean_pre_controls": "mean_pre_control",
    "sd_pre_controls": "sd_pre_control",
    "pre_post_cor": "pre_post_cor",
    "mean_change_cases": "mean_change_treat",
    "sd_change_cases": "sd_change_treat",
    "mean_change_controls": "mean_change_control",
    "sd_change_controls": "sd_change_control",
    "time_exp": "time_treat",
    "time_nexp": "time_control",
    "rob": "rob",
    "indirectness": "indirectness",
    "amstar": "amstar",
    "multiple_es": "multiple_es",
    "r": "within_r",
    "reverse_es": "reverse",
}

#: metaumbrella's columns that are combined into this project's (see :func:`from_metaumbrella`).
COMBINED: dict[str, str] = {
    "author": "study_id",
    "var": "se",
    "n_cases_exp": "events_treat",
    "n_cases_nexp": "events_control",
    "n_controls_exp": "n_treat",
    "n_controls_nexp": "n_control",
    "n_exp": "n_treat",
    "n_nexp": "n_control",
}

#: Where a problem found in a column of this project is shown in a metaumbrella sheet.
SHOWN_AS: dict[str, str] = {
    **{ours: theirs for theirs, ours in RENAMED.items()},
    "study_id": "author + year",
    "se": "se (or var)",
    "events_treat": "n_cases_exp",
    "events_control": "n_cases_nexp",
    "n_treat": "n_exp (or n_cases_exp + n_controls_exp; n_cases for measures from means)",
    "n_control": "n_nexp (or n_cases_nexp + n_controls_nexp; n_controls for measures from means)",
    "outcome + review_id + study_id": "factor + meta_review + author + year",
}

#: metaumbrella's columns that change its analysis and are not followed here: filled, they are input problems.
REFUSED: dict[str, str] = {
    "analysis": 'metaumbrella\'s `analysis` ("allelic" doubles the sample sizes) is not supported; '
    "give the sample sizes to be used and leave `analysis` blank",
    "discard": "rows marked in `discard` would be analysed here; delete them, or leave `discard` blank",
    "shared_controls": "metaumbrella's `shared_controls` names a shared control group (a feature metaumbrella "
    "1.1 no longer applies); give this project's layout, whose `shared_controls` is the number of comparisons "
    "sharing the control group, or leave it blank",
    "shared_nexp": "metaumbrella's `shared_nexp` names a shared non-exposed group (a feature metaumbrella 1.1 "
    "no longer applies); give this project's layout, whose `shared_controls` is the number of comparisons "
    "sharing the control group, or leave it blank",
}

#: metaumbrella's columns read by metaumbrella but not here; they do not change the pooled estimates.
IGNORED: tuple[str, ...] = (
    "rob1_rand",
    "rob1_allocation",
    "rob1_blind_pers",
    "rob1_blind_outcome",
    "rob1_attrition",
    "rob1_report",
    "rob2_rand",
    "rob2_deviation",
    "rob2_missing",
    "rob2_outcome",
    "rob2_report",
    "time",
    "thr",
    "prop_cases",
    "prop_controls",
)


def is_metaumbrella(columns: Sequence[str]) -> bool:
    """A header in metaumbrella's layout: it has ``meta_review`` and ``factor`` (normalised names)."""
    return {"meta_review", "factor"} <= set(columns)


def from_metaumbrella(
    sheet: str, raw: pd.DataFrame, display: str, log: TextIO | None = None
) -> tuple[pd.DataFrame, dict[str, str] | None, list[Problem]]:
    """A ``study_effects`` sheet read by :func:`~umbrella.core.sheet_files.read_raw`, in this project's columns.

    Another sheet, or one not in metaumbrella's layout, is returned as it is, with ``None``. Otherwise returns
    the table in this project's columns (text cells, rows kept), the names under which its problems are to be
    shown (for :func:`as_written`), and the problems found here: a filled column of :data:`REFUSED`, a cell
    that should be a number and is not, 2x2 counts that disagree with ``n_exp``/``n_nexp``, and a column given
    in both layouts.
    The unmapped columns that are kept unused are named in a note written to ``log`` (the job's log).
    """
    if sheet != "study_effects" or not is_metaumbrella(raw.columns):
        return raw, None, []
    cells = raw.where(raw.ne("NA"), "")  # R writes a missing value as NA
    problems: list[Problem] = []
    mapped = {**RENAMED, **COMBINED}
    ours = set(columns("study_effects"))
    for col in cells.columns:
        theirs = [m for m, o in mapped.items() if o == col and m != col and m in cells.columns]
        if col in ours and col not in mapped and col not in REFUSED and theirs:
            message = f"the sheet is in metaumbrella's layout, which gives this as `{theirs[0]}`; remove one of them"
            problems.append(Problem(display, row=1, column=col, message=message, order=-1))
    out = pd.DataFrame(index=cells.index)
    for theirs, col in RENAMED.items():
        if theirs in cells.columns:
            out[col] = cells[theirs]
    if "reverse" in out:
        out["reverse"] = out["reverse"].where(out["reverse"].str.lower().ne("reverse"), "yes")
    if "author" in cells.columns:
        year = cells["year"] if "year" in cells.columns else pd.Series("", index=cells.index)
        out["study_id"] = (cells["author"] + " " + year).str.strip().where(cells["author"].ne(""), "")
    # the columns whose cells are not copied are checked for numbers here; the copied ones by the schema
    copied = ("n_cases_exp", "n_cases_nexp")
    numbers = {c: _numbers(cells, c, display, problems, c not in copied) for c in COMBINED if c != "author"}
    if "var" in cells.columns:
        root = _text(np.sqrt(numbers["var"]))
        out["se"] = cells["se"].where(cells["se"].ne(""), root) if "se" in cells.columns else root
    for arm, events, non_events, total in (
        ("treat", "n_cases_exp", "n_controls_exp", "n_exp"),
        ("control", "n_cases_nexp", "n_controls_nexp", "n_nexp"),
    ):
        if events in cells.columns:
            out[f"events_{arm}"] = cells[events]
        counted = numbers[events] + numbers[non_events]
        given = numbers[total]
        differ = np.isfinite(counted) & np.isfinite(given) & (counted != given)
        for row in cells.index[differ]:
            message = f"is not {events} + {non_events} ({_cell(counted[cells.index.get_loc(row)])})"
            problems.append(Problem(display, row=int(row), column=total, value=cells.at[row, total], message=message))
        if non_events in cells.columns or total in cells.columns:
            out[f"n_{arm}"] = _text(np.where(np.isfinite(counted), counted, given))
    if "measure" in cells.columns:  # for measures from means, metaumbrella's n_cases and n_controls are the arms
        means = cells["measure"].str.upper().isin(_MEANS_MEASURES)
        for arm, size in (("treat", "n_cases"), ("control", "n_controls")):
            if size in cells.columns:
                given = out[f"n_{arm}"] if f"n_{arm}" in out else pd.Series("", index=cells.index)
                out[f"n_{arm}"] = given.where(~(means & given.eq("")), cells[size])
    for col, why in REFUSED.items():
        if col in cells.columns:
            for row in cells.index[cells[col].ne("")]:
                problems.append(Problem(display, row=int(row), column=col, value=cells.at[row, col], message=why))
    # this project's own columns (ci_level, ...) are read as such; others are kept unused, and named
    passed = [c for c in cells.columns if c not in mapped and c not in REFUSED and c in ours and c not in out]
    unused = [c for c in cells.columns if c not in mapped and c not in REFUSED and c not in ours]
    for col in passed + unused:
        out[col] = cells[col]
    if unused and log is not None:
        log.write(_note(display, unused))
    out.attrs["headers"] = {c: c for c in out.columns}
    return out, SHOWN_AS, problems


def _note(display: str, unused: Sequence[str]) -> str:
    listed = ", ".join(f"`{c}`" for c in unused)
    metaumbrella_own = [c for c in unused if c in IGNORED]
    which = (
        f" ({', '.join(metaumbrella_own)} {'is' if len(metaumbrella_own) == 1 else 'are'} metaumbrella's, "
        "not read here: the domain-level risk of bias, person-time totals, thresholds and proportions do not "
        "enter the pooled estimates)"
        if metaumbrella_own
        else ""
    )
    return (
        f"Note: {display} is in metaumbrella's layout; column{'s' if len(unused) != 1 else ''} {listed} "
        f"{'have' if len(unused) != 1 else 'has'} no counterpart in this project's study_effects sheet and "
        f"{'are' if len(unused) != 1 else 'is'} kept as extra columns, not used{which}.\n"
    )


def _numbers(cells: pd.DataFrame, col: str, display: str, problems: list[Problem], check: bool) -> np.ndarray:
    """A column's cells as numbers (NaN where blank, absent or not a number); with ``check``, a cell that is
    not a number is a problem."""
    if col not in cells.columns:
        return np.full(len(cells), np.nan)
    text = cells[col].str.replace(",", "", regex=False)
    values = pd.to_numeric(text, errors="coerce")
    for row in cells.index[values.isna() & cells[col].ne("")] if check else []:
        problems.append(Problem(display, row=int(row), column=col, value=cells.at[row, col], message="is not a number"))
    return values.to_numpy(dtype=float)


def _text(values: np.ndarray) -> pd.Series | np.ndarray:
    """Numbers as the text cells of a sheet: whole numbers without a decimal point, others as repr, NaN blank."""
    return np.array([_cell(v) for v in np.asarray(values, dtype=float)], dtype=object)


def _cell(value: float) -> str:
    if not math.isfinite(value):
        return ""
    return str(int(value)) if value.is_integer() else repr(float(value))


def as_written(problems: list[Problem], shown_as: dict[str, str] | None) -> list[Problem]:
    """The problems of a sheet read in metaumbrella's layout, under its own column names."""
    if not shown_as:
        return problems
    return [replace(p, column=shown_as.get(p.column, p.column)) if p.column else p for p in problems]


# --------------------------------------------------------------------------------------------------------------
# The way back

#: metaumbrella's columns in the order written (columns blank in every row are left out).
WRITTEN = [
    "meta_review",
    "factor",
    "author",
    "year",
    "measure",
    "value",
    "se",
    "ci_lo",
    "ci_up",
    "n_cases",
    "n_controls",
    "n_sample",
    "n_exp",
    "n_nexp",
    "n_cases_exp",
    "n_cases_nexp",
    "n_controls_exp",
    "n_controls_nexp",
    "mean_cases",
    "sd_cases",
    "mean_controls",
    "sd_controls",
    "mean_pre_cases",
    "sd_pre_cases",
    "mean_pre_controls",
    "sd_pre_controls",
    "pre_post_cor",
    "mean_change_cases",
    "sd_change_cases",
    "mean_change_controls",
    "sd_change_controls",
    "time_exp",
    "time_nexp",
    "rob",
    "indirectness",
    "amstar",
    "multiple_es",
    "r",
    "reverse_es",
]


def to_metaumbrella(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """A typed ``study_effects`` table (as validated) in metaumbrella's layout, and the caveats: what
    metaumbrella 1.1 will read differently or not at all.

    ``study_id`` "<author> <year>" (its year as in ``year``) is split into ``author`` and ``year``; another
    study_id is written whole as ``author`` (read back, the year is then appended). The arms' counts become the
    2x2 columns (``n_controls_exp`` = n_treat − events_treat), or ``n_exp``/``n_nexp`` without events; for
    measures from means, ``n_cases``/``n_controls`` default to the arms' sizes, as metaumbrella reads them.
    """
    t = table.reset_index(drop=True)
    out = pd.DataFrame(index=t.index)
    caveats: list[str] = []
    for theirs, ours in RENAMED.items():
        if ours in t:
            out[theirs] = t[ours]
    year = t["year"].astype("Int64").astype(str).where(t["year"].notna(), "")
    sid = t["study_id"].astype(str)
    out["author"] = [
        s[: -len(x)] if y and s.endswith(x) and len(s) > len(x) else s
        for s, y, x in zip(sid, year, " " + year, strict=True)
    ]
    out["reverse_es"] = np.where(t["reverse"].eq("yes"), "reverse", None) if "reverse" in t else None
    if "indirectness" in t:
        out["indirectness"] = t["indirectness"].replace({"very_serious": "very serious"})
    for arm, events, non_events, total in (
        ("treat", "n_cases_exp", "n_controls_exp", "n_exp"),
        ("control", "n_cases_nexp", "n_controls_nexp", "n_nexp"),
    ):
        e, n = _floats(t, f"events_{arm}"), _floats(t, f"n_{arm}")
        out[events] = _ints(e)
        out[non_events] = _ints(np.where(np.isfinite(e), n - e, np.nan))
        out[total] = _ints(np.where(np.isfinite(e), np.nan, n))
    means = t["measure"].isin(_MEANS_MEASURES).to_numpy()
    for col, arm in (("n_cases", "n_treat"), ("n_controls", "n_control")):
        given, size = _floats(t, col), _floats(t, arm)
        out[col] = _ints(np.where(np.isfinite(given), given, np.where(means, size, np.nan)))

    def rows(mask: pd.Series) -> str:
        return ", ".join(f"{a} ({f})" for a, f in zip(t.loc[mask, "study_id"], t.loc[mask, "outcome"], strict=True))

    if "ci_level" in t:
        other = t["ci_level"].notna() & t["ci_level"].ne(95) & t["ci_lower"].notna()
        if other.any():
            caveats.append(f"metaumbrella reads every CI as a 95% CI; these rows give another level: {rows(other)}")
    if "shared_controls" in t and t["shared_controls"].notna().any():
        mask = t["shared_controls"].notna()
        caveats.append(
            "shared_controls is not written (metaumbrella 1.1 does not split shared control groups); "
            f"metaumbrella will use the full control group in: {rows(mask)}"
        )
    if t["measure"].eq("RD").any():
        caveats.append(f"metaumbrella has no risk difference (RD); it will refuse: {rows(t['measure'].eq('RD'))}")
    if "rob" in t and t["rob"].eq("some_concerns").any():
        out["rob"] = t["rob"].replace({"some_concerns": "some concerns"})
        concerns = rows(t["rob"].eq("some_concerns"))
        caveats.append(f"metaumbrella reads rob as low, high or unclear; these rows say some concerns: {concerns}")
    out = out[[c for c in WRITTEN if c in out and out[c].notna().any()]]
    return out, caveats


def _floats(t: pd.DataFrame, col: str) -> np.ndarray:
    if col not in t:
        return np.full(len(t), np.nan)
    return pd.to_numeric(t[col], errors="coerce").to_numpy(dtype=float)


def _ints(values: np.ndarray) -> pd.Series:
    return pd.Series(values).round().astype("Int64")


def write_metaumbrella(table: pd.DataFrame, out: str, log: TextIO = sys.stderr) -> pd.DataFrame:
    """Write :func:`to_metaumbrella` of ``table`` to the CSV ``out`` (missing values as NA, as R reads them);
    the caveats go to ``log``."""
    frame, caveats = to_metaumbrella(table)
    frame.to_csv(out, index=False, na_rep="NA", lineterminator="\n")
    for caveat in caveats:
        log.write(f"Note: {caveat}\n")
    return frame
