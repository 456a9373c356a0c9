"""Figures stay bounded for analyses of thousands of reviews (config ``scale.figure_rows``): forest plots split
over pages, the AMSTAR-2 matrix as a compact grid, the umbrella forest plot and the evidence map cut or counted."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.image import AxesImage
from PIL import Image
from test_effects_figures import COLUMNS, result
from umbrella.core.registry import registry
from umbrella.effects.evidence_map import evidence_map
from umbrella.effects.forest import forest_figure, write_forest_plots
from umbrella.effects.forest_files import forest_file_names, forest_pages, page_count, page_file_names
from umbrella.effects.forest_layout import CONTINUED, forest_layout, forest_page_layouts
from umbrella.quality.figures import draw_matrix, matrix_figure
from umbrella.quality.rating import ITEMS, RatingRule
from umbrella.reanalysis.figures import most_studies, umbrella_forest


def supplement_label(key: str) -> str:
    (label,) = [o.supplement["label"] for o in registry() if o.key == key]
    return label


def many_results(n: int, group: str = "Depression", reviews: int | None = None) -> pd.DataFrame:
    """``n`` results of one outcome group over two outcomes, from ``reviews`` reviews (default: one each)."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(n):
        r = i % (reviews or n)
        rows.append(
            result(
                f"e{i:04d}",
                f"Review{r:04d} 2020",
                float(rng.normal(0.3, 0.4)),
                outcome_group=group,
                outcome="Depressive symptoms" if i < n * 0.7 else "Remission",
                amstar2_rating=["high", "moderate", "low", "critically_low"][i % 4],
                direction=["benefit", "no_difference", "harm"][i % 3],
            )
        )
    return pd.DataFrame(rows, columns=COLUMNS)


# --- forest plot pages ------------------------------------------------------------------------------------------


def test_page_names_and_counts():
    assert page_count(0, 60) == 1 and page_count(60, 60) == 1 and page_count(61, 60) == 2
    assert page_count(130, 60) == 3
    assert page_file_names("forest_hope.svg", 1) == ["forest_hope.svg"]
    assert page_file_names("forest_hope_2.svg", 3) == [
        "forest_hope_2.svg",
        "forest_hope_2-2.svg",
        "forest_hope_2-3.svg",
    ]


def test_forest_pages_for_the_report():
    groups = ["Hope"] * 130 + ["Quality of life"] * 60 + ["quality-of-life"] * 61
    pages = forest_pages(groups, 60)
    assert pages == {
        "Hope": ["forest_hope.svg", "forest_hope-2.svg", "forest_hope-3.svg"],
        "Quality of life": ["forest_quality_of_life.svg"],
        "quality-of-life": ["forest_quality_of_life_2.svg", "forest_quality_of_life_2-2.svg"],
    }
    # page 1 keeps the name the report has always linked
    assert {g: p[0] for g, p in pages.items()} == forest_file_names(groups)
    # no page name of one group is the name of another group's page
    names = [n for p in pages.values() for n in p]
    assert len(names) == len(set(names))


def test_a_group_of_130_results_gives_three_pages(tmp_path, captured):
    rows = many_results(130)
    paths = write_forest_plots(rows, tmp_path, figure_rows=60)
    assert [p.name for p in paths] == ["forest_depression.svg", "forest_depression-2.svg", "forest_depression-3.svg"]
    assert [p.name for p in paths] == forest_pages(["Depression"] * 130, 60)["Depression"]
    assert all(p.exists() and p.with_suffix(".png").exists() for p in paths)
    assert len(captured) == 3
    titles = [fig.axes[0].texts[0].get_text() for fig in captured]
    assert titles == [f"Depression (page {i} of 3)" for i in (1, 2, 3)]
    assert len({fig.axes[0].get_xlim() for fig in captured}) == 1  # one x range for every page
    per_page = [len(fig.axes[0].collections[-1].get_offsets()) for fig in captured]
    assert per_page == [60, 60, 10]


