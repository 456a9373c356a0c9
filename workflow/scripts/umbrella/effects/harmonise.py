"""Review-level pooled results: recomputed, checked, oriented and put on one scale, row by row.

Each row of the ``effects`` sheet is one review's pooled result as published. From its estimate and confidence
interval this module recomputes the standard error (on the log scale for ratio measures), z and the two-sided
p-value, compares them with the printed p-value (:mod:`umbrella.effects.printed_p`), turns the result into
benefit / no difference / harm, expresses it as an equivalent Hedges' g and odds ratio (Chinn 2000:
ln(OR) = g·π/√3) and adds a prediction interval where tau² is known (Higgins, Thompson & Spiegelhalter 2009;
Riley et al. 2011). The conventions are in :mod:`umbrella.effects.settings`, the per-outcome summary in
:mod:`umbrella.effects.summary`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from umbrella.core.vocabulary import LOGIT_SCALE, RATIO_MEASURES, Z975
from umbrella.effects.printed_p import parse_p, printed_p_mismatch
from umbrella.effects.settings import EffectSettings

#: Measures taken as Hedges' g as they are. Ratios are expressed as an equivalent odds ratio (RR, HR and IRR
#: treated as odds ratios, an approximation that holds for rare events; stated in the report).
G_LIKE = frozenset({"SMD", "G"})
PI_METHODS = {"t_k_minus_1": 1, "t_k_minus_2": 2, "z": None}
FLAG_WORDS = {
    "incomplete": "numbers missing: the estimate or a confidence limit is not known, so nothing is recomputed",
    "p_mismatch": "the printed p-value disagrees with the one recomputed from the confidence interval, beyond "
    "the rounding of the printed numbers",
    "ci_asymmetric": "the confidence interval of a ratio is asymmetric on the log scale by more than the "
    "tolerance set for the analysis (a sign of a typo, or of a non-standard interval)",
    "no_favours": "the direction that favours the intervention is not known (neither the review nor the "
    "analysis states it for the outcome group)",
}
#: The flag columns, in the order their names are joined in ``flags``.
FLAG_COLUMNS = ["flag_incomplete", "flag_p_mismatch", "flag_ci_asymmetric", "flag_no_favours"]


def harmonise(
    effects: pd.DataFrame, settings: EffectSettings, ratings: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Every row of the tidy effects table, with the recomputed and derived columns.

    Added columns: se, z, p_recomputed, p_reported, p_relation, favours_used, favours_source, direction,
    g_equiv, g_lower, g_upper, or_equiv, g_benefit, g_benefit_lower, g_benefit_upper, tau2_used, tau2_source,
    pi_lower, pi_upper, pi_g_benefit_lower, pi_g_benefit_upper, flag_incomplete, flag_p_mismatch,
    flag_ci_asymmetric, flags, amstar2_rating. Rows are never dropped; a row with missing numbers is flagged
    ``incomplete`` and its derived columns are blank.
    """
    df = effects.copy()
    numbers = _recompute(df)
    df["se"], df["z"], df["p_recomputed"] = numbers.se, numbers.z, numbers.p
    _add_checks(df, numbers, settings)
    sign = _add_direction(df, numbers, settings)
    _add_common_scale(df, numbers, sign, settings)
    _add_prediction_interval(df, numbers, sign, settings)
    df["amstar2_rating"] = df["review_id"].map(dict(ratings or {}))
    df["flags"] = [
        ";".join(c.removeprefix("flag_") for c in FLAG_COLUMNS if row[c]) for row in df[FLAG_COLUMNS].to_dict("records")
    ]
    return df


@dataclass(frozen=True)
class Recomputed:
    """Each row's numbers as printed and on the analysis scale (log for ratio measures, so that no effect is 0
    for every measure), with the standard error, z and p-value recomputed from them (NaN where incomplete)."""

    ratio: np.ndarray  # the measure is a ratio (OR, RR, HR, IRR)
    complete: np.ndarray  # measure, estimate and both limits known
    estimate: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    zcrit: np.ndarray  # normal quantile of each row's confidence level
    y: np.ndarray  # estimate on the analysis scale
    y_lower: np.ndarray
    y_upper: np.ndarray
    se: np.ndarray
    z: np.ndarray
    p: np.ndarray


