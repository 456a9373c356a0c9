"""The re-analysis against metaumbrella's published example and against metafor on its other examples.

- ``metaumbrella_df.OR_expected.csv``: what metaumbrella 1.1.0 prints for its example ``df.OR`` in the vignette
  (``umbrella(df.OR)`` then ``add.evidence(criteria = "Ioannidis")``), at the printed precision.
- ``metaumbrella_examples_metafor.csv``: metafor 3.8.1 on R 4.2.2 (Debian) for df.OR, df.RR and df.SMD, written
  by ``tests/reference/metaumbrella_examples.R`` (rma REML, Q-based I², t prediction interval, regtest, leave1out,
  and the excess-significance test of metaumbrella 1.1 in R).
Both are checked through the package and through the sheets and the workflow.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT, copy_workflow, snakemake, write
from umbrella.core.vocabulary import LOGIT_SCALE
from umbrella.reanalysis.analysis import reanalyse
from umbrella.reanalysis.evidence import personalised, power_d
from umbrella.reanalysis.settings import MetaSettings

DATA = ROOT / "tests/data"
EXPECTED = pd.read_csv(DATA / "metaumbrella_df.OR_expected.csv")
METAFOR = pd.read_csv(DATA / "metaumbrella_examples_metafor.csv")


def study_sheet(dataset: str, smd_input: str = "se") -> pd.DataFrame:
    """A metaumbrella example dataset written as this project's `study_effects` sheet."""
    d = pd.read_csv(DATA / f"metaumbrella_df.{dataset}.csv")
    sheet = pd.DataFrame(
        {
            "outcome": d["factor"],
            "review_id": d["meta_review"],
            "study_id": d["author"] + " " + d["year"].astype(str),
            "measure": d["measure"],
        }
    )
    if dataset == "OR":
        sheet["events_treat"] = d["n_cases_exp"]
        sheet["n_treat"] = d["n_cases_exp"] + d["n_controls_exp"]
        sheet["events_control"] = d["n_cases_nexp"]
        sheet["n_control"] = d["n_cases_nexp"] + d["n_controls_nexp"]
    elif dataset == "RR":
        sheet["events_treat"], sheet["n_treat"] = d["n_cases_exp"], d["n_exp"]
        sheet["events_control"], sheet["n_control"] = d["n_cases_nexp"], d["n_nexp"]
    elif smd_input == "se":  # Cohen's d with its SE and the group sizes, as metaumbrella takes them
        sheet["estimate"], sheet["se"] = d["value"], d["se"]
        sheet["n_cases"], sheet["n_controls"] = d["n_cases"], d["n_controls"]
    else:  # means and SDs
        sheet["n_treat"], sheet["mean_treat"], sheet["sd_treat"] = d["n_cases"], d["mean_cases"], d["sd_cases"]
        sheet["n_control"], sheet["mean_control"] = d["n_controls"], d["mean_controls"]
        sheet["sd_control"] = d["sd_controls"]
    if "rob" in d:
        sheet["rob"] = d["rob"]
    return sheet


def printed(value: float, text: str) -> bool:
    """``value`` rounds to the printed ``text`` (three decimals, or three significant digits in e-notation)."""
    if "e" in text:
        digits = len(text.split("e")[0].split(".")[1])
        return f"{value:.{digits}e}" == text
    decimals = len(text.split(".")[1]) if "." in text else 0
    return round(value, decimals) == pytest.approx(float(text), abs=10 ** (-decimals) / 10)


def expected_text() -> dict[str, str]:
    with open(DATA / "metaumbrella_df.OR_expected.csv", encoding="utf-8") as fh:
        header, adhd = fh.readline().strip().split(","), fh.readline().strip().split(",")
    return dict(zip(header, adhd, strict=True))


