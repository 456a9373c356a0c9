"""Loading and validating the extraction sheets: every kind of error, reported all at once."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
from conftest import CONFIG_QUESTIONS, REVIEWS_OK, ROOT, write
from umbrella.core.datasets import SHEETS, find_sheets
from umbrella.core.errors import InputError
from umbrella.core.sheets import load_dataset, load_schema

EFFECTS_HEADER = "effect_id,review_id,outcome,measure,estimate,ci_lower,ci_upper,k_studies,i2,p_value\n"


def problems(folder: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load_dataset(folder, CONFIG_QUESTIONS)
    return [p.describe() for p in info.value.problems]


def test_valid_sheets_are_typed_and_normalised(sheets_dir: Path) -> None:
    write(
        sheets_dir,
        "amstar2.csv",
        "review_id,item,answer,rater\nA2019,2,Partial Yes,\nA2019,11,no meta-analysis,\nA2019,4,YES,\nB2020,7,n,\n",
    )
    write(sheets_dir, "effects.csv", EFFECTS_HEADER + "E1,A2019,Depression,smd,\u22120.39,-0.54,-0.24,16,78%,< 0.001\n")
    data = load_dataset(sheets_dir, CONFIG_QUESTIONS)
    reviews = data["reviews"].table
    assert reviews["year"].dtype == "Int64"
    assert reviews.loc[3, "research_questions"] == "implementation;experiences"
    assert list(data["amstar2"].table["answer"]) == ["PY", "NMA", "Y", "N"]
    effect = data["effects"].table.iloc[0]
    assert effect["measure"] == "SMD"
    assert effect["estimate"] == pytest.approx(-0.39)
    assert effect["i2"] == pytest.approx(78)
    assert effect["ci_level"] == 95  # schema default for a blank/absent column
    assert effect["p_value"] == "< 0.001"


def test_unknown_review_id_in_every_other_sheet(sheets_dir: Path) -> None:
    write(sheets_dir, "effects.csv", EFFECTS_HEADER + "E1,A2O19,Dep,SMD,0.1,0,0.2,3,,\n")
    write(sheets_dir, "studies.csv", "review_id,study_id\nZ1,S1\n")
    write(sheets_dir, "implementation.csv", "review_id,cfir_domain\nQ9,inner_setting\n")
    found = problems(sheets_dir)
    assert any("effects.csv, row 2, column review_id: 'A2O19'" in p and "did you mean 'A2019'" in p for p in found)
    assert any("studies.csv, row 2, column review_id: 'Z1'" in p for p in found)
    assert any("implementation.csv, row 2, column review_id: 'Q9'" in p for p in found)
    assert len(found) == 3


def test_duplicate_keys(sheets_dir: Path) -> None:
    write(sheets_dir, "reviews.csv", REVIEWS_OK + "a2019,Again,2021,,,,,\n")
    write(sheets_dir, "amstar2.csv", "review_id,item,answer,rater\nA2019,1,Y,R1\nA2019,1,Y,R1\nA2019,1,Y,R2\n")
    found = problems(sheets_dir)
    assert any("reviews.csv, row 4, column review_id" in p and "same key is in row 2" in p for p in found)
    assert any("amstar2.csv, row 3, column review_id + item + rater" in p and "row 2" in p for p in found)
    assert len(found) == 2


def test_values_outside_a_vocabulary_name_the_allowed_ones(sheets_dir: Path) -> None:
    write(
        sheets_dir,
        "reviews.csv",
        REVIEWS_OK.replace("sr_meta_analysis", "umbrella").replace("implementation;experiences", "cost;experiences"),
    )
    write(sheets_dir, "amstar2.csv", "review_id,item,answer\nA2019,3,maybe\nA2019,5,NMA\n")
    found = problems(sheets_dir)
    assert any("column review_type: 'umbrella'" in p and "sr_meta_analysis, sr_narrative" in p for p in found)
    assert any("column research_questions: 'cost;experiences'" in p and "'cost'" in p for p in found)
    assert any("column answer: 'maybe'" in p and "allowed: Y, PY, N, NMA" in p for p in found)
    assert any("row 3, column answer: 'NMA'" in p and "items 11, 12 and 15" in p for p in found)


def test_text_where_a_number_belongs(sheets_dir: Path) -> None:
    write(sheets_dir, "reviews.csv", REVIEWS_OK.replace(",12,", ",twelve,").replace("2020,scoping", "2O20,scoping"))
    write(sheets_dir, "effects.csv", EFFECTS_HEADER + "E1,A2019,Dep,SMD,0,39,-0.5,0.5,3,,\n".replace("0,39", "0;39"))
    found = problems(sheets_dir)
    assert any("reviews.csv, row 2, column n_primary_studies: 'twelve': is not a number" in p for p in found)
    assert any("reviews.csv, row 3, column year: '2O20': is not a number" in p for p in found)
    assert any("effects.csv, row 2, column estimate: '0;39': is not a number" in p for p in found)


def test_missing_values_and_unicode_minus_in_number_columns(sheets_dir: Path) -> None:
    write(sheets_dir, "effects.csv", EFFECTS_HEADER + "E1,A2019,Dep,SMD,\u22120.2,\u22120.5,0.1,NR,n/a,\n")
    table = load_dataset(sheets_dir, CONFIG_QUESTIONS)["effects"].table
    assert table["estimate"].iloc[0] == pytest.approx(-0.2)
    assert pd.isna(table["k_studies"].iloc[0]) and pd.isna(table["i2"].iloc[0])


def test_estimate_outside_its_ci_and_reversed_ci(sheets_dir: Path) -> None:
    rows = "E1,A2019,Dep,SMD,0.9,0.1,0.5,3,,\nE2,A2019,Dep,SMD,0.3,0.5,0.1,3,,\nE3,A2019,Dep,OR,0,0.5,1.5,3,,\n"
    write(sheets_dir, "effects.csv", EFFECTS_HEADER + rows)
    found = problems(sheets_dir)
    assert any("row 2, column estimate: '0.9': lies outside its confidence interval [0.1, 0.5]" in p for p in found)
    assert any("row 3, column ci_lower: '0.5': lower limit is above the upper limit (0.1)" in p for p in found)
    assert any("row 4, column estimate: '0'" in p and "ratio measure OR" in p for p in found)


def test_k_below_one_and_years_out_of_range(sheets_dir: Path) -> None:
    write(
        sheets_dir, "reviews.csv", REVIEWS_OK.replace("2019,sr_meta", "1850,sr_meta").replace(",2019\n", ",2219-01\n")
    )
    write(sheets_dir, "effects.csv", EFFECTS_HEADER + "E1,A2019,Dep,SMD,0.1,0,0.2,0,,\n")
    write(sheets_dir, "studies.csv", "review_id,study_id,study_year\nA2019,S1,3000\n")
    found = problems(sheets_dir)
    assert any("column k_studies: '0': is out of range; expected a whole number >= 1" in p for p in found)
    assert any("reviews.csv, row 2, column year: '1850': is out of range" in p for p in found)
    assert any("reviews.csv, row 3, column search_end: '2219-01'" in p for p in found)
    assert any("studies.csv, row 2, column study_year: '3000': is out of range" in p for p in found)


def test_missing_required_columns_and_cells(sheets_dir: Path) -> None:
    write(sheets_dir, "reviews.csv", "reveiw_id,year\nA,2019\n")
    write(sheets_dir, "amstar2.csv", "review_id,item\nA,1\n")
    found = problems(sheets_dir)
    assert any(
        "reviews.csv, row 1, column review_id: required column is missing; is 'reveiw_id' meant" in p for p in found
    )
    assert any("amstar2.csv, row 1, column answer: required column is missing" in p for p in found)


def test_blank_required_cell(sheets_dir: Path) -> None:
    write(sheets_dir, "effects.csv", EFFECTS_HEADER + "E1,A2019,,SMD,0.1,0,0.2,3,,\n")
    found = problems(sheets_dir)
    assert found == [f"{sheets_dir / 'effects.csv'}, row 2, column outcome: '': is blank; a value is required"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("effects.csv", b"effect_id,review_id\n\xff\xfe\x00bad\n", "cannot be read as UTF-8"),
        ("effects.xlsx", b"this is not a workbook", "cannot be read"),
        ("effects.csv", b"", "the file is empty"),
        ("effects.csv", b'effect_id,review_id\nE1,"A, "B" and C",x\n', "Expected 2 fields in line 2, saw 3"),
    ],
)
def test_unreadable_file(sheets_dir: Path, name: str, content: bytes, message: str) -> None:
    (sheets_dir / name).write_bytes(content)
    found = problems(sheets_dir)
    assert len(found) == 1 and name in found[0] and message in found[0]


def test_sheet_given_twice_and_reviews_missing(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    write(folder, "effects.csv", EFFECTS_HEADER)
    files, found = find_sheets(folder)
    assert "reviews" in found[0].message and "effects.csv" in found[0].message
    write(folder, "reviews.csv", REVIEWS_OK)
    write(folder, "Reviews.xlsx", "")
    files, found = find_sheets(folder)
    assert "given twice" in found[0].message
    (folder / "Reviews.xlsx").unlink()
    write(folder, "effect.csv", EFFECTS_HEADER)
    write(folder, "notes_for_me.csv", "anything\n")
    files, found = find_sheets(folder)
    assert [p.describe() for p in found] == [
        f"{folder / 'effect.csv'}: is not a sheet name; rename it to effects.csv if it is the effects sheet "
        "(sheet names: reviews, amstar2, effects, studies, citation_matrix, study_effects, implementation, experiences)"
    ]
    files, found = find_sheets(tmp_path / "nowhere")
    assert "does not exist" in found[0].message


def test_all_problems_in_one_error_sorted_by_sheet_and_row(sheets_dir: Path) -> None:
    write(sheets_dir, "reviews.csv", REVIEWS_OK.replace(",12,", ",x,").replace("2020,scoping", "2020,nonsense"))
    write(sheets_dir, "effects.csv", EFFECTS_HEADER + "E1,NOPE,Dep,SMD,5,0,1,0,,\n")
    with pytest.raises(InputError) as info:
        load_dataset(sheets_dir, CONFIG_QUESTIONS)
    text = str(info.value)
    assert text.startswith("The extraction sheets have problems: 5 problems")
    assert text.endswith("Nothing was written. Fix every cell listed above and run again.")
    lines = [line for line in text.splitlines() if line.startswith("  - ")]
    assert len(lines) == 5
    assert all("reviews.csv" in line for line in lines[:2]) and all("effects.csv" in line for line in lines[2:])


def test_xlsx_gives_the_same_table_as_csv(sheets_dir: Path, tmp_path: Path) -> None:
    from_csv = load_dataset(sheets_dir, CONFIG_QUESTIONS)["reviews"].table
    xlsx_dir = tmp_path / "xlsx"
    xlsx_dir.mkdir()
    frame = pd.read_csv(sheets_dir / "reviews.csv", dtype=str, keep_default_na=False)
    frame["year"] = frame["year"].astype(int)  # numbers stored as numbers
    frame["search_end"] = [pd.Timestamp("2018-06-30"), "2019"]  # a real date cell, as Excel stores it
    frame.to_excel(xlsx_dir / "reviews.xlsx", index=False)
    from_xlsx = load_dataset(xlsx_dir, CONFIG_QUESTIONS)["reviews"].table
    pd.testing.assert_frame_equal(from_csv, from_xlsx)


def test_headers_match_without_case_or_spaces_and_extras_are_kept(sheets_dir: Path) -> None:
    write(sheets_dir, "reviews.csv", "Review ID ,YEAR,Source Table\nA1,2019,Table 1\n")
    sheet = load_dataset(sheets_dir, CONFIG_QUESTIONS)["reviews"]
    assert sheet.extra_columns == ["source_table"]
    assert list(sheet.table.columns[-1:]) == ["source_table"]
    assert sheet.table["year"].iloc[0] == 2019


def test_study_effects_need_one_complete_set_of_numbers(sheets_dir: Path) -> None:
    header = "outcome,review_id,study_id,measure,estimate,se,events_treat,n_treat,events_control,n_control\n"
    rows = "dep,A2019,S1,SMD,0.2,0.1,,,,\ndep,A2019,S2,OR,,,3,20,5,\ndep,A2019,S3,OR,,,30,20,5,20\n"
    write(sheets_dir, "study_effects.csv", header + rows)
    found = problems(sheets_dir)
    assert any("row 3, column n_control" in p and "closest is 2x2 counts, which lacks n_control" in p for p in found)
    assert any("row 4, column events_treat: '30': more events than participants" in p for p in found)
    assert len(found) == 2


def test_every_schema_is_valid_json_schema() -> None:
    for sheet in SHEETS:
        jsonschema.Draft202012Validator.check_schema(load_schema(sheet))
    with open(ROOT / "workflow/schemas/config.schema.yaml", encoding="utf-8") as fh:
        import yaml

        jsonschema.Draft202012Validator.check_schema(yaml.safe_load(fh))


@pytest.mark.parametrize("dataset", ["cooper2024", "simulated"])
def test_bundled_data_validate_and_agree_with_jsonschema(dataset: str) -> None:
    """The typed rows of the bundled sheets also pass a plain JSON Schema validator (our reading agrees)."""
    folder = ROOT / "data" / "raw" / dataset
    if not folder.exists():
        pytest.skip(f"{dataset} not bundled")
    data = load_dataset(folder, CONFIG_QUESTIONS)
    for name, sheet in data.items():
        schema = load_schema(name)
        validator = jsonschema.Draft202012Validator(schema)
        records = json.loads(sheet.table[list(schema["properties"])].to_json(orient="records"))
        for record in records:
            record = {k: v for k, v in record.items() if v is not None}
            errors = list(validator.iter_errors(record))
            assert not errors, (name, record, errors[0].message)
