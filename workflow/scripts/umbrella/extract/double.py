"""Double extraction in the workflow: where each extractor's copy of the sheets is, whether the reconciled set
(the analysis' ``data``) settles every disagreement, and the two published tables.

The comparison itself (matching rows on keys, agreement, kappa) is :mod:`umbrella.extract.agreement`; this
module reads the copies as ``data`` is read (every bad cell named by its file, worksheet, row and column) and
turns unsettled disagreements into the problems that stop a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from umbrella.core.datasets import find_sheets, sheet_display
from umbrella.core.errors import InputError, Problem

if TYPE_CHECKING:  # pandas is imported only when a comparison runs: the Snakefile imports this module
    import pandas as pd

    from umbrella.extract.agreement import Comparison

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
    return replace(problem, message=f"{problem.message} (extractor {name}'s copy)")


def reconciled_copy(data: str | Path, settings: Mapping | None) -> str | None:
    """The extractor whose copy ``data`` is (then no disagreement is settled), if any."""
    target = Path(data).resolve()
    for name, place in ((settings or {}).get("extractors") or {}).items():
        if Path(place).resolve() == target:
            return name
    return None


@dataclass(frozen=True)
class Checked:
    """The comparison of the extractors' copies, and the extractor whose copy the reconciled set is (by its
    path, or by holding the same values in every sheet), if any."""

    comparison: Comparison
    copy_name: str | None = None
    same_values: bool = False

    @property
    def n_unreconciled(self) -> int:
        return self.comparison.n_unreconciled


def compare(
    copies: Mapping[str, Mapping[str, str | Path]],
    reconciled: Mapping[str, str | Path],
    vocabularies: Mapping[str, list[str]],
    copy_name: str | None = None,
) -> Checked:
    """Read and check every copy and the reconciled set, and compare them
    (:func:`umbrella.extract.agreement.compare_copies`). A reconciled set that holds exactly the values of one
    extractor's copy (a copy not yet reconciled) counts as that copy, as one named by its path does: it settles
    nothing. Where the reconciled set is a copy, the ``reconciled`` column shows that copy's values (the ones
    the analysis uses). Raises :class:`InputError` with every problem of every copy."""
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
    same = copy_name is None and next((n for n, t in tables.items() if _same_values(t, settled)), None)
    name = copy_name or same or None
    comparison = compare_copies(tables, settled, reconciled_copy=name)
    if name:
        table = comparison.disagreements.copy()
        table["reconciled"] = table[name]
        comparison = replace(comparison, disagreements=table)
    return Checked(comparison, name, bool(same))


def _same_values(copy: Mapping[str, pd.DataFrame], settled: Mapping[str, pd.DataFrame]) -> bool:
    """Whether two sets of typed sheets hold the same sheets with the same values in the same rows."""
    if set(copy) != set(settled):
        return False
    for sheet, table in copy.items():
        other = settled[sheet]
        if list(table.columns) != list(other.columns) or len(table) != len(other):
            return False
        if not table.reset_index(drop=True).astype(object).equals(other.reset_index(drop=True).astype(object)):
            return False
    return True


def unreconciled_problems(checked: Checked, files: Mapping[str, str | Path], data: str) -> list[Problem]:
    """One problem per disagreement the reconciled set does not settle, naming where the reconciled set holds
    the sheet, the row's key, the column and each extractor's value."""
    comparison = checked.comparison
    table = comparison.disagreements
    open_ = table[table["status"].eq("unreconciled")]
    if checked.same_values:
        why = f"the reconciled set holds the values of {checked.copy_name}'s copy, so none is reconciled yet"
    elif checked.copy_name:
        why = f"the reconciled set is {checked.copy_name}'s copy, so none is reconciled"
    else:
        why = "the reconciled set has no row with this key"
    problems = []
    for i, (_, row) in enumerate(open_.iterrows()):
        values = "; ".join(f"{name}: {row[name]!r}" for name in comparison.extractors)
        what = "the extractors disagree" if row["kind"] == "value" else "only some extractors found this row"
        where = sheet_display(row["sheet"], files[row["sheet"]]) if row["sheet"] in files else f"{data}, {row['sheet']}"
        problems.append(
            Problem(where, column=row["column"] or None, value=row["key"], message=f"{what} ({values}); {why}", order=i)
        )
    return problems


def refusal(problems: list[Problem], total: int) -> InputError:
    """The error that stops a run on unreconciled disagreements, saying how to settle them or go on."""
    s = "s" if total != 1 else ""
    heading = (
        f"The extractors disagree on {total:,} cell{s} or row{s} that the reconciled set (data: in the config) "
        "does not settle"
    )
    closing = (
        "Nothing was written. Settle each disagreement in the reconciled set (a folder or workbook of its own, "
        "holding the agreed value of every cell listed), or set unreconciled: allow under double_extraction in the "
        "config to run on the data as they are, with the disagreements listed in the report, and run again."
    )
    return InputError(problems, heading=heading, closing=closing)


def write_comparison(comparison: Comparison, agreement: str | Path, disagreements: str | Path) -> None:
    """The two published tables: agreement per sheet and column, and every disagreement."""
    from umbrella.core.tables import write_table

    write_table(comparison.agreement, agreement)
    write_table(comparison.disagreements, disagreements)
