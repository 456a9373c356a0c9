"""How the report prints numbers: minus signs, thousands separators, p-values (umbrella.report.formatting)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from umbrella.report import formatting as f


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        (-0.39, 2, "−0.39"),
        (0.39, 2, "0.39"),
        (-0.0, 2, "0.00"),  # negative zero has no sign
        (-0.004, 2, "0.00"),  # nor has a negative number that rounds to zero
        (-0.005001, 2, "−0.01"),
        (0.125, 2, "0.12"),  # Python's correctly rounded binary value (0.125 is exact: half to even)
        (0.135, 2, "0.14"),  # 0.135 is stored as 0.13500000000000000888
        (-1234.5, 1, "−1,234.5"),
        (3500, 0, "3,500"),
        (float("nan"), 2, "–"),
        (None, 2, "–"),
        (pd.NA, 2, "–"),
        (np.float64(-2.5), 1, "−2.5"),
        (float("-inf"), 2, "−∞"),
    ],
)
def test_number(value, decimals: int, text: str) -> None:
    assert f.number(value, decimals) == text


def test_no_hyphen_minus_in_any_negative_number() -> None:
    for x in np.linspace(-1000, 1000, 2001) / 7:
        text = f.number(x, 3)
        assert "-" not in text and (text.startswith("−") == (round(x, 3) < 0))


@pytest.mark.parametrize(
    ("value", "text"),
    [(3500, "3,500"), (262, "262"), (1_048_575, "1,048,575"), (2.0, "2"), (np.int64(12000), "12,000"),
     (2.5, "2.50"), (-3, "−3"), (None, "–"), (float("nan"), "–"), ("text", "text")],
)  # fmt: skip
def test_count(value, text: str) -> None:
    assert f.count(value) == text


def test_share_and_percent() -> None:
    assert f.share(34, 35) == "97\u00a0%" and f.share(262, 3500) == "7\u00a0%"
    assert f.share(1, 0) == "–" and f.share(1, None) == "–"
    assert f.percent(12.345, 1) == "12.3\u00a0%" and f.percent(-0.01, 1) == "0.0\u00a0%"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("-0.99 to -0.10", "−0.99 to −0.10"), ("[-.5, 2]", "[−.5, 2]"), ("2012-2022", "2012-2022"),
     ("Lloyd-Evans 2014", "Lloyd-Evans 2014"), ("g -0.1 to 0.1", "g −0.1 to 0.1"), ("x-1", "x-1")],
)  # fmt: skip
def test_minus_replaces_only_signs(text: str, expected: str) -> None:
    assert f.minus(text) == expected


@pytest.mark.parametrize(
    ("p", "threshold", "exact"),
    [
        (0.5, "0.50", "0.50"),
        (0.0123, "0.01", "0.01"),
        (0.049, "0.049", "0.049"),  # never rounded up to 0.05
        (0.0449, "0.04", "0.04"),
        (0.05, "0.05", "0.05"),
        (0.999, "> 0.99", "> 0.99"),
        (1.0, "> 0.99", "> 0.99"),
        (0.00995, "0.01", "0.01"),  # three decimals would print 0.010
        (0.00234, "0.002", "0.002"),
        (0.001, "0.001", "0.001"),  # the boundary itself is printed as it is
        (0.000999, "< 0.001", "1.0 × 10⁻³"),
        (0.0005, "< 0.001", "5.0 × 10⁻⁴"),
        (1.2e-4, "< 0.001", "1.2 × 10⁻⁴"),
        (9.96e-7, "< 0.001", "1.0 × 10⁻⁶"),  # the mantissa rounds up into the next power
        (9.4e-31, "< 0.001", "9.4 × 10⁻³¹"),
        (1e-300, "< 0.001", "1.0 × 10⁻³⁰⁰"),
        (0.0, "< 0.001", "< 10⁻³⁰⁰"),  # underflow: never "0"
        (None, "–", "–"),
        (float("nan"), "–", "–"),
        (np.float64(0.03), "0.03", "0.03"),
    ],
)
def test_p_values(p, threshold: str, exact: str) -> None:
    assert f.p_value(p, "threshold").replace(f.NBSP, " ") == threshold
    assert f.p_value(p, "exact").replace(f.NBSP, " ") == exact
    assert " " not in f.p_value(p, "exact")  # no-break spaces only: a p-value is never split over two lines
    assert "e" not in f.p_value(p, "exact") and "-" not in f.p_value(p, "exact")


def test_p_value_rejects_what_is_no_p_value() -> None:
    with pytest.raises(ValueError, match="outside"):
        f.p_value(1.5)
    with pytest.raises(ValueError, match="style"):
        f.p_value(0.5, "scientific")


def test_p_values_keep_their_order() -> None:
    """A smaller p never prints as a larger number (read back from the printed text)."""

    def back(text: str) -> float:
        if text.startswith("<"):
            return 0.0
        if text.startswith(">"):
            return 1.0
        text = text.replace(f.NBSP, " ")
        if "×" in text:
            mantissa, power = text.split(" × 10")
            exponent = int(power.translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")))
            return float(mantissa) * 10.0**exponent
        return float(text)

    ps = np.sort(np.concatenate([10 ** -np.linspace(0, 12, 400), np.linspace(0, 1, 401)]))
    for style in f.P_STYLES:
        printed = [back(f.p_value(p, style)) for p in ps]
        assert all(a <= b for a, b in zip(printed, printed[1:], strict=False)), style
        assert all(
            math.isclose(v, p, rel_tol=0.2, abs_tol=0.006) for v, p in zip(printed, ps, strict=True) if p >= 1e-3
        )


def test_methods_sentence_names_the_style() -> None:
    assert "< 0.001" in f.p_style_words("threshold") and "10⁻⁶" in f.p_style_words("exact")
