"""The names the re-analysis engine had before it was split, kept importable from here for code outside the
package: the settings are in :mod:`umbrella.reanalysis.settings`, study effect sizes (Hedges 1981; metafor's
escalc, metaumbrella) in :mod:`~umbrella.reanalysis.effect_sizes`, the random-effects model (metafor's
conventions, Viechtbauer 2010) in :mod:`~umbrella.reanalysis.model`, Egger's and the excess-significance tests
(Stanley et al. 2021) in :mod:`~umbrella.reanalysis.bias_tests` and the whole re-analysis (metaumbrella 1.1,
Gosling et al. 2023) in :mod:`~umbrella.reanalysis.analysis`. New code imports from those modules.
"""

from umbrella.reanalysis.analysis import INDIRECTNESS_ORDER, POOLED_COLUMNS, STUDY_COLUMNS, reanalyse
from umbrella.reanalysis.bias_tests import ESB_METHODS, egger, excess_significance
from umbrella.reanalysis.effect_sizes import hedges_j, study_effect_sizes
from umbrella.reanalysis.model import TAU2, Padded, fit, leave_one_out, pad, tau2_dl, tau2_ml, tau2_pm, tau2_reml
from umbrella.reanalysis.settings import MetaSettings

__all__ = [
    "ESB_METHODS", "INDIRECTNESS_ORDER", "POOLED_COLUMNS", "STUDY_COLUMNS", "TAU2", "MetaSettings", "Padded",
    "egger", "excess_significance", "fit", "hedges_j", "leave_one_out", "pad", "reanalyse", "study_effect_sizes",
    "tau2_dl", "tau2_ml", "tau2_pm", "tau2_reml",
]  # fmt: skip
