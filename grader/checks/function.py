"""Kind ``function``: a function of any signature against a reference, case by case.

The sheet says how its arguments are drawn (``args:`` generators, with shared ``dims:``), which
cases are asked (``cases:``: the sheet's given data, chosen inputs, random inputs, variants
such as logits near 1000, each with a weight), what the right answer is (``reference:``, a
formula or a function of the sheet's reference module), which mistakes to name, and which
properties the function must have. Answers may be numbers, vectors, matrices, integers or
tuples of these (``items:`` scores each item of a tuple on its own).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from grader.calc import Answers, StudentCall, Tolerance, call_key
from grader.checks.answers import WrongType, as_array
from grader.checks.base import Check, Trial, describe_error, error_kind
from grader.checks.calls import Plan, plan_calls
from grader.checks.cases import (
    Case,
    CaseDrawer,
    DimSpec,
    GeneratorSpec,
    PartSpec,
    Pool,
    arg_names,
    build_pool,
    part_key,
    stable_seed,
)
from grader.checks.compare import UNDECIDED, Comparison, compare, same
from grader.checks.format import fmt
from grader.checks.plots import plot_of
from grader.checks.relations import PropertySpec, Relation, build_relation, read
from grader.checks.solving import Solver, make_evaluator, mistake_rules
from grader.checks.verdict import Part, check_verdict
from grader.generators import Generator, Real
from grader.results import CaseResult, CheckResult, Mistake
from grader.sandbox.protocol import Density, Outcome
from grader.sheet.common import CheckSpec
from grader.sheet.context import SpecError

#: a function of one real number, when the sheet says nothing
_DEFAULT_ARGS: dict[str, Generator] = {"x": Real(real=(-10.0, 10.0))}


class FunctionSpec(CheckSpec):
    kind: Literal["function"]
    #: how each argument is drawn, in the order the function takes them
    args: dict[str, GeneratorSpec] = Field(default_factory=lambda: _DEFAULT_ARGS.copy())
    #: sizes shared between arguments: a fixed size, a range [lo, hi], or another's name
    dims: dict[str, DimSpec] = {}
    #: the arguments the function is called with, in order (default: every argument)
    signature: list[str] | None = None
    #: a formula in the arguments, or the name of a reference-module function
    reference: str | None = None
    #: the parts of the check (default: `samples` random inputs, plus the `edge` inputs)
    cases: list[PartSpec] = []
    samples: Annotated[int, Field(ge=0, le=500)] = 8
    #: shorthand for chosen values of the only argument
    edge: list[float] = []
    #: the answer is a tuple of these items, each judged (and scored) on its own
    items: list[str] = []
    #: "integer": whole numbers, compared exactly; "exact": exact numbers compared exactly
    answer: Literal["auto", "integer", "exact"] = "auto"
    rtol: Annotated[float, Field(ge=0, lt=1)] = 1e-7
    atol: Annotated[float, Field(ge=0)] = 1e-12
    #: number-only calls go as one call on arrays (the function must be vectorised)
    vectorised: bool = False
    #: numpy warnings (overflow) and NaN/infinity where the reference is finite cost half
    strict: bool = True
    properties: list[PropertySpec] = []
    #: weight of the values against the properties' weights
    values_weight: Annotated[float, Field(ge=0)] = 1.0
    #: draw the answer against the reference on this range (functions of one number)
    plot: tuple[float, float] | None = None


BEHAVIOURS = ("warning", "nonfinite")


@dataclass
class _Planned:
    cases: list[Case]
    relations: list[tuple[Relation, list[Case]]]
    plot_xs: np.ndarray
    plan: Plan


class FunctionCheck(Check[FunctionSpec]):
    kind = "function"
    Spec = FunctionSpec

    def prepare(self) -> None:
        spec, ctx = self.spec, self.ctx
        self.names = arg_names(spec.args)
        self.signature = list(spec.signature) if spec.signature is not None else self.names
        for name in self.signature:
            if name not in self.names:
                known = ", ".join(self.names)
                raise SpecError("signature", f"`{name}` is not an argument ({known})")
        self.tolerance = Tolerance(spec.rtol, spec.atol)
        self.drawer = CaseDrawer(
            ctx, spec.args, spec.dims, self._parts(), (self.check_id,), bool(spec.cases)
        )
        self.rules = mistake_rules(ctx, spec.mistakes, self.names, spec.items)
        self.solver: Solver | None = None
        if spec.reference is not None:
            reference = make_evaluator(ctx, spec.reference, "reference", self.names)
            self.solver = Solver(ctx, reference, self.rules, self.tolerance)
        elif spec.values_weight > 0:
            raise SpecError("reference", "a function check needs a `reference` to compare values")
        student = sorted({*ctx.handin_names, spec.name, "f"})
        self.relations = [
            build_relation(
                ctx, i, p, args=spec.args, dims=spec.dims, student=student,
                check_id=self.check_id,
                seed=stable_seed(ctx.seed, self.check_id, "property", i),
                aliases={"f": spec.name},
            )
            for i, p in enumerate(spec.properties)
        ]  # fmt: skip
        self._pool: Pool | None = None
        self._plot: Any = None
        if self.solver is not None:
            self._pool = self._build_pool()  # now: a reference that fails is the sheet's error
        self._check_properties()

    def _check_properties(self) -> None:
        """The reference must have the properties the sheet asks of the hand-in."""
        if self.solver is None:
            return
        solver, names = self.solver, self.signature

        def answer(args: tuple[Any, ...]) -> Any:
            return solver.reference(self.ctx, dict(zip(names, args, strict=True)))

        for relation in self.relations:
            detail = relation.violated_by(self.spec.name, answer, arity=len(names))
            if detail is not None:
                raise SpecError(
                    ("properties", relation.index, "holds"),
                    f"the reference does not satisfy it: {detail}",
                )

    def _parts(self) -> list[PartSpec]:
        spec = self.spec
        if spec.cases:
            if spec.edge:
                raise SpecError("edge", "with `cases:`, list chosen inputs in a part's `each`")
            return spec.cases
        each: dict[str, list[Any]] = {}
        if spec.edge:
            if len(arg_names(spec.args)) != 1:
                raise SpecError("edge", "`edge` lists values of the only argument")
            each = {arg_names(spec.args)[0]: list(spec.edge)}
        if not (spec.samples or each):
            return []
        # the shorthand's values are one part that counts only when every value is right
        return [
            PartSpec(
                label="input", title="the inputs", count=spec.samples, each=each, scoring="all"
            )
        ]

    def skeleton(self) -> str:
        return f"def {self.spec.name}({', '.join(self.signature)}):"

    def given_expectations(self) -> dict[tuple[str, int], str]:
        if self._pool is None:
            return {}
        out: dict[tuple[str, int], str] = {}
        for part, cases in zip(self.drawer.parts, self._pool.fixed, strict=True):
            if part.given is None:
                continue
            texts = [
                fmt(case.expected[i]) if self.spec.items else fmt(case.expected)
                for case in cases
                for i in (range(len(self.spec.items)) if self.spec.items else [0])
            ]
            key = cases[0].part if cases else ""
            out.update({(key, k): text for k, text in enumerate(texts)})
        return out

    def given_data(self) -> list[str]:
        parts = [p.given for p in self.drawer.parts if isinstance(p.given, str)]
        formulas = [r.evaluator.formula for r in self.rules if r.evaluator is not None]
        if self.solver is not None:
            formulas.append(self.solver.reference.formula)
        formulas += [r.formula for r in self.relations]
        used = {v for f in formulas if f is not None for v in f.variables}
        return parts + sorted(used & set(self.ctx.given))

    def lint(self) -> list[str]:
        """Known mistakes that a whole part of the check cannot tell from the reference.

        A hand-in with such a mistake earns that part's points (random cases where a mistake
        agrees are redrawn, so this is the sheet's own data, or a generator that cannot do
        otherwise: two Bernoulli samples {0, 1}, where 1 − mean equals the MLE).
        """
        if self._pool is None:
            return []
        out = []
        for i, part in enumerate(self.drawer.parts):
            cases = [c for c in self._pool.choose_all() if c.part == part_key(i, part)]
            for index in set.intersection(*(set(c.agrees) for c in cases)) if cases else ():
                m = self.spec.mistakes[index]
                what = m.ref or m.expr or m.key or f"mistakes[{index}]"
                example = cases[0]
                shown = f"{example.label} ({_inputs(example.values)[:200]})"
                where = shown if len(cases) == 1 else f"every case of {part.label}, e.g. {shown}"
                out.append(
                    f"mistakes[{index}] ({what}) gives the reference's answer on {where}: "
                    "a hand-in with this mistake earns that part's points"
                )
        return out

    def _build_pool(self) -> Pool:
        """Every case solved once per sheet."""
        assert self.solver is not None
        seed = stable_seed(self.ctx.seed, self.check_id, "cases")
        return build_pool(self.drawer, seed, self.solver.solve)

    @property
    def pool(self) -> Pool:
        assert self._pool is not None
        return self._pool

    # ------------------------------------------------------------------ trial
    def trial(self, rng: np.random.Generator) -> Trial:
        cases = self.pool.choose(rng) if self.solver is not None else []
        relations = [(r, r.pool.choose(rng)) for r in self.relations]
        plot_xs = self._plot_reference()[0] if self.spec.plot else np.zeros(0)
        calls = [self._call(c.values) for c in cases]
        calls += [StudentCall(self.spec.name, (float(x),)) for x in plot_xs]
        for relation, rcases in relations:
            calls += [c for case in rcases for c in relation.calls(case)]
        plan = plan_calls(self, calls, vectorised=self.spec.vectorised)
        planned = _Planned(cases, relations, plot_xs, plan)
        return Trial(plan.probes, lambda outcomes: self._judge(planned, outcomes))

    def _call(self, values: Mapping[str, Any]) -> StudentCall:
        return StudentCall(self.spec.name, tuple(values[n] for n in self.signature))

    def _plot_reference(self) -> tuple[np.ndarray, np.ndarray]:
        if self._plot is None:
            assert self.spec.plot is not None and self.solver is not None
            xs = np.linspace(self.spec.plot[0], self.spec.plot[1], 161)
            name = self.names[0]
            ref = np.array([_float(self.solver.reference(self.ctx, {name: float(x)})) for x in xs])
            self._plot = (xs, ref)
        return self._plot

    # ------------------------------------------------------------------ judging
    def _judge(self, planned: _Planned, outcomes: Mapping[str, Outcome]) -> CheckResult:
        plan = planned.plan

        def outcome(call: StudentCall) -> Outcome:
            return plan.outcome(outcomes, call_key(call.name, call.args))

        own = [outcome(self._call(c.values)) for c in planned.cases]
        results = [r for c, o in zip(planned.cases, own, strict=True) for r in self._case(c, o)]
        behaviours = self._behaviours(planned.cases, own, results)
        parts = self._value_parts(results)
        answers = Answers(_Outcomes(plan, outcomes), read)
        for relation, rcases in planned.relations:
            key = f"property{relation.index}"
            judged = relation.judge_all(rcases, answers, key)
            spec = relation.spec
            holds = f"Satisfied: {spec.message.rstrip('.')}."
            parts.append(
                Part(key, spec.weight, spec.message, judged, scoring=spec.scoring, right=holds)
            )
        plot = None
        if planned.plot_xs.size:
            xs, ref = self._plot_reference()
            given = [outcome(StudentCall(self.spec.name, (float(x),))) for x in xs]
            plot = plot_of(self.spec.name, xs, ref, given)
        return check_verdict(
            self,
            parts,
            method="numeric",
            success=self._success(parts),
            cap=self._cap(behaviours, own),
            plot=plot,
            mistakes=self._behaviour_mistakes(behaviours),
        )

    def _success(self, parts: Sequence[Part]) -> str:
        values = [
            p.description for p in parts if not p.key.startswith("property") and p.answerable
        ]
        values = list(dict.fromkeys(values))
        said = f"{self.title} is right on " + " and ".join(values) if values else self.title
        if not self.relations:
            return said + "."
        holds = "; ".join(r.formula.text for r in self.relations)
        joiner = " and has" if values else " has"
        return f"{said}{joiner} the properties asked ({holds})."

    def _value_parts(self, results: Sequence[CaseResult]) -> list[Part]:
        parts = self.drawer.parts
        total = sum(p.weight for p in parts) or 1.0
        out = []
        for i, p in enumerate(parts):
            key = part_key(i, p)
            cases = tuple(r for r in results if r.part == key)
            if cases:
                weight = self.spec.values_weight * p.weight / total
                title = p.title or p.label
                out.append(Part(key, weight, title, cases, p.scoring, given=p.given is not None))
        return out

    def _case(self, case: Case, outcome: Outcome) -> list[CaseResult]:
        # inputs are written out only for a case that is not right (every hand-in, every case)
        base = CaseResult(case.label, case.part, False, "")
        if outcome.error is not None or not outcome.ok:
            base = _replace(base, inputs=_inputs(case.values))
        if outcome.error is not None:
            err = outcome.error
            if err.kind == "unanswerable":
                return [_replace(base, unanswerable=True, note=err.message)]
            return [_replace(base, note=describe_error(self.spec.name, err), error=error_kind(err))]
        cmp = compare(
            outcome.value,
            case.expected,
            self.tolerance,
            what=f"`{self.spec.name}`",
            exact=self.spec.answer == "exact",
            integer=self.spec.answer == "integer",
            items=self.spec.items,
        )
        if cmp.value is None:
            mistake = self._mistake_of_shape(case, outcome.value)
            return [
                _replace(
                    base,
                    inputs=_inputs(case.values),
                    note=cmp.note,
                    expected=cmp.expected_text,
                    mistake=mistake,
                )
            ]
        if not self.spec.items:
            return [self._verdict(base, cmp, case, None)]
        return [self._item(base, cmp, case, i) for i in range(len(self.spec.items))]

    def _verdict(
        self, base: CaseResult, cmp: Comparison, case: Case, item: int | None
    ) -> CaseResult:
        if cmp.ok:
            return _replace(base, ok=True)
        if cmp.undecided:
            return _replace(base, inputs=_inputs(case.values), note=cmp.note, unanswerable=True)
        mistake = self._mistake(case, cmp.value, item)
        return _replace(
            base,
            ok=False,
            inputs=_inputs(case.values),
            expected=cmp.expected_text,
            given=cmp.given_text,
            where=cmp.where,
            mistake=mistake,
        )

    def _item(self, base: CaseResult, cmp: Comparison, case: Case, i: int) -> CaseResult:
        value, expected = cmp.value[i], case.expected[i]
        ok, where = same(value, expected, self.tolerance, exact=self.spec.answer == "exact")
        label = f"{base.label}, {self.spec.items[i]}"
        note = UNDECIDED if ok is None else None
        item_cmp = Comparison(bool(ok), value, note, where, fmt(expected), fmt(value), ok is None)
        return self._verdict(_replace(base, label=label), item_cmp, case, i)

    def _mistake(self, case: Case, value: Any, item: int | None) -> Mistake | None:
        for index, wrong in case.mistakes.items():
            rule = self.rules[index]
            if rule.output is None and item is not None:
                wrong = _item_of(wrong, item)  # a whole wrong answer, seen item by item
            elif rule.output != item:
                continue
            if wrong is not None and same(value, wrong, self.tolerance)[0]:
                return self.mistake(index)
        return None

    def _mistake_of_shape(self, case: Case, raw: Any) -> Mistake | None:
        """A known mistake with another shape than the answer (one value per sample)."""
        try:
            given = as_array(raw)
        except WrongType:
            return None
        for index, wrong in case.mistakes.items():
            if np.shape(wrong) == given.shape and same(given, wrong, self.tolerance)[0]:
                return self.mistake(index)
        return None

    # ------------------------------------------------------------------ behaviours
    def _behaviours(
        self, cases: Sequence[Case], own: Sequence[Outcome], results: Sequence[CaseResult]
    ) -> set[str]:
        found = set()
        if any(o.warnings for o in own):
            found.add("warning")
        for case, out in zip(cases, own, strict=True):
            if out.ok and _nonfinite(out.value) and not _nonfinite(case.expected):
                found.add("nonfinite")
        return found

    def _cap(self, behaviours: set[str], own: Sequence[Outcome]) -> tuple[float, str] | None:
        if not (self.spec.strict and behaviours):
            return None
        warnings = "; ".join(dict.fromkeys(w for o in own for w in o.warnings))
        detail = warnings or "NaN or infinity where the right answer is finite"
        return 0.5, f"`{self.spec.name}` must not overflow or produce NaN: {detail}."

    def _behaviour_mistakes(self, behaviours: set[str]) -> list[Mistake]:
        return [
            self.mistake(r.index)
            for r in self.rules
            if r.spec.behaviour is not None and r.spec.behaviour in behaviours
        ]


class _Outcomes(Mapping[str, Outcome]):
    """The hand-in's answers by call key, cut out of batched answers where needed."""

    def __init__(self, plan: Plan, outcomes: Mapping[str, Outcome]) -> None:
        self.plan, self.outcomes = plan, outcomes

    def __getitem__(self, key: str) -> Outcome:
        return self.plan.outcome(self.outcomes, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.plan.slots)

    def __len__(self) -> int:
        return len(self.plan.slots)


def _replace(case: CaseResult, **changes: Any) -> CaseResult:
    from dataclasses import replace

    return replace(case, **changes)


def _inputs(values: Mapping[str, Any]) -> str:
    shown = []
    for name, v in values.items():
        if isinstance(v, Density):
            shown.append(f"{name} = the density {v.expr}")
        else:
            shown.append(f"{name} = {fmt(v, 4)}")
    return ", ".join(shown)


def _item_of(value: Any, index: int) -> Any:
    try:
        return value[index]
    except (TypeError, IndexError, KeyError):
        return None


def _nonfinite(value: Any) -> bool:
    try:
        return not bool(np.all(np.isfinite(np.asarray(value, dtype=float))))
    except (TypeError, ValueError):
        return False


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
