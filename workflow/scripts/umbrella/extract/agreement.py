"""Double extraction: two or more extractors' copies of the sheets, compared cell by cell.

Each extractor fills the sheets on their own (Cochrane Handbook, chapter 5); :func:`compare_copies` lists
where their copies differ and how often they agree, and tells which differences a reconciled set settles.

**Sheets.** A sheet is compared when at least one copy has it; a copy without it has no rows of it.

**Rows.** Rows are matched on the sheet's comparison key: the schema's ``x-sheet.compare_key`` where it gives
one, else its ``x-sheet.key``. ``amstar2`` is matched on ``review_id`` and ``item`` (each extractor is a rater,
so ``rater`` is not part of it). Key values match case-insensitively and with runs of whitespace read as one
space, as the duplicate-key check reads them. Where a comparison key is on several rows of a copy (an
``amstar2`` copy holding several raters' answers, ``study_effects`` rows marked ``multiple_es``), the rows of
that key are matched on the sheet's whole ``x-sheet.key`` (adding ``rater``), and rows that share even that are
matched in turn, in the sheet's sort order (``x-sheet.sort``), then in the order of their compared values (so
the same rows in another order still match), then in the order of the sheet; the key shown then names the
added columns and the turn (``occurrence = 2``). A sheet without a key (``implementation``,
``experiences``) is matched on all its compared columns, as compared (case kept): a row is its own key, so
those sheets have row-level differences only, and their agreement is given for rows only. The wide
``citation_matrix`` is compared as its long table (``study_id``, ``review_id``, ``value``), whose rows are its 1
and NA cells: a 1 against a 0 or blank cell is a row difference, a 1 against NA a value difference.

**Columns.** The schema's columns, less the comparison key and the columns marked ``x-compare: false`` (the
free-text remarks ``reviews.source``, ``reviews.notes``, ``amstar2.rater``, ``amstar2.note``,
``effects.source``, ``effects.notes``), plus the extra (non-schema) columns present in every copy that has the
sheet. The other free-text columns (``reviews.title``, ``effects.verdict``, ``implementation.factor``,
``experiences.finding``, ...) are data taken from the review, so they are compared.

**Values.** Cells are compared as typed: numbers as numbers (``0.50`` = ``0.5``), a number rounded to 12
significant digits; text with runs of whitespace read as one space and the ends trimmed, case kept; a
vocabulary column as its canonical value (``partial yes`` = ``PY``). An extra column has no type, so it is
compared as text. A blank cell (empty, ``None``, NaN) is a value of its own. A cell is *compared* when its row is
in every copy and at least one copy fills it; a cell blank in every copy is not counted.

**Disagreements** (:attr:`Comparison.disagreements`), one row per difference:

- kind ``value``: a compared cell whose values differ (``column`` names it, each extractor's column holds its
  value, as the tidy CSV shows it: whole numbers without ``.0``, other numbers in their shortest form up to 12
  significant digits, a blank as empty text);
- kind ``row``: a key present in some copies only (``column`` empty, each extractor's column ``present`` or
  ``absent``).

``key`` reads ``review_id = Burke2019; item = 2``: the comparison key's columns and values as the first copy
(in the order given) that has the row writes them. With a reconciled set (``reconciled``, not
``reconciled_copy``), a ``value`` disagreement is ``reconciled`` when the reconciled set has the row (matched as
above; ``reconciled`` then holds its value there, which decides, even when blank) and ``unreconciled`` when it
does not; a ``row`` disagreement is always ``reconciled``, the reconciled set deciding whether the row is
``present`` or ``absent``. Without a reconciled set, or when the reconciled set is one extractor's own copy
(``reconciled_copy``), every disagreement is ``unreconciled`` and ``reconciled`` is empty. A row that only the
reconciled set has is no disagreement. Rows are sorted by sheet (in :data:`~umbrella.core.datasets.SHEETS`
order), by key (in the sheet's sort order, as the first copy that has the row writes it; ties by the key as
written), then by column (in schema order, extra columns after; a ``row`` disagreement first).

**Agreement** (:attr:`Comparison.agreement`), per sheet (in ``SHEETS`` order):

- one row per compared column (schema order, extra columns after): ``n_compared`` compared cells,
  ``n_agree`` of them equal in every copy, ``percent_agreement`` = 100 · n_agree / n_compared (blank when
  nothing is compared), ``n_disagreements`` = n_compared − n_agree; ``categorical`` when the column has a
  vocabulary (``enum`` or ``x-enum-from-config``; a ``;``-list such as ``research_questions`` is one category
  per combination), and then ``kappa`` over its compared cells, blank counted as a category of its own: Cohen's
  kappa (Cohen 1960) for two extractors, Fleiss' kappa (Fleiss 1971) for three or more; blank when undefined
  (expected agreement 1, e.g. every cell in one category);
- ``(rows)``: ``n_compared`` keys in any copy, ``n_agree`` keys in every copy, ``n_disagreements`` the
  ``row`` disagreements;
- ``(all cells)``: the sheet's compared cells pooled (no kappa).

A sheet without a key has the ``(rows)`` row only. The tables depend only on the copies, not on the order of
their rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import reduce

import numpy as np
import pandas as pd

from umbrella.core.datasets import SHEETS
from umbrella.core.sheet_schemas import load_schema

#: The ``column`` of the agreement row on rows (keys present in every copy).
ROWS = "(rows)"
#: The ``column`` of the agreement row pooling a sheet's compared cells.
ALL_CELLS = "(all cells)"
KINDS = ("value", "row")
STATUSES = ("reconciled", "unreconciled")
AGREEMENT_COLUMNS = [
    "sheet",
    "column",
    "categorical",
    "n_compared",
    "n_agree",
    "percent_agreement",
    "kappa",
    "n_disagreements",
]
#: Column names that an extractor cannot have (they are the disagreement table's own).
RESERVED = ("sheet", "key", "column", "kind", "reconciled", "status")
SIGNIFICANT_DIGITS = 12

_RECONCILED = "\x00reconciled"  # the reconciled set's name among the copies (never an extractor's name)


@dataclass(frozen=True)
class Comparison:
    """The comparison of the extractors' copies (see the module's description for every column)."""

    disagreements: pd.DataFrame
    agreement: pd.DataFrame
    extractors: tuple[str, ...]

    @property
    def n_unreconciled(self) -> int:
        """How many disagreements the reconciled set does not settle."""
        return int(self.disagreements["status"].eq("unreconciled").sum())


# --------------------------------------------------------------------------------------------------------------
# Kappa


def _codes(values: Sequence) -> np.ndarray:
    """Category codes 0..k−1 of labels, a blank (None, NaN, NA) a category of its own."""
    codes, uniques = pd.factorize(pd.Series(list(values), dtype=object), use_na_sentinel=True)
    return np.where(codes < 0, len(uniques), codes)


def cohens_kappa(a: Sequence, b: Sequence) -> float | None:
    """Cohen's kappa of two raters' category labels, item by item (Cohen 1960):
    kappa = (p_o − p_e) / (1 − p_e), p_o the proportion of items on which they agree, p_e = Σ_k p_ak · p_bk the
    agreement expected from each rater's own proportions. A blank label is a category of its own. ``None`` when
    undefined: no items, or an expected agreement of 1 (both raters put every item in one same category)."""
    a, b = list(a), list(b)
    if len(a) != len(b):
        raise ValueError(f"the raters label different numbers of items ({len(a)} and {len(b)})")
    if not a:
        return None
    return _cohen_from_codes(_codes(a + b).reshape(2, len(a)).T)


def _cohen_from_codes(codes: np.ndarray) -> float | None:
    """Cohen's kappa of an items × 2 array of category codes 0..k−1."""
    n = codes.shape[0]
    k = int(codes.max()) + 1
    count_a = np.bincount(codes[:, 0], minlength=k)
    count_b = np.bincount(codes[:, 1], minlength=k)
    expected = int((count_a * count_b).sum())  # p_e · n², exactly
    if expected == n * n:
        return None
    observed = int((codes[:, 0] == codes[:, 1]).sum())  # p_o · n
    return (observed * n - expected) / (n * n - expected)


