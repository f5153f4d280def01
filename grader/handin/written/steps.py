"""Every chain of equalities, judged step by step.

Each step compares two neighbouring sides with the judge (``equivalent``, under its time
budget). A step is

- ``equal``: the sides are equal (proved, or at enough sample points);
- ``at_point``: one side is the other with the task's given values put in (``∂e/∂b = 2·1 +
  2 + 1``: the values of a, b put in); two formulas in the same names must be equal as
  formulas, not only at the point;
- ``rounded``: a number written rounded to the digits shown (``= 1`` for 1 − 2.6·10⁻²⁴), or
  a ``≈`` step whose sides agree numerically (within 1 %, or to the digits written);
  a ``≈`` between formulas that agree at some points only is an approximation there
  (``unchecked``), and one whose sides are far apart everywhere is ``broken``;
- ``broken``: not equal, with a witness point and both values;
- ``unchecked``: a side could not be read, or the judge could not decide: never a mistake;
- ``definition``: the first step of ``h_1 = …`` (a name being given a value) or ``f(x) = …``
  (a function the text defines), not a claim to check.

A broken side whose neighbours are equal (X = Y = Z with X = Z, Y wrong) is one *slip*. A
wrong side that is a mistake the sheet names (``σ(x)·(1·σ(x))`` is σ²) gets its message, and
a step that holds with −x for x on one side asks whether σ(−x) was meant.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import sympy
from sympy.core.function import AppliedUndef

from grader.handin.written.math import Chain
from grader.handin.written.read import Reader, Unreadable, canonical_shape
from grader.judge.equivalence import Equivalence, equivalent
from grader.judge.evaluate import EvaluationError, numeric_value

StepStatus = Literal["equal", "at_point", "rounded", "broken", "unchecked", "definition"]

#: wall seconds of the judge per comparison
STEP_TIMEOUT = 1.0
_LITERAL = re.compile(r"^\s*-?\s*\d+(?:\.(\d+))?\s*$")
_LABEL = re.compile(r"^\s*\d{1,2}\s*[-.)]\s+(?=\S)")


@dataclass(frozen=True)
class SideView:
    latex: str
    mathml: str | None = None
    #: why the side could not be read; empty when it was
    unread: str = ""


@dataclass(frozen=True)
class Step:
    left: int
    right: int
    status: StepStatus
    #: the witness of a broken step, or why a step was not checked
    note: str = ""
    slip: bool = False


@dataclass(frozen=True)
class Derivation:
    """One chain as the report shows it (plain strings only: it travels between processes)."""

    task_id: str | None
    line: int
    sides: tuple[SideView, ...]
    steps: tuple[Step, ...]
    #: sentences naming each mistake, first one first
    mistakes: tuple[str, ...] = ()

    @property
    def first_broken(self) -> Step | None:
        return next((s for s in self.steps if s.status == "broken"), None)


@dataclass
class Reading:
    """A side read both ways; ``value`` None when it could not be read."""

    latex: str
    value: sympy.Expr | None = None
    shape: sympy.Expr | None = None
    unread: str = ""


@dataclass
class TaskContext:
    reader: Reader
    #: the point the task asks about (a = 2, b = 1), where steps may put its values in
    point: dict[sympy.Symbol, sympy.Expr] = field(default_factory=dict)
    #: wrong expressions the sheet names for the task, with their messages
    mistakes: list[tuple[sympy.Expr, str]] = field(default_factory=list)
    domains: dict[str, str] = field(default_factory=dict)


@dataclass
class Budget:
    """Comparisons and wall seconds left for the whole document. Each comparison is held to
    ``STEP_TIMEOUT`` by the judge's own timer; this bounds their number and their sum."""

    comparisons: int = 600
    seconds: float = 30.0
    started: float = field(default_factory=time.monotonic)

    def take(self) -> bool:
        self.comparisons -= 1
        return self.comparisons >= 0 and time.monotonic() - self.started < self.seconds


