"""High-precision evaluation of sympy expressions at points, for the numeric screening.

An own tree walker rather than ``lambdify``: the judge needs control over what "undefined"
means (poles, Max of complex numbers, Heaviside off the real line), principal branches that
agree with sympy's, and a measure of cancellation so that a value computed as ``1 - 1`` from
``tanh(500)`` is not trusted as a witness.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy
from sympy.core.function import AppliedUndef

__all__ = ["Compiled", "Undefined", "Unsupported", "Value", "evaluate", "evaluate_fallback",
           "supported"]


class Undefined(Exception):
    """The expression has no value at this point (pole, outside a function's domain)."""


class Unsupported(Exception):
    """The walker does not know this node; the caller falls back to sympy's evalf."""


@dataclass(frozen=True)
class Value:
    """A value and how many significant digits survived cancellation."""

    z: mpmath.mpc
    digits: float
    #: estimate of the absolute rounding error: working precision times the largest partial sum
    err: mpmath.mpf = mpmath.mpf(0)

    @property
    def is_real(self) -> bool:
        tol = mpmath.mpf(10) ** (-(max(self.digits, 8.0) - 4))
        return abs(self.z.imag) <= tol * max(abs(self.z), mpmath.mpf(1) * 10**-300)


_UNARY: dict[type, Callable[[mpmath.mpc], mpmath.mpc]] = {
    sympy.exp: mpmath.exp, sympy.sin: mpmath.sin, sympy.cos: mpmath.cos, sympy.tan: mpmath.tan,
    sympy.cot: mpmath.cot, sympy.sec: mpmath.sec, sympy.csc: mpmath.csc,
    sympy.asin: mpmath.asin, sympy.acos: mpmath.acos, sympy.atan: mpmath.atan,
    sympy.acot: mpmath.acot, sympy.asec: mpmath.asec, sympy.acsc: mpmath.acsc,
    sympy.sinh: mpmath.sinh, sympy.cosh: mpmath.cosh, sympy.tanh: mpmath.tanh,
    sympy.coth: mpmath.coth, sympy.sech: mpmath.sech, sympy.csch: mpmath.csch,
    sympy.asinh: mpmath.asinh, sympy.acosh: mpmath.acosh, sympy.atanh: mpmath.atanh,
    sympy.acoth: mpmath.acoth, sympy.asech: mpmath.asech, sympy.acsch: mpmath.acsch,
    sympy.gamma: mpmath.gamma, sympy.erf: mpmath.erf, sympy.erfc: mpmath.erfc,
    sympy.conjugate: mpmath.conj,
}
_REAL_ONLY: dict[type, Callable[[mpmath.mpf], mpmath.mpf]] = {
    sympy.floor: mpmath.floor, sympy.ceiling: mpmath.ceil,
    sympy.frac: lambda v: v - mpmath.floor(v),
}
_CONST: dict[sympy.Basic, Callable[[], mpmath.mpf]] = {
    sympy.pi: lambda: +mpmath.pi, sympy.E: lambda: +mpmath.e,
    sympy.EulerGamma: lambda: +mpmath.euler, sympy.GoldenRatio: lambda: +mpmath.phi,
    sympy.Catalan: lambda: +mpmath.catalan,
}
_REL = {
    sympy.StrictLessThan: lambda a, b: a < b, sympy.LessThan: lambda a, b: a <= b,
    sympy.StrictGreaterThan: lambda a, b: a > b, sympy.GreaterThan: lambda a, b: a >= b,
    sympy.Equality: lambda a, b: a == b, sympy.Unequality: lambda a, b: a != b,
}


def supported(expr: sympy.Basic) -> bool:
    """Whether :func:`evaluate` can walk every node of ``expr``."""
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, (AppliedUndef, sympy.Derivative, sympy.Integral, sympy.Sum,
                             sympy.Product, sympy.Limit, sympy.Subs)):
            return False
        if isinstance(node, sympy.Function) and not (
            type(node) in _UNARY or type(node) in _REAL_ONLY or isinstance(node, (
                sympy.Abs, sympy.sign, sympy.Heaviside, sympy.Max, sympy.Min, sympy.log,
                sympy.factorial, sympy.binomial, sympy.atan2, sympy.re, sympy.im, sympy.arg,
                sympy.Piecewise, sympy.LambertW,
            ))
        ):
            return False
    return True



#: an mpmath number, ``mpf`` while real and ``mpc`` once complex (mpmath has no type information)
Num = Any
Fn = Callable[[Mapping[str, object]], Num]


