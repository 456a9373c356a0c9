rule summarise_effects:
    input:
        effects=out("results/extract/effects.csv"),
        reviews=out("results/extract/reviews.csv"),
        ratings=path_of("table_amstar2_ratings"),
    output:
        **declared("summarise_effects"),
    params:
        settings=config["effects"],
        n_cases_threshold=config["reanalysis"]["n_cases_threshold"],
        figure_rows=config["scale"]["figure_rows"],
    benchmark:
        out("logs/benchmarks/summarise_effects.tsv")
    threads: parallel_when_large("effects")
    resources:
        mem_mb=memory(1000, 20),
        runtime=minutes(10),
    log:
        out("logs/summarise_effects.log"),
    conda:
        ENV
    script:
        "../scripts/summarise_effects.py"


rule reanalyse_studies:
    input:
        **({"effects": out("results/extract/effects.csv")} if "effects" in SHEET_FILES else {}),
        study_effects=out("results/extract/study_effects.csv"),
        reviews=out("results/extract/reviews.csv"),
    output:
        **declared("reanalyse_studies"),
    params:
        settings=config["reanalysis"],
        effect_settings=config["effects"],
        figure_rows=config["scale"]["figure_rows"],
    benchmark:
        out("logs/benchmarks/reanalyse_studies.tsv")
    threads: 1
    resources:
        mem_mb=memory(1000, 20),
        runtime=minutes(10),
    log:
        out("logs/reanalyse_studies.log"),
    conda:
        ENV
    script:
        "../scripts/reanalyse_studies.py"


# The summary of findings needs the pooled results of an effects sheet.
if "table_summary_of_findings" in OUTPUTS:

    rule tabulate_findings:
        input:
            **({"pooled": path_of("table_pooled")} if "table_pooled" in OUTPUTS else {}),
            review_effects=path_of("table_review_effects"),
            outcome_summary=path_of("table_outcome_summary"),
            reviews=out("results/extract/reviews.csv"),
        output:
            **declared("tabulate_findings"),
        params:
            settings=config["effects"],
            grade_labels=config["reanalysis"]["grade"]["labels"],
        benchmark:
            out("logs/benchmarks/tabulate_findings.tsv")
        threads: 1
        resources:
            mem_mb=memory(1000, 10),
            runtime=minutes(10),
        log:
            out("logs/tabulate_findings.log"),
        conda:
            ENV
        script:
            "../scripts/tabulate_findings.py"


rule detail_meta_analyses:
    input:
        pooled=out("results/effects/pooled.csv"),
        study_effect_sizes=out("results/effects/study_effect_sizes.csv"),
        reviews=out("results/extract/reviews.csv"),
    output:
        **declared("detail_meta_analyses"),
    params:
        settings=config["reanalysis"],
        detail_figures=config["scale"]["detail_figures"],
    benchmark:
        out("logs/benchmarks/detail_meta_analyses.tsv")
    threads: parallel_when_large("study_effects")
    resources:
        mem_mb=memory(1000, 20),
        runtime=minutes(30),
    log:
        out("logs/detail_meta_analyses.log"),
    conda:
        ENV
    script:
        "../scripts/detail_meta_analyses.py"
