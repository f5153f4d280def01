"""Evaluation of sympy expressions at exact points in ball arithmetic (python-flint's acb).

A ball is a midpoint and a radius that provably contains the true value, so two values whose
balls do not meet are different, whatever cancellation happened on the way (``cosh(x)**2 -
sinh(x)**2`` at x = 60 is a wide ball at 30 digits, and an exact 1 at 60): the allowance for
rounding is the size of the result's own ball, never a multiple of some intermediate sum.

Points are exact (rationals, or exact algebraic numbers on breakpoints). Where a ball straddles
a discontinuity (``floor`` at an integer, ``sign``/``Heaviside`` at 0, a ``Piecewise``
condition on its boundary, ``atan2`` on the negative axis), the argument is evaluated exactly
with sympy at the exact point instead, so ``Heaviside(x, 1)`` and ``Heaviside(x)`` are told
apart at x = 0 and ``floor(x + 1/1000)`` at x = -1/1000.

Nodes without a ball implementation (unevaluated sums and integrals, rare special functions)
are evaluated by sympy's ``evalf`` at two precisions; the ball built from those is not
rigorous and the evaluation is marked so.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sympy
from flint import acb, arb, ctx, fmpq, fmpz

from grader.judge.ballfunctions import FUNCTIONS, HIDING, Undefined, Unresolved
from grader.judge.budget import BudgetExceeded, cpu_budget

__all__ = ["Ball", "Evaluator", "State", "Undefined", "Unresolved", "Unsupported", "precision",
           "to_ball"]

Ball = acb
_LOCK = threading.RLock()  # flint's precision is process-wide
MAX_BITS = 12_000  # one evaluation never runs at more bits than this (about 3,600 digits)
EXACT_SLICE = 0.05  # CPU seconds for one exact evaluation at a discontinuity
_LN10 = math.log(10)


class Unsupported(Exception):
    """The tree cannot be compiled at all (a relation, a set...)."""


@contextmanager
def precision(bits: int) -> Iterator[None]:
    with _LOCK:
        old = ctx.prec
        ctx.prec = max(53, min(int(bits), MAX_BITS))
        try:
            yield
        finally:
            ctx.prec = old


def to_ball(value: sympy.Expr) -> acb:
    """An exact sympy number as a ball at the current precision."""
    if value.is_Integer:
        return acb(fmpz(int(value)))
    if value.is_Rational:
        return acb(fmpq(int(value.p), int(value.q)))
    state = State({}, {})
    return Evaluator(value)(state)


@dataclass
class State:
    """What one evaluation needs and learns: the point, digits the values could hide."""

    balls: Mapping[str, acb]
    exact: Mapping[str, sympy.Expr]
    hidden: float = 0.0  # decimal digits that magnitudes inside the tree could hide
    rigorous: bool = True
    exact_cache: dict[int, sympy.Expr] = field(default_factory=dict)


Fn = Callable[[State], acb]


class Evaluator:
    """A sympy tree compiled to closures over acb balls.

    ``decimals``: (the numbers a side wrote as decimals, read exactly; a relative tolerance).
    A written decimal (``1.33333333333333``) stands for every number within the tolerance of
    it, so its ball gets that radius: the tolerance applies where the decimals are, not to
    the value (a root such as 4x/3 − 4 at x = 3 stays equal to its decimal form, and e^100
    inside a sum widens nothing it does not touch).
    """

    def __init__(
        self, expr: sympy.Basic, decimals: tuple[frozenset[sympy.Rational], float] | None = None
    ) -> None:
        self.expr = expr
        self.decimals = decimals
        self.fn = self._compile(expr)

    def __call__(self, state: State) -> acb:
        z = self.fn(state)
        if not z.is_finite():
            raise Unresolved("not finite at this precision")
        return z

    # ------------------------------------------------------------------ compiling
    def _compile(self, e: sympy.Basic) -> Fn:  # noqa: C901 - a dispatcher
        if e.is_Symbol:
            name = e.name
            return lambda st: st.balls[name]
        if self.decimals is not None and e.is_Rational and e in self.decimals[0] and e != 0:
            return _decimal(e, self.decimals[1])
        if e.is_Number or e.is_NumberSymbol or e is sympy.I:
            return _constant(e)
        if e.is_Add:
            parts = [self._compile(a) for a in e.args]

            def add(st: State) -> acb:
                terms = [p(st) for p in parts]
                st.hidden += _spread(terms)
                return _sum(terms)

            return add
        if e.is_Mul:
            parts = [self._compile(a) for a in e.args]
            return lambda st: _product(p(st) for p in parts)
        if e.is_Pow:
            return self._power(e)
        if isinstance(e, sympy.Piecewise):
            return self._piecewise(e)
        if type(e) in FUNCTIONS:  # Max and Min are no sympy.Function
            return self._function(e)
        if isinstance(e, sympy.Expr):
            return self._fallback(e)
        raise Unsupported(type(e).__name__)

    def _function(self, e: sympy.Function) -> Fn:
        args = [self._compile(a) for a in e.args]
        impl = FUNCTIONS[type(e)]
        hides = HIDING.get(type(e))
        exact_args = e.args

        def call(st: State) -> acb:
            values = [a(st) for a in args]
            z = impl(values, lambda i: _exact(exact_args[i], st))
            if hides is not None:
                st.hidden += hides(values, z)
            return z

        return call

    def _power(self, e: sympy.Pow) -> Fn:
        base = self._compile(e.base)
        if e.exp.is_Integer:
            n = int(e.exp)

            def ipow(st: State) -> acb:
                b = base(st)
                if n < 0 and b.is_zero():
                    raise Undefined("division by zero")
                return b**n

            return ipow
        ex = self._compile(e.exp)

        def pow_(st: State) -> acb:
            b, x = base(st), ex(st)
            if b.is_zero():
                if x.real > 0:
                    return acb(0)
                raise Undefined("0 to a non-positive power")
            return b**x  # principal branch, as sympy's Pow

        return pow_

    def _piecewise(self, e: sympy.Piecewise) -> Fn:
        branches = [(self._compile(x), self._condition(c)) for x, c in e.args]

        def piecewise(st: State) -> acb:
            for value, cond in branches:
                if cond(st):
                    return value(st)
            raise Undefined("no branch of the piecewise applies")

        return piecewise

    def _condition(self, c: sympy.Basic) -> Callable[[State], bool]:
        if c is sympy.true:
            return lambda st: True
        if c is sympy.false:
            return lambda st: False
        if isinstance(c, (sympy.And, sympy.Or)):
            subs = [self._condition(a) for a in c.args]
            if isinstance(c, sympy.And):
                return lambda st: all(s(st) for s in subs)
            return lambda st: any(s(st) for s in subs)
        if isinstance(c, sympy.Not):
            inner = self._condition(c.args[0])
            return lambda st: not inner(st)
        if isinstance(c, sympy.core.relational.Relational):
            return self._relation(c)
        raise Unsupported(type(c).__name__)

    def _relation(self, c: sympy.core.relational.Relational) -> Callable[[State], bool]:
        gap_expr = c.lhs - c.rhs
        gap = self._compile(gap_expr)
        op = c.rel_op

        def relation(st: State) -> bool:
            g = gap(st)
            s = _sign_of(g, lambda: _exact(gap_expr, st), real=op not in ("==", "!="))
            return {"<": s < 0, "<=": s <= 0, ">": s > 0, ">=": s >= 0,
                    "==": s == 0, "!=": s != 0}[op]

        return relation

    def _fallback(self, e: sympy.Expr) -> Fn:
        """sympy's evalf at two precisions: a ball that is only as good as their agreement."""
        def fallback(st: State) -> acb:
            st.rigorous = False
            exact = e.xreplace(dict(_symbols_of(e, st.exact)))
            digits = max(15, int(ctx.prec / 3.33))
            lo, hi = _evalf(exact, digits), _evalf(exact, digits + 15)
            rad = abs(lo - hi) * 8 + abs(hi) * arb(10) ** (-digits)
            if hi.imag.is_zero() and lo.imag.is_zero():
                return acb(arb(hi.real.mid(), rad))
            return acb(arb(hi.real.mid(), rad), arb(hi.imag.mid(), rad))

        return fallback


