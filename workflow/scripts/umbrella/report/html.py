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
from umbrella.core.datasets import SHEETS, sha256_of
from umbrella.core.registry import conditions, supplement_labels
from umbrella.core.sheets import column_types, load_schema
from umbrella.core.tables import atomic_open, output_dictionary, output_types, read_table
from umbrella.core.vocabulary import RATING_LABELS, REVIEW_TYPES, review_label
from umbrella.effects.harmonise import FLAG_WORDS, EffectSettings, forest_file_names
from umbrella.overlap.cca import BANDS, OverlapSettings
from umbrella.quality.rating import RatingRule
from umbrella.reanalysis.engine import MetaSettings
from umbrella.reanalysis.evidence import (
    GRADE_DOMAINS,
    GRADE_LABELS,
    IOANNIDIS_CLASSES,
    PERSONALISED_CLASSES,
    criteria_table,
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


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with missing values as ``None`` and whole floats shown without ``.0``."""
    out = []
    for row in df.to_dict("records"):
        clean = {}
        for k, v in row.items():
            if v is None or (not isinstance(v, str) and pd.isna(v)):
                clean[k] = None
            elif isinstance(v, bool | np.bool_):
                clean[k] = bool(v)
            elif isinstance(v, np.integer):
                clean[k] = int(v)
            elif isinstance(v, np.floating):
                v = float(v)
                clean[k] = int(v) if v.is_integer() else v
            elif isinstance(v, float) and v.is_integer():
                clean[k] = int(v)
            else:
                clean[k] = v
        out.append(clean)
    return out


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
    published = config.get("published") or None
    n_reviews = len(reviews)
    title = config["title"]
    if config.get("simulated") and "SIMULATED" not in title.upper():
        title = f"SIMULATED: {title}"
    present = manifest["sheets"]
    sheets = [{"name": name, "present": name in present, **present.get(name, {})} for name in SHEETS]

    share = None
    if published:
        share = {
            "n_reviews": n_reviews,
            "published_n_reviews": published.get("n_reviews"),
            "pct_reviews": pct(n_reviews, published.get("n_reviews")),
            "published_n_primary_studies": published.get("n_primary_studies"),
            "n_with_primary_count": int(reviews["n_primary_studies"].notna().sum()),
            "source": published.get("source"),
        }

    def sheet_summary(name: str, group: str | None = None) -> dict[str, Any] | None:
        if f"sheet_{name}" not in tables:
            return None
        t = tables[f"sheet_{name}"]
        out = {"rows": len(t), "reviews": int(t["review_id"].nunique())}
        if group and group in t:
            out["groups"] = sorted(t[group].dropna().astype(str).unique().tolist())
        return out

    gaps = []
    for column, words in [
        ("year", "publication year"),
        ("review_type", "review type"),
        ("research_questions", "research question"),
        ("n_primary_studies", "number of primary studies"),
        ("amstar2_reported", "published AMSTAR-2 rating"),
    ]:
        n = int(reviews[column].isna().sum())
        if n:
            gaps.append(f"{n} of {n_reviews} reviews have no {words} in the sheets.")
    alternatives = {"studies": "citation_matrix", "citation_matrix": "studies"}
    absent = [name for name in SHEETS[1:] if name not in present and alternatives.get(name) not in present]
    if absent:
        gaps.append("Sheets not provided: " + ", ".join(absent) + ".")

    import jinja2
    import yaml

    quality = quality_context(config, tables, reviews)

    return {
        "title": title,
        "simulated": bool(config.get("simulated")),
        "overview": config.get("overview") or {},
        "data": config["data"],
        "questions": _records(tables["reviews_by_question"]),
        "show_inferred": bool(
            tables["reviews_by_question"]["n_inferred"].sum() + tables["reviews_by_type"]["n_inferred"].sum()
        ),
        "question_labels": {k: v["label"] for k, v in config["research_questions"].items()},
        "published": published,
        "share": share,
        "n_reviews": n_reviews,
        "sheets": sheets,
        "sections": SECTIONS,
        "by_type": _records(tables["reviews_by_type"]),
        "type_labels": REVIEW_TYPES,
        "by_year": _records(tables["reviews_by_year"]),
        "year_chart": year_chart(tables["reviews_by_year"]),
        "characteristics": _records(tables["characteristics"]),
        "amstar_levels": RATING_LABELS,
        "amstar2": sheet_summary("amstar2"),
        "quality": quality,
        "figures": {},
        "provenance": None,
        "effects_sheet": sheet_summary("effects", "outcome_group"),
        "effects": effects_context(config, tables, figure_dirs or {}),
        "synthesis": synthesis_context(config, tables),
        "reanalysis": reanalysis_context(
            config, tables, dict(zip(reviews["review_id"], review_label(reviews), strict=True))
        ),
        "overlap": overlap_context(config, tables, dict(zip(reviews["review_id"], review_label(reviews), strict=True))),
        "limitations": list(config.get("limitations") or []),
        "supplement": supplement_labels(conditions(present, config.get("prisma"))),
        "gaps": gaps,
        "versions": {
            "umbrella": __version__,
            "pandas": pd.__version__,
            "numpy": np.__version__,
            "jinja2": jinja2.__version__,
            "pyyaml": yaml.__version__,
        },
    }


def quality_context(config: Mapping, tables: Mapping[str, pd.DataFrame], reviews: pd.DataFrame) -> dict[str, Any]:
    """The quality section: the rule in words, the ratings with what decides each, disagreements with the
    published ratings, the item summary and rater agreement."""
    rule = RatingRule.from_config(config.get("quality"))
    out: dict[str, Any] = {"rule": rule.describe(), "built": "amstar2_ratings" in tables}
    if not out["built"]:
        return out
    ratings = tables["amstar2_ratings"].merge(
        pd.DataFrame({"review_id": reviews["review_id"], "review": review_label(reviews)}), on="review_id", how="left"
    )
    order = {r: i for i, r in enumerate(RATING_LABELS)}
    ratings = ratings.assign(_k=ratings["rating"].map(order)).sort_values(["_k", "review_id"], kind="stable")
    rows = _records(ratings.drop(columns="_k"))
    for row in rows:
        for col in ("flaw_items", "weakness_items", "missing_items"):
            row[col] = (row[col] or "").replace(";", ", ")
    rated = [r for r in rows if r["rating"] != "incomplete"]
    out.update(
        {
            "ratings": rows,
            "labels": RATING_LABELS,
            "n_reviews": len(rows),
            "n_rated": len(rated),
            "n_low": sum(r["rating"] in ("low", "critically_low") for r in rated),
            "n_from_items": sum(r["rating_source"] == "items" for r in rows),
            "n_from_reported": sum(r["rating_source"] == "reported" for r in rows),
            "n_unrated": len(rows) - len(rated),
            "disagreements": [r for r in rows if r["agrees_with_reported"] is False],
            "n_compared": sum(r["agrees_with_reported"] is not None for r in rows),
            "item_summary": _records(tables["amstar2_items"]) if "sheet_amstar2" in tables else [],
            "agreement": _records(tables["amstar2_agreement"]),
        }
    )
    return out


def _fmt_num(x: float | None, measure: str | None = None) -> str:
    if x is None:
        return "\u2013"
    text = f"{x:.2f}" if abs(x) < 100 else f"{x:,.0f}"
    return text.replace("-", "\u2212")


def effect_text(row: Mapping[str, Any]) -> str:
    """``SMD −0.39 [−0.54, −0.24]`` as the review reported it (blank parts as en dashes)."""
    if row.get("estimate") is None:
        return "not reported"
    measure = row.get("measure") or ""
    ci = (
        f" [{_fmt_num(row.get('ci_lower'))}, {_fmt_num(row.get('ci_upper'))}]"
        if row.get("ci_lower") is not None
        else ""
    )
    return f"{measure} {_fmt_num(row.get('estimate'))}{ci}".strip()


def effects_context(
    config: Mapping, tables: Mapping[str, pd.DataFrame], figure_dirs: Mapping[str, Mapping[str, str]]
) -> dict[str, Any]:
    """The effects section: per outcome group, its results as published and harmonised, its forest plot, its
    outcome summaries and the flags in words."""
    settings = EffectSettings.from_config(config.get("effects"))
    out: dict[str, Any] = {
        "conventions": settings.describe(),
        "built": "review_effects" in tables,
        "flag_words": FLAG_WORDS,
    }
    if not out["built"]:
        return out
    rows = tables["review_effects"].assign(outcome_group=lambda d: d["outcome_group"].fillna("Ungrouped"))
    summary = tables["outcome_summary"]
    forests = figure_dirs.get("forest", {})
    overlap_by_group = {}
    if "cca_by_outcome" in tables:
        scoped = tables["cca_by_outcome"]
        scoped = scoped[scoped["scope"] == "effects_outcome_group"]
        overlap_by_group = {row["outcome"]: row for row in _records(scoped)}
    names = forest_file_names(list(rows["outcome_group"]))
    groups = []
    for group, g in rows.groupby("outcome_group", sort=True):
        records = _records(g.sort_values(["outcome", "timepoint", "review", "effect_id"], na_position="last"))
        for r in records:
            r["effect_text"] = effect_text(r)
            r["flag_list"] = [f for f in (r.get("flags") or "").split(";") if f]
        flags = sorted({f for r in records for f in r["flag_list"]})
        summ = summary[summary["outcome_group"] == group]
        groups.append(
            {
                "name": group,
                "rows": records,
                "summary": _records(summ[summ["scope"] == "outcome_group"])[0],
                "outcomes": _records(summ[summ["scope"] == "outcome"]),
                "forest": forests.get(names[group]),
                "overlap": overlap_by_group.get(group),
                "flags": [(f, FLAG_WORDS.get(f, f)) for f in flags],
            }
        )
    for group in groups:
        group["summary"]["best_text"] = effect_text(
            {
                "measure": group["summary"]["best_measure"],
                "estimate": group["summary"]["best_estimate"],
                "ci_lower": group["summary"]["best_ci_lower"],
                "ci_upper": group["summary"]["best_ci_upper"],
            }
        )
    out.update(
        {
            "groups": groups,
            "n_results": len(rows),
            "n_incomplete": int(rows["flag_incomplete"].sum()),
            "n_flagged": int((rows["flags"].fillna("") != "").sum()),
        }
    )
    return out


def reanalysis_context(
    config: Mapping, tables: Mapping[str, pd.DataFrame], labels: Mapping[str, str]
) -> dict[str, Any]:
    """The re-analysis subsection: conventions, one row per re-run meta-analysis with its class and GRADE."""
    settings = MetaSettings.from_config(config.get("reanalysis"))
    out: dict[str, Any] = {"conventions": settings.describe(), "built": "pooled" in tables}
    if out["built"]:
        rows = _records(tables["pooled"])
        for row in rows:
            row["review"] = labels.get(row["review_id"], row["review_id"])
            row["effect_text"] = effect_text(row)
        out["rows"] = rows
        order = PERSONALISED_CLASSES if settings.classes == "personalised" else IOANNIDIS_CLASSES
        out["classes"] = {c: sum(r["class"] == c for r in rows) for c in order}
        out["grades"] = {g: sum(r["grade"] == g for r in rows) for g in GRADE_LABELS[settings.grade.labels]}
        out["grade_domains"] = [(col[len("grade_") :], words) for col, words in GRADE_DOMAINS]
    out["system"] = "personalised" if settings.classes == "personalised" else "Ioannidis"
    out["criteria"] = criteria_table(settings.personalised) if settings.classes == "personalised" else []
    return out


def overlap_context(config: Mapping, tables: Mapping[str, pd.DataFrame], labels: Mapping[str, str]) -> dict[str, Any]:
    """The overlap section: assumptions, overall and adjusted CCA, study frequency, the most overlapping pairs,
    per-outcome overlap."""
    settings = OverlapSettings.from_config(config.get("overlap"))
    out: dict[str, Any] = {"assumptions": settings.describe(), "built": "cca_overall" in tables}
    published = config.get("published") or {}
    out["published_n_primary_studies"] = published.get("n_primary_studies")
    if not out["built"]:
        return out
    pairs = tables["cca_pairwise"].sort_values(
        ["cca", "n_overlap", "review_a", "review_b"], ascending=[False, False, True, True]
    )
    top = _records(pairs.head(10))
    for row in top:
        row["label_a"], row["label_b"] = (
            labels.get(row["review_a"], row["review_a"]),
            labels.get(row["review_b"], row["review_b"]),
        )
    bands = tables["cca_pairwise"]["band"].value_counts()
    out.update(
        {
            "overall": _records(tables["cca_overall"])[0],
            "frequency": _records(tables["study_frequency"]),
            "top_pairs": top,
            "n_pairs": len(pairs),
            "band_counts": [(name, int(bands.get(name, 0))) for _, name in BANDS],
            "by_outcome": _records(tables["cca_by_outcome"]),
            "heatmap": len(tables["review_studies"]) <= settings.heatmap_max_reviews,
        }
    )
    return out


def synthesis_context(config: Mapping, tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """The implementation, experiences, question-overview and flow-diagram parts of the report."""
    framework = config["synthesis"]["framework"]
    out: dict[str, Any] = {"framework": framework["name"], "domains": framework["domains"]}
    for name in ("questions", "implementation", "experiences", "prisma"):
        table = tables.get(name)
        out[name] = None if table is None else _records(table)
    for row in out["questions"] or []:
        row["review_ids"] = (row["review_ids"] or "").replace(";", ", ")
    for name in ("implementation", "experiences"):
        for row in out[name] or []:
            row["review_ids"] = (row["review_ids"] or "").replace(";", ", ")
    if out["implementation"] is not None:
        domains_seen = {r["domain"] for r in out["implementation"]}
        out["domains_without_rows"] = [label for key, label in framework["domains"].items() if key not in domains_seen]
        out["implementation_incomplete"] = sum(
            1 for r in out["implementation"] if not (r["construct"] and r["factor"] and r["role"])
        )
    if out["experiences"] is not None:
        out["experiences_without_findings"] = sum(1 for r in out["experiences"] if not r["n_findings"])
    prisma = config.get("prisma")
    out["prisma_note"] = prisma.get("included_difference") if prisma else None
    return out


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
    env.filters["pval"] = p_text
    env.filters["minus"] = lambda text: str(text).replace("-", "\u2212")
    css_text = Path(css).read_text(encoding="utf-8")
    return env.get_template(template.name).render(**context, css=css_text)


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
    """What was read, per sheet: its file, format, sha256, number of rows and extra (non-contract) columns."""
    out = {}
    for name in sorted(sheets, key=SHEETS.index):
        path = Path(sheets[name])
        contract = set(load_schema(name)["properties"])
        table = tables[f"sheet_{name}"]
        out[name] = {
            "file": str(sheets[name]),
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


def svg_data_uri(path: str | Path) -> str:
    """An SVG file as a ``data:`` URI, for an ``<img>`` that needs nothing from the network (an SVG shown
    through ``<img>`` runs no script)."""
    return "data:image/svg+xml;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


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
    dirs = {name: {p.name: svg_data_uri(p) for p in sorted(Path(d).glob("*.svg"))} for name, d in figure_dirs.items()}
    context = build_context(config, sheet_manifest(sheets, frames), frames, dirs)
    context["figures"] = {name: svg_data_uri(path) for name, path in figures.items()}
    context["provenance"] = json.loads(Path(provenance).read_text(encoding="utf-8"))
    html = render(context, template, css)
    with atomic_open(output) as fh:
        fh.write(html)
