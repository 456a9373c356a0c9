"""Two extractors' copies of a simulated dataset, for double extraction: each copy is the dataset's sheets with
a fixed list of planted slips (:data:`SLIPS`), so that the comparison has known disagreements to find.

``python -m umbrella.simulate.extractors --data DIR --out DIR`` writes ``<out>/<extractor>/<sheet>.csv`` for
the two extractors and ``<out>/planted.csv``, the disagreements the comparison must find (sheet, key, column,
kind and each extractor's value). The dataset itself plays the reconciled set. The amstar2 sheet is not copied:
the simulated dataset already holds two raters' AMSTAR-2 answers and their consensus (agreement: Table S3c).
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

#: The extractors' names (invented initials).
EXTRACTORS = ("JS", "MK")
#: The sheets each extractor fills (see the module's docstring for amstar2).
COPIED = ("reviews", "effects", "studies", "study_effects", "implementation", "experiences")


@dataclass(frozen=True)
class Slip:
    """One planted slip: in ``extractor``'s copy of ``sheet``, the row whose ``match`` columns hold these values
    gets ``column`` set to ``value`` (``column`` None: the row is left out; ``match`` None: ``value`` is a row
    added, as a dict)."""

    extractor: str
    sheet: str
    match: dict | None
    column: str | None
    value: object
    key: str  # the row as the comparison names it


SLIPS: tuple[Slip, ...] = (
    Slip("MK", "reviews", {"review_id": "Sim004"}, "year", "+1", "review_id = Sim004"),
    Slip("JS", "reviews", {"review_id": "Sim012"}, "review_type", "sr_narrative", "review_id = Sim012"),
    Slip("MK", "reviews", {"review_id": "Sim020"}, "n_participants", "", "review_id = Sim020"),
    Slip("MK", "effects", {"effect_id": "E005"}, "k_studies", "+1", "effect_id = E005"),
    Slip("JS", "effects", {"effect_id": "E010"}, "timepoint", "12-month follow-up", "effect_id = E010"),
    Slip("MK", "studies", {"review_id": "Sim001", "study_id": "S00016"}, None, None,
         "review_id = Sim001; study_id = S00016; outcome = "),
    Slip("MK", "study_effects", {"outcome": "Clinical recovery", "review_id": "Sim007", "study_id": "S00039"},
         "n_treat", "+2", "outcome = Clinical recovery; review_id = Sim007; study_id = S00039"),
    Slip(
        "JS",
        "implementation",
        None,
        None,
        {"review_id": "Sim014", "cfir_domain": "inner_setting", "construct": "Culture",
         "factor": "Peer workers valued by the team", "role": "facilitator"},
        "review_id = Sim014; cfir_domain = inner_setting; construct = Culture; "
        "factor = Peer workers valued by the team; role = facilitator",
    ),
)  # fmt: skip
#: What the two copies differ in without disagreeing: a number written with a trailing zero, a note.
HARMLESS = (
    ("JS", "effects", {"effect_id": "E002"}, "estimate", "0.230"),
    ("MK", "reviews", {"review_id": "Sim001"}, "notes", "checked twice"),
)


def _rows(frame: pd.DataFrame, match: dict) -> pd.Index:
    hit = pd.Series(True, index=frame.index)
    for col, value in match.items():
        hit &= frame[col].eq(value)
    rows = frame.index[hit]
    if len(rows) != 1:
        raise ValueError(f"{len(rows)} rows match {match}: the slips fit the simulated dataset of 35 reviews, seed 1")
    return rows


def _set(frame: pd.DataFrame, rows: pd.Index, column: str, value: object) -> list[str]:
    old = frame.loc[rows[0], column]
    if isinstance(value, str) and value.startswith("+"):
        new = str(int(old) + int(value[1:]))
    else:
        new = str(value)
    frame.loc[rows, column] = new
    return [old, new]


def write_copies(data: str | Path, out: str | Path) -> pd.DataFrame:
    """Write each extractor's copy of ``data``'s sheets under ``out`` and the planted disagreements; return
    them (sheet, key, column, kind, one column per extractor)."""
    data, out = Path(data), Path(out)
    frames = {
        name: {s: pd.read_csv(data / f"{s}.csv", dtype=str, keep_default_na=False) for s in COPIED}
        for name in EXTRACTORS
    }
    planted = []
    for slip in SLIPS:
        frame = frames[slip.extractor][slip.sheet]
        other = [e for e in EXTRACTORS if e != slip.extractor]
        if slip.match is None:  # a row added
            frames[slip.extractor][slip.sheet] = pd.concat([frame, pd.DataFrame([slip.value])], ignore_index=True)
            values = {slip.extractor: "present", **dict.fromkeys(other, "absent")}
            planted.append({"sheet": slip.sheet, "key": slip.key, "column": "", "kind": "row", **values})
        elif slip.column is None:  # a row left out
            frames[slip.extractor][slip.sheet] = frame.drop(_rows(frame, slip.match))
            values = {slip.extractor: "absent", **dict.fromkeys(other, "present")}
            planted.append({"sheet": slip.sheet, "key": slip.key, "column": "", "kind": "row", **values})
        else:
            old, new = _set(frame, _rows(frame, slip.match), slip.column, slip.value)
            values = {slip.extractor: new, **dict.fromkeys(other, old)}
            planted.append({"sheet": slip.sheet, "key": slip.key, "column": slip.column, "kind": "value", **values})
    for extractor, sheet, match, column, value in HARMLESS:
        frame = frames[extractor][sheet]
        frame.loc[_rows(frame, match), column] = value
    for name, sheets in frames.items():
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        for sheet, frame in sheets.items():
            frame.fillna("").to_csv(
                folder / f"{sheet}.csv", index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL
            )
    table = pd.DataFrame(planted, columns=["sheet", "key", "column", "kind", *EXTRACTORS])
    table.to_csv(out / "planted.csv", index=False, lineterminator="\n")
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m umbrella.simulate.extractors",
        description="Write two extractors' copies of a simulated dataset with planted disagreements.",
    )
    parser.add_argument("--data", required=True, help="the simulated dataset (35 reviews, seed 1)")
    parser.add_argument("--out", required=True, help="output folder: <out>/<extractor>/<sheet>.csv, planted.csv")
    args = parser.parse_args(argv)
    planted = write_copies(args.data, args.out)
    print(f"wrote {len(EXTRACTORS)} copies to {args.out} with {len(planted)} planted disagreements")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
