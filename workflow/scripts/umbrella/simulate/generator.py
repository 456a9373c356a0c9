"""A seeded generator of a complete, *simulated* umbrella-review dataset.

Every value it writes is invented: reviews, authors, journals, DOIs (``10.5555/sim.NNN``, a test prefix),
primary studies, AMSTAR-2 answers, pooled and study-level effects, implementation factors and experience
findings. The sheets follow the contract in ``workflow/schemas/sheets/*.schema.yaml`` and are meant for
tests, demonstrations and scale benchmarks of the pipeline, never for conclusions about peer support.

Run from ``workflow/scripts``::

    python -m umbrella.simulate --reviews 35 --seed 1 --out ../../data/raw/simulated

or import it::

    from umbrella.simulate import simulate, write
    tables = simulate(n_reviews=35, seed=1)   # sheet name -> DataFrame
    write(tables, "out_dir")                  # <sheet>.csv per sheet

The model, in brief:

* ``reviews``: review types in the proportions of Cooper et al. 2024 (13/13/3/6 of 35, plus a few realist and
  other reviews in large sets), years 2005-2024 (more recent ones more common), a last search 2-48 months
  before publication; research questions by type (meta-analyses address effectiveness; qualitative and
  scoping reviews implementation and/or experiences).
* ``studies``: a pool of primary studies, each with a publication year and a popularity; each review draws its
  studies, without replacement and in proportion to popularity, from the studies published in or before the
  year of its last search. The pool widens with the number of reviews (an overview of many reviews spans more
  topics), so the corrected covered area is about 5-15 % for a few dozen reviews and thins out at scale.
* ``amstar2``: a latent quality per review drives each consensus answer; two raters (``R1``, ``R2``) disagree
  on about 10 % of the items and the consensus sides with one of them. ``amstar2_reported`` is the rating the
  consensus answers imply under the default rule, except for a few reviews (about 7 %) where it deliberately
  differs by one level.
* ``effects`` and ``study_effects``: pooled results for the meta-analyses; for those of the largest reviews
  (a fifth, at least three) the pooled results are the DerSimonian-Laird pools of study-level rows simulated
  in ``study_effects``: Depressive symptoms (Cohen's d with SE or CI, pooled as Hedges' g), Clinical recovery
  (OR/RR from 2x2 counts) and Quality of life (MD/SMD from means), with cases and controls (events and
  non-events for counts, else the arms), risk of bias, indirectness (no, serious, very serious; one
  meta-analysis in nine without) and, for two reviews in three, an ``amstar`` score (Y = 1, PY = 0.5 over the
  16 consensus answers). The reviews take the three templates of planted scenarios in :data:`SCENARIOS` in
  turn (small-study effects; a large, homogeneous, low-risk meta-analysis; a heterogeneous one whose largest
  trial is null; three small trials; ...), so that with ``--reviews 35 --seed 1`` the re-analysis reaches every
  Ioannidis class (I-IV, ns), every level of every algorithmic GRADE domain (risk of bias, inconsistency,
  indirectness, imprecision, publication bias, start below high for k < 5) and all four GRADE labels.
* ``implementation`` and ``experiences``: CFIR 2022 factors and themed findings for the reviews that address
  those questions.

Same ``seed`` and ``n_reviews`` give byte-identical CSV files.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from umbrella.core.datasets import SHEETS as LAYOUT_SHEETS
from umbrella.core.sheets import columns, load_schema

# --------------------------------------------------------------------------------------------------------------
# The sheet contract (column order as in the schemas, sort order as in their x-sheet.sort)

SHEETS: tuple[str, ...] = LAYOUT_SHEETS
COLUMNS: dict[str, list[str]] = {sheet: columns(sheet) for sheet in SHEETS}
SORT: dict[str, list[str]] = {sheet: load_schema(sheet)["x-sheet"]["sort"] for sheet in SHEETS}

REVIEW_TYPES: tuple[str, ...] = ("sr_meta_analysis", "sr_narrative", "sr_qualitative", "scoping", "realist", "other")
MA, NARR, QUAL, SCOP, REAL, OTHER = range(6)
RATINGS: tuple[str, ...] = ("critically_low", "low", "moderate", "high")  # worst to best
CRITICAL_ITEMS: tuple[int, ...] = (2, 4, 7, 9, 11, 13, 15)
PY_ITEMS: tuple[int, ...] = (2, 4, 7, 8, 9)
NMA_ITEMS: tuple[int, ...] = (11, 12, 15)
ANSWERS: tuple[str, ...] = ("Y", "PY", "N", "NMA")
Z95 = 1.959963984540054

# Probability of "N" (consensus) per AMSTAR-2 item 1-16 for a review of average quality, and of "PY" among
# the other answers on the items that allow it. Roughly the failure rates of reviews in published overviews.
_P_NO = np.array([0.10, 0.50, 0.65, 0.15, 0.25, 0.35, 0.55, 0.15, 0.20, 0.85, 0.20, 0.45, 0.30, 0.30, 0.40, 0.15])
_P_PY = np.array([0, 0.30, 0, 0.55, 0, 0, 0.25, 0.40, 0.30, 0, 0, 0, 0, 0, 0, 0])

# Plainly fictional text.
SURNAMES = np.array(
    [
        "Ashgrove",
        "Brindlecombe",
        "Corriwen",
        "Dunmarrow",
        "Elderby",
        "Fallowmere",
        "Glimmerton",
        "Hazelbrook",
        "Ivyreach",
        "Juniperlee",
        "Kestrelwood",
        "Larkspire",
        "Mossfield",
        "Nettlecroft",
        "Oakhollow",
        "Pebbleworth",
        "Quillmoor",
        "Rookhaven",
        "Sallowby",
        "Thornwick",
        "Umberlee",
        "Vellacott",
        "Wrenfield",
        "Yarrowby",
        "Zephyrton",
    ],
    dtype=object,
)
JOURNALS = np.array(
    [
        "Journal of Simulated Peer Support",
        "Simulated Mental Health Review",
        "Fictional Psychiatry Reports",
        "Synthetic Evidence in Mental Health",
        "Imaginary Journal of Recovery Studies",
    ],
    dtype=object,
)
POPULATIONS = np.array(
    [
        "Adults with severe mental illness",
        "Adults with depression",
        "Women with perinatal depression",
        "Young people with mental health problems",
        "Older adults with depression",
        "Veterans with post-traumatic stress",
        "People using crisis services",
        "People with mental health problems",
    ],
    dtype=object,
)
AGE_GROUPS = np.array(
    ["adults", "adults", "adults", "young people", "older adults", "adults", "mixed", "mixed"], dtype=object
)
SETTINGS = np.array(
    [
        "Community mental health services",
        "Inpatient and discharge",
        "Online",
        "Primary care",
        "Mixed settings",
        "Voluntary sector",
    ],
    dtype=object,
)
INTERVENTIONS = np.array(
    [
        "One-to-one peer support",
        "Group peer support",
        "Online peer support",
        "Peer-delivered self-management",
        "Peer support (mixed formats)",
        "Peer-led crisis support",
    ],
    dtype=object,
)
COUNTRIES = np.array(
    [
        "USA; UK",
        "USA; Canada; UK; Australia",
        "UK",
        "Australia; New Zealand",
        "USA",
        "Netherlands; Germany; UK",
        "USA; UK; Australia; Canada; India",
        "Kenya; South Africa; Uganda",
        "China; Japan",
        "Canada; USA",
    ],
    dtype=object,
)
TYPE_PHRASES = np.array(
    [
        "a systematic review and meta-analysis",
        "a systematic review",
        "a qualitative evidence synthesis",
        "a scoping review",
        "a realist review",
        "a rapid review",
    ],
    dtype=object,
)
RQ_KEYS: tuple[str, ...] = ("effectiveness", "implementation", "experiences")

# Outcome groups of the pooled results: name, favours, weight, continuous outcome names, binary outcome names.
OUTCOME_GROUPS: tuple[tuple[str, str, float, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "Depression",
        "lower",
        0.34,
        ("Depressive symptoms", "Depression", "Postnatal depression"),
        ("Depression caseness",),
    ),
    ("Recovery", "higher", 0.20, ("Personal recovery", "Recovery", "Recovery orientation"), ("Clinical recovery",)),
    ("Hope", "higher", 0.12, ("Hope", "Hopefulness"), ()),
    ("Quality of life", "higher", 0.18, ("Quality of life", "Health-related quality of life"), ()),
    ("Empowerment", "higher", 0.08, ("Empowerment",), ()),
    ("Self-efficacy", "higher", 0.08, ("Self-efficacy", "Mental health self-efficacy"), ()),
)
TIMEPOINTS = np.array(["post-intervention", "6-month follow-up", "12-month follow-up"], dtype=object)
COMPARISONS = np.array(["usual care", "waiting list", "active control", "treatment as usual"], dtype=object)
ROB = np.array(["low", "some_concerns", "high", "unclear"], dtype=object)

# CFIR 2022 (Damschroder et al. 2022): domain, construct, factor (neutral wording), probability of "barrier".
CFIR: tuple[tuple[str, str, str, float], ...] = (
    ("innovation", "Innovation Evidence-Base", "Evidence that peer support works", 0.3),
    ("innovation", "Innovation Adaptability", "Flexibility to adapt the peer role locally", 0.3),
    ("innovation", "Innovation Complexity", "Complexity of the peer support model", 0.7),
    ("innovation", "Innovation Design", "Clarity of the peer support manual", 0.5),
    ("innovation", "Innovation Cost", "Cost of delivering peer support", 0.7),
    ("innovation", "Innovation Relative Advantage", "Added value over usual care", 0.3),
    ("outer_setting", "Policies & Laws", "National policy on the peer workforce", 0.4),
    ("outer_setting", "Financing", "Funding for peer worker posts", 0.7),
    ("outer_setting", "Local Attitudes", "Stigma towards lived experience", 0.8),
    ("outer_setting", "Partnerships & Connections", "Links with community organisations", 0.3),
    ("outer_setting", "External Pressure", "Commissioners' performance targets", 0.6),
    ("inner_setting", "Culture", "Recovery-oriented team culture", 0.4),
    ("inner_setting", "Relational Connections", "Relationships between peer and clinical staff", 0.5),
    ("inner_setting", "Communications", "Communication of the peer role within teams", 0.6),
    ("inner_setting", "Available Resources", "Supervision and training resources", 0.6),
    ("inner_setting", "Compatibility", "Fit with existing workflows", 0.5),
    ("inner_setting", "Structural Characteristics", "Pay and employment conditions of peer workers", 0.7),
    ("inner_setting", "Mission Alignment", "Organisational commitment to recovery", 0.3),
    ("individuals", "Innovation Deliverers", "Peer workers' own wellbeing", 0.6),
    ("individuals", "Capability", "Peer workers' skills and training", 0.4),
    ("individuals", "Motivation", "Staff motivation to work with peer workers", 0.5),
    ("individuals", "Mid-level Leaders", "Support from team managers", 0.3),
    ("individuals", "Innovation Recipients", "Service users' willingness to engage", 0.4),
    ("individuals", "Opportunity", "Time available for peer support", 0.6),
    ("implementation_process", "Planning", "Planning of the peer role's introduction", 0.4),
    ("implementation_process", "Engaging", "Engagement of clinical staff before launch", 0.4),
    ("implementation_process", "Tailoring Strategies", "Tailoring training to the local context", 0.3),
    ("implementation_process", "Reflecting & Evaluating", "Ongoing monitoring and feedback", 0.4),
    ("implementation_process", "Teaming", "Joint working of peer and clinical staff", 0.4),
    ("implementation_process", "Assessing Context", "Assessment of organisational readiness", 0.5),
)
CFIR_DOMAINS: tuple[str, ...] = (
    "innovation",
    "outer_setting",
    "inner_setting",
    "individuals",
    "implementation_process",
)

PERSPECTIVES: tuple[str, ...] = ("peer support workers", "service users", "staff")
# theme, subtheme, finding per perspective (peer support workers, service users, staff)
EXPERIENCES: tuple[tuple[str, str, tuple[str, str, str]], ...] = (
    (
        "Shared lived experience",
        "Being understood",
        (
            "Using their own story helped others open up",
            "Felt understood by someone who had been there",
            "Saw service users talk more openly to peers",
        ),
    ),
    (
        "Shared lived experience",
        "Hope from role models",
        (
            "Found their own recovery strengthened by the role",
            "Saw recovery as possible through the peer worker",
            "Saw peer workers as visible examples of recovery",
        ),
    ),
    (
        "Shared lived experience",
        "Reduced stigma",
        (
            "Felt less ashamed of their history",
            "Felt less judged than with professionals",
            "Revised their own assumptions about diagnoses",
        ),
    ),
    (
        "The peer worker role",
        "Role clarity",
        (
            "Were unsure where their role began and ended",
            "Were unsure what peer workers could help with",
            "Were unclear how peer workers fitted the team",
        ),
    ),
    (
        "The peer worker role",
        "Emotional demands",
        (
            "Found the work emotionally draining at times",
            "Worried about burdening the peer worker",
            "Worried about peer workers' wellbeing",
        ),
    ),
    (
        "The peer worker role",
        "Training and supervision",
        (
            "Valued supervision from other peer workers",
            "Noticed when peer workers were well prepared",
            "Wanted clearer supervision arrangements",
        ),
    ),
    (
        "Relationships and connection",
        "Trust and reciprocity",
        (
            "Described relationships as mutual",
            "Trusted peers more quickly than staff",
            "Saw peers build trust that staff could not",
        ),
    ),
    (
        "Relationships and connection",
        "Boundaries",
        (
            "Struggled to hold boundaries with friends in services",
            "Valued the informality of the relationship",
            "Were concerned about blurred boundaries",
        ),
    ),
    (
        "Relationships and connection",
        "Belonging",
        (
            "Felt part of a wider peer community",
            "Felt less alone and more connected",
            "Saw service users reconnect with community groups",
        ),
    ),
)
_PERSPECTIVE_WEIGHTS = np.array([0.4, 0.4, 0.2])

# Study-level meta-analyses. The reviews with study-level data take three templates in turn (the largest review
# the first); each template re-analyses Depressive symptoms (SMD from estimates), Clinical recovery (OR or RR
# from 2x2 counts) and Quality of life (MD or SMD from means). The scenarios are planted so that, together, the
# first three reviews reach every evidence class of Ioannidis and every level of every algorithmic GRADE domain.
# Fields of a scenario:
#   share: the share of the review's studies it includes (at most K_SHARE_MAX), or if 0, k_min..k_max of them;
#   smallest: the smallest studies rather than a random draw;
#   mu, mu_sd: the true effect (g or log ratio, towards benefit), drawn per meta-analysis;
#   p_tau0, tau_min, tau_max: the between-study SD, 0 with probability p_tau0, else uniform in [tau_min, tau_max];
#   bias: small-study bias, in SEs of each study (estimates only); largest_null: the largest study's true effect
#   is nil; p_low: the share of studies at low risk of bias; indirectness: the most serious value among the
#   studies (None: not assessed).

K_SHARE_MAX = 35  # at most this many studies in a meta-analysis sized by a share (wider ones slow the re-analysis)


@dataclass(frozen=True)
class _Scenario:
    """A planted study-level meta-analysis (the fields as described above)."""

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


SCENARIOS: tuple[tuple[_Scenario, _Scenario, _Scenario], ...] = (  # (Depression, Recovery, Quality of life)
    (
        _Scenario("small-study effects", "SMD", share=0.6, p_tau0=1.0, bias=3.0, p_low=0.62, indirectness="serious"),
        _Scenario("a few trials", "OR", k_min=5, k_max=8, mu=0.4, mu_sd=0.05, p_low=0.35),
        _Scenario("homogeneous, low risk of bias, indirect", "MD", share=0.5, mu_sd=0.03, p_tau0=1.0, p_low=0.9,
                  indirectness="serious"),
    ),
    (
        _Scenario("large, homogeneous, low risk of bias", "SMD", share=0.8, mu=0.3, mu_sd=0.03, p_tau0=1.0,
                  p_low=0.95),
        _Scenario("three small trials", "RR", k_min=3, k_max=3, smallest=True, mu=0.35, p_tau0=1.0, p_low=0.35,
                  indirectness=None),
        _Scenario("homogeneous, one very indirect study", "SMD", k_min=10, k_max=14, mu_sd=0.03, p_tau0=1.0,
                  p_low=0.9, indirectness="very_serious"),
    ),
    (
        _Scenario("heterogeneous, the largest trial null", "SMD", share=0.75, mu=0.4, mu_sd=0.03, p_tau0=0.0,
                  tau_min=0.28, tau_max=0.32, largest_null=True, p_low=0.25),
        _Scenario("no clear effect, heterogeneous", "OR", share=0.7, mu=0.15, mu_sd=0.02, p_tau0=0.0, tau_min=0.35,
                  tau_max=0.4, p_low=0.62),
        _Scenario("homogeneous, some risk of bias, indirect", "MD", p_tau0=1.0, p_low=0.62, indirectness="serious"),
    ),
)  # fmt: skip

# How many decimals each float column is rounded to (the CSV prints them without trailing zeros).
DECIMALS = 4


# --------------------------------------------------------------------------------------------------------------
# Helpers


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    """``prefix`` + zero-padded 1..n, e.g. Sim001."""
    width = max(width, len(str(n)))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1.0 - p))


def _allocate(n: int, weights: Sequence[float]) -> np.ndarray:
    """Split ``n`` into integer counts proportional to ``weights`` (largest remainder, ties to the first)."""
    w = np.asarray(weights, dtype=float)
    exact = n * w / w.sum()
    counts = np.floor(exact).astype(int)
    rest = n - counts.sum()
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:rest]] += 1
    return counts


def _top_k(rng: np.random.Generator, log_weights: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Per row of ``log_weights`` (rows x options), a boolean mask of ``k[row]`` options drawn without
    replacement in proportion to ``exp(log_weights)`` (Gumbel top-k)."""
    keys = log_weights + rng.gumbel(size=log_weights.shape)
    ranks = np.argsort(np.argsort(-keys, axis=1, kind="stable"), axis=1, kind="stable")
    return ranks < np.asarray(k)[:, None]


