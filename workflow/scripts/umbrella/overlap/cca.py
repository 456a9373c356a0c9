"""Overlap of primary studies between reviews: the corrected covered area, overall, pairwise and per outcome.

CCA = (N − r) / (r·c − r) (Pieper et al., J Clin Epidemiol 2014;67:368–375), with N the inclusions counted with
repeats, r the distinct primary studies and c the reviews. Structural missingness (Hennessy & Johnson, Res Synth
Methods 2020;11:134–145): a study published after a review's last search cannot be in it, so such cells leave
the denominator: CCA_adj = (N − r) / (r·c − r − X). Everything is computed from one sparse study x review
matrix; all pairs come from one sparse product, so thousands of reviews take seconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

#: Pieper et al. 2014 bands of CCA (percent): [lower, upper) -> name.
BANDS: tuple[tuple[float, str], ...] = ((5.0, "slight"), (10.0, "moderate"), (15.0, "high"), (np.inf, "very high"))


@dataclass(frozen=True)
class OverlapSettings:
    """Matrix-construction assumptions (config section ``overlap``), stated in the report because they move
    CCA a lot (Bracchiglione et al. 2025)."""

    unit: str = "study"
    match_ids: str = "exact"
    structural_missingness: bool = True
    same_year: str = "possible"
    warn_at: float = 10.0
    heatmap_max_reviews: int = 60

    @classmethod
    def from_config(cls, settings: Mapping | None) -> OverlapSettings:
        s = dict(settings or {})
        base = cls()
        return cls(**{k: s.get(k, getattr(base, k)) for k in cls.__dataclass_fields__})

    def describe(self) -> list[str]:
        unit = {
            "study": "a primary study (several reports of one study count as one study)",
            "report": "a report (each publication counts on its own)",
        }[self.unit]
        ids = {
            "exact": "study identifiers were matched exactly as written",
            "normalised": "study identifiers were matched ignoring case, spaces and punctuation",
        }[self.match_ids]
        lines = [
            "Corrected covered area CCA = (N − r) / (r·c − r) (Pieper et al. 2014): N inclusions counted with "
            "repeats, r distinct primary studies, c reviews with a list of their studies; bands: slight < 5 %, "
            "moderate 5–10 %, high 10–15 %, very high ≥ 15 %.",
            f"Unit of the citation matrix: {unit}; {ids}.",
        ]
        if self.structural_missingness:
            rule = (
                "published after the year of the review's last search"
                if self.same_year == "possible"
                else "published in or after the year of the review's last search"
            )
            lines.append(
                f"Structural missingness (Hennessy & Johnson 2020): a study {rule} cannot be in that review; such "
                "cells (X) leave the denominator: CCA_adj = (N − r) / (r·c − r − X). Studies without a year "
                "and reviews without a search date add no such cell."
            )
        else:
            lines.append("Structural missingness is not adjusted for (CCA_adj equals CCA).")
        lines.append(
            f"Outcomes whose reviews overlap with CCA ≥ {self.warn_at:g} % are flagged in the effects section."
        )
        return lines


def band(cca_percent: np.ndarray | float) -> np.ndarray:
    """Pieper's band of each CCA (percent); empty where CCA is undefined."""
    values = np.atleast_1d(np.asarray(cca_percent, dtype=float))
    out = np.full(values.shape, "", dtype=object)
    lower = -np.inf
    for upper, name in BANDS:
        out[(values >= lower) & (values < upper)] = name
        lower = upper
    return out


def normalise_id(value: str) -> str:
    return re.sub(r"[\W_]+", "", str(value)).casefold()


@dataclass
class CitationMatrix:
    """Studies (rows) x reviews (columns): ``included`` (sparse 0/1) and ``declared_missing`` (sparse 0/1, cells
    the input marks as structurally missing), with study years and review search years."""

    studies: list[str]
    reviews: list[str]
    included: sparse.csr_matrix
    declared_missing: sparse.csr_matrix
    study_year: np.ndarray
    search_year: np.ndarray


