"""sympy functions as operations on acb balls, with sympy's principal branches.

Each entry takes the argument balls and a way to get argument ``i`` exactly (a sympy number at
the exact point), used only where a ball cannot decide: on a discontinuity (``floor`` at an
integer, ``sign`` at 0) or on a branch cut (``log`` of a negative number whose imaginary part
is a ball around 0).

``HIDING`` says how many decimal digits a function's value can hide next to 1 beyond what its
magnitude shows: ``tanh(50)`` is 1 to 43 digits, ``erf(10)`` to 44, ``zeta(100)`` to 30. The
judge raises its working precision by that much, so that an exact answer is never taken for
an exact reference just because they share their first 30 digits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import sympy
from flint import acb, arb, fmpq

__all__ = ["FUNCTIONS", "HIDING", "Undefined", "Unresolved"]


class Undefined(Exception):
    """The expression has no value at this point (pole, outside a function's domain)."""


class Unresolved(Exception):
    """The precision is too low to decide (a ball straddles a discontinuity or a cut)."""


Exact = Callable[[int], sympy.Expr]
Impl = Callable[[Sequence[acb], Exact], acb]
_LN10 = math.log(10)


def _real(z: acb) -> arb:
    if not z.imag.contains(0):
        raise Undefined("a real-only function got a complex argument")
    if not z.imag.is_zero() and z.imag.rad() > abs(z).abs_upper() * arb(2) ** -30:
        raise Unresolved("imaginary part not known to be 0")
    return z.real


def _sign(z: acb, exact: Callable[[], sympy.Expr]) -> int:
    x = _real(z)
    if not x.contains(0):
        return 1 if x > 0 else -1
    if x.is_zero():
        return 0
    value = exact()
    if value.is_zero:
        return 0
    if value.is_zero is False and value.is_extended_real and value.is_positive is not None:
        return 1 if value.is_positive else -1
    raise Unresolved("cannot decide the sign")


def _off_cut(z: acb, exact: Callable[[], sympy.Expr]) -> acb:
    """On the negative real axis with an imaginary part only known to be tiny: decide it."""
    if z.imag.is_zero() or not z.imag.contains(0) or not (z.real < 0 or z.real > 0):
        return z
    value = exact()
    im = sympy.im(value)
    if im.is_zero:
        return acb(z.real)
    raise Unresolved("on a branch cut")


def _unary(method: Callable[[acb], acb], cut: bool = False) -> Impl:
    def impl(v: Sequence[acb], exact: Exact) -> acb:
        z = _off_cut(v[0], lambda: exact(0)) if cut else v[0]
        return method(z)
    return impl


def _inverse(method: Callable[[acb], acb], at_zero: Callable[[], acb] | None) -> Impl:
    """acot(z) = atan(1/z) and the like; the value at 0 where sympy defines one."""
    def impl(v: Sequence[acb], exact: Exact) -> acb:
        if v[0].is_zero():
            if at_zero is None:
                raise Undefined("pole")
            return at_zero()
        return method(_off_cut(1 / v[0], lambda: 1 / exact(0)))
    return impl


def _log(v: Sequence[acb], exact: Exact) -> acb:
    if v[0].is_zero():
        raise Undefined("log of zero")
    return _off_cut(v[0], lambda: exact(0)).log()


def _not_pole(z: acb) -> acb:
    """Gamma-like functions have poles at 0, -1, -2, ... (exact points only)."""
    if z.is_exact() and z.imag.is_zero() and z.real <= 0 and z.real.is_integer():
        raise Undefined("pole of the gamma function")
    return z


def _abs(v: Sequence[acb], exact: Exact) -> acb:
    return acb(abs(v[0]))


def _sign_fn(v: Sequence[acb], exact: Exact) -> acb:
    z = v[0]
    if not z.imag.contains(0):
        return z / abs(z)
    return acb(_sign(z, lambda: exact(0)))


def _heaviside(v: Sequence[acb], exact: Exact) -> acb:
    s = _sign(v[0], lambda: exact(0))
    if s == 0:
        return v[1] if len(v) > 1 else acb(0.5)
    return acb(1 if s > 0 else 0)


def _extremum(pick_max: bool) -> Impl:
    def impl(v: Sequence[acb], exact: Exact) -> acb:
        out = _real(v[0])
        for z in v[1:]:
            out = out.max(_real(z)) if pick_max else out.min(_real(z))
        return acb(out)
    return impl


def _rounding(kind: str) -> Impl:
    def impl(v: Sequence[acb], exact: Exact) -> acb:
        x = _real(v[0])
        if not x.contains_integer() or x.is_exact():
            n = x.floor() if kind != "ceiling" else x.ceil()
            if n.is_exact():
                return acb(x - n) if kind == "frac" else acb(n)
        value = exact(0)
        fn = {"floor": sympy.floor, "ceiling": sympy.ceiling, "frac": sympy.frac}[kind]
        out = fn(value)
        if not out.is_Rational:
            raise Unresolved(f"cannot decide {kind} here")
        return acb(fmpq(int(out.p), int(out.q)))
    return impl


def _atan2(v: Sequence[acb], exact: Exact) -> acb:
    y, x = v
    sy = _sign(y, lambda: exact(0)) if _real(y).contains(0) else (1 if _real(y) > 0 else -1)
    if sy == 0:
        sx = _sign(x, lambda: exact(1))
        if sx == 0:
            raise Undefined("atan2(0, 0)")
        return acb(0) if sx > 0 else acb.pi()
    return acb(arb.atan2(_real(y), _real(x)))


def _arg(v: Sequence[acb], exact: Exact) -> acb:
    z = v[0]
    if z.is_zero():
        raise Undefined("arg(0)")
    return acb(_off_cut(z, lambda: exact(0)).arg())


def _binomial(v: Sequence[acb], exact: Exact) -> acb:
    n, k = v
    for z in (n, k, n - k):
        # poles of the gamma functions: the value depends on the direction of approach
        if z.is_exact() and z.imag.is_zero() and z.real < 0 and z.real.is_integer():
            raise Undefined("binomial at a pole of the gamma function")
    whole = k.real.unique_fmpz() if k.is_exact() and k.imag.is_zero() else None
    if whole is not None:
        kk = int(whole)
        if kk <= 2000:
            out = acb(1)
            for i in range(kk):
                out = out * (n - i) / (i + 1)
            return out
    for z in (n + 1, k + 1, n - k + 1):
        _not_pole(z)
    return (n + 1).gamma() / ((k + 1).gamma() * (n - k + 1).gamma())


def _harmonic(v: Sequence[acb], exact: Exact) -> acb:
    n = v[0]
    _not_pole(n + 1)
    if len(v) == 1:
        return (n + 1).digamma() + acb(arb.const_euler())
    m = v[1]
    return m.zeta() - m.zeta(n + 1)


def _zeta(v: Sequence[acb], exact: Exact) -> acb:
    s = v[0]
    if s.is_exact() and (s - 1).is_zero():
        raise Undefined("pole of zeta")
    return s.zeta() if len(v) == 1 else s.zeta(v[1])


def _real_only(method: Callable[[arb], arb]) -> Impl:
    return lambda v, exact: acb(method(_real(v[0])))


def _lambertw(v: Sequence[acb], exact: Exact) -> acb:
    branch = _real(v[1]).unique_fmpz() if len(v) > 1 else 0
    if branch is None:
        raise Undefined("LambertW needs an integer branch")
    return v[0].lambertw(branch=int(branch))


FUNCTIONS: dict[type, Impl] = {
    sympy.exp: _unary(acb.exp), sympy.log: _log,
    sympy.sin: _unary(acb.sin), sympy.cos: _unary(acb.cos), sympy.tan: _unary(acb.tan),
    sympy.cot: _unary(acb.cot), sympy.sec: _unary(acb.sec), sympy.csc: _unary(acb.csc),
    sympy.asin: _unary(acb.asin, cut=True), sympy.acos: _unary(acb.acos, cut=True),
    sympy.atan: _unary(acb.atan, cut=True),
    sympy.acot: _inverse(acb.atan, lambda: acb.pi() / 2),
    sympy.asec: _inverse(acb.acos, None), sympy.acsc: _inverse(acb.asin, None),
    sympy.sinh: _unary(acb.sinh), sympy.cosh: _unary(acb.cosh), sympy.tanh: _unary(acb.tanh),
    sympy.coth: _unary(acb.coth), sympy.sech: _unary(acb.sech), sympy.csch: _unary(acb.csch),
    sympy.asinh: _unary(acb.asinh, cut=True), sympy.acosh: _unary(acb.acosh, cut=True),
    sympy.atanh: _unary(acb.atanh, cut=True),
    sympy.acoth: _inverse(acb.atanh, lambda: acb.pi() * acb(0, 1) / 2),
    sympy.asech: _inverse(acb.acosh, None), sympy.acsch: _inverse(acb.asinh, None),
    sympy.gamma: lambda v, e: _not_pole(v[0]).gamma(),
    sympy.loggamma: lambda v, e: _off_cut(_not_pole(v[0]), lambda: e(0)).lgamma(),
    sympy.digamma: lambda v, e: _not_pole(v[0]).digamma(),
    sympy.polygamma: lambda v, e: _not_pole(v[1]).polygamma(v[0]),
    sympy.factorial: lambda v, e: _not_pole(v[0] + 1).gamma(),
    sympy.binomial: _binomial, sympy.harmonic: _harmonic, sympy.zeta: _zeta,
    sympy.beta: lambda v, e: _not_pole(v[0]).gamma() * _not_pole(v[1]).gamma()
    / _not_pole(v[0] + v[1]).gamma(),
    sympy.erf: _unary(acb.erf), sympy.erfc: _unary(acb.erfc), sympy.erfi: _unary(acb.erfi),
    sympy.erfinv: _real_only(arb.erfinv), sympy.Ei: _unary(acb.ei, cut=True),
    sympy.li: _unary(acb.li, cut=True), sympy.Si: _unary(acb.si), sympy.Ci: _unary(acb.ci),
    sympy.Shi: _unary(acb.shi), sympy.Chi: _unary(acb.chi, cut=True),
    sympy.sinc: _unary(acb.sinc), sympy.LambertW: _lambertw,
    sympy.Abs: _abs, sympy.sign: _sign_fn, sympy.Heaviside: _heaviside,
    sympy.Max: _extremum(True), sympy.Min: _extremum(False),
    sympy.floor: _rounding("floor"), sympy.ceiling: _rounding("ceiling"),
    sympy.frac: _rounding("frac"), sympy.atan2: _atan2, sympy.arg: _arg,
    sympy.re: lambda v, e: acb(v[0].real), sympy.im: lambda v, e: acb(v[0].imag),
    sympy.conjugate: lambda v, e: v[0].conjugate(),
}


def _saturating(factor: float) -> Callable[[Sequence[acb], acb], float]:
    """tanh(x) = 1 - 2e^(-2x) + ...: hides about factor·|x|/ln(10) digits."""
    return lambda v, z: factor * float(abs(v[0].real).upper()) / _LN10


def _gaussian(v: Sequence[acb], z: acb) -> float:
    return float((v[0].real ** 2).upper()) / _LN10


HIDING: dict[type, Callable[[Sequence[acb], acb], float]] = {
    sympy.tanh: _saturating(2), sympy.coth: _saturating(2), sympy.sech: _saturating(1),
    sympy.csch: _saturating(1), sympy.erf: _gaussian, sympy.erfc: _gaussian,
    sympy.atan: lambda v, z: max(0.0, float(abs(v[0]).abs_upper().log().mid()) / _LN10),
    sympy.zeta: lambda v, z: float(abs(v[0].real).upper()) * math.log10(2),
}
