"""Is the student's expression the reference expression? Proof, refutation, or "undetermined".

Order of work, cheapest first (details and the reasons are in docs/judgement.md):

1. identical trees (after renaming bound variables), infinities compared structurally;
2. rational functions with exact coefficients: ``cancel`` of the difference decides exactly;
3. numeric screening at points drawn from each symbol's domain (random points plus a grid of
   simple values such as -3/2 or 2), in 30-digit arithmetic; a difference is re-checked at
   70 digits before it is reported, with the point as witness;
4. symbolic proof attempts under the domain's assumptions when sampling did not settle it.

On a real domain the reference fixes where the answer is judged: where the reference is real
the answer must be real and equal; where both are complex, a mismatch only counts when the
reference is complex-valued everywhere (a branch choice otherwise, e.g. ``1/sqrt(x)`` against
``sqrt(1/x)`` for x < 0); where only the answer is real, the answer is simply defined on a
larger set (``log(x**2)`` for ``2*log(x)``).

Time: the whole call runs under ``timeout`` seconds. In the main thread a SIGALRM timer
interrupts sympy; elsewhere only steps that check the clock themselves run (no ``simplify``).
Running out of time gives "undetermined", never "different".
"""

from __future__ import annotations

import math
import random
import signal
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import mpmath
import sympy
from sympy.core.function import AppliedUndef

from grader.judge.numeric import Compiled, Undefined, Unsupported, Value, evaluate_fallback
from grader.judge.parse import parse_expression

__all__ = ["Equivalence", "equivalent", "deadline", "Domain", "DomainSpec"]

Verdict = Literal["equal", "different", "undetermined"]
Domain = str | tuple[Any, Any]
DomainSpec = Mapping[str, Domain] | None

DPS = 30  # working digits of the screening
CONFIRM_DPS = 70  # a difference must survive this precision before it is reported
MIN_AGREE = 10  # agreeing points needed to call two expressions equal without a proof
GRID_MAX = 48  # points of the grid of simple values


@dataclass(frozen=True)
class Equivalence:
    """Verdict of one comparison; truthy exactly when the verdict is "equal"."""

    verdict: Verdict
    method: str
    witness: dict[str, float] | None = None
    student_value: complex | float | None = None
    reference_value: complex | float | None = None
    explanation: str = ""
    seconds: float = 0.0

    def __bool__(self) -> bool:
        return self.verdict == "equal"


class _Timeout(TimeoutError):
    pass


# deadline of an enclosing deadline() (one SIGALRM timer serves nested comparisons)
_OUTER_END: float | None = None


# ---------------------------------------------------------------------------- time budget

class _Budget:
    def __init__(self, seconds: float) -> None:
        self.start = time.perf_counter()
        self.end = self.start + seconds
        self.interruptible = False

    def left(self) -> float:
        return self.end - time.perf_counter()

    def check(self) -> None:
        if time.perf_counter() > self.end:
            raise _Timeout


