from umbrella.core.runner import run


def main(snakemake):
    from umbrella.report.html import render_report

    render_report(
        config=snakemake.params.config,
        sheets={k.removeprefix("sheet_"): v for k, v in snakemake.input.items() if k.startswith("sheet_")},
        tables={
            **{k.removeprefix("table_"): v for k, v in snakemake.input.items() if k.startswith("table_")},
            **{k.replace("tidy_", "sheet_", 1): v for k, v in snakemake.input.items() if k.startswith("tidy_")},
        },
        figures={k.removeprefix("figure_"): v for k, v in snakemake.input.items() if k.startswith("figure_")},
        figure_dirs={k.removeprefix("figdir_"): v for k, v in snakemake.input.items() if k.startswith("figdir_")},
        provenance=snakemake.input.provenance,
        template=snakemake.input.template,
        css=snakemake.input.css,
        output=snakemake.output.html,
    )


run(snakemake, main)  # noqa: F821
