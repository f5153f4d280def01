"""Does the LaTeX reader read what students write, the way a mathematician reads it?"""

from __future__ import annotations

import pytest
import sympy

from grader.judge.latex import parse_latex_answer
from grader.judge.parse import ExpressionError

x = sympy.Symbol("x", real=True)
SIGMA = sympy.Lambda(x, 1 / (1 + sympy.exp(-x)))
SHEET = {"symbols": {"x": x}, "functions": {"sigma": SIGMA}}


def read(text: str) -> sympy.Expr:
    return parse_latex_answer(text, **SHEET)  # type: ignore[arg-type]


def same(a: sympy.Expr, b: sympy.Expr) -> bool:
    return sympy.simplify(sympy.sympify(a).doit() - b) == 0


def test_sigma_of_x_is_the_sheets_sigma_applied_to_x() -> None:
    assert same(read(r"\sigma(x)"), SIGMA(x))
    assert same(read(r"\sigma(x)\left(1 - \sigma(x)\right)"), SIGMA(x) * (1 - SIGMA(x)))


def test_sigma_squared_of_x_is_the_square_of_sigma_of_x() -> None:
    assert same(read(r"\sigma^2(x)"), SIGMA(x) ** 2)
    assert same(read(r"\sigma(x) - \sigma^{2}(x)"), SIGMA(x) - SIGMA(x) ** 2)


def test_primes_are_derivatives_of_the_named_function() -> None:
    assert same(read(r"\sigma'(x)"), sympy.diff(SIGMA(x), x))
    assert read(r"\sigma'(0)") == sympy.Rational(1, 4)
    assert read(r"\sigma''(0)") == 0
    assert read(r"\sigma^{(3)}(0)") == sympy.Rational(-1, 8)
    assert read(r"\sigma^{\prime}(0)") == sympy.Rational(1, 4)


def test_derivative_operators_are_read_and_left_for_the_judge() -> None:
    expected = sympy.diff(SIGMA(x), x)
    for text in (
        r"\frac{d}{dx} \left[ \frac{1}{1 + e^{-x}} \right]",
        r"\frac{d\sigma(x)}{dx}",
        r"\frac{d}{dx} (1 + e^{-x})^{-1}",
        r"\frac{\partial \sigma(x)}{\partial x}",
    ):
        got = read(text)
        assert got.has(sympy.Derivative), text
        assert same(got, expected), text
    assert same(read(r"\frac{d^2 x^3}{dx^2}"), 6 * x)


def test_a_fraction_of_d_over_a_number_is_a_fraction() -> None:
    d = sympy.Symbol("d", real=True)
    assert parse_latex_answer(r"\frac{d}{2}") == d / 2


def test_inverse_trigonometric_functions_are_inverses_not_reciprocals() -> None:
    assert read(r"\sin^{-1} x") == sympy.asin(x)
    assert read(r"\tan^{-1}(x)") == sympy.atan(x)
    assert read(r"\cosh^{-1}(x)") == sympy.acosh(x)
    assert read(r"\sin^{2} x") == sympy.sin(x) ** 2


def test_scientific_notation_is_a_number() -> None:
    assert read("1.5e-3") == sympy.Float("0.0015")
    assert read("2E5") == sympy.Float(200000)
    assert read(r"2e^{-x}") == 2 * sympy.exp(-x)
    assert read("2e") == 2 * sympy.E


def test_relu_is_max_of_zero_and_its_argument() -> None:
    for text in (r"\operatorname{ReLU}(x)", r"\mathrm{ReLU}(x)", "ReLU(x)", "relu(x)"):
        assert read(text) == sympy.Max(0, x), text


def test_max_in_every_bracket_students_use() -> None:
    for text in (
        r"\max\{0, x\}",
        r"\max(0, x)",
        r"\max[0, x]",
        "max(0,x)",
        r"\max\left\{0, x\right\}",
    ):
        assert read(text) == sympy.Max(0, x), text
    assert read(r"\max[0, \{(2 \times 3) + (1 \times 1) + (-1 \times (-2))\}]") == 9


def test_binomials_sums_products_and_integrals() -> None:
    n, i = sympy.Symbol("n", real=True), sympy.Symbol("i", real=True)
    assert read(r"\binom{5}{2}") == 10
    total = read(r"\sum_{i=1}^{n} i^2 + 1")
    assert total == sympy.Sum(i**2, (i, 1, n)) + 1
    assert read(r"\sum_{i=1}^{3} i").doit() == 6
    assert read(r"\prod_{i=1}^{4} i").doit() == 24
    assert read(r"\int_0^1 x^2 \, dx").doit() == sympy.Rational(1, 3)
    assert read(r"\int x\,dx") == sympy.Integral(x, x)


def test_a_sum_without_its_range_is_refused_with_a_reason() -> None:
    with pytest.raises(ExpressionError, match="range"):
        read(r"\sum x_i")


def test_implications_and_equations_are_refused_as_one_expression() -> None:
    for text in (r"x \Rightarrow y", "x = 2", r"x \approx 2"):
        with pytest.raises(ExpressionError, match="joins two statements"):
            read(text)


def test_unknown_commands_are_named() -> None:
    with pytest.raises(ExpressionError, match=r"\\mathbb is not supported"):
        read(r"\mathbb{E}[x]")


def test_a_prime_on_an_unknown_function_is_refused() -> None:
    with pytest.raises(ExpressionError):
        read("g'(x)")
