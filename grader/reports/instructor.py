"""``instructor.html``: the grading desk.

Every answer waiting for a person, with the task's rubric and the score already entered;
every verdict the judge left to a person; the overrides; near-identical hand-ins with the
passages they share; and every hand-in with a link to its report and its captured output.
Scores are still entered in ``manual_scores.csv`` and ``overrides.csv``: this page is for
reading, it has no forms and no scripts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from grader.reports._env import environment
from grader.reports._text import clean
from grader.reports._view import STATUS, TEXT_LIMIT, authors, safe_href
from grader.reports.numbers import points, seconds
from grader.reports.similar import similar_view
from grader.results import CheckResult, SubmissionResult, TaskResult
from grader.similarity import SimilarPair, groups

#: captured output per hand-in on this page (its report.html is not for students)
OUTPUT_LIMIT = 20_000


@dataclass
class AnswerRow:
    name: str
    href: str | None
    authors: str
    answer: str
    waiting: bool
    score: str
    comment: str
    #: other hand-ins whose answer to this task is near-identical
    alike: list[str] = field(default_factory=list)


@dataclass
class HandTask:
    task_id: str
    title: str
    max_score: str
    rubric: str
    rows: list[AnswerRow]

    @property
    def waiting(self) -> int:
        return sum(r.waiting for r in self.rows)


@dataclass
class UndecidedRow:
    name: str
    href: str | None
    task_id: str
    check: str
    feedback: list[str]
    expected: str
    given: str


def render_instructor(
    results: Sequence[SubmissionResult],
    *,
    sheet_title: str,
    report_links: Mapping[str, str],
    rubrics: Mapping[str, str] | None = None,
    similar: Sequence[SimilarPair] = (),
) -> str:
    """The instructor's page for a batch; ``rubrics`` maps task id to what to look for."""
    rubrics = rubrics or {}
    hand_tasks = _hand_tasks(results, report_links, rubrics, similar)
    undecided = _undecided(results, report_links)
    return (
        environment()
        .get_template("instructor.html.j2")
        .render(
            page_title=f"{clean(sheet_title, multiline=False, limit=200)} · instructor's page",
            sheet_title=clean(sheet_title, multiline=False, limit=200),
            count=len(results),
            waiting=sum(t.waiting for t in hand_tasks) + len(undecided),
            hand_tasks=hand_tasks,
            undecided=undecided,
            overrides=_overrides(results, report_links),
            similar=similar_view(similar, report_links, full=True),
            handins=[_handin(r, report_links) for r in _by_name(results)],
        )
    )


def _by_name(results: Sequence[SubmissionResult]) -> list[SubmissionResult]:
    return sorted(results, key=lambda r: r.submission.casefold())


def _who(result: SubmissionResult) -> str:
    return ", ".join(a["name"] for a in authors(result))


def _link(name: str, report_links: Mapping[str, str]) -> str | None:
    return safe_href(report_links.get(name, ""))


def _hand_tasks(
    results: Sequence[SubmissionResult],
    report_links: Mapping[str, str],
    rubrics: Mapping[str, str],
    similar: Sequence[SimilarPair],
) -> list[HandTask]:
    """Tasks with answers for a person: one row per hand-in, those still waiting first."""
    alike = _alike(similar)
    tasks: dict[str, HandTask] = {}
    for r in _by_name(results):
        for t in r.tasks:
            if not _by_hand(t):
                continue
            task = tasks.setdefault(
                t.task_id,
                HandTask(
                    clean(t.task_id, multiline=False, limit=40),
                    clean(t.title, multiline=False, limit=300),
                    points(t.max_score),
                    clean(rubrics.get(t.task_id, ""), limit=TEXT_LIMIT),
                    [],
                ),
            )
            task.rows.append(_answer_row(r, t, report_links, alike.get((t.task_id, r.submission))))
    for task in tasks.values():
        task.rows.sort(key=lambda row: not row.waiting)
    return list(tasks.values())


def _by_hand(task: TaskResult) -> bool:
    return any(c.kind == "manual" for c in task.checks)


