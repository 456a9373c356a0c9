"""Write ``config/README.md`` (the raw-data contract, sheet by sheet) from the JSON Schemas.

The schemas are the single source of truth: ``python -m umbrella.docs config/README.md`` regenerates the page
and a test checks that the committed page is up to date.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from umbrella.core.config import CONFIG_SCHEMA
from umbrella.core.datasets import SHEETS
from umbrella.core.registry import outputs_table, write_captions
from umbrella.core.sheets import ROW_CHECKS, load_schema

CHECK_WORDS = {
    "ci_ordered": "`ci_lower` is not above `ci_upper`",
    "estimate_in_ci": "`estimate` lies inside [`ci_lower`, `ci_upper`]",
    "ratio_positive": "for OR, RR, HR and IRR, `estimate` and the limits are above 0 (unlogged)",
    "effect_inputs_complete": (
        "each row has a complete set of numbers its measure allows (estimate+se, estimate+CI, 2x2 counts, "
        "events+person-time, means, change scores, pre/post values, or r with n)"
    ),
    "events_within_n": "events are not more than participants in each arm",
    "nma_items": "`NMA` only on items 11, 12 and 15",
    "raters_agree": "where raters disagree on an item, a row of rater `consensus` gives the answer",
}
assert set(CHECK_WORDS) == set(ROW_CHECKS)

#: Where the config declares the values a column may take.
CONFIG_KEYS = {"research_questions": "research_questions", "framework_domains": "synthesis.framework.domains"}

HEADER = """\
# The extraction sheets: columns, allowed values, examples

