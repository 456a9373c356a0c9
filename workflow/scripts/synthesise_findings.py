from umbrella.core.runner import run


def main(snakemake):
    from umbrella.synthesis.stage import run_synthesis

    run_synthesis(
        inputs=dict(snakemake.input.items()),
        questions=snakemake.params.questions,
        published=snakemake.params.published,
        framework=snakemake.params.framework,
        prisma=snakemake.params.prisma,
        outputs=dict(snakemake.output.items()),
    )


run(snakemake, main)  # noqa: F821
