"""Review-level pooled results: harmonised, checked, oriented, put on one scale, summarised per outcome.

Each row of the ``effects`` sheet is one review's pooled result as published. From its estimate and confidence
interval this module recomputes the standard error (on the log scale for ratio measures), z and the two-sided
p-value, compares them with the printed p-value, turns the result into benefit / no difference / harm, expresses
it as an equivalent Hedges' g and odds ratio (Chinn 2000: ln(OR) = g·π/√3), adds a prediction interval where
tau² is known (Higgins, Thompson & Spiegelhalter 2009; Riley et al. 2011) and summarises each outcome.
"""

from __future__ import annotations

import math
import re
import unicodedata
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from umbrella.core.vocabulary import LOGIT_SCALE, RATING_RANK, RATINGS, RATIO_MEASURES, Z975

#: Measures taken as Hedges' g as they are. Ratios are expressed as an equivalent odds ratio (RR, HR and IRR
#: treated as odds ratios, an approximation that holds for rare events; stated in the report).
G_LIKE = frozenset({"SMD", "G"})
PI_METHODS = {"t_k_minus_1": 1, "t_k_minus_2": 2, "z": None}
FLAG_WORDS = {
    "incomplete": "numbers missing: the estimate or a confidence limit is not known, so nothing is recomputed",
    "p_mismatch": "the printed p-value disagrees with the one recomputed from the confidence interval, beyond "
    "the rounding of the printed numbers",
    "ci_asymmetric": "the confidence interval of a ratio is asymmetric on the log scale by more than the "
    "configured tolerance (a sign of a typo, or of a non-standard interval)",
    "no_favours": "the direction that favours the intervention is not known (set `favours` in the sheet or "
    "by outcome group in the config)",
}


@dataclass(frozen=True)
class EffectSettings:
    """The conventions of the effects stage (config section ``effects``)."""

    alpha: float = 0.05
    favours: Mapping[str, str] = field(default_factory=dict)
    prediction_interval: str = "t_k_minus_1"
    tau2_from_i2: bool = True
    sd_for_md: Mapping[str, float] = field(default_factory=dict)
    ci_asymmetry_tolerance: float = 0.10
    best_review: tuple[str, ...] = ("amstar2", "k_studies", "year")
    mostly_share: float = 0.5

    @classmethod
    def from_config(cls, settings: Mapping | None) -> EffectSettings:
        s = dict(settings or {})
        base = cls()
        return cls(
            alpha=float(s.get("alpha", base.alpha)),
            favours=dict(s.get("favours") or {}),
            prediction_interval=s.get("prediction_interval", base.prediction_interval),
            tau2_from_i2=bool(s.get("tau2_from_i2", base.tau2_from_i2)),
            sd_for_md={k: float(v) for k, v in (s.get("sd_for_md") or {}).items()},
            ci_asymmetry_tolerance=float(s.get("ci_asymmetry_tolerance", base.ci_asymmetry_tolerance)),
            best_review=tuple(s.get("best_review", base.best_review)),
            mostly_share=float(s.get("mostly_share", base.mostly_share)),
        )

    def describe(self) -> list[str]:
        """The conventions in words, for the report's methods."""
        pi = {
            "t_k_minus_1": "a t distribution with k − 1 degrees of freedom",
            "t_k_minus_2": "a t distribution with k − 2 degrees of freedom",
            "z": "the normal distribution",
        }[self.prediction_interval]
        best = {
            "amstar2": "highest AMSTAR-2 rating",
            "k_studies": "most primary studies pooled",
            "year": "most recent",
        }
        lines = [
            "The standard error of each pooled result is recomputed from its confidence interval "
            "(SE = (upper − lower) / (2·z), z the normal quantile of the stated confidence level), on the log "
            "scale for OR, RR, HR and IRR; then z = estimate / SE and the two-sided p-value.",
            f"A result is a benefit or a harm when the recomputed p-value is below {self.alpha:g} and its estimate "
            "lies on the side that favours the intervention or the control; otherwise it shows no difference. "
            "The side comes from the row's `favours`, else from the outcome group's setting.",
            "Every result with known numbers is also expressed as an equivalent Hedges' g and odds ratio "
            "(ln OR = g·π/√3, Chinn 2000); RR, HR and IRR are treated as odds ratios; an SMD is taken as g; "
            "an MD is converted only where an SD is configured for its outcome group; r via d = 2r/√(1 − r²).",
            f"Prediction intervals use {pi} and τ² as reported"
            + (
                "; where only I² is reported, τ² is approximated as I²·k·SE²/(1 − I²) "
                "(equal study variances assumed), and marked as derived."
                if self.tau2_from_i2
                else "."
            ),
            "The best evidence for an outcome is the result of the review with the "
            + ", then ".join(best[c] for c in self.best_review)
            + ".",
            "Verdict per outcome: insufficient with one review; consistent benefit (or harm) when every result "
            f"shows it; mostly benefit (or harm) when more than {self.mostly_share:.0%} of results do and none "
            "shows the opposite; no evidence of effect when none differs from no effect; mixed otherwise. "
            "Results with missing numbers are listed but not counted.",
            f"A ratio's confidence interval is flagged as asymmetric when, on the log scale, its two arms differ "
            f"by more than {self.ci_asymmetry_tolerance:.0%} of the half-width. A printed p-value is flagged when no "
            "value within the rounding of the printed estimate, limits and p-value reconciles it with the "
            "recomputed one.",
            "Each result also gets the Ioannidis class its numbers allow (Fusar-Poli & Radua 2018): III with more "
            "cases than the re-analysis threshold (the sheet's n_cases) and p < 10⁻³, IV with p < 0.05, ns "
            "otherwise; Egger's test, excess significance, the largest study and leave-one-out need the studies, "
            "so they are not assessable from a pooled result and classes I and II cannot be reached.",
        ]
        return lines


