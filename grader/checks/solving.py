"""Working out a case: the reference's answer and each known mistake's answer.

A reference is a case formula in the check's arguments (``sigma(x) * (1 - sigma(x))``), or
the name of a reference-module function called with the arguments in order (``ridge``). A
formula over numbers alone is evaluated at 30 digits. A mistake is a formula (which may use
``ref``, the right answer) or a reference-module function; it is evidence only on cases
where it differs from the reference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import sympy

from grader.calc import Env, Formula, Tolerance, evaluate, values_equal
from grader.checks.cases import Case, Unsolvable
from grader.sheet.common import Mistake as MistakeSpec
from grader.sheet.context import SheetContext, SpecError

__all__ = ["Evaluator", "MistakeRule", "Solver", "Unsolvable", "normalise"]


@dataclass(frozen=True)
class Evaluator:
    """A reference or a mistake: a formula, or a function of the reference module."""

    formula: Formula | None
    function: Callable[..., Any] | None
    names: tuple[str, ...]

    def __call__(self, ctx: SheetContext, values: Mapping[str, Any], ref: Any = None) -> Any:
        if self.function is not None:
            with np.errstate(all="ignore"):
                return normalise(self.function(*(values[n] for n in self.names)))
        assert self.formula is not None
        precise = all(_number(values[n]) for n in self.names) and _number_or_none(ref)
        env_values = {**ctx.given_names(), **values}
        if precise:
            env_values.update({n: mpmath.mpf(float(values[n])) for n in self.names})
        if ref is not None:
            env_values["ref"] = ref
        env = Env(env_values, ctx.numeric_functions, precise=precise)
        return normalise(evaluate(self.formula, env))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _number_or_none(value: Any) -> bool:
    return value is None or _number(value)


def make_evaluator(
    ctx: SheetContext,
    text: str,
    field: str | tuple[str | int, ...],
    names: Sequence[str],
    *,
    with_ref: bool = False,
    student: Sequence[str] = (),
) -> Evaluator:
    """A reference-module function when ``text`` is its bare name, else a formula."""
    function = ctx.numeric_functions.get(text.strip())
    if function is not None:
        return Evaluator(None, function, tuple(names))
    variables = [*names, "ref"] if with_ref else list(names)
    formula = ctx.formula(text, field, variables=variables, student=student)
    return Evaluator(formula, None, tuple(names))


def normalise(value: Any) -> Any:
    """A reference's answer in the form answers are compared in."""
    if isinstance(value, mpmath.mpf):
        return float(value)
    if isinstance(value, mpmath.mpc):
        return float(value.real) if value.imag == 0 else float("nan")
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.ndarray):
        return value.item() if value.ndim == 0 else value.astype(float)
    if isinstance(value, list):
        return np.asarray(value, dtype=float)
    if isinstance(value, tuple):
        return tuple(normalise(v) for v in value)
    if isinstance(value, Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    return value


@dataclass(frozen=True)
class MistakeRule:
    index: int
    spec: MistakeSpec
    evaluator: Evaluator | None
    #: the item it is about (None: the whole answer)
    output: int | None


@dataclass
class Solver:
    """Solves cases for one check: its reference and its value mistakes."""

    ctx: SheetContext
    reference: Evaluator
    mistakes: Sequence[MistakeRule]
    tolerance: Tolerance

    def solve(self, case: Case) -> Case:
        """The case with its answers; ``Unsolvable`` where the reference gives none."""
        try:
            expected = self.reference(self.ctx, case.values)
        except Exception as exc:  # noqa: BLE001 - an input the reference is not defined at
            raise Unsolvable(f"{type(exc).__name__}: {exc}") from None
        if not _finite(expected):
            raise Unsolvable(f"the reference gives {expected!r}, not a finite answer")
        mistakes: dict[int, Any] = {}
        agrees: list[int] = []
        applicable = 0
        for rule in self.mistakes:
            if rule.evaluator is None:
                continue
            value = self._mistake_value(rule, case, expected)
            if value is None:
                continue
            applicable += 1
            right = expected if rule.output is None else _item(expected, rule.output)
            if not values_equal(value, right, self.tolerance):
                mistakes[rule.index] = value
            else:
                agrees.append(rule.index)
        return replace(
            case, expected=expected, mistakes=mistakes, applicable=applicable, agrees=tuple(agrees)
        )

    def _mistake_value(self, rule: MistakeRule, case: Case, expected: Any) -> Any:
        assert rule.evaluator is not None
        try:
            if rule.evaluator.function is not None:
                value = rule.evaluator(self.ctx, case.values)
                return value if rule.output is None else _item(value, rule.output)
            ref = expected if rule.output is None else _item(expected, rule.output)
            return rule.evaluator(self.ctx, case.values, ref=ref)
        except Exception:  # noqa: BLE001 - a mistake that does not apply here (shapes)
            return None


def _item(value: Any, index: int) -> Any:
    if isinstance(value, (tuple, list)) or (isinstance(value, np.ndarray) and value.ndim):
        return value[index]
    raise IndexError(index)


def _finite(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_finite(v) for v in value)
    if isinstance(value, sympy.Basic):
        return bool(value.is_finite) if value.is_number else True
    try:
        return bool(np.all(np.isfinite(np.asarray(value, dtype=float))))
    except (TypeError, ValueError):
        return True


def mistake_rules(
    ctx: SheetContext,
    mistakes: Sequence[MistakeSpec],
    names: Sequence[str],
    items: Sequence[str] = (),
    *,
    behaviours: Sequence[str] = ("warning", "nonfinite"),
) -> list[MistakeRule]:
    """Compile a check's mistakes; errors name the mistake's field."""
    rules = []
    for i, m in enumerate(mistakes):
        where: tuple[str | int, ...] = ("mistakes", i)
        given = [f for f in ("expr", "ref", "behaviour") if getattr(m, f) is not None]
        if len(given) != 1:
            raise SpecError(where, "a mistake gives exactly one of `expr`, `ref`, `behaviour`")
        if m.behaviour is not None and m.behaviour not in behaviours:
            raise SpecError((*where, "behaviour"), "this check kind knows no behaviours")
        output = _output(m.output, items, (*where, "output"))
        evaluator = None
        if m.expr is not None:
            evaluator = make_evaluator(ctx, m.expr, (*where, "expr"), names, with_ref=True)
        elif m.ref is not None:
            if ctx.reference is None or m.ref not in ctx.reference.functions:
                raise SpecError((*where, "ref"), _no_function(ctx, m.ref))
            evaluator = Evaluator(None, ctx.reference.functions[m.ref], tuple(names))
        rules.append(MistakeRule(i, m, evaluator, output))
    return rules


def _output(
    value: int | str | None, items: Sequence[str], where: tuple[str | int, ...]
) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        if value not in items:
            raise SpecError(where, f"{value!r} is not an item ({', '.join(items) or 'none'})")
        return list(items).index(value)
    if items and not 0 <= value < len(items):
        raise SpecError(where, f"output {value} is not an item (0…{len(items) - 1})")
    return value


def _no_function(ctx: SheetContext, name: str) -> str:
    from grader.calc import suggest

    if ctx.reference is None:
        return f"`ref: {name}` needs the sheet's `reference:` module"
    known = sorted(ctx.reference.functions)
    return (
        f"the reference module has no function `{name}`{suggest(name, known)} "
        f"(it defines: {', '.join(known) or 'nothing'})"
    )
