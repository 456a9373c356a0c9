from umbrella.core.runner import run


def main(snakemake):
    from pathlib import Path

    from umbrella.effects.forest_files import page_order
    from umbrella.report.supplement import TableSpec, build_supplement

    specs = [
        (TableSpec(label, name, title, source), snakemake.input[f"table_{label}"])
        for label, name, title, source in snakemake.params.tables
    ]
    figures = list(snakemake.input.figures)
    for folder in snakemake.input.folders:  # folders of figures, e.g. one forest plot per outcome group
        figures += sorted((str(p) for p in Path(str(folder)).glob("*.svg")), key=page_order)
    build_supplement(
        specs,
        figures,
        snakemake.input.provenance,
        snakemake.params.title,
        snakemake.output.folder,
        snakemake.output.archive,
        workbook_cells=int(snakemake.params.workbook_cells),
    )


run(snakemake, main)  # noqa: F821
