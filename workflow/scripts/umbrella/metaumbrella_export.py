"""Write a review's ``study_effects`` sheet in metaumbrella's layout, for a re-run in R.

    python -m umbrella.metaumbrella_export --data data/raw/myreview --out metaumbrella.csv

``--data`` is the analysis' data (a folder of sheets or one .xlsx workbook, as ``data:`` in the config); every
sheet is checked first. The CSV has metaumbrella's columns (see :mod:`umbrella.core.metaumbrella`), missing
values as NA, and is read in R with ``metaumbrella::umbrella(read.csv("metaumbrella.csv"))``. What metaumbrella
will read differently (another CI level, shared control groups, RD) is listed on stderr.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m umbrella.metaumbrella_export",
        description="Write the study_effects sheet in metaumbrella's layout (CSV), for a re-run in R.",
    )
    parser.add_argument("--data", required=True, help="the folder of sheets or the .xlsx workbook (as `data:`)")
    parser.add_argument("--out", required=True, help="the CSV to write")
    args = parser.parse_args(argv)

    from umbrella.core.errors import InputError
    from umbrella.core.metaumbrella import write_metaumbrella
    from umbrella.core.sheets import load_dataset
    from umbrella.extract.reviews import tidy

    try:
        sheets = load_dataset(args.data)
    except InputError as exc:
        sys.stderr.write(exc.format() + "\n")
        return 1
    if "study_effects" not in sheets:
        sys.stderr.write(f"{args.data} has no study_effects sheet: there is no study-level data to write.\n")
        return 1
    frame = write_metaumbrella(tidy(sheets["study_effects"]), args.out)
    print(f"Wrote {len(frame)} rows in metaumbrella's layout to {args.out}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
