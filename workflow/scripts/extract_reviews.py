from umbrella.core.runner import run


def main(snakemake):
    from umbrella.core.sheets import load_sheet
    from umbrella.extract.reviews import tidy, write_reviews_outputs

    sheet = load_sheet("reviews", snakemake.input.sheet, snakemake.params.vocabularies)
    write_reviews_outputs(tidy(sheet), snakemake.params.questions, snakemake.params.published, snakemake.output)


run(snakemake, main)  # noqa: F821
