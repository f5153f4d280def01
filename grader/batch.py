"""Grade a class: many hand-ins, in parallel, resumable, one file at a time on disk."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from grader.grading import (
    MANUAL_SCORES_FILE,
    GradeOptions,
    ManualScores,
    grade_submission,
    read_manual_scores,
    submission_digest,
    write_manual_scores,
)
from grader.handin import grade_handin
from grader.output import (
    BatchItem,
    ProgressCallback,
    atomic_write_text,
    find_submissions,
    gradebook_csv,
    read_done,
    result_key,
    result_stems,
    write_result,
)
from grader.results import Author, CheckResult, SubmissionResult, TaskResult
from grader.sandbox.runner import Limits
from grader.sheet.loader import LoadedSheet

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchResult:
    out_dir: Path
    items: tuple[BatchItem, ...]
    gradebook: Path
    summary: Path
    seconds: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def graded(self) -> int:
        return sum(not i.reused for i in self.items)


#: note on a result the grader could not produce (a bug, a worker that died): not the
#: hand-in's fault, so it is graded again on the next run instead of being kept
GRADER_FAILED = "grader-failed"

# Set in each worker (inherited through fork, or by the initializer).
_SHEET: LoadedSheet | None = None


def _init_worker(sheet: LoadedSheet, parent: int | None = None) -> None:
    global _SHEET
    _SHEET = sheet
    if parent is not None and sys.platform.startswith("linux"):
        # a batch killed with kill -9 must not leave its workers (and their fork servers) behind
        from grader.sandbox.confine import die_with_parent

        with contextlib.suppress(OSError):
            die_with_parent()
        if os.getppid() != parent:
            os._exit(1)


def _grade_in_worker(path: Path, options: GradeOptions) -> SubmissionResult:
    assert _SHEET is not None
    return grade_handin(_SHEET, path, options=options, grade=grade_submission)


def grade_batch(
    *,
    sheet: LoadedSheet,
    paths: Sequence[Path],
    out_dir: Path,
    jobs: int | None = None,
    force: bool = False,
    limits: Limits | None = None,
    progress: ProgressCallback | None = None,
    on_start: Callable[[int], None] | None = None,
) -> BatchResult:
    plan = BatchPlan(
        sheet=sheet,
        paths=paths,
        out_dir=out_dir,
        force=force,
        limits=limits,
        progress=progress,
        on_start=on_start,
    )
    options, todo, finish = plan.options, plan.todo, plan.finish
    jobs = max(1, jobs or os.cpu_count() or 1)
    if todo and (jobs == 1 or len(todo) == 1):
        for path, key in todo:
            finish(path, key, _safe_grade(sheet, path, options))
    elif todo:
        ctx = multiprocessing.get_context("fork") if hasattr(os, "fork") else None
        with ProcessPoolExecutor(
            max_workers=min(jobs, len(todo)),
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(sheet, os.getpid()),
        ) as pool:
            futures: dict[Future[SubmissionResult], tuple[Path, str]] = {
                pool.submit(_grade_in_worker, path, options): (path, key) for path, key in todo
            }
            from concurrent.futures import as_completed

            for fut in as_completed(futures):
                path, key = futures[fut]
                try:
                    result = fut.result()
                except Exception as exc:  # noqa: BLE001 - one hand-in never stops the batch
                    log.exception("grading %s failed", path)
                    result = failed_result(sheet, path, f"the grader failed on this hand-in: {exc}")
                finish(path, key, result)
    return plan.complete()


class BatchPlan:
    """A batch's bookkeeping, shared by every executor (local pool, dask).

    Finds the hand-ins, reuses results already on disk (same sheet and hand-in
    content), and lists what is left in ``todo``. The executor grades those and
    hands each result to :meth:`finish` (which writes its result.json and
    report.html at once); :meth:`complete` writes the gradebook and summary.
    """

    def __init__(
        self,
        *,
        sheet: LoadedSheet,
        paths: Sequence[Path],
        out_dir: Path,
        force: bool = False,
        limits: Limits | None = None,
        progress: ProgressCallback | None = None,
        on_start: Callable[[int], None] | None = None,
    ) -> None:
        self.started = time.monotonic()
        self.sheet = sheet
        self.out_dir = out_dir
        self.progress = progress
        self.submissions = find_submissions(paths)
        self.stems = result_stems(self.submissions)
        self.manual_path = out_dir / MANUAL_SCORES_FILE
        manual = read_manual_scores(self.manual_path)
        self.options = GradeOptions(limits=limits or Limits(), manual_scores=manual)
        out_dir.mkdir(parents=True, exist_ok=True)
        if on_start is not None:
            on_start(len(self.submissions))
        self.items: dict[Path, BatchItem] = {}
        #: (hand-in, result key) still to grade
        self.todo: list[tuple[Path, str]] = []
        for path in self.submissions:
            manual_key = _manual_key(manual, path.name)
            key = result_key(sheet.digest, submission_digest(path), False, manual_key)
            done = None if force else read_done(out_dir / self.stems[path], key)
            if done is not None:
                item = BatchItem(path, self.stems[path], done, reused=True)
                self.items[path] = item
                if progress:
                    progress(item)
            else:
                self.todo.append((path, key))

    def finish(self, path: Path, key: str, result: SubmissionResult) -> None:
        from grader.reports.html import render_report

        if GRADER_FAILED in result.notes:
            key = ""  # never reused: the next run grades this hand-in again
        html = render_report(result, sheet_title=self.sheet.model.title)
        write_result(self.out_dir / self.stems[path], result, key, html)
        item = BatchItem(path, self.stems[path], result, reused=False)
        self.items[path] = item
        if self.progress:
            self.progress(item)

    def complete(self) -> BatchResult:
        sheet, out_dir = self.sheet, self.out_dir
        ordered = [self.items[p] for p in self.submissions]
        results = [i.result for i in ordered]
        task_ids = [t.spec.id for t in sheet.tasks]
        gradebook = out_dir / "gradebook.csv"
        atomic_write_text(gradebook, gradebook_csv(results, task_ids))
        write_manual_scores(self.manual_path, results)
        summary = out_dir / "summary.html"
        from grader.reports.html import render_summary

        atomic_write_text(
            summary,
            render_summary(
                results,
                sheet_title=sheet.model.title or sheet.id,
                task_ids=task_ids,
                report_links={i.result.submission: f"{i.stem}/report.html" for i in ordered},
            ),
        )
        return BatchResult(
            out_dir, tuple(ordered), gradebook, summary, time.monotonic() - self.started
        )


def _safe_grade(sheet: LoadedSheet, path: Path, options: GradeOptions) -> SubmissionResult:
    try:
        return grade_handin(sheet, path, options=options, grade=grade_submission)
    except Exception as exc:  # noqa: BLE001 - one hand-in never stops the batch
        log.exception("grading %s failed", path)
        return failed_result(sheet, path, f"the grader failed on this hand-in: {exc}")


def _manual_key(manual: ManualScores, submission: str) -> str:
    mine = sorted((k[1], v.score, v.comment) for k, v in manual.items() if k[0] == submission)
    return hashlib.sha256(repr(mine).encode()).hexdigest()[:12] if mine else "-"


def failed_result(sheet: LoadedSheet, path: Path, message: str) -> SubmissionResult:
    tasks = []
    for task in sheet.tasks:
        checks = tuple(
            CheckResult(
                check_id=c.check_id,
                kind=c.kind,
                name=c.spec.name,
                points=0.0,
                max_points=c.spec.points,
                passed=False,
                feedback=(message,),
                error="sandbox",
                hidden=c.spec.hidden,
                undetermined=True,
            )
            for c in task.checks
        )
        tasks.append(
            TaskResult(task.spec.id, task.spec.title, 0.0, task.spec.points, "error", checks)
        )
    return SubmissionResult(
        path.name,
        sheet.id,
        (Author(path.stem),),
        tuple(tasks),
        import_error=message,
        notes=(GRADER_FAILED,),
    )
