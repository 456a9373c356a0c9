"""Three figures per re-analysed meta-analysis: a forest plot of its studies, a funnel plot with Egger's line and
its leave-one-out estimates, drawn from :class:`umbrella.reanalysis.detail.Detail`.

Every figure keeps the data's direction (no sign is flipped) and its measure's own scale: ratios on a log axis
labelled as ratios, correlations as r (the funnel plot, whose standard errors are on Fisher's z, stays on z),
differences as they are. Categories are told apart by shape, line style or text as well as colour, so the figures
read in greyscale. Files: :func:`umbrella.reanalysis.detail.file_names`, SVG only (at thousands of meta-analyses a
PNG would triple the drawing time), with text kept as text (:data:`LIVE_TEXT`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
from matplotlib.transforms import blended_transform_factory

from umbrella.core.plots import OKABE_ITO, figure, save_svg
from umbrella.core.vocabulary import Z975
from umbrella.reanalysis.detail import Detail, file_names
from umbrella.reanalysis.settings import MetaSettings

#: Each measure in words, for the x axis.
MEASURE_WORDS = {
    "SMD": "Standardised mean difference (Hedges' g)",
    "G": "Hedges' g",
    "MD": "Mean difference",
    "SMC": "Standardised mean change",
    "MC": "Mean change",
    "OR": "Odds ratio",
    "RR": "Risk ratio",
    "HR": "Hazard ratio",
    "IRR": "Incidence rate ratio",
    "RD": "Risk difference",
    "R": "Correlation (r)",
}

ROW_INCH = 0.2
WIDTH = 7.5
# x positions (figure fraction) of the text columns around the plot panel.
COL_LABEL = 0.01
PANEL = (0.3, 0.37)
COL_WEIGHT = 0.76
COL_EFFECT = 0.785
PI_GREY = "#AAAAAA"
BAND_GREY = "#E3E3E3"
CHANGED = OKABE_ITO["vermillion"]


@dataclass(frozen=True)
class FigureSet:
    """What the three figures of one meta-analysis need, analysis scale throughout (log for ratios, Fisher's z
    for correlations); small enough to send to a worker process."""

    id: str
    outcome: str
    review: str
    measure: str
    mixed: bool
    scale: str  # "ratio", "r" or "linear"
    model: str  # the model in words
    study_ids: tuple[str, ...]
    y: np.ndarray
    se: np.ndarray
    weights: np.ndarray  # % of the model's weight
    fit: Mapping[str, float]  # estimate, ci_lower, ci_upper, pi_lower, pi_upper, tau2, i2, q, q_p, p_value, k
    egger: Mapping[str, float]  # intercept, slope, t, p
    loo: Mapping[str, np.ndarray]  # estimate, ci_lower, ci_upper, i2 per study left out (NaN: none)

    @property
    def k(self) -> int:
        return len(self.study_ids)

    @property
    def null(self) -> float:
        return 0.0

    def show(self, x: np.ndarray | float) -> np.ndarray:
        """Analysis-scale values on the axis of the forest and leave-one-out plots."""
        x = np.asarray(x, dtype=float)
        with np.errstate(over="ignore"):
            return np.exp(x) if self.scale == "ratio" else np.tanh(x) if self.scale == "r" else x

    def axis_label(self, funnel: bool = False) -> str:
        if self.mixed:
            words = "Equivalent Hedges' g (ratios via ln OR\u00b7\u221a3/\u03c0)"
        elif self.scale == "r" and funnel:
            words = "Fisher's z of the correlation"
        else:
            words = MEASURE_WORDS.get(self.measure, self.measure)
        return f"{words} (log scale)" if self.scale == "ratio" else words


def model_words(settings: MetaSettings) -> str:
    """The model of the re-analysis in a few words, for the figures' subtitles."""
    model = "Common-effect model" if settings.tau2 == "FE" else f"Random-effects model ({settings.tau2} \u03c4\u00b2)"
    return model + ("; Hartung\u2013Knapp CI" if settings.ci == "hksj" else "")


