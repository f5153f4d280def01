"""Is a written hand-in cut into its tasks, and is every step of its derivations judged as a
careful reader would?"""

from __future__ import annotations

import pytest

from grader.handin.written.document import Document
from grader.handin.written.grading import read_written
from grader.handin.written.math import chains, formulas
from grader.handin.written.split import authors_in, split_tasks
from tests.conftest import SHARED
from tests.handin.conftest import WRITTEN

TASKS = ["6.1a", "6.1b", "6.1c", "6.1d", "6.2a", "6.2b", "6.2c", "6.2d", "6.3a", "6.3b"]
SEED = (WRITTEN / "seed_group.md").read_text(encoding="utf-8")


def test_the_seed_is_the_shared_seed_as_it_is() -> None:
    shared_seed = SHARED / "seeds" / "000_e9495ffedd65d3c1.txt"
    if not shared_seed.exists():
        pytest.skip(f"{shared_seed} is not beside this checkout")
    assert SEED == shared_seed.read_text(encoding="utf-8")


def test_the_seed_is_cut_into_every_task_despite_its_page_debris() -> None:
    sections = split_tasks(SEED, TASKS)
    assert [s.task_id for s in sections if s.task_id] == TASKS
    task_63b = next(s for s in sections if s.task_id == "6.3b")
    assert "Anna Krasilnikova" not in task_63b.text  # the repeated author line is debris
    assert "Sketch the gradient" in next(s for s in sections if s.task_id == "6.2b").text


@pytest.mark.parametrize(
    "heading, label",
    [
        ("## Exercise 6.2 – The sigmoid", "b) Sketch it"),
        ("# 6.2", "(b) Sketch it"),
        ("\\section{Exercise 6.2}", "\\subsection*{b)}"),
        ("\\section*{6.2 The sigmoid}", "\\item[(b)] Sketch it"),
        ("Aufgabe 6.2", "**b)** Sketch it"),
        ("", "6.2 b) Sketch it"),
        ("", "### 6.2b) Sketch it"),
    ],
)
def test_headings_and_labels_in_the_styles_students_use(heading: str, label: str) -> None:
    text = f"{heading}\n\na) First.\n\n$$x = 1$$\n\n{label}\n\nSecond answer.\n"
    if not heading:
        text = f"6.2 a) First.\n\n{label}\n\nSecond answer.\n"
    sections = {s.task_id: s.text for s in split_tasks(text, TASKS) if s.task_id}
    assert "Second answer." in sections["6.2b"]
    assert "Second answer." not in sections.get("6.2a", "")


def test_an_enumeration_inside_an_answer_does_not_start_a_task_again() -> None:
    text = "## 6.2\na) Answer one.\n\nb) Answer two.\n\na) a case inside the answer\n"
    sections = {s.task_id: s.text for s in split_tasks(text, TASKS) if s.task_id}
    assert "a case inside the answer" in sections["6.2b"]


def test_the_authors_are_read_with_their_numbers() -> None:
    names = [(a.name, a.id) for a in authors_in(SEED)]
    assert names == [
        ("Anna Krasilnikova", "2562668"),
        ("Mirza Misbah Mubeen Baig", "2571567"),
        ("Shahzain Mehboob", "2571564"),
    ]


def test_display_and_inline_math_in_every_form() -> None:
    text = (
        "$$a = 1$$ and \\[b = 2\\] and $c = 3$ and \\(d = 4\\)\n"
        "\\begin{equation}e = 5\\end{equation}\n\\begin{align*}f &= 6 \\\\ &= 6\\end{align*}\n"
        "```\n$not = math$\n```\n"
    )
    found = chains(formulas(text))
    assert [c.sides for c in found] == [
        ("a", "1"),
        ("b", "2"),
        ("c", "3"),
        ("d", "4"),
        ("e", "5"),
        ("f", "6", "6"),
    ]


def test_a_derivation_over_several_displays_is_one_chain() -> None:
    found = chains(formulas("$$f = x + x$$\n\nprose\n\n$$= 2x \\Rightarrow g = 1$$"))
    assert [c.sides for c in found] == [("f", "x + x", "2x"), ("g", "1")]


