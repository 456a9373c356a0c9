"""The HTML report: a context built from the tidy tables and the config, rendered by a Jinja2 template.

The report is one self-contained file (inline CSS and SVG, nothing loaded from the network). Every value goes
through Jinja2's autoescaping; the few pieces of markup built here (the SVG chart) are built from numbers only.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from umbrella import __version__
from umbrella.core.datasets import SHEETS, sha256_of, sheet_display
from umbrella.core.registry import conditions, figure_labels, part_labels, supplement_labels
from umbrella.core.sheets import column_types, load_schema
from umbrella.core.tables import atomic_open, output_dictionary, output_types, read_table
from umbrella.core.vocabulary import FIGURE_ROWS, RATING_LABELS, RATINGS, REVIEW_TYPES, review_label
from umbrella.reanalysis.grade import GRADE_LABELS
from umbrella.reanalysis.settings import MetaSettings
from umbrella.report import formatting
from umbrella.report.formatting import MISSING
from umbrella.report.section_contexts import (
    citation_matrix_context,
    double_extraction_context,
    effects_context,
    findings_context,
    meta_analysis_detail_context,
    overlap_context,
    quality_context,
    reanalysis_context,
    records,
    synthesis_context,
)

#: Report sections (PRIOR order): id, heading.
SECTIONS: list[tuple[str, str]] = [
    ("summary", "Summary"),
    ("methods", "Methods"),
    ("included", "Included reviews"),
    ("quality", "Quality of the reviews (AMSTAR-2)"),
    ("overlap", "Overlap of primary studies"),
    ("effects", "Effects by outcome"),
    ("implementation", "Implementation"),
    ("experiences", "Experiences"),
    ("limitations", "Limitations of the extraction"),
    ("provenance", "Provenance"),
]


def pct(part: float, whole: float | None) -> str | None:
    """``part`` as a percentage of ``whole`` with no decimals (``None`` when ``whole`` is unknown or 0)."""
    if not whole:
        return None
    return formatting.share(part, whole)


def year_chart(by_year: pd.DataFrame, width: int = 640, height: int = 200) -> dict[str, Any] | None:
    """Bar geometry of reviews per publication year (one bar per year from the first to the last), with whole-
    number ticks on the count axis (at most six, 0 included) and the places of both axis titles."""
    known = by_year.dropna(subset=["year"])
    if known.empty:
        return None
    counts = dict(zip(known["year"].astype(int), known["n_reviews"].astype(int), strict=True))
    years = list(range(min(counts), max(counts) + 1))
    step_n = _count_step(max(counts.values()))
    top = step_n * -(-max(counts.values()) // step_n)
    left, bottom, top_pad = 48, 40, 12
    plot_w, plot_h = width - left - 8, height - bottom - top_pad
    step = plot_w / len(years)
    baseline = top_pad + plot_h
    bars = []
    for i, year in enumerate(years):
        n = counts.get(year, 0)
        h = plot_h * n / top
        bars.append(
            {
                "year": year,
                "n": n,
                "x": round(left + i * step + step * 0.1, 2),
                "y": round(top_pad + plot_h - h, 2),
                "w": round(step * 0.8, 2),
                "h": round(h, 2),
                "cx": round(left + i * step + step / 2, 2),
                "label": len(years) <= 20 or (year % 5 == 0),
            }
        )
    yticks = [{"n": v, "y": round(baseline - plot_h * v / top, 2)} for v in range(0, top + 1, step_n)]
    return {
        "width": width,
        "height": height,
        "bars": bars,
        "baseline": baseline,
        "left": left,
        "top": top,
        "yticks": yticks,
        "x_title": {"x": round(left + plot_w / 2, 2), "y": height - 4, "text": "Year of publication"},
        "y_title": {"x": 12, "y": round(top_pad + plot_h / 2, 2), "text": "Reviews"},
    }


def _count_step(largest: int) -> int:
    """A whole-number tick step (1, 2 or 5 times a power of ten) giving at most five steps up to ``largest``."""
    power = 1
    while True:
        for step in (power, 2 * power, 5 * power):
            if -(-largest // step) <= 5:
                return step
        power *= 10


def build_context(
    config: Mapping,
    manifest: Mapping,
    tables: Mapping[str, pd.DataFrame],
    figure_dirs: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """Everything the template shows, from the validated config, the sheet manifest and the tidy tables.

    ``tables`` maps names (``reviews``, ``by_type``, ``by_question``, ``by_year``, ``characteristics`` and
    each optional sheet present) to DataFrames.
    """
    reviews = tables["sheet_reviews"]
    present = manifest["sheets"]
    gaps = extraction_gaps(reviews, present)
    quality = quality_context(config, tables, reviews)
    labels = dict(zip(reviews["review_id"], review_label(reviews), strict=True))
    row_limit = int((config.get("scale") or {}).get("report_rows", 200))
    flags = conditions(present, config.get("prisma"), config.get("double_extraction"))
    return {
        **overview_context(config, tables, present),
        "amstar_levels": RATING_LABELS,
        "amstar2": sheet_summary(tables, "amstar2"),
        "quality": quality,
        "published_quality": published_quality(config, quality),
        "p_style": (config.get("report") or {}).get("p_values", "threshold"),
        "p_style_words": formatting.p_style_words((config.get("report") or {}).get("p_values", "threshold")),
        "figures": {},
        "provenance": None,
        "effects_sheet": sheet_summary(tables, "effects", "outcome_group"),
        "effects": _with_forest_labels(
            effects_context(config, tables, figure_dirs or {}),
            (figure_dirs or {}).get("forest", {}),
            figure_labels(flags).get("forest"),
        ),
        "findings": findings_context(config, tables),
        "synthesis": synthesis_context(config, tables),
        "reanalysis": reanalysis_context(config, tables, labels),
        "meta_analysis_detail": meta_analysis_detail_context(
            config, tables, labels, (figure_dirs or {}).get("meta_analysis_detail", {})
        ),
        "overlap": overlap_context(config, tables, labels),
        "citation_matrix": citation_matrix_context(config, tables),
        "limitations": list(config.get("limitations") or []),
        "extracted_words": extracted_words(present),
        "supplement": supplement_labels(flags),
        "figure_labels": figure_labels(flags),
        "double_extraction": double_extraction_context(config, tables, row_limit),
        "row_limit": row_limit,
        # the rows of the characteristics table that the report shows, which review links point to
        "review_anchors": {r: review_anchor(r) for r in tables["characteristics"]["review_id"].head(row_limit)},
        "ordinal_scales": [
            [RATING_LABELS[r] for r in (*RATINGS, "incomplete") if r in RATING_LABELS],
            list(GRADE_LABELS[MetaSettings.from_config(config.get("reanalysis")).grade.labels]),
        ],
        "figure_rows": int((config.get("scale") or {}).get("figure_rows", FIGURE_ROWS)),
        "gaps": gaps,
        "versions": _versions(),
    }


def _with_forest_labels(effects: dict[str, Any], forests: Mapping[str, str], label: str | None) -> dict[str, Any]:
    """Each outcome group's forest plot labelled as the supplement labels it: the parts S6a, S6b... of the
    figure, in the order of the files' names (pages after the first belong to their first page)."""
    firsts = [name.removesuffix(".svg") for name in forests if "-" not in name]
    parts = part_labels(label, firsts) if label and firsts else {}
    for group in effects.get("groups", []):
        group["figure_label"] = parts.get(group["forest_name"].removesuffix(".svg"))
    return effects