def _group_rank(group: np.ndarray) -> np.ndarray:
    """Position of each element within its run of equal ``group`` values (``group`` sorted)."""
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=int)
    start = np.r_[True, group[1:] != group[:-1]]
    first = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    return np.arange(n) - first


def _hedges_j(m: np.ndarray) -> np.ndarray:
    """Hedges' exact small-sample correction J(m) = Γ(m/2)/(√(m/2)·Γ((m − 1)/2)), m = n₁ + n₂ − 2 > 1."""
    return np.array(
        [math.exp(math.lgamma(v / 2) - 0.5 * math.log(v / 2) - math.lgamma((v - 1) / 2)) for v in np.asarray(m)],
        dtype=float,
    )


def _two_sided_p(z: np.ndarray) -> np.ndarray:
    return np.array([math.erfc(abs(v) / math.sqrt(2.0)) for v in np.asarray(z, dtype=float)], dtype=float)


def _p_text(p: np.ndarray) -> np.ndarray:
    out = []
    for v in p:
        if v < 0.00001:
            out.append("< 0.00001")
        elif v < 0.001:
            out.append("< 0.001")
        elif v < 0.1:
            out.append(f"{v:.3f}")
        else:
            out.append(f"{v:.2f}")
    return np.array(out, dtype=object)


