"""The `function` kind on vectors and matrices: does it judge what a teacher would?"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.checks.local import check_of, judge, sheet, text

RIDGE = """\
id: s
reference: ref.py
tasks:
  - id: "1"
    points: 3
    checks:
      - kind: function
        name: ridge
        points: 3
        dims: {m: [2, 8], n: [1, 6]}
        args:
          X: {array: [m, n]}
          y: {array: [m]}
          lam: {real: [0.01, 10]}
        cases:
          - label: "wide data set"
            title: "data sets with n > m"
            count: 3
            dims: {m: [2, 3], n: [4, 6]}
          - {label: "data set", title: "random data sets", count: 5}
        reference: ridge
        rtol: 1.0e-8
        mistakes:
          - ref: least_squares
            message: "λI is missing: this is plain least squares, not ridge regression."
          - expr: "solve(X @ X.T + lam * eye(len(X)), X) @ y"
            message: "X Xᵀ instead of XᵀX."
"""

RIDGE_REF = """\
import numpy as np

def ridge(X, y, lam):
    return np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)

def least_squares(X, y, lam):
    return np.linalg.lstsq(X, y, rcond=None)[0]
"""


@pytest.fixture(scope="module")
def ridge(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    return check_of(sheet(tmp_path_factory.mktemp("ridge"), RIDGE, RIDGE_REF), "ridge")


def test_equivalent_forms_pass_inv_solve_lists_and_loops(ridge) -> None:  # noqa: ANN001
    def with_inv(X, y, lam):  # noqa: ANN001, ANN202
        X = np.asarray(X)
        return np.linalg.inv(X.T @ X + lam * np.eye(X.shape[1])) @ X.T @ np.asarray(y)

    def as_list(X, y, lam):  # noqa: ANN001, ANN202
        return with_inv(X, y, lam).tolist()

    def as_column(X, y, lam):  # noqa: ANN001, ANN202
        return with_inv(X, y, lam).reshape(-1, 1)

    for fn in (with_inv, as_list, as_column):
        result = judge(ridge, {"ridge": fn})
        assert result.passed, (fn.__name__, result.feedback)
    assert "ridge` is right on data sets with n > m and random data sets" in text(result)


def test_plain_least_squares_is_named_with_the_case_that_shows_it(ridge) -> None:  # noqa: ANN001
    def lstsq(X, y, lam):  # noqa: ANN001, ANN202
        return np.linalg.lstsq(np.asarray(X), np.asarray(y), rcond=None)[0]

    result = judge(ridge, {"ridge": lstsq})
    assert not result.passed
    assert "λI is missing" in text(result)
    assert "On wide data set 1 (X = [[" in text(result)
    assert result.cases and all(c.inputs for c in result.cases)


def test_a_transposed_gram_matrix_is_named_or_explained_by_its_shape(ridge) -> None:  # noqa: ANN001
    def wrong(X, y, lam):  # noqa: ANN001, ANN202
        X = np.asarray(X)
        return np.linalg.solve(X @ X.T + lam * np.eye(len(X)), X) @ y

    result = judge(ridge, {"ridge": wrong})
    assert result.points == 0
    assert "should have shape" in text(result) or "X Xᵀ instead of XᵀX." in text(result)


def test_a_crash_is_an_error_that_costs_only_this_check(ridge) -> None:  # noqa: ANN001
    def crashes(X, y, lam):  # noqa: ANN001, ANN202
        raise ValueError("singular")

    result = judge(ridge, {"ridge": crashes})
    assert result.error == "exception" and result.points == 0
    assert "raised ValueError: singular" in text(result)


TUPLES = """\
id: s
tasks:
  - id: "1"
    points: 2
    checks:
      - kind: function
        name: mse_gradients
        points: 2
        args:
          w: {real: [-2, 2]}
          b: {real: [-2, 2]}
          x: {array: [m]}
          y: {array: [m]}
        dims: {m: [3, 9]}
        cases: [{label: "data set", count: 6}]
        items: [dL_dw, dL_db]
        reference: "(2 * mean((w*x + b - y) * x), 2 * mean(w*x + b - y))"
        mistakes:
          - expr: "ref / 2"
            message: "The factor 2 is missing."
          - output: dL_dw
            expr: "2 * mean(w*x + b - y)"
            message: "x is missing from ∂L/∂w."
