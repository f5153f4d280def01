from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import sympy
from report_fixtures import (
    ANSI,
    HIDDEN_FEEDBACK,
    HIDDEN_GIVEN,
    HIDDEN_SECRET,
    HIDDEN_WITNESS,
    MANUAL_ANSWER,
    SCRIPT,
    sigmoid_plot,
)

from grader.reports._text import clean, safe_mathml
from grader.reports.html import render_report, render_summary
from grader.reports.svg import histogram_svg, nice_ticks, plot_svg
from grader.results import Plot, SubmissionResult

TASKS = ["6.1a", "6.1b", "6.2a", "6.2b", "6.2c", "6.2d", "6.3b"]
HIDDEN = (HIDDEN_SECRET, HIDDEN_GIVEN, HIDDEN_WITNESS, HIDDEN_FEEDBACK)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)


def tags(html: str) -> _Tags:
    p = _Tags()
    p.feed(html)
    return p


def no_active_content(html: str) -> None:
    parsed = tags(html)
    assert "script" not in parsed.tags
    assert "img" not in parsed.tags and "iframe" not in parsed.tags
    assert not [a for a, _ in parsed.attrs if a.startswith("on")]
    assert not [v for a, v in parsed.attrs if a == "href" and v and v.startswith("javascript")]
    assert "\x1b" not in html and "\x07" not in html and "\u202e" not in html
    assert "<link" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/', ""
    ).replace('"http://www.w3.org/', "")


@pytest.mark.parametrize("instructor", [False, True])
def test_report_shows_every_task_with_points_status_and_feedback(realistic, instructor):
    html = render_report(realistic, sheet_title="Sheet 6", instructor=instructor)
    assert html.startswith("<!DOCTYPE html>")
    for task in realistic.tasks:
        assert f'id="task-{task.task_id.replace(".", "-")}"' in html
    # status by text, not colour alone
    for label in ("Passed", "Partly right", "Not right yet", "Error", "Waits for a person"):
        assert label in html
    assert "5</span>" not in html  # no stray markup in numbers
    assert "1 / 2 points" in html and "5<span" in html
    # the named mistake, the method, the witness, the student's line number
    assert "The variance divides by m - 1; the MLE divides by m." in html
    assert "judged symbolically" in html and "judged numerically" in html
    assert "compared exactly" in html
    assert "Where they differ:" in html
    assert "line 14 of your file" in html
    assert "Traceback" not in html
    no_active_content(html)


def test_report_renders_mathml_and_plots(realistic):
    html = render_report(realistic)
    assert html.count('<math display="block" xmlns="http://www.w3.org/1998/Math/MathML">') == 4
    assert "<mfrac>" in html
    assert "&ExponentialE;" not in html  # shown as an upright e
    assert '<mi mathvariant="normal">e</mi>' in html
    assert html.count('<svg class="plot"') == 1
    assert 'class="reference"' in html and 'class="given"' in html and 'class="differs"' in html


def test_hidden_checks_reveal_nothing(realistic):
    for instructor in (False, True):
        html = render_report(realistic, instructor=instructor)
        for secret in HIDDEN:
            assert secret not in html
        assert "A hidden check passed." in html
        assert "A hidden check did not pass." in html
        # neither the hidden check's name, mistakes nor its plot
        assert "gradients (random a, b)" not in html
        assert "forgets the path through c" not in html
        assert "hidden cubic" not in html


def test_manual_answer_and_output_only_for_instructors(realistic):
    student = render_report(realistic)
    teacher = render_report(realistic, instructor=True)
    assert "MANUAL-ANSWER" not in student
    assert "epoch 1 loss" not in student
    assert "pid namespace" not in student
    assert (
        "MANUAL-ANSWER: the empirical distribution is the data &lt;b&gt;we&lt;/b&gt; have"
        in teacher
    )
    assert teacher.count("MANUAL-ANSWER") == 1
    assert MANUAL_ANSWER not in teacher  # escaped, never raw
    assert "epoch 1 loss 0.69" in teacher
    assert "instructor view" in teacher


def test_hostile_strings_are_escaped(hostile):
    for instructor in (False, True):
        html = render_report(hostile, instructor=instructor)
        no_active_content(html)
        assert SCRIPT not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "RED" in html and "[31m" not in html
        # the forged MathML is not inserted; its plain-text form is shown escaped instead
        assert "<mi><script>" not in html
        assert "onclick" not in html and "onerror" not in html
    teacher = render_report(hostile, instructor=True)
    assert teacher.count("&lt;script&gt;alert(1)&lt;/script&gt;\n") >= 3  # captured output


