"""The whole re-analysis of a study-level sheet: every meta-analysis (one per outcome and review) re-run, tested and
classed in one vectorised pass, as metaumbrella 1.1 ``umbrella`` and ``add.evidence`` (Gosling et al. 2023).

* Studies: each row's effect size (a shared control group split, a flagged effect reversed), then the rows of a
  study marked ``multiple_es`` combined into one (:mod:`umbrella.reanalysis.combine`); k counts studies.
* Meta-analyses: the studies of one outcome and review; mixed measures are pooled as equivalent g (ratios via
  ln OR = g·π/√3, Chinn 2000), differences that are not SMD or G left out of a mixed meta-analysis.
* The g scale: differences (SMD, G, MD) are also fitted as Hedges' g, the fit itself for SMD, G and mixed measures
  and a second fit for MD; GRADE and the excess-significance τ² use it.
* Excess significance (Stanley et al. 2021): ratios on their log scale with z; differences as Cohen's d = g/J with
  SE √(1/n₁ + 1/n₂) and t with n₁ + n₂ − 2 df, the group sizes imputed from g and its variance where missing; the
  true effect by UWLS (Stanley & Doucouliagos 2015), the largest study, the pooled estimate or a number.
* Largest study: the largest n (ties: the smaller |effect|; no n: the smallest SE); risk of bias: the share of
  random-effects weight from studies rated low; indirectness: the worst of the studies; AMSTAR: the review's.
* Evidence classes and GRADE: :mod:`umbrella.reanalysis.evidence`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from umbrella.core.tables import output_columns
from umbrella.core.vocabulary import LOGIT_SCALE, RATIO_MEASURES, Z975
from umbrella.reanalysis.bias_tests import egger, excess_significance
from umbrella.reanalysis.combine import (
    combine_studies,
    describe_rows,
    reverse_effects,
    reverse_flags,
    split_shared_controls,
)
from umbrella.reanalysis.effect_sizes import (
    analysis_measure,
    correlations_as_r,
    fill_pre_post_cor,
    hedges_j,
    study_effect_sizes,
)
from umbrella.reanalysis.evidence import G_LIKE, ioannidis, personalised
from umbrella.reanalysis.grade import grade
from umbrella.reanalysis.model import Padded, fit, leave_one_out, pad
from umbrella.reanalysis.settings import MetaSettings

#: The columns of the pooled and study_effect_sizes tables, in order, as the output registry declares them.
POOLED_COLUMNS = output_columns("pooled")
STUDY_COLUMNS = output_columns("study_effect_sizes")
INDIRECTNESS_ORDER = ("no", "serious", "very_serious")
#: Columns of the fit reported on the natural scale for ratios.
NATURAL_SCALE_COLUMNS = ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper")
FIT_COLUMNS = ("estimate", "se", "ci_lower", "ci_upper", "p_value", "tau2", "q", "q_p", "i2", "pi_lower", "pi_upper")
COUNT_COLUMNS = ("n_cases", "n_controls", "n_total", "esb_observed")


def reanalyse(study_effects: pd.DataFrame, settings: MetaSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Re-run every meta-analysis of the study-level sheet (one per outcome and review): returns the pooled
    table (:data:`POOLED_COLUMNS`, ratios on the natural scale, R on r) and the study effect sizes used."""
    study_effects = fill_pre_post_cor(study_effects, settings.pre_post_cor)
    studies = _usable_studies(study_effects, settings)
    studies = studies.assign(measure=analysis_measure(studies["measure"]))  # logOR as OR, Z as R
    mas = _group_meta_analyses(studies)
    if mas is None:
        return pd.DataFrame(columns=POOLED_COLUMNS), studies
    res = fit(mas.padded, settings)
    g_scale = _fit_on_g_scale(mas, res, settings)
    largest = _largest(mas.padded, mas.grid(mas.studies["n"].to_numpy(dtype=float)))
    egger_t, egger_p = egger(mas.padded)
    jk_max_p, _ = leave_one_out(mas.padded, settings)
    out = mas.keys.assign(
        measure=mas.measure,
        k=res["k"],
        **_sample_size_columns(mas),
        **{col: _to_natural(res[col], mas.ratio) if col in NATURAL_SCALE_COLUMNS else res[col] for col in FIT_COLUMNS},
        egger_t=egger_t,
        egger_p=egger_p,
        **_excess_significance_columns(mas, res, g_scale, largest, settings),
        **_largest_study_columns(mas, largest),
        jk_max_p=jk_max_p,
        **_rating_columns(mas, np.nan_to_num(res["tau2"])),
        **_equivalent_columns(mas, res),
        converted=np.where(mas.mixed, "mixed measures pooled as equivalent g", ""),
    )
    out = correlations_as_r(out)  # pooled on Fisher's z, shown on r
    classes = _evidence_classes(out, settings)
    out["class"], out["class_notes"] = classes["class"], classes["notes"]
    contradict = _contradicting_share(mas.padded, res["estimate"])
    out = pd.concat([out, grade(out, _grade_scale(mas, res, g_scale), contradict, settings.grade)], axis=1)
    for col in COUNT_COLUMNS:
        out[col] = out[col].round().astype("Int64")
    return out[POOLED_COLUMNS], mas.studies