def _main_thread() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Hard deadline for a group of comparisons (an answer-test mode makes several).

    Raises ``TimeoutError`` inside the block when it runs out (main thread only)."""
    global _OUTER_END
    if _OUTER_END is not None or not _main_thread() or signal.getitimer(signal.ITIMER_REAL)[0]:
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise _Timeout

    old = signal.signal(signal.SIGALRM, handler)
    _OUTER_END = time.perf_counter() + seconds
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        _OUTER_END = None


@contextmanager
def _alarm(budget: _Budget) -> Iterator[None]:
    """SIGALRM at the deadline when that is possible (main thread, POSIX)."""
    if _OUTER_END is not None and _main_thread():
        # inside deadline(): its timer interrupts; keep within both budgets
        budget.end = min(budget.end, _OUTER_END)
        budget.interruptible = True
        try:
            yield
        finally:
            budget.interruptible = False
        return
    usable = (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0  # never clobber someone's timer
    )
    if not usable:
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise _Timeout

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, max(budget.left(), 1e-3))
    budget.interruptible = True
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        budget.interruptible = False


# ---------------------------------------------------------------------------- domains

@dataclass(frozen=True)
class _Dom:
    kind: str  # real, positive, nonnegative, integer, positive_integer, interval
    lo: float = -math.inf
    hi: float = math.inf

    @staticmethod
    def of(spec: Domain) -> _Dom:
        if isinstance(spec, str):
            if spec not in ("real", "positive", "nonnegative", "integer", "positive_integer"):
                raise ValueError(f"unknown domain {spec!r}")
            return _Dom(spec)
        # bounds may be numbers, sympy numbers (oo) or text ("-oo", "pi/2"): text goes through
        # the safe parser, never sympify's eval
        lo, hi = (
            float(v) if isinstance(v, (int, float))
            else float(parse_expression(v) if isinstance(v, str) else sympy.sympify(v))
            for v in spec
        )
        if not lo < hi:
            raise ValueError(f"empty interval {spec!r}")
        if lo == -math.inf and hi == math.inf:
            return _Dom("real")
        return _Dom("interval", lo, hi)

    def symbol(self, name: str) -> sympy.Symbol:
        if self.kind == "positive" or (self.kind == "interval" and self.lo >= 0):
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
            return f"({self.lo:g}, {self.hi:g})"
        return self.kind.replace("_", " ")

    def draw(self, rng: random.Random) -> str:
        """One random value, as a short decimal so witnesses read well."""
        k = self.kind
        if k in ("integer", "positive_integer"):
            big = rng.random() < 0.25
            n = rng.randint(1, 60 if big else 12)
            return str(n if k == "positive_integer" or rng.random() < 0.5 else -n)
        if k == "interval":
            lo, hi = self.lo, self.hi
            if math.isinf(lo):
                return _dec(hi - 10 ** rng.uniform(-2, 2))
            if math.isinf(hi):
                return _dec(lo + 10 ** rng.uniform(-2, 2))
            return _dec(lo + (hi - lo) * rng.uniform(0.01, 0.99))
        if rng.random() < 0.5:
            mag = 10 ** rng.uniform(-2, 2)
        else:
            mag = rng.uniform(0.05, 4)
        if k in ("positive", "nonnegative") or rng.random() < 0.5:
            return _dec(mag)
        return _dec(-mag)

    def simple(self) -> list[str]:
        """Simple values, where real and complex branches part (half-integers, integers)."""
        base = ["-3", "-2", "-1.5", "-1", "-0.5", "0.5", "1", "1.5", "2", "3"]
        k = self.kind
        if k == "real":
            return base
        if k == "positive":
            return [v for v in base if not v.startswith("-")]
        if k == "nonnegative":
            return ["0"] + [v for v in base if not v.startswith("-")]
        if k == "integer":
            return ["-3", "-2", "-1", "0", "1", "2", "3"]
        if k == "positive_integer":
            return ["1", "2", "3", "4", "5"]
        inside = [v for v in base if self.lo < float(v) < self.hi]
        if not math.isinf(self.lo) and not math.isinf(self.hi):
            inside.append(_dec((self.lo + self.hi) / 2))
        return inside


def _dec(v: float) -> str:
    return f"{v:.4g}" if abs(v) >= 1e-4 else f"{v:.4e}"


def _domains(names: set[str], domains: DomainSpec) -> dict[str, _Dom]:
    given = dict(domains or {})
    return {n: _Dom.of(given.get(n, "real")) for n in sorted(names)}


# ---------------------------------------------------------------------------- preparation

def _as_expr(value: Any) -> sympy.Basic:
    if isinstance(value, str):
        return parse_expression(value)
    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, bool):
        raise TypeError("a bool is not an expression")
    if isinstance(value, (int, float, complex)):
        return sympy.sympify(value)
    raise TypeError(f"cannot compare a {type(value).__name__}")


def _rename(expr: sympy.Basic, doms: Mapping[str, _Dom]) -> sympy.Basic:
    """Symbols are identified by name; give each the assumptions of its domain."""
    mapping = {s: doms[s.name].symbol(s.name) for s in expr.free_symbols
               if isinstance(s, sympy.Symbol) and s.name in doms}
    return expr.xreplace(mapping) if mapping else expr


def _infinity_values(expr: sympy.Basic) -> bool:
    """Does ``expr`` use an infinity as a value (limits of integrals and sums do not count)?"""
    stack = [expr]
    while stack:
        e = stack.pop()
        if e in (sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
            return True
        if isinstance(e, (sympy.Integral, sympy.Sum, sympy.Product)):
            stack.append(e.function)
            continue
        stack.extend(e.args)
    return False


def _floats_to_decimals(expr: sympy.Basic) -> sympy.Basic:
    floats = expr.atoms(sympy.Float)
    if not floats:
        return expr
    return expr.xreplace({f: sympy.Rational(sympy.sstr(f, full_prec=True)) for f in floats})


def _undefined_functions(expr: sympy.Basic) -> dict[str, Any]:
    return {type(f).__name__: type(f) for f in expr.atoms(AppliedUndef)}


def _interpretation(name: str, nargs: int, seed: int) -> sympy.Lambda:
    """A random smooth function standing for an undefined function ``name``."""
    rng = random.Random(seed ^ zlib.crc32(name.encode()))
    us = sympy.symbols(f"u0:{nargs}", real=True)

    def q() -> sympy.Rational:
        return sympy.Rational(rng.randint(-9, 9) or 1, rng.randint(2, 7))

    body = q() + sum(
        (q() * u + q() * sympy.sin(q() * u + q()) + q() * u**2 / 5 for u in us), sympy.S.Zero
    )
    return sympy.Lambda(us, body)


def _interpret(expr: sympy.Basic, funcs: Mapping[str, Any], seed: int) -> sympy.Basic:
    if not funcs:
        return expr
    reps = {}
    for name, cls in funcs.items():
        arities = {len(f.args) for f in expr.atoms(cls)} or {1}
        for n in arities:
            reps[(cls, n)] = _interpretation(name, n, seed + n)

    def swap(f: sympy.Basic) -> sympy.Basic:
        lam = reps.get((type(f), len(f.args)))
        return lam(*f.args) if lam is not None else f

    out = expr.replace(lambda e: isinstance(e, AppliedUndef) and type(e).__name__ in funcs, swap)
    if out.has(sympy.Derivative, sympy.Subs):
        out = out.doit(deep=True)
    return out


def _calculus(expr: sympy.Basic) -> bool:
    return expr.has(sympy.Integral, sympy.Sum, sympy.Product, sympy.Limit, sympy.Derivative)


def _doit(expr: sympy.Basic, budget: _Budget) -> sympy.Basic:
    """Evaluate sums, integrals, derivatives, limits where sympy manages within budget."""
    if not _calculus(expr):
        return expr
    if not budget.interruptible:
        # off the main thread nothing can stop sympy: only derivatives, which are quick
        if expr.has(sympy.Integral, sympy.Sum, sympy.Product, sympy.Limit):
            return expr
    try:
        return expr.doit(deep=True)
    except _Timeout:
        raise
    except Exception:  # noqa: BLE001 - sympy raises many kinds; unevaluated is fine
        return expr


# ---------------------------------------------------------------------------- numerics

@dataclass
class _Screen:
    real_agree: int = 0
    real_generic: int = 0  # of which at random (not grid) points
    complex_agree: int = 0
    undefined: int = 0
    unstable: int = 0
    extended: int = 0  # answer real where the reference is complex
    hard: tuple[dict[str, str], Value, Value] | None = None
    soft: tuple[dict[str, str], Value, Value] | None = None
    extended_at: tuple[dict[str, str], Value, Value] | None = None
    evaluated: int = 0
    notes: list[str] = field(default_factory=list)


class _Side:
    """One side compiled for evaluation (own walker, or sympy's evalf as a fallback)."""

    def __init__(self, expr: sympy.Basic) -> None:
        self.expr = expr
        try:
            self.compiled: Compiled | None = Compiled(expr)
        except Unsupported:
            self.compiled = None

    @property
    def slow(self) -> bool:
        return self.compiled is None

    def __call__(self, env: Mapping[str, Any], dps: int) -> Value:
        if self.compiled is not None:
            try:
                return self.compiled(env, dps)
            except Unsupported:
                self.compiled = None
        return evaluate_fallback(self.expr, env, dps)


def _env(point: Mapping[str, str]) -> dict[str, Any]:
    return {k: mpmath.mpf(v) for k, v in point.items() if k != _GRID}


def _close(a: mpmath.mpc, b: mpmath.mpc, tol: mpmath.mpf, noise: Any = 0) -> bool:
    """Relative agreement, allowing for the rounding noise ``noise`` of the evaluation."""
    diff = abs(a - b)
    if diff == 0:
        return True
    return diff <= tol * max(abs(a), abs(b)) + noise


_GRID = "\0grid"  # marks a point of the grid of simple values


def _scales(*exprs: sympy.Basic) -> list[float]:
    """Magnitudes of the constants in the expressions: Max(x, 1000) changes near 1000."""
    found = set()
    for e in exprs:
        for n in e.atoms(sympy.Number):
            v = abs(float(n)) if n.is_finite else 0.0
            if 4 < v < 1e12:
                found.add(v)
    return sorted(found)[-4:]


def _scaled(d: _Dom, scale: float, rng: random.Random) -> str:
    v = scale * rng.uniform(0.3, 3)
    if d.kind in ("integer", "positive_integer"):
        v = float(round(v))
    if d.kind not in ("positive", "nonnegative", "positive_integer") and rng.random() < 0.5:
        v = -v
    if d.kind == "interval" and not d.lo < v < d.hi:
        return d.draw(rng)
    return _dec(v)


def _points(doms: Mapping[str, _Dom], rng: random.Random, generic: int,
            scales: list[float] | None = None) -> list[dict[str, str]]:
    names = list(doms)
    pts: list[dict[str, str]] = []
    for _ in range(generic):
        pts.append({n: doms[n].draw(rng) for n in names})
    for scale in scales or []:
        for _ in range(3):
            pts.append({n: _scaled(doms[n], scale, rng) for n in names})
    simple = [doms[n].simple() or [doms[n].draw(rng)] for n in names]
    total = math.prod(len(s) for s in simple)
    if total <= GRID_MAX:
        grid: list[tuple[str, ...]] = [()]
        for vals in simple:
            grid = [g + (v,) for g in grid for v in vals]
    else:
        grid = [tuple(rng.choice(vals) for vals in simple) for _ in range(GRID_MAX)]
    # interleave so that an early stop still saw both kinds of points
    out: list[dict[str, str]] = []
    g = [{**dict(zip(names, row, strict=True)), _GRID: ""} for row in grid]
    for i in range(max(len(pts), len(g))):
        if i < len(pts):
            out.append(pts[i])
        if i < len(g):
            out.append(g[i])
    return out


def _screen(
    student: _Side,
    reference: _Side,
    doms: Mapping[str, _Dom],
    tol: mpmath.mpf,
    budget: _Budget,
    seed: int,
) -> _Screen:
    rng = random.Random(seed)
    res = _Screen()
    real_points: list[dict[str, str]] = []
    if not doms:
        pts: list[dict[str, str]] = [{}]
    else:
        slow = student.slow or reference.slow
        pts = _points(doms, rng, 6 if slow else 14, _scales(student.expr, reference.expr))
        if slow:
            pts = pts[:12]
    refine = 0
    while pts:
        point = pts.pop(0)
        if not pts and doms and 0 < res.real_agree < MIN_AGREE and refine < 40 \
                and (res.soft or res.extended or res.undefined or res.unstable):
            # the reference is real on a small region: sample more of that region
            refine += 8
            pts.extend(_near(real_points, doms, rng) for _ in range(8))
        budget.check()
        env = _env(point)
        pair = _evaluate_pair(student, reference, env, DPS, budget)
        if pair is None:
            res.undefined += 1
            continue
        s, r = pair
        res.evaluated += 1
        kind = _classify(s, r, tol)
        if kind == "agree":
            if r.is_real:
                res.real_agree += 1
                res.real_generic += _GRID not in point
                real_points.append(point)
            else:
                res.complex_agree += 1
            continue
        confirmed = _confirm(student, reference, env, tol, kind, budget)
        if confirmed is None:
            res.unstable += 1
            continue
        kind, s, r = confirmed
        if kind == "agree":
            res.real_agree += r.is_real
            res.real_generic += r.is_real and _GRID not in point
            res.complex_agree += not r.is_real
        elif kind == "hard":
            res.hard = (point, s, r)
            return res
        elif kind == "soft":
            res.soft = res.soft or (point, s, r)
        else:
            res.extended += 1
            res.extended_at = res.extended_at or (point, s, r)
    return res


def _near(points: list[dict[str, str]], doms: Mapping[str, _Dom],
          rng: random.Random) -> dict[str, str]:
    base = rng.choice(points)
    out = {}
    for name, v in base.items():
        if name == _GRID:
            continue
        if doms[name].kind in ("integer", "positive_integer"):
            out[name] = v
            continue
        x = float(v) * (1 + rng.uniform(-0.25, 0.25)) + rng.uniform(-0.05, 0.05)
        d = doms[name]
        if d.kind in ("positive", "nonnegative"):
            x = abs(x)
        if d.kind == "interval" and not d.lo < x < d.hi:
            x = float(v)
        out[name] = _dec(x)
    return out


def _evaluate_pair(
    student: _Side, reference: _Side, env: Mapping[str, Any], dps: int, budget: _Budget
) -> tuple[Value, Value] | None:
    try:
        r = reference(env, dps)
        budget.check()
        s = student(env, dps)
    except Undefined:
        return None
    return s, r


def _classify(s: Value, r: Value, tol: mpmath.mpf) -> str:
    if _close(s.z, r.z, tol, 100 * (s.err + r.err)):
        return "agree"
    if r.is_real:
        return "hard"  # the reference is real here: the answer must match it
    if s.is_real:
        return "extended"
    return "soft"


def _confirm(
    student: _Side,
    reference: _Side,
    env: Mapping[str, Any],
    tol: mpmath.mpf,
    kind: str,
    budget: _Budget,
) -> tuple[str, Value, Value] | None:
    """Re-evaluate a disagreement at higher precision; None when the values are unstable."""
    hi = _evaluate_pair(student, reference, env, CONFIRM_DPS, budget)
    lo = _evaluate_pair(student, reference, env, DPS, budget)
    if hi is None or lo is None:
        return None
    s, r = hi
    stable = mpmath.mpf(10) ** -(DPS - 12)
    for a, b in ((lo[0], s), (lo[1], r)):
        if not _close(a.z, b.z, stable, 1000 * a.err):
            return None  # the value moved with precision: ill-conditioned, not a witness
    kind_lo = _classify(lo[0], lo[1], tol)
    kind_hi = _classify(s, r, tol)
    if kind_lo != kind_hi:
        return None
    return kind_hi, s, r


# ---------------------------------------------------------------------------- proof

def _size_ok(expr: sympy.Basic, limit: int = 400) -> bool:
    return sympy.count_ops(expr, visual=False) <= limit


def _rational_decision(a: sympy.Basic, b: sympy.Basic) -> bool | None:
    """Exact answer for rational functions with exact coefficients; None when not one."""
    syms = sorted(a.free_symbols | b.free_symbols, key=str)
    if not syms:
        return None
    for e in (a, b):
        if not _size_ok(e, 300):
            return None
        for node in sympy.preorder_traversal(e):
            if node.is_Atom:
                if not (node.is_Symbol or node.is_Rational):
                    return None
            elif node.is_Pow:
                if not node.exp.is_Integer or abs(int(node.exp)) > 40:
                    return None
            elif not (node.is_Add or node.is_Mul):
                return None
    diff = sympy.cancel(sympy.together(a - b))
    return diff == 0


_PROOFS: tuple[tuple[str, Callable[[sympy.Basic], sympy.Basic]], ...] = (
    ("expansion of the difference", lambda d: sympy.expand(d)),
    ("cancel of the difference", lambda d: sympy.cancel(sympy.together(d))),
    ("simplify of the difference", sympy.simplify),
    ("trigsimp of the difference", lambda d: sympy.trigsimp(sympy.expand_trig(d))),
    ("exp rewriting of the difference",
     lambda d: sympy.simplify(sympy.expand(d.rewrite(sympy.exp)))),
)


def _expandable(expr: sympy.Basic) -> bool:
    """Expansion stays small: no high powers (``(x-a)**6000`` expands to 6001 terms)."""
    for p in expr.atoms(sympy.Pow):
        if p.exp.is_Number and abs(p.exp) > 40:
            return False
    return _size_ok(expr, 600)


def _prove(a: sympy.Basic, b: sympy.Basic, budget: _Budget, heavy: bool) -> str | None:
    diff = a - b
    if diff == 0:
        return "proved symbolically (the difference is 0)"
    if not _expandable(diff):
        return None
    for i, (name, step) in enumerate(_PROOFS):
        if i >= 2 and not (heavy and budget.interruptible):
            break
        if budget.left() < 0.02:
            break
        try:
            if step(diff) == 0:
                return f"proved symbolically ({name})"
        except _Timeout:
            raise
        except Exception:  # noqa: BLE001 - a failed rewrite is just not a proof
            continue
    return None


# ---------------------------------------------------------------------------- reporting

def _num(v: mpmath.mpc) -> complex | float:
    c = complex(v)
    return c.real if c.imag == 0 else c


def _show(v: mpmath.mpc) -> str:
    c = mpmath.mpc(v)
    if c.imag == 0 or abs(c.imag) <= abs(c) * mpmath.mpf(10) ** -25:
        return mpmath.nstr(c.real, 4)
    re_, im_ = mpmath.nstr(c.real, 4), mpmath.nstr(abs(c.imag), 4)
    return f"{re_} {'-' if c.imag < 0 else '+'} {im_}i"


def _where(point: Mapping[str, str]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in point.items() if k != _GRID)


def _refuted(point: Mapping[str, str], s: Value, r: Value, why: str = "") -> Equivalence:
    where = _where(point)
    lead = f"refuted at {where}, where" if where else "the values differ:"
    text = f"{lead} the answer gives {_show(s.z)} and the reference {_show(r.z)}{why}"
    return Equivalence(
        "different", "refuted at a sample point",
        witness={k: float(v) for k, v in point.items() if k != _GRID},
        student_value=_num(s.z), reference_value=_num(r.z), explanation=text,
    )


# ---------------------------------------------------------------------------- main

_CACHE: OrderedDict[tuple[Any, ...], Equivalence] = OrderedDict()
_CACHE_SIZE = 4096
_CACHE_LOCK = threading.Lock()


def equivalent(
    student: Any,
    reference: Any,
    *,
    domains: DomainSpec = None,
    rtol: float = 1e-9,
    timeout: float = 2.0,
) -> Equivalence:
    """Decide whether ``student`` equals ``reference`` on the given domains.

    Strings are parsed with :func:`grader.judge.parse.parse_expression`. ``rtol`` applies
    when either side contains a floating-point number (Floats are read as the decimals they
    are written as, so ``0.5`` *is* 1/2 and ``rtol=0`` asks for exact decimal equality).
    """
    started = time.perf_counter()
    key = (_key(student), _key(reference), _dom_key(domains), float(rtol), float(timeout))
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
    if hit is not None:
        return replace(hit, seconds=time.perf_counter() - started)
    budget = _Budget(timeout)
    try:
        with _alarm(budget):
            result = _decide(student, reference, domains, rtol, budget)
    except _Timeout:
        result = Equivalence(
            "undetermined", "time budget exhausted",
            explanation=f"no decision within the time budget of {timeout:g} s",
        )
    result = replace(result, seconds=time.perf_counter() - started)
    if result.method != "time budget exhausted":
        with _CACHE_LOCK:
            _CACHE[key] = result
            if len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return result


def _key(value: Any) -> Any:
    if isinstance(value, str):
        return ("text", value)
    if isinstance(value, sympy.Basic):
        return ("sympy", sympy.srepr(value))
    return ("other", repr(value))


def _dom_key(domains: DomainSpec) -> Any:
    if not domains:
        return ()
    return tuple(sorted((k, str(v)) for k, v in domains.items()))


def _decide(
    student: Any, reference: Any, domains: DomainSpec, rtol: float, budget: _Budget
) -> Equivalence:
    a0, b0 = _as_expr(student), _as_expr(reference)
    if _infinity_values(a0) or _infinity_values(b0) or (
        isinstance(student, str) and isinstance(reference, str)
        and _written_infinity(student + " " + reference)
    ):
        if _infinity_values(a0) or _infinity_values(b0):
            return _compare_infinities(student, reference, a0, b0)
    names = {s.name for s in (a0.free_symbols | b0.free_symbols) if isinstance(s, sympy.Symbol)}
    doms = _domains(names, domains)
    a, b = _rename(a0, doms), _rename(b0, doms)
    seed = zlib.crc32(f"{sympy.srepr(a)}|{sympy.srepr(b)}".encode())

    if a == b or (_calculus(a) and a.as_dummy() == b.as_dummy()):
        return Equivalence("equal", "identical expressions",
                           explanation="the answer is the reference expression")
    if not (isinstance(a, sympy.Expr) and isinstance(b, sympy.Expr)):
        return Equivalence("undetermined", "not expressions",
                           explanation="only expressions can be compared, not relations or sets")

    has_float = bool(a.atoms(sympy.Float) or b.atoms(sympy.Float))
    a, b = _floats_to_decimals(a), _floats_to_decimals(b)
    if a == b:
        return Equivalence("equal", "identical expressions (decimals read exactly)",
                           explanation="the answer is the reference expression")

    # undefined functions: an answer that depends on a function the reference does not use
    fa, fb = _undefined_functions(a), _undefined_functions(b)
    for name in sorted(set(fa) ^ set(fb)):
        side, cls = (a, fa[name]) if name in fa else (b, fb[name])
        verdict = _depends_on(side, name, cls, doms, budget, seed, answer=name in fa)
        if verdict is not None:
            return verdict
    funcs = {**fa, **fb}
    a_num, b_num = _interpret(a, funcs, seed), _interpret(b, funcs, seed)
    a_num, b_num = _doit(a_num, budget), _doit(b_num, budget)
    if a_num == b_num:
        return Equivalence("equal", "identical after evaluating derivatives, sums and integrals",
                           explanation="the answer evaluates to the reference expression")

    rational = None if funcs else _rational_decision(a_num, b_num)
    if rational is True:
        return Equivalence("equal", "proved symbolically (cancel of the difference)",
                           explanation="the difference cancels to 0")
    exact = not has_float or rtol == 0
    tol = mpmath.mpf(10) ** -20 if exact else mpmath.mpf(max(rtol, 1e-20))

    screen = _screen(_Side(a_num), _Side(b_num), doms, tol, budget, seed)
    if screen.hard is not None:
        point, s, r = screen.hard
        why = "" if s.is_real else " (the answer is not real there)"
        return _refuted(point, s, r, why)
    # a reference real only at simple points (like (-1)**n) is complex-valued
    complex_reference = screen.real_generic < 2 if doms else screen.real_agree < 1
    if complex_reference and screen.soft is not None:
        return _refuted(*screen.soft)
    if complex_reference and screen.extended_at is not None:
        return _refuted(*screen.extended_at)
    if rational is False and exact:
        # the difference is a non-zero rational function; sampling missed its non-zero set
        return Equivalence("different", "the difference is a non-zero rational function",
                           explanation="the difference does not cancel to 0")

    agree = screen.real_agree + (screen.complex_agree if complex_reference else 0)
    if not doms and agree >= 1:
        return Equivalence(
            "equal", f"agree to {CONFIRM_DPS if screen.soft else DPS} significant digits",
            explanation="both are the same number to 30 significant digits",
        )
    enough = agree >= MIN_AGREE or (agree >= 4 and _few_points(doms))
    if enough:
        proof = _prove(a_num, b_num, budget, heavy=False)
        if proof:
            return Equivalence("equal", proof, explanation="the difference simplifies to 0")
        extra = ""
        if screen.soft or screen.extended:
            extra = " (where the reference is real)"
        return Equivalence(
            "equal", f"agreed at {agree} sample points",
            explanation=f"the two agree at {agree} sample points{extra}, in 30-digit arithmetic;"
            " not proved symbolically",
        )
    proof = _prove(a, b, budget, heavy=True) if not funcs else None
    if proof:
        return Equivalence("equal", proof, explanation="the difference simplifies to 0")
    return Equivalence(
        "undetermined", "sampling inconclusive",
        explanation=f"agreement at only {agree} points ({screen.undefined} undefined, "
        f"{screen.unstable} numerically unstable) and no symbolic proof",
    )


def _written_infinity(text: str) -> bool:
    return any(w in text for w in ("oo", "inf", "Infinity", "zoo", "nan"))


def _few_points(doms: Mapping[str, _Dom]) -> bool:
    return all(d.kind in ("integer", "positive_integer") for d in doms.values()) and len(doms) <= 1


def _depends_on(
    side: sympy.Basic,
    name: str,
    cls: Any,
    doms: Mapping[str, _Dom],
    budget: _Budget,
    seed: int,
    *,
    answer: bool,
) -> Equivalence | None:
    """If one side changes when only ``name`` is reinterpreted, the two cannot be equal."""
    funcs = _undefined_functions(side)
    first = _doit(_interpret(side, funcs, seed), budget)
    second = _doit(_interpret(side, funcs, seed + 7919 * (1 + zlib.crc32(name.encode()))),
                   budget)
    if _calculus(first) or _calculus(second):
        return None
    one, two = _Side(first), _Side(second)
    rng = random.Random(seed)
    for point in _points(doms, rng, 4)[:8] if doms else [{}]:
        budget.check()
        pair = _evaluate_pair(one, two, _env(point), DPS, budget)
        if pair is None:
            continue
        if not _close(pair[0].z, pair[1].z, mpmath.mpf(10) ** -20):
            who = "the answer" if answer else "the reference"
            other = "the reference" if answer else "the answer"
            return Equivalence(
                "different", "depends on a function the other side does not use",
                explanation=f"{who} depends on the function {name}, which {other} does not"
                " involve",
            )
    return None


def _compare_infinities(
    student: Any, reference: Any, a: sympy.Basic, b: sympy.Basic
) -> Equivalence:
    """Infinities are compared as written: ``oo`` is ``oo``, ``2*oo`` is not (as in STACK)."""
    if isinstance(student, str) and isinstance(reference, str):
        from grader.judge.structure import canonical_text

        same = canonical_text(student) == canonical_text(reference)
    else:
        same = a == b
    if same:
        return Equivalence("equal", "identical expressions involving infinity",
                           explanation="the same infinite value, written the same way")
    return Equivalence(
        "different", "expressions involving infinity compared structurally",
        explanation=f"{sympy.sstr(a)} is not written as {sympy.sstr(b)}; answers with infinities"
        " must be the same expression",
    )
