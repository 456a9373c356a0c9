"""Each re-analysed meta-analysis in detail: leave-one-out against metafor, Egger's line in the funnel plot, the
figure files and their names, their bytes on a rerun, and the report's collapsible blocks up to the cap."""

# ruff: noqa: E501 (metafor's rows are kept as R printed them)

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from umbrella.core.sheets import load_sheet
from umbrella.core.tables import output_types, read_table
from umbrella.reanalysis.analysis import STUDY_COLUMNS, reanalyse
from umbrella.reanalysis.detail import detail, file_names, leave_one_out_table, meta_analysis_ids
from umbrella.reanalysis.detail_figures import figure_sets, forest_figure, funnel_figure, write_detail_figures
from umbrella.reanalysis.settings import MetaSettings
from umbrella.report.html import FigureFolder, render
from umbrella.report.section_contexts import meta_analysis_detail_context

BCG = ROOT / "tests/data/metafor_dat.bcg_logRR.csv"
SIMULATED = ROOT / "data/raw/simulated/study_effects.csv"
TEMPLATES = ROOT / "workflow/templates"

# --------------------------------------------------------------------------------------------------------------
# metafor 3.8.1 (R 4.2.2) leave1out() numbers, each with the R code that printed them:
#
#   library(metafor)
#   bcg <- read.csv("tests/data/metafor_dat.bcg_logRR.csv")
#   show <- function(l) print(data.frame(est = l$estimate, se = l$se, pval = l$pval, lb = l$ci.lb, ub = l$ci.ub,
#                                        Q = l$Q, Qp = l$Qp, tau2 = l$tau2, I2 = l$I2), digits = 10)
#   show(leave1out(rma(yi, vi, data = bcg, method = "REML")))                  # BCG_REML
#   show(leave1out(rma(yi, vi, data = bcg, method = "DL", test = "knha")))     # BCG_DL_KNHA
#
# est, se, pval, ci.lb, ci.ub, Q, Qp, tau2, I2 (metafor's I² is τ²-based), log risk ratio, trial i left out.
BCG_REML = """
-0.7070837880 0.1899610247 1.974497590e-04 -1.0794005549 -0.3347670211 151.58257275 7.077859977e-27 0.3361567453 93.22593491
-0.6540312004 0.1806953866 2.951459939e-04 -1.0081876504 -0.2998747504 145.31760767 1.345801828e-25 0.2925830856 92.25395551
-0.6855544180 0.1857062271 2.228415641e-04 -1.0495319348 -0.3215769011 150.19704446 1.358519335e-26 0.3207380569 92.93541440
-0.6284094079 0.1766189459 3.736957709e-04 -0.9745761809 -0.2822426348  96.56259497 8.538209546e-16 0.2627583562 90.41247080
-0.7641700950 0.1917876443 6.763389979e-05 -1.1400669705 -0.3882732195 151.32000893 8.008940467e-27 0.3278032586 92.76343573
-0.7108765649 0.2002540731 3.854167598e-04 -1.1033673358 -0.3183857939 128.18666468 4.050461657e-22 0.3595541812 90.91181009
-0.6552475998 0.1804733692 2.826357475e-04 -1.0089689037 -0.3015262959 145.82963815 1.058209016e-25 0.2930258699 92.27771772
-0.7947676109 0.1798777126 9.944468663e-06 -1.1473214492 -0.4422137727  67.98581150 2.944723855e-10 0.2731830341 87.03136707
-0.7411972993 0.1966749177 1.641382879e-04 -1.1266730548 -0.3557215439 152.20506069 5.279960849e-27 0.3494520099 93.21326204
-0.6530329258 0.1842675117 3.941955885e-04 -1.0141906121 -0.2918752394 139.82707332 1.766270121e-24 0.2987246009 92.23223325
-0.7578586252 0.1957868610 1.084632110e-04 -1.1415938214 -0.3741234290 151.46550451 7.478830215e-27 0.3404882653 91.81095142
-0.7598120973 0.1820909790 3.010034109e-05 -1.1167038581 -0.4029203366 150.78683454 1.029315591e-26 0.3081622027 92.67820570
-0.7775361808 0.1855359676 2.780251286e-05 -1.1411799951 -0.4138923664 149.78842383 1.646439966e-26 0.3037333266 92.34439962
"""
BCG_DL_KNHA = """
-0.7051251984 0.1933646119 0.003843432292 -1.130717840 -0.2795325572 151.58257275 7.077859977e-27 0.3121714990 92.74322912
-0.6545158751 0.1815666049 0.004134840763 -1.054141278 -0.2548904721 145.31760767 1.345801828e-25 0.2999745908 92.43037360
-0.6848417487 0.1884072462 0.003922885635 -1.099523302 -0.2701601957 150.19704446 1.358519335e-26 0.3085270698 92.67628731
-0.6186968707 0.1797717539 0.005509396997 -1.014371833 -0.2230219082  96.56259497 8.538209546e-16 0.2167335579 88.60842544
-0.7640357017 0.1919144139 0.002154647777 -1.186436479 -0.3416349248 151.32000893 8.008940467e-27 0.3262088827 92.73063749
-0.7127273366 0.2000768253 0.004455085515 -1.153093460 -0.2723612134 128.18666468 4.050461657e-22 0.3829190218 91.41876417
-0.6556939494 0.1809680516 0.004003579223 -1.054001945 -0.2573859533 145.82963815 1.058209016e-25 0.3005712763 92.45695173
-0.7900865999 0.1800664899 0.001085047549 -1.186410272 -0.3937629277  67.98581150 2.944723855e-10 0.2108852326 83.82015342
-0.7392633565 0.1964870325 0.003141532890 -1.171728399 -0.3067983140 152.20506069 5.279960849e-27 0.3266092603 92.77290785
-0.6525852046 0.1865702279 0.004989580612 -1.063223508 -0.2419469016 139.82707332 1.766270121e-24 0.2946448785 92.13314007
-0.7606941742 0.1961988172 0.002575941611 -1.192524859 -0.3288634891 151.46550451 7.478830215e-27 0.3878091990 92.73762033
-0.7600128183 0.1789057091 0.001370058653 -1.153781629 -0.3662440076 150.78683454 1.029315591e-26 0.3093804463 92.70493340
-0.7789237401 0.1858421924 0.001507489433 -1.187959648 -0.3698878324 149.78842383 1.646439966e-26 0.3177032799 92.65630833
"""
# One re-analysed meta-analysis of the simulated data (Quality of life, review Sim027, MD, k = 15), its studies'
# yi and vi as the pipeline writes them (results/effects/study_effect_sizes.csv of a run of config/simulated.yaml):
#
#   s <- read.csv("results/effects/study_effect_sizes.csv")
#   s <- s[s$outcome == "Quality of life" & s$review_id == "Sim027", ]
#   s <- s[order(s$study_id), ]
#   show(leave1out(rma(yi, vi, data = s, method = "REML")))
SIMULATED_STUDIES = ["S00003", "S00017", "S00020", "S00032", "S00058", "S00068", "S00085", "S00097", "S00100",
                     "S00102", "S00106", "S00128", "S00133", "S00134", "S00137"]  # fmt: skip