def figure_sets(d: Detail, labels: Mapping[str, str], settings: MetaSettings) -> list[FigureSet]:
    """One :class:`FigureSet` per meta-analysis of ``d``, in its order; ``labels``: review_id -> label."""
    weights = d.weights
    model = model_words(settings)
    out = []
    for i, row in enumerate(d.keys.itertuples(index=False)):
        cols = np.flatnonzero(d.padded.mask[i])
        scale = "ratio" if d.ratio[i] else "r" if d.correlation[i] else "linear"
        out.append(
            FigureSet(
                id=row.id,
                outcome=str(row.outcome),
                review=labels.get(row.review_id, str(row.review_id)),
                measure=str(row.measure),
                mixed=bool(d.mixed[i]),
                scale=scale,
                model=model,
                study_ids=tuple(d.study_ids[i, cols]),
                y=d.padded.y[i, cols].copy(),
                se=np.sqrt(d.padded.v[i, cols]),
                weights=weights[i, cols].copy(),
                fit={key: float(d.fit[key][i]) for key in d.fit},
                egger={key: float(d.egger[key][i]) for key in d.egger},
                loo={key: d.loo[key][i, cols].copy() for key in ("estimate", "ci_lower", "ci_upper", "i2")},
            )
        )
    return out


# --------------------------------------------------------------------------------------------------------------
# Shared pieces


def _num(x: float) -> str:
    """A number as the figures print it: two decimals (none from 100), typographic minus, en dash if missing."""
    if not math.isfinite(x):
        return "\u2013"
    text = f"{x:,.0f}" if abs(x) >= 100 else f"{x:.2f}"
    return text.replace("-", "\u2212")


def _interval(fs: FigureSet, est: float, lo: float, hi: float) -> str:
    e, a, b = (float(fs.show(v)) for v in (est, lo, hi))
    return f"{_num(e)} [{_num(a)}, {_num(b)}]"


def p_words(p: float) -> str:
    """``p = 0.04``, ``p = 0.004``, ``p < 0.001``; ``p not computed`` when missing."""
    if not math.isfinite(p):
        return "p not computed"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


def _limits(points: list[float], reach: list[float]) -> tuple[float, float]:
    """x range (analysis scale) covering ``points`` and 0, widened to ``reach`` (CIs) by at most half its span on
    each side and padded; CIs beyond end in an arrow."""
    core = [0.0] + [v for v in points if math.isfinite(v)]
    lo, hi = min(core), max(core)
    span = max(hi - lo, 0.2)
    far = [v for v in reach if math.isfinite(v)]
    lo = min([lo, *[max(v, lo - span / 2) for v in far]])
    hi = max([hi, *[min(v, hi + span / 2) for v in far]])
    pad = 0.05 * (hi - lo)
    return lo - pad, hi + pad


def _ratio_ticks(lo: float, hi: float) -> list[float]:
    """Ticks of a ratio axis from exp(lo) to exp(hi): the sparsest of 1-2-5 style series giving three or more."""
    a, b = math.exp(lo), math.exp(hi)
    series = [(1,), (1, 2, 5), (1, 1.5, 2, 3, 5, 7), (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9)]
    ticks: list[float] = []
    for subs in series:
        ticks = sorted({round(m * 10.0**e, 6) for e in range(-4, 5) for m in subs if a <= m * 10.0**e <= b})
        if len(ticks) >= 3:
            break
    return ticks


def _set_x(ax, fs: FigureSet, lo: float, hi: float, funnel: bool = False) -> None:
    """The x axis of a plot: log scale with ratio ticks for ratios, r for correlations (not in a funnel plot)."""
    if fs.scale == "ratio":
        ax.set_xscale("log")
        ax.set_xlim(math.exp(lo), math.exp(hi))
        ax.xaxis.set_major_locator(FixedLocator(_ratio_ticks(lo, hi)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda t, _: f"{t:g}"))
        ax.xaxis.set_minor_locator(NullLocator())
    elif fs.scale == "r" and not funnel:
        ax.set_xlim(math.tanh(lo), math.tanh(hi))
    else:
        ax.set_xlim(lo, hi)
    ax.set_xlabel(fs.axis_label(funnel), fontsize=8)
    ax.tick_params(axis="x", labelsize=7.5)


