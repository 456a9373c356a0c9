"""What the effects figures share: reading cells of the harmonised table, shortening and sorting text, rating
styles and their legend, each row's outcome group, and the figure drawn when there is nothing to draw.

Every column of the harmonised table may hold NaN / None, or be absent; the readers here turn such cells into
``""``, NaN or None.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from matplotlib.patches import Patch

from umbrella.core.plots import OKABE_ITO, RATING_HATCH, RATING_STYLE, figure, save_svg
from umbrella.core.vocabulary import RATING_LABELS

#: Style of a result whose review has no AMSTAR-2 rating (not one of RATING_STYLE's keys).
NOT_RATED = ("\u2013", "#FFFFFF")
UNGROUPED = "Ungrouped"


# ---------------------------------------------------------------------------------------------------------------
# Cells


def column_or_blank(rows: pd.DataFrame, name: str) -> pd.Series:
    """The column ``name``, or a column of None when the table has none."""
    if name in rows.columns:
        return rows[name]
    return pd.Series([None] * len(rows), index=rows.index, dtype=object)


def cell_text(value: object) -> str:
    """A cell as stripped text; missing values and NaN give ``""``."""
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value).strip()


def cell_float(value: object) -> float:
    """A cell as a finite float, or NaN."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return x if math.isfinite(x) else math.nan


def cell_int(value: object) -> int | None:
    """A cell as a rounded integer, or None."""
    x = cell_float(value)
    return None if math.isnan(x) else int(round(x))


def rating_key(value: object) -> str | None:
    """The rating key in RATING_STYLE, or None if missing / not recognised."""
    key = cell_text(value).lower().replace(" ", "_").replace("-", "_")
    return key if key in RATING_STYLE else None


def rating_style(rating: str | None) -> tuple[str, str]:
    """(letter, colour) of a rating key; NOT_RATED for None."""
    return RATING_STYLE[rating] if rating is not None else NOT_RATED


def outcome_groups(rows: pd.DataFrame) -> pd.Series:
    """Each row's outcome group as text; missing or blank -> ``"Ungrouped"``."""
    return column_or_blank(rows, "outcome_group").map(lambda v: cell_text(v) or UNGROUPED).astype(object)


# ---------------------------------------------------------------------------------------------------------------
# Text


def truncate(text: str, limit: int) -> str:
    """Long text cut at ``limit`` characters, ending in an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def shorten_middle(text: str, limit: int) -> str:
    """Long labels lose their middle, keeping the end (where a review label has its year)."""
    if len(text) <= limit:
        return text
    tail = limit // 3
    return text[: limit - tail - 1].rstrip() + "\u2026" + text[-tail:].lstrip()


def text_sort_key(value: str) -> tuple[bool, str, str]:
    """Sort key for text: missing last, then case-insensitive, then exact (for determinism)."""
    return (value == "", value.casefold(), value)


# ---------------------------------------------------------------------------------------------------------------
# Drawing


def rating_legend_handles(ratings: set[str | None]) -> list:
    """Legend entries for every AMSTAR-2 rating, and for "not rated" when ``ratings`` holds None (hatched as the
    markers of results without a usable rating)."""
    handles = [
        Patch(
            facecolor=c,
            edgecolor="black",
            linewidth=0.4,
            hatch=RATING_HATCH.get(r, ""),
            label=f"{t} = {RATING_LABELS[r]}",
        )
        for r, (t, c) in RATING_STYLE.items()
    ]
    if None in ratings:
        handles.append(
            Patch(facecolor=NOT_RATED[1], edgecolor="black", linewidth=0.4, hatch=RATING_HATCH[None],
                  label=f"{NOT_RATED[0]} = Not rated")
        )  # fmt: skip
    return handles


def draw_no_results(title: str, path: Path) -> None:
    """A figure saying "No results", titled ``title``, saved as SVG to ``path``."""
    fig, ax = figure(7.5, 2.0)
    ax.text(0.5, 0.5, "No results", ha="center", va="center", fontsize=11, color=OKABE_ITO["grey"])
    # Axis kept (but bare) so that the tight bounding box keeps the whole panel and the text stays centred.
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("left", "bottom", "top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, loc="left")
    save_svg(fig, path)
