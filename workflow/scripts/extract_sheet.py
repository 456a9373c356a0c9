from umbrella.runner import run


def main(snakemake):
    from umbrella.extract import tidy
    from umbrella.sheets import load_sheet
    from umbrella.tables import write_table

    sheet = load_sheet(snakemake.wildcards.sheet, snakemake.input.sheet)
    write_table(tidy(sheet), snakemake.output.table)


run(snakemake, main)  # noqa: F821
