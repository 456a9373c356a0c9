rule compute_overlap:
    input:
        **{
            s: out(f"results/extract/{s}.csv")
            for s in ("studies", "citation_matrix", "study_effects", "effects")
            if s in SHEET_FILES
        },
        reviews=out("results/extract/reviews.csv"),
    output:
        **declared("compute_overlap"),
    params:
        settings=config["overlap"],
        figure_rows=config["scale"]["figure_rows"],
        workbook_cells=config["scale"]["workbook_cells"],
    benchmark:
        out("logs/benchmarks/compute_overlap.tsv")
    threads: 1
    resources:
        mem_mb=memory(1000, 20),
        runtime=minutes(10),
    log:
        out("logs/compute_overlap.log"),
    conda:
        ENV
    script:
        "../scripts/compute_overlap.py"
