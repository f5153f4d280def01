"""Answer tests, after STACK's: which sense of "the same" a sheet asks for.

``MODES`` maps the name a sheet's YAML uses to a function with the signature of
:func:`compare` (minus ``mode``). Every mode returns an :class:`Equivalence`.
"""

from __future__ import annotations

import random
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import mpmath
import sympy

from grader.judge.budget import BudgetExceeded, cpu_budget
from grader.judge.equivalence import DomainSpec, Equivalence, equivalent
from grader.judge.numeric import Compiled, Undefined, Unsupported
from grader.judge.parse import parse_expression
from grader.judge.structure import canonical_text, from_sympy

__all__ = ["MODES", "compare"]

Mode = Callable[..., Equivalence]


def _expr(value: Any) -> sympy.Expr:
    if isinstance(value, str):
        return parse_expression(value)
    return sympy.sympify(value)


def _variables(student: sympy.Expr, reference: sympy.Expr, variable: str | None,
               domains: DomainSpec) -> list[sympy.Symbol]:
    """The variables of a comparison: ``variable`` if given, else the reference's symbols
    (and any named in ``domains``); symbols only the answer uses are its constants."""
    if variable:
        return [sympy.Symbol(variable, real=True)]
    names = {s.name for s in reference.free_symbols} | set(domains or {})
    return [sympy.Symbol(n, real=True) for n in sorted(names)]


def _by_name(expr: sympy.Expr, name: str) -> sympy.Symbol:
    for s in expr.free_symbols:
        if s.name == name:
            return s  # type: ignore[return-value]
    return sympy.Symbol(name, real=True)


def _d(expr: sympy.Expr, var: sympy.Symbol) -> sympy.Expr:
    return sympy.diff(expr, _by_name(expr, var.name))


def _relabel(result: Equivalence, method: str, explanation: str | None = None) -> Equivalence:
    return replace(result, method=method, explanation=explanation or result.explanation)


# ---------------------------------------------------------------------------- modes

def _equal(student: Any, reference: Any, *, domains: DomainSpec = None, rtol: float = 1e-9,
           atol: float = 0.0, variable: str | None = None, timeout: float = 2.0,
           require_proof: bool = False) -> Equivalence:
    return equivalent(student, reference, domains=domains, rtol=rtol, timeout=timeout,
                      require_proof=require_proof)


def _additive_constant(student: Any, reference: Any, *, domains: DomainSpec = None,
                       rtol: float = 1e-9, atol: float = 0.0, variable: str | None = None,
                       timeout: float = 2.0) -> Equivalence:
    """Equal up to ``+ C``: the derivatives with respect to every variable agree."""
    s, r = _expr(student), _expr(reference)
    variables = _variables(s, r, variable, domains)
    if not variables:
        return Equivalence("equal", "both are constants", explanation="two constants differ by a"
                           " constant")
    share = timeout / len(variables)
    for v in variables:
        res = equivalent(_d(s, v), _d(r, v), domains=domains, rtol=rtol, timeout=share)
        if not res:
            why = f"the derivatives with respect to {v} differ"
            return _relabel(res, f"derivatives compared ({res.method})",
                            f"{why}: {res.explanation}" if res.explanation else why)
    return Equivalence("equal", "equal up to an additive constant (derivatives agree)",
                       explanation="the answer differs from the reference by a constant")


