"""The extraction workbook (`make workbook OUT=...`): its worksheets, notes, dropdowns and number bounds as the
schemas and the config give them, its bytes, LibreOffice keeping its dropdowns, the workflow reading it back
filled with the simulated sheets, and edits that break it reported by worksheet, row and column."""

from __future__ import annotations

import filecmp
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from conftest import IN_CI, ROOT, copy_workflow, snakemake
from openpyxl.utils import get_column_letter
from test_workbook_input import _cell
from umbrella.core.config import load_config, vocabularies
from umbrella.core.datasets import SHEETS, filled_worksheets, find_sheets
from umbrella.core.errors import InputError
from umbrella.core.sheet_schemas import column_types, load_schema
from umbrella.core.sheets import load_dataset
from umbrella.extract.workbook import LAST_ROW, LISTS, READ_ME, main

SIMULATED = ROOT / "data/raw/simulated"
CONFIG = "config/simulated.yaml"
CFIR = ["innovation", "outer_setting", "inner_setting", "individuals", "implementation_process"]
QUESTIONS = ["effectiveness", "implementation", "experiences"]


def make(out: Path, config: str = CONFIG, *more: str) -> int:
    return main([str(out), "--config", str(ROOT / config), *more])


@pytest.fixture(scope="module")
def blank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("blank") / "extraction.xlsx"
    assert make(path) == 0
    return path


def fill(blank: Path, folder: Path, out: Path, sheets: list[str] | None = None) -> Path:
    """The blank workbook filled with ``folder``'s CSV sheets as a reviewer types them: text columns as text,
    number columns as numbers; a CSV column the header lacks is added after the last one."""
    wb = openpyxl.load_workbook(blank)
    for csv in sorted(folder.glob("*.csv")):
        if csv.stem not in SHEETS or (sheets is not None and csv.stem not in sheets):
            continue
        frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
        ws, types = wb[csv.stem], column_types(csv.stem)
        header = [c.value for c in ws[1]]
        for name in frame.columns:
            if name not in header:
                header.append(name)
                ws.cell(row=1, column=len(header), value=name)
        at = [header.index(name) + 1 for name in frame.columns]
        for i, row in enumerate(frame.itertuples(index=False), start=2):
            for j, name, text in zip(at, frame.columns, row, strict=True):
                if text != "":
                    ws.cell(row=i, column=j, value=text if types.get(name, "string") == "string" else _cell(text))
    wb.save(out)
    return out


