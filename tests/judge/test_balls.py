"""Ball evaluation: values that are provably right, and exact where balls cannot decide."""

from __future__ import annotations

import sympy

from grader.judge.balls import Evaluator, State, precision, to_ball
from grader.judge.evaluate import EvaluationError, numeric_value
from grader.judge.parse import parse_expression


def _at(text: str, bits: int = 128, **point: str) -> complex:
    exact = {k: sympy.Rational(v) for k, v in point.items()}
    with precision(bits):
        z = Evaluator(parse_expression(text))(State({k: to_ball(v) for k, v in exact.items()},
                                                    exact))
        return complex(float(z.real.mid()), float(z.imag.mid()))


def test_discontinuities_are_decided_exactly_on_the_jump() -> None:
    assert _at("Heaviside(x, 1)", x="0") == 1 and _at("Heaviside(x)", x="0") == 0.5
    assert _at("floor(x + 1/1000)", x="-1/1000") == 0
    assert _at("floor(x)", x="-1/1000") == -1
    assert _at("sign(x - 1/3)", x="1/3") == 0
    assert abs(_at("atan2(y, x)", x="-1", y="0") - 3.141592653589793) < 1e-15


def test_cancellation_inside_is_no_excuse() -> None:
    # cosh^2 - sinh^2 at x = 60 cancels 52 digits; at 400 bits the ball is exactly 1
    assert abs(_at("cosh(x)**2 - sinh(x)**2", bits=400, x="60") - 1) < 1e-15


def test_principal_branches_as_sympy() -> None:
    assert abs(_at("sqrt(x)", x="-4") - 2j) < 1e-15
    assert abs(_at("log(x)", x="-1") - 3.141592653589793j) < 1e-15
    assert abs(_at("x**(1/3)", x="-8") - (1 + 1.7320508075688772j)) < 1e-12


def test_numeric_value_is_budgeted_and_rigorous() -> None:
    assert abs(numeric_value(parse_expression("exp(pi*sqrt(163))")) - 262537412640768744) < 1
    value = numeric_value(parse_expression("Sum(1/n**(1+1/10**9), (n, 1, oo))"))
    assert abs(value - 1000000000.5772157) < 1e-3
    try:
        numeric_value(parse_expression("Sum(sin(n)/n**2, (n, 1, oo))"), budget=0.2)
    except EvaluationError as exc:
        assert exc.timed_out
    try:
        numeric_value(parse_expression("1/(1-1)"))
    except EvaluationError as exc:
        assert not exc.timed_out