# --------------------------------------------------------------------------------------------------------------
# Printed p-values

_P_PATTERN = re.compile(r"^\s*(?:p\s*)?(?P<rel>[<>=\u2264\u2265]{0,2})\s*(?P<num>\d*\.?\d+(?:e-?\d+)?)\s*$", re.I)


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
    rel = {"": "=", "=": "=", "<": "<", "<=": "<", "\u2264": "<", ">": ">", ">=": ">", "\u2265": ">"}.get(
        m.group("rel"), ""
    )
    value = float(m.group("num"))
    if not rel or not 0 <= value <= 1:
        return float("nan"), ""
    return value, rel


def _decimals(x: float) -> int:
    """Decimal places of a number as written (0.10 written as 0.1 counts 1, the lenient reading)."""
    if not np.isfinite(x):
        return 0
    text = f"{x:.10g}"
    if "e" in text:
        return 10
    return len(text.split(".")[1]) if "." in text else 0


def _p_from(est: np.ndarray, lo: np.ndarray, hi: np.ndarray, zcrit: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(ratio, np.log(est), est)
        se = (np.where(ratio, np.log(hi), hi) - np.where(ratio, np.log(lo), lo)) / (2 * zcrit)
        return 2 * stats.norm.sf(np.abs(y / se))


# --------------------------------------------------------------------------------------------------------------
# Harmonising rows


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
    df["se"], df["z"], df["p_recomputed"] = se, z, p

    parsed = [parse_p(v) for v in df["p_value"]]
    df["p_reported"] = [v for v, _ in parsed]
    df["p_relation"] = [r for _, r in parsed]
    df["flag_p_mismatch"] = _p_mismatch(df, est, lo, hi, zcrit, ratio, settings.alpha)

    # Asymmetry of ratio intervals on the log scale.
    with np.errstate(invalid="ignore", divide="ignore"):
        half = (yhi - ylo) / 2
        asym = np.abs((y - ylo) - (yhi - y)) / half
    df["flag_ci_asymmetric"] = ratio & complete & (asym > settings.ci_asymmetry_tolerance)
    df["flag_incomplete"] = ~complete

    # Direction
    group_favours = df["outcome_group"].map(lambda g: settings.favours.get(g) if isinstance(g, str) else None)
    row_favours = df["favours"].astype(object)
    df["favours_used"] = row_favours.where(row_favours.notna(), group_favours)
    df["favours_source"] = np.where(row_favours.notna(), "row", np.where(group_favours.notna(), "config", ""))
    sign = df["favours_used"].map({"higher": 1.0, "lower": -1.0}).astype(float).to_numpy()
    significant = p < settings.alpha
    side = np.sign(y) * sign  # y is on the analysis scale, where the null is 0 for every measure
    direction = np.where(
        ~complete | ~np.isfinite(p),
        "unknown",
        np.where(
            ~significant,
            "no_difference",
            np.where(~np.isfinite(side), "unknown", np.where(side > 0, "benefit", "harm")),
        ),
    )
    df["direction"] = direction
    df["flag_no_favours"] = complete & significant & ~np.isfinite(sign)

    # One scale: equivalent g (sign as reported), then oriented so that positive favours the intervention.
    g, glo, ghi = _to_g(df, y, ylo, yhi, settings)
    g, glo, ghi = (np.where(complete, v, np.nan) for v in (g, glo, ghi))
    df["g_equiv"], df["g_lower"], df["g_upper"] = g, glo, ghi
    df["or_equiv"] = np.exp(g * LOGIT_SCALE)
    df["g_benefit"] = g * sign
    df["g_benefit_lower"] = np.where(sign > 0, glo, -ghi)
    df["g_benefit_upper"] = np.where(sign > 0, ghi, -glo)
    for col in ("g_benefit_lower", "g_benefit_upper"):
        df[col] = np.where(np.isfinite(sign), df[col], np.nan)

    # Prediction interval
    tau2, tau2_source = _tau2(df, se, settings)
    df["tau2_used"], df["tau2_source"] = tau2, tau2_source
    pi_lo, pi_hi = _prediction_interval(y, se, tau2, df["k_studies"], settings.prediction_interval)
    df["pi_lower"] = np.where(ratio, np.exp(pi_lo), pi_lo)
    df["pi_upper"] = np.where(ratio, np.exp(pi_hi), pi_hi)
    pg_lo, pg_hi, _ = _to_g(df, pi_lo, pi_hi, pi_lo, settings)
    df["pi_g_benefit_lower"] = np.where(sign > 0, pg_lo, -pg_hi)
    df["pi_g_benefit_upper"] = np.where(sign > 0, pg_hi, -pg_lo)
    for col in ("pi_g_benefit_lower", "pi_g_benefit_upper"):
        df[col] = np.where(np.isfinite(sign), df[col], np.nan)

    df["amstar2_rating"] = df["review_id"].map(dict(ratings or {}))
    flag_cols = ["flag_incomplete", "flag_p_mismatch", "flag_ci_asymmetric", "flag_no_favours"]
    df["flags"] = [
        ";".join(c.removeprefix("flag_") for c in flag_cols if row[c]) for row in df[flag_cols].to_dict("records")
    ]
    return df


def _p_mismatch(
    df: pd.DataFrame,
    est: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    zcrit: np.ndarray,
    ratio: np.ndarray,
    alpha: float,
) -> np.ndarray:
    """True where no value within the rounding of the printed estimate, limits and p reconciles the printed
    p-value with the recomputed one."""
    n = len(df)
    p_min = np.full(n, np.nan)
    p_max = np.full(n, np.nan)
    half = {
        name: 0.5 * 10.0 ** -np.array([_decimals(x) for x in arr]) for name, arr in (("e", est), ("l", lo), ("h", hi))
    }
    corners = []
    for de in (-1, 1):
        for dl in (-1, 1):
            for dh in (-1, 1):
                e = est + de * half["e"]
                lo_ = lo + dl * half["l"]
                hi_ = hi + dh * half["h"]
                corners.append(_p_from(e, lo_, hi_, zcrit, ratio))
    corners.append(_p_from(est, lo, hi, zcrit, ratio))
    stacked = np.vstack(corners)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # rows without numbers: all-NaN columns
        p_min = np.nanmin(np.where(np.isfinite(stacked), stacked, np.nan), axis=0) if n else p_min
        p_max = np.nanmax(np.where(np.isfinite(stacked), stacked, np.nan), axis=0) if n else p_max
    # A limit at the null (e.g. CI 0.00 to 0.45) can give p = 1 or 0 at a corner: bounded, fine.
    rep = df["p_reported"].to_numpy(dtype=float)
    rel = df["p_relation"].to_numpy(dtype=object)
    rep_half = 0.5 * 10.0 ** -np.array([_decimals(x) for x in rep])
    known = np.isfinite(p_min) & np.isfinite(p_max)
    out = np.zeros(n, dtype=bool)
    eq = known & (rel == "=")
    out |= eq & ((rep + rep_half < p_min) | (rep - rep_half > p_max))
    lt = known & (rel == "<")
    out |= lt & (p_min >= rep)
    gt = known & (rel == ">")
    out |= gt & (p_max <= rep)
    ns = known & (rel == "ns")
    out |= ns & (p_max < alpha)
    return out


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


def group_slug(group: str) -> str:
    """A file-name-safe slug of an outcome group: lowercase ascii letters, digits and ``_``
    (``"Quality of life"`` -> ``"quality_of_life"``); ``"ungrouped"`` when nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", str(group)).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:80].strip("_")
    return slug or "ungrouped"


def forest_file_names(groups: list[str]) -> dict[str, str]:
    """Outcome group -> forest plot file name (``forest_<slug>.svg``), in group order (case-insensitive, then
    exact); groups whose slugs collide get ``_2``, ``_3``... in that order."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for group in sorted(set(groups), key=lambda g: (g.casefold(), g)):
        base = f"forest_{group_slug(group)}"
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}_{n}"
        used.add(name)
        names[group] = f"{name}.svg"
    return names


