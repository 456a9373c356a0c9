"""Review-level pooled results: recomputation, p-value parsing, flags, direction, scales, intervals, verdicts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from umbrella.effects.evidence_class import review_level_classes
from umbrella.effects.forest_files import forest_file_names, group_slug
from umbrella.effects.harmonise import harmonise
from umbrella.effects.printed_p import parse_p
from umbrella.effects.settings import EffectSettings
from umbrella.effects.summary import best_result, outcome_summary, verdict

COLUMNS = [
    "effect_id", "review_id", "outcome", "outcome_group", "timepoint", "measure", "estimate", "ci_lower", "ci_upper",
    "ci_level", "k_studies", "n_participants", "i2", "tau2", "p_value", "favours", "verdict",
]  # fmt: skip


def effects(*rows: dict) -> pd.DataFrame:
    base = {c: None for c in COLUMNS}
    out = pd.DataFrame([{**base, "effect_id": f"E{i}", "review_id": f"R{i}", **r} for i, r in enumerate(rows)])
    for col in ("estimate", "ci_lower", "ci_upper", "ci_level", "i2", "tau2"):
        out[col] = out[col].astype(float)
    out["ci_level"] = out["ci_level"].fillna(95.0)
    for col in ("k_studies", "n_participants"):
        out[col] = out[col].astype("Int64")
    return out


def one(settings_: EffectSettings | None = None, **row) -> pd.Series:
    return harmonise(effects(row), settings_ or EffectSettings()).iloc[0]


def test_hand_worked_smd_row() -> None:
    r = one(measure="SMD", estimate=-0.37, ci_lower=-0.66, ci_upper=-0.08, p_value="0.01", favours="lower")
    assert r["se"] == pytest.approx(0.147962, abs=1e-6)
    assert r["z"] == pytest.approx(-2.5006, abs=1e-4)
    assert r["p_recomputed"] == pytest.approx(0.0124, abs=1e-4)
    assert r["direction"] == "benefit" and r["flags"] == ""
    assert r["g_equiv"] == pytest.approx(-0.37) and r["g_benefit"] == pytest.approx(0.37)
    assert (r["g_benefit_lower"], r["g_benefit_upper"]) == pytest.approx((0.08, 0.66))


def test_ratio_on_the_log_scale_and_the_or_conversion() -> None:
    r = one(measure="OR", estimate=2.0, ci_lower=1.0, ci_upper=4.0, favours="higher")
    assert r["se"] == pytest.approx(math.log(4) / (2 * stats.norm.ppf(0.975)))
    assert r["g_equiv"] == pytest.approx(math.log(2) * math.sqrt(3) / math.pi)
    assert r["or_equiv"] == pytest.approx(2.0)
    g = one(measure="SMD", estimate=0.5, ci_lower=0.3, ci_upper=0.7)
    assert g["or_equiv"] == pytest.approx(math.exp(0.5 * math.pi / math.sqrt(3)))
    rr = one(measure="RR", estimate=0.69, ci_lower=0.49, ci_upper=0.96, favours="lower")
    assert rr["g_benefit"] == pytest.approx(-math.log(0.69) * math.sqrt(3) / math.pi)


def test_ci_level_is_honoured() -> None:
    r90 = one(measure="MD", estimate=1.0, ci_lower=0.0, ci_upper=2.0, ci_level=90)
    r95 = one(measure="MD", estimate=1.0, ci_lower=0.0, ci_upper=2.0)
    assert r90["se"] == pytest.approx(1 / stats.norm.ppf(0.95))
    assert r90["se"] > r95["se"]


def test_md_needs_an_sd_and_r_converts() -> None:
    assert math.isnan(one(measure="MD", estimate=2.0, ci_lower=1.0, ci_upper=3.0, outcome_group="Pain")["g_equiv"])
    with_sd = EffectSettings(sd_for_md={"Pain": 4.0})
    md = one(with_sd, measure="MD", estimate=2.0, ci_lower=1.0, ci_upper=3.0, outcome_group="Pain")
    assert md["g_equiv"] == pytest.approx(0.5)
    r = one(measure="R", estimate=0.3, ci_lower=0.1, ci_upper=0.5)
    assert r["g_equiv"] == pytest.approx(2 * 0.3 / math.sqrt(1 - 0.09))
    assert math.isnan(one(measure="RD", estimate=0.1, ci_lower=0.05, ci_upper=0.15)["g_equiv"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.01", (0.01, "=")),
        ("< 0.00001", (0.00001, "<")),
        ("p = .03", (0.03, "=")),
        ("P<0.001", (0.001, "<")),
        ("> 0.05", (0.05, ">")),
        ("\u2264 0.05", (0.05, "<")),
        ("NS", (None, "ns")),
        ("n.s.", (None, "ns")),
        ("", (None, "")),
        (None, (None, "")),
        ("significant", (None, "")),
        ("1.5", (None, "")),
    ],
)
def test_parse_p(text, expected) -> None:
    value, relation = parse_p(text)
    assert relation == expected[1]
    if expected[0] is None:
        assert math.isnan(value)
    else:
        assert value == pytest.approx(expected[0])


def test_p_mismatch_flag_allows_rounding_only() -> None:
    base = {"measure": "SMD", "estimate": -0.37, "ci_lower": -0.66, "ci_upper": -0.08}
    assert not one(**base, p_value="0.01")["flag_p_mismatch"]
    assert not one(**base, p_value="0.012")["flag_p_mismatch"]
    assert one(**base, p_value="0.3")["flag_p_mismatch"]
    assert one(**base, p_value="< 0.001")["flag_p_mismatch"]
    assert not one(**base, p_value="< 0.05")["flag_p_mismatch"]
    assert one(**base, p_value="NS")["flag_p_mismatch"]
    assert not one(measure="SMD", estimate=0.14, ci_lower=-0.14, ci_upper=0.42, p_value="NS")["flag_p_mismatch"]
    assert one(**base, p_value="> 0.05")["flag_p_mismatch"]


def test_asymmetric_ratio_interval_is_flagged() -> None:
    assert not one(measure="RR", estimate=0.69, ci_lower=0.49, ci_upper=0.96)["flag_ci_asymmetric"]
    bad = one(measure="RR", estimate=0.69, ci_lower=0.60, ci_upper=0.96)
    assert bad["flag_ci_asymmetric"] and "ci_asymmetric" in bad["flags"]
    tolerant = EffectSettings(ci_asymmetry_tolerance=0.9)
    assert not one(tolerant, measure="RR", estimate=0.69, ci_lower=0.60, ci_upper=0.96)["flag_ci_asymmetric"]


def test_missing_numbers_keep_the_row_flagged_incomplete() -> None:
    out = harmonise(
        effects({"measure": "SMD", "estimate": 0.2, "ci_lower": 0.1, "ci_upper": 0.3}, {"k_studies": 4}),
        EffectSettings(),
    )
    assert len(out) == 2
    assert out["flag_incomplete"].tolist() == [False, True]
    assert out.iloc[1]["direction"] == "unknown" and out.iloc[1]["flags"] == "incomplete"
    assert np.isnan(out.iloc[1][["se", "z", "p_recomputed", "g_equiv", "pi_lower"]].astype(float)).all()


def test_direction_from_row_or_config() -> None:
    config = EffectSettings(favours={"Depression": "lower"})
    row = {"measure": "SMD", "estimate": 0.3, "ci_lower": 0.1, "ci_upper": 0.5, "outcome_group": "Depression"}
    assert one(config, **row)["direction"] == "harm"
    assert one(config, **row)["favours_source"] == "config"
    assert one(config, **row, favours="higher")["direction"] == "benefit"
    unknown = one(**row)
    assert unknown["direction"] == "unknown" and "no_favours" in unknown["flags"]
    null = one(config, measure="SMD", estimate=0.1, ci_lower=-0.1, ci_upper=0.3, outcome_group="Depression")
    assert null["direction"] == "no_difference"
    strict = EffectSettings(alpha=0.001, favours={"Depression": "lower"})
    assert one(strict, **{**row, "estimate": -0.3, "ci_lower": -0.5, "ci_upper": -0.1})["direction"] == "no_difference"


def test_prediction_interval_distributions_and_derived_tau2() -> None:
    row = {"measure": "SMD", "estimate": 0.5, "ci_lower": 0.3, "ci_upper": 0.7, "k_studies": 10, "tau2": 0.04}
    se = 0.4 / (2 * stats.norm.ppf(0.975))
    width = math.sqrt(se**2 + 0.04)
    for method, q in [
        ("t_k_minus_1", stats.t.ppf(0.975, 9)),
        ("t_k_minus_2", stats.t.ppf(0.975, 8)),
        ("z", stats.norm.ppf(0.975)),
    ]:
        r = one(EffectSettings(prediction_interval=method), **row)
        assert (r["pi_lower"], r["pi_upper"]) == pytest.approx((0.5 - q * width, 0.5 + q * width))
        assert r["tau2_source"] == "reported"
    derived = one(**{**row, "tau2": None, "i2": 50.0})
    assert derived["tau2_used"] == pytest.approx(0.5 * 10 * se**2 / 0.5)
    assert derived["tau2_source"] == "derived_from_i2"
    assert math.isnan(one(EffectSettings(tau2_from_i2=False), **{**row, "tau2": None, "i2": 50.0})["pi_lower"])
    assert math.isnan(one(**{**row, "k_studies": 1})["pi_lower"])  # no df left
    ratio = one(measure="OR", estimate=2.0, ci_lower=1.0, ci_upper=4.0, k_studies=5, tau2=0.1)
    assert ratio["pi_lower"] < 1.0 < 2.0 < ratio["pi_upper"]  # back on the ratio scale


@pytest.mark.parametrize(
    ("directions", "n_reviews", "expected"),
    [
        (["benefit", "benefit"], 2, "consistent benefit"),
        (["harm", "harm", "harm"], 3, "consistent harm"),
        (["benefit", "benefit", "no_difference"], 3, "mostly benefit"),
        (["benefit", "no_difference"], 2, "mixed"),
        (["benefit", "harm", "benefit"], 3, "mixed"),
        (["harm", "harm", "no_difference"], 3, "mostly harm"),
        (["no_difference", "no_difference"], 2, "no evidence of effect"),
        (["benefit"], 1, "insufficient"),
        (["benefit", "benefit"], 1, "insufficient"),
        ([], 0, "insufficient"),
    ],
)
def test_verdicts(directions, n_reviews, expected) -> None:
    assert verdict(pd.Series(directions, dtype=object), n_reviews, 0.5) == expected


def test_mostly_share_setting() -> None:
    two_of_three = pd.Series(["benefit", "benefit", "no_difference"])
    assert verdict(two_of_three, 3, 0.5) == "mostly benefit"
    assert verdict(two_of_three, 3, 0.7) == "mixed"


def summary_input() -> pd.DataFrame:
    rows = effects(
        {"measure": "SMD", "estimate": -0.4, "ci_lower": -0.6, "ci_upper": -0.2, "outcome_group": "Dep",
         "outcome": "Depression", "k_studies": 10, "n_participants": 900},
        {"measure": "SMD", "estimate": -0.3, "ci_lower": -0.5, "ci_upper": -0.1, "outcome_group": "Dep",
         "outcome": "Depression", "k_studies": 20, "n_participants": 1500},
        {"measure": "SMD", "estimate": -0.1, "ci_lower": -0.3, "ci_upper": 0.1, "outcome_group": "Dep",
         "outcome": "Anxiety", "k_studies": 5, "n_participants": 300},
        {"outcome_group": "Dep", "outcome": "Anxiety", "k_studies": 3, "n_participants": 100},
    )  # fmt: skip
    out = harmonise(rows, EffectSettings(favours={"Dep": "lower"}), {"R0": "low", "R1": "critically_low", "R2": "high"})
    return out.assign(review=out["review_id"], review_year=[2019, 2022, 2015, 2020])


def test_outcome_summary_levels_counts_and_best_review() -> None:
    s = outcome_summary(summary_input(), EffectSettings())
    assert s[["scope", "outcome"]].values.tolist() == [
        ["outcome_group", ""],
        ["outcome", "Anxiety"],
        ["outcome", "Depression"],
    ]
    group = s.iloc[0]
    assert (group["n_reviews"], group["n_meta_analyses"], group["n_benefit"], group["n_null"]) == (4, 3, 2, 1)
    assert (group["n_unknown"], group["max_k"], group["total_participants"]) == (1, 20, 2800)  # one result per review
    assert group["best_review"] == "R2" and group["best_amstar2"] == "high"  # highest rating first
    assert group["verdict"] == "mostly benefit"
    dep = s.iloc[2]
    assert dep["best_review"] == "R0" and dep["verdict"] == "consistent benefit"
    assert s.iloc[1]["verdict"] == "insufficient"  # one review with numbers


def test_best_review_rule_is_configurable() -> None:
    rows = summary_input()
    assert best_result(rows, ("k_studies", "amstar2"))["review_id"] == "R1"
    assert best_result(rows, ("year",))["review_id"] == "R1"
    assert best_result(rows, ("amstar2", "k_studies"))["review_id"] == "R2"
    with pytest.raises(ValueError, match="criterion"):
        best_result(rows, ("size",))


def test_group_slugs_and_forest_file_names() -> None:
    assert group_slug("Quality of life") == "quality_of_life"
    assert group_slug("  ") == "ungrouped"
    assert forest_file_names(["B b", "A", "b-b", "A"]) == {
        "A": "forest_a.svg",
        "B b": "forest_b_b.svg",
        "b-b": "forest_b_b_2.svg",
    }


@settings(max_examples=200, deadline=None)
@given(
    estimate=st.floats(-2, 2),
    half=st.floats(0.01, 2),
    extra=st.floats(0, 2),
    ratio=st.booleans(),
)
def test_a_wider_ci_never_makes_a_result_more_significant(
    estimate: float, half: float, extra: float, ratio: bool
) -> None:
    if ratio:
        row = lambda h: {"measure": "OR", "estimate": math.exp(estimate), "ci_lower": math.exp(estimate - h),  # noqa: E731
                         "ci_upper": math.exp(estimate + h)}  # fmt: skip
    else:
        row = lambda h: {"measure": "SMD", "estimate": estimate, "ci_lower": estimate - h, "ci_upper": estimate + h}  # noqa: E731
    narrow, wide = one(**row(half)), one(**row(half + extra))
    assert wide["p_recomputed"] >= narrow["p_recomputed"] - 1e-12


def test_review_level_classes_assess_what_a_pooled_result_allows() -> None:
    rows = effects(
        {"measure": "OR", "estimate": 2.0, "ci_lower": 1.6, "ci_upper": 2.5, "k_studies": 20},  # p ~ 1e-9
        {"measure": "SMD", "estimate": 0.3, "ci_lower": 0.05, "ci_upper": 0.55},  # p ~ 0.02
        {"measure": "SMD", "estimate": 0.1, "ci_lower": -0.2, "ci_upper": 0.4},  # ns
        {"measure": "OR", "estimate": 2.0, "ci_lower": 1.6, "ci_upper": 2.5, "k_studies": 20},
    )
    rows["n_cases"] = pd.array([2000, 5000, None, None], dtype="Int64")
    harmonised = harmonise(rows, EffectSettings())
    out = review_level_classes(harmonised)
    # with the cases known, class III at best: Egger, excess significance and the largest study need the studies
    assert out["class"].tolist() == ["III", "IV", "ns", "IV"]
    assert "not assessable from a pooled result: Egger, excess significance" in out["class_notes"][0]
    assert "cases > 1,000 not given" in out["class_notes"][3] and out["class_notes"][2] == ""


@pytest.mark.parametrize("year", ["blank", "absent"])
def test_effects_stage_runs_without_review_years(tmp_path, year: str) -> None:
    from umbrella.effects.stage import run_effects

    rows = effects(
        {"outcome": "Hope", "outcome_group": "Hope", "measure": "SMD", "estimate": 0.3, "ci_lower": 0.1,
         "ci_upper": 0.5, "favours": "higher"},
        {"outcome": "Hope", "outcome_group": "Hope", "measure": "SMD", "estimate": 0.2, "ci_lower": -0.1,
         "ci_upper": 0.5, "favours": "higher"},
    )  # fmt: skip
    rows = rows.assign(population=None, comparison=None)
    rows.to_csv(tmp_path / "effects.csv", index=False)
    reviews = pd.DataFrame({"review_id": ["R0", "R1"], "first_author": ["Ames", "Bose"], "year": [None, 2020]})
    if year == "absent":
        reviews = reviews.drop(columns="year")
    reviews.to_csv(tmp_path / "reviews.csv", index=False)
    pd.DataFrame({"review_id": ["R0", "R1"], "rating": ["low", "high"]}).to_csv(tmp_path / "ratings.csv", index=False)
    outputs = {name: tmp_path / f"{name}.csv" for name in ("review_effects", "outcome_summary")}
    outputs.update(forest=tmp_path / "forest", evidence_map=tmp_path / "map.svg")
    run_effects(tmp_path / "effects.csv", tmp_path / "reviews.csv", tmp_path / "ratings.csv", {}, outputs)
    summary = pd.read_csv(outputs["outcome_summary"])
    assert len(summary) > 0 and (tmp_path / "map.svg").exists()