def test_pages_hold_every_result_once_and_repeat_a_cut_header():
    rows = many_results(130)
    pages = forest_page_layouts(rows, 60)
    whole = forest_layout(rows)
    results = [r.effect_id for page in pages for r in page if r.kind == "result"]
    assert results == [r.effect_id for r in whole if r.kind == "result"]
    # the first outcome runs over pages 1 and 2: page 2 repeats its header, marked as continued
    assert pages[1][0].kind == "header" and pages[1][0].label.endswith(CONTINUED)
    assert not pages[0][0].label.endswith(CONTINUED)
    assert max(len(page) for page in pages) <= 60 + 2


def test_a_group_within_the_cap_is_drawn_as_before(tmp_path, captured):
    rows = many_results(60)
    default = forest_figure(rows, "Depression", tmp_path / "a.svg")
    exact = forest_figure(rows, "Depression", tmp_path / "b.svg", figure_rows=60)
    larger = forest_figure(rows, "Depression", tmp_path / "c.svg", figure_rows=500)
    assert [p.name for p in default + exact + larger] == ["a.svg", "b.svg", "c.svg"]
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes() == (tmp_path / "c.svg").read_bytes()
    assert captured[0].axes[0].texts[0].get_text() == "Depression"
    assert len(captured[0].axes[0].collections[-1].get_offsets()) == 60


def test_forest_pages_are_deterministic(tmp_path):
    rows = many_results(75)
    first = [p.read_bytes() for p in write_forest_plots(rows, tmp_path / "a", figure_rows=30)]
    second = [p.read_bytes() for p in write_forest_plots(rows.iloc[::-1], tmp_path / "b", figure_rows=30)]
    assert len(first) == 3 and first == second


def test_pages_drawn_by_several_processes_are_the_same_files(tmp_path):
    rows = pd.concat([many_results(75), many_results(20, group="Hope")])
    alone = write_forest_plots(rows, tmp_path / "a", figure_rows=30)
    shared = write_forest_plots(rows, tmp_path / "b", figure_rows=30, workers=3)
    assert [p.name for p in alone] == [p.name for p in shared] and len(alone) == 4
    for a, b in zip(alone, shared, strict=True):
        assert a.read_bytes() == b.read_bytes()
        assert a.with_suffix(".png").read_bytes() == b.with_suffix(".png").read_bytes()


# --- AMSTAR-2 matrix --------------------------------------------------------------------------------------------


def answers_and_ratings(n: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(3)
    ids = [f"R{i:04d}" for i in range(n)]
    choices = np.array(["Y", "PY", "N", "NMA", None], dtype=object)
    matrix = pd.DataFrame(rng.choice(choices, size=(n, 16), p=[0.5, 0.15, 0.25, 0.08, 0.02]), index=ids,
                          columns=list(ITEMS))  # fmt: skip
    ratings = pd.DataFrame(
        {"review_id": ids, "rating": rng.choice(["high", "moderate", "low", "critically_low", "incomplete"], n)}
    )
    labels = pd.Series([f"Author{i} 2020" for i in range(n)], index=ids)
    return matrix, ratings, labels


def test_matrix_within_the_cap_names_every_review():
    matrix, ratings, labels = answers_and_ratings(12)
    fig = draw_matrix(matrix, ratings, RatingRule(), labels, figure_rows=12)
    assert sorted(t.get_text() for t in fig.axes[0].get_yticklabels()) == sorted(labels)


def test_matrix_above_the_cap_is_a_compact_grid():
    matrix, ratings, labels = answers_and_ratings(100)
    fig = draw_matrix(matrix, ratings, RatingRule(), labels, figure_rows=60)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts + ax.get_yticklabels() + ax.get_xticklabels()]
    assert not set(texts) & set(labels) and not set(texts) & set(labels.index)
    assert ax.get_title(loc="left") == (
        f"100 reviews; one row per review; the answers of each are in table {supplement_label('amstar2_answers')}"
    )
    images = [a for a in ax.get_children() if isinstance(a, AxesImage)]
    assert [im.get_array().shape[0] for im in images] == [100, 100]  # one row per review: answers, rating strip
    assert fig.get_size_inches()[1] <= 10
    # the rating groups are labelled once each, not per row
    assert len(ax.get_yticklabels()) <= 5
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"Yes", "Partial yes", "No", "No meta-analysis", "Missing"} <= set(legend)


