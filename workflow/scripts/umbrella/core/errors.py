"""Input problems and the error that carries all of them at once."""

from __future__ import annotations

from dataclasses import dataclass, field

#: A message lists this many problems, then says how many more there are.
MAX_PROBLEMS = 50
#: A value is shown cut to this many characters, a problem's message to :data:`MAX_MESSAGE`.
MAX_VALUE = 80
MAX_MESSAGE = 1000


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in the input: where it is (file, spreadsheet row, column) and what is wrong.

    ``row`` is the spreadsheet row number (the header is row 1, the first data row is row 2); ``None`` for a
    problem with the whole file or a whole column. ``value`` is the offending cell as written.
    """

    file: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    message: str = ""
    order: int = field(default=0, compare=True)
    column_word: str = field(default="column", compare=False)

    def location(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"{self.column_word} {self.column}")
        return ", ".join(parts)

    def describe(self) -> str:
        value = "" if self.value is None else f"{shorten(self.value, MAX_VALUE)!r}: "
        return f"{shorten(self.location(), MAX_MESSAGE)}: {value}{shorten(self.message, MAX_MESSAGE)}"


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the cut marked with how many characters were left out."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


class InputError(Exception):
    """Bad input: one or more problems, reported together, so that a reviewer can fix them all in one pass."""

    def __init__(self, problems: list[Problem], heading: str | None = None, closing: str | None = None):
        self.problems = sorted(problems, key=_sort_key)
        self.heading = heading
        self.closing = closing
        super().__init__(self.format())

    def format(self) -> str:
        n = len(self.problems)
        heading = self.heading or "The extraction sheets have problems"
        rows = any(p.row is not None for p in self.problems)
        note = " (rows are numbered as in a spreadsheet: the header is row 1)" if rows else ""
        lines = [f"{heading}: {n:,} problem{'s' if n != 1 else ''}{note}."]
        lines += [f"  - {p.describe()}" for p in self.problems[:MAX_PROBLEMS]]
        if n > MAX_PROBLEMS:
            lines.append(f"  - and {n - MAX_PROBLEMS:,} more")
        if self.closing:
            lines.append(self.closing)
        elif rows:
            lines.append("Nothing was written. Fix every cell listed above and run again.")
        else:
            lines.append("Nothing was written. Fix every problem listed above and run again.")
        return "\n".join(lines)


def _sort_key(p: Problem) -> tuple:
    return (p.order, p.file, -1 if p.row is None else p.row, p.column or "", p.message)
