"""Symbolic proofs that two expressions are equal, cheapest first, each under a CPU slice.

A proof is what makes an exact "equal" certain rather than inferred. The cheap steps
(expanding the difference, cancelling it as a rational function, normalising each side
separately) run on every comparison that sampling did not refute; the expensive ones
(``simplify``, ``trigsimp``, rewriting in exp) only when sampling was inconclusive or a proof
is required. Every step has a slice of the remaining CPU budget, so one slow step costs a
proof, never the verdict's time limit.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import sympy

from grader.judge import budget
from grader.judge.budget import BudgetExceeded, cpu_budget

__all__ = ["prove", "rational_decision"]

MAX_EXPAND_POWER = 40
MAX_RATIONAL_DEGREE = 200
MAX_EXPANDED_TERMS = 400


def _size_ok(expr: sympy.Basic, limit: int) -> bool:
    return sympy.count_ops(expr, visual=False) <= limit


def rational_decision(a: sympy.Basic, b: sympy.Basic) -> bool | None:
    """Exact answer for rational functions with rational coefficients; None when not one."""
    syms = sorted(a.free_symbols | b.free_symbols, key=str)
    if not syms:
        return None
    for e in (a, b):
        if not _size_ok(e, 300) or not _rational_function(e):
            return None
    try:
        with cpu_budget(min(0.25, budget.remaining() / 4)) as own:
            # the numerator as a polynomial: exact (sympy 1.14's cancel can leave an
            # unevaluated -1/9 + 1/9 behind, which is not == 0)
            numerator, _ = sympy.fraction(sympy.together(a - b))
            return bool(sympy.Poly(sympy.expand(numerator), *syms).is_zero)
    except BudgetExceeded as exc:
        if exc.budget is not own:
            raise
        return None


def _rational_function(e: sympy.Basic) -> bool:
    for node in sympy.preorder_traversal(e):
        if node.is_Atom:
            if not (node.is_Symbol or node.is_Rational):
                return False
        elif node.is_Pow:
            if not node.exp.is_Integer or abs(int(node.exp)) > MAX_RATIONAL_DEGREE:
                return False
        elif not (node.is_Add or node.is_Mul):
            return False
    return True


def _expandable(expr: sympy.Basic) -> bool:
    """Expansion stays small: no high powers (``(x-a)**6000`` expands to 6001 terms, and
    ``(a+b+c+d)**30`` to 5,456)."""
    for p in expr.atoms(sympy.Pow):
        if p.exp.is_Number and abs(p.exp) > MAX_EXPAND_POWER:
            return False
        if p.exp.is_Integer and p.base.is_Add:
            n, k = abs(int(p.exp)), len(p.base.args)
            if math.comb(n + k - 1, k - 1) > MAX_EXPANDED_TERMS:
                return False
    return _size_ok(expr, 600)


def _normalised(a: sympy.Basic, b: sympy.Basic) -> bool:
    """Each side rewritten on its own (sin^2 + cos^2 = 1 inside a power, no expansion)."""
    return bool(sympy.trigsimp(a) == sympy.trigsimp(b))


Step = tuple[str, Callable[[sympy.Basic, sympy.Basic], bool], bool]

_STEPS: tuple[Step, ...] = (
    ("expansion of the difference", lambda a, b: sympy.expand(a - b) == 0, False),
    ("cancellation of the difference",
     lambda a, b: sympy.cancel(sympy.together(a - b)) == 0, False),
    ("each side simplified with trigonometric identities", _normalised, False),
    ("simplify of the difference", lambda a, b: sympy.simplify(a - b) == 0, True),
    ("trigsimp of the difference",
     lambda a, b: sympy.trigsimp(sympy.expand_trig(a - b)) == 0, True),
    ("rewriting in exponentials",
     lambda a, b: sympy.simplify(sympy.expand((a - b).rewrite(sympy.exp))) == 0, True),
)


def prove(a: sympy.Basic, b: sympy.Basic, *, heavy: bool, share: float) -> str | None:
    """The name of a step that proved a == b, or None. ``share``: part of the remaining budget
    this call may use."""
    if a == b or (a - b) == 0:
        return "the two are the same expression"
    expandable = _expandable(a - b)
    allowance = budget.remaining() * share
    for name, step, expensive in _STEPS:
        if not expandable and name != "each side simplified with trigonometric identities":
            continue
        if expensive and not (heavy and budget.interruptible()):
            break
        slice_ = min(allowance, 0.3 if not expensive else allowance)
        if slice_ < 0.01:
            break
        try:
            with cpu_budget(slice_) as own:
                if step(a, b):
                    return name
        except BudgetExceeded as exc:
            if exc.budget is not own:
                raise
        except (TypeError, ValueError, AttributeError, NotImplementedError, RecursionError,
                ZeroDivisionError, sympy.PolynomialError):
            continue
        allowance = budget.remaining() * share
    return None
