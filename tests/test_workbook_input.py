"""`data:` as one .xlsx workbook whose worksheets are the sheets: the same tidy tables as the folder of CSV files,
and bad workbooks reported with file, worksheet, row and column."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from conftest import CONFIG_QUESTIONS, REVIEWS_OK, ROOT, copy_workflow, snakemake
from umbrella.core.datasets import SHEETS, find_sheets, sha256_of
from umbrella.core.errors import InputError
from umbrella.core.provenance import provenance
from umbrella.core.sheets import load_dataset, load_sheet

SIMULATED = ROOT / "data/raw/simulated"
ALLOWED = ", ".join(SHEETS)


def _cell(text: str) -> object:
    """A CSV cell as a spreadsheet would hold it: a number when the text is one, written as Python writes it."""
    for kind in (int, float):
        try:
            value = kind(text)
        except ValueError:
            continue
        if str(value) == text:
            return value
    return None if text == "" else text


def write_workbook(path: Path, sheets: dict[str, pd.DataFrame | list[list[object]] | None]) -> Path:
    """One worksheet per entry, in order: a frame (header and rows), rows as lists, or ``None`` (empty)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, content in sheets.items():
        ws = wb.create_sheet(title)
        if content is None:
            continue
        if isinstance(content, pd.DataFrame):
            ws.append(list(content.columns))
            for row in content.itertuples(index=False):
                ws.append([_cell(v) for v in row])
        else:
            for row in content:
                ws.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def csv_frames(folder: Path) -> dict[str, pd.DataFrame]:
    return {
        p.stem: pd.read_csv(p, dtype=str, keep_default_na=False)
        for p in sorted(folder.glob("*.csv"))
        if p.stem in SHEETS
    }


def simulated_workbook(path: Path) -> Path:
    return write_workbook(path, {"README": [["SIMULATED sheets"]], **csv_frames(SIMULATED)})


def reviews_rows() -> list[list[str]]:
    return [line.split(",") for line in REVIEWS_OK.strip().splitlines()]


def problems_of(data: Path) -> list[str]:
    files, found = find_sheets(data)
    if found:
        return [p.describe() for p in InputError(found).problems]
    with pytest.raises(InputError) as exc:
        load_dataset(data, CONFIG_QUESTIONS)
    return [p.describe() for p in exc.value.problems]


# ----------------------------------------------------------------------------------------------------------------
# The same tables as the folder


def test_workbook_gives_the_tables_of_the_csv_folder(tmp_path: Path) -> None:
    vocab = {"research_questions": ["effectiveness", "implementation", "experiences"]}
    book = simulated_workbook(tmp_path / "simulated.xlsx")
    files, found = find_sheets(book)
    assert not found
    assert list(files) == [s for s in SHEETS if (SIMULATED / f"{s}.csv").exists()]
    assert set(files.values()) == {book}
    from_csv, from_book = load_dataset(SIMULATED, vocab), load_dataset(book, vocab)
    assert list(from_book) == list(from_csv)
    for name, sheet in from_csv.items():
        pd.testing.assert_frame_equal(from_book[name].table, sheet.table, obj=name)
        assert from_book[name].extra_columns == sheet.extra_columns
        assert from_book[name].display == f"{book}, worksheet {name!r}"
        one = load_sheet(name, book, vocab)  # what a job reads: the sheet's worksheet of the same file
        pd.testing.assert_frame_equal(one.table, sheet.table, obj=name)


def test_worksheet_names_are_compared_without_case_or_spaces(tmp_path: Path) -> None:
    frames = csv_frames(SIMULATED)
    book = write_workbook(
        tmp_path / "b.xlsx",
        {"_notes": [["anything"]], " Reviews ": frames["reviews"], "Study Effects": frames["study_effects"]},
    )
    files, found = find_sheets(book)
    assert not found and list(files) == ["reviews", "study_effects"]
    assert load_sheet("study_effects", book).display == f"{book}, worksheet 'Study Effects'"


def test_a_folder_workbook_still_reads_its_first_worksheet(sheets_dir: Path) -> None:
    (sheets_dir / "reviews.csv").unlink()
    write_workbook(sheets_dir / "reviews.xlsx", {"Sheet1": reviews_rows(), "notes": [["x"]]})
    sheets = load_dataset(sheets_dir, CONFIG_QUESTIONS)
    assert list(sheets["reviews"].table["review_id"]) == ["A2019", "B2020"]
    assert sheets["reviews"].display == str(sheets_dir / "reviews.xlsx")


# ----------------------------------------------------------------------------------------------------------------
# Bad workbooks


