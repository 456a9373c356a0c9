"""Where the sheets are: cheap to import (no pandas), so the Snakefile can use it at parse time."""

from __future__ import annotations

import difflib
import hashlib
from pathlib import Path

from umbrella.core.errors import Problem

#: Sheets in the order they are validated and reported; ``reviews`` is the only required one.
SHEETS: tuple[str, ...] = (
    "reviews",
    "amstar2",
    "effects",
    "studies",
    "citation_matrix",
    "study_effects",
    "implementation",
    "experiences",
)
OPTIONAL_SHEETS: tuple[str, ...] = SHEETS[1:]
EXTENSIONS: tuple[str, ...] = (".csv", ".xlsx")


def find_sheets(data_dir: str | Path) -> tuple[dict[str, Path], list[Problem]]:
    """Map each sheet present in ``data_dir`` to its file (``<sheet>.csv`` or ``<sheet>.xlsx``, any case).

    Returns the mapping (in :data:`SHEETS` order) and the problems found: a missing folder, a missing
    ``reviews`` sheet, or a sheet given twice (as CSV and as XLSX). Other files in the folder are ignored.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        return {}, [Problem(str(data_dir), message="the data folder does not exist (see `data:` in the config)")]
    by_stem: dict[str, list[Path]] = {}
    for path in sorted(data_dir.iterdir()):
        if path.is_file() and path.suffix.lower() in EXTENSIONS and not path.name.startswith(("~$", ".")):
            by_stem.setdefault(path.stem.lower(), []).append(path)
    found: dict[str, Path] = {}
    problems: list[Problem] = []
    for sheet in SHEETS:
        paths = by_stem.get(sheet, [])
        if len(paths) > 1:
            names = " and ".join(p.name for p in paths)
            problems.append(Problem(str(data_dir), message=f"sheet {sheet!r} is given twice ({names}); keep one"))
        elif paths:
            found[sheet] = paths[0]
    for stem, paths in sorted(by_stem.items()):
        close = difflib.get_close_matches(stem, SHEETS, n=1, cutoff=0.75)
        if stem not in SHEETS and close:
            problems.append(
                Problem(
                    str(paths[0]),
                    message=f"is not a sheet name; rename it to {close[0]}{paths[0].suffix} if it is the "
                    f"{close[0]} sheet (sheet names: {', '.join(SHEETS)})",
                )
            )
    if "reviews" not in found and not any("reviews" in p.message for p in problems):
        present = ", ".join(sorted(p.name for ps in by_stem.values() for p in ps)) or "no .csv or .xlsx file"
        problems.append(
            Problem(
                str(data_dir),
                message=f"the required sheet `reviews` (reviews.csv or reviews.xlsx) is missing; found: {present}",
            )
        )
    return found, problems


def sha256_of(path: str | Path) -> str:
    """SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
