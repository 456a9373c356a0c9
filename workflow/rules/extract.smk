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
