"""Study-level rows behind the pooled results of the largest meta-analyses (the study_effects sheet), and those
pooled results as the re-analysis computes them from the rows as printed.

Depressive symptoms are given as Cohen's d with its SE or CI and both group sizes, Clinical recovery as 2x2
counts (OR or RR), Quality of life as means and SDs (MD or SMD); every row has cases and controls (events and
non-events for counts, else the arms), a risk of bias and, where the scenario assesses it, an indirectness. Each
meta-analysis is pooled with the pipeline's own effect sizes (:func:`umbrella.reanalysis.effect_sizes.
study_effect_sizes`: Hedges' g with the exact J, log OR and RR with 0.5 added to zero cells) and its
DerSimonian–Laird fit (:func:`umbrella.reanalysis.model.fit`).

A few studies give several effect sizes (:func:`_dependent_rows`): in the last meta-analysis from means with at
least five studies, two studies report a second outcome on the same participants (``multiple_es`` = outcomes,
one with ``within_r`` 0.7, the other the default), and in the first from 2x2 counts with at least five studies,
one study has a second intervention arm sharing its control group (``multiple_es`` = groups,
``shared_controls`` = 2). They are combined as the re-analysis combines them (:mod:`umbrella.reanalysis.combine`)
before the pool.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from umbrella.core.vocabulary import RATIO_MEASURES, Z975
from umbrella.reanalysis.combine import STUDY_KEY, combine_studies, split_shared_controls
from umbrella.reanalysis.effect_sizes import study_effect_sizes
from umbrella.reanalysis.model import fit, pad
from umbrella.reanalysis.settings import MetaSettings
from umbrella.simulate.arrays import group_rank, rounded
from umbrella.simulate.reviews import Citations
from umbrella.simulate.scenarios import MetaAnalyses

#: How the simulated reviews pooled their studies: DerSimonian–Laird random effects.
POOLING = MetaSettings(tau2="DL")
ROB = np.array(["low", "some_concerns", "high", "unclear"], dtype=object)


def study_effects(
    rng: np.random.Generator, ma: MetaAnalyses, cit: Citations, review_ids: np.ndarray, amstar_score: np.ndarray
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The rows of the meta-analyses ``ma`` and their pools (per meta-analysis: mu and se on the analysis scale,
    tau2, i2, k and n)."""
    grp, sid, rank = _pick(rng, ma, cit)
    size = cit.study_size[sid]
    n_t = np.clip(np.round(size * rng.uniform(0.45, 0.55, size=len(grp))), 6, size - 6).astype(np.int64)
    n_c = (size - n_t).astype(np.int64)
    measure = ma.measure[grp]
    theta = _true_effects(rng, ma, grp, size)
    style_est = (measure == "SMD") & (ma.outcome[grp] == "Depressive symptoms")
    style_bin = np.isin(measure, list(RATIO_MEASURES))
    style_mean = ~style_est & ~style_bin
    estimates, with_ci = _estimates(rng, theta, ma.bias[grp] * np.sign(ma.mu[grp]), n_t, n_c)
    ev_t, ev_c = _counts(rng, measure, theta, n_t, n_c)
    means = _means(rng, measure, theta, n_t, n_c)
    rob = _risk_of_bias(rng, ma, grp)
    indirectness = _indirectness(rng, ma, grp, rank)
    arms = ~style_est
    rows = pd.DataFrame(
        {
            "outcome": ma.outcome[grp],
            "review_id": review_ids[ma.review[grp]],
            "study_id": cit.study_ids[sid],
            "year": cit.study_year[sid].astype(np.int64),
            "measure": measure,
            "estimate": _only(style_est, estimates["estimate"]),
            "se": _only(style_est & ~with_ci, estimates["se"]),
            "ci_lower": _only(style_est & with_ci, estimates["ci_lower"]),
            "ci_upper": _only(style_est & with_ci, estimates["ci_upper"]),
            "events_treat": _only_int(style_bin, ev_t),
            "n_treat": _only_int(arms, n_t),
            "events_control": _only_int(style_bin, ev_c),
            "n_control": _only_int(arms, n_c),
            **{column: _only(style_mean, values) for column, values in means.items()},
            # Cases and controls (metaumbrella's n_cases, n_controls): events and non-events for counts, else the arms.
            "n_cases": _only_int(True, np.where(style_bin, ev_t + ev_c, n_t)),
            "n_controls": _only_int(True, np.where(style_bin, n_t + n_c - ev_t - ev_c, n_c)),
            "rob": rob,
            "indirectness": indirectness,
            "amstar": _only(ma.with_amstar[grp], amstar_score[ma.review[grp]]),
        }
    )
    rows, grp = _dependent_rows(rng.spawn(1)[0], rows, grp, rank, ma, theta)
    return rows, pools(rows, grp, len(ma.review))


