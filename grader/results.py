"""What grading produces: frozen results, and their JSON form (``result.json``)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["passed", "partial", "failed", "error", "manual"]

#: ``SubmissionResult.import_error`` of a hand-in with nothing in it (no statement)
EMPTY_FILE = "the file is empty"


@dataclass(frozen=True)
class Plot:
    """Sampled curves for a report picture: the answer against the reference."""

    title: str
    xs: tuple[float, ...]
    reference: tuple[float | None, ...]
    given: tuple[float | None, ...]
    #: x positions where the two differ beyond tolerance
    differs_at: tuple[float, ...] = ()


@dataclass(frozen=True)
class Mistake:
    """A named mistake a check recognised (from the sheet's list, or built in)."""

    key: str
    message: str


@dataclass(frozen=True)
class CaseResult:
    """The verdict on one case of a check: one call of the hand-in, one value, one item.

    Every check kind judges through these, so that scoring, hidden checks, error
    classification and feedback wording are decided in one place (``grader.checks.verdict``).
    """

    #: how the case is named in feedback ("random network 2", "x = 3.25")
    label: str
    #: the part of the check it belongs to ("given", "random", …)
    part: str
    ok: bool
    #: the case's inputs as shown to the student (empty for hidden checks)
    inputs: str = ""
    expected: str | None = None
    given: str | None = None
    #: where the answer differs ("entry [1, 0]", "item 2 (var)")
    where: str | None = None
    mistake: Mistake | None = None
    #: the hand-in crashed, timed out or broke a limit on this case
    error: str | None = None
    #: a sentence about this case when no values could be compared (error, wrong type)
    note: str | None = None
    #: this kind of hand-in cannot answer the case (a written answer has no such value):
    #: it is not scored, neither right nor wrong
    unanswerable: bool = False


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check on one hand-in."""

    check_id: str
    kind: str
    name: str
    points: float
    max_points: float
    passed: bool
    #: human sentences, safe to show to the student when ``hidden`` is false
    feedback: tuple[str, ...] = ()
    hidden: bool = False
    #: "symbolic", "numeric", "exact", "manual": how the answer was judged
    method: str = ""
    expected: str | None = None
    given: str | None = None
    #: MathML of the expected and given expression, where there is one
    expected_mathml: str | None = None
    given_mathml: str | None = None
    witness: str | None = None
    mistakes: tuple[Mistake, ...] = ()
    #: the hand-in crashed, timed out or broke a limit in this check
    error: str | None = None
    #: the judge could not decide: a person must look
    undetermined: bool = False
    plot: Plot | None = None
    #: the cases judged (empty for hidden checks)
    cases: tuple[CaseResult, ...] = ()
    #: those lines of ``feedback`` that say what is right (a property that holds, a part
    #: that passed): the report shows them, the terminal's "What to look at" leaves them out
    right: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        """Some of the points, not all: the report says "partly correct", not "not correct"."""
        return not self.passed and self.points > 1e-9

    def student_view(self) -> CheckResult:
        """What a student may see: hidden checks keep only their score and verdict.

        The error's *kind* stays ("timeout", "memory", …: the report heads the box with it);
        what the check tested, expected or saw does not.
        """
        if not self.hidden:
            return self
        if self.passed:
            note = "A hidden check passed."
        elif self.partial:
            note = "A hidden check gave part of its points."
        else:
            note = "A hidden check did not pass."
        return CheckResult(
            check_id=self.check_id,
            kind=self.kind,
            name=self.name,
            points=self.points,
            max_points=self.max_points,
            passed=self.passed,
            feedback=(note,),
            hidden=True,
            error=self.error,
        )


@dataclass(frozen=True)
class Override:
    """An instructor's score for an auto-graded task (``overrides.csv``), with the reason."""

    score: float
    reason: str
    #: what the automatic checks gave
    auto_score: float


@dataclass(frozen=True)
class TaskResult:
    task_id: str
    title: str
    score: float
    max_score: float
    status: Status
    checks: tuple[CheckResult, ...]
    #: free text shown to the instructor for manual tasks
    manual_answer: str | None = None
    #: the instructor changed the automatic score (``score`` is the override's)
    override: Override | None = None

    @property
    def feedback(self) -> tuple[str, ...]:
        lines: list[str] = []
        if self.override is not None:
            lines.append(f"Score changed by the instructor: {self.override.reason}")
        for check in self.checks:
            view = check.student_view()
            lines.extend(view.feedback)
        return tuple(dict.fromkeys(lines))

    @property
    def auto_graded(self) -> bool:
        return self.status != "manual"


@dataclass(frozen=True)
class Author:
    name: str
    id: str = ""


@dataclass(frozen=True)
class SubmissionResult:
    submission: str
    sheet: str
    authors: tuple[Author, ...]
    tasks: tuple[TaskResult, ...]
    #: why nothing could be run at all (the hand-in did not import), if so
    import_error: str | None = None
    output: str = ""
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: the roster id whose numbers the hand-in was graded with (None without a roster)
    variant: str | None = None
    #: for the instructor only: roster ids whose numbers some answers fit instead
    other_variants: tuple[str, ...] = ()

    @property
    def score(self) -> float:
        return _round(sum(t.score for t in self.tasks))

    @property
    def max_score(self) -> float:
        return _round(sum(t.max_score for t in self.tasks))

    @property
    def auto_max_score(self) -> float:
        return _round(sum(t.max_score for t in self.tasks if t.auto_graded))

    @property
    def auto_score(self) -> float:
        return _round(sum(t.score for t in self.tasks if t.auto_graded))

    def task(self, task_id: str) -> TaskResult:
        for t in self.tasks:
            if t.task_id == task_id:
                return t
        raise KeyError(task_id)

    def to_json(self) -> dict[str, Any]:
        """``result.json``: the contract's fields, then what a rerun needs to rebuild the
        result without grading again (answers to manual tasks, overrides, plots, MathML).
        Hidden checks are in their student view. The captured output is not here (it may
        echo hidden inputs): it is kept beside, for the instructor only."""
        data: dict[str, Any] = {
            "submission": self.submission,
            **({"variant": self.variant} if self.variant is not None else {}),
            "sheet": self.sheet,
            "authors": [{"name": a.name, "id": a.id} for a in self.authors],
            "score": self.score,
            "max_score": self.max_score,
            "tasks": [_task_json(t) for t in self.tasks],
            "import_error": self.import_error,
            "seconds": round(self.seconds, 3),
        }
        if self.notes:
            data["notes"] = list(self.notes)
        if self.other_variants:
            data["other_variants"] = list(self.other_variants)
        return data


def _task_json(t: TaskResult) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": t.task_id,
        "title": t.title,
        "score": t.score,
        "max_score": t.max_score,
        "status": t.status,
        "feedback": list(t.feedback),
        "checks": [_check_json(c.student_view()) for c in t.checks],
    }
    if t.manual_answer is not None:
        data["manual_answer"] = t.manual_answer
    if t.override is not None:
        data["override"] = {
            "score": t.override.score,
            "reason": t.override.reason,
            "auto_score": t.override.auto_score,
        }
    return data


