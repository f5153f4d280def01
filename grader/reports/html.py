"""The feedback report: one self-contained HTML page per hand-in.

Pages carry their CSS inline and need neither JavaScript nor network: a student opens
``report.html`` straight from disk, on a phone or printed. All markup lives in the jinja2
templates; this module turns results into plain view data (cleaned of escape sequences and
control characters) and the templates autoescape it. The only unescaped insertions are
the MathML fragments the grader made with sympy, after ``safe_mathml`` accepted them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from markupsafe import Markup

from grader.reports._env import environment
from grader.reports._text import clean, safe_mathml
from grader.reports._view import STATUS, TEXT_LIMIT, StatusInfo, authors
from grader.reports.numbers import points, seconds
from grader.reports.svg import plot_svg
from grader.results import EMPTY_FILE, CheckResult, SubmissionResult, TaskResult

#: captured output shown to instructors is cut here; a runaway print loop would bloat the page
OUTPUT_LIMIT = 20_000


METHOD = {
    # says how, not what came of it: a wrong answer is judged symbolically too (refuted)
    "symbolic": "judged symbolically (your formula against the expected one)",
    "numeric": "judged numerically (compared at sample points)",
    "exact": "compared exactly",
    "manual": "graded by hand",
    "manual-scored": "graded by hand",
}

ERROR_LABEL = {
    "exception": "Your code raised an exception",
    "timeout": "Your code ran too long and was stopped",
    "memory": "Your code used too much memory",
    "output": "Your code printed too much",
    "crashed": "Your code crashed",
    "import": "Your file could not be imported",
    "sandbox": "Your code could not be run",
}
#: the same for a hidden check: what happened, not what was tested
HIDDEN_ERROR_LABEL = {
    "exception": "Your code raised an exception on a hidden check",
    "timeout": "Your code ran too long on a hidden check and was stopped",
    "memory": "Your code used too much memory on a hidden check",
    "output": "Your code printed too much on a hidden check",
    "crashed": "Your code crashed on a hidden check",
}


#: a piece of feedback text, and whether it was `quoted` as code
Segment = tuple[str, bool]


def segments(text: str) -> list[Segment]:
    """Split feedback at backticks: the checks quote names (`sigmoid`) markdown-style."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: leave the text as it is
        return [(text, False)]
    return [(p, i % 2 == 1) for i, p in enumerate(parts) if p]


@dataclass
class MathView:
    text: str
    mathml: Markup | None


@dataclass
class CheckView:
    ident: str
    name: str
    points: str
    max_points: str
    passed: bool
    #: some of the points, not all
    partial: bool
    hidden: bool
    method: str
    feedback: list[list[Segment]]
    mistakes: list[list[Segment]]
    expected: MathView | None
    given: MathView | None
    witness: str
    error: str
    undetermined: bool
    #: waits for a person (a hand-graded answer not scored yet, or an undecided judge)
    pending: bool
    plot: Markup | None


@dataclass
class TaskView:
    anchor: str
    task_id: str
    title: str
    score: str
    max_score: str
    percent: float
    status: StatusInfo
    checks: list[CheckView]
    manual_answer: str | None
    pending: bool = False
    #: nothing ran (the file did not import): the checks are not listed one by one
    not_run: bool = False
    #: the instructor changed the score: {"auto", "score", "reason"}
    override: dict[str, str] | None = None


def _math(text: str | None, mathml: str | None) -> MathView | None:
    if text is None and mathml is None:
        return None
    trusted = safe_mathml(mathml)
    if trusted is not None:
        # sympy writes e and i as the double-struck &ExponentialE; / &ImaginaryI;, which
        # students rarely recognise; show them as the upright letters of their lecture notes
        trusted = trusted.replace("<mi>&ExponentialE;</mi>", '<mi mathvariant="normal">e</mi>')
        trusted = trusted.replace("<mi>&ImaginaryI;</mi>", '<mi mathvariant="normal">i</mi>')
    plain = clean(text or "", limit=TEXT_LIMIT)
    if not plain and trusted is None:
        return None
    return MathView(text=plain, mathml=Markup(trusted) if trusted is not None else None)


def _anchor(task_id: str) -> str:
    return "task-" + re.sub(r"[^A-Za-z0-9_-]+", "-", task_id).strip("-")


