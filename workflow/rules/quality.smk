rule rate_amstar2:
    input:
        reviews="results/extract/reviews.csv",
        **({"amstar2": "results/extract/amstar2.csv"} if HAS_AMSTAR2 else {}),
    output:
        ratings=report(
            QUALITY_TABLES["ratings"],
            caption="../report/amstar2_ratings.rst",
            category="Quality (AMSTAR-2)",
        ),
        item_summary=report(
            QUALITY_TABLES["item_summary"],
            caption="../report/amstar2_items.rst",
            category="Quality (AMSTAR-2)",
        ),
        agreement=report(
            QUALITY_TABLES["agreement"],
            caption="../report/amstar2_agreement.rst",
            category="Quality (AMSTAR-2)",
        ),
        **{
            name: report(path, caption=f"../report/amstar2_{name}.rst", category="Quality (AMSTAR-2)")
            for name, path in QUALITY_FIGURES.items()
        },
    params:
        rule=config["quality"],
    log:
        "logs/rate_amstar2.log",
    conda:
        ENV
    script:
        "../scripts/rate_amstar2.py"