<!-- Generated from workflow/schemas/sheets/*.schema.yaml by `python -m umbrella.docs config/README.md`;
edit the schemas, not this page. -->

An analysis reads one folder of sheets, named by `data:` in the config (e.g. `data/raw/cooper2024`). Each sheet
is a file `<sheet>.csv` (UTF-8, comma-separated, header in row 1) or `<sheet>.xlsx` (its worksheet named after the
sheet, else its first) with the columns below. Only `reviews` is required; the others switch on the stages that
use them. Other files in the folder are ignored, except one named like a sheet (e.g. `effect.csv`), which is
reported as a likely typo.

`data:` may instead name one workbook (e.g. `data/raw/myreview.xlsx`) whose worksheets are the sheets, each named
after its sheet (case, spaces, `_` and `-` do not matter: `Study effects` = `study_effects`). A worksheet whose
name starts with `_`, or is `README`, `notes`, `instructions`, `codebook` or `lists`, is not read; any other name
is reported, with the sheet names allowed. Problems then name the worksheet too: `myreview.xlsx, worksheet
'effects', row 3, column se`.

How cells are read:
- Column names are matched without regard to case or spaces (`Review ID` = `review_id`). Columns not listed
  here are kept, unchanged, after the listed ones in the tidy tables (useful for provenance such as a source
  table or a note).
- Vocabulary values are matched without regard to case, spaces, `_` or `-` (`Critically low` = `critically_low`),
  and the aliases listed are accepted too; the tidy tables hold the canonical value.
- In number columns, blank, `NA`, `N/A`, `NR`, `not reported`, `-` and `.` mean "not known". A Unicode minus
  (`−`) is read as `-`. Decimals use a point; thousands separators are not allowed. A number must be finite
  (`inf`, `-Infinity`, `NaN` and `1e999` are refused) and a whole number at most 9,007,199,254,740,992.
- Text is cleaned as it is read: control characters (but tab and line breaks, e.g. a vertical tab pasted from
  Word) and invisible characters (zero-width spaces and joiners, byte-order marks, soft hyphens) are removed, a
  no-break space becomes a space, and a note in the log names the file, column and rows. Identifiers that then
  differ only in case (`Smith2015`, `smith2015`) are different studies; a note names both spellings and rows.
- Rows are numbered as a spreadsheet numbers them: blank lines of a CSV count, a cell with line breaks inside
  its quotes is one row. A workbook must be saved without a password, and by Excel or LibreOffice when it
  holds formulas (a script writes formulas without their values).
- A required column must be present and filled in every row; any other column may be absent or blank.
- Every problem is reported at once, with file, row (as in a spreadsheet: the header is row 1), column, the
  value and what is allowed; nothing is written until the sheets are clean.

"""


def _type(spec: dict) -> str:
    kind = spec.get("type", "string")
    words = {"string": "text", "integer": "whole number", "number": "number"}[kind]
    bounds = []
    for key, sign in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<")):
        if key in spec:
            bounds.append(f"{sign} {spec[key]:g}")
    if bounds:
        words += " " + ", ".join(bounds)
    if spec.get("x-format") == "year-month":
        words = "`YYYY` or `YYYY-MM`"
    if spec.get("x-format") == "p-value":
        words = "p-value as printed"
    return words


def _allowed(spec: dict) -> str:
    parts = []
    if "enum" in spec:
        parts.append(", ".join(f"`{v}`" for v in spec["enum"]))
    if spec.get("x-enum-from-config"):
        key = CONFIG_KEYS[spec["x-enum-from-config"]]
        sep = spec.get("x-list-separator")
        parts.append(f"keys of `{key}` in the config" + (f", `{sep}`-separated" if sep else ""))
    if spec.get("x-references"):
        parts.append("a `review_id` of the reviews sheet")
    if spec.get("x-studies-listed"):
        parts.append("a study listed for its review in the studies sheet or citation matrix, when given")
    if spec.get("pattern") and "enum" not in spec and spec.get("x-format") != "year-month":
        parts.append(f"pattern `{spec['pattern']}`")
    if spec.get("x-aliases"):
        parts.append("also: " + ", ".join(f"`{a}`" for a in spec["x-aliases"]))
    if "default" in spec:
        parts.append(f"blank = {spec['default']}")
    return "; ".join(parts)


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def sheet_section(sheet: str) -> str:
    schema = load_schema(sheet)
    meta = schema.get("x-sheet", {})
    required = set(schema.get("required", []))
    lines = [
        f"## `{sheet}` ({'required' if meta.get('required') else 'optional'})",
        "",
        _cell(schema["description"]),
        "",
    ]
    if meta.get("key"):
        repeats = [c for c, p in schema["properties"].items() if p.get("x-repeats-key")]
        exception = (
            f"; several rows may share it when each gives the same {', '.join(f'`{c}`' for c in repeats)}"
            if repeats
            else ""
        )
        lines.append(f"Key (unique per row{exception}): {', '.join(f'`{k}`' for k in meta['key'])}.")
    checks = [CHECK_WORDS[c] for c in meta.get("checks", [])]
    if checks:
        lines.append("Row checks: " + "; ".join(checks) + ".")
    lines += ["", "| column | required | type | allowed values | meaning |", "|---|---|---|---|---|"]
    example = {}
    for col, spec in schema["properties"].items():
        lines.append(
            f"| `{col}` | {'yes' if col in required else ''} | {_type(spec)} | {_cell(_allowed(spec))} | "
            f"{_cell(spec.get('description', ''))} |"
        )
        if spec.get("examples"):
            example[col] = spec["examples"][0]
    if example:
        lines += ["", "Example cells: " + ", ".join(f"`{k}` = `{v}`" for k, v in example.items()) + "."]
    return "\n".join(lines) + "\n"


def _setting_rows(spec: dict, prefix: str, defs: dict) -> list[str]:
    if "$ref" in spec:
        spec = defs[spec["$ref"].rsplit("/", 1)[-1]]
    rows = []
    properties = spec.get("properties", {})
    refs = {sub.get("$ref") for sub in properties.values()}
    if len(properties) > 1 and len(refs) == 1 and None not in refs:  # the same settings under several keys
        properties = {"<" + " | ".join(properties) + ">": next(iter(properties.values()))}
    for key, sub in properties.items():
        name = f"{prefix}.{key}"
        target = defs[sub["$ref"].rsplit("/", 1)[-1]] if "$ref" in sub else sub
        allowed = ", ".join(f"`{v}`" for v in target.get("enum", []))
        if "oneOf" in target:
            allowed = "; ".join(
                ", ".join(f"`{v}`" for v in alt["enum"]) if "enum" in alt else _type(alt) for alt in target["oneOf"]
            )
        elif not allowed and target.get("type") in ("number", "integer"):
            allowed = _type(target)
        default = target.get("default")
        shown = "" if default is None or isinstance(default, dict) and not default else f"`{default}`"
        rows.append(f"| `{name}` | {_cell(allowed)} | {_cell(shown)} | {_cell(target.get('description', ''))} |")
        if target.get("type") == "object" and target.get("properties"):
            rows += _setting_rows(target, name, defs)
    return rows


def settings_section(key: str) -> str:
    """The settings under ``key`` of the config schema as a table (setting, allowed values, default, meaning)."""
    with open(CONFIG_SCHEMA, encoding="utf-8") as fh:
        schema = yaml.safe_load(fh)
    spec = schema["properties"][key]
    lines = [
        f"## Settings: `{key}` in the config",
        "",
        _cell(spec.get("description", "")),
        "",
        "| setting | allowed values | default | meaning |",
        "|---|---|---|---|",
        *_setting_rows(spec, key, schema.get("$defs", {})),
    ]
    return "\n".join(lines) + "\n"


def render() -> str:
    settings = ("overview", "reanalysis", "report", "double_extraction")
    return HEADER + "\n".join(sheet_section(s) for s in SHEETS) + "\n" + "\n".join(map(settings_section, settings))


README = Path(__file__).resolve().parents[3] / "README.md"
OUTPUTS_START, OUTPUTS_END = "<!-- outputs:start", "<!-- outputs:end -->"


def readme_with_outputs(text: str) -> str:
    """The README with its generated table of outputs (between the outputs markers) brought up to date."""
    head, rest = text.split(OUTPUTS_START, 1)
    marker_line, _ = rest.split("\n", 1)
    _, tail = rest.split(OUTPUTS_END, 1)
    return f"{head}{OUTPUTS_START}{marker_line}\n{outputs_table()}{OUTPUTS_END}{tail}"


def main(argv: list[str] | None = None) -> int:
    """Write config/README.md (to the path given, else to stdout) and, next to the package, the caption files
    of ``snakemake --report`` and the README's table of outputs, all from the schemas and the output registry."""
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if argv:
        Path(argv[0]).write_text(text, encoding="utf-8", newline="\n")
    else:
        sys.stdout.write(text)
    write_captions()
    if README.exists():
        README.write_text(readme_with_outputs(README.read_text(encoding="utf-8")), encoding="utf-8", newline="\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
