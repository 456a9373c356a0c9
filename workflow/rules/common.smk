import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "workflow" / "scripts"))

from umbrella.config import validate_config, vocabularies
from umbrella.errors import InputError
from umbrella.layout import OPTIONAL_SHEETS, find_sheets, validate_once

_source = ", ".join(map(str, workflow.config_settings.configfiles)) or "config/config.yaml"
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
    """The raw sheets (for their hashes) and every table of the extract stage, named for the report."""
    inputs = {f"sheet_{name}": str(path) for name, path in SHEET_FILES.items()}
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
