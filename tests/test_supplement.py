"""The supplement: numbered tables as CSV and XLSX, figures, data dictionary, data package, manifest, zip;
formula injection neutralised; the workbook opens in LibreOffice."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from umbrella.report.supplement import EXTRA_COLUMN, TableSpec, neutralise, write_xlsx

IN_CI = bool(os.environ.get("CI"))


@pytest.fixture(scope="module")
def run(hostile_run: Path) -> Path:
    """The simulated run with a formula (conftest.FORMULA) in the first review's population, and markup elsewhere."""
    return hostile_run


@pytest.mark.e2e
def test_numbered_tables_figures_and_files(run: Path) -> None:
    folder = run / "reports/simulated/supplement"
    tables = sorted(p.name for p in (folder / "tables").glob("*.csv"))
    for expected in ("S1_characteristics.csv", "S2_amstar2_answers.csv", "S3a_amstar2_ratings.csv",
                     "S4b_overlap_pairwise.csv", "S5a_review_effects.csv", "S6a_reanalysis.csv",
                     "S7_implementation.csv", "S8_experiences.csv"):  # fmt: skip
        assert expected in tables
    figures = sorted(p.name for p in (folder / "figures").iterdir())
    assert "amstar2_matrix.svg" in figures and "amstar2_matrix.png" in figures
    assert any(name.startswith("forest_") and name.endswith(".png") for name in figures)
    png = (folder / "figures/amstar2_matrix.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    for name in ("supplement.xlsx", "data_dictionary.csv", "datapackage.json", "README.md", "MANIFEST.sha256",
                 "provenance.json"):  # fmt: skip
        assert (folder / name).is_file(), name


