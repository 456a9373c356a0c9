"""What the simulated meta-analyses measure: the outcome groups (with the direction that favours peer support
and the names of their outcomes), timepoints and comparisons."""

from __future__ import annotations

import numpy as np

from umbrella.core.vocabulary import RATIO_MEASURES

# Outcome groups of the pooled results: name, favours, weight, continuous outcome names, binary outcome names.
OUTCOME_GROUPS: tuple[tuple[str, str, float, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "Depression",
        "lower",
        0.34,
        ("Depressive symptoms", "Depression", "Postnatal depression"),
        ("Depression caseness",),
    ),
    ("Recovery", "higher", 0.20, ("Personal recovery", "Recovery", "Recovery orientation"), ("Clinical recovery",)),
    ("Hope", "higher", 0.12, ("Hope", "Hopefulness"), ()),
    ("Quality of life", "higher", 0.18, ("Quality of life", "Health-related quality of life"), ()),
    ("Empowerment", "higher", 0.08, ("Empowerment",), ()),
    ("Self-efficacy", "higher", 0.08, ("Self-efficacy", "Mental health self-efficacy"), ()),
)
#: The groups of the study-level meta-analyses (Depression, Recovery, Quality of life) and their outcomes.
DEP, REC, QOL = 0, 1, 3
STUDY_LEVEL_OUTCOMES = {DEP: "Depressive symptoms", REC: "Clinical recovery", QOL: "Quality of life"}

GROUP_NAMES = np.array([group[0] for group in OUTCOME_GROUPS], dtype=object)
FAVOURS = np.array([group[1] for group in OUTCOME_GROUPS], dtype=object)
GROUP_WEIGHTS = np.array([group[2] for group in OUTCOME_GROUPS])

TIMEPOINTS = np.array(["post-intervention", "6-month follow-up", "12-month follow-up"], dtype=object)
COMPARISONS = np.array(["usual care", "waiting list", "active control", "treatment as usual"], dtype=object)


def benefit_sign(group: np.ndarray) -> np.ndarray:
    """-1 where a lower value favours peer support (Depression), else 1."""
    return np.where(FAVOURS[group] == "lower", -1.0, 1.0)


def outcome_name(group: int, measure: str, j: int) -> str:
    """The ``j``-th name (cyclically) of a binary or continuous outcome of ``group``."""
    _, _, _, continuous, binary = OUTCOME_GROUPS[group]
    names = binary if measure in RATIO_MEASURES else continuous
    return names[j % len(names)]
