"""How the report prints numbers: one place for every count, estimate, percentage and p-value it shows.

The report is read by people, so its numbers follow typographic conventions: a minus sign (U+2212) rather than a
hyphen, thousands separators in counts (3,500), no negative zero, an en dash for a missing value, and p-values as
"< 0.001" or "1.2 × 10⁻⁶" rather than 9.4e-31. The tables under ``results/`` and the supplement's CSV and XLSX
files keep plain machine-readable numbers; only the report's text goes through these functions, each registered
as a Jinja2 filter by :func:`umbrella.report.html.render`.
"""

from __future__ import annotations

import math
import re
from typing import Any

MINUS = "\u2212"
NBSP = "\u00a0"  # keeps "97 %", "< 0.001" and "1.2 × 10⁻⁶" on one line in a narrow column
MISSING = "\u2013"  # en dash: a value that is not known
TIMES = "\u00d7"

#: How p-values are printed (config ``report.p_values``): ``threshold`` prints anything below 0.001 as
#: "< 0.001"; ``exact`` prints it as "1.2 × 10⁻⁶" (two significant digits).
P_STYLES = ("threshold", "exact")

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
# A hyphen-minus that signs a number: not preceded by a letter, digit or point ("2012-2022" keeps its hyphen).
_SIGN = re.compile(r"(?<![\w.])-(?=\.?\d)")


def missing_value(value: Any) -> bool:
    """Whether ``value`` is blank: None, NaN or pandas' NA."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and pd.NA; pd.NA raises in bool()
    except TypeError:
        return True


def minus(text: Any) -> str:
    """``text`` with every hyphen-minus that signs a number replaced by a minus sign ("-0.4 to -0.1" ->
    "−0.4 to −0.1"); hyphens inside words and ranges such as "2012-2022" stay."""
    return _SIGN.sub(MINUS, str(text))


def number(value: Any, decimals: int = 2, missing: str = MISSING) -> str:
    """A number with ``decimals`` decimals, thousands separators and a minus sign; a value that rounds to zero
    has no sign (never "−0.00"); blank as ``missing``; infinities as ∞."""
    if missing_value(value):
        return missing
    x = float(value)
    if math.isinf(x):
        return "\u221e" if x > 0 else MINUS + "\u221e"
    text = f"{x:,.{decimals}f}"
    if text.startswith("-") and float(text[1:].replace(",", "")) == 0:
        text = text[1:]
    return text.replace("-", MINUS)


def count(value: Any, missing: str = MISSING) -> str:
    """A count with thousands separators (3,500); a number that is not whole keeps two decimals; text as it is."""
    if missing_value(value):
        return missing
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    x = float(value)
    if math.isfinite(x) and x.is_integer():
        return number(x, 0)
    return number(x, 2)


def percent(value: Any, decimals: int = 0, missing: str = MISSING) -> str:
    """A percentage: the number with ``decimals`` decimals and " %" ("97 %", a no-break space before the sign)."""
    if missing_value(value):
        return missing
    return f"{number(value, decimals)}{NBSP}%"


def share(part: Any, whole: Any, missing: str = MISSING) -> str:
    """``part`` as a whole-number percentage of ``whole`` ("97 %"); ``missing`` when ``whole`` is 0 or blank."""
    if missing_value(part) or missing_value(whole) or not float(whole):
        return missing
    return percent(100 * float(part) / float(whole))


def power_of_ten(value: float, digits: int = 2) -> str:
    """A positive number in scientific notation for readers: "1.2 × 10⁻⁶" (``digits`` significant digits)."""
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    return f"{mantissa}{NBSP}{TIMES}{NBSP}10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def p_value(value: Any, style: str = "threshold", missing: str = MISSING) -> str:
    """A p-value as journals print it.

    From 0.01: two decimals ("0.04", "0.50"), except that a p below 0.05 never prints as "0.05" (0.045 to 0.05
    keep three decimals) and one above 0.99 prints as "> 0.99". From 0.001 to 0.01: three decimals ("0.002").
    Below 0.001: "< 0.001" in the ``threshold`` style, or two significant digits as a power of ten ("1.2 × 10⁻⁶")
    in the ``exact`` style; a p that underflowed to 0 is "< 10⁻³⁰⁰". Blank or NaN: ``missing``. The spaces are
    no-break spaces, so that a p-value never breaks over two lines.
    """
    if style not in P_STYLES:
        raise ValueError(f"p-value style {style!r}: expected one of {', '.join(P_STYLES)}")
    if missing_value(value):
        return missing
    p = float(value)
    if not 0 <= p <= 1:
        raise ValueError(f"p-value {p!r} is outside [0, 1]")
    if p > 0.99:
        return f">{NBSP}0.99"
    if p >= 0.01 or round(p, 3) >= 0.01:
        if 0.045 <= p < 0.05:
            return f"{p:.3f}"
        return f"{p:.2f}"
    if p >= 0.001:
        return f"{p:.3f}"
    if style == "threshold":
        return f"<{NBSP}0.001"
    if p == 0:
        return f"<{NBSP}10{'-300'.translate(_SUPERSCRIPT)}"
    return power_of_ten(p)


def p_style_words(style: str) -> str:
    """How the report prints p-values, in a sentence for its methods."""
    small = (
        "below 0.001 as < 0.001"
        if style == "threshold"
        else f"below 0.001 as a power of ten with two significant digits (e.g. 1.2 {TIMES} 10⁻⁶)"
    )
    return (
        "p-values are printed with two decimals from 0.01 (three between 0.045 and 0.05, and > 0.99 above 0.99), "
        f"with three decimals from 0.001, and {small}."
    )