"""


def test_items_of_a_tuple_are_scored_and_named_one_by_one(tmp_path: Path) -> None:
    check = check_of(sheet(tmp_path, TUPLES), "mse_gradients")

    def right(w, b, x, y):  # noqa: ANN001, ANN202
        r = w * np.asarray(x) + b - np.asarray(y)
        return 2 * np.mean(r * x), 2 * np.mean(r)

    def no_x(w, b, x, y):  # noqa: ANN001, ANN202
        return right(w, b, x, y)[1], right(w, b, x, y)[1]

    def halves(w, b, x, y):  # noqa: ANN001, ANN202
        return tuple(v / 2 for v in right(w, b, x, y))

    assert judge(check, {"mse_gradients": right}).passed
    result = judge(check, {"mse_gradients": no_x})
    assert result.points == pytest.approx(1.0)  # ∂L/∂b is right
    assert "x is missing from ∂L/∂w." in text(result)
    result = judge(check, {"mse_gradients": halves})
    assert result.points == 0 and "The factor 2 is missing." in text(result)


INTEGERS = """\
id: s
tasks:
  - id: "1"
    points: 1
    checks:
      - kind: function
        name: conv_params
        points: 1
        args: {k: {integer: [1, 7]}, c_in: {integer: [1, 64]}, c_out: {integer: [1, 64]}}
        cases: [{label: "layer", count: 6}]
        answer: integer
        reference: "k**2 * c_in * c_out + c_out"
        mistakes:
          - expr: "k**2 * c_in * c_out + c_in * c_out"
            message: "One bias per channel pair: a convolution has one bias per output channel."
"""


def test_whole_numbers_are_compared_exactly_and_floats_that_are_whole_count(
    tmp_path: Path,
) -> None:
    check = check_of(sheet(tmp_path, INTEGERS), "conv_params")
    assert judge(check, {"conv_params": lambda k, i, o: k * k * i * o + o}).passed
    assert judge(check, {"conv_params": lambda k, i, o: float(k * k * i * o + o)}).passed
    wrong = judge(check, {"conv_params": lambda k, i, o: k * k * i * o + i * o})
    assert "One bias per channel pair" in text(wrong)
    half = judge(check, {"conv_params": lambda k, i, o: (k * k * i * o + o) / 2})
    assert "should be a whole number" in text(half) or not half.passed


GIVEN = """\
id: s
given:
  point: {x: [1.0, 2.0]}
tasks:
  - id: "1"
    points: 2
    checks:
      - kind: function
        name: norm2
        points: 2
        args: {x: {array: [3]}}
        cases:
          - {label: "the sheet's vector", given: point}
          - {label: "random vector", title: "other vectors", count: 4}
        reference: "sum(x**2)"
"""


def test_an_answer_right_only_on_the_given_data_is_called_hard_coded(tmp_path: Path) -> None:
    check = check_of(sheet(tmp_path, GIVEN), "norm2")
    result = judge(check, {"norm2": lambda x: 5.0})
    assert result.points == pytest.approx(1.0)
    assert "right on the sheet's vector but wrong on other vectors" in text(result)
    assert "hard-coded" in text(result)


def test_cases_a_written_hand_in_cannot_answer_are_not_scored(tmp_path: Path) -> None:
    from grader.sandbox.protocol import Outcome, ProbeError

    check = check_of(sheet(tmp_path, GIVEN), "norm2")
    trial = check.trial(np.random.default_rng(0))
    given = trial.probes[0]
    outcomes = {
        p.id: Outcome(p.id, error=ProbeError("unanswerable", "the written answer gives no value"))
        for p in trial.probes
    }
    outcomes[given.id] = Outcome(given.id, 5.0)
    assert judge_with(trial, outcomes).passed  # only the given case counts
    outcomes[given.id] = Outcome(given.id, error=ProbeError("unanswerable", "nothing was read"))
    result = judge_with(trial, outcomes)
    assert result.undetermined and "a person will grade it" in text(result)


def judge_with(trial, outcomes):  # noqa: ANN001, ANN201
    return trial.judge(outcomes)
