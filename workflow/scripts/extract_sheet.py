from umbrella.core.runner import run


def main(snakemake):
    from umbrella.core.sheets import load_sheet
    from umbrella.core.tables import write_table
    from umbrella.extract.reviews import tidy

    sheet = load_sheet(snakemake.wildcards.sheet, snakemake.input.sheet)
    write_table(tidy(sheet), snakemake.output.table)


run(snakemake, main)  # noqa: F821
