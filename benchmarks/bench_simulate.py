"""Time the simulated-dataset generator at 35, 500 and 2,000 reviews.

Usage, from the repository root::

    python benchmarks/bench_simulate.py [--repeat 3] [--seed 1] [--sizes 35 500 2000]

For each size it prints the best wall time of ``simulate()`` over the repeats, the time to write the CSV
files, the rows per sheet and the overlap of the citation matrix (distinct primary studies, CCA).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "scripts"))

from umbrella.simulate import overlap, simulate, write  # noqa: E402
from umbrella.simulate.output import SHEETS  # noqa: E402


def bench(n_reviews: int, seed: int, repeat: int) -> dict[str, object]:
    """Best-of-``repeat`` time of ``simulate(n_reviews, seed)``, the time to write it, and its size."""
    best = float("inf")
    tables = {}
    for _ in range(repeat):
        start = time.perf_counter()
        tables = simulate(n_reviews=n_reviews, seed=seed)
        best = min(best, time.perf_counter() - start)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        write(tables, tmp)
        write_s = time.perf_counter() - start
    o = overlap(tables["studies"])
    return {
        "reviews": n_reviews,
        "simulate_s": best,
        "write_s": write_s,
        "rows": {name: len(tables[name]) for name in SHEETS},
        "distinct_studies": int(o["studies"]),
        "cca": o["cca"],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[35, 500, 2000], help="numbers of reviews")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the best time is shown")
    args = parser.parse_args(argv)
    results = [bench(n, args.seed, args.repeat) for n in args.sizes]
    header = ["reviews", "simulate s", "write s", *SHEETS, "distinct studies", "CCA %"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in results:
        cells = [
            f"{r['reviews']:,}",
            f"{r['simulate_s']:.3f}",
            f"{r['write_s']:.3f}",
            *(f"{r['rows'][name]:,}" for name in SHEETS),
            f"{r['distinct_studies']:,}",
            f"{100 * r['cca']:.2f}",
        ]
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
