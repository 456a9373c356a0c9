"""PRISMA 2020 flow of review selection (Page et al., BMJ 2021;372:n71; unit = reviews, as PRIOR asks).

The counts come from the ``prisma`` section of the config. Every box is checked against the boxes before it,
and the number of included reviews against the rows of the reviews sheet. Light to import (no pandas), so the
Snakefile checks the counts before any job runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from umbrella.core.errors import Problem


def derived_counts(prisma: Mapping[str, Any]) -> dict[str, int | None]:
    """Every box's count, filling the boxes the config leaves out from the ones before them."""
    identified = sum(prisma["sources"].values())
    removed = prisma.get("duplicates_removed", 0) + prisma.get("removed_other", 0)
    screened = prisma.get("records_screened", identified - removed)
    excluded = prisma.get("records_excluded")
    sought = prisma.get("reports_sought", None if excluded is None else screened - excluded)
    not_retrieved = prisma.get("reports_not_retrieved", 0)
    assessed = prisma.get("reports_assessed", None if sought is None else sought - not_retrieved)
    excluded_reports = sum(prisma.get("reports_excluded", {}).values())
    return {
        "records_identified": identified,
        "duplicates_removed": prisma.get("duplicates_removed", 0),
        "removed_other": prisma.get("removed_other", 0),
        "records_screened": screened,
        "records_excluded": excluded,
        "reports_sought": sought,
        "reports_not_retrieved": not_retrieved,
        "reports_assessed": assessed,
        "reports_excluded": excluded_reports,
        "reviews_included": prisma["reviews_included"],
    }


def check_prisma(prisma: Mapping[str, Any] | None, n_reviews: int | None, source: str = "config") -> list[Problem]:
    """Problems with the flow's arithmetic, each naming the config key, the expected count and why.

    ``n_reviews`` is the number of rows of the reviews sheet (``None`` when unknown); unless
    ``included_difference`` explains it, ``reviews_included`` must equal it.
    """
    if not prisma:
        return []
    counts = derived_counts(prisma)
    problems: list[Problem] = []
    for key, expected, why in _expected_counts(counts):
        given = prisma.get(key)
        if given is not None and expected is not None and given != expected:
            problems.append(_key_problem(source, key, given, f"should be {expected} ({why})"))
    for key in ("records_screened", "reports_sought", "reports_assessed", "reviews_included"):
        if counts[key] is not None and counts[key] < 0:
            problems.append(_key_problem(source, key, counts[key], "is negative"))
    if n_reviews is not None and prisma["reviews_included"] != n_reviews and not prisma.get("included_difference"):
        message = (
            f"differs from the {n_reviews} rows of the reviews sheet; correct it, or state the reason "
            "in prisma.included_difference (e.g. a partial extraction)"
        )
        problems.append(_key_problem(source, "reviews_included", prisma["reviews_included"], message))
    return problems


def _expected_counts(c: Mapping[str, int | None]) -> list[tuple[str, int | None, str]]:
    """Each box that follows from the boxes before it (where they are known): its key, the count it should
    have, and the sum in words."""
    out = [
        (
            "records_screened",
            c["records_identified"] - c["duplicates_removed"] - c["removed_other"],
            f"records identified {c['records_identified']} - duplicates {c['duplicates_removed']} - "
            f"removed for other reasons {c['removed_other']}",
        )
    ]
    if c["records_excluded"] is not None:
        out.append(
            (
                "reports_sought",
                c["records_screened"] - c["records_excluded"],
                f"records screened {c['records_screened']} - records excluded {c['records_excluded']}",
            )
        )
    if c["reports_sought"] is not None:
        out.append(
            (
                "reports_assessed",
                c["reports_sought"] - c["reports_not_retrieved"],
                f"reports sought {c['reports_sought']} - not retrieved {c['reports_not_retrieved']}",
            )
        )
    if c["reports_assessed"] is not None:
        out.append(
            (
                "reviews_included",
                c["reports_assessed"] - c["reports_excluded"],
                f"reports assessed {c['reports_assessed']} - reports excluded {c['reports_excluded']} "
                "(the sum of the reasons)",
            )
        )
    return out


def _key_problem(source: str, key: str, value: object, message: str) -> Problem:
    """A problem with the config key ``prisma.<key>``."""
    return Problem(source, column=f"prisma.{key}", value=str(value), message=message, column_word="key")


#: The boxes of the flow, in order: key, stage, label.
BOXES: list[tuple[str, str, str]] = [
    ("records_identified", "Identification", "Records identified"),
    ("duplicates_removed", "Identification", "Duplicate records removed"),
    ("removed_other", "Identification", "Records removed for other reasons"),
    ("records_screened", "Screening", "Records screened"),
    ("records_excluded", "Screening", "Records excluded"),
    ("reports_sought", "Screening", "Reports sought for retrieval"),
    ("reports_not_retrieved", "Screening", "Reports not retrieved"),
    ("reports_assessed", "Screening", "Reports assessed for eligibility"),
    ("reports_excluded", "Screening", "Reports excluded"),
    ("reviews_included", "Included", "Reviews included in the overview"),
]


def flow_rows(prisma: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The counts as table rows (stage, box, detail, n): each box, each source and each exclusion reason."""
    c = derived_counts(prisma)
    rows: list[dict[str, Any]] = []
    for key, stage, label in BOXES:
        rows.append({"stage": stage, "box": key, "label": label, "detail": "", "n": c[key]})
        if key == "records_identified":
            rows += [
                {"stage": stage, "box": "source", "label": "Records identified from", "detail": name, "n": n}
                for name, n in prisma["sources"].items()
            ]
        if key == "reports_excluded":
            rows += [
                {"stage": stage, "box": "exclusion_reason", "label": "Reports excluded because", "detail": r, "n": n}
                for r, n in prisma.get("reports_excluded", {}).items()
            ]
    return rows
