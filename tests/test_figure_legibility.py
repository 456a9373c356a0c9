"""Figures a journal accepts: palettes that stay apart under colour-vision deficiency and in greyscale, whole-number
count axes, one sign convention (benefit to the right) with a mark where a sign was reversed, and arrows where
an interval is cut by the axis.

Colour-vision deficiency is simulated with the matrices of Machado, Oliveira & Fernandes (2009, IEEE TVCG
15(6):1291-1298), severity 1.0, in linear RGB (:mod:`umbrella.core.colour_vision`). Two colours count as
distinguishable when their CIE 1976 ΔE*ab is at least 20 as seen with normal vision, deuteranopia and protanopia
(about ten times the just-noticeable difference of 2.3, because the marks are a few points across) and their CIE
L* differs by at least 15 (greyscale); otherwise the figures must tell them apart by a second channel (marker,
hatch or printed text).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.colors import to_hex
from matplotlib.lines import Line2D
from umbrella.core.colour_vision import MACHADO_2009, delta_e, lab, lightness, simulate
from umbrella.core.plots import RATING_HATCH, RATING_STYLE, REVERSED_MARK
from umbrella.effects.figure_common import NOT_RATED
from umbrella.effects.forest_layout import forest_layout
from umbrella.effects.harmonise import harmonise
from umbrella.effects.settings import EffectSettings
from umbrella.overlap.figures import BAND_COLOURS
from umbrella.quality import figures as quality_figures
from umbrella.quality.figures import ANSWER_STYLE, COMPACT_STRIPES
from umbrella.reanalysis.figures import CLASS_STYLE, meta_favours, umbrella_forest
from umbrella.synthesis.figures import ROLE_STYLE

MIN_DELTA_E = 20.0
MIN_DELTA_L = 15.0
VISIONS = ("normal", "deuteranopia", "protanopia")


# --- the simulation itself ----------------------------------------------------------------------------------------


def test_lab_of_srgb_red_is_the_published_value():
    # sRGB red in CIE L*a*b* (D65): L* 53.24, a* 80.09, b* 67.20 (e.g. Lindbloom's calculator, IEC 61966-2-1).
    assert lab("#FF0000") == pytest.approx([53.24, 80.09, 67.20], abs=0.02)
    assert lab("#FFFFFF") == pytest.approx([100.0, 0.0, 0.0], abs=0.01)
    assert lightness("#000000") == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("vision", sorted(MACHADO_2009))
def test_dichromat_simulation_keeps_greys_and_merges_confusion_colours(vision):
    # Each Machado matrix maps white to white (rows sum to 1), so greys are unchanged.
    assert MACHADO_2009[vision].sum(axis=1) == pytest.approx([1, 1, 1], abs=2e-3)
    for grey in ("#FFFFFF", "#777777", "#000000"):
        assert delta_e(simulate(grey, vision), grey) < 1.0
    if vision in ("deuteranopia", "protanopia"):
        # A dichromat has two kinds of cone: the matrix has rank 2, and two colours that differ along its null
        # direction (a confusion line) look alike however far apart they are for normal vision.
        _, singular, vt = np.linalg.svd(MACHADO_2009[vision])
        assert singular[-1] < 1e-3
        mid = np.array([0.3, 0.3, 0.3])
        a, b = (srgb_hex(mid + t * vt[-1]) for t in (-0.25, 0.25))
        assert delta_e(a, b) > 40
        assert delta_e(simulate(a, vision), simulate(b, vision)) < 2.0


def srgb_hex(linear: np.ndarray) -> str:
    """A linear-RGB colour as ``#rrggbb`` (IEC 61966-2-1 transfer function)."""
    c = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * np.clip(linear, 0, 1) ** (1 / 2.4) - 0.055)
    return "#" + "".join(f"{round(255 * v):02X}" for v in np.clip(c, 0, 1))


# --- the palettes -------------------------------------------------------------------------------------------------


def colour_distinct(a: str, b: str) -> tuple[bool, str]:
    """Whether two colours stay apart under each simulated vision and in greyscale, and the worst figure."""
    worst = min(delta_e(simulate(a, v), simulate(b, v)) for v in VISIONS)
    grey = abs(lightness(a) - lightness(b))
    return worst >= MIN_DELTA_E and grey >= MIN_DELTA_L, f"min ΔE {worst:.1f}, ΔL* {grey:.1f}"