def _recompute(df: pd.DataFrame) -> Recomputed:
    """SE = (upper − lower) / (2·z) on the analysis scale, then z = estimate / SE and the two-sided p-value."""
    from scipy import stats  # imported where used: the report needs none of it

    measure = df["measure"].astype(object)
    ratio = measure.isin(list(RATIO_MEASURES)).to_numpy()
    est = df["estimate"].to_numpy(dtype=float)
    lo = df["ci_lower"].to_numpy(dtype=float)
    hi = df["ci_upper"].to_numpy(dtype=float)
    level = df["ci_level"].fillna(95).to_numpy(dtype=float)
    zcrit = stats.norm.ppf(1 - (1 - level / 100) / 2)
    complete = np.isfinite(est) & np.isfinite(lo) & np.isfinite(hi) & measure.notna().to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(ratio, np.log(est), est)
        ylo = np.where(ratio, np.log(lo), lo)
        yhi = np.where(ratio, np.log(hi), hi)
        se = (yhi - ylo) / (2 * zcrit)
        z = y / se
    se = np.where(complete & (se > 0), se, np.nan)
    z = np.where(np.isfinite(se), z, np.nan)
    p = np.where(np.isfinite(z), 2 * stats.norm.sf(np.abs(z)), np.nan)
    return Recomputed(ratio, complete, est, lo, hi, zcrit, y, ylo, yhi, se, z, p)


def _add_checks(df: pd.DataFrame, numbers: Recomputed, settings: EffectSettings) -> None:
    """Add p_reported, p_relation and the flags p_mismatch, ci_asymmetric and incomplete."""
    parsed = [parse_p(v) for v in df["p_value"]]
    df["p_reported"] = [v for v, _ in parsed]
    df["p_relation"] = [r for _, r in parsed]
    df["flag_p_mismatch"] = printed_p_mismatch(
        df["p_reported"].to_numpy(dtype=float),
        df["p_relation"].to_numpy(dtype=object),
        numbers.estimate,
        numbers.lower,
        numbers.upper,
        numbers.zcrit,
        numbers.ratio,
        settings.alpha,
    )
    # Asymmetry of ratio intervals on the log scale.
    y, ylo, yhi = numbers.y, numbers.y_lower, numbers.y_upper
    with np.errstate(invalid="ignore", divide="ignore"):
        half = (yhi - ylo) / 2
        asym = np.abs((y - ylo) - (yhi - y)) / half
    df["flag_ci_asymmetric"] = numbers.ratio & numbers.complete & (asym > settings.ci_asymmetry_tolerance)
    df["flag_incomplete"] = ~numbers.complete


def favours_used(
    favours: pd.Series, outcome_group: pd.Series, settings: EffectSettings
) -> tuple[pd.Series, np.ndarray]:
    """The direction that favours the intervention (``lower`` / ``higher``, else missing) of each row: its own
    ``favours``, else the config's for its outcome group; and where it comes from (``row``, ``config`` or "")."""
    group_favours = outcome_group.map(lambda g: settings.favours.get(g) if isinstance(g, str) else None)
    row_favours = favours.astype(object)
    used = row_favours.where(row_favours.notna(), group_favours)
    return used, np.where(row_favours.notna(), "row", np.where(group_favours.notna(), "config", ""))


def favours_sign(favours: pd.Series) -> np.ndarray:
    """+1 where higher values favour the intervention, −1 where lower values do (the sign that puts benefit on
    the right of every figure), NaN where it is not known."""
    return favours.map({"higher": 1.0, "lower": -1.0}).astype(float).to_numpy()


def _add_direction(df: pd.DataFrame, numbers: Recomputed, settings: EffectSettings) -> np.ndarray:
    """Add favours_used, favours_source, direction and flag_no_favours. Returns each row's sign of the side
    that favours the intervention: +1 when higher values do, −1 when lower values do, NaN when not known."""
    df["favours_used"], df["favours_source"] = favours_used(df["favours"], df["outcome_group"], settings)
    sign = favours_sign(df["favours_used"])
    significant = numbers.p < settings.alpha
    side = np.sign(numbers.y) * sign  # y is on the analysis scale, where the null is 0 for every measure
    direction = np.where(
        ~numbers.complete | ~np.isfinite(numbers.p),
        "unknown",
        np.where(
            ~significant,
            "no_difference",
            np.where(~np.isfinite(side), "unknown", np.where(side > 0, "benefit", "harm")),
        ),
    )
    df["direction"] = direction
    df["flag_no_favours"] = numbers.complete & significant & ~np.isfinite(sign)
    return sign


