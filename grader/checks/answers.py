"""Turn decoded answers (plain data from the sandbox) into numbers, arrays, expressions.

Each function returns the converted value, or raises ``WrongType`` with a
sentence a student understands ("should be a number, but it is a str").
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from grader.sandbox.protocol import Expr, Unsupported


class WrongType(ValueError):
    pass


def describe_type(value: Any) -> str:
    if isinstance(value, Unsupported):
        return f"a {value.type_name}"
    if isinstance(value, Expr):
        return f"the expression {value.text[:80]}"
    if value is None:
        return "None (did you forget a `return`?)"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} items"
    return f"a {type(value).__name__}"


def text_as_math(value: Any) -> Any:
    """A string answer is read as math ("1/8", "log(2)", "\\frac{1}{8}"), never run."""
    if isinstance(value, str):
        text = value.strip()
        latex = text.startswith("$") or "\\" in text or "{" in text
        return Expr(text.strip("$").strip(), latex=latex)
    return value


def as_float(value: Any, what: str = "the answer") -> float:
    """A real number from an int, float, Fraction, 0-d/1-element array or constant expression."""
    value = text_as_math(value)
    if isinstance(value, bool):
        raise WrongType(f"{what} should be a number, but it is a bool")
    if isinstance(value, (int, float, Fraction)):
        return float(value)
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "iuf":
        return float(value.reshape(()))
    if isinstance(value, Expr):
        expr = as_expr(value, {}, what)
        if expr.free_symbols:
            raise WrongType(
                f"{what} should be a number, but it contains {sorted(map(str, expr.free_symbols))}"
            )
        from grader.judge.evaluate import EvaluationError, numeric_value

        try:
            number = numeric_value(expr, 30, budget=1.0)  # student data: under a CPU budget
        except EvaluationError as exc:
            raise WrongType(f"{what} has no value the grader could work out ({exc})") from None
        if abs(number.imag) > 1e-12 * max(1.0, abs(number.real)):
            raise WrongType(f"{what} should be a real number, but it is {value.text[:80]}")
        return float(number.real)
    raise WrongType(f"{what} should be a number, but it is {describe_type(value)}")


def as_exact(value: Any, what: str = "the answer") -> sympy.Expr:
    """A sympy number, exact where the answer was exact (int, Fraction, expression)."""
    value = text_as_math(value)
    if isinstance(value, bool):
        raise WrongType(f"{what} should be a number, but it is a bool")
    if isinstance(value, int):
        return sympy.Integer(value)
    if isinstance(value, Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    if isinstance(value, float):
        return sympy.Float(value)
    if isinstance(value, Expr):
        return as_expr(value, {}, what)
    return sympy.Float(as_float(value, what))


def as_array(value: Any, what: str = "the answer", *, ndim: int | None = None) -> np.ndarray:
    """A float array from an array, or a (nested) list/tuple of numbers."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise WrongType(f"{what} should hold real numbers, but its dtype is {value.dtype}")
        arr = value.astype(float)
    elif isinstance(value, (list, tuple, int, float, Fraction)) and not isinstance(value, bool):
        try:
            arr = np.array(_plain(value), dtype=float)
        except (TypeError, ValueError) as exc:
            raise WrongType(
                f"{what} should be an array of numbers, but it is {describe_type(value)}"
            ) from exc
    else:
        raise WrongType(f"{what} should be an array of numbers, but it is {describe_type(value)}")
    if ndim is not None and arr.ndim != ndim:
        raise WrongType(f"{what} should have {ndim} dimension(s), but it has shape {arr.shape}")
    return arr


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    return as_float(value)


def as_expr(
    value: Any,
    symbols: Mapping[str, sympy.Symbol],
    what: str = "the answer",
    functions: Mapping[str, Any] | None = None,
) -> sympy.Expr:
    """A sympy expression from an expression string (safe parser) or a number."""
    from grader.judge.latex import parse_latex_answer
    from grader.judge.parse import ExpressionError, parse_expression

    value = text_as_math(value)
    if isinstance(value, Expr):
        try:
            if value.latex or "\\" in value.text:
                return parse_latex_answer(value.text, symbols=symbols, functions=functions)
            return parse_expression(value.text, symbols=symbols, functions=functions)
        except ExpressionError as exc:
            raise WrongType(f"{what} could not be read as an expression: {exc}") from exc
    if isinstance(value, bool):
        raise WrongType(f"{what} should be an expression, but it is a bool")
    if isinstance(value, (int, Fraction, float)):
        return as_exact(value, what)
    if isinstance(value, np.ndarray) and value.size == 1:
        return sympy.Float(float(value.reshape(())))
    raise WrongType(f"{what} should be an expression, but it is {describe_type(value)}")


def as_sequence(value: Any, what: str, length: int | None = None) -> list[Any]:
    if isinstance(value, np.ndarray):
        items: list[Any] = list(value.reshape(-1)) if value.ndim <= 1 else list(value)
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise WrongType(f"{what} should be a sequence, but it is {describe_type(value)}")
    if length is not None and len(items) != length:
        raise WrongType(f"{what} should have {length} items, but it has {len(items)}")
    return items