def overview_context(config: Mapping, tables: Mapping[str, pd.DataFrame], present: Mapping) -> dict[str, Any]:
    """The report's title and overview, the sheets read, and the summary and included-reviews sections."""
    reviews = tables["sheet_reviews"]
    published = config.get("published") or None
    title = config["title"]
    if config.get("simulated") and "SIMULATED" not in title.upper():
        title = f"SIMULATED: {title}"
    return {
        "title": title,
        "simulated": bool(config.get("simulated")),
        "overview": config.get("overview") or {},
        "data": config["data"],
        "questions": records(tables["reviews_by_question"]),
        "show_inferred": bool(
            tables["reviews_by_question"]["n_inferred"].sum() + tables["reviews_by_type"]["n_inferred"].sum()
        ),
        "question_labels": {k: v["label"] for k, v in config["research_questions"].items()},
        "published": published,
        "share": _share_of_published(reviews, published),
        "n_reviews": len(reviews),
        "sheets": [{"name": name, "present": name in present, **present.get(name, {})} for name in SHEETS],
        "sections": SECTIONS,
        "by_type": records(tables["reviews_by_type"]),
        "type_labels": REVIEW_TYPES,
        "by_year": records(tables["reviews_by_year"]),
        "year_chart": year_chart(tables["reviews_by_year"]),
        "characteristics": _with_dois(records(tables["characteristics"]), reviews),
    }


