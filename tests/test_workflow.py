"""End-to-end runs of the workflow in a temporary copy: both bundled datasets, a user config, broken sheets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import copy_workflow, files_under, snakemake

pytestmark = pytest.mark.e2e


def test_default_run_writes_the_report_of_the_cooper_data(default_run: Path) -> None:
    html = (default_run / "reports/umbrella_review.html").read_text(encoding="utf-8")
    assert "Peer support for mental health" in html
    for review in ["Burke 2019", "Chien 2019", "Fang 2022", "Lloyd-Evans 2014", "ref36"]:
        assert review in html
    assert "<strong>71\u00a0%</strong> of the 35 reviews of the published overview" in html
    assert "PROSPERO CRD42022362099" in html
    assert "SIMULATED" not in html
    for table in ["reviews", "effects", "implementation", "experiences", "characteristics", "reviews_by_type"]:
        assert (default_run / f"results/extract/{table}.csv").is_file()
    assert not (default_run / "results/extract/amstar2.csv").exists()


def test_default_run_uses_the_published_ratings(default_run: Path) -> None:
    from umbrella.core.tables import read_table

    ratings = read_table(default_run / "results/quality/amstar2_ratings.csv", {}).set_index("review_id")
    published = ratings[ratings["rating_source"] == "reported"]
    assert len(published) == 10
    assert published["rating"].value_counts().to_dict() == {"critically_low": 7, "low": 2, "high": 1}
    assert ratings.loc["Chien2019", "rating"] == "high"
    assert (ratings.loc[ratings["rating_source"].isna(), "rating"] == "incomplete").all()
    html = (default_run / "reports/umbrella_review.html").read_text(encoding="utf-8")
    assert "<strong>9 of the 10 rated reviews</strong> were rated low or critically low" in html
    assert "High: no critical flaw and at most one non-critical weakness." in html
    assert not (default_run / "results/quality/amstar2_matrix.svg").exists()


def test_default_run_shows_the_16_published_effects(default_run: Path) -> None:
    from umbrella.core.tables import output_types, read_table

    effects = read_table(default_run / "results/effects/review_effects.csv", output_types("review_effects"))
    assert len(effects) == 16
    assert sorted(effects.loc[effects["flag_incomplete"], "effect_id"]) == ["E05", "E16"]
    assert set(effects["outcome_group"]) == {"Depression", "Recovery", "Hope"}
    fang = effects.set_index("effect_id").loc["E01"]
    assert (fang["estimate"], fang["ci_lower"], fang["ci_upper"], fang["p_value"]) == (-0.39, -0.54, -0.24, "< 0.00001")
    assert fang["direction"] == "benefit" and fang["amstar2_rating"] == "critically_low"
    forests = sorted(p.name for p in (default_run / "results/effects/forest").glob("*.svg"))
    assert forests == ["forest_depression.svg", "forest_hope.svg", "forest_recovery.svg"]
    html = (default_run / "reports/umbrella_review.html").read_text(encoding="utf-8")
    assert "16 pooled results in 3 outcome groups; 2 with numbers missing" in html
    assert "The best evidence for an outcome is the result of the review with the highest AMSTAR-2 rating" in html
    assert "Verdict per outcome: insufficient with one review" in html


def test_default_run_shows_the_visible_parts_of_tables_5_to_7(default_run: Path) -> None:
    implementation = (default_run / "results/synthesis/implementation.csv").read_text(encoding="utf-8")
    assert implementation.splitlines()[1].startswith("innovation,Innovation,,,,5,ref36;ref39;ref46;ref50;ref59,")
    experiences = (default_run / "results/synthesis/experiences.csv").read_text(encoding="utf-8")
    assert "What the PSW role can bring,Recovery and role models,PSWs;Service users,8," in experiences
    questions = (default_run / "results/synthesis/questions.csv").read_text(encoding="utf-8")
    assert "effectiveness,How effective is peer support for mental health?,10,23," in questions
    assert not (default_run / "results/synthesis/prisma.csv").exists()
    html = (default_run / "reports/umbrella_review.html").read_text(encoding="utf-8")
    assert "No finding was extracted for: Inner setting, Individuals, Implementation process." in html
    assert "Overview of the research questions" in html and "adequate training and supervision" in html
    assert "no flow diagram is drawn" in html
    assert "no citation matrix was extracted" in html and "reports 426 primary studies" in html
    assert not (default_run / "results/overlap").exists()
    assert not (default_run / "results/effects/pooled.csv").exists()


def test_second_run_has_nothing_to_do(default_run: Path, copy_run) -> None:
    work = copy_run(default_run)
    result = snakemake(work, "--cores", "2")
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


def test_editing_one_sheet_reruns_only_what_depends_on_it(default_run: Path, copy_run) -> None:
    work = copy_run(default_run)
    effects = work / "data/raw/cooper2024/effects.csv"
    effects.write_text(effects.read_text(encoding="utf-8").replace("0.39", "0.38", 1), encoding="utf-8")
    result = snakemake(work, "-n", "--cores", "2")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "rule extract_sheet:" in out and "wildcards: sheet=effects" in out and "rule render_report:" in out
    assert "rule extract_reviews:" not in out and "sheet=implementation" not in out


def test_lint_is_clean(default_run: Path) -> None:
    result = snakemake(default_run, "--lint")
    assert result.returncode == 0
    assert "Lints for" not in result.stdout + result.stderr


def test_simulated_run_replaces_the_default_config(simulated_run: Path, copy_run) -> None:
    work = copy_run(simulated_run)  # the clean run (the fixture checks it succeeds), copied: this test reruns it
    html = (work / "reports/simulated/umbrella_review.html").read_text(encoding="utf-8")
    assert "SIMULATED" in html and 'class="banner"' in html
    assert "partial extraction" not in html  # Cooper's published totals are not merged in
    for sheet in ["amstar2", "effects", "studies", "study_effects", "implementation", "experiences"]:
        assert (work / f"results/simulated/extract/{sheet}.csv").is_file()
    ratings = (work / "results/simulated/quality/amstar2_ratings.csv").read_text(encoding="utf-8")
    assert ratings.count(",items,") == 35
    assert (work / "results/simulated/quality/amstar2_agreement.csv").read_text(encoding="utf-8").count("overall") == 1
    for figure in ["matrix", "items", "ratings"]:
        svg = (work / f"results/simulated/quality/amstar2_{figure}.svg").read_text(encoding="utf-8")
        assert svg.startswith("<?xml") and "<dc:date>" not in svg
    assert "Agreement between raters" in html and "Disagreements with the published ratings" in html
    effects = (work / "results/simulated/extract/effects.csv").read_text(encoding="utf-8")
    groups = {line.split(",")[3] for line in effects.splitlines()[1:]}
    forests = list((work / "results/simulated/effects/forest").glob("forest_*.svg"))
    assert len(forests) == len(groups) >= 3
    pooled = (work / "results/simulated/effects/pooled.csv").read_text(encoding="utf-8").splitlines()
    # quality 3, evidence map, forests, implementation, flow, overlap heatmap, citation matrix, umbrella forest,
    # and three plots of each re-analysed meta-analysis
    expected = 3 + 1 + len(forests) + 2 + 1 + 1 + 1 + 3 * (len(pooled) - 1)
    assert html.count('src="data:image/svg+xml;base64,') == expected
    assert pooled[0].startswith("outcome,review_id,measure,k,n_cases,n_controls,n_total,estimate,se,ci_lower")
    assert len(pooled) == 1 + 9  # 3 outcomes x 3 reviews
    assert "Re-analysis of study-level data" in html and "Ioannidis classes" in html
    assert "PRISMA 2020 flow of the selection of reviews" in html
    overall = (work / "results/simulated/overlap/cca_overall.csv").read_text(encoding="utf-8").splitlines()
    assert overall[0] == "scope,N,r,c,x,cca,cca_adjusted,band" and overall[1].startswith("all reviews,903,189,35,")
    assert "Pairs of reviews" in html and "Overlap per outcome" in html and "Overlapping evidence:" in html
    prisma = (work / "results/simulated/synthesis/prisma.csv").read_text(encoding="utf-8")
    assert "Included,reviews_included,Reviews included in the overview,,35" in prisma

    # Counting a "Partial yes" as a flaw can only lower ratings, and the rerun (of the same analysis, named as the
    # first run's folders) is limited to what depends on it.
    text = (work / "config/simulated.yaml").read_text(encoding="utf-8")
    text = text.replace("partial_yes: met", "partial_yes: flaw").replace("\nname: null\n", "\nname: simulated\n")
    (work / "config/simulated_py.yaml").write_text(text, encoding="utf-8")
    result = snakemake(work, "--cores", "2", "--configfile", "config/simulated_py.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout + result.stderr
    assert "rate_amstar2" in out and "extract_reviews" not in out
    flaw = (work / "results/simulated/quality/amstar2_ratings.csv").read_text(encoding="utf-8")
    order = {"high": 0, "moderate": 1, "low": 2, "critically_low": 3}
    before = {line.split(",")[0]: line.split(",")[1] for line in ratings.splitlines()[1:]}
    after = {line.split(",")[0]: line.split(",")[1] for line in flaw.splitlines()[1:]}
    assert all(order[after[r]] >= order[before[r]] for r in before)
    assert any(order[after[r]] > order[before[r]] for r in before)


def test_own_config_with_other_questions(tmp_path: Path) -> None:
    work = copy_workflow(tmp_path)
    (work / "data/raw/mine").mkdir()
    (work / "data/raw/mine/reviews.xlsx").write_bytes(b"")
    import pandas as pd

    pd.DataFrame(
        {"review_id": ["R1", "R2"], "year": [2020, 2021], "research_questions": ["Costs", "costs;harms"]}
    ).to_excel(work / "data/raw/mine/reviews.xlsx", index=False)
    (work / "config/mine.yaml").write_text(
        "data: data/raw/mine\ntitle: My overview\nresearch_questions:\n"
        '  costs:\n    label: "What does it cost?"\n  harms:\n    label: "What harms?"\n',
        encoding="utf-8",
    )
    result = snakemake(work, "--cores", "2", "--configfile", "config/mine.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    by_question = (work / "results/mine/extract/reviews_by_question.csv").read_text(encoding="utf-8")
    assert by_question.splitlines()[1:3] == ["costs,What does it cost?,2,0,", "harms,What harms?,1,0,"]
    assert "effectiveness" not in by_question


def test_broken_sheets_give_one_message_naming_every_bad_cell_and_write_nothing(tmp_path: Path) -> None:
    work = copy_workflow(tmp_path)
    data = work / "data/raw/cooper2024"
    reviews = data / "reviews.csv"
    text = reviews.read_text(encoding="utf-8")
    text = text.replace("Burke2019,Burke,2019,", "Burke2019,Burke,20l9,", 1)
    text = text.replace(",critically_low,", ",very low,", 1)
    reviews.write_text(text, encoding="utf-8")
    effects = data / "effects.csv"
    lines = effects.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].replace("Fang2022", "Fang2O22", 1)
    lines[2] = lines[2].replace("-0.37", "0.37", 1)
    effects.write_text("".join(lines), encoding="utf-8")

    result = snakemake(work, "--cores", "2")
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "The extraction sheets have problems: 4 problems" in out
    assert "data/raw/cooper2024/reviews.csv, row 2, column year: '20l9': is not a number" in out
    assert (
        "column amstar2_reported: 'very low': is not an allowed value; allowed: high, moderate, low, critically_low"
        in out
    )
    assert "data/raw/cooper2024/effects.csv, row 2, column review_id: 'Fang2O22'" in out
    assert (
        "data/raw/cooper2024/effects.csv, row 3, column estimate: '0.37': lies outside its confidence interval" in out
    )
    assert files_under(work / "results") == []
    assert files_under(work / "reports") == []


def test_flow_counts_that_do_not_add_up_stop_the_run(tmp_path: Path) -> None:
    work = copy_workflow(tmp_path)
    text = (
        (work / "config/simulated.yaml")
        .read_text(encoding="utf-8")
        .replace("reports_assessed: 138", "reports_assessed: 139")
    )
    (work / "config/bad_flow.yaml").write_text(text, encoding="utf-8")
    result = snakemake(work, "--cores", "2", "--configfile", "config/bad_flow.yaml")
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "The configuration has problems: 2 problems" in out
    assert "key prisma.reports_assessed: '139': should be 138 (reports sought 144 - not retrieved 6)" in out
    assert "key prisma.reviews_included: '35': should be 36" in out
    assert files_under(work / "results") == []


def test_bad_config_is_reported_before_anything_runs(tmp_path: Path) -> None:
    work = copy_workflow(tmp_path)
    (work / "config/bad.yaml").write_text(
        "data: data/raw/nowhere\ntitle: x\nresearch_questions: {}\n", encoding="utf-8"
    )
    result = snakemake(work, "--cores", "2", "--configfile", "config/bad.yaml")
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "research_questions" in out and "should be non-empty" in out
    assert files_under(work / "results") == []


def visible_text(html: str) -> str:
    """The report's text as a reader sees it: no script, style, tags or embedded images."""
    import html as entities

    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return entities.unescape(re.sub(r"<[^>]+>", " ", body))


