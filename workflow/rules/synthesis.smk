rule synthesise_findings:
    input:
        reviews="results/extract/reviews.csv",
        ratings=QUALITY_TABLES["ratings"],
        **{s: f"results/extract/{s}.csv" for s in ("implementation", "experiences") if s in SHEET_FILES},
    output:
        **{
            name: report(path, caption=f"../report/synthesis_{name}.rst", category="Syntheses")
            for name, path in SYNTHESIS_OUTPUTS.items()
        },
    params:
        questions=config["research_questions"],
        published=config["published"],
        framework=config["synthesis"]["framework"],
        prisma=config["prisma"],
    log:
        "logs/synthesise_findings.log",
    conda:
        ENV
    script:
        "../scripts/synthesise_findings.py"
