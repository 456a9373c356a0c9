from umbrella.core.runner import run


def main(snakemake):
    from umbrella.reanalysis.stage import run_reanalysis

    run_reanalysis(
        study_effects=snakemake.input.study_effects,
        reviews=snakemake.input.reviews,
        settings=snakemake.params.settings,
        outputs=dict(snakemake.output.items()),
        figure_rows=snakemake.params.figure_rows,
        effects=snakemake.input.get("effects") or None,
        effect_settings=snakemake.params.effect_settings,
    )


run(snakemake, main)  # noqa: F821
