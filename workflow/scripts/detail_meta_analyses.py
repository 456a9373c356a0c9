from umbrella.core.runner import run


def main(snakemake):
    from umbrella.reanalysis.stage import run_detail

    run_detail(
        pooled=snakemake.input.pooled,
        study_effect_sizes=snakemake.input.study_effect_sizes,
        reviews=snakemake.input.reviews,
        settings=snakemake.params.settings,
        outputs=dict(snakemake.output.items()),
        workers=snakemake.threads,
        limit=int(snakemake.params.detail_figures),
    )


run(snakemake, main)  # noqa: F821
