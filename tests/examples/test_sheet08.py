"""Does every example hand-in of sheet 8 get the verdicts a teacher would give, task by task?"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.batch import grade_batch
from grader.grading import grade_submission
from grader.results import SubmissionResult
from grader.sheet.loader import LoadedSheet, load_sheet
from tests.conftest import ROOT

SHEET08 = ROOT / "exercises" / "sheet08.yaml"
HANDINS = ROOT / "submissions" / "sheet08"
PASSED = "passed"

#: hand-in -> {task: (status, score, [words the feedback must contain])}; unlisted tasks pass
#: (8.9 is always `manual`: free text waits for a person)
EXPECTED: dict[str, dict[str, tuple[str, float, list[str]]]] = {
    "reference.py": {},
    "equivalent_forms.py": {},
    "naive_softmax.py": {
        # the sheet's data and random sizes are right; logits near 1000 give NaN
        "8.1a": (
            "partial",
            2,
            ["Softmax without subtracting the maximum overflows", "counts classes from 1"],
        ),
        "8.1b": ("failed", 0, ["The class is counted from 1", "subtract max(z) before exp"]),
        "8.8": ("partial", 1.5, ["softmax(z + c) must equal softmax(z)", "overflows"]),
    },
    "signs.py": {
        "8.1b": ("failed", 0, ["Your sign is wrong", "onehot(y) − softmax(z)"]),
        "8.5a": ("failed", 0, ["The step goes uphill", "refuted at"]),
        "8.5b": ("failed", 0, ["The factor 2 of the square's derivative is missing"]),
    },
    "estimators.py": {
        "8.2a": ("failed", 0, ["You return 1 − mean", "You divide the sum by m − 1"]),
        "8.2b": (
            "failed",
            0,
            ["The (1 − x) log(1 − p) term is missing", "must give the maximum likelihood"],
        ),
    },
    "relu_habits.py": {
        "8.3": ("partial", 1.2, ["plain ReLU's derivative"]),
        "8.6": ("partial", 1, ["The hidden layer uses ReLU", "assumes a hidden bias"]),
    },
    "least_squares.py": {
        "8.4": ("failed", 0, ["λI is missing: that is plain least squares"]),
        "8.5b": ("failed", 0, ["The sum is not divided by m"]),
        "8.6": ("partial", 1.5, ["counts the weights only", "The biases are not counted"]),
    },
    "derivatives.py": {
        "8.3": ("partial", 1.2, ["α and 1 are swapped"]),
        "8.7": ("partial", 1, ["the derivative itself, not divided by 4! = 24"]),
        "8.8": ("partial", 1, ["the 2 inside the sigmoid is missing"]),
    },
    "forgotten_terms.py": {
        "8.1a": ("partial", 0.5, ["The bias is never added"]),
        "8.1b": ("failed", 0, ["You return softmax(z) alone"]),
        "8.5a": ("failed", 0, ["The factor 2 is missing"]),
        "8.5b": ("partial", 1, ["xᵢ is missing from ∂L/∂w"]),
    },
    "outer_products.py": {
        # x @ W and X Xᵀ fit only square shapes: elsewhere numpy raises
        "8.1a": ("error", 0.5, ["W is transposed", "raised ValueError"]),
        "8.4": ("error", 0, ["You use X Xᵀ (m × m) instead of XᵀX (n × n)", "raised ValueError"]),
        "8.6": ("partial", 2, ["One bias per pair of channels"]),
    },
}


@pytest.fixture(scope="module")
def sheet08() -> LoadedSheet:
    return load_sheet(SHEET08)


@pytest.fixture(scope="module")
def results(
    tmp_path_factory: pytest.TempPathFactory, sheet08: LoadedSheet
) -> dict[str, SubmissionResult]:
    out = tmp_path_factory.mktemp("reports")
    batch = grade_batch(sheet=sheet08, paths=[HANDINS], out_dir=out, jobs=2)
    return {item.result.submission: item.result for item in batch.items}


def test_every_example_is_graded(results: dict[str, SubmissionResult]) -> None:
    assert sorted(results) == sorted(EXPECTED)


@pytest.mark.parametrize("submission", sorted(EXPECTED))
def test_task_verdicts(results: dict[str, SubmissionResult], submission: str) -> None:
    result = results[submission]
    expected = EXPECTED[submission]
    for task in result.tasks:
        if task.task_id in expected:
            status, score, words = expected[task.task_id]
        elif task.task_id == "8.9":
            status, score, words = "manual", 0, []
        else:
            status, score, words = PASSED, task.max_score, []
        assert (task.task_id, task.status) == (task.task_id, status)
        assert task.score == pytest.approx(score, abs=1e-6), task.task_id
        feedback = " ".join(f for c in task.checks for f in c.feedback)
        for w in words:
            assert w in feedback, f"{submission} {task.task_id}: {w!r} not in {feedback!r}"


def test_the_reference_scores_full_marks_with_the_essay_waiting(
    results: dict[str, SubmissionResult],
) -> None:
    ref = results["reference.py"]
    assert (ref.auto_score, ref.auto_max_score) == (25, 25)
    assert ref.task("8.9").status == "manual"


def test_equivalent_forms_are_judged_the_way_they_were_written(
    results: dict[str, SubmissionResult],
) -> None:
    """Fractions, floats and strings for the Taylor coefficients; a formula for gd_step."""
    forms = results["equivalent_forms.py"]
    assert forms.task("8.5a").checks[0].method == "symbolic"
    assert all(c.passed for c in forms.task("8.7").checks)


def test_no_case_of_8_2a_lets_one_minus_the_mean_or_dividing_by_m_minus_1_pass(
    sheet08: LoadedSheet,
) -> None:
    """Two Bernoulli samples {0, 1} have 1 − mean = mean, and all-zero Poisson samples have
    sum/(m − 1) = mean: no case the grader can ask is one of those."""
    (task,) = [t for t in sheet08.tasks if t.spec.id == "8.2a"]
    for check in task.checks:
        for case in check.pool.choose_all():  # type: ignore[attr-defined]
            assert set(case.mistakes) == {0}, (check.spec.name, case.label, case.values)


def test_a_leaky_relu_whose_default_alpha_is_not_0_01_loses_the_default_part(
    tmp_path: Path, sheet08: LoadedSheet
) -> None:
    source = (HANDINS / "reference.py").read_text(encoding="utf-8")
    wrong = tmp_path / "default_alpha.py"
    wrong.write_text(source.replace("alpha=0.01", "alpha=0.1"), encoding="utf-8")
    task = grade_submission(sheet08, wrong).task("8.3")
    assert (task.status, task.score) == ("partial", pytest.approx(1.6))
    feedback = " ".join(f for c in task.checks for f in c.feedback)
    assert "Called without alpha, `leaky_relu` must use α = 0.01" in feedback
