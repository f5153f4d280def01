"""Load a sheet: parse YAML, validate the models, run the reference solver.

Every problem is reported with file, line and field; loading collects all of
them before failing, so an instructor fixes a sheet in one pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from grader.checks import REGISTRY, Check
from grader.errors import Location, Problem, SheetError
from grader.sheet.context import SheetContext, SpecError
from grader.sheet.model import Sheet, Task
from grader.sheet.reference import ReferenceModule, load_reference
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
    #: the roster id whose numbers this sheet carries (None: the sheet's own given data)
    variant: str | None = None

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
        reference = None
        if model.reference is not None:
            reference = load_reference((path.parent / model.reference).resolve())
        context = SheetContext(
            sheet_id=model.id,
            domains=dict(model.symbols),
            definitions=dict(model.definitions),
            families=dict(model.families),
            seed=model.seed,
            given=dict(model.given),
            reference=reference,
            handin_names=frozenset(
                {c.name for t in model.tasks for c in t.checks} | set(model.names)
            ),
        )
    except SpecError as exc:
        raise SheetError([Problem(source.location(exc.field), str(exc))]) from None
    tasks = build_tasks(model, context, source.location, problems)
    if problems:
        raise SheetError(problems)
    digest = sheet_digest(path.read_bytes(), context.reference)
    return LoadedSheet(path, model, context, tuple(tasks), digest)


def build_tasks(
    model: Sheet,
    context: SheetContext,
    locate: Callable[[tuple[str | int, ...]], Location],
    problems: list[Problem],
    keep: Mapping[str, Check] | None = None,
) -> tuple[LoadedTask, ...]:
    """Every check built (its reference answers worked out); ``keep`` reuses checks by id
    that need no rebuilding. Problems are collected with their file, line and field."""
    tasks = []
    for ti, task in enumerate(model.tasks):
        checks = []
        for ci, spec in enumerate(task.checks):
            check_id = spec.id or f"{task.id}#{ci + 1}"
            if keep is not None and check_id in keep:
                checks.append(keep[check_id])
                continue
            try:
                checks.append(REGISTRY[spec.kind](spec, context, check_id=check_id))
            except SpecError as exc:
                where = locate(("tasks", ti, "checks", ci, *exc.field))
                problems.append(Problem(where, str(exc)))
        tasks.append(LoadedTask(task, tuple(checks)))
    return tuple(tasks)


def sheet_digest(sheet: bytes, reference: ReferenceModule | None) -> str:
    """The content hash of a sheet and its reference module (results and caches key on it)."""
    extra = reference.digest.encode() if reference is not None else b""
    return hashlib.sha256(sheet + extra).hexdigest()


def _problems(source: YamlSource, exc: ValidationError) -> list[Problem]:
    from grader.sheet.messages import problems

    return problems(source, exc)
