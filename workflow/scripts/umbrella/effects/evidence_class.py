"""The evidence class (Ioannidis; Fusar-Poli & Radua 2018) that each review's pooled result allows by itself."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: What a review's pooled result cannot tell: tests that need the studies.
NOT_FROM_POOLED = ("Egger", "excess significance", "largest study", "leave-one-out")


def review_level_classes(harmonised: pd.DataFrame, threshold: int = 1000) -> pd.DataFrame:
    """The Ioannidis class (Fusar-Poli & Radua 2018) that a review's pooled result allows: the p-value
    recomputed from the CI, the cases (the sheet's optional ``n_cases``), I² and the prediction interval.
    Egger's test, excess significance, the largest study and leave-one-out need the studies, so they are not
    assessable, never failed: classes I and II cannot be reached, and ``class_notes`` says so."""
    from umbrella.reanalysis.evidence import ioannidis

    frame = pd.DataFrame(
        {
            "measure": harmonised["measure"],
            "p_value": harmonised["p_recomputed"],
            "n_cases": harmonised["n_cases"] if "n_cases" in harmonised else np.nan,
            "i2": harmonised["i2"],
            "pi_lower": harmonised["pi_lower"],
            "pi_upper": harmonised["pi_upper"],
            "ci_lower": harmonised["ci_lower"],
            "ci_upper": harmonised["ci_upper"],
        },
        index=harmonised.index,
    )
    out = ioannidis(frame, threshold)
    base = "not assessable from a pooled result: " + ", ".join(NOT_FROM_POOLED)
    notes = []
    for cls, found in zip(out["class"], out["notes"], strict=True):
        missing = [word for word in found.split("; ") if word and word not in NOT_FROM_POOLED]
        notes.append("" if cls == "ns" else "; ".join([base, *(f"{word} not given" for word in missing)]))
    return pd.DataFrame({"class": out["class"], "class_notes": notes}, index=harmonised.index)