def _answer_row(
    r: SubmissionResult,
    t: TaskResult,
    report_links: Mapping[str, str],
    alike: list[str] | None,
) -> AnswerRow:
    waiting = t.status == "manual"
    scored = [c for c in t.checks if c.method == "manual-scored"]
    comment = next((f for c in scored for f in c.feedback if f != "Graded by hand."), "")
    return AnswerRow(
        name=clean(r.submission, multiline=False, limit=200),
        href=_link(r.submission, report_links),
        authors=_who(r),
        answer=clean(t.manual_answer or "", limit=OUTPUT_LIMIT),
        waiting=waiting,
        score="" if waiting else points(t.score),
        comment=clean(comment, limit=TEXT_LIMIT),
        alike=[clean(n, multiline=False, limit=200) for n in alike or ()],
    )


def _alike(similar: Sequence[SimilarPair]) -> dict[tuple[str, str], list[str]]:
    """(task id, hand-in) -> the other hand-ins whose answer to that task is near-identical."""
    out: dict[tuple[str, str], list[str]] = {}
    for g in groups(similar):
        if g.what == "code":
            continue
        for m in g.members:
            out[(g.what, m)] = [o for o in g.members if o != m]
    return out


def _undecided(
    results: Sequence[SubmissionResult], report_links: Mapping[str, str]
) -> list[UndecidedRow]:
    """Checks of auto-graded tasks the judge could not decide (hidden ones included: this
    page is the instructor's, but it shows only what result.json keeps of them)."""
    rows = []
    for r in _by_name(results):
        for t in r.tasks:
            if _by_hand(t) or t.status != "manual":
                continue
            for c in t.checks:
                if c.undetermined:
                    rows.append(_undecided_row(r, t, c, report_links))
    return rows


def _undecided_row(
    r: SubmissionResult, t: TaskResult, c: CheckResult, report_links: Mapping[str, str]
) -> UndecidedRow:
    view = c.student_view()
    return UndecidedRow(
        name=clean(r.submission, multiline=False, limit=200),
        href=_link(r.submission, report_links),
        task_id=clean(t.task_id, multiline=False, limit=40),
        check="hidden check" if view.hidden else clean(view.name, multiline=False, limit=200),
        feedback=[clean(f, limit=TEXT_LIMIT) for f in view.feedback],
        expected=clean(view.expected or "", limit=TEXT_LIMIT),
        given=clean(view.given or "", limit=TEXT_LIMIT),
    )


def _overrides(
    results: Sequence[SubmissionResult], report_links: Mapping[str, str]
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for r in _by_name(results):
        for t in r.tasks:
            if t.override is None:
                continue
            rows.append(
                {
                    "name": clean(r.submission, multiline=False, limit=200),
                    "href": _link(r.submission, report_links),
                    "task_id": clean(t.task_id, multiline=False, limit=40),
                    "auto": points(t.override.auto_score),
                    "score": points(t.override.score),
                    "max": points(t.max_score),
                    "reason": clean(t.override.reason, limit=TEXT_LIMIT),
                }
            )
    return rows


def _handin(r: SubmissionResult, report_links: Mapping[str, str]) -> dict[str, object]:
    counts: dict[str, int] = {}
    for t in r.tasks:
        counts[t.status] = counts.get(t.status, 0) + 1
    return {
        "name": clean(r.submission, multiline=False, limit=200),
        "href": _link(r.submission, report_links),
        "authors": authors(r),
        "score": points(r.score),
        "max_score": points(r.max_score),
        "statuses": [{"info": STATUS[s], "count": counts[s]} for s in STATUS if counts.get(s)],
        "import_error": clean(r.import_error, limit=TEXT_LIMIT) if r.import_error else "",
        "output": clean(r.output, limit=OUTPUT_LIMIT),
        "output_length": len(r.output or ""),
        "notes": [clean(n, multiline=False, limit=500) for n in r.notes],
        "seconds": seconds(r.seconds),
    }


__all__ = ["render_instructor"]
