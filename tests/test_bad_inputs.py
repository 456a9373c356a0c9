"""A corpus of bad inputs: each kind of bad sheet, cell, workbook or config gets one clear message naming the
file, row and column (or key) and the value, or (for text that can be cleaned) a note, never a traceback or a
silent acceptance.

Each case is a small sheet folder written in tmp_path and read by the package's reading and validation functions
(no Snakemake), so the corpus runs in the quick test target; the few end-to-end checks are marked ``e2e``.
"""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml
from conftest import ROOT, WORKFLOW_PARTS
from umbrella.core.config import load_config, validate_config, vocabularies
from umbrella.core.datasets import find_sheets
from umbrella.core.errors import InputError
from umbrella.core.sheets import load_files

VOCABULARIES = vocabularies(validate_config(yaml.safe_load((ROOT / "config/config.yaml").read_text("utf-8"))))

#: A small valid dataset: every sheet that refers to another, each row valid.
BASE: dict[str, list[list[str]]] = {
    "reviews": [
        ["review_id", "first_author", "year", "review_type", "research_questions", "n_participants", "doi",
         "search_end"],
        ["R1", "Smith", "2019", "sr_meta_analysis", "effectiveness", "100", "10.1/abc", "2018-06"],
        ["R2", "Jones", "2020", "scoping", "implementation", "50", "", "2019"],
    ],
    "amstar2": [
        ["review_id", "item", "answer"],
        ["R1", "1", "Y"],
        ["R1", "2", "PY"],
    ],
    "effects": [
        ["effect_id", "review_id", "outcome", "measure", "estimate", "ci_lower", "ci_upper", "ci_level", "p_value",
         "i2", "k_studies", "n_participants"],
        ["E1", "R1", "Depression", "SMD", "-0.3", "-0.5", "-0.1", "", "0.01", "40%", "5", "300"],
        ["E2", "R1", "Anxiety", "OR", "0.8", "0.6", "1.1", "", "< 0.001", "", "3", "200"],
    ],
    "studies": [
        ["review_id", "study_id", "study_year"],
        ["R1", "S1", "2010"],
        ["R1", "S2", "2012"],
        ["R2", "S1", "2010"],
    ],
    "study_effects": [
        ["outcome", "review_id", "study_id", "measure", "estimate", "se", "n_treat", "sd_treat", "pre_post_cor"],
        ["Depression", "R1", "S1", "SMD", "-0.2", "0.1", "", "", ""],
        ["Depression", "R1", "S2", "SMD", "-0.4", "0.15", "", "", ""],
    ],
    "implementation": [
        ["review_id", "cfir_domain", "role"],
        ["R2", "inner_setting", "barrier"],
    ],
}  # fmt: skip


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    frame = pd.DataFrame(rows[1:], columns=rows[0])
    frame.to_csv(path, index=False, lineterminator="\n")
    return path


