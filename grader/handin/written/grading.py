"""``grade_written``: a markdown or LaTeX hand-in, read and judged by the sheet's own checks.

The text is split into tasks, every derivation is checked step by step, and the final
answers are read; the checks then judge those answers through the ``runner`` seam of
``grade_submission``, exactly as they judge code. What a check makes of it:

- every probe answered: the check's verdict stands; when it is full marks and the
  derivations it rests on have broken steps, each costs the sheet's ``step_cost`` (at most
  ``max_step_cost``) of the check's points (a derivation belongs to the check whose names
  it starts with; one that names none, to the task's first check with a step cost);
- numbers written to a few digits that fail the check's tolerance are judged again at the
  precision written (at least 2 significant digits);
- some probes answered, some not (a network's outputs are written for the sheet's network
  only): the cases answered are scored, the others are left out (the check core does so);
  but a formula that is surely not written is a missing answer, and one that may be
  written but was not read sends the check to a person;
- a task that asks for a proof, answered by the claim alone: a person grades it;
- nothing answered, or the sheet accepts no written answer for the check: the check waits
  for a person, with the reason and the task's text.

A reading problem of ours (a side we cannot read, a document too large, a time budget
spent) never costs points: it sends the task to a person.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import sympy

from grader.checks.base import Check
from grader.grading import GradeOptions, every_check, grade_submission, task_result
from grader.handin.written.answers import ReadChain, find_answer, named_chains
from grader.handin.written.document import Document, DocumentProblem, load_document
from grader.handin.written.math import chains, formulas
from grader.handin.written.read import Reader
from grader.handin.written.runner import Answerable, WrittenRunner, read_line
from grader.handin.written.split import Section, authors_in, split_tasks
from grader.handin.written.steps import Budget, Derivation, TaskContext, check_chain, point_of
from grader.results import Author, CheckResult, SubmissionResult, TaskResult
from grader.sheet.loader import LoadedSheet, LoadedTask

log = logging.getLogger(__name__)

NOT_WRITTEN = (
    "The sheet does not let a written answer earn these points automatically; "
    "a person will grade your text."
)


@dataclass(frozen=True)
class WrittenResult(SubmissionResult):
    """A written hand-in's result, with its derivations for the report."""

    derivations: tuple[Derivation, ...] = ()


@dataclass
class TaskReading:
    text: str = ""
    derivations: list[Derivation] = field(default_factory=list)
    chains: list[ReadChain] = field(default_factory=list)

    #: check id -> the derivations (by index) that derive one of the names it asks for
    owners: dict[str, set[int]] = field(default_factory=dict)
    #: the check that answers for the derivations no check names (the task's first check
    #: whose broken steps cost points)
    catch_all: str | None = None

    @property
    def mistakes(self) -> list[str]:
        return [m for d in self.derivations for m in d.mistakes]

    def mistakes_for(self, check_id: str) -> list[str]:
        """The mistakes a check answers for: in the derivations of its own names, and, for
        the task's catch-all check, in those of no check's names. So a broken step costs
        the check whose answer rests on it, and is never charged twice."""
        owned = set().union(*self.owners.values()) if self.owners else set()
        mine = self.owners.get(check_id, set())
        return [
            m
            for i, d in enumerate(self.derivations)
            if i in mine or (i not in owned and check_id == self.catch_all)
            for m in d.mistakes
        ]


@dataclass
class DocumentReading:
    tasks: dict[str, TaskReading]
    answers: dict[str, Answerable]
    authors: tuple[Author, ...]