def _round(x: np.ndarray, decimals: int) -> np.ndarray:
    """Round and turn -0.0 into 0.0."""
    return np.round(np.asarray(x, dtype=float), decimals) + 0.0


def _dersimonian_laird(y: np.ndarray, v: np.ndarray, group: np.ndarray, n_groups: int) -> dict[str, np.ndarray]:
    """Random-effects pool (DerSimonian-Laird) of effects ``y`` with variances ``v`` per ``group``."""
    w = 1.0 / v
    sw = np.bincount(group, w, n_groups)
    fixed = np.bincount(group, w * y, n_groups) / sw
    q = np.bincount(group, w * (y - fixed[group]) ** 2, n_groups)
    k = np.bincount(group, minlength=n_groups).astype(float)
    c = sw - np.bincount(group, w**2, n_groups) / sw
    tau2 = np.where(k > 1, np.maximum(0.0, (q - (k - 1)) / np.where(c > 0, c, 1.0)), 0.0)
    ws = 1.0 / (v + tau2[group])
    mu = np.bincount(group, ws * y, n_groups) / np.bincount(group, ws, n_groups)
    se = np.sqrt(1.0 / np.bincount(group, ws, n_groups))
    i2 = np.where((k > 1) & (q > 0), np.maximum(0.0, (q - (k - 1)) / np.where(q > 0, q, 1.0)) * 100.0, 0.0)
    return {"mu": mu, "se": se, "tau2": tau2, "i2": i2, "k": k}


