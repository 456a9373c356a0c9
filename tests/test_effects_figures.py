"""Effects-stage figures: forest plots per outcome group and the evidence map."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
import umbrella.effects.forest as forest
from umbrella.effects.evidence_map import evidence_map
from umbrella.effects.forest import forest_figure, write_forest_plots
from umbrella.effects.forest_files import group_slug
from umbrella.effects.forest_layout import MAX_LABEL, forest_layout, format_result

NAN = math.nan
COLUMNS = [
    "effect_id",
    "review_id",
    "review",
    "outcome_group",
    "outcome",
    "timepoint",
    "measure",
    "estimate",
    "ci_lower",
    "ci_upper",
    "k_studies",
    "n_participants",
    "amstar2_rating",
    "direction",
    "g_benefit",
    "g_benefit_lower",
    "g_benefit_upper",
    "pi_g_benefit_lower",
    "pi_g_benefit_upper",
    "flags",
]


def result(effect_id: str, review: str, g: float, **extra) -> dict:
    row = {
        "effect_id": effect_id,
        "review_id": review.lower().replace(" ", ""),
        "review": review,
        "outcome_group": "Depression",
        "outcome": "Depressive symptoms",
        "timepoint": "post-treatment",
        "measure": "SMD",
        "estimate": -g,
        "ci_lower": -g - 0.15,
        "ci_upper": -g + 0.15,
        "k_studies": 8,
        "n_participants": 900,
        "amstar2_rating": "low",
        "direction": "benefit" if g > 0 else "harm",
        "g_benefit": g,
        "g_benefit_lower": g - 0.15,
        "g_benefit_upper": g + 0.15,
        "pi_g_benefit_lower": NAN,
        "pi_g_benefit_upper": NAN,
        "flags": "",
    }
    row.update(extra)
    return row


@pytest.fixture
def rows() -> pd.DataFrame:
    return pd.DataFrame(
        [
            result("e1", "Fang 2022", 0.39, pi_g_benefit_lower=-0.1, pi_g_benefit_upper=0.9, k_studies=14),
            result("e2", "Adams 2019", 0.26, measure="OR", estimate=0.62, ci_lower=0.45, ci_upper=0.85),
            # an MD without SD: not on the common scale, still listed
            result(
                "e3",
                "Brown 2020",
                NAN,
                measure="MD",
                estimate=-2.1,
                ci_lower=-3.5,
                ci_upper=-0.7,
                timepoint="follow-up",
                amstar2_rating="critically_low",
            ),
            # numbers missing: flagged incomplete
            result(
                "e4",
                "Diaz 2018",
                NAN,
                outcome="Remission",
                estimate=None,
                ci_lower=None,
                ci_upper=None,
                k_studies=None,
                n_participants=None,
                amstar2_rating=None,
                direction="unknown",
                flags="incomplete;p_mismatch",
            ),
            result("e5", "Evans 2023", -0.35, outcome="Remission", amstar2_rating="high", k_studies=3),
            result("e6", "Fang 2022", 0.2, outcome_group="Quality of life", outcome="QoL", timepoint=None),
            result("e7", "Fang 2022", 0.02, outcome_group="Quality of life", outcome="QoL physical", timepoint=None),
            result("e8", "Adams 2019", NAN, outcome_group=None, outcome="Adverse events", measure="RD"),
        ],
        columns=COLUMNS,
    )


def parse_svg(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    return root


def results_of(layout):
    return [r for r in layout if r.kind == "result"]


# --- layout -----------------------------------------------------------------------------------------------------


def test_layout_groups_by_outcome_and_timepoint_sorted_by_review(rows):
    layout = forest_layout(rows[rows["outcome_group"] == "Depression"])
    assert [(r.kind, r.label) for r in layout] == [
        ("header", "Depressive symptoms \u00b7 follow-up"),
        ("result", "Brown 2020"),
        ("header", "Depressive symptoms \u00b7 post-treatment"),
        ("result", "Adams 2019"),
        ("result", "Fang 2022"),
        ("header", "Remission \u00b7 post-treatment"),
        ("result", "Diaz 2018"),
        ("result", "Evans 2023"),
    ]
    ys = [r.y for r in layout]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)


def test_layout_keeps_rows_without_common_scale_with_a_note(rows):
    layout = results_of(forest_layout(rows))
    assert len(layout) == len(rows)
    notes = {r.effect_id: r.note for r in layout}
    assert notes["e3"] == "not on the common scale"
    assert notes["e4"] == "incomplete"
    assert notes["e8"] == "not on the common scale"
    assert notes["e1"] == ""
    by_id = {r.effect_id: r for r in layout}
    assert by_id["e3"].result_text == "MD \u22122.10 [\u22123.50, \u22120.70]"
    assert by_id["e4"].k_text == "\u2013" and by_id["e4"].letter == "\u2013"  # not rated, k missing


def test_layout_text_columns(rows):
    by_id = {r.effect_id: r for r in results_of(forest_layout(rows))}
    assert by_id["e1"].result_text == "SMD \u22120.39 [\u22120.54, \u22120.24]"
    assert by_id["e2"].result_text == "OR 0.62 [0.45, 0.85]"
    assert by_id["e1"].k_text == "14" and by_id["e1"].n_text == "900"
    assert by_id["e5"].letter == "H" and by_id["e3"].letter == "CL"


def test_format_result():
    assert format_result("SMD", -0.392, -0.541, -0.239) == "SMD \u22120.39 [\u22120.54, \u22120.24]"
    assert format_result("rr", 1.0, 0.8, 1.25) == "RR 1.00 [0.80, 1.25]"
    assert format_result("MD", -12.34, -20.0, -4.6) == "MD \u221212.3 [\u221220.0, \u22124.6]"
    assert format_result("G", 0.3, None, None) == "G 0.30 (no CI)"
    assert format_result("HR", None, None, None) == "HR not reported"
    assert format_result("SMD", -0.001, -0.2, 0.2) == "SMD 0.00 [\u22120.20, 0.20]"


def test_empty_layout():
    assert forest_layout(pd.DataFrame(columns=COLUMNS)) == []


# --- forest figure ----------------------------------------------------------------------------------------------


def test_benefit_is_on_the_right(rows, tmp_path, captured):
    forest_figure(rows[rows["outcome_group"] == "Depression"], "Depression", tmp_path / "f.svg")
    ax = captured[0].axes[0]
    (points,) = ax.collections[-1:]  # the result markers are the last collection drawn
    offsets = points.get_offsets()
    layout = results_of(forest_layout(rows[rows["outcome_group"] == "Depression"]))
    plotted = [r for r in layout if not math.isnan(r.g)]
    assert len(offsets) == len(plotted) == 3
    for (x, y), r in zip(offsets, plotted, strict=True):
        assert y == r.y
        assert (x > 0) == (r.g > 0)
    fang = next(r for r in plotted if r.label == "Fang 2022")
    assert fang.g > 0 and any(x > 0 and y == fang.y for x, y in offsets)
    texts = {t.get_text(): t for t in ax.texts}
    assert "Favours intervention \u2192" in texts and "\u2190 Favours control" in texts
    assert texts["Favours intervention \u2192"].get_ha() == "left"
    assert texts["\u2190 Favours control"].get_ha() == "right"
    assert ax.get_xlabel() == "Equivalent Hedges' g"
    # every result keeps its review label; NaN rows get their note in the panel
    labels = [t.get_text() for t in ax.texts]
    assert labels.count("Brown 2020") == 1 and labels.count("Diaz 2018") == 1
    assert "not on the common scale" in labels and "incomplete" in labels


def test_forest_svg_is_valid_and_deterministic(rows, tmp_path):
    a, b = tmp_path / "a.svg", tmp_path / "b.svg"
    forest_figure(rows, "Everything", a)
    forest_figure(rows, "Everything", b)
    parse_svg(a)
    assert a.read_bytes() == b.read_bytes()
    assert b"<dc:date>" not in a.read_bytes()


def test_forest_height_grows_with_rows(rows, tmp_path, captured):
    forest_figure(rows.iloc[:2], "Few", tmp_path / "few.svg")
    forest_figure(rows, "Many", tmp_path / "many.svg")
    few, many = (f.get_size_inches() for f in captured)
    assert few[0] == many[0] == 7.5
    assert many[1] > few[1]


def test_forest_wide_prediction_interval_does_not_squash_the_axis(rows, tmp_path, captured):
    wide = rows.copy()
    wide.loc[0, "pi_g_benefit_lower"] = -40.0
    forest_figure(wide, "Wide", tmp_path / "w.svg")
    lo, hi = captured[0].axes[0].get_xlim()
    assert -forest.X_CAP <= lo < 0 < hi <= forest.X_CAP


def test_empty_frames_draw_no_results(tmp_path, captured):
    empty = pd.DataFrame(columns=COLUMNS)
    forest_figure(empty, "Depression", tmp_path / "f.svg")
    evidence_map(empty, tmp_path / "m.svg")
    for fig, name in zip(captured, ["f.svg", "m.svg"], strict=True):
        assert [t.get_text() for t in fig.axes[0].texts] == ["No results"]
        parse_svg(tmp_path / name)


def test_inputs_are_not_mutated(rows, tmp_path):
    before = rows.copy()
    forest_figure(rows, "All", tmp_path / "f.svg")
    evidence_map(rows, tmp_path / "m.svg")
    write_forest_plots(rows, tmp_path / "forest")
    forest_layout(rows)
    pd.testing.assert_frame_equal(rows, before)


def test_missing_optional_columns_are_tolerated(tmp_path):
    minimal = pd.DataFrame({"review": ["A 2020", "B 2021"], "g_benefit": [0.3, NAN]})
    forest_figure(minimal, "Minimal", tmp_path / "f.svg")
    evidence_map(minimal, tmp_path / "m.svg")
    assert [r.label for r in results_of(forest_layout(minimal))] == ["A 2020", "B 2021"]


# --- slugs and files --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "slug"),
    [
        ("Quality of life", "quality_of_life"),
        ("", "ungrouped"),
        ("   ", "ungrouped"),
        ("Anxiety / Stress (GAD-7)", "anxiety_stress_gad_7"),
        ("Ängstlichkeit", "angstlichkeit"),
        ("???", "ungrouped"),
        ("Sleep  quality__", "sleep_quality"),
        ("Work 2", "work_2"),
    ],
)
def test_group_slug(group, slug):
    assert group_slug(group) == slug


def test_group_slug_is_file_name_safe():
    for text in ["a/b\\c:d*e", "ÉCOLE", "x" * 300, "\u4e2d\u6587", "Tab\there"]:
        slug = group_slug(text)
        assert slug and set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789_")
        assert len(slug) <= 80


def test_write_forest_plots_one_file_per_group(rows, tmp_path):
    folder = tmp_path / "figures" / "forest"
    paths = write_forest_plots(rows, folder)
    assert [p.name for p in paths] == [
        "forest_depression.svg",
        "forest_quality_of_life.svg",
        "forest_ungrouped.svg",
    ]
    assert sorted(folder.iterdir()) == sorted(paths + [p.with_suffix(".png") for p in paths])  # + 300-dpi PNGs
    for path in paths:
        parse_svg(path)


def test_write_forest_plots_unique_names_for_colliding_slugs(rows, tmp_path):
    clash = rows.copy()
    clash["outcome_group"] = ["Quality of life", "quality-of-life", "Quality of Life", None, "", "Ungrouped", "B", "A"]
    paths = write_forest_plots(clash, tmp_path)
    names = [p.name for p in paths]
    # None, "" and "Ungrouped" are one group; the three spellings of quality of life are three groups, numbered
    # in sorted group order ("Quality of Life" < "Quality of life" < "quality-of-life").
    assert names == [
        "forest_a.svg",
        "forest_b.svg",
        "forest_quality_of_life.svg",
        "forest_quality_of_life_2.svg",
        "forest_quality_of_life_3.svg",
        "forest_ungrouped.svg",
    ]
    assert all(p.exists() for p in paths)


def test_write_forest_plots_is_deterministic(rows, tmp_path):
    first = [p.read_bytes() for p in write_forest_plots(rows, tmp_path / "a")]
    second = [p.read_bytes() for p in write_forest_plots(rows.iloc[::-1], tmp_path / "b")]
    assert first == second


def test_write_forest_plots_empty(tmp_path):
    assert write_forest_plots(pd.DataFrame(columns=COLUMNS), tmp_path / "none") == []
    assert (tmp_path / "none").is_dir()


# --- evidence map -----------------------------------------------------------------------------------------------


def test_evidence_map_valid_deterministic_and_complete(rows, tmp_path, captured):
    a, b = tmp_path / "a.svg", tmp_path / "b.svg"
    evidence_map(rows, a)
    evidence_map(rows, b)
    parse_svg(a)
    assert a.read_bytes() == b.read_bytes()
    assert b"<dc:date>" not in a.read_bytes()
    ax = captured[0].axes[0]
    assert ax.get_title(loc="left") == "Evidence map"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Depression", "Quality of life", "Ungrouped"]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "Adams 2019",
        "Brown 2020",
        "Diaz 2018",
        "Evans 2023",
        "Fang 2022",
    ]
    # one marker per result (hollow "no difference" markers are drawn twice: outline and coloured ring)
    filled = [c for c in ax.collections if c.get_offsets().shape[0] and len(c.get_facecolors())]
    assert sum(len(c.get_offsets()) for c in filled) == len(rows)
    # Fang 2022 has two results in Quality of life: side by side in that cell
    xs = sorted(x for c in filled for x, y in c.get_offsets() if y == 4 and abs(x - 1) < 0.5)
    assert len(xs) == 2 and xs[0] < 1 < xs[1]
    assert len(captured[0].legends) == 3


def test_evidence_map_marker_shape_follows_direction(tmp_path, captured):
    frame = pd.DataFrame(
        [
            result("a", "A 2020", 0.3, direction="benefit"),
            result("b", "B 2020", -0.3, direction="harm"),
            result("c", "C 2020", NAN, direction=None),
        ],
        columns=COLUMNS,
    )
    evidence_map(frame, tmp_path / "m.svg")
    ax = captured[0].axes[0]
    rows_by_y = {}
    for c in ax.collections:
        for _, y in c.get_offsets():
            rows_by_y.setdefault(int(y), []).append(c)
    paths = {y: cs[0].get_paths()[0] for y, cs in rows_by_y.items()}

    def apex_y(path):  # y of the triangle's vertex on the vertical axis (markers in display orientation)
        (y,) = {round(float(y), 6) for x, y in path.vertices if abs(x) < 1e-9}
        return y

    # benefit (^) points up, harm (v) points down
    assert apex_y(paths[0]) > 0
    assert apex_y(paths[1]) < 0
    assert 2 in paths  # unknown direction is still drawn


def test_long_review_labels_keep_their_year():
    frame = pd.DataFrame([result("e1", "A reviewer with a very long surname indeed et al. 2021", 0.2)], columns=COLUMNS)
    (row,) = results_of(forest_layout(frame))
    assert len(row.label) <= MAX_LABEL
    assert row.label.startswith("A reviewer") and row.label.endswith("2021") and "\u2026" in row.label


def test_forest_plots_of_different_groups_share_one_x_range(tmp_path, captured):
    """Plots side by side compare: every outcome group's forest plot spans the x range of all results (one scale,
    the equivalent g), so a narrow group is not stretched while a wide one is squeezed."""
    narrow = [result(f"n{i}", f"Narrow {i} 2020", 0.1 * i, outcome_group="Hope") for i in range(3)]
    wide = [result(f"w{i}", f"Wide {i} 2021", -1.5 + 1.4 * i, outcome_group="Recovery") for i in range(3)]
    rows = pd.DataFrame(narrow + wide, columns=COLUMNS)
    write_forest_plots(rows, tmp_path)
    limits = {fig.axes[0].texts[0].get_text(): fig.axes[0].get_xlim() for fig in captured}
    assert set(limits) == {"Hope", "Recovery"}
    assert limits["Hope"] == limits["Recovery"]
    lo, hi = limits["Hope"]
    assert lo < -1.65 and hi > 1.45  # the widest CI of all (Wide 0: −1.65; Wide 2: 1.45) is inside