def pools(rows: pd.DataFrame, group: np.ndarray, n_groups: int) -> dict[str, np.ndarray]:
    """The random-effects pool of each group of ``rows`` from the numbers as printed: effect sizes as the
    re-analysis takes them (shared control groups split, several rows of one study combined), and the fit of
    :data:`POOLING`."""
    sheet, _ = split_shared_controls(rows)
    es = study_effect_sizes(sheet, POOLING.smd_variance)
    extra = [c for c in ("multiple_es", "within_r") if c in rows]
    studies = pd.concat([rows[[*STUDY_KEY, "measure", *extra]], es], axis=1).assign(group=group)
    studies = combine_studies(studies, POOLING.within_study_r)
    group = studies["group"].to_numpy()
    padded, _ = pad(group, studies["yi"].to_numpy(float), studies["vi"].to_numpy(float), n_groups)
    res = fit(padded, POOLING)
    return {
        "mu": res["estimate"],
        "se": res["se"],
        "tau2": np.nan_to_num(res["tau2"]),  # a single study: no heterogeneity
        "i2": np.nan_to_num(res["i2"]),
        "k": res["k"],
        "n": np.bincount(group, studies["n"].to_numpy(float), n_groups),
    }


def _dependent_rows(
    rng: np.random.Generator, rows: pd.DataFrame, grp: np.ndarray, rank: np.ndarray, ma: MetaAnalyses,
    theta: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:  # fmt: skip
    """The rows with a few studies given twice: two studies of the last meta-analysis from means (k ≥ 5) with a
    second outcome on the same participants (new means and SDs, the same true effect; ``multiple_es`` outcomes), and
    one study of the first from 2x2 counts (k ≥ 5) with a second intervention arm against the same control
    group (``multiple_es`` groups, ``shared_controls`` 2). Returns the rows and their meta-analyses."""
    rows = rows.assign(multiple_es=None, within_r=np.nan, shared_controls=np.nan)
    k = ma.k[grp]
    from_means = rows["mean_treat"].notna().to_numpy() & (k >= 5)
    from_counts = rows["events_treat"].notna().to_numpy() & (k >= 5)
    added = []
    if from_means.any():
        first = grp[from_means].max()
        pick = np.flatnonzero(from_means & (grp == first) & np.isin(rank, [1, 2]))
        second = rows.iloc[pick].copy()
        n_t, n_c = second["n_treat"].to_numpy(np.int64), second["n_control"].to_numpy(np.int64)
        for column, values in _means(rng, second["measure"].to_numpy(object), theta[pick], n_t, n_c).items():
            second[column] = values
        rows.loc[rows.index[pick], "multiple_es"] = "outcomes"
        second["multiple_es"] = "outcomes"
        rows.loc[rows.index[pick[:1]], "within_r"] = 0.7
        second.iloc[:1, second.columns.get_loc("within_r")] = 0.7
        added.append((second, grp[pick]))
    if from_counts.any():
        first = grp[from_counts].min()
        pick = np.flatnonzero(from_counts & (grp == first) & (rank == 1))
        arm = rows.iloc[pick].copy()
        n_t = arm["n_treat"].to_numpy(np.int64)
        p_t = (arm["events_treat"].to_numpy(float) + 0.5) / (n_t + 1)
        ev_t = rng.binomial(n_t, p_t)
        ev_c, n_c = arm["events_control"].to_numpy(np.int64), arm["n_control"].to_numpy(np.int64)
        arm["events_treat"] = pd.array(ev_t, dtype="Int64")
        arm["n_cases"] = pd.array(ev_t + ev_c, dtype="Int64")
        arm["n_controls"] = pd.array(n_t + n_c - ev_t - ev_c, dtype="Int64")
        for frame, where in ((rows, rows.index[pick]), (arm, arm.index)):
            frame.loc[where, "multiple_es"] = "groups"
            frame.loc[where, "shared_controls"] = 2.0
        added.append((arm, grp[pick]))
    if not added:
        return rows, grp
    out = pd.concat([rows, *(frame for frame, _ in added)], ignore_index=True)
    return out, np.concatenate([grp, *(g for _, g in added)])


def _pick(rng: np.random.Generator, ma: MetaAnalyses, cit: Citations) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The studies of each meta-analysis: its review's studies in random order (smallest first where the
    scenario says so), the first k. Returns per row its meta-analysis, study (code) and rank within it."""
    start = np.searchsorted(cit.review, np.arange(len(cit.n_primary)))
    count = cit.n_primary[ma.review]
    grp = np.repeat(np.arange(len(ma.review)), count)
    offset = np.arange(len(grp)) - np.repeat(np.cumsum(count) - count, count)
    cand = start[ma.review][grp] + offset
    by_size = np.where(ma.smallest[grp], cit.study_size[cit.study[cand]], 0)
    order = np.lexsort((rng.random(len(grp)), by_size, grp))
    grp, cand = grp[order], cand[order]
    rank = group_rank(grp)
    keep = rank < ma.k[grp]
    return grp[keep], cit.study[cand[keep]], rank[keep]


def _true_effects(rng: np.random.Generator, ma: MetaAnalyses, grp: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Each study's true effect: the meta-analysis's mean plus tau times a normal draw; nil for the largest
    study where the scenario says so."""
    theta = ma.mu[grp] + ma.tau[grp] * rng.normal(size=len(grp))
    biggest_first = np.lexsort((-size, grp))
    largest = np.zeros(len(grp), dtype=bool)
    largest[biggest_first[group_rank(grp[biggest_first]) == 0]] = True
    return np.where(largest & ma.largest_null[grp], 0.0, theta)


