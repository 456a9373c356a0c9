"""The supplement of the paper: numbered tables (CSV and one XLSX workbook), figures (SVG and 300-dpi PNG), a
data dictionary, a Frictionless data package, a README and a checksum manifest, zipped with fixed timestamps.

Everything written here depends only on its inputs: rows and files in a fixed order, no clock time (zip entries
and workbook properties carry 1980-01-01), so an unchanged analysis gives an unchanged supplement. Text cells that
a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return) are neutralised with a
leading apostrophe in the CSV files and the workbook, column names included, by the writers themselves (every
table, every column; numbers stay numbers).

The CSV files hold every table in full. The workbook keeps within what a spreadsheet opens: a table with more
cells (rows x columns) than ``workbook_cells`` is left to its CSV file, a table with more rows than a sheet holds
is split over numbered sheets, and text longer than a cell holds is cut in the workbook (the CSV file has it
whole). Whenever one of these happens, the workbook's first sheet, "Contents", and the README's table list say
where each table is and what was cut. Tables are read, written and measured a block of rows at a time, so only
the tables bound for the workbook are held in memory whole.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from umbrella.core.datasets import SHEETS, sha256_of
from umbrella.core.sheets import load_schema
from umbrella.core.tables import (
    FORMULA_START,
    atomic_open,
    output_dictionary,
    spreadsheet_text,
    take,
    write_rows,
    write_table,
)

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
FIXED_ISO = "1980-01-01T00:00:00Z"
DANGEROUS = FORMULA_START

EXCEL_ROWS = 1_048_575  # data rows a sheet holds under its header row (Excel: 1,048,576 rows)
EXCEL_COLUMNS = 16_384  # columns a sheet holds
EXCEL_TEXT = 32_767  # characters a cell holds
EXCEL_NAME = 31  # characters of a sheet name
WORKBOOK_CELLS = 2_000_000  # tables with more cells are in their CSV file only (config scale.workbook_cells)
WIDTH_ROWS = 500  # column widths come from the header and this many first rows
CHUNK_ROWS = 200_000  # rows of a table read and written at a time
ROW_BLOCK = 20_000  # rows of a sheet turned into XML at a time
ZIP_LEVEL = 4  # deflate level of supplement.zip and the workbook: the fastest of zlib's lazy-matching levels
STORED = (".xlsx", ".png")  # compressed already: stored in supplement.zip as they are


#: How the data dictionary describes a column that a tidy sheet carries beyond its schema (the user's own).
EXTRA_COLUMN = "Extra column of the extraction sheet, carried through unchanged."


@dataclass(frozen=True)
class TableSpec:
    """One supplementary table: its label (S1, S4b...), file stem, title, and the dictionary entry it uses."""

    label: str
    name: str
    title: str
    source: str  # a sheet name, or a table stem of outputs.yaml


@dataclass(frozen=True)
class Table:
    """A supplementary table as written: its CSV file (relative to the supplement folder), its columns
    described, its size, and its rows typed and neutralised (None when it has too many cells for the workbook,
    so it was never held in memory whole)."""

    spec: TableSpec
    relpath: str
    columns: list[dict[str, Any]]
    rows: int
    frame: pd.DataFrame | None

    @property
    def cells(self) -> int:
        return self.rows * len(self.columns)


@dataclass(frozen=True)
class Placement:
    """Where a table is in the workbook: its sheets (none: in its CSV file only) and how many of its text cells
    were cut to ``EXCEL_TEXT`` characters."""

    table: Table
    sheets: tuple[str, ...]
    cut: int = 0

    @property
    def plain(self) -> bool:
        """One sheet, nothing cut: what a small analysis gives."""
        return len(self.sheets) == 1 and not self.cut


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that start like a spreadsheet formula with an apostrophe (OWASP CSV injection)."""
    out = df.copy()
    for col in out.columns:
        values = out[col]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
            continue
        try:
            codes, uniques = pd.factorize(values)  # each distinct value looked at once
        except TypeError:  # unhashable cells: one by one
            out[col] = values.map(lambda v: "'" + v if isinstance(v, str) and v.startswith(DANGEROUS) else v)
            continue
        flagged = np.array([isinstance(v, str) and v.startswith(DANGEROUS) for v in uniques] + [False])
        mask = flagged[codes]  # code -1 (missing) picks the last, False
        if mask.any():
            values = values.copy()
            values[mask] = "'" + values[mask]
            out[col] = values
    return out