# --------------------------------------------------------------------------------------------------------------
# Meta-analyses in padded arrays


@dataclass
class MetaAnalyses:
    """The usable studies grouped into meta-analyses (one per outcome and review, sorted), in padded arrays."""

    keys: pd.DataFrame  # outcome and review_id of each meta-analysis
    studies: pd.DataFrame  # the studies pooled, one row each
    codes: np.ndarray  # each study's meta-analysis: its row in the padded arrays
    position: np.ndarray  # each study's column in the padded arrays
    y: np.ndarray  # each study's effect on the pooled scale (a ratio as g in a mixed meta-analysis)
    v: np.ndarray  # its variance
    padded: Padded
    measure: np.ndarray  # each meta-analysis' measure, "G" when mixed
    mixed: np.ndarray  # whether its studies had more than one measure
    ratio: np.ndarray  # whether its measure is a ratio

    @property
    def rows(self) -> np.ndarray:
        return np.arange(len(self.keys))

    def grid(self, values: np.ndarray, fill: float | object = np.nan) -> np.ndarray:
        """Per-study values in the padded (meta-analyses x studies) layout, ``fill`` in the empty cells."""
        out = np.full(self.padded.y.shape, fill, dtype=float if isinstance(fill, float) else object)
        out[self.codes, self.position] = values
        return out


def _usable_studies(study_effects: pd.DataFrame, settings: MetaSettings) -> pd.DataFrame:
    """The studies' effect sizes next to their keys, risk of bias, indirectness and AMSTAR; only those with a
    finite effect and a finite positive variance. Shared control groups are split before the effect sizes are
    computed, flagged effects reversed after, and the rows of one study marked ``multiple_es`` combined last;
    ``combined`` says what was done to each study."""
    sheet, split = split_shared_controls(study_effects)
    flags = reverse_flags(study_effects)
    es = reverse_effects(study_effect_sizes(sheet, settings.smd_variance), flags)
    studies = pd.concat([study_effects[["outcome", "review_id", "study_id", "measure"]], es], axis=1)
    for column in ("rob", "indirectness", "amstar", "multiple_es", "within_r"):
        studies[column] = study_effects[column] if column in study_effects else None
    studies["combined"] = describe_rows(study_effects, split, flags)
    usable = studies[np.isfinite(studies["yi"]) & np.isfinite(studies["vi"]) & (studies["vi"] > 0)]
    return combine_studies(usable, settings.within_study_r)


