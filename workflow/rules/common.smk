import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "workflow" / "scripts"))

from umbrella.config import validate_config, vocabularies
from umbrella.errors import InputError
from umbrella.layout import OPTIONAL_SHEETS, find_sheets, validate_once
from umbrella.provenance import git_state

CONFIG_FILES = [
    os.path.relpath(p) if str(p).startswith(os.getcwd()) else str(p) for p in workflow.config_settings.configfiles
] or ["config/config.yaml"]
_source = ", ".join(CONFIG_FILES)
try:
    config = validate_config(config, source=str(_source))
except InputError as exc:
    raise WorkflowError(exc.format()) from None

SHEET_FILES, _problems = find_sheets(config["data"])
if _problems:
    raise WorkflowError(InputError(_problems).format())

VOCABULARIES = vocabularies(config)
try:
    validate_once(
        SHEET_FILES,
        VOCABULARIES,
        ".snakemake/umbrella/sheets.validated",
        prisma=config["prisma"],
        config_source=_source,
    )
except InputError as exc:
    raise WorkflowError(exc.format()) from None
PRESENT_OPTIONAL = [s for s in OPTIONAL_SHEETS if s in SHEET_FILES]
ENV = "../../environment.yml"

HAS_AMSTAR2 = "amstar2" in SHEET_FILES
QUALITY_TABLES = {
    "ratings": "results/quality/amstar2_ratings.csv",
    "item_summary": "results/quality/amstar2_items.csv",
    "agreement": "results/quality/amstar2_agreement.csv",
}
QUALITY_FIGURES = {"ratings_figure": "results/quality/amstar2_ratings.svg"}
if HAS_AMSTAR2:
    QUALITY_FIGURES["matrix_figure"] = "results/quality/amstar2_matrix.svg"
    QUALITY_FIGURES["items_figure"] = "results/quality/amstar2_items.svg"

HAS_EFFECTS = "effects" in SHEET_FILES
EFFECT_TABLES = {
    "review_effects": "results/effects/review_effects.csv",
    "outcome_summary": "results/effects/outcome_summary.csv",
}
EFFECT_FIGURES = {"evidence_map": "results/effects/evidence_map.svg"}
FOREST_DIR = "results/effects/forest"

SYNTHESIS_OUTPUTS = {"questions": "results/synthesis/questions.csv"}
if "implementation" in SHEET_FILES:
    SYNTHESIS_OUTPUTS["implementation"] = "results/synthesis/implementation.csv"
    SYNTHESIS_OUTPUTS["implementation_figure"] = "results/synthesis/implementation.svg"
if "experiences" in SHEET_FILES:
    SYNTHESIS_OUTPUTS["experiences"] = "results/synthesis/experiences.csv"
if config["prisma"]:
    SYNTHESIS_OUTPUTS["prisma"] = "results/synthesis/prisma.csv"
    SYNTHESIS_OUTPUTS["prisma_figure"] = "results/synthesis/prisma.svg"

HAS_STUDY_EFFECTS = "study_effects" in SHEET_FILES
REANALYSIS_OUTPUTS = {
    "pooled": "results/effects/pooled.csv",
    "study_effect_sizes": "results/effects/study_effect_sizes.csv",
    "forest": "results/effects/umbrella_forest.svg",
}
HAS_OVERLAP = "studies" in SHEET_FILES or "citation_matrix" in SHEET_FILES
OVERLAP_OUTPUTS = {
    "overall": "results/overlap/cca_overall.csv",
    "pairwise": "results/overlap/cca_pairwise.csv",
    "frequency": "results/overlap/study_frequency.csv",
    "review_studies": "results/overlap/review_studies.csv",
    "by_outcome": "results/overlap/cca_by_outcome.csv",
    "figure": "results/overlap/cca_pairwise.svg",
}

REVIEW_TABLES = {
    "reviews": "results/extract/reviews.csv",
    "by_type": "results/extract/reviews_by_type.csv",
    "by_question": "results/extract/reviews_by_question.csv",
    "by_year": "results/extract/reviews_by_year.csv",
    "characteristics": "results/extract/characteristics.csv",
}


def report_inputs(wildcards=None):
    """The raw sheets (for their hashes), the provenance and every table and figure, named for the report."""
    inputs = {f"sheet_{name}": str(path) for name, path in SHEET_FILES.items()}
    inputs["provenance"] = PROVENANCE
    inputs["dictionary"] = "workflow/schemas/outputs.yaml"  # how the published tables are read back
    inputs.update({f"table_{name}": path for name, path in REVIEW_TABLES.items()})
    inputs.update({f"table_{s}": f"results/extract/{s}.csv" for s in PRESENT_OPTIONAL})
    inputs.update({f"table_quality_{name}": path for name, path in QUALITY_TABLES.items()})
    inputs.update({f"figure_quality_{name}": path for name, path in QUALITY_FIGURES.items()})
    for name, path in SYNTHESIS_OUTPUTS.items():
        kind = "figure" if path.endswith(".svg") else "table"
        inputs[f"{kind}_synthesis_{name}"] = path
    if HAS_OVERLAP:
        for name, path in OVERLAP_OUTPUTS.items():
            kind = "figure" if path.endswith(".svg") else "table"
            inputs[f"{kind}_overlap_{name}"] = path
    if HAS_STUDY_EFFECTS:
        inputs["table_reanalysis_pooled"] = REANALYSIS_OUTPUTS["pooled"]
        inputs["figure_reanalysis_forest"] = REANALYSIS_OUTPUTS["forest"]
    if HAS_EFFECTS:
        inputs.update({f"table_effects_{name}": path for name, path in EFFECT_TABLES.items()})
        inputs.update({f"figure_effects_{name}": path for name, path in EFFECT_FIGURES.items()})
        inputs["figdir_effects_forest"] = FOREST_DIR
    return inputs


