"""One way to write every number a person reads: points, values, arrays, sizes, shares.

Reports, the terminal, the CSV files and the checks' feedback all format numbers here, so
that a total reads ``12.67`` everywhere (not 12.6667 in one file and 0.666667 in another),
a value reads ``0.3333`` (not sympy's ``0.333300000000000``) and an array reads
``[0, 0.494, 0.506]`` (not numpy's ``[0.   , 0.494, 0.506]``).

The rules:

* **points** (scores, totals, maxima): at most two decimals, no trailing zeros: ``2``,
  ``1.5``, ``12.67``, ``0.25``.
* **values** (what an answer gave, what was expected): ``digits`` significant digits
  (4 by default), no trailing zeros, no exponent between 1e-4 and 1e6 (``2.32e-16``
  beyond); integers stay integers. :func:`distinct` adds digits until two values that
  differ also read differently.
* **arrays**: their values as above, comma-separated, in brackets, long ones cut.
* **memory**: binary units, at most one decimal: ``2 GiB``, ``1.5 MiB``, ``300 bytes``.
* **shares**: whole percent: ``67%``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Number
from typing import Any

#: significant digits of a value when nothing else is asked
DIGITS = 4
#: arrays longer than this show their first and last EDGE items only
ARRAY_THRESHOLD = 20
EDGE = 3


def points(x: float) -> str:
    """Points as people write them: ``2``, ``1.5``, ``12.67`` (never ``2.0`` or ``12.6667``)."""
    r = round(float(x), 2)
    if r == 0:
        return "0"  # not "-0"
    return str(int(r)) if r == int(r) else f"{r:.2f}".rstrip("0")


def value(x: Any, digits: int = DIGITS) -> str:
    """A real number with ``digits`` significant digits: ``0.3333``, ``1.626``, ``2.32e-16``."""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x)
    try:
        f = float(x)
    except (TypeError, ValueError, OverflowError):
        return str(x)
    if math.isnan(f):
        return "nan"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    if f == 0:
        return "0"
    magnitude = abs(f)
    if 1e-4 <= magnitude < 1e6:
        decimals = max(digits - 1 - math.floor(math.log10(magnitude)), 0)
        text = f"{f:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        # rounding can carry into a new digit (999.96 -> "1000.0"): still fine as text
        return "0" if text in ("-0", "") else text
    mantissa, exponent = f"{f:.{max(digits - 1, 0)}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def distinct(a: Any, b: Any, digits: int = DIGITS) -> tuple[str, str]:
    """``a`` and ``b`` with as many digits as it takes to tell them apart (up to 15).

    ``distinct(0.19661, 0.19664)`` is ``("0.19661", "0.19664")``, where ``value`` would
    write ``0.1966`` twice and a student would read "expected 0.1966, yours 0.1966".
    """
    try:
        differ = float(a) != float(b)
    except (TypeError, ValueError, OverflowError):
        differ = False
    n = digits
    while differ and n < 15 and value(a, n) == value(b, n):
        n += 1
    return value(a, n), value(b, n)


def array(a: Any, digits: int = DIGITS) -> str:
    """An array, list or tuple of numbers: ``[0, 0.494, 0.506]``; nested ones row by row."""
    items = _as_list(a)
    if items is None:
        return value(a, digits)
    if len(items) > ARRAY_THRESHOLD:
        shown = [*items[:EDGE], ..., *items[-EDGE:]]
    else:
        shown = list(items)
    parts = ["…" if v is ... else array(v, digits) for v in shown]
    return "[" + ", ".join(parts) + "]"


def _as_list(a: Any) -> list[Any] | None:
    tolist = getattr(a, "tolist", None)
    if callable(tolist) and getattr(a, "ndim", None):
        result = tolist()
        return list(result) if isinstance(result, list) else None
    if isinstance(a, (list, tuple)) and not isinstance(a, str):
        return list(a)
    return None


def number(x: Any, digits: int = DIGITS) -> str:
    """Whatever a number-like thing is: a value, or an array of them."""
    if _as_list(x) is not None:
        return array(x, digits)
    if isinstance(x, Number) or hasattr(x, "__float__"):
        return value(x, digits)
    return str(x)


_UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB")


def memory(nbytes: float) -> str:
    """A memory or file size: ``2 GiB``, ``1.5 MiB``, ``300 bytes``."""
    size = float(nbytes)
    unit = 0
    while abs(size) >= 1024 and unit < len(_UNITS) - 1:
        size /= 1024
        unit += 1
    if unit == 0:
        n = int(size)
        return f"{n} byte" + ("" if n == 1 else "s")
    text = f"{size:.1f}".rstrip("0").rstrip(".")
    return f"{text} {_UNITS[unit]}"


def megabytes(mb: float) -> str:
    """A limit given in MiB (``Limits.memory_mb``) written as :func:`memory` writes it."""
    return memory(float(mb) * 1024 * 1024)


def percent(share: float) -> str:
    """A share of 1 as whole percent: ``0.666`` is ``67%``."""
    if not math.isfinite(share):
        return "–"
    return f"{round(share * 100)}%"


def seconds(s: float) -> str:
    """A duration: ``0.8 s``, ``12 s``, ``2 min 5 s``."""
    if s < 10:
        return f"{value(s, 2)} s"
    if s < 60:
        return f"{round(s)} s"
    minutes, rest = divmod(round(s), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def values(xs: Sequence[Any], digits: int = DIGITS) -> str:
    """Several values separated by commas, each as :func:`number` writes it."""
    return ", ".join(number(x, digits) for x in xs)


__all__ = [
    "array",
    "distinct",
    "megabytes",
    "memory",
    "number",
    "percent",
    "points",
    "seconds",
    "value",
    "values",
]