def adhd_values(row: pd.Series) -> dict[str, float]:
    """The pooled row of ADHD in the columns of the expected file (eG and its CI on the g scale)."""
    return {
        "k": row["k"],
        "n_cases": row["n_cases"],
        "n_controls": row["n_controls"],
        "estimate": row["estimate"],
        "ci_lower": row["ci_lower"],
        "ci_upper": row["ci_upper"],
        "p_value": row["p_value"],
        "i2_q": row["i2"],
        "pi_lower": row["pi_lower"],
        "pi_upper": row["pi_upper"],
        "egger_p": row["egger_p"],
        "esb_p": row["esb_p"],
        "jk_max_p": row["jk_max_p"],
        "largest_ci_lower": row["largest_ci_lower"],
        "largest_ci_upper": row["largest_ci_upper"],
        "eg": row["g_equiv"],
        "eg_ci_lower": math.log(row["ci_lower"]) / LOGIT_SCALE,
        "eg_ci_upper": math.log(row["ci_upper"]) / LOGIT_SCALE,
    }


def check_published_df_or(pooled: pd.DataFrame) -> None:
    by_factor = pooled.set_index("outcome")
    text = expected_text()
    values = adhd_values(by_factor.loc["ADHD"])
    wrong = {key: (value, text[key]) for key, value in values.items() if not printed(float(value), text[key])}
    assert not wrong, wrong
    classes = dict(zip(EXPECTED["factor"], EXPECTED["class_ioannidis"], strict=True))
    assert by_factor["class"].to_dict() == classes


def test_df_or_reproduces_what_metaumbrella_prints() -> None:
    pooled, _ = reanalyse(study_sheet("OR"), MetaSettings())
    check_published_df_or(pooled)


METAFOR_COLUMNS = ["estimate", "se", "ci_lower", "ci_upper", "p_value", "tau2", "q", "i2_q", "pi_lower", "pi_upper",
                   "egger_t", "egger_p", "esb_observed", "esb_expected", "esb_z", "esb_p", "largest_ci_lower",
                   "largest_ci_upper", "jk_max_p", "rob_low_pct"]  # fmt: skip


def on_analysis_scale(pooled: pd.DataFrame) -> pd.DataFrame:
    out = pooled.set_index("outcome").rename(columns={"i2": "i2_q"})
    ratio = out["measure"].isin(["OR", "RR"])
    for col in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "largest_ci_lower", "largest_ci_upper"):
        values = out[col].astype(float)
        out[col] = values.where(~ratio, np.log(values.where(ratio, 1.0)))
    return out


def assert_matches_metafor(pooled: pd.DataFrame, dataset: str, convention: str) -> None:
    ours = on_analysis_scale(pooled)
    reference = METAFOR[(METAFOR["dataset"] == dataset) & (METAFOR["convention"] == convention)]
    assert len(reference) > 0
    for _, ref in reference.iterrows():
        row = ours.loc[ref["factor"]]
        assert row["k"] == ref["k"]
        for col in METAFOR_COLUMNS:
            if pd.isna(ref[col]):
                assert pd.isna(row[col]), (ref["factor"], col)
                continue
            # metafor stops REML at a tolerance of 1e-5 on tau²; everything downstream inherits it
            assert float(row[col]) == pytest.approx(ref[col], rel=2e-4, abs=2e-5), (ref["factor"], col)


@pytest.mark.parametrize(("dataset", "convention"), [("OR", "2x2"), ("RR", "2x2")])
def test_ratio_examples_match_metafor(dataset: str, convention: str) -> None:
    pooled, _ = reanalyse(study_sheet(dataset), MetaSettings())
    assert_matches_metafor(pooled, dataset, convention)


@pytest.mark.parametrize(
    ("smd_input", "smd_variance", "convention"),
    [
        ("means", "escalc", "escalc"),  # metafor's escalc("SMD") on the means
        ("means", "metaumbrella", "metaumbrella"),  # J²·(1/n1 + 1/n2 + d²/(2N)) on the means
        ("se", "escalc", "metaumbrella"),  # a Cohen's d with its SE becomes g = J·d, SE J·SE either way
        ("se", "metaumbrella", "metaumbrella"),
    ],
)
def test_smd_example_matches_metafor_under_both_conventions(smd_input: str, smd_variance: str, convention: str) -> None:
    pooled, studies = reanalyse(study_sheet("SMD", smd_input), MetaSettings(smd_variance=smd_variance))
    assert_matches_metafor(pooled, "SMD", convention)
    assert (pooled["measure"] == "SMD").all()


