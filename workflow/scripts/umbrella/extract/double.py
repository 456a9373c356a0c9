"""Double extraction in the workflow: where each extractor's copy of the sheets is, whether the reconciled set
(the analysis' ``data``) settles every disagreement, and the two published tables.

The comparison itself (matching rows on keys, agreement, kappa) is :mod:`umbrella.extract.agreement`; this
module reads the copies as ``data`` is read (every bad cell named by its file, worksheet, row and column) and
turns unsettled disagreements into the problems that stop a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from umbrella.core.datasets import find_sheets
from umbrella.core.errors import InputError, Problem

#: Disagreements listed one by one in the message that stops a run (then "and N more").
LISTED = 50


def extractor_files(settings: Mapping | None) -> tuple[dict[str, dict[str, Path]], list[Problem]]:
    """Each extractor's sheets (extractor -> sheet -> file) from ``double_extraction`` of the config, and the
    problems of finding them (a missing folder, a workbook without its reviews worksheet...)."""
    copies: dict[str, dict[str, Path]] = {}
    problems: list[Problem] = []
    for name, place in ((settings or {}).get("extractors") or {}).items():
        files, found = find_sheets(place)
        copies[name] = files
        problems += [_of_extractor(p, name) for p in found]
    return copies, problems


def _of_extractor(problem: Problem, name: str) -> Problem:
    from dataclasses import replace

    return replace(problem, message=f"{problem.message} (extractor {name}'s copy)")


def reconciled_copy(data: str | Path, settings: Mapping | None) -> str | None:
    """The extractor whose copy ``data`` is (then no disagreement is settled), if any."""
    target = Path(data).resolve()
    for name, place in ((settings or {}).get("extractors") or {}).items():
        if Path(place).resolve() == target:
            return name
    return None


def compare(
    copies: Mapping[str, Mapping[str, str | Path]],
    reconciled: Mapping[str, str | Path],
    vocabularies: Mapping[str, list[str]],
    copy_name: str | None = None,
):
    """Read and check every copy and the reconciled set, and compare them
    (:func:`umbrella.extract.agreement.compare_copies`). Raises :class:`InputError` with every problem of every
    copy."""
    from umbrella.core.sheets import load_files
    from umbrella.extract.agreement import compare_copies

    tables: dict[str, dict] = {}
    problems: list[Problem] = []
    for name, files in copies.items():
        try:
            tables[name] = {sheet: s.table for sheet, s in load_files(files, vocabularies).items()}
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems, heading="The extractors' copies of the sheets have problems")
    settled = {sheet: s.table for sheet, s in load_files(reconciled, vocabularies).items()}
    return compare_copies(tables, settled, reconciled_copy=copy_name)


def unreconciled_problems(comparison, data: str, copy_name: str | None = None) -> list[Problem]:
    """One problem per disagreement the reconciled set does not settle, naming the sheet, the row's key, the
    column and each extractor's value."""
    table = comparison.disagreements
    open_ = table[table["status"].eq("unreconciled")]
    if copy_name:
        why = f"`data` is extractor {copy_name}'s copy, so no disagreement is reconciled"
    else:
        why = "the reconciled set has no row with this key"
    problems = []
    for i, (_, row) in enumerate(open_.iterrows()):
        values = "; ".join(f"{name}: {row[name]!r}" for name in comparison.extractors)
        what = "the extractors disagree" if row["kind"] == "value" else "only some extractors found this row"
        problems.append(
            Problem(
                f"{data}, sheet {row['sheet']}",
                column=row["column"] or None,
                value=row["key"],
                message=f"{what} ({values}); {why}",
                order=i,
            )
        )
    return problems


def refusal(problems: list[Problem], total: int) -> InputError:
    """The error that stops a run on unreconciled disagreements, saying how to settle them or go on."""
    heading = (
        f"The extractors disagree on {total:,} cell{'s' if total != 1 else ''} or row{'s' if total != 1 else ''} "
        "that the reconciled set (`data`) does not settle. Reconcile each in `data` (a folder or workbook of its "
        "own), or set `double_extraction.unreconciled: allow` to run on `data` as it is and list them in the "
        "report"
    )
    return InputError(problems, heading=heading)


def write_comparison(comparison, agreement: str | Path, disagreements: str | Path) -> None:
    """The two published tables: agreement per sheet and column, and every disagreement."""
    from umbrella.core.tables import write_table

    write_table(comparison.agreement, agreement)
    write_table(comparison.disagreements, disagreements)