def test_default_run_shows_the_published_quality_summary_beside_the_extracted_one(default_run: Path) -> None:
    html = (default_run / "reports/umbrella_review.html").read_text(encoding="utf-8")
    summary = html.split('<section id="summary">', 1)[1].split("</section>", 1)[0]
    quality = html.split('<section id="quality">', 1)[1].split("</section>", 1)[0]
    published = "<strong>34 of 35</strong> reviews (97\u00a0%) were rated low or critically low in the published"
    assert published in summary
    assert "<strong>9 of 10</strong> rated reviews (90\u00a0%) in this extraction" in summary
    assert "Published: 34 of 35 reviews (97\u00a0%) rated low or critically low" in quality
    for part in (summary, quality):  # the counts differ because most reviews could not be rated from the sheets
        assert "The two counts differ: the overview rated 35 reviews, this extraction gives a rating for 10" in part
    assert '<a href="https://doi.org/10.1186/s12916-024-03260-y">doi:10.1186/s12916-024-03260-y</a>' in html
    text = visible_text(html.split('<section id="provenance">', 1)[0])  # provenance names files, as it must
    assert "< 0.00001 / <\u00a00.001" in text  # Fang 2022: as printed / recomputed (3.5e-07), p_values: threshold
    assert "SMD −0.39 [−0.54, −0.24]" in text and "−1.63 to 0.85" in text  # minus signs, prediction interval too
    for internal in ("config", "sheet", "column", "`"):
        hit = re.search(internal, text, flags=re.I)
        assert not hit, f"{internal!r} in the report's text: {text[hit.start() - 80 : hit.start() + 40]}"


