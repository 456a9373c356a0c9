"""Picking up after a run that was killed (power loss, ``kill -9``, a closed laptop), so that the same command
finishes it: the locks and half-written files such a run leaves are removed, unless a run is still working in
the folder, in which case the new run is refused with one sentence naming it.

Snakemake locks the working directory while it runs (``.snakemake/locks/``) and removes the locks when it ends;
a killed run cannot, and the next run then stops with "Directory cannot be locked". A lock is stale when no
Snakemake process, and no job it started, works in the folder any more. Processes are found with psutil (a
Snakemake dependency, on Linux, macOS and Windows): a process counts when its working directory is the folder and
its command is Snakemake or one of the job scripts Snakemake wrote under ``.snakemake/scripts/``. Processes of
other users, whose details the system hides, are not seen. The half-written outputs of the killed jobs are
Snakemake's "incomplete" files, which the workflow profile reruns (``rerun-incomplete``); the temporary files
of this package's atomic writes (``.<name>.<random>.tmp``) are removed here.

Only the processes of this machine are seen. On a cluster the Snakemake that submits the jobs runs here (the
jobs themselves run elsewhere), so a second run started on the same machine is refused; one started on another
machine that shares the folder would take the live run's locks for stale ones.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

LOCKS = Path(".snakemake") / "locks"
#: The temporary files of :func:`umbrella.core.tables.atomic_open` and of the supplement's zip.
LEFTOVER = re.compile(r"^\..+\.(?:[A-Za-z0-9_]{8}\.tmp|partial)$")


@dataclass(frozen=True)
class Worker:
    """A process working in the folder: its id and what it runs."""

    pid: int
    command: str


def is_worker(cmdline: Iterable[str]) -> bool:
    """Whether a command line is Snakemake (``snakemake ...``, ``python -m snakemake ...``) or one of the job
    scripts Snakemake runs from ``.snakemake/scripts/``."""
    args = list(cmdline)
    for i, arg in enumerate(args):
        name = os.path.basename(arg)
        if name in ("snakemake", "snakemake.exe") or name.startswith("snakemake-script"):
            return True
        if arg == "-m" and i + 1 < len(args) and args[i + 1].split(".")[0] == "snakemake":
            return True
        if ".snakemake/scripts/" in arg.replace("\\", "/"):
            return True
    return False


def workers(folder: str | Path = ".", own: int | None = None) -> list[Worker]:
    """The live processes working in ``folder`` (see :func:`is_worker`), leaving out process ``own`` (this one
    by default) and its ancestors (a Snakemake that started this one)."""
    import psutil

    folder = os.path.realpath(folder)
    me = psutil.Process(os.getpid() if own is None else own)
    family = {me.pid}
    try:
        family |= {p.pid for p in me.parents()}
    except psutil.Error:
        pass
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "cwd"]):
        info = proc.info
        if info["pid"] in family or not info.get("cwd") or not info.get("cmdline"):
            continue  # details hidden (another user's process) or a process without a command line
        try:
            same = os.path.realpath(info["cwd"]) == folder
        except OSError:
            continue
        if same and is_worker(info["cmdline"]) and proc.status() != psutil.STATUS_ZOMBIE:
            found.append(Worker(info["pid"], " ".join(info["cmdline"])[:200]))
    return sorted(found, key=lambda w: w.pid)


def stale_locks(folder: str | Path = ".") -> list[Path]:
    """The lock files in ``folder``'s ``.snakemake/locks/`` (none when it has none)."""
    locks = Path(folder) / LOCKS
    return sorted(p for p in locks.iterdir() if p.is_file()) if locks.is_dir() else []


def leftovers(folders: Iterable[str | Path]) -> list[Path]:
    """The temporary files that interrupted writes left in ``folders`` (see :data:`LEFTOVER`)."""
    found = []
    for folder in folders:
        folder = Path(folder)
        if folder.is_dir():
            found += [p for p in folder.rglob(".*") if p.is_file() and LEFTOVER.match(p.name)]
    return sorted(found)


def refusal(live: list[Worker], folder: str | Path = ".") -> str:
    """The sentence that refuses a second run while ``live`` work in ``folder``."""
    pids = ", ".join(str(w.pid) for w in live[:5]) + (f" and {len(live) - 5} more" if len(live) > 5 else "")
    return (
        f"Another run of the pipeline is still working in {os.path.realpath(folder)} (process "
        f"{pids}); two runs in one folder would overwrite each other's files, so this one stops. Wait for it to "
        "finish (or stop it) and run the same command again."
    )


def locked_paths(locks: Iterable[Path]) -> set[str]:
    """The paths that lock files list (one a line)."""
    paths: set[str] = set()
    for lock in locks:
        try:
            paths |= {line.strip() for line in lock.read_text(encoding="utf-8").splitlines() if line.strip()}
        except OSError:
            continue
    return paths


def recover(
    folder: str | Path = ".",
    outputs: Iterable[str | Path] = ("results", "reports"),
    ours: Iterable[str] | None = None,
) -> tuple[list[Path], str | None]:
    """Make ``folder`` ready for a new run after a killed one.

    When ``.snakemake/locks/`` holds locks and no live process works in the folder (:func:`workers`), the locks
    are stale: they are removed with the temporary files of interrupted writes under ``outputs``. When a live
    process works there and its locks name any of ``ours`` (this run's outputs; None: any lock counts), nothing
    is touched and the sentence refusing this run is returned; a live run of another analysis, whose locks name
    none of them, is left to run beside this one. Returns the files removed and the refusal (None when the run
    may go on). Without locks it returns at once, so it costs nothing on an ordinary run."""
    locks = stale_locks(folder)
    if not locks:
        return [], None
    live = workers(folder)
    if live:
        if ours is None or locked_paths(locks) & set(ours):
            return [], refusal(live, folder)
        return [], None
    removed = locks + leftovers(Path(folder) / o for o in outputs)
    for path in removed:
        path.unlink(missing_ok=True)
    return removed, None
