"""A seeded generator of a complete, *simulated* umbrella-review dataset.

Every value it writes is invented: reviews, authors, journals, DOIs (``10.5555/sim.NNN``, a test prefix),
primary studies, AMSTAR-2 answers, pooled and study-level effects, implementation factors and experience
findings. The sheets follow the contract in ``workflow/schemas/sheets/*.schema.yaml`` and are meant for
tests, demonstrations and scale benchmarks of the pipeline, never for conclusions about peer support.

Run from ``workflow/scripts``::

    python -m umbrella.simulate --reviews 35 --seed 1 --out ../../data/raw/simulated

or import it::

    from umbrella.simulate import simulate, write
    tables = simulate(n_reviews=35, seed=1)   # sheet name -> DataFrame
    write(tables, "out_dir")                  # <sheet>.csv per sheet

The model, in brief (one module per part):

* ``reviews`` (:mod:`.reviews`): review types in the proportions of Cooper et al. 2024 (13/13/3/6 of 35, plus a
  few realist and other reviews in large sets), years 2005-2024 (more recent ones more common), a last search
  2-48 months before publication; research questions by type (meta-analyses address effectiveness; qualitative
  and scoping reviews implementation and/or experiences).
* ``studies`` (:mod:`.reviews`): a pool of primary studies, each with a publication year and a popularity; each
  review draws its studies, without replacement and in proportion to popularity, from the studies published in
  or before the year of its last search. The pool widens with the number of reviews (an overview of many reviews
  spans more topics), so the corrected covered area is about 5-15 % for a few dozen reviews and thins out at
  scale.
* ``amstar2`` (:mod:`.amstar`): a latent quality per review drives each consensus answer; two raters (``R1``,
  ``R2``) disagree on about 10 % of the items and the consensus sides with one of them. ``amstar2_reported`` is
  the rating the consensus answers imply under the pipeline's default rule, except for a few reviews (about 7 %)
  where it deliberately differs by one level.
* ``effects`` and ``study_effects`` (:mod:`.effects`, :mod:`.scenarios`, :mod:`.study_level`): pooled results
  for the meta-analyses; for those of the largest reviews (a fifth, at least three) the pooled results are the
  DerSimonian-Laird pools, computed by the re-analysis engine, of study-level rows simulated in
  ``study_effects``: Depressive symptoms (Cohen's d with SE or CI, pooled as Hedges' g), Clinical recovery
  (OR/RR from 2x2 counts) and Quality of life (MD/SMD from means), with cases and controls (events and
  non-events for counts, else the arms), risk of bias, indirectness (no, serious, very serious; one
  meta-analysis in nine without) and, for two reviews in three, an ``amstar`` score (Y = 1, PY = 0.5 over the
  16 consensus answers). The reviews take the three templates of planted scenarios in
  :data:`.scenarios.SCENARIOS` in turn (small-study effects; a large, homogeneous, low-risk meta-analysis; a
  heterogeneous one whose largest trial is null; three small trials; ...), so that with ``--reviews 35
  --seed 1`` the re-analysis reaches every Ioannidis class (I-IV, ns), every level of every algorithmic GRADE
  domain (risk of bias, inconsistency, indirectness, imprecision, publication bias, start below high for
  k < 5) and all four GRADE labels.
* ``implementation`` and ``experiences`` (:mod:`.implementation`, :mod:`.experiences`): CFIR 2022 factors and
  themed findings for the reviews that address those questions.

Same ``seed`` and ``n_reviews`` give byte-identical CSV files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from umbrella.simulate import amstar, reviews
from umbrella.simulate.arrays import ids
from umbrella.simulate.effects import effects
from umbrella.simulate.experiences import experiences_sheet
from umbrella.simulate.implementation import implementation_sheet
from umbrella.simulate.output import SHEETS, finish


def simulate(n_reviews: int = 35, seed: int = 1, n_pool: int | None = None) -> dict[str, pd.DataFrame]:
    """Simulate every sheet of an umbrella review of ``n_reviews`` reviews.

    ``n_pool`` overrides the size of the pool of primary studies (default :func:`.reviews.default_pool_size`).
    Returns sheet name -> DataFrame with the contract's columns, rows sorted as the schemas' ``x-sheet.sort``.
    """
    if n_reviews < 1:
        raise ValueError("n_reviews must be at least 1")
    # One independent stream per part, so that changing one part leaves the others' values as they were.
    streams = np.random.default_rng(seed).spawn(7)
    rng_reviews, rng_studies, rng_amstar, rng_text, rng_effects, rng_impl, rng_exp = streams
    n = int(n_reviews)
    review_ids = ids("Sim", n, 3)
    design = reviews.design(rng_reviews, n)
    pool = int(n_pool) if n_pool is not None else reviews.default_pool_size(n)
    cit = reviews.citations(rng_studies, design, pool)
    answers = amstar.answers(rng_amstar, design.rtype == reviews.MA)
    review_sheet = reviews.reviews_sheet(rng_text, review_ids, design, cit, answers.reported)
    effect_sheet, study_effect_sheet = effects(
        rng_effects, review_ids, design.rtype, cit, review_sheet["population"].to_numpy(object), answers.score
    )
    tables = {
        "reviews": review_sheet,
        "amstar2": amstar.amstar2_sheet(review_ids, answers),
        "effects": effect_sheet,
        "studies": reviews.studies_sheet(review_ids, cit),
        "study_effects": study_effect_sheet,
        "implementation": implementation_sheet(rng_impl, review_ids[design.implementation]),
        "experiences": experiences_sheet(rng_exp, review_ids[design.experiences]),
    }
    return {sheet: finish(sheet, tables[sheet]) for sheet in SHEETS}
