"""Grading a notebook: its generated module goes through the ordinary sandbox run.

The parent writes the generated module (``grader.handin.notebook``) into a private temporary
folder, never next to the hand-in, asks the usual probes plus one for the cells that failed,
and maps every line the sandbox reports back to "cell N, line L".
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.grading import GradeOptions, ProbeRunner, grade_submission
from grader.handin.notebook import (
    FAILED_CELLS,
    NotebookError,
    NotebookModule,
    notebook_module,
    read_notebook,
)
from grader.intake import read_limited
from grader.results import SubmissionResult, TaskResult
from grader.sandbox.protocol import Outcome, Probe, ProbeError
from grader.sandbox.runner import Limits, RunReport, run_probes
from grader.sheet.loader import LoadedSheet

CELLS_PROBE = Probe(id="meta/notebook-cells", name=FAILED_CELLS, op="value", timeout=2.0)

Grade = Callable[..., SubmissionResult]


@dataclass(frozen=True)
class CellFailure:
    cell: int
    line: int | None
    error: str

    @property
    def message(self) -> str:
        where = f"cell {self.cell}, line {self.line}" if self.line else f"cell {self.cell}"
        return (
            f"Cell {self.cell} raised {self.error} ({where}); the names defined before it are "
            "kept, and the cells after it still ran."
        )


@dataclass
class NotebookRun:
    """A ``ProbeRunner`` for one notebook: runs its generated module, maps lines to cells."""

    module: NotebookModule
    base: ProbeRunner
    failures: list[CellFailure] = field(default_factory=list)

    def __call__(self, path: Path, probes: Sequence[Probe], limits: Limits) -> RunReport:
        with tempfile.TemporaryDirectory(prefix="grader-notebook-") as tmp:
            target = Path(tmp) / f"{_module_stem(path)}.py"
            target.write_text(self.module.source, encoding="utf-8")
            report = self.base(target, [*probes, CELLS_PROBE], limits)
        outcomes = dict(report.outcomes)
        cells = outcomes.pop(CELLS_PROBE.id, None)
        self.failures = self._failures(cells)
        return replace(
            report,
            outcomes={k: self._located(o) for k, o in outcomes.items()},
            import_error=self._error(report.import_error),
        )

    def _failures(self, outcome: Outcome | None) -> list[CellFailure]:
        if outcome is None or not outcome.ok or not isinstance(outcome.value, list):
            return []
        found = []
        for item in outcome.value[:50]:
            if not isinstance(item, Mapping):
                continue
            cell, line, error = item.get("cell"), item.get("line"), item.get("error")
            if not isinstance(cell, int) or not isinstance(error, str):
                continue
            place = self.module.locate(line if isinstance(line, int) else None)
            found.append(CellFailure(cell, place[1] if place else None, error[:300]))
        return found

    def _located(self, outcome: Outcome) -> Outcome:
        error = self._error(outcome.error)
        return outcome if error is outcome.error else replace(outcome, error=error)

    def _error(self, error: ProbeError | None) -> ProbeError | None:
        if error is None or error.line is None:
            return error
        place = self.module.locate(error.line)
        where = f"cell {place[0]}, line {place[1]}" if place else "the grader's own code"
        return replace(error, message=f"{error.message} ({where})", line=None)


def grade_notebook(
    sheet: LoadedSheet,
    path: Path,
    *,
    options: GradeOptions | None = None,
    runner: ProbeRunner | None = None,
    grade: Grade = grade_submission,
    name: str | None = None,
) -> SubmissionResult:
    """Grade a ``.ipynb`` hand-in: its code cells, in order, as one module."""
    try:
        # a file that cannot be read (too large, no regular file) is refused (HandInRefused),
        # as a module is: the batch gives it a result of its own
        module = notebook_module(read_notebook(read_limited(path)), notebook_name=path.name)
    except NotebookError as exc:
        return grade(sheet, path, options=options, runner=_unreadable(str(exc)), name=name)
    run = NotebookRun(module, runner or _sandbox)
    result = grade(sheet, path, options=options, runner=run, name=name)
    return _with_cell_notes(result, module, run.failures)


def _sandbox(path: Path, probes: Sequence[Probe], limits: Limits) -> RunReport:
    return run_probes(path, probes, limits=limits)


def _unreadable(message: str) -> ProbeRunner:
    def run(path: Path, probes: Sequence[Probe], limits: Limits) -> RunReport:
        err = ProbeError("import", message)
        return RunReport({p.id: Outcome(p.id, error=err) for p in probes}, import_error=err)

    return run


def _with_cell_notes(
    result: SubmissionResult, module: NotebookModule, failures: list[CellFailure]
) -> SubmissionResult:
    """Each failed cell and each removed magic is named on every check not passed, and a
    removed magic also on the checks of the names its cell defines; all of them in the
    result's notes too."""
    magics = [_sentence(n.message) for n in module.notes]
    failed = [f.message for f in failures] + magics
    by_name: dict[str, list[str]] = {}
    for note in module.notes:
        for name in note.names:
            by_name.setdefault(name, []).append(_sentence(note.message))
    tasks = tuple(_task_with_notes(t, failed, by_name) for t in result.tasks)
    notes = (*result.notes, *failed)
    return replace(result, tasks=tasks, notes=notes)


def _task_with_notes(
    task: TaskResult, failed: list[str], by_name: Mapping[str, list[str]]
) -> TaskResult:
    checks = []
    for check in task.checks:
        extra = [*by_name.get(check.name, ()), *(failed if not check.passed else ())]
        new = tuple(line for line in extra if line not in check.feedback)
        checks.append(replace(check, feedback=(*check.feedback, *new)) if new else check)
    return replace(task, checks=tuple(checks))


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def _module_stem(path: Path) -> str:
    stem = re.sub(r"[^A-Za-z0-9_]", "_", path.stem)[:60] or "notebook"
    return stem if not stem[0].isdigit() else f"nb_{stem}"