def _with_dois(rows: list[dict[str, Any]], reviews: pd.DataFrame) -> list[dict[str, Any]]:
    """The characteristics rows, each with its review's DOI from the reviews sheet (``None`` when blank)."""
    dois = {}
    if "doi" in reviews:
        dois = {k: v for k, v in zip(reviews["review_id"], reviews["doi"], strict=True) if isinstance(v, str) and v}
    for row in rows:
        row["doi"] = dois.get(row["review_id"])
    return rows


def _share_of_published(reviews: pd.DataFrame, published: Mapping | None) -> dict[str, Any] | None:
    """How much of the published overview the sheets hold (``None`` when the config gives no published counts)."""
    if not published:
        return None
    n_reviews = len(reviews)
    return {
        "n_reviews": n_reviews,
        "published_n_reviews": published.get("n_reviews"),
        "pct_reviews": pct(n_reviews, published.get("n_reviews")),
        "published_n_primary_studies": published.get("n_primary_studies"),
        "n_with_primary_count": int(reviews["n_primary_studies"].notna().sum()),
        "source": published.get("source"),
    }


def published_quality(config: Mapping, quality: Mapping[str, Any]) -> dict[str, Any] | None:
    """The overview's published AMSTAR-2 summary (config ``overview.published_quality``) beside the count from the
    extraction, and a note saying why they differ when they do (``None`` when the overview states none)."""
    stated = (config.get("overview") or {}).get("published_quality")
    if not stated:
        return None
    n, of = int(stated["low_or_critically_low"]), int(stated["of"])
    out: dict[str, Any] = {
        "n": n,
        "of": of,
        "pct": formatting.share(n, of),
        "source": stated.get("source"),
        "extracted_n": quality.get("n_low"),
        "extracted_of": quality.get("n_rated"),
        "extracted_pct": formatting.share(quality.get("n_low"), quality.get("n_rated")),
        "note": None,
    }
    if not quality.get("built") or (n, of) == (quality["n_low"], quality["n_rated"]):
        return out
    reasons = []
    if quality["n_rated"] != of:
        reasons.append(
            f"the overview rated {formatting.count(of)} reviews, this extraction gives a rating for "
            f"{formatting.count(quality['n_rated'])}"
            + (f" ({formatting.count(quality['n_unrated'])} could not be rated)" if quality["n_unrated"] else "")
        )
    if quality["n_from_items"]:
        reasons.append(
            f"{formatting.count(quality['n_from_items'])} of the ratings here are derived from the item answers, "
            "and may differ from the ratings the overview published"
        )
    if not reasons:
        reasons.append("the same reviews are rated differently")
    out["note"] = "The two counts differ: " + "; ".join(reasons) + "."
    return out


def sheet_summary(tables: Mapping[str, pd.DataFrame], name: str, group: str | None = None) -> dict[str, Any] | None:
    """Rows and reviews of an optional sheet (and the values of its column ``group``); ``None`` if absent."""
    if f"sheet_{name}" not in tables:
        return None
    t = tables[f"sheet_{name}"]
    out = {"rows": len(t), "reviews": int(t["review_id"].nunique())}
    if group and group in t:
        out["groups"] = sorted(t[group].dropna().astype(str).unique().tolist())
    return out


