"""Several effect sizes of one study (multiple_es), shared control groups and reversed effects in the re-analysis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from umbrella.core.sheets import parse_sheet
from umbrella.reanalysis.analysis import reanalyse
from umbrella.reanalysis.combine import combine_studies, split_shared_controls
from umbrella.reanalysis.effect_sizes import study_effect_sizes
from umbrella.reanalysis.settings import MetaSettings


def rows(**columns) -> pd.DataFrame:
    n = max(len(v) for v in columns.values() if isinstance(v, list))
    base = {"outcome": ["O"] * n, "review_id": ["R1"] * n}
    return pd.DataFrame({**base, **columns})


def test_outcomes_borenstein_worked_example() -> None:
    # Borenstein et al. 2009, ch. 24 (multiple outcomes): reading 0.30 and maths 0.10, each with variance 0.05,
    # r = 0.50. By hand from the chapter's formula: mean = (0.30 + 0.10)/2 = 0.20;
    # var = (1/2)²·(0.05 + 0.05 + 2·0.50·√0.05·√0.05) = 0.25·0.15 = 0.0375.
    studies = rows(
        study_id=["S1", "S1"], measure=["G", "G"], yi=[0.30, 0.10], vi=[0.05, 0.05], n=[100.0, 90.0],
        n_cases=[50.0, 45.0], n_controls=[50.0, 45.0], n1=[50.0, 45.0], n2=[50.0, 45.0],
        multiple_es=["outcomes", "outcomes"],
    )  # fmt: skip
    out = combine_studies(studies, within_r=0.5)
    assert len(out) == 1
    assert out["yi"].iloc[0] == pytest.approx(0.20, abs=1e-12)
    assert out["vi"].iloc[0] == pytest.approx(0.0375, abs=1e-12)
    assert out["n"].iloc[0] == 100  # the largest n
    assert out["combined"].iloc[0] == "outcomes: 2 effect sizes averaged (r = 0.5)"
    # r = 1: the variance of one outcome; r = 0: half of it; a row's within_r overrides the default
    assert combine_studies(studies.assign(within_r=1.0))["vi"].iloc[0] == pytest.approx(0.05)
    assert combine_studies(studies, within_r=0.0)["vi"].iloc[0] == pytest.approx(0.025)


def test_groups_is_the_fixed_effect_pool() -> None:
    yi, vi = [0.42, 0.18, 0.30], [0.031, 0.052, 0.024]
    # R 4.2, metafor: r <- rma(c(0.42, 0.18, 0.30), c(0.031, 0.052, 0.024), method="FE"); coef(r); r$se^2
    #   0.3167813541 0.0107347392
    studies = rows(
        study_id=["S1"] * 3, measure=["G"] * 3, yi=yi, vi=vi, n=[40.0, 50.0, 60.0], n_cases=[20.0, 25.0, 30.0],
        n_controls=[20.0, 25.0, 30.0], n1=[20.0, 25.0, 30.0], n2=[20.0, 25.0, 30.0], multiple_es=["groups"] * 3,
    )  # fmt: skip
    out = combine_studies(studies)
    assert out["yi"].iloc[0] == pytest.approx(0.3167813541, abs=1e-10)
    assert out["vi"].iloc[0] == pytest.approx(0.0107347392, abs=1e-10)
    assert out["n"].iloc[0] == 150 and out["n_cases"].iloc[0] == 75  # summed
    assert out["combined"].iloc[0] == "groups: 3 effect sizes pooled (fixed effect)"


def test_shared_control_group_is_halved_before_the_effect_size() -> None:
    sheet = rows(
        study_id=["S1", "S2"], measure=["OR", "SMD"], events_treat=[12, np.nan], n_treat=[60, 40],
        events_control=[24, np.nan], n_control=[100, 60], mean_treat=[np.nan, 5.1], sd_treat=[np.nan, 2.0],
        mean_control=[np.nan, 4.3], sd_control=[np.nan, 2.2], shared_controls=[2, 2],
    )  # fmt: skip
    split, which = split_shared_controls(sheet)
    assert which.all()
    assert split["n_control"].tolist() == [50, 30] and split["events_control"].iloc[0] == 12
    es = study_effect_sizes(split)
    # R 4.2, metafor: escalc("OR", ai=12, n1i=60, ci=12, n2i=50) -> yi -0.2336148512, vi 0.2138157895
    #   (unsplit, ci=24, n2i=100: vi 0.1589912281)
    assert es["yi"].iloc[0] == pytest.approx(-0.2336148512, abs=1e-9)
    assert es["vi"].iloc[0] == pytest.approx(0.2138157895, abs=1e-9)
    # escalc("SMD", m1i=5.1, sd1i=2.0, n1i=40, m2i=4.3, sd2i=2.2, n2i=30) -> yi 0.3789633001, vi 0.0593591418
    assert es["yi"].iloc[1] == pytest.approx(0.3789633001, abs=1e-9)
    assert es["vi"].iloc[1] == pytest.approx(0.0593591418, abs=1e-9)
    _, studies = reanalyse(sheet, MetaSettings())
    assert studies["combined"].tolist() == ["control group shared by 2 comparisons, split"] * 2
    assert studies["n"].tolist() == [110, 70]
    # cases and controls: from the halved table (12 + 12 events, 48 + 38 without); for a difference the control
    # group given as n_controls is halved, its n_cases (the intervention group) kept
    assert studies["n_cases"].tolist() == [24, 40] and studies["n_controls"].tolist() == [86, 30]
    given = sheet.assign(n_cases=[36, 40], n_controls=[124, 60])
    _, studies = reanalyse(given, MetaSettings())
    assert studies["n_cases"].tolist() == [24, 40] and studies["n_controls"].tolist() == [86, 30]


def test_two_arms_sharing_a_control_group_count_each_participant_once() -> None:
    # two arms (12/60 and 18/60 events) against one control group (24/100), each row giving the whole control
    # group: split in two and pooled as groups, the study has 60 + 60 + 100 participants
    sheet = rows(
        study_id=["S1", "S1", "S2"], measure=["OR"] * 3, events_treat=[12, 18, 10], n_treat=[60, 60, 50],
        events_control=[24, 24, 15], n_control=[100, 100, 50], shared_controls=[2, 2, np.nan],
        multiple_es=["groups", "groups", None],
    )  # fmt: skip
    pooled, studies = reanalyse(sheet, MetaSettings())
    assert pooled["k"].tolist() == [2] and studies["n"].tolist() == [220, 100]
    assert studies["combined"].iloc[0] == (
        "control group shared by 2 comparisons, split; groups: 2 effect sizes pooled (fixed effect)"
    )
    # the fixed-effect pool of the two halved tables (metafor escalc values as in the test above, and
    # escalc("OR", ai=18, n1i=60, ci=12, n2i=50))
    es = study_effect_sizes(split_shared_controls(sheet.iloc[:2])[0])
    w = 1 / es["vi"]
    assert studies["yi"].iloc[0] == pytest.approx(float((w * es["yi"]).sum() / w.sum()))
    assert studies["vi"].iloc[0] == pytest.approx(float(1 / w.sum()))


def test_reverse_flips_the_ratio_and_the_difference() -> None:
    sheet = rows(
        outcome=["A", "A", "B", "B"], study_id=["S1", "S2", "S3", "S4"], measure=["OR", "OR", "MD", "MD"],
        estimate=[2.0, 2.0, 1.5, 1.5],
        ci_lower=[1.0, 1.0, 0.5, 0.5], ci_upper=[4.0, 4.0, 2.5, 2.5], reverse=[None, "yes", None, "yes"],
    )  # fmt: skip
    _, studies = reanalyse(sheet, MetaSettings())
    y, v = studies["yi"].to_numpy(), studies["vi"].to_numpy()
    assert y[1] == pytest.approx(np.log(0.5)) and y[3] == pytest.approx(-1.5)  # 1/2 and −1.5
    assert y[0] == -y[1] and y[2] == -y[3] and v[0] == v[1] and v[2] == v[3]
    # the CI swapped: 1/4 to 1/1 on the natural scale
    lo, hi = np.exp(y[1] - 1.959963984540054 * np.sqrt(v[1])), np.exp(y[1] + 1.959963984540054 * np.sqrt(v[1]))
    assert (lo, hi) == pytest.approx((0.25, 1.0))
    assert studies["combined"].tolist() == ["", "reversed", "", "reversed"]


def raw_sheet(**columns) -> pd.DataFrame:
    df = rows(**columns).astype(str)
    df.index = range(2, len(df) + 2)
    return df


def test_a_repeated_study_without_multiple_es_is_still_a_duplicate() -> None:
    base = {"study_id": ["S1", "S1"], "measure": ["SMD", "SMD"], "estimate": ["0.2", "0.4"], "se": ["0.1", "0.1"]}
    _, _, problems = parse_sheet("study_effects", raw_sheet(**base), "study_effects.csv")
    messages = [p.message for p in problems]
    assert len(messages) == 1 and "duplicate key" in messages[0] and "the same key is in row 2" in messages[0]
    assert "several effect sizes of one study need `multiple_es`" in messages[0]
    _, _, problems = parse_sheet("study_effects", raw_sheet(**base, multiple_es=["outcomes", ""]), "s.csv")
    assert len(problems) == 1 and "`multiple_es`" in problems[0].message
    _, _, problems = parse_sheet("study_effects", raw_sheet(**base, multiple_es=["outcomes", "groups"]), "s.csv")
    assert len(problems) == 1
    typed, _, problems = parse_sheet("study_effects", raw_sheet(**base, multiple_es=["outcomes", "Outcomes"]), "s")
    assert problems == [] and typed["multiple_es"].tolist() == ["outcomes", "outcomes"]


def test_a_study_with_two_rows_is_pooled_once() -> None:
    sheet = rows(
        study_id=["S1", "S1", "S2", "S3"], measure=["SMD"] * 4, estimate=[0.30, 0.10, 0.25, 0.40],
        se=[0.05**0.5, 0.05**0.5, 0.2, 0.25], multiple_es=["outcomes", "outcomes", None, None],
    )  # fmt: skip
    pooled, studies = reanalyse(sheet, MetaSettings())
    assert pooled["k"].tolist() == [3]
    assert studies["study_id"].tolist() == ["S1", "S2", "S3"]
    s1 = studies.iloc[0]
    assert (s1["yi"], s1["vi"]) == pytest.approx((0.20, 0.0375))
    # the same as giving the combined study as one row
    one = rows(
        study_id=["S1", "S2", "S3"], measure=["SMD"] * 3, estimate=[0.20, 0.25, 0.40], se=[0.0375**0.5, 0.2, 0.25]
    )
    expected, _ = reanalyse(one, MetaSettings())
    assert pooled["estimate"].iloc[0] == pytest.approx(expected["estimate"].iloc[0], rel=1e-12)
    # the configured correlation is used where the rows give none
    _, studies = reanalyse(sheet, MetaSettings(within_study_r=0.0))
    assert studies.iloc[0]["vi"] == pytest.approx(0.025)
    assert MetaSettings.from_config({"within_study_r": 0.8}).within_study_r == 0.8


def test_rows_of_a_study_with_different_measures_are_not_combined() -> None:
    from umbrella.core.errors import InputError

    sheet = rows(
        study_id=["S1", "S1"], measure=["SMD", "MD"], estimate=[0.3, 1.0], se=[0.1, 0.5],
        multiple_es=["groups", "groups"],
    )  # fmt: skip
    with pytest.raises(InputError, match="different measures"):
        reanalyse(sheet, MetaSettings())
    # a logged OR and an OR are one measure
    same = rows(
        study_id=["S1", "S1"], measure=["OR", "logOR"], estimate=[2.0, float(np.log(2.0))], se=[0.2, 0.2],
        multiple_es=["outcomes", "outcomes"],
    )  # fmt: skip
    _, studies = reanalyse(same, MetaSettings())
    assert len(studies) == 1 and studies["yi"].iloc[0] == pytest.approx(np.log(2.0))
