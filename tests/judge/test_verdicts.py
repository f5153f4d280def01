"""What a verdict tells the reader: how it was reached, and in words that are true."""

from __future__ import annotations

import pytest

from grader.judge.equivalence import equivalent
from grader.judge.modes import compare


def test_a_proof_says_proved() -> None:
    res = equivalent("(x-1)**2", "x**2-2*x+1")
    assert res and res.how == "proved" and res.proved
    assert res.explanation.startswith("proved")


def test_agreement_at_points_says_inferred_with_the_kinds_of_points_and_digits() -> None:
    res = equivalent("Max(x, y) + Min(x, y)", "x + y")
    assert res and res.how == "inferred" and not res.proved
    assert res.points >= 10 and res.digits >= 30
    assert "inferred, not proved" in res.explanation
    assert f"{res.points} sample points" in res.explanation
    assert "breakpoints" in res.explanation and "random" in res.explanation
    assert {"random", "zero", "tiny", "huge"} <= set(res.point_kinds)


def test_a_refutation_names_the_witness_and_both_values() -> None:
    res = equivalent("x**2", "x**3")
    assert res.verdict == "different" and res.how == "refuted"
    assert res.witness and set(res.witness) == {"x"}
    assert res.explanation.startswith("refuted at x = ")
    assert "the answer gives" in res.explanation and "the reference" in res.explanation


def test_decimals_get_the_tolerance_policy_spelled_out_not_30_digits() -> None:
    res = equivalent("2.718281828", "E")
    assert res and res.how == "inferred" and res.tolerance == 1e-9
    assert "equal within the relative tolerance 1e-09, as the answer has decimals" in \
        res.explanation
    assert "1.7e-10" in res.explanation  # the actual relative difference
    assert "significant digits" not in res.explanation


def test_decimals_outside_the_tolerance_are_different() -> None:
    res = equivalent("3.14159265", "pi")  # relative difference 1.14e-9
    assert res.verdict == "different"


def test_exact_constants_that_differ_beyond_30_digits_show_how_far_apart() -> None:
    res = equivalent("tanh(50)", "1")
    assert res.verdict == "different"
    assert "they differ by 7.44e-44" in res.explanation
    res = equivalent("262537412640768744", "exp(pi*sqrt(163))")
    assert res.verdict == "different"
    assert "262537412640768743.999" in res.explanation


def test_require_proof_turns_an_inference_into_undetermined() -> None:
    plain = equivalent("Max(x, y) + Min(x, y)", "x + y")
    strict = equivalent("Max(x, y) + Min(x, y)", "x + y", require_proof=True)
    assert plain.verdict == "equal" and plain.how == "inferred"
    assert strict.verdict == "undetermined"
    assert "a proof is required" in strict.explanation


def test_require_proof_accepts_a_proof() -> None:
    res = compare("exp(I*t)", "cos(t)+I*sin(t)", require_proof=True)
    assert res and res.proved


def test_infinities_are_compared_as_written() -> None:
    res = equivalent("2*oo", "oo")
    assert res.verdict == "different" and res.how == "structural"


@pytest.mark.parametrize("syntax", ["auto", "latex"])
def test_latex_answers_are_read(syntax: str) -> None:
    res = equivalent(r"\frac{1}{2}x^{2}", "x**2/2", syntax=syntax)  # type: ignore[arg-type]
    assert res.verdict == "equal"


def test_sympy_syntax_can_be_forced() -> None:
    from grader.judge.parse import ExpressionError

    with pytest.raises(ExpressionError):
        equivalent(r"\frac{1}{2}", "1/2", syntax="sympy")


def test_cpu_seconds_are_reported() -> None:
    res = equivalent("sin(x)**2 + cos(x)**2 + x**7", "1 + x**7 + 0*x")
    assert res.cpu_seconds >= 0 and res.seconds >= 0
