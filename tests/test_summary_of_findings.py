"""The summary-of-findings table (umbrella.effects.findings_table): its rows for a small hand-built analysis whose
right answers are known by construction, its columns against the data dictionary, and its rows in the simulated
run against the rows of review_effects and pooled they came from."""

from __future__ import annotations

import math
import re
import shutil
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from umbrella.core.tables import output_dictionary, output_types, read_table
from umbrella.effects.findings_table import matched_reanalyses, summary_of_findings
from umbrella.effects.harmonise import harmonise
from umbrella.effects.settings import EffectSettings
from umbrella.effects.summary import outcome_summary
from umbrella.reanalysis.grade import GRADE_LABELS

LABELS = GRADE_LABELS["metaumbrella"]  # High, Moderate, Weak, Very weak
SETTINGS = EffectSettings.from_config({"favours": {"Depression": "lower", "Recovery": "higher"}})
RATINGS = {"R1": "high", "R2": "low", "R3": "critically_low", "R4": "moderate", "R5": "moderate"}
YEARS = {"R1": 2020, "R2": 2021, "R3": 2019, "R4": 2018, "R5": 2018}

# (effect_id, review_id, outcome_group, outcome, measure, estimate, ci_lower, ci_upper, k, n)
EFFECTS = [
    # Depressive symptoms: R1 (high) would be best among published results, but R2 and R3 were re-run and
    # R3's re-run has the higher GRADE, so R3's re-run is the best evidence despite its review's rating.
    ("E01", "R1", "Depression", "Depressive symptoms", "SMD", -0.30, -0.50, -0.10, 10, 900),
    ("E02", "R2", "Depression", "Depressive symptoms", "SMD", -0.20, -0.35, -0.05, 30, 2500),
    ("E03", "R3", "Depression", "Depressive symptoms", "SMD", -0.45, -0.70, -0.20, 5, 400),
    # Depression caseness: no re-run; R4 and R5 are both moderate, R5 has more studies, so R5's result.
    ("E04", "R4", "Depression", "Depression caseness", "RR", 0.80, 0.60, 1.05, 8, 700),
    ("E05", "R5", "Depression", "Depression caseness", "RR", 0.70, 0.55, 0.90, 12, 1500),
    # Recovery: re-runs of R4 and R5 tie on GRADE, rating, k and year: the smaller review_id (R4) wins.
    ("E06", "R4", "Recovery", "Recovery", "SMD", 0.25, 0.05, 0.45, 6, 500),
    ("E07", "R5", "Recovery", "Recovery", "SMD", 0.30, 0.10, 0.50, 6, 520),
    # Readmission: its only re-run is a risk difference, which GRADE does not cover: AMSTAR-2 of R1 instead.
    ("E08", "R1", "Recovery", "Readmission", "RD", -0.05, -0.09, -0.01, 4, 300),
    # Hope: numbers missing, so there is no best evidence at all.
    ("E09", "R2", "Hope", "Hope", "SMD", None, None, None, 3, 150),
]
# (outcome, review_id, measure, k, n_total, estimate, ci_lower, ci_upper, class, grade)
POOLED = [
    ("Depressive symptoms", "R2", "SMD", 28, 2400, -0.22, -0.30, -0.14, "II", "Moderate"),
    ("Depressive symptoms", "R3", "SMD", 5, 3000, -0.40, -0.60, -0.20, "IV", "High"),
    ("Recovery", "R5", "SMD", 6, 520, 0.31, 0.11, 0.51, "IV", "Weak"),
    ("Recovery", "R4", "SMD", 6, 500, 0.26, 0.06, 0.46, "IV", "Weak"),
    ("Readmission", "R1", "RD", 4, 300, -0.05, -0.09, -0.01, "IV", None),
    # A re-run whose review reports no result of this outcome: it joins no row.
    ("Loneliness", "R1", "SMD", 7, 800, -0.10, -0.20, 0.00, "ns", "Weak"),
]


def effects_frame() -> pd.DataFrame:
    rows = pd.DataFrame(
        EFFECTS,
        columns=[
            "effect_id", "review_id", "outcome_group", "outcome", "measure", "estimate", "ci_lower", "ci_upper",
            "k_studies", "n_participants",
        ],
    )  # fmt: skip
    for col in ("estimate", "ci_lower", "ci_upper"):
        rows[col] = rows[col].astype(float)
    for col in ("k_studies", "n_participants"):
        rows[col] = rows[col].astype("Int64")
    for col in ("ci_level", "i2", "tau2"):
        rows[col] = np.nan
    rows["p_value"] = None
    rows["favours"] = None
    return rows


