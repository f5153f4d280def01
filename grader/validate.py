"""`grader validate`: the sheet loads, the solver answers every task, and the sheet's
solution scores full marks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.errors import Location, Problem, SheetError
from grader.grading import grade_submission
from grader.reports.numbers import points
from grader.results import SubmissionResult
from grader.sheet.loader import LoadedSheet, load_sheet


@dataclass(frozen=True)
class ValidationReport:
    summary: str
    solution: SubmissionResult | None


def validate_sheet(path: Path) -> ValidationReport:
    sheet = load_sheet(path)  # raises SheetError listing every problem
    n_checks = sum(len(t.checks) for t in sheet.tasks)
    total = sum(t.spec.points for t in sheet.tasks)
    head = (
        f"{path}: sheet {sheet.id}: {len(sheet.tasks)} tasks, {n_checks} checks, "
        f"{points(total)} points; reference answers computed."
    )
    head += "".join(f"\nwarning: {w}" for w in _lints(path, sheet))
    head += _variants(path, sheet)
    solution = sheet.solution_path()
    if solution is None:
        return ValidationReport(head + "\n(no `solution:` given, so no hand-in was graded)", None)
    if not solution.is_file():
        raise SheetError(
            [
                Problem(
                    Location(str(path), sheet_line(path, "solution"), "solution"),
                    f"the solution file {solution} does not exist",
                )
            ]
        )
    result = grade_submission(sheet, solution)
    problems = []
    for task in result.tasks:
        if task.status == "manual" and all(c.kind == "manual" for c in task.checks):
            continue
        if task.score < task.max_score - 1e-9:
            lost = [f for c in task.checks if not c.passed for f in c.feedback]
            ti = next(i for i, t in enumerate(sheet.tasks) if t.spec.id == task.task_id)
            problems.append(
                Problem(
                    Location(
                        str(path), sheet_line(path, "tasks", ti), f"tasks[{ti}] ({task.task_id})"
                    ),
                    f"the sheet's solution scores {points(task.score)}/{points(task.max_score)}: "
                    + " ".join(lost)[:600],
                )
            )
    if problems:
        raise SheetError(problems)
    manual = [t.task_id for t in result.tasks if t.status == "manual"]
    waiting = f", {', '.join(manual)} waiting as manual" if manual else ""
    return ValidationReport(
        head
        + f"\nThe solution {solution.name} scores "
        f"{points(result.auto_score)}/{points(result.auto_max_score)} "
        f"on the auto-graded tasks{waiting}.",
        result,
    )


def _variants(path: Path, sheet: LoadedSheet) -> str:
    """A sample of per-student variants must each be sensible (its conditions hold, every
    reference answer is finite); a sheet whose variants are not fails validation."""
    from grader.variants import SAMPLE, validate_variants

    if sheet.model.variants is None:
        return ""
    problems = validate_variants(sheet)
    if problems:
        where = Location(str(path), sheet_line(path, "variants"), "variants")
        raise SheetError([Problem(where, p) for p in problems])
    return f"\n{SAMPLE} sample variants drawn: each is sensible."


def _lints(path: Path, sheet: LoadedSheet) -> list[str]:
    """What may let a wrong answer through, said where it is (the sheet still grades)."""
    from grader.sheet.yamlsource import load_yaml

    source = load_yaml(path)
    out = []
    asked = {c.spec.name for t in sheet.tasks for c in t.checks}
    for name in sheet.model.names:
        if name not in asked:
            where = source.location(("names", name))
            out.append(f"{where}: no check asks for `{name}`; `grader template` leaves it out")
    for ti, task in enumerate(sheet.tasks):
        for ci, check in enumerate(task.checks):
            where = source.location(("tasks", ti, "checks", ci))
            out += [f"{where}: {text}" for text in check.lint()]
    return out


def sheet_line(path: Path, *keys: str | int) -> int | None:
    from grader.sheet.yamlsource import load_yaml

    return load_yaml(path).location(keys).line
