"""Where the sheets are: cheap to import (no pandas), so the Snakefile can use it at parse time."""

from __future__ import annotations

import difflib
import hashlib
import json
from pathlib import Path

from .errors import Problem

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


def fingerprint(files: dict[str, Path], vocabularies: dict) -> str:
    """A hash of everything validation depends on: the sheet files, the config's vocabularies, the schemas
    and the validating code. Equal fingerprints mean an earlier validation still holds."""
    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    schemas = sorted((here.parents[1] / "schemas" / "sheets").glob("*.yaml"))
    code = [here / "sheets.py", here / "layout.py", here / "prisma.py"]
    h.update(json.dumps(vocabularies, sort_keys=True).encode())
    for name, path in [*sorted(files.items()), *((p.name, p) for p in schemas + code)]:
        h.update(name.encode() + b"\0")
        h.update(Path(path).read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def validate_once(
    files: dict[str, Path],
    vocabularies: dict[str, list[str]],
    stamp: str | Path,
    prisma: dict | None = None,
    config_source: str = "config",
) -> bool:
    """Validate the sheets, and the PRISMA counts against them, unless ``stamp`` records that these very
    inputs already passed.

    Raises :class:`~umbrella.errors.InputError` with every problem. Returns whether validation ran. Cheap
    when nothing changed (hashing only), so the Snakefile calls it on every invocation: a bad cell is then
    reported before any job starts, `-n` included, and no output is written.
    """
    stamp = Path(stamp)
    key = fingerprint(files, {**vocabularies, "prisma": prisma})
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == key:
        return False
    from .errors import InputError
    from .prisma import check_prisma
    from .sheets import load_files  # pandas is imported only when validation must run

    problems = []
    n_reviews = None
    try:
        n_reviews = len(load_files(files, vocabularies)["reviews"].table)
    except InputError as exc:
        problems += exc.problems
    config_problems = check_prisma(prisma, n_reviews, config_source)
    if problems or config_problems:
        heading = (
            "The extraction sheets and the configuration have problems"
            if problems and config_problems
            else ("The configuration has problems" if config_problems else None)
        )
        raise InputError(problems + [_last(p) for p in config_problems], heading=heading)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(key, encoding="utf-8")
    return True


def _last(problem: Problem) -> Problem:
    """Config problems are listed after the sheets' problems."""
    from dataclasses import replace

    return replace(problem, order=10_000)