#: Columns of the reviews sheet whose blanks the limitations section counts, and what they hold in words.
GAP_COLUMNS: list[tuple[str, str]] = [
    ("year", "publication year"),
    ("review_type", "review type"),
    ("research_questions", "research question"),
    ("n_primary_studies", "number of primary studies"),
    ("amstar2_reported", "published AMSTAR-2 rating"),
]


#: What each sheet holds, in words for the report.
SHEET_WORDS: dict[str, str] = {
    "reviews": "characteristics of the included reviews",
    "amstar2": "answers to the AMSTAR-2 items",
    "effects": "pooled results of the reviews",
    "studies": "the primary studies of each review",
    "citation_matrix": "the primary studies of each review (citation matrix)",
    "study_effects": "study-level data of the meta-analyses",
    "implementation": "implementation findings",
    "experiences": "findings on experiences",
}


def extracted_words(present: Mapping) -> str:
    """What was extracted, in words, in the order of the sheets ("characteristics of the included reviews,
    pooled results of the reviews and implementation findings")."""
    words = [SHEET_WORDS[name] for name in SHEETS if name in present]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def extraction_gaps(reviews: pd.DataFrame, present: Mapping) -> list[str]:
    """What the extraction lacks, in sentences: reviews with blank key columns, and the data not extracted."""
    gaps = []
    for column, words in GAP_COLUMNS:
        n = int(reviews[column].isna().sum())
        if n:
            gaps.append(f"{n:,} of {len(reviews):,} reviews have no {words} extracted.")
    alternatives = {"studies": "citation_matrix", "citation_matrix": "studies"}
    absent = [
        SHEET_WORDS[name]
        for name in SHEETS[1:]
        if name not in present and alternatives.get(name) not in present and name != "citation_matrix"
    ]
    if absent:
        gaps.append("Not extracted: " + "; ".join(absent) + ".")
    return gaps


def _versions() -> dict[str, str]:
    import jinja2
    import yaml

    return {
        "umbrella": __version__,
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "jinja2": jinja2.__version__,
        "pyyaml": yaml.__version__,
    }


def render(context: Mapping[str, Any], template: str | Path, css: str | Path) -> str:
    """Render the report template with autoescaping on; the CSS is inlined."""
    import jinja2

    template = Path(template)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template.parent),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    p_style = context.get("p_style", "threshold")
    env.filters["num"] = formatting.count
    env.filters["number"] = formatting.number
    env.filters["percent"] = formatting.percent
    env.filters["pval"] = lambda value, missing=MISSING: formatting.p_value(value, p_style, missing)
    env.filters["minus"] = formatting.minus
    env.filters["first_ids"] = first_ids
    anchors = context.get("review_anchors") or {}
    env.filters["review_link"] = lambda text, review_id: review_link(text, review_id, anchors)
    env.filters["review_links"] = lambda ids, limit=20: review_links(ids, anchors, limit)
    env.filters["doi_url"] = doi_url
    return env.get_template(template.name).render(**context, css=style_sheet(css))


def style_sheet(css: str | Path) -> Any:
    """The workflow's stylesheet, to be inlined in ``<style>``: HTML escaping would break its quotes, so it is
    marked safe once the only sequence that could end the element early (``</``) is escaped as CSS reads it."""
    from markupsafe import Markup

    return Markup(Path(css).read_text(encoding="utf-8").replace("</", "<\\/"))


def sheet_manifest(sheets: Mapping[str, str | Path], tables: Mapping[str, pd.DataFrame]) -> dict:
    """What was read, per sheet: its file (and worksheet, when one workbook holds the sheets), format, sha256,
    number of rows and extra (non-contract) columns."""
    out = {}
    for name in sorted(sheets, key=SHEETS.index):
        path = Path(sheets[name])
        contract = set(load_schema(name)["properties"])
        table = tables[f"sheet_{name}"]
        out[name] = {
            "file": sheet_display(name, path),
            "format": path.suffix.lower().lstrip("."),
            "sha256": sha256_of(path),
            "rows": int(len(table)),
            "extra_columns": [c for c in table.columns if c not in contract],
        }
    return {"sheets": out}


