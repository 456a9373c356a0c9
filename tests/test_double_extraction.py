"""Double extraction in the workflow: the simulated extractors' planted disagreements found exactly, the report
and the supplement showing them, a run refused while the reconciled set leaves disagreements open (and allowed
when the config says so), and a bad cell of an extractor's copy named like any other."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT, copy_workflow, snakemake
from umbrella.simulate.extractors import EXTRACTORS, SLIPS, write_copies

COPIES = ROOT / "data/raw/simulated_extractors"
PLANTED = COPIES / "planted.csv"


def read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_committed_copies_are_what_the_generator_writes(tmp_path: Path) -> None:
    planted = write_copies(ROOT / "data/raw/simulated", tmp_path)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.csv"))
    committed = sorted(p.relative_to(COPIES) for p in COPIES.rglob("*.csv"))
    assert written == committed
    for rel in written:
        assert (tmp_path / rel).read_bytes() == (COPIES / rel).read_bytes(), f"{rel} differs: regenerate it"
    assert len(planted) == len(SLIPS)


def test_the_simulated_config_compares_the_two_copies_against_the_dataset() -> None:
    config = yaml.safe_load((ROOT / "config/simulated.yaml").read_text(encoding="utf-8"))
    extractors = config["double_extraction"]["extractors"]
    assert list(extractors) == list(EXTRACTORS)
    assert all((ROOT / place).is_dir() for place in extractors.values())
    assert config["data"] == "data/raw/simulated"


@pytest.mark.e2e
def test_the_planted_disagreements_are_found_exactly(simulated_run: Path) -> None:
    found = read(simulated_run / "results/simulated/extract/extraction_disagreements.csv")
    shown = [{k: row[k] for k in ("sheet", "key", "column", "kind", *EXTRACTORS)} for row in found]
    assert shown == read(PLANTED)
    # the reconciled set is the dataset itself: every disagreement settled, with the dataset's value
    assert {row["status"] for row in found} == {"reconciled"}
    for row in found:
        if row["kind"] == "value":
            truth = [row[e] for e in EXTRACTORS if not any(s.extractor == e and s.key == row["key"] for s in SLIPS)]
            assert row["reconciled"] == truth[0], row
    rows = {row["key"]: row["reconciled"] for row in found if row["kind"] == "row"}
    assert sorted(rows.values()) == ["absent", "present"]  # the row MK left out is kept, JS's added one is not


@pytest.mark.e2e
def test_agreement_counts_the_planted_slips(simulated_run: Path) -> None:
    table = pd.read_csv(simulated_run / "results/simulated/extract/extraction_agreement.csv")
    cells = table[table["column"].eq("(all cells)")].set_index("sheet")
    rows = table[table["column"].eq("(rows)")].set_index("sheet")
    value_slips = pd.Series([s.sheet for s in SLIPS if s.column]).value_counts()
    for sheet, n in value_slips.items():
        assert cells.at[sheet, "n_disagreements"] == n
    assert rows.at["studies", "n_disagreements"] == 1 and rows.at["implementation", "n_disagreements"] == 1
    assert rows.at["studies", "n_compared"] == len(pd.read_csv(ROOT / "data/raw/simulated/studies.csv"))
    column = table[(table["sheet"] == "reviews") & (table["column"] == "review_type")].iloc[0]
    assert column["categorical"] and column["n_disagreements"] == 1 and 0 < column["kappa"] < 1
    assert "amstar2" not in set(table["sheet"])  # not in the copies


@pytest.mark.e2e
def test_report_and_supplement_show_the_comparison(simulated_run: Path) -> None:
    report = (simulated_run / "reports/simulated/umbrella_review.html").read_text(encoding="utf-8")
    assert 'id="double-extraction"' in report and "JS and MK extracted the data independently" in report
    assert "Table S11b" in report and "Cohen&#39;s kappa" in report
    assert "12-month follow-up" in report  # a disagreement's value, in the table of disagreements
    supplement = simulated_run / "reports/simulated/supplement"
    names = {p.name for p in supplement.rglob("*.csv")}
    assert {"S11a_extraction_agreement.csv", "S11b_extraction_disagreements.csv"} <= names


def _analysis(work: Path, name: str, data: str, unreconciled: str = "refuse") -> str:
    config = yaml.safe_load((work / "config/simulated.yaml").read_text(encoding="utf-8"))
    config.update(name=name, data=data)
    config["double_extraction"]["unreconciled"] = unreconciled
    (work / f"config/{name}.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return f"config/{name}.yaml"


@pytest.mark.e2e
def test_unreconciled_disagreements_stop_the_run_unless_allowed(tmp_path: Path) -> None:
    work = copy_workflow(tmp_path / "work")
    # the reconciled set lacks the row of one disagreement (effects E005): that one is open
    settled = work / "data/reconciled"
    shutil.copytree(work / "data/raw/simulated", settled)
    effects = (settled / "effects.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (settled / "effects.csv").write_text("".join(r for r in effects if not r.startswith("E005,")), encoding="utf-8")
    refused = snakemake(work, "-n", "--configfile", _analysis(work, "open", "data/reconciled"))
    said = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert "The extractors disagree on 1 cell or row that the reconciled set (data: in the config) does not " in said
    assert "data/reconciled/effects.csv, column k_studies: 'effect_id = E005': the extractors disagree " in said
    assert "(JS: '7'; MK: '8'); the reconciled set has no row with this key" in said
    assert "rows are numbered" not in said and "Settle each disagreement in the reconciled set" in said
    assert not (work / "results").exists() and not (work / "reports").exists()
    allowed = snakemake(work, "-n", "--configfile", _analysis(work, "open_allowed", "data/reconciled", "allow"))
    assert allowed.returncode == 0, allowed.stderr[-3000:]
    said = allowed.stdout + allowed.stderr
    assert "1 disagreement between the extractors is not reconciled (double_extraction.unreconciled: allow)" in said
    again = snakemake(work, "-n", "--configfile", "config/open_allowed.yaml")  # said on every run, not only the first
    assert "1 disagreement between the extractors is not reconciled" in again.stdout + again.stderr


@pytest.mark.e2e
def test_a_copy_of_one_extractor_settles_nothing(tmp_path: Path) -> None:
    work = copy_workflow(tmp_path / "work")
    # `data` naming one extractor's copy
    own = snakemake(work, "-n", "--configfile", _analysis(work, "own", "data/raw/simulated_extractors/JS"))
    said = own.stdout + own.stderr
    assert own.returncode != 0 and "The extractors disagree on 8 cells or rows" in said
    assert "the reconciled set is JS's copy, so none is reconciled" in said
    # ... or a copy of it made to be reconciled, not yet edited
    shutil.copytree(work / "data/raw/simulated_extractors/JS", work / "data/reconciled")
    copied = snakemake(work, "-n", "--configfile", _analysis(work, "copied", "data/reconciled"))
    said = copied.stdout + copied.stderr
    assert copied.returncode != 0 and "The extractors disagree on 8 cells or rows" in said
    assert "the reconciled set holds the values of JS's copy, so none is reconciled yet" in said
    # one cell settled (MK's year of Sim004 taken): the set is no longer JS's copy, every disagreement is settled
    reviews = work / "data/reconciled/reviews.csv"
    reviews.write_text(
        reviews.read_text(encoding="utf-8").replace("Sim004,Nettlecroft,2017,", "Sim004,Nettlecroft,2018,")
    )
    settled = snakemake(work, "-n", "--configfile", "config/copied.yaml")
    assert settled.returncode == 0, (settled.stdout + settled.stderr)[-3000:]


@pytest.mark.e2e
def test_a_bad_cell_in_an_extractors_copy_is_named(tmp_path: Path) -> None:
    work = copy_workflow(tmp_path / "work")
    sheet = work / "data/raw/simulated_extractors/MK/effects.csv"
    lines = sheet.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace(",SMD,", ",SDM,", 1)
    sheet.write_text("".join(lines), encoding="utf-8")
    result = snakemake(work, "-n", "--configfile", "config/simulated.yaml")
    said = result.stdout + result.stderr
    assert result.returncode != 0
    assert "The extractors' copies of the sheets have problems" in said
    assert "data/raw/simulated_extractors/MK/effects.csv, row 4, column measure: 'SDM'" in said
    assert not (work / "results").exists()


def test_agreement_short_of_all_cells_never_prints_as_100_percent() -> None:
    from umbrella.report.section_contexts import agreement_percent

    assert agreement_percent(2116, 2117) == 99.9  # 99.953 would round to 100.0
    assert agreement_percent(32, 33) == pytest.approx(96.969697, abs=1e-6)
    assert agreement_percent(5, 5) == 100 and agreement_percent(0, 0) is None
