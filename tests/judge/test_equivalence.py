from __future__ import annotations

import pytest
import sympy

from grader.judge.equivalence import Equivalence, equivalent

x = sympy.Symbol("x", real=True)
SIGMA = sympy.Lambda(x, 1 / (1 + sympy.exp(-x)))


def _eq(a: str, b: str, **kw: object) -> Equivalence:
    return equivalent(a, b, **kw)  # type: ignore[arg-type]


def test_result_shape() -> None:
    res = _eq("(x-1)**2", "x**2-2*x+1")
    assert res and res.verdict == "equal" and res.seconds >= 0
    bad = _eq("x**2", "x**3")
    assert not bad and bad.verdict == "different"
    assert bad.witness and set(bad.witness) == {"x"}
    assert bad.student_value is not None and bad.reference_value is not None
    assert "refuted at x =" in bad.explanation


# ---------------------------------------------------------------- sheet 6: sigmoid derivative
REF = SIGMA(x) - SIGMA(x) ** 2


@pytest.mark.parametrize(
    "answer",
    [
        "exp(-x)/(1+exp(-x))**2",
        "exp(x)/(1+exp(x))**2",
        "(1 - tanh(x/2)**2)/4",
        "1/(4*cosh(x/2)**2)",
    ],
)
def test_sigmoid_derivative_forms(answer: str) -> None:
    assert equivalent(answer, REF)


def test_sigmoid_times_mirror() -> None:
    from grader.judge.parse import parse_expression

    e = parse_expression("sigmoid(x)*sigmoid(-x)", symbols={"x": x}, functions={"sigmoid": SIGMA})
    assert equivalent(e, REF)


@pytest.mark.parametrize(
    "answer", ["sigma(x)**2", "-exp(-x)/(1+exp(-x))**2", "sigma(x)*(1+sigma(x))"]
)
def test_sigmoid_derivative_mistakes(answer: str) -> None:
    from grader.judge.parse import parse_expression

    e = parse_expression(answer, symbols={"x": x}, functions={"sigma": SIGMA})
    res = equivalent(e, REF)
    assert res.verdict == "different"
    assert res.witness is not None and "x" in res.witness


# ---------------------------------------------------------------- tricky classes
def test_sqrt_of_square_real_vs_positive() -> None:
    assert _eq("sqrt(x**2)", "x").verdict == "different"
    assert _eq("sqrt(x**2)", "Abs(x)")
    assert _eq("sqrt(x**2)", "x", domains={"x": "positive"})
    assert _eq("sqrt(x**2)", "x", domains={"x": (0, 5)})


def test_branch_cuts() -> None:
    # sqrt(a*b) is not sqrt(a)*sqrt(b): for x < 3 they differ by sign, both real
    assert _eq("sqrt((x-3)*(x-5))", "sqrt(x-3)*sqrt(x-5)").verdict == "different"
    # both complex for x < 0 (a branch choice): judged where the reference is real
    assert _eq("1/sqrt(x)", "sqrt(1/x)")
    # ln(x) is not ln|x|: where the reference is real the answer must be too
    assert _eq("log(x)", "log(Abs(x))").verdict == "different"
    assert _eq("log(x)", "log(Abs(x))", domains={"x": "positive"})


def test_log_of_powers() -> None:
    assert _eq("log(x**2)", "2*log(Abs(x))")
    assert _eq("log(x**2)", "2*log(x)", domains={"x": "positive"})
    assert _eq("log(a**2*b)", "2*log(a)+log(b)", domains={"a": "positive", "b": "positive"})
    assert _eq("log(8, 2)", "3")


def test_abs_max_heaviside_sign() -> None:
    assert _eq("Abs(x**2-4)", "Abs(x-2)*Abs(x+2)")
    assert _eq("Max(x, 0)", "(x + Abs(x))/2")
    assert _eq("Max(x, 1000)", "1000").verdict == "different"
    assert _eq("Heaviside(x)", "(1 + sign(x))/2")
    assert _eq("x*sign(x)", "Abs(x)")
    assert _eq("Heaviside(x-1)", "Heaviside(x)").verdict == "different"


