"""The package's own vectorised statistics against statsmodels' independent implementations.

statsmodels is a test dependency only: the pipeline fits thousands of meta-analyses in one numpy pass, which
statsmodels' one-at-a-time ``combine_effects`` and ``WLS`` cannot do, so here it serves as a second reference next
to metafor (which the other tests use).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.regression.linear_model import WLS
from statsmodels.stats.inter_rater import cohens_kappa, to_table
from statsmodels.stats.meta_analysis import combine_effects
from umbrella.quality.rating import cohen_kappa
from umbrella.reanalysis.bias_tests import egger
from umbrella.reanalysis.model import fit, pad
from umbrella.reanalysis.settings import MetaSettings


def one_outcome(y: np.ndarray, v: np.ndarray):
    padded, _ = pad(np.zeros(len(y), dtype=int), y, v)
    return padded


@settings(max_examples=40, deadline=None)
@given(k=st.integers(3, 15), seed=st.integers(0, 10_000))
def test_dersimonian_laird_equals_statsmodels(k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y, v = rng.normal(0.3, 0.4, k), rng.uniform(0.01, 0.3, k)
    ours = fit(one_outcome(y, v), MetaSettings(tau2="DL"))
    theirs = combine_effects(y, v, method_re="dl")
    frame = theirs.summary_frame()
    # statsmodels reports the untruncated moment estimate; DerSimonian–Laird (and metafor) truncate it at 0
    assert ours["tau2"][0] == pytest.approx(max(theirs.tau2, 0.0), rel=1e-9, abs=1e-12)
    if theirs.tau2 >= 0:
        assert ours["estimate"][0] == pytest.approx(frame.loc["random effect", "eff"], rel=1e-9)
        assert ours["se"][0] == pytest.approx(frame.loc["random effect", "sd_eff"], rel=1e-9)
    # Q-based; statsmodels leaves (Q - df)/Q negative where ours (and metafor, meta) truncate at 0
    assert ours["i2"][0] == pytest.approx(100 * max(theirs.i2, 0.0), rel=1e-9, abs=1e-9)


def test_paule_mandel_equals_statsmodels_on_dat_bcg() -> None:
    d = pd.read_csv(ROOT / "tests/data/metafor_dat.bcg_logRR.csv")
    ours = fit(one_outcome(d["yi"].to_numpy(), d["vi"].to_numpy()), MetaSettings(tau2="PM"))
    theirs = combine_effects(d["yi"].to_numpy(), d["vi"].to_numpy(), method_re="pm")
    assert ours["tau2"][0] == pytest.approx(theirs.tau2, rel=1e-4)  # both iterate to a tolerance


def test_egger_equals_a_weighted_regression_in_statsmodels() -> None:
    d = pd.read_csv(ROOT / "tests/data/metafor_dat.bcg_logRR.csv")
    y, v = d["yi"].to_numpy(), d["vi"].to_numpy()
    t, p = egger(one_outcome(y, v))
    se = np.sqrt(v)
    model = WLS(y, np.column_stack([np.ones_like(se), se]), weights=1 / v).fit()
    assert t[0] == pytest.approx(model.tvalues[1], rel=1e-10)
    assert p[0] == pytest.approx(model.pvalues[1], rel=1e-10)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("YPN"), st.sampled_from("YPN")), min_size=4, max_size=40))
def test_cohen_kappa_equals_statsmodels(pairs: list[tuple[str, str]]) -> None:
    a, b = zip(*pairs, strict=True)
    codes = {c: i for i, c in enumerate("YPN")}
    table, _ = to_table(np.array([[codes[x], codes[y]] for x, y in pairs]), bins=3)
    expected = cohens_kappa(table, return_results=False)
    ours = cohen_kappa(a, b)
    if np.isnan(expected) or not np.isfinite(expected):
        assert np.isnan(ours) or ours == pytest.approx(1.0)
    else:
        assert ours == pytest.approx(expected, rel=1e-9, abs=1e-12)
