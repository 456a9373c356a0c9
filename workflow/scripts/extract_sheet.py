from umbrella.core.runner import run


def main(snakemake):
    from umbrella.core.config import validate_config, vocabularies
    from umbrella.core.sheets import load_sheet
    from umbrella.core.tables import write_table
    from umbrella.extract.reviews import tidy

    # the config's vocabularies (framework domains) make the tidy table hold their canonical spelling
    words = vocabularies(validate_config(snakemake.config))
    sheet = load_sheet(snakemake.wildcards.sheet, snakemake.input.sheet, words)
    write_table(tidy(sheet), snakemake.output.table)


run(snakemake, main)  # noqa: F821
