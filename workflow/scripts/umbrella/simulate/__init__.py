"""A seeded generator of simulated umbrella-review datasets, for tests, demonstrations and benchmarks; not part of
the pipeline. ``python -m umbrella.simulate --reviews 35 --seed 1 --out DIR`` writes one (see :mod:`.generator`)."""

from umbrella.simulate.generator import main, overlap, simulate, write

__all__ = ["main", "overlap", "simulate", "write"]