# --------------------------------------------------------------------------------------------------------------
# Per-outcome summary

SUMMARY_COLUMNS = [
    "scope",
    "outcome_group",
    "outcome",
    "n_reviews",
    "n_meta_analyses",
    "n_benefit",
    "n_null",
    "n_harm",
    "n_unknown",
    "max_k",
    "total_participants",
    "participants_note",
    "best_review",
    "best_effect_id",
    "best_measure",
    "best_estimate",
    "best_ci_lower",
    "best_ci_upper",
    "best_amstar2",
    "verdict",
]
PARTICIPANTS_NOTE = (
    "sum over reviews of each review's largest reported n; reviews sharing primary studies count their "
    "participants more than once"
)


def verdict(directions: pd.Series, n_reviews_with_results: int, mostly_share: float) -> str:
    """The verdict of one outcome from the directions of its results with known numbers."""
    counted = directions[directions.isin(["benefit", "no_difference", "harm"])]
    if n_reviews_with_results <= 1 or counted.empty:
        return "insufficient"
    n = len(counted)
    benefit, harm = int((counted == "benefit").sum()), int((counted == "harm").sum())
    if benefit == n:
        return "consistent benefit"
    if harm == n:
        return "consistent harm"
    if benefit == 0 and harm == 0:
        return "no evidence of effect"
    if harm == 0 and benefit / n > mostly_share:
        return "mostly benefit"
    if benefit == 0 and harm / n > mostly_share:
        return "mostly harm"
    return "mixed"


