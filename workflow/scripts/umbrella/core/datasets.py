"""Where the sheets are: cheap to import (no pandas), so the Snakefile can use it at parse time."""

from __future__ import annotations

import difflib
import hashlib
import re
import zipfile
from functools import lru_cache
from pathlib import Path
from xml.etree import ElementTree

from umbrella.core.errors import Problem

#: Sheets in the order they are validated and reported; ``reviews`` is the only required one.
SHEETS: tuple[str, ...] = (
    "reviews",
    "amstar2",
    "effects",
    "studies",
    "citation_matrix",
    "study_effects",
    "implementation",
    "experiences",
)
OPTIONAL_SHEETS: tuple[str, ...] = SHEETS[1:]
EXTENSIONS: tuple[str, ...] = (".csv", ".xlsx")
#: Worksheets of a one-workbook dataset that are not read: a name starting with this prefix (``_notes``), or one
#: of :data:`IGNORED_WORKSHEETS` (in any case, with or without spaces: `Read me`).
IGNORED_PREFIX = "_"
IGNORED_WORKSHEETS: tuple[str, ...] = ("readme", "notes", "instructions", "codebook", "lists")


#: What a password-protected workbook is told.
ENCRYPTED = (
    "the workbook is password-protected (encrypted), so it cannot be read; open it in Excel or LibreOffice "
    "and save it without a password"
)
#: The first bytes of an OLE compound file: how an encrypted .xlsx (and an old .xls) begins.
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0"


def is_encrypted_workbook(path: Path) -> bool:
    """Whether an ``.xlsx`` file is an OLE compound file (a password-protected workbook) rather than a zip."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == OLE_SIGNATURE
    except OSError:
        return False


def find_sheets(data: str | Path) -> tuple[dict[str, Path], list[Problem]]:
    """Map each sheet present in ``data`` to its file.

    ``data`` is a folder of ``<sheet>.csv`` or ``<sheet>.xlsx`` files (any case; other files are ignored), or
    one ``.xlsx`` workbook whose worksheets are named after the sheets (see :func:`find_worksheets`); with a
    workbook, every sheet present maps to that one file. Returns the mapping (in :data:`SHEETS` order) and the
    problems found: a missing folder, a missing ``reviews`` sheet, or a sheet given twice (as CSV and as XLSX).
    """
    data_dir = Path(data)
    if data_dir.is_file():
        if data_dir.suffix.lower() == ".xlsx":
            return find_worksheets(data_dir)
        return {}, [Problem(str(data_dir), message="`data:` must be a folder of sheets or one .xlsx workbook of them")]
    if not data_dir.is_dir():
        return {}, [
            Problem(
                str(data_dir),
                message="the data folder (or .xlsx workbook) does not exist (see `data:` in the config)",
            )
        ]
    by_stem: dict[str, list[Path]] = {}
    for path in sorted(data_dir.iterdir()):
        if path.is_file() and path.suffix.lower() in EXTENSIONS and not path.name.startswith(("~$", ".")):
            by_stem.setdefault(path.stem.lower(), []).append(path)
    found: dict[str, Path] = {}
    problems: list[Problem] = []
    for sheet in SHEETS:
        paths = by_stem.get(sheet, [])
        if len(paths) > 1:
            names = " and ".join(p.name for p in paths)
            problems.append(Problem(str(data_dir), message=f"sheet {sheet!r} is given twice ({names}); keep one"))
        elif paths:
            found[sheet] = paths[0]
    for stem, paths in sorted(by_stem.items()):
        close = difflib.get_close_matches(stem, SHEETS, n=1, cutoff=0.75)
        if stem not in SHEETS and close:
            problems.append(
                Problem(
                    str(paths[0]),
                    message=f"is not a sheet name; rename it to {close[0]}{paths[0].suffix} if it is the "
                    f"{close[0]} sheet (sheet names: {', '.join(SHEETS)})",
                )
            )
    if "reviews" not in found and not any("reviews" in p.message for p in problems):
        present = ", ".join(sorted(p.name for ps in by_stem.values() for p in ps)) or "no .csv or .xlsx file"
        problems.append(
            Problem(
                str(data_dir),
                message=f"the required sheet `reviews` (reviews.csv or reviews.xlsx) is missing; found: {present}",
            )
        )
    return found, problems


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(name).lower())


_SHEET_KEYS = {_key(sheet): sheet for sheet in SHEETS}


def sheet_named(name: str) -> str | None:
    """The sheet a worksheet's name stands for, if any: case, spaces, underscores and hyphens do not matter
    (`Study effects`, `AMSTAR 2`, `citation-matrix`)."""
    return _SHEET_KEYS.get(_key(name))


def find_worksheets(workbook: str | Path) -> tuple[dict[str, Path], list[Problem]]:
    """Map each sheet present in ``workbook`` (one ``.xlsx`` holding every sheet) to that file.

    A worksheet is the sheet it is named after (see :func:`sheet_named`). Worksheets whose name starts with
    :data:`IGNORED_PREFIX` or is one of :data:`IGNORED_WORKSHEETS` are not read. An optional sheet whose
    worksheet holds no data row (only its header, or nothing at all, as in a blank extraction workbook) is
    absent, as a CSV file not given; ``reviews`` is present whenever its worksheet is, so that an empty one is
    reported. Problems: a workbook that cannot be opened, a worksheet whose name is not a sheet (naming the close
    sheet name, if any, and the allowed names), a sheet given by two worksheets, and a missing ``reviews``
    worksheet.
    """
    workbook = Path(workbook)
    file = str(workbook)
    if is_encrypted_workbook(workbook):
        return {}, [Problem(file, message=ENCRYPTED)]
    try:
        names = worksheet_names(workbook)
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError) as exc:
        return {}, [Problem(file, message=f"cannot be read as an .xlsx workbook: {type(exc).__name__}: {exc}")]
    allowed = ", ".join(SHEETS)
    keep = f"start its name with {IGNORED_PREFIX!r} to keep it in the workbook unread"
    by_sheet: dict[str, list[str]] = {}
    problems: list[Problem] = []
    for name in names:
        sheet = sheet_named(name)
        if sheet:
            by_sheet.setdefault(sheet, []).append(name)
        elif name.strip().startswith(IGNORED_PREFIX) or _key(name) in IGNORED_WORKSHEETS:
            continue
        else:
            close = difflib.get_close_matches(name.strip().lower(), SHEETS, n=1, cutoff=0.75)
            hint = f"rename it to {close[0]!r} if it is the {close[0]} sheet, or {keep}" if close else keep
            problems.append(
                Problem(
                    file,
                    message=f"worksheet {name!r} is not a sheet name; {hint} (sheet names: {allowed})",
                )
            )
    found: dict[str, Path] = {}
    for sheet in SHEETS:
        given = by_sheet.get(sheet, [])
        if len(given) > 1:
            shown = " and ".join(repr(n) for n in given)
            problems.append(Problem(file, message=f"sheet {sheet!r} is given twice (worksheets {shown}); keep one"))
        elif given and (sheet not in OPTIONAL_SHEETS or given[0] in filled_worksheets(workbook)):
            found[sheet] = workbook
    if "reviews" not in by_sheet:
        present = ", ".join(repr(n) for n in names) or "none"
        problems.append(
            Problem(
                file,
                message=f"the required worksheet `reviews` is missing; found worksheets: {present} "
                f"(sheet names: {allowed})",
            )
        )
    return found, problems


def worksheet_of(sheet: str, path: str | Path) -> str | None:
    """The worksheet of the ``.xlsx`` file ``path`` that holds ``sheet``: the one named after it (see
    :func:`sheet_named`); ``None`` (its first worksheet) when none is, and for a CSV file or a
    workbook that cannot be opened (reading it then says why)."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        return None
    try:
        names = worksheet_names(path)
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return None
    return next((n for n in names if sheet_named(n) == sheet), None)


