"""metaumbrella's study-level layout: read as a `study_effects` sheet, and written from this project's sheets.

`tests/data/metaumbrella/<OR|SMD>/metaumbrella/` holds metaumbrella's example `df.OR` / `df.SMD` as published
(`tests/data/metaumbrella_df.*.csv`, byte for byte) with a reviews sheet; `.../project/` the same data written by
hand in this project's columns. Both layouts must give the same table and the same pooled.csv.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT, copy_workflow, snakemake, write
from umbrella.core.errors import InputError
from umbrella.core.metaumbrella import (
    as_written,
    from_metaumbrella,
    is_metaumbrella,
    to_metaumbrella,
    write_metaumbrella,
)
from umbrella.core.sheet_files import read_raw
from umbrella.core.sheet_schemas import columns
from umbrella.core.sheets import Sheet, load_dataset, load_sheet, parse_sheet
from umbrella.extract.reviews import tidy
from umbrella.metaumbrella_export import main as export_main

DATA = ROOT / "tests/data/metaumbrella"
REVIEWS = "review_id,first_author,year,review_type,research_questions\nM1,M,2020,sr_meta_analysis,effectiveness\n"


def read(path: Path, log: io.StringIO | None = None) -> Sheet:
    """A study_effects file read as the sheet loaders read it: raw cells, metaumbrella's layout mapped, checked."""
    raw, problems = read_raw(path, str(path))
    raw, shown_as, layout_problems = from_metaumbrella("study_effects", raw, str(path), log)
    table, extras, sheet_problems = parse_sheet("study_effects", raw, str(path))
    problems += layout_problems + as_written(sheet_problems, shown_as)
    if problems:
        raise InputError(problems)
    return Sheet("study_effects", path, str(path), table, extras)


def table_of(folder: Path) -> pd.DataFrame:
    return tidy(read(folder / "study_effects.csv"))


def contract(table: pd.DataFrame) -> pd.DataFrame:
    return table[columns("study_effects")]


def sheet(tmp_path: Path, text: str) -> Path:
    return write(tmp_path / "mu", "study_effects.csv", text)


# ----------------------------------------------------------------------------------------------------------------
# Reading


def test_metaumbrella_files_are_the_published_examples() -> None:
    for name in ("OR", "SMD"):
        published = (ROOT / f"tests/data/metaumbrella_df.{name}.csv").read_bytes()
        assert (DATA / name / "metaumbrella/study_effects.csv").read_bytes() == published


def test_detected_by_meta_review_and_factor() -> None:
    assert is_metaumbrella(["meta_review", "factor", "author"])
    assert not is_metaumbrella(["meta_review", "outcome"])
    raw = pd.DataFrame({"meta_review": ["A"], "factor": ["x"]})
    assert from_metaumbrella("effects", raw, "f")[1] is None  # only study_effects is read in this layout
    assert from_metaumbrella("study_effects", raw.rename(columns={"factor": "outcome"}), "f")[1] is None


@pytest.mark.parametrize("name", ["OR", "SMD"])
def test_both_layouts_give_the_same_table(name: str) -> None:
    mu, ours = table_of(DATA / name / "metaumbrella"), table_of(DATA / name / "project")
    pd.testing.assert_frame_equal(contract(mu), contract(ours))
    assert mu["study_id"].iloc[0].endswith(str(mu["year"].iloc[0]))


def test_rr_group_sizes_from_n_exp_and_n_nexp(tmp_path: Path) -> None:
    table = tidy(read(ROOT / "tests/data/metaumbrella_df.RR.csv"))
    raw = pd.read_csv(ROOT / "tests/data/metaumbrella_df.RR.csv")
    first = table.set_index("study_id").loc[f"{raw['author'][0]} {raw['year'][0]}"]
    assert (first["events_treat"], first["n_treat"]) == (raw["n_cases_exp"][0], raw["n_exp"][0])
    assert (first["events_control"], first["n_control"]) == (raw["n_cases_nexp"][0], raw["n_nexp"][0])