def test_piecewise() -> None:
    assert _eq("Piecewise((-x, x < 0), (x, True))", "Abs(x)")
    assert _eq("Piecewise((-x, x < 0), (2*x, True))", "Abs(x)").verdict == "different"


def test_floats_with_rtol() -> None:
    assert _eq("0.5*x**2", "x**2/2")
    assert _eq("0.3333333333333333*x", "x/3")
    assert _eq("0.333*x", "x/3").verdict == "different"
    assert _eq("0.333*x", "x/3", rtol=1e-2)
    assert _eq("0.333333333333333", "1/3", rtol=0).verdict == "different"
    assert _eq("100.4-80.0", "20.4", rtol=0)


def test_infinities() -> None:
    assert _eq("oo", "oo")
    assert _eq("oo", "-oo").verdict == "different"
    assert _eq("2*oo", "oo").verdict == "different"
    assert _eq("zoo", "oo").verdict == "different"


def test_integer_domains() -> None:
    n = {"n": "integer"}
    assert _eq("(-1)**(2*n)", "1", domains=n)
    assert _eq("cos(pi*n)", "(-1)**n", domains=n)
    assert _eq("sin(pi*n)", "0", domains=n)
    assert _eq("cos(pi*n)", "(-1)**n").verdict == "different"


def test_intervals() -> None:
    assert _eq("Abs(x-1)", "1-x", domains={"x": (-5, 1)})
    assert _eq("Abs(x-1)", "1-x", domains={"x": (0, 2)}).verdict == "different"
    assert _eq("sqrt(x**2)", "-x", domains={"x": (-sympy.oo, 0)})


def test_complex_values() -> None:
    assert _eq("exp(I*t)", "cos(t)+I*sin(t)")
    assert _eq("exp(I*t)", "cos(t)-I*sin(t)").verdict == "different"
    assert _eq("sqrt(-1)", "I")


def test_undefined_functions() -> None:
    assert _eq("Derivative(t*q(s), s)", "t*Derivative(q(s), s)")
    assert _eq("F(x+1)", "F(x)").verdict == "different"
    assert _eq("F(xi)", "G(xi)").verdict == "different"


def test_timeout_is_never_different() -> None:
    hard = "sqrt(2*x*sqrt(x**2+1)+2*x**2+1)-sqrt(x**2+1)-x"
    res = equivalent(hard, "0", timeout=1e-4)
    assert res.verdict in ("undetermined", "equal")
    res = equivalent("summation(sin(n*x)/n**3, (n, 1, oo))", "0", timeout=0.3)
    assert res.verdict != "equal" or res.method  # decided or not, but quickly
    assert res.seconds < 1.5


def test_cache_returns_same_verdict() -> None:
    a = _eq("(x+1)**3", "x**3+3*x**2+3*x+1")
    b = _eq("(x+1)**3", "x**3+3*x**2+3*x+1")
    assert a.verdict == b.verdict == "equal"


def test_an_expanded_square_with_fractions_is_equal_not_a_nonzero_rational_function() -> None:
    # sympy 1.14's cancel() leaves "-1/9 + 1/9" unevaluated here; the decision must not
    assert equivalent("(3*x + 1/3)**2", "9*x**2 + 2*x + 1/9").verdict == "equal"
    assert equivalent("(3*x + 1/3)**2", "9*x**2 + 2*x + 1/8").verdict == "different"


def test_a_decimal_answer_is_equal_at_the_roots_of_its_exact_form() -> None:
    # the tolerance applies to the written decimals: at x = 3 both sides are 0 (or 1e-14)
    result = equivalent("1.33333333333333*x - 4.0", "4*x/3 - 4")
    assert result.verdict == "equal" and "relative tolerance" in result.explanation
    assert equivalent("1.33333333333333*x - 4.1", "4*x/3 - 4").verdict == "different"
