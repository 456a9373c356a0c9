"""Tests of the default dataset, data/raw/cooper2024 (Cooper et al. 2024, BMC Medicine 22:72).

The sheets are built by data/raw/cooper2024/build_from_source.py from the original transcription kept in
data/raw/cooper2024/source/. These tests check that the build is reproducible, that every transcribed value
survives the conversion, that nothing was invented, and that the sheets obey the JSON Schemas of
workflow/schemas/sheets/.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "raw" / "cooper2024"
SRC = DATA / "source"
SCHEMAS = ROOT / "workflow" / "schemas" / "sheets"
SCRIPT = DATA / "build_from_source.py"

SHEETS = ["reviews", "effects", "implementation", "experiences"]
ROW_COUNTS = {"reviews": 25, "effects": 16, "implementation": 10, "experiences": 17}
TRUNCATED_EFFECTS = {"E05", "E16"}
RESEARCH_QUESTIONS_DEFAULT = {"effectiveness", "implementation", "experiences"}
CFIR_DOMAINS = {"innovation", "outer_setting", "inner_setting", "individuals", "implementation_process"}
RATIO_MEASURES = {"OR", "RR", "HR", "IRR"}

# sha256 of the original transcription files as copied from the shared folder, after normalising CRLF line
# ends to LF (reviews.csv, table_citations.csv and amstar2_item_counts.csv were transcribed with CRLF; the
# .gitattributes next to the data keeps them byte for byte, but the check does not depend on it)
SOURCE_SHA256 = {
    "SOURCES.md": "76c21d67134145520486f374930d5dd2773014c32af0dbd0d18ea3d93698de08",
    "amstar2_item_counts.csv": "6cdd1a5c61bc0118d9ef047e75ed7caf81813d4dd09a60e6e6fc505aa374d73a",
    "effects.csv": "fb234b231250a6a6d34470fc9697622935036d9a4c053b44d7a4d2fb7b97d9f9",
    "headline.json": "e9465d06e10a3d93b7a473421d57483d5a86e86f29f231f859e47625d6cadd33",
    "reviews.csv": "8ba1367bb72e83bd2d6230c5ef3c92fb7e5c74c60bd2e6b2f50dbccc8c2a3069",
    "table_citations.csv": "5bf28a699f7cc0979b9702b925207e34140bad9b0da88b5da25d23930d95c17b",
}


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8")


def refs(cell: str) -> list[str]:
    return [r.strip() for r in cell.split(";") if r.strip()]


@pytest.fixture(scope="module")
def sheets() -> dict[str, pd.DataFrame]:
    return {name: read(DATA / f"{name}.csv") for name in SHEETS}


@pytest.fixture(scope="module")
def src() -> dict[str, pd.DataFrame]:
    return {name: read(SRC / f"{name}.csv") for name in ("reviews", "effects", "table_citations")}


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict]:
    return {name: yaml.safe_load((SCHEMAS / f"{name}.schema.yaml").read_text(encoding="utf-8")) for name in SHEETS}


def aliases(schema: dict, column: str) -> dict[str, str]:
    """Printed wording -> canonical value, from the schema's enum and x-aliases (case-insensitive)."""
    prop = schema["properties"][column]
    out = {v.lower(): v for v in prop.get("enum", [])}
    out.update({k.lower(): v for k, v in prop.get("x-aliases", {}).items()})
    return out


# --- (a) reproducibility ---------------------------------------------------------------------------------------
def test_source_copy_is_complete_and_unchanged():
    assert {p.name for p in SRC.iterdir()} >= set(SOURCE_SHA256)
    for name, digest in SOURCE_SHA256.items():
        data = (SRC / name).read_bytes().replace(b"\r\n", b"\n")
        assert hashlib.sha256(data).hexdigest() == digest, name


def test_build_reproduces_committed_sheets(tmp_path):
    for run in ("first", "second"):
        out = tmp_path / run
        subprocess.run(
            [sys.executable, str(SCRIPT), "--source", str(SRC), "--out", str(out)], check=True, capture_output=True
        )
        for name in SHEETS:
            assert (out / f"{name}.csv").read_bytes() == (DATA / f"{name}.csv").read_bytes(), (run, name)


def test_sheets_are_utf8_lf_comma_separated():
    for name in SHEETS:
        data = (DATA / f"{name}.csv").read_bytes()
        data.decode("utf-8")
        assert b"\r" not in data, name
        assert data.endswith(b"\n"), name
        assert not data.startswith(b"\xef\xbb\xbf"), name


