"""The supplement of the paper: numbered tables (CSV and one XLSX workbook), figures (SVG and 300-dpi PNG), a
data dictionary, a Frictionless data package, a README and a checksum manifest, zipped with fixed timestamps.

Everything written here depends only on its inputs: rows and files in a fixed order, no clock time (zip entries
and workbook properties carry 1980-01-01), so an unchanged analysis gives an unchanged supplement. Text cells that
a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return) are neutralised with a
leading apostrophe in the CSV files and the workbook.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from umbrella.core.datasets import SHEETS, sha256_of
from umbrella.core.sheets import load_schema
from umbrella.core.tables import atomic_open, output_dictionary, read_table, write_table

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
FIXED_ISO = "1980-01-01T00:00:00Z"
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class TableSpec:
    """One supplementary table: its label (S1, S4b...), file stem, title, and the dictionary entry it uses."""

    label: str
    name: str
    title: str
    source: str  # a sheet name, or a table stem of outputs.yaml


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that start like a spreadsheet formula with an apostrophe (OWASP CSV injection)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(DANGEROUS) else v)
    return out


# --------------------------------------------------------------------------------------------------------------
# Column dictionary


def columns_of(spec: TableSpec, table: pd.DataFrame, outputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every column of a supplementary table: name, type, unit, allowed values, description."""
    if spec.source in SHEETS:
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
    out = []
    for col in table.columns:
        entry = known.get(col)
        if entry is None:
            entry = {
                "type": "string",
                "description": "Extra column of the extraction sheet, carried through unchanged.",
            }
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
# Writers


def write_xlsx(tables: Sequence[tuple[TableSpec, pd.DataFrame]], path: str | Path) -> None:
    """One sheet per table (named by its label), bold frozen header row, column widths from the content; the
    bytes depend only on the tables (fixed workbook dates and zip timestamps)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for spec, df in tables:
        ws = wb.create_sheet(title=f"{spec.label} {spec.name}"[:31])
        ws.append(list(df.columns))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in df.itertuples(index=False, name=None):
            ws.append([None if (not isinstance(v, str) and pd.isna(v)) else _plain(v) for v in row])
        ws.freeze_panes = "A2"
        for i, col in enumerate(df.columns, start=1):
            values = [str(col)] + [str(v) for v in df[col].head(500) if not (not isinstance(v, str) and pd.isna(v))]
            width = min(60, max(8, max(len(v) for v in values) + 2))
            ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = width
    buffer = io.BytesIO()
    wb.save(buffer)
    _repack(buffer.getvalue(), path)


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return value


def _repack(xlsx: bytes, path: str | Path) -> None:
    """Rewrite a workbook with fixed document dates and zip timestamps."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)", rf"\g<1>{FIXED_ISO}\g<2>", text)
                data = text.encode("utf-8")
            target.writestr(_entry(info.filename), data)
    Path(path).write_bytes(out.getvalue())


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def write_zip(folder: Path, files: Sequence[Path], path: str | Path) -> None:
    """A zip of ``files`` (relative to ``folder``'s parent), in the order given, with fixed timestamps."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for file in files:
            target.writestr(_entry(str(file.relative_to(folder.parent))), file.read_bytes())
    Path(path).write_bytes(out.getvalue())


FRICTIONLESS_TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean"}


def datapackage(entries: Sequence[tuple[TableSpec, str, list[dict[str, Any]]]], title: str) -> dict[str, Any]:
    """A Frictionless (tabular) data package describing every CSV of the supplement."""
    resources = []
    for spec, relpath, columns in entries:
        fields = []
        for c in columns:
            field = {"name": c["name"], "type": FRICTIONLESS_TYPES.get(c["type"], "string")}
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
) -> list[Path]:
    """Write the supplement into ``folder`` and its zip; returns the files written (in manifest order)."""
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "tables").mkdir(parents=True)
    (folder / "figures").mkdir()
    loaded, entries = write_tables(specs, folder)
    written = [folder / relpath for _, relpath, _ in entries]
    write_xlsx(loaded, folder / "supplement.xlsx")
    written.append(folder / "supplement.xlsx")
    write_table(neutralise(data_dictionary(entries)), folder / "data_dictionary.csv")
    written.append(folder / "data_dictionary.csv")
    written += copy_figures(figures, folder / "figures")
    shutil.copyfile(provenance, folder / "provenance.json")
    written.append(folder / "provenance.json")
    package = datapackage(entries + [(TableSpec("data", "dictionary", "Data dictionary", ""), "data_dictionary.csv",
                                      _dictionary_columns())], title)  # fmt: skip
    written.append(_write_text(folder / "datapackage.json", json.dumps(package, indent=2, ensure_ascii=False) + "\n"))
    rows = {relpath: len(df) for (_, relpath, _), (_, df) in zip(entries, loaded, strict=True)}
    written.append(_write_text(folder / "README.md", readme(title, entries, figures, rows)))
    manifest = "".join(f"{sha256_of(p)}  {p.relative_to(folder).as_posix()}\n" for p in written)
    written.append(_write_text(folder / "MANIFEST.sha256", manifest))
    write_zip(folder, written, zip_path)
    return written


def write_tables(
    specs: Sequence[tuple[TableSpec, str | Path]], folder: Path
) -> tuple[list[tuple[TableSpec, pd.DataFrame]], list[tuple[TableSpec, str, list[dict[str, Any]]]]]:
    """Each table as a typed, neutralised CSV under ``folder/tables``; returns the tables as written, and for
    each its path relative to ``folder`` and its columns described."""
    outputs = output_dictionary()
    loaded: list[tuple[TableSpec, pd.DataFrame]] = []
    entries = []
    for spec, path in specs:
        table = read_table(path, {c: "string" for c in pd.read_csv(path, nrows=0).columns})
        columns = columns_of(spec, table, outputs)
        safe = neutralise(_typed(table, columns))
        relpath = f"tables/{spec.label}_{spec.name}.csv"
        write_table(safe, folder / relpath)
        loaded.append((spec, safe))
        entries.append((spec, relpath, columns))
    return loaded, entries


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
    """Each figure's SVG and its PNG beside it, copied into ``folder``; returns the copies."""
    copies = []
    for figure in figures:
        for source in (Path(figure), Path(figure).with_suffix(".png")):
            target = folder / source.name
            shutil.copyfile(source, target)
            copies.append(target)
    return copies


