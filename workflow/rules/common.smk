import os
import sys
from pathlib import Path

from snakemake.logging import logger

# The parse-time checks need the package; Snakemake puts only a script's own folder on the path of its jobs,
# so the package's folder is found next to this file (also when the workflow is used as a module).
sys.path.insert(0, str(Path(workflow.current_basedir).parent / "scripts"))

from umbrella.core.config import validate_config, vocabularies
from umbrella.core.errors import InputError, Problem
from umbrella.core.faults import describe_fault, unwritable
from umbrella.core.places import analysis_name, name_problem, place
from umbrella.core.datasets import OPTIONAL_SHEETS, find_sheets
from umbrella.extract.double import extractor_files
from umbrella.preflight import check_double_extraction, sheet_problems, validate_once
from umbrella.core.registry import (
    active,
    conditions,
    rule_outputs,
    supplement_figures,
    supplement_tables,
)
from umbrella.core.provenance import git_state
from umbrella.core.recovery import recover

CONFIG_FILES = [
    os.path.relpath(p) if str(p).startswith(os.getcwd()) else str(p) for p in workflow.config_settings.configfiles
] or ["config/config.yaml"]
_source = ", ".join(CONFIG_FILES)
try:
    config = validate_config(config, source=str(_source))
except InputError as exc:
    raise WorkflowError(exc.format()) from None

NAME = analysis_name(config, CONFIG_FILES)
if name_problem(NAME):
    raise WorkflowError(
        InputError(
            [Problem(_source, column="name", value=NAME, column_word="key", message=name_problem(NAME))],
            heading=f"The configuration {_source} has problems",
        ).format()
    )


def out(path):
    """``path`` (``results/...``, ``reports/...``, ``logs/...``) in this analysis' own folders."""
    return place(path, NAME)


VOCABULARIES = vocabularies(config)
SHEET_FILES, _problems = find_sheets(config["data"])
if _problems:  # with the problems of the sheets that were found, so that one message lists them all
    raise WorkflowError(InputError(_problems + sheet_problems(SHEET_FILES, VOCABULARIES)).format())

try:
    validate_once(
        SHEET_FILES,
        VOCABULARIES,
        f".snakemake/umbrella/{NAME or '_default'}/sheets.validated",
        prisma=config["prisma"],
        config_source=_source,
    )
except InputError as exc:
    raise WorkflowError(exc.format()) from None
except (OSError, MemoryError) as exc:
    if describe_fault(exc) is None:
        raise
    raise WorkflowError(describe_fault(exc)) from None
# Double extraction: each extractor's copy checked as `data` is, and the disagreements `data` does not settle
# refused unless the config allows them.
EXTRACTOR_FILES, _problems = extractor_files(config["double_extraction"])
if _problems:
    raise WorkflowError(InputError(_problems).format())
if config["double_extraction"]:
    try:
        _open = check_double_extraction(
            EXTRACTOR_FILES,
            SHEET_FILES,
            VOCABULARIES,
            f".snakemake/umbrella/{NAME or '_default'}/extractions.checked",
            config["double_extraction"],
            config["data"],
        )
    except InputError as exc:
        raise WorkflowError(exc.format()) from None
    if _open and workflow.is_main_process:
        logger.warning(
            f"{_open:,} disagreement{'s' if _open != 1 else ''} between the extractors "
            f"{'are' if _open != 1 else 'is'} not reconciled (double_extraction.unreconciled: allow): the analysis "
            f"runs on {config['data']} as it is; each is listed in "
            f"{out('results/extract/extraction_disagreements.csv')} and in the report."
        )
ENV = "../../environment.yml"


def source(path):
    """A file of this workflow: relative to the working directory when the workflow lives under it (so a moved
    project stays up to date), else absolute (the workflow used as a module from elsewhere)."""
    found = os.path.normpath(os.path.join(str(workflow.current_basedir), path))
    inside = os.path.abspath(found).startswith(os.getcwd() + os.sep)
    return os.path.relpath(found) if inside else os.path.abspath(found)


DICTIONARY = source("../schemas/outputs.yaml")

