"""The context of each stage's section of the HTML report (quality, effects, re-analysis, overlap, synthesis),
built from the stage's tidy tables and its settings in the config; and :func:`records`, the rows of a table as
the template shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from umbrella.core.vocabulary import DETAIL_FIGURES, FIGURE_ROWS, RATING_LABELS, review_label
from umbrella.effects.forest_files import forest_file_names
from umbrella.effects.harmonise import FLAG_WORDS
from umbrella.effects.settings import EffectSettings
from umbrella.overlap.cca import BANDS, OverlapSettings, band_counts, pair_count
from umbrella.overlap.matrix import LEADING_COLUMNS, WORKBOOK_CELLS
from umbrella.quality.rating import RatingRule
from umbrella.reanalysis.detail import FIGURE_KINDS, file_names, meta_analysis_ids
from umbrella.reanalysis.evidence import IOANNIDIS_CLASSES, PERSONALISED_CLASSES, criteria_table
from umbrella.reanalysis.grade import GRADE_DOMAINS, GRADE_LABELS
from umbrella.reanalysis.settings import MetaSettings
from umbrella.report import formatting

#: The flags of a pooled result as the report names them (the tables keep their keys).
FLAG_LABELS = {
    "incomplete": "incomplete",
    "p_mismatch": "p differs",
    "ci_asymmetric": "asymmetric CI",
    "no_favours": "direction unknown",
}


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with missing values as ``None`` and whole floats shown without ``.0``."""
    out = []
    for row in df.to_dict("records"):
        clean = {}
        for k, v in row.items():
            if v is None or (not isinstance(v, str) and pd.isna(v)):
                clean[k] = None
            elif isinstance(v, bool | np.bool_):
                clean[k] = bool(v)
            elif isinstance(v, np.integer):
                clean[k] = int(v)
            elif isinstance(v, np.floating):
                v = float(v)
                clean[k] = int(v) if v.is_integer() else v
            elif isinstance(v, float) and v.is_integer():
                clean[k] = int(v)
            else:
                clean[k] = v
        out.append(clean)
    return out


def quality_context(config: Mapping, tables: Mapping[str, pd.DataFrame], reviews: pd.DataFrame) -> dict[str, Any]:
    """The quality section: the rule in words, the ratings with what decides each, disagreements with the
    published ratings, the item summary and rater agreement."""
    rule = RatingRule.from_config(config.get("quality"))
    out: dict[str, Any] = {"rule": rule.describe(), "built": "amstar2_ratings" in tables}
    if not out["built"]:
        return out
    ratings = tables["amstar2_ratings"].merge(
        pd.DataFrame({"review_id": reviews["review_id"], "review": review_label(reviews)}), on="review_id", how="left"
    )
    order = {r: i for i, r in enumerate(RATING_LABELS)}
    ratings = ratings.assign(_k=ratings["rating"].map(order)).sort_values(["_k", "review_id"], kind="stable")
    rows = records(ratings.drop(columns="_k"))
    for row in rows:
        for col in ("flaw_items", "weakness_items", "missing_items"):
            row[col] = (row[col] or "").replace(";", ", ")
    rated = [r for r in rows if r["rating"] != "incomplete"]
    out.update(
        {
            "ratings": rows,
            "labels": RATING_LABELS,
            "n_reviews": len(rows),
            "n_rated": len(rated),
            "n_low": sum(r["rating"] in ("low", "critically_low") for r in rated),
            "n_from_items": sum(r["rating_source"] == "items" for r in rows),
            "n_from_reported": sum(r["rating_source"] == "reported" for r in rows),
            "n_unrated": len(rows) - len(rated),
            "disagreements": [r for r in rows if r["agrees_with_reported"] is False],
            "n_compared": sum(r["agrees_with_reported"] is not None for r in rows),
            "item_summary": records(tables["amstar2_items"]) if "sheet_amstar2" in tables else [],
            "agreement": records(tables["amstar2_agreement"]),
        }
    )
    return out


def _fmt_num(x: float | None) -> str:
    """An estimate or limit: two decimals below 100, none from 100 (with thousands separators)."""
    if formatting.missing_value(x):
        return formatting.MISSING
    return formatting.number(x, 2 if abs(x) < 100 else 0)