def test_row_counts(sheets):
    for name, n in ROW_COUNTS.items():
        assert len(sheets[name]) == n, name


# --- (b) every transcribed value survives ---------------------------------------------------------------------------
REVIEWS_SAME = [
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
    "ref_number",
    "primary_studies_date_range",
    "primary_study_designs",
    "peer_support_type",
    "format",
    "quality_appraisal_tool",
    "quality_appraisal_ratings",
    "population_in_effect_tables",
    "amstar2_source",
    "footnote_marker_in_tables",
    "row_completeness",
]
REVIEWS_SPECIAL = {
    "participants_n",
    "population",
    "amstar2_overall",
    "review_type",
    "review_type_source",
    "review_type_inferred",
    "research_questions",
    "research_questions_source",
    "research_questions_inferred",
}


def test_reviews_keep_every_source_value(sheets, src, schemas):
    s, out = src["reviews"], sheets["reviews"].set_index("review_id", drop=False)
    # every source column is accounted for
    assert set(s.columns) == set(REVIEWS_SAME) | REVIEWS_SPECIAL
    rt_alias = aliases(schemas["reviews"], "review_type")
    am_alias = aliases(schemas["reviews"], "amstar2_reported")
    assert set(out.index) == set(s["review_id"])
    for _, r in s.iterrows():
        o = out.loc[r["review_id"]]
        for col in REVIEWS_SAME:
            assert o[col] == r[col], (r["review_id"], col)
        assert o["n_participants"] == r["participants_n"]
        assert o["population"] == (r["population"] or r["population_in_effect_tables"])
        if not r["population"] and r["population_in_effect_tables"]:
            assert "Population cell" in o["source"]
        assert o["amstar2_reported"] == (am_alias[r["amstar2_overall"].lower()] if r["amstar2_overall"] else "")
        # review type: printed first, inferred otherwise, with its basis and source text
        if r["review_type"]:
            assert (o["review_type"], o["review_type_basis"]) == (rt_alias[r["review_type"].lower()], "printed")
            assert o["review_type_source"] == r["review_type_source"]
        elif r["review_type_inferred"]:
            value = r["review_type_inferred"].split(" (inferred")[0]
            assert (o["review_type"], o["review_type_basis"]) == (rt_alias[value.lower()], "inferred")
            assert o["review_type_source"] == r["review_type_inferred"]
        else:
            assert o["review_type"] == o["review_type_basis"] == o["review_type_source"] == ""
        if r["research_questions"]:
            assert o["research_questions_basis"] == "printed"
            assert o["research_questions"] == ";".join(q.strip() for q in r["research_questions"].split(";"))
            assert o["research_questions_source"] == r["research_questions_source"]
        elif r["research_questions_inferred"]:
            value = r["research_questions_inferred"].split(" (inferred")[0]
            assert o["research_questions_basis"] == "inferred"
            assert o["research_questions"] == ";".join(q.strip() for q in value.split(";"))
            assert o["research_questions_source"] == r["research_questions_inferred"]
        else:
            assert o["research_questions"] == o["research_questions_basis"] == ""


def test_reviews_headline_figures(sheets):
    r = sheets["reviews"].set_index("review_id")
    assert (
        r.loc["Burke2019", "year"],
        r.loc["Burke2019", "n_primary_studies"],
        r.loc["Burke2019", "n_participants"],
    ) == ("2019", "23", "6191")
    assert (r.loc["Chien2019", "n_primary_studies"], r.loc["Chien2019", "n_participants"]) == ("13", "2479")
    assert (r.loc["Fang2022", "n_primary_studies"], r.loc["Fang2022", "n_participants"]) == ("16", "3154")
    assert r["amstar2_reported"].value_counts().to_dict() == {"": 15, "critically_low": 7, "low": 2, "high": 1}
    assert r.loc["Chien2019", "amstar2_reported"] == "high"
    per_question = {}
    for value in r["research_questions"]:
        for q in filter(None, value.split(";")):
            per_question[q] = per_question.get(q, 0) + 1
    assert per_question == {"effectiveness": 10, "implementation": 7, "experiences": 9}
    assert r["review_type"].value_counts().to_dict() == {"": 15, "sr_meta_analysis": 10}
    assert r.loc["Burke2019", "intervention"] == "Peer support: Individual, group, peer-run services; format: In-person"


