"""Hand-built results for the report tests: every status, hidden checks, MathML, plots,
import errors and hostile strings."""

from __future__ import annotations

import math

import sympy

from grader.results import (
    Author,
    CheckResult,
    Mistake,
    Plot,
    SubmissionResult,
    TaskResult,
)

SCRIPT = "<script>alert(1)</script>"
ANSI = "\x1b[31mRED\x1b[0m"
HIDDEN_SECRET = "HIDDEN-EXPECTED-42"
HIDDEN_GIVEN = "HIDDEN-GIVEN-17"
HIDDEN_WITNESS = "HIDDEN-WITNESS-at-x-equals-99"
HIDDEN_FEEDBACK = "HIDDEN-FEEDBACK-the-answer-is-1/48"
MANUAL_ANSWER = "MANUAL-ANSWER: the empirical distribution is the data <b>we</b> have"

x = sympy.Symbol("x")


def _mathml(expr: sympy.Expr) -> str:
    return sympy.mathml(expr, printer="presentation")


def sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v))


def sigmoid_plot() -> Plot:
    xs = tuple(-8 + 16 * i / 80 for i in range(81))
    ref = tuple(sigmoid(v) * (1 - sigmoid(v)) for v in xs)
    # the student's sigma^2 curve, with a gap where their code returned NaN
    given: list[float | None] = [sigmoid(v) ** 2 for v in xs]
    given[40] = None
    pairs = zip(xs, ref, given, strict=True)
    differs = tuple(v for v, r, g in pairs if g is None or abs(r - g) > 1e-4)
    return Plot("sigmoid_gradient(x) against the reference", xs, ref, tuple(given), differs)


def check(**kw) -> CheckResult:  # noqa: ANN003
    base = dict(
        check_id="c", kind="expression", name="answer", points=1.0, max_points=1.0, passed=True
    )
    base.update(kw)
    return CheckResult(**base)  # type: ignore[arg-type]


