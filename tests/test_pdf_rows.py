"""The PDF's tables are cut to ``scale.pdf_rows`` rows, saying how many rows are left out and where they are."""

from __future__ import annotations

import re

from umbrella.report.pdf import trim_tables


def page(rows: int, caption: str = "Table S5a. Results", heading: str = "Results") -> str:
    body = "".join(f"<tr><td>row {i}</td></tr>" for i in range(rows))
    return (
        f"<!DOCTYPE html><html><head><style>p > b {{ color: red }}</style></head><body><h3>{heading}</h3>"
        f'<div class="scroll"><table><caption>{caption}</caption><thead><tr><th>x</th></tr></thead>'
        f"<tbody>{body}</tbody></table></div><table><tbody><tr><td>short</td></tr></tbody></table></body></html>"
    )


def test_a_long_table_keeps_its_first_rows_and_says_where_the_rest_are() -> None:
    html = trim_tables(page(120), 50)
    assert html is not None and html.startswith("<!DOCTYPE html>")
    assert re.findall(r"<td>row (\d+)</td>", html) == [str(i) for i in range(50)]
    assert (
        "This PDF shows the first 50 of the 120 rows of the table above; the HTML report shows them, and Table S5a "
        "of the supplement holds every row." in html
    )
    assert "<td>short</td>" in html and "p > b { color: red }" in html  # the other table and the style, untouched


def test_the_label_may_be_in_the_heading_and_may_be_missing() -> None:
    assert "and Table S1 of the supplement" in trim_tables(page(60, caption="", heading="Table S1. Reviews"), 50)
    plain = trim_tables(page(60, caption="Reviews", heading="Reviews"), 50)
    assert "the HTML report shows them." in plain and "supplement" not in plain


def test_a_report_without_long_tables_is_laid_out_as_it_is() -> None:
    assert trim_tables(page(50), 50) is None


def test_the_plots_of_each_meta_analysis_are_listed_by_their_summary_line() -> None:
    blocks = "".join(
        f'<details class="meta-analysis" id="ma-{i}">\n<summary>Outcome {i}: OR 1.{i}</summary>\n'
        f'<figure><img src="data:image/svg+xml;base64,AAAA" alt="plot {i}"></figure>\n</details>'
        for i in range(3)
    )
    html = trim_tables(f"<!DOCTYPE html><html><body><h4>Each meta-analysis in detail</h4>{blocks}</body></html>", 50)
    assert html.count("<details") == 3 and "Outcome 2: OR 1.2" in html
    assert "<img" not in html and "<figure" not in html
    assert html.count("plots are in the HTML report (open its line) and in the supplement") == 1
    where = html.index("plots are in the HTML report")
    assert html.index("Each meta-analysis in detail") < where < html.index("Outcome 0")
