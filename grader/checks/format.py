"""How values read in feedback: short, and never two different numbers printed alike.

Numbers follow the one rule every report uses (grader.reports.numbers): ``0.3333``, not
``0.333300000000000``; ``[0, 0.494, 0.506]``, not numpy's spacing.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import sympy

from grader.reports import numbers
from grader.reports.numbers import DIGITS

__all__ = ["fmt", "fmt_pair", "fmt_number"]

MAX_ITEMS = 12
MAX_CHARS = 300


def fmt_number(value: Any, digits: int = 6) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return _int_text(int(value))
    if isinstance(value, Fraction):
        return (
            f"{value.numerator}/{value.denominator}"
            if value.denominator != 1
            else str(value.numerator)
        )
    try:
        f = float(value)
    except (TypeError, ValueError):
        return _cut(str(value))
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "∞" if f > 0 else "−∞"
    if f.is_integer() and abs(f) < 1e15:
        return str(int(f))
    text = f"{f:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}·10^{int(exponent)}"
    return text


def fmt(value: Any, digits: int = DIGITS) -> str:
    """A short, readable form of a number, array, tuple or expression."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return fmt_number(value.item(), digits)
        return _cut(_array(value, digits))
    if isinstance(value, (list, tuple)):
        inner = ", ".join(fmt(v, digits) for v in value[:MAX_ITEMS])
        more = ", …" if len(value) > MAX_ITEMS else ""
        return f"({inner}{more})" if isinstance(value, tuple) else f"[{inner}{more}]"
    if isinstance(value, sympy.Basic):
        if isinstance(value, sympy.Integer):
            return _int_text(int(value))
        try:
            return _cut(sympy.sstr(value))
        except ValueError:  # Python will not print an integer of more than 4300 digits
            return "an expression with numbers too long to print"
    if isinstance(value, (int, float, Fraction, np.number, mpmath.mpf)):
        return fmt_number(value, digits)
    return _cut(str(value))


def _array(a: np.ndarray, digits: int) -> str:
    return numbers.array(a, digits)


def fmt_pair(a: Any, b: Any) -> tuple[str, str]:
    """Two values with enough digits that they print differently when they differ."""
    for digits in (DIGITS, 6, 9, 12, 15, 17):
        x, y = fmt(a, digits), fmt(b, digits)
        if x != y:
            return x, y
    return fmt(a, 17), fmt(b, 17)


def _int_text(n: int) -> str:
    if n.bit_length() <= 3 * MAX_CHARS:
        return str(n)
    digits = int(n.bit_length() * 0.30103) + 1
    return f"{'−' if n < 0 else ''}a whole number of about {digits} digits"


def _cut(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS] + "…"
