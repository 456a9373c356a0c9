rule rate_amstar2:
    input:
        **({"amstar2": "results/extract/amstar2.csv"} if FLAGS["amstar2"] else {}),
        reviews="results/extract/reviews.csv",
    output:
        **declared("rate_amstar2"),
    params:
        rule=config["quality"],
        figure_rows=config["scale"]["figure_rows"],
    log:
        "logs/rate_amstar2.log",
    conda:
        ENV
    script:
        "../scripts/rate_amstar2.py"