EFFECTS_SAME = [
    "effect_id",
    "review_id",
    "ref_number",
    "source_table",
    "outcome_category",
    "outcome_group",
    "outcome",
    "timepoint",
    "population",
    "comparison",
    "estimate",
    "ci_lower",
    "ci_upper",
    "k_studies",
    "n_participants",
    "tau2",
    "chi2",
    "chi2_df",
    "chi2_p",
    "z_value",
    "p_value",
    "amstar2",
    "verdict",
    "footnote_marker",
    "effect_cell_raw",
    "heterogeneity_cell_raw",
    "row_completeness",
]
EFFECTS_RENAMED = {"effect_measure": "measure", "i2_percent": "i2"}


def test_effects_keep_every_source_value(sheets, src):
    s, out = src["effects"], sheets["effects"].set_index("effect_id", drop=False)
    assert set(s.columns) == set(EFFECTS_SAME) | set(EFFECTS_RENAMED)
    assert set(out.index) == set(s["effect_id"])
    for _, r in s.iterrows():
        o = out.loc[r["effect_id"]]
        for col in EFFECTS_SAME:
            assert o[col] == r[col], (r["effect_id"], col)
        for old, new in EFFECTS_RENAMED.items():
            assert o[new] == r[old], (r["effect_id"], old)


def test_effects_spot_values(sheets):
    e = sheets["effects"].set_index("effect_id")
    assert tuple(
        e.loc[
            "E01",
            ["measure", "estimate", "ci_lower", "ci_upper", "k_studies", "n_participants", "i2", "p_value", "favours"],
        ]
    ) == ("SMD", "-0.39", "-0.54", "-0.24", "16", "3154", "78", "< 0.00001", "lower")
    assert tuple(e.loc["E03", ["measure", "estimate", "ci_lower", "ci_upper", "p_value", "favours"]]) == (
        "RR",
        "0.69",
        "0.49",
        "0.96",
        "0.03",
        "lower",
    )
    assert e.loc["E06", "favours"] == "lower"  # negative SMD, "Significant improvement in self-rated recovery"
    assert e.loc["E11", "favours"] == "higher"  # positive SMD, "Significant improvement in hope"
    assert e.loc["E13", "estimate"] == "0.31" and e.loc["E13", "chi2"] == "9.30" and e.loc["E13", "chi2_p"] == "0.10"
    assert e.loc["E15", "p_value"] == "0.50" and e.loc["E15", "measure"] == "MD"


def test_citations_all_carried(sheets, src):
    reviews = sheets["reviews"]
    ref_to_id = dict(zip(reviews["ref_number"], reviews["review_id"], strict=True))
    imp, exp = sheets["implementation"], sheets["experiences"]
    for _, c in src["table_citations"].iterrows():
        for ref in refs(c["ref_numbers"]):
            rid = ref_to_id[ref]
            if c["source_table"] == "Table 5":
                domain = c["theme_or_domain"].lower().replace(" ", "_")
                assert ((imp["review_id"] == rid) & (imp["cfir_domain"] == domain)).sum() == 1, (ref, domain)
                continue
            assert c["source_table"] == "Table 6"
            sel = (
                (exp["review_id"] == rid)
                & (exp["theme"] == c["theme_or_domain"])
                & (exp["subtheme"] == c["subtheme"])
                & (exp["aspect"] == c["benefit_or_challenge"].lower())
            )
            if c["level"] == "perspective":
                label = re.sub(r" \(footnote \w+\)$", "", c["perspective"])
                assert (sel & (exp["perspective"] == label)).sum() == 1, (ref, c["perspective"])
            else:
                assert sel.sum() >= 1, (ref, c["subtheme"], c["benefit_or_challenge"])
    # the Inner Setting row has no visible references and yields no rows
    assert "inner_setting" not in set(imp["cfir_domain"])
    # themes named only in Table 7 yield no rows
    assert set(exp["theme"]) == {"What the PSW role can bring"}


