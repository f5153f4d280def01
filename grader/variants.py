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
from grader.sheet.loader import LoadedSheet, build_tasks, load_sheet
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


def validate_variants(path: Path, sample: int = 12) -> list[str]:
    """Problems of a sample of variants (``grader validate``): each must be sensible."""
    sheet = load_sheet(path)
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