def fleiss_kappa(ratings: Sequence[Sequence]) -> float | None:
    """Fleiss' kappa of items rated by the same number m ≥ 2 of raters (Fleiss 1971): ``ratings`` has one row per
    item, holding each rater's category label. With n_ij the raters putting item i in category j, N items,
    P_i = (Σ_j n_ij² − m) / (m(m − 1)), P̄ the mean of P_i, p_j = Σ_i n_ij / (N m), P̄_e = Σ_j p_j²:
    kappa = (P̄ − P̄_e) / (1 − P̄_e). A blank label is a category of its own. ``None`` when undefined: no items, or
    P̄_e = 1 (every rating in one category)."""
    rows = [list(r) for r in ratings]
    if not rows:
        return None
    m = len(rows[0])
    if m < 2 or any(len(r) != m for r in rows):
        raise ValueError("every item needs the same number of raters, at least two")
    return _fleiss_from_codes(_codes([v for r in rows for v in r]).reshape(len(rows), m))


def _fleiss_from_codes(codes: np.ndarray) -> float | None:
    """Fleiss' kappa of an items × raters array of category codes 0..k−1."""
    n_items, m = codes.shape
    if n_items == 0:
        return None
    k = int(codes.max()) + 1
    counts = np.zeros((n_items, k), dtype=np.int64)
    np.add.at(counts, (np.repeat(np.arange(n_items), m), codes.ravel()), 1)
    totals = counts.sum(axis=0)
    total = n_items * m
    if int((totals * totals).sum()) == total * total:  # P̄_e = 1
        return None
    p_bar = float(((counts * counts).sum() - n_items * m) / (n_items * m * (m - 1)))
    p_e = float((totals * totals).sum() / (total * total))
    return (p_bar - p_e) / (1 - p_e)


