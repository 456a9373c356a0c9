from umbrella.core.runner import run


def main(snakemake):
    from pathlib import Path

    from umbrella.core.registry import part_labels
    from umbrella.effects.forest_files import page_order
    from umbrella.report.supplement import TableSpec, build_supplement

    specs = [
        (TableSpec(label, name, title, source), snakemake.input[f"table_{label}"])
        for label, name, title, source in snakemake.params.tables
    ]
    figures, labels = [], {}
    for label, caption, path, directory in snakemake.params.figure_labels:  # in label order
        if not directory:
            figures.append(path)
            labels[Path(path).stem] = (label, caption)
            continue
        # a folder of figures, e.g. one forest plot per outcome group: its files are the parts S6a, S6b...
        files = sorted((str(p) for p in Path(path).glob("*.svg")), key=page_order)
        parts = part_labels(label, [page_order(f)[0] for f in files])
        for file in files:
            base, page = page_order(file)
            figures.append(file)
            labels[Path(file).stem] = (parts[base] + (f", page {page}" if page > 1 else ""), caption)
    build_supplement(
        specs,
        figures,
        snakemake.input.provenance,
        snakemake.params.title,
        Path(str(snakemake.output.manifest)).parent,  # the folder: declared by its manifest, not as a directory
        snakemake.output.archive,
        workbook_cells=int(snakemake.params.workbook_cells),
        figure_labels=labels,
    )


run(snakemake, main)  # noqa: F821
