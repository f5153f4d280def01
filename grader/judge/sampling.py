"""Comparing two expressions at sample points, in ball arithmetic.

At each point both sides are evaluated as balls that provably contain their values:

* balls that do not meet are different values: a witness, whatever the precision;
* with a tolerance (a side has decimals), the values agree when every value in the balls is
  within ``rtol`` of the other, relative to the values themselves;
* without one (exact inputs), the balls must meet and be narrower than 10^-D relative, where
  D = 30 + the digits of the rational constants + the digits that magnitudes inside the
  expressions could hide (e^100, (1+x)^80, tanh(50) = 1 - 2e^-100...). An exact answer that
  differs from the reference only beyond 20 or 30 digits is therefore still told apart.

Precision starts at 128 bits and rises (to about 3,600 digits) until one of these holds; a point
where it never does is "unstable" and counts for nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import sympy
from flint import acb, arb

from grader.judge import budget
from grader.judge.balls import (
    MAX_BITS,
    Evaluator,
    State,
    Undefined,
    Unresolved,
    precision,
    to_ball,
)
from grader.judge.points import Point

__all__ = ["Outcome", "Screen", "compare_at", "screen", "static_digits"]

BASE_DIGITS = 30
MAX_DIGITS = 3000  # beyond this a point is too extreme to decide
_BITS_PER_DIGIT = math.log2(10)


@dataclass(frozen=True)
class Outcome:
    """What one point says: agree, hard (reference real, answer differs), soft (both complex
    and different), extended (answer real where the reference is not), undefined, unstable."""

    kind: str
    point: Point
    student: acb | None = None
    reference: acb | None = None
    digits: int = 0
    rigorous: bool = True
    answer_undefined: bool = False  # the reference has a value here and the answer none
    reference_real: bool = False


@dataclass
class Screen:
    outcomes: list[Outcome] = field(default_factory=list)
    hard: Outcome | None = None

    def of(self, kind: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.kind == kind]

    @property
    def agreeing(self) -> list[Outcome]:
        return self.of("agree")


def static_digits(*exprs: sympy.Expr) -> int:
    """Digits the rational constants could hide (x + 10**-40 next to x); integer exponents
    do not count (their effect shows in the magnitudes of the terms)."""
    found: set[sympy.Rational] = set()
    for e in exprs:
        stack = [e]
        while stack:
            node = stack.pop()
            if node.is_Rational:
                found.add(abs(node))
            elif node.is_Pow and node.exp.is_Integer:
                stack.append(node.base)
            else:
                stack.extend(node.args)
    return sum(len(str(q.p)) + len(str(q.q)) - (2 if q.q == 1 else 1)
               for q in found if q.p > 1 or q.q > 1)


def screen(student: Evaluator, reference: Evaluator, points: Iterable[Point],
           rtol: float | None, static: int) -> Screen:
    """Evaluate point by point; stops at the first point where the reference is real and the
    answer differs from it."""
    out = Screen()
    for p in points:
        budget.check()
        o = compare_at(student, reference, p, rtol, static)
        out.outcomes.append(o)
        if o.kind == "hard":
            out.hard = o
            return out
    return out


def compare_at(student: Evaluator, reference: Evaluator, point: Point, rtol: float | None,
               static: int) -> Outcome:
    exact = point.exact()
    bits = 128
    while True:
        with precision(bits):
            balls = {k: to_ball(v) for k, v in exact.items()}
            rs, ss = State(balls, exact), State(balls, exact)
            try:
                r = reference(rs)
            except Undefined:
                return Outcome("undefined", point)
            except Unresolved:
                r = None
            try:
                s = student(ss) if r is not None else None
            except Undefined:
                return Outcome("undefined", point, answer_undefined=True,
                               reference=r,
                               reference_real=r is not None and _is_real(r, 20) is True)
            except Unresolved:
                s = None
        rigorous = rs.rigorous and ss.rigorous
        # with a tolerance, only the tolerance's own digits matter
        need = BASE_DIGITS + static + int(rs.hidden + ss.hidden) if rtol is None else 20
        if need > MAX_DIGITS:
            return Outcome("unstable", point)
        if r is not None and s is not None:
            kind = _classify(s, r, rtol, need)
            if kind is not None:
                return Outcome(kind, point, s, r, need, rigorous,
                               reference_real=_is_real(r, need) is True)
        wanted = int(need * _BITS_PER_DIGIT) + 64
        bits = wanted if bits < wanted else bits * 2
        if bits > MAX_BITS:
            return Outcome("unstable", point)


def _is_real(z: acb, digits: int) -> bool | None:
    """Real, not real, or not known at this precision."""
    if z.imag.is_zero():
        return True
    if not z.imag.contains(0):
        return False
    if z.imag.rad() <= abs(z).abs_upper() * arb(10) ** (-digits) or z.imag.rad() < arb(10) ** (
            -digits):
        return True
    return None


def _classify(s: acb, r: acb, rtol: float | None, digits: int) -> str | None:
    """agree / hard / soft / extended, or None when the precision cannot tell yet."""
    real_r, real_s = _is_real(r, digits), _is_real(s, digits)
    if real_r is None:
        return None
    same = _same(s, r, rtol, digits)
    if same is True:
        return "agree"
    if real_r and real_s is False:
        return "hard"  # the reference is real here and the answer is not
    if same is None or real_s is None:
        return None
    if real_r:
        return "hard"
    return "extended" if real_s else "soft"


def _same(s: acb, r: acb, rtol: float | None, digits: int) -> bool | None:
    gap = abs(s - r)
    size_hi = max(abs(s).abs_upper(), abs(r).abs_upper())
    if rtol is not None:
        if max(s.rad(), r.rad()) > arb(10) ** (-digits) * size_hi:
            # the balls are as wide as the written decimals' tolerance: equal exactly when
            # some numbers within it give the other value
            return bool((s - r).contains(0))
        size_lo = max(abs(s).abs_lower(), abs(r).abs_lower())
        tol = arb(rtol)
        if gap.upper() <= tol * size_lo or gap.upper() == 0:
            return True
        if gap.lower() > tol * size_hi:
            return False
        return None
    if not s.overlaps(r):
        return False
    unit = arb(10) ** (-digits)
    width = max(s.rad(), r.rad())
    if width <= unit * size_hi or size_hi <= unit:
        return True
    return None
