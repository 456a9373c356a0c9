rule extract_reviews:
    input:
        sheet=SHEET_FILES["reviews"],
    output:
        **declared("extract_reviews"),
        reviews=out("results/extract/reviews.csv"),
    params:
        vocabularies=VOCABULARIES,
        questions=config["research_questions"],
        published=config["published"],
    benchmark:
        out("logs/benchmarks/extract_reviews.tsv")
    priority: 1  # every later stage needs it
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        out("logs/extract_reviews.log"),
    conda:
        ENV
    script:
        "../scripts/extract_reviews.py"


rule extract_sheet:
    input:
        sheet=lambda wc: SHEET_FILES[wc.sheet],
    output:
        table=out("results/extract/{sheet}.csv"),
    wildcard_constraints:
        sheet="|".join(OPTIONAL_SHEETS),
    benchmark:
        out("logs/benchmarks/extract_sheet/{sheet}.tsv")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        out("logs/extract_sheet/{sheet}.log"),
    conda:
        ENV
    script:
        "../scripts/extract_sheet.py"


if config["double_extraction"]:

    rule compare_extractions:
        input:
            **{
                f"copy_{i}_{sheet}": str(path)
                for i, files in enumerate(EXTRACTOR_FILES.values())
                for sheet, path in files.items()
            },
            **{f"data_{sheet}": str(path) for sheet, path in SHEET_FILES.items()},
        output:
            **declared("compare_extractions"),
        params:
            settings=config["double_extraction"],
            data=config["data"],
            vocabularies=VOCABULARIES,
        benchmark:
            out("logs/benchmarks/compare_extractions.tsv")
        threads: 1
        resources:
            mem_mb=memory(1000, 20),
            runtime=minutes(10),
        log:
            out("logs/compare_extractions.log"),
        conda:
            ENV
        script:
            "../scripts/compare_extractions.py"
