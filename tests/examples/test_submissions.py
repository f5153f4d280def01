"""Does every example hand-in get the verdicts a teacher would give, task by task?"""

from __future__ import annotations

import pytest

from grader.batch import grade_batch
from grader.results import SubmissionResult
from tests.conftest import SUBMISSIONS

PASSED = "passed"
ALL_TASKS = ["6.1a", "6.1b", "6.1c", "6.1d", "6.2a", "6.2b", "6.2c", "6.2d", "6.3a", "6.3b"]

#: hand-in -> {task: (status, score, [words the feedback must contain])}; unlisted tasks pass
#: (6.1b is always `manual`: free text waits for a person)
EXPECTED: dict[str, dict[str, tuple[str, float, list[str]]]] = {
    "reference.py": {},
    "equivalent_forms.py": {},
    "seed_group.py": {
        "6.1c": ("failed", 0, ["“m = 1..m”", "the last sample"]),
        "6.2a": ("failed", 0, ["σ(x)·(1·σ(x)) is σ², not σ(1 − σ)", "refuted at x ="]),
        "6.2c": ("partial", 2 / 3, ["σ(−x) was written as σ(x)", "σ(x) + σ(−x) must be 1"]),
        "6.3a": ("partial", 1, ["Softmax is taken over the summands of each logit", "biases"]),
    },
    "variance_and_overflow.py": {
        "6.1a": ("partial", 1.5, ["divides by m, not m − 1"]),
        "6.2c": ("partial", 1, ["overflows for large negative x", "RuntimeWarning: overflow"]),
    },
    "lost_signs.py": {
        "6.1c": ("partial", 0.5, ["m times too large"]),
        "6.2a": ("failed", 0, ["A minus sign was lost", "refuted at x ="]),
        "6.3b": ("partial", 1, ["∂e/∂b = d forgets the path", "expected 5, but yours gave 2"]),
    },
    "network_slips.py": {
        "6.2a": ("failed", 0, ["σ(x)(1 + σ(x)) has the wrong sign"]),
        "6.3a": (
            "partial",
            1,
            ["ReLU is missing", "Softmax without subtracting the maximum overflows"],
        ),
    },
    "taylor_and_entropy.py": {
        "6.1d": ("partial", 1.25, ["log base 2"]),
        "6.2d": ("partial", 1.5, ["-1/8 is f⁽3⁾(0)", "not divided by 3! = 6"]),
    },
    "hardcoded.py": {
        "6.3a": (
            "partial",
            2,
            ["right on the sheet's network but wrong on other networks", "hard-coded"],
        ),
        "6.3b": ("partial", 1, ["right at a = 2, b = 1 but not in general"]),
    },
    "transposed_numeric.py": {
        "6.1a": ("partial", 1.5, ["square root: the standard deviation instead of the variance"]),
        "6.3a": ("error", 1, ["The weights are transposed", "matmul"]),
    },
    # the notebook of the reference solution: as reference.py
    "notebooks/reference.ipynb": {},
    # written hand-ins: what writing can earn is judged, the rest waits for a person
    "written/seed_group.md": {
        **{t: ("manual", 0, []) for t in ["6.1a", "6.1c", "6.1d", "6.2b"]},
        "6.2a": ("partial", 1, ["σ(x)·(1·σ(x)) is σ², not σ(1 − σ)", "2 steps do not hold"]),
        "6.2c": ("manual", 0, ["σ(−x) written as σ(x)?"]),
        "6.2d": ("partial", 1.5, ["All 4 Taylor coefficients are right"]),
        "6.3a": ("manual", 0.5, ["`N_PARAMETERS` = 14"]),
        "6.3b": ("partial", 1.5, ["right partial derivatives", "5 at the point"]),
    },
    "written/correct.md": {t: ("manual", 0, []) for t in ["6.1a", "6.1c", "6.1d", "6.2b", "6.2c"]},
    "syntax_error.py": {
        t: ("error", 0, ["could not be imported: SyntaxError", "(line 9)"]) for t in ALL_TASKS
    },
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, sheet06) -> dict[str, SubmissionResult]:  # noqa: ANN001
    out = tmp_path_factory.mktemp("reports")
    # sheet 6's hand-ins only: other sheets' examples live in subfolders (submissions/sheet08/)
    batch = grade_batch(sheet=sheet06, paths=[SUBMISSIONS], out_dir=out, jobs=2)
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
        elif task.task_id == "6.1b":
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
    assert (ref.auto_score, ref.auto_max_score) == (20, 20)
    assert ref.task("6.1b").status == "manual"


def test_symbolic_and_numeric_judgement_are_named(results: dict[str, SubmissionResult]) -> None:
    symbolic = results["reference.py"].task("6.2a").checks[0]
    numeric = results["transposed_numeric.py"].task("6.2a").checks[0]
    assert symbolic.method == "symbolic" and "judged symbolically" in " ".join(symbolic.feedback)
    assert numeric.method == "numeric" and "judged numerically" in " ".join(numeric.feedback)
    assert numeric.passed


def test_group_authors_each_get_a_row(results: dict[str, SubmissionResult]) -> None:
    seed = results["seed_group.py"]
    assert [a.id for a in seed.authors] == ["2562668", "2571567", "2571564"]
