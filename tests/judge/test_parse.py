from __future__ import annotations

import time

import pytest
import sympy

from grader.judge.latex import parse_latex_answer
from grader.judge.parse import ExpressionError, parse_expression

x = sympy.Symbol("x", real=True)


@pytest.mark.parametrize(
    "text",
    [
        "exp(-x)/(1+exp(-x))**2", "x**2", "2*x", "sqrt(x)", "Abs(x)", "E", "pi", "oo", "I",
        "Rational(1,3)", "log(x, 2)", "Max(x,1)", "Heaviside(x)", "Derivative(f(x),x)",
        "Integer(3)", "Float('0.25', 15)", "x^2 + 1", "(n+1)!", "lambda*x",
    ],
)
def test_accepts_sympy_syntax(text: str) -> None:
    assert isinstance(parse_expression(text), sympy.Basic)


def test_caret_is_power_and_floats_keep_their_digits() -> None:
    assert parse_expression("x^2") == x**2
    tenth = sympy.sstr(parse_expression("0.1"), full_prec=True)
    assert sympy.Rational(tenth) == sympy.Rational(1, 10)


def test_unknown_names_are_real_symbols_and_functions() -> None:
    e = parse_expression("f(y) + y")
    y = sympy.Symbol("y", real=True)
    assert y in e.free_symbols
    assert any(isinstance(a, sympy.core.function.AppliedUndef) for a in e.atoms(sympy.Function))


def test_user_functions() -> None:
    sigma = sympy.Lambda(x, 1 / (1 + sympy.exp(-x)))
    e = parse_expression("sigma(x)*(1-sigma(x))", symbols={"x": x}, functions={"sigma": sigma})
    assert not e.atoms(sympy.core.function.AppliedUndef)
    assert abs(float(e.subs(x, 0)) - 0.25) < 1e-12


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("__import__('os')", "__import__"),
        ("().__class__", ".__class__"),
        ("x.__dict__", ".__dict__"),
        ("lambda x: x", "lambda"),
        ("x[0]", "subscript"),
        ("[i for i in x]", "comprehension"),
        ("'abc'", "string"),
        ("2j", "complex"),
        ("f(x=1)", "keyword"),
        ("2x", "2*x"),
    ],
)
def test_rejections_point_at_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    assert fragment in str(info.value)


def test_attribute_error_has_column() -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression("().__class__")
    assert "column 3" in str(info.value) and info.value.position == 2


@pytest.mark.parametrize("text", ["9**9**9**9", "10**10**10", "factorial(10**6)", "2**(10**9/3)"])
def test_huge_numbers_fail_fast(text: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ExpressionError):
        parse_expression(text)
    assert time.perf_counter() - started < 1


def test_length_and_nesting_limits() -> None:
    with pytest.raises(ExpressionError):
        parse_expression("x+" * 20000 + "x")
    with pytest.raises(ExpressionError):
        parse_expression("(" * 500 + "x" + ")" * 500)


def test_latex() -> None:
    sigma = sympy.Lambda(x, 1 / (1 + sympy.exp(-x)))
    funcs = {"sigma": sigma}
    a = parse_latex_answer(r"\sigma(x)(1-\sigma(x))", symbols={"x": x}, functions=funcs)
    b = parse_latex_answer(r"\frac{e^{-x}}{\left(1+e^{-x}\right)^2}", symbols={"x": x})
    assert sympy.simplify(a - b) == 0
    assert parse_latex_answer(r"\sqrt{x} \cdot 2x") == 2 * x**sympy.Rational(3, 2)
    assert parse_latex_answer(r"\ln x + \log_{2} 8") == sympy.log(x) + 3
    assert parse_latex_answer(r"\frac{1}{4\cosh^2(x/2)}") == 1 / (4 * sympy.cosh(x / 2) ** 2)
    with pytest.raises(ExpressionError):
        parse_latex_answer(r"\input{/etc/passwd}")
    with pytest.raises(ExpressionError):
        parse_latex_answer(r"\frac{1}{")
