"""A seeded generator of simulated umbrella-review datasets, for tests, demonstrations and benchmarks; not part of
the pipeline. ``python -m umbrella.simulate --reviews 35 --seed 1 --out DIR`` writes one (the model:
:mod:`.generator`)."""

from umbrella.simulate.cli import main
from umbrella.simulate.generator import simulate
from umbrella.simulate.output import overlap, write

__all__ = ["main", "overlap", "simulate", "write"]
