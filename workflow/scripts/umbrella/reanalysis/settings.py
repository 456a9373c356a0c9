"""Conventions of the re-analysis (config section ``reanalysis``) and the methods text that describes them.

The options are metafor's (Viechtbauer 2010) and metaumbrella's (Gosling et al. 2023): the tau² estimator, the CI
(Wald or Hartung–Knapp–Sidik–Jonkman), the I² (Q-based, Higgins & Thompson, or tau²-based), the prediction
interval's distribution, the variance of Hedges' g, the excess-significance test of Stanley et al. 2021 and its
true effect, the evidence classes (Ioannidis as Fusar-Poli & Radua 2018, or personalised) and the algorithmic
GRADE (metaumbrella 1.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from umbrella.reanalysis.grade import GRADE_LABELS, GradeSettings

#: The methods text's words for each option.
TAU2_WORDS = {
    "REML": "restricted maximum likelihood (REML)",
    "ML": "maximum likelihood",
    "PM": "the Paule–Mandel estimator",
    "DL": "the DerSimonian–Laird estimator",
    "FE": "none: a common-effect (fixed-effect) model",
}
CI_WORDS = {"z": "a Wald (z) interval", "hksj": "the Hartung–Knapp–Sidik–Jonkman method (t, k − 1 df)"}
I2_WORDS = {
    "q": "I² = (Q − df)/Q (Higgins & Thompson; as meta and metaumbrella)",
    "tau2": "I² = τ²/(τ² + s²), s² the typical within-study variance (as metafor; Q-based under the "
    "common-effect model)",
}
PREDICTION_INTERVAL_WORDS = {
    "t_k_minus_1": "t with k − 1 df",
    "t_k_minus_2": "t with k − 2 df",
    "z": "the normal distribution",
}
SMD_VARIANCE_WORDS = {
    "escalc": "g = J·d with variance 1/n₁ + 1/n₂ + g²/(2N) (metafor's escalc)",
    "metaumbrella": "g = J·d with variance J²·(1/n₁ + 1/n₂ + d²/(2N)) (metaumbrella)",
}
ESB_METHOD_WORDS = {
    "TESSPSST": "the smaller p of TESS and PSST",
    "TESS": "TESS (the proportion of excess significance against 5 %)",
    "PSST": "PSST (the proportion of significant studies against the mean power)",
}
ESB_TRUE_EFFECT_WORDS = {
    "UWLS": "the unrestricted weighted least squares (UWLS) estimate",
    "largest": "the largest study's effect",
    "pooled": "the pooled estimate",
}


@dataclass(frozen=True)
class MetaSettings:
    """Conventions of the re-analysis (config section ``reanalysis``)."""

    tau2: str = "REML"
    ci: str = "z"
    i2: str = "q"
    prediction_interval: str = "t_k_minus_1"
    n_cases_threshold: int = 1000
    smd_variance: str = "escalc"
    pre_post_cor: float = 0.8
    within_study_r: float = 0.5
    esb_method: str = "TESSPSST"
    esb_true_effect: str | float = "UWLS"
    classes: str = "ioannidis"
    personalised: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    grade: GradeSettings = field(default_factory=GradeSettings)

    @classmethod
    def from_config(cls, settings: Mapping | None) -> MetaSettings:
        s = dict(settings or {})
        base = cls()
        esb = dict(s.get("esb") or {})
        return cls(
            tau2=s.get("tau2", base.tau2),
            ci=s.get("ci", base.ci),
            i2=s.get("i2", base.i2),
            prediction_interval=s.get("prediction_interval", base.prediction_interval),
            n_cases_threshold=s.get("n_cases_threshold", base.n_cases_threshold),
            smd_variance=s.get("smd_variance", base.smd_variance),
            pre_post_cor=float(s.get("pre_post_cor", base.pre_post_cor)),
            within_study_r=float(s.get("within_study_r", base.within_study_r)),
            esb_method=esb.get("method", base.esb_method),
            esb_true_effect=esb.get("true_effect", base.esb_true_effect),
            classes=s.get("classes", base.classes),
            personalised={str(k): dict(v or {}) for k, v in (s.get("personalised") or {}).items()},
            grade=GradeSettings.from_config(s.get("grade")),
        )

    def describe(self) -> list[str]:
        """The methods text: one sentence group each on effect sizes, the model, the small-study tests, excess
        significance, the evidence classes and GRADE."""
        return [
            self._effect_sizes_text(),
            self._model_text(),
            self._egger_and_sensitivity_text(),
            self._excess_significance_text(),
            self._classes_text(),
            self._grade_text(),
        ]

    def _effect_sizes_text(self) -> str:
        return (
            "Study effect sizes: estimate with SE or CI at its stated confidence level (default 95 %; log scale for "
            "ratios); 2x2 counts as OR, RR or RD with 0.5 added to every cell of a study only when one of its cells "
            "is zero; events and person-time as IRR (escalc IRR); correlations (R, Z) on Fisher's z with variance "
            "1/(n − 3), shown back as r; change scores, or pre/post means and SDs with a pre/post correlation of "
            f"{self.pre_post_cor:g} unless a study gives its own, as SMC (escalc SMCC per arm) or MC, "
            "intervention minus control; means and SDs as MD, or as Hedges' "
            f"{SMD_VARIANCE_WORDS[self.smd_variance]}, J = Γ(m/2)/(√(m/2)·Γ((m − 1)/2)) the exact small-sample "
            "correction, m = n₁ + n₂ − 2. A Cohen's d (SMD) given with its SE or CI and both group sizes becomes "
            "g = J·d with SE J·SE. A control group shared by several comparisons is divided between them (its n, "
            "and its events for counts; Cochrane Handbook 23.3.4); an effect marked reverse has its sign flipped. "
            "Several effect sizes of one study in one meta-analysis (multiple_es) are combined before pooling "
            "(Borenstein et al. 2009, ch. 23–24): independent groups by a fixed-effect pool with n summed, outcomes "
            "on the same participants by their mean with variance (1/m)²·(Σvᵢ + Σ_{i≠j} r·√vᵢ·√vⱼ), r = "
            f"{self.within_study_r:g} unless the row gives within_r, and the largest n."
        )

    def _model_text(self) -> str:
        return (
            f"Random-effects model per outcome with τ² by {TAU2_WORDS[self.tau2]}; confidence interval by "
            f"{CI_WORDS[self.ci]}; {I2_WORDS[self.i2]}; prediction interval with "
            f"{PREDICTION_INTERVAL_WORDS[self.prediction_interval]}."
        )

    @staticmethod
    def _egger_and_sensitivity_text() -> str:
        return (
            "Egger's test: weighted regression of the effect on its SE (weights 1/SE²), k ≥ 3. Leave-one-out: the "
            "largest p of the k fits without one study. Largest study: the largest n (ties: the smaller effect; "
            "no n: the smallest SE). Low risk of bias: the share of random-effects weight from studies rated low."
        )

    def _excess_significance_text(self) -> str:
        truth = self.esb_true_effect
        truth_words = ESB_TRUE_EFFECT_WORDS.get(
            str(truth), f"{truth} (given in the configuration; natural scale for ratios)"
        )
        return (
            f"Excess significance (Stanley et al. 2021, as metaumbrella 1.1 esb.test): "
            f"{ESB_METHOD_WORDS[self.esb_method]}, one-sided, with {truth_words} as the true effect θ; each study's "
            "power 1 − Φ((1.96·SE − |θ|)/√(SE² + τ²)) in the direction of θ, against the number of studies with "
            "p < 0.05. Differences (SMD, G, MD) are tested as Cohen's d with SE √(1/n₁ + 1/n₂) and p from t with "
            "n₁ + n₂ − 2 df, τ² from the g-scale fit."
        )

    def _classes_text(self) -> str:
        if self.classes == "personalised":
            return (
                "Evidence classes by personalised criteria (metaumbrella's Personalized system; thresholds in the "
                "table below): a meta-analysis is in the best of classes I–IV whose every criterion it meets, "
                "with strict comparisons, and in class V when it meets none; a missing input fails its criterion."
            )
        return (
            f"Ioannidis classes (Fusar-Poli & Radua 2018): I: more than {self.n_cases_threshold:,} cases, "
            "p < 10⁻⁶, I² < 50 %, prediction interval excluding the null, Egger p > 0.05 and "
            "excess-significance p > 0.05; II: more than the threshold of cases, p < 10⁻⁶ and the largest study "
            "significant in the same direction; III: more than the threshold of cases and p < 10⁻³; IV: "
            "p < 0.05; otherwise ns. A criterion whose inputs are missing is not met and is named."
        )

    def _grade_text(self) -> str:
        g = self.grade
        labels = ", ".join(GRADE_LABELS[g.labels])
        return (
            "Algorithmic GRADE (metaumbrella 1.1): start high (one level lower when k < 5) and downgrade for risk "
            "of bias (2 below 50 %, 1 below 75 % of the weight at low risk), inconsistency (the CINeMA rule on "
            f"the CI and prediction interval against equivalence ranges OR {g.eq_range_or[0]:g}–{g.eq_range_or[1]:g}"
            f" and g {g.eq_range_g[0]:g} to {g.eq_range_g[1]:g}; otherwise I² ≥ 30 % or 50 % with ≥ 10 % of studies "
            "significant the other way), indirectness (as extracted for each meta-analysis; when not extracted: "
            f"{g.missing_indirectness.replace('_', ' ')}), imprecision (CI spanning the null and a large effect, "
            "fewer than 394 or 64 cases or controls) and publication bias (Egger or excess-significance p ≤ 0.10); "
            f"missing inputs count as the worst case. Labels: {labels}. Differences are graded on the g scale, "
            "ratios as odds ratios; R and RD are not graded."
        )