def test_rounded_sides_are_marked() -> None:
    (chain,) = chains(formulas("$$y = \\frac{1}{3} \\approx 0.333$$"))
    assert chain.approx == (False, False, True)


@pytest.fixture(scope="module")
def seed(sheet06):  # noqa: ANN001, ANN201
    return read_written(sheet06, Document("seed_group.md", SEED))


def mistakes(seed, task: str) -> list[str]:  # noqa: ANN001
    return seed.tasks[task].mistakes


def test_6_2a_the_lost_square_and_sigma_times_sigma_are_named(seed) -> None:  # noqa: ANN001
    found = mistakes(seed, "6.2a")
    assert len(found) == 2
    square, sigma = found
    assert "“-(1 + e^{-x})^{-2} (-e^{-x}) = \\frac{e^{-x}}{1 + e^{-x}}” does not hold" in square
    assert "The square of the denominator was lost" in square
    assert "at x = " in square and "the left side is" in square
    assert (
        "“\\sigma(x) \\cdot \\left( 1 \\cdot \\sigma(x) \\right) = \\sigma(x) - \\sigma^{2}(x)”"
        in sigma
    )
    assert "σ(x)·(1·σ(x)) is σ², not σ(1 − σ)" in sigma


def test_6_2c_sigma_of_minus_x_written_as_sigma_of_x(seed) -> None:  # noqa: ANN001
    found = mistakes(seed, "6.2c")
    assert len(found) == 2
    assert "“\\sigma(x) = \\frac{1}{1 + e^{-(-x)}}” does not hold" in found[0]
    assert all("σ(−x) written as σ(x)?" in m for m in found)


def test_6_2d_the_third_derivative_not_divided_by_3_factorial_is_the_slip(seed) -> None:  # noqa: ANN001
    (slip,) = [m for m in mistakes(seed, "6.2d") if "\\frac{1}{8}x^{3}" in m]
    side = "\\frac{1}{2}x^{0} + \\frac{1}{4}x^{1} + \\frac{0}{2}x^{2} - \\frac{1}{8}x^{3}"
    assert f"the sides around “{side}” agree, so the error is that side" in slip


def test_6_3b_graph_derivatives_and_values_put_in_are_no_mistakes(seed) -> None:  # noqa: ANN001
    derivations = seed.tasks["6.3b"].derivations
    statuses = {s.status for d in derivations for s in d.steps}
    assert "at_point" in statuses  # ∂e/∂b = 2·(1) + 2 + 1 at a = 2, b = 1
    numbering = [s for d in derivations for s in d.steps if "read as a numbering" in s.note]
    assert len(numbering) == 2  # "1 - ∂e/∂b = …" and "2 - ∂e/∂a = …"
    found = mistakes(seed, "6.3b")
    assert len(found) == 2
    assert "\\frac{\\partial c}{\\partial d}" in found[0]  # ∂c/∂d written for ∂e/∂d


def test_6_3a_outputs_rounded_to_1_and_0_are_not_mistakes(seed) -> None:  # noqa: ANN001
    assert mistakes(seed, "6.3a") == []
    statuses = [s.status for d in seed.tasks["6.3a"].derivations for s in d.steps]
    assert "broken" not in statuses
    assert statuses.count("rounded") >= 2  # e^18/(e^18 + 1) = 1, 1/(e^18 + 1) = 0


def test_prose_notation_is_never_a_broken_step(seed) -> None:  # noqa: ANN001
    for task in ("6.1a", "6.1b", "6.1c", "6.1d", "6.2b"):
        assert mistakes(seed, task) == [], task


def test_final_answers_of_the_seed(seed) -> None:  # noqa: ANN001
    import sympy

    taylor = seed.answers["TAYLOR_COEFFICIENTS"].answer.value
    assert list(taylor) == [sympy.Rational(1, 2), sympy.Rational(1, 4), 0, sympy.Rational(-1, 48)]
    gradients = seed.answers["gradients"].answer
    assert gradients.at_values == (2, 5)
    a, b = sympy.symbols("a b", real=True)
    assert [sympy.expand(f) for f in gradients.formulas] == [b + 1, a + 2 * b + 1]
    assert seed.answers["N_PARAMETERS"].answer.value == 14
    assert not seed.answers["PREDICTED_CLASS"].answer.found  # "x_1 and (h_1|x_1,x_2,x_3)"
    assert not seed.answers["forward"].answer.found  # O_1 = [1, 0] is no output vector