@pytest.mark.e2e
def test_manifest_and_zip(run: Path) -> None:
    folder = run / "reports/simulated/supplement"
    lines = (folder / "MANIFEST.sha256").read_text(encoding="utf-8").splitlines()
    listed = {}
    for line in lines:
        digest, name = line.split("  ", 1)
        listed[name] = digest
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    with zipfile.ZipFile(run / "reports/simulated/supplement.zip") as z:
        names = z.namelist()
        assert {f"supplement/{n}" for n in listed} | {"supplement/MANIFEST.sha256"} == set(names)
        assert {info.date_time for info in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


@pytest.mark.e2e
def test_every_column_is_in_the_data_dictionary(run: Path) -> None:
    folder = run / "reports/simulated/supplement"
    dictionary = pd.read_csv(folder / "data_dictionary.csv", keep_default_na=False)
    for table in (folder / "tables").glob("*.csv"):
        header = list(pd.read_csv(table, nrows=0).columns)
        documented = dictionary.loc[dictionary["table"] == table.stem, "column"].tolist()
        assert documented == header, table.name
    assert (dictionary["description"] != "").all()


@pytest.mark.e2e
def test_every_column_is_described_with_its_true_type(run: Path) -> None:
    """No column of a table the pipeline computes falls back to the description of a sheet's extra column, and
    each column's type holds for its values: the workbook stores integers and numbers as numbers, not text."""
    from openpyxl import load_workbook

    folder = run / "reports/simulated/supplement"
    dictionary = pd.read_csv(folder / "data_dictionary.csv", keep_default_na=False, dtype=str)
    assert not (dictionary["description"] == EXTRA_COLUMN).any(), dictionary.loc[
        dictionary["description"] == EXTRA_COLUMN, ["table", "column"]
    ].to_string()
    workbook = load_workbook(folder / "supplement.xlsx", read_only=True)
    sheets = {name.split(" ", 1)[0]: workbook[name] for name in workbook.sheetnames}
    checks = {
        "integer": lambda v: re.fullmatch(r"-?\d+", v) is not None,
        "number": lambda v: re.fullmatch(r"-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?|-?inf|nan", v, re.I) is not None,
        "boolean": lambda v: v in {"true", "false"},
    }
    typed = 0
    for table, columns in dictionary.groupby("table", sort=False):
        values = pd.read_csv(folder / f"tables/{table}.csv", dtype=str, keep_default_na=False)
        label = table.split("_", 1)[0]
        rows = list(sheets[label].iter_rows(min_row=2, values_only=True))
        for j, (column, kind) in enumerate(zip(columns["column"], columns["type"], strict=True)):
            filled = [v for v in values[column] if v != ""]
            if kind in checks:
                bad = [v for v in filled if not checks[kind](v)]
                assert not bad, f"{table}.{column} is {kind} but holds {bad[:3]}"
                cells = [row[j] for row in rows if j < len(row) and row[j] is not None]  # trailing blanks are not read
                python = bool if kind == "boolean" else (int, float)
                assert all(isinstance(c, python) and not isinstance(c, str) for c in cells), f"{table}.{column}"
                typed += bool(filled)
            elif filled and all(checks["number"](v) for v in filled):
                # a text column whose every value is a number is a number described as text, unless it is an
                # identifier or code the dictionary lists the values of
                assert columns["allowed_values"].iloc[j] or column.endswith(("_id", "item", "year")), (
                    f"{table}.{column} is described as text but holds only numbers"
                )
    assert typed > 100  # the check ran on the numeric columns of every computed table


@pytest.mark.e2e
def test_no_snakemake_marker_in_the_supplement(run: Path) -> None:
    folder = run / "reports/simulated/supplement"
    assert not (folder / ".snakemake_timestamp").exists()
    listed = (folder / "MANIFEST.sha256").read_text(encoding="utf-8") + (folder / "README.md").read_text()
    with zipfile.ZipFile(run / "reports/simulated/supplement.zip") as z:
        assert not any(name.rsplit("/", 1)[-1].startswith(".") for name in z.namelist())
    assert ".snakemake" not in listed


@pytest.mark.e2e
def test_data_package_validates(run: Path) -> None:
    frictionless = pytest.importorskip("frictionless")
    report = frictionless.validate(run / "reports/simulated/supplement/datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:20]


@pytest.mark.e2e
def test_formula_injection_is_neutralised(run: Path) -> None:
    from openpyxl import load_workbook

    s1 = pd.read_csv(run / "reports/simulated/supplement/tables/S1_characteristics.csv", keep_default_na=False)
    assert '\'=HYPERLINK("http://x")' in s1["population"].tolist()
    sheet = load_workbook(run / "reports/simulated/supplement/supplement.xlsx")["S1 characteristics"]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.value.startswith("'") and c.data_type == "s" for c in cells)
    reviews = pd.DataFrame({"title": ["=1+2", "+cmd", "-2+3", "@SUM(A1)", "plain", "-"], "n": [1, 2, 3, 4, 5, 6]})
    safe = neutralise(reviews)
    assert safe["title"].tolist() == ["'=1+2", "'+cmd", "'-2+3", "'@SUM(A1)", "plain", "'-"]
    assert safe["n"].tolist() == [1, 2, 3, 4, 5, 6]


def test_xlsx_has_one_frozen_sheet_per_table_and_no_formulas(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    frame = neutralise(pd.DataFrame({"a": ["=SUM(1)", "x"], "b": [1.5, None]}))
    write_xlsx([(TableSpec("S1", "t", "T", "x"), frame), (TableSpec("S2", "u", "U", "x"), frame)], tmp_path / "w.xlsx")
    first = (tmp_path / "w.xlsx").read_bytes()
    write_xlsx([(TableSpec("S1", "t", "T", "x"), frame), (TableSpec("S2", "u", "U", "x"), frame)], tmp_path / "v.xlsx")
    assert first == (tmp_path / "v.xlsx").read_bytes()
    wb = load_workbook(tmp_path / "w.xlsx")
    assert wb.sheetnames == ["S1 t", "S2 u"]
    ws = wb["S1 t"]
    assert ws.freeze_panes == "A2"
    assert ws["A2"].value == "'=SUM(1)" and ws["A2"].data_type == "s"
    assert ws["B2"].value == 1.5 and ws["B3"].value is None


@pytest.mark.e2e
@pytest.mark.browser
@pytest.mark.skipif(not shutil.which("soffice") and not IN_CI, reason="LibreOffice not installed (CI installs it)")
def test_the_workbook_opens_in_libreoffice(run: Path, tmp_path: Path) -> None:
    workbook = run / "reports/simulated/supplement/supplement.xlsx"
    result = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to", "csv",
         "--outdir", str(tmp_path), str(workbook)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    converted = pd.read_csv(tmp_path / "supplement.csv", keep_default_na=False)
    original = pd.read_csv(run / "reports/simulated/supplement/tables/S1_characteristics.csv", keep_default_na=False)
    assert list(converted.columns) == list(original.columns)  # the first sheet, S1
    assert len(converted) == len(original) == 35
    assert converted["review_id"].tolist() == original["review_id"].tolist()
