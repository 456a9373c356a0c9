"""Array helpers of the simulator: identifiers, integer allocation, weighted draws without replacement, ranks
within groups, and rounding."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: How many decimals each float column is rounded to (the CSV prints them without trailing zeros).
DECIMALS = 4


def ids(prefix: str, n: int, width: int) -> np.ndarray:
    """``prefix`` + zero-padded 1..n, e.g. Sim001."""
    width = max(width, len(str(n)))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def allocate(n: int, weights: Sequence[float]) -> np.ndarray:
    """Split ``n`` into integer counts proportional to ``weights`` (largest remainder, ties to the first)."""
    w = np.asarray(weights, dtype=float)
    exact = n * w / w.sum()
    counts = np.floor(exact).astype(int)
    rest = n - counts.sum()
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:rest]] += 1
    return counts


def top_k(rng: np.random.Generator, log_weights: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Per row of ``log_weights`` (rows x options), a boolean mask of ``k[row]`` options drawn without
    replacement in proportion to ``exp(log_weights)`` (Gumbel top-k)."""
    keys = log_weights + rng.gumbel(size=log_weights.shape)
    ranks = np.argsort(np.argsort(-keys, axis=1, kind="stable"), axis=1, kind="stable")
    return ranks < np.asarray(k)[:, None]


def group_rank(group: np.ndarray) -> np.ndarray:
    """Position of each element within its run of equal ``group`` values (``group`` sorted)."""
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=int)
    start = np.r_[True, group[1:] != group[:-1]]
    first = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    return np.arange(n) - first


def rounded(x: np.ndarray, decimals: int) -> np.ndarray:
    """Round and turn -0.0 into 0.0."""
    return np.round(np.asarray(x, dtype=float), decimals) + 0.0