def grade_written(
    sheet: LoadedSheet,
    path: Path,
    *,
    options: GradeOptions | None = None,
    grade: Callable[..., SubmissionResult] = grade_submission,
    name: str | None = None,
) -> SubmissionResult:
    """Grade a ``.md`` or ``.tex`` hand-in (``name``: what it is known by)."""
    options = options or GradeOptions()
    name = name or path.name
    document = load_document(path)
    if isinstance(document, DocumentProblem):
        return _unread(sheet, path, document, options, name)
    # no enclosing timer here: each judgement keeps its own (see steps.Budget)
    reading = read_written(sheet, document)
    runner = WrittenRunner(reading.answers, reading.authors)
    base = grade(sheet, path, options=options, runner=runner, name=name)
    base = _at_written_precision(sheet, path, base, runner, options, grade, name)
    tasks = tuple(
        _task(task, loaded, reading.tasks.get(task.task_id, TaskReading()), runner, options, name)
        for task, loaded in zip(base.tasks, _loaded(sheet, base.tasks), strict=True)
    )
    notes = (*base.notes, *((document.note,) if document.note else ()))
    derivations = tuple(d for t in reading.tasks.values() for d in t.derivations)
    return WrittenResult(
        submission=base.submission,
        sheet=base.sheet,
        authors=base.authors,
        tasks=tasks,
        import_error=base.import_error,
        output=base.output,
        seconds=base.seconds,
        notes=notes,
        derivations=derivations,
    )


# ------------------------------------------------------------------ rounded answers
def _at_written_precision(
    sheet: LoadedSheet,
    path: Path,
    base: SubmissionResult,
    runner: WrittenRunner,
    options: GradeOptions,
    grade: Callable[..., SubmissionResult],
    name: str,
) -> SubmissionResult:
    """A check not passed on numbers written to a few digits is judged again at the
    precision they show (the check's own tolerance is that of a program's floats).

    The tolerance is that of the entry written most precisely, with at least 2 significant
    digits read into every number (0.3 for 1/3 is not right; 0.33 is), so it is never looser
    than what any entry shows. Right only at the loosest entry's precision (0.27 beside
    0.73106): a person looks. Otherwise the first verdict stands."""
    loaded = {c.check_id: (t.spec.id, c) for t in sheet.tasks for c in t.checks}
    tasks = []
    for task in base.tasks:
        checks = []
        for result in task.checks:
            found = loaded.get(result.check_id)
            again = None
            if found is not None and not result.passed and not result.undetermined:
                again = _rejudge(sheet, path, found, runner, options, grade, name)
            checks.append(again or result)
        tasks.append(replace(task, checks=tuple(checks)))
    return replace(base, tasks=tuple(tasks))


def _rejudge(
    sheet: LoadedSheet,
    path: Path,
    found: tuple[str, Check],
    runner: WrittenRunner,
    options: GradeOptions,
    grade: Callable[..., SubmissionResult],
    name: str,
) -> CheckResult | None:
    task_id, check = found
    spec = check.spec
    written = getattr(spec, "written", None)
    own = getattr(spec, "rtol", None)
    if written is None or not isinstance(own, float):
        return None
    tolerances = [t for n in written.answers for t in _shown_tolerances(runner.answers.get(n))]
    if not tolerances or min(tolerances) <= own:
        return None
    tight, loose = min(tolerances), max(tolerances)
    at_tight = _judged_with(sheet, path, task_id, check, tight, runner, options, grade, name)
    if at_tight is not None and at_tight.passed:
        return replace(
            at_tight,
            feedback=(
                *at_tight.feedback,
                f"Judged at the precision you wrote (relative {tight:.2g}): right to the "
                "digits shown.",
            ),
        )
    if loose > tight:
        at_loose = _judged_with(sheet, path, task_id, check, loose, runner, options, grade, name)
        if at_loose is not None and at_loose.passed:
            return _manual(
                (at_tight or at_loose),
                [
                    "Your numbers are written to different precisions, and are right only at "
                    "the least precise: a person will check them.",
                ],
            )
    return None


def _shown_tolerances(entry: Answerable | None) -> list[float]:
    """Per number of the answer written as a decimal, the relative half-unit of its last
    digit (at least 2 significant digits read in)."""
    if entry is None or not entry.answer.shown_digits:
        return []
    value = entry.answer.value
    values = value if isinstance(value, tuple) else (value,)
    out = []
    for digits, v in zip(entry.answer.shown_digits, values, strict=False):
        if digits is None:
            continue
        try:
            w = abs(float(v))
        except (TypeError, ValueError):
            continue
        if w == 0 or not math.isfinite(w):
            continue
        exponent = math.floor(math.log10(w))
        out.append(0.5 * 10.0 ** (exponent - (max(digits, 2) - 1)) / w)
    return out


