"""Reviews and their primary studies: review types, research questions and dates; the pool of primary studies and
the citation matrix drawn from it; the reviews and studies sheets."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from umbrella.core.vocabulary import RATINGS, REVIEW_TYPES
from umbrella.simulate.arrays import allocate, group_rank, ids
from umbrella.simulate.wording import (
    AGE_GROUPS,
    COUNTRIES,
    INTERVENTIONS,
    JOURNALS,
    POPULATIONS,
    SETTINGS,
    SURNAMES,
    TYPE_PHRASES,
)

#: Review types; a review's type code is its position here (the vocabulary's order).
TYPES: tuple[str, ...] = tuple(REVIEW_TYPES)
MA, NARR, QUAL, SCOP, REAL, OTHER = range(len(TYPES))
RQ_KEYS: tuple[str, ...] = ("effectiveness", "implementation", "experiences")


@dataclass(frozen=True)
class Design:
    """Per review: type code, the research questions it addresses, publication year and last search."""

    rtype: np.ndarray
    effectiveness: np.ndarray
    implementation: np.ndarray
    experiences: np.ndarray
    year: np.ndarray
    search_year: np.ndarray
    search_month: np.ndarray


@dataclass(frozen=True)
class Citations:
    """The citation matrix as (review, study) pairs sorted by review then study (``review``, ``study``: codes),
    the distinct studies' ids, years and sizes, and per review its number of studies and of participants."""

    review: np.ndarray
    study: np.ndarray
    study_ids: np.ndarray
    study_year: np.ndarray
    study_size: np.ndarray
    n_primary: np.ndarray
    n_participants: np.ndarray