def _kappa(labels: np.ndarray) -> float | None:
    """Cohen's kappa for two columns of labels (text, "" for blank), Fleiss' kappa for three or more."""
    if labels.shape[0] == 0:
        return None
    _, codes = np.unique(labels.astype(str), return_inverse=True)
    codes = codes.reshape(labels.shape)
    return _cohen_from_codes(codes) if labels.shape[1] == 2 else _fleiss_from_codes(codes)


# --------------------------------------------------------------------------------------------------------------
# What is compared


def comparison_key(sheet: str) -> list[str]:
    """The columns on which a sheet's rows are matched: ``x-sheet.compare_key``, else ``x-sheet.key`` (empty
    for a sheet without a key)."""
    meta = load_schema(sheet).get("x-sheet", {})
    return list(meta.get("compare_key", meta.get("key", [])))


def categorical(sheet: str, column: str) -> bool:
    """Whether a column has a vocabulary (``enum`` or ``x-enum-from-config``)."""
    spec = load_schema(sheet)["properties"].get(column, {})
    return "enum" in spec or "x-enum-from-config" in spec


def compared_columns(sheet: str, tables: Sequence[pd.DataFrame]) -> list[str]:
    """The columns compared in a sheet: the schema's columns less the comparison key and those marked
    ``x-compare: false``, then the extra columns present in every one of ``tables``, in the first's order."""
    props = load_schema(sheet)["properties"]
    key = set(comparison_key(sheet))
    own = [c for c, spec in props.items() if c not in key and spec.get("x-compare", True)]
    if not tables:
        return own
    extras = [c for c in tables[0].columns if c not in props and all(c in t.columns for t in tables[1:])]
    return own + extras


# --------------------------------------------------------------------------------------------------------------
# Cells as compared and shown


def _format_number(value: float) -> str:
    return f"{value + 0.0:.{SIGNIFICANT_DIGITS}g}"  # + 0.0: -0.0 is 0


def _cell_text(value: object) -> str | None:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return None if value != value else _format_number(float(value))
    text = " ".join(str(value).split())
    return text or None


