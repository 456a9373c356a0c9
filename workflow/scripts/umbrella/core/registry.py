"""The output registry: every table and figure the pipeline publishes, declared once in
``workflow/schemas/outputs.yaml``.

An entry gives the file's path, the rule and output name that write it, the condition under which it exists
(``when``: a sheet or a config section being present), its category and caption for ``snakemake --report``, its
supplement label if it is a supplementary table, and (for tables) every column. The rules' outputs, the report's
inputs, the supplement's numbered tables, the data dictionary, the caption files and the README's table of outputs
are all derived from it, so adding a table is one entry plus the code that computes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from umbrella.core.places import place

REGISTRY_YAML = Path(__file__).resolve().parents[3] / "schemas" / "outputs.yaml"
CAPTIONS = Path(__file__).resolve().parents[3] / "report"

#: What ``when`` may name: always, or a sheet or config section whose presence switches the output on.
WHEN_WORDS = {
    "always": "always",
    "amstar2": "with an `amstar2` sheet",
    "effects": "with an `effects` sheet",
    "study_effects": "with a `study_effects` sheet",
    "overlap": "with a `studies` or `citation_matrix` sheet",
    "implementation": "with an `implementation` sheet",
    "experiences": "with an `experiences` sheet",
    "prisma": "with `prisma` counts in the config",
    "double_extraction": "with `double_extraction` in the config",
}


def conditions(
    sheets: Mapping[str, object] | set[str], prisma: object, double_extraction: object = None
) -> dict[str, bool]:
    """Which ``when`` conditions hold for an analysis with these sheets, this ``prisma`` config and this
    ``double_extraction`` config."""
    present = set(sheets)
    flags = {name: name in present for name in ("amstar2", "effects", "study_effects", "implementation", "experiences")}
    flags.update(always=True, overlap=bool(present & {"studies", "citation_matrix"}), prisma=bool(prisma))
    flags["double_extraction"] = bool(double_extraction)
    return flags


@dataclass(frozen=True)
class Output:
    """One published table or figure."""

    key: str
    kind: str  # "table" or "figure"
    path: str
    rule: str
    output: str
    when: str
    category: str
    caption: str
    title: str = ""
    sheet: str | None = None  # a tidy sheet table: its columns are the sheet's schema
    directory: bool = False  # a folder of SVG files
    supplement: Mapping[str, str] | None = None

    @property
    def caption_file(self) -> str:
        return f"{self.kind}_{self.key}.rst"

    def in_supplement(self, flags: Mapping[str, bool]) -> bool:
        if self.kind == "figure":
            return True
        return bool(self.supplement) and flags[self.supplement.get("when", "always")]


@cache
def registry_yaml() -> dict[str, Any]:
    import yaml

    with open(REGISTRY_YAML, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@cache
def registry() -> tuple[Output, ...]:
    """Every declared output, tables first, in the order of the file."""
    entries = []
    for kind, section in (("table", "tables"), ("figure", "figures")):
        for key, spec in registry_yaml()[section].items():
            fields = {f: spec[f] for f in ("path", "rule", "output", "when", "category") if f in spec}
            entries.append(
                Output(
                    key=key,
                    kind=kind,
                    caption=" ".join(str(spec.get("caption", "")).split()),
                    title=spec.get("title", ""),
                    sheet=spec.get("sheet"),
                    directory=bool(spec.get("directory", False)),
                    supplement=spec.get("supplement"),
                    **fields,
                )
            )
    return tuple(entries)


def active(flags: Mapping[str, bool], name: str = "") -> dict[str, Output]:
    """The outputs of this analysis (``flags``: condition -> whether it holds), by ``kind_key``, at their paths in
    the folders of the analysis called ``name`` (see :mod:`umbrella.core.places`)."""
    return {f"{o.kind}_{o.key}": replace(o, path=place(o.path, name)) for o in registry() if flags[o.when]}


def rule_outputs(rule: str, flags: Mapping[str, bool], name: str = "") -> dict[str, Output]:
    """The outputs a rule writes in this analysis, by their output name in the rule."""
    return {o.output: o for o in active(flags, name).values() if o.rule == rule}


def _label_order(label: str) -> tuple[int, str]:
    number, letter = re.fullmatch(r"S(\d+)([a-z]?)", label).groups()
    return int(number), letter


def supplement_tables(flags: Mapping[str, bool], name: str = "") -> list[Output]:
    """The supplement's numbered tables in this analysis, in label order (S1, S2, S3a, ..., S10)."""
    tables = [o for o in active(flags, name).values() if o.kind == "table" and o.in_supplement(flags)]
    return sorted(tables, key=lambda o: _label_order(o.supplement["label"]))


def supplement_labels(flags: Mapping[str, bool]) -> dict[str, str]:
    """Registry key -> supplement label of the tables in the supplement (for the report's references)."""
    return {o.key: o.supplement["label"] for o in supplement_tables(flags)}


def supplement_figures(flags: Mapping[str, bool], name: str = "") -> list[tuple[Output, str]]:
    """The supplement's figures in this analysis with their labels (S1, S2...; the report prints "Figure S1"), in
    label order: each figure's ``supplement.label`` in the registry, and a figure declared without one numbered
    after the highest declared label, in the order of the registry. Paths are in the folders of the analysis
    called ``name``."""
    figures = [o for o in active(flags, name).values() if o.kind == "figure"]
    labelled = [(o, o.supplement["label"]) for o in figures if o.supplement and o.supplement.get("label")]
    last = max((_label_order(label)[0] for _, label in labelled), default=0)
    unlabelled = [o for o in figures if not (o.supplement and o.supplement.get("label"))]
    labelled += [(o, f"S{last + i}") for i, o in enumerate(unlabelled, start=1)]
    return sorted(labelled, key=lambda pair: _label_order(pair[1]))


def figure_labels(flags: Mapping[str, bool]) -> dict[str, str]:
    """Registry key -> supplement label of the figures in this analysis (for the report's captions)."""
    return {o.key: label for o, label in supplement_figures(flags)}


def part_labels(label: str, names: Iterable[str]) -> dict[str, str]:
    """The labels of the parts of a figure made of several files (a forest plot per outcome group): ``label``
    followed by a, b, ... z, aa, ab ... in the sorted order of the file names; ``label`` alone for a single file.
    Page files (``name-2.svg``) belong to the part of their first page and are not listed here."""
    ordered = sorted(set(names))
    if len(ordered) == 1:
        return {ordered[0]: label}
    return {name: label + _letters(i) for i, name in enumerate(ordered)}


def _letters(index: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa: the letters of a part, as spreadsheet columns count."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(ord("a") + rest) + out
    return out


def caption_text(output: Output) -> str:
    """The caption file's text (``snakemake --report``)."""
    return output.caption + "\n"


def write_captions(folder: str | Path = CAPTIONS) -> list[Path]:
    """Write one caption file per output into ``folder``; returns the paths written."""
    folder = Path(folder)
    written = []
    for output in registry():
        path = folder / output.caption_file
        path.write_text(caption_text(output), encoding="utf-8", newline="\n")
        written.append(path)
    return written


def outputs_table() -> str:
    """The README's table of outputs: path and caption of every table and figure."""
    lines = ["| path | when | what it is |", "|---|---|---|"]
    for output in registry():
        when = WHEN_WORDS[output.when]
        path = f"`{output.path}/`" if output.directory else f"`{output.path}`"
        lines.append(f"| {path} | {when} | {output.caption.replace('|', '/')} |")
    return "\n".join(lines) + "\n"
