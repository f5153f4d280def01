"""The `value` kind: constants as students write them (ints, fractions, strings, LaTeX)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from tests.checks.local import check_of, judge, sheet, text

SHEET = """\
id: s
reference: ref.py
given:
  net: {x: [3, 1, -1], W: [[2, 1, -2], [-1, -3, 5]], b: [0, 1]}
tasks:
  - id: "1"
    points: 4
    checks:
      - kind: value
        name: CLASS
        points: 1
        given: net
        reference: "argmax(W @ x + b)"
        answer: integer
        mistakes:
          - expr: "ref + 1"
            message: "`CLASS` = {given} counts from 1; the answer is {expected}."
      - kind: value
        name: EIGHTH
        points: 1
        reference: "1/8"
        answer: exact
      - kind: value
        name: QUARTER_PI
        points: 1
        reference: "pi/4"
        answer: exact
      - kind: value
        name: HIDDEN
        points: 1
        given: net
        reference: "ref.relu(W @ x + b)"
"""

REF = """\
import numpy as np

def relu(z):
    return np.maximum(z, 0)
"""


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    return sheet(tmp_path_factory.mktemp("value"), SHEET, REF)


def test_an_integer_from_the_given_data_and_a_named_off_by_one(loaded) -> None:  # noqa: ANN001
    check = check_of(loaded, "CLASS")
    assert judge(check, {"CLASS": 0}).passed
    assert judge(check, {"CLASS": np.int64(0)}).passed
    wrong = judge(check, {"CLASS": 1})
    assert "`CLASS` = 1 counts from 1; the answer is 0." in text(wrong)
    assert "should be a whole number" in text(judge(check, {"CLASS": "zero"})) or not judge(
        check, {"CLASS": "zero"}
    ).passed


@pytest.mark.parametrize("answer", [Fraction(1, 8), 0.125, "1/8", r"\frac{1}{8}", "$2^{-3}$"])
def test_an_exact_value_in_any_form_a_student_writes(loaded, answer: object) -> None:  # noqa: ANN001
    assert judge(check_of(loaded, "EIGHTH"), {"EIGHTH": answer}).passed, answer


def test_a_wrong_fraction_shows_both_values(loaded) -> None:  # noqa: ANN001
    result = judge(check_of(loaded, "EIGHTH"), {"EIGHTH": Fraction(1, 7)})
    assert not result.passed and "expected 1/8, but yours gave 1/7" in text(result)


def test_exact_values_are_judged_by_the_judge_not_by_simplify(loaded) -> None:  # noqa: ANN001
    check = check_of(loaded, "QUARTER_PI")
    assert judge(check, {"QUARTER_PI": "atan(1/2) + atan(1/3)"}).passed  # simplify misses it
    assert not judge(check, {"QUARTER_PI": "atan(1/2)"}).passed


def test_an_exact_value_the_judge_cannot_decide_goes_to_a_person(loaded) -> None:  # noqa: ANN001
    result = judge(check_of(loaded, "QUARTER_PI"), {"QUARTER_PI": "sin(10**9999)"})
    assert result.undetermined and result.points == 0
    assert "could not decide" in text(result) and "a person will grade it" in text(result)


def test_a_vector_value_says_where_it_differs(loaded) -> None:  # noqa: ANN001
    check = check_of(loaded, "HIDDEN")
    assert judge(check, {"HIDDEN": [9, 0]}).passed
    result = judge(check, {"HIDDEN": [9, -10]})
    assert "they differ at entry [1]" in text(result)
    assert "should have shape (2,)" in text(judge(check, {"HIDDEN": [9, 0, 0]}))


def test_a_missing_value_is_said_once(tmp_path: Path, loaded) -> None:  # noqa: ANN001
    result = judge(check_of(loaded, "HIDDEN"), {})
    assert text(result) == "`HIDDEN` is not defined in your file."