def _judged_with(
    sheet: LoadedSheet,
    path: Path,
    task_id: str,
    check: Check,
    rtol: float,
    runner: WrittenRunner,
    options: GradeOptions,
    grade: Callable[..., SubmissionResult],
    name: str,
) -> CheckResult | None:
    """The check's verdict with its tolerance set to ``rtol`` (the same cases and answers)."""
    try:
        looser = type(check)(
            check.spec.model_copy(update={"rtol": rtol}), check.ctx, check_id=check.check_id
        )
    except Exception:  # noqa: BLE001 - a check that cannot be rebuilt keeps its verdict
        log.exception("rebuilding %s at rtol %g failed", check.check_id, rtol)
        return None
    tasks = tuple(
        replace(t, checks=tuple(looser if c.check_id == check.check_id else c for c in t.checks))
        if t.spec.id == task_id
        else t
        for t in sheet.tasks
    )
    only = replace(options, tasks=frozenset({task_id}))
    result = grade(replace(sheet, tasks=tasks), path, options=only, runner=runner, name=name)
    for task in result.tasks:
        for c in task.checks:
            if c.check_id == check.check_id:
                return c
    return None


def _loaded(sheet: LoadedSheet, tasks: Sequence[TaskResult]) -> list[LoadedTask]:
    by_id = {t.spec.id: t for t in sheet.tasks}
    return [by_id[t.task_id] for t in tasks]


# ------------------------------------------------------------------ reading
def read_written(sheet: LoadedSheet, document: Document) -> DocumentReading:
    """Every task's derivations judged and its final answers found."""
    ctx = sheet.context
    sections = split_tasks(document.text, [t.spec.id for t in sheet.tasks])
    by_id = {t.spec.id: t for t in sheet.tasks}
    budget = Budget()
    tasks: dict[str, TaskReading] = {}
    answers: dict[str, Answerable] = {}
    # functions the text defines: one before an exercise's first task (σ(x) = … under the
    # heading) hold for all its tasks; one inside a task holds for that task only, so that
    # f in 6.2a and another f in 6.2d are two functions, not a claim that they are equal
    shared: dict[str | None, dict[str, sympy.Lambda]] = {}
    for section in sections:
        exercise = shared.setdefault(section.exercise, dict(ctx.functions))
        functions = exercise if section.task_id is None else dict(exercise)
        task = by_id.get(section.task_id or "")
        reading = _read_section(section, task, sheet, functions, budget)
        if task is None:
            continue
        tasks[task.spec.id] = reading
        reader = _reader(task, sheet, functions)
        _attribute(reading, task, reader)
        for check in task.checks:
            written = check.spec.written
            for name, spec in written.answers.items() if written else ():
                answer = find_answer(
                    name, spec, reading.chains, section.text, reader, ctx.given_value
                )
                at = spec.point(ctx.given_value)
                args = tuple(ctx.symbol(a) for a in spec.arg_names(ctx.given_value))
                answers.setdefault(name, Answerable(answer, args, tuple(at.values())))
    return DocumentReading(tasks, answers, authors_in(document.text))


def _attribute(reading: TaskReading, task: LoadedTask, reader: Reader) -> None:
    """Which check each derivation belongs to: the one whose names its first side names."""
    for check in task.checks:
        written = check.spec.written
        if written is None:
            continue
        if reading.catch_all is None and written.step_cost > 0:
            reading.catch_all = check.check_id
        names = [
            n
            for spec in written.answers.values()
            for n in (*spec.names, *(m for names in spec.components for m in names))
        ]
        named = named_chains(names, reading.chains, reader)
        reading.owners[check.check_id] = {
            i for i, c in enumerate(reading.chains) if any(c is n for n in named)
        }


