"""umbrella: the domain logic of the umbrella-review pipeline, free of Snakemake.

Modules: ``sheets`` (reading and validating the extraction sheets), ``extract`` (tidy tables and counts),
``config`` (the analysis configuration), ``report`` (the HTML report), ``simulate`` (a simulated dataset),
``tables`` (deterministic CSV output), ``errors`` (input problems).
"""

__version__ = "0.1.0"
