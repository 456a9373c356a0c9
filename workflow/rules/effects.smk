rule summarise_effects:
    input:
        effects="results/extract/effects.csv",
        reviews="results/extract/reviews.csv",
        ratings=path_of("table_amstar2_ratings"),
    output:
        **declared("summarise_effects"),
    params:
        settings=config["effects"],
        n_cases_threshold=config["reanalysis"]["n_cases_threshold"],
        figure_rows=config["scale"]["figure_rows"],
    benchmark:
        "logs/benchmarks/summarise_effects.tsv"
    threads: parallel_when_large("effects")
    resources:
        mem_mb=memory(1000, 20),
        runtime=minutes(10),
    log:
        "logs/summarise_effects.log",
    conda:
        ENV
    script:
        "../scripts/summarise_effects.py"


rule reanalyse_studies:
    input:
        study_effects="results/extract/study_effects.csv",
        reviews="results/extract/reviews.csv",
    output:
        **declared("reanalyse_studies"),
    params:
        settings=config["reanalysis"],
        figure_rows=config["scale"]["figure_rows"],
    benchmark:
        "logs/benchmarks/reanalyse_studies.tsv"
    threads: 1
    resources:
        mem_mb=memory(1000, 20),
        runtime=minutes(10),
    log:
        "logs/reanalyse_studies.log",
    conda:
        ENV
    script:
        "../scripts/reanalyse_studies.py"


rule detail_meta_analyses:
    input:
        pooled="results/effects/pooled.csv",
        study_effect_sizes="results/effects/study_effect_sizes.csv",
        reviews="results/extract/reviews.csv",
    output:
        **declared("detail_meta_analyses"),
    params:
        settings=config["reanalysis"],
    benchmark:
        "logs/benchmarks/detail_meta_analyses.tsv"
    threads: parallel_when_large("study_effects")
    resources:
        mem_mb=memory(1000, 20),
        runtime=minutes(30),
    log:
        "logs/detail_meta_analyses.log",
    conda:
        ENV
    script:
        "../scripts/detail_meta_analyses.py"
