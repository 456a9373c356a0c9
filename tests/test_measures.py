"""Every measure and input shape of the study_effects sheet against metafor's escalc, and the clear errors of
the combinations that do not make a complete set of numbers.

The expected numbers come from R 4.2.2 with metafor 3.8.1 (Viechtbauer 2010): each is printed by
tests/reference/measures_escalc.R, and the call that gave it is written next to it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import CONFIG_QUESTIONS, write
from umbrella.core.errors import InputError
from umbrella.core.sheets import load_dataset
from umbrella.reanalysis.analysis import reanalyse
from umbrella.reanalysis.effect_sizes import correlations_as_r, fill_pre_post_cor, study_effect_sizes
from umbrella.reanalysis.settings import MetaSettings

# Pre/post inputs: intervention pre 20 (SD 4), post 15 (SD 5), n 25; control pre 21 (SD 4.5), post 19 (SD 5.5), n 24
PRE_POST = dict(
    mean_pre_treat=20.0, sd_pre_treat=4.0, mean_treat=15.0, sd_treat=5.0, n_treat=25,
    mean_pre_control=21.0, sd_pre_control=4.5, mean_control=19.0, sd_control=5.5, n_control=24,
)  # fmt: skip
# Change scores: intervention −5 (SD 3), n 25; control −2 (SD 3.5), n 24
CHANGE = dict(
    mean_change_treat=-5.0, sd_change_treat=3.0, n_treat=25, mean_change_control=-2.0, sd_change_control=3.5,
    n_control=24,
)  # fmt: skip
COUNTS = dict(events_treat=10, n_treat=100, events_control=20, n_control=100)
MEANS = dict(mean_treat=10.0, sd_treat=2.0, n_treat=20, mean_control=12.0, sd_control=3.0, n_control=30)

# (label, row, expected input, yi, vi, where the numbers come from)
CASES = [
    ("SMD means", dict(measure="SMD", **MEANS), "means", -0.742940564364, 0.088852940155,
     'escalc("SMD", m1i=10, sd1i=2, n1i=20, m2i=12, sd2i=3, n2i=30)'),
    ("G means", dict(measure="G", **MEANS), "means", -0.742940564364, 0.088852940155,
     'escalc("SMD", m1i=10, sd1i=2, n1i=20, m2i=12, sd2i=3, n2i=30)'),
    ("MD means", dict(measure="MD", **MEANS), "means", -2.0, 0.5,
     'escalc("MD", m1i=10, sd1i=2, n1i=20, m2i=12, sd2i=3, n2i=30)'),
    ("SMC pre/post r=0.8 (default)", dict(measure="SMC", **PRE_POST), "pre/post", -1.028167235034, 0.140911432115,
     'escalc("SMCC", m1i=15, m2i=20, sd1i=5, sd2i=4, ri=0.8, ni=25) minus the same for the control arm '
     "(m1i=19, m2i=21, sd1i=5.5, sd2i=4.5, ni=24); variances added"),
    ("SMC pre/post r=0.6 (row)", dict(measure="SMC", pre_post_cor=0.6, **PRE_POST), "pre/post", -0.750270009138,
     0.112993130971, 'as above with ri=0.6'),
    ("SMC change", dict(measure="SMC", **CHANGE), "change", -1.061386557946, 0.140123628731,
     'escalc("SMCC", m1i=-5, m2i=0, sd1i=3, sd2i=0, ri=0, ni=25) minus escalc("SMCC", m1i=-2, m2i=0, sd1i=3.5, '
     "sd2i=0, ri=0, ni=24); variances added"),
    ("MC pre/post", dict(measure="MC", **PRE_POST), "pre/post", -3.0, 0.814166666667,
     'escalc("MC", m1i=15, m2i=20, sd1i=5, sd2i=4, ri=0.8, ni=25) minus escalc("MC", m1i=19, m2i=21, sd1i=5.5, '
     "sd2i=4.5, ri=0.8, ni=24); variances added"),
    ("MC change", dict(measure="MC", **CHANGE), "change", -3.0, 0.870416666667,
     'escalc("MC", m1i=-5, m2i=0, sd1i=3, sd2i=0, ri=0, ni=25) minus escalc("MC", m1i=-2, m2i=0, sd1i=3.5, '
     "sd2i=0, ri=0, ni=24)"),
    ("R n", dict(measure="R", estimate=0.3, n_sample=50), "n", 0.309519604203, 0.021276595745,
     'escalc("ZCOR", ri=0.3, ni=50)'),
    ("Z n", dict(measure="Z", estimate=0.309519604203, n_sample=50), "n", 0.309519604203, 0.021276595745,
     'escalc("ZCOR", ri=0.3, ni=50)'),
    ("Z se", dict(measure="Z", estimate=0.309519604203, se=math.sqrt(0.021276595745)), "se", 0.309519604203,
     0.021276595745, 'escalc("ZCOR", ri=0.3, ni=50), its sqrt(vi) as se'),
    ("R CI", dict(measure="R", estimate=0.3, ci_lower=0.03, ci_upper=0.53), "ci", 0.309519604203, 0.020418838699,
     "atanh(0.3), ((atanh(0.53) - atanh(0.03)) / (2 * qnorm(0.975)))^2"),
    ("OR counts", dict(measure="OR", **COUNTS), "counts", -0.810930216216, 0.173611111111,
     'escalc("OR", ai=10, n1i=100, ci=20, n2i=100)'),
    ("logOR counts", dict(measure="logOR", **COUNTS), "counts", -0.810930216216, 0.173611111111,
     'escalc("OR", ai=10, n1i=100, ci=20, n2i=100)'),
    ("OR zero cell", dict(measure="OR", events_treat=0, n_treat=50, events_control=5, n_control=50), "counts",
     -2.502156283123, 2.223598183994, 'escalc("OR", ai=0, n1i=50, ci=5, n2i=50)'),
    ("RR counts", dict(measure="RR", **COUNTS), "counts", -0.693147180560, 0.13,
     'escalc("RR", ai=10, n1i=100, ci=20, n2i=100)'),
    ("RD counts", dict(measure="RD", **COUNTS), "counts", -0.1, 0.0025,
     'escalc("RD", ai=10, n1i=100, ci=20, n2i=100)'),
    ("IRR person-time",
     dict(measure="IRR", events_treat=12, time_treat=1000.0, events_control=20, time_control=1100.0),
     "person-time", -0.415515443962, 0.133333333333, 'escalc("IRR", x1i=12, t1i=1000, x2i=20, t2i=1100)'),
    ("logIRR person-time",
     dict(measure="logIRR", events_treat=12, time_treat=1000.0, events_control=20, time_control=1100.0),
     "person-time", -0.415515443962, 0.133333333333, 'escalc("IRR", x1i=12, t1i=1000, x2i=20, t2i=1100)'),
    ("IRR zero count",
     dict(measure="IRR", events_treat=0, time_treat=500.0, events_control=6, time_control=450.0),
     "person-time", -2.670309873119, 2.153846153846, 'escalc("IRR", x1i=0, t1i=500, x2i=6, t2i=450)'),
    ("HR 90 % CI", dict(measure="HR", estimate=0.8, ci_lower=0.7, ci_upper=0.92, ci_level=90.0), "ci",
     -0.223143551314, 0.006901501327, "log(0.8), ((log(0.92) - log(0.7)) / (2 * qnorm(0.95)))^2"),
    ("logHR 90 % CI",
     dict(measure="logHR", estimate=math.log(0.8), ci_lower=math.log(0.7), ci_upper=math.log(0.92), ci_level=90.0),
     "ci", -0.223143551314, 0.006901501327, "log(0.8), ((log(0.92) - log(0.7)) / (2 * qnorm(0.95)))^2"),
    ("IRR se", dict(measure="IRR", estimate=math.exp(-0.415515443962), se=math.sqrt(0.133333333333)), "se",
     -0.415515443962, 0.133333333333, 'escalc("IRR", x1i=12, t1i=1000, x2i=20, t2i=1100): exp(yi), sqrt(vi)'),
    ("MD 99 % CI", dict(measure="MD", estimate=-2.0, ci_lower=-3.5, ci_upper=-0.5, ci_level=99.0), "ci", -2.0,
     0.339116060928, "((-0.5 - -3.5) / (2 * qnorm(0.995)))^2"),
    ("OR 95 % CI (default level)", dict(measure="OR", estimate=0.5, ci_lower=0.25, ci_upper=1.0), "ci",
     math.log(0.5), (math.log(4.0) / (2 * 1.959963984540054)) ** 2, "qnorm(0.975) = 1.959963984540054"),
]  # fmt: skip


@pytest.mark.parametrize(("label", "row", "source", "yi", "vi", "reference"), CASES, ids=[c[0] for c in CASES])
def test_every_measure_and_input_matches_escalc(
    label: str, row: dict, source: str, yi: float, vi: float, reference: str
) -> None:
    es = study_effect_sizes(pd.DataFrame([row])).iloc[0]
    assert es["input"] == source, label
    assert (es["yi"], es["vi"]) == pytest.approx((yi, vi), abs=1e-11), reference


def test_all_shapes_in_one_table_as_one_by_one() -> None:
    """The vectorised pass gives every row the numbers it gets alone."""
    table = pd.DataFrame([c[1] for c in CASES])
    es = study_effect_sizes(table)
    assert es["yi"].to_numpy() == pytest.approx([c[3] for c in CASES], abs=1e-11)
    assert es["vi"].to_numpy() == pytest.approx([c[4] for c in CASES], abs=1e-11)
    assert es["input"].tolist() == [c[2] for c in CASES]


def test_pre_post_correlation_is_configurable() -> None:
    row = pd.DataFrame([dict(measure="SMC", **PRE_POST)])
    # escalc("SMCC", ..., ri=0.6) as in CASES: the setting is used where the row has no pre_post_cor
    assert study_effect_sizes(row, pre_post_cor=0.6)["yi"].iloc[0] == pytest.approx(-0.750270009138, abs=1e-11)
    filled = fill_pre_post_cor(pd.concat([row, row.assign(pre_post_cor=0.8)]), 0.6)
    assert filled["pre_post_cor"].tolist() == [0.6, 0.8]
    assert MetaSettings.from_config({"pre_post_cor": 0.6}).pre_post_cor == 0.6
    assert MetaSettings().pre_post_cor == 0.8  # metaumbrella's default


def test_sample_sizes_of_the_new_inputs() -> None:
    es = study_effect_sizes(pd.DataFrame([CASES[8][1], CASES[17][1], CASES[3][1]]))
    assert es["n"].tolist()[0] == 50  # n_sample
    assert es["n_cases"].tolist()[1] == 32  # the events of an IRR from person-time
    assert es["n"].tolist()[2] == 49 and es["n_cases"].tolist()[2] == 25  # the arms


def sheet(rows: list[dict]) -> pd.DataFrame:
    base = {"outcome": "dep", "review_id": "A2019"}
    return pd.DataFrame([{**base, "study_id": f"S{i}", **row} for i, row in enumerate(rows)])


def test_correlations_pool_on_fishers_z_and_show_on_r() -> None:
    """metafor 3.8.1: dat <- escalc("ZCOR", ri=c(0.3, 0.45, 0.1), ni=c(50, 80, 120)); m <- rma(yi, vi, data=dat,
    method="REML"); predict(m, transf=transf.ztor): z = 0.289734506771, se = 0.119898026672,
    tau2 = 0.029470236376, r = 0.281890434416, CI [0.054684086493, 0.481342628282]."""
    rows = [dict(measure="R", estimate=r, n_sample=n) for r, n in ((0.3, 50), (0.45, 80), (0.1, 120))]
    rows[1] = dict(measure="Z", estimate=math.atanh(0.45), n_sample=80)  # Z pooled with R
    pooled, studies = reanalyse(sheet(rows), MetaSettings())
    out = pooled.iloc[0]
    assert out["measure"] == "R" and out["k"] == 3
    assert out["se"] == pytest.approx(0.119898026672, rel=1e-4)  # on Fisher's z; REML iterates to a tolerance
    assert out["tau2"] == pytest.approx(0.029470236376, rel=1e-3)
    assert out["estimate"] == pytest.approx(0.281890434416, abs=1e-5)
    assert (out["ci_lower"], out["ci_upper"]) == pytest.approx((0.054684086493, 0.481342628282), abs=1e-5)
    assert out["pi_lower"] > -1 and out["pi_upper"] < 1
    r = out["estimate"]
    assert out["g_equiv"] == pytest.approx(2 * r / math.sqrt(1 - r**2))  # as metaumbrella's R -> g
    assert out["or_equiv"] == pytest.approx(math.exp(out["g_equiv"] * math.pi / math.sqrt(3)))
    assert studies["yi"].to_numpy() == pytest.approx(np.arctanh([0.3, 0.45, 0.1]))


def test_correlations_as_r_leaves_other_measures() -> None:
    pooled = pd.DataFrame({"measure": ["R", "OR"], "estimate": [0.5, 2.0], "g_equiv": [np.nan, 0.38],
                           "or_equiv": [np.nan, 2.0]})  # fmt: skip
    out = correlations_as_r(pooled)
    assert out["estimate"].tolist() == pytest.approx([math.tanh(0.5), 2.0])
    assert out["g_equiv"].iloc[1] == 0.38


def test_log_ratios_pool_with_their_ratios() -> None:
    rows = [
        dict(measure="OR", estimate=0.5, ci_lower=0.25, ci_upper=1.0),
        dict(measure="logOR", estimate=math.log(0.6), se=0.3),
    ]
    pooled, _ = reanalyse(sheet(rows), MetaSettings())
    assert pooled["measure"].tolist() == ["OR"] and pooled["k"].iloc[0] == 2
    assert pooled["converted"].iloc[0] == ""


# ---------------------------------------------------------------------------------------------------------------
# The sheet: invalid combinations, each named with file, row and column, all at once

HEADER = (
    "outcome,review_id,study_id,measure,estimate,se,ci_lower,ci_upper,ci_level,n_sample,events_treat,time_treat,"
    "events_control,time_control,n_treat,n_control,mean_pre_treat,sd_pre_treat,mean_treat,sd_treat,"
    "mean_pre_control,sd_pre_control,mean_control,sd_control\n"
)


def problems(folder: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load_dataset(folder, CONFIG_QUESTIONS)
    return [p.describe() for p in info.value.problems]


def test_valid_rows_of_every_shape_load(sheets_dir: Path) -> None:
    rows = (
        "dep,A2019,S1,R,0.3,,,,,50,,,,,,,,,,,,,,\n"
        "dep,A2019,S2,Z,0.31,0.15,,,,,,,,,,,,,,,,,,\n"
        "dep,A2019,S3,HR,0.8,,0.7,0.92,90,,,,,,,,,,,,,,,\n"
        "dep,A2019,S4,IRR,,,,,,,12,1000,20,1100,,,,,,,,,,\n"
        "dep,A2019,S5,SMC,,,,,,,,,,,25,24,20,4,15,5,21,4.5,19,5.5\n"
        "dep,A2019,S6,logOR,-0.7,,-1.2,-0.2,,,,,,,,,,,,,,,,\n"
        "dep,A2019,S7,hedges g,0.2,,0.1,0.3,,,,,,,,,,,,,,,,\n"
    )
    write(sheets_dir, "study_effects.csv", HEADER + rows)
    table = load_dataset(sheets_dir, CONFIG_QUESTIONS)["study_effects"].table
    assert table["measure"].tolist() == ["R", "Z", "HR", "IRR", "SMC", "logOR", "G"]
    assert table["ci_level"].tolist() == [95, 95, 90, 95, 95, 95, 95]  # blank: 95


def test_invalid_combinations_are_each_named(sheets_dir: Path) -> None:
    rows = (
        "dep,A2019,S1,R,0.3,,,,,,,,,,,,,,,,,,,\n"  # row 2: R without n_sample or CI
        "dep,A2019,S2,R,0.3,0.1,,,,50,,,,,,,,,,,,,,\n"  # row 3: R with se
        "dep,A2019,S3,SMC,,,,,,,,,,,25,24,20,,15,5,21,4.5,19,5.5\n"  # row 4: pre/post without sd_pre_treat
        "dep,A2019,S4,IRR,0.7,,0.5,0.9,,,,1000,20,1100,,,,,,,,,,\n"  # row 5: person-time without events_treat
        "dep,A2019,S5,HR,0.8,,0.7,0.92,100,,,,,,,,,,,,,,,\n"  # row 6: ci_level 100
        "dep,A2019,S6,HR,0.6,,0.7,0.92,90,,,,,,,,,,,,,,,\n"  # row 7: estimate outside its CI
        "dep,A2019,S7,R,1.2,,,,,50,,,,,,,,,,,,,,\n"  # row 8: r above 1
        "dep,A2019,S8,OR,0.5,0.2,,,,,3,100,5,100,,,,,,,,,,\n"  # row 9: person-time for an OR
        "dep,A2019,S9,HR,,,,,,,10,,20,,100,100,,,,,,,,\n"  # row 10: HR from counts
    )
    write(sheets_dir, "study_effects.csv", HEADER + rows)
    found = problems(sheets_dir)
    expected = [
        ("row 2, column n_sample", "no complete set of numbers for R: give estimate+n_sample or "
         "estimate+ci_lower+ci_upper; closest is estimate and n_sample, which lacks n_sample"),
        ("row 3, column se", "R takes no se"),
        ("row 4, column sd_pre_treat", "no complete set of numbers for SMC"),
        ("row 4, column sd_pre_treat", "closest is pre/post values, which lacks sd_pre_treat"),
        ("row 5, column events_treat", "person-time (time_treat) needs the events of the same arm"),
        ("row 6, column ci_level", "< 100"),
        ("row 7, column estimate", "lies outside its confidence interval [0.7, 0.92]"),
        ("row 8, column estimate", "a correlation r must lie between −1 and 1"),
        ("row 9, column time_treat", "person-time is used only for IRR"),
        ("row 10, column estimate", "no complete set of numbers for HR: give estimate+se or "
         "estimate+ci_lower+ci_upper"),
    ]  # fmt: skip
    for where, what in expected:
        assert any(f"study_effects.csv, {where}" in p and what in p for p in found), (where, what, found)
    assert len(found) == 10  # row 9 names both arms' person-time
