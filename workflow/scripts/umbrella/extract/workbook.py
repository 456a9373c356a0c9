"""The extraction workbook: a blank ``.xlsx`` to extract an umbrella review into, made from the sheet schemas.

    python -m umbrella.extract.workbook extraction.xlsx [--config config/config.yaml] [--force]

A first worksheet "Read me" says how to fill it in and how to run the analysis on it; then one worksheet per
sheet (:data:`~umbrella.core.datasets.SHEETS`, named exactly so), each with the schema's columns in schema order
as its header row: styled (required columns darker), frozen, filtered, with a note on each header cell (meaning,
type, allowed values or range, example, required or not). Vocabulary columns (``enum``, and the research
questions and framework domains of the config) get a dropdown whose values are kept in the hidden worksheet
``_lists``; number columns with bounds get whole-number or decimal validation; text columns are formatted as
text, so that a spreadsheet keeps ``2022-11`` or ``1-2`` as typed. The pipeline reads the filled workbook back
as its ``data:`` (:func:`umbrella.core.datasets.find_worksheets`); a worksheet left with only its header is a
sheet not given. The bytes depend only on the schemas and the config (fixed dates, as the supplement's).
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from umbrella.core.config import load_config, vocabularies
from umbrella.core.datasets import IGNORED_PREFIX, SHEETS
from umbrella.core.errors import InputError
from umbrella.core.sheet_schemas import load_schema
from umbrella.core.tables import atomic_open, spreadsheet_text
from umbrella.report.supplement import _repack  # fixed document dates and zip timestamps, as the supplement's

READ_ME = "Read me"
LISTS = IGNORED_PREFIX + "lists"
#: Validations cover the data rows 2 to the last row of a sheet (Excel and LibreOffice: 1,048,576 rows).
LAST_ROW = 1_048_576
#: The last column of a sheet (Excel and LibreOffice 7.4 on): the wide citation matrix's review columns.
LAST_COLUMN = "XFD"
WIDE_VALUES: tuple[int | str, ...] = (1, 0, "NA")
FIXED_TIME = datetime(1980, 1, 1)
AUTHOR = "Extraction workbook"
#: What Excel accepts in a validation's title and message.
TITLE_CHARS = 32
MESSAGE_CHARS = 255
HEADER_FILL = "DDEBF7"
REQUIRED_FILL = "1F4E78"
HEADING_FILL = "D9D9D9"


@dataclass(frozen=True)
class Column:
    """One column of a sheet's worksheet, as its schema describes it."""

    sheet: str
    name: str
    spec: Mapping[str, Any]
    required: bool
    values: tuple[str, ...] | None  # the dropdown's values: the schema's enum, or the config's keys

    @property
    def kind(self) -> str:
        """``whole``, ``decimal`` or ``text``."""
        return {"integer": "whole", "number": "decimal"}.get(self.spec.get("type", "string"), "text")

    @property
    def is_list(self) -> bool:
        """Whether a cell may hold several values (``a;b``)."""
        return bool(self.spec.get("x-list-separator"))


def columns(sheet: str, vocabularies: Mapping[str, Sequence[str]]) -> list[Column]:
    """The header columns of ``sheet``'s worksheet in schema order (the wide citation matrix: ``study_id`` only,
    the review columns being the user's)."""
    schema = load_schema(sheet)
    required = set(schema.get("required", []))
    props: Mapping[str, Mapping] = schema["properties"]
    if schema.get("x-sheet", {}).get("wide"):
        props = {"study_id": props["study_id"]}
    out = []
    for name, spec in props.items():
        source = spec.get("x-enum-from-config")
        values = spec.get("enum") or (vocabularies.get(source) if source else None)
        out.append(Column(sheet, name, spec, name in required, tuple(str(v) for v in values) if values else None))
    return out


# --------------------------------------------------------------------------------------------------------------
# Words


def _words(text: str) -> str:
    """A schema's description as a spreadsheet shows it: one line, code in quotes rather than Markdown's code marks."""
    return " ".join(str(text).replace("`", "'").split())


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) <= 2**53 else f"{value:g}"


