rule rate_amstar2:
    input:
        **({"amstar2": out("results/extract/amstar2.csv")} if FLAGS["amstar2"] else {}),
        reviews=out("results/extract/reviews.csv"),
    output:
        **declared("rate_amstar2"),
    params:
        rule=config["quality"],
        figure_rows=config["scale"]["figure_rows"],
    benchmark:
        out("logs/benchmarks/rate_amstar2.tsv")
    threads: 1
    resources:
        mem_mb=memory(1000, 10),
        runtime=minutes(10),
    log:
        out("logs/rate_amstar2.log"),
    conda:
        ENV
    script:
        "../scripts/rate_amstar2.py"
