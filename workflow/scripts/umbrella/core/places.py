"""Where an analysis writes: each analysis has its own folders, so two configs in one repository never overwrite
each other's results.

The default analysis (``config/config.yaml``) writes to ``results/``, ``reports/`` and ``logs/`` themselves; any
other analysis to ``results/<name>/``, ``reports/<name>/`` and ``logs/<name>/``, where ``<name>`` is the config's
``name`` or, when it gives none, the config file's name without ``.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath

#: The folders an analysis writes to; each gets the analysis' name as its first subfolder.
ROOTS = ("results", "reports", "logs")
#: The config file of the default analysis: its outputs keep the top of ``ROOTS``.
DEFAULT_CONFIG = "config/config.yaml"
#: What a name may be: a folder name that means the same on every system.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
#: Names the default analysis already uses as subfolders (stages, the supplement, the logs of rules and
#: benchmarks): an analysis of that name would write into them.
RESERVED = frozenset(
    {
        "extract",
        "quality",
        "overlap",
        "effects",
        "synthesis",
        "supplement",
        "benchmarks",
        "extract_sheet",
        "figures",
        "tables",
    }
)


def analysis_name(config: Mapping, config_files: Sequence[str]) -> str:
    """The name of the analysis: the config's ``name``; else "" (the top folders) for the default config and
    the stem of the last config file for any other."""
    name = config.get("name")
    if name:
        return str(name)
    if not config_files:
        return ""
    last = PurePosixPath(str(config_files[-1]).replace("\\", "/"))
    if str(last) == DEFAULT_CONFIG:
        return ""
    stem = last.name.removesuffix(".yaml").removesuffix(".yml")
    return re.sub(r"[^A-Za-z0-9_.-]", "_", stem).lstrip("._-") or "analysis"


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name an analysis' folders, or None."""
    if not name:
        return None
    if not re.fullmatch(NAME_PATTERN, name):
        return "must be a folder name of letters, digits, '_', '.' or '-' (at most 64, not starting with '.', '_', '-')"
    if name.lower() in RESERVED:
        taken = ", ".join(sorted(RESERVED))
        return f"is a folder of the default analysis' results; choose another name (not one of {taken})"
    return None


def place(path: str, name: str) -> str:
    """``path`` moved into the analysis' folders: ``results/x.csv`` -> ``results/<name>/x.csv``; paths outside
    ``ROOTS`` are kept."""
    if not name:
        return path
    head, sep, rest = str(path).partition("/")
    if head in ROOTS and sep:
        return f"{head}/{name}/{rest}"
    if head in ROOTS and not sep:
        return f"{head}/{name}"
    return path