def review_effects(effects: pd.DataFrame | None = None) -> pd.DataFrame:
    """The hand-built results harmonised as the effects stage does, with labels, years and a class."""
    out = harmonise(effects_frame() if effects is None else effects, SETTINGS, RATINGS)
    out["review"] = out["review_id"].map(lambda r: f"Author {r}")
    out["review_year"] = out["review_id"].map(YEARS)
    out["class"] = "ns"
    return out


def pooled_frame() -> pd.DataFrame:
    return pd.DataFrame(
        POOLED,
        columns=[
            "outcome",
            "review_id",
            "measure",
            "k",
            "n_total",
            "estimate",
            "ci_lower",
            "ci_upper",
            "class",
            "grade",
        ],
    )


def reviews_frame() -> pd.DataFrame:
    return pd.DataFrame({"review_id": list(YEARS), "year": list(YEARS.values())})


def findings(effects: pd.DataFrame | None = None, pooled: pd.DataFrame | None = None) -> pd.DataFrame:
    harmonised = review_effects(effects)
    summary = outcome_summary(harmonised, SETTINGS)
    return summary_of_findings(harmonised, summary, reviews_frame(), pooled, SETTINGS, LABELS)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return findings(pooled=pooled_frame()).set_index("outcome")


def test_one_row_per_outcome_in_order(table: pd.DataFrame) -> None:
    assert list(table.index) == ["Depression caseness", "Depressive symptoms", "Hope", "Readmission", "Recovery"]
    assert list(table["outcome_group"]) == ["Depression", "Depression", "Hope", "Recovery", "Recovery"]


def test_the_highest_grade_re_run_is_the_best_evidence(table: pd.DataFrame) -> None:
    row = table.loc["Depressive symptoms"]
    assert (row["best_source"], row["best_review_id"], row["best_review"]) == ("reanalysis", "R3", "Author R3")
    assert row["best_effect_id"] is None
    assert (row["best_estimate"], row["best_ci_lower"], row["best_ci_upper"]) == (-0.40, -0.60, -0.20)
    assert (row["best_k"], row["best_participants"], row["best_class"]) == (5, 3000, "IV")
    assert (row["certainty"], row["certainty_source"], row["best_grade"]) == ("High", "GRADE", "High")
    assert row["best_amstar2"] == "critically_low"
    # lower values favour the intervention (Depression), so the oriented g is the SMD with its sign reversed
    assert row["best_g_benefit"] == pytest.approx(0.40)
    assert (row["best_g_benefit_lower"], row["best_g_benefit_upper"]) == pytest.approx((0.20, 0.60))
    assert row["n_reanalysed"] == 2 and row["n_reviews"] == 3


def test_largest_meta_analysis_counts_published_and_re_run(table: pd.DataFrame) -> None:
    row = table.loc["Depressive symptoms"]
    assert row["max_k"] == 30  # R2 as published (its re-run has 28)
    assert row["max_participants"] == 3000  # R3's re-run (R2 published 2,500)


def test_without_re_run_the_outcome_summary_best_is_kept_with_its_amstar2(table: pd.DataFrame) -> None:
    row = table.loc["Depression caseness"]
    assert (row["best_source"], row["best_review_id"], row["best_effect_id"]) == ("published", "R5", "E05")
    assert (row["certainty"], row["certainty_source"], row["best_grade"]) == ("Moderate", "AMSTAR-2", None)
    assert (row["best_measure"], row["best_estimate"], row["best_k"], row["best_participants"]) == (
        "RR",
        0.70,
        12,
        1500,
    )
    # RR as an odds ratio, ln(0.70)·√3/π, reversed because lower favours the intervention
    g = -math.log(0.70) * math.sqrt(3) / math.pi
    assert row["best_g_benefit"] == pytest.approx(g)
    assert row["best_g_benefit_lower"] == pytest.approx(-math.log(0.90) * math.sqrt(3) / math.pi)
    assert row["verdict"] == "mixed"  # E04 crosses 1, E05 shows benefit


def test_ties_are_broken_by_review_id(table: pd.DataFrame) -> None:
    assert table.loc["Recovery", "best_review_id"] == "R4"
    assert table.loc["Recovery", "best_estimate"] == 0.26
    assert table.loc["Recovery", "certainty"] == "Weak"


def test_the_order_of_the_input_rows_does_not_matter(table: pd.DataFrame) -> None:
    shuffled = findings(effects_frame().iloc[::-1].reset_index(drop=True), pooled_frame().iloc[::-1])
    pd.testing.assert_frame_equal(shuffled.set_index("outcome"), table)


