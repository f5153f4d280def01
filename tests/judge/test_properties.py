"""Property tests: rewritings are equal, small perturbations are not."""

from __future__ import annotations

import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.judge.equivalence import equivalent

x, y = sympy.symbols("x y", real=True)
ATOMS = [x, y, sympy.Integer(2), sympy.Rational(1, 3), sympy.Integer(-1)]
UNARY = [sympy.sin, sympy.cos, sympy.exp, lambda e: e**2, lambda e: sympy.sqrt(e**2 + 1)]


@st.composite
def expressions(draw: st.DrawFn, depth: int = 3) -> sympy.Expr:
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from(ATOMS))
    kind = draw(st.sampled_from(["add", "mul", "unary"]))
    if kind == "unary":
        return draw(st.sampled_from(UNARY))(draw(expressions(depth - 1)))
    a, b = draw(expressions(depth - 1)), draw(expressions(depth - 1))
    return a + b if kind == "add" else a * b


SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(expressions(), st.sampled_from(["expand", "factor", "together", "trigsimp"]))
def test_rewritings_are_equal(e: sympy.Expr, how: str) -> None:
    rewritten = getattr(sympy, how)(e)
    res = equivalent(rewritten, e, timeout=5)
    assert res.verdict == "equal", (e, rewritten, res)


@SETTINGS
@given(expressions(), st.sampled_from([sympy.Rational(1, 1000), x / 1000, -y / 1000]))
def test_perturbations_are_different(e: sympy.Expr, eps: sympy.Expr) -> None:
    res = equivalent(e + eps, e, timeout=5)
    assert res.verdict == "different", (e, eps, res)
    assert res.witness is not None
