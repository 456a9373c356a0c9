"""Tests of the simulated-dataset generator (workflow/scripts/umbrella/simulate/).

The sheets are checked against the JSON Schemas in workflow/schemas/sheets (columns, vocabularies, ranges,
patterns, keys, sort order) as read back from the CSV files, and against the invariants the generator promises
(citation matrix, AMSTAR-2 answers and ratings, effects, study-level inputs, overlap).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from umbrella.simulate import main, overlap, simulate, write

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "workflow" / "schemas" / "sheets"
COMMITTED = ROOT / "data" / "raw" / "simulated"
SHEETS = ("reviews", "amstar2", "effects", "studies", "study_effects", "implementation", "experiences")
RQ_KEYS = ("effectiveness", "implementation", "experiences")
CRITICAL = {2, 4, 7, 9, 11, 13, 15}
RATIO = {"OR", "RR", "HR", "IRR"}
INPUT_SETS = {
    "estimate+se": ("estimate", "se"),
    "estimate+ci": ("estimate", "ci_lower", "ci_upper"),
    "counts": ("events_treat", "n_treat", "events_control", "n_control"),
    "means": ("mean_treat", "sd_treat", "n_treat", "mean_control", "sd_control", "n_control"),
}
INPUT_COLUMNS = sorted({c for cols in INPUT_SETS.values() for c in cols})
# CFIR 2022 (Damschroder et al., Implementation Science 2022;17:75): constructs and subdomain roles per domain.
CFIR_2022 = {
    "innovation": {
        "Innovation Source",
        "Innovation Evidence-Base",
        "Innovation Relative Advantage",
        "Innovation Adaptability",
        "Innovation Trialability",
        "Innovation Complexity",
        "Innovation Design",
        "Innovation Cost",
    },
    "outer_setting": {
        "Critical Incidents",
        "Local Attitudes",
        "Local Conditions",
        "Partnerships & Connections",
        "Policies & Laws",
        "Financing",
        "External Pressure",
    },
    "inner_setting": {
        "Structural Characteristics",
        "Relational Connections",
        "Communications",
        "Culture",
        "Tension for Change",
        "Compatibility",
        "Relative Priority",
        "Incentive Systems",
        "Mission Alignment",
        "Available Resources",
        "Access to Knowledge & Information",
    },
    "individuals": {
        "High-level Leaders",
        "Mid-level Leaders",
        "Opinion Leaders",
        "Implementation Facilitators",
        "Implementation Leads",
        "Implementation Team Members",
        "Other Implementation Support",
        "Innovation Deliverers",
        "Innovation Recipients",
        "Need",
        "Capability",
        "Opportunity",
        "Motivation",
    },
    "implementation_process": {
        "Teaming",
        "Assessing Needs",
        "Assessing Context",
        "Planning",
        "Tailoring Strategies",
        "Engaging",
        "Doing",
        "Reflecting & Evaluating",
        "Adapting",
    },
}


def load_schema(sheet: str) -> dict:
    with open(SCHEMAS / f"{sheet}.schema.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def read_back(directory: Path) -> dict[str, pd.DataFrame]:
    """The sheets as a reader of the CSV files sees them (blank = missing)."""
    return {
        s: pd.read_csv(directory / f"{s}.csv", keep_default_na=False, na_values=[""], encoding="utf-8") for s in SHEETS
    }


def derived_rating(consensus: pd.DataFrame) -> pd.Series:
    """AMSTAR-2 overall confidence from consensus answers under the default rule (Shea et al. 2017)."""
    no = consensus["answer"].eq("N")
    crit = consensus["item"].isin(CRITICAL)
    flaws = (no & crit).groupby(consensus["review_id"]).sum()
    weak = (no & ~crit).groupby(consensus["review_id"]).sum()
    return pd.Series(
        np.where(flaws > 1, "critically_low", np.where(flaws == 1, "low", np.where(weak > 1, "moderate", "high"))),
        index=flaws.index,
    )


def hedges_j(m: pd.Series) -> np.ndarray:
    """Hedges' exact small-sample correction Γ(m/2)/(√(m/2)·Γ((m − 1)/2))."""
    return np.array([math.exp(math.lgamma(v / 2) - 0.5 * math.log(v / 2) - math.lgamma((v - 1) / 2)) for v in m])