def default_pool_size(n_reviews: int) -> int:
    """Size of the pool of primary studies for ``n_reviews`` reviews.

    About 7 per review for a few dozen reviews, so that they overlap as in a focused overview (corrected covered
    area about 10 %), widening with the square of the number of reviews (an overview of hundreds of reviews
    spans many topics): about 165 per review for 2,000 reviews, of which some 40,000 are drawn.
    """
    return int(round(6.3 * n_reviews * (1.0 + (n_reviews / 400.0) ** 2))) + 20


# --------------------------------------------------------------------------------------------------------------
# The generator


def simulate(n_reviews: int = 35, seed: int = 1, n_pool: int | None = None) -> dict[str, pd.DataFrame]:
    """Simulate every sheet of an umbrella review of ``n_reviews`` reviews.

    ``n_pool`` overrides the size of the pool of primary studies (default :func:`default_pool_size`). Returns
    sheet name -> DataFrame with the contract's columns, rows sorted as the schemas' ``x-sheet.sort``.
    """
    if n_reviews < 1:
        raise ValueError("n_reviews must be at least 1")
    # One independent stream per part, so that changing one part leaves the others' values as they were.
    streams = np.random.default_rng(seed).spawn(7)
    rng_reviews, rng_studies, rng_amstar, rng_text, rng_effects, rng_impl, rng_exp = streams
    n = int(n_reviews)
    review_ids = _ids("Sim", n, 3)

    # ---- review types, research questions, years --------------------------------------------------------
    n_realist, n_other = (2 * n) // 100, n // 100
    core = _allocate(n - n_realist - n_other, [13, 13, 3, 6])
    rtype = rng_reviews.permutation(np.repeat(np.arange(6), np.r_[core, n_realist, n_other]))

    u = rng_reviews.random((n, 4))
    eff = (rtype == MA) | ((rtype == NARR) & (u[:, 0] < 0.77)) | ((rtype == OTHER) & (u[:, 0] < 0.5))
    pick_impl = u[:, 1] < 0.5  # which question a review without effectiveness addresses first
    impl = np.zeros(n, bool)
    expe = np.zeros(n, bool)
    no_eff = ~eff & np.isin(rtype, [NARR, OTHER])
    impl |= no_eff & pick_impl
    expe |= no_eff & ~pick_impl
    impl |= (rtype == MA) & (u[:, 2] < 0.08)
    impl |= (rtype == NARR) & (u[:, 2] < 0.15)
    expe |= (rtype == NARR) & (u[:, 3] < 0.2)
    expe |= rtype == QUAL
    impl |= (rtype == QUAL) & (u[:, 2] < 0.3)
    scop = rng_reviews.random(n)
    impl |= (rtype == SCOP) & (scop < 0.6)
    expe |= (rtype == SCOP) & (scop >= 0.3)
    impl |= rtype == REAL
    expe |= (rtype == REAL) & (u[:, 3] < 0.5)
    # With enough reviews, every question is addressed by at least one review.
    if n >= 5 and not impl.any():
        impl[np.flatnonzero(rtype != MA)[:1]] = True
    if n >= 5 and not expe.any():
        expe[np.flatnonzero(rtype != MA)[-1:]] = True
    rq_code = eff * 1 + impl * 2 + expe * 4
    rq_text = np.array(
        [";".join(k for b, k in zip((c & 1, c & 2, c & 4), RQ_KEYS, strict=True) if b) for c in range(8)], dtype=object
    )[rq_code]

    years = np.arange(2005, 2025)
    year_w = np.exp(0.12 * (years - 2005))
    review_year = rng_reviews.choice(years, size=n, p=year_w / year_w.sum())
    pub_month = rng_reviews.integers(1, 13, size=n)
    lag = np.clip(np.round(2 + rng_reviews.gamma(2.0, 5.0, size=n)), 2, 48).astype(int)
    search_abs = review_year * 12 + (pub_month - 1) - lag
    search_year, search_month = search_abs // 12, search_abs % 12 + 1

    # ---- the pool of primary studies and the citation matrix --------------------------------------------
    pool = int(n_pool) if n_pool is not None else default_pool_size(n)
    pool_years_range = np.arange(1985, 2025)
    pw = np.exp(0.09 * (pool_years_range - 1985))
    pool_year = np.sort(rng_studies.choice(pool_years_range, size=pool, p=pw / pw.sum()))  # eligible = a prefix
    popularity = rng_studies.lognormal(0.0, 1.0, size=pool)
    pool_size = np.clip(np.round(rng_studies.lognormal(math.log(70), 0.8, size=pool)), 12, 3000).astype(int)
    cum = np.cumsum(popularity)
    eligible = np.searchsorted(pool_year, search_year, side="right")

    median_k = np.array([22, 18, 12, 30, 25, 15], dtype=float)[rtype]
    k_target = np.clip(np.round(rng_studies.lognormal(np.log(median_k), 0.55)), 3, 150).astype(int)
    k_target = np.minimum(k_target, np.floor(0.7 * eligible).astype(int))
    k_target = np.where(eligible > 0, np.maximum(k_target, np.minimum(2, eligible)), 0)
    draws = np.where(k_target > 0, 4 * k_target + 10, 0)
    draw_review = np.repeat(np.arange(n), draws)
    total_w = cum[np.maximum(eligible, 1) - 1]
    draw_idx = np.searchsorted(cum, rng_studies.random(len(draw_review)) * total_w[draw_review], side="right")
    draw_idx = np.minimum(draw_idx, eligible[draw_review] - 1)
    # The first occurrences of each (review, study) in draw order are a weighted draw without replacement.
    _, first = np.unique(draw_review.astype(np.int64) * pool + draw_idx, return_index=True)
    first = np.sort(first)
    cit_review, cit_pool = draw_review[first], draw_idx[first]
    keep = _group_rank(cit_review) < k_target[cit_review]
    cit_review, cit_pool = cit_review[keep], cit_pool[keep]
    used, cit_study = np.unique(cit_pool, return_inverse=True)  # renumber used studies S00001.. by year
    study_ids = _ids("S", len(used), 5)
    study_year = pool_year[used]
    study_size = pool_size[used]
    order = np.lexsort((cit_study, cit_review))
    cit_review, cit_study = cit_review[order], cit_study[order]
    n_primary = np.bincount(cit_review, minlength=n)
    n_participants = np.bincount(cit_review, study_size[cit_study], minlength=n).astype(np.int64)
    studies = pd.DataFrame(
        {
            "review_id": review_ids[cit_review],
            "study_id": study_ids[cit_study],
            "study_year": study_year[cit_study].astype(np.int64),
            "outcome": None,
        }
    )

    # ---- AMSTAR-2 -----------------------------------------------------------------------------------------
    quality = rng_amstar.normal(size=n)
    items = np.arange(1, 17)
    p_no = _expit(_logit(_P_NO)[None, :] - 1.1 * quality[:, None])
    u = rng_amstar.random((n, 16))
    consensus = np.where(u < p_no, 2, np.where(u < p_no + (1 - p_no) * _P_PY[None, :], 1, 0))
    nma_cell = (rtype != MA)[:, None] & np.isin(items, NMA_ITEMS)[None, :]
    consensus = np.where(nma_cell, 3, consensus)
    disagree = (rng_amstar.random((n, 16)) < 0.11) & ~nma_cell
    py_item = np.isin(items, PY_ITEMS)[None, :]
    # An alternative answer: the other of Y/N, or one of the two others among Y/PY/N.
    alt = np.where(py_item, (consensus + 1 + rng_amstar.integers(0, 2, size=(n, 16))) % 3, 2 - consensus)
    wrong_is_r1 = rng_amstar.random((n, 16)) < 0.5
    r1 = np.where(disagree & wrong_is_r1, alt, consensus)
    r2 = np.where(disagree & ~wrong_is_r1, alt, consensus)
    crit = np.isin(items, CRITICAL_ITEMS)[None, :]
    n_flaws = ((consensus == 2) & crit).sum(axis=1)
    n_weak = ((consensus == 2) & ~crit).sum(axis=1)
    derived = np.where(n_flaws > 1, 0, np.where(n_flaws == 1, 1, np.where(n_weak > 1, 2, 3)))
    reported = derived.copy()
    n_off = int(round(0.075 * n)) if n >= 10 else 0
    off = rng_amstar.choice(n, size=n_off, replace=False)
    reported[off] = np.where(derived[off] < 3, derived[off] + 1, derived[off] - 1)
    answers = np.array(ANSWERS, dtype=object)
    amstar2 = pd.DataFrame(
        {
            "review_id": np.repeat(review_ids, 48),
            "item": np.tile(np.repeat(items, 3), n).astype(np.int64),
            "answer": answers[np.stack([r1, r2, consensus], axis=2).reshape(-1)],
            "rater": np.tile(np.array(["R1", "R2", "consensus"], dtype=object), 16 * n),
            "note": None,
        }
    )

    # ---- reviews ------------------------------------------------------------------------------------------
    pop_i = rng_text.integers(0, len(POPULATIONS), size=n)
    number = pd.Series(review_ids).str.slice(3)
    reviews = pd.DataFrame(
        {
            "review_id": review_ids,
            "first_author": SURNAMES[rng_text.integers(0, len(SURNAMES), size=n)],
            "year": review_year.astype(np.int64),
            "title": (
                "Simulated review "
                + number
                + ": peer support for "
                + pd.Series(POPULATIONS[pop_i]).str.lower()
                + ", "
                + TYPE_PHRASES[rtype]
            ).to_numpy(object),
            "journal": JOURNALS[rng_text.integers(0, len(JOURNALS), size=n)],
            "doi": ("10.5555/sim." + number).to_numpy(object),
            "review_type": np.array(REVIEW_TYPES, dtype=object)[rtype],
            "research_questions": rq_text,
            "n_primary_studies": n_primary.astype(np.int64),
            "n_participants": n_participants,
            "population": POPULATIONS[pop_i],
            "age_group": AGE_GROUPS[pop_i],
            "setting": SETTINGS[rng_text.integers(0, len(SETTINGS), size=n)],
            "intervention": INTERVENTIONS[rng_text.integers(0, len(INTERVENTIONS), size=n)],
            "countries": COUNTRIES[rng_text.integers(0, len(COUNTRIES), size=n)],
            "search_end": (
                pd.Series(search_year).astype(str) + "-" + pd.Series(search_month).astype(str).str.zfill(2)
            ).to_numpy(object),
            "amstar2_reported": np.array(RATINGS, dtype=object)[reported],
            "source": "simulated",
            "notes": None,
        }
    )

    # ---- effects and study_effects ------------------------------------------------------------------------
    effects, study_effects = _effects(
        rng_effects,
        review_ids,
        rtype,
        n_primary,
        n_participants,
        pop_i,
        cit_review,
        cit_study,
        study_ids,
        study_year,
        study_size,
        np.where(consensus == 0, 1.0, np.where(consensus == 1, 0.5, 0.0)).sum(axis=1),
    )

    # ---- implementation and experiences -------------------------------------------------------------------
    implementation = _implementation(rng_impl, review_ids[impl])
    experiences = _experiences(rng_exp, review_ids[expe])

    tables = {
        "reviews": reviews,
        "amstar2": amstar2,
        "effects": effects,
        "studies": studies,
        "study_effects": study_effects,
        "implementation": implementation,
        "experiences": experiences,
    }
    return {name: _finish(name, df) for name, df in tables.items()}


