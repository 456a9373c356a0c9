from umbrella.core.runner import run


def main(snakemake):
    from umbrella.overlap.stage import run_overlap

    run_overlap(
        inputs=dict(snakemake.input.items()),
        settings=snakemake.params.settings,
        outputs=dict(snakemake.output.items()),
        scale={"figure_rows": snakemake.params.figure_rows, "workbook_cells": snakemake.params.workbook_cells},
    )


run(snakemake, main)  # noqa: F821
