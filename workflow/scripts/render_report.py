from umbrella.runner import run


def main(snakemake):
    from umbrella.report import render_report

    render_report(
        config=snakemake.params.config,
        manifest=snakemake.input.manifest,
        tables={name: path for name, path in snakemake.input.items() if name.startswith("table_")},
        template=snakemake.input.template,
        css=snakemake.input.css,
        output=snakemake.output.html,
    )


run(snakemake, main)  # noqa: F821
