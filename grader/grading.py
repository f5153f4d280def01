"""Grade hand-ins against a loaded sheet.

One hand-in is one sandbox run: every check draws its random instance and
contributes its probes, the sandbox answers them all, and each check judges
its own outcomes here, in the grader's process. A check whose student code
failed loses only its own points.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from grader.checks.base import describe_error
from grader.results import (
    Author,
    CheckResult,
    Status,
    SubmissionResult,
    TaskResult,
    authors_from,
    task_status,
)
from grader.sandbox.protocol import Outcome, Probe
from grader.sandbox.runner import Limits, RunReport, run_probes
from grader.sheet.loader import LoadedSheet

log = logging.getLogger(__name__)

AUTHORS_PROBE = Probe(id="meta/authors", name="AUTHORS", op="value", timeout=2.0)

#: runs probes for one hand-in; the default starts a sandboxed child
ProbeRunner = Callable[[Path, Sequence[Probe], Limits], RunReport]


def _default_runner(path: Path, probes: Sequence[Probe], limits: Limits) -> RunReport:
    return run_probes(path, probes, limits=limits)


@dataclass(frozen=True)
class ManualScore:
    score: float
    comment: str = ""


#: (submission file name, task id) -> instructor's score
ManualScores = Mapping[tuple[str, str], ManualScore]


@dataclass(frozen=True)
class GradeOptions:
    #: only checks students may see (`grader check`): hidden checks are not run
    visible_only: bool = False
    limits: Limits = field(default_factory=Limits)
    manual_scores: ManualScores = field(default_factory=dict)


def submission_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def instance_seed(sheet: LoadedSheet, submission_sha: str, check_id: str) -> int:
    """Each hand-in gets its own random instance, the same on every rerun."""
    text = f"{sheet.digest}:{sheet.model.seed}:{submission_sha}:{check_id}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def grade_submission(
    sheet: LoadedSheet,
    path: Path,
    *,
    options: GradeOptions | None = None,
    runner: ProbeRunner | None = None,
) -> SubmissionResult:
    options = options or GradeOptions()
    runner = runner or _default_runner
    started = time.monotonic()
    sha = submission_digest(path)
    trials = []
    probes: list[Probe] = [AUTHORS_PROBE]
    for task in sheet.tasks:
        for check in task.checks:
            if options.visible_only and check.spec.hidden:
                continue
            rng = np.random.default_rng(instance_seed(sheet, sha, check.check_id))
            trial = check.trial(rng)
            trials.append((task.spec.id, check, trial))
            probes.extend(trial.probes)
    report = runner(path, probes, options.limits)
    by_task: dict[str, list[CheckResult]] = {t.spec.id: [] for t in sheet.tasks}
    for task_id, check, trial in trials:
        if report.import_error is not None:
            # Nothing ran: one clear message per check, not one per probe.
            by_task[task_id].append(
                check.result(
                    fraction=0.0,
                    feedback=[describe_error(check.spec.name, report.import_error)],
                    error=report.import_error.kind,
                )
            )
        else:
            by_task[task_id].append(_judge(check, trial, report.outcomes))
    tasks = []
    for task in sheet.tasks:
        checks = by_task[task.spec.id]
        if not checks:
            continue
        tasks.append(
            task_result(task.spec.id, task.spec.title, checks, path.name, options.manual_scores)
        )
    authors_outcome = report.outcomes.get(AUTHORS_PROBE.id)
    authors = authors_from(
        authors_outcome.value if authors_outcome is not None and authors_outcome.ok else None,
        fallback=path.stem,
    )
    import_error = None
    if report.import_error is not None:
        err = report.import_error
        where = f"line {err.line}"
        import_error = err.message + (
            f" ({where})" if err.line and where not in err.message else ""
        )
    return SubmissionResult(
        submission=path.name,
        sheet=sheet.id,
        authors=authors,
        tasks=tuple(tasks),
        import_error=import_error,
        output=report.output,
        seconds=time.monotonic() - started,
        notes=report.notes,
    )


def _judge(check, trial, outcomes: Mapping[str, Outcome]) -> CheckResult:  # noqa: ANN001
    """The check's verdict; judging that fails is the check's `error`, never a pass or a
    task left waiting (a CI job must not go green on an answer nobody judged)."""
    try:
        return trial.judge(outcomes)
    except Exception as exc:  # noqa: BLE001 - one answer must not stop the hand-in or batch
        log.warning("check %s could not judge its answer: %r", check.check_id, exc)
        return check.result(
            fraction=0.0,
            feedback=[
                f"The grader could not judge your answer to {check.title} "
                f"({type(exc).__name__} while reading it): it counts as not right. "
                "Return a plain number, array or formula of a reasonable size."
            ],
            error="judge",
        )


def task_result(
    task_id: str,
    title: str,
    checks: list[CheckResult],
    submission: str,
    manual_scores: ManualScores,
) -> TaskResult:
    max_score = sum(c.max_points for c in checks)
    manual_answer = next((c.given for c in checks if c.kind == "manual"), None)
    recorded = manual_scores.get((submission, task_id))
    if recorded is not None and any(c.kind == "manual" or c.undetermined for c in checks):
        score = min(max(recorded.score, 0.0), max_score)
        feedback = ("Graded by hand.", *((recorded.comment,) if recorded.comment else ()))
        checks = [
            replace(
                c,
                points=round(score * c.max_points / max_score, 6),
                method="manual-scored",
                feedback=feedback,
                undetermined=False,
                passed=score >= max_score,
            )
            for c in checks
        ]
        status: Status = (
            "passed" if score >= max_score - 1e-9 else ("failed" if score <= 0 else "partial")
        )
        return TaskResult(
            task_id, title, round(score, 6), max_score, status, tuple(checks), manual_answer
        )
    score = round(sum(c.points for c in checks), 6)
    waiting = any(c.kind == "manual" and c.method == "manual" for c in checks)
    if waiting or any(c.undetermined for c in checks):
        status = "manual"
    else:
        status = task_status(checks, score, max_score)
    return TaskResult(task_id, title, score, max_score, status, tuple(checks), manual_answer)


# ----------------------------------------------------------------- manual scores
MANUAL_SCORES_FILE = "manual_scores.csv"
MANUAL_COLUMNS = ["submission", "task", "score", "comment", "answer"]


def read_manual_scores(path: Path) -> dict[tuple[str, str], ManualScore]:
    """Scores an instructor wrote into ``manual_scores.csv`` (empty score = not graded yet)."""
    scores: dict[tuple[str, str], ManualScore] = {}
    if not path.exists():
        return scores
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            raw = (row.get("score") or "").strip()
            if not raw:
                continue
            try:
                value = float(raw)
            except ValueError:
                log.warning(
                    "%s: score %r for %s/%s is not a number; ignored",
                    path,
                    raw,
                    row.get("submission"),
                    row.get("task"),
                )
                continue
            scores[(row.get("submission", ""), row.get("task", ""))] = ManualScore(
                value, (row.get("comment") or "").strip()
            )
    return scores


def write_manual_scores(path: Path, results: Iterable[SubmissionResult]) -> None:
    """Keep every score already entered; add a row for each manual task still waiting."""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    if path.exists():
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                rows[(row.get("submission", ""), row.get("task", ""))] = {
                    k: row.get(k) or "" for k in MANUAL_COLUMNS
                }
    for result in results:
        for task in result.tasks:
            key = (result.submission, task.task_id)
            if task.status == "manual" or key in rows:
                row = rows.setdefault(key, {k: "" for k in MANUAL_COLUMNS})
                row.update(submission=result.submission, task=task.task_id)
                row["answer"] = (task.manual_answer or "")[:2000]
    if not rows:
        return
    from grader.output import atomic_write_text  # local: avoids an import cycle at start-up

    lines = _csv_text(
        [MANUAL_COLUMNS, *([r[k] for k in MANUAL_COLUMNS] for _, r in sorted(rows.items()))]
    )
    atomic_write_text(path, lines)


def _csv_text(rows: Iterable[Sequence[str]]) -> str:
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
    return buf.getvalue()


__all__ = [
    "Author",
    "GradeOptions",
    "ManualScore",
    "grade_submission",
    "read_manual_scores",
    "write_manual_scores",
]