def bounds_text(spec: Mapping[str, Any]) -> str:
    """The range of a number column in words (``from 1 to 16``, ``greater than 0``), or ``""``."""
    low = (spec["minimum"], "at least") if "minimum" in spec else None
    if "exclusiveMinimum" in spec:
        low = (spec["exclusiveMinimum"], "greater than")
    high = (spec["maximum"], "at most") if "maximum" in spec else None
    if "exclusiveMaximum" in spec:
        high = (spec["exclusiveMaximum"], "less than")
    if low and high and low[1] == "at least" and high[1] == "at most":
        return f"from {_number(low[0])} to {_number(high[0])}"
    return " and ".join(f"{bound[1]} {_number(bound[0])}" for bound in (low, high) if bound is not None)


def type_text(column: Column) -> str:
    if column.kind == "whole":
        return "whole number"
    if column.kind == "decimal":
        return "number"
    return "text"


def allowed_text(column: Column) -> str:
    """The allowed values or range of a column in words, or ``""``."""
    if column.sheet == "citation_matrix":
        return ""
    if column.values:
        listed = ", ".join(column.values)
        return f"one or more of {listed}, separated by ';'" if column.is_list else f"one of {listed}"
    if column.kind != "text":
        return bounds_text(column.spec)
    return ""


def note_text(column: Column) -> str:
    """The note on a header cell: meaning, type, allowed values or range, example, required or not."""
    spec = column.spec
    lines = [_words(spec.get("description", column.name))]
    if column.sheet == "citation_matrix":
        lines.append(
            "Then add one column per review to the right, headed by its review_id as in the reviews sheet; each "
            "cell: 1 = the review includes the study, blank or 0 = it does not, NA = it cannot (e.g. the study "
            "appeared after the review's search)."
        )
    lines.append(f"Type: {type_text(column)}.")
    allowed = allowed_text(column)
    if allowed:
        lines.append(f"Allowed: {allowed}.")
    if spec.get("x-percent"):
        lines.append("In percent: type 78 for 78% (a cell formatted as a percentage holds 0.78).")
    aliases = spec.get("x-aliases")
    if aliases:
        lines.append(f"Also read: {', '.join(sorted(aliases))}.")
    examples = spec.get("examples")
    if examples:
        lines.append(f"Example: {', '.join(str(e) for e in examples)}.")
    if column.required:
        lines.append("Required: a value in every row.")
    elif "default" in spec:
        lines.append(f"Optional: blank = {_number(spec['default'])}.")
    else:
        lines.append("Optional: blank = not known.")
    return "\n".join(lines)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------------------------------------------
# Validation


def validation(column: Column, letter: str, lists: Mapping[tuple[str, str], str]) -> Any:
    """The data validation of a column's data rows (``None`` for free text): a dropdown of its values (kept in
    ``lists``: (sheet, column) -> range), or a whole-number or decimal range, each with its message."""
    sqref = f"{letter}2:{letter}{LAST_ROW}"
    title = _cut(column.name, TITLE_CHARS)
    if column.values:
        listed = ", ".join(column.values)
        if column.is_list:
            error = (
                f"Pick one from the list, or type several separated by ';' (e.g. {';'.join(column.values[:2])}). "
                f"Allowed: {listed}."
            )
            style = "warning"
        else:
            error = f"Allowed: {listed}. Pick one from the list."
            style = "stop"
        return DataValidation(
            type="list",
            formula1=lists[(column.sheet, column.name)],
            allow_blank=True,
            showErrorMessage=True,
            showInputMessage=True,
            errorStyle=style,
            errorTitle=title,
            error=_cut(error, MESSAGE_CHARS),
            promptTitle=title,
            prompt=_cut(("Pick one or more" if column.is_list else "Pick one") + f": {listed}.", MESSAGE_CHARS),
            sqref=sqref,
        )
    if column.kind == "text":
        if not column.spec.get("pattern"):
            return None
        example = ", ".join(str(e) for e in column.spec.get("examples", []))
        prompt = _words(column.spec.get("description", "")) + (f" Example: {example}." if example else "")
        return DataValidation(showInputMessage=True, promptTitle=title, prompt=_cut(prompt, MESSAGE_CHARS), sqref=sqref)
    if column.kind == "decimal" and not bounds_text(column.spec):
        return None  # any number, or NA: the pipeline checks it
    operator, formula1, formula2 = _operator(column)
    words = bounds_text(column.spec)
    what = "A whole number" if column.kind == "whole" else "A number"
    blank = f"blank = {_number(column.spec['default'])}" if "default" in column.spec else "blank = not known"
    message = f"{what}{' ' + words if words else ''}; {blank}."
    return DataValidation(
        type=column.kind,
        operator=operator,
        formula1=formula1,
        formula2=formula2,
        allow_blank=True,
        showErrorMessage=True,
        showInputMessage=True,
        errorStyle="stop",
        errorTitle=title,
        error=_cut(message, MESSAGE_CHARS),
        promptTitle=title,
        prompt=_cut(message, MESSAGE_CHARS),
        sqref=sqref,
    )


