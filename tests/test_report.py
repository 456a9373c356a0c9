"""The HTML report: sections, escaping, the SIMULATED banner, nothing from the network."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import CONFIG_QUESTIONS, REVIEWS_OK, ROOT, write
from umbrella.core.config import validate_config
from umbrella.core.sheets import load_dataset
from umbrella.extract.reviews import characteristics, counts_by_question, counts_by_type, counts_by_year, tidy
from umbrella.report.html import SECTIONS, build_context, render, sheet_manifest

TEMPLATE = ROOT / "workflow/templates/report.html.j2"
CSS = ROOT / "workflow/templates/report.css"
PAYLOAD = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def html_for(folder: Path, **config_overrides) -> str:
    config = validate_config(
        {
            "data": str(folder),
            "title": "Test overview",
            "research_questions": {k: {"label": f"Question {k}"} for k in CONFIG_QUESTIONS["research_questions"]},
            **config_overrides,
        }
    )
    sheets = load_dataset(folder, CONFIG_QUESTIONS)
    reviews = tidy(sheets["reviews"])
    tables = {
        "sheet_reviews": reviews,
        "reviews_by_type": counts_by_type(reviews, config["published"]),
        "reviews_by_question": counts_by_question(reviews, config["research_questions"], config["published"]),
        "reviews_by_year": counts_by_year(reviews),
        "characteristics": characteristics(reviews),
    }
    tables.update({f"sheet_{name}": tidy(s) for name, s in sheets.items() if name != "reviews"})
    manifest = sheet_manifest({name: s.path for name, s in sheets.items()}, tables)
    return render(build_context(config, manifest, tables), TEMPLATE, CSS)


def test_sections_in_prior_order_and_absent_stages_said_plainly(sheets_dir: Path) -> None:
    html = html_for(sheets_dir)
    positions = [html.index(f'<section id="{sid}">') for sid, _ in SECTIONS]
    assert positions == sorted(positions)
    assert "no citation matrix was extracted" in html
    assert "No pooled results of the reviews were extracted." in html
    not_extracted = (
        "Not extracted: answers to the AMSTAR-2 items; pooled results of the reviews; the primary studies of each "
        "review; study-level data of the meta-analyses; implementation findings; findings on experiences."
    )
    assert not_extracted in html
    assert "Adams 2019" in html and "Brown 2020" in html


def test_every_value_is_escaped(sheets_dir: Path) -> None:
    write(
        sheets_dir,
        "reviews.csv",
        "review_id,first_author,year,title,population\nA1,Smith,2019,x," + '"' + PAYLOAD.replace('"', '""') + '"\n',
    )
    write(
        sheets_dir,
        "effects.csv",
        f'effect_id,review_id,outcome,outcome_group\nE1,A1,o,"{PAYLOAD.replace(chr(34), 2 * chr(34))}"\n',
    )
    html = html_for(sheets_dir, title=PAYLOAD, limitations=[PAYLOAD])
    assert html.count("<script") == 1  # the report's own sorting script, and nothing from the data
    assert "onerror=" not in html.replace("onerror=&#34;", "")  # only in escaped form
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_nothing_is_loaded_from_the_network(sheets_dir: Path) -> None:
    html = html_for(sheets_dir)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(" not in html
    assert "<style>" in html


def test_simulated_banner_and_title(sheets_dir: Path) -> None:
    html = html_for(sheets_dir, simulated=True)
    assert "<title>SIMULATED: Test overview</title>" in html
    assert 'class="banner"' in html and "SIMULATED DATA" in html
    assert 'class="banner"' not in html_for(sheets_dir)


def test_share_of_a_partial_extraction(sheets_dir: Path) -> None:
    html = html_for(sheets_dir, published={"n_reviews": 8, "reviews_by_type": {"scoping": 3}})
    assert "<strong>25\u00a0%</strong> of the 8 reviews of the published overview" in html
    assert "partial extraction" in html


def test_render_is_deterministic(sheets_dir: Path) -> None:
    assert html_for(sheets_dir) == html_for(sheets_dir)


@pytest.mark.parametrize("dataset", ["cooper2024"])
def test_bundled_report_lists_every_review_with_its_source(dataset: str) -> None:
    folder = ROOT / "data/raw" / dataset
    html = html_for(folder)
    reviews = load_dataset(folder, CONFIG_QUESTIONS)["reviews"].table
    for rid, source in zip(reviews["review_id"], reviews["source"], strict=True):
        assert rid in html
        if source:
            from markupsafe import escape

            assert str(escape(source)) in html


def test_sheet_manifest_records_hash_rows_and_extra_columns(sheets_dir: Path) -> None:
    import hashlib

    text = "review_id,year,table_source\nB,2020,T1\nA,2019,T2\n"
    path = write(sheets_dir, "reviews.csv", text)
    table = tidy(load_dataset(sheets_dir, CONFIG_QUESTIONS)["reviews"])
    entry = sheet_manifest({"reviews": path}, {"sheet_reviews": table})["sheets"]["reviews"]
    assert entry == {
        "file": str(path),
        "format": "csv",
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "rows": 2,
        "extra_columns": ["table_source"],
    }


def test_inferred_counts_shown_only_when_the_sheets_mark_inferred_values(sheets_dir: Path) -> None:
    assert "of which inferred" not in html_for(sheets_dir)
    write(
        sheets_dir,
        "reviews.csv",
        "review_id,review_type,review_type_basis\nA1,scoping,printed\nB1,sr_meta_analysis,inferred from Table 2\n",
    )
    html = html_for(sheets_dir)
    assert "of which inferred" in html and "review_type_basis" in html


def test_long_tables_show_their_first_rows_and_say_where_the_rest_is(tmp_path: Path) -> None:
    header = REVIEWS_OK.splitlines()[0]
    rows = [f"R{i:03d},Author{i:03d},2020,scoping,effectiveness,3,low,2019" for i in range(25)]
    folder = tmp_path / "many"
    write(folder, "reviews.csv", "\n".join([header, *rows]) + "\n")
    html = html_for(folder, scale={"report_rows": 10})
    characteristics = html.split('<section id="included">', 1)[1].split("</section>", 1)[0]
    assert "Author009" in characteristics and "Author010" not in characteristics
    note = "Below: the first 10 of 25 rows (the whole table is Table S1 in the supplement)"
    assert note in characteristics and characteristics.index(note) < characteristics.index("Author000")
    complete = html_for(folder)  # the default shows up to 200 rows
    assert "Author024" in complete and "Below: the first" not in complete


def test_a_long_list_of_review_ids_is_cut_with_a_count() -> None:
    from umbrella.report.html import first_ids

    assert first_ids("A;B;C", limit=3) == "A;B;C" and first_ids(None) is None
    assert first_ids(";".join(f"R{i}" for i in range(1025)), limit=2) == "R0;R1; … and 1,023 more"


def test_the_stylesheet_is_inlined_as_written(sheets_dir: Path, tmp_path: Path) -> None:
    from umbrella.report.html import style_sheet

    html = html_for(sheets_dir)
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    assert style.strip() == CSS.read_text(encoding="utf-8").strip()
    assert '"DejaVu Sans"' in style and "&#34;" not in style and "&quot;" not in style
    hostile = write(tmp_path, "hostile.css", 'p::after { content: "</style><script>x()</script>"; }\n')
    assert "</style" not in str(style_sheet(hostile)) and "<\\/style>" in str(style_sheet(hostile))


def year_chart_svg(html: str) -> ET.Element:
    """The report's chart of reviews per year, parsed."""
    start = html.index('<svg role="img" aria-labelledby="year-chart-title"')
    return ET.fromstring(html[start : html.index("</svg>", start) + len("</svg>")])