def _check_view(check: CheckResult, ident: str, instructor: bool) -> CheckView:
    # hidden checks keep their secrets in every view: reports may be passed on to students
    view = check.student_view()
    mistakes = [clean(m.message, multiline=False, limit=TEXT_LIMIT) for m in view.mistakes]
    feedback = [clean(f, limit=TEXT_LIMIT) for f in view.feedback]
    # mistake messages are also among the feedback lines; show each once, as the mistake
    feedback = [f for f in feedback if f and f not in mistakes]
    is_manual = view.kind == "manual" or view.method in ("manual", "manual-scored")
    expected = _math(view.expected, view.expected_mathml)
    # a manual check's "given" is the student's free-text answer: instructors see it once,
    # under the task (``manual_answer``), students not at all
    given = None if is_manual else _math(view.given, view.given_mathml)
    error = ""
    if view.error:
        labels = HIDDEN_ERROR_LABEL if view.hidden else ERROR_LABEL
        error = labels.get(view.error, ERROR_LABEL.get(view.error, "Your code could not be run"))
    return CheckView(
        ident=ident,
        name=clean(view.name, multiline=False, limit=200),
        points=points(view.points),
        max_points=points(view.max_points),
        passed=view.passed,
        partial=view.partial,
        hidden=view.hidden,
        method=METHOD.get(view.method, clean(view.method, multiline=False, limit=80)),
        feedback=[segments(f) for f in feedback],
        mistakes=[segments(m) for m in mistakes],
        expected=None if view.hidden else expected,
        given=None if view.hidden else given,
        # the witness is often already part of a feedback sentence: say it once
        witness=""
        if view.hidden
        or view.passed
        or any(view.witness and view.witness in f for f in view.feedback)
        else clean(view.witness, limit=TEXT_LIMIT),
        error=error,
        undetermined=view.undetermined,
        pending=view.undetermined or (is_manual and view.method != "manual-scored"),
        plot=(plot_svg(view.plot, ident=f"{ident}-plot") or None)
        if view.plot is not None and not view.hidden
        else None,
    )


def _task_view(task: TaskResult, instructor: bool, not_run: bool = False) -> TaskView:
    anchor = _anchor(task.task_id)
    checks = [_check_view(c, f"{anchor}-c{i}", instructor) for i, c in enumerate(task.checks)]
    pending = task.status == "manual"
    manual_answer = None
    if instructor and (pending or any(c.kind == "manual" for c in task.checks)):
        manual_answer = clean(task.manual_answer or "", limit=OUTPUT_LIMIT)
    share = 100.0 * task.score / task.max_score if task.max_score else 0.0
    status = STATUS.get(task.status, STATUS["failed"])
    if pending:
        status = StatusInfo("Waits for a person", "✎", "manual")
    override = None
    if task.override is not None:
        override = {
            "auto": points(task.override.auto_score),
            "score": points(task.override.score),
            "reason": clean(task.override.reason, limit=TEXT_LIMIT),
        }
    return TaskView(
        anchor=anchor,
        task_id=clean(task.task_id, multiline=False, limit=40),
        title=clean(task.title, multiline=False, limit=300),
        score=points(task.score),
        max_score=points(task.max_score),
        percent=max(0.0, min(share, 100.0)),
        status=status,
        checks=checks,
        manual_answer=manual_answer,
        pending=pending,
        not_run=not_run,
        override=override,
    )


def render_report(
    result: SubmissionResult, *, sheet_title: str = "", instructor: bool = False
) -> str:
    """One hand-in's feedback as a self-contained HTML page.

    ``instructor=True`` adds the answers to hand-graded tasks and the hand-in's captured
    output; hidden checks stay hidden in both views.
    """
    # after an import error every check says the same thing: once, at the top
    tasks = [_task_view(t, instructor, not_run=bool(result.import_error)) for t in result.tasks]
    counts: dict[str, int] = defaultdict(int)
    for t in result.tasks:
        counts[t.status] += 1
    pending = [t for t in tasks if t.pending]
    status_summary = [{"info": STATUS[s], "count": counts[s]} for s in STATUS if counts.get(s)]
    score_percent = 100.0 * result.score / result.max_score if result.max_score else 0.0
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            page_title=f"{clean(sheet_title or result.sheet, multiline=False, limit=200)} · "
            f"{clean(result.submission, multiline=False, limit=200)}",
            sheet_title=clean(sheet_title or result.sheet, multiline=False, limit=200),
            sheet=clean(result.sheet, multiline=False, limit=200),
            submission=clean(result.submission, multiline=False, limit=200),
            authors=authors(result),
            score=points(result.score),
            max_score=points(result.max_score),
            auto_score=points(result.auto_score),
            auto_max_score=points(result.auto_max_score),
            score_percent=max(0.0, min(score_percent, 100.0)),
            pending=pending,
            status_summary=status_summary,
            empty_file=result.import_error == EMPTY_FILE,
            import_error=clean(result.import_error, limit=TEXT_LIMIT)
            if result.import_error
            else "",
            tasks=tasks,
            instructor=instructor,
            output=clean(result.output, limit=OUTPUT_LIMIT) if instructor else "",
            output_length=len(result.output or ""),
            notes=[clean(n, multiline=False, limit=500) for n in result.notes]
            if instructor
            else [],
            seconds=seconds(result.seconds),
            has_hidden=any(c.hidden for t in result.tasks for c in t.checks),
        )
    )


# -------------------------------------------------------------------------- summary
# re-exported: the summary used to live here
from grader.reports.summary import render_summary  # noqa: E402

__all__ = ["render_report", "render_summary", "STATUS"]
