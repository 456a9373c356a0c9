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
from umbrella.core.registry import conditions, supplement_labels
from umbrella.core.sheets import column_types, load_schema
from umbrella.core.tables import atomic_open, output_dictionary, output_types, read_table
from umbrella.core.vocabulary import FIGURE_ROWS, RATING_LABELS, RATINGS, REVIEW_TYPES, review_label
from umbrella.reanalysis.grade import GRADE_LABELS
from umbrella.reanalysis.settings import MetaSettings
from umbrella.report.section_contexts import (
    effects_context,
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
    return f"{100 * part / whole:.0f} %"


def year_chart(by_year: pd.DataFrame, width: int = 640, height: int = 180) -> dict[str, Any] | None:
    """Bar geometry of reviews per publication year (one bar per year from the first to the last)."""
    known = by_year.dropna(subset=["year"])
    if known.empty:
        return None
    counts = dict(zip(known["year"].astype(int), known["n_reviews"].astype(int), strict=True))
    years = list(range(min(counts), max(counts) + 1))
    top = max(counts.values())
    left, bottom, top_pad = 30, 24, 12
    plot_w, plot_h = width - left - 8, height - bottom - top_pad
    step = plot_w / len(years)
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
    return {"width": width, "height": height, "bars": bars, "baseline": top_pad + plot_h, "left": left, "top": top}


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
    return {
        **overview_context(config, tables, present),
        "amstar_levels": RATING_LABELS,
        "amstar2": sheet_summary(tables, "amstar2"),
        "quality": quality,
        "figures": {},
        "provenance": None,
        "effects_sheet": sheet_summary(tables, "effects", "outcome_group"),
        "effects": effects_context(config, tables, figure_dirs or {}),
        "synthesis": synthesis_context(config, tables),
        "reanalysis": reanalysis_context(config, tables, labels),
        "meta_analysis_detail": meta_analysis_detail_context(
            config, tables, labels, (figure_dirs or {}).get("meta_analysis_detail", {})
        ),
        "overlap": overlap_context(config, tables, labels),
        "limitations": list(config.get("limitations") or []),
        "supplement": supplement_labels(conditions(present, config.get("prisma"))),
        "row_limit": int((config.get("scale") or {}).get("report_rows", 200)),
        "ordinal_scales": [
            [RATING_LABELS[r] for r in (*RATINGS, "incomplete") if r in RATING_LABELS],
            list(GRADE_LABELS[MetaSettings.from_config(config.get("reanalysis")).grade.labels]),
        ],
        "figure_rows": int((config.get("scale") or {}).get("figure_rows", FIGURE_ROWS)),
        "gaps": gaps,
        "versions": _versions(),
    }


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
        "characteristics": records(tables["characteristics"]),
    }


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


def extraction_gaps(reviews: pd.DataFrame, present: Mapping) -> list[str]:
    """What the extraction lacks, in sentences: reviews with blank key columns, and the sheets not provided."""
    gaps = []
    for column, words in GAP_COLUMNS:
        n = int(reviews[column].isna().sum())
        if n:
            gaps.append(f"{n} of {len(reviews)} reviews have no {words} in the sheets.")
    alternatives = {"studies": "citation_matrix", "citation_matrix": "studies"}
    absent = [name for name in SHEETS[1:] if name not in present and alternatives.get(name) not in present]
    if absent:
        gaps.append("Sheets not provided: " + ", ".join(absent) + ".")
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
    env.filters["num"] = _num
    env.filters["first_ids"] = first_ids
    env.filters["pval"] = p_text
    env.filters["minus"] = lambda text: str(text).replace("-", "\u2212")
    return env.get_template(template.name).render(**context, css=style_sheet(css))


def style_sheet(css: str | Path) -> Any:
    """The workflow's stylesheet, to be inlined in ``<style>``: HTML escaping would break its quotes, so it is
    marked safe once the only sequence that could end the element early (``</``) is escaped as CSS reads it."""
    from markupsafe import Markup

    return Markup(Path(css).read_text(encoding="utf-8").replace("</", "<\\/"))


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def p_text(value: Any, missing: str = "\u2013") -> str:
    """A p-value for readers: two decimals from 0.01, three from 0.001, below that as a × 10⁻ⁿ (never 0.00)."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return missing
    p = float(value)
    if p >= 0.01:
        return f"{p:.2f}"
    if p >= 0.001:
        return f"{p:.3f}"
    if p == 0:
        return "< 10\u207b\u00b3\u2070\u2070"
    mantissa, exponent = f"{p:.1e}".split("e")
    return f"{mantissa} \u00d7 10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def _num(value: Any, missing: str = "\u2013") -> str:
    """Numbers with thousands separators; blanks as an en dash."""
    if value is None:
        return missing
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


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
