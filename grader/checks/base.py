"""The shape of a check kind.

A check is built once per sheet: its constructor runs the reference solver
for everything that does not depend on a random instance, and raises
``SpecError`` (with the field) when the sheet cannot be solved. For each
hand-in, ``trial(rng)`` draws that hand-in's random instance and returns the
probes to ask the sandbox plus the function that judges their outcomes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np

from grader.checks.format import fmt
from grader.results import CaseResult, CheckResult, Mistake, Plot
from grader.sandbox.protocol import Outcome, Probe, ProbeError
from grader.sheet.common import CheckSpec
from grader.sheet.context import SheetContext

SpecT = TypeVar("SpecT", bound=CheckSpec)


@dataclass(frozen=True)
class Trial:
    probes: tuple[Probe, ...]
    judge: Callable[[Mapping[str, Outcome]], CheckResult]


class Check(ABC, Generic[SpecT]):
    kind: ClassVar[str]
    Spec: ClassVar[type[CheckSpec]]

    def __init__(self, spec: SpecT, ctx: SheetContext, *, check_id: str) -> None:
        self.spec = spec
        self.ctx = ctx
        self.check_id = check_id
        self.prepare()

    def prepare(self) -> None:
        """Compute the reference answers that every hand-in shares."""

    def skeleton(self) -> str:
        """How the name looks in a hand-in skeleton (`grader template`)."""
        return f"def {self.spec.name}(*args):"

    def given_expectations(self) -> dict[tuple[str, int], str]:
        """The expected answers on the sheet's given data, as feedback shows them, by place
        (part, position): to tell a student whose answers fit another variant's numbers."""
        return {}

    def given_data(self) -> list[str]:
        """Names of the sheet's `given:` data this check asks about (shown in templates)."""
        return []

    def lint(self) -> list[str]:
        """Warnings about the sheet that do not stop it from grading (`grader validate`)."""
        return []

    @abstractmethod
    def trial(self, rng: np.random.Generator) -> Trial:
        """The probes for one hand-in and how to judge their outcomes."""

    # ---------------------------------------------------------------- helpers
    @property
    def title(self) -> str:
        return self.spec.title or f"`{self.spec.name}`"

    def probe(
        self,
        suffix: str | int,
        *,
        args: Sequence[Any] = (),
        op: str = "call",
        name: str | None = None,
    ) -> Probe:
        return Probe(
            id=f"{self.check_id}/{suffix}",
            name=name or self.spec.name,
            op=op,  # type: ignore[arg-type]
            args=tuple(args),
            timeout=self.spec.timeout,
            hidden=self.spec.hidden,
        )

    def result(
        self,
        *,
        fraction: float,
        feedback: Sequence[str] = (),
        method: str = "",
        expected: str | None = None,
        given: str | None = None,
        witness: str | None = None,
        mistakes: Sequence[Mistake] = (),
        error: str | None = None,
        undetermined: bool = False,
        plot: Plot | None = None,
        expected_mathml: str | None = None,
        given_mathml: str | None = None,
        cases: Sequence[CaseResult] = (),
        right: Sequence[str] = (),
    ) -> CheckResult:
        fraction = min(max(fraction, 0.0), 1.0)
        return CheckResult(
            check_id=self.check_id,
            kind=self.kind,
            name=self.spec.name,
            points=round(self.spec.points * fraction, 6),
            max_points=self.spec.points,
            passed=fraction >= 1.0 - 1e-12,
            feedback=tuple(feedback),
            hidden=self.spec.hidden,
            method=method,
            expected=None if self.spec.hidden or not self.spec.show_expected else expected,
            given=None if self.spec.hidden else given,
            witness=None if self.spec.hidden else witness,
            mistakes=tuple(mistakes),
            error=error,
            undetermined=undetermined,
            plot=None if self.spec.hidden else plot,
            expected_mathml=None if self.spec.hidden else expected_mathml,
            given_mathml=None if self.spec.hidden else given_mathml,
            cases=() if self.spec.hidden else tuple(cases),
            right=tuple(right),
        )

    def error_result(self, outcome: Outcome, *, what: str | None = None) -> CheckResult:
        """The verdict when the hand-in gave no answer at all (it raised, timed out, …)."""
        from grader.checks.verdict import Part, check_verdict

        assert outcome.error is not None
        err = outcome.error
        case = CaseResult(
            f"`{what or self.spec.name}`",
            "answer",
            False,
            note=describe_error(what or self.spec.name, err),
            error=error_kind(err),
            unanswerable=err.kind == "unanswerable",
        )
        return check_verdict(self, [Part("answer", 1.0, "the answer", (case,))], method="")

    def mistake(self, index: int) -> Mistake:
        m = self.spec.mistakes[index]
        return Mistake(m.key or f"{self.check_id}:{index}", m.message)


def describe_error(name: str, err: ProbeError) -> str:
    """The student's view of what went wrong while running their code."""
    where = f" (line {err.line} of your file)" if err.line else ""
    subject = f"`{name}`"
    match err.kind:
        case "missing":
            return f"{subject} is not defined in your file."
        case "not_callable":
            what = err.message.split(", ", 1)[0].replace(f"`{name}` is", "it is")
            return f"{subject} should be a function: {what}."
        case "exception":
            return f"{subject} raised {err.message}{where}."
        case "timeout":
            return f"{subject} {err.message}{where}: an endless loop, or too slow? It was stopped."
        case "memory":
            return f"{subject} ran out of memory{where}: {err.message}."
        case "output":
            return f"{subject} {err.message}."
        case "crashed":
            return f"Running {subject}: {err.message}."
        case "import":
            return f"Your file could not be imported: {err.message}."
        case "unanswerable":
            return f"{subject}: {err.message}."
        case "bad_value":
            return f"{subject} returned an answer the grader cannot read: {err.message}."
        case _:
            return f"{subject} could not be run: {err.message}."


#: the hand-in crashed, timed out or broke a limit: the check's status is `error`
ERROR_KINDS = frozenset(
    {"exception", "timeout", "memory", "output", "crashed", "import", "sandbox"}
)


def error_kind(err: ProbeError) -> str | None:
    """The error a failed call counts as, or None when it is a plain wrong answer."""
    return err.kind if err.kind in ERROR_KINDS else None


__all__ = ["Check", "Trial", "describe_error", "error_kind", "fmt"]
