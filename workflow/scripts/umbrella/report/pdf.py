"""The HTML report as a PDF (A4), laid out by WeasyPrint with the report's own print stylesheet.

WeasyPrint runs no script, so the PDF shows the tables as written (no sort buttons, no filters). The print rules of
``report.css`` give it page numbers ("Page n of m"), a table of contents with page numbers (``target-counter``) and
landscape pages for the widest tables; WeasyPrint turns the headings into PDF bookmarks and the ``<title>`` into the
document's title. The PDF records no date and no random identifier, so the same HTML gives the same bytes.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from umbrella.core.tables import atomic_open

# Only what the report itself holds: its figures are data: URIs; nothing is fetched from a network or a disk.
ALLOWED_PROTOCOLS = frozenset({"data"})
PAGE_SIZE = "A4"
TOLERANCE_PX = 0.5


@dataclass(frozen=True)
class Overflow:
    """A box that reaches past the right edge of its page's content box (CSS px; 96 px = 1 in)."""

    page: int
    element: str
    right: float
    limit: float

    def __str__(self) -> str:
        return f"page {self.page}: <{self.element}> ends {self.right - self.limit:.1f} px right of the page's text area"


def trim_tables(html: str, max_rows: int) -> str | None:
    """The report as the PDF lays it out, or None when that is the report as it is: every table cut to its first
    ``max_rows`` body rows, each cut table followed by a note saying how many rows the PDF leaves out and where
    they are; each folded block of a meta-analysis' plots (``<details>``) reduced to its one-line summary, as a
    browser prints it folded, with one note before the first saying where the plots are. Laying out a table row
    costs WeasyPrint about 0.1 s and a figure about a second, so this bounds the PDF's cost."""
    from lxml import etree
    from lxml import html as lxml_html

    root = lxml_html.document_fromstring(html, parser=lxml_html.HTMLParser(huge_tree=True))
    cut = 0
    for table in root.iter("table"):
        rows = [row for body in table.findall("tbody") for row in body.findall("tr")]
        if len(rows) <= max_rows:
            continue
        for row in rows[max_rows:]:
            row.getparent().remove(row)
        heading = " ".join(table.xpath("string(caption)").split() + table.xpath("string(preceding::h3[1])").split())
        label = re.search(r"Table (S\d+[a-z]?)\.", heading)
        note = etree.SubElement(table.getparent(), "p")
        note.set("class", "more")
        note.text = (
            f"This PDF shows the first {max_rows:,} of the {len(rows):,} rows of the table above; the HTML report "
            + (f"shows them, and Table {label.group(1)} of the supplement holds every row." if label else "shows them.")
        )
        table.addnext(note)
        cut += 1
    folded = list(root.iter("details"))
    for details in folded:
        details.text = None
        for child in list(details):
            if child.tag != "summary":
                details.remove(child)
    if folded:
        note = etree.SubElement(folded[0].getparent(), "p")
        note.set("class", "more")
        note.text = (
            "In this PDF each meta-analysis is listed by its result; its forest, funnel and leave-one-out plots are "
            "in the HTML report (open its line) and in the supplement."
        )
        folded[0].addprevious(note)
    if not cut and not folded:
        return None
    return etree.tostring(root, method="html", encoding="unicode", doctype="<!DOCTYPE html>")


def layout(html: str | Path, page_size: str = PAGE_SIZE, max_rows: int | None = None) -> Any:
    """Lay out the HTML report in pages of ``page_size`` (portrait; the widest tables on landscape pages of the
    same size), its tables cut to ``max_rows`` rows (see :func:`trim_tables`; None: whole), and return
    WeasyPrint's ``Document``."""
    import weasyprint

    fetcher = weasyprint.URLFetcher(allowed_protocols=ALLOWED_PROTOCOLS, fail_on_errors=True)
    page = weasyprint.CSS(string=f"@page {{ size: {page_size} portrait }} @page wide {{ size: {page_size} landscape }}")
    trimmed = trim_tables(Path(html).read_text(encoding="utf-8"), max_rows) if max_rows else None
    if trimmed is None:
        document = weasyprint.HTML(filename=str(html), url_fetcher=fetcher, media_type="print")
    else:
        base = Path(html).resolve().parent.as_uri() + "/"
        document = weasyprint.HTML(string=trimmed, base_url=base, url_fetcher=fetcher, media_type="print")
    return document.render(stylesheets=[page])


def overflowing_boxes(document: Any) -> list[Overflow]:
    """Every box of the laid-out ``document`` whose right edge lies past its page's content box (what a printer
    would clip or a reader miss), outside the page margins' own boxes (the page numbers)."""
    from weasyprint.formatting_structure import boxes

    found = []
    for number, page in enumerate(document.pages, start=1):
        root = page._page_box
        limit = root.content_box_x() + root.width + TOLERANCE_PX
        stack = [child for child in root.children if not isinstance(child, boxes.MarginBox)]
        while stack:
            box = stack.pop()
            right = box.position_x + box.margin_width() - box.margin_right
            if right > limit and box.element_tag:  # the outermost such box, not each of its descendants
                found.append(Overflow(number, box.element_tag, right, limit - TOLERANCE_PX))
            else:
                stack.extend(getattr(box, "children", ()))
    return found


def render_pdf(
    html: str | Path, output: str | Path, page_size: str = PAGE_SIZE, max_rows: int | None = None
) -> list[Overflow]:
    """Write the PDF of the HTML report (tables cut to ``max_rows`` rows) to ``output`` atomically (a failed run
    leaves no file) and return the boxes that overflow their page, each also logged as a warning."""
    document = layout(html, page_size, max_rows)
    overflows = overflowing_boxes(document)
    for overflow in overflows:
        logging.getLogger(__name__).warning("%s", overflow)
    with atomic_open(output, binary=True) as fh:
        document.write_pdf(fh, pdf_identifier=False)
    return overflows
