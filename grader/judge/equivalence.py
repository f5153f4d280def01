"""Is the student's expression the reference expression? Proved, refuted, inferred or
undetermined, and the verdict says which (details and reasons in docs/judgement.md).

Order of work, cheapest first, all under one CPU budget (``timeout`` CPU seconds):

1. identical trees (after renaming bound variables; decimals read as the fractions they
   denote); infinities compared as written;
2. undefined functions: a side that depends on a function the other does not use differs;
   otherwise both get the same random smooth interpretation; sums, integrals and derivatives
   are evaluated where sympy manages within a slice of the budget;
3. rational functions with rational coefficients: ``cancel`` of the difference decides;
4. sampling in ball arithmetic at points chosen from the domains and the expressions
   (:mod:`grader.judge.points`, :mod:`grader.judge.sampling`): one point where the two provably
   differ refutes;
5. symbolic proof attempts, cheap ones always, expensive ones when sampling was inconclusive
   or a proof is required.

Without decimals on either side "equal" means proved, or agreement at every sample point to a
precision that grows with what the expressions could hide (never a fixed number of digits).
With decimals, the relative tolerance ``rtol`` is a declared policy and the verdict says so.
"""

from __future__ import annotations

import random
import re
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal

import sympy
from sympy.core.function import AppliedUndef

from grader.judge import budget
from grader.judge.balls import Evaluator, Unsupported
from grader.judge.budget import BudgetExceeded, cpu_budget
from grader.judge.decide import decide_sampled
from grader.judge.domains import Dom, Domain, DomainSpec, domains_for
from grader.judge.parse import parse_expression
from grader.judge.points import sample_points
from grader.judge.sampling import screen, static_digits
from grader.judge.verdict import Equivalence

__all__ = ["Domain", "DomainSpec", "Equivalence", "equivalent", "looks_like_latex"]

Syntax = Literal["auto", "sympy", "latex"]
MAX_NODES = 20_000  # larger trees are not judged (every step below is at least linear)


def looks_like_latex(text: str) -> bool:
    """Backslash commands, braces, ``^{``/``_{``: sympy syntax has none of these."""
    return "\\" in text or "{" in text or bool(re.search(r"[\^_]\{", text))


def _read(value: Any, syntax: Syntax) -> sympy.Basic:
    if isinstance(value, str):
        if syntax == "latex" or (syntax == "auto" and looks_like_latex(value)):
            from grader.judge.latex import parse_latex_answer

            return parse_latex_answer(value)
        return parse_expression(value)
    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, bool):
        raise TypeError("a bool is not an expression")
    if isinstance(value, (int, float, complex)):
        return sympy.sympify(value)
    raise TypeError(f"cannot compare a {type(value).__name__}")


# ---------------------------------------------------------------------------- cache

_CACHE: OrderedDict[tuple[Any, ...], Equivalence] = OrderedDict()
_CACHE_SIZE = 4096
_CACHE_LOCK = threading.Lock()


def _key(value: Any) -> Any:
    if isinstance(value, str):
        return ("text", value)
    if isinstance(value, sympy.Basic):
        # the expression itself (hashable, compared structurally with its symbols'
        # assumptions): srepr cannot print an integer of more than 4300 digits
        return ("sympy", value)
    return ("other", repr(value))


def _dom_key(domains: DomainSpec) -> Any:
    return tuple(sorted((k, str(v)) for k, v in (domains or {}).items()))


# ---------------------------------------------------------------------------- entry point

