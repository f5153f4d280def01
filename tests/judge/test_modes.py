from __future__ import annotations

import pytest

from grader.judge.modes import MODES, compare


def test_registry_names() -> None:
    assert {"equal", "additive_constant", "positive_factor", "same_argmax", "equal_com_ass",
            "num_relative", "num_absolute", "derivative", "antiderivative"} <= set(MODES)
    with pytest.raises(ValueError):
        compare("x", "x", mode="nope")


def test_additive_constant() -> None:
    assert compare("x**2/2 + 7", "x**2/2", mode="additive_constant")
    assert compare("log(Abs(2*x))", "log(Abs(x))", mode="additive_constant")
    assert not compare("x**2", "x**2/2", mode="additive_constant")
    # a log-likelihood up to terms free of the parameter
    ll = "-n*log(s) - (x-m)**2/(2*s**2)"
    assert compare(ll + " - log(2*pi)/2", ll, mode="additive_constant")
    # n*log(2*pi) depends on n: constant in s only
    assert not compare(ll + " - n*log(2*pi)/2", ll, mode="additive_constant")
    assert compare(ll + " - n*log(2*pi)/2", ll, mode="additive_constant", variable="s")


def test_positive_factor() -> None:
    assert compare("3*x**2*exp(y)", "x**2*exp(y)", mode="positive_factor")
    assert compare("-x**2", "x**2", mode="positive_factor").verdict == "different"
    assert not compare("x**3", "x**2", mode="positive_factor")


def test_same_argmax() -> None:
    assert compare("2*(x-1)**2 + 5", "(x-1)**2", mode="same_argmax")
    assert compare("-(x-1)**2", "(x-1)**2", mode="same_argmax").verdict == "different"
    assert compare("log(x)", "x", mode="same_argmax", domains={"x": "positive"})
    assert not compare("x**2", "x", mode="same_argmax")


def test_equal_com_ass() -> None:
    assert compare("1+2*x", "x*2+1", mode="equal_com_ass")
    res = compare("x+x", "2*x", mode="equal_com_ass")
    assert res.verdict == "different" and "form" in res.explanation
    assert not compare("2/4", "1/2", mode="equal_com_ass")
    assert compare("x*(-y)", "-(x*y)", mode="equal_com_ass")


def test_numeric() -> None:
    assert compare("1.05", "1", mode="num_relative", rtol=0.05)
    assert not compare("1.06", "1", mode="num_relative", rtol=0.05)
    assert compare("3.14", "pi", mode="num_absolute", atol=0.002)
    assert not compare("x", "1", mode="num_absolute", atol=1)
    assert not compare("0.99*I", "I", mode="num_relative", rtol=0.1)


def test_derivative_and_antiderivative() -> None:
    assert compare("2*x*cos(x**2)", "cos(x**2)*2*x", mode="derivative", variable="x")
    res = compare("x**4/4", "x**3", mode="derivative", variable="x")
    assert res.verdict == "different" and "antiderivative" in res.explanation
    assert compare("x**3/3 + c", "x**3/3", mode="antiderivative", variable="x")
    assert not compare("x**3/3", "x**3/3", mode="antiderivative", variable="x")
    assert compare("x**3/3", "x**3/3", mode="antiderivative_noconst", variable="x")
    assert not compare("log(x) + c", "log(Abs(x)) + c", mode="antiderivative", variable="x")
    assert compare("log(k*Abs(x))", "log(Abs(x)) + c", mode="antiderivative", variable="x")
    assert not compare("x**3/3 + c**2", "x**3/3", mode="antiderivative", variable="x")


def test_mode_timeout_bounded() -> None:
    res = compare("(x-a)**6001/6001 + c", "(x-a)**6001/6001", mode="antiderivative",
                  variable="x", timeout=2.0)
    assert res.seconds < 3