# ---------------------------------------------------------------------------- helpers

def _constant(e: sympy.Basic) -> Fn:
    if e in (sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
        def infinite(st: State) -> acb:
            raise Undefined("infinite")
        return infinite
    if e is sympy.I:
        return lambda st: acb(0, 1)
    if e.is_Integer:
        n = fmpz(int(e))
        return lambda st: acb(n)
    if e.is_Rational:
        q = fmpq(int(e.p), int(e.q))
        return lambda st: acb(q)
    named: dict[Any, Callable[[], acb]] = {
        sympy.pi: acb.pi, sympy.E: lambda: acb(1).exp(),
        sympy.EulerGamma: lambda: acb(arb.const_euler()),
        sympy.Catalan: lambda: acb(arb.const_catalan()),
        sympy.GoldenRatio: lambda: (1 + acb(5).sqrt()) / 2,
        sympy.TribonacciConstant: lambda: acb(_evalf(sympy.TribonacciConstant, 60).real),
    }
    if e in named:
        make = named[e]
        return lambda st: make()
    if e.is_Float:
        exact = sympy.Rational(sympy.sstr(e, full_prec=True))
        qf = fmpq(int(exact.p), int(exact.q))
        return lambda st: acb(qf)
    raise Unsupported(type(e).__name__)


def _decimal(e: sympy.Rational, rtol: float) -> Fn:
    """A written decimal (read exactly) as the ball of the numbers within ``rtol`` of it."""
    qf = fmpq(int(e.p), int(e.q))
    radius = arb(rtol) * abs(arb(qf))
    return lambda st: acb(arb(qf).union(arb(qf) - radius).union(arb(qf) + radius))


def _sum(values: Iterable[acb]) -> acb:
    total = acb(0)
    for v in values:
        total += v
    return total


def _product(values: Iterable[acb]) -> acb:
    out = acb(1)
    for v in values:
        out *= v
    return out


def _spread(terms: list[acb]) -> float:
    """Decimal digits between the largest and the smallest non-zero term of a sum: a term
    10^-24 times the others (x^40 next to (1+x)^80 at x = 1) shows only beyond that."""
    lows = [abs(t).abs_lower() for t in terms]
    lows = [v for v in lows if v > 0]
    if len(lows) < 2:
        return 0.0
    high = max(abs(t).abs_upper() for t in terms)
    low = min(lows)
    if not high > low * 1000:
        return 0.0
    return float((high / low).log().mid()) / _LN10


def _symbols_of(e: sympy.Basic, exact: Mapping[str, sympy.Expr]) -> Iterator[tuple[Any, Any]]:
    for s in e.free_symbols:
        if isinstance(s, sympy.Symbol) and s.name in exact:
            yield s, exact[s.name]


def _exact(e: sympy.Basic, st: State) -> sympy.Expr:
    """``e`` at the exact point, by sympy (for deciding discontinuities and branch cuts).

    Only where that is cheap: short coordinates, no symbolic or large exponents (sympy would
    compute 1.234**(10**60) exactly), and a slice of CPU time; else the point stays
    undecided."""
    key = id(e)
    hit = st.exact_cache.get(key)
    if hit is not None:
        return hit
    subs = dict(_symbols_of(e, st.exact))
    if not _exact_safe(e, subs):
        raise Unresolved("no cheap exact evaluation here")
    try:
        with cpu_budget(EXACT_SLICE) as own:
            hit = e.xreplace(subs)
    except BudgetExceeded as exc:
        if exc.budget is not own:
            raise
        raise Unresolved("exact evaluation too slow") from None
    st.exact_cache[key] = hit
    return hit


def _exact_safe(e: sympy.Basic, subs: Mapping[Any, sympy.Expr]) -> bool:
    for v in subs.values():
        if not v.is_Rational or len(str(v)) > 40:
            return False
    for p in e.atoms(sympy.Pow):
        if not p.exp.is_Number or abs(p.exp) > 100:
            return False
    return True


def _sign_of(g: acb, exact: Callable[[], sympy.Expr], *, real: bool = True) -> int:
    """Sign of a real value (0 included), exactly when the ball cannot tell."""
    if real and not g.imag.contains(0):
        raise Undefined("a real-only function got a complex argument")
    re_ = g.real
    if not re_.contains(0):
        return 1 if re_ > 0 else -1
    if g.is_zero():
        return 0
    value = exact()
    zero = value.is_zero
    if zero:
        return 0
    if zero is False and value.is_extended_real:
        positive = value.is_positive
        if positive is not None:
            return 1 if positive else -1
    raise Unresolved("cannot decide the sign at this precision")


def _evalf(e: sympy.Basic, digits: int) -> acb:
    try:
        v = sympy.N(e, digits)
    except (ValueError, TypeError, ZeroDivisionError, ArithmeticError, NotImplementedError):
        raise Undefined("evalf failed") from None
    if not v.is_number or v.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        raise Undefined("no numeric value")
    re_, im_ = v.as_real_imag()
    try:
        parts = [arb(sympy.sstr(sympy.N(p, digits), full_prec=True)) for p in (re_, im_)]
    except (ValueError, TypeError):
        raise Undefined("no numeric value") from None
    return acb(*parts)
