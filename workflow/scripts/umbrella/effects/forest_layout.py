"""The lines of a forest plot, before any drawing: a header per outcome and timepoint, then one line per result
with its review, rating, k, n, the result as reported and its point and intervals on the oriented g scale."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from umbrella.core.vocabulary import RATIO_MEASURES
from umbrella.effects.figure_common import (
    cell_float,
    cell_int,
    cell_text,
    rating_key,
    rating_style,
    shorten_middle,
    text_sort_key,
    truncate,
)

MINUS = "\u2212"
DASH = "\u2013"
MAX_LABEL = 34
MAX_HEADER = 90
#: Ending of a header repeated at the top of a page.
CONTINUED = " (continued)"


# ---------------------------------------------------------------------------------------------------------------
# The result as reported


def _signed_number(x: float, decimals: int) -> str:
    """``x`` with thousands separators and a real minus sign; a value that rounds to zero has no sign."""
    text = f"{x:,.{decimals}f}"
    if text.startswith("-"):
        # "-0.00" is zero: print it without a sign.
        text = text[1:] if float(text[1:].replace(",", "")) == 0 else MINUS + text[1:]
    return text


def _result_decimals(measure: str, values: list[float]) -> int:
    """Decimals for a result: 2, except an MD of tens (1) or hundreds and more (0)."""
    if measure in RATIO_MEASURES:
        return 2
    if measure == "MD":
        largest = max((abs(v) for v in values if not math.isnan(v)), default=0.0)
        return 2 if largest < 10 else 1 if largest < 100 else 0
    return 2


def format_result(measure: object, estimate: object, lower: object, upper: object) -> str:
    """The result as reported, e.g. ``"SMD −0.39 [−0.54, −0.24]"`` (real minus signs)."""
    m = cell_text(measure).upper()
    est, lo, hi = cell_float(estimate), cell_float(lower), cell_float(upper)
    if math.isnan(est):
        return f"{m} not reported".strip()
    d = _result_decimals(m, [est, lo, hi])
    ci = (
        f" [{_signed_number(lo, d)}, {_signed_number(hi, d)}]" if not (math.isnan(lo) or math.isnan(hi)) else " (no CI)"
    )
    return f"{m} {_signed_number(est, d)}{ci}".strip()


# ---------------------------------------------------------------------------------------------------------------
# Lines


@dataclass(frozen=True)
class ForestRow:
    """One line of a forest plot: a bold ``header`` (outcome and timepoint) or a ``result``."""

    kind: str  # "header" | "result"
    y: float  # data y position; rows go down the page as y grows
    label: str  # header text, or the review label
    effect_id: str = ""
    rating: str | None = None  # a key of RATING_STYLE, or None when not rated
    letter: str = ""
    k: int | None = None
    k_text: str = ""
    n_text: str = ""
    result_text: str = ""
    g: float = math.nan
    lower: float = math.nan
    upper: float = math.nan
    pi_lower: float = math.nan
    pi_upper: float = math.nan
    note: str = ""  # why there is no point on the common scale
    reversed: bool = False  # plotted with its sign reversed (lower values favour the intervention)


def _header(outcome: str, timepoint: str, continued: bool = False) -> str:
    text = outcome or "Outcome not given"
    text = f"{text} \u00b7 {timepoint}" if timepoint else text
    if continued:
        return truncate(text, MAX_HEADER - len(CONTINUED)) + CONTINUED
    return truncate(text, MAX_HEADER)


def _flags(value: object) -> list[str]:
    """The flag names of a ``flags`` cell (``;``-separated)."""
    return [f.strip() for f in cell_text(value).split(";") if f.strip()]


def _sorted_entries(rows: pd.DataFrame) -> list[dict]:
    """Each input row with its outcome, timepoint, review label and effect id, sorted by those (then by input
    position)."""
    entries = []
    for position, (_, row) in enumerate(rows.iterrows()):
        label = (
            cell_text(row.get("review")) or cell_text(row.get("review_id")) or cell_text(row.get("effect_id"))
        ) or "(unnamed)"
        entries.append(
            {
                "outcome": cell_text(row.get("outcome")),
                "timepoint": cell_text(row.get("timepoint")),
                "label": label,
                "effect_id": cell_text(row.get("effect_id")),
                "position": position,
                "row": row,
            }
        )
    entries.sort(
        key=lambda r: (
            text_sort_key(r["outcome"]),
            text_sort_key(r["timepoint"]),
            text_sort_key(r["label"]),
            text_sort_key(r["effect_id"]),
            r["position"],
        )
    )
    return entries


def _result_line(entry: dict, y: float) -> ForestRow:
    """The result line of one sorted entry at ``y``; no point or intervals (and a note why) off the g scale."""
    row = entry["row"]
    rating = rating_key(row.get("amstar2_rating"))
    k = cell_int(row.get("k_studies"))
    n = cell_int(row.get("n_participants"))
    g = cell_float(row.get("g_benefit"))
    note = ""
    if math.isnan(g):
        note = "incomplete" if "incomplete" in _flags(row.get("flags")) else "not on the common scale"
    return ForestRow(
        kind="result",
        y=y,
        label=shorten_middle(entry["label"], MAX_LABEL),
        effect_id=entry["effect_id"],
        rating=rating,
        letter=rating_style(rating)[0],
        k=k,
        k_text=DASH if k is None else f"{k:,}",
        n_text=DASH if n is None else f"{n:,}",
        result_text=format_result(row.get("measure"), row.get("estimate"), row.get("ci_lower"), row.get("ci_upper")),
        g=g,
        lower=cell_float(row.get("g_benefit_lower")) if not math.isnan(g) else math.nan,
        upper=cell_float(row.get("g_benefit_upper")) if not math.isnan(g) else math.nan,
        pi_lower=cell_float(row.get("pi_g_benefit_lower")) if not math.isnan(g) else math.nan,
        pi_upper=cell_float(row.get("pi_g_benefit_upper")) if not math.isnan(g) else math.nan,
        note=note,
        reversed=not math.isnan(g) and cell_text(row.get("favours_used")).lower() == "lower",
    )


def forest_layout(rows: pd.DataFrame) -> list[ForestRow]:
    """The lines of a forest plot in drawing order with their y positions: results grouped by outcome then
    timepoint (a header line each), sorted by review label within. Every input row gives one result line."""
    if rows.empty:
        return []
    return _lines(_sorted_entries(rows))


def forest_page_layouts(rows: pd.DataFrame, figure_rows: int) -> list[list[ForestRow]]:
    """The lines of each page of a forest plot of at most ``figure_rows`` results per page: the results in the
    order of :func:`forest_layout`, cut into pages, each laid out on its own; a page that starts inside an outcome
    and timepoint repeats its header, marked "(continued)". One empty page when there are no rows."""
    entries = _sorted_entries(rows) if not rows.empty else []
    if len(entries) <= figure_rows:
        return [_lines(entries)]
    pages = []
    for start in range(0, len(entries), figure_rows):
        continued = start > 0 and _key(entries[start - 1]) == _key(entries[start])
        pages.append(_lines(entries[start : start + figure_rows], continued))
    return pages


def _key(entry: dict) -> tuple[str, str]:
    """The outcome and timepoint of an entry: the header it goes under."""
    return entry["outcome"], entry["timepoint"]


def _lines(entries: list[dict], continued: bool = False) -> list[ForestRow]:
    """Header and result lines of sorted entries with their y positions; ``continued``: the first header
    continues one of the page before."""
    out: list[ForestRow] = []
    y = 0.0
    current: tuple[str, str] | None = None
    for entry in entries:
        key = _key(entry)
        if key != current:
            if current is not None:
                y += 0.4  # a little space before each new header
            label = _header(*key, continued=continued and current is None)
            out.append(ForestRow(kind="header", y=y, label=label))
            y += 1.0
            current = key
        out.append(_result_line(entry, y))
        y += 1.0
    return out