def test_unknown_misspelt_and_duplicated_worksheets_and_missing_reviews(tmp_path: Path) -> None:
    book = write_workbook(
        tmp_path / "bad.xlsx",
        {"Sheet1": [["a"]], "effect": [["a"]], "amstar2": [["a"]], "AMSTAR 2": [["a"]], "Read me": [["x"]]},
    )
    found = problems_of(book)
    keep = "start its name with '_' to keep it in the workbook unread"
    assert found == [
        f"{book}: sheet 'amstar2' is given twice (worksheets 'amstar2' and 'AMSTAR 2'); keep one",
        f"{book}: the required worksheet `reviews` is missing; found worksheets: 'Sheet1', 'effect', 'amstar2', "
        f"'AMSTAR 2', 'Read me' (sheet names: {ALLOWED})",
        f"{book}: worksheet 'Sheet1' is not a sheet name; {keep} (sheet names: {ALLOWED})",
        f"{book}: worksheet 'effect' is not a sheet name; rename it to 'effects' if it is the effects sheet, or "
        f"{keep} (sheet names: {ALLOWED})",
    ]


def test_cells_are_named_by_file_worksheet_row_and_column(tmp_path: Path) -> None:
    rows = reviews_rows()
    rows[2][5] = "lots"  # n_primary_studies of the second review, Excel row 3
    effects = [["review_id", "outcome"], ["A2019", "depression"], [], ["Z2001", "anxiety"]]
    book = write_workbook(tmp_path / "review.xlsx", {"reviews": rows, "effects": effects, "amstar2": None})
    found = problems_of(book)
    assert f"{book}, worksheet 'reviews', row 3, column n_primary_studies: 'lots': " in "\n".join(found)
    assert any(line.startswith(f"{book}, worksheet 'effects', row 4, column review_id: 'Z2001'") for line in found)
    assert not any("amstar2" in line for line in found)  # an empty optional worksheet is a sheet not given


def test_citation_matrix_given_twice_names_the_worksheets(tmp_path: Path) -> None:
    book = write_workbook(
        tmp_path / "review.xlsx",
        {
            "reviews": reviews_rows(),
            "studies": [["review_id", "study_id"], ["A2019", "S1"]],
            "citation_matrix": [["study_id", "A2019"], ["S1", "x"]],
        },
    )
    assert (
        f"{book}, worksheet 'citation_matrix': give the citation matrix once: review.xlsx, worksheet 'studies' "
        "(long) or this wide sheet"
    ) in problems_of(book)


def test_data_that_is_not_a_folder_or_a_workbook(tmp_path: Path) -> None:
    csv = tmp_path / "reviews.csv"
    csv.write_text(REVIEWS_OK, encoding="utf-8")
    assert problems_of(csv) == [f"{csv}: `data:` must be a folder of sheets or one .xlsx workbook of them"]
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    (line,) = problems_of(broken)
    assert line.startswith(f"{broken}: cannot be read as an .xlsx workbook: BadZipFile")
    assert "does not exist" in problems_of(tmp_path / "missing.xlsx")[0]


# ----------------------------------------------------------------------------------------------------------------
# Provenance (the workflow on a filled workbook: tests/test_extraction_workbook.py)


def test_provenance_names_the_worksheet_of_a_workbook_only(tmp_path: Path, sheets_dir: Path) -> None:
    book = write_workbook(tmp_path / "b.xlsx", {"reviews": reviews_rows(), "Effects": [["review_id"], ["A2019"]]})
    record = provenance({"reviews": book, "effects": book}, [], {})["sheets"]
    assert record["effects"] == {"file": str(book), "sha256": sha256_of(book), "worksheet": "Effects"}
    assert record["reviews"]["worksheet"] == "reviews"
    assert "worksheet" not in provenance({"reviews": sheets_dir / "reviews.csv"}, [], {})["sheets"]["reviews"]


@pytest.mark.e2e
def test_a_misspelt_worksheet_is_reported_with_the_problems_of_the_others(tmp_path: Path) -> None:
    work = copy_workflow(tmp_path / "work")
    rows = reviews_rows()
    rows[1][rows[0].index("year")] = "20x9"
    write_workbook(work / "data/mine.xlsx", {"reviews": rows, "Effcts": [["effect_id"], ["E1"]]})
    config = yaml.safe_load((work / "config/config.yaml").read_text(encoding="utf-8"))
    config.update(data="data/mine.xlsx", name="mine", published=None)
    (work / "config/mine.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    result = snakemake(work, "-n", "--configfile", "config/mine.yaml")
    said = result.stdout + result.stderr
    assert result.returncode != 0 and ": 2 problems" in said
    assert "worksheet 'Effcts' is not a sheet name; rename it to 'effects'" in said
    assert "data/mine.xlsx, worksheet 'reviews', row 2, column year: '20x9'" in said
