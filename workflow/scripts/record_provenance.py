from umbrella.core.runner import run


def main(snakemake):
    from umbrella.core.provenance import provenance, write_provenance

    sheets = {k.removeprefix("sheet_"): v for k, v in snakemake.input.items() if k.startswith("sheet_")}
    record = provenance(sheets, snakemake.input.configs, snakemake.params.git, snakemake.params.extractors)
    write_provenance(record, snakemake.output[0])


run(snakemake, main)  # noqa: F821
