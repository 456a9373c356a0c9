"""Reading one sheet file (``.csv`` or ``.xlsx``) into a frame of text cells, with its headers normalised.

Nothing is typed or checked against a schema here; a file that cannot be read, a column with values but no
header and a column named twice are the only problems found.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from umbrella.core.errors import Problem


def normalise_header(name: object) -> str:
    """Column names are matched without regard to case, surrounding spaces, or spaces inside (`Review ID`)."""
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def read_raw(
    path: str | Path, display: str | None = None, worksheet: str | None = None
) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read a sheet as text cells (CSV: UTF-8, with or without BOM; XLSX: the worksheet named ``worksheet``, by
    default the first).

    Cells are stripped of surrounding whitespace; blank cells are empty strings. Returns ``(None, problems)``
    when the file cannot be read.
    """
    path = Path(path)
    display = display or str(path)
    try:
        df = _read_cells(path, worksheet)
    except EmptyWorksheet:
        return None, [Problem(display, message="the worksheet is empty (no header row)")]
    except UnicodeDecodeError as exc:
        return None, [
            Problem(display, message=f"cannot be read as UTF-8 text (byte {exc.start}); save it as UTF-8 CSV")
        ]
    except pd.errors.EmptyDataError:
        return None, [Problem(display, message="the file is empty (no header row)")]
    except pd.errors.ParserError as exc:
        hint = " (a cell holding a comma or a quote must be quoted, with quotes inside it doubled)"
        return None, [Problem(display, message=f"cannot be read as CSV: {_first_line(exc)}{hint}")]
    except Exception as exc:  # corrupt workbook, not a zip, permission denied...
        return None, [Problem(display, message=f"cannot be read: {type(exc).__name__}: {_first_line(exc)}")]
    df, problems = _named_columns(df, display)
    df = df.astype(str).apply(lambda s: s.str.strip())
    # Rows that are entirely blank (trailing rows in Excel) are not data.
    df = df.loc[df.ne("").any(axis=1)]
    df.index = df.index + 2  # spreadsheet row numbers
    return df, problems


class EmptyWorksheet(Exception):
    """A worksheet without a single cell."""


def _read_cells(path: Path, worksheet: str | None = None) -> pd.DataFrame:
    """The file's cells as text under its header row, as written (headers not yet normalised)."""
    if path.suffix.lower() == ".xlsx":
        # pandas opens the workbook read-only: rows are streamed, not held as cell objects
        df = pd.read_excel(path, sheet_name=worksheet or 0, dtype=object, header=0, engine="openpyxl")
        if df.columns.empty:
            raise EmptyWorksheet
        return df.map(_excel_cell_to_text)
    # header=None: a row with more cells than the header is an error naming its line, not a shifted row
    grid = pd.read_csv(path, header=None, dtype=str, keep_default_na=False, encoding="utf-8-sig", skip_blank_lines=True)
    if grid.empty:
        raise pd.errors.EmptyDataError
    return grid.iloc[1:].set_axis(list(grid.iloc[0]), axis=1).reset_index(drop=True)


def _named_columns(df: pd.DataFrame, display: str) -> tuple[pd.DataFrame, list[Problem]]:
    """The columns that have a header, under their normalised names (the first of a name given twice); the
    headers as written are kept in ``attrs["headers"]``. Values without a header and repeated headers are
    problems."""
    problems: list[Problem] = []
    headers = [normalise_header(c) for c in df.columns]
    seen: dict[str, int] = {}
    for i, h in enumerate(headers):
        if _unnamed(h):
            if df.iloc[:, i].astype(str).str.strip().ne("").any():
                problems.append(Problem(display, row=1, message=f"column {i + 1} has values but no header"))
            continue
        if h in seen:
            problems.append(Problem(display, row=1, column=h, message="this column appears twice in the header"))
        seen.setdefault(h, i)
    keep = [i for i, h in enumerate(headers) if not _unnamed(h)]
    originals = [str(c).strip() for c in df.columns]
    df = df.iloc[:, keep]
    df.columns = [headers[i] for i in keep]
    df.attrs["headers"] = {headers[i]: originals[i] for i in keep}
    return df.loc[:, ~df.columns.duplicated()], problems


def _unnamed(header: str) -> bool:
    return header.startswith("unnamed:") or header == ""


def _excel_cell_to_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
