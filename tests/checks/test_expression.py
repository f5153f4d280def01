"""Does 6.2a accept every right form of σ′ and name every listed mistake?"""

from __future__ import annotations

import numpy as np
import pytest

from grader.sandbox.protocol import Expr, Outcome, ProbeError

EQUIVALENT_FORMS = [
    "exp(-x)/(1 + exp(-x))**2",
    "exp(x)/(1 + exp(x))**2",
    "sigmoid(x)*sigmoid(-x)",
    "(1 - tanh(x/2)**2)/4",
    "1/(4*cosh(x/2)**2)",
    "sigma(x) - sigma(x)**2",
    "1/(1 + exp(-x)) - 1/(1 + exp(-x))**2",
]

MISTAKES = {
    "sigma(x)*(1*sigma(x))": "σ(x)·(1·σ(x)) is σ², not σ(1 − σ)",
    "-exp(-x)/(1 + exp(-x))**2": "A minus sign was lost",
    "sigma(x)*(1 + sigma(x))": "σ(x)(1 + σ(x)) has the wrong sign",
    "exp(-x)/(1 + exp(-x))": "The square of the denominator was lost",
}


@pytest.fixture(scope="module")
def check(sheet06):  # noqa: ANN001
    return next(c for t in sheet06.tasks for c in t.checks if c.spec.name == "sigmoid_derivative")


def judge_text(check, text: str):  # noqa: ANN001, ANN201
    trial = check.trial(np.random.default_rng(0))
    # The child prints sympy expressions; a student's `sigmoid(x)` arrives as that text.
    expr = text.replace("sigmoid(-x)", "(1/(1 + exp(x)))").replace(
        "sigmoid(x)", "(1/(1 + exp(-x)))"
    )
    expr = expr.replace("sigma(x)", "(1/(1 + exp(-x)))")
    outcomes = {p.id: Outcome(p.id, error=ProbeError("exception", "unused")) for p in trial.probes}
    outcomes[trial.probes[0].id] = Outcome(trial.probes[0].id, value=Expr(expr))
    return trial.judge(outcomes)


@pytest.mark.parametrize("form", EQUIVALENT_FORMS)
def test_every_equivalent_form_earns_full_marks(check, form: str) -> None:  # noqa: ANN001
    result = judge_text(check, form)
    assert result.passed and result.points == 2, result.feedback
    assert result.method == "symbolic"


@pytest.mark.parametrize("form,named", sorted(MISTAKES.items()))
def test_every_listed_mistake_is_refuted_with_a_witness_and_named(
    check, form: str, named: str
) -> None:  # noqa: ANN001
    result = judge_text(check, form)
    assert not result.passed and result.points == 0
    assert named in " ".join(result.feedback)
    assert result.witness and "refuted at x =" in result.witness


def test_expected_and_given_are_shown_with_mathml(check) -> None:  # noqa: ANN001
    result = judge_text(check, "exp(-x)/(1 + exp(-x))")
    assert result.expected and result.given
    assert result.expected_mathml and result.expected_mathml.startswith("<m")


def test_a_numbers_only_answer_is_judged_numerically(check) -> None:  # noqa: ANN001
    trial = check.trial(np.random.default_rng(1))
    sym, vector, *scalars = trial.probes
    xs = vector.args[0]
    outcomes = {
        sym.id: Outcome(
            sym.id, error=ProbeError("exception", "TypeError: loop of ufunc does not support")
        ),
        vector.id: Outcome(vector.id, value=np.exp(-xs) / (1 + np.exp(-xs)) ** 2),
    }
    outcomes.update({p.id: Outcome(p.id, error=ProbeError("exception", "x")) for p in scalars})
    result = trial.judge(outcomes)
    assert result.passed and result.method == "numeric"
    assert "judged numerically" in " ".join(result.feedback)


def test_a_text_answer_is_read_as_math_and_unreadable_text_is_explained(check) -> None:  # noqa: ANN001
    trial = check.trial(np.random.default_rng(2))
    outcomes = {p.id: Outcome(p.id, error=ProbeError("exception", "x")) for p in trial.probes}
    first = trial.probes[0].id
    outcomes[first] = Outcome(first, value="sigma(x)*(1-sigma(x))")
    assert trial.judge(outcomes).passed
    outcomes[first] = Outcome(first, value=r"\sigma(x)\left(1-\sigma(x)\right)")
    assert trial.judge(outcomes).passed
    outcomes[first] = Outcome(first, value="sigma(x)(1-sigma(x))")
    result = trial.judge(outcomes)
    assert not result.passed
    feedback = " ".join(result.feedback)
    assert "could not be read as an expression: expected an operator before the bracket" in feedback
