"""AMSTAR-2: overall confidence in each review from its item answers, item summaries and rater agreement.

The rule is that of Shea et al. (BMJ 2017;358:j4008, Box): a *critical flaw* is "No" on a critical item, a
*non-critical weakness* is "No" on another item, and "No meta-analysis conducted" (NMA, items 11, 12, 15) is
neither. High: no critical flaw and at most one non-critical weakness; moderate: no critical flaw and more than
one; low: one critical flaw; critically low: more than one. Three choices that overviews make differently are
settings of :class:`RatingRule`: the critical items, how a "Partial yes" counts, and an optional number of
non-critical weaknesses beyond which "moderate" becomes "low".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from umbrella.core.vocabulary import RATINGS

ITEMS: dict[int, str] = {
    1: "PICO components in the research question and inclusion criteria",
    2: "Protocol established before the review; deviations justified",
    3: "Choice of study designs explained",
    4: "Comprehensive literature search",
    5: "Study selection in duplicate",
    6: "Data extraction in duplicate",
    7: "List of excluded studies, with justification",
    8: "Included studies described in adequate detail",
    9: "Satisfactory technique for assessing risk of bias",
    10: "Funding sources of the included studies reported",
    11: "Appropriate methods for statistical combination",
    12: "Impact of risk of bias on the meta-analysis assessed",
    13: "Risk of bias accounted for when interpreting the results",
    14: "Heterogeneity explained and discussed",
    15: "Publication bias investigated and its impact discussed",
    16: "Conflicts of interest and funding of the review reported",
}
NMA_ITEMS = frozenset({11, 12, 15})
ANSWERS = ("Y", "PY", "N", "NMA")
#: Ratings from best to worst; ``incomplete`` when missing answers could change the rating.
PARTIAL_YES = ("met", "weakness", "flaw")
CONSENSUS = "consensus"


@dataclass(frozen=True)
class RatingRule:
    """How item answers become an overall rating.

    ``partial_yes``: ``met`` (a "Partial yes" counts as "Yes", the usual practice), ``weakness`` (it is a
    non-critical weakness on any item) or ``flaw`` (it counts as "No": a critical flaw on a critical item, a
    weakness elsewhere). ``moderate_to_low_after``: when set to N, a review with no critical flaw and more than
    N non-critical weaknesses is rated low instead of moderate (the paper allows this; off by default).
    """

    critical_items: tuple[int, ...] = (2, 4, 7, 9, 11, 13, 15)
    partial_yes: str = "met"
    moderate_to_low_after: int | None = None

    def __post_init__(self) -> None:
        if self.partial_yes not in PARTIAL_YES:
            raise ValueError(f"partial_yes must be one of {', '.join(PARTIAL_YES)}, not {self.partial_yes!r}")
        bad = [i for i in self.critical_items if i not in ITEMS]
        if bad:
            raise ValueError(f"critical items must be between 1 and 16, not {bad}")
        object.__setattr__(self, "critical_items", tuple(sorted(set(self.critical_items))))

    @classmethod
    def from_config(cls, settings: Mapping | None) -> RatingRule:
        settings = dict(settings or {})
        return cls(
            critical_items=tuple(settings.get("critical_items", cls.critical_items)),
            partial_yes=settings.get("partial_yes", "met"),
            moderate_to_low_after=settings.get("moderate_to_low_after"),
        )

    def describe(self) -> list[str]:
        """The rule as configured, in words, one sentence a line (for the report's methods)."""
        crit = ", ".join(str(i) for i in self.critical_items) or "none"
        py = {
            "met": 'A "Partial yes" counts as met.',
            "weakness": 'A "Partial yes" counts as a non-critical weakness, on any item.',
            "flaw": 'A "Partial yes" counts as "No": a critical flaw on a critical item, a non-critical weakness '
            "on another item.",
        }[self.partial_yes]
        moderate = "Moderate: no critical flaw and more than one non-critical weakness."
        if self.moderate_to_low_after is not None:
            moderate = (
                f"Moderate: no critical flaw and 2 to {self.moderate_to_low_after} non-critical weaknesses; "
                f"more than {self.moderate_to_low_after} non-critical weaknesses without a critical flaw rate low."
            )
        return [
            f"Critical items: {crit}. A critical flaw is a \u201cNo\u201d on a critical item; a non-critical "
            "weakness is a \u201cNo\u201d on another item; \u201cNo meta-analysis conducted\u201d (items 11, 12, "
            "15) is neither.",
            py,
            "High: no critical flaw and at most one non-critical weakness.",
            moderate,
            "Low: one critical flaw, with or without non-critical weaknesses.",
            "Critically low: more than one critical flaw.",
            "A review with unanswered items is rated only when no answer to those items could change its rating; "
            "otherwise it is incomplete. A review without item answers keeps its published rating.",
        ]


# --------------------------------------------------------------------------------------------------------------
# Answers


def consensus_answers(amstar2: pd.DataFrame) -> pd.DataFrame:
    """One answer per review and item: the ``consensus`` rater's where present, else the one answer given.

    The sheet validation guarantees that raters without a consensus row agree, so the first answer is that
    answer. Returns columns review_id, item, answer.
    """
    if amstar2.empty:
        return pd.DataFrame({"review_id": [], "item": [], "answer": []})
    rater = amstar2["rater"].fillna("").astype(str).str.strip().str.lower()
    ranked = amstar2.assign(_rank=np.where(rater == CONSENSUS, 0, 1))
    ranked = ranked.sort_values(["review_id", "item", "_rank"], kind="stable")
    out = ranked.drop_duplicates(["review_id", "item"], keep="first")
    return out[["review_id", "item", "answer"]].reset_index(drop=True)


def answer_matrix(answers: pd.DataFrame, review_ids: Iterable[str]) -> pd.DataFrame:
    """Reviews x items 1-16 of answers (``None`` where missing), rows in the order of ``review_ids``."""
    wide = answers.pivot(index="review_id", columns="item", values="answer") if len(answers) else pd.DataFrame()
    wide = wide.reindex(index=list(review_ids), columns=list(ITEMS))
    return wide.astype(object).where(wide.notna(), None)


# --------------------------------------------------------------------------------------------------------------
# The rule, vectorised over reviews


def _counts(matrix: np.ndarray, rule: RatingRule) -> tuple[np.ndarray, np.ndarray]:
    """Boolean arrays (reviews x 16): critical flaws and non-critical weaknesses."""
    critical = np.isin(np.arange(1, 17), rule.critical_items)[None, :]
    no = matrix == "N"
    py = matrix == "PY"
    if rule.partial_yes == "flaw":
        no = no | py
    flaws = no & critical
    weaknesses = no & ~critical
    if rule.partial_yes == "weakness":
        weaknesses = weaknesses | py
    return flaws, weaknesses


def _rating_codes(flaws: np.ndarray, weaknesses: np.ndarray, rule: RatingRule) -> np.ndarray:
    """Index into :data:`RATINGS` from the numbers of critical flaws and non-critical weaknesses."""
    code = np.where(flaws > 1, 3, np.where(flaws == 1, 2, np.where(weaknesses > 1, 1, 0)))
    if rule.moderate_to_low_after is not None:
        code = np.where((code == 1) & (weaknesses > rule.moderate_to_low_after), 2, code)
    return code


def rate(matrix: pd.DataFrame, rule: RatingRule) -> pd.DataFrame:
    """Rate each review (row) of an answer matrix (columns = items 1-16).

    Missing answers are bounded: the best case fills them with "Yes", the worst with "No". Where the two
    ratings agree the review is rated, else it is ``incomplete`` (the rating is monotone in each answer, so
    the bounds cover every possible completion). Returns, per review: rating, critical_flaws,
    noncritical_weaknesses, flaw_items, weakness_items, missing_items.
    """
    values = matrix.to_numpy(dtype=object)
    missing = pd.isna(matrix).to_numpy()
    best = np.where(missing, "Y", values)
    worst = np.where(missing, "N", values)
    flaws, weaknesses = _counts(best, rule)
    n_flaws, n_weak = flaws.sum(axis=1), weaknesses.sum(axis=1)
    best_code = _rating_codes(n_flaws, n_weak, rule)
    worst_flaws, worst_weak = _counts(worst, rule)
    worst_code = _rating_codes(worst_flaws.sum(axis=1), worst_weak.sum(axis=1), rule)
    rating = np.where(best_code == worst_code, np.array(RATINGS, dtype=object)[best_code], "incomplete")
    items = np.arange(1, 17)

    def listed(mask: np.ndarray) -> list[str]:
        return [";".join(str(i) for i in items[row]) for row in mask]

    return pd.DataFrame(
        {
            "review_id": matrix.index,
            "rating": rating,
            "critical_flaws": n_flaws.astype(int),
            "noncritical_weaknesses": n_weak.astype(int),
            "flaw_items": listed(flaws),
            "weakness_items": listed(weaknesses),
            "missing_items": listed(missing),
        }
    )


def rate_reviews(reviews: pd.DataFrame, amstar2: pd.DataFrame | None, rule: RatingRule) -> pd.DataFrame:
    """Ratings of every review of the reviews table, from its item answers where it has any, else its
    published rating (``amstar2_reported``).

    Columns: review_id, rating, rating_source (items | reported | blank when neither exists), critical_flaws,
    noncritical_weaknesses, flaw_items, weakness_items, missing_items, reported_rating, agrees_with_reported
    (True | False | missing when either rating is unknown or incomplete), deciding (in words: what decides the
    rating).
    """
    ids = list(reviews["review_id"])
    answers = consensus_answers(amstar2) if amstar2 is not None else consensus_answers(pd.DataFrame())
    has_items = set(answers["review_id"])
    rated = rate(answer_matrix(answers, ids), rule).set_index("review_id")
    reported = reviews.set_index("review_id")["amstar2_reported"]
    out = rated.copy()
    from_items = out.index.isin(list(has_items))
    out["rating_source"] = np.where(from_items, "items", np.where(reported.reindex(out.index).notna(), "reported", ""))
    out.loc[~from_items, "rating"] = reported.reindex(out.index)[~from_items].fillna("incomplete")
    for col in ("critical_flaws", "noncritical_weaknesses"):
        out[col] = out[col].astype("Int64").where(from_items, pd.NA)
    for col in ("flaw_items", "weakness_items", "missing_items"):
        out[col] = out[col].where(from_items, None)
    out["reported_rating"] = reported.reindex(out.index)
    comparable = from_items & out["reported_rating"].notna().to_numpy() & (out["rating"] != "incomplete").to_numpy()
    agrees = pd.Series(pd.NA, index=out.index, dtype="boolean")
    agrees[comparable] = (out["rating"] == out["reported_rating"])[comparable]
    out["agrees_with_reported"] = agrees
    out["deciding"] = [_deciding(row, rule) for row in out.itertuples()]
    out = out.reset_index()
    return out[
        [
            "review_id",
            "rating",
            "rating_source",
            "critical_flaws",
            "noncritical_weaknesses",
            "flaw_items",
            "weakness_items",
            "missing_items",
            "reported_rating",
            "agrees_with_reported",
            "deciding",
        ]
    ]


def _deciding(row, rule: RatingRule) -> str:
    """Why the review has its rating, in words."""
    if row.rating_source != "items":
        return "published rating" if row.rating_source == "reported" else "no item answers and no published rating"
    flaws = row.flaw_items.replace(";", ", ")
    weak = row.weakness_items.replace(";", ", ")
    if row.rating == "incomplete":
        return f"items {row.missing_items.replace(';', ', ')} unanswered and able to change the rating"
    if row.rating == "critically_low":
        return f"critical flaws on items {flaws}"
    if row.rating == "low" and row.critical_flaws == 1:
        return f"one critical flaw, on item {flaws}"
    if row.rating == "low":
        limit = rule.moderate_to_low_after
        return f"{row.noncritical_weaknesses} non-critical weaknesses (more than {limit}), on items {weak}"
    if row.rating == "moderate":
        return f"no critical flaw; non-critical weaknesses on items {weak}"
    return "no critical flaw; " + (f"one non-critical weakness, on item {weak}" if weak else "no weakness")


# --------------------------------------------------------------------------------------------------------------
# Item summary and rater agreement


def item_summary(amstar2: pd.DataFrame | None, review_ids: Iterable[str], rule: RatingRule) -> pd.DataFrame:
    """Per item: label, critical, counts of each answer across reviews (consensus answers), reviews without an
    answer, and the percentage of answered reviews that answered "No"."""
    ids = list(review_ids)
    answers = consensus_answers(amstar2) if amstar2 is not None else consensus_answers(pd.DataFrame())
    matrix = answer_matrix(answers, ids)
    counts = {a: (matrix == a).sum(axis=0).astype(int) for a in ANSWERS}
    answered = sum(counts.values())
    out = pd.DataFrame(
        {
            "item": list(ITEMS),
            "label": list(ITEMS.values()),
            "critical": [i in rule.critical_items for i in ITEMS],
            "n_yes": counts["Y"].to_numpy(),
            "n_partial_yes": counts["PY"].to_numpy(),
            "n_no": counts["N"].to_numpy(),
            "n_nma": counts["NMA"].to_numpy(),
            "n_missing": (len(ids) - answered).to_numpy(),
        }
    )
    denominator = answered.to_numpy()
    out["pct_no"] = np.where(denominator > 0, 100 * out["n_no"] / np.maximum(denominator, 1), np.nan)
    return out


def cohen_kappa(a: Iterable[str], b: Iterable[str]) -> float:
    """Cohen's kappa of two raters' categorical answers: (p_o - p_e) / (1 - p_e) (Cohen 1960), as the comparison
    of extractors computes it (:func:`umbrella.extract.agreement.cohens_kappa`).

    NaN when there are no pairs or when chance agreement is 1 (both raters used one and the same category).
    """
    from umbrella.extract.agreement import cohens_kappa

    kappa = cohens_kappa(list(a), list(b))
    return float("nan") if kappa is None else kappa


def rater_agreement(amstar2: pd.DataFrame | None) -> pd.DataFrame:
    """Agreement between each pair of raters (``consensus`` excluded), per item and overall.

    Columns: rater_a, rater_b, item (1-16, or ``overall`` for all items pooled), n_pairs (reviews x items
    that both answered), n_agree, pct_agreement, kappa. Empty when fewer than two raters answered.
    """
    columns = ["rater_a", "rater_b", "item", "n_pairs", "n_agree", "pct_agreement", "kappa"]
    if amstar2 is None or amstar2.empty:
        return pd.DataFrame(columns=columns)
    rater = amstar2["rater"].fillna("").astype(str).str.strip()
    rows = amstar2.assign(rater=rater)
    rows = rows[(rows["rater"] != "") & (rows["rater"].str.lower() != CONSENSUS)]
    raters = sorted(rows["rater"].unique())
    out = []
    for ra, rb in combinations(raters, 2):
        a = rows[rows["rater"] == ra].set_index(["review_id", "item"])["answer"]
        b = rows[rows["rater"] == rb].set_index(["review_id", "item"])["answer"]
        both = pd.concat([a.rename("a"), b.rename("b")], axis=1, join="inner").reset_index()
        groups = [(str(i), both[both["item"] == i]) for i in ITEMS] + [("overall", both)]
        for item, g in groups:
            n, agree = len(g), int((g["a"] == g["b"]).sum())
            out.append((ra, rb, item, n, agree, 100 * agree / n if n else np.nan, cohen_kappa(g["a"], g["b"])))
    return pd.DataFrame(out, columns=columns)


@dataclass
class QualityResults:
    """Everything the quality stage writes."""

    ratings: pd.DataFrame
    items: pd.DataFrame
    agreement: pd.DataFrame
    rule: RatingRule = field(default_factory=RatingRule)


def assess(reviews: pd.DataFrame, amstar2: pd.DataFrame | None, rule: RatingRule) -> QualityResults:
    """The quality stage: ratings of every review, the item summary and the rater agreement."""
    ratings = rate_reviews(reviews, amstar2, rule)
    return QualityResults(
        ratings=ratings,
        items=item_summary(amstar2, reviews["review_id"], rule),
        agreement=rater_agreement(amstar2),
        rule=rule,
    )