def _segment(ax, fs: FigureSet, y: float, lo: float, hi: float, xlim: tuple[float, float], **style) -> None:
    """A horizontal interval from ``lo`` to ``hi`` (analysis scale) clipped to ``xlim``, with an arrowhead where
    it was clipped."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return
    a, b = max(lo, xlim[0]), min(hi, xlim[1])
    if a >= b:
        return
    ax.plot(fs.show([a, b]), [y, y], solid_capstyle="butt", **style)
    colour, z = style.get("color", "black"), style.get("zorder", 2)
    if lo < xlim[0]:
        ax.plot(fs.show([a]), [y], marker="<", markersize=4, color=colour, zorder=z, clip_on=False)
    if hi > xlim[1]:
        ax.plot(fs.show([b]), [y], marker=">", markersize=4, color=colour, zorder=z, clip_on=False)


def _row_axes(n_rows: float, top_rows: float, bottom_rows: float) -> tuple[Figure, object]:
    """A figure whose plot panel has one data unit per row (rows going down), ``top_rows`` above row 0 for a
    title and headings and ``bottom_rows`` under the last row for the summary lines."""
    y_top, y_bottom = -top_rows, n_rows - 0.5 + bottom_rows
    panel_h = (y_bottom - y_top) * ROW_INCH
    top_in, bottom_in = 0.2, 0.75
    height = top_in + panel_h + bottom_in
    fig, _ = figure(WIDTH, height)
    fig.clf()
    ax = fig.add_axes((PANEL[0], bottom_in / height, PANEL[1], panel_h / height))
    ax.set_ylim(y_bottom, y_top)
    for side in ("left", "top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_yticks([])
    return fig, ax


def _put(ax, x: float, y: float, s: str, **kw) -> None:
    """Text at figure fraction ``x`` and data row ``y``, centred vertically."""
    transform = blended_transform_factory(ax.figure.transFigure, ax.transData)
    ax.text(x, y, s, transform=transform, va="center", clip_on=False, parse_math=False, **kw)


def _title(ax, fs: FigureSet, y: float, what: str) -> None:
    _put(ax, COL_LABEL, y, f"{fs.outcome} \u2014 {fs.review}", ha="left", fontsize=10, fontweight="bold")
    _put(ax, COL_LABEL, y + 1.1, f"{what}; {fs.model}", ha="left", fontsize=7.5, color="#444444")


def _cut(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _diamond(ax, fs: FigureSet, y: float, xlim: tuple[float, float]) -> None:
    """The pooled estimate as a diamond spanning its CI (kept inside ``xlim``) on row ``y``."""
    f = fs.fit
    if not math.isfinite(f["estimate"]):
        return
    a, b, e = (max(min(v, xlim[1]), xlim[0]) for v in (f["ci_lower"], f["ci_upper"], f["estimate"]))
    xs = fs.show([a, e, b, e])
    ax.add_patch(
        Polygon(np.c_[xs, [y, y - 0.35, y, y + 0.35]], closed=True, facecolor="black", edgecolor="black", zorder=5)
    )


# --------------------------------------------------------------------------------------------------------------
# Forest plot


def heterogeneity_words(fs: FigureSet) -> str:
    """``Heterogeneity: τ² = 0.038; I² = 57 %; Q = 67.30 (df = 29), p < 0.001``; a note for a single study."""
    f = fs.fit
    if fs.k < 2:
        return "Heterogeneity: not estimable from one study"
    return (
        f"Heterogeneity: \u03c4\u00b2 = {f['tau2']:.3f}; I\u00b2 = {f['i2']:.0f} %; Q = {f['q']:.2f} "
        f"(df = {fs.k - 1}), {p_words(f['q_p'])}"
    ).replace("-", "\u2212")


def forest_figure(fs: FigureSet) -> Figure:
    """The studies of one meta-analysis: each study's effect and 95 % CI (square sized by its weight), its weight
    and effect in text; the pooled estimate as a diamond spanning its CI, the prediction interval as a grey bar,
    and the heterogeneity (τ², I², Q) under them."""
    k, f = fs.k, fs.fit
    summary_y, pi_y, het_y = k + 0.4, k + 1.4, k + 2.4
    fig, ax = _row_axes(k, 3.4, 3.6)
    _title(ax, fs, -3.0, f"k = {k} stud{'ies' if k != 1 else 'y'}")
    for x, s, ha in [
        (COL_LABEL, "Study", "left"),
        (COL_WEIGHT, "Weight", "right"),
        (COL_EFFECT, "Effect [95% CI]", "left"),
    ]:
        _put(ax, x, -1.0, s, ha=ha, fontsize=7.5, fontweight="bold")
    lo_ci, hi_ci = fs.y - Z975 * fs.se, fs.y + Z975 * fs.se
    xlim = _limits([*fs.y, f["ci_lower"], f["ci_upper"], f["pi_lower"], f["pi_upper"]], [*lo_ci, *hi_ci])
    _set_x(ax, fs, *xlim)
    rows = np.arange(k, dtype=float)
    null = float(fs.show(fs.null))
    ax.vlines(null, -0.5, summary_y + 0.5, colors="black", linewidth=0.6, zorder=1)
    if math.isfinite(f["estimate"]):
        ax.vlines(fs.show(f["estimate"]), -0.5, summary_y, colors="#777777", linewidth=0.6, linestyles=":", zorder=1)
    for yi, a, b in zip(rows, lo_ci, hi_ci, strict=True):
        _segment(ax, fs, yi, a, b, xlim, color="black", linewidth=0.9, zorder=3)
    inside = np.clip(fs.y, *xlim)
    ax.scatter(
        fs.show(inside), rows, s=8 + 2.2 * np.nan_to_num(fs.weights), marker="s", c="black", zorder=4, clip_on=False
    )
    for yi, sid, w, e, a, b in zip(rows, fs.study_ids, fs.weights, fs.y, lo_ci, hi_ci, strict=True):
        _put(ax, COL_LABEL + 0.01, yi, _cut(sid), ha="left", fontsize=7.5)
        _put(ax, COL_WEIGHT, yi, f"{w:.1f} %", ha="right", fontsize=7.5)
        _put(ax, COL_EFFECT, yi, _interval(fs, e, a, b), ha="left", fontsize=7.5)
    ax.hlines(summary_y - 0.7, *ax.get_xlim(), colors="black", linewidth=0.4)
    name = "Common effect" if fs.model.startswith("Common") else "Random effects"
    _put(ax, COL_LABEL, summary_y, name, ha="left", fontsize=7.5, fontweight="bold")
    _put(ax, COL_WEIGHT, summary_y, "100 %", ha="right", fontsize=7.5, fontweight="bold")
    _put(ax, COL_EFFECT, summary_y, _interval(fs, f["estimate"], f["ci_lower"], f["ci_upper"]), ha="left",
         fontsize=7.5, fontweight="bold")  # fmt: skip
    _diamond(ax, fs, summary_y, xlim)
    if math.isfinite(f["pi_lower"]):
        _put(ax, COL_LABEL, pi_y, "Prediction interval", ha="left", fontsize=7.5)
        _put(ax, COL_EFFECT, pi_y, f"[{_num(float(fs.show(f['pi_lower'])))}, {_num(float(fs.show(f['pi_upper'])))}]",
             ha="left", fontsize=7.5)  # fmt: skip
        _segment(ax, fs, pi_y, f["pi_lower"], f["pi_upper"], xlim, color=PI_GREY, linewidth=3.2, zorder=2)
    _put(ax, COL_LABEL, het_y, heterogeneity_words(fs), ha="left", fontsize=7.5)
    ax.legend(
        handles=[
            Line2D([], [], linestyle="", marker="s", markersize=5, color="black", label="Study (size \u221d weight)"),
            Line2D([], [], color="black", linewidth=0.9, label="95% CI"),
            Patch(facecolor="black", label="Pooled estimate and 95% CI"),
            Line2D([], [], color=PI_GREY, linewidth=3.2, label="95% prediction interval"),
        ],
        loc="upper center", bbox_to_anchor=(0.5, -0.55 / max(1.0, (k + 6.6) * ROW_INCH)), ncol=2, frameon=False,
        fontsize=7,
    )  # fmt: skip
    return fig


# --------------------------------------------------------------------------------------------------------------
# Funnel plot


def egger_line(fs: FigureSet, se_max: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Egger's regression line in funnel coordinates: effect = intercept + slope·SE (analysis scale) at SE 0 and
    ``se_max``; None when the test is not computed (k < 3)."""
    a, b = fs.egger["intercept"], fs.egger["slope"]
    if fs.k < 3 or not (math.isfinite(a) and math.isfinite(b)):
        return None
    se = np.array([0.0, se_max])
    return a + b * se, se