def _ratio_positive(s: sympy.Expr, r: sympy.Expr, domains: DomainSpec,
                    constant: bool) -> Equivalence | None:
    """Sample s/r; it must be real and positive (and the same everywhere if ``constant``)."""
    names = sorted({x.name for x in (s.free_symbols | r.free_symbols)})
    try:
        fs, fr = Compiled(s), Compiled(r)
    except Unsupported:
        return None
    rng = random.Random(zlib.crc32(f"{s}|{r}".encode()))
    doms = dict(domains or {})
    first = None
    for _ in range(40):
        point = {}
        for n in names:
            d = doms.get(n, "real")
            v = rng.uniform(0.1, 3) if d in ("positive", "positive_integer") else rng.uniform(-3, 3)
            if isinstance(d, tuple):
                lo, hi = (max(float(d[0]), -50), min(float(d[1]), 50))
                v = rng.uniform(lo, hi)
            if d in ("integer", "positive_integer"):
                v = round(v)
            point[n] = f"{v:.4g}"
        env = {k: mpmath.mpf(v) for k, v in point.items()}
        try:
            a, b = fs(env, 30).z, fr(env, 30).z
        except Undefined:
            continue
        if abs(b) < mpmath.mpf(10) ** -20 or abs(a) < mpmath.mpf(10) ** -20:
            continue
        q = a / b
        if abs(q.imag) > abs(q) * 1e-15 or q.real <= 0:
            where = ", ".join(f"{k} = {v}" for k, v in point.items())
            return Equivalence(
                "different", "the factor is not positive",
                witness={k: float(v) for k, v in point.items()},
                explanation=f"at {where} the answer is {mpmath.nstr(q, 4)} times the reference;"
                " the factor must be positive",
            )
        if first is None:
            first = q
        elif constant and abs(q - first) > abs(first) * 1e-15:
            return None
    return None


def _positive_factor(student: Any, reference: Any, *, domains: DomainSpec = None,
                     rtol: float = 1e-9, atol: float = 0.0, variable: str | None = None,
                     timeout: float = 2.0) -> Equivalence:
    """Equal up to a positive constant factor: (s/r)' = 0 in every variable, and s/r > 0."""
    s, r = _expr(student), _expr(reference)
    variables = _variables(s, r, variable, domains)
    share = timeout / (len(variables) + 1)
    for v in variables:
        # (s/r)' = 0  <=>  s' r = r' s, which has no division by r
        res = equivalent(_d(s, v) * r, _d(r, v) * s, domains=domains, rtol=rtol, timeout=share)
        if not res:
            return _relabel(res, f"ratio tested for constancy ({res.method})",
                            f"the ratio answer/reference depends on {v}: {res.explanation}"
                            if res.verdict == "different" else res.explanation)
    sign = _ratio_positive(s, r, domains, constant=True)
    if sign is not None:
        return sign
    if equivalent(s, 0, domains=domains, timeout=share) or equivalent(r, 0, domains=domains,
                                                                        timeout=share):
        return Equivalence("different", "zero is no positive multiple",
                           explanation="one side is identically zero and the other is not")
    return Equivalence("equal", "equal up to a positive constant factor",
                       explanation="the answer is a positive constant times the reference")


def _same_argmax(student: Any, reference: Any, *, domains: DomainSpec = None,
                 rtol: float = 1e-9, atol: float = 0.0, variable: str | None = None,
                 timeout: float = 2.0) -> Equivalence:
    """Same maximisers: the answer is g(reference) with g strictly increasing.

    Decided through the gradients: they must be parallel everywhere (every 2x2 minor
    s_u r_v - s_v r_u vanishes) and point the same way (s_v / r_v > 0). This covers
    a*f + b with a > 0, and also log f for f > 0, exp f, f**3, ...
    """
    s, r = _expr(student), _expr(reference)
    variables = _variables(s, r, variable, domains)
    if not variables:
        return Equivalence("equal", "both are constants", explanation="constants have no argmax")
    grads = [(_d(s, v), _d(r, v)) for v in variables]
    share = timeout / (len(variables) + 1)
    for (su, ru), u in zip(grads, variables, strict=True):
        for (sv, rv), v in zip(grads, variables, strict=True):
            if u.name >= v.name:
                continue
            res = equivalent(su * rv, sv * ru, domains=domains, rtol=rtol, timeout=share)
            if not res:
                return _relabel(res, f"gradients compared ({res.method})",
                                f"the gradients are not parallel ({u}, {v}): {res.explanation}")
    for sv, rv in grads:
        if equivalent(rv, 0, domains=domains, timeout=share):
            if not equivalent(sv, 0, domains=domains, timeout=share):
                return Equivalence("different", "gradient compared",
                                   explanation="the reference does not change with a variable"
                                   " the answer depends on")
            continue
        sign = _ratio_positive(sv, rv, domains, constant=False)
        if sign is not None:
            return _relabel(sign, "the answer decreases where the reference increases",
                            sign.explanation.replace("the factor must be positive",
                                                     "so the two do not rise and fall together"))
    return Equivalence("equal", "same argmax (gradients positively parallel)",
                       explanation="the answer is an increasing function of the reference, so"
                       " both have the same maximisers")


