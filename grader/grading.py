"""Grade hand-ins against a loaded sheet.

One hand-in is one sandbox run: every check draws its random instance and
contributes its probes, the sandbox answers them all, and each check judges
its own outcomes here, in the grader's process. A check whose student code
failed loses only its own points.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from grader import source_names
from grader.checks.base import describe_error
from grader.instructor_scores import (
    ManualScore,
    ManualScores,
    Overrides,
    OverrideScore,
)
from grader.intake import file_digest, read_limited
from grader.results import (
    EMPTY_FILE,
    Author,
    CheckResult,
    Override,
    Status,
    SubmissionResult,
    TaskResult,
    authors_from,
    task_status,
)
from grader.sandbox.protocol import Outcome, Probe
from grader.sandbox.runner import Limits, RunReport, run_probes
from grader.sheet.loader import LoadedSheet

if TYPE_CHECKING:
    from grader.checks.base import Check
    from grader.variants import Roster

log = logging.getLogger(__name__)

AUTHORS_PROBE = Probe(id="meta/authors", name="AUTHORS", op="value", timeout=2.0)

#: runs probes for one hand-in; the default starts a sandboxed child
ProbeRunner = Callable[[Path, Sequence[Probe], Limits], RunReport]


def _default_runner(path: Path, probes: Sequence[Probe], limits: Limits) -> RunReport:
    return run_probes(path, probes, limits=limits)


@dataclass(frozen=True)
class GradeOptions:
    #: only checks students may see (`grader check`): hidden checks are not run
    visible_only: bool = False
    limits: Limits = field(default_factory=Limits)
    #: (hand-in name, task id) -> scores entered by hand (grader.instructor_scores)
    manual_scores: ManualScores = field(default_factory=dict)
    overrides: Overrides = field(default_factory=dict)
    #: grade only these tasks (``grader grade --task``); None: every task
    tasks: frozenset[str] | None = None
    #: each hand-in graded with the variant of its first listed author (grader.variants)
    roster: Roster | None = None


def submission_digest(path: Path) -> str:
    """SHA-256 of the hand-in, streamed after a size check (intake.HandInRefused if not)."""
    return file_digest(path)


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
    name: str | None = None,
) -> SubmissionResult:
    """Grade one hand-in. ``name`` is what the hand-in is known by (its path relative to
    the PATH given, see grader.intake); the file name when not given."""
    options = options or GradeOptions()
    runner = runner or _default_runner
    started = time.monotonic()
    name = name or path.name
    source = read_limited(path)  # refused (intake.HandInRefused) when too large to read
    sha = hashlib.sha256(source).hexdigest()
    tree = source_names.parse(source) if path.suffix == ".py" else None
    if tree is not None and source_names.is_empty(tree):
        return _empty_file_result(sheet, name, options)
    trials = []
    probes: list[Probe] = [AUTHORS_PROBE]
    for task in sheet.tasks:
        if options.tasks is not None and task.spec.id not in options.tasks:
            continue
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
            result = judge_check(check, trial, report.outcomes)
            if tree is not None:
                result = _suggest_names(result, trial.probes, report.outcomes, tree)
            by_task[task_id].append(result)
    tasks = []
    for task in sheet.tasks:
        checks = by_task[task.spec.id]
        if not checks:
            continue
        tasks.append(task_result(task.spec.id, task.spec.title, checks, name, options))
    authors_outcome = report.outcomes.get(AUTHORS_PROBE.id)
    authors = authors_from(
        authors_outcome.value if authors_outcome is not None and authors_outcome.ok else None,
        fallback=Path(name).stem,
    )
    import_error = None
    if report.import_error is not None:
        err = report.import_error
        where = f"line {err.line}"
        import_error = err.message + (
            f" ({where})" if err.line and where not in err.message else ""
        )
    return SubmissionResult(
        submission=name,
        sheet=sheet.id,
        authors=authors,
        tasks=tuple(tasks),
        import_error=import_error,
        output=report.output,
        seconds=time.monotonic() - started,
        notes=report.notes,
    )


#: CPU seconds one check may spend judging one hand-in's answers (a proof per mistake
#: included); a stuck judgement costs that check, never the hand-in or the batch
JUDGE_SECONDS = 30.0


def judge_check(check, trial, outcomes: Mapping[str, Outcome]) -> CheckResult:  # noqa: ANN001
    """The check's verdict; judging that fails is the check's `error`, never a pass or a
    task left waiting (a CI job must not go green on an answer nobody judged)."""
    from grader.judge.budget import BudgetExceeded, cpu_budget

    try:
        with cpu_budget(JUDGE_SECONDS) as own:
            return trial.judge(outcomes)
    except BudgetExceeded as exc:
        if exc.budget is not own:
            raise
        log.warning("check %s spent its judging budget", check.check_id)
        return check.result(
            fraction=0.0,
            feedback=[
                f"The grader spent its {JUDGE_SECONDS:g} s budget judging your answer to "
                f"{check.title} without a verdict: it counts as not right. Return a plain "
                "number, array or formula of a reasonable size."
            ],
            error="judge",
        )
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


def _suggest_names(
    result: CheckResult,
    probes: Sequence[Probe],
    outcomes: Mapping[str, Outcome],
    tree: ast.Module,
) -> CheckResult:
    """Add "did you mean `sigmoid`?" where a name is missing and the file defines a close one."""
    errors = [(p.name, outcomes[p.id].error) for p in probes if p.id in outcomes]
    missing = {name for name, err in errors if err is not None and err.kind == "missing"}
    if not missing:
        return result
    names = source_names.defined_names(tree)
    hints = []
    for wanted in sorted(missing):
        near = source_names.did_you_mean(wanted, names)
        if near is not None:
            hints.append(
                f"Your file defines `{near}`: did you mean `{wanted}`? "
                "Names must be spelt exactly as the sheet spells them."
            )
    return replace(result, feedback=(*result.feedback, *hints)) if hints else result


def _empty_file_result(sheet: LoadedSheet, name: str, options: GradeOptions) -> SubmissionResult:
    """An empty hand-in: one sentence for the whole file, not "not defined" for every name."""
    message = "Your file is empty: it defines none of the names the sheet asks for."
    return SubmissionResult(
        submission=name,
        sheet=sheet.id,
        authors=(Author(Path(name).stem),),
        tasks=every_check(
            sheet,
            name,
            options,
            lambda c: c.result(fraction=0.0, feedback=[message], error="import"),
        ),
        import_error=EMPTY_FILE,
    )


def every_check(
    sheet: LoadedSheet,
    name: str,
    options: GradeOptions,
    result_of: Callable[[Check], CheckResult],
) -> tuple[TaskResult, ...]:
    """The tasks ``options`` ask for, each check's result made by ``result_of``: for a
    hand-in whose every check says the same (empty, unreadable, too large)."""
    tasks = []
    for task in sheet.tasks:
        if options.tasks is not None and task.spec.id not in options.tasks:
            continue
        checks = [
            result_of(check)
            for check in task.checks
            if not (options.visible_only and check.spec.hidden)
        ]
        if checks:
            tasks.append(task_result(task.spec.id, task.spec.title, checks, name, options))
    return tuple(tasks)


# ------------------------------------------------- scores entered by the instructor
def task_result(
    task_id: str,
    title: str,
    checks: list[CheckResult],
    submission: str,
    options: GradeOptions,
) -> TaskResult:
    """A task's result from its checks, then the instructor's scores: a manual score for an
    answer waiting for a person, an override (with its reason) for any auto-graded task."""
    max_score = sum(c.max_points for c in checks)
    manual_answer = next((c.given for c in checks if c.kind == "manual"), None)
    key = (submission, task_id)
    recorded = options.manual_scores.get(key)
    if recorded is not None and any(c.kind == "manual" or c.undetermined for c in checks):
        return _scored_by_hand(task_id, title, checks, max_score, recorded, manual_answer)
    score = round(sum(c.points for c in checks), 6)
    waiting = any(c.kind == "manual" and c.method == "manual" for c in checks)
    status: Status
    if waiting or any(c.undetermined for c in checks):
        status = "manual"
    else:
        status = task_status(checks, score, max_score)
    override = options.overrides.get(key)
    if override is not None:
        return _overridden(task_id, title, checks, max_score, score, override, manual_answer)
    return TaskResult(task_id, title, score, max_score, status, tuple(checks), manual_answer)


def _in_range(score: float, max_score: float, what: str) -> float:
    # the CSV files are checked when they are read (grader.instructor_scores); a score out
    # of range here is a caller's bug, and capping it would hide that
    if not 0 <= score <= max_score + 1e-9:
        raise ValueError(f"{what} {score:g} is outside 0 … {max_score:g}")
    return score


def _status_of(score: float, max_score: float) -> Status:
    if score >= max_score - 1e-9:
        return "passed"
    return "failed" if score <= 1e-9 else "partial"


def _scored_by_hand(
    task_id: str,
    title: str,
    checks: list[CheckResult],
    max_score: float,
    recorded: ManualScore,
    manual_answer: str | None,
) -> TaskResult:
    score = _in_range(recorded.score, max_score, f"the manual score of {task_id}")
    feedback = ("Graded by hand.", *((recorded.comment,) if recorded.comment else ()))
    scored = [
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
    return TaskResult(
        task_id,
        title,
        round(score, 6),
        max_score,
        _status_of(score, max_score),
        tuple(scored),
        manual_answer,
    )


def _overridden(
    task_id: str,
    title: str,
    checks: list[CheckResult],
    max_score: float,
    auto_score: float,
    override: OverrideScore,
    manual_answer: str | None,
) -> TaskResult:
    score = _in_range(override.score, max_score, f"the override of {task_id}")
    return TaskResult(
        task_id,
        title,
        round(score, 6),
        max_score,
        _status_of(score, max_score),
        tuple(checks),
        manual_answer,
        override=Override(round(score, 6), override.reason, auto_score),
    )


__all__ = [
    "Author",
    "GradeOptions",
    "ManualScore",
    "grade_submission",
]