def test_simulated_report_links_reviews_numbers_tables_and_figures_and_prints_numbers(simulated_run: Path) -> None:
    html = (simulated_run / "reports/simulated/umbrella_review.html").read_text(encoding="utf-8")
    targets = set(re.findall(r'<tr id="(review-[^"]+)">', html))
    links = re.findall(r'<a class="review" href="#(review-[^"]+)">', html)
    assert len(targets) == 35 and set(links) == targets  # every review is linked to, and every link has its row
    implementation = html.split('<section id="implementation">', 1)[1].split("</section>", 1)[0]
    assert implementation.count('<a class="review" href="#review-') >= 50
    assert html.count('href="https://doi.org/10.5555/sim.') == 35
    # tables and figures carry the numbers of the supplement
    supplement = simulated_run / "reports/simulated/supplement"
    tables = {p.name.split("_", 1)[0] for p in (supplement / "tables").glob("*.csv")}
    numbered = set(re.findall(r"Table (S\d+[a-z]?)\. ", html))
    assert numbered and numbered <= tables and {"S1", "S3a", "S6a", "S7", "S8"} <= numbered
    readme = (supplement / "README.md").read_text(encoding="utf-8")
    figures = re.findall(r"<strong>Figure (S\d+[a-z]?)\.</strong>", html)
    assert len(figures) == len(set(figures)) >= 9 and "S7a" in figures  # the forest plots, one part per group
    for label in figures:
        assert f"- Figure {label}:" in readme
    assert not (supplement / ".snakemake_timestamp").exists()
    # numbers as a reader expects them: minus signs, no e-notation, thousands separators, p in the set style
    text = visible_text(html).split("Extraction sheets read")[0]  # file hashes and names follow
    assert not re.search(r"(?<![\w.])-\d", text), re.search(r".{40}(?<![\w.])-\d.{20}", text)
    assert not re.search(r"\d[eE]-?\d", text)
    assert "1,680" in html and "−" in text  # the amstar2 sheet's rows; negative estimates
    assert "×\u00a010⁻" in text  # config/simulated.yaml asks for exact p-values
