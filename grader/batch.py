"""Grade a class: many hand-ins, in parallel, resumable, one file at a time on disk."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.errors import UsageError
from grader.grading import GradeOptions, grade_submission, submission_digest
from grader.handin import grade_handin
from grader.instructor_scores import TaskLimits, read_instructor_scores
from grader.intake import HandInFile, HandInRefused, Skipped, find_handins, vet
from grader.output import (
    BatchItem,
    ProgressCallback,
    handin_folders,
    read_done,
    read_stored,
    result_key,
    write_result,
)
from grader.results import Author, CheckResult, SubmissionResult, TaskResult
from grader.sandbox.runner import Limits
from grader.sheet.loader import LoadedSheet
from grader.variants import Roster

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchResult:
    out_dir: Path
    items: tuple[BatchItem, ...]
    gradebook: Path
    summary: Path
    seconds: float
    notes: tuple[str, ...] = field(default_factory=tuple)
    instructor: Path | None = None
    #: files in the submissions folders that were not graded, and why
    skipped: tuple[Skipped, ...] = ()

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


def _grade_in_worker(path: Path, options: GradeOptions, name: str) -> SubmissionResult:
    assert _SHEET is not None
    return grade_handin(_SHEET, path, options=options, grade=grade_submission, name=name)


@dataclass(frozen=True)
class Job:
    """One hand-in to grade: the file, the key its result is stored under, its options, and
    (``--task``) the stored result whose other tasks are kept."""

    handin: HandInFile
    key: str
    options: GradeOptions
    base: SubmissionResult | None = None


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
    tasks: Sequence[str] | None = None,
    roster: Roster | None = None,
) -> BatchResult:
    """Grade every hand-in in ``paths`` into ``out_dir`` (see the module's docstring).

    ``tasks``: regrade only these tasks' checks, keeping the rest of each stored result
    (hand-ins without a stored result of the same content are graded in full).
    """
    plan = BatchPlan(
        sheet=sheet,
        paths=paths,
        out_dir=out_dir,
        force=force,
        limits=limits,
        progress=progress,
        on_start=on_start,
        tasks=tasks,
        roster=roster,
    )
    todo, finish = plan.todo, plan.finish
    jobs = max(1, jobs or os.cpu_count() or 1)
    if todo and (jobs == 1 or len(todo) == 1):
        for job in todo:
            finish(job, _safe_grade(sheet, job))
    elif todo:
        ctx = multiprocessing.get_context("fork") if hasattr(os, "fork") else None
        with ProcessPoolExecutor(
            max_workers=min(jobs, len(todo)),
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(sheet, os.getpid()),
        ) as pool:
            futures: dict[Future[SubmissionResult], Job] = {
                pool.submit(_grade_in_worker, job.handin.path, job.options, job.handin.name): job
                for job in todo
            }
            from concurrent.futures import as_completed

            for fut in as_completed(futures):
                job = futures[fut]
                try:
                    result = fut.result()
                except Exception as exc:  # noqa: BLE001 - one hand-in never stops the batch
                    log.exception("grading %s failed", clean_name(job.handin.name))
                    result = failed_result(
                        sheet, job.handin.name, f"the grader failed on this hand-in: {exc}"
                    )
                finish(job, result)
    return plan.complete()


class BatchPlan:
    """A batch's bookkeeping, shared by every executor (local pool, dask).

    Finds the hand-ins, reads the instructor's scores (refusing bad rows before anything
    is graded), reuses results already on disk (same sheet, hand-in content and scores),
    and lists what is left in ``todo``. The executor grades those and hands each result to
    :meth:`finish` (which writes its result.json and report.html at once); :meth:`complete`
    writes the class files (grader.class_files).
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
        tasks: Sequence[str] | None = None,
        roster: Roster | None = None,
    ) -> None:
        self.started = time.monotonic()
        self.sheet = sheet
        self.out_dir = out_dir
        self.progress = progress
        self.tasks = _known_tasks(sheet, tasks)
        found = find_handins(paths)
        self.handins = found.handins
        self.skipped = found.skipped
        self.folders = handin_folders([h.name for h in self.handins])
        self.scores = read_instructor_scores(out_dir, task_limits(sheet))
        self.options = GradeOptions(
            limits=limits or Limits(),
            manual_scores=self.scores.manual,
            overrides=self.scores.overrides,
            roster=roster,
        )
        # a result is reused only with the same sheet and the same roster (its variants)
        self.digest = sheet.digest if roster is None else sheet_digest_with(sheet, roster)
        out_dir.mkdir(parents=True, exist_ok=True)
        if on_start is not None:
            on_start(len(self.handins))
        self.items: dict[str, BatchItem] = {}
        self.todo: list[Job] = []
        for handin in self.handins:
            self._plan(handin, force)

    def _plan(self, handin: HandInFile, force: bool) -> None:
        try:
            vet(handin.path)
            sha = submission_digest(handin.path)
        except HandInRefused as exc:
            # an error result of its own, never reused: the file is looked at again next run
            self.finish(Job(handin, "", self.options), refused_result(self.sheet, handin, exc))
            return
        key = result_key(self.digest, sha, False, self.scores.key_for(handin.name))
        directory = self.out_dir / self.folders[handin.name]
        if self.tasks is not None:
            stored = read_stored(directory)
            if stored is not None and _same_handin(stored[1], key):
                options = replace(self.options, tasks=self.tasks)
                self.todo.append(Job(handin, key, options, base=stored[0]))
                return
        done = None if force else read_done(directory, key)
        if done is None:
            self.todo.append(Job(handin, key, self.options))
            return
        item = BatchItem(handin.path, handin.name, self.folders[handin.name], done, reused=True)
        self.items[handin.name] = item
        if self.progress:
            self.progress(item)

    def finish(self, job: Job, result: SubmissionResult) -> None:
        from grader.reports.html import render_report

        key = job.key
        if GRADER_FAILED in result.notes:
            key = ""  # never reused: the next run grades this hand-in again
        elif job.base is not None:
            result = merge_tasks(job.base, result, [t.spec.id for t in self.sheet.tasks])
        name, folder = job.handin.name, self.folders[job.handin.name]
        html = render_report(result, sheet_title=self.sheet.model.title)
        write_result(self.out_dir / folder, result, key, html)
        item = BatchItem(job.handin.path, name, folder, result, reused=False)
        self.items[name] = item
        if self.progress:
            self.progress(item)

    def complete(self) -> BatchResult:
        from grader.class_files import write_class_files

        ordered = tuple(self.items[h.name] for h in self.handins)
        written = write_class_files(self.sheet, self.out_dir, ordered)
        return BatchResult(
            self.out_dir,
            ordered,
            written.gradebook,
            written.summary,
            time.monotonic() - self.started,
            instructor=written.instructor,
            skipped=self.skipped,
        )


