"""Reading one sheet file (``.csv`` or ``.xlsx``) into a frame of text cells, with its headers normalised.

Nothing is typed or checked against a schema here; a file that cannot be read (a password-protected workbook,
cells holding formulas without computed values), a column with values but no header and a column named twice
are the only problems found. Text is cleaned of control characters (but tab and line breaks) and of invisible
characters (zero-width spaces, byte-order marks; a no-break space becomes a space), with a note saying where.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from umbrella.core.datasets import ENCRYPTED, XLSX_MAIN, is_encrypted_workbook, worksheet_parts
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
    if path.suffix.lower() == ".xlsx" and is_encrypted_workbook(path):
        return None, [Problem(display, message=ENCRYPTED)]
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
    if path.suffix.lower() == ".xlsx":
        formulas = formulas_without_values(path, worksheet, list(df.columns), display)
        if formulas:
            return None, formulas
    notes: list[str] = []
    clean = _may_hold_characters_to_clean(path)
    if clean:
        df = df.set_axis([clean_text(str(c), display, None, None, notes) for c in df.columns], axis=1)
    df, problems = _named_columns(df, display)
    df = df.fillna("").astype(str)
    if clean:
        df = df.apply(lambda s: _clean_column(s, display, notes))
    df = df.apply(lambda s: s.str.strip())
    # Rows that are entirely blank (trailing rows in Excel, blank lines in a CSV) are not data; the index is
    # already the spreadsheet row number.
    df = df.loc[df.ne("").any(axis=1)]
    df.attrs["notes"] = notes
    return df, problems


# Control characters but tab, line feed and carriage return; C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Invisible characters: zero-width space, non-joiner and joiner, word joiner, byte-order mark, soft hyphen.
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_NBSP = re.compile(r"[\u00a0\u202f]")
# one character class: a single search of a whole file or column is fast
_ANY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00a0\u00ad\u200b\u200c\u200d\u2060\u202f\ufeff]")
_MAX_ROWS_NAMED = 5


def _may_hold_characters_to_clean(path: Path) -> bool:
    """Whether a file may hold control or invisible characters: a CSV file is searched once as a whole (its
    byte-order mark aside); a workbook's columns are searched one by one."""
    if path.suffix.lower() == ".xlsx":
        return True
    return _ANY.search(path.read_text(encoding="utf-8-sig")) is not None


def clean_text(text: str, display: str, row: int | None, column: str | None, notes: list[str]) -> str:
    """``text`` without control and invisible characters (a no-break space made a space); a note when any."""
    if not _ANY.search(text):
        return text
    found = sorted({f"U+{ord(ch):04X}" for ch in _ANY.findall(text)})
    where = ", ".join(x for x in (display, None if row is None else f"row {row}", column and f"column {column}") if x)
    notes.append(f"{where}: removed {', '.join(found)} (control or invisible characters) from {text[:40]!r}")
    return _strip_invisible(text)


def _strip_invisible(text: str) -> str:
    return _NBSP.sub(" ", _INVISIBLE.sub("", _CONTROL.sub("", text)))


def _clean_column(values: pd.Series, display: str, notes: list[str]) -> pd.Series:
    """A column without control and invisible characters; one note naming the rows and characters removed."""
    if not _ANY.search("\n".join(values)):  # one pass over the column; most columns have none
        return values
    hit = values.str.contains(_ANY, regex=True)
    rows = list(values.index[hit])
    found = sorted({f"U+{ord(ch):04X}" for cell in values[hit] for ch in _ANY.findall(cell)})
    shown = ", ".join(str(r) for r in rows[:_MAX_ROWS_NAMED])
    more = f" and {len(rows) - _MAX_ROWS_NAMED:,} more" if len(rows) > _MAX_ROWS_NAMED else ""
    space = "; a no-break space became a space" if {"U+00A0", "U+202F"} & set(found) else ""
    notes.append(
        f"{display}, column {values.name}: removed control or invisible characters ({', '.join(found)}) from "
        f"row{'s' if len(rows) > 1 else ''} {shown}{more}{space}"
    )
    return values.where(~hit, values[hit].map(_strip_invisible))