def test_taylor_coefficients_from_the_derivatives_the_text_gives(sheet06) -> None:  # noqa: ANN001
    import sympy

    def coefficients(series: str):  # noqa: ANN202
        text = (
            "## 6.2\nd)\n$$f(x) = \\frac{1}{1+e^{-x}}$$\n"
            "$$f(0) = \\frac{1}{2}$$ $$f'(0) = \\frac{1}{4}$$ $$f''(0) = 0$$ "
            f"$$f'''(0) = -\\frac{{1}}{{8}}$$\n$$T(x) = {series}$$\n"
        )
        return read_written(sheet06, Document("t.md", text)).answers["TAYLOR_COEFFICIENTS"]

    with_factorials = "f(0) + f'(0)x + \\frac{f''(0)}{2!}x^2 + \\frac{f'''(0)}{3!}x^3"
    assert list(coefficients(with_factorials).answer.value)[3] == sympy.Rational(-1, 48)
    without = "f(0) + f'(0)x + f''(0)x^2 + f'''(0)x^3"
    assert list(coefficients(without).answer.value)[3] == sympy.Rational(-1, 8)


def test_an_unclosed_opener_is_text_and_later_formulas_are_found() -> None:
    for opener in ("\\(", "\\[", "\\begin{align}"):
        text = f"see {opener} x\n\n$$a = 1$$\n\nand $b = 2$\n"
        found = [c.sides for c in chains(formulas(text))]
        assert found == [("a", "1"), ("b", "2")], opener
    text = "line\n" * 3 + "\\( u " * 50_000 + "\n$$a = 1$$\n"
    (formula,) = formulas(text)
    assert (formula.text, formula.line) == ("a = 1", 5)


@pytest.mark.parametrize(
    "heading",
    [
        "## 6.2b",
        "## 6.2b – The gradient",
        "## 6.2b The gradient",
        "\\subsection*{6.2b}",
        "**6.2b**",
    ],
)
def test_a_task_heading_with_the_letter_on_the_number(heading: str) -> None:
    text = f"## 6.2a\n\nFirst.\n\n$$x = 1$$\n\n{heading}\n\nSecond answer.\n"
    sections = {s.task_id: s.text for s in split_tasks(text, TASKS) if s.task_id}
    assert "First." in sections["6.2a"]
    assert "Second answer." in sections["6.2b"]
    assert "Second answer." not in sections["6.2a"]


def test_a_letter_after_a_space_and_words_is_no_task() -> None:
    text = "## 6.2\n\na) First.\n\n6.2 b is what the sheet calls it\n"
    sections = {s.task_id: s.text for s in split_tasks(text, TASKS) if s.task_id}
    assert list(sections) == ["6.2a"]


GRAPH = (
    "## Exercise 6.3\n\nb) With $c = a + b$, $d = b + 1$ and $e = c \\cdot d$:\n\n"
    "$$\\frac{{\\partial e}}{{\\partial b}} = d + c = {rest}$$\n"
)


def _steps(sheet06, rest: str) -> list[str]:  # noqa: ANN001
    text = GRAPH.format(rest=rest)
    reading = read_written(sheet06, Document("g.md", text))
    (derivation,) = [d for d in reading.tasks["6.3b"].derivations if len(d.sides) > 2]
    return [s.status for s in derivation.steps]


def test_a_wrong_formula_equal_at_the_point_only_is_broken(sheet06) -> None:  # noqa: ANN001
    # a + b + 2 and a + 2b + 1 are both 5 at a = 2, b = 1, but they are different formulas
    assert _steps(sheet06, "a + b + 2")[-1] == "broken"
    assert _steps(sheet06, "3b + 2")[-1] == "broken"


