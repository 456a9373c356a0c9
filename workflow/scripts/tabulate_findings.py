from umbrella.core.runner import run


def main(snakemake):
    from umbrella.effects.findings_table import run_findings_table

    run_findings_table(
        review_effects=snakemake.input.review_effects,
        outcome_summary=snakemake.input.outcome_summary,
        reviews=snakemake.input.reviews,
        pooled=snakemake.input.get("pooled"),
        settings=snakemake.params.settings,
        grade_labels=snakemake.params.grade_labels,
        output=snakemake.output.summary_of_findings,
    )


run(snakemake, main)  # noqa: F821
