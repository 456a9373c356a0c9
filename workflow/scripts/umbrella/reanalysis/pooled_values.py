"""Reading a pooled table (see :data:`umbrella.reanalysis.analysis.POOLED_COLUMNS`) for the evidence classes and
GRADE: its columns as numbers, p-values in words, and each row's notes joined, as metaumbrella 1.1 prints them
(Gosling et al. 2023).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def numeric(df: pd.DataFrame, column: str) -> np.ndarray:
    """The column as floats, NaN where it is not a number or where the table has no such column."""
    if column not in df:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)


def p_words(p: float) -> str:
    if not np.isfinite(p):
        return "not computed"
    return f"{p:.3f}" if p >= 0.001 else "< 0.001"


def join_notes(parts_per_row: list[list[str]]) -> list[str]:
    return ["; ".join(parts) for parts in parts_per_row]