def equivalent(
    student: Any,
    reference: Any,
    *,
    domains: DomainSpec = None,
    syntax: Syntax = "auto",
    rtol: float = 1e-9,
    timeout: float = 2.0,
    require_proof: bool = False,
) -> Equivalence:
    """Decide whether ``student`` equals ``reference`` on the given domains.

    Strings are read with the safe parsers: the answer as ``syntax`` says ("sympy", "latex",
    or "auto", which detects LaTeX by its backslashes and braces), the reference as sympy
    syntax unless it looks like LaTeX. A string that cannot be read raises
    :class:`grader.judge.parse.ExpressionError` naming the position. ``rtol`` applies when
    either side contains a decimal number (read as the fraction it denotes, so ``0.5`` *is*
    1/2 and ``rtol=0`` asks for exact equality).
    ``timeout`` is a budget in CPU seconds for the whole call. With ``require_proof`` an
    equality that is only inferred from sample points is "undetermined".
    """
    started, cpu0 = time.perf_counter(), time.thread_time()
    key = (_key(student), _key(reference), _dom_key(domains), syntax, float(rtol),
           float(timeout), require_proof)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
    if hit is not None:
        return replace(hit, seconds=time.perf_counter() - started, cpu_seconds=0.0)
    exhausted = False
    try:
        with cpu_budget(timeout) as own:
            a, b = _read(student, syntax), _read(reference, "auto")
            texts = (student if isinstance(student, str) else None,
                     reference if isinstance(reference, str) else None)
            result = _judge(a, b, texts, domains, rtol, require_proof)
    except BudgetExceeded as exc:
        if exc.budget is not own:
            raise
        exhausted = True
        result = Equivalence(
            "undetermined", "time budget exhausted",
            explanation=f"no decision within the budget of {timeout:g} s of CPU time",
        )
    result = replace(result, seconds=time.perf_counter() - started,
                     cpu_seconds=time.thread_time() - cpu0)
    if not exhausted:
        with _CACHE_LOCK:
            _CACHE[key] = result
            if len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return result


def _judge(a: sympy.Basic, b: sympy.Basic, texts: tuple[str | None, str | None],
           domains: DomainSpec, rtol: float, require_proof: bool) -> Equivalence:
    try:
        if _infinity_values(a) or _infinity_values(b):
            return _compare_infinities(a, b, texts)
        return _decide(a, b, domains, rtol, require_proof)
    except BudgetExceeded:
        raise
    except RecursionError:
        return Equivalence("undetermined", "too deeply nested",
                           explanation="the expression is too deeply nested to judge")
    except (ArithmeticError, TypeError, AttributeError, NotImplementedError, MemoryError,
            ValueError, IndexError, KeyError, sympy.PolynomialError) as exc:
        return Equivalence(
            "undetermined", "evaluation failed",
            explanation=f"the judge could not evaluate the expressions ({type(exc).__name__})",
        )


# ---------------------------------------------------------------------------- preparation

def _size(expr: sympy.Basic) -> int:
    n = 0
    for _ in sympy.preorder_traversal(expr):
        n += 1
        if n > MAX_NODES:
            break
    return n


def _rename(expr: sympy.Basic, doms: Mapping[str, Dom]) -> sympy.Basic:
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


def _decimal_values(expr: sympy.Basic) -> set[sympy.Rational]:
    """The written decimals, as the exact numbers they are read as (and their negatives)."""
    out: set[sympy.Rational] = set()
    for f in expr.atoms(sympy.Float):
        q = sympy.Rational(sympy.sstr(f, full_prec=True))
        out |= {q, -q}
    return out


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


def _doit(expr: sympy.Basic) -> sympy.Basic:
    """Evaluate sums, integrals, derivatives, limits where sympy manages in a budget slice."""
    if not _calculus(expr):
        return expr
    if not budget.interruptible() and expr.has(sympy.Integral, sympy.Sum, sympy.Product,
                                               sympy.Limit):
        return expr  # nothing could stop sympy: only derivatives, which are quick
    try:
        with cpu_budget(budget.remaining() * 0.4) as own:
            return expr.doit(deep=True)
    except BudgetExceeded as exc:
        if exc.budget is not own:
            raise
        return expr
    except Exception:  # noqa: BLE001 - sympy raises many kinds; unevaluated is fine
        return expr


# ---------------------------------------------------------------------------- deciding