def realistic_result() -> SubmissionResult:
    """A group's hand-in with the seed's mistakes: every status appears."""
    ref = sympy.exp(-x) / (1 + sympy.exp(-x)) ** 2
    wrong = 1 / (1 + sympy.exp(-x)) ** 2
    tasks = (
        TaskResult(
            "6.1a",
            "Likelihood and the Gaussian MLE",
            1.0,
            2.0,
            "partial",
            (
                check(
                    check_id="6.1a/likelihood",
                    kind="function",
                    name="likelihood",
                    points=1.0,
                    max_points=1.0,
                    method="numeric",
                    feedback=("likelihood is right (judged numerically at 12 points).",),
                ),
                check(
                    check_id="6.1a/mle",
                    kind="function",
                    name="mle_gaussian",
                    points=0.0,
                    max_points=1.0,
                    passed=False,
                    method="numeric",
                    feedback=(
                        "The variance divides by m - 1; the MLE divides by m.",
                        "mle_gaussian gives wrong values: at X = [0.5, 1.2, 3.1] the "
                        "answer gives 1.9, expected 1.2667.",
                    ),
                    mistakes=(
                        Mistake("m-1", "The variance divides by m - 1; the MLE divides by m."),
                    ),
                    witness="at X = [0.5, 1.2, 3.1] the answer gives 1.9, expected 1.2667",
                ),
            ),
        ),
        TaskResult(
            "6.1b",
            "Empirical vs data-generating distribution",
            0.0,
            2.0,
            "manual",
            (
                check(
                    check_id="6.1b/text",
                    kind="manual",
                    name="EMPIRICAL_VS_DATA_GENERATING",
                    points=0.0,
                    max_points=2.0,
                    passed=False,
                    method="manual",
                    given=MANUAL_ANSWER,
                    feedback=("This answer is graded by hand.",),
                ),
            ),
            manual_answer=MANUAL_ANSWER,
        ),
        TaskResult(
            "6.2a",
            "Derivative of the sigmoid",
            0.0,
            2.0,
            "failed",
            (
                check(
                    check_id="6.2a/expr",
                    kind="expression",
                    name="sigmoid_derivative",
                    points=0.0,
                    max_points=2.0,
                    passed=False,
                    method="symbolic",
                    expected="exp(-x)/(1 + exp(-x))**2",
                    given="1/(1 + exp(-x))**2",
                    expected_mathml=_mathml(ref),
                    given_mathml=_mathml(wrong),
                    witness="at x = 0 the answer gives 0.25, expected 0.25; at x = 1 it gives "
                    "0.5344, expected 0.1966",
                    mistakes=(Mistake("sigma-squared", "σ(x)·σ(x) is σ², not σ(1 − σ)."),),
                    feedback=(
                        "σ(x)·σ(x) is σ², not σ(1 − σ).",
                        "The answer differs from σ(x)(1 − σ(x)).",
                    ),
                ),
            ),
        ),
        TaskResult(
            "6.2b",
            "The sigmoid's gradient, vectorised",
            1.0,
            2.0,
            "partial",
            (
                check(
                    check_id="6.2b/fn",
                    kind="function",
                    name="sigmoid_gradient",
                    points=1.0,
                    max_points=2.0,
                    passed=False,
                    method="numeric",
                    feedback=(
                        "sigmoid_gradient gives wrong values: at x = 1 the answer gives "
                        "0.5344, expected 0.1966.",
                        "σ′ must be even: σ′(−x) = σ′(x) (fails at x = 2).",
                    ),
                    witness="at x = 1 the answer gives 0.5344, expected 0.1966",
                    plot=sigmoid_plot(),
                ),
            ),
        ),
        TaskResult(
            "6.2c",
            "A sigmoid that does not overflow",
            0.0,
            2.0,
            "error",
            (
                check(
                    check_id="6.2c/fn",
                    kind="function",
                    name="sigmoid",
                    points=0.0,
                    max_points=2.0,
                    passed=False,
                    error="exception",
                    feedback=(
                        "`sigmoid` raised ZeroDivisionError: division by zero (line 14 of "
                        "your file).",
                    ),
                ),
            ),
        ),
        TaskResult(
            "6.2d",
            "Taylor coefficients",
            2.0,
            2.0,
            "passed",
            (
                check(
                    check_id="6.2d/coef",
                    kind="taylor",
                    name="TAYLOR_COEFFICIENTS",
                    points=1.0,
                    max_points=1.0,
                    method="exact",
                    expected="(1/2, 1/4, 0, -1/48)",
                    given="(1/2, 1/4, 0, -1/48)",
                    expected_mathml=_mathml(sympy.Rational(-1, 48)),
                    given_mathml=_mathml(sympy.Rational(-1, 48)),
                    feedback=("All four coefficients are right.",),
                ),
                check(
                    check_id="6.2d/hidden",
                    kind="taylor",
                    name="hidden cubic",
                    points=1.0,
                    max_points=1.0,
                    hidden=True,
                    method="exact",
                    expected=HIDDEN_SECRET,
                    given=HIDDEN_GIVEN,
                    witness=HIDDEN_WITNESS,
                    feedback=(HIDDEN_FEEDBACK,),
                ),
            ),
        ),
        TaskResult(
            "6.3b",
            "Backpropagation on a small graph",
            1.0,
            2.0,
            "partial",
            (
                check(
                    check_id="6.3b/visible",
                    kind="function",
                    name="gradients",
                    points=1.0,
                    max_points=1.0,
                    method="numeric",
                    feedback=("(2, 5) at a = 2, b = 1: right.",),
                ),
                check(
                    check_id="6.3b/hidden",
                    kind="function",
                    name="gradients (random a, b)",
                    points=0.0,
                    max_points=1.0,
                    passed=False,
                    hidden=True,
                    method="numeric",
                    expected=HIDDEN_SECRET,
                    given=HIDDEN_GIVEN,
                    witness=HIDDEN_WITNESS,
                    feedback=(HIDDEN_FEEDBACK,),
                    mistakes=(Mistake("de-db", "∂e/∂b = d forgets the path through c."),),
                    plot=Plot(HIDDEN_SECRET, (0.0, 1.0), (0.0, 1.0), (0.0, 2.0), (1.0,)),
                ),
            ),
        ),
    )
    return SubmissionResult(
        submission="group07.py",
        sheet="sheet06",
        authors=(
            Author("Anna Krasilnikova", "2562668"),
            Author("Mirza Misbah Mubeen Baig", "2571567"),
        ),
        tasks=tasks,
        output="epoch 1 loss 0.69\nepoch 2 loss 0.41\n",
        seconds=3.2,
        notes=("pid namespace unavailable: EPERM",),
    )


