"""The HTML reports: one self-contained page per hand-in, and the class summary.

Pages carry their CSS inline and need neither JavaScript nor network: a student opens
``report.html`` straight from disk, on a phone or printed. All markup lives in the jinja2
templates; this module turns results into plain view data (cleaned of escape sequences and
control characters) and the templates autoescape it. The only unescaped insertions are
the MathML fragments the grader made with sympy, after ``safe_mathml`` accepted them.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from grader.reports._env import environment
from grader.reports._text import clean, fmt_points, safe_mathml
from grader.reports.svg import TaskStat, histogram_svg, plot_svg, task_bars_svg
from grader.results import CheckResult, SubmissionResult, TaskResult

#: captured output shown to instructors is cut here; a runaway print loop would bloat the page
OUTPUT_LIMIT = 20_000
TEXT_LIMIT = 4_000


@dataclass(frozen=True)
class StatusInfo:
    label: str
    icon: str
    css: str


STATUS: dict[str, StatusInfo] = {
    "passed": StatusInfo("Passed", "✓", "passed"),
    "partial": StatusInfo("Partly right", "◐", "partial"),
    "failed": StatusInfo("Not right yet", "✗", "failed"),
    "error": StatusInfo("Error", "⚠", "error"),
    "manual": StatusInfo("Graded by hand", "✎", "manual"),
}

METHOD = {
    "symbolic": "judged symbolically (a proof that the expressions are equal)",
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
        error = ERROR_LABEL.get(view.error, "Your code could not be run")
    return CheckView(
        ident=ident,
        name=clean(view.name, multiline=False, limit=200),
        points=fmt_points(view.points),
        max_points=fmt_points(view.max_points),
        passed=view.passed,
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


def _task_view(task: TaskResult, instructor: bool) -> TaskView:
    anchor = _anchor(task.task_id)
    checks = [_check_view(c, f"{anchor}-c{i}", instructor) for i, c in enumerate(task.checks)]
    pending = task.status == "manual"
    manual_answer = None
    if instructor and (pending or any(c.kind == "manual" for c in task.checks)):
        manual_answer = clean(task.manual_answer or "", limit=OUTPUT_LIMIT)
    percent = 100.0 * task.score / task.max_score if task.max_score else 0.0
    status = STATUS.get(task.status, STATUS["failed"])
    if pending:
        status = StatusInfo("Waits for a person", "✎", "manual")
    return TaskView(
        anchor=anchor,
        task_id=clean(task.task_id, multiline=False, limit=40),
        title=clean(task.title, multiline=False, limit=300),
        score=fmt_points(task.score),
        max_score=fmt_points(task.max_score),
        percent=max(0.0, min(percent, 100.0)),
        status=status,
        checks=checks,
        manual_answer=manual_answer,
        pending=pending,
    )


def _authors(result: SubmissionResult) -> list[dict[str, str]]:
    return [
        {
            "name": clean(a.name, multiline=False, limit=200),
            "id": clean(a.id, multiline=False, limit=64),
        }
        for a in result.authors
    ]


def render_report(
    result: SubmissionResult, *, sheet_title: str = "", instructor: bool = False
) -> str:
    """One hand-in's feedback as a self-contained HTML page.

    ``instructor=True`` adds the answers to hand-graded tasks and the hand-in's captured
    output; hidden checks stay hidden in both views.
    """
    tasks = [_task_view(t, instructor) for t in result.tasks]
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
            authors=_authors(result),
            score=fmt_points(result.score),
            max_score=fmt_points(result.max_score),
            auto_score=fmt_points(result.auto_score),
            auto_max_score=fmt_points(result.auto_max_score),
            score_percent=max(0.0, min(score_percent, 100.0)),
            pending=pending,
            status_summary=status_summary,
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
            seconds=f"{result.seconds:.1f}",
            has_hidden=any(c.hidden for t in result.tasks for c in t.checks),
        )
    )


# -------------------------------------------------------------------------- summary
@dataclass
class MistakeRow:
    message: str
    count: int
    tasks: list[str]
    share: float


def _safe_href(href: str) -> str | None:
    """Only relative links into the output folder: no ``javascript:`` or other schemes."""
    href = clean(href, multiline=False, limit=1000)
    if not href or re.match(r"^\s*[A-Za-z][A-Za-z0-9+.-]*:", href) or href.startswith("//"):
        return None
    return href


def render_summary(
    results: Sequence[SubmissionResult],
    *,
    sheet_title: str,
    task_ids: Sequence[str],
    report_links: Mapping[str, str],
) -> str:
    """``summary.html``: distribution, per-task difficulty, frequent mistakes, all hand-ins."""
    scores = [r.score for r in results]
    max_score = max((r.max_score for r in results), default=0.0)
    stats: list[TaskStat] = []
    task_rows = []
    titles: dict[str, str] = {}
    for tid in task_ids:
        found = [t for r in results for t in r.tasks if t.task_id == tid]
        if found:
            titles[tid] = found[0].title
        task_max = max((t.max_score for t in found), default=0.0)
        graded = [t for t in found if t.status != "manual"]
        mean = statistics.fmean(t.score for t in graded) if graded else 0.0
        full = (
            sum(1 for t in graded if t.score >= t.max_score - 1e-9) / len(graded) if graded else 0.0
        )
        stat = TaskStat(
            tid, mean / task_max if task_max else 0.0, full, mean, task_max, pending=not graded
        )
        stats.append(stat)
        task_rows.append(
            {
                "task_id": clean(tid, multiline=False, limit=40),
                "title": clean(titles.get(tid, ""), multiline=False, limit=200),
                "mean": fmt_points(mean),
                "max": fmt_points(task_max),
                "mean_pct": round(stat.mean_share * 100),
                "full_pct": round(full * 100),
                "pending": sum(1 for t in found if t.status == "manual"),
                "graded": len(graded),
            }
        )

    # a mistake counts once per hand-in, however many checks recognised it
    seen: dict[str, set[str]] = defaultdict(set)
    mistake_tasks: dict[str, dict[str, None]] = defaultdict(dict)
    for r in results:
        for t in r.tasks:
            for c in t.checks:
                for m in c.mistakes:
                    msg = clean(m.message, multiline=False, limit=500)
                    seen[msg].add(r.submission)
                    mistake_tasks[msg][clean(t.task_id, multiline=False, limit=40)] = None
    mistakes = sorted(
        (
            MistakeRow(msg, len(subs), list(mistake_tasks[msg]), len(subs) / len(results))
            for msg, subs in seen.items()
        ),
        key=lambda m: (-m.count, m.tasks, m.message),
    )[:15]

    rows = []
    for r in sorted(
        results,
        key=lambda r: (min((a.name.casefold() for a in r.authors), default=""), r.submission),
    ):
        by_id = {t.task_id: t for t in r.tasks}
        cells: list[dict[str, object] | None] = []
        for tid in task_ids:
            task = by_id.get(tid)
            if task is None:
                cells.append(None)
                continue
            info = STATUS.get(task.status, STATUS["failed"])
            cells.append(
                {"info": info, "score": fmt_points(task.score), "max": fmt_points(task.max_score)}
            )
        rows.append(
            {
                "authors": _authors(r),
                "submission": clean(r.submission, multiline=False, limit=200),
                "href": _safe_href(report_links.get(r.submission, "")),
                "score": fmt_points(r.score),
                "max_score": fmt_points(r.max_score),
                "percent": 100.0 * r.score / r.max_score if r.max_score else 0.0,
                "cells": cells,
                "import_error": bool(r.import_error),
            }
        )

    return (
        environment()
        .get_template("summary.html.j2")
        .render(
            page_title=f"{clean(sheet_title, multiline=False, limit=200)} · class summary",
            sheet_title=clean(sheet_title, multiline=False, limit=200),
            count=len(results),
            mean=fmt_points(statistics.fmean(scores)) if scores else "–",
            median=fmt_points(statistics.median(scores)) if scores else "–",
            best=fmt_points(max(scores)) if scores else "–",
            max_score=fmt_points(max_score),
            # hand-graded tasks are often still open: count full marks on what the grader judged
            full_marks=sum(
                1 for r in results if r.auto_max_score and r.auto_score >= r.auto_max_score - 1e-9
            ),
            import_errors=sum(1 for r in results if r.import_error),
            histogram=histogram_svg(scores, max_score) if results else Markup(""),
            task_bars=task_bars_svg(stats) if stats and results else Markup(""),
            task_rows=task_rows,
            task_ids=[clean(t, multiline=False, limit=40) for t in task_ids],
            mistakes=mistakes,
            rows=rows,
            statuses=list(STATUS.values()),
        )
    )


__all__ = ["render_report", "render_summary", "STATUS"]
