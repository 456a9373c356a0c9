"""The extraction sheets' JSON Schemas (``workflow/schemas/sheets/<sheet>.schema.yaml``): loading one, and the
columns and column types it declares.

A schema describes one row of its sheet: each property is a column with its type, vocabulary (``enum``, with
case-insensitive ``x-aliases``), pattern, range and text format (``x-format``); ``required`` lists the columns
that must be present and filled; ``x-sheet`` gives the key, the sort order and the row-level checks.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas" / "sheets"


@cache
def load_schema(sheet: str) -> dict:
    """The JSON Schema (as a dict) of one sheet."""
    with open(SCHEMA_DIR / f"{sheet}.schema.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def columns(sheet: str) -> list[str]:
    """The contract columns of a sheet, in schema order."""
    return list(load_schema(sheet)["properties"])


def column_types(sheet: str) -> dict[str, str]:
    """Column -> JSON Schema type of a sheet (for reading its tidy table back with the right types)."""
    return {col: spec.get("type", "string") for col, spec in load_schema(sheet)["properties"].items()}