def _effects(
    rng: np.random.Generator,
    review_ids: np.ndarray,
    rtype: np.ndarray,
    n_primary: np.ndarray,
    n_participants: np.ndarray,
    pop_i: np.ndarray,
    cit_review: np.ndarray,
    cit_study: np.ndarray,
    study_ids: np.ndarray,
    study_year: np.ndarray,
    study_size: np.ndarray,
    amstar_score: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pooled results for the meta-analyses, and study-level rows behind a few of them."""
    ma = np.flatnonzero((rtype == MA) & (n_primary >= 2))
    n_ma = len(ma)
    group_names = np.array([g[0] for g in OUTCOME_GROUPS], dtype=object)
    favours_of = np.array([g[1] for g in OUTCOME_GROUPS], dtype=object)
    DEP, REC, QOL = 0, 1, 3

    # Reviews with study-level data: the largest meta-analyses, each with Depression (SMD from estimates),
    # Recovery (OR or RR from counts) and Quality of life (MD or SMD from means).
    n_se = min(n_ma, max(3, int(round(0.2 * n_ma)))) if n_ma else 0
    se_reviews = ma[np.argsort(-n_primary[ma], kind="stable")[:n_se]]
    is_se = np.isin(ma, se_reviews)
    plain = ma[~is_se]

    # Plain pooled results: 1-4 distinct outcome groups per review.
    n_rows = np.minimum(1 + rng.binomial(3, 0.5, size=len(plain)), len(OUTCOME_GROUPS))
    gw = np.log(np.array([g[2] for g in OUTCOME_GROUPS]))
    chosen = _top_k(rng, np.tile(gw, (len(plain), 1)), n_rows) if len(plain) else np.zeros((0, 6), bool)
    p_rev, p_grp = np.nonzero(chosen)
    p_rev = plain[p_rev]
    m = len(p_rev)
    um = rng.random(m)
    binary_ok = np.isin(p_grp, [DEP, REC])
    p_measure = np.where(binary_ok & (um < 0.125), "OR", np.where(binary_ok & (um < 0.25), "RR", "SMD")).astype(object)
    p_measure = np.where((p_grp == QOL) & (um < 0.15), "MD", p_measure).astype(object)
    p_ratio = np.isin(p_measure, ["OR", "RR"])
    p_sign = np.where(favours_of[p_grp] == "lower", -1.0, 1.0)
    p_k = np.minimum(n_primary[p_rev], 2 + rng.poisson(4, size=m))
    p_n = np.minimum(n_participants[p_rev], np.maximum(p_k * np.round(rng.lognormal(math.log(70), 0.5, size=m)), 20))
    p_n = np.maximum(p_n, 1).astype(np.int64)
    mu = np.where(p_ratio, rng.normal(0.32, 0.2, size=m), rng.normal(0.25, 0.15, size=m)) * p_sign
    md_scale = np.where(p_measure == "MD", rng.uniform(8, 15, size=m), 1.0)
    v_within = np.where(p_ratio, 4.0 / (p_n / p_k * 0.21), 4.0 / (p_n / p_k))
    tau2 = np.where(rng.random(m) < 0.3, 0.0, rng.gamma(1.0, 0.05, size=m))
    tau2 = np.where(p_k > 1, tau2, 0.0)
    p_se = np.sqrt((v_within + tau2) / p_k)
    y = mu + rng.normal(size=m) * p_se
    i2 = np.where(p_k > 1, 100 * tau2 / (tau2 + v_within), 0.0)
    plain_rows = pd.DataFrame(
        {
            "r": p_rev,
            "g": p_grp,
            "measure": p_measure,
            "y": y * md_scale,
            "se": p_se * md_scale,
            "k": p_k,
            "n": p_n,
            "i2": i2,
            "tau2": tau2 * md_scale**2,
        }
    )
    plain_rows["outcome"] = [
        _outcome_name(g, meas, j) for g, meas, j in zip(p_grp, p_measure, rng.integers(0, 6, size=m), strict=True)
    ]

    # Study-level outcomes: three per review, the scenarios of its template (SCENARIOS, taken in turn), drawn
    # from a stream of their own so that the other effects keep their values when the scenarios change.
    rng_g = rng.spawn(1)[0]
    n_g = 3 * n_se
    g_rev = np.repeat(se_reviews, 3)
    g_grp = np.tile(np.array([DEP, REC, QOL]), n_se)
    scenarios = [scenario for template in SCENARIOS for scenario in template]
    g_cell = (np.repeat(np.arange(n_se), 3) % len(SCENARIOS)) * 3 + np.tile(np.arange(3), n_se)

    def field(name: str) -> np.ndarray:
        return np.array([getattr(scenario, name) for scenario in scenarios], dtype=object)[g_cell]

    g_measure = field("measure")
    g_outcome = np.where(
        g_grp == DEP, "Depressive symptoms", np.where(g_grp == REC, "Clinical recovery", "Quality of life")
    ).astype(object)
    share = field("share").astype(float)
    g_k = np.where(
        share > 0,
        np.minimum(np.round(share * n_primary[g_rev]), K_SHARE_MAX),
        rng_g.integers(field("k_min").astype(int), field("k_max").astype(int) + 1),
    )
    g_k = np.clip(g_k, np.minimum(2, n_primary[g_rev]), n_primary[g_rev]).astype(int)
    g_sign = np.where(favours_of[g_grp] == "lower", -1.0, 1.0)
    g_mu = rng_g.normal(field("mu").astype(float), field("mu_sd").astype(float)) * g_sign
    g_tau = np.where(
        rng_g.random(n_g) < field("p_tau0").astype(float),
        0.0,
        rng_g.uniform(field("tau_min").astype(float), field("tau_max").astype(float)),
    )
    se_rows, pooled = _study_level(
        rng_g,
        {
            "rev": g_rev,
            "measure": g_measure,
            "outcome": g_outcome,
            "k": g_k,
            "mu": g_mu,
            "tau": g_tau,
            "bias": field("bias").astype(float),
            "largest_null": field("largest_null").astype(bool),
            "smallest": field("smallest").astype(bool),
            "p_low": field("p_low").astype(float),
            "indirectness": field("indirectness"),
        },
        cit_review,
        cit_study,
        study_ids,
        study_year,
        study_size,
        review_ids,
        amstar_score,
    )
    se_eff = pd.DataFrame(
        {
            "r": g_rev,
            "g": g_grp,
            "measure": g_measure,
            "outcome": g_outcome,
            "y": pooled["mu"],
            "se": pooled["se"],
            "k": pooled["k"].astype(np.int64),
            "n": pooled["n"].astype(np.int64),
            "i2": pooled["i2"],
            "tau2": pooled["tau2"],
        }
    )

    rows = pd.concat([plain_rows, se_eff], ignore_index=True).sort_values(["r", "g"], kind="stable")
    rows = rows.reset_index(drop=True)
    e = len(rows)
    measure = rows["measure"].to_numpy(object)
    ratio = np.isin(measure, ["OR", "RR"])
    y, se = rows["y"].to_numpy(float), rows["se"].to_numpy(float)
    lo, hi = y - Z95 * se, y + Z95 * se
    est = np.where(ratio, np.exp(y), y)
    lo = np.where(ratio, np.exp(lo), lo)
    hi = np.where(ratio, np.exp(hi), hi)
    est = np.where(ratio, _round(est, 3), _round(est, 2))
    step = np.where(ratio, 0.001, 0.01)
    lo = np.minimum(np.where(ratio, _round(lo, 3), _round(lo, 2)), _round(est - step, 3))
    hi = np.maximum(np.where(ratio, _round(hi, 3), _round(hi, 2)), _round(est + step, 3))
    lo = np.where(ratio, np.maximum(lo, 0.001), lo)
    p = _two_sided_p(y / se)
    favours = favours_of[rows["g"].to_numpy(int)]
    good = np.where(favours == "lower", y < 0, y > 0)
    verdict = np.where(
        p >= 0.05, "No clear difference", np.where(good, "Favours peer support", "Favours control")
    ).astype(object)
    r_idx = rows["r"].to_numpy(int)
    effects = pd.DataFrame(
        {
            "effect_id": _ids("E", e, 3),
            "review_id": review_ids[r_idx],
            "outcome": rows["outcome"].to_numpy(object),
            "outcome_group": group_names[rows["g"].to_numpy(int)],
            "timepoint": TIMEPOINTS[np.searchsorted([0.6, 0.85], rng.random(e), side="right")],
            "population": POPULATIONS[pop_i[r_idx]],
            "comparison": COMPARISONS[rng.integers(0, len(COMPARISONS), size=e)],
            "measure": measure,
            "estimate": est,
            "ci_lower": lo,
            "ci_upper": hi,
            "ci_level": np.full(e, 95.0),
            "k_studies": rows["k"].to_numpy(np.int64),
            "n_participants": rows["n"].to_numpy(np.int64),
            "i2": _round(rows["i2"].to_numpy(float), 1),
            "tau2": _round(rows["tau2"].to_numpy(float), 4),
            "p_value": _p_text(p),
            "favours": favours,
            "verdict": verdict,
            "source": "simulated",
            "notes": None,
        }
    )
    return effects, se_rows


def _outcome_name(group: int, measure: str, j: int) -> str:
    _, _, _, continuous, binary = OUTCOME_GROUPS[group]
    names = binary if measure in ("OR", "RR") else continuous
    return names[j % len(names)]


def _study_level(
    rng: np.random.Generator,
    g: Mapping[str, np.ndarray],
    cit_review: np.ndarray,
    cit_study: np.ndarray,
    study_ids: np.ndarray,
    study_year: np.ndarray,
    study_size: np.ndarray,
    review_ids: np.ndarray,
    amstar_score: np.ndarray,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Study-level rows of the meta-analyses ``g`` (one entry per meta-analysis: rev, measure, outcome, k, mu,
    tau, bias, smallest, p_low, indirectness) and their DerSimonian-Laird pools."""
    g_rev, g_measure, g_k, g_mu = g["rev"], g["measure"], g["k"], g["mu"]
    n_g = len(g_rev)
    n_rev = len(review_ids)
    start = np.searchsorted(cit_review, np.arange(n_rev))
    count = np.bincount(cit_review, minlength=n_rev)
    # Candidate rows: every study of the group's review, in random order (smallest first where the scenario
    # says so); keep the first k.
    grp = np.repeat(np.arange(n_g), count[g_rev])
    offset = np.arange(len(grp)) - np.repeat(np.cumsum(count[g_rev]) - count[g_rev], count[g_rev])
    cand = start[g_rev][grp] + offset
    by_size = np.where(g["smallest"][grp], study_size[cit_study[cand]], 0)
    order = np.lexsort((rng.random(len(grp)), by_size, grp))
    grp, cand = grp[order], cand[order]
    rank = _group_rank(grp)
    keep = rank < g_k[grp]
    grp, cand, rank = grp[keep], cand[keep], rank[keep]
    sid = cit_study[cand]
    m = len(grp)
    size = study_size[sid]
    n_t = np.clip(np.round(size * rng.uniform(0.45, 0.55, size=m)), 6, size - 6).astype(np.int64)
    n_c = (size - n_t).astype(np.int64)
    measure = g_measure[grp]
    theta = g_mu[grp] + g["tau"][grp] * rng.normal(size=m)
    biggest_first = np.lexsort((-size, grp))
    largest = np.zeros(m, dtype=bool)
    largest[biggest_first[_group_rank(grp[biggest_first]) == 0]] = True
    theta = np.where(largest & g["largest_null"][grp], 0.0, theta)
    z = rng.normal(size=m)

    style_est = measure == "SMD"
    style_est &= g["outcome"][grp] == "Depressive symptoms"
    style_bin = np.isin(measure, ["OR", "RR"])
    style_mean = ~style_est & ~style_bin

    # SMD from estimate with SE (70 %) or CI (30 %); small-study bias adds `bias` SEs towards benefit.
    se_smd = np.sqrt(1 / n_t + 1 / n_c + theta**2 / (2 * (n_t + n_c)))
    est = theta + z * se_smd + g["bias"][grp] * se_smd * np.sign(g_mu[grp])
    est_r, se_r = _round(est, 4), _round(se_smd, 4)
    with_ci = rng.random(m) < 0.3
    lo_r, hi_r = _round(est - Z95 * se_smd, 4), _round(est + Z95 * se_smd, 4)

    # 2x2 counts.
    p_c = rng.uniform(0.2, 0.5, size=m)
    p_t = np.where(measure == "OR", _expit(_logit(p_c) + theta), np.minimum(p_c * np.exp(theta), 0.95))
    ev_t = rng.binomial(n_t, p_t)
    ev_c = rng.binomial(n_c, p_c)

    # Means and SDs: MD on a 0-100 scale, SMD on assorted scales.
    scale_sd = np.where(measure == "MD", 18.0, rng.choice([4.0, 9.0, 12.0], size=m))
    mean_c_true = np.where(measure == "MD", 55.0, 20.0) + rng.normal(size=m) * scale_sd * 0.2
    mean_t_true = mean_c_true + theta * scale_sd
    sd_t = scale_sd * np.sqrt(rng.chisquare(n_t - 1) / (n_t - 1))
    sd_c = scale_sd * np.sqrt(rng.chisquare(n_c - 1) / (n_c - 1))
    mean_t = _round(mean_t_true + rng.normal(size=m) * scale_sd / np.sqrt(n_t), 2)
    mean_c = _round(mean_c_true + rng.normal(size=m) * scale_sd / np.sqrt(n_c), 2)
    sd_t, sd_c = np.maximum(_round(sd_t, 2), 0.01), np.maximum(_round(sd_c, 2), 0.01)

    # Risk of bias: the scenario's share of the studies (a random subset) at low risk, the others at some
    # concerns, high or unclear risk (6 : 5 : 2).
    by_rob = np.lexsort((rng.random(m), grp))
    low = np.empty(m, dtype=bool)
    low[by_rob] = _group_rank(grp[by_rob]) < np.round(g["p_low"] * g_k)[grp[by_rob]]
    other = ROB[1 + np.searchsorted([6 / 13, 11 / 13], rng.random(m), side="right")]
    rob = np.where(low, "low", other).astype(object)

    # Indirectness: the first study of a meta-analysis carries its most serious value; "serious" marks about a
    # third of the others too, and "very_serious" leaves the others no or serious.
    level = g["indirectness"][grp]
    u_ind = rng.random(m)
    indirect = np.where(
        level == "very_serious",
        np.where(rank == 0, "very_serious", np.where(u_ind < 0.3, "serious", "no")),
        np.where(level == "serious", np.where((rank == 0) | (u_ind < 0.3), "serious", "no"), level),
    ).astype(object)
    indirect = np.where(pd.isna(level), None, indirect)

    # Analysis-scale effects for the pools, computed from the numbers as printed.
    yi = np.zeros(m)
    vi = np.ones(m)
    se_from_ci = (hi_r - lo_r) / (2 * Z95)
    # The estimates are Cohen's d with both group sizes known (n_cases, n_controls): pooled as Hedges' g = J·d.
    j = _hedges_j(n_t + n_c - 2)
    yi = np.where(style_est, j * est_r, yi)
    vi = np.where(style_est, (j * np.where(with_ci, se_from_ci, se_r)) ** 2, vi)
    zero = (ev_t == 0) | (ev_c == 0) | (ev_t == n_t) | (ev_c == n_c)
    cc = np.where(zero, 0.5, 0.0)
    a, b = ev_t + cc, n_t - ev_t + cc
    c, d = ev_c + cc, n_c - ev_c + cc
    log_or, v_or = np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d
    log_rr, v_rr = np.log((a / (a + b)) / (c / (c + d))), 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)
    yi = np.where(style_bin & (measure == "OR"), log_or, yi)
    vi = np.where(style_bin & (measure == "OR"), v_or, vi)
    yi = np.where(style_bin & (measure == "RR"), log_rr, yi)
    vi = np.where(style_bin & (measure == "RR"), v_rr, vi)
    md = mean_t - mean_c
    v_md = sd_t**2 / n_t + sd_c**2 / n_c
    sp = np.sqrt(((n_t - 1) * sd_t**2 + (n_c - 1) * sd_c**2) / (n_t + n_c - 2))
    hedges = j * md / sp
    v_g = (n_t + n_c) / (n_t * n_c) + hedges**2 / (2 * (n_t + n_c))
    yi = np.where(style_mean & (measure == "MD"), md, yi)
    vi = np.where(style_mean & (measure == "MD"), v_md, vi)
    yi = np.where(style_mean & (measure == "SMD"), hedges, yi)
    vi = np.where(style_mean & (measure == "SMD"), v_g, vi)
    pooled = _dersimonian_laird(yi, vi, grp, n_g)
    pooled["n"] = np.bincount(grp, (n_t + n_c).astype(float), n_g)

    def only(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.where(mask, values, np.nan)

    def only_int(mask: np.ndarray, values: np.ndarray) -> pd.arrays.IntegerArray:
        out = pd.array(np.asarray(values, dtype=np.int64), dtype="Int64")
        out[~mask] = pd.NA
        return out

    est_set = style_est & ~with_ci
    ci_set = style_est & with_ci
    n_set = style_bin | style_mean
    everywhere = np.ones(m, dtype=bool)
    # Cases and controls (metaumbrella's n_cases, n_controls): events and non-events for counts, else the arms.
    cases = np.where(style_bin, ev_t + ev_c, n_t)
    controls = np.where(style_bin, n_t + n_c - ev_t - ev_c, n_c)
    # A numeric AMSTAR score for the reviews of two templates in three (the same for all their rows).
    rev_pos = grp // 3
    rows = pd.DataFrame(
        {
            "outcome": g["outcome"][grp],
            "review_id": review_ids[g_rev[grp]],
            "study_id": study_ids[sid],
            "year": study_year[sid].astype(np.int64),
            "measure": measure,
            "estimate": only(style_est, est_r),
            "se": only(est_set, se_r),
            "ci_lower": only(ci_set, lo_r),
            "ci_upper": only(ci_set, hi_r),
            "events_treat": only_int(style_bin, ev_t),
            "n_treat": only_int(n_set, n_t),
            "events_control": only_int(style_bin, ev_c),
            "n_control": only_int(n_set, n_c),
            "mean_treat": only(style_mean, mean_t),
            "sd_treat": only(style_mean, sd_t),
            "mean_control": only(style_mean, mean_c),
            "sd_control": only(style_mean, sd_c),
            "n_cases": only_int(everywhere, cases),
            "n_controls": only_int(everywhere, controls),
            "rob": rob,
            "indirectness": indirect,
            "amstar": only(rev_pos % len(SCENARIOS) != len(SCENARIOS) - 1, amstar_score[g_rev[grp]]),
        }
    )
    return rows, pooled


def _implementation(rng: np.random.Generator, ids: np.ndarray) -> pd.DataFrame:
    """3-8 CFIR factors per implementation review; every domain used at least once."""
    n = len(ids)
    n_t = len(CFIR)
    k = rng.integers(3, 9, size=n)
    mask = _top_k(rng, np.zeros((n, n_t)), k) if n else np.zeros((0, n_t), bool)
    if n:
        domain_of = np.array([CFIR_DOMAINS.index(t[0]) for t in CFIR])
        for d in range(len(CFIR_DOMAINS)):
            if not mask[:, domain_of == d].any():
                mask[0, np.flatnonzero(domain_of == d)[0]] = True
    r, t = np.nonzero(mask)
    p_barrier = np.array([x[3] for x in CFIR])[t]
    return pd.DataFrame(
        {
            "review_id": ids[r],
            "cfir_domain": np.array([x[0] for x in CFIR], dtype=object)[t],
            "construct": np.array([x[1] for x in CFIR], dtype=object)[t],
            "factor": np.array([x[2] for x in CFIR], dtype=object)[t],
            "role": np.where(rng.random(len(t)) < p_barrier, "barrier", "facilitator").astype(object),
        }
    )


def _experiences(rng: np.random.Generator, ids: np.ndarray) -> pd.DataFrame:
    """3-7 (subtheme, perspective) findings per experiences review."""
    n = len(ids)
    n_sub, n_per = len(EXPERIENCES), len(PERSPECTIVES)
    k = rng.integers(3, 8, size=n)
    logw = np.tile(np.log(np.tile(_PERSPECTIVE_WEIGHTS, n_sub)), (n, 1))
    mask = _top_k(rng, logw, k) if n else np.zeros((0, n_sub * n_per), bool)
    r, cell = np.nonzero(mask)
    sub, per = cell // n_per, cell % n_per
    findings = np.array([f for _, _, fs in EXPERIENCES for f in fs], dtype=object)
    return pd.DataFrame(
        {
            "review_id": ids[r],
            "perspective": np.array(PERSPECTIVES, dtype=object)[per],
            "theme": np.array([x[0] for x in EXPERIENCES], dtype=object)[sub],
            "subtheme": np.array([x[1] for x in EXPERIENCES], dtype=object)[sub],
            "finding": findings[cell],
        }
    )


def _finish(sheet: str, df: pd.DataFrame) -> pd.DataFrame:
    """Contract columns in schema order, rows sorted by the schema's sort keys (then by every column)."""
    df = df.reindex(columns=COLUMNS[sheet])
    by = SORT[sheet] + [c for c in COLUMNS[sheet] if c not in SORT[sheet]]
    by = [c for c in by if df[c].notna().any()]
    df = df.sort_values(by, kind="mergesort", na_position="first").reset_index(drop=True)
    for col in df.columns:
        if df[col].dtype == float:
            df[col] = _round(df[col].to_numpy(), DECIMALS)
    return df


# --------------------------------------------------------------------------------------------------------------
# Output


def _format_float(values: pd.Series) -> pd.Series:
    """Fixed formatting: at most ``DECIMALS`` decimals, no trailing zeros, blank for missing."""
    return values.map(lambda v: "" if pd.isna(v) else f"{v + 0.0:.{DECIMALS}f}".rstrip("0").rstrip("."))


def write(tables: Mapping[str, pd.DataFrame], out_dir: str | Path) -> list[Path]:
    """Write each table as ``<out_dir>/<sheet>.csv`` (UTF-8, ``,``, LF, no index, blanks for missing values,
    floats with at most 4 decimals); return the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for sheet, df in tables.items():
        df = df.copy()
        for col in df.columns:
            if pd.api.types.is_float_dtype(df[col]):
                df[col] = _format_float(df[col])
        path = out / f"{sheet}.csv"
        with open(path, "w", encoding="utf-8", newline="") as fh:
            df.to_csv(fh, index=False, lineterminator="\n", na_rep="")
        paths.append(path)
    return paths


def overlap(studies: pd.DataFrame) -> dict[str, float]:
    """Corrected covered area of a citation matrix (Pieper et al. 2014): (N - r) / (r c - r)."""
    pairs = studies[["review_id", "study_id"]].drop_duplicates()
    n_total, r, c = len(pairs), pairs["study_id"].nunique(), pairs["review_id"].nunique()
    cca = (n_total - r) / (r * c - r) if r and c > 1 else float("nan")
    return {"inclusions": float(n_total), "studies": float(r), "reviews": float(c), "cca": cca}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m umbrella.simulate",
        description="Write a simulated umbrella-review dataset (every value invented) as <sheet>.csv files.",
    )
    parser.add_argument("--reviews", type=int, default=35, help="number of reviews (default 35)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--pool", type=int, default=None, help="size of the pool of primary studies (default: grows with --reviews)"
    )
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args(argv)
    if args.reviews < 1:
        parser.error("--reviews must be at least 1")
    tables = simulate(n_reviews=args.reviews, seed=args.seed, n_pool=args.pool)
    paths = write(tables, args.out)
    o = overlap(tables["studies"])
    rows = ", ".join(f"{name} {len(df)}" for name, df in tables.items())
    print(f"wrote {len(paths)} sheets to {args.out} ({rows}); CCA {o['cca']:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
