"""The copy of a sheet that may sit in a student's repository.

Whatever a student's own workflow can read, the student can read: the workflow file, the
sheet it grades with, and any secret the workflow is given (a student with push access can
change the workflow to print it). So the public copy holds only what the sheet already lets
a student see, and nothing is fetched from a private place:

- no hidden check (``hidden: true``): those are graded where students cannot look, by
  ``grader grade`` or the Gradescope package;
- no check that keeps its expected answer to itself (``show_expected: false``): its YAML would
  show that answer;
- no ``solution:`` and no ``reference:`` module: the module holds reference solutions. A check
  that needs it for its expected answer is left out; a check that needs it only to name a known
  mistake stays, without that mistake (mistakes name an error, they never change a score).

What stays is what ``grader check`` already shows a student who gets a visible check wrong
(its expected answer), in the form the sheet states it. Every check left out is listed, so the
instructor knows what the public score covers.
"""

from __future__ import annotations

import copy
import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from grader.checks import REGISTRY
from grader.errors import GraderError, UsageError
from grader.sheet.common import CheckSpec
from grader.sheet.context import SheetContext, SpecError
from grader.sheet.loader import LoadedSheet, load_sheet
from grader.sheet.yamlsource import load_yaml

HIDDEN = "hidden check"


@dataclass(frozen=True)
class LeftOut:
    """A check of the full sheet that the public copy does not have, or changes."""

    task_id: str
    name: str
    points: float
    reason: str


@dataclass(frozen=True)
class PublicSheet:
    sheet_id: str
    text: str
    #: points of the public copy (its full marks)
    points: float
    #: of which graded automatically (not ``manual`` checks): the most ``grader ci`` can give
    auto_points: float
    left_out: tuple[LeftOut, ...]
    #: checks kept without some of their named mistakes
    trimmed: tuple[LeftOut, ...]


def public_sheet(sheet: LoadedSheet) -> PublicSheet:
    """The public copy of a loaded sheet."""
    data = copy.deepcopy(load_yaml(sheet.path).data)
    context = sheet.context
    if context.reference is not None:
        context = dataclasses.replace(context, reference=None)
    left_out: list[LeftOut] = []
    trimmed: list[LeftOut] = []
    tasks = []
    for loaded, raw_task in zip(sheet.model.tasks, data["tasks"], strict=True):
        kept: list[tuple[float, dict[str, Any]]] = []
        for index, (spec, raw) in enumerate(zip(loaded.checks, raw_task["checks"], strict=True)):
            verdict = _public_form(spec, raw, context, f"{loaded.id}#{index + 1}")
            if isinstance(verdict, str):
                left_out.append(LeftOut(loaded.id, spec.name, spec.points, verdict))
                continue
            raw_public, dropped_mistakes = verdict
            if dropped_mistakes:
                note = f"{dropped_mistakes} named mistake(s) need the reference module"
                trimmed.append(LeftOut(loaded.id, spec.name, spec.points, note))
            if len(kept) != index and "id" not in raw_public:
                raw_public["id"] = f"{loaded.id}#{index + 1}"  # the id it has in the full sheet
            kept.append((spec.points, raw_public))
        if kept:
            raw_task["checks"] = [raw for _, raw in kept]
            raw_task["points"] = _number(sum(points for points, _ in kept))
            tasks.append(raw_task)
    if not tasks:
        raise UsageError(
            f"{sheet.path}: no check of this sheet can be public (each is hidden, keeps its "
            "expected answer to itself or needs the reference module)"
        )
    data["tasks"] = tasks
    for field in ("solution", "reference"):
        data.pop(field, None)
    # flow style for lists of plain values ([3, 1, -1]), block style around them
    body = yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
    )
    text = _header(sheet, left_out) + body
    points, auto_points = _check_loads(text, sheet.path.name)
    return PublicSheet(sheet.id, text, points, auto_points, tuple(left_out), tuple(trimmed))


def _public_form(
    spec: CheckSpec, raw: dict[str, Any], context: SheetContext, check_id: str
) -> tuple[dict[str, Any], int] | str:
    """The check as the public copy has it and how many mistakes it lost, or why it is left
    out."""
    if spec.hidden:
        return HIDDEN
    if not spec.show_expected:
        return "keeps its expected answer to itself (show_expected: false)"
    for mistakes in _mistake_choices(spec):
        candidate = spec.model_copy(update={"mistakes": [spec.mistakes[i] for i in mistakes]})
        try:
            REGISTRY[spec.kind](candidate, context, check_id=check_id)
        except SpecError:
            continue
        public = dict(raw)
        if len(mistakes) != len(spec.mistakes):
            public["mistakes"] = [raw["mistakes"][i] for i in mistakes]
            if not public["mistakes"]:
                del public["mistakes"]
        return public, len(spec.mistakes) - len(mistakes)
    return "its expected answer comes from the reference module"


def _mistake_choices(spec: CheckSpec) -> list[list[int]]:
    """All mistakes; those that name no reference function; none."""
    every = list(range(len(spec.mistakes)))
    without_ref = [i for i in every if spec.mistakes[i].ref is None]
    return [every, without_ref, []] if spec.mistakes else [every]


def _header(sheet: LoadedSheet, left_out: list[LeftOut]) -> str:
    lines = [
        f"# Public copy of {sheet.path.name}, made by `grader generate github`.",
        "# Hidden checks, the solution and the reference module are not in it; the full sheet",
        "# stays with the instructor. Regenerate it rather than editing it.",
    ]
    shown = [c for c in left_out if c.reason != HIDDEN]
    hidden = [c for c in left_out if c.reason == HIDDEN]
    if left_out:
        lines.append("# Left out here, graded only with the full sheet:")
    lines += [f"#   {c.task_id} {c.name} ({points_text(c.points)}): {c.reason}" for c in shown]
    if hidden:  # what they check is not for students to read, not even their names
        points = points_text(sum(c.points for c in hidden))
        lines.append(f"#   {len(hidden)} hidden check(s), {points} in all")
    return "\n".join(lines) + "\n"


def _check_loads(text: str, name: str) -> tuple[float, float]:
    """Load the public copy on its own, away from the full sheet's folder; its full marks, and
    the part of them graded automatically."""
    with tempfile.TemporaryDirectory(prefix="grader-public-sheet-") as folder:
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8")
        try:
            loaded = load_sheet(path)
        except GraderError as exc:  # a bug here, not the instructor's: say what broke
            raise GraderError(f"the public copy of {name} does not load on its own: {exc}") from exc
    specs = [c for task in loaded.tasks for c in task.spec.checks]
    return (
        float(sum(c.points for c in specs)),
        float(sum(c.points for c in specs if c.kind != "manual")),
    )


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def points_text(value: float) -> str:
    """``1 point``, ``1.5 points``."""
    return f"{_number(value)} point" + ("" if value == 1 else "s")
