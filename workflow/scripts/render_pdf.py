from umbrella.core.runner import run


def main(snakemake):
    import logging

    from umbrella.report.pdf import render_pdf

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # not its notes on the screen-only CSS it ignores
    render_pdf(
        snakemake.input.html,
        snakemake.output.pdf,
        page_size=snakemake.params.page_size,
        max_rows=int(snakemake.params.pdf_rows),
    )


run(snakemake, main)  # noqa: F821