def build_matrix(
    inclusions: pd.DataFrame,
    search_end: Mapping[str, str | None],
    settings: OverlapSettings,
    declared_missing: pd.DataFrame | None = None,
) -> CitationMatrix:
    """The citation matrix from long inclusions (columns review_id, study_id, optional study_year).

    Only studies included in at least one review and reviews with at least one study count. ``declared_missing``
    (review_id, study_id) marks cells the user declared structurally missing (the NA cells of a wide matrix).
    """
    df = inclusions[["review_id", "study_id"]].copy()
    df["year"] = inclusions["study_year"] if "study_year" in inclusions else np.nan
    if settings.match_ids == "normalised":
        df["study_id"] = df["study_id"].map(normalise_id)
    df = df.dropna(subset=["review_id", "study_id"])
    reviews = sorted(df["review_id"].unique())
    studies = sorted(df["study_id"].unique())
    r_index = {s: i for i, s in enumerate(studies)}
    c_index = {r: j for j, r in enumerate(reviews)}
    pairs = df.drop_duplicates(["review_id", "study_id"])
    rows = pairs["study_id"].map(r_index).to_numpy()
    cols = pairs["review_id"].map(c_index).to_numpy()
    included = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(len(studies), len(reviews)))
    years = pd.to_numeric(df.groupby("study_id")["year"].min(), errors="coerce").reindex(studies).to_numpy(dtype=float)
    search = np.array(
        [float(str(search_end.get(r))[:4]) if search_end.get(r) else np.nan for r in reviews], dtype=float
    )
    if declared_missing is not None and len(declared_missing):
        dm = declared_missing.copy()
        if settings.match_ids == "normalised":
            dm["study_id"] = dm["study_id"].map(normalise_id)
        dm = dm[dm["study_id"].isin(r_index) & dm["review_id"].isin(c_index)].drop_duplicates()
        missing = sparse.csr_matrix(
            (np.ones(len(dm), dtype=np.int32), (dm["study_id"].map(r_index), dm["review_id"].map(c_index))),
            shape=included.shape,
        )
    else:
        missing = sparse.csr_matrix(included.shape, dtype=np.int32)
    return CitationMatrix(studies, reviews, included, missing, years, search)


def _date_rule(m: CitationMatrix, settings: OverlapSettings) -> tuple[np.ndarray, np.ndarray, sparse.csr_matrix]:
    """Which studies have a year, each review's latest possible study year (NaN: no search date), and the
    inclusions that contradict the date rule (they count as included, not missing)."""
    known = np.isfinite(m.study_year)
    limit = m.search_year if settings.same_year == "possible" else m.search_year - 1
    inc = m.included.tocoo()
    late = known[inc.row] & np.isfinite(limit)[inc.col] & (m.study_year[inc.row] > limit[inc.col])
    contradicting = sparse.csr_matrix(
        (np.ones(int(late.sum()), dtype=np.int32), (inc.row[late], inc.col[late])), shape=m.included.shape
    )
    return known, limit, contradicting


def _impossible_counts(m: CitationMatrix, settings: OverlapSettings) -> np.ndarray:
    """Structurally missing cells of each review (X of each column), excluding cells the review does include."""
    x_col = np.asarray(m.declared_missing.sum(axis=0)).ravel().astype(float)
    if not settings.structural_missingness:
        return np.zeros(len(m.reviews))
    known, limit, contradicting = _date_rule(m, settings)
    years_sorted = np.sort(m.study_year[known])
    searchable = np.isfinite(limit)
    # Studies of all r published after each review's limit, less those it includes all the same.
    after_all = np.where(searchable, len(years_sorted) - np.searchsorted(years_sorted, limit, side="right"), 0)
    return x_col + after_all - np.asarray(contradicting.sum(axis=0)).ravel()


#: Years are below this, so ``review * YEAR_SPAN + year`` sorts the studies of each review by year.
YEAR_SPAN = 100_000.0