def test_an_ungraded_re_run_takes_the_amstar2_of_its_review(table: pd.DataFrame) -> None:
    row = table.loc["Readmission"]
    assert (row["best_source"], row["best_review_id"]) == ("reanalysis", "R1")
    assert (row["certainty"], row["certainty_source"]) == ("High", "AMSTAR-2")
    assert pd.isna(row["best_g_benefit"])  # a risk difference has no equivalent g


def test_an_outcome_without_known_numbers_has_no_best_evidence(table: pd.DataFrame) -> None:
    row = table.loc["Hope"]
    assert row["best_source"] is None and row["best_review_id"] is None and row["certainty"] is None
    assert row["certainty_source"] is None and pd.isna(row["best_estimate"])
    assert (row["n_reviews"], row["n_meta_analyses"], row["max_k"], row["verdict"]) == (1, 0, 3, "insufficient")


def test_without_study_level_data_every_certainty_is_amstar2() -> None:
    table = findings(pooled=None).set_index("outcome")
    sources = table["certainty_source"].dropna()
    assert set(sources) == {"AMSTAR-2"} and (table["n_reanalysed"] == 0).all()
    # R1 (high) gives the best published result for depressive symptoms
    assert table.loc["Depressive symptoms", ["best_review_id", "best_effect_id"]].tolist() == ["R1", "E01"]
    assert table.loc["Depressive symptoms", "certainty"] == "High"
    assert table.loc["Depressive symptoms", "max_participants"] == 2500


def test_re_runs_matching_no_outcome_are_counted() -> None:
    matched, unmatched = matched_reanalyses(review_effects(), pooled_frame())
    assert unmatched == 1 and "Loneliness" not in set(matched["outcome"])


def test_columns_and_types_match_the_dictionary() -> None:
    frame = findings(pooled=pooled_frame())
    columns = output_dictionary()["summary_of_findings"]["columns"]
    assert list(frame.columns) == list(columns)
    kinds = {"integer": "Int64", "number": "float64", "string": "object"}
    for name, spec in columns.items():
        assert str(frame[name].dtype) == kinds[spec["type"]], name
        assert frame[name].notna().any(), f"{name} is blank in every row of the hand-built table"
        if "allowed" in spec:
            assert set(frame[name].dropna()) <= set(spec["allowed"]), name


# ----------------------------------------------------------------------------------------------------------------
# The report's subsection

PAYLOAD = "<script>alert(1)</script>"


def render_subsection(tmp_path: Path, row_limit: int) -> str:
    """The subsection as the report renders it: its partial under the report template's own macros."""
    from umbrella.report.html import render
    from umbrella.report.section_contexts import findings_context

    templates = ROOT / "workflow/templates"
    report = (templates / "report.html.j2").read_text(encoding="utf-8")
    macros = report[: report.index("<html")].removeprefix("<!DOCTYPE html>")  # the macros defined above the page
    (tmp_path / "page.html.j2").write_text(macros + '{% include "summary_of_findings.html.j2" %}')
    shutil.copy(templates / "summary_of_findings.html.j2", tmp_path)
    effects = effects_frame()
    effects.loc[effects["outcome"] == "Hope", "outcome"] = PAYLOAD
    harmonised = review_effects(effects)
    tables = {
        "review_effects": harmonised,
        "pooled": pooled_frame(),
        "summary_of_findings": summary_of_findings(
            harmonised, outcome_summary(harmonised, SETTINGS), reviews_frame(), pooled_frame(), SETTINGS, LABELS
        ),
    }
    context = {
        "findings": findings_context({"effects": {"favours": dict(SETTINGS.favours)}}, tables),
        "row_limit": row_limit,
        "supplement": {"summary_of_findings": "S5c"},
    }
    return render(context, tmp_path / "page.html.j2", templates / "report.css")


def test_subsection_escapes_caps_and_says_what_is_left_out(tmp_path: Path) -> None:
    html = render_subsection(tmp_path, row_limit=2)
    body = html.split("</style>", 1)[-1]
    assert "<script>" not in body and "&lt;script&gt;" not in body  # the outcome is past the first two rows
    assert "Below: the first 2 of 5 rows (the whole table is Table S5c in the supplement)" in body
    assert body.count('<th scope="row">') == 2
    assert "1 re-analysed meta-analysis matches no outcome" in body
    full = render_subsection(tmp_path, row_limit=200).split("</style>", 1)[-1]
    assert full.count('<th scope="row">') == 5 and "Below: the first" not in full
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in full and "<script>" not in full
    assert "Author R3, re-analysed, 5 studies" in full and "SMD \u22120.40 [\u22120.60, \u22120.20]" in full
    assert "+0.40 [0.20, 0.60]" in full and "GRADE (re-analysis)" in full and "AMSTAR-2 (review)" in full