def sheet_digest_with(sheet: LoadedSheet, roster: Roster) -> str:
    import hashlib

    ids = "\n".join(roster.students).encode()
    return hashlib.sha256(sheet.digest.encode() + b"\0" + ids).hexdigest()


def task_limits(sheet: LoadedSheet) -> dict[str, TaskLimits]:
    """Each task's points, and whether a person grades it, for checking the CSV files."""
    return {
        t.spec.id: TaskLimits(t.spec.points, any(c.kind == "manual" for c in t.checks))
        for t in sheet.tasks
    }


def _known_tasks(sheet: LoadedSheet, tasks: Sequence[str] | None) -> frozenset[str] | None:
    if tasks is None:
        return None
    known = [t.spec.id for t in sheet.tasks]
    unknown = [t for t in tasks if t not in known]
    if unknown:
        raise UsageError(
            f"--task {', '.join(unknown)}: the sheet has no such task (it has {', '.join(known)})"
        )
    return frozenset(tasks)


def _same_handin(stored_key: str, key: str) -> bool:
    """Whether a stored result was made from the same hand-in content and instructor's
    scores (from any version of the sheet)."""
    stored, new = stored_key.split(":"), key.split(":")
    return len(stored) == len(new) == 4 and stored[1:] == new[1:]


def merge_tasks(
    base: SubmissionResult, fresh: SubmissionResult, order: Sequence[str]
) -> SubmissionResult:
    """``base`` with the tasks ``fresh`` graded again replaced, in the sheet's order."""
    tasks = {t.task_id: t for t in base.tasks}
    tasks.update({t.task_id: t for t in fresh.tasks})
    return replace(
        base,
        tasks=tuple(tasks[tid] for tid in order if tid in tasks),
        authors=fresh.authors,
        import_error=fresh.import_error,
        output=fresh.output,
        notes=fresh.notes,
        seconds=fresh.seconds,
    )


def _safe_grade(sheet: LoadedSheet, job: Job) -> SubmissionResult:
    try:
        handin = job.handin
        return grade_handin(
            sheet, handin.path, options=job.options, grade=grade_submission, name=handin.name
        )
    except HandInRefused as exc:
        return refused_result(sheet, job.handin, exc)
    except Exception as exc:  # noqa: BLE001 - one hand-in never stops the batch
        log.exception("grading %s failed", clean_name(job.handin.name))
        return failed_result(sheet, job.handin.name, f"the grader failed on this hand-in: {exc}")


def clean_name(name: str) -> str:
    """A hand-in's name fit for a log line on a terminal (no escapes, one line)."""
    from grader.reports._text import clean

    return clean(name, multiline=False, limit=200)


def refused_result(
    sheet: LoadedSheet, handin: HandInFile, refused: HandInRefused
) -> SubmissionResult:
    """The result of a hand-in that was not run: every check an error with the reason."""
    message = f"This hand-in was not graded: {refused.reason}."
    return failed_result(sheet, handin.name, message, grader_failed=False)


def failed_result(
    sheet: LoadedSheet, name: str, message: str, *, grader_failed: bool = True
) -> SubmissionResult:
    """Every task an error with ``message``. ``grader_failed``: the grader's fault (a bug, a
    lost worker), so the checks wait for a person and the next run grades it again."""
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
                undetermined=grader_failed,
            )
            for c in task.checks
        )
        tasks.append(
            TaskResult(task.spec.id, task.spec.title, 0.0, task.spec.points, "error", checks)
        )
    return SubmissionResult(
        name,
        sheet.id,
        (Author(Path(name).stem),),
        tuple(tasks),
        import_error=message,
        notes=(GRADER_FAILED,) if grader_failed else (),
    )
