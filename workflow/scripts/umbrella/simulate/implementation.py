"""The implementation sheet: factors of the CFIR 2022 (Damschroder et al. 2022) for the reviews that address
implementation, each a barrier or a facilitator."""

from __future__ import annotations

import numpy as np
import pandas as pd

from umbrella.simulate.arrays import top_k

# CFIR 2022 (Damschroder et al. 2022): domain, construct, factor (neutral wording), probability of "barrier".
CFIR: tuple[tuple[str, str, str, float], ...] = (
    ("innovation", "Innovation Evidence-Base", "Evidence that peer support works", 0.3),
    ("innovation", "Innovation Adaptability", "Flexibility to adapt the peer role locally", 0.3),
    ("innovation", "Innovation Complexity", "Complexity of the peer support model", 0.7),
    ("innovation", "Innovation Design", "Clarity of the peer support manual", 0.5),
    ("innovation", "Innovation Cost", "Cost of delivering peer support", 0.7),
    ("innovation", "Innovation Relative Advantage", "Added value over usual care", 0.3),
    ("outer_setting", "Policies & Laws", "National policy on the peer workforce", 0.4),
    ("outer_setting", "Financing", "Funding for peer worker posts", 0.7),
    ("outer_setting", "Local Attitudes", "Stigma towards lived experience", 0.8),
    ("outer_setting", "Partnerships & Connections", "Links with community organisations", 0.3),
    ("outer_setting", "External Pressure", "Commissioners' performance targets", 0.6),
    ("inner_setting", "Culture", "Recovery-oriented team culture", 0.4),
    ("inner_setting", "Relational Connections", "Relationships between peer and clinical staff", 0.5),
    ("inner_setting", "Communications", "Communication of the peer role within teams", 0.6),
    ("inner_setting", "Available Resources", "Supervision and training resources", 0.6),
    ("inner_setting", "Compatibility", "Fit with existing workflows", 0.5),
    ("inner_setting", "Structural Characteristics", "Pay and employment conditions of peer workers", 0.7),
    ("inner_setting", "Mission Alignment", "Organisational commitment to recovery", 0.3),
    ("individuals", "Innovation Deliverers", "Peer workers' own wellbeing", 0.6),
    ("individuals", "Capability", "Peer workers' skills and training", 0.4),
    ("individuals", "Motivation", "Staff motivation to work with peer workers", 0.5),
    ("individuals", "Mid-level Leaders", "Support from team managers", 0.3),
    ("individuals", "Innovation Recipients", "Service users' willingness to engage", 0.4),
    ("individuals", "Opportunity", "Time available for peer support", 0.6),
    ("implementation_process", "Planning", "Planning of the peer role's introduction", 0.4),
    ("implementation_process", "Engaging", "Engagement of clinical staff before launch", 0.4),
    ("implementation_process", "Tailoring Strategies", "Tailoring training to the local context", 0.3),
    ("implementation_process", "Reflecting & Evaluating", "Ongoing monitoring and feedback", 0.4),
    ("implementation_process", "Teaming", "Joint working of peer and clinical staff", 0.4),
    ("implementation_process", "Assessing Context", "Assessment of organisational readiness", 0.5),
)
#: The domains, in the order of :data:`CFIR`.
CFIR_DOMAINS: tuple[str, ...] = tuple(dict.fromkeys(domain for domain, _, _, _ in CFIR))


def implementation_sheet(rng: np.random.Generator, ids: np.ndarray) -> pd.DataFrame:
    """3-8 CFIR factors per review of ``ids``; every domain used at least once."""
    n = len(ids)
    n_t = len(CFIR)
    k = rng.integers(3, 9, size=n)
    mask = top_k(rng, np.zeros((n, n_t)), k) if n else np.zeros((0, n_t), bool)
    if n:
        domain_of = np.array([CFIR_DOMAINS.index(t[0]) for t in CFIR])
        for d in range(len(CFIR_DOMAINS)):
            if not mask[:, domain_of == d].any():
                mask[0, np.flatnonzero(domain_of == d)[0]] = True
    r, t = np.nonzero(mask)
    p_barrier = np.array([x[3] for x in CFIR])[t]
    return pd.DataFrame(
        {
            "review_id": ids[r],
            "cfir_domain": np.array([x[0] for x in CFIR], dtype=object)[t],
            "construct": np.array([x[1] for x in CFIR], dtype=object)[t],
            "factor": np.array([x[2] for x in CFIR], dtype=object)[t],
            "role": np.where(rng.random(len(t)) < p_barrier, "barrier", "facilitator").astype(object),
        }
    )
