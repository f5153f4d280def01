"""Where a variable lives, and which values of it are worth trying.

``domains`` maps a symbol name to "real" (the default), "positive", "nonnegative", "integer",
"positive_integer" or an open interval ``(lo, hi)``. Values are exact rationals written with few
digits, so that a witness reads well and the evaluation at it can be exact.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sympy

from grader.judge.parse import parse_expression

__all__ = ["Dom", "Domain", "DomainSpec", "domains_for", "decimal"]

Domain = str | tuple[Any, Any]
DomainSpec = Mapping[str, Domain] | None

_KINDS = ("real", "positive", "nonnegative", "integer", "positive_integer")
#: magnitudes tried near zero and far out (the ends of (0, oo) and of the real line)
TINY = tuple(sympy.Rational(1, 10**k) for k in (3, 8, 20, 60))
HUGE = tuple(sympy.Integer(10**k) for k in (3, 8, 20))


def decimal(v: float, digits: int = 4) -> sympy.Rational:
    """``v`` rounded to ``digits`` significant digits, exactly as that decimal."""
    if v == 0 or not math.isfinite(v):
        return sympy.Integer(0)
    return sympy.Rational(f"{v:.{digits - 1}e}")


@dataclass(frozen=True)
class Dom:
    kind: str  # real, positive, nonnegative, integer, positive_integer, interval
    lo: sympy.Expr = sympy.S.NegativeInfinity
    hi: sympy.Expr = sympy.S.Infinity

    @staticmethod
    def of(spec: Domain) -> Dom:
        if isinstance(spec, str):
            if spec not in _KINDS:
                raise ValueError(f"unknown domain {spec!r}")
            return Dom(spec)
        # bounds may be numbers, sympy numbers (oo) or text ("-oo", "pi/2"): text goes through
        # the safe parser, never sympify's eval
        lo, hi = (_bound(v) for v in spec)
        if not bool(lo < hi):
            raise ValueError(f"empty interval {spec!r}")
        if lo == -sympy.oo and hi == sympy.oo:
            return Dom("real")
        return Dom("interval", lo, hi)

    @property
    def integral(self) -> bool:
        return self.kind in ("integer", "positive_integer")

    def symbol(self, name: str) -> sympy.Symbol:
        if self.kind == "positive" or (self.kind == "interval" and bool(self.lo >= 0)):
            return sympy.Symbol(name, positive=True)
        if self.kind == "nonnegative":
            return sympy.Symbol(name, nonnegative=True)
        if self.kind == "integer":
            return sympy.Symbol(name, integer=True)
        if self.kind == "positive_integer":
            return sympy.Symbol(name, integer=True, positive=True)
        return sympy.Symbol(name, real=True)

    def describe(self) -> str:
        if self.kind == "interval":
            return f"({sympy.sstr(self.lo)}, {sympy.sstr(self.hi)})"
        return self.kind.replace("_", " ")

    def contains(self, v: sympy.Expr) -> bool:
        if self.kind == "real":
            return True
        if self.kind == "positive":
            return bool(v > 0)
        if self.kind == "nonnegative":
            return bool(v >= 0)
        if self.integral:
            return bool(v.is_Integer) and (self.kind == "integer" or bool(v > 0))
        return bool(self.lo < v) and bool(v < self.hi)

    def draw(self, rng: random.Random) -> sympy.Rational:
        """One random value with four significant digits."""
        if self.integral:
            n = rng.randint(1, 60 if rng.random() < 0.25 else 12)
            return sympy.Integer(n if self.kind == "positive_integer" or rng.random() < 0.5
                                 else -n)
        if self.kind == "interval":
            lo, hi = float(self.lo), float(self.hi)
            if math.isinf(lo):
                return decimal(hi - 10 ** rng.uniform(-2, 2))
            if math.isinf(hi):
                return decimal(lo + 10 ** rng.uniform(-2, 2))
            v = decimal(lo + (hi - lo) * rng.uniform(0.01, 0.99))
            return v if self.contains(v) else (self.lo + self.hi) / 2
        mag = 10 ** rng.uniform(-2, 2) if rng.random() < 0.5 else rng.uniform(0.05, 4)
        if self.kind in ("positive", "nonnegative") or rng.random() < 0.5:
            return decimal(mag)
        return decimal(-mag)

    def simple(self) -> list[sympy.Rational]:
        """Simple values, where real and complex branches part (half-integers, integers)."""
        if self.integral:
            vals = ["-3", "-2", "-1", "0", "1", "2", "3", "4", "5"]
        else:
            vals = ["-3", "-2", "-3/2", "-1", "-1/2", "1/2", "1", "3/2", "2", "3"]
        out = [v for v in map(sympy.Rational, vals) if self.contains(v)]
        if self.kind == "interval" and math.isfinite(float(self.lo)) \
                and math.isfinite(float(self.hi)):
            out.append((self.lo + self.hi) / 2)
        return out

    def special(self) -> list[tuple[sympy.Expr, str]]:
        """Zero, tiny and huge magnitudes, the ends of the domain and values just inside."""
        if self.integral:
            big = [sympy.Integer(10**3), sympy.Integer(10**6)]
            cands = [(sympy.Integer(0), "zero")] + [(b, "huge") for b in big] \
                + [(-b, "huge") for b in big]
        elif self.kind == "interval":
            cands = self._ends()
        else:
            cands = [(sympy.Integer(0), "zero")]
            cands += [(t, "tiny") for t in TINY] + [(-t, "tiny") for t in TINY]
            cands += [(h, "huge") for h in HUGE] + [(-h, "huge") for h in HUGE]
        return [(v, k) for v, k in cands if self.contains(v)]

    def _ends(self) -> list[tuple[sympy.Expr, str]]:
        out: list[tuple[sympy.Expr, str]] = []
        width = self.hi - self.lo if (self.lo.is_finite and self.hi.is_finite) else None
        for end, direction in ((self.lo, 1), (self.hi, -1)):
            if not end.is_finite:
                out += [(-direction * h, "huge") for h in HUGE]
                continue
            scale = width if width is not None else max(abs(end), sympy.Integer(1))
            out += [(end + direction * scale * t, "domain end") for t in TINY]
        if self.contains(sympy.Integer(0)):
            out.append((sympy.Integer(0), "zero"))
        return out


def _bound(v: Any) -> sympy.Expr:
    if isinstance(v, str):
        e = parse_expression(v)
    elif isinstance(v, float):
        e = sympy.Rational(repr(v)) if math.isfinite(v) else (sympy.oo if v > 0 else -sympy.oo)
    else:
        e = sympy.sympify(v)
    if not (e.is_number and e.is_extended_real):
        raise ValueError(f"an interval bound must be a real number, not {v!r}")
    return e


def domains_for(names: set[str], domains: DomainSpec) -> dict[str, Dom]:
    given = dict(domains or {})
    return {n: Dom.of(given.get(n, "real")) for n in sorted(names)}
