"""The re-analysis stage: the vectorised random-effects engine (engine), evidence classes and GRADE (evidence), the
umbrella forest plot (figures) and files (stage)."""
