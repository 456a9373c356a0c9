rule compute_overlap:
    input:
        reviews="results/extract/reviews.csv",
        **{
            s: f"results/extract/{s}.csv"
            for s in ("studies", "citation_matrix", "study_effects", "effects")
            if s in SHEET_FILES
        },
    output:
        **{
            name: report(path, caption=f"../report/overlap_{name}.rst", category="Overlap")
            for name, path in OVERLAP_OUTPUTS.items()
        },
    params:
        settings=config["overlap"],
    log:
        "logs/compute_overlap.log",
    conda:
        ENV
    script:
        "../scripts/compute_overlap.py"