def best_result(rows: pd.DataFrame, order: tuple[str, ...]) -> pd.Series | None:
    """The result of the best review by the configured criteria (ties broken by effect_id)."""
    usable = rows[~rows["flag_incomplete"]]
    if usable.empty:
        return None
    keys = pd.DataFrame(index=usable.index)
    for criterion in order:
        if criterion == "amstar2":
            keys[criterion] = usable["amstar2_rating"].map({r: RATING_RANK[r] for r in RATINGS}).fillna(len(RATINGS))
        elif criterion == "k_studies":
            keys[criterion] = -usable["k_studies"].astype(float).fillna(-1)
        elif criterion == "year":
            keys[criterion] = -pd.to_numeric(usable["review_year"], errors="coerce").astype(float).fillna(-1)
        else:
            raise ValueError(f"unknown best_review criterion {criterion!r} (amstar2, k_studies, year)")
    keys["effect_id"] = usable["effect_id"]
    first = keys.sort_values(list(keys.columns), kind="stable").index[0]
    return usable.loc[first]


def outcome_summary(harmonised: pd.DataFrame, settings: EffectSettings) -> pd.DataFrame:
    """One row per outcome group (scope ``outcome_group``) and per outcome within it (scope ``outcome``).

    ``harmonised`` is the output of :func:`harmonise` with a ``review`` label and ``review_year`` column.
    """
    rows = []
    df = harmonised.assign(outcome_group=harmonised["outcome_group"].fillna("Ungrouped"))
    for group, g in df.groupby("outcome_group", sort=True):
        parts = [("outcome_group", group, "", g)]
        parts += [("outcome", group, outcome, o) for outcome, o in g.groupby("outcome", sort=True)]
        for scope, grp, outcome, sub in parts:
            complete = sub[~sub["flag_incomplete"]]
            best = best_result(sub, settings.best_review)
            rows.append(
                {
                    "scope": scope,
                    "outcome_group": grp,
                    "outcome": outcome,
                    "n_reviews": int(sub["review_id"].nunique()),
                    "n_meta_analyses": len(complete),
                    "n_benefit": int((complete["direction"] == "benefit").sum()),
                    "n_null": int((complete["direction"] == "no_difference").sum()),
                    "n_harm": int((complete["direction"] == "harm").sum()),
                    "n_unknown": int((sub["direction"] == "unknown").sum()),
                    "max_k": sub["k_studies"].max(),
                    "total_participants": sub.groupby("review_id")["n_participants"].max().sum(min_count=1),
                    "participants_note": PARTICIPANTS_NOTE,
                    "best_review": None if best is None else best["review"],
                    "best_effect_id": None if best is None else best["effect_id"],
                    "best_measure": None if best is None else best["measure"],
                    "best_estimate": np.nan if best is None else best["estimate"],
                    "best_ci_lower": np.nan if best is None else best["ci_lower"],
                    "best_ci_upper": np.nan if best is None else best["ci_upper"],
                    "best_amstar2": None if best is None else best["amstar2_rating"],
                    "verdict": verdict(complete["direction"], complete["review_id"].nunique(), settings.mostly_share),
                }
            )
    out = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    for col in ("max_k", "total_participants"):
        out[col] = out[col].astype("Float64").round().astype("Int64")
    return out


