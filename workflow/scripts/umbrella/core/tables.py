"""Deterministic reading and writing of the pipeline's tables."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import numpy as np
import pandas as pd

FLOAT_FORMAT = "%.10g"

#: The first characters that make a spreadsheet read a cell as a formula (OWASP, "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """``text`` as a spreadsheet shows it and never runs it: with a leading apostrophe when it starts like a
    formula (:data:`FORMULA_START`: ``=HYPERLINK(...)``, ``+1``, ``-x``, ``@SUM``, a tab, a carriage return).
    Only text is changed; numbers (``-0.5`` in a column of numbers) are written as numbers by the writers and
    never pass here. Applying it twice changes nothing more."""
    return "'" + text if text.startswith(FORMULA_START) else text


@contextmanager
def atomic_open(path: str | Path, binary: bool = False) -> Iterator[TextIO | BinaryIO]:
    """Open ``path`` for writing text (UTF-8, newlines untranslated; bytes with ``binary``) through a temporary
    file in the same folder that replaces ``path`` only when the block ends without error, so a crash never
    leaves half a file. The file gets the usual permissions (0666 less the umask)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_table(df: pd.DataFrame, path: str | Path, escape: bool = False) -> None:
    """Write a CSV that depends only on the table: UTF-8, ``,``, LF, no index, floats as ``%.10g``,
    booleans as ``true``/``false``, missing values blank; written atomically (:func:`atomic_open`). With
    ``escape`` (a table for a spreadsheet), every text cell and column name goes through :func:`spreadsheet_text`."""
    with atomic_open(path) as fh:
        write_rows(df, fh, header=True, escape=escape)


def write_rows(table: pd.DataFrame, fh: TextIO, header: bool = True, escape: bool = False) -> None:
    """Write ``table``'s rows (and its header row when ``header``) to ``fh`` as :func:`write_table` lays them out
    (``csv`` quoting, booleans as true/false, floats as ``%.10g``, missing values blank). Columns of numbers,
    booleans and text are formatted one distinct value at a time, so millions of rows take seconds; a table with
    any other kind of column goes through pandas' ``to_csv``. With ``escape``, every text cell and every column
    name that a spreadsheet would run as a formula starts with an apostrophe (:func:`spreadsheet_text`)."""
    names = [str(c) for c in table.columns]
    if escape:
        names = [spreadsheet_text(c) for c in names]
    fields = [_csv_column(table.iloc[:, j], escape) for j in range(table.shape[1])]
    if not fields or any(f is None for f in fields):
        out = table.copy()
        for col in out.columns:
            if _holds_booleans(out[col]):
                out[col] = out[col].map(lambda v: "" if v is None or v is pd.NA else ("true" if v else "false"))
            elif escape and (out[col].dtype == object or pd.api.types.is_string_dtype(out[col])):
                out[col] = out[col].map(lambda v: spreadsheet_text(v) if isinstance(v, str) else v)
        out.columns = names if escape else out.columns
        out.to_csv(fh, index=False, header=header, float_format=FLOAT_FORMAT, lineterminator="\n")
        return
    if header:
        heads = _csv_fields(names)
        fh.write((",".join(heads) if heads != [""] else '""') + "\n")  # a lone empty field is quoted, as below
    if len(fields) == 1:
        lines = [f if f else '""' for f in fields[0]]  # the csv module quotes a lone empty field
    else:
        lines = [",".join(row) for row in zip(*fields, strict=True)]
    if lines:
        fh.write("\n".join(lines))
        fh.write("\n")


def _holds_booleans(column: pd.Series) -> bool:
    """A boolean column, or a text column with a Python bool in it (a flag column with blanks)."""
    if pd.api.types.is_bool_dtype(column):
        return True
    if column.dtype != object:
        return False  # numbers, dates and pandas' string dtype cannot hold a bool
    kind = pd.api.types.infer_dtype(column, skipna=True)
    if kind in ("string", "empty", "integer", "floating", "decimal", "bytes"):
        return False
    return bool(column.map(lambda v: isinstance(v, bool)).any())


