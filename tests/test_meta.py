"""The re-analysis engine against metafor's dat.bcg results, effect sizes by hand, tests, classes, GRADE."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from umbrella.reanalysis.analysis import reanalyse
from umbrella.reanalysis.bias_tests import egger, excess_significance
from umbrella.reanalysis.effect_sizes import study_effect_sizes
from umbrella.reanalysis.evidence import ioannidis
from umbrella.reanalysis.grade import GradeSettings, grade
from umbrella.reanalysis.model import fit, leave_one_out, pad
from umbrella.reanalysis.settings import MetaSettings

BCG = ROOT / "tests/data/metafor_dat.bcg_logRR.csv"

# metafor 3.8 rma(yi, vi, method=...) on dat.bcg (reference_cases/SOURCES.md)
METAFOR = {
    "REML": (-0.714532, 0.179782, -1.066898, -0.362167, 0.313243),
    "DL": (-0.714117, 0.178742, -1.064445, -0.363789, 0.308760),
    "PM": (-0.714970, 0.180898, -1.069524, -0.360417, 0.318094),
    "ML": (-0.711199, 0.171897, -1.048111, -0.374288, 0.280028),
    "FE": (-0.430285, 0.040499, -0.509661, -0.350909, 0.0),
}
ITERATIVE = {"REML", "PM", "ML"}


@pytest.fixture(scope="module")
def bcg():
    d = pd.read_csv(BCG)
    padded, _ = pad(np.zeros(len(d), dtype=int), d["yi"].to_numpy(), d["vi"].to_numpy())
    return padded


def close(value: float, expected: float, rel: float) -> bool:
    return value == pytest.approx(expected, rel=rel, abs=1e-6)


@pytest.mark.parametrize("method", list(METAFOR))
def test_every_estimator_matches_metafor(bcg, method: str) -> None:
    res = fit(bcg, MetaSettings(tau2=method))
    est, se, lo, hi, tau2 = METAFOR[method]
    # metafor prints 6 decimals and stops its iterative tau² at a tolerance (1e-4 on tau², per SOURCES.md);
    # estimates that depend on an iterative tau² inherit that tolerance.
    rel = 1e-4 if method in ITERATIVE else 1e-5
    assert close(res["estimate"][0], est, rel) and close(res["se"][0], se, rel)
    assert close(res["ci_lower"][0], lo, rel) and close(res["ci_upper"][0], hi, rel)
    assert res["tau2"][0] == pytest.approx(tau2, abs=1e-4 if method in ITERATIVE else 1e-6)
    assert res["q"][0] == pytest.approx(152.2330, abs=1e-4)


def test_reml_and_dl_match_to_the_printed_precision(bcg) -> None:
    reml = fit(bcg, MetaSettings(tau2="REML"))
    assert reml["estimate"][0] == pytest.approx(-0.714532, abs=5e-7)
    assert reml["se"][0] == pytest.approx(0.179782, abs=5e-7)
    assert reml["tau2"][0] == pytest.approx(0.313243, abs=5e-7)


def test_hartung_knapp(bcg) -> None:
    res = fit(bcg, MetaSettings(tau2="REML", ci="hksj"))
    assert res["se"][0] == pytest.approx(0.180792, abs=5e-7)
    assert (res["ci_lower"][0], res["ci_upper"][0]) == pytest.approx((-1.108444, -0.320621), abs=5e-6)


def test_i2_both_definitions(bcg) -> None:
    assert fit(bcg, MetaSettings(i2="q"))["i2"][0] == pytest.approx(92.1173, abs=5e-5)
    assert fit(bcg, MetaSettings(i2="tau2"))["i2"][0] == pytest.approx(92.2214, abs=5e-4)
    assert fit(bcg, MetaSettings(tau2="DL", i2="tau2"))["i2"][0] == pytest.approx(92.1173, abs=5e-4)


def test_prediction_interval_distributions(bcg) -> None:
    z = fit(bcg, MetaSettings(prediction_interval="z"))
    assert (z["pi_lower"][0], z["pi_upper"][0]) == pytest.approx((-1.866692, 0.437628), abs=5e-6)
    t = fit(bcg, MetaSettings())
    half = stats.t.ppf(0.975, 12) * math.sqrt(t["se"][0] ** 2 + t["tau2"][0])
    assert (t["pi_lower"][0], t["pi_upper"][0]) == pytest.approx((t["estimate"][0] - half, t["estimate"][0] + half))
    t2 = fit(bcg, MetaSettings(prediction_interval="t_k_minus_2"))
    assert t2["pi_lower"][0] < t["pi_lower"][0]


def test_egger(bcg) -> None:
    t, p = egger(bcg)
    assert t[0] == pytest.approx(-1.4013, abs=5e-5) and p[0] == pytest.approx(0.1887, abs=5e-5)


def test_leave_one_out(bcg) -> None:
    _, estimates = leave_one_out(bcg, MetaSettings())
    expected = [-0.7071, -0.6540, -0.6856, -0.6284, -0.7642, -0.7109, -0.6552, -0.7948, -0.7412, -0.6530,
                -0.7579, -0.7598, -0.7775]  # fmt: skip
    assert estimates[0] == pytest.approx(expected, abs=5e-5)


def test_vectorised_fit_equals_one_outcome_at_a_time(bcg) -> None:
    d = pd.read_csv(BCG)
    codes = np.arange(len(d)) % 3
    together, _ = pad(codes, d["yi"].to_numpy(), d["vi"].to_numpy())
    joint = fit(together, MetaSettings())
    for g in range(3):
        alone, _ = pad(
            np.zeros((codes == g).sum(), dtype=int), d["yi"][codes == g].to_numpy(), d["vi"][codes == g].to_numpy()
        )
        single = fit(alone, MetaSettings())
        for key in ("estimate", "se", "tau2", "i2", "pi_lower"):
            assert joint[key][g] == pytest.approx(single[key][0], rel=1e-10, abs=1e-12)


def test_reml_converges_where_the_likelihood_is_flat_or_extreme() -> None:
    y = np.array([0.0, 10.0, -10.0, 0.1, 1e-3, 5.0])
    v = np.array([1e-6, 1e-6, 1e-6, 100.0, 100.0, 1e-4])
    padded, _ = pad(np.array([0, 0, 0, 1, 1, 2]), y, v)
    res = fit(padded, MetaSettings())
    assert np.isfinite(res["tau2"][0]) and res["tau2"][0] > 50  # huge heterogeneity found
    assert res["tau2"][1] == 0.0  # no heterogeneity: boundary
    assert np.isnan(res["tau2"][2]) and res["estimate"][2] == pytest.approx(5.0)  # a single study


def frame(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns)


def test_study_effect_sizes_by_hand() -> None:
    d = frame(
        measure=["OR", "OR", "RR", "RD", "SMD", "MD", "SMD", "OR"],
        events_treat=[10, 0, 10, 10, None, None, None, None],
        n_treat=[100, 50, 100, 100, 20, 20, None, None],
        events_control=[20, 5, 20, 20, None, None, None, None],
        n_control=[100, 50, 100, 100, 30, 30, None, None],
        mean_treat=[None, None, None, None, 10.0, 10.0, None, None],
        sd_treat=[None, None, None, None, 2.0, 2.0, None, None],
        mean_control=[None, None, None, None, 12.0, 12.0, None, None],
        sd_control=[None, None, None, None, 3.0, 3.0, None, None],
        estimate=[None, None, None, None, None, None, -0.4, 2.0],
        se=[None, None, None, None, None, None, 0.2, None],
        ci_lower=[None] * 7 + [1.0],
        ci_upper=[None] * 7 + [4.0],
    )
    es = study_effect_sizes(d)
    assert es["yi"][0] == pytest.approx(math.log(10 * 80 / (90 * 20)))
    assert es["vi"][0] == pytest.approx(1 / 10 + 1 / 90 + 1 / 20 + 1 / 80)
    assert es["yi"][1] == pytest.approx(math.log(0.5 * 45.5 / (50.5 * 5.5)))  # 0.5 added: a zero cell
    assert es["yi"][2] == pytest.approx(math.log(0.1 / 0.2))
    assert es["vi"][2] == pytest.approx(1 / 10 - 1 / 100 + 1 / 20 - 1 / 100)
    assert (es["yi"][3], es["vi"][3]) == pytest.approx((-0.1, 0.1 * 0.9 / 100 + 0.2 * 0.8 / 100))
    # metafor 3.8.1: escalc("SMD", m1i=10, sd1i=2, n1i=20, m2i=12, sd2i=3, n2i=30) (exact J)
    assert (es["yi"][4], es["vi"][4]) == pytest.approx((-0.742940564364, 0.088852940155), abs=1e-12)
    assert (es["yi"][5], es["vi"][5]) == pytest.approx((-2.0, 4 / 20 + 9 / 30))
    assert (es["yi"][6], es["vi"][6]) == pytest.approx((-0.4, 0.04))
    assert es["yi"][7] == pytest.approx(math.log(2.0))
    assert es["vi"][7] == pytest.approx((math.log(4.0) / (2 * stats.norm.ppf(0.975))) ** 2)
    assert es["input"].tolist() == ["counts"] * 4 + ["means"] * 2 + ["se", "ci"]
    assert es["n_cases"][0] == 30 and es["n_cases"][4] == 20  # events; else the intervention arm


def pooled_row(**overrides) -> pd.DataFrame:
    base = dict(
        measure="SMD", k=10, p_value=1e-8, n_cases=2000.0, i2=20.0, pi_lower=0.1, pi_upper=0.9, egger_p=0.5,
        esb_p=0.5, largest_ci_lower=0.2, largest_ci_upper=0.6, ci_lower=0.3, ci_upper=0.7, estimate=0.5,
        n_total=3000.0, rob_low_pct=80.0,
    )  # fmt: skip
    base.update(overrides)
    return pd.DataFrame([base])


@pytest.mark.parametrize(
    ("overrides", "expected", "missing"),
    [
        ({}, "I", ""),
        ({"i2": 60.0}, "II", ""),
        ({"i2": 60.0, "largest_ci_lower": -0.1}, "III", ""),
        ({"p_value": 1e-4}, "III", ""),
        ({"p_value": 1e-4, "n_cases": 500.0}, "IV", ""),
        ({"p_value": 0.2}, "ns", ""),
        ({"n_cases": float("nan")}, "IV", "cases > 1,000"),
        ({"egger_p": float("nan")}, "II", "Egger"),
        ({"pi_lower": -0.1}, "II", ""),
        ({"measure": "OR", "estimate": 2.0, "ci_lower": 1.5, "ci_upper": 2.5, "pi_lower": 1.1, "pi_upper": 3.0,
          "largest_ci_lower": 1.2, "largest_ci_upper": 3.0}, "I", ""),
    ],
)  # fmt: skip
def test_ioannidis_classes(overrides: dict, expected: str, missing: str) -> None:
    out = ioannidis(pooled_row(**overrides)).iloc[0]
    assert out["class"] == expected
    assert missing in out["notes"]


def on_g(lo: float = 0.3, hi: float = 0.7, plo: float = 0.15, phi: float = 0.85) -> pd.DataFrame:
    return pd.DataFrame({"kind": ["g"], "ci_lower": [lo], "ci_upper": [hi], "pi_lower": [plo], "pi_upper": [phi]})


def graded(row: pd.DataFrame, scale: pd.DataFrame | None = None, contradict: float = 0.0, **settings) -> pd.Series:
    row = row.assign(n_controls=row["n_cases"], indirectness=row.get("indirectness", "no"))
    return grade(row, on_g() if scale is None else scale, np.array([contradict]), GradeSettings(**settings)).iloc[0]


def test_grade_domains() -> None:
    assert graded(pooled_row())["grade"] == "High"
    row = graded(pooled_row(rob_low_pct=60.0, egger_p=0.05))
    assert (row["grade"], row["grade_rob"], row["grade_publication_bias"]) == ("Weak", 1, 1)
    assert "risk of bias −1" in row["grade_downgrades"] and "publication bias −1" in row["grade_downgrades"]
    few = graded(pooled_row(k=3))
    assert (few["grade"], few["grade_start"]) == ("Moderate", 1)
    # CI spanning the null and g = 0.8 with fewer than 394 cases: −2
    imprecise = graded(pooled_row(n_cases=200.0), on_g(-0.1, 0.9, -0.3, 1.1))
    assert imprecise["grade_imprecision"] == 2 and "imprecision −2" in imprecise["grade_downgrades"]
    assert graded(pooled_row(n_cases=50.0))["grade_imprecision"] == 2  # fewer than 64: −2 in any case
    assert graded(pooled_row(n_cases=300.0))["grade_imprecision"] == 1  # fewer than 394 alone: −1


def test_grade_missing_inputs_count_as_the_worst_case_and_are_named() -> None:
    row = graded(
        pooled_row(rob_low_pct=float("nan"), egger_p=float("nan"), esb_p=float("nan"))
        .drop(columns="indirectness", errors="ignore")
        .assign(indirectness=None)
    )
    assert (row["grade_rob"], row["grade_publication_bias"], row["grade_indirectness"]) == (2, 1, 2)
    assert row["grade"] == "Very weak"
    for words in ("risk of bias not rated", "indirectness not given: very serious", "no small-study"):
        assert words in row["grade_assumed"]
    lenient = graded(pooled_row().assign(indirectness=None), missing_indirectness="serious", labels="grade")
    assert (lenient["grade_indirectness"], lenient["grade"]) == (1, "Moderate")


@pytest.mark.parametrize(
    ("ci", "pi", "expected"),
    [
        ((0.3, 0.7), (0.15, 0.85), 0),  # CI and PI above the equivalence range (CINeMA row 1)
        ((0.3, 0.7), (0.05, 0.95), 0),  # PI still on the same side of the null (row 1)
        ((0.3, 0.7), (-0.05, 0.95), 1),  # PI crosses the null into the range (row 4b)
        ((0.3, 0.7), (-0.2, 1.2), 2),  # PI crosses the range to the other side (row 4a)
        ((-0.05, 0.5), (-0.08, 0.6), 0),  # both lower limits inside the range (rows 2 and 7)
        ((-0.05, 0.5), (-0.3, 0.9), 1),  # CI inside, PI beyond the range on one side (row 6)
        ((-0.05, 0.08), (-0.4, 0.4), 2),  # CI within the range, PI beyond it on both sides (row 8)
        ((-0.5, 0.5), (-0.9, 0.9), 0),  # CI and PI beyond the range on both sides (row 5)
    ],
)
def test_grade_inconsistency_follows_the_cinema_table(ci, pi, expected) -> None:
    assert graded(pooled_row(), on_g(*ci, *pi))["grade_inconsistency"] == expected


def test_grade_inconsistency_without_a_prediction_interval_uses_i2_and_contradicting_studies() -> None:
    no_pi = on_g(0.3, 0.7, float("nan"), float("nan"))
    assert graded(pooled_row(i2=60.0), no_pi, contradict=0.2)["grade_inconsistency"] == 2
    assert graded(pooled_row(i2=40.0), no_pi, contradict=0.2)["grade_inconsistency"] == 1
    assert graded(pooled_row(i2=60.0), no_pi, contradict=0.0)["grade_inconsistency"] == 0


def test_grade_on_the_odds_ratio_scale() -> None:
    scale = pd.DataFrame({"kind": ["or"], "ci_lower": [1.5], "ci_upper": [2.5], "pi_lower": [1.3], "pi_upper": [3.0]})
    assert graded(pooled_row(measure="OR"), scale)["grade"] == "High"
    wide = scale.assign(ci_lower=0.9, ci_upper=5.5)
    assert graded(pooled_row(measure="OR", n_cases=300.0), wide)["grade_imprecision"] == 2


def esb(y: np.ndarray, v: np.ndarray, tau2: float, theta: float, method: str = "TESSPSST") -> dict:
    padded, _ = pad(np.zeros(len(y), dtype=int), y, v)
    se = np.sqrt(padded.v)
    df = np.full(se.shape, np.inf)
    out = excess_significance(padded.y, se, df, padded.mask, np.array([tau2]), np.array([theta]), method)
    return {key: value[0] for key, value in out.items()}


def test_excess_significance_power_is_one_tailed_in_the_direction_of_the_true_effect() -> None:
    y, v = np.array([0.5, 0.1, -0.2, 0.6]), np.array([0.04, 0.04, 0.09, 0.01])
    res = esb(y, v, 0.0, 0.3, "TESS")
    se = np.sqrt(v)
    power = 1 - stats.norm.cdf((1.96 * se - 0.3) / se)  # Stanley et al. 2021, one tail
    assert res["expected"] == pytest.approx(power.sum()) and res["observed"] == 2  # 0.5/0.2 and 0.6/0.1
    tess = ((2 - power.sum()) / 4 - 0.05) / math.sqrt(0.0475 / 4)
    assert (res["z"], res["p"]) == pytest.approx((tess, stats.norm.sf(tess)))
    pe = power.sum() / 4
    psst = (2 / 4 - pe) / math.sqrt(pe * (1 - pe) / 4)
    assert esb(y, v, 0.0, 0.3, "PSST")["z"] == pytest.approx(psst)
    both = esb(y, v, 0.0, 0.3)
    assert both["p"] == pytest.approx(min(stats.norm.sf(tess), stats.norm.sf(psst)))
    assert both["z"] == pytest.approx(max(tess, psst))
    assert esb(y, v, 0.0, -0.3)["expected"] == pytest.approx(res["expected"])  # |θ|: the direction of θ


def test_excess_significance_is_not_flagged_when_significance_matches_power() -> None:
    y = np.array([0.05] * 39 + [0.3])  # 1 of 40 significant while each study has 2.5 % power
    assert esb(y, np.full(40, 0.01), 0.0, 0.0)["p"] > 0.3
    assert esb(np.full(40, 0.25), np.full(40, 0.01), 0.0, 0.02)["p"] < 0.001  # all significant


def test_reanalyse_groups_by_outcome_and_review() -> None:
    d = pd.read_csv(BCG)
    sheet = pd.DataFrame(
        {
            "outcome": ["TB"] * len(d),
            "review_id": ["R1"] * 7 + ["R2"] * (len(d) - 7),
            "study_id": [f"S{i}" for i in range(len(d))],
            "measure": "RR",
            "events_treat": d["tpos"],
            "n_treat": d["tpos"] + d["tneg"],
            "events_control": d["cpos"],
            "n_control": d["cpos"] + d["cneg"],
            "rob": ["low"] * 5 + ["high"] * (len(d) - 5),
        }
    )
    pooled, studies = reanalyse(sheet, MetaSettings())
    assert pooled[["outcome", "review_id", "k"]].values.tolist() == [["TB", "R1", 7], ["TB", "R2", 6]]
    assert studies["yi"].to_numpy() == pytest.approx(d["yi"].to_numpy())
    assert studies["vi"].to_numpy() == pytest.approx(d["vi"].to_numpy())
    r1 = pooled.iloc[0]
    assert 0 < r1["estimate"] < 1 and r1["ci_lower"] < r1["estimate"] < r1["ci_upper"]  # natural scale
    assert r1["n_cases"] == int((d["tpos"] + d["cpos"])[:7].sum())
    assert 0 < r1["rob_low_pct"] < 100 and pooled.iloc[1]["rob_low_pct"] == 0


@settings(max_examples=60, deadline=None)
@given(
    k=st.integers(2, 12),
    seed=st.integers(0, 10_000),
    method=st.sampled_from(["REML", "ML", "PM", "DL"]),
)
def test_tau2_is_non_negative_and_the_estimate_within_the_studies(k: int, seed: int, method: str) -> None:
    rng = np.random.default_rng(seed)
    y, v = rng.normal(0, 1, k), rng.uniform(0.01, 1, k)
    padded, _ = pad(np.zeros(k, dtype=int), y, v)
    res = fit(padded, MetaSettings(tau2=method))
    assert res["tau2"][0] >= 0
    assert y.min() - 1e-9 <= res["estimate"][0] <= y.max() + 1e-9
