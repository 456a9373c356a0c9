#!/usr/bin/env python3
"""Build the pipeline sheets of the Cooper et al. 2024 dataset from its transcription.

Reads the original (partial) transcription in ``source/`` next to this file and writes the four sheets the
pipeline reads (``reviews.csv``, ``effects.csv``, ``implementation.csv``, ``experiences.csv``) next to it.
Every value is copied from the transcription; the only changes are the renames and vocabulary mappings
documented in SOURCES.md.  Pure pandas + standard library, deterministic: running it twice gives
byte-identical files.

    python data/raw/cooper2024/build_from_source.py [--source DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent

# --- vocabularies (canonical values of workflow/schemas/sheets/*.schema.yaml) ---------------------------
REVIEW_TYPE = {  # printed / inferred wording -> canonical key
    "systematic review with meta-analysis": "sr_meta_analysis",
    "systematic review without meta-analysis": "sr_narrative",
    "systematic review with qualitative synthesis": "sr_qualitative",
    "scoping review": "scoping",
    "realist review": "realist",
}
AMSTAR2 = {"high": "high", "moderate": "moderate", "low": "low", "critically low": "critically_low"}
RESEARCH_QUESTIONS = ("effectiveness", "implementation", "experiences")
CFIR_DOMAINS = ("innovation", "outer_setting", "inner_setting", "individuals", "implementation_process")
RATIO_MEASURES = {"OR", "RR", "HR", "IRR"}

# --- column orders -----------------------------------------------------------------------------------------
REVIEWS_CONTRACT = [
    "review_id",
    "first_author",
    "year",
    "title",
    "journal",
    "doi",
    "review_type",
    "research_questions",
    "n_primary_studies",
    "n_participants",
    "population",
    "age_group",
    "setting",
    "intervention",
    "countries",
    "search_end",
    "amstar2_reported",
    "source",
    "notes",
]
REVIEWS_EXTRA = [
    "ref_number",
    "review_type_basis",
    "review_type_source",
    "research_questions_basis",
    "research_questions_source",
    "amstar2_source",
    "primary_studies_date_range",
    "primary_study_designs",
    "peer_support_type",
    "format",
    "quality_appraisal_tool",
    "quality_appraisal_ratings",
    "population_in_effect_tables",
    "footnote_marker_in_tables",
    "row_completeness",
]
EFFECTS_CONTRACT = [
    "effect_id",
    "review_id",
    "outcome",
    "outcome_group",
    "timepoint",
    "population",
    "comparison",
    "measure",
    "estimate",
    "ci_lower",
    "ci_upper",
    "ci_level",
    "k_studies",
    "n_participants",
    "n_cases",
    "i2",
    "tau2",
    "p_value",
    "favours",
    "verdict",
    "source",
    "notes",
]
EFFECTS_EXTRA = [
    "ref_number",
    "source_table",
    "outcome_category",
    "chi2",
    "chi2_df",
    "chi2_p",
    "z_value",
    "amstar2",
    "footnote_marker",
    "effect_cell_raw",
    "heterogeneity_cell_raw",
    "row_completeness",
]
IMPLEMENTATION_COLUMNS = ["review_id", "cfir_domain", "construct", "factor", "role", "source", "row_completeness"]
EXPERIENCES_COLUMNS = [
    "review_id",
    "perspective",
    "theme",
    "subtheme",
    "finding",
    "aspect",
    "perspective_footnote_marker",
    "listed_at_subtheme_level",
    "source",
    "row_completeness",
    "notes",
]


def read_source(path: Path) -> pd.DataFrame:
    """Read a transcription CSV with every cell as text, exactly as written (blank = '')."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8")


def split_refs(cell: str) -> list[str]:
    return [r.strip() for r in cell.split(";") if r.strip()]