def _group_meta_analyses(studies: pd.DataFrame) -> MetaAnalyses | None:
    """The studies by outcome and review; None when there are none. One measure per meta-analysis: mixed
    measures are pooled as equivalent g (ratios via ln OR = g·π/√3), leaving out differences other than SMD and G."""
    keys = (
        studies[["outcome", "review_id"]].drop_duplicates().sort_values(["outcome", "review_id"]).reset_index(drop=True)
    )
    if keys.empty:
        return None
    codes = (
        pd.MultiIndex.from_frame(studies[["outcome", "review_id"]])
        .map({k: i for i, k in enumerate(pd.MultiIndex.from_frame(keys))})
        .to_numpy()
    )
    measures = studies.groupby(codes)["measure"].agg(lambda s: sorted(set(s)))
    mixed = measures.map(len).to_numpy() > 1
    y, v = studies["yi"].to_numpy(dtype=float), studies["vi"].to_numpy(dtype=float)
    row_mixed = mixed[codes]
    row_ratio = studies["measure"].isin(list(RATIO_MEASURES)).to_numpy()
    convertible = ~row_mixed | np.isin(studies["measure"].to_numpy(), ["SMD", "G", *RATIO_MEASURES])
    y = np.where(row_mixed & row_ratio, y / LOGIT_SCALE, y)
    v = np.where(row_mixed & row_ratio, v / LOGIT_SCALE**2, v)
    studies, codes, y, v = studies[convertible], codes[convertible], y[convertible], v[convertible]
    padded, position = pad(codes, y, v, len(keys))
    measure = np.where(mixed, "G", measures.map(lambda m: m[0]).to_numpy())
    ratio = np.isin(measure, list(RATIO_MEASURES))
    return MetaAnalyses(keys, studies, codes, position, y, v, padded, measure, mixed, ratio)


