"""The cluster path, for real: Snakemake's cluster-generic executor with the stand-ins for sbatch and squeue in
tests/cluster/. Every job that is not a localrule is submitted, runs in a process of its own detached from
Snakemake and is polled until it ends; the outputs equal those of the session's local run byte for byte.
The SLURM profile is checked as far as it can be without SLURM: Snakemake accepts its keys with the workflow
profile's."""

from __future__ import annotations

import re
import shlex
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, copy_workflow, outputs_digest, snakemake

CLUSTER = ROOT / "tests" / "cluster"


def script(name: str) -> str:
    return f"sh {shlex.quote(str(CLUSTER / name))}"


@pytest.fixture(scope="module")
def cluster_run(simulated_run: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The simulated analysis run from scratch through the cluster-generic executor: the run and Snakemake's
    output. The workflow is copied from the local run (not from the repository, which may have changed since)."""
    work = copy_workflow(tmp_path_factory.mktemp("cluster"), source=simulated_run)
    result = snakemake(
        work,
        "--configfile", "config/simulated.yaml",
        "--executor", "cluster-generic",
        "--cluster-generic-submit-cmd", f"{script('submit.sh')} {{rule}}",
        "--cluster-generic-status-cmd", script("status.sh"),
        "--jobs", "4",
        "--seconds-between-status-checks", "1",
    )  # fmt: skip
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    return work, log


def table(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]


def declared_localrules(work: Path) -> set[str]:
    """The rules named by the `localrules:` directives of the Snakefile and workflow/rules/ (on one line, or one
    name a line as snakefmt writes them)."""
    names: set[str] = set()
    for path in [work / "Snakefile", *sorted((work / "workflow" / "rules").glob("*.smk"))]:
        text = re.sub(r"#.*", "", path.read_text(encoding="utf-8"))
        for directive in re.finditer(r"^localrules:(.*(?:\n[ \t]+.*)*)", text, re.MULTILINE):
            names.update(re.findall(r"\w+", directive.group(1)))
    return names


@pytest.mark.e2e
def test_a_cluster_run_gives_the_bytes_of_a_local_run(cluster_run: tuple[Path, str], simulated_run: Path) -> None:
    work, _ = cluster_run
    local, cluster = outputs_digest(simulated_run), outputs_digest(work)
    assert sum(name.startswith(("results/", "reports/")) for name in cluster) > 40
    assert "reports/simulated/supplement.zip" in cluster and "reports/simulated/umbrella_review.html" in cluster
    differ = sorted(name for name in local.keys() | cluster.keys() if local.get(name) != cluster.get(name))
    assert not differ, differ


@pytest.mark.e2e
def test_every_job_but_the_localrules_is_submitted_run_apart_and_polled(cluster_run: tuple[Path, str]) -> None:
    work, log = cluster_run
    # Snakemake announces each job as `rule <name>:` when its executor runs it, `localrule <name>:` when it runs
    # it itself.
    jobs = re.findall(r"^(local)?rule (\w+):$", log, re.MULTILINE)
    assert f"{len(jobs)} of {len(jobs)} steps (100%) done" in log
    remote = Counter(name for local, name in jobs if not local)
    local = {name for local, name in jobs if local}
    assert {"extract_reviews", "reanalyse_studies", "render_report"} <= remote.keys() | local

    assert remote, "no job went through the submit script"
    submitted = table(work / ".snakemake" / "cluster" / "submitted.tsv")
    assert Counter(rule for _, rule in submitted) == remote
    declared = declared_localrules(work)
    assert not remote.keys() & declared, "a localrule was submitted"
    assert local <= declared | {"all"}, "a job ran in Snakemake's process without being a localrule"

    answers: dict[str, list[str]] = {}
    for job, state in table(work / ".snakemake" / "cluster" / "status.tsv"):
        answers.setdefault(job, []).append(state)
    for job, rule in submitted:
        folder = work / ".snakemake" / "cluster" / job
        assert answers.get(job, [])[-1:] == ["success"], (job, rule, answers.get(job))
        assert set(answers[job][:-1]) <= {"running"}, (job, rule, answers[job])
        assert (folder / "exit").read_text(encoding="utf-8").strip() == "0", (job, rule)
        # The job's own Snakemake ran the rule, in the job's process.
        assert f"rule {rule}:" in (folder / "output").read_text(encoding="utf-8"), (job, rule)


@pytest.mark.e2e
def test_the_slurm_profile_is_read_with_the_workflow_profile(tmp_path: Path) -> None:
    """Snakemake accepts every key of profiles/slurm (an unknown key stops it) together with profiles/default,
    and the profile's default resources reach the jobs. The SLURM plugin is not installed here, so the
    executor is replaced on the command line; in a dry run nothing is submitted."""
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text(encoding="utf-8"))
    assert profile["executor"] == "slurm"
    assert {"slurm_partition", "slurm_account", "mem_mb", "runtime"} <= profile["default-resources"].keys()

    work = copy_workflow(tmp_path / "work")
    result = snakemake(
        work, "-n", "--profile", "profiles/slurm",
        "--executor", "cluster-generic", "--cluster-generic-submit-cmd", "false",
    )  # fmt: skip
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "Using profiles profiles/slurm and workflow specific profile profiles/default" in log
    resources = re.findall(r"^\s+resources: (.*)$", log, re.MULTILINE)
    assert resources
    for line in resources:
        for key in ("slurm_partition", "slurm_account"):
            assert f"{key}={profile['default-resources'][key]}" in line, line


def test_the_stand_ins_answer_running_then_success_or_failed(tmp_path: Path) -> None:
    """submit.sh returns before its job ends; status.sh answers `running` until then, then the job's outcome."""

    def call(*args: str) -> str:
        done = subprocess.run(["sh", *args], cwd=tmp_path, capture_output=True, text=True, timeout=30, check=True)
        return done.stdout.strip()

    ids = {}
    for status in (0, 3):
        jobscript = tmp_path / f"job{status}.sh"
        jobscript.write_text(f"#!/bin/sh\nsleep 1\necho ran\nexit {status}\n", encoding="utf-8")
        ids[status] = call(str(CLUSTER / "submit.sh"), "some_rule", str(jobscript))
        assert call(str(CLUSTER / "status.sh"), ids[status]) == "running"
    deadline = time.monotonic() + 20
    answers = {}
    while len(answers) < 2 and time.monotonic() < deadline:
        for status, job in ids.items():
            if (answer := call(str(CLUSTER / "status.sh"), job)) != "running":
                answers[status] = answer
        time.sleep(0.2)
    assert answers == {0: "success", 3: "failed"}
    queue = tmp_path / ".snakemake" / "cluster"
    assert table(queue / "submitted.tsv") == [[ids[0], "some_rule"], [ids[3], "some_rule"]]
    assert (queue / ids[3] / "output").read_text(encoding="utf-8") == "ran\n"
    unknown = subprocess.run(["sh", str(CLUSTER / "status.sh"), "job.nonesuch"], cwd=tmp_path, capture_output=True)
    assert unknown.returncode != 0
