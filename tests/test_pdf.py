"""The report as a PDF (WeasyPrint, A4): its pages, fonts, table of contents, bookmarks and metadata, the same bytes
on a second rendering, and no table or figure running past a page's text area (in WeasyPrint's layout and in the
ink of the rendered pages)."""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

import pytest
from pagecheck import MM, ink_in_right_margin

pypdf = pytest.importorskip("pypdf")
pytest.importorskip("pypdfium2")
pytest.importorskip("weasyprint")
pytestmark = pytest.mark.e2e

A4_POINTS = (210 * MM, 297 * MM)


@pytest.fixture(scope="module")
def html(default_run: Path) -> Path:
    return default_run / "reports/umbrella_review.html"


@pytest.fixture(scope="module")
def pdf(default_run: Path) -> Path:
    return default_run / "reports/umbrella_review.pdf"


@pytest.fixture(scope="module")
def reader(pdf: Path):
    return pypdf.PdfReader(pdf)


@pytest.fixture(scope="module")
def sections(html: Path) -> list[str]:
    """The headings of the report's sections, from the HTML's table of contents."""
    nav = re.search(r"<nav\b.*?</nav>", html.read_text(encoding="utf-8"), re.S).group(0)
    headings = [htmllib.unescape(h) for h in re.findall(r'<li><a href="#[\w-]+">(.*?)</a></li>', nav)]
    assert len(headings) >= 8
    return headings


def page_texts(reader) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def test_pages_are_a4_some_landscape_and_their_number_is_plausible(reader, sections) -> None:
    sizes = [sorted((float(p.mediabox.width), float(p.mediabox.height))) for p in reader.pages]
    assert all(w == pytest.approx(A4_POINTS[0], abs=1) and h == pytest.approx(A4_POINTS[1], abs=1) for w, h in sizes)
    landscape = [i for i, p in enumerate(reader.pages, 1) if p.mediabox.width > p.mediabox.height]
    assert landscape, "the widest tables are printed on landscape pages"
    # Every section but the first starts a page; no section of the Cooper data needs more than a few pages.
    assert len(sections) <= len(reader.pages) <= 4 * len(sections)


def fonts_of(resources, seen: set[int]) -> list:
    """Every font dictionary reachable from a page's resources, including those of its form XObjects (figures)."""
    found = []
    if resources is None or id(resources) in seen:
        return found
    seen.add(id(resources))
    resources = resources.get_object()
    for font in (resources.get("/Font") or {}).values():
        found.append(font.get_object())
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Form":
            found.extend(fonts_of(xobject.get("/Resources"), seen))
    return found


def test_every_font_is_embedded(reader) -> None:
    fonts = [font for page in reader.pages for font in fonts_of(page.get("/Resources"), set())]
    assert fonts
    missing = set()
    for font in fonts:
        described = [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]
        for each in described:
            descriptor = each.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            if not any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
                missing.add(str(each.get("/BaseFont")))
    assert not missing, f"fonts not embedded: {sorted(missing)}"


def test_table_of_contents_gives_the_page_of_each_section(reader, sections) -> None:
    texts = page_texts(reader)
    contents = texts[0]
    assert "Contents" in contents
    for heading in sections:
        found = re.search(re.escape(heading) + r"\s*[.\s]*?(\d+)\b", contents)
        assert found, f"{heading!r} with a page number not in the contents: {contents[:800]}"
        page = int(found.group(1))
        assert 1 <= page <= len(texts)
        assert heading in texts[page - 1], f"{heading!r} is not on page {page}"


def test_bookmarks_are_the_headings_and_lead_to_their_pages(reader, sections) -> None:
    marks: dict[str, int] = {}

    def walk(items) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                marks[item.title] = reader.get_destination_page_number(item) + 1

    walk(reader.outline)
    texts = page_texts(reader)
    for heading in sections:
        assert heading in marks, f"no bookmark for {heading!r}: {sorted(marks)}"
        assert heading in texts[marks[heading] - 1]


def test_metadata_has_the_title_and_no_date(reader, html: Path) -> None:
    title = htmllib.unescape(re.search(r"<title>(.*?)</title>", html.read_text(encoding="utf-8")).group(1))
    info = reader.metadata
    assert info.title == title
    assert "/CreationDate" not in info and "/ModDate" not in info
    assert "/ID" not in reader.trailer


def test_a_second_rendering_gives_the_same_bytes(html: Path, pdf: Path, tmp_path: Path) -> None:
    from umbrella.report.pdf import render_pdf

    again = tmp_path / "again.pdf"
    assert render_pdf(html, again) == []
    assert again.read_bytes() == pdf.read_bytes()


def test_no_box_reaches_past_a_pages_text_area(html: Path, pdf: Path) -> None:
    from umbrella.report.pdf import layout, overflowing_boxes

    document = layout(html)
    assert len(document.pages) == len(pypdf.PdfReader(pdf).pages)
    tables = [box for page in document.pages for box in descendants(page._page_box) if box.element_tag == "table"]
    assert len(tables) >= 10
    assert overflowing_boxes(document) == []
    assert ink_in_right_margin(pdf) == []


def descendants(box):
    for child in getattr(box, "children", ()):
        yield child
        yield from descendants(child)


def test_a_table_too_wide_for_the_page_is_found_by_both_checks(tmp_path: Path) -> None:
    from conftest import ROOT
    from umbrella.report.pdf import render_pdf

    css = (ROOT / "workflow/templates/report.css").read_text(encoding="utf-8")
    cells = "".join(f"<td>{'9' * 30}</td>" for _ in range(12))  # digits: no hyphenation, no break
    page = tmp_path / "wide.html"
    page.write_text(
        f"<!DOCTYPE html><html lang='en'><head><title>Wide</title><style>{css}</style></head><body><main>"
        f"<table class='data'><tbody><tr>{cells}</tr></tbody></table></main></body></html>",
        encoding="utf-8",
    )
    overflows = render_pdf(page, tmp_path / "wide.pdf")
    assert [o.element for o in overflows] == ["table"]
    assert ink_in_right_margin(tmp_path / "wide.pdf")