def test_import_error_is_shown_first_and_once(broken):
    html = render_report(broken)
    assert html.index("Your file could not be run") < html.index('id="task-6-2a"')
    assert "SyntaxError: invalid syntax (line 12)" in html
    # not repeated in a box under every task: each task says it was not checked
    assert "line 12 of your file" not in html and html.count("SyntaxError") == 1
    assert html.count("Not checked: your file could not be run (see above).") == 2
    assert 'class="errorbox"' not in html


def test_output_is_truncated_for_instructors(perfect):
    big = SubmissionResult(
        perfect.submission, perfect.sheet, perfect.authors, perfect.tasks, output="x" * 100_000
    )
    html = render_report(big, instructor=True)
    assert "more characters" in html
    assert len(html) < 60_000


def test_summary(realistic, hostile, broken, perfect):
    links = {
        "group07.py": "group07/report.html",
        "carol.py": "carol/report.html",
        hostile.submission: "javascript:alert(1)",
    }
    html = render_summary(
        [realistic, hostile, broken, perfect],
        sheet_title="Sheet 6 <b>",
        task_ids=TASKS,
        report_links=links,
    )
    no_active_content(html)
    assert "Sheet 6 &lt;b&gt;" in html
    assert 'href="group07/report.html"' in html and 'href="carol/report.html"' in html
    assert "javascript:" not in html
    assert html.count("<svg") == 2  # histogram and task bars
    # most frequent mistakes, counted per hand-in
    assert "The variance divides by m - 1; the MLE divides by m." in html
    assert "mistake &lt;script&gt;" in html
    # the hand-ins table: one row per hand-in, a cell per task
    assert html.count("<tr>") >= 4 + len(TASKS) + 1
    for secret in HIDDEN:
        assert secret not in html


def test_summary_of_nothing():
    html = render_summary([], sheet_title="Empty", task_ids=TASKS, report_links={})
    assert "Empty" in html and "<svg" not in html


def test_safe_mathml_allows_sympy_and_rejects_markup():
    x = sympy.Symbol("x")
    good = sympy.mathml(sympy.exp(-x) / (1 + sympy.exp(-x)) ** 2, printer="presentation")
    assert safe_mathml(good) == good
    assert safe_mathml(sympy.mathml(sympy.Matrix([[1, x]]), printer="presentation"))
    for bad in (
        sympy.mathml(sympy.Symbol("<script>alert(1)</script>"), printer="presentation"),
        '<mi onmouseover="alert(1)">x</mi>',
        "<mi>x</mi><img src=x onerror=alert(1)>",
        "<math><mi>x</mi></math>",
        "<mi>x</mi></mrow></math><b>escape</b>",
        "<mi>x<!-- --></mi>",
        "<mrow><mi>x</mi>",
        "x<mi>y</mi>",
        '<mi xlink:href="javascript:alert(1)">x</mi>',
        "",
        None,
    ):
        assert safe_mathml(bad) is None, bad


def test_clean_strips_escapes_and_controls():
    assert clean(f"a{ANSI}b") == "aREDb"
    assert clean("x\x1b]0;title\x07y") == "xy"
    assert clean("one\r\ntwo\rthree") == "one\ntwo\nthree"
    assert clean("a\u202eb\x00c\ud800") == "ab" + "c?"
    assert clean("a\n  b", multiline=False) == "a b"
    assert clean("abcdef", limit=3).startswith("abc… (3 more")


def test_plot_handles_gaps_and_marks_differences():
    svg = str(plot_svg(sigmoid_plot(), ident="p"))
    assert svg.startswith("<svg") and "</svg>" in svg
    assert svg.count('class="given"') == 2  # the None gap splits the student's curve
    assert svg.count('class="reference"') == 1
    assert 'class="differs"' in svg
    assert "reference" in svg and "your answer" in svg and "differs here" in svg  # legend
    assert re.search(r">-5<|>0<|>5<", svg)  # tick labels
    assert "nan" not in svg.lower().replace("nanmean", "")


def test_plot_survives_degenerate_data():
    for plot in (
        Plot("empty", (), (), ()),
        Plot("one", (1.0,), (1.0,), (1.0,)),
        Plot("all none", (0.0, 1.0), (None, None), (None, None)),
        Plot("flat", (0.0, 1.0, 2.0), (1.0, 1.0, 1.0), (1.0, 1.0, 1.0)),
        Plot("huge", (0.0, 1.0, 2.0), (0.0, 1.0, 2.0), (1e308, float("inf"), -1e308), (0.0, 1.0)),
    ):
        svg = str(plot_svg(plot))
        assert "inf" not in svg.replace("info", "")
        assert "e+30" not in svg  # coordinates stay in a sane range


