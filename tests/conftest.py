"""Shared test helpers: the repository root, small sheets written to tmp_path, and workflow runs.

Runs of the workflow are the slow part of the suite, so each bundled dataset is run once per session
(`default_run`, `simulated_run`) and shared by every test that only reads it. A test that changes its run (edits
a sheet or the config, runs Snakemake again, writes a report) works on `copy_run(...)`, a copy of the finished run
that Snakemake sees as up to date. Tests that run Snakemake are marked `e2e`; those that open Chromium or
LibreOffice are also marked `browser`. `make test-quick` runs the others.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Debian's Chromium, which the browser tests drive through playwright (CI installs it).
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
IN_CI = bool(os.environ.get("CI"))
#: Chromium offline and quiet: no background networking, updates, sync or QUIC.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip

#: What a copy of the workflow needs: everything but generated files and the virtualenv.
WORKFLOW_PARTS = ["Snakefile", "workflow", "config", "data", "environment.yml", "profiles"]

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


def copy_workflow(dest: Path, source: Path = ROOT) -> Path:
    """Copy the workflow of ``source`` (the repository; not results, logs or .snakemake) into ``dest`` and
    return it."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in WORKFLOW_PARTS:
        src = source / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, dest / part)
    return dest


def snakemake(workdir: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run Snakemake in ``workdir`` with this interpreter; output is captured as text.

    The jobs import the ``umbrella`` package of the copy they run in (the editable install would otherwise give
    them the one in the repository, which may differ from the copy while someone is editing it).
    """
    if _CURRENT is not None and _CURRENT.get_closest_marker("e2e") is None:
        pytest.fail(f"{_CURRENT.nodeid} runs Snakemake: mark it `e2e`", pytrace=False)
    env = dict(os.environ)
    scripts = Path(workdir) / "workflow" / "scripts"
    if scripts.is_dir():
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(scripts.resolve()), env.get("PYTHONPATH")) if p)
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# ----------------------------------------------------------------------------------------------------------------
# Workflow runs shared by the session

#: The test being set up or run, so that `snakemake` can insist on the `e2e` marker.
_CURRENT: pytest.Item | None = None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    global _CURRENT
    _CURRENT = item


def outputs_digest(work: Path) -> dict[str, str]:
    """sha256 of every file a test could read or change: the sheets, the config, the results and the reports."""
    return {
        str(p.relative_to(work)): hashlib.sha256(p.read_bytes()).hexdigest()
        for part in ("data", "config", "results", "reports")
        for p in files_under(work / part)
    }


def clean_run(dest: Path, *args: str) -> Path:
    """Copy the workflow into ``dest`` and run it from scratch with 2 cores; fails the test if the run fails."""
    work = copy_workflow(dest)
    result = snakemake(work, "--cores", "2", *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return work


def shared(work: Path) -> Iterator[Path]:
    """Yield a run to the tests that read it, then check none of them changed it."""
    before = outputs_digest(work)
    yield work
    after = outputs_digest(work)
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    assert not changed, f"tests changed the shared run {work}: {changed[:10]}; give them copy_run(...) instead"


@pytest.fixture(scope="session")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One clean run of the default config (the Cooper data), shared read-only by the session."""
    yield from shared(clean_run(tmp_path_factory.mktemp("default")))


@pytest.fixture(scope="session")
def simulated_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One clean run of config/simulated.yaml, shared read-only by the session."""
    if not (ROOT / "config/simulated.yaml").exists():
        pytest.skip("simulated dataset not bundled")
    yield from shared(clean_run(tmp_path_factory.mktemp("simulated"), "--configfile", "config/simulated.yaml"))


@pytest.fixture(scope="session")
def copy_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], Path]:
    """``copy_run(run)``: a private copy of a finished run for a test that changes it.

    Everything is copied (workflow, sheets, results, reports, logs, .snakemake) with its modification times
    (copytree copies with copy2), so Snakemake sees the copy as up to date and reruns only what a test changes.
    Snakemake's metadata records the inputs found with ``workflow.source_path`` (the report template, the output
    registry) by absolute path; they are pointed at the copy, as a run in the copy would have recorded them, or
    Snakemake would rerun their jobs ("Set of input files has changed"). The tests that expect "Nothing to be
    done" from a copy fail if this ever stops being enough.
    """

    def copy(run: Path) -> Path:
        dest = tmp_path_factory.mktemp(f"{run.name}_copy")
        shutil.copytree(run, dest, symlinks=True, dirs_exist_ok=True)
        for record in (dest / ".snakemake" / "metadata").glob("*"):
            text = record.read_text(encoding="utf-8")
            moved = text
            for old in {str(run), str(run.resolve())}:
                moved = moved.replace(f"{old}/", f"{dest}/")
            if moved != text:
                record.write_text(moved, encoding="utf-8")
        return dest

    return copy


#: Markup that must be shown as text in the report and never run.
PAYLOAD = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
#: A spreadsheet formula that must reach the supplement as text.
FORMULA = '=HYPERLINK("http://x")'


@pytest.fixture(scope="session")
def hostile_run(simulated_run: Path, copy_run: Callable[[Path], Path]) -> Iterator[Path]:
    """The simulated analysis rerun with hostile values in its sheets, shared read-only by the session.

    Markup (`PAYLOAD`) in two reviews' title and first author and in two effects' outcome and outcome group, and a
    formula (`FORMULA`) in the first review's population.
    """
    work = copy_run(simulated_run)
    data = work / "data/raw/simulated"
    reviews = pd.read_csv(data / "reviews.csv", dtype=str, keep_default_na=False)
    reviews.loc[0, "title"] = PAYLOAD
    reviews.loc[1, "first_author"] = PAYLOAD
    reviews.loc[0, "population"] = FORMULA
    reviews.to_csv(data / "reviews.csv", index=False, lineterminator="\n")
    effects = pd.read_csv(data / "effects.csv", dtype=str, keep_default_na=False)
    effects.loc[0, "outcome"] = PAYLOAD
    effects.loc[1, "outcome_group"] = PAYLOAD
    effects.to_csv(data / "effects.csv", index=False, lineterminator="\n")
    result = snakemake(work, "--cores", "2", "--configfile", "config/simulated.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    yield from shared(work)


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list:
    """The figures the figure modules save, in order (they are still written)."""
    from umbrella.effects import evidence_map, figure_common, forest
    from umbrella.reanalysis import figures as reanalysis_figures

    figures = []
    save = forest.save_svg

    def keep(fig, path):
        figures.append(fig)
        save(fig, path)

    for module in (forest, evidence_map, figure_common, reanalysis_figures):
        monkeypatch.setattr(module, "save_svg", keep)
    return figures


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session's browser tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield instance
        instance.close()