FLAGS = conditions(SHEET_FILES, config["prisma"], config["double_extraction"])
OUTPUTS = active(FLAGS, NAME)

# After a killed run: its stale locks and half-written files go (its unfinished jobs rerun, see the profile's
# rerun-incomplete), so the same command finishes the run; a run still working on these outputs refuses this one.
if workflow.is_main_process:
    _removed, _refusal = recover(
        ".",
        [out("results"), out("reports")],
        [o.path for o in OUTPUTS.values()] + [out("reports/umbrella_review.html"), out("reports/supplement.zip")],
    )
    if _refusal:  # a dry run too: the live run's unfinished files would read as a killed run's
        raise WorkflowError(_refusal)
    _fault = unwritable([o.path for o in OUTPUTS.values()] + [out("logs/umbrella_review.log")])
    if _fault and not workflow.output_settings.dryrun:
        raise WorkflowError(_fault)
    if _removed:
        logger.info(
            f"An interrupted run left {len(_removed)} lock and temporary files behind; they were removed, and "
            "the jobs it had not finished run again."
        )

PROVENANCE = out("results/provenance.json")
GIT = git_state(
    workflow.basedir,
    [
        "Snakefile",
        "workflow",
        "config",
        config["data"],
        *((config["double_extraction"] or {}).get("extractors") or {}).values(),
    ],
)


def declared(rule):
    """The outputs of ``rule`` in this analysis, as the registry declares them (path, caption, category)."""
    out = {}
    for name, entry in rule_outputs(rule, FLAGS, NAME).items():
        if entry.directory:
            target, patterns = directory(entry.path), ["{name}.svg"]
        else:
            target, patterns = entry.path, None
        out[name] = report(
            target,
            caption=f"../report/{entry.caption_file}",
            category=entry.category,
            **({"patterns": patterns} if patterns else {}),
        )
    return out


def path_of(key):
    """The path of a registered output, e.g. ``path_of("table_amstar2_ratings")``."""
    return OUTPUTS[key].path


def report_inputs(wildcards=None):
    """The raw sheets (for their hashes), the tidy sheets, the provenance and every registered table and
    figure, named for the report."""
    inputs = {f"sheet_{name}": str(path) for name, path in SHEET_FILES.items()}
    inputs.update({f"tidy_{name}": out(f"results/extract/{name}.csv") for name in SHEET_FILES})
    inputs["provenance"] = PROVENANCE
    inputs["dictionary"] = DICTIONARY  # how the published tables are read back
    for key, entry in OUTPUTS.items():
        if entry.sheet:
            continue
        inputs[key.replace("figure_", "figdir_") if entry.directory else key] = entry.path
    return inputs


SUPPLEMENT_TABLES = supplement_tables(FLAGS, NAME)
SUPPLEMENT_FIGURES = [o.path for o in OUTPUTS.values() if o.kind == "figure" and not o.directory]
SUPPLEMENT_FOLDERS = [o.path for o in OUTPUTS.values() if o.kind == "figure" and o.directory]
# Each figure's supplement label, caption, path and whether it is a folder of files (its parts S6a, S6b...).
FIGURE_LABELS = [[label, o.caption, o.path, o.directory] for o, label in supplement_figures(FLAGS, NAME)]


def memory(base_mb, per_input_mb):
    """A job's mem_mb: a base plus a multiple of the size of its inputs (tables grow several times when read),
    doubled on each retry."""
    return lambda wildcards, input, attempt: int(base_mb + per_input_mb * input.size_mb) * attempt


def minutes(base):
    """A job's runtime (minutes) for a scheduler: a base plus a minute per 10 MB of input, doubled on each retry."""
    return lambda wildcards, input, attempt: int(base + input.size_mb / 10) * attempt


def parallel_when_large(sheet, threads=4, size_mb=0.05):
    """Threads for a job that draws many figures in parallel processes: ``threads`` when ``sheet`` is larger than
    ``size_mb`` (then its figures run to many pages), else one, so that small analyses keep their jobs side by
    side."""
    path = SHEET_FILES.get(sheet)
    return threads if path and os.path.getsize(path) > size_mb * 1e6 else 1
