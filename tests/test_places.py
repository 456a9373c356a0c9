"""Each analysis writes to its own folders: two configs in one project never overwrite each other."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import files_under, snakemake
from umbrella.core.places import analysis_name, name_problem, place


def test_the_default_config_keeps_the_top_folders() -> None:
    assert analysis_name({}, ["config/config.yaml"]) == ""
    assert analysis_name({}, []) == ""
    assert place("results/effects/pooled.csv", "") == "results/effects/pooled.csv"


def test_another_config_is_named_after_its_file_unless_it_names_itself() -> None:
    assert analysis_name({}, ["config/simulated.yaml"]) == "simulated"
    assert analysis_name({}, ["/home/me/other/config.yaml"]) == "config"
    assert analysis_name({}, ["config/my review (v2).yml"]) == "my_review__v2_"
    assert analysis_name({"name": "trial"}, ["config/config.yaml"]) == "trial"
    assert analysis_name({"name": None}, ["config/a.yaml", "config/b.yaml"]) == "b"  # the last one given


def test_place_moves_only_the_output_folders() -> None:
    assert place("results/effects/pooled.csv", "sim") == "results/sim/effects/pooled.csv"
    assert place("reports/supplement", "sim") == "reports/sim/supplement"
    assert place("logs/benchmarks/all.tsv", "sim") == "logs/sim/benchmarks/all.tsv"
    assert place("results", "sim") == "results/sim"
    assert place("data/raw/x.csv", "sim") == "data/raw/x.csv"
    assert place("resultsx/a.csv", "sim") == "resultsx/a.csv"


@pytest.mark.parametrize("name", ["effects", "Supplement", "../up", "a/b", ".hidden", "x" * 65])
def test_names_that_would_write_into_another_analysis_are_refused(name: str) -> None:
    assert name_problem(name)


@pytest.mark.e2e
def test_a_second_config_leaves_the_default_analysis_untouched(default_run: Path, copy_run) -> None:
    work = copy_run(default_run)
    before = {p: p.read_bytes() for part in ("results", "reports") for p in files_under(work / part)}
    result = snakemake(work, "--cores", "2", "--configfile", "config/simulated.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    after = {p: p.read_bytes() for part in ("results", "reports") for p in files_under(work / part)}
    new = sorted(str(p.relative_to(work)) for p in after.keys() - before.keys())
    assert all(n.startswith(("results/simulated/", "reports/simulated/")) for n in new), new[:5]
    assert "reports/simulated/umbrella_review.html" in new and "reports/simulated/supplement.zip" in new
    assert all(after[p] == content for p, content in before.items())
    assert (work / "logs/simulated/render_report.log").is_file()
    # back to the default analysis: nothing to redo, and its report never mentions the simulated one
    again = snakemake(work, "-n")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
    assert "SIMULATED" not in (work / "reports/umbrella_review.html").read_text(encoding="utf-8")


@pytest.mark.e2e
def test_a_reserved_name_stops_the_run_before_anything_is_written(tmp_path: Path) -> None:
    from conftest import copy_workflow

    work = copy_workflow(tmp_path / "work")
    text = (work / "config/simulated.yaml").read_text(encoding="utf-8").replace("\nname: null\n", "\nname: effects\n")
    (work / "config/clash.yaml").write_text(text, encoding="utf-8")
    result = snakemake(work, "--cores", "2", "--configfile", "config/clash.yaml")
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "config/clash.yaml" in out and "key name: 'effects'" in out and "folder of the default analysis" in out
    assert files_under(work / "results") == [] and files_under(work / "reports") == []
