from umbrella.runner import run


def main(snakemake):
    from umbrella.extract import write_manifest
    from umbrella.sheets import load_files

    sheets = load_files(dict(snakemake.input.items()), snakemake.params.vocabularies)
    write_manifest(sheets, snakemake.output.manifest)


run(snakemake, main)  # noqa: F821
