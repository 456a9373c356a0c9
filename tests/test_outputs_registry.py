"""The output registry (workflow/schemas/outputs.yaml) and what is derived from it; the workflow as a module."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from conftest import ROOT, snakemake
from umbrella.core.registry import (
    CAPTIONS,
    active,
    caption_text,
    conditions,
    figure_labels,
    part_labels,
    registry,
    rule_outputs,
    supplement_figures,
    supplement_labels,
    supplement_tables,
)
from umbrella.core.tables import output_dictionary
from umbrella.docs import README, readme_with_outputs

ALL = conditions({"reviews", "amstar2", "effects", "study_effects", "studies", "implementation", "experiences"}, {1: 1})
REVIEWS_ONLY = conditions({"reviews"}, None)


def test_every_output_is_declared_once_with_its_caption_file() -> None:
    keys = [(o.kind, o.key) for o in registry()]
    paths = [o.path for o in registry()]
    assert len(set(keys)) == len(keys) and len(set(paths)) == len(paths)
    for output in registry():
        assert (CAPTIONS / output.caption_file).read_text(encoding="utf-8") == caption_text(output), output.key
    generated = {o.caption_file for o in registry()} | {"umbrella_review.rst", "umbrella_review_pdf.rst"}  # the reports
    assert {p.name for p in CAPTIONS.glob("*.rst")} == generated  # no stale caption files


def test_readme_table_of_outputs_is_up_to_date() -> None:
    text = README.read_text(encoding="utf-8")
    assert readme_with_outputs(text) == text, "run `.venv/bin/python -m umbrella.docs config/README.md`"


def test_conditions_switch_outputs_on_and_off() -> None:
    assert set(active(REVIEWS_ONLY)) < set(active(ALL))
    assert "table_pooled" in active(ALL) and "table_pooled" not in active(REVIEWS_ONLY)
    assert set(rule_outputs("compute_overlap", ALL)) == {
        "overall", "pairwise", "frequency", "review_studies", "by_outcome", "figure", "matrix", "matrix_figure"
    }  # fmt: skip
    assert rule_outputs("compute_overlap", REVIEWS_ONLY) == {}
    # agreement between raters is written always but published only with an amstar2 sheet
    assert "table_amstar2_agreement" in active(REVIEWS_ONLY)
    assert "amstar2_agreement" not in supplement_labels(REVIEWS_ONLY)


def test_supplement_tables_are_numbered_in_order_and_documented() -> None:
    labels = [o.supplement["label"] for o in supplement_tables(ALL)]
    assert labels == ["S1", "S2", "S3a", "S3b", "S3c", "S4a", "S4b", "S4c", "S4d", "S4e", "S5a", "S5b", "S5c", "S6a",
                      "S6b", "S6c", "S7", "S8", "S9", "S10"]  # fmt: skip
    dictionary = output_dictionary()
    for output in supplement_tables(ALL):
        assert output.sheet or dictionary[output.key]["columns"], output.key
        assert output.title, output.key


def test_every_supplement_figure_has_a_number() -> None:
    labels = [label for _, label in supplement_figures(ALL)]
    assert labels == [f"S{i}" for i in range(1, len(labels) + 1)]  # every figure of a full analysis, no gaps
    assert len(labels) == sum(o.kind == "figure" for o in registry())
    assert figure_labels(REVIEWS_ONLY) == {"amstar2_ratings_chart": "S2"}  # the only figure without other sheets


def test_a_figure_declared_without_a_label_is_numbered_after_the_others() -> None:
    from dataclasses import replace

    from umbrella.core import registry as reg

    extra = replace(next(o for o in registry() if o.key == "prisma_flow"), key="extra", path="x.svg", supplement=None)
    original, declared = reg.registry, len(figure_labels(ALL))
    try:
        reg.registry = lambda: (*original(), extra)
        assert reg.supplement_figures(ALL)[-1] == (extra, f"S{declared + 1}")
    finally:
        reg.registry = original


def test_the_parts_of_a_figure_are_lettered_in_the_order_of_their_files() -> None:
    assert part_labels("S6", ["forest_hope", "forest_depression"]) == {
        "forest_depression": "S6a",
        "forest_hope": "S6b",
    }
    assert part_labels("S6", ["forest_hope"]) == {"forest_hope": "S6"}
    many = part_labels("S6", [f"f{i:03d}" for i in range(30)])
    assert [many[f"f{i:03d}"] for i in (0, 25, 26, 29)] == ["S6a", "S6z", "S6aa", "S6ad"]


def test_report_refers_to_the_supplement_by_the_registry_labels() -> None:
    template = ROOT / "workflow/templates/report.html.j2"
    assert 'supp("pooled")' in template.read_text(encoding="utf-8")
    labels = supplement_labels(ALL)
    assert labels["pooled"] == "S6a" and labels["study_frequency"] == "S4d"


@pytest.mark.e2e
def test_the_workflow_runs_as_a_module_of_another_workflow(tmp_path: Path) -> None:
    """Another repository imports this workflow with Snakemake's `module` directive and runs it."""
    host = tmp_path / "host"
    (host / "config").mkdir(parents=True)
    (host / "data").symlink_to(ROOT / "data" / "raw", target_is_directory=True)
    config = (
        (ROOT / "config/config.yaml")
        .read_text(encoding="utf-8")
        .replace("data: data/raw/cooper2024", "data: data/cooper2024")
    )
    (host / "config/config.yaml").write_text(config, encoding="utf-8")
    (host / "Snakefile").write_text(
        textwrap.dedent(
            f"""\
            configfile: "config/config.yaml"


            module umbrella:
                snakefile:
                    "{ROOT / "Snakefile"}"
                config:
                    config


            use rule * from umbrella as umbrella_*
            """
        ),
        encoding="utf-8",
    )
    result = snakemake(host, "--cores", "2", "reports/umbrella_review.html", "reports/supplement.zip")
    assert result.returncode == 0, result.stderr[-3000:]
    html = (host / "reports/umbrella_review.html").read_text(encoding="utf-8")
    assert "Cooper" in html or "peer support" in html.lower()
    assert (host / "results/quality/amstar2_ratings.csv").exists()


def test_snakefiles_are_snakefmt_clean() -> None:
    import subprocess
    import sys

    files = [str(ROOT / "Snakefile"), *map(str, sorted((ROOT / "workflow/rules").glob("*.smk")))]
    result = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", *files], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
