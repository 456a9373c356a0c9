"""The report's layout in Chromium: the stylesheet's font, no page wider than a phone, a visible cue where a table
scrolls sideways, sorting an ordinal column by rank, one tab stop per sortable header row, and printing on A4 and
Letter with every table inside the page's text area. Every page is opened offline: a request that is not for a
file: or data: URL fails the test, and so does a console error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import CHROMIUM, IN_CI, ROOT
from pagecheck import PAGE_SIZES_MM, content_width_px, ink_in_right_margin

playwright = pytest.importorskip("playwright.sync_api") if (CHROMIUM or IN_CI) else None
pytestmark = [
    pytest.mark.skipif(not CHROMIUM and not IN_CI, reason="Chromium not installed (CI installs it)"),
    pytest.mark.e2e,
    pytest.mark.browser,
]
RATINGS = ["High", "Moderate", "Low", "Critically low"]


@pytest.fixture(scope="module")
def reports(default_run: Path, simulated_run: Path) -> dict[str, Path]:
    return {
        "cooper": default_run / "reports/umbrella_review.html",
        "simulated": simulated_run / "reports/simulated/umbrella_review.html",
    }


class Page:
    """A report opened at a viewport width, with every console error, page error and non-local request kept."""

    def __init__(self, browser, html: Path, width: int, height: int = 900) -> None:
        self.problems: list[str] = []
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.page.on("console", lambda m: self.problems.append(f"console: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.route("**/*", self._route)
        self.page.goto(html.as_uri(), wait_until="load")

    def _route(self, route) -> None:
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            self.problems.append(f"request left file://: {route.request.url}")
            route.abort()

    def close(self) -> None:
        self.page.close()
        assert self.problems == []


def test_body_uses_the_stylesheets_font(browser, reports) -> None:
    css = (ROOT / "workflow/templates/report.css").read_text(encoding="utf-8")
    declared = re.search(r"body\s*\{[^}]*?font:\s*[\d.]+px/[\d.]+\s+([^;]+);", css).group(1)
    view = Page(browser, reports["cooper"], 1400)
    computed = view.page.evaluate("getComputedStyle(document.body).fontFamily")
    assert computed.replace('"', "") == declared.replace('"', "")
    view.close()


@pytest.mark.parametrize("name", ["cooper", "simulated"])
def test_no_horizontal_overflow_on_a_phone(browser, reports, name: str) -> None:
    view = Page(browser, reports[name], 390, 844)
    page = view.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    tables = page.evaluate("document.querySelectorAll('table').length")
    assert tables >= 10
    assert page.evaluate("document.querySelectorAll('div.scroll > table').length") == tables
    wider = page.evaluate(
        "Array.from(document.querySelectorAll('body *')).filter(e => !e.closest('div.scroll, figure, svg'))"
        ".filter(e => e.getBoundingClientRect().right > 391).map(e => e.tagName + '.' + e.className)"
    )
    assert wider == []
    # Figures keep a legible size: wider than the phone, scrolling in their own box, which says so.
    figures = page.evaluate(
        "Array.from(document.querySelectorAll('figure')).filter(f => f.querySelector('img')).map(f => "
        "[f.scrollWidth > f.clientWidth, f.classList.contains('overflowing'), getComputedStyle(f).overflowX])"
    )
    assert figures and all(wide and marked and scroll == "auto" for wide, marked, scroll in figures)
    view.close()


def test_a_table_that_scrolls_sideways_says_so(browser, reports) -> None:
    view = Page(browser, reports["cooper"], 1400)
    boxes = view.page.evaluate(
        "Array.from(document.querySelectorAll('div.scroll')).map(b => [b.scrollWidth > b.clientWidth + 1, "
        "b.classList.contains('overflowing'), getComputedStyle(b, '::before').content])"
    )
    scrolling = [content for wide, _, content in boxes if wide]
    assert scrolling, "the effects tables are wider than 1400 px"
    assert all("Scroll sideways" in content for content in scrolling)
    assert all(content in ("none", "normal") for wide, _, content in boxes if not wide)
    assert all(wide == marked for wide, marked, _ in boxes)
    view.close()


def test_an_ordinal_column_sorts_by_rank(browser, reports) -> None:
    view = Page(browser, reports["cooper"], 1400)
    page = view.page
    table = page.locator("div.landscape", has=page.locator("#effects-1")).locator("table.data")
    headers = [t.strip() for t in table.locator("thead th").all_text_contents()]
    column = headers.index("AMSTAR-2") + 1
    button = table.locator(f"thead th:nth-child({column}) button.sort")
    cells = table.locator(f"tbody tr > :nth-child({column})")
    button.click()
    shown = [t.strip() for t in cells.all_text_contents()]
    assert len(set(shown)) >= 2 and set(shown) <= set(RATINGS)
    assert shown == sorted(shown, key=RATINGS.index), shown
    assert table.locator(f"thead th:nth-child({column})").get_attribute("aria-sort") == "ascending"
    button.click()
    assert [t.strip() for t in cells.all_text_contents()] == sorted(shown, key=RATINGS.index, reverse=True)
    assert table.locator(f"thead th:nth-child({column})").get_attribute("aria-sort") == "descending"
    assert table.locator("thead th[aria-sort]").count() == 1
    view.close()


FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) { return null; }
  if (e.matches("button.sort")) {
    const tables = Array.from(document.querySelectorAll("table.data"));
    return ["sort", tables.indexOf(e.closest("table")), e.parentNode.cellIndex];
  }
  return [e.tagName, Array.prototype.indexOf.call(document.querySelectorAll("*"), e)];
}"""


