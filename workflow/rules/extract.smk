rule extract_reviews:
    input:
        sheet=SHEET_FILES["reviews"],
    output:
        reviews="results/extract/reviews.csv",
        by_type=report(
            "results/extract/reviews_by_type.csv",
            caption="../report/reviews_by_type.rst",
            category="Included reviews",
        ),
        by_question=report(
            "results/extract/reviews_by_question.csv",
            caption="../report/reviews_by_question.rst",
            category="Included reviews",
        ),
        by_year=report(
            "results/extract/reviews_by_year.csv",
            caption="../report/reviews_by_year.rst",
            category="Included reviews",
        ),
        characteristics=report(
            "results/extract/characteristics.csv",
            caption="../report/characteristics.rst",
            category="Included reviews",
        ),
    params:
        vocabularies=VOCABULARIES,
        questions=config["research_questions"],
        published=config["published"],
    log:
        "logs/extract_reviews.log",
    conda:
        ENV
    script:
        "../scripts/extract_reviews.py"


rule extract_sheet:
    input:
        sheet=lambda wc: SHEET_FILES[wc.sheet],
    output:
        table="results/extract/{sheet}.csv",
    wildcard_constraints:
        sheet="|".join(OPTIONAL_SHEETS),
    log:
        "logs/extract_sheet/{sheet}.log",
    conda:
        ENV
    script:
        "../scripts/extract_sheet.py"
