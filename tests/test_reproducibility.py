"""Byte-for-byte reproducibility, reruns limited to what changed, and Snakemake's own report."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import copy_workflow, snakemake

pytestmark = pytest.mark.e2e


def digest(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (paths relative to it)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def outputs(work: Path) -> dict[str, str]:
    return {**{f"results/{k}": v for k, v in digest(work / "results").items()},
            **{f"reports/{k}": v for k, v in digest(work / "reports").items()}}  # fmt: skip


@pytest.fixture(scope="module")
def simulated_runs(simulated_run: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The simulated analysis in three independent clean runs, each in its own copy of the workflow: one with 4
    cores, the session's shared run (2 cores) and one with 1 core."""
    runs = []
    for cores in ("4", "1"):
        work = copy_workflow(tmp_path_factory.mktemp(f"run{cores}_"))
        result = snakemake(work, "--cores", cores, "--configfile", "config/simulated.yaml")
        assert result.returncode == 0, result.stderr[-3000:]
        runs.append(work)
    return [runs[0], simulated_run, runs[1]]


def test_two_clean_runs_and_one_or_four_cores_give_identical_bytes(simulated_runs: list[Path]) -> None:
    first, second, single = (outputs(w) for w in simulated_runs)
    assert len(first) > 40
    assert "reports/simulated/supplement.zip" in first and "reports/simulated/umbrella_review.html" in first
    assert "reports/simulated/umbrella_review.pdf" in first
    assert first == second
    assert first == single


def test_editing_one_effect_row_plans_only_the_jobs_that_depend_on_it(simulated_run: Path, copy_run) -> None:
    work = copy_run(simulated_run)
    effects = work / "data/raw/simulated/effects.csv"
    lines = effects.read_text(encoding="utf-8").splitlines(keepends=True)
    edited = lines[1].replace(",simulated,", ",simulated and checked,", 1)  # the row's `source` cell
    assert edited != lines[1]
    lines[1] = edited
    effects.write_text("".join(lines), encoding="utf-8")
    result = snakemake(work, "-n", "--quiet", "rules", "--configfile", "config/simulated.yaml")
    planned = result.stdout + result.stderr
    assert result.returncode == 0, planned
    # the re-analysis reads the effects sheet for the side each outcome favours
    # (and what depends on the re-analysis: the detail plots and the summary of findings)
    for rule in ("extract_sheet", "summarise_effects", "compute_overlap", "reanalyse_studies", "detail_meta_analyses",
                 "tabulate_findings", "record_provenance", "render_report", "render_pdf",
                 "assemble_supplement"):  # fmt: skip
        assert rule in planned, rule
    for rule in ("extract_reviews", "rate_amstar2", "synthesise_findings"):
        assert rule not in planned, rule


def test_editing_the_readme_plans_nothing(simulated_run: Path, copy_run) -> None:
    work = copy_run(simulated_run)
    (work / "README.md").write_text("# Notes of my own\n", encoding="utf-8")
    result = snakemake(work, "-n", "--configfile", "config/simulated.yaml")
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


def test_snakemake_report_with_captions_and_categories(simulated_run: Path, copy_run) -> None:
    import zipfile

    work = copy_run(simulated_run)
    result = snakemake(work, "--report", "reports/snakemake_report.zip", "--configfile", "config/simulated.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    with zipfile.ZipFile(work / "reports/snakemake_report.zip") as z:
        names = z.namelist()
        assert any(n.endswith("amstar2_ratings.csv") for n in names)
        text = b"".join(z.read(n) for n in names if n.endswith((".html", ".js", ".json")))
    for words in (b"Quality (AMSTAR-2)", b"Overlap", b"Effects", b"Syntheses", b"corrected covered area"):
        assert words in text, words