def test_esb_settings_change_the_test_as_documented() -> None:
    sheet = study_sheet("SMD")
    default, _ = reanalyse(sheet, MetaSettings())
    reference = METAFOR[(METAFOR["dataset"] == "SMD") & (METAFOR["convention"] == "metaumbrella")].set_index("factor")
    tess, _ = reanalyse(sheet, MetaSettings(esb_method="TESS"))
    psst, _ = reanalyse(sheet, MetaSettings(esb_method="PSST"))
    for frame, column in ((tess, "esb_p_tess"), (psst, "esb_p_psst")):
        got = frame.set_index("outcome")["esb_p"]
        assert got.to_numpy() == pytest.approx(reference.loc[got.index, column].to_numpy(), rel=2e-4, abs=1e-8)
    assert (default["esb_p"] <= np.minimum(tess["esb_p"], psst["esb_p"]) + 1e-12).all()
    # a stronger assumed true effect raises every study's power: more significance is expected
    strong, _ = reanalyse(sheet, MetaSettings(esb_true_effect=2.0))
    assert (strong["esb_expected"] > default["esb_expected"]).all()
    largest, _ = reanalyse(sheet, MetaSettings(esb_true_effect="largest"))
    pooled, _ = reanalyse(sheet, MetaSettings(esb_true_effect="pooled"))
    assert not np.allclose(largest["esb_expected"], pooled["esb_expected"])
    assert pooled["esb_true_effect"].to_numpy() == pytest.approx(pooled["estimate"].to_numpy())
    # a number is on the natural scale for ratios: OR 1.5 is ln 1.5 on the analysis scale
    or_fixed, _ = reanalyse(study_sheet("OR"), MetaSettings(esb_true_effect=1.5))
    assert or_fixed["esb_true_effect"].to_numpy() == pytest.approx(1.5)


def test_power_d_matches_the_noncentral_t() -> None:
    # pwr::pwr.t2n.test(n1 = 50, n2 = 50, d = 0.5) gives power 0.6968934 (R 4.2, pwr 1.3)
    assert power_d(np.array([50.0]), np.array([50.0]), 0.5)[0] == pytest.approx(0.6968934, abs=1e-6)


def pooled_rows(**columns) -> pd.DataFrame:
    base = dict(
        measure=["SMD"], k=[10], n_cases=[2000.0], n_controls=[2000.0], n_total=[4000.0], p_value=[1e-8],
        i2=[20.0], ci_lower=[0.3], ci_upper=[0.7], pi_lower=[0.1], pi_upper=[0.9], egger_p=[0.5], esb_p=[0.5],
        jk_max_p=[1e-6], largest_ci_lower=[0.2], largest_ci_upper=[0.6], rob_low_pct=[80.0], amstar=[12.0],
    )  # fmt: skip
    base.update(columns)
    return pd.DataFrame(base)


CRITERIA = {
    "I": {"n_cases": 1000, "p_value": 1e-6, "I2": 50, "pi": "notnull", "egger_p": 0.05, "amstar": 10},
    "II": {"n_cases": 1000, "p_value": 1e-6, "largest_CI": "notnull"},
    "III": {"n_studies": 5, "p_value": 1e-3, "imprecision": 0.2},
    "IV": {"p_value": 0.05},
}


@pytest.mark.parametrize(
    ("changes", "expected", "note"),
    [
        ({}, "I", ""),
        ({"amstar": [10.0]}, "II", ""),  # strict: 10 is not above 10
        ({"amstar": [float("nan")]}, "II", "AMSTAR score: missing, not met"),
        ({"i2": [60.0], "largest_ci_lower": [-0.1]}, "III", ""),
        ({"i2": [60.0], "largest_ci_lower": [-0.5], "largest_ci_upper": [-0.2]}, "III", ""),  # opposite side
        ({"p_value": [1e-4], "k": [4]}, "IV", ""),
        ({"p_value": [1e-4], "n_cases": [20.0], "n_controls": [20.0]}, "IV", ""),  # power to detect 0.2 too low
        ({"p_value": [0.2]}, "V", ""),
    ],
)
def test_personalised_classes(changes: dict, expected: str, note: str) -> None:
    out = personalised(pooled_rows(**changes), CRITERIA).iloc[0]
    assert out["class"] == expected
    assert note in out["notes"]


