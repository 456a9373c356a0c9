"""The planted study-level meta-analyses.

The reviews with study-level data take three templates in turn (the largest review the first); each template
re-analyses Depressive symptoms (SMD from estimates), Clinical recovery (OR or RR from 2x2 counts) and Quality of
life (MD or SMD from means). The scenarios are planted so that, together, the first three reviews reach every
evidence class of Ioannidis and every level of every algorithmic GRADE domain.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from umbrella.simulate.outcomes import DEP, QOL, REC, STUDY_LEVEL_OUTCOMES, benefit_sign

#: At most this many studies in a meta-analysis sized by a share (wider ones slow the re-analysis).
K_SHARE_MAX = 35


@dataclass(frozen=True)
class Scenario:
    """A planted study-level meta-analysis.

    ``share``: the share of the review's studies it includes (at most :data:`K_SHARE_MAX`), or if 0, ``k_min`` to
    ``k_max`` of them; ``smallest``: the smallest studies rather than a random draw; ``mu``, ``mu_sd``: the true
    effect (g or log ratio, towards benefit), drawn per meta-analysis; ``p_tau0``, ``tau_min``, ``tau_max``: the
    between-study SD, 0 with probability ``p_tau0``, else uniform in [tau_min, tau_max]; ``bias``: small-study
    bias, in SEs of each study (estimates only); ``largest_null``: the largest study's true effect is nil;
    ``p_low``: the share of studies at low risk of bias; ``indirectness``: the most serious value among the
    studies (None: not assessed).
    """

    name: str
    measure: str
    share: float = 0.0
    k_min: int = 8
    k_max: int = 16
    smallest: bool = False
    mu: float = 0.25
    mu_sd: float = 0.08
    p_tau0: float = 0.3
    tau_min: float = 0.05
    tau_max: float = 0.2
    bias: float = 0.0
    largest_null: bool = False
    p_low: float = 0.35
    indirectness: str | None = "no"


SCENARIOS: tuple[tuple[Scenario, Scenario, Scenario], ...] = (  # (Depression, Recovery, Quality of life)
    (
        Scenario("small-study effects", "SMD", share=0.6, p_tau0=1.0, bias=3.0, p_low=0.62, indirectness="serious"),
        Scenario("a few trials", "OR", k_min=5, k_max=8, mu=0.4, mu_sd=0.05, p_low=0.35),
        Scenario("homogeneous, low risk of bias, indirect", "MD", share=0.5, mu_sd=0.03, p_tau0=1.0, p_low=0.9,
                 indirectness="serious"),
    ),
    (
        Scenario("large, homogeneous, low risk of bias", "SMD", share=0.8, mu=0.3, mu_sd=0.03, p_tau0=1.0,
                 p_low=0.95),
        Scenario("three small trials", "RR", k_min=3, k_max=3, smallest=True, mu=0.35, p_tau0=1.0, p_low=0.35,
                 indirectness=None),
        Scenario("homogeneous, one very indirect study", "SMD", k_min=10, k_max=14, mu_sd=0.03, p_tau0=1.0,
                 p_low=0.9, indirectness="very_serious"),
    ),
    (
        Scenario("heterogeneous, the largest trial null", "SMD", share=0.75, mu=0.4, mu_sd=0.03, p_tau0=0.0,
                 tau_min=0.28, tau_max=0.32, largest_null=True, p_low=0.25),
        Scenario("no clear effect, heterogeneous", "OR", share=0.7, mu=0.15, mu_sd=0.02, p_tau0=0.0, tau_min=0.35,
                 tau_max=0.4, p_low=0.62),
        Scenario("homogeneous, some risk of bias, indirect", "MD", p_tau0=1.0, p_low=0.62, indirectness="serious"),
    ),
)  # fmt: skip


@dataclass(frozen=True)
class MetaAnalyses:
    """The study-level meta-analyses, one entry per meta-analysis: the review (code), outcome group and outcome,
    the scenario's fields as drawn (``k``, the true effect ``mu`` towards benefit, ``tau``) or as given, and
    whether the review's rows carry an AMSTAR score (the reviews of two templates in three)."""

    review: np.ndarray
    group: np.ndarray
    outcome: np.ndarray
    measure: np.ndarray
    k: np.ndarray
    mu: np.ndarray
    tau: np.ndarray
    smallest: np.ndarray
    bias: np.ndarray
    largest_null: np.ndarray
    p_low: np.ndarray
    indirectness: np.ndarray
    with_amstar: np.ndarray


def meta_analyses(rng: np.random.Generator, reviews: np.ndarray, n_primary: np.ndarray) -> MetaAnalyses:
    """Three meta-analyses per review of ``reviews`` (codes, the largest first), from the templates in turn;
    ``n_primary``: the number of studies of every review."""
    n_se = len(reviews)
    review = np.repeat(reviews, 3)
    group = np.tile(np.array([DEP, REC, QOL]), n_se)
    template = np.repeat(np.arange(n_se), 3) % len(SCENARIOS)
    cell = template * 3 + np.tile(np.arange(3), n_se)
    table = [scenario for planted in SCENARIOS for scenario in planted]
    f = {
        name.name: np.array([getattr(scenario, name.name) for scenario in table], dtype=object)[cell]
        for name in fields(Scenario)
    }
    share = f["share"].astype(float)
    k = np.where(
        share > 0,
        np.minimum(np.round(share * n_primary[review]), K_SHARE_MAX),
        rng.integers(f["k_min"].astype(int), f["k_max"].astype(int) + 1),
    )
    k = np.clip(k, np.minimum(2, n_primary[review]), n_primary[review]).astype(int)
    mu = rng.normal(f["mu"].astype(float), f["mu_sd"].astype(float)) * benefit_sign(group)
    tau = np.where(
        rng.random(len(review)) < f["p_tau0"].astype(float),
        0.0,
        rng.uniform(f["tau_min"].astype(float), f["tau_max"].astype(float)),
    )
    return MetaAnalyses(
        review=review,
        group=group,
        outcome=np.array([STUDY_LEVEL_OUTCOMES[g] for g in group], dtype=object),
        measure=f["measure"],
        k=k,
        mu=mu,
        tau=tau,
        smallest=f["smallest"].astype(bool),
        bias=f["bias"].astype(float),
        largest_null=f["largest_null"].astype(bool),
        p_low=f["p_low"].astype(float),
        indirectness=f["indirectness"],
        with_amstar=template != len(SCENARIOS) - 1,
    )
