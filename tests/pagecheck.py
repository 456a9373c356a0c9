"""Checks of a printed page shared by the PDF and print-layout tests: where the report's page margins are, and
whether anything is drawn in a page's right margin (a table or figure running off the text area)."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import ROOT

CSS = ROOT / "workflow/templates/report.css"
MM = 72 / 25.4  # PDF points per millimetre
PAGE_SIZES_MM = {"A4": (210.0, 297.0), "Letter": (215.9, 279.4)}


def page_margins_mm() -> tuple[float, float, float, float]:
    """The report's ``@page`` margins (top, right, bottom, left) in mm, as the stylesheet gives them."""
    found = re.search(r"@page\s*\{\s*margin:\s*([^;]+);", CSS.read_text(encoding="utf-8"))
    assert found, "no @page margin in report.css"
    values = [float(v.removesuffix("mm")) for v in found.group(1).split()]
    top, right, bottom, left = {1: values * 4, 2: values * 2, 3: [*values, values[1]], 4: values}[len(values)]
    return top, right, bottom, left


def content_width_px(paper: str, landscape: bool = False) -> float:
    """Width of the text area of a page of ``paper`` (CSS px, 96 per inch)."""
    width, height = PAGE_SIZES_MM[paper]
    _, right, _, left = page_margins_mm()
    return ((height if landscape else width) - right - left) / 25.4 * 96


def ink_in_right_margin(pdf: str | Path, inset_mm: float = 2.0) -> list[tuple[int, int]]:
    """(page, number of dark pixels) for every page of ``pdf`` with anything drawn in its right margin, leaving
    ``inset_mm`` free at both sides of the strip; the pages are rendered by PDFium at 72 dpi."""
    import numpy as np
    import pypdfium2 as pdfium

    margin = page_margins_mm()[1]
    document = pdfium.PdfDocument(str(pdf))
    found = []
    try:
        for index in range(len(document)):
            image = np.asarray(document[index].render(scale=1).to_pil().convert("L"))
            width = image.shape[1]
            strip = image[:, width - int((margin - inset_mm) * MM) : width - int(inset_mm * MM)]
            dark = int((strip < 200).sum())
            if dark:
                found.append((index + 1, dark))
    finally:
        document.close()
    return found
