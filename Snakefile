from snakemake.utils import min_version

min_version("9.0")


# The default analysis; `--configfile other.yaml` replaces it (it is not merged into it).
if not workflow.config_settings.configfiles:

    configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/extract.smk"
include: "workflow/rules/quality.smk"
include: "workflow/rules/overlap.smk"
include: "workflow/rules/effects.smk"
include: "workflow/rules/synthesis.smk"
include: "workflow/rules/report.smk"


# Small jobs run in the main process's host even when the others go to a cluster.
localrules:
    all,
    extract_reviews,
    extract_sheet,
    record_provenance,


rule all:
    input:
        out("reports/umbrella_review.html"),
        out("reports/umbrella_review.pdf"),
        out("reports/supplement.zip"),
    default_target: True