def funnel_figure(fs: FigureSet) -> Figure:
    """Each study's effect against its standard error (0 at the top), the pooled estimate with its pseudo 95 %
    limits (estimate ± 1.96·SE) and Egger's regression line (the weighted regression of the effect on its SE
    that Egger's test uses), with the test's t and p."""
    fig, ax = figure(5.6, 4.4)
    mu = fs.fit["estimate"]
    se_max = float(np.max(fs.se)) * 1.08 if fs.k else 1.0
    se_grid = np.array([0.0, se_max])
    forward = (lambda x: np.exp(x)) if fs.scale == "ratio" else (lambda x: np.asarray(x, dtype=float))
    left, right = mu - Z975 * se_grid, mu + Z975 * se_grid
    ax.fill_betweenx(se_grid, forward(left), forward(right), color="#F0F0F0", zorder=0, linewidth=0)
    ax.plot(forward(left), se_grid, color="#555555", linestyle="--", linewidth=0.8, zorder=1)
    ax.plot(forward(right), se_grid, color="#555555", linestyle="--", linewidth=0.8, zorder=1)
    ax.axvline(float(forward(mu)), color="black", linewidth=0.9, zorder=1)
    ax.axvline(float(forward(0.0)), color="#777777", linewidth=0.6, linestyle=":", zorder=1)
    ax.scatter(forward(fs.y), fs.se, s=20, facecolors="white", edgecolors="black", linewidths=0.8, zorder=3)
    line = egger_line(fs, se_max)
    if line is not None:
        x, se = line
        (drawn,) = ax.plot(forward(x), se, color=OKABE_ITO["vermillion"], linewidth=1.4, zorder=2)
        drawn.set_gid("egger_line")
        egger_label = f"Egger's regression line (t = {fs.egger['t']:.2f}, {p_words(fs.egger['p'])})".replace(
            "-", "\u2212"
        )
    else:
        egger_label = "Egger's test not computed (fewer than 3 studies)"
    xlim = _limits([*fs.y, left[-1], right[-1], mu], [])
    _set_x(ax, fs, *xlim, funnel=True)
    ax.set_ylim(se_max, 0.0)
    of = {"ratio": " of the log ratio", "r": " of Fisher's z"}.get(fs.scale, "")
    ax.set_ylabel(f"Standard error{of}", fontsize=8)
    ax.tick_params(axis="y", labelsize=7.5)
    ax.set_title(f"{fs.outcome} \u2014 {fs.review}\nFunnel plot, k = {fs.k}", loc="left", fontsize=9, parse_math=False)
    ax.legend(
        handles=[
            Line2D([], [], linestyle="", marker="o", markersize=5, markerfacecolor="white", markeredgecolor="black",
                   label="Study"),
            Line2D([], [], color="black", linewidth=0.9, label="Pooled estimate"),
            Line2D([], [], color="#555555", linestyle="--", linewidth=0.8, label="Pseudo 95% limits"),
            Line2D([], [], color=OKABE_ITO["vermillion"] if line is not None else "white", linewidth=1.4,
                   label=egger_label),
        ],
        loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False, fontsize=7,
    )  # fmt: skip
    return fig