def cca(studies: pd.DataFrame) -> float:
    pairs = studies[["review_id", "study_id"]].drop_duplicates()
    n, r, c = len(pairs), pairs["study_id"].nunique(), pairs["review_id"].nunique()
    return (n - r) / (r * c - r)


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return simulate(n_reviews=35, seed=1)


@pytest.fixture(scope="module")
def csv_dir(tables, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sim35")
    write(tables, out)
    return out


@pytest.fixture(scope="module")
def sheets(csv_dir) -> dict[str, pd.DataFrame]:
    return read_back(csv_dir)


@pytest.fixture(scope="module")
def big_sheets(tmp_path_factory) -> dict[str, pd.DataFrame]:
    out = tmp_path_factory.mktemp("sim2000")
    write(simulate(n_reviews=2000, seed=7), out)
    return read_back(out)


# --------------------------------------------------------------------------------------------------------------
# Determinism and output format


def test_same_seed_gives_identical_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write(simulate(n_reviews=35, seed=1), a)
    write(simulate(n_reviews=35, seed=1), b)
    for sheet in SHEETS:
        assert (a / f"{sheet}.csv").read_bytes() == (b / f"{sheet}.csv").read_bytes(), sheet


def test_different_seed_gives_different_data():
    one, two = simulate(n_reviews=35, seed=1), simulate(n_reviews=35, seed=2)
    assert not one["studies"].equals(two["studies"])
    assert not one["amstar2"].equals(two["amstar2"])
    assert not one["reviews"]["year"].equals(two["reviews"]["year"])


def test_csv_format(csv_dir):
    for sheet in SHEETS:
        raw = (csv_dir / f"{sheet}.csv").read_bytes()
        text = raw.decode("utf-8")
        assert "\r" not in text and text.endswith("\n")
        header = text.split("\n", 1)[0].split(",")
        assert header == list(load_schema(sheet)["properties"]), sheet  # no index column, schema order
        cells = pd.read_csv(csv_dir / f"{sheet}.csv", dtype=str, keep_default_na=False)
        for col, spec in load_schema(sheet)["properties"].items():
            if spec.get("type") in ("number", "integer"):
                filled = cells[col][cells[col].ne("")]
                number = r"-?\d+" if spec["type"] == "integer" else r"-?\d+(\.\d{1,4})?"
                assert filled.str.fullmatch(number).all(), f"{sheet}.{col}: not a plain number with <= 4 decimals"


def test_command_line_writes_the_same_files(tmp_path, tables):
    assert main(["--reviews", "35", "--seed", "1", "--out", str(tmp_path / "cli")]) == 0
    write(tables, tmp_path / "api")
    for sheet in SHEETS:
        assert (tmp_path / "cli" / f"{sheet}.csv").read_bytes() == (tmp_path / "api" / f"{sheet}.csv").read_bytes()


def test_committed_dataset_is_what_the_generator_writes(csv_dir):
    for sheet in SHEETS:
        committed = COMMITTED / f"{sheet}.csv"
        assert committed.exists(), f"{committed} is missing; regenerate it (see data/raw/simulated/SOURCES.md)"
        assert committed.read_bytes() == (csv_dir / f"{sheet}.csv").read_bytes(), (
            f"{committed} differs from `python -m umbrella.simulate --reviews 35 --seed 1`; regenerate it"
        )


def test_committed_sources_say_simulated():
    text = (COMMITTED / "SOURCES.md").read_text(encoding="utf-8")
    assert "SIMULATED" in text
    assert "python -m umbrella.simulate --reviews 35 --seed 1" in text


def test_simulated_config_is_valid():
    jsonschema = pytest.importorskip("jsonschema")
    with open(ROOT / "workflow" / "schemas" / "config.schema.yaml", encoding="utf-8") as fh:
        schema = yaml.safe_load(fh)
    with open(ROOT / "config" / "simulated.yaml", encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    jsonschema.Draft202012Validator(schema).validate(config)
    assert config["data"] == "data/raw/simulated" and (ROOT / config["data"]).is_dir()
    assert config["simulated"] is True and "SIMULATED" in config["title"]
    assert config["published"] is None
    assert tuple(config["research_questions"]) == RQ_KEYS


def test_rejects_no_reviews():
    with pytest.raises(ValueError):
        simulate(n_reviews=0)


# --------------------------------------------------------------------------------------------------------------
# The schemas: columns, vocabularies, ranges, patterns, keys, sort order


def check_schema(sheet: str, df: pd.DataFrame) -> None:
    schema = load_schema(sheet)
    props = schema["properties"]
    assert list(df.columns) == list(props), sheet
    for col in schema.get("required", []):
        assert df[col].notna().all(), f"{sheet}.{col}: blank required cells"
    for col, spec in props.items():
        values = df[col].dropna()
        where = f"{sheet}.{col}"
        if values.empty:
            continue
        kind = spec.get("type", "string")
        if kind in ("integer", "number"):
            assert pd.api.types.is_numeric_dtype(values), where
            numbers = values.astype(float)
            if kind == "integer":
                assert (numbers == np.floor(numbers)).all(), f"{where}: not whole numbers"
            if "minimum" in spec:
                assert (numbers >= spec["minimum"]).all(), where
            if "maximum" in spec:
                assert (numbers <= spec["maximum"]).all(), where
            if "exclusiveMinimum" in spec:
                assert (numbers > spec["exclusiveMinimum"]).all(), where
            if "exclusiveMaximum" in spec:
                assert (numbers < spec["exclusiveMaximum"]).all(), where
            continue
        assert values.map(lambda v: isinstance(v, str)).all(), where
        assert (values.str.strip() == values).all() and values.ne("").all(), where
        if "enum" in spec:
            bad = sorted(set(values) - set(spec["enum"]))
            assert not bad, f"{where}: {bad} not in {spec['enum']}"
        if spec.get("x-enum-from-config") == "research_questions":
            items = values.str.split(spec["x-list-separator"])
            assert items.map(lambda xs: set(xs) <= set(RQ_KEYS) and len(set(xs)) == len(xs)).all(), where
        if "pattern" in spec:
            pattern = re.compile(spec["pattern"])
            bad = [v for v in values if not pattern.search(v)]
            assert not bad, f"{where}: {bad[:3]} do not match {spec['pattern']}"
        if spec.get("x-normalise") == "key":
            assert values.str.fullmatch(r"[a-z_]+").all(), where
    meta = schema.get("x-sheet", {})
    key = meta.get("key", [])
    if key:
        dup = df[key].astype(object).fillna("").duplicated(keep=False)
        for col in [c for c, spec in props.items() if spec.get("x-repeats-key") and c in df]:
            # several rows of one key are allowed when each has the column, the same in all of them
            marks = df.loc[dup, col].astype(object).fillna("")
            same = marks.groupby([df.loc[dup, k].astype(object).fillna("") for k in key]).transform("nunique").eq(1)
            dup.loc[dup] = marks.eq("") | ~same
        assert not dup.any(), f"{sheet}: duplicate key {key}"
    sort = meta.get("sort", [])
    if sort and len(df) > 1:
        resorted = df.sort_values(sort, kind="mergesort", na_position="first")
        assert resorted.index.equals(df.index), f"{sheet}: rows not sorted by {sort}"


@pytest.mark.parametrize("sheet", SHEETS)
def test_values_respect_the_schema(sheets, sheet):
    check_schema(sheet, sheets[sheet])


@pytest.mark.parametrize("sheet", SHEETS)
def test_values_respect_the_schema_at_scale(big_sheets, sheet):
    check_schema(sheet, big_sheets[sheet])


def test_validates_with_the_pipeline_reader(csv_dir):
    """The pipeline's own sheet reader, where present, finds no problem in the simulated sheets."""
    sheets_module = pytest.importorskip("umbrella.core.sheets")
    loaded = sheets_module.load_dataset(csv_dir, vocabularies={"research_questions": list(RQ_KEYS)})
    assert set(loaded) == set(SHEETS)


def test_every_sheet_is_written(sheets):
    for sheet in SHEETS:
        assert len(sheets[sheet]) > 0, sheet


# --------------------------------------------------------------------------------------------------------------
# Reviews and the citation matrix


def check_references(s: dict[str, pd.DataFrame]) -> None:
    known = set(s["reviews"]["review_id"])
    for sheet in SHEETS:
        assert set(s[sheet]["review_id"]) <= known, sheet
    pairs = set(zip(s["studies"]["review_id"], s["studies"]["study_id"], strict=True))
    se = s["study_effects"]
    assert set(zip(se["review_id"], se["study_id"], strict=True)) <= pairs
    years = s["studies"].drop_duplicates("study_id").set_index("study_id")["study_year"]
    assert (se["year"].to_numpy() == years.loc[se["study_id"]].to_numpy()).all()
    # a study has one year in every review that includes it
    assert s["studies"].groupby("study_id")["study_year"].nunique().eq(1).all()


def check_citation_matrix(s: dict[str, pd.DataFrame]) -> None:
    reviews = s["reviews"].set_index("review_id")
    counts = s["studies"].groupby("review_id").size().reindex(reviews.index, fill_value=0)
    assert (counts == reviews["n_primary_studies"]).all()
    search_year = reviews["search_end"].str.slice(0, 4).astype(int)
    st = s["studies"]
    assert (st["study_year"].to_numpy() <= search_year.loc[st["review_id"]].to_numpy()).all()
    assert (search_year <= reviews["year"]).all()
    assert reviews["year"].between(2005, 2024).all()
    assert reviews["search_end"].str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").all()


def test_references(sheets):
    check_references(sheets)


def test_references_at_scale(big_sheets):
    check_references(big_sheets)


def test_citation_matrix(sheets):
    check_citation_matrix(sheets)


def test_citation_matrix_at_scale(big_sheets):
    check_citation_matrix(big_sheets)
    assert len(big_sheets["reviews"]) == 2000
    assert big_sheets["studies"]["study_id"].nunique() > 20_000


def test_overlap_is_plausible(sheets):
    assert 0.05 <= cca(sheets["studies"]) <= 0.15
    for seed in (2, 3, 4):
        assert 0.05 <= cca(simulate(n_reviews=35, seed=seed)["studies"]) <= 0.15, seed
    # some studies are in many reviews, most in few
    per_study = sheets["studies"].groupby("study_id").size()
    assert per_study.max() >= 10 and per_study.median() <= 5


def test_overlap_summary(tables, sheets):
    """``overlap`` (the pipeline's CCA) agrees with the formula computed here."""
    o = overlap(tables["studies"])
    pairs = sheets["studies"][["review_id", "study_id"]].drop_duplicates()
    assert (o["inclusions"], o["studies"], o["reviews"]) == (
        len(pairs),
        pairs["study_id"].nunique(),
        pairs["review_id"].nunique(),
    )
    assert o["cca"] == pytest.approx(cca(sheets["studies"]), rel=1e-12)


def test_reviews_mix_and_questions(sheets):
    r = sheets["reviews"]
    assert r["review_type"].value_counts().to_dict() == {
        "sr_meta_analysis": 13,
        "sr_narrative": 13,
        "scoping": 6,
        "sr_qualitative": 3,
    }
    rq = r["research_questions"].str.split(";")
    ma = r["review_type"].eq("sr_meta_analysis")
    assert rq[ma].map(lambda xs: "effectiveness" in xs).all()
    qual = r["review_type"].isin(["sr_qualitative", "scoping"])
    other = {"implementation", "experiences"}
    assert rq[qual].map(lambda xs: "effectiveness" not in xs and bool(other & set(xs))).all()
    assert rq.map(len).gt(1).any()
    for key in RQ_KEYS:
        assert rq.map(lambda xs, k=key: k in xs).any(), key
    # implementation and experiences rows come from exactly the reviews that address those questions
    has = {k: set(r["review_id"][rq.map(lambda xs, k=k: k in xs)]) for k in RQ_KEYS}
    assert set(sheets["implementation"]["review_id"]) == has["implementation"]
    assert set(sheets["experiences"]["review_id"]) == has["experiences"]
    assert set(sheets["effects"]["review_id"]) <= set(r["review_id"][ma])


def test_text_is_plainly_fictional(sheets):
    r = sheets["reviews"]
    assert r["title"].str.startswith("Simulated review").all()
    assert r["doi"].str.startswith("10.5555/sim.").all()
    assert r["source"].eq("simulated").all()
    assert r["review_id"].str.fullmatch(r"Sim\d{3}").all()
    assert sheets["studies"]["study_id"].str.fullmatch(r"S\d{5}").all()
    assert sheets["effects"]["effect_id"].str.fullmatch(r"E\d{3}").all()


# --------------------------------------------------------------------------------------------------------------
# AMSTAR-2


def check_amstar2(s: dict[str, pd.DataFrame]) -> None:
    a, r = s["amstar2"], s["reviews"]
    full = pd.MultiIndex.from_product([r["review_id"], range(1, 17), ["R1", "R2", "consensus"]])
    got = pd.MultiIndex.from_frame(a[["review_id", "item", "rater"]])
    assert got.sort_values().equals(full.sort_values())
    ma_reviews = set(r.loc[r["review_type"].eq("sr_meta_analysis"), "review_id"])
    is_ma = a["review_id"].isin(ma_reviews)
    nma = a["answer"].eq("NMA")
    assert a.loc[nma, "item"].isin([11, 12, 15]).all()
    assert not (nma & is_ma).any()
    assert a.loc[a["answer"].eq("PY"), "item"].isin([2, 4, 7, 8, 9]).all()
    # a review without a meta-analysis: NMA on items 11, 12 and 15 by every rater
    assert a.loc[~is_ma & a["item"].isin([11, 12, 15]), "answer"].eq("NMA").all()
    wide = a.pivot(index=["review_id", "item"], columns="rater", values="answer")
    assert ((wide["consensus"] == wide["R1"]) | (wide["consensus"] == wide["R2"])).all()
    disagreement = (wide["R1"] != wide["R2"]).mean()
    assert 0.05 <= disagreement <= 0.15, disagreement
    derived = derived_rating(a[a["rater"].eq("consensus")])
    reported = r.set_index("review_id")["amstar2_reported"].loc[derived.index]
    mismatches = int((reported != derived).sum())
    assert 1 <= mismatches <= max(3, math.ceil(0.1 * len(r))), mismatches
    # mostly low or critically low, as in real overviews
    assert reported.isin(["low", "critically_low"]).mean() >= 0.6


def test_amstar2(sheets):
    check_amstar2(sheets)
    a = sheets["amstar2"]
    assert a["note"].isna().all()
    derived = derived_rating(a[a["rater"].eq("consensus")])
    reported = sheets["reviews"].set_index("review_id")["amstar2_reported"].loc[derived.index]
    assert int((reported != derived).sum()) in (2, 3)


def test_amstar2_at_scale(big_sheets):
    check_amstar2(big_sheets)


# --------------------------------------------------------------------------------------------------------------
# Pooled and study-level effects


def check_effects(s: dict[str, pd.DataFrame]) -> None:
    e = s["effects"]
    assert ((e["ci_lower"] < e["estimate"]) & (e["estimate"] < e["ci_upper"])).all()
    ratio = e["measure"].isin(RATIO)
    assert (e.loc[ratio, ["estimate", "ci_lower", "ci_upper"]] > 0).all().all()
    log = np.log(e.loc[ratio, ["estimate", "ci_lower", "ci_upper"]])
    assert (log["estimate"] - (log["ci_lower"] + log["ci_upper"]) / 2).abs().max() < 0.01
    plain = e.loc[~ratio]
    assert (plain["estimate"] - (plain["ci_lower"] + plain["ci_upper"]) / 2).abs().max() <= 0.011
    assert e["ci_level"].eq(95).all() and e["k_studies"].ge(1).all()
    assert e["p_value"].str.fullmatch(r"< 0\.0+1|0\.\d{2,3}|1\.00").all()
    expected = np.where(e["outcome_group"].eq("Depression"), "lower", "higher")
    assert (e["favours"] == expected).all()
    assert not e[["review_id", "outcome"]].duplicated().any()
    reviews = s["reviews"].set_index("review_id")
    assert (e["k_studies"].to_numpy() <= reviews.loc[e["review_id"], "n_primary_studies"].to_numpy()).all()
    assert (e["n_participants"].to_numpy() <= reviews.loc[e["review_id"], "n_participants"].to_numpy()).all()
    assert e["measure"].value_counts().idxmax() == "SMD"


def test_effects(sheets):
    check_effects(sheets)
    e = sheets["effects"]
    assert set(e["outcome_group"]) >= {"Depression", "Recovery", "Hope", "Quality of life"}
    assert e["measure"].isin(["OR", "RR"]).any()


def test_effects_at_scale(big_sheets):
    check_effects(big_sheets)


def check_study_effects(s: dict[str, pd.DataFrame]) -> None:
    se = s["study_effects"]
    present = se[INPUT_COLUMNS].notna()
    complete = pd.DataFrame({name: present[list(cols)].all(axis=1) for name, cols in INPUT_SETS.items()})
    assert complete.sum(axis=1).eq(1).all(), "each row must have exactly one complete input set"
    # and nothing outside that set
    for name, cols in INPUT_SETS.items():
        rows = complete[name]
        others = [c for c in INPUT_COLUMNS if c not in cols]
        assert not present.loc[rows, others].any().any(), name
    counts = complete["counts"]
    assert se.loc[counts, "measure"].isin(["OR", "RR"]).all()
    assert se.loc[complete["means"], "measure"].isin(["MD", "SMD"]).all()
    assert (se.loc[counts, "events_treat"] <= se.loc[counts, "n_treat"]).all()
    assert (se.loc[counts, "events_control"] <= se.loc[counts, "n_control"]).all()
    ci = complete["estimate+ci"]
    assert ((se.loc[ci, "ci_lower"] < se.loc[ci, "estimate"]) & (se.loc[ci, "estimate"] < se.loc[ci, "ci_upper"])).all()
    assert complete.any().all(), "every input style is used"
    assert se["outcome"].nunique() >= 3
    assert {"SMD", "MD"} <= set(se["measure"]) and set(se["measure"]) & {"OR", "RR"}
    # a few studies give two effect sizes: two outcomes on the same participants, or two arms sharing a control
    # group (split between them); the rest one row each
    repeated = se[se.duplicated(["outcome", "review_id", "study_id"], keep=False)]
    assert set(repeated["multiple_es"]) == {"outcomes", "groups"} and se["multiple_es"].notna().sum() == len(repeated)
    assert repeated.loc[repeated["multiple_es"] == "groups", "shared_controls"].eq(2).all()
    assert se["shared_controls"].notna().sum() == (repeated["multiple_es"] == "groups").sum()
    # each study-level outcome backs one pooled result of the same review, with as many studies
    k = se.groupby(["review_id", "outcome"])["study_id"].nunique()
    e = s["effects"].set_index(["review_id", "outcome"])
    assert k.index.isin(e.index).all()
    assert (e.loc[k.index, "k_studies"].to_numpy() == k.to_numpy()).all()
    measures = se.groupby(["review_id", "outcome"])["measure"].first()
    assert (e.loc[k.index, "measure"].to_numpy() == measures.to_numpy()).all()


def test_study_effects(sheets):
    check_study_effects(sheets)


def test_study_effects_at_scale(big_sheets):
    check_study_effects(big_sheets)


def _one_per_study(g: pd.DataFrame, y: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of a study given twice made one (Borenstein et al. 2009, ch. 23-24): the fixed-effect pool of
    "groups"; the mean of "outcomes" with variance (Σv + Σ_{i≠j} r·√vᵢ·√vⱼ)/m², r = within_r or 0.5."""
    ys, vs = [], []
    for _, rows in pd.DataFrame({"study": g["study_id"].to_numpy(), "y": y, "v": v,
                                 "how": g["multiple_es"].to_numpy(), "r": g["within_r"].to_numpy()}).groupby(
            "study", sort=False):  # fmt: skip
        if len(rows) == 1:
            ys.append(rows["y"].iloc[0])
            vs.append(rows["v"].iloc[0])
        elif rows["how"].iloc[0] == "groups":
            w = 1 / rows["v"]
            ys.append(np.sum(w * rows["y"]) / np.sum(w))
            vs.append(1 / np.sum(w))
        else:
            r, sd, m = rows["r"].astype(float).fillna(0.5).mean(), np.sqrt(rows["v"]), len(rows)
            ys.append(rows["y"].mean())
            vs.append((np.sum(rows["v"]) + r * (np.sum(sd) ** 2 - np.sum(rows["v"]))) / m**2)
    return np.array(ys), np.array(vs)


def test_pooled_results_reproduce_from_study_level_data(sheets):
    """The pooled results that have study-level rows are their DerSimonian-Laird random-effects pools (SMDs as
    Hedges' g, as the re-analysis takes them)."""
    se = sheets["study_effects"]
    e = sheets["effects"].set_index(["review_id", "outcome"])
    for (review, outcome), g in se.groupby(["review_id", "outcome"]):
        measure = g["measure"].iloc[0]
        if measure in ("OR", "RR"):
            share = g["shared_controls"].fillna(1).astype(float)  # a shared control group split between its arms
            a, c = g["events_treat"].astype(float), g["events_control"].astype(float) / share
            n1, n2 = g["n_treat"].astype(float), g["n_control"].astype(float) / share
            zero = ((a == 0) | (c == 0) | (a == n1) | (c == n2)) * 0.5
            a, c, n1, n2 = a + zero, c + zero, n1 + 2 * zero, n2 + 2 * zero
            if measure == "OR":
                y, v = np.log(a * (n2 - c) / ((n1 - a) * c)), 1 / a + 1 / (n1 - a) + 1 / c + 1 / (n2 - c)
            else:
                y, v = np.log((a / n1) / (c / n2)), 1 / a - 1 / n1 + 1 / c - 1 / n2
        elif g["mean_treat"].notna().all():
            n1, n2 = g["n_treat"].astype(float), g["n_control"].astype(float)
            diff = g["mean_treat"] - g["mean_control"]
            if measure == "MD":
                y, v = diff, g["sd_treat"] ** 2 / n1 + g["sd_control"] ** 2 / n2
            else:  # Hedges' g
                sp = np.sqrt(((n1 - 1) * g["sd_treat"] ** 2 + (n2 - 1) * g["sd_control"] ** 2) / (n1 + n2 - 2))
                y = hedges_j(n1 + n2 - 2) * diff / sp
                v = (n1 + n2) / (n1 * n2) + y**2 / (2 * (n1 + n2))
        else:  # Cohen's d with both group sizes (n_cases, n_controls): Hedges' g = J·d, SE J·SE
            j = hedges_j(g["n_cases"].astype(float) + g["n_controls"].astype(float) - 2)
            y = j * g["estimate"]
            v = (j * g["se"].fillna((g["ci_upper"] - g["ci_lower"]) / (2 * 1.959964))) ** 2
        y, v = _one_per_study(g, np.asarray(y, float), np.asarray(v, float))
        w = 1 / v
        q = np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2)
        tau2 = max(0.0, (q - (len(y) - 1)) / (np.sum(w) - np.sum(w**2) / np.sum(w)))
        ws = 1 / (v + tau2)
        mu = np.sum(ws * y) / np.sum(ws)
        row = e.loc[(review, outcome)]
        pooled = math.exp(mu) if measure in ("OR", "RR") else mu
        assert row["estimate"] == pytest.approx(pooled, abs=0.006), (review, outcome)
        assert row["tau2"] == pytest.approx(tau2, abs=1e-3 + 1e-3 * tau2), (review, outcome)


def test_small_study_asymmetry(sheets):
    """Depressive symptoms in the largest review with study-level data (the first scenario) shows small-study
    effects: Egger's regression (estimate/se on 1/se) has an intercept far in the direction of benefit (a
    lower depression score)."""
    se = sheets["study_effects"]
    rows = se[se["measure"].eq("SMD") & se["estimate"].notna()].copy()
    rows["s"] = rows["se"].fillna((rows["ci_upper"] - rows["ci_lower"]) / (2 * 1.959964))
    size = sheets["reviews"].set_index("review_id")["n_primary_studies"]
    largest = max(rows["review_id"].unique(), key=lambda review: (size[review], review))
    g = rows[rows["review_id"].eq(largest) & rows["outcome"].eq("Depressive symptoms")]
    assert len(g) >= 15
    _, intercept = np.polyfit(1 / g["s"], g["estimate"] / g["s"], 1)
    assert intercept < -1.5, (largest, intercept)
    small = g.loc[g["s"] > g["s"].median(), "estimate"].mean()
    large = g.loc[g["s"] <= g["s"].median(), "estimate"].mean()
    assert small < large  # smaller studies, larger benefit


def test_study_level_columns_for_grade(sheets):
    """Cases and controls on every row; indirectness for most meta-analyses but not all (one left to the
    "missing" rule); an AMSTAR score for some, constant within each meta-analysis."""
    se = sheets["study_effects"]
    assert se[["n_cases", "n_controls"]].notna().all().all()
    by_ma = se.groupby(["outcome", "review_id"])
    given = by_ma["indirectness"].apply(lambda s: s.notna().any())
    assert by_ma["indirectness"].apply(lambda s: s.notna().all() or s.isna().all()).all()
    assert 0 < (~given).sum() < given.sum()
    assert {"no", "serious", "very_serious"} <= set(se["indirectness"].dropna())
    assert by_ma["amstar"].nunique(dropna=False).eq(1).all()
    amstar = by_ma["amstar"].first()
    assert amstar.notna().any() and amstar.isna().any()


def test_reanalysis_reaches_every_class_and_grade_level(csv_dir):
    """The study-level meta-analyses, re-analysed as the pipeline does, reach every Ioannidis class, every
    downgrade level of every algorithmic GRADE domain, and every GRADE label."""
    from umbrella.core.sheets import column_types
    from umbrella.core.tables import read_table
    from umbrella.reanalysis.analysis import reanalyse
    from umbrella.reanalysis.settings import MetaSettings

    table = read_table(csv_dir / "study_effects.csv", column_types("study_effects"))
    pooled, _ = reanalyse(table, MetaSettings())
    assert len(pooled) == table[["outcome", "review_id"]].drop_duplicates().shape[0]
    expected = {
        "class": {"I", "II", "III", "IV", "ns"},
        "grade_start": {0, 1},
        "grade_rob": {0, 1, 2},
        "grade_inconsistency": {0, 1, 2},
        "grade_indirectness": {0, 1, 2},
        "grade_imprecision": {0, 1, 2},
        "grade_publication_bias": {0, 1},
        "grade": {"High", "Moderate", "Weak", "Very weak"},
    }
    for column, levels in expected.items():
        values = pooled[column].dropna()
        found = {int(v) for v in values} if column.startswith("grade_") else set(values)
        assert found == levels, (column, sorted(map(str, levels - found)), pooled[["review_id", "outcome", column]])


# --------------------------------------------------------------------------------------------------------------
# Implementation and experiences


def test_implementation(sheets):
    imp = sheets["implementation"]
    assert set(imp["cfir_domain"]) == set(CFIR_2022)
    for domain, construct in zip(imp["cfir_domain"], imp["construct"], strict=True):
        assert construct in CFIR_2022[domain], (domain, construct)
    assert set(imp["role"]) == {"barrier", "facilitator"}
    assert imp["factor"].notna().all()
    assert not imp[["review_id", "cfir_domain", "construct", "factor"]].duplicated().any()


def test_experiences(sheets):
    ex = sheets["experiences"]
    assert set(ex["perspective"]) == {"peer support workers", "service users", "staff"}
    assert ex["theme"].nunique() == 3
    assert ex.groupby("subtheme")["theme"].nunique().eq(1).all()
    assert ex[["finding", "subtheme"]].notna().all().all()
    assert not ex[["review_id", "perspective", "subtheme"]].duplicated().any()


@pytest.mark.parametrize("n_reviews", [1, 2, 5, 12])
def test_small_datasets_are_consistent(tmp_path, n_reviews):
    write(simulate(n_reviews=n_reviews, seed=5), tmp_path)
    s = read_back(tmp_path)
    assert len(s["reviews"]) == n_reviews
    for sheet in SHEETS:
        check_schema(sheet, s[sheet])
    check_references(s)
    check_citation_matrix(s)