def effect_text(row: Mapping[str, Any]) -> str:
    """``SMD −0.39 [−0.54, −0.24]`` as the review reported it (blank parts as en dashes)."""
    if row.get("estimate") is None:
        return "not reported"
    measure = row.get("measure") or ""
    ci = (
        f" [{_fmt_num(row.get('ci_lower'))}, {_fmt_num(row.get('ci_upper'))}]"
        if row.get("ci_lower") is not None
        else ""
    )
    return f"{measure} {_fmt_num(row.get('estimate'))}{ci}".strip()


def effects_context(
    config: Mapping, tables: Mapping[str, pd.DataFrame], figure_dirs: Mapping[str, Mapping[str, str]]
) -> dict[str, Any]:
    """The effects section: per outcome group, its results as published and harmonised, its forest plot, its
    outcome summaries and the flags in words."""
    settings = EffectSettings.from_config(config.get("effects"))
    out: dict[str, Any] = {
        "conventions": settings.describe(),
        "built": "review_effects" in tables,
        "flag_words": FLAG_WORDS,
    }
    if not out["built"]:
        return out
    rows = tables["review_effects"].assign(outcome_group=lambda d: d["outcome_group"].fillna("Ungrouped"))
    out["n_reviews"] = int(rows["review_id"].nunique())
    summary = tables["outcome_summary"]
    forests = figure_dirs.get("forest", {})
    overlap_by_group = {}
    if "cca_by_outcome" in tables:
        scoped = tables["cca_by_outcome"]
        scoped = scoped[scoped["scope"] == "effects_outcome_group"]
        overlap_by_group = {row["outcome"]: row for row in records(scoped)}
    names = forest_file_names(list(rows["outcome_group"]))
    groups = []
    for group, g in rows.groupby("outcome_group", sort=True):
        results = _effect_rows(g)
        flags = sorted({f for f in ";".join(g["flags"].fillna("")).split(";") if f})
        summ = summary[summary["outcome_group"] == group]
        groups.append(
            {
                "name": group,
                "rows": results,
                "summary": records(summ[summ["scope"] == "outcome_group"])[0],
                "outcomes": records(summ[summ["scope"] == "outcome"]),
                "forest": forests.get(names[group]),
                "forest_name": names[group],
                "forest_pages": 1 + sum(k.startswith(names[group].removesuffix(".svg") + "-") for k in forests),
                "overlap": overlap_by_group.get(group),
                "flags": [(FLAG_LABELS.get(f, f), FLAG_WORDS.get(f, f)) for f in flags],
            }
        )
    review_of_effect = dict(zip(rows["effect_id"], rows["review_id"], strict=True))
    for group in groups:
        group["summary"]["best_text"] = _best_text(group["summary"])
        for summ in (group["summary"], *group["outcomes"]):
            summ["best_review_id"] = review_of_effect.get(summ.get("best_effect_id"))
    out.update(
        {
            "groups": groups,
            "n_results": len(rows),
            "n_incomplete": int(rows["flag_incomplete"].sum()),
            "n_flagged": int((rows["flags"].fillna("") != "").sum()),
        }
    )
    return out


def _effect_rows(results: pd.DataFrame) -> list[dict[str, Any]]:
    """The results of one outcome group in reading order, each with its effect in words and its flags."""
    rows = records(results.sort_values(["outcome", "timepoint", "review", "effect_id"], na_position="last"))
    for r in rows:
        r["effect_text"] = effect_text(r)
        r["flag_list"] = [FLAG_LABELS.get(f, f) for f in (r.get("flags") or "").split(";") if f]
    return rows


def _best_text(summary: Mapping[str, Any]) -> str:
    """The outcome group's best-evidence result in words."""
    return effect_text(
        {
            "measure": summary["best_measure"],
            "estimate": summary["best_estimate"],
            "ci_lower": summary["best_ci_lower"],
            "ci_upper": summary["best_ci_upper"],
        }
    )


