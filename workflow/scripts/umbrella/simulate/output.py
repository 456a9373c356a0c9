"""The sheets the simulator writes, as the contract in ``workflow/schemas/sheets`` gives them (columns in schema
order, rows sorted by each schema's ``x-sheet.sort``), the CSV files, and the overlap of a simulated citation
matrix."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from umbrella.core.datasets import SHEETS as LAYOUT_SHEETS
from umbrella.core.sheets import columns, load_schema
from umbrella.overlap.cca import OverlapSettings, build_matrix, overall
from umbrella.simulate.arrays import DECIMALS, rounded

#: Every sheet of the layout but the wide citation matrix (the simulator gives it in long form, as ``studies``).
SHEETS: tuple[str, ...] = tuple(sheet for sheet in LAYOUT_SHEETS if sheet != "citation_matrix")
COLUMNS: dict[str, list[str]] = {sheet: columns(sheet) for sheet in SHEETS}
SORT: dict[str, list[str]] = {sheet: load_schema(sheet)["x-sheet"]["sort"] for sheet in SHEETS}


def finish(sheet: str, df: pd.DataFrame) -> pd.DataFrame:
    """Contract columns in schema order, rows sorted by the schema's sort keys (then by every column), floats
    rounded to :data:`DECIMALS`."""
    df = df.reindex(columns=COLUMNS[sheet])
    by = SORT[sheet] + [c for c in COLUMNS[sheet] if c not in SORT[sheet]]
    by = [c for c in by if df[c].notna().any()]
    if not _in_order(df, by):
        df = df.sort_values(by, kind="mergesort", na_position="first").reset_index(drop=True)
    for col in df.columns:
        if df[col].dtype == float:
            df[col] = rounded(df[col].to_numpy(), DECIMALS)
    return df


def _in_order(df: pd.DataFrame, by: list[str]) -> bool:
    """Whether the rows, none missing a value in ``by``, are already sorted by ``by`` (a stable sort would leave
    them as they are). Far cheaper than the sort for the large sheets, which are built in order."""
    if len(df) < 2 or df[by].isna().any().any():
        return len(df) < 2
    tied = np.ones(len(df) - 1, dtype=bool)  # rows equal to the one before on every column so far
    for col in by:
        values = df[col].to_numpy()
        before, after = values[:-1], values[1:]
        if (tied & (after < before)).any():
            return False
        tied &= after == before
    return True


def _format_float(values: pd.Series) -> pd.Series:
    """Fixed formatting: at most ``DECIMALS`` decimals, no trailing zeros, blank for missing."""
    return values.map(lambda v: "" if pd.isna(v) else f"{v + 0.0:.{DECIMALS}f}".rstrip("0").rstrip("."))


def write(tables: Mapping[str, pd.DataFrame], out_dir: str | Path) -> list[Path]:
    """Write each table as ``<out_dir>/<sheet>.csv`` (UTF-8, ``,``, LF, no index, blanks for missing values,
    floats with at most 4 decimals); return the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for sheet, df in tables.items():
        df = df.copy()
        for col in df.columns:
            if pd.api.types.is_float_dtype(df[col]):
                df[col] = _format_float(df[col])
        path = out / f"{sheet}.csv"
        with open(path, "w", encoding="utf-8", newline="") as fh:
            df.to_csv(fh, index=False, lineterminator="\n", na_rep="")
        paths.append(path)
    return paths


def overlap(studies: pd.DataFrame) -> dict[str, float]:
    """Inclusions N, distinct studies r, reviews c and the corrected covered area (N - r) / (r c - r) as a
    fraction (Pieper et al. 2014), as the pipeline's overlap stage computes it (without structural
    missingness)."""
    settings = OverlapSettings(structural_missingness=False)
    row = overall(build_matrix(studies, {}, settings), settings).iloc[0]
    return {"inclusions": float(row["N"]), "studies": float(row["r"]), "reviews": float(row["c"]),
            "cca": float(row["cca"]) / 100}  # fmt: skip