#: Every categorical palette the figures draw: key -> (colour, second channel). The second channel is what
#: else tells the category apart where it is drawn (a marker, a hatch, a stripe, a printed letter), "" for none.
PALETTES = {
    # The evidence map draws ratings by colour alone, and hatches results without a usable rating.
    "AMSTAR-2 rating (evidence map)": {
        **{r: (c, RATING_HATCH.get(r, "")) for r, (_, c) in RATING_STYLE.items()},
        "not rated": (NOT_RATED[1], RATING_HATCH[None]),
    },
    # The ratings chart: colour alone in its bars (the x-axis names them, but bars of a stacked legend do not).
    "AMSTAR-2 rating (bar chart)": {r: (c, "") for r, (_, c) in RATING_STYLE.items() if r != "incomplete"},
    # The matrix: marker shapes; the items chart: hatches.
    "AMSTAR-2 answer (matrix)": {str(a): (c, m) for a, (_, c, m, _) in ANSWER_STYLE.items()},
    "AMSTAR-2 answer (items chart)": {str(a): (c, h) for a, (_, c, _, h) in ANSWER_STYLE.items() if a is not None},
    # The compact matrix: colour, plus stripes for two answers.
    "AMSTAR-2 answer (compact matrix)": {
        str(a): (c, str(COMPACT_STRIPES.get(a, ("",))[0])) for a, (_, c, _, _) in ANSWER_STYLE.items()
    },
    "Implementation role": {r: (c, h) for r, (_, c, h) in ROLE_STYLE.items()},
    # Every heatmap cell prints its CCA; the summary chart hatches its bars.
    "Overlap band": {str(i): (c, f"number; hatch {i}") for i, c in enumerate(BAND_COLOURS)},
}


@pytest.mark.parametrize("name", sorted(PALETTES))
def test_every_palette_stays_apart_under_colour_vision_deficiency_and_in_greyscale(name):
    problems = []
    for (a, (ca, sa)), (b, (cb, sb)) in itertools.combinations(PALETTES[name].items(), 2):
        if sa != sb:
            continue  # told apart by the second channel
        ok, figures = colour_distinct(ca, cb)
        if not ok:
            problems.append(f"{a} {ca} vs {b} {cb}: {figures}")
    assert not problems, f"{name}: " + "; ".join(problems)


def test_evidence_classes_are_apart_or_printed_on_their_row(tmp_path, monkeypatch):
    """Class I to IV apart by colour alone; V and ns (white) apart from IV by the class printed on each row."""
    for a, b in itertools.combinations(["I", "II", "III", "IV"], 2):
        ok, figures = colour_distinct(CLASS_STYLE[a], CLASS_STYLE[b])
        assert ok, f"class {a} vs {b}: {figures}"
    figs = capture(monkeypatch, "umbrella.reanalysis.figures")
    pooled = pooled_rows([("o", "r1", "SMD", 0.3, 0.1, 0.5, "IV"), ("o", "r2", "SMD", 0.1, -0.1, 0.3, "ns")])
    umbrella_forest(pooled, {}, tmp_path / "u.svg", favours=pd.Series(["higher", "higher"]))
    texts = [t.get_text() for t in figs[0].axes[0].texts]
    assert texts[0].split()[0] == "IV" and texts[1].split()[0] == "ns"


def test_the_evidence_map_hatches_results_without_a_usable_rating(tmp_path, monkeypatch):
    from test_effects_figures import COLUMNS, result
    from umbrella.effects.evidence_map import evidence_map

    figs = capture(monkeypatch, "umbrella.effects.evidence_map")
    rows = pd.DataFrame(
        [
            result("e1", "Adams 2019", 0.3, amstar2_rating="incomplete"),
            result("e2", "Brown 2020", 0.3, amstar2_rating=None, direction="no_difference"),
            result("e3", "Chen 2021", 0.3, amstar2_rating="low"),
        ],
        columns=COLUMNS,
    )
    evidence_map(rows, tmp_path / "m.svg")
    ax = figs[0].axes[0]
    hatched = {c.get_hatch(): len(c.get_offsets()) for c in ax.collections if c.get_hatch()}
    assert hatched == {RATING_HATCH["incomplete"]: 1, RATING_HATCH[None]: 1}


# --- count axes ---------------------------------------------------------------------------------------------------


def capture(monkeypatch, module_name: str) -> list:
    """The figures a module saves, in order (they are still written)."""
    import importlib

    module = importlib.import_module(module_name)
    figures = []
    save = module.save_svg

    def keep(fig, path):
        figures.append(fig)
        save(fig, path)

    monkeypatch.setattr(module, "save_svg", keep)
    return figures


def visible_ticks(axis) -> list[float]:
    lo, hi = sorted(axis.get_view_interval())
    return [t for t in axis.get_majorticklocs() if lo - 1e-9 <= t <= hi + 1e-9]


