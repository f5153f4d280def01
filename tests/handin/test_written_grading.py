"""Does a written hand-in get the verdicts a careful instructor would give from its text,
and does bad input get a clear message without stopping anything?"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.handin import grade_handin
from grader.handin.written.grading import WrittenResult
from grader.handin.written.view import render_derivations
from grader.results import SubmissionResult
from tests.handin.conftest import WRITTEN

#: task -> (status, score, words the task's feedback must contain)
SEED: dict[str, tuple[str, float, list[str]]] = {
    "6.1a": ("manual", 0, ["does not let a written answer earn these points"]),
    "6.1b": ("manual", 0, ["waits for a person", "your answer in words"]),
    "6.1c": ("manual", 0, ["does not let a written answer earn these points"]),
    "6.1d": ("manual", 0, ["does not let a written answer earn these points"]),
    "6.2a": (
        "partial",
        1,
        [
            "`sigmoid_derivative` is right",
            "2 steps do not hold in your derivation: −1 point(s)",
            "The square of the denominator was lost",
            "σ(x)·(1·σ(x)) is σ², not σ(1 − σ)",
        ],
    ),
    "6.2b": ("manual", 0, ["does not let a written answer earn these points"]),
    "6.2c": ("manual", 0, ["σ(−x) written as σ(x)?"]),
    "6.2d": (
        "partial",
        1.5,
        ["All 4 Taylor coefficients are right", "`TAYLOR_COEFFICIENTS` = [1/2, 1/4, 0, -1/48]"],
    ),
    # the parameter count is read and scored; the outputs and the class are not found
    "6.3a": (
        "manual",
        0.5,
        [
            "`N_PARAMETERS` = 14",
            "Not found in your text: `PREDICTED_CLASS`",
        ],
    ),
    "6.3b": (
        "partial",
        1.5,
        ["right partial derivatives", "(b + 1, 2 at the point; a + 2*b + 1, 5 at the point)"],
    ),
}

# 6.3a: the outputs on the sheet's network are scored (random networks cannot be written)
CORRECT_FULL = {"6.2a", "6.2d", "6.3a", "6.3b"}


@pytest.fixture(scope="module")
def seed(sheet06) -> SubmissionResult:  # noqa: ANN001
    return grade_handin(sheet06, WRITTEN / "seed_group.md")


@pytest.fixture(scope="module")
def correct(sheet06) -> SubmissionResult:  # noqa: ANN001
    return grade_handin(sheet06, WRITTEN / "correct.md")


@pytest.mark.parametrize("task_id", sorted(SEED))
def test_the_seed_gets_an_instructors_verdicts(seed: SubmissionResult, task_id: str) -> None:
    status, score, words = SEED[task_id]
    task = seed.task(task_id)
    assert (task.status, task.score) == (status, score)
    text = "\n".join(task.feedback)
    for w in words:
        assert w in text, w


def test_the_seed_is_graded_for_its_three_authors(seed: SubmissionResult) -> None:
    assert [a.id for a in seed.authors] == ["2562668", "2571567", "2571564"]


def test_prose_tasks_reach_the_instructor_with_their_text(seed: SubmissionResult) -> None:
    assert "data generating distribution" in (seed.task("6.1b").manual_answer or "")
    assert "point symmetric" in (seed.task("6.2c").manual_answer or "")


def test_a_correct_written_hand_in_gets_full_marks_where_writing_can_earn_them(
    correct: SubmissionResult,
) -> None:
    for task in correct.tasks:
        if task.task_id in CORRECT_FULL:
            assert (task.status, task.score) == ("passed", task.max_score), task.task_id
        else:
            assert task.status == "manual", task.task_id
    assert isinstance(correct, WrittenResult)
    assert all(not d.mistakes for d in correct.derivations)


def test_the_report_marks_every_step_and_the_first_broken_one(seed: SubmissionResult) -> None:
    assert isinstance(seed, WrittenResult)
    html = str(render_derivations(seed.derivations))
    assert html.count("first-broken") == sum(1 for d in seed.derivations if d.first_broken)
    assert '<math display="block"' in html and "s-equal" in html and "s-broken" in html
    assert "<script" not in html


def test_a_latex_document_is_read_too(sheet06, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "mine.tex"
    path.write_text(
        "\\documentclass{article}\\begin{document}\n\\section*{Exercise 6.2}\n"
        "\\subsection*{a)}\n\\begin{align*}\n\\sigma'(x) &= \\frac{e^{-x}}{(1+e^{-x})^2} \\\\\n"
        "&= \\sigma(x)(1 - \\sigma(x))\n\\end{align*}\n\\end{document}\n",
        encoding="utf-8",
    )
    result = grade_handin(sheet06, path)
    assert (result.task("6.2a").status, result.task("6.2a").score) == ("passed", 2)


def test_latex_that_does_not_parse_costs_nothing(sheet06, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "garbled.md"
    path.write_text(
        "## 6.2\na)\n$$\\sigma'(x) = \\frac{e^{-x}}{(1+e^{-x})^2$$\n"
        "$$\\sigma'(x) = \\sigma(x)(1 - \\sigma(x)$$\n",
        encoding="utf-8",
    )
    result = grade_handin(sheet06, path)
    task = result.task("6.2a")
    assert task.status == "manual" and task.score == 0
    assert "Nothing `sigmoid_derivative` needs could be read" in "\n".join(task.feedback)


def test_an_empty_document_earns_nothing_and_says_so(sheet06, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "empty.md"
    path.write_text("  \n\n", encoding="utf-8")
    result = grade_handin(sheet06, path)
    assert result.import_error == "the document is empty: there is nothing to grade"
    assert result.score == 0
    assert {t.status for t in result.tasks} == {"failed"}


def test_a_binary_file_named_md_is_an_error(sheet06, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "scan.md"
    path.write_bytes(b"%PDF-1.4\n\x00\x01\x02binary" * 100)
    result = grade_handin(sheet06, path)
    assert "not a text document" in (result.import_error or "")
    assert {t.status for t in result.tasks} == {"error"}


def test_a_10_mb_document_waits_for_a_person(sheet06, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "huge.md"
    path.write_text("$$x = x$$\n" * (10 * 1024 * 1024 // 10), encoding="utf-8")
    result = grade_handin(sheet06, path)
    assert {t.status for t in result.tasks} == {"manual"}
    assert result.score == 0 and result.import_error is None
    assert "10.0 MB" in result.notes[0]


def test_formulas_too_long_to_be_steps_are_not_read(sheet06, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "long.md"
    long = " + ".join(["x"] * 3000)
    path.write_text(f"## 6.2\na)\n$$\\sigma'(x) = {long}$$\n", encoding="utf-8")
    result = grade_handin(sheet06, path)
    assert result.task("6.2a").status == "manual"


@pytest.mark.slow
def test_bad_written_hand_ins_do_not_stop_a_batch(sheet06, tmp_path: Path) -> None:  # noqa: ANN001
    from grader.batch import grade_batch

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "empty.md").write_text("")
    (folder / "binary.md").write_bytes(b"\x00" * 64)
    (folder / "seed.md").write_bytes((WRITTEN / "seed_group.md").read_bytes())
    batch = grade_batch(sheet=sheet06, paths=[folder], out_dir=tmp_path / "out", jobs=2)
    results = {i.result.submission: i.result for i in batch.items}
    assert sorted(results) == ["binary.md", "empty.md", "seed.md"]
    assert results["seed.md"].auto_score == 4
    assert (tmp_path / "out" / "gradebook.csv").read_text().count("Krasilnikova") == 1


def test_formulas_that_would_stall_the_judge_cost_nothing(sheet06, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "heavy.md"
    path.write_text(
        "## 6.2\nd)\n$$s = \\sum_{i=1}^{1000000000} i^{i} = 1$$\n"
        "$$g = \\frac{d^{40}}{dx^{40}} \\sigma(x) = 0$$\n"
        "$$u = \\int_0^{x} e^{-t^2}\\,dt = 1$$\n"
        "$$z = 2^{2^{2^{2^{2^{2^{2}}}}}} = 3$$\n",
        encoding="utf-8",
    )
    result = grade_handin(sheet06, path)
    assert isinstance(result, WrittenResult)
    judged = [d for d in result.derivations if d.mistakes]
    # only the integral is judged, and rightly: it is √π/2·erf(x), not 1
    assert [d.line for d in judged] == [5]
    notes = [s.note for d in result.derivations for s in d.steps]
    assert any("no decision within the budget" in n for n in notes)
    assert any("derivatives of order above 6 are not read" in n for n in notes)
    assert result.task("6.2d").status == "manual"


def test_unclosed_math_openers_are_text_and_cost_no_time(sheet06, tmp_path: Path) -> None:  # noqa: ANN001
    """Each opener once searched a closing delimiter to the end: 400 kB of ``\\(`` took a
    minute. Now an unclosed opener is text, and the formula after them is still read."""
    import time

    junk = "see \\( x " * 15_000 + "and \\[ y " * 15_000 + "\\begin{align} z " * 10_000
    assert len(junk) > 400_000
    path = tmp_path / "unclosed.md"
    path.write_text(
        f"## 6.2\na) {junk}\n\n$$\\sigma'(x) = \\frac{{e^{{-x}}}}{{(1+e^{{-x}})^2}}"
        " = \\sigma(x)(1 - \\sigma(x))$$\n\nThere are 14 parameters, see $ and \\( again.\n",
        encoding="utf-8",
    )
    started = time.monotonic()
    result = grade_handin(sheet06, path)
    assert time.monotonic() - started < 5  # generous: it takes well under a second
    assert (result.task("6.2a").status, result.task("6.2a").score) == ("passed", 2)


def test_tasks_headed_6_2a_are_graded_as_with_labels(sheet06, tmp_path: Path) -> None:  # noqa: ANN001
    """``## 6.2a`` headings instead of ``## Exercise 6.2`` and ``a)``: the same verdicts."""
    import re

    text = (WRITTEN / "correct.md").read_text(encoding="utf-8")
    exercise = ""
    lines = []
    for line in text.split("\n"):
        heading = re.match(r"## Exercise (\d\.\d)", line)
        if heading:
            exercise = heading.group(1)
            continue
        label = re.match(r"([a-d])\) (.*)", line)
        lines += [f"## {exercise}{label.group(1)}", label.group(2)] if label else [line]
    path = tmp_path / "headed.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert "## 6.3b" in path.read_text(encoding="utf-8")
    result = grade_handin(sheet06, path)
    for task in result.tasks:
        if task.task_id in CORRECT_FULL:
            assert (task.status, task.score) == ("passed", task.max_score), task.task_id
        else:
            assert task.status == "manual", task.task_id


def test_numbers_in_prose_that_disagree_are_not_read(sheet06, tmp_path: Path) -> None:  # noqa: ANN001
    """“14 parameters … 4 bias parameters” took the last (4), and “2 output classes” was
    read as the predicted class: a wrong verdict either way. Disagreeing numbers, or a
    longer word, are not read; the check goes to a person."""
    path = tmp_path / "prose.md"
    path.write_text(
        "## Exercise 6.3\n\na) The network has 14 learnable parameters in all: 10 weights and "
        "4 bias parameters. There are 2 output classes; the predicted class is the first one.\n",
        encoding="utf-8",
    )
    checks = {c.name: c for c in grade_handin(sheet06, path).task("6.3a").checks}
    for name in ("N_PARAMETERS", "PREDICTED_CLASS"):
        assert checks[name].method == "manual" and checks[name].points == 0, name
        assert f"Not found in your text: `{name}`" in "\n".join(checks[name].feedback)


def test_numbers_in_prose_that_agree_are_read(sheet06, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "prose.md"
    path.write_text(
        "## Exercise 6.3\n\na) There are 14 learnable parameters, 14 parameters in all. "
        "The predicted class is 0.\n",
        encoding="utf-8",
    )
    checks = {c.name: c for c in grade_handin(sheet06, path).task("6.3a").checks}
    assert checks["N_PARAMETERS"].passed and checks["PREDICTED_CLASS"].passed


def test_a_wrong_approximation_is_a_broken_step_and_the_final_claim(
    sheet06,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    """``σ'(x) = e^{-x}/(1 + e^{-x})² ≈ σ(x)(1 + σ(x))`` was accepted unchecked, and the
    exact side before the ≈ was read as the answer: full marks for a wrong final answer."""
    path = tmp_path / "approx.md"
    path.write_text(
        "## Exercise 6.2\n\na) By the chain rule,\n\n"
        "$$\\sigma'(x) = \\frac{e^{-x}}{(1 + e^{-x})^{2}} \\approx \\sigma(x)(1 + \\sigma(x))$$\n",
        encoding="utf-8",
    )
    result = grade_handin(sheet06, path)
    task = result.task("6.2a")
    assert (task.status, task.score) == ("failed", 0)
    text = "\n".join(task.feedback)
    assert "\\approx \\sigma(x)(1 + \\sigma(x))” does not hold" in text


def test_values_without_a_formula_do_not_earn_the_general_part(sheet06, tmp_path: Path) -> None:  # noqa: ANN001
    """Only the values at a = 2, b = 1: the formula in a, b is not answered and scores 0
    (it was 'unanswerable', which the check core leaves out: full marks)."""
    path = tmp_path / "values.md"
    path.write_text(
        "## Exercise 6.3\n\nb) At $a = 2$, $b = 1$: $\\frac{\\partial e}{\\partial a} = 2$ and "
        "$\\frac{\\partial e}{\\partial b} = 5$.\n",
        encoding="utf-8",
    )
    task = grade_handin(sheet06, path).task("6.3b")
    (check,) = task.checks
    assert (check.points, check.method) == (1.0, "numeric")
    assert not check.undetermined
    assert "No formula in a, b was found in your text" in "\n".join(check.feedback)


def test_a_formula_written_but_not_read_goes_to_a_person(sheet06, tmp_path: Path) -> None:  # noqa: ANN001
    """A formula the reader cannot read may be wrong: the values at the point alone must not
    earn the whole check."""
    path = tmp_path / "nabla.md"
    path.write_text(
        "## Exercise 6.3\n\nb) $$\\nabla e = "
        "\\begin{pmatrix} b + 1 \\\\ a + 3b \\end{pmatrix}$$\n\n"
        "At $a = 2$, $b = 1$: $\\frac{\\partial e}{\\partial a} = 2$ and "
        "$\\frac{\\partial e}{\\partial b} = 5$.\n",
        encoding="utf-8",
    )
    task = grade_handin(sheet06, path).task("6.3b")
    assert (task.status, task.score) == ("manual", 0)
    assert "Your formula for `gradients` could not be read" in "\n".join(task.feedback)


def test_a_function_letter_is_defined_per_task(sheet06, tmp_path: Path) -> None:  # noqa: ANN001
    """f(x) = 1 + e^{-x} in 6.2a and f(x) = σ(x) in 6.2d are two definitions, not a claim
    that 1 + e^{-x} = σ(x) (every step of 6.2d was broken, and 6.2d lost points)."""
    text = (WRITTEN / "correct.md").read_text(encoding="utf-8")
    mine = text.replace(
        "a) By the chain rule,",
        "a) Let $f(x) = 1 + e^{-x}$, so $\\sigma(x) = f(x)^{-1}$. By the chain rule,",
    )
    assert mine != text
    path = tmp_path / "reuse_f.md"
    path.write_text(mine, encoding="utf-8")
    result = grade_handin(sheet06, path)
    for task_id in ("6.2a", "6.2d"):
        task = result.task(task_id)
        assert (task.status, task.score) == ("passed", task.max_score), task_id
    assert isinstance(result, WrittenResult)
    assert all(not d.mistakes for d in result.derivations)


@pytest.mark.parametrize(
    "outputs, right",
    [
        ("(1.0, 2.3 \\cdot 10^{-16})", True),  # 2.32e-16 to the 2 digits written
        ("(1, 2.3 \\cdot 10^{-16})", True),
        ("(1.0, 2.6 \\cdot 10^{-16})", False),  # wrong in the second digit
        ("(1.0, 2 \\cdot 10^{-16})", False),  # 1 digit is read as 2: 2.0 is not 2.32
    ],
)
def test_a_rounded_answer_is_judged_at_the_digits_written(
    sheet06,  # noqa: ANN001
    tmp_path: Path,
    outputs: str,
    right: bool,
) -> None:
    """A written output was held to the code's rtol of 10⁻⁶: 2.3·10⁻¹⁶ for 2.32·10⁻¹⁶ was
    wrong. It is judged at the precision written, with at least 2 significant digits."""
    path = tmp_path / "outputs.md"
    path.write_text(
        f"## Exercise 6.3\n\na) $z = (54, 18)$, so\n\n$$\\hat{{y}} = {outputs}$$\n",
        encoding="utf-8",
    )
    (check,) = [c for c in grade_handin(sheet06, path).task("6.3a").checks if c.name == "forward"]
    assert check.passed is right
    assert check.points == (2 if right else 0)


def test_a_broken_step_costs_only_the_check_that_rests_on_it(sheet06, tmp_path: Path) -> None:  # noqa: ANN001
    """A slip in the parameter count (N = … = 16 = 14) was charged to every check of 6.3a,
    the network's outputs too; it belongs to N_PARAMETERS (whose steps cost nothing)."""
    path = tmp_path / "slip.md"
    path.write_text(
        "## Exercise 6.3\n\na) $z = (54, 18)$, so\n\n"
        "$$\\hat{y} = \\left( \\frac{e^{54}}{e^{54} + e^{18}}, "
        "\\frac{e^{18}}{e^{54} + e^{18}} \\right)$$\n\n"
        "$$N = 3 \\cdot 2 + 2 \\cdot 2 + 2 + 2 = 16 = 14$$\n\nThe predicted class is 0.\n",
        encoding="utf-8",
    )
    checks = {c.name: c for c in grade_handin(sheet06, path).task("6.3a").checks}
    assert (checks["forward"].points, checks["forward"].passed) == (2, True)
    assert not any("does not hold" in f for f in checks["forward"].feedback)
    assert checks["N_PARAMETERS"].points == 0.5
    assert any("does not hold" in f for f in checks["N_PARAMETERS"].feedback)


@pytest.mark.parametrize(
    "text, status",
    [
        # the claim restated: no proof
        ("We have to show $\\sigma'(x) = \\sigma(x) - \\sigma(x)^2$. This is clear.", "manual"),
        # a derivation, then the result on its own line: a proof
        (
            "$$\\frac{d}{dx} (1 + e^{-x})^{-1} = \\frac{e^{-x}}{(1 + e^{-x})^{2}}"
            " = \\sigma(x)(1 - \\sigma(x))$$\n\nso $\\sigma'(x) = \\sigma(x) - \\sigma(x)^2$.",
            "passed",
        ),
    ],
)
def test_a_proof_is_not_passed_by_restating_the_claim(
    sheet06,  # noqa: ANN001
    tmp_path: Path,
    text: str,
    status: str,
) -> None:
    path = tmp_path / "proof.md"
    path.write_text(f"## Exercise 6.2\n\na) {text}\n", encoding="utf-8")
    task = grade_handin(sheet06, path).task("6.2a")
    assert task.status == status
    assert task.score == (2 if status == "passed" else 0)
    if status == "manual":
        assert "states the result but derives nothing" in "\n".join(task.feedback)