def _estimates(
    rng: np.random.Generator, theta: np.ndarray, bias: np.ndarray, n_t: np.ndarray, n_c: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Cohen's d with its SE and 95 % CI (4 decimals), and whether the CI (30 %) rather than the SE is given;
    ``bias`` SEs of each study are added (small-study effects)."""
    se = np.sqrt(1 / n_t + 1 / n_c + theta**2 / (2 * (n_t + n_c)))
    est = theta + rng.normal(size=len(theta)) * se + bias * se
    with_ci = rng.random(len(theta)) < 0.3
    return {
        "estimate": rounded(est, 4),
        "se": rounded(se, 4),
        "ci_lower": rounded(est - Z975 * se, 4),
        "ci_upper": rounded(est + Z975 * se, 4),
    }, with_ci


def _counts(
    rng: np.random.Generator, measure: np.ndarray, theta: np.ndarray, n_t: np.ndarray, n_c: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Events in the treatment and control arms; ``theta`` is a log OR or log RR."""
    p_c = rng.uniform(0.2, 0.5, size=len(theta))
    p_t = np.where(measure == "OR", expit(logit(p_c) + theta), np.minimum(p_c * np.exp(theta), 0.95))
    return rng.binomial(n_t, p_t), rng.binomial(n_c, p_c)


def _means(
    rng: np.random.Generator, measure: np.ndarray, theta: np.ndarray, n_t: np.ndarray, n_c: np.ndarray
) -> dict[str, np.ndarray]:
    """Means (2 decimals) and SDs of both arms: MD on a 0-100 scale, SMD on assorted scales."""
    m = len(theta)
    scale_sd = np.where(measure == "MD", 18.0, rng.choice([4.0, 9.0, 12.0], size=m))
    mean_c_true = np.where(measure == "MD", 55.0, 20.0) + rng.normal(size=m) * scale_sd * 0.2
    mean_t_true = mean_c_true + theta * scale_sd
    sd_t = scale_sd * np.sqrt(rng.chisquare(n_t - 1) / (n_t - 1))
    sd_c = scale_sd * np.sqrt(rng.chisquare(n_c - 1) / (n_c - 1))
    return {
        "mean_treat": rounded(mean_t_true + rng.normal(size=m) * scale_sd / np.sqrt(n_t), 2),
        "sd_treat": np.maximum(rounded(sd_t, 2), 0.01),
        "mean_control": rounded(mean_c_true + rng.normal(size=m) * scale_sd / np.sqrt(n_c), 2),
        "sd_control": np.maximum(rounded(sd_c, 2), 0.01),
    }


def _risk_of_bias(rng: np.random.Generator, ma: MetaAnalyses, grp: np.ndarray) -> np.ndarray:
    """The scenario's share of the studies (a random subset) at low risk, the others at some concerns, high or
    unclear risk (6 : 5 : 2)."""
    m = len(grp)
    by_rob = np.lexsort((rng.random(m), grp))
    low = np.empty(m, dtype=bool)
    low[by_rob] = group_rank(grp[by_rob]) < np.round(ma.p_low * ma.k)[grp[by_rob]]
    other = ROB[1 + np.searchsorted([6 / 13, 11 / 13], rng.random(m), side="right")]
    return np.where(low, "low", other).astype(object)


def _indirectness(rng: np.random.Generator, ma: MetaAnalyses, grp: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """The first study of a meta-analysis carries its most serious value; "serious" marks about a third of the
    others too, and "very_serious" leaves the others no or serious; None where the scenario assesses none."""
    level = ma.indirectness[grp]
    u = rng.random(len(grp))
    indirect = np.where(
        level == "very_serious",
        np.where(rank == 0, "very_serious", np.where(u < 0.3, "serious", "no")),
        np.where(level == "serious", np.where((rank == 0) | (u < 0.3), "serious", "no"), level),
    ).astype(object)
    return np.where(pd.isna(level), None, indirect)


def _only(mask: np.ndarray | bool, values: np.ndarray) -> np.ndarray:
    return np.where(mask, values, np.nan)


def _only_int(mask: np.ndarray | bool, values: np.ndarray) -> pd.arrays.IntegerArray:
    out = pd.array(np.asarray(values, dtype=np.int64), dtype="Int64")
    out[~np.broadcast_to(mask, out.shape)] = pd.NA
    return out