def test_every_mapped_column(tmp_path: Path) -> None:
    text = (
        "meta_review,factor,author,year,measure,value,var,n_cases,n_controls,mean_pre_cases,sd_pre_cases,"
        "mean_cases,sd_cases,mean_pre_controls,sd_pre_controls,mean_controls,sd_controls,pre_post_cor,"
        "mean_change_cases,sd_change_cases,mean_change_controls,sd_change_controls,n_cases_exp,n_cases_nexp,"
        "time_exp,time_nexp,rob,indirectness,amstar,n_sample\n"
        "M1,f1,Ames,2001,SMC,0.4,0.04,20,22,10,2,12,2.5,10,2,11,2.5,0.7,NA,NA,NA,NA,NA,NA,NA,NA,"
        "high,very serious,9,NA\n"
        "M1,f1,Beck,2001,SMC,0.2,0.09,20,22,NA,NA,NA,NA,NA,NA,NA,NA,NA,1.5,1,0.5,1.1,NA,NA,NA,NA,high,no,9,NA\n"
        "M1,f2,Baker,1999,IRR,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,5,9,100.5,120,low,serious,9,NA\n"
        "M1,f3,Cole,2005,R,0.3,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA,low,no,9,50\n"
    )
    t = read(sheet(tmp_path, text)).table
    a, b, c, d = (t.loc[r] for r in (2, 3, 4, 5))
    assert [a[k] for k in ("review_id", "outcome", "study_id", "year", "measure")] == [
        "M1",
        "f1",
        "Ames 2001",
        2001,
        "SMC",
    ]
    assert a["estimate"] == 0.4 and a["se"] == pytest.approx(0.2) and b["se"] == pytest.approx(0.3)
    assert (a["mean_pre_treat"], a["sd_pre_treat"], a["mean_treat"], a["sd_treat"]) == (10, 2, 12, 2.5)
    assert (a["mean_pre_control"], a["sd_pre_control"], a["mean_control"], a["sd_control"]) == (10, 2, 11, 2.5)
    assert a["pre_post_cor"] == 0.7 and (a["n_cases"], a["n_controls"]) == (20, 22)
    assert (a["n_treat"], a["n_control"]) == (20, 22)  # for measures from means n_cases/n_controls are the arms
    changes = [b[f"{s}_change_{arm}"] for arm in ("treat", "control") for s in ("mean", "sd")]
    assert changes == [1.5, 1, 0.5, 1.1]
    assert (a["rob"], a["indirectness"], a["amstar"], b["indirectness"]) == ("high", "very_serious", 9, "no")
    assert (c["events_treat"], c["events_control"], c["time_treat"], c["time_control"]) == (5, 9, 100.5, 120)
    assert pd.isna(c["n_treat"]) and c["indirectness"] == "serious"
    assert d["n_sample"] == 50 and pd.isna(d["n_treat"])


def test_multiple_es_r_and_reverse_es(tmp_path: Path) -> None:
    text = (
        "meta_review,factor,author,year,measure,value,se,multiple_es,r,reverse_es\n"
        "M1,f1,Ames,2001,SMD,0.4,0.2,outcomes,0.3,reverse\n"
        "M1,f1,Ames,2001,SMD,0.2,0.3,outcomes,0.3,NA\n"
    )
    t = read(sheet(tmp_path, text)).table
    assert list(t["multiple_es"]) == ["outcomes"] * 2 and list(t["within_r"]) == [0.3, 0.3]
    assert t.loc[2, "reverse"] == "yes" and pd.isna(t.loc[3, "reverse"])


def test_unused_columns_are_kept_and_named_in_a_note(tmp_path: Path) -> None:
    text = (
        "meta_review,factor,author,year,measure,value,se,rob1_rand,my_notes,ci_level,analysis,discard\n"
        "M1,f1,Ames,2001,SMD,0.4,0.2,low,checked,90,,\n"
    )
    log = io.StringIO()
    loaded = read(sheet(tmp_path, text), log)
    assert loaded.extra_columns == ["rob1_rand", "my_notes"]
    assert loaded.table.loc[2, "ci_level"] == 90  # this project's own column, read as such
    note = log.getvalue()
    assert "metaumbrella's layout" in note and "`rob1_rand`, `my_notes`" in note and "not used" in note
    assert "ci_level" not in note and "analysis" not in note  # blank `analysis`/`discard` change nothing


