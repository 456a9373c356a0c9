"""The re-analysis stage: its conventions (settings), study effect sizes (effect_sizes), the vectorised
random-effects model (model), Egger's and the excess-significance tests (bias_tests), the whole re-analysis of
every meta-analysis (analysis), evidence classes and GRADE (evidence), the umbrella forest plot (figures) and files
(stage); engine keeps the former names importable."""
