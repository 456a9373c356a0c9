"""Printed p-values: read as (value, relation), and checked against the p-value recomputed from the interval.

A printed p-value is flagged only when no estimate and limits within the rounding of the printed numbers give a
recomputed p-value that the printed one (itself within its rounding) agrees with.
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np

_P_PATTERN = re.compile(r"^\s*(?:p\s*)?(?P<rel>[<>=\u2264\u2265]{0,2})\s*(?P<num>\d*\.?\d+(?:e-?\d+)?)\s*$", re.I)
#: Relation as printed -> "=", "<" or ">" (``<=`` read as ``<``, ``>=`` as ``>``).
_RELATIONS = {"": "=", "=": "=", "<": "<", "<=": "<", "\u2264": "<", ">": ">", ">=": ">", "\u2265": ">"}


def parse_p(text: object) -> tuple[float, str]:
    """A printed p-value as (value, relation): ``0.01`` -> (0.01, "="), ``< 0.00001`` -> (1e-05, "<"),
    ``p = .03`` -> (0.03, "="), ``NS`` -> (nan, "ns"); (nan, "") when blank or unreadable."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return float("nan"), ""
    s = str(text).strip().replace("−", "-").replace(",", ".")
    if not s:
        return float("nan"), ""
    if re.fullmatch(r"(?i)n\.?\s*s\.?|not\s+significant", s):
        return float("nan"), "ns"
    m = _P_PATTERN.match(s)
    if not m:
        return float("nan"), ""
    rel = _RELATIONS.get(m.group("rel"), "")
    value = float(m.group("num"))
    if not rel or not 0 <= value <= 1:
        return float("nan"), ""
    return value, rel


def written_decimals(x: float) -> int:
    """Decimal places of a number as written (0.10 written as 0.1 counts 1, the lenient reading)."""
    if not np.isfinite(x):
        return 0
    text = f"{x:.10g}"
    if "e" in text:
        return 10
    return len(text.split(".")[1]) if "." in text else 0


def _half_unit(values: np.ndarray) -> np.ndarray:
    """Half a unit in the last written decimal place of each value: how far rounding may have moved it."""
    return 0.5 * 10.0 ** -np.array([written_decimals(x) for x in values])


def p_from_interval(
    est: np.ndarray, lo: np.ndarray, hi: np.ndarray, zcrit: np.ndarray, ratio: np.ndarray
) -> np.ndarray:
    """Two-sided p-values from estimates and confidence limits (log scale for ratios); NaN or inf where unusable."""
    from scipy import stats  # imported where used: the report needs none of it

    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(ratio, np.log(est), est)
        se = (np.where(ratio, np.log(hi), hi) - np.where(ratio, np.log(lo), lo)) / (2 * zcrit)
        return 2 * stats.norm.sf(np.abs(y / se))


def _p_range_within_rounding(
    est: np.ndarray, lo: np.ndarray, hi: np.ndarray, zcrit: np.ndarray, ratio: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The smallest and largest p-value recomputed from the corners of the rounding box of estimate and limits
    (and from the printed numbers themselves); NaN where none is finite."""
    n = len(est)
    p_min = np.full(n, np.nan)
    p_max = np.full(n, np.nan)
    half_est, half_lo, half_hi = _half_unit(est), _half_unit(lo), _half_unit(hi)
    corners = []
    for de in (-1, 1):
        for dl in (-1, 1):
            for dh in (-1, 1):
                e = est + de * half_est
                lo_ = lo + dl * half_lo
                hi_ = hi + dh * half_hi
                corners.append(p_from_interval(e, lo_, hi_, zcrit, ratio))
    corners.append(p_from_interval(est, lo, hi, zcrit, ratio))
    stacked = np.vstack(corners)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # rows without numbers: all-NaN columns
        p_min = np.nanmin(np.where(np.isfinite(stacked), stacked, np.nan), axis=0) if n else p_min
        p_max = np.nanmax(np.where(np.isfinite(stacked), stacked, np.nan), axis=0) if n else p_max
    # A limit at the null (e.g. CI 0.00 to 0.45) can give p = 1 or 0 at a corner: bounded, fine.
    return p_min, p_max


def printed_p_mismatch(
    reported: np.ndarray,
    relation: np.ndarray,
    est: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    zcrit: np.ndarray,
    ratio: np.ndarray,
    alpha: float,
) -> np.ndarray:
    """True where no value within the rounding of the printed estimate, limits and p reconciles the printed
    p-value (``reported`` with its ``relation`` from :func:`parse_p`) with the recomputed one."""
    p_min, p_max = _p_range_within_rounding(est, lo, hi, zcrit, ratio)
    reported_half = _half_unit(reported)
    known = np.isfinite(p_min) & np.isfinite(p_max)
    out = np.zeros(len(est), dtype=bool)
    eq = known & (relation == "=")
    out |= eq & ((reported + reported_half < p_min) | (reported - reported_half > p_max))
    lt = known & (relation == "<")
    out |= lt & (p_min >= reported)
    gt = known & (relation == ">")
    out |= gt & (p_max <= reported)
    ns = known & (relation == "ns")
    out |= ns & (p_max < alpha)
    return out