class _Compiler:
    """sympy tree -> nested closures over mpmath numbers (mpf while real, mpc once complex)."""

    def __init__(self) -> None:
        self.lost = 0.0  # worst loss of significant digits to cancellation, per evaluation
        self.scale = mpmath.mpf(0)  # largest sum of absolute values of terms, per evaluation

    def compile(self, e: sympy.Basic) -> Fn:  # noqa: C901 - a dispatcher
        if e.is_Symbol:
            name = e.name
            return lambda env: env[name]
        if e.is_Number or e in _CONST or e is sympy.I:
            return self.constant(e)
        if e.is_Add:
            parts = [self.compile(a) for a in e.args]
            return self.add(parts)
        if e.is_Mul:
            parts = [self.compile(a) for a in e.args]

            def mul(env: Mapping[str, object]) -> Num:
                out = parts[0](env)
                for p in parts[1:]:
                    out = out * p(env)
                return out

            return mul
        if e.is_Pow:
            return self.power(e)
        if isinstance(e, sympy.Piecewise):
            branches = [(self.compile(x), self.condition(c)) for x, c in e.args]

            def piecewise(env: Mapping[str, object]) -> Num:
                for value, cond in branches:
                    if cond(env):
                        return value(env)
                raise Undefined("no branch of the piecewise applies")

            return piecewise
        if e.is_Function:
            return self.function(e)
        raise Unsupported(type(e).__name__)

    def constant(self, e: sympy.Basic) -> Fn:
        if e in (sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
            def undefined(env: Mapping[str, object]) -> Num:
                raise Undefined("infinite")
            return undefined
        if e is sympy.I:
            make: Callable[[], object] = lambda: mpmath.mpc(0, 1)  # noqa: E731
        elif e in _CONST:
            make = _CONST[e]
        elif e.is_Integer:
            n = int(e)
            make = lambda: mpmath.mpf(n)  # noqa: E731
        elif e.is_Rational:
            p, q = int(e.p), int(e.q)
            make = lambda: mpmath.mpf(p) / q  # noqa: E731
        else:
            # the decimal the Float prints as, so that 0.1 is one tenth at any precision
            text = sympy.sstr(e, full_prec=True)
            make = lambda: mpmath.mpf(text)  # noqa: E731
        cache: dict[int, object] = {}

        def const(env: Mapping[str, object]) -> Num:
            dps = mpmath.mp.dps
            v = cache.get(dps)
            if v is None:
                v = cache[dps] = make()
            return v

        return const

    def add(self, parts: list[Fn]) -> Fn:
        def add(env: Mapping[str, object]) -> Num:
            terms = [p(env) for p in parts]
            total = mpmath.fsum(terms)
            scale = mpmath.fsum([abs(t) for t in terms])
            if scale > self.scale:
                self.scale = scale
            if scale:
                if not total:
                    self.lost = math.inf
                else:
                    ratio = scale / abs(total)
                    if ratio > 10:
                        self.lost = max(self.lost, float(mpmath.log10(ratio)))
            return total

        return add

    def power(self, e: sympy.Pow) -> Fn:
        base = self.compile(e.base)
        if e.exp.is_Integer:
            n = int(e.exp)

            def ipow(env: Mapping[str, object]) -> Num:
                b = base(env)
                if n < 0 and not b:
                    raise Undefined("division by zero")
                return b**n

            return ipow
        if e.exp == sympy.S.Half:
            return lambda env: mpmath.sqrt(base(env))
        ex = self.compile(e.exp)

        def pow_(env: Mapping[str, object]) -> Num:
            b, x = base(env), ex(env)
            if not b:
                if _real(x) > 0:
                    return mpmath.mpf(0)
                raise Undefined("0 to a non-positive power")
            return mpmath.power(b, x)  # principal branch, as sympy's Pow

        return pow_

    def condition(self, cond: sympy.Basic) -> Callable[[Mapping[str, object]], bool]:
        if cond is sympy.true:
            return lambda env: True
        if cond is sympy.false:
            return lambda env: False
        if isinstance(cond, (sympy.And, sympy.Or)):
            subs = [self.condition(c) for c in cond.args]
            if isinstance(cond, sympy.And):
                return lambda env: all(c(env) for c in subs)
            return lambda env: any(c(env) for c in subs)
        if isinstance(cond, sympy.Not):
            inner = self.condition(cond.args[0])
            return lambda env: not inner(env)
        rel = _REL.get(type(cond))
        if rel is None:
            raise Unsupported(type(cond).__name__)
        lhs, rhs = self.compile(cond.lhs), self.compile(cond.rhs)
        if type(cond) in (sympy.Equality, sympy.Unequality):
            return lambda env: bool(rel(lhs(env), rhs(env)))
        return lambda env: bool(rel(_real(lhs(env)), _real(rhs(env))))

    def function(self, e: sympy.Function) -> Fn:  # noqa: C901 - a dispatcher
        kind = type(e)
        args = [self.compile(a) for a in e.args]
        if not args:
            raise Unsupported(kind.__name__)  # every function below takes an argument
        a0 = args[0]
        if kind in _UNARY:
            f = _UNARY[kind]
            return lambda env: f(a0(env))
        if kind in _REAL_ONLY:
            g = _REAL_ONLY[kind]
            return lambda env: g(_real(a0(env)))
        if isinstance(e, sympy.log):
            def log(env: Mapping[str, object]) -> Num:
                v = a0(env)
                if not v:
                    raise Undefined("log of zero")
                return mpmath.log(v)
            return log
        if isinstance(e, sympy.Abs):
            return lambda env: abs(a0(env))
        if isinstance(e, sympy.sign):
            def sign(env: Mapping[str, object]) -> Num:
                v = a0(env)
                return mpmath.mpf(0) if not v else v / abs(v)
            return sign
        if isinstance(e, sympy.Heaviside):
            h0 = args[1] if len(args) > 1 else (lambda env: mpmath.mpf(0.5))

            def heaviside(env: Mapping[str, object]) -> Num:
                v = _real(a0(env))
                if not v:
                    return h0(env)
                return mpmath.mpf(1 if v > 0 else 0)
            return heaviside
        if isinstance(e, (sympy.Max, sympy.Min)):
            pick = max if isinstance(e, sympy.Max) else min
            return lambda env: pick(_real(a(env)) for a in args)
        if isinstance(e, sympy.factorial):
            return lambda env: mpmath.factorial(a0(env))
        if isinstance(e, sympy.binomial):
            a1 = args[1]

            def binomial(env: Mapping[str, object]) -> Num:
                n, k = a0(env), a1(env)
                for v in (n, k, n - k):
                    # poles of the gamma functions: the limit depends on the direction
                    if mpmath.im(v) == 0 and v < 0 and mpmath.isint(v):
                        raise Undefined("binomial at a pole of the gamma function")
                return mpmath.binomial(n, k)

            return binomial
        if isinstance(e, sympy.atan2):
            a1 = args[1]

            def atan2(env: Mapping[str, object]) -> Num:
                y, x = _real(a0(env)), _real(a1(env))
                if not x and not y:
                    raise Undefined("atan2(0, 0)")
                return mpmath.atan2(y, x)
            return atan2
        if isinstance(e, sympy.re):
            return lambda env: mpmath.re(a0(env))
        if isinstance(e, sympy.im):
            return lambda env: mpmath.im(a0(env))
        if isinstance(e, sympy.arg):
            def arg(env: Mapping[str, object]) -> Num:
                v = a0(env)
                if not v:
                    raise Undefined("arg(0)")
                return mpmath.arg(v)
            return arg
        if isinstance(e, sympy.LambertW):
            k = int(e.args[1]) if len(e.args) > 1 else 0
            return lambda env: mpmath.lambertw(a0(env), k)
        raise Unsupported(kind.__name__)


def _real(v: object) -> mpmath.mpf:
    if isinstance(v, mpmath.mpc):
        if v.imag and abs(v.imag) > abs(v) * mpmath.mpf(10) ** (-(mpmath.mp.dps - 5)):
            raise Undefined("a real-only function got a complex argument")
        return v.real
    return v  # type: ignore[return-value]


class Compiled:
    """An expression compiled for repeated evaluation."""

    def __init__(self, expr: sympy.Basic) -> None:
        self._compiler = _Compiler()
        self._fn = self._compiler.compile(expr)

    def __call__(self, env: Mapping[str, object], dps: int) -> Value:
        with mpmath.workdps(dps):
            self._compiler.lost = 0.0
            self._compiler.scale = mpmath.mpf(0)
            try:
                z = self._fn(env)
            except ZeroDivisionError:
                raise Undefined("division by zero") from None
            except (ValueError, OverflowError, TypeError) as exc:
                # mpmath signals poles ("gamma function pole") and domain errors this way
                raise Undefined(str(exc)) from None
            z = _check(mpmath.mpc(z))
            unit = mpmath.mpf(10) ** -dps
            return Value(z, dps - self._compiler.lost,
                         unit * max(self._compiler.scale, abs(z)) * 10)


def _check(z: mpmath.mpc) -> mpmath.mpc:
    if not (mpmath.isfinite(z.real) and mpmath.isfinite(z.imag)):
        raise Undefined("not finite")
    return z


def evaluate(expr: sympy.Basic, env: Mapping[str, object], dps: int) -> Value:
    """Value of ``expr`` at ``env`` (symbol name -> mpf); compile once with :class:`Compiled`
    when evaluating repeatedly."""
    return Compiled(expr)(env, dps)


def evaluate_fallback(expr: sympy.Basic, env: Mapping[str, mpmath.mpf], dps: int) -> Value:
    """sympy's evalf, for nodes the walker does not know (sums, integrals); slow."""
    subs = {s: sympy.Float(mpmath.nstr(env[s.name], dps), dps) for s in expr.free_symbols
            if s.name in env}
    try:
        val = sympy.N(expr.xreplace(subs), dps)
    except (ValueError, TypeError, ZeroDivisionError, ArithmeticError, NotImplementedError):
        raise Undefined("evalf failed") from None
    if not val.is_number or val.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        raise Undefined("no numeric value")
    re_, im_ = val.as_real_imag()
    try:
        with mpmath.workdps(dps):
            z = mpmath.mpc(mpmath.mpf(sympy.sstr(sympy.N(re_, dps), full_prec=True)),
                           mpmath.mpf(sympy.sstr(sympy.N(im_, dps), full_prec=True)))
    except (ValueError, TypeError):
        raise Undefined("no numeric value") from None
    return Value(_check(z), dps / 2, abs(z) * mpmath.mpf(10) ** (-dps // 2))
