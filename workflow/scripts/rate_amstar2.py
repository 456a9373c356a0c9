from umbrella.core.runner import run


def main(snakemake):
    from umbrella.quality.stage import run_quality

    run_quality(
        reviews=snakemake.input.reviews,
        amstar2=snakemake.input.get("amstar2"),
        settings=snakemake.params.rule,
        outputs=dict(snakemake.output.items()),
        figure_rows=snakemake.params.figure_rows,
    )


run(snakemake, main)  # noqa: F821