def test_compact_matrix_of_3500_reviews_stays_small(tmp_path):
    matrix, ratings, labels = answers_and_ratings(3500)
    path = tmp_path / "matrix.svg"
    matrix_figure(matrix, ratings, RatingRule(), labels, path, figure_rows=60)
    assert path.stat().st_size < 1_000_000
    with Image.open(path.with_suffix(".png")) as png:
        assert png.size[1] < 3000
    again = tmp_path / "again.svg"
    matrix_figure(matrix, ratings, RatingRule(), labels, again, figure_rows=60)
    assert again.read_bytes() == path.read_bytes()


# --- umbrella forest plot ---------------------------------------------------------------------------------------


def pooled_rows(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "outcome": [f"Outcome {i % 3}" for i in range(n)],
            "review_id": [f"R{i:03d}" for i in range(n)],
            "measure": "SMD",
            "estimate": [-0.2 - 0.001 * i for i in range(n)],
            "ci_lower": -0.4,
            "ci_upper": 0.0,
            "pi_lower": math.nan,
            "pi_upper": math.nan,
            "k": [3 + (i * 7) % 23 for i in range(n)],
            "class": "IV",
        }
    )


def test_umbrella_forest_shows_the_meta_analyses_with_the_most_studies(tmp_path, captured):
    pooled = pooled_rows(100)
    umbrella_forest(pooled, {}, tmp_path / "u.svg", figure_rows=60)
    ax = captured[0].axes[0]
    assert ax.get_title(loc="left").splitlines()[1] == (
        f"Showing the 60 meta-analyses with the most studies of 100; every one is in table "
        f"{supplement_label('pooled')} (pooled.csv)"
    )
    shown = [t.get_text().rsplit(" ", 1)[-1] for t in ax.get_yticklabels()]
    ordered = pooled.sort_values(["outcome", "review_id"]).reset_index(drop=True)
    expected = most_studies(ordered, 60)
    assert shown == list(expected["review_id"]) and len(shown) == 60
    # the most studies, in the plot's order
    assert expected["k"].min() >= ordered["k"].sort_values(ascending=False).iloc[59]
    assert list(expected["review_id"]) == [r for r in ordered["review_id"] if r in set(expected["review_id"])]


def test_most_studies_breaks_ties_by_order():
    rows = pd.DataFrame({"review_id": list("abcdef"), "k": [5, 9, 5, 9, 5, 1]})
    assert list(most_studies(rows, 3)["review_id"]) == ["a", "b", "d"]
    assert most_studies(rows, 6) is rows


def test_umbrella_forest_within_the_cap_has_no_note(tmp_path, captured):
    umbrella_forest(pooled_rows(20), {}, tmp_path / "u.svg", figure_rows=60)
    assert "\n" not in captured[0].axes[0].get_title(loc="left")


# --- evidence map -----------------------------------------------------------------------------------------------


def test_evidence_map_above_the_cap_counts_results(tmp_path, captured):
    rows = pd.concat([many_results(150, reviews=75), many_results(40, group="Hope", reviews=20)], ignore_index=True)
    evidence_map(rows, tmp_path / "m.svg", figure_rows=60)
    ax = captured[0].axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["High", "Moderate", "Low", "Critically low"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Depression", "Hope"]
    title = ax.get_title(loc="left")
    assert "75 reviews, 190 results" in title and f"table {supplement_label('review_effects')}" in title
    counts = [int(t.get_text().replace(",", "")) for t in ax.texts]
    assert sum(counts) == len(rows)
    # within the cap: one row per review, as before
    captured.clear()
    evidence_map(rows, tmp_path / "m2.svg", figure_rows=75)
    assert len(captured[0].axes[0].get_yticklabels()) == 75
