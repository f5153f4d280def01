"""Answering a check's probes from what a written hand-in says, instead of running code.

A ``value`` probe gets the value read; a ``call`` probe with sympy ``Symbol`` arguments gets
the formula read (renamed to the probe's symbols), with numbers the formula evaluated there
(by sympy, at 30 digits, under a time budget; never by Python's eval); a call at the point
the sheet asks about gets the value the text states there. Answers take the forms the
sandbox would send (``Expr`` text, ``Fraction``, ``int``, ``float``, arrays), so the checks
judge them as they judge code. A probe the text does not answer gets a ``ProbeError`` of
kind ``unanswerable``; the caller decides what that means for the check.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import sympy

from grader.handin.written.answers import ReadAnswer
from grader.judge.budget import cpu_budget
from grader.results import Author
from grader.sandbox.protocol import Expr, Outcome, Probe, ProbeError, Symbol
from grader.sandbox.runner import Limits, RunReport

#: numbers a call may ask the formula for (a probe with more is not answered)
MAX_POINTS = 5000
#: wall seconds for evaluating the formulas of one hand-in, all probes together
EVALUATION_SECONDS = 10.0


class _OutOfTime(Exception):
    pass


class _NotGiven(Exception):
    """The text surely does not answer this call (its formula is not written): a missing
    answer, which scores nothing, not one for a person."""


@dataclass(frozen=True)
class Answerable:
    """One name's answer, and how the check calls it."""

    answer: ReadAnswer
    #: the function's arguments, in order, as sympy symbols of the sheet
    args: tuple[sympy.Symbol, ...]
    #: the point (in argument order) where ``values``/``vector`` answers are asked for
    at: tuple[Any, ...] = ()


@dataclass
class WrittenRunner:
    """A ``ProbeRunner`` that reads answers instead of running code."""

    answers: Mapping[str, Answerable]
    authors: tuple[Author, ...] = ()
    #: probe id -> whether it was answered (for the check-level decision)
    answered: dict[str, bool] = field(default_factory=dict)

    def __call__(self, path: Path, probes: Sequence[Probe], limits: Limits) -> RunReport:
        deadline = time.monotonic() + EVALUATION_SECONDS
        outcomes: dict[str, Outcome] = {}
        try:
            # a hard stop too, in CPU time, where sympy itself is slow to give back control
            with cpu_budget(EVALUATION_SECONDS + 1.0):
                for probe in probes:
                    outcomes[probe.id] = self._answer(probe, deadline)
        except TimeoutError:
            pass
        for probe in probes:
            if probe.id not in outcomes:
                outcomes[probe.id] = _unanswerable(probe, "evaluating your formulas took too long")
            self.answered[probe.id] = outcomes[probe.id].ok
        return RunReport(outcomes, notes=("written answer: read, not run",))

    def _answer(self, probe: Probe, deadline: float) -> Outcome:
        if probe.name == "AUTHORS" and probe.op == "value":
            if self.authors:
                return Outcome(probe.id, value=[[a.name, a.id] for a in self.authors])
            return _unanswerable(probe, "the document names no authors with their numbers")
        entry = self.answers.get(probe.name)
        if entry is None or not entry.answer.found:
            return _unanswerable(probe, f"your text gives no answer for `{probe.name}`")
        try:
            value = self._value(entry, probe, deadline)
        except _OutOfTime:
            return _unanswerable(probe, "evaluating your formula took too long")
        except _NotGiven as exc:
            # given as values, not as a function of the arguments: the checks score it as a
            # wrong answer (not an error of the hand-in, and not a person's to grade)
            return Outcome(probe.id, error=ProbeError("not_callable", str(exc)))
        except (TypeError, ValueError, ArithmeticError) as exc:
            return _unanswerable(probe, f"your formula could not be evaluated there ({exc})")
        if value is None:
            return _unanswerable(probe, _why_not(entry, probe))
        return Outcome(probe.id, value=value)

    def _value(self, entry: Answerable, probe: Probe, deadline: float) -> Any:
        answer = entry.answer
        if probe.op == "value":
            return None if answer.form in ("values", "expression") else _plain(answer.value)
        args = probe.args
        if answer.form == "expression":
            return _call(answer.value, entry.args, args, deadline)
        if answer.form == "vector":
            if _same_point(args, entry.at):
                return np.array([float(v) for v in answer.value])
            return None
        if answer.form == "values":
            return _values(entry, args, deadline)
        return None


def _unanswerable(probe: Probe, message: str) -> Outcome:
    return Outcome(probe.id, error=ProbeError("unanswerable", message))


def _why_not(entry: Answerable, probe: Probe) -> str:
    if entry.answer.form == "vector":
        return f"your text gives `{probe.name}` for the sheet's own numbers only"
    if entry.answer.form == "values":
        return f"your text gives no formula for `{probe.name}` in general"
    return f"your text does not answer `{probe.name}` in this form"