def write_sheet(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def sort_rows(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return df.sort_values(by, kind="mergesort").reset_index(drop=True)


def join_tables(tables: list[str]) -> str:
    """['Table 2', 'Table 3'] -> 'Tables 2 and 3'; ['Table 5'] -> 'Table 5'."""
    nums = sorted({t.replace("Table", "").strip() for t in tables}, key=int)
    if len(nums) == 1:
        return f"Table {nums[0]}"
    return "Tables " + ", ".join(nums[:-1]) + " and " + nums[-1]


# --- reviews -------------------------------------------------------------------------------------------------
def split_inferred(cell: str) -> str:
    """'X (inferred: why)' or 'X (inferred from: why)' -> 'X'."""
    m = re.match(r"^(.*?) \(inferred\b", cell)
    if not m:
        raise ValueError(f"unrecognised inferred cell: {cell!r}")
    return m.group(1).strip()


def map_review_type(text: str) -> str:
    key = text.strip().lower()
    if key not in REVIEW_TYPE:
        raise ValueError(f"unmapped review type: {text!r}")
    return REVIEW_TYPE[key]


def map_questions(text: str) -> str:
    keys = [q.strip().lower() for q in text.split(";") if q.strip()]
    for q in keys:
        if q not in RESEARCH_QUESTIONS:
            raise ValueError(f"unmapped research question: {q!r}")
    return ";".join(keys)


def build_reviews(src: pd.DataFrame, effects: pd.DataFrame, citations: pd.DataFrame) -> pd.DataFrame:
    effect_tables = effects.groupby("review_id")["source_table"].apply(list).to_dict()
    cited_in: dict[str, list[str]] = {}
    for _, c in citations.iterrows():
        for ref in split_refs(c["ref_numbers"]):
            cited_in.setdefault(ref, []).append(c["source_table"])

    rows = []
    for _, r in src.iterrows():
        out = {col: "" for col in REVIEWS_CONTRACT + REVIEWS_EXTRA}
        for col in (
            "review_id",
            "first_author",
            "year",
            "title",
            "journal",
            "n_primary_studies",
            "age_group",
            "setting",
            "countries",
            "notes",
        ):
            out[col] = r[col]
        for col in (
            "ref_number",
            "amstar2_source",
            "primary_studies_date_range",
            "primary_study_designs",
            "peer_support_type",
            "format",
            "quality_appraisal_tool",
            "quality_appraisal_ratings",
            "population_in_effect_tables",
            "footnote_marker_in_tables",
            "row_completeness",
        ):
            out[col] = r[col]
        out["n_participants"] = r["participants_n"]

        # review type: printed value first, otherwise the inferred one (flagged as such)
        if r["review_type"]:
            out["review_type"] = map_review_type(r["review_type"])
            out["review_type_basis"] = "printed"
            out["review_type_source"] = r["review_type_source"]
        elif r["review_type_inferred"]:
            out["review_type"] = map_review_type(split_inferred(r["review_type_inferred"]))
            out["review_type_basis"] = "inferred"
            out["review_type_source"] = r["review_type_inferred"]

        # research questions: likewise
        if r["research_questions"]:
            out["research_questions"] = map_questions(r["research_questions"])
            out["research_questions_basis"] = "printed"
            out["research_questions_source"] = r["research_questions_source"]
        elif r["research_questions_inferred"]:
            out["research_questions"] = map_questions(split_inferred(r["research_questions_inferred"]))
            out["research_questions_basis"] = "inferred"
            out["research_questions_source"] = r["research_questions_inferred"]

        if r["amstar2_overall"]:
            key = r["amstar2_overall"].strip().lower()
            if key not in AMSTAR2:
                raise ValueError(f"unmapped AMSTAR-2 rating: {r['amstar2_overall']!r}")
            out["amstar2_reported"] = AMSTAR2[key]

        # population: Table 1 where printed there, otherwise the effect tables' Population cell
        if r["population"]:
            out["population"] = r["population"]
        else:
            out["population"] = r["population_in_effect_tables"]

        # intervention: Table 1's peer-support type and format, labelled
        parts = []
        if r["peer_support_type"]:
            parts.append(f"Peer support: {r['peer_support_type']}")
        if r["format"]:
            parts.append(f"format: {r['format']}")
        out["intervention"] = "; ".join(parts)

        # provenance of the row
        has_table1 = r["row_completeness"].startswith("Table 1 row") and "not available" not in r["row_completeness"]
        if has_table1:
            state = "complete" if r["row_completeness"] == "Table 1 row complete" else "truncated"
            amstar_from = r["amstar2_source"].split(" (")[0]
            source = f"Table 1 row ({state}); AMSTAR2 from {amstar_from}"
        elif r["review_id"] in effect_tables:
            source = (
                f"named only in Tables 2-4 (Table 1 row not visible); pooled results in "
                f"{join_tables(effect_tables[r['review_id']])}; population from the effect tables' "
                f"Population cell (no Table 1 population); AMSTAR2 from {r['amstar2_source']}"
            )
        elif r["ref_number"] in cited_in:
            source = f"citation [{r['ref_number']}] in {join_tables(cited_in[r['ref_number']])}; identity unknown"
        else:
            raise ValueError(f"row of unknown provenance: {r['review_id']}")
        out["source"] = source
        rows.append(out)

    df = pd.DataFrame(rows, columns=REVIEWS_CONTRACT + REVIEWS_EXTRA)
    return sort_rows(df, ["review_id"])


# --- effects -------------------------------------------------------------------------------------------------
def favours_from_verdict(row: pd.Series) -> str:
    """Direction of the measure that favours peer support, read off the printed verdict and the estimate's sign.

    Filled only where the verdict states a significant benefit ("Significant improvement in ..." or
    "Significant reduction in <depression outcome>"): the favoured direction is then the side of the null
    (0 for differences, 1 for ratios) on which the printed estimate lies. "No effect" or a truncated row -> blank.
    """
    verdict = row["verdict"]
    if not verdict or verdict == "No effect":
        return ""
    benefit = verdict.startswith("Significant improvement in ") or (
        verdict.startswith("Significant reduction in ") and "depression" in verdict
    )
    if not benefit:
        raise ValueError(f"verdict not covered by the favours rule: {verdict!r}")
    null = 1.0 if row["effect_measure"] in RATIO_MEASURES else 0.0
    est, lo, hi = (float(row[c]) for c in ("estimate", "ci_lower", "ci_upper"))
    if est < null and hi < null:
        return "lower"
    if est > null and lo > null:
        return "higher"
    raise ValueError(f"{row['effect_id']}: significant verdict but CI includes the null")


def effect_notes(row: pd.Series, favours: str) -> str:
    notes = []
    if row["row_completeness"] != "complete":
        notes.append(row["row_completeness"][0].upper() + row["row_completeness"][1:] + ".")
    if row["footnote_marker"]:
        notes.append(
            f"Footnote '{row['footnote_marker']}' on the review's name; its meaning is not visible "
            f"in the available copy."
        )
    if "(results taken from text)" in row["effect_cell_raw"]:
        notes.append("The table cell says 'results taken from text'.")
    if "[…]" in row["population"]:
        notes.append("Population cell cut off ('[…]') in the available copy.")
    if favours == "lower" and row["effect_measure"] not in RATIO_MEASURES and "improvement" in row["verdict"]:
        notes.append(
            "Negative estimate printed with a verdict of improvement: the sign follows the source review's convention."
        )
    if row["review_id"] == "Fuhr2014" and row["outcome_group"] == "Hope":
        notes.append(
            "Same figures (k, n, SMD with opposite sign, CI, I2, chi2, p) as the peer-support hope "
            "analysis in Lloyd-Evans 2014 Table 3 (transcriber's note): probably the same trials; "
            "overlap not verified."
        )
    return " ".join(notes)


def build_effects(src: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in src.iterrows():
        out = {col: "" for col in EFFECTS_CONTRACT + EFFECTS_EXTRA}
        for col in (
            "effect_id",
            "review_id",
            "outcome",
            "outcome_group",
            "timepoint",
            "population",
            "comparison",
            "estimate",
            "ci_lower",
            "ci_upper",
            "k_studies",
            "n_participants",
            "tau2",
            "p_value",
            "verdict",
        ):
            out[col] = r[col]
        for col in EFFECTS_EXTRA:
            out[col] = r[col]
        out["measure"] = r["effect_measure"]
        out["i2"] = r["i2_percent"]
        out["ci_level"] = ""  # 95 % is not printed in the available copy: blank (the pipeline reads 95)
        out["favours"] = favours_from_verdict(r)
        heading = f"{r['source_table']} ({r['outcome_category']}), heading '{r['outcome_group']}'"
        if r["row_completeness"] == "complete":
            out["source"] = f"{heading}: complete row"
        else:
            out["source"] = f"{heading}: truncated row (only k and n visible)"
        out["notes"] = effect_notes(r, out["favours"])
        rows.append(out)
    df = pd.DataFrame(rows, columns=EFFECTS_CONTRACT + EFFECTS_EXTRA)
    return sort_rows(df, ["effect_id"])


# --- implementation (Table 5) and experiences (Table 6) -----------------------------------------------------------
def build_implementation(citations: pd.DataFrame, ref_to_id: dict[str, str]) -> pd.DataFrame:
    rows = []
    for _, c in citations[citations["source_table"] == "Table 5"].iterrows():
        domain = re.sub(r"\s+", "_", c["theme_or_domain"].strip().lower())
        if domain not in CFIR_DOMAINS:
            raise ValueError(f"unknown CFIR domain: {c['theme_or_domain']!r}")
        for ref in split_refs(c["ref_numbers"]):  # Inner Setting: no visible references -> no rows
            rows.append(
                {
                    "review_id": ref_to_id[ref],
                    "cfir_domain": domain,
                    "construct": "",
                    "factor": "",
                    "role": "",
                    "source": (
                        f"Table 5, CFIR domain '{c['theme_or_domain']}': reference [{ref}] "
                        f"(constructs, factors and barrier/facilitator role not visible)"
                    ),
                    "row_completeness": c["row_completeness"],
                }
            )
    df = pd.DataFrame(rows, columns=IMPLEMENTATION_COLUMNS)
    return sort_rows(df, ["cfir_domain", "construct", "factor", "role", "review_id"])


def build_experiences(citations: pd.DataFrame, ref_to_id: dict[str, str]) -> pd.DataFrame:
    t6 = citations[citations["source_table"] == "Table 6"]
    rows = []
    groups = t6[t6["level"] != "theme"].groupby(["theme_or_domain", "subtheme", "benefit_or_challenge"], sort=False)
    for (theme, subtheme, aspect), g in groups:
        sub = g[g["level"] == "subtheme"]
        if len(sub) != 1:
            raise ValueError(f"expected one subtheme-level row for {theme}/{subtheme}/{aspect}")
        sub_refs = split_refs(sub.iloc[0]["ref_numbers"])
        persp_rows = g[g["level"] == "perspective"]
        perspectives_truncated = persp_rows["row_completeness"].str.contains("truncated").any()
        where = f"Table 6, theme '{theme}', subtheme '{subtheme}', {aspect}"
        covered = set()
        for _, p in persp_rows.iterrows():
            m = re.match(r"^(.*?) \(footnote (\w+)\)$", p["perspective"])
            label, marker = (m.group(1), m.group(2)) if m else (p["perspective"], "")
            for ref in split_refs(p["ref_numbers"]):
                covered.add(ref)
                notes = []
                if ref not in sub_refs:
                    notes.append(
                        f"As printed: [{ref}] is listed under the '{p['perspective']}' perspective but "
                        f"not in the subtheme-level {aspect} reference list."
                    )
                if marker:
                    notes.append(
                        f"Footnote '{marker}' on the perspective label; its meaning is not visible in "
                        f"the available copy."
                    )
                rows.append(
                    {
                        "review_id": ref_to_id[ref],
                        "perspective": label,
                        "theme": theme,
                        "subtheme": subtheme,
                        "finding": "",
                        "aspect": aspect.lower(),
                        "perspective_footnote_marker": marker,
                        "listed_at_subtheme_level": "yes" if ref in sub_refs else "no",
                        "source": f"{where}, perspective '{p['perspective']}': reference [{ref}]",
                        "row_completeness": p["row_completeness"],
                        "notes": " ".join(notes),
                    }
                )
        for ref in sub_refs:
            if ref in covered:
                continue
            why = (
                "the perspective rows of this subtheme are cut off in the available copy"
                if perspectives_truncated
                else "not listed under any perspective"
            )
            rows.append(
                {
                    "review_id": ref_to_id[ref],
                    "perspective": "",
                    "theme": theme,
                    "subtheme": subtheme,
                    "finding": "",
                    "aspect": aspect.lower(),
                    "perspective_footnote_marker": "",
                    "listed_at_subtheme_level": "yes",
                    "source": f"{where}, subtheme-level reference list: reference [{ref}] (perspective not visible)",
                    "row_completeness": sub.iloc[0]["row_completeness"],
                    "notes": f"Perspective blank: {why}.",
                }
            )
    df = pd.DataFrame(rows, columns=EXPERIENCES_COLUMNS)
    return sort_rows(df, ["theme", "subtheme", "perspective", "review_id", "aspect"])


# --- main ----------------------------------------------------------------------------------------------------------
def build(source: Path, out: Path) -> dict[str, pd.DataFrame]:
    reviews_src = read_source(source / "reviews.csv")
    effects_src = read_source(source / "effects.csv")
    citations = read_source(source / "table_citations.csv")

    reviews = build_reviews(reviews_src, effects_src, citations)
    ref_to_id = dict(zip(reviews["ref_number"], reviews["review_id"], strict=True))
    if len(ref_to_id) != len(reviews):
        raise ValueError("citation numbers are not unique in reviews.csv")
    sheets = {
        "reviews": reviews,
        "effects": build_effects(effects_src),
        "implementation": build_implementation(citations, ref_to_id),
        "experiences": build_experiences(citations, ref_to_id),
    }

    ids = set(reviews["review_id"])
    if len(ids) != len(reviews):
        raise ValueError("duplicate review_id")
    for name, df in sheets.items():
        missing = set(df["review_id"]) - ids
        if missing:
            raise ValueError(f"{name}: review_id not in reviews.csv: {sorted(missing)}")

    out.mkdir(parents=True, exist_ok=True)
    for name, df in sheets.items():
        write_sheet(df, out / f"{name}.csv")
    return sheets


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=HERE / "source", help="folder of the transcription")
    ap.add_argument("--out", type=Path, default=HERE, help="folder to write the sheets to")
    args = ap.parse_args(argv)
    sheets = build(args.source, args.out)
    for name, df in sheets.items():
        print(f"{name}.csv: {len(df)} rows")


if __name__ == "__main__":
    main()
