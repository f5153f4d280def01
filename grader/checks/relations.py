"""Properties: relations among calls of the hand-in's functions, over generated cases.

``softmax(z + c) == softmax(z)``, ``kl(p, q) == cross_entropy(p, q) - cross_entropy(p, p)``,
``f(x) + f(-x) == 1``: a property is a case formula that calls the hand-in's functions (``f``
is the check's own function). Its cases come from the check's generators and its own (``c:
{real: [-1000, 1000]}``, or ``over: [lo, hi]`` for ``x``, ends included). A property holds
when it holds on every case; a failing case is reported with both sides, printed with enough
digits to differ.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from grader.calc import (
    Answers,
    Collector,
    Env,
    Formula,
    StudentCall,
    Tolerance,
    compile_formula,
    evaluate,
)
from grader.checks.answers import WrongType
from grader.checks.calls import CallFailed, read_answer
from grader.checks.cases import (
    Case,
    CaseDrawer,
    GeneratorSpec,
    PartSpec,
    Pool,
    arg_names,
    build_pool,
)
from grader.checks.format import fmt, fmt_pair
from grader.generators import Real
from grader.results import CaseResult, Mistake
from grader.sheet.common import Model
from grader.sheet.context import SheetContext, SpecError

__all__ = ["PropertySpec", "Relation"]


class PropertySpec(Model):
    #: a relation: ``softmax(z + c) == softmax(z)``, ``f(x) > 0``, ``f(0) = 1/4``
    holds: str
    #: what the student is told when it fails
    message: str
    #: generators of this property's own values (they replace the check's of the same name)
    args: dict[str, GeneratorSpec] = {}
    #: shorthand: ``x`` drawn from this range, its ends included
    over: tuple[float, float] | None = None
    count: Annotated[int, Field(ge=1, le=500)] = 40
    weight: Annotated[float, Field(gt=0)] = 1.0
    #: "all": it must hold on every case; "share": the share of cases where it holds counts
    scoring: Literal["all", "share"] = "all"
    rtol: Annotated[float, Field(ge=0)] = 1e-9
    atol: Annotated[float, Field(ge=0)] = 1e-9


@dataclass
class Relation:
    """One property of a check, ready to be asked of hand-ins."""

    index: int
    spec: PropertySpec
    formula: Formula
    sides: tuple[Formula, Formula] | None
    pool: Pool
    ctx: SheetContext
    student: frozenset[str]
    key: str
    #: names standing for another (``f`` for the check's own function)
    aliases: Mapping[str, str]
    #: the calls of each pool case, by the case's identity (pool cases live as long as this)
    _calls: dict[int, list[StudentCall]] = field(default_factory=dict)

    @property
    def tolerance(self) -> Tolerance:
        return Tolerance(self.spec.rtol, self.spec.atol)

    def env(self, values: Mapping[str, Any], hook: Any) -> Env:
        def call(name: str, args: tuple[Any, ...]) -> Any:
            return hook(self.aliases.get(name, name), args)

        return Env(
            {**self.ctx.given_names(), **values},
            self.ctx.numeric_functions,
            self.student,
            call,
            self.tolerance,
        )

    def calls(self, case: Case) -> list[StudentCall]:
        """The hand-in calls this case needs (the same for every hand-in: worked out once)."""
        known = self._calls.get(id(case))
        if known is None:
            collector = Collector()
            evaluate(self.formula, self.env(case.values, collector))
            known = self._calls[id(case)] = list(collector.calls.values())
        return known

    def judge_all(
        self, cases: Sequence[Case], answers: Answers, part: str
    ) -> tuple[CaseResult, ...]:
        """Every case's verdict. A relation in numbers only that must hold everywhere is
        first evaluated once, on arrays of all its cases (as fast as one case); only when it
        fails there is each case looked at, to say where."""
        if self.spec.scoring == "all" and self._holds_everywhere(cases, answers):
            return tuple(CaseResult(c.label, part, True) for c in cases)
        return tuple(self.judge(c, answers, part) for c in cases)

    def _holds_everywhere(self, cases: Sequence[Case], answers: Answers) -> bool:
        names = list(cases[0].values) if cases else []
        if not (names and _entrywise(self.formula, self.student)):
            return False
        if not all(_scalar(c.values[n]) for c in cases for n in names):
            return False
        arrays = {n: np.array([float(c.values[n]) for c in cases]) for n in names}
        elementwise = _Elementwise(answers, len(cases))
        try:
            return bool(evaluate(self.formula, self.env(arrays, elementwise)))
        except Exception:  # noqa: BLE001 - anything unusual: the case by case path decides
            return False

    def judge(self, case: Case, answers: Answers, part: str) -> CaseResult:
        inputs = _inputs(case.values)
        try:
            holds = bool(evaluate(self.formula, self.env(case.values, answers)))
        except CallFailed as exc:
            from grader.checks.base import describe_error, error_kind

            return CaseResult(
                case.label,
                part,
                False,
                inputs,
                note=describe_error(_callee(exc), exc.error),
                error=error_kind(exc.error),
            )
        except (WrongType, ValueError, TypeError, IndexError) as exc:
            return CaseResult(case.label, part, False, inputs, note=_sentence(str(exc)))
        if holds:
            return CaseResult(case.label, part, True, inputs)
        return CaseResult(
            case.label,
            part,
            False,
            inputs,
            note=self._detail(case, answers),
            mistake=Mistake(self.key, self.spec.message),
        )

    def violated_by(
        self, own: str, answer: Callable[[tuple[Any, ...]], Any], *, arity: int | None = None
    ) -> str | None:
        """Where the relation fails when ``own`` is answered by ``answer`` (the reference):
        a sheet whose reference breaks its own property is wrong. None when it holds, or
        when it calls other functions of the hand-in or calls ``own`` with another number
        of arguments than ``arity`` (``leaky_relu(x)`` relying on a default): those are
        checked by grading the sheet's solution."""
        calls = [c for case in self.pool.choose_all() for c in self.calls(case)]
        if any(c.name != own or (arity is not None and len(c.args) != arity) for c in calls):
            return None
        hook = _Trusted(own, answer)
        for case in self.pool.choose_all():
            if not bool(evaluate(self.formula, self.env(case.values, hook))):
                return self._detail(case, hook)  # type: ignore[arg-type]
        return None

    def _detail(self, case: Case, answers: Answers) -> str:
        at = f"at {_inputs(case.values)}: " if case.values else ""
        if self.sides is None:
            return f"{at}{self.formula.text} does not hold."
        try:
            left, right = (evaluate(s, self.env(case.values, answers)) for s in self.sides)
        except Exception:  # noqa: BLE001 - the detail is a courtesy
            return f"{at}{self.formula.text} does not hold."
        a, b = fmt_pair(left, right) if fmt(left) == fmt(right) else (fmt(left), fmt(right))
        op = _op_text(self.formula)
        return f"{at}{self.sides[0].text} {op} {self.sides[1].text} gives {a} {op} {b}."