def _check_json(c: CheckResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": c.check_id,
        "kind": c.kind,
        "name": c.name,
        "score": c.points,
        "max_score": c.max_points,
        "passed": c.passed,
        "hidden": c.hidden,
        "feedback": list(c.feedback),
    }
    for key in (
        "method",
        "expected",
        "given",
        "witness",
        "error",
        "expected_mathml",
        "given_mathml",
    ):
        value = getattr(c, key)
        if value:
            out[key] = value
    if c.mistakes:
        out["mistakes"] = [{"key": m.key, "message": m.message} for m in c.mistakes]
    if c.undetermined:
        out["undetermined"] = True
    if c.right:
        out["right"] = list(c.right)
    if c.plot is not None:
        out["plot"] = _plot_json(c.plot)
    return out


def _plot_json(p: Plot) -> dict[str, Any]:
    return {
        "title": p.title,
        "xs": [_finite_or_none(v) for v in p.xs],
        "reference": [_finite_or_none(v) for v in p.reference],
        "given": [_finite_or_none(v) for v in p.given],
        "differs_at": [_finite_or_none(v) for v in p.differs_at],
    }


def _finite_or_none(v: float | None) -> float | None:
    # JSON has no NaN or infinity; a gap in the curve is what the plot shows for them anyway
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _round(x: float) -> float:
    r = round(x, 6)
    return int(r) if r == int(r) else r


def task_status(checks: Sequence[CheckResult], score: float, max_score: float) -> Status:
    """The status of an auto-graded task from its checks' verdicts."""
    if score >= max_score - 1e-9:
        return "passed"
    if any(c.error for c in checks):
        return "error"
    if score <= 1e-9:
        return "failed"
    return "partial"


def authors_from(value: Any, fallback: str) -> tuple[Author, ...]:
    """Read a hand-in's ``AUTHORS`` (as decoded plain data) into authors."""
    authors: list[Author] = []
    items: Iterable[Any] = value if isinstance(value, (list, tuple)) else ()
    for item in items:
        if isinstance(item, str) and item.strip():
            authors.append(Author(item.strip()[:200]))
        elif isinstance(item, (list, tuple)) and item and isinstance(item[0], str):
            ident = item[1] if len(item) > 1 else ""
            authors.append(Author(item[0].strip()[:200], str(ident).strip()[:64]))
        elif isinstance(item, Mapping) and isinstance(item.get("name"), str):
            authors.append(Author(item["name"].strip()[:200], str(item.get("id", "")).strip()[:64]))
    return tuple(authors) or (Author(fallback),)
