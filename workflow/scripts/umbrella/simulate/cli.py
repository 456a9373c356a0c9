"""The command line: ``python -m umbrella.simulate --reviews 35 --seed 1 --out DIR`` writes a simulated dataset."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from umbrella.simulate.generator import simulate
from umbrella.simulate.output import overlap, write


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m umbrella.simulate",
        description="Write a simulated umbrella-review dataset (every value invented) as <sheet>.csv files.",
    )
    parser.add_argument("--reviews", type=int, default=35, help="number of reviews (default 35)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--pool", type=int, default=None, help="size of the pool of primary studies (default: grows with --reviews)"
    )
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args(argv)
    if args.reviews < 1:
        parser.error("--reviews must be at least 1")
    tables = simulate(n_reviews=args.reviews, seed=args.seed, n_pool=args.pool)
    paths = write(tables, args.out)
    o = overlap(tables["studies"])
    rows = ", ".join(f"{name} {len(df)}" for name, df in tables.items())
    print(f"wrote {len(paths)} sheets to {args.out} ({rows}); CCA {o['cca']:.1%}")
    return 0