def sheet_display(sheet: str, path: str | Path) -> str:
    """How problems name where ``sheet`` is: its file, and the worksheet when a workbook holds several sheets
    (``data/review.xlsx, worksheet 'effects'``)."""
    worksheet = worksheet_of(sheet, path)
    if worksheet is None or (sheet_named(Path(path).stem) == sheet and worksheet_names(Path(path))[0] == worksheet):
        return str(path)
    return f"{path}, worksheet {worksheet!r}"


def worksheet_names(path: Path) -> list[str]:
    """The names of an ``.xlsx`` workbook's worksheets, in order, read from its index only (fast on any size)."""
    stat = path.stat()
    return list(_worksheet_names(str(path.resolve()), stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=32)
def _worksheet_names(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    with zipfile.ZipFile(path) as zf:
        root = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    ns = root.tag.partition("}")[0] + "}" if root.tag.startswith("{") else ""
    sheets = root.find(f"{ns}sheets")
    return tuple(el.get("name", "") for el in ([] if sheets is None else sheets.findall(f"{ns}sheet")))


def filled_worksheets(path: Path) -> list[str]:
    """The worksheets of an ``.xlsx`` workbook that hold a data row: a second row with a value under the first.

    Each worksheet is streamed from the zip only until its second row holding a value (a cell with a value,
    an inline string or a formula; a shared string counts as a value, even a blank one), so a large worksheet
    costs what its first rows cost. A worksheet that cannot be read counts as filled: reading it then says what
    is wrong."""
    stat = path.stat()
    try:
        return list(_filled_worksheets(str(path.resolve()), stat.st_mtime_ns, stat.st_size))
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return worksheet_names(path)


XLSX_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
XLSX_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def worksheet_parts(zf: zipfile.ZipFile) -> list[tuple[str, str | None]]:
    """Each worksheet of an open ``.xlsx`` zip, in order: its name and its zip member (``None`` when the
    workbook's relationships do not name one)."""
    book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels}
    parts = []
    for sheet in book.iter(f"{XLSX_MAIN}sheet"):
        target = targets.get(sheet.get(f"{XLSX_REL}id"))
        part = (target.lstrip("/") if target.startswith("/") else f"xl/{target}") if target else None
        parts.append((sheet.get("name", ""), part))
    return parts


@lru_cache(maxsize=32)
def _filled_worksheets(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    filled = []
    with zipfile.ZipFile(path) as zf:
        for name, part in worksheet_parts(zf):
            try:
                with zf.open(part or "xl/") as fh:
                    rows = _rows_with_values(fh, stop=2)
            except (KeyError, zipfile.BadZipFile, ElementTree.ParseError, OSError):
                rows = 2
            if rows >= 2:
                filled.append(name)
    return tuple(filled)


def _rows_with_values(fh, stop: int) -> int:
    """How many rows of a worksheet's XML hold a value, counted up to ``stop``."""
    rows = 0
    has_value = False
    for event, el in ElementTree.iterparse(fh, events=("start", "end")):
        if event == "start":
            if el.tag == f"{XLSX_MAIN}row":
                has_value = False
            continue
        if el.tag == f"{XLSX_MAIN}f":
            has_value = True
        elif el.tag in (f"{XLSX_MAIN}v", f"{XLSX_MAIN}t") and (el.text or "").strip():
            has_value = True
        elif el.tag == f"{XLSX_MAIN}row":
            rows += has_value
            if rows >= stop:
                return rows
            el.clear()
        elif el.tag == f"{XLSX_MAIN}sheetData":
            break
    return rows


def sha256_of(path: str | Path) -> str:
    """SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