# --------------------------------------------------------------------------------------------------------------
# Column dictionary


def columns_of(spec: TableSpec, table: pd.DataFrame, outputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every column of a supplementary table: name, type, unit, allowed values, description.

    A table the registry describes column by column takes its columns from there (the implementation and
    experiences tables share their names with the sheets they summarise, but are tables of their own); a tidy
    sheet takes them from the sheet's schema, and its extra columns are described as such."""
    if spec.source in outputs and "columns" in outputs[spec.source] and spec.source != "characteristics":
        known = outputs[spec.source]["columns"]
    elif spec.source in SHEETS:
        props = load_schema(spec.source)["properties"]
        known = {
            c: {
                "type": p.get("type", "string"),
                "description": " ".join(str(p.get("description", "")).split()),
                "allowed": p.get("enum"),
            }
            for c, p in props.items()
        }
    elif spec.source == "characteristics":
        props = load_schema("reviews")["properties"]
        known = {
            c: {"type": p.get("type", "string"), "description": " ".join(str(p.get("description", "")).split()),
                "allowed": p.get("enum")}
            for c, p in props.items()
        }  # fmt: skip
        known.update(outputs.get("characteristics", {}).get("columns", {}))
    else:
        known = outputs[spec.source]["columns"]
    # A table with one column per review (the citation matrix) or per extractor (the disagreements) describes
    # those columns once.
    source = {} if spec.source in SHEETS else outputs.get(spec.source, {})
    per_review = source.get("review_columns") or source.get("extractor_columns")
    out = []
    for col in table.columns:
        entry = known.get(col, per_review)
        if entry is None:
            entry = {"type": "string", "description": EXTRA_COLUMN}
        out.append(
            {
                "name": col,
                "type": entry.get("type", "string"),
                "unit": entry.get("unit"),
                "allowed": entry.get("allowed"),
                "description": entry.get("description", ""),
            }
        )
    return out


# --------------------------------------------------------------------------------------------------------------
# The workbook


def write_xlsx(
    tables: Sequence[Table | tuple[TableSpec, pd.DataFrame]], path: str | Path, workbook_cells: int = WORKBOOK_CELLS
) -> list[Placement]:
    """One sheet per table (named by its label), bold frozen header row, column widths from the content; the
    bytes depend only on the tables (fixed workbook dates and zip timestamps). Returns where each table went.

    openpyxl's write-only mode writes the workbook: sheets, header rows, styles, widths. The data rows are then
    streamed into each sheet as the very XML openpyxl's write-only sheet writes for them (:func:`_rows_xml`; a
    sheet holding values that openpyxl treats specially is left to openpyxl), so no cell object is made.

    Within Excel's limits: a table with more cells than ``workbook_cells`` (or more columns than a sheet holds)
    is left out, one with more rows than ``EXCEL_ROWS`` is split over sheets "<label> <name> (1)", "(2)"..., each
    with the header, and text longer than ``EXCEL_TEXT`` characters is cut. If any of this happens, a first sheet
    "Contents" lists every table, its rows and where it is (or why not), and the cut cells; otherwise the
    workbook has exactly one sheet per table, as always.
    """
    from openpyxl import Workbook

    tables = [t if isinstance(t, Table) else _in_memory(*t) for t in tables]
    placements = place(tables, workbook_cells)
    wb = Workbook(write_only=True)
    sheets = []  # each sheet, and the rows that _repack writes into it
    if not all(p.plain for p in placements):
        sheets.append(_write_sheet(wb, "Contents", contents(placements, workbook_cells)))
    for placement in placements:
        frame = placement.table.frame
        if not placement.sheets:
            continue
        if placement.cut:
            frame = _cut_text(frame)
        for i, name in enumerate(placement.sheets):
            part = frame if len(placement.sheets) == 1 else frame.iloc[i * EXCEL_ROWS : (i + 1) * EXCEL_ROWS]
            sheets.append(_write_sheet(wb, name, part))
    buffer = io.BytesIO()
    wb.save(buffer)
    _repack(buffer.getvalue(), path, {ws.path.lstrip("/"): rows for ws, rows in sheets if rows is not None})
    return placements


def place(tables: Sequence[Table], workbook_cells: int = WORKBOOK_CELLS) -> list[Placement]:
    """Each table's sheets in the workbook (none when it has too many cells or columns) and its overlong cells.
    Sheet names are "<label> <name>" cut to 31 characters, with " (1)", " (2)"... when split, and unique."""
    used: set[str] = set()
    out = []
    for table in tables:
        if table.cells > workbook_cells or len(table.columns) > EXCEL_COLUMNS:
            out.append(Placement(table, ()))
            continue
        if table.frame is None:
            raise ValueError(f"{table.relpath}: {table.cells} cells fit the workbook, but its rows were not kept")
        base = f"{table.spec.label} {table.spec.name}"
        parts = max(1, math.ceil(table.rows / EXCEL_ROWS))
        names = tuple(_sheet_name(base, f" ({i})" if parts > 1 else "", used) for i in range(1, parts + 1))
        out.append(Placement(table, names, _overlong(table.frame)))
    return out


def contents(placements: Sequence[Placement], workbook_cells: int = WORKBOOK_CELLS) -> pd.DataFrame:
    """The Contents sheet: every table's label, title, rows, and where it is in the workbook."""
    return neutralise(
        pd.DataFrame(
            {
                "table": [p.table.spec.label for p in placements],
                "title": [p.table.spec.title for p in placements],
                "rows": [p.table.rows for p in placements],
                "where": [where(p, workbook_cells) for p in placements],
            }
        )
    )


def where(placement: Placement, workbook_cells: int = WORKBOOK_CELLS) -> str:
    """Where a table is: its sheet(s), or why it is in its CSV file only; and which cells were cut."""
    table, sheets = placement.table, placement.sheets
    if not sheets:
        if len(table.columns) > EXCEL_COLUMNS:
            many = f"{len(table.columns):,} columns, more than a sheet holds ({EXCEL_COLUMNS:,})"
            return f"CSV only: {table.relpath} ({many})"
        return f"CSV only: {table.relpath} ({table.cells:,} cells, more than the workbook limit of {workbook_cells:,})"
    if len(sheets) == 1:
        text = f"sheet {sheets[0]}"
    else:
        spans = [
            f"{name} (rows {i * EXCEL_ROWS + 1:,}-{min(table.rows, (i + 1) * EXCEL_ROWS):,})"
            for i, name in enumerate(sheets)
        ]
        text = "sheets " + ", ".join(spans)
    if placement.cut:
        text += (
            f"; {placement.cut:,} text cell{'s' if placement.cut > 1 else ''} cut to {EXCEL_TEXT:,} characters "
            f"(the most a cell holds), whole in {table.relpath}"
        )
    return text


def _in_memory(spec: TableSpec, frame: pd.DataFrame) -> Table:
    columns = [{"name": c} for c in frame.columns]
    return Table(spec, f"tables/{spec.label}_{spec.name}.csv", columns, len(frame), frame)


def _sheet_name(base: str, suffix: str, used: set[str]) -> str:
    name = base[: EXCEL_NAME - len(suffix)] + suffix
    extra = 1
    while name.casefold() in used:  # two long names alike in their first 31 characters
        extra += 1
        tail = f"{suffix} ~{extra}"
        name = base[: EXCEL_NAME - len(tail)] + tail
    used.add(name.casefold())
    return name


def _overlong(frame: pd.DataFrame) -> int:
    """How many cells of ``frame`` hold text longer than ``EXCEL_TEXT`` characters."""
    return sum(int(_long_text(frame.iloc[:, j]).sum()) for j in range(frame.shape[1]))


def _long_text(values: pd.Series) -> np.ndarray:
    if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
        return np.zeros(len(values), dtype=bool)
    return _by_value(values, lambda v: isinstance(v, str) and len(v) > EXCEL_TEXT, False).astype(bool)


def _cut_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with text longer than ``EXCEL_TEXT`` characters cut to that length."""
    out = frame.copy()
    for j in range(frame.shape[1]):
        mask = _long_text(frame.iloc[:, j])
        if mask.any():
            values = frame.iloc[:, j].copy()
            values[mask] = values[mask].str.slice(0, EXCEL_TEXT)
            out.isetitem(j, values)
    return out


def _write_sheet(wb: Any, title: str, frame: pd.DataFrame) -> tuple[Any, pd.DataFrame | None]:
    """A sheet of a write-only workbook: frozen header in bold, widths from the content, then the rows. Returns
    the sheet and, when :func:`_streamable`, the rows left for :func:`_repack` to write (else openpyxl wrote them)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title=title)
    ws.freeze_panes = "A2"  # sheet layout goes before the rows in a write-only sheet
    for i, col in enumerate(frame.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = _width(col, frame.iloc[:, i - 1])
    header = []
    for col in frame.columns:
        cell = WriteOnlyCell(ws, value=spreadsheet_text(str(col)))
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    if _streamable(frame):
        return ws, frame
    for row in zip(*(_cells(frame.iloc[:, j]) for j in range(frame.shape[1])), strict=True):
        ws.append(row)
    return ws, None


def _width(name: Any, values: pd.Series) -> int:
    texts = [str(name)] + [str(v) for v in values.head(WIDTH_ROWS) if not (not isinstance(v, str) and pd.isna(v))]
    return min(60, max(8, max(len(v) for v in texts) + 2))


def _cells(values: pd.Series) -> list[Any]:
    """A column's cell values: None for missing, plain Python values (not numpy scalars)."""
    cells = values.astype(object).where(values.notna(), None).tolist()
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        cells = [None if v is None else spreadsheet_text(v) if type(v) is str else _plain(v) for v in cells]
    return cells


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return value


# Cell values that the rows written here hold as openpyxl would; anything else goes through openpyxl itself:
# text with characters XML or openpyxl refuse, formulas, error codes, text longer than a cell, infinities.
_ODD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_ERROR_CODES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")


def _streamable(frame: pd.DataFrame) -> bool:
    """Whether :func:`_rows_xml` writes every cell of ``frame`` as openpyxl's write-only sheet would."""
    for j in range(frame.shape[1]):
        values = frame.iloc[:, j]
        kind = values.dtype.kind
        if kind == "b":
            continue
        if kind in "iuf":
            if np.isinf(values.to_numpy(dtype="float64", na_value=np.nan)).any():
                return False
            continue
        if kind != "O":
            return False
        try:
            _, uniques = pd.factorize(values)
        except TypeError:  # unhashable cells
            return False
        if not all(_plain_text(v) for v in uniques):
            return False
    return True


def _plain_text(value: Any) -> bool:
    """Text that openpyxl writes as an inline string, unchanged."""
    return (
        isinstance(value, str)
        and len(value) <= EXCEL_TEXT
        and not (len(value) > 1 and value[0] == "=")  # a formula
        and value not in _ERROR_CODES
        and _ODD.search(value) is None
    )


def _rows_xml(frame: pd.DataFrame, first: int = 2) -> Iterator[bytes]:
    """The ``<row>`` elements of a sheet's data rows, from row ``first`` on, byte for byte as openpyxl's
    write-only sheet (with lxml) writes them: inline strings, numbers as ``%.16g``, booleans as 1/0, missing
    cells left out, non-ASCII characters as character references. ``frame`` must be :func:`_streamable`."""
    from openpyxl.utils import get_column_letter

    letters = [get_column_letter(j + 1) for j in range(frame.shape[1])]
    for start in range(0, len(frame), ROW_BLOCK):
        block = frame.iloc[start : start + ROW_BLOCK]
        numbers = [str(first + start + i) for i in range(len(block))]
        columns = [_column_xml(block.iloc[:, j], letters[j], numbers) for j in range(block.shape[1])]
        cells = zip(*columns, strict=True) if columns else ((),) * len(numbers)
        rows = ['<row r="' + n + '">' + "".join(row) + "</row>" for n, row in zip(numbers, cells, strict=True)]
        yield "".join(rows).encode("ascii", "xmlcharrefreplace")


def _column_xml(values: pd.Series, letter: str, rows: list[str]) -> list[str]:
    """Each cell of a column as XML ('' where missing); ``rows``: the row numbers, as text. Each distinct value
    is turned into XML once."""
    kind = values.dtype.kind
    if kind == "b":
        flags = values.to_numpy(dtype=bool, na_value=False).tolist()
        missing = values.isna().to_numpy().tolist()
        true, false = '" t="b"><v>1</v></c>', '" t="b"><v>0</v></c>'
        return [
            "" if m else '<c r="' + letter + r + (true if f else false)
            for r, f, m in zip(rows, flags, missing, strict=True)
        ]
    if kind in "iuf":
        floats = values.to_numpy(dtype="float64", na_value=np.nan)
        codes, uniques = pd.factorize(floats.view(np.int64))  # by bits: 0.0 and -0.0 print differently
        tails = [
            None if x != x else '" t="n"><v>' + "%.16g" % x + "</v></c>"  # noqa: UP031 (as openpyxl's safe_string)
            for x in uniques.view(np.float64).tolist()
        ]
    else:
        codes, uniques = pd.factorize(values)
        uniques = [spreadsheet_text(v) for v in uniques]
        tails = [
            '" t="inlineStr"><is>' + ("<t>" if v == v.strip() else _PRESERVE) + _xml_text(v) + "</t></is></c>"
            if v
            else '" t="inlineStr"></c>'  # openpyxl writes no text element for ''
            for v in uniques
        ]
    cells = take(tails, codes, None).tolist()
    return ["" if t is None else '<c r="' + letter + r + t for r, t in zip(rows, cells, strict=True)]


_PRESERVE = '<t xml:space="preserve">'


def _xml_text(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def _xml_bound(frame: pd.DataFrame) -> int:
    """More bytes than :func:`_rows_xml` writes for ``frame``."""
    text = sum(
        int(frame.iloc[:, j].str.len().sum()) for j in range(frame.shape[1]) if frame.iloc[:, j].dtype.kind == "O"
    )
    return 100 * (frame.size + len(frame)) + 10 * text


def _repack(xlsx: bytes, path: str | Path, rows: Mapping[str, pd.DataFrame] | None = None) -> None:
    """Rewrite a workbook with fixed document dates and zip timestamps, writing into each sheet named in
    ``rows`` (zip member -> frame) the frame's data rows (:func:`_rows_xml`), streamed into the file."""
    rows = rows or {}
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    with zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)", rf"\g<1>{FIXED_ISO}\g<2>", text)
                data = text.encode("utf-8")
            frame = rows.get(info.filename)
            if frame is None or frame.empty:
                target.writestr(_entry(info.filename), data)
                continue
            end = data.rindex(b"</sheetData>")  # after the header row openpyxl wrote
            entry = _entry(info.filename)
            entry.file_size = len(data) + _xml_bound(frame)  # zip64 when the sheet may need it
            with target.open(entry, "w") as sink:
                sink.write(data[:end])
                for block in _rows_xml(frame):
                    sink.write(block)
                sink.write(data[end:])


def _entry(name: str, compress_type: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
    info.compress_type = compress_type
    info.external_attr = 0o644 << 16
    if compress_type == zipfile.ZIP_DEFLATED:
        info._compresslevel = ZIP_LEVEL  # public as ZipInfo.compress_level from Python 3.13 on
    return info


def write_zip(folder: Path, files: Sequence[Path], path: str | Path) -> None:
    """A zip of ``files`` (relative to ``folder``'s parent), in the order given, each once, with fixed
    timestamps: files compressed already (workbook, PNG) stored as they are, the others deflated. Streamed from
    disk into a temporary file that replaces ``path`` when complete."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    seen: set[str] = set()
    try:
        with zipfile.ZipFile(partial, "w") as target:
            for file in files:
                name = Path(file).relative_to(folder.parent).as_posix()
                if name in seen:
                    continue
                seen.add(name)
                stored = Path(file).suffix.lower() in STORED
                info = _entry(name, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
                info.file_size = Path(file).stat().st_size  # so that zip64 is used when it must
                with open(file, "rb") as source, target.open(info, "w") as sink:
                    shutil.copyfileobj(source, sink, 1 << 20)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


FRICTIONLESS_TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean"}


def datapackage(entries: Sequence[tuple[TableSpec, str, list[dict[str, Any]]]], title: str) -> dict[str, Any]:
    """A Frictionless (tabular) data package describing every CSV of the supplement."""
    resources = []
    for spec, relpath, columns in entries:
        fields = []
        for c in columns:
            field = {"name": spreadsheet_text(str(c["name"])), "type": FRICTIONLESS_TYPES.get(c["type"], "string")}
            if c["description"]:
                field["description"] = c["description"]
            if field["type"] == "boolean":
                field["trueValues"], field["falseValues"] = ["true"], ["false"]
            fields.append(field)
        resources.append(
            {
                "name": f"{spec.label}_{spec.name}".lower(),
                "title": f"Table {spec.label}: {spec.title}",
                "path": relpath,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {"fields": fields, "missingValues": [""]},
            }
        )
    return {
        "name": "umbrella-review-supplement",
        "title": title,
        "profile": "tabular-data-package",
        "resources": resources,
    }


# --------------------------------------------------------------------------------------------------------------
# The whole supplement


def build_supplement(
    specs: Sequence[tuple[TableSpec, str | Path]],
    figures: Sequence[str | Path],
    provenance: str | Path,
    title: str,
    folder: str | Path,
    zip_path: str | Path,
    workbook_cells: int = WORKBOOK_CELLS,
    figure_labels: Mapping[str, tuple[str, str]] | None = None,
) -> list[Path]:
    """Write the supplement into ``folder`` and its zip; returns the files written (in manifest order, each
    once). Tables with more than ``workbook_cells`` cells are in their CSV file only (see :func:`write_xlsx`).

    The folder is replaced as a whole (nothing of an earlier run stays in it) and holds exactly the files listed
    in its manifest; if writing fails, no folder is left. The workflow declares the folder by its manifest
    rather than as a directory output, so that Snakemake puts no marker file of its own into it."""
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    try:
        return _build_supplement(specs, figures, provenance, title, folder, zip_path, workbook_cells, figure_labels)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _build_supplement(
    specs: Sequence[tuple[TableSpec, str | Path]],
    figures: Sequence[str | Path],
    provenance: str | Path,
    title: str,
    folder: Path,
    zip_path: str | Path,
    workbook_cells: int,
    figure_labels: Mapping[str, tuple[str, str]] | None,
) -> list[Path]:
    (folder / "tables").mkdir(parents=True)
    (folder / "figures").mkdir()
    tables = write_tables(specs, folder, workbook_cells)
    entries = [(t.spec, t.relpath, t.columns) for t in tables]
    written = [folder / t.relpath for t in tables]
    placements = write_xlsx(tables, folder / "supplement.xlsx", workbook_cells)
    rows = {p.table.relpath: p.table.rows for p in placements}
    places = (
        None if all(p.plain for p in placements) else {p.table.relpath: where(p, workbook_cells) for p in placements}
    )
    del tables, placements  # the rows are written: let them go
    written.append(folder / "supplement.xlsx")
    write_table(data_dictionary(entries), folder / "data_dictionary.csv", escape=True)
    written.append(folder / "data_dictionary.csv")
    written += copy_figures(figures, folder / "figures")
    shutil.copyfile(provenance, folder / "provenance.json")
    written.append(folder / "provenance.json")
    package = datapackage(entries + [(TableSpec("data", "dictionary", "Data dictionary", ""), "data_dictionary.csv",
                                      _dictionary_columns())], title)  # fmt: skip
    written.append(_write_text(folder / "datapackage.json", json.dumps(package, indent=2, ensure_ascii=False) + "\n"))
    text = readme(title, entries, figures, rows, places, workbook_cells, figure_labels)
    written.append(_write_text(folder / "README.md", text))
    written = list(dict.fromkeys(written))  # a figure listed twice is copied, listed and zipped once
    manifest = "".join(f"{sha256_of(p)}  {p.relative_to(folder).as_posix()}\n" for p in written)
    written.append(_write_text(folder / "MANIFEST.sha256", manifest))
    write_zip(folder, written, zip_path)
    return written


def write_tables(
    specs: Sequence[tuple[TableSpec, str | Path]], folder: Path, workbook_cells: int = WORKBOOK_CELLS
) -> list[Table]:
    """Each table as a typed, neutralised CSV under ``folder/tables``, read and written ``CHUNK_ROWS`` rows at a
    time; returns the tables as written, their rows kept only when they fit the workbook (``workbook_cells``).

    Identifiers stay as written (text columns are read as text); numbers are parsed by the CSV reader, or, where
    it refuses a value, as :func:`umbrella.core.tables.read_table` converts text (which then says what is wrong).
    """
    outputs = output_dictionary()
    tables = []
    for spec, path in specs:
        columns = columns_of(spec, pd.read_csv(path, nrows=0, dtype=str, encoding="utf-8"), outputs)
        try:
            tables.append(_write_table(spec, path, columns, folder, workbook_cells, parse=True))
        except (ValueError, TypeError, OverflowError):
            tables.append(_write_table(spec, path, columns, folder, workbook_cells, parse=False))
    return tables


def _write_table(
    spec: TableSpec, path: str | Path, columns: list[dict[str, Any]], folder: Path, workbook_cells: int, parse: bool
) -> Table:
    relpath = f"tables/{spec.label}_{spec.name}.csv"
    types = {c["name"]: c["type"] for c in columns}
    if parse:
        numeric = [name for name, kind in types.items() if kind in ("integer", "number")]
        dtype = {name: {"integer": "Int64", "number": "float64"}.get(kind, object) for name, kind in types.items()}
        na_values: dict[str, list[str]] | None = {name: [""] for name in numeric}
    else:
        dtype, na_values = object, None
    kept: list[pd.DataFrame] | None = []
    rows = 0
    reader = pd.read_csv(
        path, dtype=dtype, keep_default_na=False, na_values=na_values, encoding="utf-8", chunksize=CHUNK_ROWS
    )
    with reader, atomic_open(folder / relpath) as fh:
        for i, chunk in enumerate(reader):  # a header-only file gives one empty chunk
            safe = _converted(chunk, types, parse)
            write_rows(safe, fh, header=i == 0, escape=True)
            rows += len(safe)
            if kept is not None:
                kept.append(safe)
                if rows * len(columns) > workbook_cells:
                    kept = None  # for the CSV file only: no need to hold it
    frame = None if kept is None else kept[0] if len(kept) == 1 else pd.concat(kept, ignore_index=True)
    return Table(spec, relpath, columns, rows, frame)


def _converted(chunk: pd.DataFrame, types: Mapping[str, str], parsed: bool) -> pd.DataFrame:
    """Rows read from CSV, typed and neutralised: integers (Int64), numbers (float64) and booleans (true/false)
    to their types, everything else text with blanks missing and formula-like cells neutralised. ``parsed``: the
    numbers were parsed by the reader (else they are text and converted here)."""
    out = {}
    for name in chunk.columns:
        values, kind = chunk[name], types.get(name, "string")
        if kind in ("integer", "number"):
            if not parsed:
                values = pd.to_numeric(values.where(values != "", None))
            out[name] = values.astype("Int64" if kind == "integer" else "float64")
        elif kind == "boolean":
            out[name] = values.map({"true": True, "false": False}).astype("boolean")
        else:
            out[name] = _text(values)
    return pd.DataFrame(out, index=chunk.index, columns=chunk.columns)


def _text(values: pd.Series) -> pd.Series:
    """A text column read from CSV: blanks missing (None), formula-like cells neutralised, each distinct text
    looked at once."""
    safe = _by_value(values, lambda v: None if v == "" else "'" + v if v.startswith(DANGEROUS) else v, None)
    return pd.Series(safe, index=values.index, dtype=object)


def _by_value(values: pd.Series, func: Any, missing: Any) -> np.ndarray:
    """``func`` of each cell (``missing`` where missing), called once for each distinct value."""
    codes, uniques = pd.factorize(values)
    return take([func(v) for v in uniques], codes, missing)


def data_dictionary(entries: Sequence[tuple[TableSpec, str, list[dict[str, Any]]]]) -> pd.DataFrame:
    """One row per column of every table: table, column, type, unit, allowed values, description."""
    rows = []
    for spec, _, columns in entries:
        for c in columns:
            rows.append(
                {
                    "table": f"{spec.label}_{spec.name}",
                    "column": c["name"],
                    "type": c["type"],
                    "unit": c["unit"] or "",
                    "allowed_values": "; ".join(map(str, c["allowed"])) if c["allowed"] else "",
                    "description": c["description"],
                }
            )
    return pd.DataFrame(rows)


def copy_figures(figures: Sequence[str | Path], folder: Path) -> list[Path]:
    """Each figure's SVG and its PNG beside it (where one was drawn), copied into ``folder``; returns the
    copies."""
    copies = []
    for figure in figures:
        for source in (Path(figure), Path(figure).with_suffix(".png")):
            if source.suffix == ".png" and not source.exists():
                continue
            target = folder / source.name
            shutil.copyfile(source, target)
            copies.append(target)
    return copies


def _write_text(path: Path, text: str) -> Path:
    with atomic_open(path) as fh:
        fh.write(text)
    return path


def _dictionary_columns() -> list[dict[str, Any]]:
    words = {
        "table": "The supplementary table (file name without .csv).",
        "column": "The column of that table.",
        "type": "string, integer, number or boolean (true/false).",
        "unit": "Unit of the values, where they have one.",
        "allowed_values": "The values a text column may take, where they are fixed.",
        "description": "What the column holds.",
    }
    return [{"name": k, "type": "string", "unit": None, "allowed": None, "description": v} for k, v in words.items()]


def readme(
    title: str,
    entries: Sequence[tuple[TableSpec, str, list]],
    figures: Sequence[str | Path],
    rows: Mapping[str, int],
    places: Mapping[str, str] | None = None,
    workbook_cells: int = WORKBOOK_CELLS,
    figure_labels: Mapping[str, tuple[str, str]] | None = None,
) -> str:
    """The supplement's README. ``places`` (CSV path -> where the table is in the workbook) is given when the
    workbook leaves a table out, splits one or cuts text: the table list then says where each table is.
    ``figure_labels`` (file stem -> label and caption) numbers the figures as the report does ("Figure S6a")."""
    workbook = "and a sheet of `supplement.xlsx`."
    if places is not None:
        workbook = (
            f"and, within what a spreadsheet opens, in `supplement.xlsx`: a table with more than {workbook_cells:,} "
            f"cells is in its CSV file only, one with more than {EXCEL_ROWS:,} rows is split over numbered sheets, "
            f"and text longer than {EXCEL_TEXT:,} characters is cut in the workbook (never in the CSV files). The "
            "workbook's first sheet, Contents, and the column *workbook* below say where each table is."
        )
    lines = [
        f"# Supplementary material: {title}",
        "",
        "Generated by the umbrella-review pipeline from the extraction sheets listed in `provenance.json` "
        "(their SHA-256, the configuration, the software versions and the git commit).",
        "",
        "## Tables",
        "",
        f"Each table is a CSV file (UTF-8, comma-separated, header in row 1) in `tables/`, {workbook} Every column "
        "is described in `data_dictionary.csv`; `datapackage.json` describes the CSV files as a Frictionless data "
        "package. Text cells that a spreadsheet would read as a formula start with an apostrophe.",
        "",
    ]
    if places is None:
        lines += ["| table | file | columns | rows |", "|---|---|---:|---:|"]
    else:
        lines += ["| table | file | columns | rows | workbook |", "|---|---|---:|---:|---|"]
    for spec, relpath, columns in entries:
        line = f"| {spec.label}: {spec.title} | `{relpath}` | {len(columns)} | {rows.get(relpath, '')} |"
        if places is not None:
            line += f" {places.get(relpath, '')} |"
        lines.append(line)
    with_png = [Path(f).with_suffix(".png").exists() for f in figures]
    svg_only = "" if all(with_png) else "; the three figures of each re-analysed meta-analysis (`ma_...`) as SVG only"
    lines += [
        "",
        "## Figures",
        "",
        f"Each figure as SVG (vector, for the paper) and PNG at 300 dpi, in `figures/`{svg_only}:",
        "",
    ]
    labels, said = figure_labels or {}, None
    for f, png in zip(figures, with_png, strict=True):
        stem = Path(f).stem
        files = f"`figures/{stem}.svg`" + (f", `figures/{stem}.png`" if png else "")
        label, caption = labels.get(stem, (None, None))
        if not label:
            lines.append(f"- {files}")
            continue
        # the parts and pages of one figure share its caption: it is given once, with the first
        lines.append(f"- Figure {label}: {files}" if caption == said else f"- Figure {label}: {caption} {files}")
        said = caption
    lines += [
        "",
        "## Checking the files",
        "",
        "`MANIFEST.sha256` lists the SHA-256 of every file; check them with `sha256sum -c MANIFEST.sha256`.",
        "",
    ]
    return "\n".join(lines)
