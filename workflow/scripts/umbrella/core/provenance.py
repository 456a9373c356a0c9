"""Provenance of a run: what went in (sha256 of every sheet and config file), with what software, from which
git commit. No wall-clock time, so that an unchanged analysis gives unchanged bytes."""

from __future__ import annotations

import json
import platform
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from umbrella import __version__
from umbrella.core.datasets import sha256_of, sheet_display, worksheet_of

PACKAGES = (
    "snakemake",
    "pandas",
    "numpy",
    "scipy",
    "matplotlib",
    "jinja2",
    "openpyxl",
    "pyyaml",
    "jsonschema",
)


def git_state(root: str | Path, paths: Iterable[str]) -> dict[str, Any]:
    """The commit checked out in ``root`` and whether ``paths`` (the analysis: workflow, config, data) have
    uncommitted changes; ``None`` values when ``root`` is not a git work tree or git is missing. Edits to
    other files (a README) do not count."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", *paths],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "uncommitted_changes": None}
    return {"commit": commit or None, "uncommitted_changes": bool(status.strip())}


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "umbrella": __version__}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def provenance(
    sheets: Mapping[str, str | Path],
    configs: Iterable[str | Path],
    git: Mapping[str, Any],
    extractors: Mapping[str, Mapping[str, str | Path]] | None = None,
) -> dict:
    """The provenance record written to ``results/provenance.json``; a sheet read from a workbook that holds
    several sheets names its worksheet. With double extraction, each extractor's sheets are recorded too."""
    record = {
        "sheets": {name: _sheet_record(name, path) for name, path in sheets.items()},
        "config": [{"file": str(path), "sha256": sha256_of(path)} for path in configs],
        "software": versions(),
        "git": dict(git),
    }
    if extractors:
        record["extractors"] = {
            who: {name: _sheet_record(name, path) for name, path in files.items()} for who, files in extractors.items()
        }
    return record


def _sheet_record(name: str, path: str | Path) -> dict[str, str]:
    record = {"file": str(path), "sha256": sha256_of(path)}
    worksheet = worksheet_of(name, path)
    if worksheet is not None and sheet_display(name, path) != str(path):
        record["worksheet"] = worksheet
    return record


def write_provenance(record: Mapping, path: str | Path) -> None:
    from umbrella.core.tables import atomic_open

    with atomic_open(path) as fh:
        fh.write(json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
