"""Sample points chosen from the expressions, not only from the domains.

Kinds of points (the verdict names the kinds it used):

* ``random``: four-digit decimals over several magnitudes; ``simple``: ±1/2, ±1, ±3/2, ... where
  real and complex branches part and identities such as (a^b)^c = a^(bc) fail;
* ``zero``, ``tiny`` (10^-3 ... 10^-60), ``huge`` (10^3 ... 10^20), ``domain end`` (just inside
  each finite end of an interval): clamps such as log(p + 1e-12) or Max(p, 1/1000) only show
  there;
* ``constant scale``: around the magnitudes of the constants in the expressions;
* ``breakpoint`` and ``beside breakpoint``: where an Abs, sign, Heaviside, Max, Min, floor,
  ceiling, frac, atan2 or Piecewise switches (the conditions are solved, exactly for
  polynomials, by bisection otherwise), on the switch and at 10^-9 and 10^-3 either side;
* ``feature centre``: where the exponent of an exp peaks (a narrow bump e^(-1000(x-0.3)^2)).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import sympy

from grader.judge import budget
from grader.judge.balls import (
    Evaluator,
    State,
    Undefined,
    Unresolved,
    Unsupported,
    precision,
    to_ball,
)
from grader.judge.domains import Dom, decimal

__all__ = ["Point", "sample_points"]

GRID_MAX = 40  # points of the grid of simple values
MAX_CONDITIONS = 12
_SWITCHES = (sympy.Abs, sympy.sign, sympy.Heaviside)
_ROUNDING = (sympy.floor, sympy.ceiling, sympy.frac)


@dataclass(frozen=True)
class Point:
    coords: tuple[tuple[str, sympy.Expr], ...]
    kind: str

    def exact(self) -> dict[str, sympy.Expr]:
        return dict(self.coords)

    def label(self) -> str:
        return ", ".join(f"{k} = {show_number(v)}" for k, v in self.coords)

    def witness(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.coords}


def show_number(v: sympy.Expr) -> str:
    if v.is_Integer and abs(v) < 10**6:
        return str(v)
    if v.is_Rational and v.q < 10**4 and abs(v.p) < 10**6 and v.q != 1:
        f = float(v)
        if f"{f:.6g}" == f"{f:.12g}":
            return f"{f:.6g}"
    return f"{float(v):.6g}"


def sample_points(exprs: Sequence[sympy.Expr], doms: Mapping[str, Dom], rng: random.Random,
                  generic: int = 12) -> list[Point]:
    names = list(doms)
    if not names:
        return [Point((), "constant")]
    randoms = [Point(tuple((n, doms[n].draw(rng)) for n in names), "random")
               for _ in range(generic)]
    out = _interleave(randoms, _grid(doms, rng))
    bases = randoms[:2] + [p for p in out if p.kind == "simple"][:1]
    out += list(_per_variable(doms, bases, _special_values(doms)))
    out += list(_per_variable(doms, bases, _scale_values(exprs, doms)))
    out += list(_breakpoints(exprs, doms, bases, out))
    return _unique(out)


def _interleave(a: list[Point], b: list[Point]) -> list[Point]:
    out: list[Point] = []
    for i in range(max(len(a), len(b))):
        out += a[i: i + 1] + b[i: i + 1]
    return out


def _grid(doms: Mapping[str, Dom], rng: random.Random) -> list[Point]:
    names = list(doms)
    simple = [doms[n].simple() or [doms[n].draw(rng)] for n in names]
    total = 1
    for s in simple:
        total *= len(s)
    if total <= GRID_MAX:
        rows: list[tuple[sympy.Expr, ...]] = [()]
        for vals in simple:
            rows = [r + (v,) for r in rows for v in vals]
    else:
        rows = [tuple(rng.choice(vals) for vals in simple) for _ in range(GRID_MAX)]
    return [Point(tuple(zip(names, row, strict=True)), "simple") for row in rows]


def _per_variable(doms: Mapping[str, Dom], bases: list[Point],
                  values: Mapping[str, list[tuple[sympy.Expr, str]]]) -> Iterator[Point]:
    for name, vals in values.items():
        for i, (v, kind) in enumerate(vals):
            base = bases[i % len(bases)].exact()
            base[name] = v
            yield Point(tuple((n, base[n]) for n in doms), kind)


def _special_values(doms: Mapping[str, Dom]) -> dict[str, list[tuple[sympy.Expr, str]]]:
    return {n: d.special() for n, d in doms.items()}


def _scale_values(exprs: Sequence[sympy.Expr],
                  doms: Mapping[str, Dom]) -> dict[str, list[tuple[sympy.Expr, str]]]:
    """Around the constants' magnitudes: Max(x, 1000) changes near 1000, x + 1e-12 near 0."""
    found: set[sympy.Rational] = set()
    for e in exprs:
        for n in e.atoms(sympy.Rational):
            v = abs(n)
            if v > 4 or 0 < v < sympy.Rational(1, 5):
                found.add(v)
    scales = sorted(found, key=lambda v: float(v))
    scales = scales[:2] + scales[-2:] if len(scales) > 4 else scales
    out: dict[str, list[tuple[sympy.Expr, str]]] = {}
    for name, d in doms.items():
        vals = []
        for s in scales:
            for f in (sympy.Rational(1, 3), sympy.Integer(1), sympy.Integer(3)):
                v = sympy.Integer(round(s * f)) if d.integral else s * f
                vals += [(v, "constant scale"), (-v, "constant scale")]
        out[name] = [(v, k) for v, k in vals if d.contains(v)]
    return out


