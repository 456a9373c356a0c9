from umbrella.core.runner import run


def main(snakemake):
    from umbrella.effects.stage import run_effects

    run_effects(
        effects=snakemake.input.effects,
        reviews=snakemake.input.reviews,
        ratings=snakemake.input.ratings,
        settings=snakemake.params.settings,
        n_cases_threshold=snakemake.params.n_cases_threshold,
        outputs=dict(snakemake.output.items()),
        figure_rows=snakemake.params.figure_rows,
        workers=snakemake.threads,
    )


run(snakemake, main)  # noqa: F821
