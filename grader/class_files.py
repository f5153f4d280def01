"""The class-level files ``grader grade`` writes beside ``handins/`` once every hand-in has
a result: ``gradebook.csv``, ``manual_scores.csv``, ``overrides.csv`` (its header, when
missing), ``summary.html`` and ``instructor.html``, with near-identical hand-ins found
on the way (grader.similarity)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.instructor_scores import (
    MANUAL_SCORES_FILE,
    OVERRIDES_FILE,
    ensure_overrides_file,
    write_manual_scores,
)
from grader.intake import HandInRefused, read_limited
from grader.output import BatchItem, atomic_write_text, gradebook_csv, report_href
from grader.sheet.loader import LoadedSheet
from grader.similarity import SimilarPair, find_similar

log = logging.getLogger(__name__)

GRADEBOOK_FILE, SUMMARY_FILE, INSTRUCTOR_FILE = "gradebook.csv", "summary.html", "instructor.html"


@dataclass(frozen=True)
class ClassFiles:
    gradebook: Path
    summary: Path
    instructor: Path


def write_class_files(
    sheet: LoadedSheet, out_dir: Path, items: Sequence[BatchItem]
) -> ClassFiles:
    from grader.reports.html import render_summary
    from grader.reports.instructor import render_instructor

    results = [i.result for i in items]
    task_ids = [t.spec.id for t in sheet.tasks]
    gradebook = out_dir / GRADEBOOK_FILE
    atomic_write_text(gradebook, gradebook_csv(results, task_ids))
    write_manual_scores(
        out_dir / MANUAL_SCORES_FILE, results, {t.spec.id: t.spec.points for t in sheet.tasks}
    )
    ensure_overrides_file(out_dir / OVERRIDES_FILE)
    links = {i.name: report_href(i.folder) for i in items}
    similar = similar_handins(sheet, items)
    title = sheet.model.title or sheet.id
    summary = out_dir / SUMMARY_FILE
    atomic_write_text(
        summary,
        render_summary(
            results, sheet_title=title, task_ids=task_ids, report_links=links, similar=similar
        ),
    )
    instructor = out_dir / INSTRUCTOR_FILE
    atomic_write_text(
        instructor,
        render_instructor(
            results,
            sheet_title=title,
            report_links=links,
            rubrics=rubrics(sheet),
            similar=similar,
        ),
    )
    return ClassFiles(gradebook, summary, instructor)


def rubrics(sheet: LoadedSheet) -> dict[str, str]:
    """Task id -> what to look for in the answers a person grades (the sheet's ``rubric:``)."""
    out = {}
    for task in sheet.tasks:
        text = "\n".join(
            str(getattr(c.spec, "rubric", "") or "") for c in task.checks if c.kind == "manual"
        ).strip()
        if text:
            out[task.spec.id] = text
    return out


def similar_handins(sheet: LoadedSheet, items: Sequence[BatchItem]) -> list[SimilarPair]:
    """Near-identical code (Python hand-ins) and free-text answers (tasks graded by hand)."""
    code: dict[str, str] = {}
    answers: dict[str, dict[str, str]] = {}
    for item in items:
        if item.path.suffix == ".py":
            try:
                code[item.name] = read_limited(item.path).decode("utf-8", "replace")
            except HandInRefused:
                pass  # refused hand-ins have an error result; there is nothing to compare
        for task in item.result.tasks:
            if task.manual_answer:
                answers.setdefault(task.task_id, {})[item.name] = task.manual_answer
    return find_similar(code, answers, base=_template(sheet))


def _template(sheet: LoadedSheet) -> str:
    """The skeleton every student starts from: its passages are no sign of copying."""
    from grader.template import submission_template

    try:
        return submission_template(sheet)
    except Exception:  # noqa: BLE001 - without a base, shared skeleton code is flagged too
        log.warning("the sheet's template could not be made; similarity counts its code")
        return ""


__all__ = ["ClassFiles", "similar_handins", "write_class_files"]
