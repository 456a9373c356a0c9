"""The HTML report as a PDF (A4), laid out by WeasyPrint with the report's own print stylesheet.

WeasyPrint runs no script, so the PDF shows the tables as written (no sort buttons, no filters). The print rules of
``report.css`` give it page numbers ("Page n of m"), a table of contents with page numbers (``target-counter``) and
landscape pages for the widest tables; WeasyPrint turns the headings into PDF bookmarks and the ``<title>`` into the
document's title. The PDF records no date and no random identifier, so the same HTML gives the same bytes.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def layout(html: str | Path, page_size: str = PAGE_SIZE) -> Any:
    """Lay out the HTML report in pages of ``page_size`` (portrait; the widest tables on landscape pages of the
    same size) and return WeasyPrint's ``Document``."""
    import weasyprint

    fetcher = weasyprint.URLFetcher(allowed_protocols=ALLOWED_PROTOCOLS, fail_on_errors=True)
    page = weasyprint.CSS(string=f"@page {{ size: {page_size} portrait }} @page wide {{ size: {page_size} landscape }}")
    document = weasyprint.HTML(filename=str(html), url_fetcher=fetcher, media_type="print")
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


def render_pdf(html: str | Path, output: str | Path, page_size: str = PAGE_SIZE) -> list[Overflow]:
    """Write the PDF of the HTML report to ``output`` atomically (a failed run leaves no file) and return the boxes
    that overflow their page, each also logged as a warning."""
    document = layout(html, page_size)
    overflows = overflowing_boxes(document)
    for overflow in overflows:
        logging.getLogger(__name__).warning("%s", overflow)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            document.write_pdf(fh, pdf_identifier=False)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return overflows
