"""Kind ``function``: a numeric function against a reference, and its properties.

Values are compared at sampled and edge inputs (vectorised over numpy
arrays when the sheet asks for it); NaN, infinities and numpy warnings
(overflow) are caught. Properties are relations in ``f`` written in the
sheet, such as ``f(x) + f(-x) = 1`` or ``f(x) > 0``: the grader finds every
application of ``f``, asks the hand-in for those values, and checks the
relation at each sample. The reference function must satisfy every property
(``grader validate`` proves the sheet consistent).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

import mpmath
import numpy as np
import sympy
from pydantic import Field

from grader.checks.answers import WrongType, as_array
from grader.checks.base import Check, Trial, fmt
from grader.results import CheckResult, Mistake, Plot
from grader.sandbox.protocol import Outcome, Probe
from grader.sheet.common import CheckSpec, Model
from grader.sheet.context import SpecError
from grader.solver.numpy_functions import lambdify

_RELATION = re.compile(r"^(.*?)(<=|>=|==|=|<|>)(.*)$")


class PropertySpec(Model):
    #: a relation in f, e.g. "f(x) + f(-x) = 1", "f(x) > 0", "f(0) = 1/4"
    holds: str
    #: where x is sampled; omitted for relations without x
    over: tuple[float, float] | None = None
    message: str
    weight: Annotated[float, Field(gt=0)] = 1.0
    atol: Annotated[float, Field(ge=0)] = 1e-9
    samples: Annotated[int, Field(ge=1, le=500)] = 40


class FunctionSpec(CheckSpec):
    kind: Literal["function"]
    #: the reference, a formula in x (may call the sheet's definitions);
    #: omit it to check properties only
    reference: str | None = None
    #: where values are compared
    sample: tuple[float, float] = (-10.0, 10.0)
    samples: Annotated[int, Field(ge=1, le=500)] = 40
    #: inputs that trip naive implementations (overflow, cancellation)
    edge: list[float] = []
    vectorised: bool = True
    rtol: Annotated[float, Field(gt=0, lt=1)] = 1e-7
    atol: Annotated[float, Field(ge=0)] = 1e-12
    #: share of the points for matching the reference (the rest goes to properties)
    values_weight: Annotated[float, Field(ge=0)] = 1.0
    #: numpy warnings (overflow…) and NaN/inf count as wrong
    strict: bool = True
    properties: list[PropertySpec] = []
    plot: tuple[float, float] | None = None


@dataclass(frozen=True)
class _Property:
    spec: PropertySpec
    op: str
    #: the arguments f is applied to, as numpy functions of x
    applications: tuple[Callable[[np.ndarray], np.ndarray], ...]
    #: both sides as numpy functions of x and the values of f at each application
    lhs: Callable[..., np.ndarray]
    rhs: Callable[..., np.ndarray]


#: points per check where the reference is worked out once per sheet (in high precision);
#: each hand-in is judged at its own random draw from them
POOL_SIZE = 256
#: digits for the reference values: no cancellation in forms like σ(x)(1 − σ(x)) at x = 30
REFERENCE_DIGITS = 30


class FunctionCheck(Check[FunctionSpec]):
    kind = "function"
    Spec = FunctionSpec

    def prepare(self) -> None:
        spec = self.spec
        self.x = self.ctx.symbol("x")
        self.f = sympy.Function("f")
        self.reference = None
        if spec.reference is not None:
            expr = self.ctx.parse(spec.reference, "reference", extra={"x": self.x})
            self.reference = sympy.lambdify(self.x, expr, modules="mpmath")
        elif spec.values_weight > 0 and not spec.properties:
            raise SpecError("reference", "a function check needs a reference or properties")
        self.properties = [self._property(i, p) for i, p in enumerate(spec.properties)]
        #: mistakes recognised by their values: index -> the mistaken formula, lambdified
        self.mistake_formulas: dict[int, Callable[[object], object]] = {}
        for m, mistake in enumerate(spec.mistakes):
            if mistake.expr is not None:
                wrong = self.ctx.parse(mistake.expr, ("mistakes", m, "expr"), extra={"x": self.x})
                self.mistake_formulas[m] = sympy.lambdify(self.x, wrong, modules="mpmath")
            elif mistake.key not in _BEHAVIOURS:
                raise SpecError(
                    ("mistakes", m, "key"),
                    "a function mistake gives `expr` or names a behaviour: one of "
                    + ", ".join(_BEHAVIOURS),
                )
        if self.reference is not None:
            for i, prop in enumerate(self.properties):
                ok, detail = self._holds(prop, self._reference_values, np.random.default_rng(0))
                if not ok:
                    raise SpecError(
                        ("properties", i, "holds"), f"the reference does not satisfy it: {detail}"
                    )
        self._prepare_pool()

    def _prepare_pool(self) -> None:
        """The reference (and each mistaken formula) at every point a hand-in may be asked."""
        seed = int.from_bytes(
            hashlib.sha256(f"{self.ctx.seed}:{self.check_id}".encode()).digest()[:8], "little"
        )
        lo, hi = self.spec.sample
        self.pool_xs = np.random.default_rng(seed).uniform(lo, hi, POOL_SIZE)
        self.edge_xs = np.array(self.spec.edge, dtype=float)
        self.plot_xs = (
            np.linspace(*self.spec.plot, 161) if self.spec.plot and self.reference else np.zeros(0)
        )
        if self.reference is None:
            self.pool_ref = self.edge_ref = self.plot_ref = np.zeros(0)
            self.pool_mistakes: dict[int, np.ndarray] = {}
            self.edge_mistakes: dict[int, np.ndarray] = {}
            return
        self.pool_ref = self._reference_values(self.pool_xs)
        self.edge_ref = self._reference_values(self.edge_xs)
        self.plot_ref = self._reference_values(self.plot_xs)
        self.pool_mistakes = {
            m: _evaluate_precisely(f, self.pool_xs) for m, f in self.mistake_formulas.items()
        }
        self.edge_mistakes = {
            m: _evaluate_precisely(f, self.edge_xs) for m, f in self.mistake_formulas.items()
        }

    def _property(self, i: int, p: PropertySpec) -> _Property:
        m = _RELATION.match(p.holds.replace("==", "="))
        if not m:
            raise SpecError(
                ("properties", i, "holds"), "write a relation such as `f(x) + f(-x) = 1`"
            )
        left, op, right = m.groups()
        where = ("properties", i, "holds")
        functions = {**self.ctx.functions}
        extra = {"x": self.x}
        lhs = self._parse_relation_side(left, where, extra, functions)
        rhs = self._parse_relation_side(right, where, extra, functions)
        apps = tuple(
            sorted(
                {a.args[0] for a in (lhs - rhs).atoms(sympy.Function) if a.func == self.f}, key=str
            )
        )
        if not apps:
            raise SpecError(where, "the relation does not mention f")
        if any(a.free_symbols for a in apps) and p.over is None:
            raise SpecError(
                ("properties", i, "over"), "give the range `over: [lo, hi]` that x is sampled from"
            )
        placeholders = sympy.symbols(f"_f0:{len(apps)}")
        values_of_f = {self.f(a): ph for a, ph in zip(apps, placeholders, strict=True)}
        return _Property(
            spec=p,
            op=op,
            applications=tuple(lambdify([self.x], a) for a in apps),
            lhs=lambdify([self.x, *placeholders], lhs.subs(values_of_f)),
            rhs=lambdify([self.x, *placeholders], rhs.subs(values_of_f)),
        )

    def _parse_relation_side(self, text: str, where, extra, functions) -> sympy.Expr:  # noqa: ANN001
        from grader.judge.parse import ExpressionError, parse_expression

        try:
            return parse_expression(
                text.strip(), symbols={**self.ctx.symbols, **extra}, functions={**functions}
            )
        except ExpressionError as exc:
            raise SpecError(where, f"{text.strip()!r} does not parse: {exc}") from exc

    def _reference_values(self, xs: np.ndarray) -> np.ndarray:
        assert self.reference is not None
        return _evaluate_precisely(self.reference, xs)

    # --------------------------------------------------------------- trial
    def _sample(self, rng: np.random.Generator) -> np.ndarray:
        """This hand-in's draw from the pool (indices), the edge inputs come on top."""
        return rng.choice(POOL_SIZE, size=min(self.spec.samples, POOL_SIZE), replace=False)

    def _property_points(
        self, prop: _Property, rng: np.random.Generator
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        if prop.spec.over is None:
            xs = np.zeros(1)
        else:
            lo, hi = prop.spec.over
            xs = np.concatenate([rng.uniform(lo, hi, prop.spec.samples), [lo, hi]])
        args = [
            np.broadcast_to(np.asarray(g(xs), dtype=float), xs.shape).copy()
            for g in prop.applications
        ]
        return xs, args

    def trial(self, rng: np.random.Generator) -> Trial:
        if self.spec.values_weight > 0 and self.reference:
            idx = self._sample(rng)
            xs = np.concatenate([self.pool_xs[idx], self.edge_xs])
            expected = np.concatenate([self.pool_ref[idx], self.edge_ref])
            wrong = {
                m: np.concatenate([v[idx], self.edge_mistakes[m]])
                for m, v in self.pool_mistakes.items()
            }
        else:
            xs, expected, wrong = np.zeros(0), np.zeros(0), {}
        prop_points = [self._property_points(p, rng) for p in self.properties]
        plot_xs = self.plot_xs
        # one call of f over every input needed: the answer is looked up per point
        inputs = np.unique(
            np.concatenate([xs, plot_xs, *[a for _, args in prop_points for a in args]])
        )
        probes: list[Probe] = []
        if self.spec.vectorised:
            probes.append(self.probe("all", args=[inputs]))
        else:
            probes += [self.probe(f"x{i}", args=[float(v)]) for i, v in enumerate(inputs)]

        def judge(outcomes: Mapping[str, Outcome]) -> CheckResult:
            return self._judge(outcomes, probes, inputs, xs, expected, wrong, prop_points, rng)

        return Trial(tuple(probes), judge)

    def _judge(
        self,
        outcomes: Mapping[str, Outcome],
        probes: Sequence[Probe],
        inputs: np.ndarray,
        xs: np.ndarray,
        expected: np.ndarray,
        wrong: Mapping[int, np.ndarray],
        prop_points: list[tuple[np.ndarray, list[np.ndarray]]],
        rng: np.random.Generator,
    ) -> CheckResult:
        name = f"`{self.spec.name}`"
        warnings: list[str] = []
        if self.spec.vectorised:
            out = outcomes[probes[0].id]
            if not out.ok:
                return self.error_result(out)
            try:
                values = as_array(out.value, f"{name} called on an array")
            except WrongType as exc:
                return self.result(fraction=0.0, feedback=[str(exc)], method="numeric")
            if values.shape != inputs.shape:
                return self.result(
                    fraction=0.0,
                    feedback=[
                        f"{name} called on an array of {inputs.size} numbers returned shape "
                        f"{values.shape}: it must work elementwise on numpy arrays."
                    ],
                    method="numeric",
                )
            warnings = list(out.warnings)
        else:
            vals = []
            for p in probes:
                o = outcomes[p.id]
                if not o.ok:
                    return self.error_result(o)
                try:
                    vals.append(float(as_array(o.value, name).reshape(())))
                except (WrongType, ValueError) as exc:
                    return self.result(fraction=0.0, feedback=[str(exc)], method="numeric")
                warnings += o.warnings
            values = np.array(vals)
        lookup = dict(zip(inputs.tolist(), values.tolist(), strict=True))

        def student(points: np.ndarray) -> np.ndarray:
            return np.array([lookup[v] for v in points.tolist()])

        feedback: list[str] = []
        mistakes: list[Mistake] = []
        weights = 0.0
        earned = 0.0
        witness = None
        behaviours: set[str] = set()
        if self.spec.strict and warnings:
            behaviours.add("warning")
        if not np.all(np.isfinite(values)):
            behaviours.add("nonfinite")
        plot = None
        if self.reference is not None and self.spec.values_weight > 0:
            weights += self.spec.values_weight
            given = student(xs)
            close = np.isclose(given, expected, rtol=self.spec.rtol, atol=self.spec.atol)
            if close.all() and not (self.spec.strict and behaviours):
                earned += self.spec.values_weight
            elif not close.all():
                for m, alt in wrong.items():
                    if np.allclose(given, alt, rtol=self.spec.rtol, atol=self.spec.atol):
                        mistakes.append(self.mistake(m))
                bad = int(np.argmin(close))
                digits = _digits_to_tell_apart(given[bad], expected[bad])
                witness = (
                    f"at x = {fmt(xs[bad], 6)} the answer gives {fmt(given[bad], digits)}, "
                    f"expected {fmt(expected[bad], digits)}"
                )
                feedback.append(f"{name} gives wrong values: {witness}.")
                if xs[bad] in self.spec.edge:
                    behaviours.add("edge")
            if self.plot_xs.size:
                plot_xs, ref_plot = self.plot_xs, self.plot_ref
                given_plot = student(plot_xs)
                differs = ~np.isclose(given_plot, ref_plot, rtol=1e-4, atol=1e-6)
                plot = Plot(
                    title=f"{self.spec.name}(x) against the reference",
                    xs=tuple(plot_xs.tolist()),
                    reference=tuple(_finite(ref_plot)),
                    given=tuple(_finite(given_plot)),
                    differs_at=tuple(plot_xs[differs].tolist()),
                )
        for prop, (pxs, args) in zip(self.properties, prop_points, strict=True):
            weights += prop.spec.weight
            ok, detail = self._holds(prop, student, rng, (pxs, args))
            if ok:
                earned += prop.spec.weight
            else:
                feedback.append(f"{prop.spec.message} ({detail}).")
        for i, sheet_mistake in enumerate(self.spec.mistakes):
            if sheet_mistake.expr is None and sheet_mistake.key in behaviours:
                mistakes.append(self.mistake(i))
        if self.spec.strict and behaviours & {"warning", "nonfinite"}:
            detail = "; ".join(dict.fromkeys(warnings)) or "NaN or infinity in the output"
            feedback.insert(0, f"{name} must not overflow or produce NaN: {detail}.")
            earned = min(earned, weights * 0.5)
        feedback = [m.message for m in mistakes] + feedback
        fraction = earned / weights if weights else 1.0
        if fraction >= 1.0:
            feedback.insert(
                0, f"{self.title} is right (judged numerically at {inputs.size} points)."
            )
        return self.result(
            fraction=fraction,
            feedback=feedback,
            method="numeric",
            witness=witness,
            mistakes=mistakes,
            plot=plot,
        )

    def _holds(self, prop: _Property, values, rng, points=None) -> tuple[bool, str]:  # noqa: ANN001
        pxs, args = points if points is not None else self._property_points(prop, rng)
        fvals = [values(a) for a in args]
        lhs = _evaluate(prop.lhs, pxs, fvals)
        rhs = _evaluate(prop.rhs, pxs, fvals)
        tol = prop.spec.atol + 1e-9 * np.abs(rhs)
        with np.errstate(invalid="ignore"):
            ok = {
                "=": np.abs(lhs - rhs) <= tol,
                "<": lhs < rhs,
                ">": lhs > rhs,
                "<=": lhs <= rhs + tol,
                ">=": lhs >= rhs - tol,
            }[prop.op]
        ok = ok & np.isfinite(lhs) & np.isfinite(rhs)
        if ok.all():
            return True, ""
        bad = int(np.argmin(ok))
        at = f"at x = {fmt(pxs[bad], 6)}: " if prop.spec.over is not None else ""
        return False, f"{at}{prop.spec.holds} gives {fmt(lhs[bad])} {prop.op} {fmt(rhs[bad])}"


_BEHAVIOURS = ("warning", "nonfinite", "edge")


def _evaluate(
    side: Callable[..., np.ndarray], xs: np.ndarray, fvals: list[np.ndarray]
) -> np.ndarray:
    with np.errstate(all="ignore"):
        out = side(xs, *fvals)
    return np.broadcast_to(np.asarray(out, dtype=float), xs.shape)


def _evaluate_precisely(f: Callable[[object], object], xs: np.ndarray) -> np.ndarray:
    """A lambdified (mpmath) formula at each point, in high precision, rounded to floats."""
    with mpmath.workdps(REFERENCE_DIGITS):
        return np.array([_to_float(f(mpmath.mpf(float(v)))) for v in xs])


def _to_float(v: object) -> float:
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")  # complex or undefined: never equal to a real answer


def _digits_to_tell_apart(a: float, b: float) -> int:
    """Enough significant digits that two different numbers print differently."""
    for digits in (6, 9, 12, 17):
        if f"{a:.{digits}g}" != f"{b:.{digits}g}":
            return digits
    return 17


def _finite(a: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in a]
