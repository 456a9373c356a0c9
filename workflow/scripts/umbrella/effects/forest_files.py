"""The file names of each outcome group's forest plot, shared by the figures and the report that links them.

A group of more than ``figure_rows`` results (config ``scale.figure_rows``) is drawn over several pages of at most
``figure_rows`` results each: ``forest_<slug>.svg``, then ``forest_<slug>-2.svg``, ``forest_<slug>-3.svg``...
(a slug never holds a hyphen, so page names never collide with another group's name).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

from umbrella.core.vocabulary import FIGURE_ROWS


def group_slug(group: str) -> str:
    """A file-name-safe slug of an outcome group: lowercase ascii letters, digits and ``_``
    (``"Quality of life"`` -> ``"quality_of_life"``); ``"ungrouped"`` when nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", str(group)).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:80].strip("_")
    return slug or "ungrouped"


def forest_file_names(groups: list[str]) -> dict[str, str]:
    """Outcome group -> forest plot file name (``forest_<slug>.svg``), in group order (case-insensitive, then
    exact); groups whose slugs collide get ``_2``, ``_3``... in that order."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for group in sorted(set(groups), key=lambda g: (g.casefold(), g)):
        base = f"forest_{group_slug(group)}"
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}_{n}"
        used.add(name)
        names[group] = f"{name}.svg"
    return names


def page_count(n_rows: int, figure_rows: int = FIGURE_ROWS) -> int:
    """How many pages a forest plot of ``n_rows`` results takes (one at least, even when empty)."""
    return max(1, math.ceil(n_rows / max(1, figure_rows)))


def page_file_names(name: str, pages: int) -> list[str]:
    """The file names of the pages of the forest plot ``name``: ``name`` itself for page 1, then ``-2``, ``-3``...
    before its suffix (``forest_hope.svg`` -> ``forest_hope-2.svg``)."""
    stem, dot, suffix = name.rpartition(".")
    return [name] + [f"{stem}-{page}{dot}{suffix}" for page in range(2, pages + 1)]


def forest_pages(groups: Iterable[str], figure_rows: int = FIGURE_ROWS) -> dict[str, list[str]]:
    """Outcome group -> the file names of its forest plot's pages, in group order (as :func:`forest_file_names`).

    ``groups`` holds the outcome group of every result (one entry per row, repeats and all): a group of more than
    ``figure_rows`` results has ``ceil(results / figure_rows)`` pages."""
    counts = Counter(groups)
    return {
        group: page_file_names(name, page_count(counts[group], figure_rows))
        for group, name in forest_file_names(list(counts)).items()
    }


def page_order(path: str) -> tuple[str, int]:
    """Sort key of figure files that puts the pages of a figure in page order: ``forest_hope.svg``,
    ``forest_hope-2.svg`` ... ``forest_hope-10.svg``, then the next figure."""
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    base, dash, page = stem.rpartition("-")
    return (base, int(page)) if dash and page.isdigit() else (stem, 1)
