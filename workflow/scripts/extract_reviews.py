from umbrella.runner import run


def main(snakemake):
    from umbrella.extract import tidy, write_reviews_outputs
    from umbrella.sheets import load_sheet

    sheet = load_sheet("reviews", snakemake.input.sheet, snakemake.params.vocabularies)
    write_reviews_outputs(tidy(sheet), snakemake.params.questions, snakemake.params.published, snakemake.output)


run(snakemake, main)  # noqa: F821
