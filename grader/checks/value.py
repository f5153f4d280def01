"""Kind ``value``: a constant the hand-in defines (a number, an integer, a vector, a matrix,
an exact fraction, a tuple of these, or a string read as math, LaTeX included).

The reference is a case formula over the sheet's given data (``argmax(forward(x, W1, b1, W2,
b2))`` with ``given: net``), or an exact number in sympy syntax with ``answer: exact``
(``log(2)``, ``1/8``). Mistakes are formulas too (``ref + 1``: classes counted from 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import numpy as np
import sympy
from pydantic import Field

from grader.calc import Formula, Tolerance
from grader.checks.base import Check, Trial, describe_error, error_kind
from grader.checks.cases import Case, Unsolvable
from grader.checks.compare import compare, same
from grader.checks.format import fmt
from grader.checks.solving import Evaluator, Solver, make_evaluator, mistake_rules, normalise
from grader.checks.verdict import Part, check_verdict
from grader.results import CaseResult, CheckResult
from grader.sandbox.protocol import Outcome
from grader.sheet.common import CheckSpec
from grader.sheet.context import SpecError


class ValueSpec(CheckSpec):
    kind: Literal["value"]
    #: a formula over the given data, or (answer: exact) an exact number in sympy syntax
    reference: str | int | float
    #: the sheet's given data whose items the formula names (``given: net`` → x, W1, …)
    given: str | None = None
    answer: Literal["auto", "integer", "exact"] = "auto"
    items: list[str] = []
    rtol: Annotated[float, Field(ge=0, lt=1)] = 1e-9
    atol: Annotated[float, Field(ge=0)] = 1e-12


class ValueCheck(Check[ValueSpec]):
    kind = "value"
    Spec = ValueSpec

    def prepare(self) -> None:
        spec, ctx = self.spec, self.ctx
        self.tolerance = Tolerance(spec.rtol, spec.atol)
        self.values = self._given()
        names = list(self.values)
        rules = mistake_rules(ctx, spec.mistakes, names, spec.items, behaviours=())
        self.rules = rules
        self.reference_formula: Formula | None = None
        if spec.answer == "exact":
            expected: Any = ctx.parse(spec.reference, "reference")
            if expected.free_symbols:
                raise SpecError("reference", f"an exact value has no symbols: {expected}")
            constant = Evaluator(None, lambda: expected, ())
            case = Solver(ctx, constant, rules, self.tolerance).solve(Case("value", "value", {}))
        else:
            reference = make_evaluator(ctx, str(spec.reference), "reference", names)
            self.reference_formula = reference.formula
            solver = Solver(ctx, reference, rules, self.tolerance)
            try:
                case = solver.solve(Case("value", "the value", self.values))
            except Unsolvable as exc:
                raise SpecError("reference", f"the reference cannot be worked out: {exc}") from None
        if spec.answer == "integer" and not _integral(case.expected):
            raise SpecError("reference", f"the reference {fmt(case.expected)} is not whole")
        self.case = case

    def _given(self) -> dict[str, Any]:
        if self.spec.given is None:
            return {}
        try:
            data = self.ctx.given_value(self.spec.given)
        except KeyError:
            known = ", ".join(self.ctx.given) or "none"
            raise SpecError(
                "given", f"no given data {self.spec.given!r} (known: {known})"
            ) from None
        if not isinstance(data, Mapping):
            return {self.spec.given.split(".")[-1]: data}
        from grader.generators import as_data

        return {k: as_data(v) for k, v in data.items()}

    def skeleton(self) -> str:
        return f"{self.spec.name} = None"

    def given_expectations(self) -> dict[tuple[str, int], str]:
        return {("value", 0): fmt(self.case.expected)}

    def given_data(self) -> list[str]:
        own = [self.spec.given] if self.spec.given else []
        formula = self.reference_formula
        used = set(formula.variables) & set(self.ctx.given) if formula is not None else set()
        return own + sorted(used)

    def trial(self, rng: np.random.Generator) -> Trial:
        probe = self.probe("value", op="value")
        return Trial((probe,), lambda outcomes: self._judge(outcomes[probe.id]))

    def _judge(self, outcome: Outcome) -> CheckResult:
        return check_verdict(
            self,
            [Part("value", 1.0, "the value", (self._case(outcome),))],
            method="exact" if self.spec.answer != "auto" else "numeric",
        )

    def _case(self, outcome: Outcome) -> CaseResult:
        label = f"`{self.spec.name}`"
        if outcome.error is not None:
            err = outcome.error
            if err.kind == "unanswerable":
                return CaseResult(label, "value", False, unanswerable=True, note=err.message)
            note = describe_error(self.spec.name, err)
            return CaseResult(label, "value", False, note=note, error=error_kind(err))
        expected = self.case.expected
        cmp = compare(
            outcome.value,
            expected,
            self.tolerance,
            what=label,
            exact=self.spec.answer == "exact",
            integer=self.spec.answer == "integer",
            items=self.spec.items,
        )
        if cmp.value is None:
            return CaseResult(label, "value", False, note=cmp.note, expected=cmp.expected_text)
        if cmp.undecided:
            return CaseResult(label, "value", False, note=cmp.note, unanswerable=True)
        mistake = None
        if not cmp.ok:
            for index, wrong in self.case.mistakes.items():
                if same(cmp.value, wrong, self.tolerance)[0]:
                    mistake = self.mistake(index)
                    break
        return CaseResult(
            label, "value", cmp.ok, expected=cmp.expected_text, given=cmp.given_text,
            where=cmp.where, mistake=_filled(mistake, cmp.given_text, cmp.expected_text),
        )  # fmt: skip


def _integral(value: Any) -> bool:
    value = normalise(value)
    if isinstance(value, sympy.Basic):
        return bool(value.is_integer)
    try:
        return bool(np.all(np.asarray(value, dtype=float) % 1 == 0))
    except (TypeError, ValueError):
        return False


def _filled(mistake: Any, given: str | None, expected: str) -> Any:
    """A mistake's message may say ``{given}`` and ``{expected}``."""
    if mistake is None or "{" not in mistake.message:
        return mistake
    from dataclasses import replace

    text = mistake.message.replace("{given}", given or "?").replace("{expected}", expected)
    return replace(mistake, message=text)