@pytest.mark.parametrize("counts", [[1, 0, 2, 7], [1, 2, 1, 3], [5, 2, 5, 23]])
def test_the_ratings_chart_counts_in_whole_numbers_with_distinct_swatches(tmp_path, monkeypatch, counts):
    figs = capture(monkeypatch, "umbrella.quality.figures")
    levels = ["high", "moderate", "low", "critically_low"]
    ratings = pd.DataFrame(
        {
            "review_id": [f"r{i}" for i in range(sum(counts))],
            "rating": [r for r, n in zip(levels, counts, strict=True) for _ in range(n)],
            "rating_source": ["reported"] * sum(counts[:2]) + ["items"] * sum(counts[2:]),
        }
    )
    quality_figures.ratings_figure(ratings, tmp_path / "r.svg")
    ax = figs[0].axes[0]
    ticks = visible_ticks(ax.yaxis)
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks
    assert all(label.get_text().lstrip("\u2212-").isdigit() for label in ax.get_yticklabels() if label.get_text())
    # the legend tells the sources apart by hatch on one neutral colour, never by two look-alike colours
    patches = ax.get_legend().get_patches()
    assert len(patches) == 2 and len({p.get_hatch() for p in patches}) == 2
    assert len({tuple(p.get_facecolor()) for p in patches}) == 1
    # the bars of different ratings keep apart in greyscale
    lightnesses = sorted(lightness(c) for c in {to_hex(p.get_facecolor()) for p in ax.patches})
    assert min(np.diff(lightnesses)) >= MIN_DELTA_L


# --- one sign convention ------------------------------------------------------------------------------------------


def pooled_rows(specs) -> pd.DataFrame:
    """Pooled meta-analyses from (outcome, review_id, measure, estimate, lower, upper, class)."""
    rows = []
    for outcome, review, measure, est, lo, hi, cls in specs:
        rows.append(
            {"outcome": outcome, "review_id": review, "measure": measure, "k": 8, "estimate": est, "ci_lower": lo,
             "ci_upper": hi, "pi_lower": math.nan, "pi_upper": math.nan, "class": cls}
        )  # fmt: skip
    return pd.DataFrame(rows)


#: One meta-analysis per row, as the effects sheet gives it and as the re-analysis pools it:
#: (review_id, outcome, outcome group, favours in the row, measure, estimate, lower, upper).
SAME_META_ANALYSES = [
    ("r1", "Depressive symptoms", "Depression", "lower", "SMD", -0.88, -0.99, -0.77),  # benefit, reversed
    ("r2", "Depressive symptoms", "Depression", None, "SMD", 0.20, 0.05, 0.35),  # harm; favours from the config
    ("r3", "Clinical recovery", "Recovery", "higher", "OR", 1.73, 1.17, 2.56),  # benefit, as in the data
    ("r4", "Depression caseness", "Depression", "lower", "RR", 0.61, 0.47, 0.80),  # benefit, reversed
    ("r5", "Hope", "Hope", "higher", "SMD", -0.30, -0.50, -0.10),  # harm, as in the data
    ("r6", "Empowerment", "Empowerment", None, "SMD", 0.40, 0.20, 0.60),  # direction not known
]


def effects_sheet() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"effect_id": f"E{i}", "review_id": r, "outcome": o, "outcome_group": g, "timepoint": "post",
             "measure": m, "estimate": e, "ci_lower": lo, "ci_upper": hi, "ci_level": 95.0, "k_studies": 8,
             "n_participants": 800, "i2": math.nan, "tau2": math.nan, "p_value": None, "favours": f}
            for i, (r, o, g, f, m, e, lo, hi) in enumerate(SAME_META_ANALYSES)
        ]
    )  # fmt: skip