#: The bounds of a whole number without any: what a spreadsheet cell holds exactly (2^53).
WHOLE = 2**53


def _operator(column: Column) -> tuple[str, str, str | None]:
    """A validation's operator and formulas for a number column's bounds. Exclusive bounds are given as
    inclusive ones where both sides are bounded (a spreadsheet has no exclusive "between"); the message says
    what is meant, and the pipeline refuses the bound itself."""
    spec = column.spec
    low = spec.get("minimum", spec.get("exclusiveMinimum"))
    high = spec.get("maximum", spec.get("exclusiveMaximum"))
    if column.kind == "whole":
        if "exclusiveMinimum" in spec:
            low = math.floor(spec["exclusiveMinimum"]) + 1
        if "exclusiveMaximum" in spec:
            high = math.ceil(spec["exclusiveMaximum"]) - 1
        if low is None and high is None:
            low, high = -WHOLE, WHOLE
    if low is not None and high is not None:
        return "between", _number(low), _number(high)
    if low is not None:
        exclusive = "exclusiveMinimum" in spec and column.kind == "decimal"
        return ("greaterThan" if exclusive else "greaterThanOrEqual"), _number(low), None
    exclusive = "exclusiveMaximum" in spec and column.kind == "decimal"
    return ("lessThan" if exclusive else "lessThanOrEqual"), _number(high), None


# --------------------------------------------------------------------------------------------------------------
# The workbook


def _width(column: Column) -> float:
    longest = max(
        [
            len(column.name),
            *(len(v) for v in column.values or ()),
            *(len(str(e)) for e in column.spec.get("examples", [])),
        ]
    )
    return float(min(max(longest + 4, 10), 40))


def build(config: Mapping, source: str) -> Any:
    """The extraction workbook (an openpyxl ``Workbook``) for a validated ``config`` read from ``source``."""
    vocab = vocabularies(config)
    sheets = {sheet: columns(sheet, vocab) for sheet in SHEETS}
    wb = Workbook()
    wb.properties.creator = AUTHOR
    wb.properties.title = _cut(f"Extraction workbook: {_words(config['title'])}", 250)
    wb.properties.created = wb.properties.modified = FIXED_TIME
    readme = wb.active
    readme.title = READ_ME
    lists_ws = wb.create_sheet(LISTS)
    lists = _write_lists(lists_ws, sheets)
    for sheet, cols in sheets.items():
        _write_sheet(wb.create_sheet(sheet), cols, lists)
    wb.move_sheet(lists_ws, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index(LISTS))
    lists_ws.sheet_state = "hidden"
    _write_readme(readme, config, source, sheets)
    wb.active = 0
    return wb


def _write_lists(ws: Any, sheets: Mapping[str, list[Column]]) -> dict[tuple[str, str], str]:
    """One column per dropdown (headed ``sheet.column``) in the hidden worksheet; returns each one's range."""
    refs: dict[tuple[str, str], str] = {}
    lists: list[tuple[tuple[str, str], Sequence[int | str]]] = [
        ((c.sheet, c.name), c.values) for cols in sheets.values() for c in cols if c.values
    ]
    lists.append((("citation_matrix", "review columns"), WIDE_VALUES))
    for j, ((sheet, name), values) in enumerate(lists, start=1):
        letter = get_column_letter(j)
        ws.cell(row=1, column=j, value=f"{sheet}.{name}")
        for i, value in enumerate(values, start=2):
            ws.cell(row=i, column=j, value=value)
        refs[(sheet, name)] = f"'{LISTS}'!${letter}$2:${letter}${len(values) + 1}"
        ws.column_dimensions[letter].width = max(len(f"{sheet}.{name}"), *(len(str(v)) for v in values)) + 2
    return refs