def dataset(folder: Path, changes: dict[str, list[list[str]]] | None = None) -> Path:
    """The base dataset in ``folder``, with some sheets replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in {**BASE, **(changes or {})}.items():
        if rows is not None:
            write_csv(folder / f"{name}.csv", rows)
    return folder


def edited(sheet: str, row: int, column: str, value: str) -> dict[str, list[list[str]]]:
    """The base sheet with the cell of spreadsheet row ``row`` (header = 1) in ``column`` set to ``value``."""
    rows = [list(r) for r in BASE[sheet]]
    rows[row - 1][rows[0].index(column)] = value
    return {sheet: rows}


def message_of(folder: Path) -> str:
    """The message of reading and validating the sheets in ``folder`` ('' when they pass)."""
    files, problems = find_sheets(folder)
    try:
        if problems:
            raise InputError(problems)
        load_files(files, VOCABULARIES)
    except InputError as exc:
        return exc.format()
    return ""


def test_the_base_dataset_is_valid(tmp_path: Path) -> None:
    assert message_of(dataset(tmp_path / "data")) == ""


# (sheet, spreadsheet row, column, bad value, words the message must hold)
CELLS = [
    # non-finite numbers, everywhere numbers are read
    ("study_effects", 2, "se", "Infinity", "is not a finite number"),
    ("study_effects", 3, "se", "inf", "is not a finite number"),
    ("study_effects", 2, "sd_treat", "-inf", "is not a finite number"),
    ("effects", 2, "ci_lower", "-Infinity", "is not a finite number"),
    ("effects", 2, "ci_upper", "inf", "is not a finite number"),
    ("effects", 2, "estimate", "1e999", "is not a finite number"),
    ("effects", 2, "estimate", "nan", "is not a number"),
    ("reviews", 2, "n_participants", "1e999", "is not a finite number"),
    ("reviews", 2, "n_participants", "1e300", "is too large"),
    ("effects", 2, "n_participants", "-1e999", "is not a finite number"),
    ("studies", 2, "study_year", "NaN", "is not a number"),
    # p-values as printed
    ("effects", 2, "p_value", "1.5", "is not a p-value"),
    ("effects", 2, "p_value", "abc", "is not a p-value"),
    ("effects", 2, "p_value", "0.05*", "is not a p-value"),
    ("effects", 3, "p_value", "< 2", "is not a p-value"),
    ("effects", 2, "p_value", "-0.01", "is not a p-value"),
    # required cells
    ("amstar2", 2, "item", "NA", "means 'not known'; a value is required"),
    ("amstar2", 3, "item", "n/a", "means 'not known'; a value is required"),
    ("amstar2", 2, "item", "", "is blank; a value is required"),
    ("amstar2", 3, "answer", "NA", "is not an allowed value"),
    ("effects", 3, "outcome", "", "is blank; a value is required"),
    ("study_effects", 2, "measure", "", "is blank; a value is required"),
    # cross-sheet references
    ("study_effects", 3, "study_id", "S9", "is not a study_id of studies.csv"),
    ("effects", 2, "review_id", "R9", "is not a review_id of the reviews sheet"),
    ("amstar2", 2, "review_id", "R3", "is not a review_id of the reviews sheet"),
    ("studies", 3, "review_id", "R9", "is not a review_id of the reviews sheet"),
    ("implementation", 2, "review_id", "R7", "is not a review_id of the reviews sheet"),
    ("study_effects", 2, "review_id", "Q1", "is not a review_id of the reviews sheet"),
    # types, ranges, vocabularies, patterns
    ("reviews", 3, "year", "19x9", "is not a number"),
    ("reviews", 2, "year", "1850", "is out of range"),
    ("effects", 2, "i2", "120%", "is out of range"),
    ("effects", 2, "k_studies", "1,000", "is not a number"),
    ("effects", 2, "k_studies", "2.5", "is not a whole number"),
    ("effects", 2, "ci_level", "100", "is out of range"),
    ("effects", 2, "measure", "XYZ", "is not an allowed value"),
    ("amstar2", 2, "answer", "maybe", "is not an allowed value"),
    ("amstar2", 2, "item", "17", "is out of range"),
    ("implementation", 2, "cfir_domain", "outer space", "is not an allowed value"),
    ("implementation", 2, "role", "neutral", "is not an allowed value"),
    ("reviews", 2, "doi", "abc", "is not a DOI"),
    ("reviews", 2, "search_end", "last year", "is not a date"),
    ("reviews", 2, "research_questions", "efficacy", "unknown value"),
    ("study_effects", 2, "n_treat", "0", "is out of range"),
    ("study_effects", 2, "se", "0", "is out of range"),
    ("study_effects", 2, "se", "-0.1", "is out of range"),
    ("study_effects", 2, "pre_post_cor", "1.5", "is out of range"),
    ("effects", 2, "ci_lower", "0.5", "lower limit is above the upper limit"),
]


@pytest.mark.parametrize(
    ("sheet", "row", "column", "value", "words"),
    CELLS,
    ids=[f"{s}-{c}-{v or 'blank'}" for s, _, c, v, _ in CELLS],
)
def test_a_bad_cell_is_named_by_file_row_column_and_value(
    tmp_path: Path, sheet: str, row: int, column: str, value: str, words: str
) -> None:
    folder = dataset(tmp_path / "data", edited(sheet, row, column, value))
    message = message_of(folder)
    line = next((x for x in message.splitlines() if words in x), None)
    assert line is not None, message
    assert f"{folder / sheet}.csv, row {row}, column {column}: {value!r}" in line, message


def test_a_study_not_listed_for_its_review_is_named(tmp_path: Path) -> None:
    # S2 is a study of R1 in studies.csv, not of R2
    folder = dataset(tmp_path / "data", edited("study_effects", 3, "review_id", "R2"))
    message = message_of(folder)
    expected = f"{folder / 'study_effects.csv'}, row 3, column study_id: 'S2': this study is not listed for review R2"
    assert expected in message, message


def test_many_problems_are_listed_up_to_fifty_then_counted(tmp_path: Path) -> None:
    rows = [BASE["reviews"][0]] + [[f"R{i}", "A", "19x9", "", "", "", "", ""] for i in range(1, 3001)]
    message = message_of(dataset(tmp_path / "data", {"reviews": rows}))
    assert "3,000 problems" in message
    assert sum(line.startswith("  - ") for line in message.splitlines()) == 51
    assert "  - and 2,950 more" in message


def test_a_long_value_is_shown_cut(tmp_path: Path) -> None:
    long = "x" * 100_000
    folder = dataset(tmp_path / "data", edited("effects", 2, "measure", long))
    message = message_of(folder)
    assert f"{folder / 'effects'}.csv, row 2, column measure: 'xxxx" in message
    assert "99,920 more characters" in message
    assert len(message) < 2_000


def test_a_header_only_reviews_sheet_says_so_without_follow_on_errors(tmp_path: Path) -> None:
    folder = dataset(tmp_path / "data", {"reviews": [BASE["reviews"][0]]})
    message = message_of(folder)
    assert f"{folder / 'reviews.csv'}: the reviews sheet has no rows" in message
    assert "is not a review_id" not in message
    assert "1 problem." in message


def test_a_blank_line_counts_as_a_spreadsheet_row(tmp_path: Path) -> None:
    folder = dataset(tmp_path / "data")
    (folder / "reviews.csv").write_text(
        'review_id,first_author,year\n\nR1,Smith,2019\n\nR2,"Jones\nand Lee",20x0\n', encoding="utf-8"
    )
    message = message_of(folder)
    # header row 1, blank row 2, R1 row 3, blank row 4, R2 row 5 (one row, with a line break inside its cell)
    assert f"{folder / 'reviews.csv'}, row 5, column year: '20x0'" in message, message


def test_blank_lines_above_the_header_are_rows_too(tmp_path: Path) -> None:
    folder = dataset(tmp_path / "data")
    (folder / "reviews.csv").write_text("\n\nreview_id,year\nR1,2019\nR2,abc\n", encoding="utf-8")
    assert f"{folder / 'reviews.csv'}, row 5, column year: 'abc'" in message_of(folder)


@pytest.mark.parametrize("character", ["\x00", "\x0b", "\x0c", "\x1b", "\x7f", "\x85"])
def test_control_characters_are_removed_with_a_note(tmp_path: Path, capsys, character: str) -> None:
    folder = dataset(tmp_path / "data")
    rows = [list(r) for r in BASE["reviews"]]
    rows[2][1] = f"Jo{character}nes"
    write_csv(folder / "reviews.csv", rows)
    files, _ = find_sheets(folder)
    sheets = load_files(files, VOCABULARIES)
    assert sheets["reviews"].table.at[3, "first_author"] == "Jones"
    note = capsys.readouterr().err
    assert f"{folder / 'reviews.csv'}, column first_author" in note
    assert f"U+{ord(character):04X}" in note and "row 3" in note


def test_an_invisible_character_in_a_study_id_does_not_make_another_study(tmp_path: Path, capsys) -> None:
    # removed when read, so S1 with a zero-width space is S1, listed in studies.csv
    changes = edited("study_effects", 2, "study_id", "S1\u200b")
    changes["studies"] = [list(r) for r in BASE["studies"]]
    changes["studies"][3][1] = "\ufeffS1\u00a0"
    folder = dataset(tmp_path / "data", changes)
    files, _ = find_sheets(folder)
    sheets = load_files(files, VOCABULARIES)
    assert set(sheets["studies"].table["study_id"]) == {"S1", "S2"}
    assert sheets["study_effects"].table.at[2, "study_id"] == "S1"
    err = capsys.readouterr().err
    assert "U+200B" in err and "U+FEFF" in err and "U+00A0" in err


def test_study_ids_that_differ_only_in_case_are_named_in_a_note(tmp_path: Path, capsys) -> None:
    changes = {"studies": [list(r) for r in BASE["studies"]]}
    changes["studies"][3][1] = "s1"
    folder = dataset(tmp_path / "data", changes)
    files, _ = find_sheets(folder)
    load_files(files, VOCABULARIES)
    err = capsys.readouterr().err
    assert "differ only in case" in err
    assert "'S1' (studies.csv row 2" in err and "'s1' (studies.csv row 4)" in err


def test_a_password_protected_workbook_says_so(tmp_path: Path) -> None:
    folder = dataset(tmp_path / "data", {"amstar2": None})
    encrypted = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    (folder / "amstar2.xlsx").write_bytes(encrypted)
    message = message_of(folder)
    assert f"{folder / 'amstar2.xlsx'}: the workbook is password-protected" in message
    assert "BadZipFile" not in message
    (tmp_path / "all.xlsx").write_bytes(encrypted)
    message = message_of(tmp_path / "all.xlsx")
    assert "password-protected" in message and "save it without a password" in message


def test_formulas_without_computed_values_are_named_by_cell(tmp_path: Path) -> None:
    from openpyxl import Workbook

    folder = dataset(tmp_path / "data", {"effects": None})
    wb = Workbook()
    ws = wb.active
    for row in BASE["effects"]:
        ws.append(row)
    ws["E2"] = "=-0.1*3"
    ws["L3"] = "=100+100"
    wb.save(folder / "effects.xlsx")
    message = message_of(folder)
    assert f"{folder / 'effects.xlsx'}, row 2, column estimate: cell E2 holds a formula without a computed" in message
    assert "row 3, column n_participants: cell L3" in message
    assert "save it" in message


def test_formulas_with_computed_values_are_read(tmp_path: Path) -> None:
    # as Excel or LibreOffice save them: each formula with its value (a computed empty text typed t="str")
    import zipfile

    from openpyxl import Workbook

    folder = dataset(tmp_path / "data", {"effects": None})
    wb = Workbook()
    ws = wb.active
    for row in BASE["effects"]:
        ws.append(row)
    ws["E2"] = "=-0.1*3"
    ws["M2"] = '=""'
    written = tmp_path / "written.xlsx"
    wb.save(written)
    with zipfile.ZipFile(written) as src, zipfile.ZipFile(folder / "effects.xlsx", "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<c r="E2"><f>-0.1*3</f><v></v></c>', b'<c r="E2"><f>-0.1*3</f><v>-0.3</v></c>')
                data = data.replace(b'<c r="M2"><f>""</f><v></v></c>', b'<c r="M2" t="str"><f>""</f><v></v></c>')
            dst.writestr(item, data)
    assert message_of(folder) == ""


def test_framework_domains_are_written_in_their_canonical_spelling(tmp_path: Path) -> None:
    rows = [["review_id", "cfir_domain", "role"]] + [
        ["R2", domain, "barrier"] for domain in ("Outer Setting", "INNER SETTING", " inner-setting ", "innovation")
    ]
    sheet = write_csv(tmp_path / "implementation.csv", rows)
    out = tmp_path / "implementation_tidy.csv"
    fake = SimpleNamespace(
        wildcards=SimpleNamespace(sheet="implementation"),
        input=SimpleNamespace(sheet=str(sheet)),
        output=SimpleNamespace(table=str(out)),
        log=[str(tmp_path / "extract.log")],
        config=yaml.safe_load((ROOT / "config/config.yaml").read_text("utf-8")),
    )
    runpy.run_path(str(ROOT / "workflow/scripts/extract_sheet.py"), init_globals={"snakemake": fake})
    domains = pd.read_csv(out)["cfir_domain"].tolist()
    assert sorted(domains) == ["inner_setting", "inner_setting", "innovation", "outer_setting"]


def test_a_config_whose_anchors_expand_to_millions_of_strings_gives_a_short_message(tmp_path: Path) -> None:
    lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i, name in enumerate("bcdef"):
        prev = "abcdef"[i]
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]")
    lines.append("research_questions: *f")  # 100,000 strings where a mapping is expected
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_config(path)
    message = exc.value.format()
    assert f"{path}, key research_questions" in message
    assert len(message) < 5_000


# --------------------------------------------------------------------------------------------------------------
# End to end: the workflow refuses the bad sheet before writing anything


def _copy_simulated(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data/raw/simulated", data)
    config = yaml.safe_load((ROOT / "config/simulated.yaml").read_text("utf-8"))
    config["data"] = str(data)
    config["name"] = "bad"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return data, path


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("sheet", "column", "value"),
    [("study_effects", "se", "Infinity"), ("reviews", "n_participants", "1e999"), ("effects", "p_value", "0.05*")],
)
def test_the_workflow_stops_before_writing_anything(tmp_path: Path, sheet: str, column: str, value: str) -> None:
    data, config = _copy_simulated(tmp_path)
    frame = pd.read_csv(data / f"{sheet}.csv", dtype=str, keep_default_na=False)
    frame.loc[0, column] = value
    frame.to_csv(data / f"{sheet}.csv", index=False)
    work = tmp_path / "work"
    for part in WORKFLOW_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, work / part)
        else:
            work.mkdir(exist_ok=True)
            shutil.copy2(source, work / part)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "workflow/scripts")}
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", "--configfile", str(config)],
        cwd=work,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode != 0
    assert f"{data / sheet}.csv, row 2, column {column}: {value!r}" in done.stdout + done.stderr
    for folder in ("results", "reports"):
        assert not (work / folder).exists() or not any((work / folder).rglob("*.*"))


@pytest.mark.parametrize("years", ["absent", "one blank"])
def test_the_effects_stage_copes_without_review_years(tmp_path: Path, years: str) -> None:
    # the year only orders reviews (most recent first): without it, results are still summarised
    from umbrella.core.tables import write_table
    from umbrella.effects.stage import run_effects
    from umbrella.extract.reviews import tidy

    rows = [list(r) for r in BASE["reviews"]]
    if years == "absent":
        rows = [r[:2] + r[3:] for r in rows]
    else:
        rows[1][2] = ""
    folder = dataset(tmp_path / "data", {"reviews": rows})
    files, _ = find_sheets(folder)
    sheets = load_files(files, VOCABULARIES)
    write_table(tidy(sheets["reviews"]), tmp_path / "reviews.csv")
    write_table(tidy(sheets["effects"]), tmp_path / "effects.csv")
    write_table(pd.DataFrame({"review_id": ["R1", "R2"], "rating": ["low", "high"]}), tmp_path / "ratings.csv")
    outputs = {
        "review_effects": tmp_path / "review_effects.csv",
        "outcome_summary": tmp_path / "outcome_summary.csv",
        "forest": tmp_path / "forest",
        "evidence_map": tmp_path / "evidence_map.svg",
    }
    run_effects(
        tmp_path / "effects.csv", tmp_path / "reviews.csv", tmp_path / "ratings.csv", {"best_review": ["year"]}, outputs
    )
    assert len(pd.read_csv(outputs["review_effects"])) == 2
