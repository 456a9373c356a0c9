"""The re-analysis stage: its conventions (settings), study effect sizes (effect_sizes), the vectorised
random-effects model (model), Egger's and the excess-significance tests (bias_tests), the whole re-analysis of
every meta-analysis (analysis), evidence classes (evidence) and GRADE (grade) from the pooled table's values
(pooled_values), the umbrella forest plot (figures) and files (stage); engine keeps the former names importable."""
