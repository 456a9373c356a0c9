from umbrella.runner import run


def main(snakemake):
    from pathlib import Path

    from umbrella.supplement import TableSpec, build_supplement

    specs = [
        (TableSpec(label, name, title, source), snakemake.input[f"table_{label}"])
        for label, name, title, source in snakemake.params.tables
    ]
    figures = list(snakemake.input.figures)
    forest = snakemake.input.forest  # a folder of forest plots, or an empty list without an effects sheet
    if forest:
        figures += sorted(str(p) for p in Path(str(forest)).glob("*.svg"))
    build_supplement(
        specs,
        figures,
        snakemake.input.provenance,
        snakemake.params.title,
        snakemake.output.folder,
        snakemake.output.archive,
    )


run(snakemake, main)  # noqa: F821
