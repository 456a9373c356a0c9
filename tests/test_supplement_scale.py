"""The supplement of a large analysis: tables beyond the workbook's cell limit stay in their CSV files, tables
longer than a sheet are split, overlong text is cut (and said so), and everything stays deterministic; the fast
writers give the same bytes as the plain ones (openpyxl appending rows, ``write_table``)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import umbrella.report.supplement as supplement
from openpyxl import load_workbook
from umbrella.core.tables import write_rows
from umbrella.report.supplement import TableSpec, build_supplement, neutralise, write_xlsx


def _build(tmp_path: Path, tables: dict[str, str], out: str = "out", **kwargs) -> Path:
    """A supplement of ``tables`` (name -> CSV text, labelled S1, S2... in order) and one figure."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    specs = []
    for i, (name, text) in enumerate(tables.items(), start=1):
        path = data / f"{name}.csv"
        path.write_text(text, encoding="utf-8")
        specs.append((TableSpec(f"S{i}", name, f"Table {name}", "study_frequency"), path))
    figure = data / "plot.svg"
    figure.write_text("<svg/>\n", encoding="utf-8")
    figure.with_suffix(".png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    provenance = data / "provenance.json"
    provenance.write_text(json.dumps({"run": 1}), encoding="utf-8")
    folder = tmp_path / out
    build_supplement(specs, [figure, figure], provenance, "Test", folder / "supplement", folder / "supplement.zip",
                     **kwargs)  # fmt: skip
    return folder


SMALL = "study_id,n_reviews\nA,1\nB,2\n"
BIG = "study_id,n_reviews\n" + "".join(f"S{i:03d},{i}\n" for i in range(30))  # 60 cells


def _rows(sheet) -> list[list]:
    return [[c.value for c in row] for row in sheet.iter_rows()]


def test_a_table_over_the_cell_limit_is_left_to_its_csv_file(tmp_path: Path) -> None:
    folder = _build(tmp_path, {"small": SMALL, "big": BIG}, workbook_cells=50) / "supplement"
    wb = load_workbook(folder / "supplement.xlsx")
    assert wb.sheetnames == ["Contents", "S1 small"]
    contents = _rows(wb["Contents"])
    assert contents[0] == ["table", "title", "rows", "where"]
    assert contents[1] == ["S1", "Table small", 2, "sheet S1 small"]
    note = "CSV only: tables/S2_big.csv (60 cells, more than the workbook limit of 50)"
    assert contents[2] == ["S2", "Table big", 30, note]
    assert wb["Contents"].freeze_panes == "A2" and wb["Contents"]["A1"].font.b
    assert pd.read_csv(folder / "tables/S2_big.csv").shape == (30, 2)  # the CSV file is whole
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "| table | file | columns | rows | workbook |" in readme
    assert f"| S2: Table big | `tables/S2_big.csv` | 2 | 30 | {note} |" in readme
    assert "more than 50 cells is in its CSV file only" in readme


def test_small_tables_give_the_plain_workbook_and_readme(tmp_path: Path) -> None:
    folder = _build(tmp_path, {"small": SMALL, "big": BIG}) / "supplement"
    wb = load_workbook(folder / "supplement.xlsx")
    assert wb.sheetnames == ["S1 small", "S2 big"]
    ws = wb["S2 big"]
    assert ws.freeze_panes == "A2"
    assert [c.font.b for c in ws[1]] == [True, True] and not ws["A2"].font.b
    assert _rows(ws)[1] == ["S000", 0] and len(_rows(ws)) == 31
    assert ws.column_dimensions["A"].width == 10 and ws.column_dimensions["B"].width == 11
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "| table | file | columns | rows |\n" in readme and "Contents" not in readme


def test_a_table_longer_than_a_sheet_is_split_over_numbered_sheets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supplement, "EXCEL_ROWS", 12)
    name = "a_table_name_far_too_long_for_a_sheet"
    folder = _build(tmp_path, {"small": SMALL, name: BIG}) / "supplement"
    wb = load_workbook(folder / "supplement.xlsx")
    parts = [f"S2 a_table_name_far_too_lon ({i})" for i in (1, 2, 3)]
    assert wb.sheetnames == ["Contents", "S1 small", *parts]
    assert all(len(n) <= 31 for n in wb.sheetnames)
    rows = [_rows(wb[n]) for n in parts]
    assert [len(r) - 1 for r in rows] == [12, 12, 6]
    assert all(
        r[0] == ["study_id", "n_reviews"] and wb[n].freeze_panes == "A2" for r, n in zip(rows, parts, strict=True)
    )
    assert [r[1][0] for r in rows] == ["S000", "S012", "S024"]
    where = _rows(wb["Contents"])[2][3]
    assert where == f"sheets {parts[0]} (rows 1-12), {parts[1]} (rows 13-24), {parts[2]} (rows 25-30)"
    assert where in (folder / "README.md").read_text(encoding="utf-8")


