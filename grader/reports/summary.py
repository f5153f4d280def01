"""``summary.html``: the class at a glance."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from grader.reports._env import environment
from grader.reports._text import clean
from grader.reports._view import STATUS, authors, safe_href
from grader.reports.numbers import percent, points
from grader.reports.similar import similar_view
from grader.reports.svg import TaskStat, histogram_svg, task_bars_svg
from grader.results import SubmissionResult
from grader.similarity import SimilarPair


@dataclass
class MistakeRow:
    message: str
    count: int
    tasks: list[str]
    share: float


def render_summary(
    results: Sequence[SubmissionResult],
    *,
    sheet_title: str,
    task_ids: Sequence[str],
    report_links: Mapping[str, str],
    similar: Sequence[SimilarPair] = (),
    instructor_href: str | None = "instructor.html",
) -> str:
    """``summary.html``: distribution, per-task difficulty, frequent mistakes, near-identical
    hand-ins, all hand-ins (each linking to its report through ``report_links``)."""
    scores = [r.score for r in results]
    max_score = max((r.max_score for r in results), default=0.0)
    stats, task_rows = _task_stats(results, task_ids)
    waiting = sum(1 for r in results if any(t.status == "manual" for t in r.tasks))
    return (
        environment()
        .get_template("summary.html.j2")
        .render(
            page_title=f"{clean(sheet_title, multiline=False, limit=200)} · class summary",
            sheet_title=clean(sheet_title, multiline=False, limit=200),
            count=len(results),
            mean=points(statistics.fmean(scores)) if scores else "–",
            median=points(statistics.median(scores)) if scores else "–",
            best=points(max(scores)) if scores else "–",
            max_score=points(max_score),
            # the scores of hand-ins with answers waiting for a person are not final yet
            provisional=waiting,
            # hand-graded tasks are often still open: count full marks on what the grader judged
            full_marks=sum(
                1 for r in results if r.auto_max_score and r.auto_score >= r.auto_max_score - 1e-9
            ),
            import_errors=sum(1 for r in results if r.import_error),
            histogram=histogram_svg(scores, max_score) if results else Markup(""),
            task_bars=task_bars_svg(stats) if stats and results else Markup(""),
            task_rows=task_rows,
            task_ids=[clean(t, multiline=False, limit=40) for t in task_ids],
            mistakes=_frequent_mistakes(results),
            similar=similar_view(similar, report_links, full=False),
            rows=_handin_rows(results, task_ids, report_links),
            statuses=list(STATUS.values()),
            instructor_href=instructor_href,
        )
    )


def _task_stats(
    results: Sequence[SubmissionResult], task_ids: Sequence[str]
) -> tuple[list[TaskStat], list[dict[str, object]]]:
    """Per task: the bar chart's numbers and the table's row. A task no hand-in has had
    graded yet (all wait for a person) has no mean: it says so instead of showing 0 %."""
    stats: list[TaskStat] = []
    rows: list[dict[str, object]] = []
    for tid in task_ids:
        found = [t for r in results for t in r.tasks if t.task_id == tid]
        task_max = max((t.max_score for t in found), default=0.0)
        graded = [t for t in found if t.status != "manual"]
        mean = statistics.fmean(t.score for t in graded) if graded else 0.0
        full = (
            sum(1 for t in graded if t.score >= t.max_score - 1e-9) / len(graded) if graded else 0.0
        )
        waiting = sum(1 for t in found if t.status == "manual")
        stat = TaskStat(
            tid,
            mean / task_max if task_max else 0.0,
            full,
            mean,
            task_max,
            pending=not graded,
            waiting=waiting,
            graded=len(graded),
        )
        stats.append(stat)
        rows.append(
            {
                "task_id": clean(tid, multiline=False, limit=40),
                "title": clean(found[0].title if found else "", multiline=False, limit=200),
                "mean": points(mean) if graded else None,
                "max": points(task_max),
                "mean_pct": percent(stat.mean_share) if graded else None,
                "full_pct": percent(full) if graded else None,
                "pending": waiting,
                "graded": len(graded),
            }
        )
    return stats, rows


def _frequent_mistakes(results: Sequence[SubmissionResult]) -> list[MistakeRow]:
    """Named mistakes, each counted once per hand-in however many checks recognised it."""
    seen: dict[str, set[str]] = defaultdict(set)
    mistake_tasks: dict[str, dict[str, None]] = defaultdict(dict)
    for r in results:
        for t in r.tasks:
            for c in t.checks:
                for m in c.mistakes:
                    msg = clean(m.message, multiline=False, limit=500)
                    seen[msg].add(r.submission)
                    mistake_tasks[msg][clean(t.task_id, multiline=False, limit=40)] = None
    return sorted(
        (
            MistakeRow(msg, len(subs), list(mistake_tasks[msg]), len(subs) / len(results))
            for msg, subs in seen.items()
        ),
        key=lambda m: (-m.count, m.tasks, m.message),
    )[:15]


def _handin_rows(
    results: Sequence[SubmissionResult],
    task_ids: Sequence[str],
    report_links: Mapping[str, str],
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
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
            cells.append({"info": info, "score": points(task.score), "max": points(task.max_score)})
        rows.append(
            {
                "authors": authors(r),
                "submission": clean(r.submission, multiline=False, limit=200),
                "href": safe_href(report_links.get(r.submission, "")),
                "score": points(r.score),
                "max_score": points(r.max_score),
                "percent": 100.0 * r.score / r.max_score if r.max_score else 0.0,
                "cells": cells,
                "import_error": bool(r.import_error),
                "waiting": any(t.status == "manual" for t in r.tasks),
            }
        )
    return rows


__all__ = ["render_summary"]
