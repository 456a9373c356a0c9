"""The synthesis stage's files: implementation, experiences, the research-question overview, the PRISMA flow."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from umbrella.core.sheets import column_types
from umbrella.core.tables import read_table, write_table
from umbrella.synthesis.figures import implementation_figure, prisma_figure
from umbrella.synthesis.findings import (
    experiences_table,
    implementation_by_domain,
    implementation_table,
    questions_table,
)
from umbrella.synthesis.prisma import flow_rows


def run_synthesis(
    inputs: Mapping[str, str | Path],
    questions: Mapping[str, Mapping],
    published: Mapping | None,
    framework: Mapping[str, Any],
    prisma: Mapping[str, Any] | None,
    outputs: Mapping[str, str | Path],
) -> None:
    """Write the tables and figures named in ``outputs``: ``questions`` always; ``implementation`` and
    ``implementation_figure`` with an implementation sheet; ``experiences`` with an experiences sheet;
    ``prisma`` and ``prisma_figure`` when the config has PRISMA counts."""
    reviews = read_table(inputs["reviews"], column_types("reviews"))
    rating_table = read_table(inputs["ratings"], {})
    ratings = dict(zip(rating_table["review_id"], rating_table["rating"], strict=True))
    write_table(questions_table(reviews, questions, ratings, published), outputs["questions"])
    if "implementation" in outputs:
        implementation = read_table(inputs["implementation"], column_types("implementation"))
        domains = framework["domains"]
        write_table(implementation_table(implementation, ratings, domains), outputs["implementation"])
        implementation_figure(
            implementation_by_domain(implementation, domains), framework["name"], Path(outputs["implementation_figure"])
        )
    if "experiences" in outputs:
        experiences = read_table(inputs["experiences"], column_types("experiences"))
        write_table(experiences_table(experiences, ratings), outputs["experiences"])
    if "prisma" in outputs:
        write_table(pd.DataFrame(flow_rows(prisma)), outputs["prisma"])
        prisma_figure(prisma, len(reviews), Path(outputs["prisma_figure"]))