def _write_sheet(ws: Any, cols: Sequence[Column], lists: Mapping[tuple[str, str], str]) -> None:
    header_font, required_font = Font(bold=True), Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", start_color=HEADER_FILL, end_color=HEADER_FILL)
    required_fill = PatternFill("solid", start_color=REQUIRED_FILL, end_color=REQUIRED_FILL)
    for j, column in enumerate(cols, start=1):
        letter = get_column_letter(j)
        cell = ws.cell(row=1, column=j, value=column.name)
        cell.font = required_font if column.required else header_font
        cell.fill = required_fill if column.required else header_fill
        note = note_text(column)
        lines = sum(math.ceil(len(line) / 55) or 1 for line in note.splitlines())
        cell.comment = Comment(note, AUTHOR, height=min(30 + 15 * lines, 600), width=330)
        dimension = ws.column_dimensions[letter]
        dimension.width = _width(column)
        if column.kind == "text":
            dimension.number_format = "@"
        rule = validation(column, letter, lists)
        if rule is not None:
            ws.add_data_validation(rule)
    if cols[0].sheet == "citation_matrix":
        ws.add_data_validation(
            DataValidation(
                type="list",
                formula1=lists[("citation_matrix", "review columns")],
                allow_blank=True,
                showErrorMessage=True,
                showInputMessage=True,
                errorStyle="stop",
                errorTitle="Citation matrix",
                error="1 = the review includes the study, blank or 0 = it does not, NA = it cannot.",
                promptTitle="Citation matrix",
                prompt="1 = included, blank or 0 = not included, NA = cannot be included (e.g. published later).",
                sqref=f"B2:{LAST_COLUMN}{LAST_ROW}",
            )
        )
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}1"


def _readme_rows(config: Mapping, source: str, sheets: Mapping[str, list[Column]]) -> list[tuple[str, str, str]]:
    """The Read me worksheet as (style, column A, column B) rows; style is title, heading, head or text."""
    framework = config["synthesis"]["framework"]
    rows: list[tuple[str, str, str]] = [
        ("title", "Extraction workbook", ""),
        ("text", "For", _words(config["title"])),
        ("text", "Made from", f"the config {source} and the sheet schemas (workflow/schemas/sheets)"),
        ("text", "", ""),
        ("heading", "How to fill it in", ""),
    ]
    steps = [
        "Each worksheet after this one is a sheet of the extraction, named as the pipeline reads it: keep its name "
        "and its header row as they are (header names are matched; columns may be moved, and a column of your "
        "own is kept but not analysed).",
        "One row per item the sheet describes (see Sheets below), starting in row 2. A blank cell means 'not "
        "known'; a whole row left blank is skipped.",
        "A dark header marks a required column: every row needs a value in it. The other columns may stay blank.",
        "Hover over a header to read its note: what the column means, its type, the allowed values or range and "
        "an example.",
        "Vocabulary columns have a dropdown; pick a value. research_questions takes several keys separated by "
        "';' (type them; the spreadsheet warns, answer Yes). Number columns accept numbers within their range.",
        "Text columns are formatted as text, so that 2022-11 or 1-2 stay as typed (not dates).",
        "A sheet you do not use stays with only its header: the pipeline then reads it as not given. reviews is "
        "required. Give the primary studies either in studies (long) or in citation_matrix (wide), not both.",
        f"Worksheets named '{READ_ME}' or starting with '{IGNORED_PREFIX}' are not read; '{LISTS}' (hidden) "
        "holds the dropdowns' values.",
    ]
    rows += [("text", f"{i}.", step) for i, step in enumerate(steps, start=1)]
    rows += [("text", "", ""), ("heading", "Sheets", ""), ("head", "Sheet", "What a row is; required columns; key")]
    for sheet, cols in sheets.items():
        schema = load_schema(sheet)
        meta = schema.get("x-sheet", {})
        need = "Required sheet" if meta.get("required") else "Optional sheet"
        if meta.get("wide"):
            required = "study_id, then one column per review headed by its review_id"
            key = "study_id"
        else:
            required = ", ".join(c.name for c in cols if c.required)
            key = ", ".join(meta.get("key", [])) or "none (rows may repeat)"
        text = f"{need}. {_words(schema['description'])} Required columns: {required}. Key: {key}."
        rows.append(("text", sheet, text))
    rows += [("text", "", ""), ("heading", "Allowed values", ""), ("head", "Column", "Values")]
    for cols in sheets.values():
        for column in cols:
            if column.values:
                rows.append(("text", f"{column.sheet}.{column.name}", allowed_text(column)))
    rows.append(("text", "citation_matrix review columns", "1, 0, NA or blank"))
    rows += [("text", "", ""), ("heading", "This analysis", ""), ("text", "Title", _words(config["title"]))]
    for key, question in config["research_questions"].items():
        label = question.get("label", "") if isinstance(question, Mapping) else question
        rows.append(("text", f"research question {key}", _words(label or "")))
    rows.append(("text", "framework", _words(framework["name"])))
    for key, label in framework["domains"].items():
        rows.append(("text", f"domain {key}", _words(label)))
    rows += [("text", "", ""), ("heading", "How to run it", "")]
    run = [
        "Save the filled workbook, e.g. as data/raw/myreview.xlsx in the project.",
        f"Copy the config ({source}) to e.g. config/myreview.yaml and set data: data/raw/myreview.xlsx in it. "
        "Then go through its other keys, which describe the analysis it was written for: title, simulated, "
        "overview, the research questions' findings, published, prisma (null, or your own counts), "
        "double_extraction, limitations; each is explained in the file.",
        "Run: .venv/bin/snakemake --cores 4 --configfile config/myreview.yaml (the report is in reports/myreview/).",
        "Every cell is checked first; a problem names the file, the worksheet, the row and the column.",
    ]
    rows += [("text", f"{i}.", step) for i, step in enumerate(run, start=1)]
    return rows


