"""The conventions of the effects stage (config section ``effects``), and those conventions in words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class EffectSettings:
    """The conventions of the effects stage (config section ``effects``)."""

    alpha: float = 0.05
    favours: Mapping[str, str] = field(default_factory=dict)
    prediction_interval: str = "t_k_minus_1"
    tau2_from_i2: bool = True
    sd_for_md: Mapping[str, float] = field(default_factory=dict)
    ci_asymmetry_tolerance: float = 0.10
    best_review: tuple[str, ...] = ("amstar2", "k_studies", "year")
    mostly_share: float = 0.5
    findings_from: str = "reanalysis"
    #: The words under a forest plot's axis, left and right of the null line (control side, intervention side).
    favours_labels: tuple[str, str] = ("Favours control", "Favours intervention")

    @classmethod
    def from_config(cls, settings: Mapping | None) -> EffectSettings:
        s = dict(settings or {})
        base = cls()
        return cls(
            alpha=float(s.get("alpha", base.alpha)),
            favours=dict(s.get("favours") or {}),
            prediction_interval=s.get("prediction_interval", base.prediction_interval),
            tau2_from_i2=bool(s.get("tau2_from_i2", base.tau2_from_i2)),
            sd_for_md={k: float(v) for k, v in (s.get("sd_for_md") or {}).items()},
            ci_asymmetry_tolerance=float(s.get("ci_asymmetry_tolerance", base.ci_asymmetry_tolerance)),
            best_review=tuple(s.get("best_review", base.best_review)),
            mostly_share=float(s.get("mostly_share", base.mostly_share)),
            findings_from=s.get("findings_from", base.findings_from),
            favours_labels=(
                str((s.get("favours_labels") or {}).get("control", base.favours_labels[0])),
                str((s.get("favours_labels") or {}).get("intervention", base.favours_labels[1])),
            ),
        )

    def describe(self) -> list[str]:
        """The conventions in words, for the report's methods."""
        pi = {
            "t_k_minus_1": "a t distribution with k − 1 degrees of freedom",
            "t_k_minus_2": "a t distribution with k − 2 degrees of freedom",
            "z": "the normal distribution",
        }[self.prediction_interval]
        best = {
            "amstar2": "highest AMSTAR-2 rating",
            "k_studies": "most primary studies pooled",
            "year": "most recent",
        }
        lines = [
            "The standard error of each pooled result is recomputed from its confidence interval "
            "(SE = (upper − lower) / (2·z), z the normal quantile of the stated confidence level), on the log "
            "scale for OR, RR, HR and IRR; then z = estimate / SE and the two-sided p-value.",
            f"A result is a benefit or a harm when the recomputed p-value is below {self.alpha:g} and its estimate "
            "lies on the side that favours the intervention or the control; otherwise it shows no difference. "
            "The side is the direction the review states for the result, else the one set for its outcome group.",
            "Every result with known numbers is also expressed as an equivalent Hedges' g and odds ratio "
            "(ln OR = g·π/√3, Chinn 2000); RR, HR and IRR are treated as odds ratios; an SMD is taken as g; "
            "an MD is converted only where an SD is given for its outcome group; r via d = 2r/√(1 − r²).",
            f"Prediction intervals use {pi} and τ² as reported"
            + (
                "; where only I² is reported, τ² is approximated as I²·k·SE²/(1 − I²) "
                "(equal study variances assumed), and marked as derived."
                if self.tau2_from_i2
                else "."
            ),
            "The best evidence for an outcome is the result of the review with the "
            + ", then ".join(best[c] for c in self.best_review)
            + ".",
            "Verdict per outcome: insufficient with one review; consistent benefit (or harm) when every result "
            f"shows it; mostly benefit (or harm) when more than {self.mostly_share:.0%} of results do and none "
            "shows the opposite; no evidence of effect when none differs from no effect; mixed otherwise. "
            "Results with missing numbers are listed but not counted.",
            f"A ratio's confidence interval is flagged as asymmetric when, on the log scale, its two arms differ "
            f"by more than {self.ci_asymmetry_tolerance:.0%} of the half-width. A printed p-value is flagged when no "
            "value within the rounding of the printed estimate, limits and p-value reconciles it with the "
            "recomputed one.",
            "Each result also gets the Ioannidis class its numbers allow (Fusar-Poli & Radua 2018): III with more "
            "cases than the re-analysis threshold (the number of cases extracted for the result) and p < 10⁻³, "
            "IV with p < 0.05, ns otherwise; Egger's test, excess significance, the largest study and leave-one-out "
            "need the studies, so they are not assessable from a pooled result and classes I and II cannot be reached.",
        ]
        return lines
