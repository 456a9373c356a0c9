rule render_report:
    input:
        unpack(report_inputs),
        template=source("../templates/report.html.j2"),
        template_matrix=source("../templates/citation_matrix.html.j2"),
        template_sof=source("../templates/summary_of_findings.html.j2"),
        template_detail=source("../templates/meta_analysis_detail.html.j2"),
        css=source("../templates/report.css"),
    output:
        html=report(
            out("reports/umbrella_review.html"),
            caption="../report/umbrella_review.rst",
            category="Report",
        ),
    params:
        config=config,
    benchmark:
        out("logs/benchmarks/render_report.tsv")
    threads: 1
    resources:
        mem_mb=memory(1000, 10),
        runtime=minutes(10),
    log:
        out("logs/render_report.log"),
    conda:
        ENV
    script:
        "../scripts/render_report.py"


rule render_pdf:
    input:
        html=out("reports/umbrella_review.html"),
    output:
        pdf=report(
            out("reports/umbrella_review.pdf"),
            caption="../report/umbrella_review_pdf.rst",
            category="Report",
        ),
    params:
        page_size="A4",
        pdf_rows=config["scale"]["pdf_rows"],
    benchmark:
        out("logs/benchmarks/render_pdf.tsv")
    threads: 1
    resources:
        mem_mb=memory(1000, 50),
        runtime=minutes(60),
    log:
        out("logs/render_pdf.log"),
    conda:
        ENV
    script:
        "../scripts/render_pdf.py"


rule record_provenance:
    input:
        **{f"sheet_{name}": str(path) for name, path in SHEET_FILES.items()},
        **{
            f"copy_{i}_{sheet}": str(path)
            for i, files in enumerate(EXTRACTOR_FILES.values())
            for sheet, path in files.items()
        },
        configs=CONFIG_FILES,
    output:
        PROVENANCE,
    params:
        git=GIT,
        extractors={who: {s: str(p) for s, p in files.items()} for who, files in EXTRACTOR_FILES.items()},
    benchmark:
        out("logs/benchmarks/record_provenance.tsv")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        out("logs/record_provenance.log"),
    conda:
        ENV
    script:
        "../scripts/record_provenance.py"


rule assemble_supplement:
    input:
        **{f"table_{o.supplement['label']}": o.path for o in SUPPLEMENT_TABLES},
        figures=SUPPLEMENT_FIGURES,
        folders=SUPPLEMENT_FOLDERS,
        provenance=PROVENANCE,
        dictionary=DICTIONARY,
    output:
        manifest=out("reports/supplement/MANIFEST.sha256"),
        archive=out("reports/supplement.zip"),
    params:
        tables=[[o.supplement["label"], o.supplement["name"], o.title, o.sheet or o.key] for o in SUPPLEMENT_TABLES],
        title=config["title"],
        figure_labels=FIGURE_LABELS,
        workbook_cells=config["scale"]["workbook_cells"],
    benchmark:
        out("logs/benchmarks/assemble_supplement.tsv")
    threads: 1
    resources:
        mem_mb=memory(1000, 10),
        runtime=minutes(15),
    log:
        out("logs/assemble_supplement.log"),
    conda:
        ENV
    script:
        "../scripts/assemble_supplement.py"