def _decide(a0: sympy.Basic, b0: sympy.Basic, domains: DomainSpec, rtol: float,
            require_proof: bool) -> Equivalence:
    if _size(a0) > MAX_NODES or _size(b0) > MAX_NODES:
        return Equivalence("undetermined", "too large",
                           explanation=f"an expression has more than {MAX_NODES} parts")
    names = {s.name for s in (a0.free_symbols | b0.free_symbols) if isinstance(s, sympy.Symbol)}
    doms = domains_for(names, domains)
    a, b = _rename(a0, doms), _rename(b0, doms)
    if a == b or (_calculus(a) and a.as_dummy() == b.as_dummy()):
        return _proved("identical expressions", "the answer is the reference expression")
    if not (isinstance(a, sympy.Expr) and isinstance(b, sympy.Expr)):
        return Equivalence("undetermined", "not expressions", explanation="only expressions can"
                           " be compared, not relations or sets")
    floats = ("the answer" if a.atoms(sympy.Float) else
              "the reference" if b.atoms(sympy.Float) else None)
    decimals = frozenset(_decimal_values(a) | _decimal_values(b))
    a, b = _floats_to_decimals(a), _floats_to_decimals(b)
    if a == b:
        return _proved("identical expressions (decimals read exactly)",
                       "the answer is the reference expression, its decimals read exactly")
    seed = zlib.crc32(f"{sympy.srepr(a)}|{sympy.srepr(b)}".encode())
    fa, fb = _undefined_functions(a), _undefined_functions(b)
    for name in sorted(set(fa) ^ set(fb)):
        side, cls = (a, fa[name]) if name in fa else (b, fb[name])
        verdict = _depends_on(side, name, doms, seed, answer=name in fa)
        if verdict is not None:
            return verdict
    funcs = {**fa, **fb}
    a_num, b_num = _doit(_interpret(a, funcs, seed)), _doit(_interpret(b, funcs, seed))
    if a_num == b_num:
        return _proved("identical after evaluating derivatives, sums and integrals",
                       "the answer evaluates to the reference expression")
    tolerance = None if floats is None or rtol == 0 else max(float(rtol), 1e-30)
    return decide_sampled(a_num, b_num, doms, seed, tolerance=tolerance, floats=floats,
                          require_proof=require_proof, abstract=bool(funcs), decimals=decimals)


def _proved(method: str, explanation: str) -> Equivalence:
    return Equivalence("equal", method, explanation=explanation, how="proved")


def _depends_on(side: sympy.Basic, name: str, doms: Mapping[str, Dom], seed: int, *,
                answer: bool) -> Equivalence | None:
    """If one side changes when only ``name`` is reinterpreted, the two cannot be equal."""
    funcs = _undefined_functions(side)
    first = _doit(_interpret(side, funcs, seed))
    second = _doit(_interpret(side, funcs, seed + 7919 * (1 + zlib.crc32(name.encode()))))
    if _calculus(first) or _calculus(second):
        return None
    try:
        one, two = Evaluator(first), Evaluator(second)
    except Unsupported:
        return None
    pts = sample_points([first, second], doms, random.Random(seed), generic=4)[:8]
    found = screen(one, two, pts, None, static_digits(first, second))
    if found.hard is None and not any(o.kind in ("soft", "extended") for o in found.outcomes):
        return None
    who, other = ("the answer", "the reference") if answer else ("the reference", "the answer")
    return Equivalence(
        "different", "depends on a function the other side does not use", how="refuted",
        explanation=f"{who} depends on the function {name}, which {other} does not involve",
    )


def _compare_infinities(a: sympy.Basic, b: sympy.Basic,
                        texts: tuple[str | None, str | None]) -> Equivalence:
    """Infinities are compared as written: ``oo`` is ``oo``, ``2*oo`` is not (as in STACK)."""
    from grader.judge.structure import canonical_text

    if texts[0] is not None and texts[1] is not None and not looks_like_latex(
            texts[0] + texts[1]):
        same = canonical_text(texts[0]) == canonical_text(texts[1])
    else:
        same = a == b
    if same:
        return Equivalence("equal", "identical expressions involving infinity",
                           explanation="the same infinite value, written the same way",
                           how="structural")
    return Equivalence(
        "different", "expressions involving infinity compared structurally", how="structural",
        explanation=f"{sympy.sstr(a)} is not written as {sympy.sstr(b)}; answers with infinities"
        " must be the same expression",
    )
