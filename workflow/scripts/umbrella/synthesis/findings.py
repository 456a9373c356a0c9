"""Qualitative syntheses: implementation factors by framework domain, experience themes, and the overview of
each research question, each with the reviews that support it and their AMSTAR-2 ratings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from umbrella.core.vocabulary import RATING_LABELS, REVIEW_TYPES

#: Order in which ratings are listed in a quality summary.
RATING_ORDER = list(RATING_LABELS)  # best to worst, then incomplete
ROLES = ("barrier", "facilitator")


def quality_summary(review_ids: Iterable[str], ratings: Mapping[str, str]) -> str:
    """``3 reviews: 2 critically low, 1 low`` (ratings from worst to best, then the reviews not rated)."""
    ids = sorted(set(review_ids))
    counts: dict[str, int] = {}
    for rid in ids:
        rating = ratings.get(rid) or "incomplete"
        counts[rating] = counts.get(rating, 0) + 1
    parts = [
        f"{counts[r]} {RATING_LABELS[r].lower() if r != 'incomplete' else 'not rated'}"
        for r in [*reversed(RATING_ORDER[:-1]), "incomplete"]
        if counts.get(r)
    ]
    n = len(ids)
    return f"{n} review{'s' if n != 1 else ''}: " + ", ".join(parts) if n else "0 reviews"


def _support(group: pd.DataFrame, ratings: Mapping[str, str]) -> dict[str, object]:
    ids = sorted(set(group["review_id"]))
    counted = {r: 0 for r in RATING_ORDER}
    for rid in ids:
        counted[ratings.get(rid) or "incomplete"] += 1
    return {
        "n_reviews": len(ids),
        "review_ids": ";".join(ids),
        "quality": quality_summary(ids, ratings),
        **{f"n_{r}": counted[r] for r in RATING_ORDER},
    }


def implementation_table(
    implementation: pd.DataFrame, ratings: Mapping[str, str], domains: Mapping[str, str]
) -> pd.DataFrame:
    """One row per framework domain, construct, factor and role: the supporting reviews and their quality.

    Rows follow the framework's domain order, then construct, factor and role; a blank construct, factor or
    role (not reported) forms its own group. Columns: domain, domain_label, construct, factor, role,
    n_reviews, review_ids, quality, n_high ... n_incomplete.
    """
    keys = ["cfir_domain", "construct", "factor", "role"]
    df = implementation.assign(**{k: implementation[k].fillna("") for k in keys[1:]})
    rows = []
    for (domain, construct, factor, role), g in df.groupby(keys, sort=False, dropna=False):
        rows.append(
            {
                "domain": domain,
                "domain_label": domains.get(domain, domain),
                "construct": construct,
                "factor": factor,
                "role": role,
                **_support(g, ratings),
            }
        )
    columns = ["domain", "domain_label", "construct", "factor", "role", "n_reviews", "review_ids", "quality"]
    columns += [f"n_{r}" for r in RATING_ORDER]
    out = pd.DataFrame(rows, columns=columns)
    order = {d: i for i, d in enumerate(domains)}
    out = out.assign(_d=out["domain"].map(order)).sort_values(["_d", "construct", "factor", "role"], kind="stable")
    return out.drop(columns="_d").reset_index(drop=True)


def implementation_by_domain(implementation: pd.DataFrame, domains: Mapping[str, str]) -> pd.DataFrame:
    """Per domain (framework order, every domain listed) and role: distinct factors (construct and factor; a row
    naming neither is a review supporting the domain, not a factor) and supporting reviews."""
    rows = []
    role = implementation["role"].fillna("not reported")
    for domain, label in domains.items():
        in_domain = implementation["cfir_domain"] == domain
        for r in (*ROLES, "not reported"):
            sub = implementation[in_domain & (role == r)]
            named = sub[["construct", "factor"]].fillna("")
            factors = named[(named != "").any(axis=1)].drop_duplicates()
            rows.append(
                {
                    "domain": domain,
                    "domain_label": label,
                    "role": r,
                    "n_factors": len(factors),
                    "n_reviews": int(sub["review_id"].nunique()),
                }
            )
    return pd.DataFrame(rows)


def experiences_table(experiences: pd.DataFrame, ratings: Mapping[str, str]) -> pd.DataFrame:
    """One row per theme and subtheme: perspectives, supporting reviews and their quality, the findings."""
    df = experiences.assign(subtheme=experiences["subtheme"].fillna(""))
    rows = []
    for (theme, subtheme), g in df.groupby(["theme", "subtheme"], sort=True):
        perspectives = sorted({p for p in g["perspective"].dropna()})
        findings = sorted({f for f in g["finding"].dropna()})
        rows.append(
            {
                "theme": theme,
                "subtheme": subtheme,
                "perspectives": ";".join(perspectives),
                "n_findings": len(findings),
                "findings": " | ".join(findings),
                **_support(g, ratings),
            }
        )
    columns = ["theme", "subtheme", "perspectives", "n_reviews", "review_ids", "quality", "n_findings", "findings"]
    columns += [f"n_{r}" for r in RATING_ORDER]
    return pd.DataFrame(rows, columns=columns)


def questions_table(
    reviews: pd.DataFrame,
    questions: Mapping[str, Mapping],
    ratings: Mapping[str, str],
    published: Mapping | None = None,
) -> pd.DataFrame:
    """One row per research question of the config: the reviews addressing it, their types and quality, the
    published count where known, and the key finding the config states."""
    published_n = (published or {}).get("reviews_by_question", {}) if published else {}
    keys = reviews["research_questions"].fillna("").str.split(";")
    rows = []
    for key, spec in questions.items():
        sub = reviews[keys.map(lambda ks, k=key: k in ks)]
        types = sub["review_type"].fillna("not reported").value_counts()
        type_text = "; ".join(
            f"{int(types[t])} {REVIEW_TYPES.get(t, t).lower()}" for t in [*REVIEW_TYPES, "not reported"] if t in types
        )
        rows.append(
            {
                "question": key,
                "label": spec.get("label", key),
                "n_reviews": len(sub),
                "published_n": published_n.get(key),
                "review_ids": ";".join(sorted(sub["review_id"])),
                "review_types": type_text,
                "quality": quality_summary(sub["review_id"], ratings),
                "finding": spec.get("finding"),
                "finding_source": spec.get("finding_source"),
            }
        )
    out = pd.DataFrame(rows)
    out["published_n"] = out["published_n"].astype("Int64")
    return out
