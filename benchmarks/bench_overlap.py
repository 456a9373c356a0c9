"""Time the overlap computation on simulated citation matrices and print the figures.

Run: .venv/bin/python benchmarks/bench_overlap.py [n_reviews ...]   (default: 35 500 2000)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "scripts"))

from umbrella.overlap.cca import OverlapSettings, build_matrix, overall, pairwise  # noqa: E402
from umbrella.simulate import simulate  # noqa: E402


def main(sizes: list[int]) -> None:
    settings = OverlapSettings()
    header = ("reviews", "studies", "inclusions", "pairs sharing", "build s", "overall s", "pairwise s")
    widths = (8, 8, 11, 14, 8, 9, 10)
    print(" ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)))
    for n in sizes:
        tables = simulate(n_reviews=n, seed=1)
        studies, reviews = tables["studies"], tables["reviews"]
        search = dict(zip(reviews["review_id"], reviews["search_end"], strict=True))
        t0 = time.perf_counter()
        m = build_matrix(studies, search, settings)
        t1 = time.perf_counter()
        overall(m, settings)
        t2 = time.perf_counter()
        pairs = pairwise(m, settings)
        t3 = time.perf_counter()
        counts = f"{n:>8,} {len(m.studies):>8,} {int(m.included.sum()):>11,} {len(pairs):>14,}"
        print(f"{counts} {t1 - t0:>8.2f} {t2 - t1:>9.2f} {t3 - t2:>10.2f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [35, 500, 2000])
