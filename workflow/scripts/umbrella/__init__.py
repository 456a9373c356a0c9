"""umbrella: the domain logic of the umbrella-review pipeline, free of Snakemake.

Sub-packages, one per stage of the workflow, over a small core that imports no stage: ``core`` (sheets and their
validation, errors, tables, plots, the configuration, the output registry, provenance, the job runner),
``extract``, ``quality``, ``overlap``, ``effects``, ``reanalysis``, ``synthesis`` and ``report``; ``preflight``
(the checks before any job), ``docs`` (the generated reference pages) and, apart from the pipeline, ``simulate``
(simulated datasets for tests and benchmarks).
"""

__version__ = "0.1.0"
