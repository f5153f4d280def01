"""The functions and constants a case formula may use.

Every function works on numbers and numpy arrays with numpy's semantics. On mpmath numbers
(formulas evaluated at 30 digits, for references of scalar functions) the elementary functions
stay in mpmath, so a reference like ``sigma(x) * (1 - sigma(x))`` loses nothing to cancellation.
Floating-point warnings are silenced here: a formula that overflows gives inf or NaN, which
never equals a student's finite answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

__all__ = ["CONSTANTS", "FUNCTIONS", "as_float_array", "is_mp"]


def is_mp(x: Any) -> bool:
    return isinstance(x, (mpmath.mpf, mpmath.mpc))


def as_float_array(x: Any) -> np.ndarray:
    if is_mp(x):
        return np.asarray(float(x) if isinstance(x, mpmath.mpf) else complex(x))
    if isinstance(x, (list, tuple)):
        return np.asarray([as_float_array(v) for v in x], dtype=float)
    return np.asarray(x, dtype=float)


def _real(v: Any) -> Any:
    """mpmath gives complex numbers outside a real domain; a real formula has NaN there."""
    if isinstance(v, mpmath.mpc):
        return v.real if v.imag == 0 else mpmath.mpf("nan")
    return v


def _elementwise(np_fn: Callable[..., Any], mp_fn: Callable[..., Any]) -> Callable[..., Any]:
    def fn(*args: Any) -> Any:
        if (
            args
            and all(is_mp(a) or isinstance(a, (int, float)) for a in args)
            and any(is_mp(a) for a in args)
        ):
            try:
                return _real(mp_fn(*args))
            except (ValueError, ZeroDivisionError):
                return mpmath.mpf("nan")
        with np.errstate(all="ignore"):
            return np_fn(*(as_float_array(a) if is_mp(a) else a for a in args))

    return fn


def _log(x: Any, base: Any = None) -> Any:
    ln = _elementwise(np.log, mpmath.log)
    return ln(x) if base is None else _elementwise(np.divide, mpmath.fdiv)(ln(x), ln(base))


def _reduce(np_fn: Callable[..., Any]) -> Callable[..., Any]:
    def fn(x: Any, *args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"):
            out = np_fn(as_float_array(x), *args, **kwargs)
        return out.item() if isinstance(out, np.ndarray) and out.ndim == 0 else out

    return fn


def _max(*args: Any, **kwargs: Any) -> Any:
    """``max(a)`` is the largest entry; ``max(a, b, …)`` the elementwise maximum."""
    if len(args) == 1:
        return _reduce(np.max)(args[0], **kwargs)
    if all(isinstance(a, (int, float)) or is_mp(a) for a in args):
        return max(args)
    out = as_float_array(args[0])
    for a in args[1:]:
        out = np.maximum(out, as_float_array(a))
    return out


def _min(*args: Any, **kwargs: Any) -> Any:
    if len(args) == 1:
        return _reduce(np.min)(args[0], **kwargs)
    if all(isinstance(a, (int, float)) or is_mp(a) for a in args):
        return min(args)
    out = as_float_array(args[0])
    for a in args[1:]:
        out = np.minimum(out, as_float_array(a))
    return out


def _index(np_fn: Callable[..., Any]) -> Callable[..., Any]:
    def fn(x: Any, *args: Any, **kwargs: Any) -> Any:
        out = np_fn(as_float_array(x), *args, **kwargs)
        return int(out) if np.ndim(out) == 0 else out

    return fn


def _onehot(index: Any, size: Any) -> np.ndarray:
    out = np.zeros(int(size))
    out[int(index)] = 1.0
    return out


def _over(pick: Callable[..., Any]) -> Callable[[Any, Any], Any]:
    """``argmax_over(grid, values)``: the grid point where the values are largest."""

    def fn(grid: Any, values: Any) -> Any:
        v = as_float_array(values)
        if v.size == 0 or np.all(np.isnan(v)):
            return math.nan
        g = as_float_array(grid)
        return float(g[int(pick(v))])

    return fn


def _len(x: Any) -> int:
    return len(x) if isinstance(x, (list, tuple)) else int(np.shape(x)[0])


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in np.shape(as_float_array(x)))


def _linalg(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"):
            return fn(*(as_float_array(a) for a in args), **kwargs)

    return call


def _softmax(z: Any, axis: int = -1) -> np.ndarray:
    """The softmax, computed stably (the maximum subtracted first)."""
    a = as_float_array(z)
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _logsumexp(z: Any) -> float:
    a = as_float_array(z)
    top = float(np.max(a))
    return top + float(np.log(np.sum(np.exp(a - top))))


def _union(*arrays: Any) -> np.ndarray:
    """Sorted distinct values of all arguments (a grid that holds given points exactly)."""
    return np.unique(np.concatenate([np.ravel(as_float_array(a)) for a in arrays]))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    # elementwise
    "abs": _elementwise(np.abs, mpmath.fabs),
    "exp": _elementwise(np.exp, mpmath.exp),
    "log": _log,
    "ln": _log,
    "log2": _elementwise(np.log2, lambda x: mpmath.log(x, 2)),
    "log10": _elementwise(np.log10, mpmath.log10),
    "log1p": _elementwise(np.log1p, mpmath.log1p),
    "expm1": _elementwise(np.expm1, mpmath.expm1),
    "sqrt": _elementwise(np.sqrt, mpmath.sqrt),
    "sin": _elementwise(np.sin, mpmath.sin),
    "cos": _elementwise(np.cos, mpmath.cos),
    "tan": _elementwise(np.tan, mpmath.tan),
    "asin": _elementwise(np.arcsin, mpmath.asin),
    "acos": _elementwise(np.arccos, mpmath.acos),
    "atan": _elementwise(np.arctan, mpmath.atan),
    "atan2": _elementwise(np.arctan2, mpmath.atan2),
    "sinh": _elementwise(np.sinh, mpmath.sinh),
    "cosh": _elementwise(np.cosh, mpmath.cosh),
    "tanh": _elementwise(np.tanh, mpmath.tanh),
    "sign": _elementwise(np.sign, mpmath.sign),
    "floor": _elementwise(np.floor, mpmath.floor),
    "ceil": _elementwise(np.ceil, mpmath.ceil),
    "erf": _elementwise(np.vectorize(math.erf, otypes=[float]), mpmath.erf),
    "gamma": _elementwise(np.vectorize(math.gamma, otypes=[float]), mpmath.gamma),
    "lgamma": _elementwise(np.vectorize(math.lgamma, otypes=[float]), mpmath.loggamma),
    "factorial": _elementwise(
        np.vectorize(lambda n: math.gamma(n + 1), otypes=[float]), mpmath.factorial
    ),
    "comb": lambda n, k: math.comb(int(n), int(k)),
    "maximum": _elementwise(np.maximum, max),
    "minimum": _elementwise(np.minimum, min),
    "max": _max,
    "min": _min,
    "clip": _linalg(np.clip),
    "where": lambda c, a, b: np.where(as_float_array(c) != 0, a, b),
    "isfinite": lambda x: np.isfinite(as_float_array(x)),
    "isnan": lambda x: np.isnan(as_float_array(x)),
    # reductions
    "sum": _reduce(np.sum),
    "prod": _reduce(np.prod),
    "mean": _reduce(np.mean),
    "var": _reduce(np.var),
    "std": _reduce(np.std),
    "median": _reduce(np.median),
    "cumsum": _reduce(np.cumsum),
    "all": lambda x: bool(np.all(as_float_array(x) != 0)),
    "any": lambda x: bool(np.any(as_float_array(x) != 0)),
    "argmax": _index(np.argmax),
    "argmin": _index(np.argmin),
    "argmax_over": _over(np.nanargmax),
    "argmin_over": _over(np.nanargmin),
    "norm": _linalg(np.linalg.norm),
    "len": _len,
    "size": lambda x: int(np.size(as_float_array(x))),
    "shape": _shape,
    "ndim": lambda x: int(np.ndim(as_float_array(x))),
    # arrays and linear algebra
    "array": as_float_array,
    "dot": _linalg(np.dot),
    "outer": _linalg(np.outer),
    "transpose": _linalg(np.transpose),
    "eye": lambda n: np.eye(int(n)),
    "zeros": lambda *shape: np.zeros(tuple(int(s) for s in shape)),
    "ones": lambda *shape: np.ones(tuple(int(s) for s in shape)),
    "onehot": _onehot,
    "softmax": _softmax,
    "logsumexp": _logsumexp,
    "relu": lambda x: np.maximum(as_float_array(x), 0.0),
    "arange": np.arange,
    "linspace": lambda lo, hi, n: np.linspace(float(lo), float(hi), int(n)),
    "union": _union,
    "concatenate": lambda *a: np.concatenate([np.atleast_1d(as_float_array(x)) for x in a]),
    "stack": lambda *a: np.stack([as_float_array(x) for x in a]),
    "reshape": lambda x, *shape: as_float_array(x).reshape(tuple(int(s) for s in shape)),
    "flatten": lambda x: as_float_array(x).ravel(),
    "sort": lambda x: np.sort(as_float_array(x)),
    "diag": _linalg(np.diag),
    "trace": _linalg(np.trace),
    "det": _linalg(np.linalg.det),
    "inv": _linalg(np.linalg.inv),
    "solve": _linalg(np.linalg.solve),
    "float": float,
    "int": int,
    "round": round,
    "range": lambda *a: range(*(int(v) for v in a)),
}

#: sympy's spellings, so that instructors can write what they write in formulas
FUNCTIONS.update(
    {
        "Abs": FUNCTIONS["abs"],
        "Max": FUNCTIONS["max"],
        "Min": FUNCTIONS["min"],
        "ceiling": FUNCTIONS["ceil"],
        "arcsin": FUNCTIONS["asin"],
        "arccos": FUNCTIONS["acos"],
        "arctan": FUNCTIONS["atan"],
        "loggamma": FUNCTIONS["lgamma"],
        "binomial": FUNCTIONS["comb"],
    }
)

CONSTANTS: dict[str, Any] = {
    "pi": math.pi,
    "e": math.e,
    "E": math.e,
    "inf": math.inf,
    "oo": math.inf,
    "nan": math.nan,
    "True": True,
    "False": False,
}