def reanalysis_context(
    config: Mapping, tables: Mapping[str, pd.DataFrame], labels: Mapping[str, str]
) -> dict[str, Any]:
    """The re-analysis subsection: conventions, one row per re-run meta-analysis with its class and GRADE."""
    settings = MetaSettings.from_config(config.get("reanalysis"))
    out: dict[str, Any] = {"conventions": settings.describe(), "built": "pooled" in tables}
    if out["built"]:
        rows = records(tables["pooled"])
        for row in rows:
            row["review"] = labels.get(row["review_id"], row["review_id"])
            row["effect_text"] = effect_text(row)
        out["rows"] = rows
        order = PERSONALISED_CLASSES if settings.classes == "personalised" else IOANNIDIS_CLASSES
        out["classes"] = {c: sum(r["class"] == c for r in rows) for c in order}
        out["grades"] = {g: sum(r["grade"] == g for r in rows) for g in GRADE_LABELS[settings.grade.labels]}
        out["grade_domains"] = [(col[len("grade_") :], words) for col, words in GRADE_DOMAINS]
        out["combined"] = _combined_studies(tables.get("study_effect_sizes"), labels)
    out["system"] = "personalised" if settings.classes == "personalised" else "Ioannidis"
    out["criteria"] = criteria_table(settings.personalised) if settings.classes == "personalised" else []
    return out


def meta_analysis_detail_context(
    config: Mapping, tables: Mapping[str, pd.DataFrame], labels: Mapping[str, str], figures: Mapping[str, str]
) -> dict[str, Any]:
    """The detail of each re-analysed meta-analysis: for the first ``scale.figure_rows`` in the order of the
    re-analysis table (outcome, then review; at most the ``scale.detail_figures`` drawn), its result in words and
    the ``data:`` URIs of its forest, funnel and leave-one-out plots (``figures``: file name -> URI, read only for
    those shown); how many there are in all and how many were drawn. The others drawn are in the supplement
    only, which keeps the report's size bounded."""
    if "pooled" not in tables:
        return {"built": False, "shown": [], "n": 0, "drawn": 0}
    pooled = tables["pooled"]
    scale = config.get("scale") or {}
    drawn = min(len(pooled), int(scale.get("detail_figures", DETAIL_FIGURES)))
    cap = min(int(scale.get("figure_rows", FIGURE_ROWS)), drawn)
    ids = meta_analysis_ids(pooled)[:cap]  # over all rows: an id depends on which others share its name
    shown = []
    for row, ma_id in zip(records(pooled.head(cap)), ids, strict=True):
        names = file_names(ma_id)
        shown.append(
            {
                "id": ma_id,
                "outcome": row["outcome"],
                "review": labels.get(row["review_id"], row["review_id"]),
                "k": row["k"],
                "effect_text": effect_text(row),
                "figures": {kind: figures.get(names[kind]) for kind in FIGURE_KINDS},
            }
        )
    return {"built": True, "shown": shown, "n": len(pooled), "drawn": drawn}


#: How many studies the re-analysis subsection names as combined, split or reversed before it says how many more.
COMBINED_SHOWN = 20


def _combined_studies(studies: pd.DataFrame | None, labels: Mapping[str, str]) -> dict[str, Any]:
    """The studies whose rows were combined, split or reversed before pooling (study_effect_sizes' ``combined``),
    as "study (outcome, review): what", the first :data:`COMBINED_SHOWN`, and how many there are."""
    if studies is None or "combined" not in studies:
        return {"shown": [], "n": 0}
    done = studies[studies["combined"].fillna("").astype(str).ne("")]
    shown = [
        f"{r.study_id} ({r.outcome}, {labels.get(r.review_id, r.review_id)}): {r.combined}"
        for r in done.head(COMBINED_SHOWN).itertuples()
    ]
    return {"shown": shown, "n": len(done)}


def overlap_context(config: Mapping, tables: Mapping[str, pd.DataFrame], labels: Mapping[str, str]) -> dict[str, Any]:
    """The overlap section: assumptions, overall and adjusted CCA, study frequency, the most overlapping pairs,
    per-outcome overlap."""
    settings = OverlapSettings.from_config(config.get("overlap"))
    out: dict[str, Any] = {"assumptions": settings.describe(), "built": "cca_overall" in tables}
    published = config.get("published") or {}
    out["published_n_primary_studies"] = published.get("n_primary_studies")
    if not out["built"]:
        return out
    pairs = tables["cca_pairwise"].sort_values(
        ["cca", "n_overlap", "review_a", "review_b"], ascending=[False, False, True, True]
    )
    top = records(pairs.head(10))
    for row in top:
        row["label_a"], row["label_b"] = (
            labels.get(row["review_a"], row["review_a"]),
            labels.get(row["review_b"], row["review_b"]),
        )
    n_reviews = len(tables["review_studies"])
    out.update(
        {
            "overall": records(tables["cca_overall"])[0],
            "frequency": records(tables["study_frequency"]),
            "top_pairs": top,
            "n_pairs": pair_count(n_reviews),
            "n_pairs_sharing": len(pairs),
            "band_counts": list(zip([name for _, name in BANDS], band_counts(pairs, n_reviews), strict=True)),
            "by_outcome": records(tables["cca_by_outcome"]),
            "heatmap": len(tables["review_studies"]) <= settings.heatmap_max_reviews,
        }
    )
    return out


