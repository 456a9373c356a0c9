"""The file name of each outcome group's forest plot, shared by the figures and the report that links them."""

from __future__ import annotations

import re
import unicodedata


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