def cell_texts(values: pd.Series) -> pd.Series:
    """Each cell as compared and shown: a whole number as its digits, another number in its shortest form up to
    12 significant digits, text with runs of whitespace as one space and the ends trimmed, a blank as ``None``.
    Formatted once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = np.asarray(uniques, dtype=object)
    texts = np.empty(len(uniques) + 1, dtype=object)
    is_text = np.fromiter((type(v) is str for v in uniques), dtype=bool, count=len(uniques))
    if is_text.any():
        text = pd.Series(uniques[is_text], dtype=object)
        irregular = text.str.contains(r"\s\s|^\s|\s$|[^\S ]", regex=True).to_numpy(dtype=bool)
        text = np.array(text.to_numpy(dtype=object), dtype=object)
        text[irregular] = [" ".join(t.split()) for t in text[irregular]]
        texts[: len(uniques)][is_text] = np.where(text == "", None, text)
    others = np.flatnonzero(~is_text)
    texts[others] = [_cell_text(v) for v in uniques[others]]
    texts[-1] = None
    return pd.Series(texts[codes], index=values.index, dtype=object)


# --------------------------------------------------------------------------------------------------------------
# Matching rows


def _copy_frame(
    table: pd.DataFrame, key: list[str], full_key: list[str], columns: list[str], sort: list[str]
) -> pd.DataFrame:
    """One copy of a sheet as the comparison needs it: the text of its key, full key and compared columns
    (``k:``, ``c:``; a sheet without a key has its compared columns as key) and its sort columns as typed
    (``s:``)."""
    table = table.reset_index(drop=True)  # a long citation matrix repeats its spreadsheet rows
    out = {"_order": np.arange(len(table))}
    for col in dict.fromkeys(key + full_key):
        out["k:" + col] = cell_texts(table[col]) if col in table else None
    for col in columns:
        out["c:" + col] = cell_texts(table[col]) if col in table else None
        if not key:  # the row is its own key, as compared (case kept)
            out["k:" + col] = out["c:" + col]
    for i, col in enumerate(sort):
        out[f"s:{i}"] = table[col] if col in table else None
    return pd.DataFrame(out, index=table.index)


def _joint_codes(frames: Sequence[pd.DataFrame], columns: Sequence[str], fold: bool) -> list[np.ndarray]:
    """A whole number per row of each frame, the same for rows (of any frame) whose ``k:`` columns are the same
    (in any case with ``fold``)."""
    sizes = [len(f) for f in frames]
    code = np.zeros(sum(sizes), dtype=np.int64)
    for col in columns:
        values = pd.concat([f["k:" + col] for f in frames], ignore_index=True).astype(object)
        codes, uniques = pd.factorize(values.where(values.notna(), ""))
        if fold:  # the same key in another case: one code
            codes = pd.factorize(pd.Series(uniques, dtype=object).str.lower())[0][codes]
        code, _ = pd.factorize(code * (int(codes.max(initial=0)) + 1) + codes)
    return np.split(code.astype(np.int64), np.cumsum(sizes)[:-1])


def _match_ids(frames: dict[str, pd.DataFrame], key: list[str], full_key: list[str], columns: list[str]) -> None:
    """Give each row of each copy its match ``id``: its comparison key; where that repeats within a copy of an
    extractor, with the rest of the full key (``uses_full``); and its turn (``occ``) among the rows that share
    even that, in the sheet's sort order. ``turns`` marks the rows of a key matched in turn."""
    names = list(frames)
    own = [n != _RECONCILED for n in names]
    base = _joint_codes(list(frames.values()), key or columns, fold=bool(key))
    repeated_codes = np.unique(
        np.concatenate(
            [c[pd.Series(c).duplicated(keep=False).to_numpy()] for c, o in zip(base, own, strict=True) if o] or [[]]
        )
    ).astype(np.int64)
    extra = [c for c in full_key if c not in key]
    if extra and len(repeated_codes):
        full = _joint_codes(list(frames.values()), extra, fold=True)
        stride = max((int(f.max()) for f in full if len(f)), default=0) + 2
        uses = [np.isin(b, repeated_codes) for b in base]
        joint = np.concatenate([b * stride + np.where(u, f + 1, 0) for b, f, u in zip(base, full, uses, strict=True)])
        codes, _ = pd.factorize(joint)
        base = np.split(codes.astype(np.int64), np.cumsum([len(b) for b in base])[:-1])
    else:
        uses = [np.zeros(len(b), dtype=bool) for b in base]
    for name, code, use in zip(names, base, uses, strict=True):
        frame = frames[name]
        frame["code"] = code
        frame["uses_full"] = use
        if pd.Series(code).duplicated().any():
            by = [c for c in frame.columns if c.startswith(("s:", "c:"))] + ["_order"]
            order = frame.sort_values(by, kind="stable", na_position="last")
            frame["occ"] = order.groupby("code", sort=False).cumcount().reindex(frame.index).to_numpy()
        else:
            frame["occ"] = 0
    in_turns = np.unique(
        np.concatenate([f["code"].to_numpy()[f["occ"].to_numpy() > 0] for n, f in frames.items() if n != _RECONCILED])
    )
    stride = max(int(f["occ"].max()) if len(f) else 0 for f in frames.values()) + 1
    for frame in frames.values():
        frame["id"] = frame["code"] * stride + frame["occ"]
        frame["turns"] = np.isin(frame["code"].to_numpy(), in_turns)