def _equal_com_ass(student: Any, reference: Any, *, domains: DomainSpec = None,
                   rtol: float = 1e-9, atol: float = 0.0, variable: str | None = None,
                   timeout: float = 2.0) -> Equivalence:
    """Equal as written, up to commutativity and associativity (STACK's EqualComAss)."""
    ts = canonical_text(student) if isinstance(student, str) else from_sympy(_expr(student))
    tr = canonical_text(reference) if isinstance(reference, str) else from_sympy(_expr(reference))
    if ts == tr:
        return Equivalence("equal", "same up to commutativity and associativity",
                           explanation="the answer is the reference, up to the order of terms")
    alg = equivalent(student, reference, domains=domains, rtol=rtol, timeout=timeout)
    if alg:
        return Equivalence("different", "equal in value but not in form",
                           explanation="the answer has the right value but is not written in the"
                           " required form")
    return _relabel(alg, "not the same up to commutativity and associativity")


def _number(value: Any) -> tuple[sympy.Expr | None, str]:
    e = _expr(value)
    if e.free_symbols:
        return None, "is not a number"
    if e.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
        return None, "is not a finite number"
    exact = e.xreplace({f: sympy.Rational(sympy.sstr(f, full_prec=True))
                        for f in e.atoms(sympy.Float)})
    value_ = sympy.N(exact, 50)
    if not value_.is_real:
        return None, "is not a real number"
    return exact, ""


def _numeric(kind: str) -> Mode:
    def test(student: Any, reference: Any, *, domains: DomainSpec = None, rtol: float = 1e-9,
             atol: float = 0.0, variable: str | None = None,
             timeout: float = 2.0) -> Equivalence:
        s, why = _number(student)
        if s is None:
            return Equivalence("different", "not a number", explanation=f"the answer {why}")
        r, why = _number(reference)
        if r is None:
            return Equivalence("undetermined", "reference not a number",
                               explanation=f"the reference {why}")
        if kind == "relative":
            bound = sympy.Rational(str(rtol)) * abs(r)
        else:
            bound = sympy.Rational(str(atol))
        gap = abs(s - r)
        # exact where both are rational (the tolerance edge 1.05 vs 1 at 5% is inside)
        inside = bool(gap <= bound) if gap.is_Rational and bound.is_Rational else \
            sympy.N(gap, 50) <= sympy.N(bound, 50) * (1 + sympy.Rational(1, 10**40))
        sv, rv = float(sympy.N(s)), float(sympy.N(r))
        what = f"relative tolerance {rtol:g}" if kind == "relative" else \
            f"absolute tolerance {atol:g}"
        if inside:
            return Equivalence("equal", f"within {what}", student_value=sv, reference_value=rv,
                               explanation=f"{sv:.6g} is within {what} of {rv:.6g}")
        return Equivalence("different", f"outside {what}", student_value=sv, reference_value=rv,
                           explanation=f"{sv:.6g} is not within {what} of {rv:.6g}")

    return test


def _derivative(student: Any, reference: Any, *, domains: DomainSpec = None,
                rtol: float = 1e-9, atol: float = 0.0, variable: str | None = None,
                timeout: float = 2.0) -> Equivalence:
    """STACK's Diff: both sides are derivatives; equality, with a hint when the answer is an
    antiderivative of the expected derivative instead."""
    res = equivalent(student, reference, domains=domains, rtol=rtol, timeout=timeout)
    if res or res.verdict == "undetermined" or not variable:
        return res
    s, r = _expr(student), _expr(reference)
    v = sympy.Symbol(variable, real=True)
    if v.name not in {x.name for x in s.free_symbols | r.free_symbols}:
        return res
    if equivalent(_d(s, v), r, domains=domains, rtol=rtol, timeout=timeout / 2):
        return replace(res, explanation=f"the answer looks like an antiderivative: its derivative"
                       f" with respect to {variable} is the expected answer. {res.explanation}")
    return res


