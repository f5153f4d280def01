"""Comparing one answer with one expected value: numbers, arrays, tuples, integers, exact values.

The expected value comes from the reference (trusted); the answer is what the sandbox decoded
(plain data, never a live object of the hand-in). The comparison reads the answer into the
shape of the expected value, says in words what does not fit ("should have shape (3,), but it
has shape (3, 1)"), and where the values differ ("entry [1, 0]", "item 2 (var)").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import sympy

from grader.calc import Tolerance, values_equal
from grader.checks.answers import WrongType, as_array, as_exact, as_float, describe_type
from grader.checks.format import fmt, fmt_pair

__all__ = ["UNDECIDED", "Comparison", "compare", "read_like", "same"]

UNDECIDED = "The judge could not decide whether this exact value equals the expected one."


@dataclass(frozen=True)
class Comparison:
    ok: bool
    #: the answer read into the expected value's shape (None when it could not be read)
    value: Any = None
    #: why it could not be read or compared ("should be a number, but it is a str")
    note: str | None = None
    where: str | None = None
    expected_text: str = ""
    given_text: str | None = None
    #: two exact values the judge could neither prove equal nor tell apart: not scored
    undecided: bool = False


def compare(
    given: Any,
    expected: Any,
    tol: Tolerance,
    *,
    what: str,
    exact: bool = False,
    integer: bool = False,
    items: Sequence[str] = (),
) -> Comparison:
    """Compare an answer with the expected value; ``what`` names the answer in sentences."""
    try:
        value = read_like(given, expected, what, integer=integer, items=items)
    except WrongType as exc:
        return Comparison(False, note=_sentence(str(exc)), expected_text=fmt(expected))
    ok, where = same(value, expected, tol, exact=exact, items=items)
    if ok is None:
        return Comparison(False, value, UNDECIDED, where, fmt(expected), fmt(value), True)
    if ok:
        # a right case is counted, not shown: its text is never read (and costs per case)
        return Comparison(True, value, None, None, "", None)
    shown_given, shown_expected = (fmt(value), fmt(expected))
    if shown_given == shown_expected:
        shown_given, shown_expected = fmt_pair(value, expected)
    return Comparison(ok, value, None, where, shown_expected, shown_given)


def same(
    value: Any, expected: Any, tol: Tolerance, *, exact: bool = False, items: Sequence[str] = ()
) -> tuple[bool | None, str | None]:
    """Whether a read answer equals the expected value, and where it does not; None when
    two exact values could not be decided (only with ``exact``)."""
    if isinstance(expected, tuple):
        undecided = False
        for i, (v, e) in enumerate(zip(value, expected, strict=True)):
            ok, where = same(v, e, tol, exact=exact)
            if ok is False:
                name = f" ({items[i]})" if i < len(items) else ""
                return False, f"item {i + 1}{name}" + (f", {where}" if where else "")
            undecided = undecided or ok is None
        return (None if undecided else True), None
    if exact and _is_exact(expected) and _is_exact(value):
        return _exactly_equal(sympy.sympify(value), sympy.sympify(expected)), None
    if isinstance(expected, np.ndarray) and expected.ndim > 0:
        return _same_array(np.asarray(value, dtype=float), expected, tol)
    return values_equal(_plain(value), _plain(expected), tol), None


def _exactly_equal(value: sympy.Expr, expected: sympy.Expr) -> bool | None:
    """The judge's verdict on two exact values (``simplify`` misses atan(1/2) + atan(1/3)
    = π/4, and does not separate exp(π√163) from the integer next to it)."""
    from grader.judge.equivalence import equivalent

    verdict = equivalent(value, expected).verdict
    return True if verdict == "equal" else False if verdict == "different" else None


def _same_array(value: np.ndarray, expected: np.ndarray, tol: Tolerance) -> tuple[bool, str | None]:
    if value.shape != expected.shape:
        return False, f"shape {value.shape} instead of {expected.shape}"
    if values_equal(value, expected, tol):
        return True, None
    for index in np.ndindex(expected.shape):
        if not values_equal(value[index], expected[index], tol):
            return False, f"entry [{', '.join(map(str, index))}]"
    return False, None


def read_like(
    given: Any,
    expected: Any,
    what: str,
    *,
    integer: bool = False,
    items: Sequence[str] = (),
) -> Any:
    """The answer in the expected value's shape, or ``WrongType`` saying what does not fit."""
    if isinstance(expected, tuple):
        seq = _sequence(given, what, len(expected))
        return tuple(
            read_like(g, e, f"item {i + 1} of {what}", integer=integer)
            for i, (g, e) in enumerate(zip(seq, expected, strict=True))
        )
    if isinstance(expected, np.ndarray) and expected.ndim > 0:
        arr = as_array(given, what)
        return _fit(arr, expected.shape, what)
    if integer:
        return _integer(given, what)
    if _is_exact(expected):
        return as_exact(given, what)
    return as_float(given, what)


def _sequence(given: Any, what: str, n: int) -> list[Any]:
    if isinstance(given, np.ndarray) and given.ndim >= 1:
        items = list(given) if given.ndim > 1 else list(given.reshape(-1))
    elif isinstance(given, (list, tuple)):
        items = list(given)
    else:
        raise WrongType(f"{what} should be {n} values, but it is {describe_type(given)}")
    if len(items) != n:
        raise WrongType(f"{what} should be {n} values, but it has {len(items)}")
    return items


def _fit(arr: np.ndarray, shape: tuple[int, ...], what: str) -> np.ndarray:
    """A column or row vector counts as the vector it holds; other shapes must match."""
    if arr.shape == shape:
        return arr
    squeezed = tuple(d for d in arr.shape if d != 1)
    if arr.size == int(np.prod(shape)) and squeezed == tuple(d for d in shape if d != 1):
        return arr.reshape(shape)
    raise WrongType(f"{what} should have shape {shape}, but it has shape {arr.shape}")


def _integer(given: Any, what: str) -> int:
    value = given
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "biuf":
        value = value.reshape(()).item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise WrongType(f"{what} should be a whole number, but it is {describe_type(given)}")
    return value


def _is_exact(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, Fraction, np.integer)):
        return True
    return isinstance(value, sympy.Basic) and not value.has(sympy.Float)


def _plain(value: Any) -> Any:
    if isinstance(value, (mpmath.mpf, sympy.Basic)):
        try:
            return float(value)
        except (TypeError, ValueError):
            return float("nan")
    if isinstance(value, Fraction):
        return float(value)
    return value


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
