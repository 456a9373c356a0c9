"""The vocabulary every stage shares, defined once: effect measures and their scales, the AMSTAR-2 ratings, the
review types, and how a review is named in tables and figures."""

from __future__ import annotations

import math

import pandas as pd

#: Measures pooled and shown on the log scale, with no effect at 1.
RATIO_MEASURES = frozenset({"OR", "RR", "HR", "IRR"})
#: Ratio measures given already on the log scale (metaumbrella's logOR...), and the ratio each is.
LOG_RATIO_MEASURES = {"logOR": "OR", "logRR": "RR", "logHR": "HR", "logIRR": "IRR"}
#: Correlations, pooled on Fisher's z and shown on r: R is r, Z is Fisher's z = atanh(r).
CORRELATION_MEASURES = frozenset({"R", "Z"})
#: Mean changes from pre/post designs: SMC (standardised, change-score SD) and MC (raw).
CHANGE_MEASURES = frozenset({"SMC", "MC"})
#: The 97.5 % quantile of the standard normal distribution (two-sided 95 % intervals): scipy.stats.norm.ppf(0.975).
Z975 = 1.959963984540054
#: ln OR = g·π/√3 (Chinn 2000): the factor between the log odds ratio and Hedges' g.
LOGIT_SCALE = math.pi / math.sqrt(3)

#: The overall AMSTAR-2 confidence, best to worst (Shea et al. 2017), and ``incomplete`` last.
RATINGS = ("high", "moderate", "low", "critically_low")
RATING_LABELS = {
    "high": "High",
    "moderate": "Moderate",
    "low": "Low",
    "critically_low": "Critically low",
    "incomplete": "Incomplete",
}
RATING_RANK = {rating: i for i, rating in enumerate(RATING_LABELS)}

REVIEW_TYPES: dict[str, str] = {
    "sr_meta_analysis": "Systematic review with meta-analysis",
    "sr_narrative": "Systematic review without meta-analysis",
    "sr_qualitative": "Systematic review with qualitative synthesis",
    "scoping": "Scoping review",
    "realist": "Realist review",
    "other": "Other",
}


def review_label(reviews: pd.DataFrame) -> pd.Series:
    """`Author Year` where both are known, else the review_id; `Author Year (review_id)` where two reviews
    would share a label."""
    author = reviews["first_author"].fillna("")
    year = reviews["year"].astype("string").fillna("") if "year" in reviews else pd.Series("", index=reviews.index)
    label = (author + " " + year).str.strip()
    label = label.where((author != "") & (year != ""), reviews["review_id"])
    shared = label.duplicated(keep=False) & label.ne(reviews["review_id"])
    return label.where(~shared, label + " (" + reviews["review_id"] + ")")


#: Default rows of one figure (config ``scale.figure_rows``): forest plots split into pages of this many results,
#: the AMSTAR-2 matrix turns compact above this many reviews.
FIGURE_ROWS = 60
#: Re-analysed meta-analyses whose detail figures (forest, funnel, leave-one-out) are drawn, unless the config's
#: ``scale.detail_figures`` says otherwise.
DETAIL_FIGURES = 100