def _write_text(path: Path, text: str) -> Path:
    with atomic_open(path) as fh:
        fh.write(text)
    return path


def _typed(table: pd.DataFrame, columns: list[dict[str, Any]]) -> pd.DataFrame:
    """Numbers and booleans back to their types (read as text so that identifiers stay as written)."""
    out = table.copy()
    for c in columns:
        col = c["name"]
        if c["type"] == "integer":
            out[col] = pd.to_numeric(out[col]).astype("Int64")
        elif c["type"] == "number":
            out[col] = pd.to_numeric(out[col]).astype("float64")
        elif c["type"] == "boolean":
            out[col] = out[col].map({"true": True, "false": False}).astype("boolean")
    return out


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
    title: str, entries: Sequence[tuple[TableSpec, str, list]], figures: Sequence[str | Path], rows: Mapping[str, int]
) -> str:
    lines = [
        f"# Supplementary material: {title}",
        "",
        "Generated by the umbrella-review pipeline from the extraction sheets listed in `provenance.json` "
        "(their SHA-256, the configuration, the software versions and the git commit).",
        "",
        "## Tables",
        "",
        "Each table is a CSV file (UTF-8, comma-separated, header in row 1) in `tables/`, and a sheet of "
        "`supplement.xlsx`. Every column is described in `data_dictionary.csv`; `datapackage.json` describes the "
        "CSV files as a Frictionless data package. Text cells that a spreadsheet would read as a formula start "
        "with an apostrophe.",
        "",
        "| table | file | columns | rows |",
        "|---|---|---:|---:|",
    ]
    for spec, relpath, columns in entries:
        lines.append(f"| {spec.label}: {spec.title} | `{relpath}` | {len(columns)} | {rows.get(relpath, '')} |")
    lines += ["", "## Figures", "", "Each figure as SVG (vector, for the paper) and PNG at 300 dpi, in `figures/`:", ""]
    lines += [f"- `figures/{Path(f).stem}.svg`, `figures/{Path(f).stem}.png`" for f in figures]
    lines += [
        "",
        "## Checking the files",
        "",
        "`MANIFEST.sha256` lists the SHA-256 of every file; check them with `sha256sum -c MANIFEST.sha256`.",
        "",
    ]
    return "\n".join(lines)