def test_keyboard_reaches_one_sort_button_per_table_and_arrows_move_along_the_row(browser, reports) -> None:
    view = Page(browser, reports["cooper"], 1400)
    page = view.page
    n_tables = page.evaluate("document.querySelectorAll('table.data').length")
    assert page.evaluate("document.querySelectorAll('button.sort').length") > 3 * n_tables
    stops = []
    for _ in range(400):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None or focused in stops:
            break
        stops.append(focused)
    sort_stops = [s for s in stops if s[0] == "sort"]
    assert [s[1] for s in sort_stops] == list(range(n_tables)), sort_stops
    assert all(s[2] == 0 for s in sort_stops)
    first = page.locator("table.data").first.locator("button.sort")
    first.first.focus()
    moves = [("ArrowRight", 1), ("ArrowRight", 2), ("ArrowLeft", 1), ("End", first.count() - 1), ("Home", 0)]
    for key, column in moves:
        page.keyboard.press(key)
        assert page.evaluate(FOCUSED) == ["sort", 0, column], key
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    assert page.locator("table.data").first.locator("thead th").nth(1).get_attribute("aria-sort") == "ascending"
    page.keyboard.press(" ")
    assert page.locator("table.data").first.locator("thead th").nth(1).get_attribute("aria-sort") == "descending"
    # Leaving the row and coming back lands on the button last used, still the row's only tab stop.
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED) == ["sort", 0, 1]
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED)[:2] != ["sort", 0]
    view.close()


@pytest.mark.parametrize("name", ["cooper", "simulated"])
@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_printing_keeps_every_table_inside_the_page(browser, reports, name: str, paper: str, tmp_path: Path) -> None:
    view = Page(browser, reports[name], 800)
    page = view.page
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('input.filter')).display") == "none"
    assert page.evaluate("getComputedStyle(document.querySelector('button.sort'), '::after').display") == "none"
    right_edges = """(landscape) => Array.from(document.querySelectorAll('table'))
        .filter(t => !!t.closest('.landscape') === landscape)
        .map(t => [t.getBoundingClientRect().right - document.body.getBoundingClientRect().left,
                   (t.querySelector('caption, th') || t).textContent.trim().slice(0, 40)])"""
    for landscape in (False, True):
        width = content_width_px(paper, landscape)
        page.set_viewport_size({"width": int(width), "height": 1000})
        edges = page.evaluate(right_edges, landscape)
        assert edges, f"no {'landscape' if landscape else 'portrait'} table"
        assert [(round(r), what) for r, what in edges if r > width + 0.5] == [], f"{paper}, landscape={landscape}"
    page.set_viewport_size({"width": 800, "height": 900})
    pdf = tmp_path / f"{name}-{paper}.pdf"
    page.pdf(path=str(pdf), format=paper)
    import pypdf

    pages = pypdf.PdfReader(pdf).pages
    width_mm, height_mm = PAGE_SIZES_MM[paper]
    portrait = sum(abs(float(p.mediabox.width) - width_mm * 72 / 25.4) < 1 for p in pages)
    assert 0 < portrait < len(pages), "the widest tables print on landscape pages"
    assert ink_in_right_margin(pdf) == []
    view.close()
