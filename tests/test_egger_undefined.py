"""Egger's test is undefined when its regression fits the studies exactly (two of three studies identical), and
GRADE does not downgrade on it.

The numbers are metafor 4 (R 4.2):
    library(metafor)
    regtest(rma(c(0.2, 0.2, 0.5, 0.1), c(0.04, 0.04, 0.09, 0.01), method = "DL"), model = "lm")
    # t = 3.6765801201, df = 2, p = 0.0666666667
    regtest(rma(c(0.2, 0.2, 0.5), c(0.04, 0.04, 0.09), method = "DL"), model = "lm")
    # Warning: essentially perfect fit: summary may be unreliable
    # t = 2.71577e+15, df = 1, p = 2.34416e-16  (round-off of a zero residual variance)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from umbrella.reanalysis.bias_tests import egger
from umbrella.reanalysis.grade import _publication_bias
from umbrella.reanalysis.model import Padded


def _padded(rows: list[tuple[list[float], list[float]]]) -> Padded:
    width = max(len(y) for y, _ in rows)
    y, v, mask = np.zeros((len(rows), width)), np.ones((len(rows), width)), np.zeros((len(rows), width), bool)
    for i, (yi, vi) in enumerate(rows):
        y[i, : len(yi)], v[i, : len(vi)], mask[i, : len(yi)] = yi, vi, True
    return Padded(y=y, v=v, mask=mask)


def test_egger_matches_metafor_and_is_undefined_on_an_exact_fit() -> None:
    t, p = egger(
        _padded(
            [
                ([0.2, 0.2, 0.5, 0.1], [0.04, 0.04, 0.09, 0.01]),
                ([0.2, 0.2, 0.5], [0.04, 0.04, 0.09]),  # two identical studies of three: an exact fit
                ([0.3, 0.3, 0.3], [0.04, 0.02, 0.09]),  # identical effects: no variation to test
            ]
        )
    )
    assert t[0] == pytest.approx(3.6765801201, abs=1e-9)
    assert p[0] == pytest.approx(0.0666666667, abs=1e-9)
    assert np.isnan(t[1]) and np.isnan(p[1])  # metafor: t about 10^15 from round-off, with R's warning
    assert np.isnan(t[2]) and np.isnan(p[2])


def test_exact_fit_for_any_two_identical_studies_of_three() -> None:
    rng = np.random.default_rng(16)
    rows = []
    for _ in range(500):
        y1, y2 = rng.normal(size=2)
        v1, v2 = rng.uniform(0.001, 1, size=2)
        rows.append(([y1, y1, y2], [v1, v1, v2]))
    t, p = egger(_padded(rows))
    assert np.isnan(t).all() and np.isnan(p).all()


def test_grade_does_not_downgrade_on_an_undefined_egger_test() -> None:
    _, p = egger(_padded([([0.2, 0.2, 0.5], [0.04, 0.04, 0.09])]))
    pooled = pd.DataFrame({"k": [3], "egger_p": p, "esb_p": [0.6]})
    domain = _publication_bias(pooled)
    assert domain.downgrade.tolist() == [0]
    assert "Egger p undefined" in domain.reasons[0]