@pytest.mark.parametrize("years", [[2019, 2020], [2001, 2001, 2001, 2005, 2012, 2012, 2023]])
def test_the_year_chart_has_axis_titles_and_whole_number_ticks(sheets_dir: Path, years: list[int]) -> None:
    rows = "".join(f"R{i},Author{i},{y},scoping,effectiveness\n" for i, y in enumerate(years))
    write(sheets_dir, "reviews.csv", "review_id,first_author,year,review_type,research_questions\n" + rows)
    svg = year_chart_svg(html_for(sheets_dir))
    texts = [(t.text or "").strip() for t in svg.iter() if t.tag.rsplit("}", 1)[-1] == "text"]
    assert "Year of publication" in texts and "Reviews" in texts
    counts = [int(t) for t in texts if t.isdigit() and len(t) < 4]  # the count axis (years have four digits)
    assert counts[0] == 0 and len(counts) >= 2 and counts == sorted(counts)
    assert counts[-1] >= max(years.count(y) for y in years)
    span = list(range(min(years), max(years) + 1))
    labelled = [int(t) for t in texts if t.isdigit() and len(t) == 4]
    # every year when there are 20 or fewer, else every fifth (whole years, in order)
    assert labelled == (span if len(span) <= 20 else [y for y in span if y % 5 == 0])