def test_the_note_goes_to_the_given_log_only() -> None:
    raw = pd.DataFrame({"meta_review": ["A"], "factor": ["x"], "author": ["a"], "thr": ["1"]})
    log = io.StringIO()
    out, shown, problems = from_metaumbrella("study_effects", raw, "f.csv", log)
    assert (
        problems == []
        and "`thr`" in log.getvalue()
        and list(out.columns) == ["review_id", "outcome", "study_id", "thr"]
    )
    assert from_metaumbrella("study_effects", raw, "f.csv")[2] == []  # without a log: no note (the preflight)


def test_columns_that_change_the_analysis_are_input_errors(tmp_path: Path) -> None:
    text = (
        "meta_review,factor,author,year,measure,value,se,analysis,discard,shared_controls,shared_nexp\n"
        "M1,f1,Ames,2001,OR,1.4,0.2,allelic,,,\n"
        "M1,f1,Baker,2002,OR,1.2,0.2,,yes,,\n"
        "M1,f1,Cole,2003,OR,1.1,0.2,,,Ames,\n"
        "M1,f1,Dunn,2004,OR,1.1,0.2,,,,Ames\n"
    )
    with pytest.raises(InputError) as exc:
        read(sheet(tmp_path, text))
    found = {(p.row, p.column) for p in exc.value.problems}
    assert found == {(2, "analysis"), (3, "discard"), (4, "shared_controls"), (5, "shared_nexp")}
    message = str(exc.value)
    assert "allelic" in message and "doubles the sample sizes" in message and "would be analysed here" in message
    assert "number of comparisons" in message


def test_problems_name_the_files_own_columns(tmp_path: Path) -> None:
    text = (
        "meta_review,factor,author,year,measure,value,ci_lo,ci_up,n_cases_exp,n_controls_exp,n_exp,var\n"
        "M1,f1,Ames,2001,OR,abc,0.5,2,3,7,10,\n"
        "M1,f1,Baker,2002,OR,1,0.5,2,3,7,11,\n"
        "M1,f1,Cole,2003,OR,1,0.5,2,3,x,10,y\n"
        ",f1,Dunn,2004,OR,1,0.5,2,,,,\n"
    )
    with pytest.raises(InputError) as exc:
        read(sheet(tmp_path, text))
    found = {(p.row, p.column) for p in exc.value.problems}
    assert (2, "value") in found and (3, "n_exp") in found and (5, "meta_review") in found
    assert (4, "n_controls_exp") in found and (4, "var") in found
    assert not any(p.column in ("estimate", "review_id", "n_treat") for p in exc.value.problems)
    assert "is not n_cases_exp + n_controls_exp (10)" in str(exc.value)


def test_a_column_given_in_both_layouts(tmp_path: Path) -> None:
    text = "meta_review,factor,author,year,measure,value,estimate,se\nM1,f1,Ames,2001,SMD,0.4,0.4,0.2\n"
    with pytest.raises(InputError) as exc:
        read(sheet(tmp_path, text))
    assert [(p.column, "`value`" in p.message) for p in exc.value.problems] == [("estimate", True)]


# ----------------------------------------------------------------------------------------------------------------
# Writing, and reading back

MIXED = (
    "outcome,review_id,study_id,year,measure,estimate,se,ci_lower,ci_upper,events_treat,n_treat,events_control,"
    "n_control,time_treat,time_control,mean_treat,sd_treat,mean_control,sd_control,n_cases,n_controls,n_sample,"
    "rob,indirectness,amstar\n"
    "o1,M1,Ames 2001,2001,RR,,,,,12,40,20,41,,,,,,,,,,low,very serious,7\n"
    "o1,M1,Baker 2003,2003,RR,0.8,0.1,,,,,,,,,,,,,30,50,,high,no,7\n"
    "o2,M1,Cole 1999,1999,IRR,,,,,4,,9,,120.5,130,,,,,,,,unclear,,7\n"
    "o3,M1,Dunn 2010,2010,SMD,,,,,,25,,27,,,3.2,1.1,2.7,1.3,,,,low,,7\n"
    "o3,M1,Dunn 2011,2011,SMD,0.3,0.2,,,,,,,,,,,,,25,27,,low,,7\n"
    "o4,M1,Trial-7,,R,0.31,,0.1,0.5,,,,,,,,,,,,,80,low,,7\n"
    "o4,M1,Evans 2015,2015,MD,1.5,,0.2,2.8,,,,,,,,,,,,,,,,7\n"
)
NEW_MIXED = (
    "outcome,review_id,study_id,year,measure,estimate,se,multiple_es,within_r,reverse\n"
    "o1,M1,Ames 2001,2001,OR,1.3,0.2,outcomes,0.4,yes\n"
    "o1,M1,Ames 2001,2001,OR,1.1,0.3,outcomes,0.4,\n"
    "o1,M1,Baker 2003,2003,OR,0.9,0.1,,,no\n"
)


