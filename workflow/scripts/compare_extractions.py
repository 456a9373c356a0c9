from umbrella.core.runner import run


def main(snakemake):
    from umbrella.extract.double import compare, extractor_files, reconciled_copy, write_comparison

    settings, data = snakemake.params.settings, snakemake.params.data
    copies, _ = extractor_files(settings)
    reconciled = {k.removeprefix("data_"): v for k, v in snakemake.input.items() if k.startswith("data_")}
    checked = compare(copies, reconciled, snakemake.params.vocabularies, reconciled_copy(data, settings))
    write_comparison(checked.comparison, snakemake.output.agreement, snakemake.output.disagreements)


run(snakemake, main)  # noqa: F821