def read_side(latex: str, reader: Reader) -> Reading:
    try:
        value = reader.value(latex)
        shape = canonical_shape(reader.shape(latex))
    except Unreadable as exc:
        return Reading(latex, unread=str(exc)[:200])
    except Exception as exc:  # noqa: BLE001 - sympy fails in many ways; never the student's cost
        return Reading(latex, unread=f"the grader could not read it ({type(exc).__name__})")
    return Reading(latex, value, shape)


def check_chain(
    chain: Chain, task_id: str | None, ctx: TaskContext, budget: Budget
) -> tuple[Derivation, list[Reading]]:
    """The chain judged step by step, and its sides as read (for the final answers)."""
    readings = [read_side(s, ctx.reader) for s in chain.sides]
    steps: list[Step] = []
    for k in range(1, len(readings)):
        if k == 1 and _is_definition(readings[0], readings[1], ctx):
            steps.append(Step(0, 1, "definition"))
            continue
        status, note = compare(readings[k - 1], readings[k], ctx, budget, chain.approx[k])
        if k == 1 and status == "broken":
            status, note = _numbered(readings, ctx, budget, status, note)
        steps.append(Step(k - 1, k, status, note))
    steps = _mark_slips(steps, readings, ctx, budget)
    mistakes = tuple(_mistakes(chain, steps, readings, ctx, budget))
    sides = tuple(SideView(r.latex, _mathml(r.shape), r.unread) for r in readings)
    return Derivation(task_id, chain.line, sides, tuple(steps), mistakes), readings


def _is_definition(first: Reading, second: Reading, ctx: TaskContext) -> bool:
    """``h_1 = …`` names a value; ``f(x) = …`` defines a function: neither is a claim."""
    if ctx.reader.define(first.latex, second.latex) is not None:
        return True
    shape = first.shape
    return isinstance(shape, sympy.Symbol) and shape.name not in ctx.reader.definitions


def _numbered(
    readings: list[Reading], ctx: TaskContext, budget: Budget, status: StepStatus, note: str
) -> tuple[StepStatus, str]:
    """A first side ``1 - \\frac{…}`` may be the student's numbering “1 -”: read without it,
    the step holds, so it was."""
    m = _LABEL.match(readings[0].latex)
    if m is None:
        return status, note
    unnumbered = read_side(readings[0].latex[m.end() :], ctx.reader)
    again, _ = compare(unnumbered, readings[1], ctx, budget, False)
    if again in ("equal", "at_point", "rounded"):
        readings[0] = unnumbered
        return again, f"“{m.group().strip()}” read as a numbering"
    return status, note


def compare(
    left: Reading, right: Reading, ctx: TaskContext, budget: Budget, approx: bool
) -> tuple[StepStatus, str]:
    if left.value is None or right.value is None:
        why = left.unread or right.unread
        return "unchecked", f"not read: {why}" if why else "not read"
    if not budget.take():
        return (
            "unchecked",
            "not checked: the document has more steps than the grader checks in time",
        )
    verdict = _equivalent(right.value, left.value, ctx)
    if verdict.verdict == "equal":
        return "equal", ""
    if verdict.verdict == "undetermined":
        return "unchecked", f"undecided: {verdict.explanation}"
    if approx:
        return _approximately(left, right, ctx)
    if _rounded(left, right):
        return "rounded", "equal to the digits written"
    if ctx.point and _equal_at(left.value, right.value, ctx):
        where = ", ".join(f"{s} = {v}" for s, v in ctx.point.items())
        return "at_point", f"equal at {where}"
    return "broken", _witness(verdict)