SIMULATED_REML = """
7.424696223 1.2022593679 6.590459567e-10 5.068311162  9.781081284 15.44662511 0.2803061825 3.3923136109 18.840025020
7.278524723 1.1098662600 5.452703192e-11 5.103226825  9.453822620 13.16674687 0.4350157872 2.3167310268 14.364584444
7.419190486 1.3757970443 6.942650681e-08 4.722677829 10.115703142 15.32283931 0.2876343959 5.1346685342 21.668243202
7.703758327 1.1012915945 2.648750206e-12 5.545266466  9.862250189 14.73071883 0.3244637228 2.0732958957 12.902803512
7.728475561 1.0835767479 9.865175345e-13 5.604704160  9.852246961 14.33674531 0.3505634200 1.8737645627 11.910374755
6.839265061 1.0327517823 3.534834139e-11 4.815108763  8.863421360 11.58186954 0.5621917925 0.0000000000  0.000000000
7.607344359 1.1022939552 5.150144199e-12 5.446887907  9.767800812 15.17480259 0.2965677266 2.2251332356 13.919883089
8.157952845 0.9930661082 2.123160609e-16 6.211579039 10.104326651 12.98755755 0.4487732276 0.1645809115  1.067983495
7.594575820 1.0961802227 4.261739307e-12 5.446102063  9.743049577 15.19870937 0.2951125956 2.1808225035 13.757435855
7.220394377 1.1218154631 1.223825108e-10 5.021676472  9.419112282 13.50140453 0.4098692926 2.3588553590 14.361766612
7.403796105 1.1350256387 6.890519958e-11 5.179186731  9.628405478 15.19782416 0.2951663905 2.6788382661 16.159534902
7.816033420 1.0683036515 2.548953935e-13 5.722196738  9.909870101 13.78886608 0.3888794163 1.5742947884 10.110013540
7.650364265 1.1022426404 3.900896869e-12 5.490008388  9.810720142 14.96851791 0.3093222586 2.1678697559 13.530071297
7.175466687 1.3430224782 9.153444152e-08 4.543190999  9.807742375 15.28787599 0.2897276461 4.8037599326 21.576238268
7.725536280 1.0852095009 1.087639069e-12 5.598564742  9.852507817 14.38743535 0.3471356127 1.8932213093 12.011256084
"""
R_COLUMNS = ["estimate", "se", "p_value", "ci_lower", "ci_upper", "q", "q_p", "tau2", "i2"]
# Egger's regression on dat.bcg, the line the funnel plot draws:
#   r <- regtest(rma(yi, vi, data = bcg), model = "lm"); print(coef(r$fit), digits = 12)
#   # the same as coef(lm(yi ~ sqrt(vi), weights = 1/vi, data = bcg)); t = -1.4012820023, p = 0.1887069951
BCG_EGGER = {"intercept": -0.19092864236, "slope": -2.11204212089, "t": -1.4012820023, "p": 0.1887069951}