# ----------------------------------------------------------------------------------------------------------------
# The simulated analysis


@pytest.mark.e2e
def test_simulated_run_rows_agree_with_their_sources(simulated_run: Path) -> None:
    def load(stem: str) -> pd.DataFrame:
        return read_table(simulated_run / f"results/simulated/effects/{stem}.csv", output_types(stem))

    sof, effects, summary, pooled = (
        load(s) for s in ("summary_of_findings", "review_effects", "outcome_summary", "pooled")
    )
    assert list(sof.columns) == list(output_dictionary()["summary_of_findings"]["columns"])
    effects["outcome_group"] = effects["outcome_group"].fillna("Ungrouped")
    outcomes = summary[summary["scope"] == "outcome"]
    assert sorted(zip(sof["outcome_group"], sof["outcome"], strict=True)) == sorted(
        zip(outcomes["outcome_group"], outcomes["outcome"], strict=True)
    )
    assert not sof.duplicated(["outcome_group", "outcome"]).any()
    assert set(sof["best_source"]) == {"published", "reanalysis"}  # the run exercises both
    for row in sof.itertuples():
        mine = effects[(effects["outcome_group"] == row.outcome_group) & (effects["outcome"] == row.outcome)]
        reruns = pooled[pooled["outcome"].eq(row.outcome) & pooled["review_id"].isin(mine["review_id"])]
        assert row.n_reanalysed == len(reruns)
        assert row.max_k == max(mine["k_studies"].max(), reruns["k"].max() if len(reruns) else 0)
        if row.best_source == "published":
            assert reruns.empty
            best = effects.set_index("effect_id").loc[row.best_effect_id]
            assert row.best_effect_id == outcomes.set_index("outcome").loc[row.outcome, "best_effect_id"]
            pairs = [("best_estimate", "estimate"), ("best_ci_lower", "ci_lower"), ("best_ci_upper", "ci_upper"),
                     ("best_g_benefit", "g_benefit"), ("best_g_benefit_lower", "g_benefit_lower")]  # fmt: skip
            assert row.best_k == best["k_studies"] and row.best_amstar2 == best["amstar2_rating"]
            assert row.certainty_source == "AMSTAR-2"
        else:
            best = pooled.set_index(["outcome", "review_id"]).loc[(row.outcome, row.best_review_id)]
            pairs = [("best_estimate", "estimate"), ("best_ci_lower", "ci_lower"), ("best_ci_upper", "ci_upper")]
            assert row.best_k == best["k"] and row.best_class == best["class"]
            ranks = reruns["grade"].map({g: i for i, g in enumerate(LABELS)}).fillna(len(LABELS))
            assert ranks.min() == (LABELS.index(best["grade"]) if best["grade"] else len(LABELS))  # highest GRADE
            if best["grade"]:
                assert (row.certainty, row.certainty_source, row.best_grade) == (best["grade"], "GRADE", best["grade"])
            else:
                assert row.certainty_source == "AMSTAR-2"
        for mine_col, theirs in pairs:
            assert getattr(row, mine_col) == pytest.approx(best[theirs], nan_ok=True), (row.outcome, mine_col)


@pytest.mark.e2e
def test_simulated_report_shows_one_row_per_outcome(simulated_run: Path) -> None:
    html = (simulated_run / "reports/simulated/umbrella_review.html").read_text(encoding="utf-8")
    section = html.split('id="summary-of-findings"', 1)[1].split("</table>", 1)[0]
    names = [unescape(n) for n in re.findall(r'<th scope="row">([^<]*)</th>', section)]
    sof = pd.read_csv(simulated_run / "results/simulated/effects/summary_of_findings.csv")
    assert names == list(sof["outcome"])
    assert "S5c" in section and "GRADE (re-analysis)" in section and "AMSTAR-2 (review)" in section


def test_published_only_keeps_the_re_runs_out_of_the_best_evidence() -> None:
    published = EffectSettings.from_config({"favours": dict(SETTINGS.favours), "findings_from": "published"})
    harmonised = review_effects()
    table = summary_of_findings(
        harmonised, outcome_summary(harmonised, published), reviews_frame(), pooled_frame(), published, LABELS
    ).set_index("outcome")
    assert set(table["best_source"].dropna()) == {"published"} and set(table["certainty_source"].dropna()) == {
        "AMSTAR-2"
    }
    row = table.loc["Depressive symptoms"]
    assert (row["best_effect_id"], row["certainty"]) == ("E01", "High")
    # the re-runs still count among the meta-analyses of the outcome
    assert (row["n_reanalysed"], row["max_participants"]) == (2, 3000)