def _reader(task: LoadedTask | None, sheet: LoadedSheet, functions: dict) -> Reader:
    ctx = sheet.context
    definitions: dict[str, sympy.Expr] = {}
    for check in task.checks if task else ():
        written = check.spec.written
        if written is None:
            continue
        names = {n: sympy.Symbol(n, real=True) for n in written.definitions}
        for name, text in written.definitions.items():
            definitions[name] = ctx.parse(text, ("written", "definitions", name), extra=names)
    return Reader(dict(ctx.symbols), functions, definitions)


def _read_section(
    section: Section,
    task: LoadedTask | None,
    sheet: LoadedSheet,
    functions: dict,
    budget: Budget,
) -> TaskReading:
    reader = _reader(task, sheet, functions)
    point: dict = {}
    mistakes: list[tuple[sympy.Expr, str]] = []
    for check in task.checks if task else ():
        written = check.spec.written
        for spec in written.answers.values() if written else ():
            point.update(point_of(spec.point(sheet.context.given_value), sheet.context.symbols))
        for m in check.spec.mistakes:
            if m.expr is None or check.spec.written is None:
                continue
            try:
                mistakes.append((sheet.context.parse(m.expr, "mistakes"), m.message))
            except ValueError:
                continue
    ctx = TaskContext(reader, point, mistakes, dict(sheet.model.symbols))  # type: ignore[arg-type]
    reading = TaskReading(section.text)
    for chain in chains(formulas(section.text, section.start)):
        derivation, readings = check_chain(chain, section.task_id, ctx, budget)
        reading.derivations.append(derivation)
        statuses = tuple(step.status for step in derivation.steps)
        reading.chains.append(ReadChain(chain, readings, statuses))
    return reading


# ------------------------------------------------------------------ judging
def _task(
    task: TaskResult,
    loaded: LoadedTask,
    reading: TaskReading,
    runner: WrittenRunner,
    options: GradeOptions,
    name: str,
) -> TaskResult:
    specs = {c.check_id: c.spec for c in loaded.checks}
    proof = _is_proof(loaded)
    checks = [_check(c, specs[c.check_id], reading, runner, proof) for c in task.checks]
    checks = [_with_read(c, specs[c.check_id], runner.answers) for c in checks]
    result = task_result(task.task_id, task.title, checks, name, options)
    if result.status == "manual" and not result.manual_answer and reading.text.strip():
        result = replace(result, manual_answer=reading.text.strip()[:5000])
    return result


_PROOF = re.compile(r"\b(?:prove|show|verify|beweisen|beweise|zeigen|zeige)\b", re.IGNORECASE)


def _is_proof(loaded: LoadedTask) -> bool:
    """The task asks for a proof of a stated result ("Prove that σ' is σ − σ²")."""
    return bool(_PROOF.search(f"{loaded.spec.title} {loaded.spec.prompt or ''}"))


def _only_stated(check_id: str, reading: TaskReading) -> bool:
    """The text gives the check's result as one equation (``σ'(x) = σ(x) − σ²(x)``) and
    derives nothing: no chain of its names has a side between the name and the result, and
    no other chain has a step that was judged."""
    owned = reading.owners.get(check_id, set())
    if not owned:
        return False
    judged = {"equal", "at_point", "rounded", "broken"}
    for i, derivation in enumerate(reading.derivations):
        if i in owned and len(derivation.sides) > 2:
            return False
        if i not in owned and any(step.status in judged for step in derivation.steps):
            return False
    return True