def formulas_without_values(path: Path, worksheet: str | None, headers: list[str], display: str) -> list[Problem]:
    """A problem per cell of the worksheet that holds a formula without a computed (cached) value, as
    openpyxl and pandas write them: reading gives such a cell blank. One streaming pass over the worksheet."""
    try:
        with zipfile.ZipFile(path) as zf:
            part = _worksheet_part(zf, worksheet)
            if part is None:
                return []
            cells = []
            with zf.open(part) as fh:
                for _, el in ElementTree.iterparse(fh):
                    if el.tag == f"{XLSX_MAIN}c":
                        f, v = el.find(f"{XLSX_MAIN}f"), el.find(f"{XLSX_MAIN}v")
                        # a computed empty text is typed (t="str"); a formula never computed is not
                        empty = v is None or not (v.text or "").strip()
                        if f is not None and empty and el.get("t") not in ("str", "s", "inlineStr"):
                            cells.append(el.get("r", ""))
                        el.clear()
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return []
    problems = []
    for ref in cells:
        m = re.fullmatch(r"([A-Z]+)(\d+)", ref)
        if not m:
            continue
        index = 0
        for ch in m.group(1):
            index = index * 26 + ord(ch) - 64
        column = normalise_header(headers[index - 1]) if index - 1 < len(headers) else m.group(1)
        problems.append(
            Problem(
                display,
                row=int(m.group(2)),
                column=column,
                message=f"cell {ref} holds a formula without a computed value (as a script writes formulas); open "
                "the workbook in Excel or LibreOffice and save it, so that its formulas are computed",
            )
        )
    return problems


def _worksheet_part(zf: zipfile.ZipFile, worksheet: str | None) -> str | None:
    """The zip member of a worksheet (the first when ``worksheet`` is None)."""
    parts = worksheet_parts(zf)
    return next((part for name, part in parts if worksheet is None or name == worksheet), None)


class EmptyWorksheet(Exception):
    """A worksheet without a single cell."""


def _read_cells(path: Path, worksheet: str | None = None) -> pd.DataFrame:
    """The file's cells as text under its header row, as written (headers not yet normalised)."""
    if path.suffix.lower() == ".xlsx":
        # pandas opens the workbook read-only: rows are streamed, not held as cell objects
        df = pd.read_excel(path, sheet_name=worksheet or 0, dtype=object, header=0, engine="openpyxl")
        if df.columns.empty:
            raise EmptyWorksheet
        df = df.map(_excel_cell_to_text)
        df.index = df.index + 2  # spreadsheet row numbers: the header is row 1
        return df
    # header=None: a row with more cells than the header is an error naming its line, not a shifted row.
    # Blank lines are kept, so that rows are numbered as a spreadsheet numbers them (a cell with line breaks
    # inside its quotes is one row).
    above = _blank_lines_above(path)
    grid = pd.read_csv(
        path,
        header=None,
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",
        skip_blank_lines=False,
        skiprows=above,
    )
    if grid.empty:
        raise pd.errors.EmptyDataError
    grid = grid.fillna("")
    df = grid.iloc[1:].set_axis(list(grid.iloc[0]), axis=1)
    df.index = df.index + 1 + above  # spreadsheet row numbers
    return df


def _blank_lines_above(path: Path) -> int:
    """The blank lines above a CSV file's header (each a spreadsheet row)."""
    n = 0
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        for line in fh:
            if line.strip():
                return n
            n += 1
    return n


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
                problems.append(
                    Problem(display, row=1, message=f"column {column_letter(i + 1)} has values but no header")
                )
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


def column_letter(number: int) -> str:
    """The spreadsheet letter of a 1-based column number (1 -> A, 27 -> AA)."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


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