def _equivalent(a: sympy.Expr, b: sympy.Expr, ctx: TaskContext) -> Equivalence:
    try:
        return equivalent(a, b, domains=dict(ctx.domains), timeout=STEP_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - a judge failure is never a student's mistake
        return Equivalence("undetermined", "judge failed", explanation=type(exc).__name__)


def _rounded(left: Reading, right: Reading) -> bool:
    """One side is a number written to some digits and the other rounds to it."""
    for literal, other in ((right, left), (left, right)):
        m = _LITERAL.match(literal.latex)
        if m is None or other.value is None or other.value.free_symbols:
            continue
        try:
            exact = complex(sympy.N(other.value, 30))
            written = float(sympy.N(literal.value, 30)) if literal.value is not None else None
        except (TypeError, ValueError):
            continue
        if written is None or abs(exact.imag) > 1e-12:
            continue
        decimals = len(m.group(1) or "")
        # an integer stands for a value rounded to it: “= 1” for 0.99999998 (e^18/(e^18 + 1))
        tol = 0.5 * 10.0**-decimals if decimals else 1e-6 * max(1.0, abs(written))
        if abs(exact.real - written) <= tol:
            return True
    return False


#: an approximation ``≈`` holds where the sides agree to this relative difference …
APPROX_RTOL = 1e-2
#: … or differ by less than this (``2.3·10⁻¹⁶ ≈ 0``)
APPROX_ATOL = 1e-9
#: where a formula ≈ formula is tried: near 0 (where this course expands) …
_APPROX_POINTS = (0.0, 0.5, -1.0, 1.5, -2.5, 3.0, -0.25, 2.0)
#: … and, for a simple approximating side (e^x for σ(x), 0 for σ'(x)), in the tails
_TAIL_POINTS = (10.0, -10.0, 30.0, -30.0)
#: a side with at most this many operations is simple enough to be a tail's approximation
_SIMPLE_OPS = 4


def _approximately(left: Reading, right: Reading, ctx: TaskContext) -> tuple[StepStatus, str]:
    """A ``≈`` step whose sides are not equal, checked numerically.

    Numbers: they agree to ``APPROX_RTOL``, or a side written with d decimals is the other
    rounded to d decimals (``0.3 ≈ 1/3``; ``0`` for 0.3 is not judged), else broken.

    Formulas: tried at the task's point and at points around 0. Agreeing at every one, the
    step holds; at some only (a Taylor polynomial near 0), it is an approximation there and
    is not judged. Apart everywhere, it is broken (``σ'(x) ≈ σ(x)(1 + σ(x))``), unless one
    side is a simple function (e^x, 1/x, a constant) that the other approaches in a tail
    (``σ(x) ≈ e^{x}`` far left): a statement about that tail, not judged.
    """
    assert left.value is not None and right.value is not None
    free = sorted(left.value.free_symbols | right.value.free_symbols, key=str)
    if not free:
        return _approximately_numbers(left, right)
    agree, witness = _agreement(left.value, right.value, _approx_points(free, ctx, _APPROX_POINTS))
    if not agree:
        return "unchecked", "not checked: the sides have no values the grader could find"
    if all(agree):
        return "rounded", "equal to within 1% wherever tried"
    if any(agree):
        return "unchecked", "an approximation that holds at some points only: not judged"
    simple = min(_ops(left.value), _ops(right.value)) <= _SIMPLE_OPS
    if simple:
        tails, _ = _agreement(left.value, right.value, _approx_points(free, None, _TAIL_POINTS))
        if any(tails):
            return "unchecked", "an approximation that holds far out only: not judged"
    return "broken", f"{witness}, and the sides are far apart wherever tried"


def _approximately_numbers(left: Reading, right: Reading) -> tuple[StepStatus, str]:
    assert left.value is not None and right.value is not None
    a, b = _number(left.value), _number(right.value)
    if a is None or b is None:
        return "unchecked", "not checked: a side has no real value the grader could find"
    if _close(a, b):
        return "rounded", "equal to the digits written"
    for literal, written, exact in ((right, b, a), (left, a, b)):
        m = _LITERAL.match(literal.latex)
        if m is None:
            continue
        if abs(exact - written) <= 0.5 * 10.0 ** -len(m.group(1) or ""):
            if written != 0:
                return "rounded", "equal to the digits written"
            return "unchecked", "not judged: written as 0 to no decimals"
    return "broken", (
        f"the left side is {_num(a, 6)} and the right side is {_num(b, 6)}: further apart "
        "than an approximation to the digits written"
    )


def _agreement(
    a: sympy.Expr, b: sympy.Expr, points: list[dict[sympy.Symbol, sympy.Expr]]
) -> tuple[list[bool], str]:
    """Whether the sides agree at each point where both have a value, and the first point
    where they do not, said for the feedback."""
    agree: list[bool] = []
    witness = ""
    for point in points:
        va, vb = _number(a.xreplace(point)), _number(b.xreplace(point))
        if va is None or vb is None:
            continue
        agree.append(_close(va, vb))
        if not agree[-1] and not witness:
            where = ", ".join(f"{k} = {_num(float(v))}" for k, v in point.items())
            witness = (
                f"at {where} the left side is {_num(va, 6)} and the right side is {_num(vb, 6)}"
            )
    return agree, witness


def _approx_points(
    free: Sequence[sympy.Symbol], ctx: TaskContext | None, values: Sequence[float]
) -> list[dict[sympy.Symbol, sympy.Expr]]:
    points = []
    if ctx is not None and ctx.point and all(s in ctx.point for s in free):
        points.append({s: ctx.point[s] for s in free})
    for k in range(len(values)):
        # the symbols get different values, so that a + b and 2a are told apart
        points.append(
            {s: sympy.Float(values[(k + 3 * i) % len(values)]) for i, s in enumerate(free)}
        )
    return points


def _ops(expr: sympy.Expr) -> int:
    try:
        return int(sympy.count_ops(expr))
    except Exception:  # noqa: BLE001 - counting is a courtesy; unknown is not simple
        return _SIMPLE_OPS + 1


def _number(expr: sympy.Expr) -> float | None:
    """The real value of a constant expression, under a small CPU budget; None if none."""
    try:
        z = numeric_value(expr, 15, budget=0.1)
    except (EvaluationError, TypeError, ValueError, ArithmeticError):
        return None
    if abs(z.imag) > 1e-12 * max(1.0, abs(z.real)) or z.real != z.real:
        return None
    return z.real


def _close(a: float, b: float) -> bool:
    d = abs(a - b)
    return d <= APPROX_ATOL or d <= APPROX_RTOL * max(abs(a), abs(b))


def _equal_at(a: sympy.Expr, b: sympy.Expr, ctx: TaskContext) -> bool:
    """One side is the other with (some of) the point's values put in: ``a + 2b + 1 = 2 + 2·1
    + 1``, or ``= 2 + 2b + 1`` with a = 2 only. The values go into the side that still holds
    those names, and what remains is compared as a formula; two sides that hold the same
    names are formulas, and equal at the point only is not equal (``a + b + 2`` is not
    ``a + 2b + 1``, though both are 5 at a = 2, b = 1)."""
    for full, put_in in ((a, b), (b, a)):
        missing = full.free_symbols - put_in.free_symbols
        if not missing or not put_in.free_symbols <= full.free_symbols:
            continue
        if not missing <= set(ctx.point):
            continue
        try:
            filled = full.xreplace({s: v for s, v in ctx.point.items() if s in missing})
        except (TypeError, ValueError):
            return False
        return _equivalent(filled, put_in, ctx).verdict == "equal"
    return False


def _witness(verdict: Equivalence) -> str:
    left, right = verdict.reference_value, verdict.student_value
    if right is not None:
        digits = 4
        while _num(left, digits) == _num(right, digits) and digits < 16:
            digits += 3
        values = (
            f"the left side is {_num(left, digits)} and the right side is {_num(right, digits)}"
        )
        if verdict.witness:
            where = ", ".join(f"{k} = {_num(v)}" for k, v in verdict.witness.items())
            return f"at {where} {values}"
        return values
    return verdict.explanation or "the two sides differ"


def _num(v: complex | float | None, digits: int = 4) -> str:
    if v is None:
        return "?"
    if isinstance(v, complex):
        if v.imag:
            return f"{v.real:.{digits}g}{v.imag:+.{digits}g}i"
        v = v.real
    return f"{v:.{digits}g}"


def _mark_slips(
    steps: list[Step], readings: list[Reading], ctx: TaskContext, budget: Budget
) -> list[Step]:
    """Two broken steps around one side whose neighbours are equal: one slip in that side."""
    out = list(steps)
    for k in range(1, len(out)):
        a, b = out[k - 1], out[k]
        if a.status != "broken" or b.status != "broken" or a.slip:
            continue
        before, after = readings[a.left], readings[b.right]
        status, _ = compare(before, after, ctx, budget, False)
        if status in ("equal", "at_point", "rounded"):
            out[k - 1] = Step(a.left, a.right, a.status, a.note, slip=True)
            out[k] = Step(b.left, b.right, b.status, b.note, slip=True)
    return out


def _mistakes(
    chain: Chain,
    steps: Sequence[Step],
    readings: list[Reading],
    ctx: TaskContext,
    budget: Budget,
) -> list[str]:
    out: list[str] = []
    k = 0
    while k < len(steps):
        step = steps[k]
        if step.status != "broken":
            k += 1
            continue
        left, right = _short(readings[step.left].latex), _short(readings[step.right].latex)
        wrong = readings[step.right]
        hints = _named(wrong, ctx) or _sign_hint(readings[step.left], wrong, ctx)
        lead = f"Line {chain.line}: " + "".join(f"{_clause(h)} " for h in hints)
        rel = _relation(chain, step.right)
        if step.slip and k + 1 < len(steps):
            after = steps[k + 1]
            nxt = _short(readings[after.right].latex)
            text = (
                f"{lead}“{left} {rel} {right}” does not hold ({step.note}), nor “{right} "
                f"{_relation(chain, after.right)} {nxt}” ({after.note}): the sides around "
                f"“{right}” agree, so the error is that side."
            )
            k += 2
        else:
            text = f"{lead}“{left} {rel} {right}” does not hold: {step.note}."
            k += 1
        out.append(text)
    return out


def _relation(chain: Chain, right: int) -> str:
    return "\\approx" if right < len(chain.approx) and chain.approx[right] else "="


def _clause(hint: str) -> str:
    """A hint as the opening of the sentence: no full stop of its own, a colon after."""
    return hint.rstrip().rstrip(".") + ":"


def _named(wrong: Reading, ctx: TaskContext) -> list[str]:
    """The sheet's message for a wrong side that is one of its named mistakes."""
    if wrong.value is None:
        return []
    return [
        message
        for expr, message in ctx.mistakes
        if _equivalent(wrong.value, expr, ctx).verdict == "equal"
    ][:1]


def _sign_hint(left: Reading, right: Reading, ctx: TaskContext) -> list[str]:
    """The step holds with −x for x on one side: a sign lost inside a function's argument?"""
    if left.value is None or right.value is None:
        return []
    symbols = sorted(left.value.free_symbols | right.value.free_symbols, key=str)
    if len(symbols) != 1:
        return []
    s = symbols[0]
    for which, reading, other in (("left", left, right), ("right", right, left)):
        assert reading.value is not None and other.value is not None
        flipped = reading.value.xreplace({s: -s})
        if _equivalent(flipped, other.value, ctx).verdict == "equal":
            calls = _calls_of(reading.shape, s)
            if calls:
                f = calls[0]
                return [
                    f"With −{s} for {s} on the {which} side it holds: {f}(−{s}) written as "
                    f"{f}({s})?"
                ]
            return [f"With −{s} for {s} on the {which} side it holds: a lost minus sign?"]
    return []


def _calls_of(shape: sympy.Expr | None, s: sympy.Symbol) -> list[str]:
    if shape is None:
        return []
    names = {"sigma": "σ"}
    return sorted(
        {
            names.get(type(f).__name__, type(f).__name__)
            for f in shape.atoms(AppliedUndef)
            if f.args == (s,)
        }
    )


def _short(latex: str, limit: int = 90) -> str:
    text = " ".join(latex.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mathml(shape: sympy.Expr | None) -> str | None:
    if shape is None:
        return None
    try:
        return sympy.mathml(shape, printer="presentation")
    except Exception:  # noqa: BLE001 - printing is a courtesy, never a verdict
        return None


def point_of(at: Mapping[str, object], symbols: Mapping[str, sympy.Symbol]) -> dict:
    """The task's point as a substitution, for numbers only (a network's arrays are no point)."""
    out: dict[sympy.Symbol, sympy.Expr] = {}
    for name, value in at.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[symbols.get(name) or sympy.Symbol(name, real=True)] = sympy.nsimplify(value)
    return out