def _plain(value: Any) -> Any:
    """A read value in the form the sandbox sends."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return value
    if isinstance(value, sympy.Integer):
        return int(value)
    if isinstance(value, sympy.Rational):
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, sympy.Float):
        return float(value)
    if isinstance(value, sympy.Basic):
        return Expr(sympy.sstr(value, full_prec=True))
    return value


def _call(
    expr: sympy.Expr, params: Sequence[sympy.Symbol], args: Sequence[Any], deadline: float
) -> Any:
    if len(args) != len(params):
        return None
    if all(isinstance(a, Symbol) for a in args):
        renamed = {
            p: sympy.Symbol(a.name, **dict(a.assumptions))
            for p, a in zip(params, args, strict=True)
        }
        return Expr(sympy.sstr(expr.xreplace(renamed), full_prec=True))
    arrays = [np.asarray(a, dtype=float) for a in args]
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    if int(np.prod(shape)) > MAX_POINTS:
        return None
    grid = [np.broadcast_to(a, shape).ravel() for a in arrays]
    values = [
        _at_point(expr, params, [g[i] for g in grid], deadline) for i in range(int(np.prod(shape)))
    ]
    out = np.array(values, dtype=float).reshape(shape)
    return out if shape else float(out)


def _at_point(
    expr: sympy.Expr, params: Sequence[sympy.Symbol], point: Sequence[float], deadline: float
) -> float:
    if time.monotonic() > deadline:
        raise _OutOfTime
    subs = {p: sympy.Float(float(v), 30) for p, v in zip(params, point, strict=True)}
    value = sympy.N(expr.xreplace(subs), 30)
    try:
        c = complex(value)
    except TypeError:
        return float("nan")
    return c.real if abs(c.imag) <= 1e-12 * max(1.0, abs(c.real)) else float("nan")


def _values(entry: Answerable, args: Sequence[Any], deadline: float) -> Any:
    answer = entry.answer
    symbolic = bool(args) and all(isinstance(a, Symbol) for a in args)
    at_point = _same_point(args, entry.at)
    absent = answer.formula_absent or (False,) * len(answer.formulas)
    out: list[Any] = []
    for formula, stated, missing in zip(answer.formulas, answer.at_values, absent, strict=True):
        if symbolic:
            if formula is None:
                return _no_formula(entry, missing)
            out.append(_call(formula, entry.args, args, deadline))
        elif at_point and stated is not None:
            out.append(_plain(stated))
        elif formula is not None and not any(isinstance(a, Symbol) for a in args):
            out.append(_call(formula, entry.args, args, deadline))
        else:
            return _no_formula(entry, missing and not at_point)
    return tuple(out)


def _no_formula(entry: Answerable, missing: bool) -> None:
    """None (not answerable: a person looks) unless the formula is surely not written."""
    if missing:
        names = ", ".join(a.name for a in entry.args)
        raise _NotGiven(
            f"`{entry.answer.name}` is given at the sheet's point only, no formula in {names} "
            "was found in your text"
        )
    return None


def _same_point(args: Sequence[Any], at: Sequence[Any]) -> bool:
    if not at or len(args) != len(at):
        return False
    for a, b in zip(args, at, strict=True):
        if isinstance(a, Symbol):
            return False
        try:
            x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        except (TypeError, ValueError):
            return False
        if x.shape != y.shape or not np.allclose(x, y, rtol=1e-12, atol=1e-12):
            return False
    return True


def read_line(name: str, entry: Answerable | None) -> str:
    """One sentence saying what the text answers for ``name``, for the feedback."""
    answer = entry.answer if entry is not None else None
    if answer is None or not answer.found:
        return f"Not found in your text: `{name}`."
    where = f" (line {', '.join(map(str, sorted(set(answer.lines))))})" if answer.lines else ""
    if answer.form == "text":
        return (
            f"Read from your text: your answer in words ({len(str(answer.value).split())} words)."
        )
    if answer.form == "values":
        parts = []
        absent = answer.formula_absent or (False,) * len(answer.formulas)
        for formula, value in zip(answer.formulas, answer.at_values, strict=True):
            shown = [_show(formula)] if formula is not None else []
            if value is not None:
                shown.append(f"{_show(value)} at the point")
            parts.append(", ".join(shown) or "not found")
        line = f"Read from your text{where}: `{name}` = ({'; '.join(parts)})."
        if any(absent):
            names = ", ".join(a.name for a in entry.args) if entry is not None else "the arguments"
            line += (
                f" No formula in {names} was found in your text for "
                f"{'it' if len(absent) == 1 else 'any entry' if all(absent) else 'some entries'}"
                ": what it is in general is not answered and scores nothing."
            )
        return line
    if answer.form in ("numbers", "vector"):
        items = ", ".join(_show(v) for v in answer.value)
        return f"Read from your text{where}: `{name}` = [{items}]."
    return f"Read from your text{where}: `{name}` = {_show(answer.value)}."


def _show(value: Any) -> str:
    text = sympy.sstr(value) if isinstance(value, sympy.Basic) else str(value)
    return text if len(text) <= 120 else text[:119] + "…"