def test_text_longer_than_a_cell_is_cut_in_the_workbook_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supplement, "EXCEL_TEXT", 10)
    folder = _build(tmp_path, {"small": SMALL, "long": "study_id,n_reviews\nabcdefghijklmno,1\nshort,2\n"})
    wb = load_workbook(folder / "supplement/supplement.xlsx")
    assert wb["S2 long"]["A2"].value == "abcdefghij" and wb["S2 long"]["A3"].value == "short"
    assert "1 text cell cut to 10 characters" in _rows(wb["Contents"])[2][3]
    csv = pd.read_csv(folder / "supplement/tables/S2_long.csv")
    assert csv["study_id"].tolist() == ["abcdefghijklmno", "short"]


@pytest.mark.parametrize("cells", [2_000_000, 50])
def test_same_inputs_give_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cells: int) -> None:
    monkeypatch.setattr(supplement, "EXCEL_ROWS", 12)
    tables = {"small": SMALL, "big": BIG}
    first = _build(tmp_path, tables, "one", workbook_cells=cells)
    second = _build(tmp_path, tables, "two", workbook_cells=cells)
    for name in ("supplement.zip", "supplement/supplement.xlsx", "supplement/MANIFEST.sha256"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_each_file_is_zipped_once_stored_when_compressed_already(tmp_path: Path) -> None:
    folder = _build(tmp_path, {"small": SMALL})  # the figure is listed twice
    manifest = (folder / "supplement/MANIFEST.sha256").read_text(encoding="utf-8").splitlines()
    listed = [line.split("  ", 1)[1] for line in manifest]
    assert len(listed) == len(set(listed)) and listed.count("figures/plot.png") == 1
    with zipfile.ZipFile(folder / "supplement.zip") as z:
        infos = z.infolist()
        names = [i.filename for i in infos]
        assert len(names) == len(set(names))
        assert names == [f"supplement/{n}" for n in listed] + ["supplement/MANIFEST.sha256"]
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        stored = {i.filename for i in infos if i.compress_type == zipfile.ZIP_STORED}
        assert stored == {"supplement/supplement.xlsx", "supplement/figures/plot.png"}
        assert z.testzip() is None
        assert z.read("supplement/supplement.xlsx") == (folder / "supplement/supplement.xlsx").read_bytes()


TRICKY = pd.DataFrame(
    {
        "text": ["é😀", "a\r\nb\tc", "a & <b> \"q\" 'x'", " lead", "trail\n", None, "\u2003x", "]]>", "'=x", ""],
        "int": pd.array([1, None, 10**17, -5, 0, 2**60, 3, 4, 5, 6], dtype="Int64"),
        "float": [1.5, np.nan, 1e-7, 123456789.123456789, -0.0, 1e300, 2.0, 0.1, 1 / 3, 5e-324],
        "flag": pd.array([True, False, None, True, True, False, None, True, False, True], dtype="boolean"),
        "plain": np.arange(10),
        "empty": [None] * 10,
    }
)


def test_streamed_rows_are_the_rows_openpyxl_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tables = [(TableSpec("S1", "tricky", "T", "x"), TRICKY), (TableSpec("S2", "none", "T", "x"), TRICKY.iloc[:0])]
    write_xlsx(tables, tmp_path / "fast.xlsx")
    monkeypatch.setattr(supplement, "_streamable", lambda frame: False)
    write_xlsx(tables, tmp_path / "openpyxl.xlsx")
    assert (tmp_path / "fast.xlsx").read_bytes() == (tmp_path / "openpyxl.xlsx").read_bytes()


def test_cells_openpyxl_treats_specially_go_through_openpyxl(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": ["=1+2", "#N/A", "x"], "b": [float("inf"), 1.0, 2.0]})
    for column in frame.columns:
        assert not supplement._streamable(frame[[column]])
    write_xlsx([(TableSpec("S1", "t", "T", "x"), frame)], tmp_path / "w.xlsx")
    ws = load_workbook(tmp_path / "w.xlsx")["S1 t"]
    # the writer itself escapes formula-like text (never a live formula), and leaves error codes to openpyxl
    assert ws["A2"].data_type == "s" and ws["A2"].value == "'=1+2"
    assert ws["A3"].data_type == "e" and ws["A4"].value == "x"


def _to_csv_route(frame: pd.DataFrame) -> str:
    """The layout of write_table as pandas writes it: booleans as true/false, floats as %.10g, blanks."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_bool_dtype(out[col]) or out[col].map(lambda v: isinstance(v, bool)).any():
            out[col] = out[col].map(lambda v: "" if v is None or v is pd.NA else ("true" if v else "false"))
    return out.to_csv(index=False, float_format="%.10g", lineterminator="\n")


def test_csv_rows_formatted_by_distinct_value_are_the_bytes_pandas_writes() -> None:
    frame = TRICKY.drop(columns="plain").assign(text=TRICKY["text"].astype(object))
    frame["float"] = frame["float"].where(frame.index != 3, np.inf)
    out = io.StringIO()
    write_rows(frame.iloc[:4], out, header=True)
    write_rows(frame.iloc[4:], out, header=False)  # written a block at a time
    assert out.getvalue() == _to_csv_route(frame)
    lone = pd.DataFrame({"only": ["x", None, "a,b"]})
    out = io.StringIO()
    write_rows(lone, out, header=True)
    assert out.getvalue() == _to_csv_route(lone) == 'only\nx\n""\n"a,b"\n'


def test_tables_read_a_block_at_a_time_are_typed_as_read_table_types_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supplement, "CHUNK_ROWS", 2)
    text = "study_id,n_reviews,x\n007,1,=cmd\n1e5,,\n-1,3,-2\n"
    folder = _build(tmp_path, {"counts": text}) / "supplement"
    csv = (folder / "tables/S1_counts.csv").read_text(encoding="utf-8")
    assert csv == "study_id,n_reviews,x\n007,1,'=cmd\n1e5,,\n'-1,3,'-2\n"  # identifiers as written
    ws = load_workbook(folder / "supplement.xlsx")["S1 counts"]
    assert _rows(ws)[1:] == [["007", 1, "'=cmd"], ["1e5", None, None], ["'-1", 3, "'-2"]]


def test_a_number_the_reader_refuses_fails_as_before(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        _build(tmp_path, {"bad": "study_id,n_reviews\nA,many\n"})


def test_neutralise_changes_only_formula_like_text() -> None:
    frame = pd.DataFrame(
        {
            "mixed": pd.Series(["=1", 3, None, "-x", np.nan, "ok", "+", 2.5], dtype=object),
            "text": pd.Series(["@a", "b", None, "\tc", "\rd", "e", "=", "f"], dtype="str"),
            "n": [-1, 2, 3, 4, 5, 6, 7, 8],
        }
    )
    old = frame.copy()
    for col in ("mixed", "text"):
        old[col] = old[col].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(supplement.DANGEROUS) else v)
    pd.testing.assert_frame_equal(neutralise(frame), old)


def test_a_carriage_return_in_a_text_cell_keeps_its_row_whole() -> None:
    # the csv module, given a line end of "\n" alone, leaves a field holding a bare "\r" unquoted, and a reader
    # then ends the row there (pandas read x\ry,1 as two rows)
    table = pd.DataFrame({"text\rhead": ["x\ry", "z", 'q,"r"', "a\r\nb"], "n": [1, 2, 3, 4]})
    buffer = io.StringIO()
    write_rows(table, buffer)
    assert buffer.getvalue() == '"text\rhead",n\n"x\ry",1\nz,2\n"q,""r""",3\n"a\r\nb",4\n'
    back = pd.read_csv(io.StringIO(buffer.getvalue()), keep_default_na=False)
    assert back.columns.tolist() == ["text\rhead", "n"] and back["text\rhead"].tolist() == table["text\rhead"].tolist()
