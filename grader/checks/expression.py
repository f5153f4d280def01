"""Kind ``expression``: a function whose formula must equal a reference formula.

The student's callable is first called with sympy symbols; an expression
that comes back is judged symbolically by the judgement engine (proof, or
refutation with a witness). A callable that only works on numbers is judged
numerically at sample points against the lambdified reference. The feedback
says which was done.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Any, Literal

import mpmath
import numpy as np
import sympy
from pydantic import Field

from grader.checks.answers import WrongType, as_array, as_expr
from grader.checks.base import Check, Trial, describe_error
from grader.checks.format import fmt, fmt_pair
from grader.checks.verdict import Part, check_verdict, waiting_result
from grader.judge.equivalence import Equivalence, equivalent
from grader.judge.modes import MODES, compare
from grader.results import CaseResult, CheckResult, Mistake
from grader.sandbox.protocol import Expr, Outcome, Symbol
from grader.sheet.common import CheckSpec, Domain
from grader.sheet.context import SpecError, symbol_for


class ExpressionSpec(CheckSpec):
    kind: Literal["expression"]
    #: the reference formula, in sympy syntax; may call the sheet's definitions
    reference: str
    #: the function's parameters, in order
    args: list[str] = ["x"]
    #: domain of each parameter (default: the sheet's, else real)
    domains: dict[str, Domain] = {}
    #: the answer test (judge.modes): equal, additive_constant, positive_factor, …
    mode: str = "equal"
    rtol: Annotated[float, Field(gt=0, lt=1)] = 1e-9
    #: where numbers-only answers are sampled, per parameter
    sample: tuple[float, float] = (-6.0, 6.0)
    points: Annotated[float, Field(gt=0)]
    samples: Annotated[int, Field(ge=3, le=200)] = 24


class ExpressionCheck(Check[ExpressionSpec]):
    kind = "expression"
    Spec = ExpressionSpec

    def prepare(self) -> None:
        spec = self.spec
        if spec.mode not in MODES:
            raise SpecError(
                "mode", f"unknown mode {spec.mode!r}; known: {', '.join(sorted(MODES))}"
            )
        self.domains: dict[str, Domain] = {
            a: spec.domains.get(a, self.ctx.domains.get(a, "real")) for a in spec.args
        }
        self.symbols = {a: symbol_for(a, self.domains[a]) for a in spec.args}
        self.reference = self.ctx.parse(spec.reference, "reference", extra=self.symbols)
        unknown = self.reference.free_symbols - set(self.symbols.values())
        if unknown:
            names = ", ".join(sorted(map(str, unknown)))
            raise SpecError("reference", f"uses {names}, which are not among args {spec.args}")
        self.mistake_exprs = []
        for i, m in enumerate(spec.mistakes):
            if m.expr is None:
                raise SpecError(("mistakes", i, "expr"), "an expression mistake needs `expr`")
            self.mistake_exprs.append(
                self.ctx.parse(m.expr, ("mistakes", i, "expr"), extra=self.symbols)
            )
        args = [self.symbols[a] for a in spec.args]
        self.numeric_reference = sympy.lambdify(args, self.reference, modules="mpmath")
        self.numeric_mistakes = [
            sympy.lambdify(args, e, modules="mpmath") for e in self.mistake_exprs
        ]
        # Judgement is a pure function of the answer's text: a class repeats answers.
        self._verdicts: dict[str, CheckResult] = {}

    @functools.cached_property
    def reference_mathml(self) -> str | None:
        # on first use: MathML printing imports xml.dom, which sheet loading should not pay
        return _mathml(self.reference)

    def _draw(self, rng: np.random.Generator) -> np.ndarray:
        lo, hi = self.spec.sample
        pts = rng.uniform(lo, hi, size=(self.spec.samples, len(self.spec.args)))
        for j, a in enumerate(self.spec.args):
            dom = self.domains[a]
            if dom == "positive_integer":
                # drawn as whole numbers from 1 up: 0 is not a positive integer
                pts[:, j] = np.maximum(np.round(np.abs(pts[:, j])), 1.0)
            elif dom == "positive":
                pts[:, j] = np.abs(pts[:, j]) + 0.1
            elif dom == "nonnegative":
                pts[:, j] = np.abs(pts[:, j])
            elif isinstance(dom, tuple):
                pts[:, j] = rng.uniform(max(dom[0], lo), min(dom[1], hi), size=len(pts))
            if dom in ("integer", "positive_integer"):
                pts[:, j] = np.round(pts[:, j])
        return pts

    def skeleton(self) -> str:
        return f"def {self.spec.name}({', '.join(self.spec.args)}):"

    def trial(self, rng: np.random.Generator) -> Trial:
        pts = self._draw(rng)
        symbolic = self.probe(
            "symbolic", args=[Symbol(a, _assumptions(self.domains[a])) for a in self.spec.args]
        )
        vector = self.probe("numeric", args=[pts[:, j].copy() for j in range(pts.shape[1])])
        scalar = [
            self.probe(f"at{i}", args=[float(v) for v in row]) for i, row in enumerate(pts[:6])
        ]
        # a formula may also be handed in as a string: SIGMOID_DERIVATIVE = "sigma(x)*(1-sigma(x))"
        constant = self.probe("constant", op="value")
        probes = (symbolic, vector, *scalar, constant)

        def judge(outcomes: Mapping[str, Outcome]) -> CheckResult:
            sym = outcomes[symbolic.id]
            if sym.error is not None and sym.error.kind == "not_callable":
                text = outcomes[constant.id]
                if text.ok and isinstance(text.value, (str, Expr)):
                    return self._judge_symbolic(text.value)
            if sym.ok and _formula_like(sym.value):
                return self._judge_symbolic(sym.value)
            numeric = self._judge_numeric(
                pts, outcomes[vector.id], [outcomes[p.id] for p in scalar]
            )
            if numeric is not None:
                return numeric
            # Neither worked: report the first failure the student can act on.
            if sym.ok:
                return self._judge_symbolic(sym.value)  # names the wrong type
            return self.error_result(outcomes[vector.id] if not outcomes[vector.id].ok else sym)

        return Trial(probes, judge)

    # ------------------------------------------------------------- symbolic
    def _judge_symbolic(self, value: Any) -> CheckResult:
        key = value.text if isinstance(value, Expr) else f"{type(value).__name__}:{value!r}"[:2000]
        cached = self._verdicts.get(key)
        if cached is not None:
            return cached
        result = self._judge_symbolic_uncached(value)
        if len(self._verdicts) < 10_000:
            self._verdicts[key] = result
        return result

    def _judge_symbolic_uncached(self, value: Any) -> CheckResult:
        label = "your formula"
        try:
            given = as_expr(value, self.symbols, f"`{self.spec.name}`", self.ctx.functions)
        except WrongType as exc:
            case = CaseResult(label, "formula", False, note=f"{exc}.")
            return check_verdict(self, [Part("formula", 1.0, "the formula", (case,))],
                                 method="symbolic")
        verdict = compare(
            given,
            self.reference,
            mode=self.spec.mode,
            domains=self._domain_names(),
            rtol=self.spec.rtol,
        )
        mathml = dict(expected_mathml=self.reference_mathml, given_mathml=_mathml(given))
        shown = dict(expected=self.spec.reference, given=sympy.sstr(given))
        if verdict.verdict == "undetermined":
            reason = (
                f"The grader could not decide whether {self.title} equals the expected formula "
                f"({verdict.explanation})"
            )
            return waiting_result(self, reason, "symbolic", **shown, **mathml)
        ok = verdict.verdict == "equal"
        named = [] if ok else self._named_mistakes_symbolic(given)
        case = CaseResult(label, "formula", ok, mistake=named[0] if named else None, **shown)
        if ok:
            success = f"{self.title} is right: {verdict.method} (judged symbolically)."
            notes: list[str] = []
        else:
            success = None
            notes = [m.message for m in named[1:]] or (
                [] if named else [f"{self.title} is not the expected formula."]
            )
            notes.append(f"It differs from the expected formula: {verdict.explanation}.")
        result = check_verdict(
            self,
            [Part("formula", 1.0, "the formula", (case,))],
            method="symbolic",
            success=success,
            notes=notes,
        )
        if self.spec.hidden:
            return result
        return replace(
            result,
            witness=None if ok else verdict.explanation,
            expected_mathml=mathml["expected_mathml"],
            given_mathml=mathml["given_mathml"],
        )

    def _named_mistakes_symbolic(self, given: sympy.Expr) -> list[Mistake]:
        named = []
        for i, expr in enumerate(self.mistake_exprs):
            if equivalent(given, expr, domains=self._domain_names(), rtol=self.spec.rtol):
                named.append(self.mistake(i))
        return named

    def _domain_names(self) -> dict[str, Domain]:
        return dict(self.domains)

    # -------------------------------------------------------------- numeric
    def _judge_numeric(
        self, pts: np.ndarray, vector: Outcome, scalars: list[Outcome]
    ) -> CheckResult | None:
        name = f"`{self.spec.name}`"
        if vector.ok:
            try:
                ys = as_array(vector.value, name)
            except WrongType as exc:
                return self._numeric_failure(f"{exc}.")
            if ys.shape != (len(pts),):
                return self._numeric_failure(
                    f"{name} called on an array of {len(pts)} numbers returned shape "
                    f"{ys.shape}; it should return one value per input."
                )
            xs, note = pts, "on arrays"
        elif scalars and all(o.ok for o in scalars):
            try:
                ys = np.array([as_array(o.value, name).reshape(()) for o in scalars])
            except (WrongType, ValueError) as exc:
                return self._numeric_failure(f"{exc}.")
            xs, note = pts[: len(scalars)], "one number at a time (it does not work on arrays)"
        else:
            return None
        expected = _at_points(self.numeric_reference, xs)
        alternatives = [_at_points(f, xs) for f in self.numeric_mistakes]
        cases = tuple(self._point(xs[k], ys[k], expected[k], [a[k] for a in alternatives])
                      for k in range(len(xs)))  # fmt: skip
        how = (
            f"judged numerically at {len(xs)} points, {note}: "
            "your function does not accept sympy symbols"
        )
        return check_verdict(
            self,
            [Part("points", 1.0, "the points", cases, scoring="all")],
            method="numeric",
            success=f"{self.title} is right ({how}).",
            notes=[f"({how}.)"],
        )

    def _numeric_failure(self, note: str) -> CheckResult:
        case = CaseResult("the values", "points", False, note=note)
        return check_verdict(self, [Part("points", 1.0, "the points", (case,))], method="numeric")

    def _point(self, x: np.ndarray, y: float, expected: float, wrong: list[float]) -> CaseResult:
        label = ", ".join(f"{a} = {fmt(v, 4)}" for a, v in zip(self.spec.args, x, strict=True))
        ok = bool(np.isclose(y, expected, rtol=max(self.spec.rtol, 1e-7), atol=1e-12))
        mistake = None
        if not ok:
            for i, alt in enumerate(wrong):
                if np.isclose(y, alt, rtol=1e-7, atol=1e-12):
                    mistake = self.mistake(i)
                    break
        given, exp_text = fmt_pair(y, expected) if not ok else (fmt(y), fmt(expected))
        return CaseResult(label, "points", ok, expected=exp_text, given=given, mistake=mistake)


def _formula_like(value: Any) -> bool:
    """An answer that reads as a formula: an expression, a number, or text."""
    return isinstance(value, (Expr, int, float, str)) and not isinstance(value, bool)


def _at_points(f: Any, xs: np.ndarray) -> np.ndarray:
    """A lambdified (mpmath) formula at each row of points, at 30 digits: no cancellation
    in forms such as σ(x) − σ(x)² decides a verdict."""
    out = []
    with mpmath.workdps(30):
        for row in xs:
            try:
                out.append(float(f(*(mpmath.mpf(float(v)) for v in row))))
            except (TypeError, ValueError, ZeroDivisionError):
                out.append(float("nan"))  # complex or undefined: never equal to a real answer
    return np.array(out)


def _assumptions(domain: Domain) -> dict[str, bool]:
    s = symbol_for("t", domain)
    return {
        k: v
        for k, v in s.assumptions0.items()
        if k in ("real", "positive", "nonnegative", "integer")
    }


def _mathml(expr: sympy.Expr) -> str | None:
    try:
        return sympy.mathml(expr, printer="presentation")
    except Exception:  # noqa: BLE001 - printing is a courtesy, never a verdict
        return None


__all__ = ["ExpressionCheck", "ExpressionSpec", "Equivalence", "describe_error"]