def _key_text(rows: pd.DataFrame, key: list[str], full_key: list[str]) -> pd.Series:
    """``review_id = Burke2019; item = 2`` for each row of one copy (its comparison key; the other columns of
    the full key where the row is matched on them; its turn where the key's rows are matched in turn)."""
    text = reduce(lambda a, b: a + "; " + b, [c + " = " + rows["k:" + c].fillna("").astype(str) for c in key])
    for col in (c for c in full_key if c not in key):
        text = text.where(~rows["uses_full"].astype(bool), text + "; " + col + " = " + rows["k:" + col].fillna(""))
    occ = "; occurrence = " + (rows["occ"].astype("int64") + 1).astype(str)
    return text.where(~rows["turns"].astype(bool), text + occ)


# --------------------------------------------------------------------------------------------------------------
# The comparison


def compare_copies(
    copies: Mapping[str, Mapping[str, pd.DataFrame]],
    reconciled: Mapping[str, pd.DataFrame] | None = None,
    reconciled_copy: str | None = None,
) -> Comparison:
    """Compare the extractors' copies of the sheets (extractor -> sheet -> typed table, as ``Sheet.table`` of
    :func:`umbrella.core.sheets.load_files`), and tell which disagreements the reconciled set (sheet -> typed
    table) settles. The module's description gives every rule and column."""
    extractors = tuple(copies)
    if len(extractors) < 2:
        raise ValueError(f"double extraction needs at least two extractors' copies; got {len(extractors)}")
    clash = [e for e in extractors if not isinstance(e, str) or e in RESERVED or e == _RECONCILED or not e]
    if clash:
        raise ValueError(f"an extractor cannot be named {', '.join(map(repr, clash))}")
    if reconciled_copy is not None and reconciled_copy not in extractors:
        raise ValueError(f"the reconciled copy {reconciled_copy!r} is not one of the extractors {list(extractors)}")
    unknown = sorted({s for c in copies.values() for s in c} - set(SHEETS))
    if unknown:
        raise ValueError(f"not sheet names: {', '.join(unknown)}")
    settled = reconciled if reconciled_copy is None else None
    disagreements = []
    agreement = []
    for sheet in SHEETS:
        tables = {e: copies[e][sheet] for e in extractors if sheet in copies[e]}
        if not tables:
            continue
        found, rows = _compare_sheet(sheet, extractors, tables, settled)
        disagreements.append(found)
        agreement += rows
    head = ["sheet", "key", "column", "kind", *extractors, "reconciled", "status"]
    found = pd.concat(disagreements, ignore_index=True) if disagreements else pd.DataFrame(columns=head)
    table = pd.DataFrame(agreement, columns=AGREEMENT_COLUMNS)
    for col in ("n_compared", "n_agree", "n_disagreements"):
        table[col] = table[col].astype("int64")
    for col in ("percent_agreement", "kappa"):
        table[col] = table[col].astype("float64")
    table["categorical"] = table["categorical"].astype(bool)
    return Comparison(found[head].astype(object).reset_index(drop=True), table, extractors)


