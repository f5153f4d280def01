"""Does the Taylor check accept exact and float coefficients and name the k! mistake?"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from grader.checks.taylor import TaylorCheck
from grader.sandbox.protocol import Outcome
from grader.sheet.common import Definition
from grader.sheet.context import SheetContext, SpecError


def make(**extra: object) -> TaylorCheck:
    ctx = SheetContext(
        "t",
        domains={"x": "real"},
        definitions={"sigma": Definition(args=["x"], expr="1/(1 + exp(-x))")},
    )
    spec = {"kind": "taylor", "name": "C", "points": 2, "function": "sigma(x)", "order": 3, **extra}
    return TaylorCheck(TaylorCheck.Spec.model_validate(spec), ctx, check_id="t#1")


def judge(check: TaylorCheck, value: object):  # noqa: ANN201
    trial = check.trial(np.random.default_rng(0))
    return trial.judge({trial.probes[0].id: Outcome(trial.probes[0].id, value=value)})


def test_exact_and_float_coefficients_both_pass() -> None:
    check = make()
    assert judge(check, [Fraction(1, 2), Fraction(1, 4), 0, Fraction(-1, 48)]).passed
    assert judge(check, (0.5, 0.25, 0.0, -1 / 48)).passed


def test_a_wrong_exact_coefficient_is_not_close_enough() -> None:
    result = judge(make(), [Fraction(1, 2), Fraction(1, 4), 0, Fraction(-1, 47)])
    assert result.points == pytest.approx(1.5)
    assert "expected -1/48, but yours gave -1/47" in " ".join(result.feedback)


def test_the_derivative_instead_of_the_coefficient_is_named() -> None:
    result = judge(make(), [Fraction(1, 2), Fraction(1, 4), 0, Fraction(-1, 8)])
    assert result.points == pytest.approx(1.5)
    assert [m.key for m in result.mistakes] == ["t#1:factorial"]
    assert "not divided by 3! = 6" in " ".join(result.feedback)


def test_a_sheet_listed_mistake_is_named() -> None:
    check = make(mistakes=[{"expr": "-ref", "message": "Every sign is flipped."}])
    result = judge(check, [Fraction(1, 2), Fraction(1, 4), 0, Fraction(1, 48)])
    assert "Every sign is flipped." in result.feedback


def test_too_few_coefficients_and_wrong_types_are_explained() -> None:
    assert "should list the 4 coefficients" in judge(make(), [0.5, 0.25]).feedback[0]
    result = judge(make(), "1/2, 1/4, 0, -1/48")
    assert not result.passed and "should be a sequence" in result.feedback[0]


def test_a_mistake_in_other_terms_is_a_spec_error() -> None:
    with pytest.raises(SpecError) as info:
        make(mistakes=[{"expr": "ref + y", "message": "m"}])
    assert info.value.field == ("mistakes", 0, "expr")


def test_coefficients_written_as_strings_are_read_as_math() -> None:
    check = make()
    assert judge(check, ["1/2", "1/4", "0", "-1/48"]).passed
    assert judge(check, ["1/2", r"\frac{1}{4}", "$0$", "-1/48"]).passed
    wrong = judge(check, ["1/2", "1/4", "0", "-1/8"])
    assert wrong.points == pytest.approx(1.5)
    assert "not divided by 3! = 6" in " ".join(wrong.feedback)


def test_an_irrational_coefficient_is_right_exactly_or_as_a_float_within_the_tolerance() -> None:
    check = make(function="log(1 + exp(x))", order=2)  # log 2, 1/2, 1/8
    assert judge(check, ["log(2)", "1/2", "1/8"]).passed
    assert judge(check, [float(np.log(2)), 0.5, 0.125]).passed
    assert not judge(check, [0.6931, 0.5, 0.125]).passed