def synthesis_context(config: Mapping, tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """The implementation, experiences, question-overview and flow-diagram parts of the report."""
    framework = config["synthesis"]["framework"]
    out: dict[str, Any] = {"framework": framework["name"], "domains": framework["domains"]}
    for name in ("questions", "implementation", "experiences", "prisma"):
        table = tables.get(name)
        out[name] = None if table is None else records(table)
    for row in out["questions"] or []:
        row["review_ids"] = (row["review_ids"] or "").replace(";", ", ")
    if out["implementation"] is not None:
        domains_seen = {r["domain"] for r in out["implementation"]}
        out["domains_without_rows"] = [label for key, label in framework["domains"].items() if key not in domains_seen]
        out["implementation_incomplete"] = sum(
            1 for r in out["implementation"] if not (r["construct"] and r["factor"] and r["role"])
        )
    if out["experiences"] is not None:
        out["experiences_without_findings"] = sum(1 for r in out["experiences"] if not r["n_findings"])
    prisma = config.get("prisma")
    out["prisma_note"] = prisma.get("included_difference") if prisma else None
    return out


def citation_matrix_context(config: Mapping, tables: Mapping[str, pd.DataFrame]) -> dict[str, Any] | None:
    """The citation matrix in the overlap section: its size, how many studies are in several reviews, the
    structurally missing cells, what the figure shows of it (capped as :mod:`umbrella.overlap.matrix_figure`
    caps it) and the form of the supplement table (wide, or compact above ``scale.workbook_cells`` cells);
    ``None`` without a citation matrix."""
    table = tables.get("study_review_matrix")
    if table is None:
        return None
    settings = OverlapSettings.from_config(config.get("overlap"))
    scale = config.get("scale") or {}
    n_studies, n_reviews = len(table), len(tables["review_studies"])
    counts = table["n_reviews"].astype(int)
    return {
        "n_studies": n_studies,
        "n_reviews": n_reviews,
        "n_inclusions": int(counts.sum()),
        "n_shared": int((counts > 1).sum()),
        "most": int(counts.max()) if n_studies else 0,
        "n_missing": int(table["n_missing"].astype(int).sum()),
        "shown_studies": min(n_studies, int(scale.get("figure_rows", FIGURE_ROWS))),
        "shown_reviews": min(n_reviews, settings.heatmap_max_reviews),
        "wide": table.shape[1] > len(LEADING_COLUMNS),
        "cells": n_studies * (len(LEADING_COLUMNS) + n_reviews),
        "workbook_cells": int(scale.get("workbook_cells", WORKBOOK_CELLS)),
    }


#: The effects stage's best-evidence criteria in words, for the summary of findings.
BEST_ORDER_WORDS = {
    "amstar2": "highest AMSTAR-2 confidence of its review",
    "k_studies": "most studies",
    "year": "most recent review",
}


def _g_text(row: Mapping[str, Any]) -> str:
    """``+0.32 [0.24, 0.39]`` on the oriented g scale (real minus signs), or an en dash."""
    g = row.get("best_g_benefit")
    if g is None:
        return "\u2013"
    lower, upper = row.get("best_g_benefit_lower"), row.get("best_g_benefit_upper")
    sign = "+" if g > 0 else ""
    ci = f" [{_fmt_num(lower)}, {_fmt_num(upper)}]" if lower is not None and upper is not None else ""
    return f"{sign}{_fmt_num(g)}{ci}"


def findings_context(config: Mapping, tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """The summary of findings: one row per outcome with its best evidence in words (as reported and as an
    equivalent g favouring the intervention when positive), its certainty and where that comes from, the rule
    that chose it, and how many re-run meta-analyses match no outcome of the effects sheet."""
    from umbrella.effects.findings_table import FROM_GRADE, matched_reanalyses

    settings = EffectSettings.from_config(config.get("effects"))
    out: dict[str, Any] = {"built": "summary_of_findings" in tables}
    if not out["built"]:
        return out
    rows = records(tables["summary_of_findings"])
    for row in rows:
        row["effect_text"] = effect_text(
            {
                "measure": row["best_measure"],
                "estimate": row["best_estimate"],
                "ci_lower": row["best_ci_lower"],
                "ci_upper": row["best_ci_upper"],
            }
        )
        row["g_text"] = _g_text(row)
        row["reanalysed"] = row["best_source"] == "reanalysis"
        row["certainty_text"] = "GRADE (re-analysis)" if row["certainty_source"] == FROM_GRADE else "AMSTAR-2 (review)"
    reanalysed = "pooled" in tables
    n_unmatched = 0
    if reanalysed and "review_effects" in tables:
        effects = tables["review_effects"].assign(outcome_group=lambda d: d["outcome_group"].fillna("Ungrouped"))
        n_unmatched = matched_reanalyses(effects, tables["pooled"])[1]
    out.update(
        {
            "rows": rows,
            "order": ", then the ".join(BEST_ORDER_WORDS[c] for c in settings.best_review),
            "reanalysed": reanalysed and settings.findings_from == "reanalysis",
            "study_data": reanalysed,
            "n_reanalysed_outcomes": sum(bool(r["n_reanalysed"]) for r in rows),
            "n_unmatched": n_unmatched,
            "n_grade": sum(r["certainty_source"] == FROM_GRADE for r in rows),
        }
    )
    return out


#: How the report names the rows of the agreement table that are not columns.
AGREEMENT_ROWS = {"(rows)": "Rows found", "(all cells)": "All cells"}


def agreement_percent(n_agree: int, n_compared: int) -> float | None:
    """Percent agreement as the report prints it (one decimal): 99.9 at most while any cell disagrees, so that
    99.96 % never reads as 100.0."""
    if not n_compared:
        return None
    share = 100 * n_agree / n_compared
    return share if n_agree == n_compared else min(share, 99.9)


def double_extraction_context(config: Mapping, tables: Mapping[str, pd.DataFrame], row_limit: int) -> dict[str, Any]:
    """Double extraction: per sheet the rows each extractor found and the cells on which they agree, the
    columns with a disagreement or a kappa, and every disagreement with the value the analysis uses."""
    settings = config.get("double_extraction") or {}
    out: dict[str, Any] = {
        "built": "extraction_agreement" in tables,
        "extractors": list(settings.get("extractors") or {}),
    }
    if not out["built"]:
        return out
    agreement = tables["extraction_agreement"]
    disagreements = tables["extraction_disagreements"]
    sheets = []
    for sheet, rows in agreement.groupby("sheet", sort=False):
        by_column = rows.set_index("column")
        found = by_column.loc["(rows)"]
        # a sheet matched row by row (implementation, experiences) has rows but no cells to compare
        cells = by_column.loc["(all cells)"] if "(all cells)" in by_column.index else None
        sheets.append(
            {
                "sheet": sheet,
                "rows_any": int(found["n_compared"]),
                "rows_all": int(found["n_agree"]),
                "cells": None if cells is None else int(cells["n_compared"]),
                "percent": None if cells is None else agreement_percent(cells["n_agree"], cells["n_compared"]),
                "disagreements": int(found["n_disagreements"])
                + (0 if cells is None else int(cells["n_disagreements"])),
            }
        )
    columns = agreement[
        ~agreement["column"].isin(list(AGREEMENT_ROWS))
        & (agreement["n_disagreements"].gt(0) | agreement["kappa"].notna())
    ]
    unreconciled = int(disagreements["status"].eq("unreconciled").sum())
    out.update(
        {
            "sheets": sheets,
            "columns": [
                {**row, "percent_agreement": agreement_percent(row["n_agree"], row["n_compared"])}
                for row in records(columns)
            ],
            "disagreements": records(disagreements.head(row_limit)),
            "n_disagreements": len(disagreements),
            "n_unreconciled": unreconciled,
            "allowed": settings.get("unreconciled") == "allow",
            "n_extractors": len(out["extractors"]),
            "kappa_name": "Cohen's kappa" if len(out["extractors"]) == 2 else "Fleiss' kappa",
        }
    )
    return out