def round_trip(tmp_path: Path, text: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, str]:
    """The table of a sheet in this project's layout, written in metaumbrella's, and that read back."""
    original = table_of(write(tmp_path / "ours", "study_effects.csv", text).parent)
    out = tmp_path / "mu/study_effects.csv"
    out.parent.mkdir()
    frame = write_metaumbrella(original, out, io.StringIO())
    return original, frame, table_of(out.parent), out.read_text(encoding="utf-8")


def test_round_trip(tmp_path: Path) -> None:
    original, frame, back, text = round_trip(tmp_path, MIXED)
    assert list(frame.columns[:5]) == ["meta_review", "factor", "author", "year", "measure"]
    assert {"n_cases_exp", "n_controls_exp", "n_exp", "mean_cases", "time_exp", "n_sample"} <= set(frame)
    assert "Trial-7,NA,R" in text and "Ames,2001,RR" in text and "very serious" in text
    expected = contract(original).copy()
    # metaumbrella gives the arms' sizes of a measure from means as n_cases and n_controls: so are they written
    # (blank n_cases are n_treat by this project's default) and read back
    means = expected["measure"].eq("SMD")
    for ours, theirs in (("n_treat", "n_cases"), ("n_control", "n_controls")):
        blank = means & expected[theirs].isna()
        expected.loc[blank, theirs] = expected.loc[blank, ours]
        blank = means & expected[ours].isna()
        expected.loc[blank, ours] = expected.loc[blank, theirs]
    pd.testing.assert_frame_equal(contract(back), expected)


def test_round_trip_of_multiple_es_r_and_reverse(tmp_path: Path) -> None:
    original, frame, back, text = round_trip(tmp_path, NEW_MIXED)
    assert {"multiple_es", "r", "reverse_es"} <= set(frame) and ",reverse\n" in text
    expected = contract(original).copy()
    expected["reverse"] = expected["reverse"].replace({"no": None})  # metaumbrella has only "reverse" or NA
    pd.testing.assert_frame_equal(contract(back), expected)


@pytest.mark.parametrize("name", ["OR", "SMD"])
def test_round_trip_of_the_examples(name: str, tmp_path: Path) -> None:
    original = table_of(DATA / name / "project")
    out = tmp_path / "study_effects.csv"
    write_metaumbrella(original, out, io.StringIO())
    pd.testing.assert_frame_equal(contract(table_of(tmp_path)), contract(original))
    published = pd.read_csv(ROOT / f"tests/data/metaumbrella_df.{name}.csv")
    written = pd.read_csv(out)
    for col in ("meta_review", "factor", "author", "year", "measure", "value", "n_cases", "n_controls"):
        a = written.set_index(["author", "year"])[col] if col not in ("author", "year") else written[col]
        b = published.set_index(["author", "year"])[col] if col not in ("author", "year") else published[col]
        if col in ("author", "year"):
            assert sorted(a) == sorted(b)
        else:
            pd.testing.assert_series_equal(a.sort_index(), b.sort_index(), check_dtype=False)


