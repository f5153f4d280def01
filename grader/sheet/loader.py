"""Load a sheet: parse YAML, validate the models, run the reference solver.

Every problem is reported with file, line and field; loading collects all of
them before failing, so an instructor fixes a sheet in one pass.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from grader.checks import REGISTRY, Check
from grader.errors import Problem, SheetError
from grader.sheet.context import SheetContext, SpecError
from grader.sheet.model import Sheet, Task
from grader.sheet.yamlsource import YamlSource, load_yaml


@dataclass(frozen=True)
class LoadedTask:
    spec: Task
    checks: tuple[Check, ...]


@dataclass(frozen=True)
class LoadedSheet:
    """A sheet with its reference answers computed, ready to grade hand-ins."""

    path: Path
    model: Sheet
    context: SheetContext
    tasks: tuple[LoadedTask, ...]
    #: hash of the sheet file's content: keys caches and per-hand-in random instances
    digest: str

    @property
    def id(self) -> str:
        return self.model.id

    def solution_path(self) -> Path | None:
        if self.model.solution is None:
            return None
        return (self.path.parent / self.model.solution).resolve()


def load_sheet(path: Path | str) -> LoadedSheet:
    path = Path(path)
    source = load_yaml(path)
    try:
        model = Sheet.model_validate(source.data)
    except ValidationError as exc:
        raise SheetError(_problems(source, exc)) from None
    problems: list[Problem] = []
    try:
        context = SheetContext(
            sheet_id=model.id,
            domains=dict(model.symbols),
            definitions=dict(model.definitions),
            families=dict(model.families),
            seed=model.seed,
        )
    except SpecError as exc:
        raise SheetError([Problem(source.location(exc.field), str(exc))]) from None
    tasks = []
    for ti, task in enumerate(model.tasks):
        checks = []
        for ci, spec in enumerate(task.checks):
            check_id = spec.id or f"{task.id}#{ci + 1}"
            try:
                checks.append(REGISTRY[spec.kind](spec, context, check_id=check_id))
            except SpecError as exc:
                where = source.location(("tasks", ti, "checks", ci, *exc.field))
                problems.append(Problem(where, str(exc)))
        tasks.append(LoadedTask(task, tuple(checks)))
    if problems:
        raise SheetError(problems)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return LoadedSheet(path, model, context, tuple(tasks), digest)


def _problems(source: YamlSource, exc: ValidationError) -> list[Problem]:
    from grader.sheet.messages import problems

    return problems(source, exc)