def _constants(s: sympy.Expr, var: sympy.Symbol,
               timeout: float) -> tuple[list[sympy.Symbol], bool]:
    """Symbols of ``s`` acting as constants of integration (the answer depends on them, but
    not jointly with ``var``), and whether one is "weird" as STACK calls it: entering as a
    power like c**2 or c**3, or more than one of them."""
    found: list[sympy.Symbol] = []
    weird = False
    v = _by_name(s, var.name)
    for c in sorted(s.free_symbols - {v}, key=str):
        g = sympy.diff(s, c)
        if g == 0:
            continue
        if v in g.free_symbols and not equivalent(sympy.diff(g, v), 0, timeout=timeout):
            continue  # a parameter, such as k in x**(k+1)/(k+1)
        found.append(c)
        # c**2 cannot be negative; STACK rejects c**3 too (no expansion: (x-a)**6001 is here)
        if any(p.base == c and p.exp != 1 for p in s.atoms(sympy.Pow)):
            weird = True
    return found, weird or len(found) > 1


def _in_log(expr: sympy.Expr, c: sympy.Symbol) -> bool:
    return any(c in lg.args[0].free_symbols for lg in expr.atoms(sympy.log))


def _antiderivative_with(require_constant: bool) -> Mode:
    def test(student: Any, reference: Any, *, domains: DomainSpec = None, rtol: float = 1e-9,
             atol: float = 0.0, variable: str | None = None,
             timeout: float = 2.0) -> Equivalence:
        s, r = _expr(student), _expr(reference)
        if variable is None:
            free = sorted(r.free_symbols, key=str)
            if len(free) != 1:
                raise ValueError("antiderivative mode needs `variable`")
            variable = free[0].name
        v = sympy.Symbol(variable, real=True)
        share = timeout / 4
        constants, weird = _constants(s, v, share / 4)
        if weird:
            return Equivalence("different", "unusual constant of integration",
                               explanation="the answer has a constant of integration that cannot"
                               " take every value, or more than one (use a single + c)")
        doms = dict(domains or {})
        for c in constants:
            if _in_log(s, c):
                # ln(k*|x|): the constant is a positive factor inside the logarithm
                doms.setdefault(c.name, "positive")
        res = equivalent(_d(s, v), _d(r, v), domains=doms, rtol=rtol, timeout=share)
        if not res:
            if res.verdict == "different" and equivalent(s, _d(r, v), domains=doms,
                                                         timeout=share):
                return _relabel(res, "differentiated instead of integrated",
                                "the answer is the derivative of the expected answer, not an"
                                " antiderivative")
            return _relabel(res, f"derivatives compared ({res.method})",
                            f"the derivative of the answer is not the integrand: "
                            f"{res.explanation}")
        real = _real_where_reference_real(s, r, doms, variable)
        if real is not None:
            return real
        mixed = _mixed_abs_logs(s, v)
        if mixed is not None:
            return mixed
        if require_constant and not constants:
            return Equivalence("different", "missing constant of integration",
                               explanation="the answer is an antiderivative but has no constant"
                               " of integration (+ c)")
        return Equivalence("equal", f"antiderivative ({res.method})",
                           explanation="the derivative of the answer is the integrand")

    return test


