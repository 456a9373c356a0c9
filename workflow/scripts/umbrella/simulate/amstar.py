"""AMSTAR-2 answers: a latent quality per review drives each consensus answer; two raters (``R1``, ``R2``)
disagree on about 10 % of the items and the consensus sides with one of them. The rating each review reports is
the one its consensus answers imply under the pipeline's default rule (:mod:`umbrella.quality.rating`), except
for a few reviews (about 7 %) where it deliberately differs by one level."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from umbrella.core.vocabulary import RATINGS
from umbrella.quality.rating import ANSWERS, ITEMS, NMA_ITEMS, RatingRule, rate

#: Items that allow a "Partial yes".
PY_ITEMS: tuple[int, ...] = (2, 4, 7, 8, 9)
Y, PY, N, NMA = (ANSWERS.index(answer) for answer in ("Y", "PY", "N", "NMA"))

# Probability of "N" (consensus) per AMSTAR-2 item 1-16 for a review of average quality, and of "PY" among
# the other answers on the items that allow it. Roughly the failure rates of reviews in published overviews.
_P_NO = np.array([0.10, 0.50, 0.65, 0.15, 0.25, 0.35, 0.55, 0.15, 0.20, 0.85, 0.20, 0.45, 0.30, 0.30, 0.40, 0.15])
_P_PY = np.array([0, 0.30, 0, 0.55, 0, 0, 0.25, 0.40, 0.30, 0, 0, 0, 0, 0, 0, 0])


@dataclass(frozen=True)
class Answers:
    """Reviews x items 1-16 of answer codes (into ``ANSWERS``) by ``r1``, ``r2`` and the ``consensus``, and each
    review's ``reported`` rating (a code into :data:`umbrella.core.vocabulary.RATINGS`, best to worst)."""

    r1: np.ndarray
    r2: np.ndarray
    consensus: np.ndarray
    reported: np.ndarray

    @property
    def score(self) -> np.ndarray:
        """A numeric AMSTAR score per review: Y = 1, PY = 0.5 over the 16 consensus answers."""
        return np.where(self.consensus == Y, 1.0, np.where(self.consensus == PY, 0.5, 0.0)).sum(axis=1)


def answers(rng: np.random.Generator, meta_analysis: np.ndarray) -> Answers:
    """Answers of every review (``meta_analysis``: whether each review has one; the others answer NMA on the
    items that allow it)."""
    n = len(meta_analysis)
    items = np.array(list(ITEMS))
    quality = rng.normal(size=n)
    p_no = expit(logit(_P_NO)[None, :] - 1.1 * quality[:, None])
    u = rng.random((n, len(items)))
    consensus = np.where(u < p_no, N, np.where(u < p_no + (1 - p_no) * _P_PY[None, :], PY, Y))
    nma_cell = ~meta_analysis[:, None] & np.isin(items, list(NMA_ITEMS))[None, :]
    consensus = np.where(nma_cell, NMA, consensus)
    disagree = (rng.random(consensus.shape) < 0.11) & ~nma_cell
    py_item = np.isin(items, PY_ITEMS)[None, :]
    # An alternative answer: the other of Y/N, or one of the two others among Y/PY/N.
    alt = np.where(py_item, (consensus + 1 + rng.integers(0, 2, size=consensus.shape)) % 3, N - consensus)
    wrong_is_r1 = rng.random(consensus.shape) < 0.5
    r1 = np.where(disagree & wrong_is_r1, alt, consensus)
    r2 = np.where(disagree & ~wrong_is_r1, alt, consensus)
    reported = derived_rating(consensus)
    n_off = int(round(0.075 * n)) if n >= 10 else 0
    off = rng.choice(n, size=n_off, replace=False)
    reported[off] = np.where(reported[off] > 0, reported[off] - 1, reported[off] + 1)  # one level better if any
    return Answers(r1, r2, consensus, reported)


def derived_rating(consensus: np.ndarray) -> np.ndarray:
    """The rating (a code into ``RATINGS``) that the consensus answers imply under the default rule."""
    matrix = pd.DataFrame(np.array(ANSWERS, dtype=object)[consensus], columns=list(ITEMS))
    rating = rate(matrix, RatingRule())["rating"]
    return pd.Index(RATINGS).get_indexer(rating)


def amstar2_sheet(review_ids: np.ndarray, a: Answers) -> pd.DataFrame:
    """One row per review, item and rater (R1, R2, consensus)."""
    n, n_items = a.consensus.shape
    return pd.DataFrame(
        {
            "review_id": np.repeat(review_ids, 3 * n_items),
            "item": np.tile(np.repeat(np.arange(1, n_items + 1), 3), n).astype(np.int64),
            "answer": np.array(ANSWERS, dtype=object)[np.stack([a.r1, a.r2, a.consensus], axis=2).reshape(-1)],
            "rater": np.tile(np.array(["R1", "R2", "consensus"], dtype=object), n_items * n),
            "note": None,
        }
    )