def test_caveats_of_the_writer(tmp_path: Path) -> None:
    text = (
        "outcome,review_id,study_id,year,measure,estimate,ci_lower,ci_upper,ci_level,events_treat,n_treat,"
        "events_control,n_control,shared_controls,rob\n"
        "o1,M1,Ames 2001,2001,OR,1.2,0.9,1.6,90,,,,,,some concerns\n"
        "o1,M1,Baker 2002,2002,RD,,,,,3,10,5,12,2,low\n"
    )
    table = table_of(write(tmp_path, "study_effects.csv", text).parent)
    frame, caveats = to_metaumbrella(table)
    joined = "\n".join(caveats)
    assert "95% CI" in joined and "Ames 2001 (o1)" in joined
    assert "shared_controls is not written" in joined and "Baker 2002 (o1)" in joined
    assert "risk difference" in joined and "some concerns" in joined
    assert "shared_controls" not in frame and frame.loc[0, "rob"] == "some concerns"


def test_export_command(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "mu.csv"
    assert export_main(["--data", str(DATA / "SMD/project"), "--out", str(out)]) == 0
    assert "Wrote 33 rows" in capsys.readouterr().out
    written = pd.read_csv(out)
    given = pd.read_csv(DATA / "SMD/project/study_effects.csv")
    assert len(written) == 33 and np.allclose(sorted(written["se"]), sorted(given["se"]), rtol=1e-15)
    write(tmp_path / "none", "reviews.csv", REVIEWS)
    assert export_main(["--data", str(tmp_path / "none"), "--out", str(tmp_path / "x.csv")]) == 1
    assert "no study_effects sheet" in capsys.readouterr().err and not (tmp_path / "x.csv").exists()


# ----------------------------------------------------------------------------------------------------------------
# Where the sheets are loaded (core.sheets: load_sheet in the jobs, load_files in the preflight)


def test_load_sheet_maps_the_layout_and_writes_the_note_to_the_log(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    text = "meta_review,factor,author,year,measure,value,se,rob1_rand\nM1,f1,Ames,2001,SMD,0.4,0.2,low\n"
    loaded = load_sheet("study_effects", sheet(tmp_path, text))
    assert loaded.table.loc[2, "study_id"] == "Ames 2001" and loaded.extra_columns == ["rob1_rand"]
    assert "`rob1_rand`" in capsys.readouterr().err  # a job's stderr is its log
    bad = "meta_review,factor,author,year,measure,value,se\nM1,f1,Ames,2001,SMD,abc,0.2\n"
    with pytest.raises(InputError) as exc:
        load_sheet("study_effects", sheet(tmp_path / "bad", bad))
    assert {p.column for p in exc.value.problems} == {"value"}


def test_load_dataset_reads_a_metaumbrella_folder_and_workbook(tmp_path: Path) -> None:
    folder = DATA / "OR/metaumbrella"
    expected = contract(table_of(DATA / "OR/project"))
    pd.testing.assert_frame_equal(contract(tidy(load_dataset(folder)["study_effects"])), expected)
    book = tmp_path / "review.xlsx"
    with pd.ExcelWriter(book) as xl:
        for name in ("reviews", "study_effects"):
            pd.read_csv(folder / f"{name}.csv").to_excel(xl, sheet_name=name, index=False)
    got = contract(tidy(load_dataset(book)["study_effects"]))
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-15)


# ----------------------------------------------------------------------------------------------------------------
# The workflow


def run_pooled(tmp_path: Path, folder: Path) -> bytes:
    work = copy_workflow(tmp_path)
    data = work / "data/raw/mine"
    data.mkdir(parents=True)
    for f in folder.iterdir():
        (data / f.name).write_bytes(f.read_bytes())
    config = yaml.safe_load((work / "config/config.yaml").read_text(encoding="utf-8"))
    config.update(data="data/raw/mine", title="metaumbrella's layout", published={}, prisma=None)
    (work / "config/mine.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    result = snakemake(work, "results/mine/effects/pooled.csv", "--cores", "2", "--configfile", "config/mine.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    return (work / "results/mine/effects/pooled.csv").read_bytes()


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["OR", "SMD"])
def test_workflow_gives_the_same_pooled_csv_from_both_layouts(name: str, tmp_path: Path) -> None:
    theirs = run_pooled(tmp_path / "metaumbrella", DATA / name / "metaumbrella")
    ours = run_pooled(tmp_path / "project", DATA / name / "project")
    assert theirs == ours
    factors = set(pd.read_csv(DATA / name / "metaumbrella/study_effects.csv")["factor"])
    assert set(pd.read_csv(io.BytesIO(ours))["outcome"]) == factors
