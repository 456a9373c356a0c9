"""The experiences sheet: findings of the reviews that address experiences, under three themes, from three
perspectives (peer support workers, service users, staff)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from umbrella.simulate.arrays import top_k

PERSPECTIVES: tuple[str, ...] = ("peer support workers", "service users", "staff")
# theme, subtheme, finding per perspective (peer support workers, service users, staff)
EXPERIENCES: tuple[tuple[str, str, tuple[str, str, str]], ...] = (
    (
        "Shared lived experience",
        "Being understood",
        (
            "Using their own story helped others open up",
            "Felt understood by someone who had been there",
            "Saw service users talk more openly to peers",
        ),
    ),
    (
        "Shared lived experience",
        "Hope from role models",
        (
            "Found their own recovery strengthened by the role",
            "Saw recovery as possible through the peer worker",
            "Saw peer workers as visible examples of recovery",
        ),
    ),
    (
        "Shared lived experience",
        "Reduced stigma",
        (
            "Felt less ashamed of their history",
            "Felt less judged than with professionals",
            "Revised their own assumptions about diagnoses",
        ),
    ),
    (
        "The peer worker role",
        "Role clarity",
        (
            "Were unsure where their role began and ended",
            "Were unsure what peer workers could help with",
            "Were unclear how peer workers fitted the team",
        ),
    ),
    (
        "The peer worker role",
        "Emotional demands",
        (
            "Found the work emotionally draining at times",
            "Worried about burdening the peer worker",
            "Worried about peer workers' wellbeing",
        ),
    ),
    (
        "The peer worker role",
        "Training and supervision",
        (
            "Valued supervision from other peer workers",
            "Noticed when peer workers were well prepared",
            "Wanted clearer supervision arrangements",
        ),
    ),
    (
        "Relationships and connection",
        "Trust and reciprocity",
        (
            "Described relationships as mutual",
            "Trusted peers more quickly than staff",
            "Saw peers build trust that staff could not",
        ),
    ),
    (
        "Relationships and connection",
        "Boundaries",
        (
            "Struggled to hold boundaries with friends in services",
            "Valued the informality of the relationship",
            "Were concerned about blurred boundaries",
        ),
    ),
    (
        "Relationships and connection",
        "Belonging",
        (
            "Felt part of a wider peer community",
            "Felt less alone and more connected",
            "Saw service users reconnect with community groups",
        ),
    ),
)
_PERSPECTIVE_WEIGHTS = np.array([0.4, 0.4, 0.2])


def experiences_sheet(rng: np.random.Generator, ids: np.ndarray) -> pd.DataFrame:
    """3-7 (subtheme, perspective) findings per review of ``ids``."""
    n = len(ids)
    n_sub, n_per = len(EXPERIENCES), len(PERSPECTIVES)
    k = rng.integers(3, 8, size=n)
    logw = np.tile(np.log(np.tile(_PERSPECTIVE_WEIGHTS, n_sub)), (n, 1))
    mask = top_k(rng, logw, k) if n else np.zeros((0, n_sub * n_per), bool)
    r, cell = np.nonzero(mask)
    sub, per = cell // n_per, cell % n_per
    findings = np.array([f for _, _, fs in EXPERIENCES for f in fs], dtype=object)
    return pd.DataFrame(
        {
            "review_id": ids[r],
            "perspective": np.array(PERSPECTIVES, dtype=object)[per],
            "theme": np.array([x[0] for x in EXPERIENCES], dtype=object)[sub],
            "subtheme": np.array([x[1] for x in EXPERIENCES], dtype=object)[sub],
            "finding": findings[cell],
        }
    )