def take(values: list[Any], codes: np.ndarray, missing: Any) -> np.ndarray:
    """``values[code]`` for each code, ``missing`` for code -1 (as :func:`pandas.factorize` marks it)."""
    table = np.empty(len(values) + 1, dtype=object)
    table[: len(values)] = values
    table[-1] = missing
    return table[codes]


def _csv_column(values: pd.Series, escape: bool = False) -> list[str] | None:
    """A column's CSV fields (text through :func:`spreadsheet_text` when ``escape``), or None for a column type
    not handled here."""
    kind = values.dtype.kind
    if kind == "b":
        flags = values.to_numpy(dtype=bool, na_value=False)
        return np.where(values.isna().to_numpy(), "", np.where(flags, "true", "false")).astype(object).tolist()
    if kind in "iu":
        codes, uniques = pd.factorize(values)
        return take([str(int(v)) for v in uniques], codes, "").tolist()
    if kind == "f" and not isinstance(values.dtype, pd.api.extensions.ExtensionDtype):
        floats = values.to_numpy(dtype="float64")
        codes, uniques = pd.factorize(floats.view(np.int64))  # by bits: 0.0 and -0.0 print differently
        texts = ["" if x != x else FLOAT_FORMAT % x for x in uniques.view(np.float64).tolist()]
        return take(texts, codes, "").tolist()
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        codes, uniques = pd.factorize(values)
        if not all(type(v) is str for v in uniques):
            return None
        texts = [spreadsheet_text(v) for v in uniques] if escape else list(uniques)
        return take(_csv_fields(texts), codes, "").tolist()
    return None


def _csv_fields(texts: Sequence[str]) -> list[str]:
    """Each text as the ``csv`` module writes it as one field of a row (quoted where it must be). A text with a
    carriage return is quoted too: with a line end of ``\n`` alone the module would leave it bare, and a reader
    would end the row there."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # quotes a field holding \r or \n; the line end is cut off
    out = []
    for text in texts:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow((text, ""))
        out.append(buffer.getvalue()[:-3])  # less the delimiter and empty field after it, and the line end
    return out


def read_table(path: str | Path, types: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read a table written by :func:`write_table`; blanks become missing values.

    Without ``types`` pandas infers the column types (fine for count tables). With ``types`` (column ->
    JSON Schema type, e.g. from a sheet schema) every column is read as text, so identifiers such as ``001``
    or ``1e5`` stay as written, and only the columns typed ``integer`` or ``number`` are converted.
    """
    if types is None:
        return pd.read_csv(path, keep_default_na=False, na_values=[""], encoding="utf-8")
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    for col in df.columns:
        kind = types.get(col)
        if kind == "integer":
            df[col] = pd.to_numeric(df[col].replace("", None)).astype("Int64")
        elif kind == "number":
            df[col] = pd.to_numeric(df[col].replace("", None)).astype("float64")
        elif kind == "boolean":
            df[col] = df[col].map({"true": True, "false": False}).astype("boolean")
        else:
            df[col] = df[col].where(df[col] != "", None).astype(object)
    return df


OUTPUTS_YAML = Path(__file__).resolve().parents[3] / "schemas" / "outputs.yaml"


@cache
def output_dictionary() -> dict:
    """The data dictionary of the published tables (``workflow/schemas/outputs.yaml``), by file stem."""
    import yaml

    with open(OUTPUTS_YAML, encoding="utf-8") as fh:
        return yaml.safe_load(fh)["tables"]


def output_columns(stem: str) -> list[str]:
    """The columns of a published table, in the order of its CSV, as the registry declares them."""
    return list(output_dictionary()[stem]["columns"])


def output_types(stem: str) -> dict[str, str]:
    """Column -> type of a published table (e.g. ``amstar2_ratings``), for :func:`read_table`."""
    return {col: spec["type"] for col, spec in output_dictionary()[stem]["columns"].items()}