@pytest.fixture(scope="module")
def filled(blank: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fill(blank, SIMULATED, tmp_path_factory.mktemp("filled") / "simulated.xlsx")


def expected_values(sheet: str, spec: dict) -> list[str] | None:
    source = spec.get("x-enum-from-config")
    if source:
        return vocabularies(load_config(ROOT / CONFIG))[source]
    return spec.get("enum")


def header(ws) -> list[str]:
    return [c.value for c in ws[1]]


def validation_of(ws, cell: str):
    found = [dv for dv in ws.data_validations.dataValidation if cell in dv.sqref]
    assert len(found) <= 1, f"{ws.title}!{cell} has {len(found)} validations"
    return found[0] if found else None


def list_values(wb, formula: str) -> list[str]:
    """The values of a list validation's range (``'_lists'!$B$2:$B$4``, as LibreOffice writes it or not)."""
    m = re.fullmatch(r"'?([^'!]+)'?!\$?([A-Z]+)\$?(\d+):\$?([A-Z]+)\$?(\d+)", formula.lstrip("="))
    assert m, formula
    sheet, c1, r1, c2, r2 = m.groups()
    assert sheet == LISTS and c1 == c2
    return [str(row[0].value) for row in wb[sheet][f"{c1}{r1}:{c2}{r2}"]]


def dropdowns(wb) -> dict[tuple[str, str], tuple[str, list[str], str]]:
    """(sheet, column) -> (the range it covers, its values, its error style) of every list validation."""
    found = {}
    for sheet in SHEETS:
        ws = wb[sheet]
        names = header(ws)
        for dv in ws.data_validations.dataValidation:
            if dv.type != "list":
                continue
            for rng in dv.sqref.ranges:
                name = names[rng.min_col - 1] if rng.min_col == rng.max_col else "review columns"
                found[(sheet, name)] = (rng.coord, list_values(wb, dv.formula1), dv.errorStyle)
    return found


# ----------------------------------------------------------------------------------------------------------------
# What the workbook holds


def test_worksheets_headers_and_notes_follow_the_schemas(blank: Path) -> None:
    wb = openpyxl.load_workbook(blank)
    assert wb.sheetnames == [READ_ME, *SHEETS, LISTS]
    assert wb[LISTS].sheet_state == "hidden" and wb[READ_ME].sheet_state == "visible"
    for sheet in SHEETS:
        ws, schema = wb[sheet], load_schema(sheet)
        props = schema["properties"]
        names = ["study_id"] if sheet == "citation_matrix" else list(props)
        assert header(ws) == names and ws.max_row == 1, sheet
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:{ws.cell(1, len(names)).column_letter}1"
        for cell in ws[1]:
            spec, required = props[cell.value], cell.value in schema["required"]
            note = cell.comment.text
            assert " ".join(spec["description"].replace("`", "'").split()) in note  # code marks as quotes
            assert ("Required: a value in every row." in note) == required
            for example in spec.get("examples", []):
                assert str(example) in note
            assert cell.font.bold
            dark = cell.fill.start_color.rgb.endswith("1F4E78")
            assert dark == required, f"{sheet}.{cell.value}"
            kind = spec.get("type", "string")
            assert ws.column_dimensions[cell.column_letter].number_format == ("@" if kind == "string" else "General")
            assert 10 <= ws.column_dimensions[cell.column_letter].width <= 40
    answer = wb["amstar2"]["C1"].comment.text
    assert "Allowed: one of Y, PY, N, NMA." in answer and "Type: text." in answer and "Example: PY." in answer
    assert "Allowed: from 1 to 16." in wb["amstar2"]["B1"].comment.text
    matrix = wb["citation_matrix"]["A1"].comment.text
    assert "one column per review to the right, headed by its review_id" in matrix


def test_every_vocabulary_column_has_a_dropdown_of_its_values(blank: Path) -> None:
    wb = openpyxl.load_workbook(blank)
    found = dropdowns(wb)
    expected = {}
    for sheet in SHEETS:
        names = header(wb[sheet])
        for name, spec in load_schema(sheet)["properties"].items():
            values = expected_values(sheet, spec)
            if values and name in names:
                letter = openpyxl.utils.get_column_letter(names.index(name) + 1)
                style = "warning" if spec.get("x-list-separator") else "stop"
                expected[(sheet, name)] = (f"{letter}2:{letter}{LAST_ROW}", values, style)
    expected[("citation_matrix", "review columns")] = (f"B2:XFD{LAST_ROW}", ["1", "0", "NA"], "stop")
    assert found == expected
    assert found[("amstar2", "answer")][1] == ["Y", "PY", "N", "NMA"]
    assert found[("reviews", "research_questions")][1] == QUESTIONS
    assert found[("implementation", "cfir_domain")][1] == CFIR
    rq = validation_of(wb["reviews"], "H2")
    assert "type several separated by ';'" in rq.error and rq.showErrorMessage
    assert validation_of(wb["amstar2"], "C2").error == "Allowed: Y, PY, N, NMA. Pick one from the list."
    for sheet in SHEETS:  # Excel refuses longer titles and messages
        for dv in wb[sheet].data_validations.dataValidation:
            assert len(dv.promptTitle or "") <= 32 and len(dv.errorTitle or "") <= 32
            assert len(dv.prompt or "") <= 255 and len(dv.error or "") <= 255
            assert not any(rng.min_row == 1 for rng in dv.sqref.ranges)  # the header is free


def test_number_columns_are_validated_within_their_bounds(blank: Path) -> None:
    wb = openpyxl.load_workbook(blank)

    def rule(sheet: str, column: str):
        ws = wb[sheet]
        letter = openpyxl.utils.get_column_letter(header(ws).index(column) + 1)
        dv = validation_of(ws, f"{letter}2")
        assert dv is not None and f"{letter}{LAST_ROW}" in dv.sqref
        return dv.type, dv.operator, dv.formula1, dv.formula2, dv.errorStyle

    assert rule("amstar2", "item") == ("whole", "between", "1", "16", "stop")
    assert rule("reviews", "year") == ("whole", "between", "1900", "2100", "stop")
    assert rule("reviews", "n_primary_studies") == ("whole", "greaterThanOrEqual", "0", None, "stop")
    assert rule("effects", "i2") == ("decimal", "between", "0", "100", "stop")
    assert rule("study_effects", "se") == ("decimal", "greaterThan", "0", None, "stop")
    assert rule("study_effects", "pre_post_cor") == ("decimal", "between", "-1", "1", "stop")
    assert rule("study_effects", "n_sample") == ("whole", "greaterThanOrEqual", "4", None, "stop")
    assert rule("effects", "ci_level")[:4] == ("decimal", "between", "50", "100")
    ws = wb["effects"]
    estimate = openpyxl.utils.get_column_letter(header(ws).index("estimate") + 1)
    assert validation_of(ws, f"{estimate}2") is None  # any number: no bounds
    assert "greater than 50 and less than 100" in ws[f"{chr(ord(estimate) + 3)}1"].comment.text  # ci_level


def test_read_me_tells_how_to_fill_it_in_and_run_it(blank: Path) -> None:
    wb = openpyxl.load_workbook(blank)
    text = "\n".join(str(c.value) for row in wb[READ_ME].iter_rows() for c in row if c.value is not None)
    config = load_config(ROOT / CONFIG)
    assert config["title"] in text and "data: data/raw/myreview.xlsx" in text
    for sheet in SHEETS:
        assert f"\n{sheet}\n" in text
    for key in [*QUESTIONS, *CFIR]:
        assert key in text
    assert "amstar2.answer\none of Y, PY, N, NMA" in text
    assert "reviews.research_questions\none or more of effectiveness, implementation, experiences" in text
    assert "A dark header marks a required column" in text


def test_the_same_config_gives_the_same_bytes(blank: Path, tmp_path: Path) -> None:
    assert make(tmp_path / "again.xlsx") == 0
    assert (tmp_path / "again.xlsx").read_bytes() == blank.read_bytes()
    assert make(tmp_path / "default.xlsx", "config/config.yaml") == 0
    assert (tmp_path / "default.xlsx").read_bytes() != blank.read_bytes()  # another title: other bytes
    with zipfile.ZipFile(blank) as zf:
        assert {info.date_time for info in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = zf.read("docProps/core.xml").decode()
    assert core.count("1980-01-01T00:00:00Z") == 2


def test_an_existing_file_is_kept_and_a_bad_config_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "mine.xlsx"
    out.write_bytes(b"filled in already")
    assert make(out) == 2
    assert out.read_bytes() == b"filled in already"
    assert "exists already" in capsys.readouterr().err
    assert make(out, CONFIG, "--force") == 0 and zipfile.is_zipfile(out)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"data": "x"}), encoding="utf-8")
    assert main([str(tmp_path / "new.xlsx"), "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"The configuration {bad} has problems" in err and "'title' is a required property" in err
    assert not (tmp_path / "new.xlsx").exists()


# ----------------------------------------------------------------------------------------------------------------
# Read back


def test_a_blank_workbook_is_an_empty_reviews_sheet(blank: Path) -> None:
    files, problems = find_sheets(blank)
    assert list(files) == ["reviews"] and not problems
    with pytest.raises(InputError) as exc:
        load_dataset(blank, {"research_questions": QUESTIONS})
    assert [p.describe() for p in exc.value.problems] == [
        f"{blank}, worksheet 'reviews': the reviews sheet has no rows (only a header)"
    ]


def test_worksheets_left_with_their_header_are_sheets_not_given(blank: Path, tmp_path: Path) -> None:
    book = fill(blank, SIMULATED, tmp_path / "two.xlsx", ["reviews", "effects"])
    folder = tmp_path / "two"
    folder.mkdir()
    for sheet in ("reviews", "effects"):
        shutil.copy(SIMULATED / f"{sheet}.csv", folder)
    files, problems = find_sheets(book)
    assert list(files) == ["reviews", "effects"] and not problems
    vocab = vocabularies(load_config(ROOT / CONFIG))
    from_book, from_folder = load_dataset(book, vocab), load_dataset(folder, vocab)
    assert list(from_book) == list(from_folder) == ["reviews", "effects"]
    for name, sheet in from_folder.items():
        pd.testing.assert_frame_equal(from_book[name].table, sheet.table, obj=name)


def test_the_filled_workbook_gives_the_tables_of_the_csv_folder(filled: Path) -> None:
    vocab = vocabularies(load_config(ROOT / CONFIG))
    from_book, from_csv = load_dataset(filled, vocab), load_dataset(SIMULATED, vocab)
    assert list(from_book) == list(from_csv)  # citation_matrix, left blank, is not given
    for name, sheet in from_csv.items():
        pd.testing.assert_frame_equal(from_book[name].table, sheet.table, obj=name)


# ----------------------------------------------------------------------------------------------------------------
# Edits that break it


def problems_of(book: Path) -> list[str]:
    with pytest.raises(InputError) as exc:
        load_dataset(book, vocabularies(load_config(ROOT / CONFIG)))
    return [p.describe() for p in exc.value.problems]


def test_a_renamed_worksheet_is_named(filled: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(filled)
    wb["reviews"].title = "Reveiws"
    wb.save(book := tmp_path / "renamed.xlsx")
    found = problems_of(book)
    assert f"{book}: worksheet 'Reveiws' is not a sheet name; rename it to 'reviews' if it is the reviews sheet, " in (
        "\n".join(found)
    )
    assert any(line.startswith(f"{book}: the required worksheet `reviews` is missing") for line in found)


def test_a_deleted_header_of_a_required_column_is_named(filled: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(filled)
    ws = wb["effects"]
    column = header(ws).index("outcome") + 1
    ws.cell(row=1, column=column).value = None
    wb.save(book := tmp_path / "deleted.xlsx")
    assert problems_of(book) == [
        f"{book}, worksheet 'effects', row 1, column outcome: required column is missing",
        f"{book}, worksheet 'effects', row 1: column {get_column_letter(column)} has values but no header",
    ]


def test_a_value_typed_over_a_dropdown_is_named(filled: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(filled)
    ws = wb["amstar2"]
    ws.cell(row=5, column=header(ws).index("answer") + 1).value = "Maybe"
    wb.save(book := tmp_path / "maybe.xlsx")
    (line,) = problems_of(book)
    assert line.startswith(f"{book}, worksheet 'amstar2', row 5, column answer: 'Maybe': ")
    assert "Y, PY, N, NMA" in line


# ----------------------------------------------------------------------------------------------------------------
# LibreOffice and the workflow


@pytest.mark.browser
@pytest.mark.skipif(not shutil.which("soffice") and not IN_CI, reason="LibreOffice not installed (CI installs it)")
def test_libreoffice_keeps_the_dropdowns(blank: Path, tmp_path: Path) -> None:
    """LibreOffice opens the workbook and saves it with its dropdowns (same columns, same lists, same error
    styles), number validations, headers and hidden list worksheet. The frozen header cannot be checked this
    way: a headless conversion writes no sheet view (pane, selection) for any workbook, frozen or not."""
    result = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to", "xlsx",
         "--outdir", str(tmp_path / "lo"), str(blank)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    ours, theirs = openpyxl.load_workbook(blank), openpyxl.load_workbook(tmp_path / "lo" / blank.name)
    assert theirs.sheetnames == ours.sheetnames and theirs[LISTS].sheet_state == "hidden"
    kept, made = dropdowns(theirs), dropdowns(ours)
    assert kept.keys() == made.keys()
    for key, (coord, values, style) in made.items():
        # LibreOffice writes a validation down to 1,000 rows below the last row in use (each save extends it)
        start, _, end = kept[key][0].partition(":")
        assert start == coord.partition(":")[0] and int(re.sub(r"\D", "", end)) >= 1001, key
        assert kept[key][1:] == (values, style), key
    for sheet in SHEETS:
        assert header(theirs[sheet]) == header(ours[sheet])
        assert numbers(theirs[sheet]) == numbers(ours[sheet]), sheet


def numbers(ws) -> dict[str, tuple]:
    """The first cell of each whole-number or decimal validation -> its type, operator and bounds (LibreOffice
    writes a second bound of 0 where the operator has one bound)."""
    found = {}
    for dv in ws.data_validations.dataValidation:
        if dv.type in ("whole", "decimal"):
            operator = dv.operator or "between"
            second = dv.formula2 if operator in ("between", "notBetween") else None
            found[str(dv.sqref).partition(":")[0]] = (dv.type, operator, dv.formula1, second)
    return found


@pytest.mark.e2e
def test_workflow_on_the_filled_workbook_gives_the_results_of_the_csv_sheets(
    simulated_run: Path, blank: Path, tmp_path: Path
) -> None:
    work = copy_workflow(tmp_path / "work")
    fill(blank, SIMULATED, work / "data/simulated.xlsx")
    shutil.rmtree(work / "data/raw/simulated")  # the workbook is all there is to read
    config = yaml.safe_load((work / "config/simulated.yaml").read_text(encoding="utf-8"))
    config["data"] = "data/simulated.xlsx"
    config["name"] = "simulated"  # the folders of the CSV run, to compare file by file
    (work / "config/workbook.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    result = snakemake(work, "--cores", "2", "--configfile", "config/workbook.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    expected = sorted(p.relative_to(simulated_run) for p in (simulated_run / "results/simulated").rglob("*.csv"))
    got = sorted(p.relative_to(work) for p in (work / "results/simulated").rglob("*.csv"))
    assert got == expected and expected
    differ = [str(p) for p in expected if not filecmp.cmp(simulated_run / p, work / p, shallow=False)]
    assert not differ
    # what the run read is named by its workbook and worksheet
    sheets = json.loads((work / "results/simulated/provenance.json").read_text(encoding="utf-8"))["sheets"]
    assert sheets["effects"]["file"] == "data/simulated.xlsx" and sheets["effects"]["worksheet"] == "effects"
    assert len({entry["sha256"] for entry in sheets.values()}) == 1
    report = (work / "reports/simulated/umbrella_review.html").read_text(encoding="utf-8")
    assert "<code>data/simulated.xlsx, worksheet &#39;effects&#39;</code>" in report


def test_a_worksheet_is_filled_from_its_second_row_holding_a_value(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    rows = {
        "header": [["review_id", "outcome"]],
        "empty": [],
        "blank_row": [["review_id"], ["   "]],  # an inline string of spaces is no value
        "row": [["review_id"], [], ["A2019"]],
        "zero": [["n"], [0]],
        "formula": [["n"], ["=1+1"]],  # a formula is a value (reading it says whether it was computed)
        "late_header": [[], [], ["review_id"]],
    }
    wb.remove(wb.active)
    for name, content in rows.items():
        ws = wb.create_sheet(name)
        for i, row in enumerate(content, start=1):
            for j, value in enumerate(row, start=1):
                ws.cell(row=i, column=j, value=value)
    wb.save(path := tmp_path / "b.xlsx")
    assert filled_worksheets(path) == ["row", "zero", "formula"]
