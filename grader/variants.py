"""Per-student variants: each student's own numbers for a sheet's given data.

A sheet's ``variants:`` says which given data are drawn per student (``net.W1: {array: [2, 3],
integers: [-3, 3]}``) and which conditions keep a variant sensible (``require:``, case
formulas: no tie for the predicted class). A student's variant is drawn from the roster id and
the sheet's seed, so it is the same on every machine and every run; draws that break a
condition, or on which a reference has no finite answer, are drawn again.

A variant is the sheet with that given data: the checks that use it are built again (their
reference answers worked out for those numbers); the others are shared.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.calc import Env, compile_formula, evaluate
from grader.checks.base import Check
from grader.checks.cases import stable_seed
from grader.errors import Problem, SheetError, UsageError
from grader.generators import Draw
from grader.sheet.loader import LoadedSheet, build_tasks
from grader.sheet.yamlsource import load_yaml

__all__ = [
    "Roster",
    "RosterError",
    "load_variant",
    "read_roster",
    "variant_given",
]


class RosterError(UsageError):
    """A roster that cannot be used (missing column, duplicate id, empty)."""


@dataclass(frozen=True)
class Roster:
    path: Path
    #: roster id -> name, in the roster's order
    students: dict[str, str]

    def name(self, student: str) -> str:
        return self.students.get(student, "")


def read_roster(path: Path) -> Roster:
    """A roster CSV with columns ``id`` and ``name`` (more columns are fine)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RosterError(f"{path}: cannot read the roster: {exc.strerror or exc}") from None
    reader = csv.DictReader(text.splitlines())
    columns = {c.strip().lower(): c for c in reader.fieldnames or []}
    missing = [c for c in ("id", "name") if c not in columns]
    if missing:
        found = ", ".join(reader.fieldnames or []) or "none"
        raise RosterError(
            f"{path}: the roster needs the columns id and name; {' and '.join(missing)} "
            f"missing (found: {found})"
        )
    students: dict[str, str] = {}
    for line, row in enumerate(reader, start=2):
        student = (row.get(columns["id"]) or "").strip()
        if not student:
            raise RosterError(f"{path}:{line}: a row without an id")
        if student in students:
            raise RosterError(f"{path}:{line}: the id {student} appears twice")
        students[student] = (row.get(columns["name"]) or "").strip()
    if not students:
        raise RosterError(f"{path}: the roster lists no students")
    return Roster(path, students)


# ------------------------------------------------------------------ drawing a variant
def variant_given(sheet: LoadedSheet, student: str) -> dict[str, Any]:
    """The given data of ``student``'s variant (the sheet's own data without variants)."""
    return _variant(sheet, student)[0]


def load_variant(sheet: LoadedSheet, student: str) -> LoadedSheet:
    """The sheet with ``student``'s numbers, its dependent reference answers worked out."""
    return _variant(sheet, student)[1]


def _variant(sheet: LoadedSheet, student: str) -> tuple[dict[str, Any], LoadedSheet]:
    spec = sheet.model.variants
    if spec is None:
        return dict(sheet.context.given), sheet
    why = ""
    for attempt in range(spec.tries):
        given = _draw(sheet, student, attempt)
        why = _broken_requirement(sheet, given)
        if why:
            continue
        try:
            return given, _with_given(sheet, given, student)
        except SheetError as exc:
            why = exc.problems[0].message
    raise SheetError(
        [
            Problem(
                load_yaml(sheet.path).location(("variants",)),
                f"no sensible variant for {student} in {spec.tries} draws; the last: {why}",
            )
        ]
    )


def _draw(sheet: LoadedSheet, student: str, attempt: int) -> dict[str, Any]:
    spec = sheet.model.variants
    assert spec is not None
    import numpy as np

    rng = np.random.default_rng(stable_seed(sheet.model.seed, "variant", student, attempt))
    given = copy.deepcopy(sheet.context.given)
    for path, generator in spec.given.items():
        value = generator.draw(Draw(rng, 0, {}, sheet.context))
        _set(given, path, value.tolist() if hasattr(value, "tolist") else value)
    return given


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = data
    for step in parents:
        node = node.setdefault(step, {})
    node[last] = value


def _broken_requirement(sheet: LoadedSheet, given: Mapping[str, Any]) -> str:
    spec = sheet.model.variants
    assert spec is not None
    names = flat_given(given)
    for text in spec.require:
        env = Env(names, sheet.context.numeric_functions)
        try:
            if not bool(evaluate(compile_formula(text), env)):
                return f"`{text}` does not hold"
        except Exception as exc:  # noqa: BLE001 - a formula undefined on this draw
            return f"`{text}` cannot be worked out ({type(exc).__name__}: {exc})"
    return ""


def flat_given(given: Mapping[str, Any]) -> dict[str, Any]:
    """Given data by name for formulas: top-level values, and the items of each mapping."""
    from grader.generators import as_data

    out: dict[str, Any] = {}
    for key, value in given.items():
        if isinstance(value, Mapping):
            out.update({k: as_data(v) for k, v in value.items()})
        else:
            out[key] = as_data(value)
    return out


def _with_given(sheet: LoadedSheet, given: dict[str, Any], student: str) -> LoadedSheet:
    ctx = dataclasses.replace(sheet.context, given=given)
    ctx.__dict__.update(
        {k: v for k, v in sheet.context.__dict__.items() if k == "_family_models"}
    )
    variants = sheet.model.variants
    varied = {path.split(".")[0] for path in (variants.given if variants else {})}
    keep = {c.check_id: c for t in sheet.tasks for c in t.checks if not _depends(c, varied)}
    problems: list[Problem] = []
    # the sheet's YAML is read again only to locate a problem (it takes longer than the checks)
    tasks = build_tasks(
        sheet.model, ctx, lambda path: load_yaml(sheet.path).location(path), problems, keep
    )
    if problems:
        raise SheetError(problems)
    digest = hashlib.sha256(f"{sheet.digest}:variant:{student}".encode()).hexdigest()
    return dataclasses.replace(sheet, context=ctx, tasks=tasks, digest=digest, variant=student)