def _oriented(lower: np.ndarray, upper: np.ndarray, sign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Limits on a scale where positive favours the intervention (swapped and negated where lower values
    favour it); NaN where the favoured side is not known."""
    known = np.isfinite(sign)
    return (
        np.where(known, np.where(sign > 0, lower, -upper), np.nan),
        np.where(known, np.where(sign > 0, upper, -lower), np.nan),
    )


def _add_common_scale(df: pd.DataFrame, numbers: Recomputed, sign: np.ndarray, settings: EffectSettings) -> None:
    """Add the equivalent g (sign as reported) and odds ratio, then g oriented so that positive favours the
    intervention (g_benefit and its limits)."""
    g, glo, ghi = _to_g(df, numbers.y, numbers.y_lower, numbers.y_upper, settings)
    g, glo, ghi = (np.where(numbers.complete, v, np.nan) for v in (g, glo, ghi))
    df["g_equiv"], df["g_lower"], df["g_upper"] = g, glo, ghi
    df["or_equiv"] = np.exp(g * LOGIT_SCALE)
    df["g_benefit"] = g * sign
    df["g_benefit_lower"], df["g_benefit_upper"] = _oriented(glo, ghi, sign)


def _add_prediction_interval(df: pd.DataFrame, numbers: Recomputed, sign: np.ndarray, settings: EffectSettings) -> None:
    """Add tau2_used and tau2_source, the prediction interval on the measure's scale and on the oriented g."""
    tau2, tau2_source = _tau2(df, numbers.se, settings)
    df["tau2_used"], df["tau2_source"] = tau2, tau2_source
    pi_lo, pi_hi = _prediction_interval(numbers.y, numbers.se, tau2, df["k_studies"], settings.prediction_interval)
    df["pi_lower"] = np.where(numbers.ratio, np.exp(pi_lo), pi_lo)
    df["pi_upper"] = np.where(numbers.ratio, np.exp(pi_hi), pi_hi)
    pg_lo, pg_hi, _ = _to_g(df, pi_lo, pi_hi, pi_lo, settings)
    df["pi_g_benefit_lower"], df["pi_g_benefit_upper"] = _oriented(pg_lo, pg_hi, sign)


def _to_g(
    df: pd.DataFrame, y: np.ndarray, ylo: np.ndarray, yhi: np.ndarray, settings: EffectSettings
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Analysis-scale values (log for ratios) as equivalent Hedges' g."""
    measure = df["measure"].astype(object).to_numpy()
    factor = np.full(len(df), np.nan)
    factor[np.isin(measure, list(G_LIKE))] = 1.0
    factor[np.isin(measure, list(RATIO_MEASURES))] = 1 / LOGIT_SCALE
    sd = df["outcome_group"].map(lambda g: settings.sd_for_md.get(g) if isinstance(g, str) else None)
    sd = sd.where(sd.notna(), df["outcome"].map(lambda o: settings.sd_for_md.get(o) if isinstance(o, str) else None))
    md = measure == "MD"
    factor[md] = 1 / sd.to_numpy(dtype=float)[md]
    out = [v * factor for v in (y, ylo, yhi)]
    r = measure == "R"
    if r.any():
        for v, target in zip((y, ylo, yhi), out, strict=True):
            with np.errstate(invalid="ignore", divide="ignore"):
                target[r] = 2 * v[r] / np.sqrt(1 - v[r] ** 2)
    return out[0], out[1], out[2]


def _tau2(df: pd.DataFrame, se: np.ndarray, settings: EffectSettings) -> tuple[np.ndarray, np.ndarray]:
    reported = df["tau2"].to_numpy(dtype=float)
    i2 = df["i2"].to_numpy(dtype=float) / 100
    k = df["k_studies"].astype(float).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        derived = i2 * k * se**2 / (1 - i2) if settings.tau2_from_i2 else np.full(len(df), np.nan)
    derived = np.where(np.isfinite(derived) & (i2 < 1), derived, np.nan)
    tau2 = np.where(np.isfinite(reported), reported, derived)
    source = np.where(np.isfinite(reported), "reported", np.where(np.isfinite(derived), "derived_from_i2", ""))
    return tau2, source


def _prediction_interval(
    y: np.ndarray, se: np.ndarray, tau2: np.ndarray, k: pd.Series, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """est ± q·sqrt(SE² + tau²), q a t quantile with k − 1 or k − 2 df, or the normal quantile."""
    from scipy import stats  # imported where used: the report needs none of it

    k = k.astype(float).to_numpy()
    if method not in PI_METHODS:
        raise ValueError(f"prediction_interval must be one of {', '.join(PI_METHODS)}, not {method!r}")
    lost = PI_METHODS[method]
    if lost is None:
        q = np.full(len(y), Z975)
    else:
        df = k - lost
        with np.errstate(invalid="ignore"):
            q = np.where(df >= 1, stats.t.ppf(0.975, np.where(df >= 1, df, 1)), np.nan)
    width = q * np.sqrt(se**2 + tau2)
    ok = np.isfinite(width)
    return np.where(ok, y - width, np.nan), np.where(ok, y + width, np.nan)
