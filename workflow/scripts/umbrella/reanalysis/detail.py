"""Per-meta-analysis detail of the re-analysis: each meta-analysis' studies on its pooled scale, its fit, Egger's
regression line and its leave-one-out fits, all meta-analyses in one vectorised pass; a stable, file-name-safe
id for each; and the leave-one-out table (metafor's ``leave1out``, Viechtbauer 2010).

The input is what the re-analysis wrote: ``pooled`` (one row per meta-analysis, its measure) and
``study_effect_sizes`` (one row per study pooled, ``yi`` and ``vi`` in the study's own measure). A ratio study in a
meta-analysis pooled as equivalent g (mixed measures) is put on the g scale as the re-analysis does,
ln OR·√3/π (Chinn 2000); every other study is pooled as it is.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from umbrella.core.tables import output_columns
from umbrella.core.vocabulary import CORRELATION_MEASURES, LOGIT_SCALE, RATIO_MEASURES
from umbrella.reanalysis.bias_tests import egger_regression
from umbrella.reanalysis.model import Padded, fit, leave_one_out_fits, pad
from umbrella.reanalysis.settings import MetaSettings

#: The columns of the leave-one-out table, in order, as the output registry declares them.
LEAVE_ONE_OUT_COLUMNS = output_columns("leave_one_out")
#: Columns of a fit shown on the measure's natural scale: ratios exponentiated, correlations as r = tanh(z).
NATURAL_COLUMNS = ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper")
#: Longest slug of an outcome or a review in a meta-analysis' id.
SLUG_LENGTH = 40


def slug(text: str, limit: int = SLUG_LENGTH) -> str:
    """Lowercase ascii letters, digits and ``_`` (``"Quality of life"`` -> ``"quality_of_life"``), at most
    ``limit`` characters; ``"x"`` when nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    out = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:limit].strip("_")
    return out or "x"


def meta_analysis_ids(keys: pd.DataFrame) -> list[str]:
    """A file-name-safe id per meta-analysis (``outcome`` and ``review_id`` columns): ``<review>_<outcome>`` as
    slugs. Where two meta-analyses would share one, each of them gets the first 8 hex digits of the SHA-256 of its
    exact outcome and review appended, so an id depends only on its own meta-analysis and on which others
    collide with it, never on the order of the rows."""
    base = [f"{slug(r)}_{slug(o)}" for o, r in zip(keys["outcome"], keys["review_id"], strict=True)]
    counts = Counter(base)
    out = []
    for b, o, r in zip(base, keys["outcome"], keys["review_id"], strict=True):
        if counts[b] > 1:
            digest = hashlib.sha256(f"{r}\x1f{o}".encode()).hexdigest()[:8]
            b = f"{b}_{digest}"
        out.append(b)
    return out


#: The three figures of a meta-analysis, in the order the report shows them.
FIGURE_KINDS = ("forest", "funnel", "leave_one_out")


def file_names(meta_analysis_id: str) -> dict[str, str]:
    """The file name of each of a meta-analysis' figures, by kind (:data:`FIGURE_KINDS`):
    ``ma_<id>_forest.svg``, ``ma_<id>_funnel.svg``, ``ma_<id>_leave_one_out.svg``."""
    return {kind: f"ma_{meta_analysis_id}_{kind}.svg" for kind in FIGURE_KINDS}