def design(rng: np.random.Generator, n: int) -> Design:
    """Types in the proportions of Cooper et al. 2024 (13/13/3/6, plus a few realist and other reviews in large
    sets), research questions by type, years 2005-2024 (recent ones more common), a last search 2-48 months before
    publication."""
    n_realist, n_other = (2 * n) // 100, n // 100
    core = allocate(n - n_realist - n_other, [13, 13, 3, 6])
    rtype = rng.permutation(np.repeat(np.arange(len(TYPES)), np.r_[core, n_realist, n_other]))
    eff, impl, expe = _research_questions(rng, rtype)
    years = np.arange(2005, 2025)
    year_w = np.exp(0.12 * (years - 2005))
    year = rng.choice(years, size=n, p=year_w / year_w.sum())
    month = rng.integers(1, 13, size=n)
    lag = np.clip(np.round(2 + rng.gamma(2.0, 5.0, size=n)), 2, 48).astype(int)
    search = year * 12 + (month - 1) - lag
    return Design(rtype, eff, impl, expe, year, search // 12, search % 12 + 1)


def _research_questions(rng: np.random.Generator, rtype: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Effectiveness, implementation, experiences (booleans per review): meta-analyses address effectiveness,
    qualitative and scoping reviews implementation and/or experiences, the others a mix."""
    n = len(rtype)
    u = rng.random((n, 4))
    eff = (rtype == MA) | ((rtype == NARR) & (u[:, 0] < 0.77)) | ((rtype == OTHER) & (u[:, 0] < 0.5))
    pick_impl = u[:, 1] < 0.5  # which question a review without effectiveness addresses first
    no_eff = ~eff & np.isin(rtype, [NARR, OTHER])
    impl = no_eff & pick_impl
    expe = no_eff & ~pick_impl
    impl |= (rtype == MA) & (u[:, 2] < 0.08)
    impl |= (rtype == NARR) & (u[:, 2] < 0.15)
    expe |= (rtype == NARR) & (u[:, 3] < 0.2)
    expe |= rtype == QUAL
    impl |= (rtype == QUAL) & (u[:, 2] < 0.3)
    scop = rng.random(n)
    impl |= (rtype == SCOP) & (scop < 0.6)
    expe |= (rtype == SCOP) & (scop >= 0.3)
    impl |= rtype == REAL
    expe |= (rtype == REAL) & (u[:, 3] < 0.5)
    # With enough reviews, every question is addressed by at least one review.
    if n >= 5 and not impl.any():
        impl[np.flatnonzero(rtype != MA)[:1]] = True
    if n >= 5 and not expe.any():
        expe[np.flatnonzero(rtype != MA)[-1:]] = True
    return eff, impl, expe


def default_pool_size(n_reviews: int) -> int:
    """Size of the pool of primary studies for ``n_reviews`` reviews.

    About 7 per review for a few dozen reviews, so that they overlap as in a focused overview (corrected covered
    area about 10 %), widening with the square of the number of reviews (an overview of hundreds of reviews
    spans many topics): about 165 per review for 2,000 reviews, of which some 40,000 are drawn.
    """
    return int(round(6.3 * n_reviews * (1.0 + (n_reviews / 400.0) ** 2))) + 20


def citations(rng: np.random.Generator, d: Design, pool: int) -> Citations:
    """A pool of ``pool`` primary studies, each with a year, a popularity and a size; each review draws its
    studies without replacement, in proportion to popularity, from those published by the year of its last
    search. The studies drawn are numbered S00001... in order of year."""
    years = np.arange(1985, 2025)
    year_w = np.exp(0.09 * (years - 1985))
    drawn = rng.choice(years, size=pool, p=year_w / year_w.sum())
    pool_year = np.repeat(years, np.bincount(drawn - years[0], minlength=len(years)))  # sorted: eligible = a prefix
    popularity = rng.lognormal(0.0, 1.0, size=pool)
    pool_size = np.clip(np.round(rng.lognormal(math.log(70), 0.8, size=pool)), 12, 3000).astype(int)
    eligible = np.searchsorted(pool_year, d.search_year, side="right")
    median_k = np.array([22, 18, 12, 30, 25, 15], dtype=float)[d.rtype]
    k = np.clip(np.round(rng.lognormal(np.log(median_k), 0.55)), 3, 150).astype(int)
    k = np.minimum(k, np.floor(0.7 * eligible).astype(int))
    k = np.where(eligible > 0, np.maximum(k, np.minimum(2, eligible)), 0)
    cit_review, cit_pool = _draw(rng, np.cumsum(popularity), eligible, k)
    used, cit_study = np.unique(cit_pool, return_inverse=True)  # renumber the studies drawn, by year
    study_size = pool_size[used]
    order = np.lexsort((cit_study, cit_review))
    cit_review, cit_study = cit_review[order], cit_study[order]
    n = len(d.rtype)
    return Citations(
        review=cit_review,
        study=cit_study,
        study_ids=ids("S", len(used), 5),
        study_year=pool_year[used],
        study_size=study_size,
        n_primary=np.bincount(cit_review, minlength=n),
        n_participants=np.bincount(cit_review, study_size[cit_study], minlength=n).astype(np.int64),
    )


def _draw(
    rng: np.random.Generator, cum: np.ndarray, eligible: np.ndarray, k: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(review, pool index) of ``k[review]`` studies per review, drawn without replacement in proportion to
    popularity (``cum``: its cumulative sum) among the first ``eligible[review]`` of the pool."""
    pool = len(cum)
    draws = np.where(k > 0, 4 * k + 10, 0)
    draw_review = np.repeat(np.arange(len(k)), draws)
    total_w = cum[np.maximum(eligible, 1) - 1]
    target = rng.random(len(draw_review)) * total_w[draw_review]
    order = np.argsort(target)  # sorted targets make the search cache-friendly (3x faster at scale)
    draw_idx = np.empty(len(target), dtype=np.intp)
    draw_idx[order] = np.searchsorted(cum, target[order], side="right")
    draw_idx = np.minimum(draw_idx, eligible[draw_review] - 1)
    # The first occurrences of each (review, study) in draw order are a weighted draw without replacement.
    _, first = np.unique(draw_review.astype(np.int64) * pool + draw_idx, return_index=True)
    first = np.sort(first)
    cit_review, cit_pool = draw_review[first], draw_idx[first]
    keep = group_rank(cit_review) < k[cit_review]
    return cit_review[keep], cit_pool[keep]


def studies_sheet(review_ids: np.ndarray, cit: Citations) -> pd.DataFrame:
    """The citation matrix in long form: one row per review and study."""
    return pd.DataFrame(
        {
            "review_id": review_ids[cit.review],
            "study_id": cit.study_ids[cit.study],
            "study_year": cit.study_year[cit.study].astype(np.int64),
            "outcome": None,
        }
    )


def reviews_sheet(
    rng: np.random.Generator, review_ids: np.ndarray, d: Design, cit: Citations, reported: np.ndarray
) -> pd.DataFrame:
    """One row per review, in the order of ``review_ids``; ``reported`` is each review's published AMSTAR-2
    rating (a code into :data:`umbrella.core.vocabulary.RATINGS`)."""
    n = len(review_ids)
    pop_i = rng.integers(0, len(POPULATIONS), size=n)
    number = pd.Series(review_ids).str.slice(3)
    title = "Simulated review " + number + ": peer support for " + pd.Series(POPULATIONS[pop_i]).str.lower()
    rq_code = d.effectiveness * 1 + d.implementation * 2 + d.experiences * 4
    rq_text = np.array(
        [";".join(k for b, k in zip((c & 1, c & 2, c & 4), RQ_KEYS, strict=True) if b) for c in range(8)], dtype=object
    )
    search_end = pd.Series(d.search_year).astype(str) + "-" + pd.Series(d.search_month).astype(str).str.zfill(2)
    return pd.DataFrame(
        {
            "review_id": review_ids,
            "first_author": SURNAMES[rng.integers(0, len(SURNAMES), size=n)],
            "year": d.year.astype(np.int64),
            "title": (title + ", " + TYPE_PHRASES[d.rtype]).to_numpy(object),
            "journal": JOURNALS[rng.integers(0, len(JOURNALS), size=n)],
            "doi": ("10.5555/sim." + number).to_numpy(object),
            "review_type": np.array(TYPES, dtype=object)[d.rtype],
            "research_questions": rq_text[rq_code],
            "n_primary_studies": cit.n_primary.astype(np.int64),
            "n_participants": cit.n_participants,
            "population": POPULATIONS[pop_i],
            "age_group": AGE_GROUPS[pop_i],
            "setting": SETTINGS[rng.integers(0, len(SETTINGS), size=n)],
            "intervention": INTERVENTIONS[rng.integers(0, len(INTERVENTIONS), size=n)],
            "countries": COUNTRIES[rng.integers(0, len(COUNTRIES), size=n)],
            "search_end": search_end.to_numpy(object),
            "amstar2_reported": np.array(RATINGS, dtype=object)[reported],
            "source": "simulated",
            "notes": None,
        }
    )