def _write_readme(ws: Any, config: Mapping, source: str, sheets: Mapping[str, list[Column]]) -> None:
    fill = PatternFill("solid", start_color=HEADING_FILL, end_color=HEADING_FILL)
    for i, (style, a, b) in enumerate(_readme_rows(config, source, sheets), start=1):
        for j, text in enumerate((a, b), start=1):
            if not text:
                continue
            cell = ws.cell(row=i, column=j, value=spreadsheet_text(ILLEGAL_CHARACTERS_RE.sub("", text)))
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if style == "title":
                cell.font = Font(bold=True, size=14)
            elif style in ("heading", "head"):
                cell.font = Font(bold=True)
                if style == "heading":
                    cell.fill = fill
            elif j == 1:
                cell.font = Font(bold=True)
        # a spreadsheet does not grow a row to its wrapped text when the file gives no height: set it
        lines = max(_lines(a, 30), _lines(b, 110))
        if lines > 1:
            ws.row_dimensions[i].height = 15 * lines
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 110
    # printed: both columns on one landscape page width
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0


def _lines(text: str, width: int) -> int:
    """How many lines ``text`` wraps to in a column ``width`` characters wide (about, by words)."""
    return len(textwrap.wrap(text, max(width - 5, 10))) or 1


def workbook_bytes(config: Mapping, source: str) -> bytes:
    """The workbook's bytes: the same config and schemas give the same bytes (fixed document dates and zip
    timestamps, as the supplement's workbook)."""
    buffer = io.BytesIO()
    build(config, source).save(buffer)
    fixed = io.BytesIO()
    _repack(buffer.getvalue(), fixed)
    return fixed.getvalue()


def write_workbook(config: Mapping, path: str | Path, source: str) -> None:
    """Write the extraction workbook for ``config`` to ``path`` atomically (never half a file)."""
    data = workbook_bytes(config, source)
    with atomic_open(path, binary=True) as fh:
        fh.write(data)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m umbrella.extract.workbook",
        description="Write a blank extraction workbook (.xlsx) for a config: a worksheet per sheet with its "
        "columns, notes and dropdowns, and a 'Read me'. Fill it in and set `data:` in a copy of the config to it.",
    )
    parser.add_argument("out", help="the .xlsx file to write")
    parser.add_argument(
        "--config", default="config/config.yaml", help="the config it is made for (default: config/config.yaml)"
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite OUT if it exists (by default an existing file, perhaps "
        "filled in already, is left alone and nothing is written)"
    )  # fmt: skip
    args = parser.parse_args(argv)
    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        parser.error(f"{out} must end in .xlsx")
    if out.exists() and not args.force:
        sys.stderr.write(f"{out} exists already and may hold your extraction: nothing was written. Give another "
                         "name, or --force (make workbook ... FORCE=1) to replace it.\n")  # fmt: skip
        return 2

    try:
        config = load_config(args.config)
    except InputError as exc:
        sys.stderr.write(exc.format() + "\n")
        return 2
    except OSError as exc:
        sys.stderr.write(f"Cannot read the config {args.config}: {exc.strerror or exc}.\n")
        return 2
    except yaml.YAMLError as exc:
        sys.stderr.write(f"Cannot read the config {args.config} as YAML: {exc}\n")
        return 2
    write_workbook(config, out, args.config)
    print(f"Wrote the extraction workbook for {args.config} to {out}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