def test_experiences_no_duplicates_and_anomaly(sheets):
    exp = sheets["experiences"]
    # a reference under a perspective has no extra blank-perspective row for the same subtheme and aspect
    for (theme, sub, aspect, rid), g in exp.groupby(["theme", "subtheme", "aspect", "review_id"]):
        if (g["perspective"] != "").any():
            assert (g["perspective"] == "").sum() == 0, (theme, sub, aspect, rid)
        else:
            assert len(g) == 1
    anomaly = exp[(exp["review_id"] == "ref34") & (exp["aspect"] == "challenge")]
    assert len(anomaly) == 1
    assert anomaly.iloc[0]["perspective"] == "PSWs"
    assert anomaly.iloc[0]["listed_at_subtheme_level"] == "no"
    assert "as printed" in anomaly.iloc[0]["notes"].lower()
    blank = exp[exp["perspective"] == ""]
    assert set(blank["review_id"]) == {"ref49", "ref60", "ref64"}
    assert set(blank["subtheme"]) == {"Recovery and role models"}


# --- (c) keys and referential integrity ---
def test_keys_unique_and_references_resolve(sheets, schemas):
    ids = set(sheets["reviews"]["review_id"])
    for name in SHEETS:
        df, schema = sheets[name], schemas[name]
        key = schema.get("x-sheet", {}).get("key") or []
        if key:
            assert not df.duplicated(key).any(), name
        for col, prop in schema["properties"].items():
            if prop.get("x-references") == "reviews.review_id" and col in df:
                assert set(df[col]) <= ids, name
    imp, exp = sheets["implementation"], sheets["experiences"]
    assert not imp.duplicated(["review_id", "cfir_domain"]).any()
    assert not exp.duplicated(["review_id", "theme", "subtheme", "aspect", "perspective"]).any()
    assert not sheets["reviews"]["ref_number"].duplicated().any()
    # every review is backed by its Table 1 row or by a row of another sheet (no orphan review)
    used = set(sheets["effects"]["review_id"]) | set(imp["review_id"]) | set(exp["review_id"])
    in_table1 = set(sheets["reviews"].loc[sheets["reviews"]["source"].str.startswith("Table 1 row"), "review_id"])
    assert in_table1 == {"Burke2019", "Chien2019", "Fang2022"}
    assert used | in_table1 == ids


def test_rows_sorted_as_schema_says(sheets, schemas):
    for name in SHEETS:
        df = sheets[name]
        by = schemas[name]["x-sheet"]["sort"]
        tuples = list(df[by].itertuples(index=False, name=None))
        assert tuples == sorted(tuples), name


def test_contract_columns_first(sheets):
    from umbrella.core.sheets import columns

    expected = {name: columns(name) for name in sheets}
    for name, cols in expected.items():
        assert list(sheets[name].columns[: len(cols)]) == cols, name
    assert "review_type_basis" in sheets["reviews"] and "research_questions_basis" in sheets["reviews"]
    assert "aspect" in sheets["experiences"] and "source" in sheets["implementation"]


# --- (d) nothing invented ---
def test_nothing_invented_in_reviews(sheets, src):
    r = sheets["reviews"]
    for col in ("title", "journal", "doi", "search_end", "age_group"):
        assert (r[col] == "").all(), col
    s = src["reviews"].set_index("review_id")
    for _, o in r.iterrows():
        t1 = s.loc[o["review_id"]]
        if not (t1["peer_support_type"] or t1["format"]):
            assert o["intervention"] == ""
        for col in ("n_primary_studies", "countries", "setting"):
            if not t1[col]:
                assert o[col] == "", (o["review_id"], col)
        if o["review_id"].startswith("ref"):
            assert o["first_author"] == o["year"] == o["population"] == o["amstar2_reported"] == ""
            assert o["review_type"] == "" and o["research_questions_basis"] == "inferred"
            assert "identity unknown" in o["source"]
    printed = r[r["review_type_basis"] == "printed"]["review_id"]
    assert set(printed) == {"Burke2019", "Chien2019", "Fang2022"}
    assert set(r["review_type_basis"]) <= {"printed", "inferred", ""}
    assert set(r["research_questions_basis"]) <= {"printed", "inferred", ""}
    assert ((r["review_type"] == "") == (r["review_type_basis"] == "")).all()


def test_nothing_invented_in_effects(sheets):
    e = sheets["effects"]
    assert (e["ci_level"] == "").all()  # 95 % is not printed in the available copy; blank = 95 for the pipeline
    assert (e["comparison"] == "").all()
    trunc = e[e["effect_id"].isin(TRUNCATED_EFFECTS)]
    assert len(trunc) == 2
    for col in (
        "measure",
        "estimate",
        "ci_lower",
        "ci_upper",
        "i2",
        "tau2",
        "p_value",
        "favours",
        "verdict",
        "chi2",
        "z_value",
        "amstar2",
    ):
        assert (trunc[col] == "").all(), col
    assert (trunc["k_studies"] != "").all() and (trunc["n_participants"] != "").all()
    assert trunc["source"].str.contains("truncated").all() and trunc["notes"].str.contains("runcated").all()
    assert (e.loc[~e["effect_id"].isin(TRUNCATED_EFFECTS), "row_completeness"] == "complete").all()


