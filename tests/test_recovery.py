"""A killed run is finished by the same command: stale locks and half-written files are cleared, unfinished jobs
rerun, and the outputs are byte-identical to a clean run; a second run while one is live is refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import copy_workflow, files_under, outputs_digest, snakemake
from umbrella.core.recovery import LOCKS, is_worker, leftovers, recover

SIMULATED = ("--configfile", "config/simulated.yaml")


# ----------------------------------------------------------------------------------------------------------------
# The package, without Snakemake


def test_is_worker_knows_snakemake_and_its_job_scripts() -> None:
    assert is_worker(["/p/.venv/bin/snakemake", "--cores", "4"])
    assert is_worker(["/usr/bin/python3", "-m", "snakemake", "--cores", "2"])
    assert is_worker(["python", "/w/.snakemake/scripts/tmpab12cd34.rate_amstar2.py"])
    assert not is_worker(["python", "-m", "pytest", "tests/test_recovery.py"])
    assert not is_worker(["vim", "Snakefile"])


def _killed_run(folder: Path) -> list[Path]:
    """What a killed run leaves: two lock files and temporary files of interrupted writes."""
    locks = folder / LOCKS
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("data/raw/x/reviews.csv\n", encoding="utf-8")
    (locks / "0.output.lock").write_text("results/extract/reviews.csv\n", encoding="utf-8")
    (folder / "results/extract").mkdir(parents=True)
    tmp = folder / "results/extract/.reviews.csv.a1b2c3d4.tmp"
    partial = folder / "reports/.supplement.zip.partial"
    partial.parent.mkdir(parents=True)
    for path in (tmp, partial):
        path.write_text("half", encoding="utf-8")
    (folder / "results/extract/reviews.csv").write_text("kept", encoding="utf-8")
    (folder / "results/extract/.hidden_but_mine.txt").write_text("kept", encoding="utf-8")
    return [tmp, partial]


def test_stale_locks_and_half_written_files_are_removed(tmp_path: Path) -> None:
    half = _killed_run(tmp_path)
    assert sorted(leftovers([tmp_path / "results", tmp_path / "reports"])) == sorted(half)
    removed, refusal = recover(tmp_path)
    assert refusal is None
    assert not any(p.exists() for p in half)
    assert not list((tmp_path / LOCKS).iterdir())
    assert len(removed) == 4
    assert (tmp_path / "results/extract/reviews.csv").read_text() == "kept"
    assert (tmp_path / "results/extract/.hidden_but_mine.txt").exists()


def test_nothing_to_do_without_locks(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    tmp = tmp_path / "results/.x.csv.abcdefgh.tmp"
    tmp.write_text("x")
    assert recover(tmp_path) == ([], None)
    assert tmp.exists()  # without locks no run was killed: a live run may be writing it


def test_a_live_run_keeps_its_locks_and_refuses_another(tmp_path: Path) -> None:
    half = _killed_run(tmp_path)
    script = tmp_path / ".snakemake/scripts/tmpab12cd34.job.py"
    script.parent.mkdir(parents=True)
    script.write_text("import time\ntime.sleep(60)\n", encoding="utf-8")
    job = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path)
    try:
        time.sleep(0.5)
        removed, refusal = recover(tmp_path, ours=["results/extract/reviews.csv"])
        assert removed == []
        assert refusal is not None and str(job.pid) in refusal
        assert "Another run of the pipeline is still working in" in refusal
        assert all(p.exists() for p in half) and len(list((tmp_path / LOCKS).iterdir())) == 2
        # a live run of another analysis in the same folder, whose locks name none of our outputs: left alone
        assert recover(tmp_path, ours=["results/other/extract/reviews.csv"]) == ([], None)
    finally:
        job.kill()
        job.wait()
    removed, refusal = recover(tmp_path)
    assert refusal is None and len(removed) == 4


# ----------------------------------------------------------------------------------------------------------------
# The workflow, killed with SIGKILL and run again


def _start(work: Path) -> subprocess.Popen:
    """The workflow on the simulated data, in a process group of its own (so that all of it can be killed)."""
    env = dict(os.environ, PYTHONPATH=str((work / "workflow/scripts").resolve()))
    return subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "2", *SIMULATED],
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for(proc: subprocess.Popen, ready: Callable[[], bool], timeout: float = 400) -> None:
    end = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, f"the run ended before the moment to kill it: {proc.stderr.read()[-2000:]}"
        assert time.monotonic() < end, "the moment to kill the run never came"
        time.sleep(0.05)


def _kill(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _results(work: Path) -> list[Path]:
    return [p for p in files_under(work / "results/simulated") if not p.name.startswith(".")]


MOMENTS = {
    "early": lambda work, clean: bool(_results(work)),  # the first results file
    "middle": lambda work, clean: len(_results(work)) >= clean // 2,  # half of them
    "late": lambda work, clean: (
        (work / "logs/simulated/assemble_supplement.log").exists()
        or (work / "logs/simulated/render_report.log").exists()
    ),  # the report's jobs have started
}


@pytest.mark.e2e
@pytest.mark.parametrize("moment", list(MOMENTS))
def test_killed_run_finishes_with_the_same_command(moment: str, simulated_run: Path, tmp_path: Path) -> None:
    clean = len(_results(simulated_run))
    work = copy_workflow(tmp_path / "work")
    proc = _start(work)
    _wait_for(proc, lambda: MOMENTS[moment](work, clean))
    _kill(proc)
    assert list((work / LOCKS).iterdir()), "the killed run left no lock: the test killed it too early"

    result = snakemake(work, "--cores", "2", *SIMULATED)  # the README's command, nothing added
    assert result.returncode == 0, result.stderr[-3000:]
    assert outputs_digest(work) == outputs_digest(simulated_run)
    assert not leftovers([work / "results", work / "reports"])
    assert not (work / LOCKS).exists() or not list((work / LOCKS).iterdir())


@pytest.mark.e2e
def test_second_run_is_refused_while_the_first_is_live(simulated_run: Path, tmp_path: Path) -> None:
    work = copy_workflow(tmp_path / "work")
    first = _start(work)
    try:
        _wait_for(first, lambda: (work / LOCKS).is_dir() and any((work / LOCKS).iterdir()))
        second = snakemake(work, "--cores", "2", *SIMULATED)
        assert first.poll() is None, "the first run ended before the second started: the test proves nothing"
        assert second.returncode != 0
        assert "Another run of the pipeline is still working in" in second.stderr
        assert f"process {first.pid}" in second.stderr
        assert "Traceback" not in second.stderr
        dry = snakemake(work, "-n", *SIMULATED)  # a dry run would take the live run's files for a killed run's
        assert dry.returncode != 0 and "Another run of the pipeline is still working in" in dry.stdout + dry.stderr
        _, err = first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            _kill(first)
    assert first.returncode == 0, err[-3000:]
    assert outputs_digest(work) == outputs_digest(simulated_run)