@dataclass
class Detail:
    """Every re-analysed meta-analysis in padded (meta-analyses x studies) arrays, with its fit, Egger's line and
    leave-one-out fits. Rows follow ``pooled``; columns follow ``study_effect_sizes`` (sorted by study_id)."""

    keys: pd.DataFrame  # outcome, review_id, measure, id: one row per meta-analysis, as pooled
    study_ids: np.ndarray  # object, meta-analyses x studies ("" where empty)
    padded: Padded  # effects and variances on the pooled scale
    ratio: np.ndarray  # per meta-analysis: pooled on the log scale
    correlation: np.ndarray  # per meta-analysis: pooled on Fisher's z
    fit: dict[str, np.ndarray]  # :func:`umbrella.reanalysis.model.fit` on the analysis scale
    egger: dict[str, np.ndarray]  # :func:`umbrella.reanalysis.bias_tests.egger_regression`
    loo_made: np.ndarray  # meta-analyses x studies: a fit without that study was made
    loo: dict[str, np.ndarray]  # each fit column, meta-analyses x studies, analysis scale
    mixed: np.ndarray  # per meta-analysis: mixed measures pooled as equivalent g

    @property
    def weights(self) -> np.ndarray:
        """Each study's share (%) of the model's weight, 1/(vᵢ + τ²) over their sum (τ² = 0 where NaN)."""
        tau2 = np.nan_to_num(self.fit["tau2"])
        w = np.where(self.padded.mask, 1 / (self.padded.v + tau2[:, None]), 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return 100 * w / w.sum(axis=1, keepdims=True)


def detail(pooled: pd.DataFrame, studies: pd.DataFrame, settings: MetaSettings) -> Detail:
    """Regroup ``study_effect_sizes`` into the meta-analyses of ``pooled`` (in its row order) and fit each one,
    its Egger line and its leave-one-out fits in one pass. Studies of a meta-analysis not in ``pooled`` are
    ignored."""
    keys = pooled[["outcome", "review_id", "measure"]].reset_index(drop=True).astype({"measure": object})
    mixed = (
        pooled["converted"].fillna("").astype(str).ne("").to_numpy()
        if "converted" in pooled
        else np.zeros(len(keys), bool)
    )
    keys["id"] = meta_analysis_ids(keys)
    index = {k: i for i, k in enumerate(zip(keys["outcome"], keys["review_id"], strict=True))}
    studies = studies.sort_values(["outcome", "review_id", "study_id"], kind="stable")
    codes = np.array([index.get(k, -1) for k in zip(studies["outcome"], studies["review_id"], strict=True)], int)
    studies, codes = studies[codes >= 0], codes[codes >= 0]
    ma_measure = keys["measure"].to_numpy(dtype=object)
    ratio = np.isin(ma_measure, list(RATIO_MEASURES))
    correlation = np.isin(ma_measure, list(CORRELATION_MEASURES))
    y, v = studies["yi"].to_numpy(dtype=float), studies["vi"].to_numpy(dtype=float)
    as_g = studies["measure"].isin(list(RATIO_MEASURES)).to_numpy() & ~ratio[codes]  # a ratio pooled as g
    y, v = np.where(as_g, y / LOGIT_SCALE, y), np.where(as_g, v / LOGIT_SCALE**2, v)
    padded, position = pad(codes, y, v, len(keys)) if len(codes) else (_empty(len(keys)), np.zeros(0, int))
    study_ids = np.full(padded.y.shape, "", dtype=object)
    study_ids[codes, position] = studies["study_id"].astype(str).to_numpy()
    made, loo = leave_one_out_fits(padded, settings)
    return Detail(
        keys=keys,
        study_ids=study_ids,
        padded=padded,
        ratio=ratio,
        correlation=correlation,
        fit=fit(padded, settings),
        egger=egger_regression(padded),
        loo_made=made,
        loo=loo,
        mixed=mixed,
    )


def _empty(n: int) -> Padded:
    return Padded(np.zeros((n, 1)), np.ones((n, 1)), np.zeros((n, 1), bool))


def natural(x: np.ndarray, ratio: np.ndarray, correlation: np.ndarray) -> np.ndarray:
    """Values on the analysis scale shown on the measure's natural scale (``ratio`` and ``correlation`` per row,
    broadcast): exp for ratios, tanh for correlations, as they are otherwise."""
    x = np.asarray(x, dtype=float)
    shape = (-1,) + (1,) * (x.ndim - 1)
    r, c = np.reshape(ratio, shape), np.reshape(correlation, shape)
    with np.errstate(over="ignore"):
        return np.where(r, np.exp(x), np.where(c, np.tanh(x), x))


def leave_one_out_table(d: Detail) -> pd.DataFrame:
    """One row per study left out of a meta-analysis of at least two studies (:data:`LEAVE_ONE_OUT_COLUMNS`):
    the fit of the others, estimate and CI on the natural scale, se and τ² on the analysis scale, sorted by
    outcome, review_id and study_id."""
    rows, cols = np.nonzero(d.loo_made)
    out = pd.DataFrame(
        {
            "outcome": d.keys["outcome"].to_numpy()[rows],
            "review_id": d.keys["review_id"].to_numpy()[rows],
            "study_id": d.study_ids[rows, cols],
            "measure": d.keys["measure"].to_numpy()[rows],
            "k": d.loo["k"][rows, cols].astype(int),
        }
    )
    for col in ("estimate", "se", "ci_lower", "ci_upper", "p_value", "tau2", "q", "q_p", "i2"):
        x = d.loo[col][rows, cols]
        out[col] = natural(x, d.ratio[rows], d.correlation[rows]) if col in NATURAL_COLUMNS else x
    out = out.sort_values(["outcome", "review_id", "study_id"], kind="stable").reset_index(drop=True)
    return out[LEAVE_ONE_OUT_COLUMNS]
