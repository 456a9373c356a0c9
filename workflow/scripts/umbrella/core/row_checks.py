"""The row checks that a sheet's schema names in ``x-sheet.checks``: conditions between the cells of a row
(a confidence interval in order, events within participants...) or between rows (raters who disagree without a
consensus row). Each check takes the typed table and returns its problems; :data:`ROW_CHECKS` maps the names
used in the schemas to them.
"""

from __future__ import annotations

import pandas as pd

from umbrella.core.errors import Problem
from umbrella.core.vocabulary import RATIO_MEASURES


def _row_problems(mask: pd.Series, table: pd.DataFrame, display: str, column: str, message) -> list[Problem]:
    out = []
    for row in table.index[mask.fillna(False).to_numpy(dtype=bool)]:
        value = table.at[row, column]
        out.append(
            Problem(
                display,
                row=int(row),
                column=column,
                value=None
                if value is None or pd.isna(value)
                else f"{value:g}"
                if isinstance(value, float)
                else str(value),
                message=message(table.loc[row]) if callable(message) else message,
            )
        )
    return out


def _fmt(x: object) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def check_ci_ordered(t: pd.DataFrame, display: str) -> list[Problem]:
    mask = t["ci_lower"] > t["ci_upper"]
    return _row_problems(
        mask, t, display, "ci_lower", lambda r: f"lower limit is above the upper limit ({_fmt(r.ci_upper)})"
    )


def check_estimate_in_ci(t: pd.DataFrame, display: str) -> list[Problem]:
    ordered = t["ci_lower"] <= t["ci_upper"]
    mask = ordered & ((t["estimate"] < t["ci_lower"]) | (t["estimate"] > t["ci_upper"]))
    return _row_problems(
        mask,
        t,
        display,
        "estimate",
        lambda r: f"lies outside its confidence interval [{_fmt(r.ci_lower)}, {_fmt(r.ci_upper)}]",
    )


def check_ratio_positive(t: pd.DataFrame, display: str) -> list[Problem]:
    ratio = t["measure"].isin(RATIO_MEASURES)
    out: list[Problem] = []
    for col in ("estimate", "ci_lower", "ci_upper"):
        mask = ratio & (t[col] <= 0)
        out += _row_problems(
            mask, t, display, col, lambda r: f"must be above 0 for the ratio measure {r.measure} (give ratios unlogged)"
        )
    return out


INPUT_SETS: dict[str, tuple[str, ...]] = {
    "estimate and se": ("estimate", "se"),
    "estimate and CI": ("estimate", "ci_lower", "ci_upper"),
    "2x2 counts": ("events_treat", "n_treat", "events_control", "n_control"),
    "means": ("mean_treat", "sd_treat", "n_treat", "mean_control", "sd_control", "n_control"),
}


def check_effect_inputs_complete(t: pd.DataFrame, display: str) -> list[Problem]:
    present = t[sorted({c for cols in INPUT_SETS.values() for c in cols})].notna()
    complete = pd.DataFrame({name: present[list(cols)].all(axis=1) for name, cols in INPUT_SETS.items()})
    missing = ~complete.any(axis=1)
    out = []
    for row in t.index[missing.to_numpy()]:
        # name the set closest to complete
        best = max(INPUT_SETS, key=lambda s: present.loc[row, list(INPUT_SETS[s])].mean())
        lacking = [c for c in INPUT_SETS[best] if not present.at[row, c]]
        out.append(
            Problem(
                display,
                row=int(row),
                column=lacking[0],
                message="no complete set of numbers: give estimate+se, estimate+ci_lower+ci_upper, the 2x2 counts "
                f"or the means; closest is {best}, which lacks {', '.join(lacking)}",
            )
        )
    return out


def check_events_within_n(t: pd.DataFrame, display: str) -> list[Problem]:
    out = []
    for arm in ("treat", "control"):
        mask = t[f"events_{arm}"] > t[f"n_{arm}"]
        out += _row_problems(
            mask, t, display, f"events_{arm}", lambda r, a=arm: f"more events than participants (n_{a} = {r[f'n_{a}']})"
        )
    return out


def check_nma_items(t: pd.DataFrame, display: str) -> list[Problem]:
    mask = t["answer"].eq("NMA") & ~t["item"].isin([11, 12, 15])
    return _row_problems(
        mask, t, display, "answer", "NMA (no meta-analysis conducted) applies only to items 11, 12 and 15"
    )


def check_raters_agree(t: pd.DataFrame, display: str) -> list[Problem]:
    """Several raters may answer an item; where they disagree, a ``consensus`` row must give the answer."""
    rater = t["rater"].fillna("").astype(str).str.strip().str.lower()
    keys = [t["review_id"], t["item"]]
    has_consensus = rater.eq("consensus").groupby(keys, dropna=True).transform("any").fillna(False)
    others = t[~has_consensus.astype(bool) & rater.ne("consensus") & t["answer"].notna()]
    if others.empty:
        return []
    n_answers = others.groupby(["review_id", "item"])["answer"].transform("nunique")
    out = []
    for (review, item), g in others[n_answers > 1].groupby(["review_id", "item"], sort=True):
        answers = zip(g.index, g["rater"], g["answer"], strict=True)
        given = "; ".join(f"{r or 'blank rater'}: {a} (row {row})" for row, r, a in answers)
        out.append(
            Problem(
                display,
                row=int(g.index[0]),
                column="answer",
                message=f"raters disagree on review {review}, item {int(item)} ({given}) and no row of rater "
                "`consensus` gives the agreed answer",
            )
        )
    return out


ROW_CHECKS = {
    "ci_ordered": check_ci_ordered,
    "estimate_in_ci": check_estimate_in_ci,
    "ratio_positive": check_ratio_positive,
    "effect_inputs_complete": check_effect_inputs_complete,
    "events_within_n": check_events_within_n,
    "nma_items": check_nma_items,
    "raters_agree": check_raters_agree,
}