# --------------------------------------------------------------------------------------------------------------
# Leave-one-out plot


def _significant(lo: float, hi: float) -> bool:
    return bool(lo > 0 or hi < 0)


def leave_one_out_figure(fs: FigureSet) -> Figure:
    """The pooled estimate and 95 % CI with each study left out in turn, against the estimate of all studies
    (line) and its CI (band); a result whose CI now excludes the null when the full one does not, or the other
    way round, is drawn as an open diamond in another colour."""
    k, f, loo = fs.k, fs.fit, fs.loo
    fig, ax = _row_axes(max(k, 1), 3.4, 1.9)
    what = f"the meta-analysis without each of its {k} studies" if k > 1 else "a single study"
    _title(ax, fs, -3.0, f"Leave-one-out: {what}")
    for x, s, ha in [(COL_LABEL, "Study left out", "left"), (COL_WEIGHT, "I\u00b2", "right"),
                     (COL_EFFECT, "Estimate [95% CI]", "left")]:  # fmt: skip
        _put(ax, x, -1.0, s, ha=ha, fontsize=7.5, fontweight="bold")
    made = np.isfinite(loo["estimate"])
    if not made.any():
        _set_x(ax, fs, *_limits([f["estimate"], f["ci_lower"], f["ci_upper"]], []))
        _put(ax, COL_LABEL, 0.0, "A single study: nothing to leave out", ha="left", fontsize=7.5, style="italic")
        return fig
    xlim = _limits([*loo["estimate"][made], f["estimate"], f["ci_lower"], f["ci_upper"]],
                   [*loo["ci_lower"][made], *loo["ci_upper"][made]])  # fmt: skip
    _set_x(ax, fs, *xlim)
    bottom = k - 0.5
    if math.isfinite(f["ci_lower"]):
        band = fs.show([max(f["ci_lower"], xlim[0]), min(f["ci_upper"], xlim[1])])
        ax.fill_betweenx([-0.5, bottom], band[0], band[1], color=BAND_GREY, zorder=0, linewidth=0)
        ax.vlines(fs.show(f["estimate"]), -0.5, bottom, colors="black", linewidth=0.8, linestyles="--", zorder=1)
    ax.vlines(fs.show(fs.null), -0.5, bottom, colors="black", linewidth=0.6, zorder=1)
    full = _significant(f["ci_lower"], f["ci_upper"])
    changed = np.array([_significant(a, b) != full for a, b in zip(loo["ci_lower"], loo["ci_upper"], strict=True)])
    for yi in range(k):
        if not made[yi]:
            continue
        colour = CHANGED if changed[yi] else "black"
        _segment(ax, fs, yi, loo["ci_lower"][yi], loo["ci_upper"][yi], xlim, color=colour, linewidth=0.9, zorder=3)
        x = fs.show(min(max(loo["estimate"][yi], xlim[0]), xlim[1]))
        if changed[yi]:
            ax.scatter([x], [yi], s=30, marker="D", facecolors="white", edgecolors=CHANGED, linewidths=1.0, zorder=4)
        else:
            ax.scatter([x], [yi], s=22, marker="s", c="black", zorder=4)
        _put(ax, COL_LABEL + 0.01, yi, _cut(fs.study_ids[yi]), ha="left", fontsize=7.5)
        _put(ax, COL_WEIGHT, yi, f"{loo['i2'][yi]:.0f} %" if math.isfinite(loo["i2"][yi]) else "\u2013", ha="right",
             fontsize=7.5)  # fmt: skip
        text = _interval(fs, loo["estimate"][yi], loo["ci_lower"][yi], loo["ci_upper"][yi])
        _put(ax, COL_EFFECT, yi, text, ha="left", fontsize=7.5, color=colour)
    ax.hlines(k - 0.2, *ax.get_xlim(), colors="black", linewidth=0.4)
    _diamond(ax, fs, k + 0.5, xlim)
    _put(ax, COL_LABEL, k + 0.5, "All studies", ha="left", fontsize=7.5, fontweight="bold")
    _put(ax, COL_WEIGHT, k + 0.5, f"{f['i2']:.0f} %" if math.isfinite(f["i2"]) else "\u2013", ha="right",
         fontsize=7.5, fontweight="bold")  # fmt: skip
    _put(ax, COL_EFFECT, k + 0.5, _interval(fs, f["estimate"], f["ci_lower"], f["ci_upper"]), ha="left", fontsize=7.5,
         fontweight="bold")  # fmt: skip
    handles = [
        Line2D([], [], linestyle="", marker="s", markersize=5, color="black", label="Estimate without the study"),
        Line2D([], [], color="black", linestyle="--", linewidth=0.8, label="Estimate of all studies"),
        Patch(facecolor=BAND_GREY, label="95% CI of all studies (also the diamond)"),
    ]
    if changed[made].any():
        handles.append(
            Line2D([], [], linestyle="", marker="D", markersize=5, markerfacecolor="white", markeredgecolor=CHANGED,
                   label="CI crosses the null differently")
        )  # fmt: skip
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.55 / max(1.0, (k + 5.3) * ROW_INCH)),
              ncol=2, frameon=False, fontsize=7)  # fmt: skip
    return fig