REVIEW_EFFECT_COLUMNS = [
    "effect_id",
    "review_id",
    "review",
    "outcome_group",
    "outcome",
    "timepoint",
    "population",
    "comparison",
    "measure",
    "estimate",
    "ci_lower",
    "ci_upper",
    "ci_level",
    "k_studies",
    "n_participants",
    "n_cases",
    "i2",
    "tau2",
    "p_value",
    "p_reported",
    "p_relation",
    "se",
    "z",
    "p_recomputed",
    "favours_used",
    "favours_source",
    "direction",
    "g_equiv",
    "g_lower",
    "g_upper",
    "or_equiv",
    "g_benefit",
    "g_benefit_lower",
    "g_benefit_upper",
    "tau2_used",
    "tau2_source",
    "pi_lower",
    "pi_upper",
    "pi_g_benefit_lower",
    "pi_g_benefit_upper",
    "flag_incomplete",
    "flag_p_mismatch",
    "flag_ci_asymmetric",
    "flag_no_favours",
    "flags",
    "amstar2_rating",
    "verdict",
    "class",
    "class_notes",
]

#: What a review's pooled result cannot tell: tests that need the studies.
NOT_FROM_POOLED = ("Egger", "excess significance", "largest study", "leave-one-out")


def review_level_classes(harmonised: pd.DataFrame, threshold: int = 1000) -> pd.DataFrame:
    """The Ioannidis class (Fusar-Poli & Radua 2018) that a review's pooled result allows: the p-value
    recomputed from the CI, the cases (the sheet's optional ``n_cases``), I² and the prediction interval.
    Egger's test, excess significance, the largest study and leave-one-out need the studies, so they are not
    assessable, never failed: classes I and II cannot be reached, and ``class_notes`` says so."""
    from umbrella.reanalysis.evidence import ioannidis

    frame = pd.DataFrame(
        {
            "measure": harmonised["measure"],
            "p_value": harmonised["p_recomputed"],
            "n_cases": harmonised["n_cases"] if "n_cases" in harmonised else np.nan,
            "i2": harmonised["i2"],
            "pi_lower": harmonised["pi_lower"],
            "pi_upper": harmonised["pi_upper"],
            "ci_lower": harmonised["ci_lower"],
            "ci_upper": harmonised["ci_upper"],
        },
        index=harmonised.index,
    )
    out = ioannidis(frame, threshold)
    base = "not assessable from a pooled result: " + ", ".join(NOT_FROM_POOLED)
    notes = []
    for cls, found in zip(out["class"], out["notes"], strict=True):
        missing = [word for word in found.split("; ") if word and word not in NOT_FROM_POOLED]
        notes.append("" if cls == "ns" else "; ".join([base, *(f"{word} not given" for word in missing)]))
    return pd.DataFrame({"class": out["class"], "class_notes": notes}, index=harmonised.index)
