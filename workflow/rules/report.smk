rule render_report:
    input:
        unpack(report_inputs),
        template=source("../templates/report.html.j2"),
        css=source("../templates/report.css"),
    output:
        html=report(
            "reports/umbrella_review.html",
            caption="../report/umbrella_review.rst",
            category="Report",
        ),
    params:
        config=config,
    benchmark:
        "logs/benchmarks/render_report.tsv"
    threads: 1
    resources:
        mem_mb=memory(1000, 10),
        runtime=minutes(10),
    log:
        "logs/render_report.log",
    conda:
        ENV
    script:
        "../scripts/render_report.py"


rule render_pdf:
    input:
        html="reports/umbrella_review.html",
    output:
        pdf=report(
            "reports/umbrella_review.pdf",
            caption="../report/umbrella_review_pdf.rst",
            category="Report",
        ),
    params:
        page_size="A4",
    benchmark:
        "logs/benchmarks/render_pdf.tsv"
    threads: 1
    resources:
        mem_mb=memory(1000, 50),
        runtime=minutes(60),
    log:
        "logs/render_pdf.log",
    conda:
        ENV
    script:
        "../scripts/render_pdf.py"


rule record_provenance:
    input:
        **{f"sheet_{name}": str(path) for name, path in SHEET_FILES.items()},
        configs=CONFIG_FILES,
    output:
        PROVENANCE,
    params:
        git=GIT,
    benchmark:
        "logs/benchmarks/record_provenance.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "logs/record_provenance.log",
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
        folder=directory("reports/supplement"),
        archive="reports/supplement.zip",
    params:
        tables=[[o.supplement["label"], o.supplement["name"], o.title, o.sheet or o.key] for o in SUPPLEMENT_TABLES],
        title=config["title"],
        workbook_cells=config["scale"]["workbook_cells"],
    benchmark:
        "logs/benchmarks/assemble_supplement.tsv"
    threads: 1
    resources:
        mem_mb=memory(1000, 10),
        runtime=minutes(15),
    log:
        "logs/assemble_supplement.log",
    conda:
        ENV
    script:
        "../scripts/assemble_supplement.py"
