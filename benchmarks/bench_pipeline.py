"""Run the whole workflow on simulated analyses of 35, 350 and 3,500 reviews and print what it costs.

Usage, from the repository root::

    .venv/bin/python benchmarks/bench_pipeline.py [--sizes 35 350 3500] [--cores 2] [--seed 1] [--keep DIR]

For each size it simulates the sheets (``umbrella.simulate``, PRISMA counts off), writes a config that is
``config/simulated.yaml`` with ``data:`` pointing at them, runs ``snakemake --cores N`` in a fresh folder and
prints: the wall time of the whole run, the peak resident memory of the whole process tree (Snakemake and every
job it starts, sampled every 50 ms), the sizes of the report and the supplement, the time and peak memory of each
rule (from the ``benchmark:`` file Snakemake writes for every job; a rule with several jobs shows their sum and the
largest peak) and the time of a second, no-op run. The README's speed table is copied from what it prints.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow" / "scripts"))

from umbrella.simulate import simulate, write  # noqa: E402


def tree_rss(proc: psutil.Process) -> int:
    """Resident memory of ``proc`` and all of its descendants, in bytes."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def run_workflow(folder: Path, cores: int) -> tuple[float, int]:
    """Run the workflow in ``folder``; returns (wall seconds, peak resident bytes of the process tree)."""
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(folder),
        "--configfile",
        str(folder / "config.yaml"),
        "--cores",
        str(cores),
        "--quiet",
    ]
    start = time.perf_counter()
    with open(folder / "snakemake.out", "a", encoding="utf-8") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        watched = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, tree_rss(watched))
            time.sleep(0.05)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"the workflow failed in {folder}; see {folder / 'snakemake.out'}")
    return wall, peak


#: The analysis' name: its outputs are in results/<NAME>/, reports/<NAME>/ and logs/<NAME>/.
NAME = "bench"


def rule_costs(folder: Path) -> dict[str, tuple[float, float]]:
    """Rule -> (seconds summed over its jobs, largest peak resident MB) from the jobs' benchmark files."""
    seconds: dict[str, float] = defaultdict(float)
    peak: dict[str, float] = defaultdict(float)
    for path in sorted((folder / "logs" / NAME / "benchmarks").rglob("*.tsv")):
        rule = path.relative_to(folder / "logs" / NAME / "benchmarks").parts[0].removesuffix(".tsv")
        with open(path, encoding="utf-8") as fh:
            row = next(csv.DictReader(fh, delimiter="\t"))
        seconds[rule] += float(row["s"])
        rss = row.get("max_rss", "NA")
        peak[rule] = max(peak[rule], float(rss) if rss not in ("NA", "-", "") else 0.0)
    return {rule: (seconds[rule], peak[rule]) for rule in seconds}


def size_mb(path: Path) -> float:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6
    return path.stat().st_size / 1e6 if path.exists() else float("nan")


def bench(n_reviews: int, seed: int, cores: int, folder: Path) -> dict[str, object]:
    folder.mkdir(parents=True, exist_ok=True)
    tables = simulate(n_reviews=n_reviews, seed=seed)
    write(tables, folder / "raw")
    config = yaml.safe_load((ROOT / "config" / "simulated.yaml").read_text(encoding="utf-8"))
    config["data"] = str(folder / "raw")
    config["prisma"] = None  # the simulated PRISMA counts describe 35 reviews
    config["name"] = NAME
    # double extraction as the simulated config has it: two extractors' copies of the sheets but amstar2 (here
    # the same values as the reconciled set, so every cell is compared and none disagrees)
    extractors = {}
    for name in config["double_extraction"]["extractors"]:
        write({sheet: t for sheet, t in tables.items() if sheet != "amstar2"}, folder / name)
        extractors[name] = str(folder / name)
    config["double_extraction"]["extractors"] = extractors
    (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    wall, peak = run_workflow(folder, cores)
    noop, _ = run_workflow(folder, cores)
    return {
        "reviews": n_reviews,
        "rows": sum(len(t) for t in tables.values()),
        "wall": wall,
        "peak_mb": peak / 1e6,
        "noop": noop,
        "report_mb": size_mb(folder / "reports" / NAME / "umbrella_review.html"),
        "zip_mb": size_mb(folder / "reports" / NAME / "supplement.zip"),
        "xlsx_mb": size_mb(folder / "reports" / NAME / "supplement" / "supplement.xlsx"),
        "rules": rule_costs(folder),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[35, 350, 3500], help="numbers of reviews")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="run in this folder and keep the results (default: a temporary one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        results = [bench(n, args.seed, args.cores, base / f"reviews_{n}") for n in args.sizes]
    print(f"Whole workflow, --cores {args.cores}, simulated analyses (seed {args.seed}):\n")
    header = ["reviews", "sheet rows", "wall s", "peak MB", "no-op s", "report MB", "supplement.zip MB", "xlsx MB"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---:|" * len(header))
    for r in results:
        cells = [
            f"{r['reviews']:,}",
            f"{r['rows']:,}",
            f"{r['wall']:.1f}",
            f"{r['peak_mb']:,.0f}",
            f"{r['noop']:.1f}",
            f"{r['report_mb']:.2f}",
            f"{r['zip_mb']:.1f}",
            f"{r['xlsx_mb']:.1f}",
        ]
        print("| " + " | ".join(cells) + " |")
    rules = sorted({rule for r in results for rule in r["rules"]})
    print("\nPer rule: seconds (summed over its jobs) / peak MB of its largest job:\n")
    print("| rule | " + " | ".join(f"{r['reviews']:,} reviews" for r in results) + " |")
    print("|---|" + "---:|" * len(results))
    for rule in rules:
        cells = []
        for r in results:
            s, mb = r["rules"].get(rule, (float("nan"), float("nan")))
            cells.append(f"{s:.1f} s / {mb:,.0f} MB")
        print(f"| {rule} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
