"""Checks run before any job: every sheet against its schema and the PRISMA counts against the sheets, once per
change of the inputs (cached by a fingerprint), so that a bad cell stops the run before anything is written."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from umbrella.core.errors import Problem

PACKAGE = Path(__file__).resolve().parent

#: The modules whose code decides whether the inputs pass (relative to the package).
VALIDATING_CODE = (
    "core/sheets.py",
    "core/sheet_schemas.py",
    "core/sheet_files.py",
    "core/sheet_cells.py",
    "core/row_checks.py",
    "core/citation_matrix.py",
    "core/datasets.py",
    "core/errors.py",
    "effects/printed_p.py",
    "synthesis/prisma.py",
    "preflight.py",
)


def fingerprint(files: dict[str, Path], vocabularies: dict, extra: tuple[str, ...] = ()) -> str:
    """A hash of everything validation depends on: the sheet files, the config's vocabularies, the schemas
    and the validating code. Equal fingerprints mean an earlier validation still holds."""
    h = hashlib.sha256()
    schemas = sorted((PACKAGE.parents[1] / "schemas" / "sheets").glob("*.yaml"))
    code = [PACKAGE / module for module in (*VALIDATING_CODE, *extra)]
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

    Raises :class:`~umbrella.core.errors.InputError` with every problem. Returns whether validation ran. Cheap
    when nothing changed (hashing only), so the Snakefile calls it on every invocation: a bad cell is then
    reported before any job starts, `-n` included, and no output is written.
    """
    stamp = Path(stamp)
    key = fingerprint(files, {**vocabularies, "prisma": prisma})
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == key:
        return False
    from umbrella.core.errors import InputError
    from umbrella.core.sheets import load_files  # pandas is imported only when validation must run
    from umbrella.synthesis.prisma import check_prisma

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


def sheet_problems(files: dict[str, Path], vocabularies: dict[str, list[str]]) -> list[Problem]:
    """The problems of the sheets that were found, when others could not be (a misspelt worksheet): so that one
    message lists them all. None without a reviews sheet (the others are checked against it)."""
    if "reviews" not in files:
        return []
    from umbrella.core.errors import InputError
    from umbrella.core.sheets import load_files

    try:
        load_files(files, vocabularies)
    except InputError as exc:
        return list(exc.problems)
    except (OSError, MemoryError):
        return []
    return []


def _last(problem: Problem) -> Problem:
    """Config problems are listed after the sheets' problems."""
    from dataclasses import replace

    return replace(problem, order=10_000)


def check_double_extraction(
    copies: dict[str, dict[str, Path]],
    files: dict[str, Path],
    vocabularies: dict[str, list[str]],
    stamp: str | Path,
    settings: dict,
    data: str,
) -> int:
    """Check each extractor's copy of the sheets as ``data`` is checked and, unless the config allows them,
    refuse disagreements that the reconciled set (``data``) does not settle; unless ``stamp`` records that these
    very inputs already passed.

    Raises :class:`~umbrella.core.errors.InputError` with every problem. Returns the number of disagreements
    left unreconciled (allowed by the config), as the stamp keeps it.
    """
    from umbrella.extract.double import reconciled_copy

    copy_name = reconciled_copy(data, settings)
    every = {**files, **{f"{name}/{sheet}": path for name, sheets in copies.items() for sheet, path in sheets.items()}}
    stamp = Path(stamp)
    key = fingerprint(
        every,
        {**vocabularies, "double_extraction": {**settings, "copy": copy_name}},
        extra=("extract/agreement.py", "extract/double.py"),
    )
    if stamp.is_file():
        kept, _, count = stamp.read_text(encoding="utf-8").partition("\n")
        if kept == key and count.strip().isdigit():
            return int(count)
    from umbrella.extract.double import compare, refusal, unreconciled_problems

    checked = compare(copies, files, vocabularies, copy_name)
    if settings.get("unreconciled", "refuse") == "refuse" and checked.n_unreconciled:
        raise refusal(unreconciled_problems(checked, files, data), checked.n_unreconciled)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(f"{key}\n{checked.n_unreconciled}", encoding="utf-8")
    return checked.n_unreconciled