def test_personalised_classes_through_reanalyse() -> None:
    settings = MetaSettings(classes="personalised", personalised={"II": {"p_value": 0.03}, "IV": {"p_value": 0.05}})
    pooled, _ = reanalyse(study_sheet("OR"), settings)
    # ADHD p 0.0294 and ID p 0.0092 meet II; dyslexia p 0.048 meets IV; ASD p 0.88 none
    assert pooled.set_index("outcome")["class"].to_dict() == {"ADHD": "II", "ASD": "V", "ID": "II", "dyslexia": "IV"}


def test_fe_with_tau2_based_i2_reports_the_q_based_i2() -> None:
    pooled, _ = reanalyse(study_sheet("OR"), MetaSettings(tau2="FE", i2="tau2"))
    adhd = pooled.set_index("outcome").loc["ADHD"]
    assert adhd["i2"] == pytest.approx(70.886, abs=5e-4)


# --------------------------------------------------------------------------------------------------------------
# Through the sheets and the workflow

REVIEWS = (
    "review_id,first_author,year,review_type,research_questions\n"
    "Dalager,Dalager,2020,sr_meta_analysis,effectiveness\n"
    "Smith,Smith,2021,sr_meta_analysis,effectiveness\n"
    "Takayama,Takayama,2019,sr_meta_analysis,effectiveness\n"
)


@pytest.fixture(scope="module")
def examples_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = copy_workflow(tmp_path_factory.mktemp("metaumbrella"))
    sheets = work / "data/raw/examples"
    write(sheets, "reviews.csv", REVIEWS)
    table = pd.concat([study_sheet("OR"), study_sheet("RR"), study_sheet("SMD")], ignore_index=True)
    table.to_csv(sheets / "study_effects.csv", index=False)
    config = yaml.safe_load((work / "config/config.yaml").read_text(encoding="utf-8"))
    config.update(data="data/raw/examples", title="metaumbrella's examples", published={}, prisma=None)
    config["reanalysis"]["smd_variance"] = "metaumbrella"
    config["report"] = {"p_values": "exact"}  # p below 0.001 as a power of ten, not "< 0.001"
    (work / "config/examples.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    result = snakemake(work, "--cores", "2", "--configfile", "config/examples.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    return work


@pytest.mark.e2e
def test_workflow_reproduces_metaumbrella_and_metafor(examples_run: Path) -> None:
    pooled = pd.read_csv(examples_run / "results/examples/effects/pooled.csv")
    check_published_df_or(pooled[pooled["review_id"] == "Dalager"])
    assert_matches_metafor(pooled[pooled["review_id"] == "Takayama"], "RR", "2x2")
    assert_matches_metafor(pooled[pooled["review_id"] == "Smith"], "SMD", "metaumbrella")
    assert set(pooled.columns) >= {"esb_observed", "esb_expected", "esb_z", "grade_rob", "grade_indirectness"}


@pytest.mark.e2e
def test_report_shows_the_reanalysis_without_an_effects_sheet(examples_run: Path) -> None:
    html = (examples_run / "reports/examples/umbrella_review.html").read_text(encoding="utf-8")
    assert 'id="reanalysis"' in html and "GRADE of each re-analysed meta-analysis" in html
    methods = html[html.index('<section id="methods">') : html.index("</section>", html.index('id="methods"'))]
    assert "Re-analysis of study-level data" in methods
    assert "J²·(1/n₁ + 1/n₂ + d²/(2N)) (metaumbrella)" in methods  # smd_variance: metaumbrella, as configured
    assert "the smaller p of TESS and PSST" in methods and "Labels: High, Moderate, Weak, Very weak" in methods
    assert "1.2\u00a0×\u00a010⁻⁴" in html  # SSRI's Egger p, never printed as 0.00 (report.p_values: exact)