def test_values_put_into_a_formula_are_a_step_at_the_point(sheet06) -> None:  # noqa: ANN001
    assert _steps(sheet06, "a + 2b + 1 = 2 + 2 \\cdot 1 + 1 = 5")[-3:] == [
        "equal",
        "at_point",
        "equal",
    ]
    # only a put in, b kept: the rest is compared as a formula
    assert _steps(sheet06, "a + 2b + 1 = 2 + 2b + 1")[-1] == "at_point"
    assert _steps(sheet06, "a + 2b + 1 = 2 + 3b + 1")[-1] == "broken"


def _approx_status(sheet06, formula: str) -> str:  # noqa: ANN001
    text = f"## 6.2\n\nb) Remark:\n\n$${formula}$$\n"
    reading = read_written(sheet06, Document("a.md", text))
    (derivation,) = reading.tasks["6.2b"].derivations
    return derivation.steps[-1].status


@pytest.mark.parametrize(
    "formula, status",
    [
        # numbers: within 1 %, or rounded to the digits written
        ("y = \\frac{1}{3} \\approx 0.33", "rounded"),
        ("y = \\frac{1}{3} \\approx 0.3", "rounded"),
        ("y = \\frac{e^{54}}{e^{54} + e^{18}} \\approx 1", "rounded"),
        ("y = \\frac{1}{e^{36} + 1} \\approx 0", "rounded"),
        ("y = \\frac{1}{3} \\approx 0.5", "broken"),
        ("y = \\frac{1}{3} \\approx 0.34", "broken"),
        # formulas: equal within 1 % everywhere, near 0 only (Taylor), far out only, nowhere
        ("g(x) = \\frac{x}{3} \\approx 0.3333 x", "rounded"),
        ("g(x) = \\sigma(x) \\approx \\frac{1}{2} + \\frac{x}{4}", "unchecked"),
        ("g(x) = \\sigma(x) \\approx e^{x}", "unchecked"),
        ("g(x) = \\frac{e^{-x}}{(1 + e^{-x})^{2}} \\approx \\sigma(x)(1 + \\sigma(x))", "broken"),
    ],
)
def test_an_approximate_step_is_checked_numerically(sheet06, formula: str, status: str) -> None:  # noqa: ANN001
    assert _approx_status(sheet06, formula) == status


def _taylor(sheet06, body: str):  # noqa: ANN001, ANN202
    text = f"## 6.2\nd)\n{body}\n"
    return read_written(sheet06, Document("t.md", text)).answers["TAYLOR_COEFFICIENTS"].answer


POLYNOMIAL = "$$T_3(x) = \\frac{1}{2} + \\frac{1}{4}x - \\frac{1}{48}x^{3}$$\n"


@pytest.mark.parametrize(
    "remark",
    [
        "Near 0, $\\sigma(x) \\approx \\frac{1}{2} + \\frac{x}{4}$.",
        "The cubic term $-\\frac{1}{48}x^{3}$ is small near 0.",
    ],
)
def test_a_remark_after_the_taylor_polynomial_is_not_read_as_it(sheet06, remark: str) -> None:  # noqa: ANN001
    import sympy

    answer = _taylor(sheet06, POLYNOMIAL + remark)
    half, quarter = sympy.Rational(1, 2), sympy.Rational(1, 4)
    assert list(answer.value) == [half, quarter, 0, sympy.Rational(-1, 48)]


def test_two_different_taylor_polynomials_are_not_read(sheet06) -> None:  # noqa: ANN001
    other = "$$T_3(x) = \\frac{1}{2} + \\frac{1}{4}x - \\frac{1}{8}x^{3}$$\n"
    assert not _taylor(sheet06, POLYNOMIAL + other).found


def test_a_document_that_is_no_file_is_refused_not_waited_for(tmp_path) -> None:  # noqa: ANN001
    """A FIFO named like a document: reading it would wait for a writer for ever."""
    import os

    from grader.handin.written.document import DocumentProblem, load_document

    path = tmp_path / "pipe.md"
    os.mkfifo(path)
    problem = load_document(path)
    assert isinstance(problem, DocumentProblem) and "cannot be read" in problem.message