def test_histogram_and_ticks():
    svg = str(histogram_svg([0, 0, 4.5, 22, 22], 22))
    assert svg.count("<rect") == 11  # 2-point bins up to 22
    assert ">2–4 points: 0 hand-ins<" in svg and ">20–22 points: 2 hand-ins<" in svg
    assert nice_ticks(0, 1, 5) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert nice_ticks(-8, 8, 6) == [-5, 0, 5]
    assert nice_ticks(0, 0.25, 5) == pytest.approx([0, 0.05, 0.1, 0.15, 0.2, 0.25])
    assert nice_ticks(1, 1) == [1]


def test_a_check_with_part_of_its_points_is_partly_correct(realistic):
    html = render_report(realistic)
    # 6.2b's check gave 1 of 2 points: not "not correct"
    section = html[html.index('id="task-6-2b"') : html.index('id="task-6-2c"')]
    assert "◐ partly correct" in section and "✗ not correct" not in section
    assert "1 / 2 pts" in section


def test_a_hidden_check_that_timed_out_says_so_without_revealing_it():
    from dataclasses import replace

    from report_fixtures import check

    from grader.results import TaskResult

    hidden = check(
        check_id="h",
        name="secret probe",
        points=0.0,
        max_points=1.0,
        passed=False,
        hidden=True,
        error="timeout",
        expected=HIDDEN_SECRET,
        feedback=(HIDDEN_FEEDBACK,),
    )
    task = TaskResult("6.3b", "Backprop", 0.0, 1.0, "error", (hidden,))
    result = replace(SubmissionResult("x.py", "sheet06", (), (task,)), seconds=0.4)
    html = render_report(result)
    assert "Your code ran too long on a hidden check and was stopped" in html
    assert "Your code could not be run" not in html
    assert HIDDEN_SECRET not in html and HIDDEN_FEEDBACK not in html and "secret probe" not in html
    assert "graded in 0.4 s" in html


def test_an_override_is_shown_in_the_students_report():
    from report_fixtures import overridden_result

    html = render_report(overridden_result())
    assert "Score changed by the instructor" in html
    assert "from 2 to 1.5 / 2 points: Regrade request: the slip in line 3 is a typo." in html


def test_an_empty_file_says_so_once():
    from report_fixtures import check

    from grader.results import EMPTY_FILE, TaskResult

    message = "Your file is empty: it defines none of the names the sheet asks for."
    tasks = tuple(
        TaskResult(
            tid,
            "t",
            0.0,
            1.0,
            "error",
            (check(points=0.0, passed=False, error="import", feedback=(message,)),),
        )
        for tid in ("6.2a", "6.2b", "6.2c")
    )
    html = render_report(SubmissionResult("e.py", "sheet06", (), tasks, import_error=EMPTY_FILE))
    assert "Your file is empty" in html and "grader template" in html
    assert "not defined" not in html and message not in html
    assert html.count("Not checked") == 3


def test_summary_marks_tasks_waiting_for_a_person_and_a_provisional_mean(
    realistic, hostile, perfect
):
    html = render_summary(
        [realistic, hostile, perfect], sheet_title="S", task_ids=TASKS, report_links={}
    )
    # 6.1b waits for a person in every hand-in that has it: no 0 % and no "0 / 2" mean
    row = html[html.index('<th scope="row">6.1b</th>') :].split("</tr>")[0]
    assert "not scored yet" in row and "0%" not in row and "0 / 2" not in row
    assert "Provisional:</strong> 2 hand-ins have answers waiting for a person" in html
    assert "mean of 14 points (provisional)" in html
    # with every answer graded, nothing is provisional
    final = render_summary([perfect], sheet_title="S", task_ids=TASKS, report_links={})
    assert "Provisional:" not in final and "(provisional)" not in final


def test_summary_flags_near_identical_hand_ins(realistic, hostile, perfect):
    from report_fixtures import similar_pairs

    html = render_summary(
        [realistic, hostile, perfect],
        sheet_title="S",
        task_ids=TASKS,
        report_links={"group07.py": "handins/group07/report.html"},
        similar=similar_pairs(),
    )
    no_active_content(html)
    assert "2 hand-ins with near-identical answers to 6.1b" in html
    assert "2 hand-ins with near-identical code" in html
    assert "lines 8–12" in html and 'href="handins/group07/report.html"' in html
    assert 'href="instructor.html"' in html


def test_task_bars_say_how_many_answers_still_wait():
    from grader.reports.svg import TaskStat, task_bars_svg

    svg = str(
        task_bars_svg(
            [
                TaskStat("6.1a", 0.85, 0.7, 1.7, 2.0, graded=10),
                TaskStat("6.1b", 0.0, 0.0, 0.0, 2.0, waiting=9, graded=1),
                TaskStat("6.1c", 0.0, 0.0, 0.0, 2.0, pending=True, waiting=10),
            ]
        )
    )
    assert "✎ 9 of 10 waiting" in svg
    assert "graded by hand: not scored yet" in svg
    assert svg.count('class="waiting"') == 1