def _to_natural(x: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    return np.where(ratio, np.exp(x), x)


def _largest(p: Padded, n: np.ndarray) -> np.ndarray:
    """Column of the largest study per row: largest n; ties to the smaller |effect|; without n, smallest SE."""
    has_n = np.isfinite(n) & p.mask
    big = np.where(has_n, n, -np.inf)
    best_n = big.max(axis=1)
    tie = has_n & (big == best_n[:, None])
    by_n = np.argmin(np.where(tie, np.abs(p.y), np.inf), axis=1)
    by_se = np.argmin(np.where(p.mask, p.v, np.inf), axis=1)
    return np.where(has_n.any(axis=1), by_n, by_se)


# --------------------------------------------------------------------------------------------------------------
# Differences on the Hedges' g scale


@dataclass
class GScaleFit:
    """Differences on the Hedges' g scale: the fit itself for SMD, G and mixed measures, a second fit for MD."""

    g_like: np.ndarray  # per meta-analysis: its measure is a difference (SMD, G, MD; mixed as G)
    y: np.ndarray  # per study: g where known, else the effect on the pooled scale
    v: np.ndarray  # its variance
    fit: Mapping[str, np.ndarray]  # the fit on the g scale (the fit itself but for MD)
    tau2: np.ndarray  # its τ², 0 where NaN
    incomplete: np.ndarray  # per meta-analysis: an MD with a study that has no g


def _fit_on_g_scale(mas: MetaAnalyses, res: Mapping[str, np.ndarray], settings: MetaSettings) -> GScaleFit:
    g_like = np.isin(mas.measure, list(G_LIKE))
    is_md = mas.measure == "MD"
    g, g_v = mas.studies["g"], mas.studies["g_v"]
    gy = np.where(np.isfinite(g), g, mas.y)
    gv = np.where(np.isfinite(g_v), g_v, mas.v)
    row_md = is_md[mas.codes]
    gy, gv = np.where(row_md, g, gy), np.where(row_md, g_v, gv)
    g_fit, g_tau2 = res, np.nan_to_num(res["tau2"])
    if is_md.any():
        g_mask = mas.padded.mask & np.isfinite(mas.grid(gy)) & np.isfinite(mas.grid(gv))
        g_fit = fit(Padded(np.nan_to_num(mas.grid(gy)), np.where(g_mask, mas.grid(gv), 1.0), g_mask), settings)
        g_fit = {key: np.where(is_md, g_fit[key], res[key]) for key in g_fit}
        g_tau2 = np.nan_to_num(g_fit["tau2"])
    incomplete = is_md & (mas.padded.mask & ~np.isfinite(mas.grid(gy))).any(axis=1)
    return GScaleFit(g_like, gy, gv, g_fit, g_tau2, incomplete)


def _grade_scale(mas: MetaAnalyses, res: Mapping[str, np.ndarray], g_scale: GScaleFit) -> pd.DataFrame:
    """GRADE's scale per meta-analysis (``kind`` "or", "g" or "") and the CI and PI on it: ratios natural,
    differences from the g-scale fit."""
    ratio, g_like = mas.ratio, g_scale.g_like
    kind = np.where(ratio, "or", np.where(g_like, "g", ""))
    intervals = {
        col: np.where(ratio, _to_natural(res[col], ratio), np.where(g_like, g_scale.fit[col], np.nan))
        for col in ("ci_lower", "ci_upper", "pi_lower", "pi_upper")
    }
    return pd.DataFrame({"kind": kind, **intervals})


# --------------------------------------------------------------------------------------------------------------
# Excess significance


def _excess_significance_inputs(mas: MetaAnalyses, g_scale: GScaleFit) -> tuple[np.ndarray, ...]:
    """Effects, SEs and df of each study's own test (padded) and the mask of the studies testable: ratios on
    their log scale with z (df ∞); differences as Cohen's d = g/J with SE √(1/n₁ + 1/n₂) and t with n₁ + n₂ − 2
    df, the total n imputed from g and its variance where the group sizes are missing (metaumbrella)."""
    studies = mas.studies
    n1 = np.where(np.isfinite(studies["n1"]), studies["n1"], studies["n_cases"])
    n2 = np.where(np.isfinite(studies["n2"]), studies["n2"], studies["n_controls"])
    row_g = g_scale.g_like[mas.codes]
    with np.errstate(invalid="ignore", divide="ignore"):
        imputed = np.round((2 + g_scale.y**2 / 4) / g_scale.v) * 2
        has_n = np.isfinite(n1) & np.isfinite(n2) & (n1 + n2 > 2)
        n1, n2 = np.where(has_n, n1, np.round(imputed / 2)), np.where(has_n, n2, np.round(imputed / 2))
        test_y = np.where(row_g, g_scale.y / hedges_j(n1 + n2 - 2), mas.y)
        test_se = np.where(row_g, np.sqrt(1 / n1 + 1 / n2), np.sqrt(mas.v))
        test_df = np.where(row_g, n1 + n2 - 2, np.inf)
    ty, tse, tdf = mas.grid(test_y), mas.grid(test_se), mas.grid(test_df, np.inf)
    return ty, tse, tdf, mas.padded.mask & np.isfinite(ty) & np.isfinite(tse)


def _excess_significance_columns(
    mas: MetaAnalyses, res: Mapping[str, np.ndarray], g_scale: GScaleFit, largest: np.ndarray, settings: MetaSettings
) -> dict[str, np.ndarray]:  # fmt: skip
    """The excess-significance test per meta-analysis (τ² from the g-scale fit for differences, 0 for a common
    effect); NaN where a study cannot be tested or an MD has a study without g."""
    ty, tse, tdf, test_mask = _excess_significance_inputs(mas, g_scale)
    tau2 = np.nan_to_num(res["tau2"])
    esb_tau2 = 0.0 if settings.tau2 == "FE" else np.where(g_scale.g_like, g_scale.tau2, tau2)
    theta = _true_effect(settings.esb_true_effect, ty, tse, test_mask, largest, mas.ratio, g_scale.fit, res)
    esb = excess_significance(ty, tse, tdf, test_mask, np.broadcast_to(esb_tau2, theta.shape), theta,
                              settings.esb_method)  # fmt: skip
    broken = (mas.padded.mask & ~test_mask).any(axis=1) | g_scale.incomplete
    esb = {key: np.where(broken, np.nan, value) for key, value in esb.items()}
    return {
        "esb_observed": esb["observed"],
        "esb_expected": esb["expected"],
        "esb_true_effect": np.where(np.isfinite(esb["p"]), _to_natural(theta, mas.ratio), np.nan),
        "esb_z": esb["z"],
        "esb_p": esb["p"],
    }


def _true_effect(
    choice: str | float, ty: np.ndarray, tse: np.ndarray, mask: np.ndarray, largest_idx: np.ndarray,
    ratio: np.ndarray, g_fit: Mapping[str, np.ndarray], fit_result: Mapping[str, np.ndarray],
) -> np.ndarray:  # fmt: skip
    """θ of the excess-significance test on the test's scale (log for ratios, Cohen's d for differences):
    the UWLS estimate Σ(y/SE²)/Σ(1/SE²) (Stanley & Doucouliagos), the largest study, the pooled estimate, or a
    number (natural scale for ratios)."""
    rows = np.arange(len(ty))
    with np.errstate(invalid="ignore", divide="ignore"):
        if choice == "UWLS":
            w = np.where(mask, 1 / tse**2, 0.0)
            return (w * np.where(mask, ty, 0.0)).sum(axis=1) / w.sum(axis=1)
        if choice == "largest":
            return ty[rows, largest_idx]
        if choice == "pooled":
            return np.where(ratio, fit_result["estimate"], g_fit["estimate"])
        number = float(choice)
        return np.where(ratio, np.log(number) if number > 0 else np.nan, number)


# --------------------------------------------------------------------------------------------------------------
# The other columns of the pooled table


def _sample_size_columns(mas: MetaAnalyses) -> dict[str, np.ndarray]:
    sums = mas.studies.groupby(mas.codes)[["n_cases", "n_controls", "n"]].sum(min_count=1).reindex(mas.rows)
    return {
        "n_cases": sums["n_cases"].to_numpy(),
        "n_controls": sums["n_controls"].to_numpy(),
        "n_total": sums["n"].to_numpy(),
    }


def _largest_study_columns(mas: MetaAnalyses, largest: np.ndarray) -> dict[str, np.ndarray]:
    """The largest study's id and its CI (natural scale for ratios)."""
    rows = mas.rows
    ly, lse = mas.padded.y[rows, largest], np.sqrt(mas.padded.v[rows, largest])
    ids = mas.grid(mas.studies["study_id"].to_numpy(), "")
    return {
        "largest_study": ids[rows, largest],
        "largest_ci_lower": _to_natural(ly - Z975 * lse, mas.ratio),
        "largest_ci_upper": _to_natural(ly + Z975 * lse, mas.ratio),
    }


def _rating_columns(mas: MetaAnalyses, tau2: np.ndarray) -> dict[str, np.ndarray]:
    """The share (%) of random-effects weight from studies rated at low risk of bias among those rated, the
    worst indirectness of the studies, and the review's AMSTAR score."""
    p = mas.padded
    w = np.where(p.mask, 1 / (p.v + tau2[:, None]), 0.0)
    rob = mas.studies["rob"].astype(object).to_numpy()
    low, rated = mas.grid((rob == "low").astype(float), 0.0), mas.grid(pd.notna(rob).astype(float), 0.0) > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        rob_low = 100 * (w * low * rated).sum(axis=1) / (w * rated).sum(axis=1)
    rob_low = np.where(rated.any(axis=1), rob_low, np.nan)
    level = mas.studies["indirectness"].map({word: i for i, word in enumerate(INDIRECTNESS_ORDER)})
    worst = level.groupby(mas.codes).max().reindex(mas.rows)
    indirectness = worst.map(dict(enumerate(INDIRECTNESS_ORDER))).to_numpy(dtype=object)
    amstar = pd.to_numeric(mas.studies["amstar"], errors="coerce").groupby(mas.codes).first().reindex(mas.rows)
    return {"rob_low_pct": rob_low, "indirectness": indirectness, "amstar": amstar.to_numpy()}


def _equivalent_columns(mas: MetaAnalyses, res: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The pooled estimate as equivalent g (ratios via ln OR·√3/π) and OR (g·π/√3)."""
    as_g = np.isin(mas.measure, ["SMD", "G"])
    g_equiv = np.where(mas.ratio, res["estimate"] / LOGIT_SCALE, np.where(as_g, res["estimate"], np.nan))
    return {"g_equiv": g_equiv, "or_equiv": np.exp(g_equiv * LOGIT_SCALE)}


def _evidence_classes(pooled: pd.DataFrame, settings: MetaSettings) -> pd.DataFrame:
    if settings.classes == "personalised":
        return personalised(pooled, settings.personalised)
    return ioannidis(pooled, settings.n_cases_threshold)


def _contradicting_share(p: Padded, estimate: np.ndarray) -> np.ndarray:
    """The share of studies significant against the pooled direction (metaumbrella's perc_contradict)."""
    with np.errstate(invalid="ignore"):
        study_lo, study_hi = p.y - Z975 * np.sqrt(p.v), p.y + Z975 * np.sqrt(p.v)
        against = np.where((estimate >= 0)[:, None], study_hi < 0, study_lo >= 0)
    return np.where(p.mask, against.astype(float), 0.0).sum(axis=1) / np.maximum(p.k, 1)