_PRIORITY = ("breakpoint", "beside breakpoint", "feature centre", "domain end", "zero",
             "tiny", "huge", "constant scale", "simple", "random", "constant")


def _unique(points: list[Point]) -> list[Point]:
    """Each point once, in first-seen order, under its most specific kind."""
    first: dict[tuple[tuple[str, sympy.Expr], ...], Point] = {}
    for p in points:
        seen = first.get(p.coords)
        if seen is None:
            first[p.coords] = p
        elif _PRIORITY.index(p.kind) < _PRIORITY.index(seen.kind):
            first[p.coords] = Point(p.coords, p.kind)
    return list(first.values())


# ---------------------------------------------------------------------------- breakpoints

def conditions(exprs: Sequence[sympy.Expr]) -> list[tuple[sympy.Expr, str]]:
    """(g, how): the switches happen where g = 0 (how = "zero") or g is an integer."""
    found: list[tuple[sympy.Expr, str]] = []
    for e in exprs:
        for node in sympy.preorder_traversal(e):
            found += _switches_of(node)
    seen: set[sympy.Expr] = set()
    out = []
    for g, how in found:
        if g.free_symbols and (g, how) not in seen:
            seen.add((g, how))
            out.append((g, how))
    return out[:MAX_CONDITIONS]


def _switches_of(node: sympy.Basic) -> list[tuple[sympy.Expr, str]]:
    if isinstance(node, _SWITCHES):
        return [(node.args[0], "zero")]
    if isinstance(node, _ROUNDING):
        return [(node.args[0], "integer")]
    if isinstance(node, (sympy.Max, sympy.Min)):
        a = node.args
        return [(a[i] - a[j], "zero") for i in range(len(a)) for j in range(i + 1, len(a))][:6]
    if isinstance(node, sympy.atan2):
        return [(node.args[0], "zero"), (node.args[1], "zero")]
    if isinstance(node, sympy.Piecewise):
        return [(r.lhs - r.rhs, "zero") for _, c in node.args
                for r in c.atoms(sympy.core.relational.Relational)]
    if isinstance(node, sympy.exp) and node.args[0].free_symbols:
        return [(sympy.diff(node.args[0], s), "centre") for s in node.args[0].free_symbols]
    if isinstance(node, (sympy.log,)) or (node.is_Pow and not node.exp.is_Integer):
        base = node.args[0]
        return [(base, "zero")]
    return []


def _breakpoints(exprs: Sequence[sympy.Expr], doms: Mapping[str, Dom], bases: list[Point],
                 sampled: list[Point]) -> Iterator[Point]:
    for g, how in conditions(exprs):
        if not all(isinstance(s, sympy.Symbol) and s.name in doms for s in g.free_symbols):
            continue  # a bound variable of a sum or an integral
        for name in sorted(s.name for s in g.free_symbols if s.name in doms)[:2]:
            for base in bases[:2]:
                budget.check()
                yield from _around_roots(g, how, name, base, doms, sampled)