GIT = git_state(workflow.basedir, ["Snakefile", "workflow", "config", config["data"]])
PROVENANCE = "results/provenance.json"

# The supplement's numbered tables, as present: (label, name, title, dictionary source, path)
SUPPLEMENT_TABLES = [("S1", "characteristics", "Characteristics of the included reviews", "characteristics", REVIEW_TABLES["characteristics"])]
if HAS_AMSTAR2:
    SUPPLEMENT_TABLES.append(("S2", "amstar2_answers", "AMSTAR-2 answers per review and item", "amstar2", "results/extract/amstar2.csv"))
SUPPLEMENT_TABLES += [
    ("S3a", "amstar2_ratings", "AMSTAR-2 overall confidence per review", "amstar2_ratings", QUALITY_TABLES["ratings"]),
    ("S3b", "amstar2_items", "AMSTAR-2 answers per item", "amstar2_items", QUALITY_TABLES["item_summary"]),
]
if HAS_AMSTAR2:
    SUPPLEMENT_TABLES.append(("S3c", "amstar2_agreement", "Agreement between raters", "amstar2_agreement", QUALITY_TABLES["agreement"]))
if HAS_OVERLAP:
    SUPPLEMENT_TABLES += [
        ("S4a", "overlap_overall", "Corrected covered area, overall", "cca_overall", OVERLAP_OUTPUTS["overall"]),
        ("S4b", "overlap_pairwise", "Corrected covered area of every pair of reviews", "cca_pairwise", OVERLAP_OUTPUTS["pairwise"]),
        ("S4c", "overlap_by_outcome", "Corrected covered area per outcome", "cca_by_outcome", OVERLAP_OUTPUTS["by_outcome"]),
        ("S4d", "study_frequency", "Primary studies by the number of reviews including them", "study_frequency", OVERLAP_OUTPUTS["frequency"]),
    ]
if HAS_EFFECTS:
    SUPPLEMENT_TABLES += [
        ("S5a", "review_effects", "Review-level pooled results, harmonised", "review_effects", EFFECT_TABLES["review_effects"]),
        ("S5b", "outcome_summary", "Summary per outcome", "outcome_summary", EFFECT_TABLES["outcome_summary"]),
    ]
if HAS_STUDY_EFFECTS:
    SUPPLEMENT_TABLES += [
        ("S6a", "reanalysis", "Re-analysis of study-level data", "pooled", REANALYSIS_OUTPUTS["pooled"]),
        ("S6b", "study_effect_sizes", "Study effect sizes used in the re-analysis", "study_effect_sizes", REANALYSIS_OUTPUTS["study_effect_sizes"]),
    ]
if "implementation" in SYNTHESIS_OUTPUTS:
    SUPPLEMENT_TABLES.append(("S7", "implementation", "Implementation factors by framework domain", "implementation", SYNTHESIS_OUTPUTS["implementation"]))
if "experiences" in SYNTHESIS_OUTPUTS:
    SUPPLEMENT_TABLES.append(("S8", "experiences", "Experiences by theme", "experiences", SYNTHESIS_OUTPUTS["experiences"]))
SUPPLEMENT_TABLES.append(("S9", "research_questions", "Overview of the research questions", "questions", SYNTHESIS_OUTPUTS["questions"]))
if "prisma" in SYNTHESIS_OUTPUTS:
    SUPPLEMENT_TABLES.append(("S10", "prisma", "PRISMA 2020 flow of reviews", "prisma", SYNTHESIS_OUTPUTS["prisma"]))

SUPPLEMENT_FIGURES = list(QUALITY_FIGURES.values())
SUPPLEMENT_FIGURES += [p for n, p in SYNTHESIS_OUTPUTS.items() if p.endswith(".svg")]
if HAS_OVERLAP:
    SUPPLEMENT_FIGURES.append(OVERLAP_OUTPUTS["figure"])
if HAS_EFFECTS:
    SUPPLEMENT_FIGURES += list(EFFECT_FIGURES.values())
if HAS_STUDY_EFFECTS:
    SUPPLEMENT_FIGURES.append(REANALYSIS_OUTPUTS["forest"])
