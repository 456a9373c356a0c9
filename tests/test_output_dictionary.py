"""The data dictionary of the published tables (workflow/schemas/outputs.yaml) against a run of the simulated config:
every table is there with exactly the listed columns in order, values of the stated types and vocabularies, and no
published table is left out of the dictionary."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from umbrella.core.datasets import SHEETS
from umbrella.core.places import place

DICTIONARY = ROOT / "workflow" / "schemas" / "outputs.yaml"
TYPES = {"string", "integer", "number", "boolean"}
COLUMN_KEYS = {"type", "description", "unit", "allowed"}
TABLE_KEYS = {"path", "title", "description", "key", "columns", "rule", "output", "when", "category", "caption"}


def load_tables() -> dict[str, dict]:
    with open(DICTIONARY, encoding="utf-8") as fh:
        tables = yaml.safe_load(fh)["tables"]
    return {name: entry for name, entry in tables.items() if "sheet" not in entry}  # a sheet's own schema


TABLES = load_tables()
#: The extractors of config/simulated.yaml, in its order (the disagreements table has a column for each).
EXTRACTORS = list(
    yaml.safe_load((ROOT / "config/simulated.yaml").read_text(encoding="utf-8"))["double_extraction"]["extractors"]
)


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows as written (text, blanks as empty strings)."""
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def is_integer(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


CHECKS = {
    "integer": is_integer,
    "number": is_number,
    "boolean": lambda text: text in {"true", "false"},
    "string": lambda text: True,
}


# ----------------------------------------------------------------------------------------------------------------
# The dictionary itself


def test_the_dictionary_covers_the_published_tables() -> None:
    assert len(TABLES) == 25


@pytest.mark.parametrize("name", sorted(TABLES))
def test_each_entry_is_complete(name: str) -> None:
    entry = TABLES[name]
    assert set(entry) - {"supplement", "review_columns", "extractor_columns"} == TABLE_KEYS, (
        f"{name}: keys {sorted(entry)}"
    )
    path = Path(entry["path"])
    assert path.parts[0] == "results" and path.suffix == ".csv" and path.stem == name
    for field in ("title", "description"):
        assert isinstance(entry[field], str) and entry[field].strip(), f"{name}: empty {field}"
    columns = entry["columns"]
    assert columns, f"{name}: no columns"
    assert entry["key"] and set(entry["key"]) <= set(columns), f"{name}: key {entry['key']} not among the columns"
    if "review_columns" in entry:  # one column per review after the listed ones, described once
        columns = {**columns, "<review_id>": entry["review_columns"]}
    if "extractor_columns" in entry:  # one column per extractor after `kind`, described once
        columns = {**columns, "<extractor>": entry["extractor_columns"]}
    for column, spec in columns.items():
        where = f"{name}.{column}"
        assert set(spec) <= COLUMN_KEYS, f"{where}: unknown keys {sorted(set(spec) - COLUMN_KEYS)}"
        assert spec.get("type") in TYPES, f"{where}: type {spec.get('type')!r}"
        assert isinstance(spec.get("description"), str) and spec["description"].strip(), f"{where}: no description"
        if "unit" in spec:
            assert isinstance(spec["unit"], str) and spec["unit"].strip(), f"{where}: empty unit"
        if "allowed" in spec:
            allowed = spec["allowed"]
            assert spec["type"] == "string", f"{where}: `allowed` on a {spec['type']} column"
            assert allowed and all(isinstance(v, str) and v for v in allowed), f"{where}: allowed {allowed!r}"
            assert len(set(allowed)) == len(allowed), f"{where}: repeated allowed values"


def test_sheet_tables_are_left_to_the_sheet_schemas() -> None:
    paths = {entry["path"] for entry in TABLES.values()}
    assert not paths & {f"results/extract/{sheet}.csv" for sheet in SHEETS}


# ----------------------------------------------------------------------------------------------------------------
# The dictionary against the tables of a run


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(TABLES))
def test_header_is_the_dictionary_column_list(simulated_run: Path, name: str) -> None:
    entry = TABLES[name]
    path = simulated_run / place(entry["path"], "simulated")
    assert path.is_file(), f"{entry['path']} was not written"
    header, rows = read_csv(path)
    listed = list(entry["columns"])
    if "review_columns" in entry:  # then one column per review, in review_id order
        reviews = read_csv(simulated_run / "results/simulated/overlap/review_studies.csv")[1]
        assert header[len(listed) :] == [r["review_id"] for r in reviews]
        header = header[: len(listed)]
    if "extractor_columns" in entry:  # after `kind`, one column per extractor, in the config's order
        at = listed.index("kind") + 1
        assert header[at : at + len(EXTRACTORS)] == EXTRACTORS
        header = header[:at] + header[at + len(EXTRACTORS) :]
    assert header == listed
    assert rows, f"{entry['path']} has no rows in the simulated run, so its values are not checked"


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(TABLES))
def test_values_have_the_dictionary_types(simulated_run: Path, name: str) -> None:
    entry = TABLES[name]
    header, rows = read_csv(simulated_run / place(entry["path"], "simulated"))
    columns = dict(entry["columns"])
    for extra in ("review_columns", "extractor_columns"):
        if extra in entry:
            columns.update({c: entry[extra] for c in header if c not in columns})
    for column, spec in columns.items():
        check = CHECKS[spec["type"]]
        bad = sorted({row[column] for row in rows if row[column] != "" and not check(row[column])})
        assert not bad, f"{name}.{column} is {spec['type']} but holds {bad[:5]}"


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(TABLES))
def test_values_are_allowed(simulated_run: Path, name: str) -> None:
    entry = TABLES[name]
    _, rows = read_csv(simulated_run / place(entry["path"], "simulated"))
    for column, spec in entry["columns"].items():
        if "allowed" not in spec:
            continue
        outside = sorted({row[column] for row in rows if row[column] != ""} - set(spec["allowed"]))
        assert not outside, f"{name}.{column} holds values not in its allowed list: {outside}"


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(TABLES))
def test_key_identifies_the_rows(simulated_run: Path, name: str) -> None:
    entry = TABLES[name]
    _, rows = read_csv(simulated_run / place(entry["path"], "simulated"))
    counts = Counter(tuple(row[c] for c in entry["key"]) for row in rows)
    repeated = sorted(k for k, n in counts.items() if n > 1)
    assert not repeated, f"{name}: key {entry['key']} repeats {repeated[:5]}"


@pytest.mark.e2e
def test_every_published_table_is_in_the_dictionary(simulated_run: Path) -> None:
    sheet_tables = {f"results/extract/{sheet}.csv" for sheet in SHEETS}
    folder = simulated_run / "results/simulated"  # config/simulated.yaml writes to its own folders
    written = {f"results/{p.relative_to(folder).as_posix()}" for p in folder.rglob("*.csv")}
    documented = {entry["path"] for entry in TABLES.values()}
    assert written - sheet_tables - documented == set(), "tables missing from workflow/schemas/outputs.yaml"