def _around_roots(g: sympy.Expr, how: str, name: str, base: Point, doms: Mapping[str, Dom],
                  sampled: list[Point]) -> Iterator[Point]:
    d = doms[name]
    fixed = {s: base.exact()[s.name] for s in g.free_symbols if s.name != name}
    var = next(s for s in g.free_symbols if s.name == name)
    h = g.xreplace(fixed)
    targets: list[sympy.Expr] = [sympy.Integer(0)]
    if how == "integer":
        targets = _integers_near(h, var, [p.exact()[name] for p in sampled[:12]])
    kind = "feature centre" if how == "centre" else "breakpoint"
    for c in targets:
        for r in _real_roots(h - c, var, d):
            values = [(r, kind)] if kind == "feature centre" else [(r, kind)] + [
                (v, "beside breakpoint") for v in _beside(r)]
            for v, k in values:
                if d.contains(v):
                    coords = dict(base.coords)
                    coords[name] = v
                    yield Point(tuple((n, coords[n]) for n in doms), k)


def _beside(r: sympy.Expr) -> list[sympy.Expr]:
    scale = abs(r) if r != 0 else sympy.Integer(1)
    steps = (sympy.Rational(1, 10**9), sympy.Rational(1, 10**3))
    return [r + sgn * scale * s for s in steps for sgn in (-1, 1)]


def _integers_near(h: sympy.Expr, var: sympy.Symbol, values: list[sympy.Expr]) -> list[sympy.Expr]:
    found = {sympy.Integer(0), sympy.Integer(1), sympy.Integer(-1)}
    for v in values[:6]:
        try:
            f = float(h.xreplace({var: v}))
        except (TypeError, ValueError, OverflowError):
            continue
        if abs(f) < 1e12:
            found.add(sympy.Integer(int(f // 1)))
            found.add(sympy.Integer(int(f // 1) + 1))
    return sorted(found, key=lambda n: abs(n))[:8]


def _real_roots(h: sympy.Expr, var: sympy.Symbol, d: Dom) -> list[sympy.Expr]:
    """Real roots of h (univariate): exact for polynomials of small degree, else none."""
    if h.free_symbols != {var}:
        return []
    try:
        poly = sympy.Poly(h, var)
    except sympy.PolynomialError:
        return _bisected_roots(h, var, d)
    if poly.degree() < 1 or poly.degree() > 6 or not all(c.is_Rational for c in poly.coeffs()):
        return _bisected_roots(h, var, d) if poly.degree() >= 1 else []
    out = []
    for r in sympy.real_roots(poly)[:6]:
        if isinstance(r, sympy.CRootOf):
            r = sympy.Rational(sympy.sstr(sympy.N(r, 40), full_prec=True))
        out.append(r)
    return out


def _bisected_roots(h: sympy.Expr, var: sympy.Symbol, d: Dom) -> list[sympy.Expr]:
    """Sign changes of h along a ladder of values, refined by bisection to 30 digits."""
    try:
        f = Evaluator(h)
    except Unsupported:
        return []
    ladder = sorted({v for v in d.simple()} | {
        sympy.Rational(s) * 10**k for k in range(-3, 4) for s in ("1", "-1", "5/2", "-5/2")},
        key=float)
    ladder = [v for v in ladder if d.contains(v)]
    vals = [(v, _real_sign(f, var.name, v)) for v in ladder]
    roots: list[sympy.Expr] = []
    for (a, fa), (b, fb) in zip(vals, vals[1:], strict=False):
        if fa is None or fb is None or fa == fb or len(roots) >= 4:
            continue
        if fa == 0 or fb == 0:
            roots.append(a if fa == 0 else b)
            continue
        budget.check()
        lo, hi = a, b
        for _ in range(100):
            mid = decimal(float((lo + hi) / 2), 17) if _ < 90 else (lo + hi) / 2
            fm = _real_sign(f, var.name, mid)
            if fm is None or fm == 0:
                lo = hi = mid
                break
            lo, hi = (mid, hi) if fm == fa else (lo, mid)
        roots.append(lo if lo == hi else decimal(float((lo + hi) / 2), 17))
    return roots


def _real_sign(f: Evaluator, name: str, v: sympy.Expr) -> int | None:
    with precision(128):
        try:
            z = f(State({name: to_ball(v)}, {name: v}))
        except (Undefined, Unresolved):
            return None
    if not z.imag.contains(0) or z.real.contains(0):
        return 0 if z.is_zero() else None
    return 1 if z.real > 0 else -1
