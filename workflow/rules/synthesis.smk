rule synthesise_findings:
    input:
        **{s: out(f"results/extract/{s}.csv") for s in ("implementation", "experiences") if s in SHEET_FILES},
        reviews=out("results/extract/reviews.csv"),
        ratings=path_of("table_amstar2_ratings"),
    output:
        **declared("synthesise_findings"),
    params:
        questions=config["research_questions"],
        published=config["published"],
        framework=config["synthesis"]["framework"],
        prisma=config["prisma"],
    benchmark:
        out("logs/benchmarks/synthesise_findings.tsv")
    threads: 1
    resources:
        mem_mb=memory(1000, 10),
        runtime=minutes(10),
    log:
        out("logs/synthesise_findings.log"),
    conda:
        ENV
    script:
        "../scripts/synthesise_findings.py"
