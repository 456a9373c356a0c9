"""Every text that leaves the pipeline for a spreadsheet is escaped, column names included: CSV and XLSX, every
table and column. Numbers stay numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from conftest import snakemake
from umbrella.core.tables import FORMULA_START, spreadsheet_text, write_rows
from umbrella.report.supplement import TableSpec, write_xlsx

#: Hostile column names and cells: each starts a formula in a spreadsheet unless escaped.
HOSTILE = ['=HYPERLINK("http://x","click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


def _is_formula_like(text: str) -> bool:
    """A text a spreadsheet would run: it starts like a formula and is not a plain number."""
    if not text.startswith(FORMULA_START):
        return False
    try:
        float(text)
    except ValueError:
        return True
    return False


def test_spreadsheet_text() -> None:
    for text in HOSTILE:
        assert spreadsheet_text(text) == "'" + text
        assert spreadsheet_text(spreadsheet_text(text)) == "'" + text  # twice changes nothing more
    for text in ("plain", "", "'quoted", "a=b", "1-2"):
        assert spreadsheet_text(text) == text


def _hostile_frame() -> pd.DataFrame:
    frame = pd.DataFrame({name: [HOSTILE[i], f"ok {i}"] for i, name in enumerate(HOSTILE)})
    frame["estimate"] = [-0.5, 1.25]  # numbers, negative ones included
    frame["k"] = pd.array([-3, 4], dtype="Int64")
    frame["flag"] = [True, False]
    return frame


@pytest.mark.parametrize("mixed", [False, True], ids=["fast path", "pandas path"])
def test_csv_writer_escapes_headers_and_text(mixed: bool) -> None:
    frame = _hostile_frame().drop(columns=["\r=1+1"])  # a carriage return is the sheet reader's to clean
    if mixed:
        frame["odd"] = [pd.Timestamp("2020-01-01"), "=1+1"]  # a column the fast path does not handle
    buffer = io.StringIO()
    write_rows(frame, buffer, escape=True)
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    header, body = rows[0], rows[1:]
    assert header[:5] == ["'" + name for name in HOSTILE[:5]]
    assert not any(_is_formula_like(cell) for row in rows for cell in row)
    assert [row[header.index("estimate")] for row in body] == ["-0.5", "1.25"]
    assert [row[header.index("k")] for row in body] == ["-3", "4"]
    # without escape (the pipeline's own tables, read back by its next steps) nothing changes
    plain = io.StringIO()
    write_rows(frame, plain)
    assert next(csv.reader(io.StringIO(plain.getvalue())))[:5] == HOSTILE[:5]


@pytest.mark.parametrize("streamed", [True, False], ids=["streamed rows", "openpyxl rows"])
def test_workbook_writer_escapes_headers_and_text(streamed: bool, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    frame = _hostile_frame()
    if not streamed:
        frame["estimate"] = [float("inf"), -0.5]  # an infinity sends the sheet through openpyxl's own writer
    path = tmp_path / "book.xlsx"
    write_xlsx([(TableSpec("S1", "hostile", "Hostile", "x"), frame)], path)
    ws = load_workbook(path)["S1 hostile"]
    rows = list(ws.iter_rows())
    for cell in rows[0]:
        assert cell.data_type == "s" and not _is_formula_like(cell.value)
    assert [c.value for c in rows[0][: len(HOSTILE)]] == ["'" + name for name in HOSTILE]
    for row in rows[1:]:
        for cell in row[: len(HOSTILE)]:
            assert cell.data_type == "s" and not _is_formula_like(cell.value)
    column = [c.value for c in rows[0]].index("estimate")
    estimates = [(row[column].data_type, row[column].value) for row in rows[1:]]
    assert ("n", -0.5) in estimates
    k = [c.value for c in rows[0]].index("k")
    assert rows[1][k].data_type == "n" and rows[1][k].value == -3


@pytest.mark.e2e
def test_hostile_extra_columns_of_every_sheet_reach_the_supplement_as_text(
    simulated_run: Path, copy_run: Callable[[Path], Path]
) -> None:
    from openpyxl import load_workbook

    work = copy_run(simulated_run)
    data = work / "data/raw/simulated"
    for sheet in sorted(data.glob("*.csv")):
        table = pd.read_csv(sheet, dtype=str, keep_default_na=False)
        for i, name in enumerate(HOSTILE[:4]):  # tab and carriage return are the sheet reader's to clean
            table[name] = [HOSTILE[(i + j) % 4] for j in range(len(table))]
        table.to_csv(sheet, index=False, lineterminator="\n")
    result = snakemake(work, "--cores", "2", "--configfile", "config/simulated.yaml")
    assert result.returncode == 0, result.stderr[-3000:]

    supplement = work / "reports/simulated/supplement"
    escaped = {}
    for table in sorted((supplement / "tables").glob("*.csv")):
        with open(table, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        bad = [cell for row in rows for cell in row if _is_formula_like(cell)]
        assert not bad, f"{table.name}: {bad[:3]}"
        escaped[table.name] = [name for name in rows[0] if name.startswith("'")]
    # the sheet reader writes column names in lower case with _ for spaces and a leading minus; the answers
    # table carries the extra columns of the AMSTAR-2 sheet, the others have columns of their own
    assert [name[:11].lower() for name in escaped["S2_amstar2_answers.csv"]] == [
        "'=hyperlink",
        "'+cmd|'_/c_",
        "'@sum(a1:a9",
    ]
    with open(supplement / "data_dictionary.csv", encoding="utf-8", newline="") as fh:
        assert not [cell for row in csv.reader(fh) for cell in row if _is_formula_like(cell)]

    book = load_workbook(supplement / "supplement.xlsx")
    numbers = 0
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate}: {cell.value!r}"
                if cell.data_type == "s":
                    assert not _is_formula_like(cell.value), f"{ws.title}!{cell.coordinate}: {cell.value!r}"
                numbers += cell.data_type == "n"
    assert numbers > 100  # numeric columns stay numbers
    answers = next(ws for ws in book.worksheets if "amstar2" in ws.title.lower() and "answer" in ws.title.lower())
    header = [c.value for c in next(answers.iter_rows())]
    assert any(name.lower().startswith("'=hyperlink(") for name in header)