@dataclass(frozen=True)
class _Elementwise:
    """A hand-in call on arrays answered entry by entry from its calls on numbers."""

    answers: Answers
    size: int

    def __call__(self, name: str, args: tuple[Any, ...]) -> Any:
        if not all(isinstance(a, np.ndarray) and a.shape == (self.size,) for a in args):
            raise TypeError("not an entrywise call")
        columns = [np.asarray(a, dtype=float).tolist() for a in args]
        out = [self.answers(name, tuple(c[i] for c in columns)) for i in range(self.size)]
        if all(type(v) is float for v in out):
            return np.array(out)
        return np.array([float(np.asarray(v, dtype=float)) for v in out])


#: functions that act entry by entry, so that a formula of them over arrays of all cases
#: holds exactly when it holds on each case (no sum, max, mean, len over the cases)
_ENTRYWISE = frozenset(
    {"abs", "exp", "log", "ln", "log1p", "expm1", "sqrt", "sin", "cos", "tan", "tanh", "sinh",
     "cosh", "atan", "asin", "acos", "sign", "floor", "ceil", "erf", "maximum", "minimum",
     "Abs"}
)  # fmt: skip
_ENTRYWISE_NODES = (
    ast.Expression, ast.BinOp, ast.Compare, ast.Name, ast.Constant, ast.Call, ast.Load,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd, ast.UnaryOp,
    ast.BoolOp, ast.And, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE,
)  # fmt: skip


