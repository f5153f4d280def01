"""Lambdified formulas evaluated with numpy, fast to build and complete.

``sympy.lambdify(..., modules="numpy")`` is slow the first time in a process and
knows no gamma or factorial for arrays; these helpers fix both for every check
that evaluates sheet formulas on numbers.
"""

from __future__ import annotations

import functools
import math
import types
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy


def _vectorize(fn: Callable[[float], float]) -> Callable[[Any], Any]:
    vec = np.vectorize(fn, otypes=[float])

    def call(x: Any) -> Any:
        out = vec(np.asarray(x, dtype=float))
        return out if out.ndim else float(out)

    return call


def _safe_gamma(x: float) -> float:
    try:
        return math.gamma(x)
    except (ValueError, OverflowError):
        return math.inf


def _safe_lgamma(x: float) -> float:
    try:
        return math.lgamma(x)
    except (ValueError, OverflowError):
        return math.inf


#: n! for n = 0 … 170 (171! overflows a float): counts (Poisson samples) are looked up
_FACTORIALS = np.array([float(math.factorial(n)) for n in range(171)])
_any_factorial = _vectorize(lambda x: _safe_gamma(x + 1.0))


def _factorial(x: Any) -> Any:
    """x! on arrays: a table lookup for the whole numbers a count takes, gamma otherwise."""
    a = np.asarray(x, dtype=float)
    whole = np.all((a >= 0) & (a <= 170) & (a == np.floor(a))) if a.size else True
    if not whole:
        return _any_factorial(a)
    out = _FACTORIALS[a.astype(int)]
    return out if out.ndim else float(out)


#: numpy has no gamma/factorial; these keep lambdified densities vectorised without scipy.
_NUMERIC_FUNCTIONS: dict[str, Any] = {
    "gamma": _vectorize(_safe_gamma),
    "loggamma": _vectorize(_safe_lgamma),
    "factorial": _factorial,
}


@functools.cache
def numpy_namespace() -> types.ModuleType:
    """What ``lambdify(..., modules="numpy")`` evaluates in, without ``from numpy import *``.

    sympy builds its numpy namespace with a star import, and numpy's ``__all__``
    lists lazily loaded submodules: the first ``modules="numpy"`` lambdify in a
    process imports ``numpy.testing`` and ``numpy.f2py`` (~70 ms). This module
    object holds the same names (numpy's public functions already loaded,
    ``numpy.linalg``'s, sympy's translations ``Heaviside``, ``I``); it is called
    ``numpy`` so that lambdify still picks its NumPy printer.
    """
    import numpy.linalg

    mod = types.ModuleType("numpy")
    loaded = vars(np)
    names: dict[str, Any] = {n: loaded[n] for n in np.__all__ if n in loaded}
    names.update({n: getattr(numpy.linalg, n) for n in numpy.linalg.__all__})
    names.update(numpy=np, Heaviside=np.heaviside, I=1j)
    vars(mod).update(names)
    return mod


def lambdify(args: Sequence[sympy.Symbol], expr: sympy.Expr) -> Callable[..., Any]:
    return sympy.lambdify(list(args), expr, modules=[_NUMERIC_FUNCTIONS, numpy_namespace()])