def test_review_links_and_dois_are_escaped() -> None:
    from umbrella.report.html import doi_url, review_anchor, review_link, review_links

    anchors = {"A1": review_anchor("A1"), "B.2-x": review_anchor("B.2-x")}
    assert str(review_link("Adams 2019", "A1", anchors)) == '<a class="review" href="#review-A1">Adams 2019</a>'
    assert str(review_link(PAYLOAD, "A1", anchors)).count("<script>") == 0
    assert str(review_link("Zed 2020", "Z9", anchors)) == "Zed 2020"  # its row is not in the report: no link
    assert str(review_links("A1;Z9;B.2-x", anchors)) == (
        '<a class="review" href="#review-A1">A1</a>, Z9, <a class="review" href="#review-B.2-x">B.2-x</a>'
    )
    assert str(review_links("A1;A1;A1", anchors, limit=1)).endswith("</a>; … and 2 more")
    assert review_links("", anchors) == "–"
    assert doi_url("10.1186/s12916-024-03260-y") == "https://doi.org/10.1186/s12916-024-03260-y"
    assert doi_url('10.1/x"><script>') == "https://doi.org/10.1/x%22%3E%3Cscript%3E"


def test_reviews_get_row_ids_and_their_doi_as_a_link(sheets_dir: Path) -> None:
    write(
        sheets_dir,
        "reviews.csv",
        "review_id,first_author,year,doi\nA1,Adams,2019,10.1000/a<b>\nB2,Brown,2020,\n",
    )
    html = html_for(sheets_dir)
    assert '<tr id="review-A1">' in html and '<tr id="review-B2">' in html
    assert '<a class="doi" href="https://doi.org/10.1000/a%3Cb%3E">doi:10.1000/a&lt;b&gt;</a>' in html
    assert html.count('class="doi"') == 1


@pytest.mark.parametrize(
    ("rated", "stated", "note"),
    [
        ({"n_low": 34, "n_rated": 35, "n_unrated": 0, "n_from_items": 0}, (34, 35), None),
        ({"n_low": 9, "n_rated": 10, "n_unrated": 15, "n_from_items": 0}, (34, 35),
         "The two counts differ: the overview rated 35 reviews, this extraction gives a rating for 10 (15 could not "
         "be rated)."),
        ({"n_low": 30, "n_rated": 35, "n_unrated": 0, "n_from_items": 35}, (34, 35),
         "The two counts differ: 35 of the ratings here are derived from the item answers, and may differ from the "
         "ratings the overview published."),
    ],
)  # fmt: skip
def test_published_quality_beside_the_extracted_count(rated: dict, stated: tuple, note: str | None) -> None:
    from umbrella.report.html import published_quality

    config = {"overview": {"published_quality": {"low_or_critically_low": stated[0], "of": stated[1]}}}
    shown = published_quality(config, {"built": True, **rated})
    assert (shown["n"], shown["of"], shown["pct"]) == (*stated, "97\u00a0%")
    assert shown["note"] == note
    assert published_quality({"overview": {}}, {"built": True, **rated}) is None