def _pair_missing(m: CitationMatrix, settings: OverlapSettings, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """Structurally missing cells of the pairs (ia[k], ib[k]): the studies of each review that the other could
    not include (declared missing, or published after its limit), less those it includes all the same.

    Linear in the pairs and the inclusions: each review's study years are sorted once (one array keyed by
    review and year) and every pair is a binary search in it."""
    if not settings.structural_missingness or not len(ia):
        return np.zeros(len(ia))
    a = m.included.tocsc()
    declared = (m.declared_missing.tocsc().T @ a).tocsr()  # [p, q]: studies of q declared missing from p
    known, limit, contradicting = _date_rule(m, settings)
    both = (contradicting.T.tocsr() @ m.included).tocsr()  # [p, q]: late studies of p that q also has
    column = np.repeat(np.arange(len(m.reviews)), np.diff(a.indptr))
    years = m.study_year[a.indices]
    dated = np.isfinite(years)
    keys = np.sort(column[dated] * YEAR_SPAN + years[dated])
    searchable = np.isfinite(limit)
    safe_limit = np.where(searchable, limit, 0.0)

    def one_way(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Cells of studies of q that p could not include."""
        end = np.searchsorted(keys, (q + 1) * YEAR_SPAN, side="left")
        upto = np.searchsorted(keys, q * YEAR_SPAN + safe_limit[p], side="right")
        after = np.where(searchable[p], end - upto, 0)
        return _values_at(declared, p, q) + after - _values_at(both, p, q)

    return (one_way(ia, ib) + one_way(ib, ia)).astype(float)


def _values_at(matrix: sparse.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return np.asarray(matrix[rows, cols]).ravel() if len(rows) else np.zeros(0)


def _cca(n: np.ndarray, r: np.ndarray, c: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        cca = 100 * (n - r) / (r * c - r)
        adj = 100 * (n - r) / (r * c - r - x)
    ok = (r > 0) & (c > 1)
    return np.where(ok, cca, np.nan), np.where(ok & (r * c - r - x > 0), adj, np.nan)


def overall(m: CitationMatrix, settings: OverlapSettings, scope: str = "all reviews") -> pd.DataFrame:
    """One row: scope, N, r, c, x, cca, cca_adjusted, band (percentages)."""
    x_col = _impossible_counts(m, settings)
    n, r, c, x = float(m.included.sum()), float(len(m.studies)), float(len(m.reviews)), float(x_col.sum())
    cca, adj = _cca(np.array([n]), np.array([r]), np.array([c]), np.array([x]))
    return pd.DataFrame(
        {
            "scope": [scope],
            "N": [int(n)],
            "r": [int(r)],
            "c": [int(c)],
            "x": [int(x)],
            "cca": cca,
            "cca_adjusted": adj,
            "band": band(cca),
        }
    )


def pairwise(m: CitationMatrix, settings: OverlapSettings) -> pd.DataFrame:
    """Every pair of reviews that share at least one study: review_a, review_b, n_overlap, N, r, x, cca,
    cca_adjusted, band (review_a before review_b in review order). A pair not listed shares no study: its CCA
    is 0 % (:func:`pair_count` gives the number of all pairs).

    For two reviews, CCA = overlap / r (c = 2). One sparse product gives the overlap of every pair; the table
    and the memory grow with the pairs that overlap, not with the square of the reviews.
    """
    a = m.included.tocsc().astype(np.int64)
    sizes = np.asarray(a.sum(axis=0)).ravel().astype(float)
    shared = sparse.triu(a.T @ a, k=1).tocoo()
    listed = shared.data > 0
    order = np.lexsort((shared.col[listed], shared.row[listed]))
    ia, ib = shared.row[listed][order], shared.col[listed][order]
    overlap = shared.data[listed][order].astype(float)
    n = sizes[ia] + sizes[ib]
    r = n - overlap
    x = _pair_missing(m, settings, ia, ib)
    cca, adj = _cca(n, r, np.full(len(n), 2.0), x)
    reviews = np.array(m.reviews, dtype=object)
    return pd.DataFrame(
        {
            "review_a": reviews[ia],
            "review_b": reviews[ib],
            "n_overlap": overlap.astype(int),
            "N": n.astype(int),
            "r": r.astype(int),
            "x": x.astype(int),
            "cca": cca,
            "cca_adjusted": adj,
            "band": band(cca),
        }
    )


def pair_count(n_reviews: int) -> int:
    """All pairs of ``n_reviews`` reviews, listed in :func:`pairwise` or not."""
    return n_reviews * (n_reviews - 1) // 2


def band_counts(pairs: pd.DataFrame, n_reviews: int) -> list[int]:
    """Pairs of reviews in each band (in the order of :data:`BANDS`), counting the pairs that
    :func:`pairwise` leaves out (no shared study, CCA 0 %) as slight."""
    counts = [int((pairs["band"] == name).sum()) for _, name in BANDS]
    counts[0] += pair_count(n_reviews) - len(pairs)
    return counts


def study_frequency(m: CitationMatrix) -> pd.DataFrame:
    """How many studies are included in 1, 2, 3... reviews."""
    per_study = np.asarray(m.included.sum(axis=1)).ravel()
    counts = pd.Series(per_study).value_counts().sort_index()
    return pd.DataFrame({"n_reviews": counts.index.astype(int), "n_studies": counts.to_numpy(dtype=int)})


def unique_studies(m: CitationMatrix) -> pd.DataFrame:
    """Per review: its studies, and those found in no other review (the heatmap's diagonal)."""
    a = m.included.tocsc()
    per_study = np.asarray(m.included.sum(axis=1)).ravel()
    only = a.T @ (per_study == 1).astype(np.int64) if len(m.reviews) else np.array([])
    return pd.DataFrame(
        {
            "review_id": m.reviews,
            "n_studies": np.asarray(a.sum(axis=0)).ravel().astype(int),
            "n_unique": np.asarray(only).ravel().astype(int),
        }
    )


def by_outcome(
    scopes: Sequence[tuple[str, str, pd.DataFrame]],
    search_end: Mapping[str, str | None],
    settings: OverlapSettings,
) -> pd.DataFrame:
    """The overall CCA of each outcome's own matrix. ``scopes``: (kind, outcome, inclusions) with kind
    ``outcome`` (studies listed for that outcome) or ``outcome_group`` (the review-level lists of the reviews
    reporting a result in that group)."""
    rows = []
    for kind, name, inclusions in scopes:
        m = build_matrix(inclusions, search_end, settings)
        row = overall(m, settings, scope=kind).iloc[0].to_dict()
        row["outcome"] = name
        row["reviews"] = ";".join(m.reviews)
        row["warning"] = bool(np.isfinite(row["cca"]) and row["cca"] >= settings.warn_at)
        rows.append(row)
    columns = ["scope", "outcome", "reviews", "N", "r", "c", "x", "cca", "cca_adjusted", "band", "warning"]
    return pd.DataFrame(rows, columns=columns)
