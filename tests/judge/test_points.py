"""Sample points: are the places where answers differ actually visited?"""

from __future__ import annotations

import random

import sympy

from grader.judge.domains import domains_for
from grader.judge.parse import parse_expression
from grader.judge.points import sample_points


def _exact_points(text: str, domains: dict[str, object] | None = None
                  ) -> list[tuple[str, sympy.Expr]]:
    e = parse_expression(text)
    doms = domains_for({s.name for s in e.free_symbols}, domains)  # type: ignore[arg-type]
    e = e.xreplace({s: doms[s.name].symbol(s.name) for s in e.free_symbols})
    return [(p.kind, p.exact()["x"]) for p in sample_points([e], doms, random.Random(1))]


def _points(text: str, domains: dict[str, object] | None = None) -> list[tuple[str, float]]:
    return [(k, float(v)) for k, v in _exact_points(text, domains)]


def test_a_clamp_is_sampled_on_and_beside_its_breakpoint() -> None:
    pts = _points("Max(x, 1/1000)", {"x": (0, 1)})
    assert ("breakpoint", 0.001) in pts
    assert any(k == "beside breakpoint" and 0 < v < 0.001 for k, v in pts)
    assert any(k == "beside breakpoint" and v > 0.001 for k, v in pts)


def test_floor_is_sampled_where_its_argument_is_an_integer() -> None:
    pts = _points("floor(x + 1/1000)")
    assert ("breakpoint", -0.001) in pts and ("breakpoint", 0.999) in pts


def test_the_ends_of_an_interval_and_tiny_and_huge_values_are_visited() -> None:
    ends = [v for k, v in _exact_points("log(x)", {"x": (0, 1)}) if k == "domain end"]
    assert min(ends) < sympy.Rational(1, 10**50) and max(ends) > 1 - sympy.Rational(1, 10**50)
    kinds = {k: v for k, v in _points("x")}
    assert {"zero", "tiny", "huge", "random", "simple"} <= set(kinds)


def test_the_centre_of_a_narrow_bump_is_visited() -> None:
    pts = _points("exp(-1000*(x - 3/10)**2)")
    assert ("feature centre", 0.3) in pts


def test_breakpoints_of_transcendental_conditions_are_found_by_bisection() -> None:
    pts = _points("Heaviside(exp(x) - 2)")
    on = [v for k, v in pts if k == "breakpoint"]
    assert on and abs(on[0] - float(sympy.log(2))) < 1e-12