def _compare_sheet(
    sheet: str,
    extractors: tuple[str, ...],
    tables: dict[str, pd.DataFrame],
    reconciled: Mapping[str, pd.DataFrame] | None,
) -> tuple[pd.DataFrame, list[tuple]]:
    schema = load_schema(sheet)
    meta = schema.get("x-sheet", {})
    key = comparison_key(sheet)
    full_key = list(meta.get("key", [])) if key else []
    columns = compared_columns(sheet, list(tables.values()))
    empty = next(iter(tables.values())).iloc[0:0]
    tables = {e: tables.get(e, empty) for e in extractors}  # a copy without the sheet has no rows of it
    sort = list(meta.get("sort", []))
    frames = {e: _copy_frame(t, key, full_key, columns, sort) for e, t in tables.items()}
    if reconciled is not None:
        frames[_RECONCILED] = _copy_frame(reconciled.get(sheet, empty), key, full_key, columns, sort)
    _match_ids(frames, key, full_key, columns)
    for frame in frames.values():
        frame["_present"] = True

    merged = pd.concat({e: f.set_index("id") for e, f in frames.items()}, axis=1, sort=False).sort_index()
    present = pd.DataFrame({e: merged[(e, "_present")].eq(True) for e in extractors})
    if reconciled is not None:  # a row of the reconciled set alone is no disagreement
        merged, present = merged[present.any(axis=1)], present[present.any(axis=1)]
    in_all = present.all(axis=1).to_numpy()
    source = pd.Series(present.to_numpy().argmax(axis=1), index=merged.index)  # the first copy having the row

    def first(col: str) -> pd.Series:
        return reduce(lambda a, b: a.combine_first(b), [merged[(e, col)] for e in extractors])

    sort_frame = pd.DataFrame({f"s{i}": first(f"s:{i}").to_numpy() for i in range(len(sort))})
    for col in dict.fromkeys((key or columns) + full_key):  # ties: by the key as written, whatever the row order
        sort_frame["k:" + col] = first("k:" + col).to_numpy()
    sort_frame["id"] = merged.index.to_numpy()
    order = sort_frame.sort_values(list(sort_frame.columns), kind="stable", na_position="last").index.to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    rank = pd.Series(rank, index=merged.index)

    def key_text(ids: pd.Index) -> pd.Series:
        out = pd.Series("", index=ids, dtype=object)
        for j, e in enumerate(extractors):
            mine = ids[source.loc[ids].to_numpy() == j]
            if len(mine):
                out.loc[mine] = _key_text(merged.loc[mine, e], key or columns, full_key)
        return out

    has_reconciled = reconciled is not None
    rec_present = merged[(_RECONCILED, "_present")].eq(True) if has_reconciled else None

    found = []
    rows: list[tuple] = []
    n_cells = n_cells_agree = 0
    both = merged.loc[in_all]
    for position, col in enumerate(columns):
        values = both[[(e, "c:" + col) for e in extractors]].to_numpy(dtype=object)
        filled = pd.notna(values)
        texts = np.where(filled, values, "")
        compared = filled.any(axis=1)
        agree = (texts == texts[:, :1]).all(axis=1)
        n_compared = int(compared.sum())
        n_agree = int((compared & agree).sum())
        n_cells += n_compared
        n_cells_agree += n_agree
        is_cat = categorical(sheet, col)
        kappa = _kappa(texts[compared]) if is_cat else None
        if key:
            rows.append(_agreement_row(sheet, col, is_cat, n_compared, n_agree, kappa))
        differ = compared & ~agree
        if not differ.any():
            continue
        ids = both.index[differ]
        out = pd.DataFrame({e: texts[differ, j] for j, e in enumerate(extractors)}, index=ids)
        out.insert(0, "kind", "value")
        out.insert(0, "column", col)
        out.insert(0, "key", key_text(ids))
        out.insert(0, "sheet", sheet)
        if has_reconciled:
            settled = rec_present.loc[ids]
            value = merged.loc[ids, (_RECONCILED, "c:" + col)].fillna("")
            out["reconciled"] = value.where(settled, "")
            out["status"] = np.where(settled, "reconciled", "unreconciled")
        else:
            out["reconciled"] = ""
            out["status"] = "unreconciled"
        out["_rank"] = rank.loc[ids].to_numpy()
        out["_col"] = position
        found.append(out)

    partial = ~in_all
    n_keys = len(merged)
    rows.append(_agreement_row(sheet, ROWS, False, n_keys, int(in_all.sum()), None))
    if key:
        rows.append(_agreement_row(sheet, ALL_CELLS, False, n_cells, n_cells_agree, None))
    if partial.any():
        ids = merged.index[partial]
        out = pd.DataFrame({e: np.where(present.loc[partial, e], "present", "absent") for e in extractors}, index=ids)
        out.insert(0, "kind", "row")
        out.insert(0, "column", "")
        out.insert(0, "key", key_text(ids))
        out.insert(0, "sheet", sheet)
        if has_reconciled:
            out["reconciled"] = np.where(rec_present.loc[ids], "present", "absent")
            out["status"] = "reconciled"
        else:
            out["reconciled"] = ""
            out["status"] = "unreconciled"
        out["_rank"] = rank.loc[ids].to_numpy()
        out["_col"] = -1
        found.append(out)
    if not found:
        return pd.DataFrame(columns=["sheet", "key", "column", "kind", *extractors, "reconciled", "status"]), rows
    table = pd.concat(found).sort_values(["_rank", "_col"], kind="stable")
    return table.drop(columns=["_rank", "_col"]).reset_index(drop=True), rows


def _agreement_row(sheet: str, column: str, is_cat: bool, n_compared: int, n_agree: int, kappa: float | None) -> tuple:
    percent = 100.0 * n_agree / n_compared if n_compared else np.nan
    return (
        sheet,
        column,
        is_cat,
        n_compared,
        n_agree,
        percent,
        np.nan if kappa is None else kappa,
        n_compared - n_agree,
    )