def _entrywise(formula: Formula, student: frozenset[str]) -> bool:
    """Whether the formula only combines its values entry by entry (then an array of all
    cases may stand for each case: ``and`` of relations, never ``or``/``not``/a reduction)."""
    for node in ast.walk(formula.tree):
        if not isinstance(node, _ENTRYWISE_NODES):
            return False
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return False
        if isinstance(node, ast.BoolOp) and not isinstance(node.op, ast.And):
            return False
    return formula.calls <= (_ENTRYWISE | student)


def _scalar(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


@dataclass(frozen=True)
class _Trusted:
    """Answers calls of one function with a trusted function (the reference)."""

    name: str
    answer: Callable[[tuple[Any, ...]], Any]

    def __call__(self, name: str, args: tuple[Any, ...]) -> Any:
        return self.answer(args)


def build_relation(
    ctx: SheetContext,
    index: int,
    spec: PropertySpec,
    *,
    args: Mapping[str, Any],
    dims: Mapping[str, Any],
    student: Sequence[str],
    check_id: str,
    seed: int,
    aliases: Mapping[str, str] | None = None,
) -> Relation:
    where = ("properties", index)
    own = dict(spec.args)
    if spec.over is not None:
        own["x"] = Real(real=spec.over)
    formula = ctx.formula(
        spec.holds, (*where, "holds"), variables=arg_names({**args, **own}), student=student
    )
    if not formula.is_relation:
        raise SpecError((*where, "holds"), "write a relation such as `f(x) + f(-x) = 1`")
    needed = {k: v for k, v in {**args, **own}.items() if set(_names(k)) & formula.variables}
    parts = [_part(spec, bool(needed))]
    drawer = CaseDrawer(ctx, needed, dims, parts, (check_id, "property", index), False)
    pool = build_pool(drawer, seed, lambda case: case)
    return Relation(
        index,
        spec,
        formula,
        _sides(formula),
        pool,
        ctx,
        frozenset(student),
        f"{check_id}:property{index}",
        dict(aliases or {}),
    )


def _part(spec: PropertySpec, random: bool) -> PartSpec:
    each: dict[str, list[Any]] = {}
    if spec.over is not None:
        each = {"x": list(spec.over)}
    if not random:
        return PartSpec(label="the relation", given={})
    return PartSpec(label="case", count=spec.count, each=each, scoring=spec.scoring)


def _names(key: str) -> list[str]:
    return [n.strip() for n in key.split(",")]


def _sides(formula: Formula) -> tuple[Formula, Formula] | None:
    body = formula.tree.body
    if not isinstance(body, ast.Compare) or len(body.ops) != 1:
        return None
    return compile_formula(ast.unparse(body.left)), compile_formula(
        ast.unparse(body.comparators[0])
    )


def _op_text(formula: Formula) -> str:
    body = formula.tree.body
    assert isinstance(body, ast.Compare)
    return {
        ast.Eq: "=", ast.NotEq: "≠", ast.Lt: "<", ast.LtE: "≤", ast.Gt: ">", ast.GtE: "≥"
    }[type(body.ops[0])]  # fmt: skip


def _inputs(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} = {fmt(v, 4)}" for k, v in values.items() if _shown(v))


def _shown(value: Any) -> bool:
    return isinstance(value, (int, float, np.ndarray, list, tuple)) and not isinstance(value, bool)


def _callee(exc: CallFailed) -> str:
    return exc.name or "your function"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def read(name: str, outcome: Any) -> Any:
    """An outcome as a formula's value (``Answers.read``)."""
    if not outcome.ok:
        raise CallFailed(outcome.error, name)
    return read_answer(outcome.value, f"`{name}`")
