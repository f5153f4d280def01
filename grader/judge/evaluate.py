"""Numbers from expressions a student returned, within a CPU budget.

``sympy.N(expr, 30)`` on returned data has no bound: ``N(Sum(1/n**(1+1/10**9), (n, 1, oo)),
30)`` runs for minutes. :func:`numeric_value` is the budgeted replacement for checks: it
evaluates in ball arithmetic (rigorous, fast) and falls back to sympy's ``evalf`` only for
nodes the balls do not know, all under :func:`grader.judge.budget.cpu_budget`.
"""

from __future__ import annotations

import sympy

from grader.judge.balls import Evaluator, State, Undefined, Unresolved, Unsupported, precision
from grader.judge.budget import BudgetExceeded, cpu_budget, remaining

__all__ = ["EvaluationError", "numeric_value"]


class EvaluationError(ValueError):
    """No number within the budget: undefined, not a number, or too slow (``timed_out``)."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


def numeric_value(expr: sympy.Basic, digits: int = 30, *, budget: float = 1.0) -> complex:
    """The value of a constant expression, correct to ``digits`` significant digits (when
    the balls could be made that narrow), as a Python complex number.

    Raises :class:`EvaluationError` when ``expr`` has free symbols, no finite value, or needs
    more than ``budget`` CPU seconds (inside an enclosing budget, never more than that)."""
    if not isinstance(expr, sympy.Basic) or expr.free_symbols:
        raise EvaluationError("not a number: the expression has variables")
    try:
        with cpu_budget(budget) as own:
            return _value(_closed_form(expr), digits)
    except BudgetExceeded as exc:
        if exc.budget is not own:
            raise
        raise EvaluationError(f"no value within {budget:g} s of CPU time",
                              timed_out=True) from None


def _closed_form(expr: sympy.Basic) -> sympy.Basic:
    """Sums and integrals in closed form where sympy finds one in half the budget
    (Sum(1/n**s, (n, 1, oo)) is zeta(s), which balls evaluate at once)."""
    if not expr.has(sympy.Sum, sympy.Integral, sympy.Product, sympy.Limit):
        return expr
    try:
        with cpu_budget(remaining() / 2) as own:
            return expr.doit()
    except BudgetExceeded as exc:
        if exc.budget is not own:
            raise
    except Exception:  # noqa: BLE001 - sympy raises many kinds; unevaluated is fine
        pass
    return expr


def _value(expr: sympy.Basic, digits: int) -> complex:
    try:
        f = Evaluator(expr)
    except Unsupported as exc:
        raise EvaluationError(f"cannot evaluate {exc}") from None
    bits = int(digits * 3.33) + 32
    for _ in range(6):
        with precision(bits):
            try:
                z = f(State({}, {}))
            except Undefined as exc:
                raise EvaluationError(f"no value: {exc}") from None
            except Unresolved:
                z = None
            if z is not None and _narrow(z, digits):
                return complex(float(z.real.mid()), float(z.imag.mid()))
        bits *= 2
    raise EvaluationError("the value cannot be pinned down (too ill-conditioned)")


def _narrow(z: object, digits: int) -> bool:
    from flint import acb, arb

    assert isinstance(z, acb)
    size = abs(z).abs_upper()
    return bool(max(z.real.rad(), z.imag.rad()) <= size * arb(10) ** (-digits)) or \
        bool(size <= arb(10) ** (-digits))