def test_favours_rule(sheets):
    for _, o in sheets["effects"].iterrows():
        if o["verdict"] in ("", "No effect"):
            assert o["favours"] == "", o["effect_id"]
            continue
        assert o["verdict"].startswith("Significant "), o["effect_id"]
        null = 1.0 if o["measure"] in RATIO_MEASURES else 0.0
        expected = "lower" if float(o["estimate"]) < null else "higher"
        assert o["favours"] == expected, o["effect_id"]
        lo, hi = float(o["ci_lower"]), float(o["ci_upper"])
        assert hi < null or lo > null, o["effect_id"]


def test_nothing_invented_in_citation_sheets(sheets):
    for col in ("construct", "factor", "role"):
        assert (sheets["implementation"][col] == "").all(), col
    assert (sheets["experiences"]["finding"] == "").all()
    assert set(sheets["experiences"]["perspective"]) == {"", "PSWs", "Service users", "Mixed"}
    mixed = sheets["experiences"][sheets["experiences"]["perspective"] == "Mixed"]
    assert (mixed["perspective_footnote_marker"] == "a").all()


def test_sheets_not_written():
    for name in ("amstar2", "studies", "study_effects"):
        assert not (DATA / f"{name}.csv").exists(), name
        assert not (DATA / f"{name}.xlsx").exists(), name


# --- (e) schema vocabularies, patterns and ranges ---
def research_question_keys() -> set[str]:
    config = ROOT / "config" / "config.yaml"
    if config.exists():
        keys = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("research_questions")
        if keys:
            return set(keys)
    return RESEARCH_QUESTIONS_DEFAULT


def check_value(name: str, col: str, prop: dict, value: str) -> None:
    where = f"{name}.{col}={value!r}"
    typ = prop.get("type", "string")
    if typ == "integer":
        assert re.fullmatch(r"-?\d+", value), where
        number = int(value)
    elif typ == "number":
        text = value[:-1] if prop.get("x-percent") and value.endswith("%") else value
        number = float(text)
    else:
        number = None
    if number is not None:
        if "minimum" in prop:
            assert number >= prop["minimum"], where
        if "maximum" in prop:
            assert number <= prop["maximum"], where
        if "exclusiveMinimum" in prop:
            assert number > prop["exclusiveMinimum"], where
        if "exclusiveMaximum" in prop:
            assert number < prop["exclusiveMaximum"], where
    if "enum" in prop:
        assert value in prop["enum"], where  # canonical value, not an alias
    if "pattern" in prop:
        assert re.search(prop["pattern"], value), where
    if prop.get("x-list-separator"):
        items = value.split(prop["x-list-separator"])
        assert all(i == i.strip() and i for i in items), where
        if prop.get("x-enum-from-config") == "research_questions":
            assert set(items) <= research_question_keys(), where
    if prop.get("x-normalise") == "key":
        assert value == re.sub(r"\s+", "_", value.strip().lower()), where
        if col == "cfir_domain":
            assert value in CFIR_DOMAINS, where


def test_values_obey_schemas(sheets, schemas):
    for name in SHEETS:
        df, schema = sheets[name], schemas[name]
        for col in schema.get("required", []):
            assert col in df.columns, (name, col)
            assert (df[col] != "").all(), (name, col)
        for col, prop in schema["properties"].items():
            if col not in df.columns:
                continue
            for value in df[col]:
                if value != "":
                    check_value(name, col, prop, value)


def test_effect_checks(sheets, schemas):
    checks = schemas["effects"]["x-sheet"]["checks"]
    e = sheets["effects"]
    for _, o in e[e["estimate"] != ""].iterrows():
        est, lo, hi = float(o["estimate"]), float(o["ci_lower"]), float(o["ci_upper"])
        if "ci_ordered" in checks:
            assert lo <= hi, o["effect_id"]
        if "estimate_in_ci" in checks:
            assert lo <= est <= hi, o["effect_id"]
        if "ratio_positive" in checks and o["measure"] in RATIO_MEASURES:
            assert est > 0 and lo > 0 and hi > 0, o["effect_id"]
