"""The sheet's definitions (``sigma(x) = 1/(1 + exp(-x))``) as numeric functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import sympy

from grader.calc.library import is_mp
from grader.solver.numpy_functions import lambdify


def numeric_definition(fn: sympy.Lambda) -> Callable[..., Any]:
    """``fn`` on numbers and arrays (numpy), or at 30 digits on mpmath numbers."""
    args = list(fn.variables)
    on_arrays = lambdify(args, fn.expr)
    precise = sympy.lambdify(args, fn.expr, modules="mpmath")

    def call(*values: Any) -> Any:
        if any(is_mp(v) for v in values):
            try:
                out = precise(*values)
            except (ValueError, ZeroDivisionError):
                return mpmath.mpf("nan")
            return out.real if isinstance(out, mpmath.mpc) and out.imag == 0 else out
        with np.errstate(all="ignore"):
            return on_arrays(*values)

    call.__name__ = str(getattr(fn, "name", "definition"))
    return call