def _depends(check: Check, roots: set[str]) -> bool:
    """Whether a check uses any of the given data ``roots`` (its cases, its formulas)."""
    return bool({g.split(".")[0] for g in check.given_data()} & roots)


#: variants `grader validate` draws
SAMPLE = 12


def validate_variants(sheet: LoadedSheet, sample: int = SAMPLE) -> list[str]:
    """Problems of a sample of variants (``grader validate``): each must be sensible."""
    if sheet.model.variants is None:
        return []
    out = []
    for k in range(sample):
        student = f"sample-{k + 1}"
        try:
            load_variant(sheet, student)
        except SheetError as exc:
            out.append(f"variant {student}: {exc.problems[0].message}")
    return out



# ------------------------------------------------------------------ grading with a roster
_SHEETS: dict[tuple[str, str], LoadedSheet] = {}
#: variants kept per process (a class of 300 costs about 30 ms and little memory each)
MAX_CACHED = 512


def variant_sheet(sheet: LoadedSheet, student: str | None) -> LoadedSheet:
    """The sheet of ``student``'s variant, built once per process."""
    if student is None or sheet.model.variants is None:
        return sheet
    key = (sheet.digest, student)
    if key not in _SHEETS:
        if len(_SHEETS) >= MAX_CACHED:
            _SHEETS.pop(next(iter(_SHEETS)))
        _SHEETS[key] = load_variant(sheet, student)
    return _SHEETS[key]


def student_of(path: Path, roster: Roster) -> tuple[str | None, str]:
    """The roster id whose variant grades ``path`` (its first listed author), and what to say."""
    from grader.handin.authors import static_authors

    authors = static_authors(path)
    listed = [a for a in authors if a.id in roster.students]
    if not authors:
        return None, (
            "No AUTHORS were found in your hand-in: it was graded with the sheet's own numbers, "
            "not your variant."
        )
    if not listed:
        ids = ", ".join(a.id or a.name for a in authors)
        return None, (
            f"None of your AUTHORS ({ids}) is in the roster: your hand-in was graded with the "
            "sheet's own numbers, not your variant."
        )
    first = listed[0]
    group = " (a group is graded with its first listed author's)" if len(authors) > 1 else ""
    return first.id, f"Graded with the numbers of {first.id}'s sheet{group}."


def grade_variant(
    sheet: LoadedSheet,
    path: Path,
    *,
    options: Any,
    name: str | None,
    grade: Any,
) -> Any:
    """Grade ``path`` with its authors' variant (``options.roster``), and say so."""
    from grader.results import SubmissionResult

    roster: Roster = options.roster
    student, note = student_of(path, roster)
    variant = variant_sheet(sheet, student)
    result: SubmissionResult = grade(variant, path, name=name)
    others = other_numbers(sheet, variant, result, roster, student)
    if others:
        result = _told_other_numbers(result, others)
    return dataclasses.replace(
        result, variant=student, notes=(note, *result.notes), other_variants=others
    )


def other_numbers(
    sheet: LoadedSheet,
    variant: LoadedSheet,
    result: Any,
    roster: Roster,
    student: str | None,
) -> tuple[str, ...]:
    """Roster ids whose numbers a check's wrong answers on the given data all fit.

    A fit says something only when it is rare: a predicted class of 0 fits half the class,
    the values (2, 5) of a gradient at someone else's point fit that point's owner alone. So
    a check counts when at most one student in twenty (at least one) shares the fit.
    """
    if sheet.model.variants is None:
        return ()
    roots = {p.split(".")[0] for p in sheet.model.variants.given}
    given = {
        c.check_id: set(c.given_expectations())
        for t in variant.tasks
        for c in t.checks
        if _depends(c, roots)
    }
    wrong: dict[str, dict[tuple[str, int], str]] = {}
    for t in result.tasks:
        for c in t.checks:
            if c.check_id in given and not c.passed:
                cases = {
                    w: case.given
                    for w, case in _by_place(c.cases)
                    if not case.ok and w in given[c.check_id]
                }
                if cases and all(g is not None for g in cases.values()):
                    wrong[c.check_id] = cases
    if not wrong:
        return ()
    fits: dict[str, list[str]] = {check_id: [] for check_id in wrong}
    for other in roster.students:
        if other == student:
            continue
        expected = {
            c.check_id: c.given_expectations()
            for t in variant_sheet(sheet, other).tasks
            for c in t.checks
            if c.check_id in wrong
        }
        for check_id, cases in wrong.items():
            if all(expected[check_id].get(w) == g for w, g in cases.items()):
                fits[check_id].append(other)
    rare = max(1, len(roster.students) // 20)
    found = {o for owners in fits.values() if len(owners) <= rare for o in owners}
    return tuple(sorted(found))


def _by_place(cases: Any) -> list[tuple[tuple[str, int], Any]]:
    """Each case with its place: (part, position in the part), the same in every variant."""
    seen: dict[str, int] = {}
    out = []
    for case in cases:
        k = seen.get(case.part, 0)
        seen[case.part] = k + 1
        out.append(((case.part, k), case))
    return out


def _told_other_numbers(result: Any, others: tuple[str, ...]) -> Any:
    """The student is told, without naming anyone; the instructor sees whose numbers."""
    message = (
        "Some of your answers are the numbers of another student's sheet, not of yours: "
        "work with your own variant's data."
    )
    return dataclasses.replace(result, notes=(message, *result.notes))