def metafor(text: str) -> pd.DataFrame:
    return pd.DataFrame([[float(x) for x in line.split()] for line in text.strip().splitlines()], columns=R_COLUMNS)


def bcg_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """dat.bcg as the re-analysis writes a meta-analysis: a pooled row (RR) and its studies (log RR)."""
    d = pd.read_csv(BCG)
    studies = pd.DataFrame(
        {"outcome": "Tuberculosis", "review_id": "Colditz 1994", "study_id": [f"T{t:02d}" for t in d["trial"]],
         "measure": "RR", "yi": d["yi"], "vi": d["vi"]}
    )  # fmt: skip
    pooled = pd.DataFrame({"outcome": ["Tuberculosis"], "review_id": ["Colditz 1994"], "measure": ["RR"],
                           "converted": [None]})  # fmt: skip
    return pooled, studies


@pytest.fixture(scope="module")
def simulated() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The simulated study_effects sheet re-analysed by the package: (pooled, the studies pooled)."""
    return reanalyse(load_sheet("study_effects", SIMULATED).table, MetaSettings())


def compare(table: pd.DataFrame, expected: pd.DataFrame, *, natural_log: bool, reml: bool) -> None:
    """The leave-one-out table against metafor: estimate and CI (logged back for ratios), se, p, Q, τ², I²."""
    got = table.copy()
    if natural_log:
        for col in ("estimate", "ci_lower", "ci_upper"):
            got[col] = np.log(got[col])
    # metafor stops REML at a tolerance on τ² (reference_cases/SOURCES.md: 1e-4); the rest follows from τ².
    rel, tau_abs = (1e-4, 1e-4) if reml else (1e-7, 1e-9)
    for col in ("estimate", "se", "ci_lower", "ci_upper", "q", "i2"):
        np.testing.assert_allclose(got[col], expected[col], rtol=rel, atol=1e-6, err_msg=col)
    np.testing.assert_allclose(got["tau2"], expected["tau2"], atol=tau_abs, err_msg="tau2")
    np.testing.assert_allclose(np.log(got["p_value"]), np.log(expected["p_value"]), rtol=1e-3, err_msg="p")
    np.testing.assert_allclose(np.log(got["q_p"]), np.log(expected["q_p"]), rtol=1e-6, err_msg="q_p")


# --------------------------------------------------------------------------------------------------------------
# Leave-one-out


@pytest.mark.parametrize(
    ("settings", "expected"),
    [(MetaSettings(tau2="REML", i2="tau2"), BCG_REML), (MetaSettings(tau2="DL", ci="hksj", i2="tau2"), BCG_DL_KNHA)],
    ids=["REML-z", "DL-hksj"],
)
def test_leave_one_out_matches_metafor_on_dat_bcg(settings: MetaSettings, expected: str) -> None:
    table = leave_one_out_table(detail(*bcg_tables(), settings))
    assert list(table["study_id"]) == [f"T{t:02d}" for t in range(1, 14)]
    assert (table["k"] == 12).all() and (table["measure"] == "RR").all()
    compare(table, metafor(expected), natural_log=True, reml=settings.tau2 == "REML")


def test_leave_one_out_i2_follows_the_reanalysis_setting() -> None:
    """The default Q-based I² is (Q − df)/Q of metafor's Q; the τ²-based one is metafor's own (tested above)."""
    table = leave_one_out_table(detail(*bcg_tables(), MetaSettings()))
    q = metafor(BCG_REML)["q"]
    np.testing.assert_allclose(table["i2"], 100 * (q - 11) / q, rtol=1e-9)


def test_leave_one_out_matches_metafor_on_a_simulated_meta_analysis(simulated) -> None:
    pooled, studies = simulated
    table = leave_one_out_table(detail(pooled, studies, MetaSettings(i2="tau2")))
    one = table[(table["outcome"] == "Quality of life") & (table["review_id"] == "Sim027")]
    assert list(one["study_id"]) == SIMULATED_STUDIES
    assert (one["measure"] == "MD").all() and (one["k"] == 14).all()
    compare(one.reset_index(drop=True), metafor(SIMULATED_REML), natural_log=False, reml=True)


def test_leave_one_out_table_covers_every_study_and_agrees_with_the_pooled_table(simulated) -> None:
    pooled, studies = simulated
    table = leave_one_out_table(detail(pooled, studies, MetaSettings()))
    assert len(table) == len(studies)  # every meta-analysis here has k >= 2
    largest = table.groupby(["outcome", "review_id"])["p_value"].max()
    expected = pooled.set_index(["outcome", "review_id"])["jk_max_p"]
    np.testing.assert_allclose(largest.loc[expected.index], expected, rtol=1e-9)
    ratios = table["measure"].isin(["OR", "RR"])
    assert ratios.any() and (table.loc[ratios, "ci_lower"] > 0).all()  # ratios on the natural scale


# --------------------------------------------------------------------------------------------------------------
# Figures


def test_egger_regression_is_metafor_regtest_and_the_funnel_draws_it() -> None:
    d = detail(*bcg_tables(), MetaSettings())
    for key, value in BCG_EGGER.items():
        assert d.egger[key][0] == pytest.approx(value, rel=1e-8), key
    (fs,) = figure_sets(d, {}, MetaSettings())
    fig = funnel_figure(fs)
    (line,) = [a for a in fig.axes[0].get_lines() if a.get_gid() == "egger_line"]
    se, x = np.asarray(line.get_ydata(), float), np.asarray(line.get_xdata(), float)
    assert fig.axes[0].get_xscale() == "log" and fig.axes[0].yaxis_inverted()
    np.testing.assert_allclose(np.log(x), BCG_EGGER["intercept"] + BCG_EGGER["slope"] * se, rtol=1e-8)
    assert se.max() >= np.sqrt(pd.read_csv(BCG)["vi"]).max()  # the line spans every study
    plt.close(fig)


def test_funnel_leaves_out_the_line_below_three_studies() -> None:
    pooled, studies = bcg_tables()
    d = detail(pooled, studies.head(2), MetaSettings())
    (fs,) = figure_sets(d, {}, MetaSettings())
    fig = funnel_figure(fs)
    assert not [a for a in fig.axes[0].get_lines() if a.get_gid() == "egger_line"]
    assert any("not computed" in t.get_text() for t in fig.axes[0].get_legend().get_texts())
    plt.close(fig)


def test_forest_keeps_the_data_direction_on_a_log_ratio_axis() -> None:
    d = detail(*bcg_tables(), MetaSettings())
    (fs,) = figure_sets(d, {"Colditz 1994": "Colditz 1994"}, MetaSettings())
    fig = forest_figure(fs)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_xlabel().startswith("Risk ratio")
    points = np.concatenate([c.get_offsets()[:, 0] for c in ax.collections if len(c.get_offsets()) == 13])
    np.testing.assert_allclose(np.sort(points), np.sort(np.exp(pd.read_csv(BCG)["yi"])), rtol=1e-9)
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "\u03c4\u00b2 = 0.313" in texts and "I\u00b2 = 92 %" in texts and "Q = 152.23" in texts
    assert "0.49 [0.34, 0.70]" in texts  # exp of metafor's REML estimate and CI (reference_cases/SOURCES.md)
    plt.close(fig)


def test_ids_are_file_safe_unique_and_stable() -> None:
    keys = pd.DataFrame(
        {"outcome": ["Quality of life", "Quality-of-life", "Depression (BDI/HAM-D)", "Sömmeil"],
         "review_id": ["R 1", "R 1", "R/2", "R3"]}
    )  # fmt: skip
    ids = meta_analysis_ids(keys)
    assert all(re.fullmatch(r"[a-z0-9_]+", i) for i in ids) and len(set(ids)) == len(ids)
    assert ids[2] == "r_2_depression_bdi_ham_d" and ids[3] == "r3_sommeil"
    assert ids[0].startswith("r_1_quality_of_life_") and ids[1].startswith("r_1_quality_of_life_")
    # an id depends on its own meta-analysis only: not on the row order, nor on others that do not collide
    shuffled = meta_analysis_ids(keys.iloc[::-1].reset_index(drop=True))[::-1]
    more = meta_analysis_ids(pd.concat([keys, pd.DataFrame({"outcome": ["Pain"], "review_id": ["R9"]})]))[:4]
    assert shuffled == ids and more == ids


@pytest.fixture(scope="module")
def drawn(simulated, tmp_path_factory) -> tuple[pd.DataFrame, Path]:
    pooled, studies = simulated
    folder = tmp_path_factory.mktemp("detail")
    sets = figure_sets(detail(pooled, studies, MetaSettings()), {}, MetaSettings())
    write_detail_figures(sets, folder, workers=2)
    return pooled, folder


def test_one_figure_set_per_meta_analysis(drawn) -> None:
    pooled, folder = drawn
    ids = meta_analysis_ids(pooled)
    expected = {name for i in ids for name in file_names(i).values()}
    assert {p.name for p in folder.iterdir()} == expected
    assert len(expected) == 3 * len(pooled) == 27
    assert "ma_sim027_quality_of_life_leave_one_out.svg" in expected


def test_figures_are_byte_identical_on_a_rerun(drawn, simulated, tmp_path: Path) -> None:
    pooled, folder = drawn
    _, studies = simulated
    sets = figure_sets(detail(pooled, studies, MetaSettings()), {}, MetaSettings())[:2]
    written = write_detail_figures(sets, tmp_path, workers=1)  # one process this time, two before
    assert len(written) == 6
    for path in written:
        assert path.read_bytes() == (folder / path.name).read_bytes(), path.name


# --------------------------------------------------------------------------------------------------------------
# Report


def detail_html(pooled: pd.DataFrame, folder: Path, cap: int, drawn: int = 100) -> str:
    context = {
        "meta_analysis_detail": meta_analysis_detail_context(
            {"scale": {"figure_rows": cap, "detail_figures": drawn}},
            {"pooled": pooled},
            {"Sim007": "Fallowmere 2024"},
            FigureFolder(folder),
        ),
        "supplement": {"leave_one_out": "S6c"},
        "figure_labels": {"meta_analysis_detail": "S10"},
    }
    return render(context, TEMPLATES / "meta_analysis_detail.html.j2", TEMPLATES / "report.css")


@pytest.mark.parametrize("cap", [4, 60])
def test_report_has_one_block_per_meta_analysis_up_to_the_cap(drawn, cap: int) -> None:
    pooled, folder = drawn
    html = detail_html(pooled, folder, cap)
    blocks = re.findall(r'<details class="meta-analysis" id="ma-([a-z0-9_]+)">(.*?)</details>', html, re.S)
    shown = min(cap, len(pooled))
    assert [b[0] for b in blocks] == meta_analysis_ids(pooled)[:shown]  # in the order of the pooled table
    for _, block in blocks:
        assert block.count('<img src="data:image/svg+xml;base64,') == 3
    assert "Clinical recovery — Fallowmere 2024: OR 1.73" in blocks[0][1]
    beyond = f"Shown here: the first {shown} of {len(pooled)} meta-analyses"
    assert (beyond in html) == (cap < len(pooled))
    assert ("The figures of the first 9 are in the supplement (Figure S10)" in html) == (cap < len(pooled))
    assert "not drawn" not in html


def test_the_report_reads_only_the_figures_it_shows(drawn, monkeypatch) -> None:
    pooled, folder = drawn
    import umbrella.report.html as html_module

    read = []
    original = html_module.svg_data_uri
    monkeypatch.setattr(html_module, "svg_data_uri", lambda p: read.append(Path(p).name) or original(p))
    detail_html(pooled, folder, 2)
    assert sorted(read) == sorted(n for i in meta_analysis_ids(pooled)[:2] for n in file_names(i).values())


# --------------------------------------------------------------------------------------------------------------
# The workflow


@pytest.mark.e2e
def test_the_simulated_run_draws_and_shows_every_meta_analysis(simulated_run: Path) -> None:
    pooled = read_table(simulated_run / "results/simulated/effects/pooled.csv", output_types("pooled"))
    folder = simulated_run / "results/simulated/effects/meta_analyses"
    expected = {n for i in meta_analysis_ids(pooled) for n in file_names(i).values()}
    assert {p.name for p in folder.glob("*.svg")} == expected
    supplement = simulated_run / "reports/simulated/supplement"
    assert expected <= {p.name for p in (supplement / "figures").iterdir()}
    loo = read_table(supplement / "tables/S6c_leave_one_out.csv", output_types("leave_one_out"))
    assert len(loo) == pooled["k"].sum()
    html = (simulated_run / "reports/simulated/umbrella_review.html").read_text(encoding="utf-8")
    assert html.count('<details class="meta-analysis"') == len(pooled) <= 60
    assert loo["estimate"].notna().all()


def test_only_the_first_detail_figures_are_drawn_and_the_report_says_so(simulated, drawn, tmp_path: Path) -> None:
    from umbrella.core.tables import write_table
    from umbrella.reanalysis.stage import run_detail

    pooled, studies = simulated
    write_table(pooled, tmp_path / "pooled.csv")
    write_table(studies[STUDY_COLUMNS], tmp_path / "studies.csv")
    (tmp_path / "reviews.csv").write_text("review_id,first_author,year,review_type,research_questions\n", "utf-8")
    outputs = {"leave_one_out": tmp_path / "loo.csv", "figures": tmp_path / "figures"}
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "ma_gone_forest.svg").write_text("<svg/>", "utf-8")  # of an earlier run
    run_detail(tmp_path / "pooled.csv", tmp_path / "studies.csv", tmp_path / "reviews.csv", {}, outputs, limit=4)
    first = [name for i in meta_analysis_ids(pooled)[:4] for name in file_names(i).values()]
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == sorted(first)
    loo = pd.read_csv(tmp_path / "loo.csv")
    assert loo.groupby(["outcome", "review_id"]).ngroups == len(pooled)  # the table keeps every meta-analysis
    _, folder = drawn
    html = detail_html(pooled, folder, cap=60, drawn=4)
    assert len(re.findall(r'<details class="meta-analysis"', html)) == 4
    assert f"Shown here: the first 4 of {len(pooled)} meta-analyses" in html
    assert "the others are not drawn" not in html and "The others are not drawn, as the analysis asks." in html
