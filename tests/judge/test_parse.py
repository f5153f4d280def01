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


# ---------------------------------------------------------------- hardening (issue 11)
@pytest.mark.parametrize("count", [2_000, 8_000, 19_000])
def test_a_long_run_of_factorials_is_refused_at_once(count: int) -> None:
    started = time.process_time()
    with pytest.raises(ExpressionError) as info:
        parse_expression("x" + "!" * count)
    assert "nested too deeply" in str(info.value)
    assert time.process_time() - started < 0.5


def test_factorials_keep_their_meaning() -> None:
    n = sympy.Symbol("n", real=True)
    assert parse_expression("n!") == sympy.factorial(n)
    assert parse_expression("(n+1)!!") == sympy.factorial(sympy.factorial(n + 1))
    assert parse_expression("3!+n!") == 6 + sympy.factorial(n)
    assert parse_expression("n != 1") == sympy.Ne(n, 1)


def test_deep_nesting_is_refused_with_the_column() -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression("x**" * 100 + "x")
    assert "nested too deeply at column" in str(info.value)
    assert info.value.position is not None


def test_long_flat_sums_and_products_are_fine() -> None:
    assert len(parse_expression("+".join(f"x{i}" for i in range(1500))).args) == 1500
    assert parse_expression("*".join(["x"] * 1500)) == sympy.Symbol("x", real=True) ** 1500


@pytest.mark.parametrize(
    ("text", "column", "expected"),
    [
        ("(x+1", 1, "`(` is never closed: expected `)`"),
        ("x+*2", 3, "expected something between `+` and `*`"),
        ("x)", 2, "unmatched `)`"),
        ("x +", 3, "expected something after `+`"),
        ("2x", 2, "expected an operator between `2` and `x`; write 2*x"),
        ("sin x", 5, "write sin(x)"),
        ("x = 2", 3, "not an equation"),
        ("2*(3+4]", 7, "expected `)` to close `(` (column 3), found `]`"),
    ],
)
def test_unreadable_text_names_the_position_and_what_was_expected(
        text: str, column: int, expected: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    assert f"column {column}" in str(info.value) and expected in str(info.value)
    assert info.value.position == column - 1


@pytest.mark.parametrize(
    ("text", "same_as"),
    [
        ("log1p(x)", "log(1+x)"), ("expm1(x)", "exp(x)-1"), ("log10(x)", "log(x)/log(10)"),
        ("log2(x)", "log(x)/log(2)"), ("lgamma(x)", "loggamma(x)"), ("hypot(x, y)",
                                                                     "sqrt(x**2+y**2)"),
        ("arctanh(x)", "atanh(x)"),
    ],
)
def test_the_names_numerical_libraries_use_are_understood(text: str, same_as: str) -> None:
    assert parse_expression(text) == parse_expression(same_as)


def test_an_unknown_function_name_is_a_parse_error_that_names_it() -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression("softplus(x) + 1")
    assert "unknown function `softplus`" in str(info.value)
    assert info.value.position == 0


def test_one_letter_and_greek_names_stay_abstract_functions() -> None:
    e = parse_expression("f(x) + F1(y) + phi(t)")
    assert len(e.atoms(sympy.core.function.AppliedUndef)) == 3