def _types(name: str, path: str | Path) -> dict[str, str] | None:
    """How to read back the table ``name`` at ``path``: a sheet by its schema, a published table by the data
    dictionary (both keep identifiers as text); count tables by pandas' inference."""
    if name.startswith("sheet_"):
        return column_types(name.removeprefix("sheet_"))
    if name in output_dictionary() and "columns" in output_dictionary()[name]:
        return output_types(name)
    return None


def first_ids(text: str | None, limit: int = 20) -> str | None:
    """A ``;``-separated list of review ids as it is, or its first ``limit`` ids and how many more."""
    if not text:
        return text
    ids = str(text).split(";")
    if len(ids) <= limit:
        return text
    return ";".join(ids[:limit]) + f"; … and {len(ids) - limit:,} more"


def review_anchor(review_id: str) -> str:
    """The id of a review's row in the characteristics table (review ids hold only letters, digits, ``_``, ``.``
    and ``-``, so they are valid in an id and a URL fragment as they are)."""
    return f"review-{review_id}"


def review_link(text: Any, review_id: Any, anchors: Mapping[str, str]) -> Any:
    """``text`` (escaped) as a link to the review's row in the characteristics table; plain text when the row is
    not in the report (beyond ``scale.report_rows``) or the review is not known."""
    from markupsafe import Markup, escape

    shown = escape(MISSING if text is None else text)
    anchor = anchors.get(str(review_id)) if review_id is not None else None
    return Markup(f'<a class="review" href="#{escape(anchor)}">{shown}</a>') if anchor else shown


def review_links(ids: Any, anchors: Mapping[str, str], limit: int = 20) -> Any:
    """A ``;``-separated list of review ids as links to their rows, the first ``limit`` of them and how many more
    (an en dash when there is none)."""
    from markupsafe import Markup, escape

    listed = [i for i in str(ids or "").split(";") if i]
    if not listed:
        return MISSING
    links = [review_link(i, i, anchors) for i in listed[:limit]]
    more = f"; … and {len(listed) - limit:,} more" if len(listed) > limit else ""
    return Markup(", ").join(links) + escape(more)


def doi_url(doi: Any) -> str:
    """The https://doi.org/ address of a DOI, percent-encoded (the template escapes it again as an attribute)."""
    from urllib.parse import quote

    return "https://doi.org/" + quote(str(doi).strip(), safe="/:;()._-")


def svg_data_uri(path: str | Path) -> str:
    """An SVG file as a ``data:`` URI, for an ``<img>`` that needs nothing from the network (an SVG shown
    through ``<img>`` runs no script)."""
    return "data:image/svg+xml;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


class FigureFolder(Mapping[str, str]):
    """A folder of SVG figures as file name -> ``data:`` URI, each file read only when the report asks for it (a
    folder may hold thousands). Only the first page of a figure split over pages is shown (``""`` for the pages
    named ``-2``, ``-3``...); the others are in the supplement."""

    def __init__(self, folder: str | Path) -> None:
        self._paths = {p.name: p for p in sorted(Path(folder).glob("*.svg"))}

    def __getitem__(self, name: str) -> str:
        path = self._paths[name]
        return "" if "-" in path.stem else svg_data_uri(path)

    def __iter__(self):
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


def render_report(
    config: Mapping,
    sheets: Mapping[str, str | Path],
    tables: Mapping[str, str | Path],
    figures: Mapping[str, str | Path],
    figure_dirs: Mapping[str, str | Path],
    provenance: str | Path,
    template: str | Path,
    css: str | Path,
    output: str | Path,
) -> None:
    """Read the tables (name -> path), hash the raw sheets (name -> path), embed the figures (name -> SVG
    path, and name -> folder of SVGs), render the report and write it atomically."""
    frames = {name: read_table(path, _types(name, path)) for name, path in tables.items()}
    dirs = {name: FigureFolder(d) for name, d in figure_dirs.items()}
    context = build_context(config, sheet_manifest(sheets, frames), frames, dirs)
    context["figures"] = {name: svg_data_uri(path) for name, path in figures.items()}
    context["provenance"] = json.loads(Path(provenance).read_text(encoding="utf-8"))
    html = render(context, template, css)
    with atomic_open(output) as fh:
        fh.write(html)
