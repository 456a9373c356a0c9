"""Shared test helpers: the repository root, small sheets written to tmp_path, and workflow runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: What a copy of the workflow needs: everything but generated files and the virtualenv.
WORKFLOW_PARTS = ["Snakefile", "workflow", "config", "data", "environment.yml"]

REVIEWS_OK = (
    "review_id,first_author,year,review_type,research_questions,n_primary_studies,amstar2_reported,search_end\n"
    "A2019,Adams,2019,sr_meta_analysis,effectiveness,12,low,2018-06\n"
    "B2020,Brown,2020,scoping,implementation;experiences,30,critically_low,2019\n"
)
CONFIG_QUESTIONS = {"research_questions": ["effectiveness", "implementation", "experiences"]}


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def sheets_dir(tmp_path: Path) -> Path:
    """A folder holding a valid two-review `reviews.csv`."""
    folder = tmp_path / "sheets"
    write(folder, "reviews.csv", REVIEWS_OK)
    return folder


def copy_workflow(dest: Path) -> Path:
    """Copy the workflow (not results, logs or .snakemake) into ``dest`` and return it."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in WORKFLOW_PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, dest / part)
    return dest


def snakemake(workdir: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run Snakemake in ``workdir`` with this interpreter; output is captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
