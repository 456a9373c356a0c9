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
    "events and person-time": ("events_treat", "time_treat", "events_control", "time_control"),
    "change scores": (
        "mean_change_treat", "sd_change_treat", "n_treat", "mean_change_control", "sd_change_control", "n_control",
    ),
    "pre/post values": (
        "mean_pre_treat", "sd_pre_treat", "mean_treat", "sd_treat", "n_treat",
        "mean_pre_control", "sd_pre_control", "mean_control", "sd_control", "n_control",
    ),
    "estimate and n_sample": ("estimate", "n_sample"),
}  # fmt: skip
#: The sets of numbers each measure of the study_effects sheet can be computed from (metaumbrella 1.1's inputs).
MEASURE_INPUTS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("SMD", "G", "MD"), ("estimate and se", "estimate and CI", "means")),
    **dict.fromkeys(("SMC", "MC"), ("estimate and se", "estimate and CI", "change scores", "pre/post values")),
    **dict.fromkeys(("OR", "RR", "RD", "logOR", "logRR"), ("estimate and se", "estimate and CI", "2x2 counts")),
    **dict.fromkeys(("HR", "logHR"), ("estimate and se", "estimate and CI")),
    **dict.fromkeys(("IRR", "logIRR"), ("estimate and se", "estimate and CI", "events and person-time")),
    "R": ("estimate and n_sample", "estimate and CI"),
    "Z": ("estimate and n_sample", "estimate and se", "estimate and CI"),
}
SET_WORDS = {
    "estimate and se": "estimate+se",
    "estimate and CI": "estimate+ci_lower+ci_upper",
    "2x2 counts": "the 2x2 counts",
    "means": "the means",
    "events and person-time": "the events and person-time (events_*, time_*)",
    "change scores": "the change scores (mean_change_*, sd_change_*, n_*)",
    "pre/post values": "the pre/post values (mean_pre_*, sd_pre_*, mean_*, sd_*, n_*; correlation pre_post_cor or "
    "reanalysis.pre_post_cor)",
    "estimate and n_sample": "estimate+n_sample",
}


def _words(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _column(t: pd.DataFrame, col: str) -> pd.Series:
    return t[col] if col in t else pd.Series(None, index=t.index, dtype=object)


def check_effect_inputs_complete(t: pd.DataFrame, display: str) -> list[Problem]:
    """Each row has a complete set of numbers its measure allows (:data:`MEASURE_INPUTS`), a correlation lies
    in (−1, 1) and has no se, and person-time comes with the events of its arm and only for IRR."""
    columns = sorted({c for cols in INPUT_SETS.values() for c in cols})
    present = pd.DataFrame({c: _column(t, c).notna() for c in columns}, index=t.index)
    complete = pd.DataFrame({name: present[list(cols)].all(axis=1) for name, cols in INPUT_SETS.items()})
    measure = _column(t, "measure")
    ok = complete.any(axis=1)
    for name, sets in MEASURE_INPUTS.items():
        ok = ok.where(measure.ne(name), complete[list(sets)].any(axis=1))
    out = []
    for row in t.index[~ok.to_numpy(dtype=bool)]:
        allowed = list(MEASURE_INPUTS.get(measure.at[row], INPUT_SETS))
        # name the set closest to complete
        best = max(allowed, key=lambda s: present.loc[row, list(INPUT_SETS[s])].mean())
        lacking = [c for c in INPUT_SETS[best] if not present.at[row, c]]
        which = f" for {measure.at[row]}" if measure.at[row] in MEASURE_INPUTS else ""
        out.append(
            Problem(
                display,
                row=int(row),
                column=lacking[0],
                message=f"no complete set of numbers{which}: give {_words([SET_WORDS[s] for s in allowed])}; "
                f"closest is {best}, which lacks {', '.join(lacking)}",
            )
        )
    return out + _correlation_problems(t, display) + _person_time_problems(t, display)


def _correlation_problems(t: pd.DataFrame, display: str) -> list[Problem]:
    measure = _column(t, "measure")
    r = measure.eq("R")
    out = _row_problems(
        r & _column(t, "se").notna(), t, display, "se",
        "R takes no se (the SE of r is not on Fisher's z): give n_sample or the CI, or give Fisher's z as measure "
        "Z with its se",
    )  # fmt: skip
    for col in ("estimate", "ci_lower", "ci_upper"):
        if col in t:
            values = pd.to_numeric(t[col], errors="coerce")
            out += _row_problems(r & (values.abs() >= 1), t, display, col, "a correlation r must lie between −1 and 1")
    return out


def _person_time_problems(t: pd.DataFrame, display: str) -> list[Problem]:
    measure = _column(t, "measure")
    irr = measure.isin(["IRR", "logIRR"])
    out: list[Problem] = []
    for arm in ("treat", "control"):
        time = _column(t, f"time_{arm}").notna()
        out += _row_problems(
            time & ~irr & measure.notna(), t, display, f"time_{arm}",
            lambda r: f"person-time is used only for IRR (an IRR from events and person-time), not {r.measure}",
        )  # fmt: skip
        out += _row_problems(
            time & irr & _column(t, f"events_{arm}").isna(), t, display, f"events_{arm}",
            f"person-time (time_{arm}) needs the events of the same arm: give events_{arm} (an IRR from events and "
            "person-time needs events_treat, time_treat, events_control and time_control)",
        )  # fmt: skip
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
