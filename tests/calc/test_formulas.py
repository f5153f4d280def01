"""Case formulas: what an instructor may write, and what it means on concrete values."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from grader.calc import (
    Answers,
    Collector,
    Env,
    FormulaError,
    Tolerance,
    compile_formula,
    evaluate,
    values_equal,
)


def value(text: str, **variables: object) -> object:
    return evaluate(compile_formula(text), Env(variables))


def test_arithmetic_follows_numpy_and_caret_is_power() -> None:
    assert value("x^2 + 1", x=3) == 10
    np.testing.assert_allclose(value("W @ x + b", W=np.eye(2), x=[1, 2], b=[1, 1]), [2, 3])
    assert value("size(W) + len(b)", W=np.ones((2, 3)), b=[0, 0]) == 8
    assert value("argmax(softmax(z))", z=[1, 5, 2]) == 1


def test_a_single_equals_sign_is_an_equation_compared_with_tolerance() -> None:
    assert value("x = 1/3", x=0.333333333333) is True
    assert value("x == 1/3", x=0.3333) is False
    assert value("x <= 1/4", x=0.25 + 1e-13) is True  # within the tolerance


def test_not_allowed_syntax_names_the_column() -> None:
    with pytest.raises(FormulaError, match="column"):
        compile_formula("__import__('os')")
    with pytest.raises(FormulaError, match="not allowed|only named functions"):
        compile_formula("(lambda: 1)()")
    with pytest.raises(FormulaError, match="only `.T`"):
        compile_formula("x.__class__")
    with pytest.raises(FormulaError, match="only numbers"):
        compile_formula("'a' + 'b'")


def test_names_used_and_called_are_known_before_evaluating() -> None:
    f = compile_formula("argmax_over(grid, [ll(p, X) for p in grid]) == mean(X)")
    assert f.variables == {"grid", "X"}
    assert f.calls == {"argmax_over", "ll", "mean"}
    assert f.is_relation
    assert compile_formula("ref.ridge").bare_name == "ridge"
    assert compile_formula("ref / log(2)").variables == {"ref"}


def test_hand_in_calls_are_collected_first_and_answered_later() -> None:
    f = compile_formula("softmax(z + c) == softmax(z)")
    collector = Collector()
    env = Env({"z": np.array([1.0, 2.0]), "c": 1000.0}, student_names=frozenset({"softmax"}))
    env.student = collector
    evaluate(f, env)
    assert [c.args[0].tolist() for c in collector.calls.values()] == [[1001.0, 1002.0], [1.0, 2.0]]

    def stable(z: np.ndarray) -> np.ndarray:
        e = np.exp(z - z.max())
        return e / e.sum()

    env.student = Answers({k: stable(*c.args) for k, c in collector.calls.items()})
    assert evaluate(f, env) is True
    env.student = Answers({k: np.exp(c.args[0]) for k, c in collector.calls.items()})
    assert evaluate(f, env) is False


def test_a_call_cannot_take_another_calls_answer() -> None:
    env = Env({"z": 1.0}, student_names=frozenset({"f"}), student=Collector())
    with pytest.raises(FormulaError, match="depends on another answer"):
        evaluate(compile_formula("f(f(z)) == z"), env)


def test_precise_mode_keeps_30_digits_where_floats_cancel() -> None:
    sigma = lambda x: 1 / (1 + mpmath.exp(-x))  # noqa: E731
    env = Env({"x": mpmath.mpf(40)}, functions={"sigma": sigma}, precise=True)
    out = evaluate(compile_formula("sigma(x) * (1 - sigma(x))"), env)
    assert float(out) == pytest.approx(4.248354255291589e-18, rel=1e-12)


def test_equality_of_tuples_arrays_and_non_finite_values() -> None:
    tol = Tolerance(1e-9, 1e-12)
    assert values_equal((np.array([1.0, 2.0]), 3.0), (np.array([1.0, 2.0]), 3.0), tol)
    assert not values_equal((np.array([1.0, 2.0]), 3.0), (np.array([1.0, 2.0]), 3.1), tol)
    assert not values_equal(np.nan, np.nan, tol)
    assert values_equal(-np.inf, -np.inf, tol) and not values_equal(np.inf, -np.inf, tol)
    assert not values_equal([1.0, 2.0], [1.0, 2.0, 3.0], tol)