def _real_where_reference_real(s: sympy.Expr, r: sympy.Expr, doms: Mapping[str, Any],
                               variable: str) -> Equivalence | None:
    """Where the reference antiderivative is real the answer must be too (ln|x|, not ln x)."""
    if r.has(sympy.Integral):
        return None  # an unevaluated reference integral says nothing about its real domain
    rs = r
    try:
        fs, fr = Compiled(s), Compiled(rs)
    except Unsupported:
        return None
    names = sorted({x.name for x in (s.free_symbols | rs.free_symbols)})
    rng = random.Random(zlib.crc32(f"{s}|{r}".encode()))
    for i in range(60):
        point = {}
        for n in names:
            d = doms.get(n, "real")
            lo = 0.05 if d in ("positive", "nonnegative", "positive_integer") else -8
            val = rng.uniform(lo, 8) if i % 2 else rng.choice([-1, 1]) * 10 ** rng.uniform(-1, 2)
            if lo > 0:
                val = abs(val)
            point[n] = f"{val:.4g}"
        env = {k: mpmath.mpf(x) for k, x in point.items()}
        try:
            a, b = fs(env, 30), fr(env, 30)
        except Undefined:
            continue
        if b.is_real and not a.is_real:
            where = ", ".join(f"{k} = {x}" for k, x in point.items())
            return Equivalence(
                "different", "not real where the reference is",
                witness={k: float(x) for k, x in point.items()},
                explanation=f"at {where} the reference is real but the answer is not; an absolute"
                " value may be missing, e.g. ln|x| rather than ln(x)",
            )
    return None


def _mixed_abs_logs(s: sympy.Expr, v: sympy.Symbol) -> Equivalence | None:
    """STACK's convention: logs with and without |.| mixed, where the bare one can go negative."""
    logs = [e for e in s.atoms(sympy.log) if _by_name(e, v.name) in e.free_symbols]
    with_abs = [e for e in logs if isinstance(e.args[0], sympy.Abs)]
    bare = [e for e in logs if not e.args[0].has(sympy.Abs)]
    if not with_abs or not bare:
        return None
    for e in bare:
        arg = e.args[0]
        try:
            f = Compiled(arg)
        except Unsupported:
            continue
        names = sorted(x.name for x in arg.free_symbols)
        for x0 in range(-12, 13):
            env = {n: mpmath.mpf(x0) + mpmath.mpf("0.37") for n in names}
            try:
                val = f(env, 30)
            except Undefined:
                continue
            if val.is_real and val.z.real < 0:
                return Equivalence(
                    "different", "inconsistent absolute values in logarithms",
                    explanation="some logarithms have absolute values and others, whose argument"
                    " can be negative, do not",
                )
    return None


MODES: dict[str, Mode] = {
    "equal": _equal,
    "additive_constant": _additive_constant,
    "positive_factor": _positive_factor,
    "same_argmax": _same_argmax,
    "equal_com_ass": _equal_com_ass,
    "num_relative": _numeric("relative"),
    "num_absolute": _numeric("absolute"),
    "derivative": _derivative,
    "antiderivative": _antiderivative_with(require_constant=True),
    "antiderivative_noconst": _antiderivative_with(require_constant=False),
}


def compare(
    student: Any,
    reference: Any,
    *,
    mode: str = "equal",
    domains: DomainSpec = None,
    rtol: float = 1e-9,
    atol: float = 0.0,
    variable: str | None = None,
    timeout: float = 2.0,
    require_proof: bool = False,
) -> Equivalence:
    """Run the answer test ``mode`` (a key of :data:`MODES`) within ``timeout`` CPU seconds.

    ``require_proof`` (mode "equal" only): an equality inferred from sample points is
    "undetermined" unless a symbolic proof is found."""
    try:
        test = MODES[mode]
    except KeyError:
        raise ValueError(f"unknown mode {mode!r}; known: {', '.join(sorted(MODES))}") from None
    extra = {"require_proof": True} if require_proof and mode == "equal" else {}
    started = time.perf_counter()
    try:
        with cpu_budget(timeout) as own:
            result = test(student, reference, domains=domains, rtol=rtol, atol=atol,
                          variable=variable, timeout=timeout, **extra)
    except BudgetExceeded as exc:
        if exc.budget is not own:
            raise
        result = Equivalence("undetermined", "time budget exhausted",
                             explanation=f"no decision within the budget of {timeout:g} s of"
                             " CPU time")
    return replace(result, seconds=time.perf_counter() - started)