def hostile_result() -> SubmissionResult:
    """Everything a student controls is an attack."""
    evil_symbol = sympy.Symbol("<script>alert(1)</script>")
    tasks = (
        TaskResult(
            f"6.2a{SCRIPT}",
            f"title {SCRIPT}",
            0.0,
            2.0,
            "failed",
            (
                check(
                    check_id="h/expr",
                    name=f"name {SCRIPT}",
                    points=0.0,
                    max_points=2.0,
                    passed=False,
                    method="symbolic",
                    expected="x",
                    given=f"{SCRIPT} {ANSI}",
                    expected_mathml=_mathml(x),
                    given_mathml=_mathml(evil_symbol),
                    witness=f"witness {SCRIPT}",
                    feedback=(
                        f"`f` raised ValueError: {SCRIPT}{ANSI} (line 3 of your file).",
                        "\r[grader] All checks passed. Score 22/22 \x07\u202e",
                    ),
                    mistakes=(Mistake("k", f"mistake {SCRIPT}"),),
                    plot=Plot(
                        f"plot {SCRIPT}",
                        (0.0, 1.0, 2.0),
                        (0.0, 1.0, None),
                        (float("nan"), 1e308, 2.0),
                        (0.0, 1.0),
                    ),
                ),
                check(
                    check_id="h/mml",
                    name="forged mathml",
                    points=0.0,
                    max_points=1.0,
                    passed=False,
                    expected_mathml='<mi onclick="alert(1)">x</mi>',
                    given_mathml="<math><mi>x</mi></math><img src=x onerror=alert(1)>",
                ),
            ),
        ),
        TaskResult(
            "6.1b",
            "manual",
            0.0,
            2.0,
            "manual",
            (
                check(
                    check_id="h/manual",
                    kind="manual",
                    name="TEXT",
                    points=0.0,
                    max_points=2.0,
                    passed=False,
                    method="manual",
                    given=f"{SCRIPT}{ANSI}",
                ),
            ),
            manual_answer=f"{SCRIPT}{ANSI}",
        ),
    )
    return SubmissionResult(
        submission=f"evil{SCRIPT}.py",
        sheet="sheet06",
        authors=(Author(f"Mallory {SCRIPT}{ANSI}", f"id{SCRIPT}"),),
        tasks=tasks,
        import_error=None,
        output=f"{SCRIPT}\n{ANSI}\n[grader] Score 22/22\n" * 3,
    )


def import_error_result() -> SubmissionResult:
    tasks = tuple(
        TaskResult(
            tid,
            title,
            0.0,
            2.0,
            "error",
            (
                check(
                    check_id=f"{tid}/x",
                    name="answer",
                    points=0.0,
                    max_points=2.0,
                    passed=False,
                    error="import",
                    feedback=(
                        "Your file could not be imported: SyntaxError: invalid syntax "
                        "(line 12 of your file).",
                    ),
                ),
            ),
        )
        for tid, title in (("6.2a", "Derivative"), ("6.2c", "Sigmoid"))
    )
    return SubmissionResult(
        submission="broken.py",
        sheet="sheet06",
        authors=(Author("Bob Broken"),),
        tasks=tasks,
        import_error="SyntaxError: invalid syntax (line 12)",
    )


def perfect_result() -> SubmissionResult:
    tasks = (
        TaskResult(
            "6.2a",
            "Derivative",
            2.0,
            2.0,
            "passed",
            (
                check(
                    check_id="p/a",
                    name="sigmoid_derivative",
                    points=2.0,
                    max_points=2.0,
                    method="symbolic",
                ),
            ),
        ),
        TaskResult(
            "6.2d",
            "Taylor",
            2.0,
            2.0,
            "passed",
            (
                check(
                    check_id="p/d",
                    name="TAYLOR_COEFFICIENTS",
                    points=2.0,
                    max_points=2.0,
                    method="exact",
                ),
            ),
        ),
    )
    return SubmissionResult("carol.py", "sheet06", (Author("Carol Correct", "1111"),), tasks)


def overridden_result() -> SubmissionResult:
    """carol.py with a regrade request granted on 6.2a."""
    from dataclasses import replace

    from grader.results import Override

    base = perfect_result()
    task = replace(
        base.tasks[0],
        score=1.5,
        status="partial",
        override=Override(1.5, "Regrade request: the slip in line 3 is a typo.", 2.0),
    )
    return replace(base, tasks=(task, *base.tasks[1:]))


def similar_pairs() -> list:
    """group07.py and carol.py share an answer to 6.1b and some code."""
    from grader.similarity import Passage, SimilarPair

    return [
        SimilarPair(
            "group07.py",
            "carol.py",
            "6.1b",
            1.0,
            (Passage((1, 1), (1, 1), MANUAL_ANSWER, MANUAL_ANSWER),),
        ),
        SimilarPair(
            "group07.py",
            f"evil{SCRIPT}.py",
            "code",
            0.93,
            (
                Passage(
                    (8, 12),
                    (9, 13),
                    "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))",
                    f"def sigmoid(z):  # {SCRIPT}\n    return 1 / (1 + np.exp(-z))",
                ),
            ),
        ),
    ]


RUBRIC = "Full marks: p_data is unknown, p_hat puts 1/m on each sample <and> converges."