# --------------------------------------------------------------------------------------------------------------
# Files

DRAW = {"forest": forest_figure, "funnel": funnel_figure, "leave_one_out": leave_one_out_figure}
#: These figures keep their text as text (DejaVu Sans, then the viewer's sans-serif, which is narrower): drawn by
#: the hundreds and embedded in the report, they are a quarter of the size they have with every glyph as a path.
LIVE_TEXT = {"svg.fonttype": "none", "font.family": ["DejaVu Sans", "sans-serif"]}


def _save_set(task: tuple[FigureSet, Path]) -> None:
    import matplotlib

    fs, folder = task
    with matplotlib.rc_context(LIVE_TEXT):
        for kind, name in file_names(fs.id).items():
            save_svg(DRAW[kind](fs), folder / name, png=False)


def write_detail_figures(sets: list[FigureSet], folder: Path, workers: int = 1) -> list[Path]:
    """Write the three figures of every meta-analysis into ``folder`` (created) as SVG, ``workers`` processes at
    once (each figure is its own file, so the bytes do not depend on the order of drawing); returns the paths,
    meta-analysis by meta-analysis."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tasks = [(fs, folder) for fs in sets]
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            _save_set(task)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(min(workers, len(tasks)), mp_context=multiprocessing.get_context("fork")) as pool:
            list(pool.map(_save_set, tasks, chunksize=max(1, len(tasks) // (8 * workers))))
    return [folder / name for fs in sets for name in file_names(fs.id).values()]
