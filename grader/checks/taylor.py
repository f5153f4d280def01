"""Kind ``taylor``: Taylor coefficients of a function, worked out by sympy's ``series``.

Exact answers (integers, fractions, sympy rationals) must be exactly right;
floats are accepted within a tolerance. A coefficient that equals the
derivative instead of derivative/k! is named as that mistake.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
import sympy
from pydantic import Field

from grader.cache import cached
from grader.checks.answers import WrongType, as_exact, as_sequence
from grader.checks.base import Check, Trial, describe_error, error_kind
from grader.checks.verdict import Part, check_verdict
from grader.results import CaseResult, CheckResult, Mistake
from grader.sandbox.protocol import Outcome
from grader.sheet.common import CheckSpec
from grader.sheet.context import SpecError


class TaylorSpec(CheckSpec):
    kind: Literal["taylor"]
    #: the function, a formula in `variable` (may call the sheet's definitions)
    function: str
    variable: str = "x"
    point: str = "0"
    #: coefficients of (x - point)^0 … ^order are asked for
    order: Annotated[int, Field(ge=0, le=30)] = 3
    rtol: Annotated[float, Field(gt=0, lt=1)] = 1e-9


class TaylorCheck(Check[TaylorSpec]):
    kind = "taylor"
    Spec = TaylorSpec

    def prepare(self) -> None:
        spec = self.spec
        x = self.ctx.symbol(spec.variable)
        f = self.ctx.parse(spec.function, "function", extra={spec.variable: x})
        a = self.ctx.parse(spec.point, "point")
        # `series` is slow (0.25 s for the sigmoid to order 3): cached on disk by its inputs
        self.coefficients = list(
            cached(
                "taylor.coefficients",
                [sympy.srepr(f), sympy.srepr(x), sympy.srepr(a), str(spec.order)],
                lambda: _coefficients(f, x, a, spec.order, spec.point),
                code=[__file__],
            )
        )
        for k, c in enumerate(self.coefficients):
            if c.free_symbols:
                raise SpecError("function", f"coefficient {k} is not a number: {c}")
        # a listed mistake is a wrong coefficient, as an expression in `ref` (the right one) and k
        self.mistake_values = []
        for i, m in enumerate(spec.mistakes):
            if m.expr is None:
                raise SpecError(("mistakes", i, "expr"), "give `expr`, in terms of `ref` and `k`")
            wrong = self.ctx.parse(m.expr, ("mistakes", i, "expr"), extra={"ref": _REF, "k": _K})
            if wrong.free_symbols - {_REF, _K}:
                raise SpecError(("mistakes", i, "expr"), "may use only `ref` and `k`")
            self.mistake_values.append(wrong)

    def skeleton(self) -> str:
        return f"{self.spec.name} = [{', '.join(['0'] * (self.spec.order + 1))}]"

    def trial(self, rng: np.random.Generator) -> Trial:
        probe = self.probe("value", op="value")
        return Trial((probe,), lambda outcomes: self._judge(outcomes[probe.id]))

    def _judge(self, outcome: Outcome) -> CheckResult:
        n = self.spec.order + 1
        name = f"`{self.spec.name}`"
        label = f"the coefficients of x^0 … x^{n - 1}"
        if outcome.error is not None:
            err = outcome.error
            case = CaseResult(label, "all", False, note=describe_error(self.spec.name, err),
                              error=error_kind(err), unanswerable=err.kind == "unanswerable")
            return check_verdict(self, [Part("all", 1.0, label, (case,))], method="exact")
        try:
            items = as_sequence(outcome.value, name)
            if len(items) < n:
                raise WrongType(f"{name} should list the {n} coefficients of x^0 … x^{n - 1}; "
                                f"it has {len(items)}")
        except WrongType as exc:
            case = CaseResult(label, "all", False, note=f"{exc}.", expected=self._expected_text)
            return check_verdict(self, [Part("all", 1.0, label, (case,))], method="exact")
        cases = tuple(self._coefficient(k, items[k]) for k in range(n))
        notes = [f"(Only the first {n} coefficients were graded.)"] if len(items) > n else []
        return check_verdict(
            self,
            [Part("all", 1.0, f"all {n} Taylor coefficients", cases)],
            method="exact",
            success=f"All {n} Taylor coefficients are right.",
            notes=notes,
        )

    @property
    def _expected_text(self) -> str:
        return "[" + ", ".join(sympy.sstr(c) for c in self.coefficients) + "]"

    def _coefficient(self, k: int, item: object) -> CaseResult:
        label = f"the coefficient of x^{k}"
        expected = self.coefficients[k]
        try:
            c = as_exact(item, label)
        except WrongType as exc:
            return CaseResult(label, "all", False, note=f"{exc}.", expected=sympy.sstr(expected))
        shown = dict(expected=sympy.sstr(expected), given=sympy.sstr(c))
        if _same(c, expected, self.spec.rtol):
            return CaseResult(label, "all", True, **shown)
        return CaseResult(label, "all", False, mistake=self._named(k, c, expected), **shown)

    def _named(self, k: int, c: sympy.Expr, expected: sympy.Expr) -> Mistake | None:
        for i, wrong in enumerate(self.mistake_values):
            if _same(c, wrong.subs({_REF: expected, _K: k}), self.spec.rtol):
                return self.mistake(i)
        factorial = math.factorial(k)
        if k >= 2 and expected != 0 and _same(c, expected * factorial, self.spec.rtol):
            return Mistake(
                f"{self.check_id}:factorial",
                f"The coefficient of x^{k} is {sympy.sstr(expected)}; {sympy.sstr(c)} is "
                f"f⁽{k}⁾(0), the derivative itself, not divided by {k}! = {factorial}. "
                + _FACTORIAL,
            )
        return None


def _coefficients(
    f: sympy.Expr, x: sympy.Symbol, a: sympy.Expr, order: int, point: str
) -> list[sympy.Expr]:
    """The coefficients of (x - a)^0 … ^order of the Taylor series of ``f`` at ``a``."""
    try:
        series = sympy.series(f, x, a, order + 1).removeO()
    except Exception as exc:  # noqa: BLE001 - sympy raises many kinds here
        raise SpecError("function", f"sympy could not expand it at {point}: {exc}") from exc
    poly = sympy.expand(series.subs(x, x + a)) if a != 0 else sympy.expand(series)
    return [sympy.nsimplify(poly.coeff(x, k)) for k in range(order + 1)]


_REF, _K = sympy.Symbol("ref"), sympy.Symbol("k", integer=True, nonnegative=True)
_FACTORIAL = "A Taylor coefficient is f⁽ᵏ⁾(0)/k!: you gave the derivative without dividing by k!."


def _same(given: sympy.Expr, expected: sympy.Expr, rtol: float) -> bool:
    if given.is_Rational and expected.is_Rational:
        return bool(given == expected)
    from grader.judge.evaluate import EvaluationError, numeric_value

    try:
        g, e = numeric_value(given, 30), numeric_value(expected, 30)
    except EvaluationError:
        return False
    return abs(g - e) <= rtol * max(abs(e), 1e-300) or abs(g - e) <= 1e-15
