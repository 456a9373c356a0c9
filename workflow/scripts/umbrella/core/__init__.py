"""The core every stage uses: sheets and their validation, errors, tables, plots, the configuration, the output
registry, provenance and the job runner. It imports no stage."""