def _check(
    check: CheckResult,
    spec: object,
    reading: TaskReading,
    runner: WrittenRunner,
    proof: bool = False,
) -> CheckResult:
    written = getattr(spec, "written", None)
    asked = [ok for pid, ok in runner.answered.items() if pid.startswith(check.check_id + "/")]
    if written is None:
        # a person grades it: every finding of the task helps
        return _manual(check, [NOT_WRITTEN, *reading.mistakes])
    findings = reading.mistakes_for(check.check_id)
    unread = _unread_formulas(written, runner.answers)
    if unread:
        # a formula is there but not read: its values at the point alone must not earn the
        # general part (the check core would leave the unanswered cases out)
        return _manual(
            check,
            [
                f"Your formula for {unread} could not be read; a person will grade `{check.name}`.",
                *findings,
            ],
        )
    if proof and check.passed and _only_stated(check.check_id, reading):
        # the claim restated is no proof of it: a person grades what the text does
        return _manual(
            check,
            [
                "Your text states the result but derives nothing: a proof must show the "
                "steps. A person will grade it.",
                *findings,
            ],
        )
    if any(asked) and not check.undetermined:
        # the cases the text answers are scored; those it cannot answer (a random network)
        # are not (the check core leaves them out)
        return _with_steps(check, findings, written.step_cost, written.max_step_cost)
    return _manual(
        check,
        [
            f"Nothing `{check.name}` needs could be read from your text; a person will grade it.",
            *findings,
        ],
    )


def _unread_formulas(written: object, answers: Mapping[str, Answerable]) -> str:
    """The names whose ``values`` answer is read at the point but whose formula the text may
    hold in a form not read (empty when there is none)."""
    names = []
    for name in getattr(written, "answers", {}):
        entry = answers.get(name)
        answer = entry.answer if entry is not None else None
        if answer is None or answer.form != "values" or not answer.found:
            continue
        absent = answer.formula_absent or (False,) * len(answer.formulas)
        if any(f is None and not a for f, a in zip(answer.formulas, absent, strict=True)):
            names.append(f"`{name}`")
    return ", ".join(names)


def _with_read(check: CheckResult, spec: object, answers: Mapping[str, Answerable]) -> CheckResult:
    """Say what was read for each name the check asks for (or that it was not found)."""
    written = getattr(spec, "written", None)
    if written is None:
        return check
    lines = [read_line(name, answers.get(name)) for name in written.answers]
    return replace(check, feedback=(*check.feedback, *lines))


def _with_steps(
    check: CheckResult, findings: list[str], step_cost: float, max_step_cost: float
) -> CheckResult:
    if not findings:
        return check
    if not check.passed:
        return replace(check, feedback=(*check.feedback, *findings))
    fraction = min(step_cost * len(findings), max_step_cost)
    cost = round(check.max_points * fraction, 6)
    if cost <= 0:
        return replace(check, feedback=(*check.feedback, *findings))
    steps = "step does" if len(findings) == 1 else "steps do"
    note = (
        f"Your final answer is right, but {len(findings)} {steps} not hold in your derivation: "
        f"−{cost:g} point(s)."
    )
    return replace(
        check,
        points=round(check.points - cost, 6),
        passed=False,
        feedback=(*check.feedback, note, *findings),
    )


def _manual(check: CheckResult, feedback: list[str]) -> CheckResult:
    return replace(
        check,
        points=0.0,
        passed=False,
        feedback=tuple(dict.fromkeys(feedback)),
        method="manual",
        undetermined=True,
        error=None,
    )


# ------------------------------------------------------------------ unreadable documents
def _unread(
    sheet: LoadedSheet, path: Path, problem: DocumentProblem, options: GradeOptions, name: str
) -> SubmissionResult:
    """A document we do not read: empty (nothing earned), binary (an error, as a file that
    does not import), or too large for our budgets (a person grades it, nothing lost)."""
    message = problem.message[0].upper() + problem.message[1:] + "."
    tasks = every_check(
        sheet,
        name,
        options,
        lambda c: c.result(
            fraction=0.0,
            feedback=[message],
            method="manual" if problem.kind == "too_large" else "",
            error="import" if problem.kind == "binary" else None,
            undetermined=problem.kind == "too_large",
        ),
    )
    return WrittenResult(
        submission=name,
        sheet=sheet.id,
        authors=(Author(path.stem),),
        tasks=tasks,
        import_error=None if problem.kind == "too_large" else problem.message,
        notes=(problem.message,) if problem.kind == "too_large" else (),
    )