def test_the_umbrella_forest_plot_agrees_in_sign_with_the_per_outcome_forest_plots(tmp_path, monkeypatch):
    settings = EffectSettings(favours={"Depression": "lower"})
    harmonised = harmonise(effects_sheet(), settings).assign(review=lambda d: d["review_id"])
    per_outcome = {
        (row.effect_id, row.g) for row in forest_layout(harmonised) if row.kind == "result"
    }  # the per-outcome forest plot's point of each result
    g_of = {
        (r, o): g for (eid, g) in per_outcome for (i, (r, o, *_)) in enumerate(SAME_META_ANALYSES) if eid == f"E{i}"
    }
    pooled = pooled_rows([(o, r, m, e, lo, hi, "IV") for r, o, _, _, m, e, lo, hi in SAME_META_ANALYSES])
    figs = capture(monkeypatch, "umbrella.reanalysis.figures")
    favours = meta_favours(pooled, effects_sheet(), settings)
    umbrella_forest(pooled, {}, tmp_path / "u.svg", favours=favours, favours_labels=("Favours care", "Favours peers"))
    ax = figs[0].axes[0]
    (points,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    x_of_row = np.ma.filled(np.ma.asarray(points.get_offsets(), dtype=float), np.nan)[:, 0]  # one per row, in order
    labels = [t.get_text() for t in ax.get_yticklabels()]
    order = pooled.sort_values(["outcome", "review_id"]).reset_index(drop=True)
    checked = 0
    for i, (outcome, review) in enumerate(zip(order["outcome"], order["review_id"], strict=True)):
        g = g_of[(review, outcome)]
        if math.isnan(g):
            assert math.isnan(x_of_row[i]), (review, outcome)  # listed, not plotted, in both
            continue
        assert np.sign(x_of_row[i]) == np.sign(g) != 0, (review, outcome, x_of_row[i], g)
        assert x_of_row[i] == pytest.approx(g, abs=0.02)
        checked += 1
    assert checked == 5
    # the mark after the label exactly where the sign was reversed (favours lower, row's own or the config's)
    reversed_rows = {(o, r) for r, o, g, f, *_ in SAME_META_ANALYSES if (f or settings.favours.get(g)) == "lower"}
    marked = {(o, r) for o, r, label in zip(order["outcome"], order["review_id"], labels, strict=True)
              if label.endswith(REVERSED_MARK)}  # fmt: skip
    assert marked == reversed_rows and len(marked) == 3
    # the legend explains the mark; the favours labels are the configured ones, either side of the null line
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("Sign reversed" in t for t in legend)
    texts = {t.get_text() for t in ax.texts}
    assert "\u2190 Favours care" in texts and "Favours peers \u2192" in texts


def test_the_per_outcome_forest_plot_marks_exactly_the_reversed_results(tmp_path, monkeypatch):
    from umbrella.effects.forest import write_forest_plots

    settings = EffectSettings(favours={"Depression": "lower"})
    harmonised = harmonise(effects_sheet(), settings).assign(review=lambda d: d["review_id"])
    figs = capture(monkeypatch, "umbrella.effects.forest")
    write_forest_plots(harmonised, tmp_path, favours_labels=("Favours care", "Favours peers"))
    marked, plain = set(), set()
    for fig in figs:
        for t in fig.axes[0].texts:
            text = t.get_text()
            if text.startswith("r") and text[1:].rstrip(f" {REVERSED_MARK}").isdigit():
                (marked if text.endswith(REVERSED_MARK) else plain).add(text.split()[0])
    assert marked == {"r1", "r2", "r4"} and plain == {"r3", "r5", "r6"}
    depression = [f for f in figs if f.axes[0].texts[0].get_text() == "Depression"][0]
    texts = {t.get_text() for t in depression.axes[0].texts}
    assert "\u2190 Favours care" in texts and "Favours peers \u2192" in texts
    assert any("Sign reversed" in t.get_text() for t in depression.axes[0].get_legend().get_texts())


# --- intervals cut by the axis ------------------------------------------------------------------------------------


def arrows(ax) -> dict[int, set[str]]:
    """The arrowheads drawn on each row (rounded y): '<' where an interval is cut on the left, '>' on the right."""
    found: dict[int, set[str]] = {}
    for line in ax.get_lines():
        if isinstance(line, Line2D) and line.get_marker() in ("<", ">"):
            found.setdefault(round(line.get_ydata()[0]), set()).add(line.get_marker())
    return found


def test_intervals_cut_by_the_axis_end_in_arrows(tmp_path, monkeypatch):
    pooled = pooled_rows(
        [("a", "r1", "SMD", 0.3, 0.1, 0.5, "IV"), ("b", "r2", "SMD", 0.2, 0.0, 0.4, "IV"),
         ("c", "r3", "SMD", 0.4, 0.2, 0.6, "IV")]
    )  # fmt: skip
    pooled.loc[0, ["pi_lower", "pi_upper"]] = [-9.0, 9.0]  # cut on both sides
    pooled.loc[1, ["pi_lower", "pi_upper"]] = [-0.1, 0.5]  # inside
    pooled.loc[2, ["pi_lower", "pi_upper"]] = [0.1, 12.0]  # cut on the right
    figs = capture(monkeypatch, "umbrella.reanalysis.figures")
    umbrella_forest(pooled, {}, tmp_path / "u.svg", favours=pd.Series(["higher"] * 3))
    ax = figs[0].axes[0]
    assert arrows(ax) == {0: {"<", ">"}, 2: {">"}}
    lo, hi = ax.get_xlim()
    assert lo > -9 and hi < 9
