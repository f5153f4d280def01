"""Kind ``graph_gradient``: the gradient of a computational graph's output.

The sheet gives the graph as nodes in earlier nodes and the inputs
(``c: a + b``, ``d: b + 1``, ``e: c * d``), the ``output`` node, the
``inputs`` in the order the hand-in's function takes them and returns the
partial derivatives, and the point ``at`` where the task asks for values.
The hand-in's function (``gradients(a, b) -> (de_da, de_db)``) is called

1. at the given point (the ``given`` share of the points),
2. at random points, and with sympy symbols, so that the general formula is
   judged (the ``random`` share): symbolically with
   :func:`grader.judge.equivalence.equivalent` where the function accepts
   symbols, else numerically at the random points (the feedback says which).

Points are split per partial derivative, so a hand-in with ∂e/∂a right and
∂e/∂b wrong gets half. Mistakes are ``{output: j, expr: ..., message: ...}``
with ``expr`` in the graph's node names (``d``) and ``output`` the 0-based
index of the partial derivative (omitted: any); they are recognised
symbolically and at the numbers. Built in: a partial derivative that sums
only some of the paths from its input to the output (a forgotten path), and
partial derivatives returned in the wrong order.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Literal

import numpy as np
import sympy
from pydantic import Field

from grader.cache import cached
from grader.checks.answers import WrongType, as_expr, as_float, as_sequence
from grader.checks.base import Check, Trial, describe_error, fmt
from grader.checks.verdict import Part, check_verdict
from grader.judge.equivalence import Equivalence, equivalent
from grader.results import CaseResult, CheckResult, Mistake
from grader.sandbox.protocol import Outcome, Probe, Symbol
from grader.sheet.common import CheckSpec, Model
from grader.sheet.context import SpecError
from grader.solver.graph import Graph, GraphError

MISSING_PATH_KEY = "graph_gradient:missing_path"
SWAPPED_KEY = "graph_gradient:swapped"


class SplitSpec(Model):
    """Relative weights: the value at the given point, and the formula for any point."""

    given: Annotated[float, Field(ge=0)] = 1.0
    random: Annotated[float, Field(ge=0)] = 1.0


class GraphGradientSpec(CheckSpec):
    kind: Literal["graph_gradient"]
    #: node name -> expression in the inputs and other nodes (no cycles)
    nodes: Annotated[dict[str, str], Field(min_length=1)]
    output: str
    #: the function's arguments, and the order of the partial derivatives it returns
    inputs: Annotated[list[str], Field(min_length=1)]
    #: the point the task asks about, or the name of the sheet's given data holding it
    at: dict[str, float] | str
    random_points: Annotated[int, Field(ge=0, le=20)] = 4
    #: range each input is drawn from (default by its domain: (-3, 3), positive (0.1, 3))
    sample: dict[str, tuple[float, float]] = {}
    #: also call the function with sympy symbols and judge the formulas
    symbolic: bool = True
    points_split: SplitSpec = SplitSpec()
    rtol: Annotated[float, Field(gt=0, lt=1)] = 1e-6
    atol: Annotated[float, Field(ge=0)] = 1e-9


@dataclass(frozen=True)
class _Alternative:
    """A wrong formula for one partial derivative, and how to name it."""

    key: str
    message: str
    expr: sympy.Expr
    fn: Callable[..., Any]


@dataclass
class _Answers:
    """What the hand-in returned, read into numbers and expressions."""

    given: list[float] | None = None
    given_error: str | None = None
    error_kind: str | None = None
    randoms: list[list[float] | None] = field(default_factory=list)
    random_error: str | None = None
    exprs: list[sympy.Expr] | None = None
    #: why the formulas were not judged symbolically
    numeric_because: str | None = None
    #: this kind of hand-in cannot answer these (a written one without a formula): not scored
    given_unanswerable: bool = False
    general_unanswerable: bool = False


def _assumptions(domain: Any) -> dict[str, bool]:
    if isinstance(domain, tuple):
        return {"positive": True} if domain[0] >= 0 else {"real": True}
    return {
        "positive": {"positive": True},
        "nonnegative": {"nonnegative": True},
        "integer": {"integer": True},
        "positive_integer": {"integer": True, "positive": True},
    }.get(domain, {"real": True})


def _range(domain: Any) -> tuple[float, float]:
    if isinstance(domain, tuple):
        lo, hi = domain
        lo = max(float(lo), -3.0) if math.isfinite(lo) else -3.0
        hi = min(float(hi), lo + 6.0) if math.isfinite(hi) else lo + 6.0
        return lo, hi
    return {"positive": (0.1, 3.0), "nonnegative": (0.0, 3.0), "positive_integer": (1.0, 5.0)}.get(
        domain, (-3.0, 3.0)
    )


def _equivalent(
    given: sympy.Expr, reference: sympy.Expr, domains: Mapping[str, Any]
) -> Equivalence | None:
    """The judge's verdict; None when it failed (the numbers decide then)."""
    try:
        return equivalent(given, reference, domains=dict(domains), rtol=1e-9)
    except Exception:  # noqa: BLE001 - a judge failure must not cost the student points
        return None


def _agree(a: sympy.Expr, b: sympy.Expr) -> bool:
    """Whether ``a - b`` simplifies to zero (slow)."""
    return bool(sympy.simplify(a - b) == 0)


def _unanswerable(outcome: Outcome | None) -> bool:
    return (
        outcome is not None and outcome.error is not None and outcome.error.kind == "unanswerable"
    )


def _number(v: float) -> int | float:
    return int(v) if float(v).is_integer() and abs(v) < 2**53 else float(v)


class GraphGradientCheck(Check[GraphGradientSpec]):
    kind = "graph_gradient"
    Spec = GraphGradientSpec

    # ------------------------------------------------------------------ prepare
    def prepare(self) -> None:
        spec, ctx = self.spec, self.ctx
        for name in [*spec.inputs, *spec.nodes, spec.output]:
            if not name.isidentifier():
                raise SpecError(
                    "inputs" if name in spec.inputs else ("nodes", name), f"{name!r} is not a name"
                )
        self.inputs = tuple(ctx.symbol(x) for x in spec.inputs)
        node_symbols = {n: sympy.Symbol(n, real=True) for n in spec.nodes if n not in spec.inputs}
        self.names: dict[str, sympy.Symbol] = {
            **dict(zip(spec.inputs, self.inputs, strict=True)),
            **node_symbols,
        }
        nodes: dict[sympy.Symbol, sympy.Expr] = {}
        for name, text in spec.nodes.items():
            if name in spec.inputs:
                raise SpecError(("nodes", name), f"{name} is an input and cannot be a node too")
            nodes[node_symbols[name]] = ctx.parse(text, ("nodes", name), extra=self.names)
        if spec.output not in node_symbols:
            raise SpecError("output", f"the output {spec.output!r} is not one of the nodes")
        try:
            self.graph = Graph.build(self.inputs, nodes, node_symbols[spec.output])
        except GraphError as exc:
            raise SpecError(("nodes", exc.node) if exc.node else "inputs", str(exc)) from exc
        self.reference = self.graph.gradient
        self.ref_fns = [self._lambdify(e) for e in self.reference]
        # the explanation relies on the backward pass agreeing with differentiation
        # (simplify is slow, so its verdict is cached on disk by the two expressions)
        for x, g in zip(self.inputs, self.reference, strict=True):
            backward = self.graph.substitute(self.graph.adjoints[x])
            assert backward == g or cached(
                "graph_gradient.backward_agrees",
                [sympy.srepr(backward), sympy.srepr(g)],
                functools.partial(_agree, backward, g),
                code=[__file__],
            )
        at = self._point_asked()
        for key in at:
            if key not in spec.inputs:
                raise SpecError(("at", key), f"{key} is not an input ({', '.join(spec.inputs)})")
        missing = [x for x in spec.inputs if x not in at]
        if missing:
            raise SpecError("at", f"the point gives no value for {', '.join(missing)}")
        self.at = tuple(float(at[x]) for x in spec.inputs)
        expected = self._values(self.ref_fns, self.at)
        if expected is None:
            raise SpecError("at", "the gradient is not defined (or not real) at this point")
        self.expected = expected
        for key in spec.sample:
            if key not in spec.inputs:
                raise SpecError(("sample", key), f"{key} is not an input")
        self.ranges = [spec.sample.get(x, _range(ctx.domains.get(x, "real"))) for x in spec.inputs]
        self.alternatives = [self._mistakes(j) for j in range(len(self.inputs))]
        split = spec.points_split
        if split.given + split.random <= 0:
            raise SpecError("points_split", "both parts are weighted 0")

    def _lambdify(self, expr: sympy.Expr) -> Callable[..., Any]:
        return sympy.lambdify(self.inputs, expr, modules=["math"])

    def _values(
        self, fns: Sequence[Callable[..., Any]], point: Sequence[float]
    ) -> list[float] | None:
        out = []
        for fn in fns:
            try:
                v = fn(*point)
            except (ValueError, ZeroDivisionError, OverflowError, TypeError):
                return None
            if isinstance(v, complex) or not math.isfinite(float(v)):
                return None
            out.append(float(v))
        return out

    def _mistakes(self, j: int) -> list[_Alternative]:
        """The sheet's mistakes for partial derivative j, then the built-in ones."""
        spec, out = self.spec, []
        for i, m in enumerate(spec.mistakes):
            if m.expr is None:
                raise SpecError(("mistakes", i), "a graph_gradient mistake needs an `expr:`")
            output = self._output_index(i, m.output)
            if output not in (None, j):
                continue
            expr = self.graph.substitute(
                self.ctx.parse(m.expr, ("mistakes", i, "expr"), extra=self.names)
            )
            if output == j and self._same(expr, self.reference[j]):
                raise SpecError(("mistakes", i, "expr"), "this is the right answer, not a mistake")
            out.append(_Alternative(self.mistake(i).key, m.message, expr, self._lambdify(expr)))
        x, o = self.inputs[j], self.spec.output
        paths = self.graph.paths(x)
        for subset, total in self.graph.partial_sums(x):
            kept = " and ".join(p.arrow() for p in subset)
            lost = " and ".join(p.arrow() for p in paths if p not in subset)
            message = (
                f"∂{o}/∂{x.name} follows only {kept} and forgets {lost}: the chain rule "
                f"sums over every path from {x.name} to {o}."
            )
            out.append(_Alternative(MISSING_PATH_KEY, message, total, self._lambdify(total)))
        return out

    def _point_asked(self) -> dict[str, float]:
        if isinstance(self.spec.at, dict):
            return self.spec.at
        try:
            point = self.ctx.given_value(self.spec.at)
        except KeyError:
            raise SpecError("at", f"no given data {self.spec.at!r}") from None
        if not isinstance(point, dict):
            raise SpecError("at", f"given data {self.spec.at!r} is not a point (name: value)")
        return {k: float(v) for k, v in point.items()}

    def given_expectations(self) -> dict[tuple[str, int], str]:
        return {("given", j): fmt(_number(v)) for j, v in enumerate(self.expected)}

    def given_data(self) -> list[str]:
        return [self.spec.at] if isinstance(self.spec.at, str) else []

    def _output_index(self, i: int, output: int | str | None) -> int | None:
        """A mistake's ``output``: the index of a partial derivative, or its input's name."""
        if isinstance(output, str):
            if output not in self.spec.inputs:
                raise SpecError(("mistakes", i, "output"), f"{output!r} is not an input")
            return self.spec.inputs.index(output)
        if output is not None and not 0 <= output < len(self.inputs):
            raise SpecError(
                ("mistakes", i, "output"),
                f"output must be 0 … {len(self.inputs) - 1} (one per input)",
            )
        return output

    def _same(self, a: sympy.Expr, b: sympy.Expr) -> bool:
        """Numerically equal at a few fixed points (for validating the sheet's mistakes)."""
        fa, fb = self._lambdify(a), self._lambdify(b)
        rng = np.random.default_rng(0)
        tried = 0
        for _ in range(20):
            point = [float(rng.uniform(lo, hi)) for lo, hi in self.ranges]
            va, vb = self._values([fa], point), self._values([fb], point)
            if va is None or vb is None:
                continue
            tried += 1
            if not math.isclose(va[0], vb[0], rel_tol=1e-9, abs_tol=1e-12):
                return False
        return tried > 0

    def skeleton(self) -> str:
        return f"def {self.spec.name}({', '.join(self.spec.inputs)}):"

    # ------------------------------------------------------------------ trial
    def trial(self, rng: np.random.Generator) -> Trial:
        spec = self.spec
        points: list[tuple[float, ...]] = []
        for _ in range(spec.random_points):
            for _attempt in range(50):
                p = tuple(round(float(rng.uniform(lo, hi)), 3) for lo, hi in self.ranges)
                if self._values(self.ref_fns, p) is not None:
                    points.append(p)
                    break
        probes: list[Probe] = [self.probe("given", args=[_number(v) for v in self.at])]
        probes += [self.probe(f"random/{k}", args=list(p)) for k, p in enumerate(points)]
        if spec.symbolic:
            markers = [
                Symbol(x, _assumptions(self.ctx.domains.get(x, "real"))) for x in spec.inputs
            ]
            probes.append(self.probe("symbolic", args=markers))
        ids = [p.id for p in probes]

        def judge(outcomes: Mapping[str, Outcome]) -> CheckResult:
            return self._judge(points, ids, outcomes)

        return Trial(tuple(probes), judge)

    # ------------------------------------------------------------------ judging
    def _what(self, j: int) -> str:
        return f"∂{self.spec.output}/∂{self.spec.inputs[j]}"

    def _read(self, value: Any) -> list[Any]:
        n = len(self.inputs)
        if n == 1 and not isinstance(value, (list, tuple, np.ndarray)):
            return [value]
        return as_sequence(value, f"the answer of `{self.spec.name}`", n)

    def _numbers(
        self, outcome: Outcome | None
    ) -> tuple[list[float] | None, str | None, str | None]:
        """(values, error text, error kind)."""
        if outcome is None:
            return None, f"`{self.spec.name}` gave no answer.", "sandbox"
        if outcome.error is not None:
            err = outcome.error
            kind = err.kind if err.kind not in ("missing", "not_callable", "bad_value") else None
            return None, describe_error(self.spec.name, err), kind
        try:
            items = self._read(outcome.value)
            return [as_float(v, self._what(j)) for j, v in enumerate(items)], None, None
        except WrongType as exc:
            text = str(exc)
            return None, f"{text[0].upper()}{text[1:]}.", None

    def _symbolic(self, outcome: Outcome | None) -> tuple[list[sympy.Expr] | None, str | None]:
        if outcome is None:
            return None, "the call with symbols gave no answer"
        if outcome.error is not None:
            err = outcome.error
            if err.kind == "exception":
                return (
                    None,
                    f"`{self.spec.name}` does not accept sympy symbols ({err.message[:120]})",
                )
            return None, f"the call with symbols failed ({err.kind})"
        try:
            items = self._read(outcome.value)
            exprs = [as_expr(v, self.names, self._what(j)) for j, v in enumerate(items)]
        except WrongType as exc:
            return None, f"its answer for symbols could not be read ({exc})"
        allowed = set(self.inputs)
        for e in exprs:
            extra = {s for s in e.free_symbols if s not in allowed}
            if extra:
                names = ", ".join(sorted(s.name for s in extra))
                return None, f"its formulas contain {names}, which are not inputs"
        return exprs, None

    def _close(self, given: float, ref: float) -> bool:
        return abs(given - ref) <= self.spec.atol + self.spec.rtol * abs(ref)

    def _point(self, point: Sequence[float]) -> str:
        return ", ".join(
            f"{x} = {fmt(_number(v), 4)}" for x, v in zip(self.spec.inputs, point, strict=True)
        )

    def _judge(
        self, points: list[tuple[float, ...]], ids: list[str], outcomes: Mapping[str, Outcome]
    ) -> CheckResult:
        spec = self.spec
        ans = self._answers(points, ids, outcomes)
        refs = [self._values(self.ref_fns, p) for p in points]
        domains = {x: self.ctx.domains.get(x, "real") for x in spec.inputs}
        swapped = self._swapped(ans, points, refs)
        given_cases, general_cases, notes = [], [], []
        symbolic_used = []
        for j in range(len(self.inputs)):
            given, general, used, more = self._derivative(j, ans, points, refs, domains, swapped)
            given_cases.append(given)
            general_cases.append(general)
            symbolic_used.append(used)
            notes += more
        if ans.random_error and not ans.given_error:
            notes.append(f"At other points: {ans.random_error}")
        extra = [Mistake(SWAPPED_KEY, swapped)] if swapped else []
        method = "symbolic" if all(symbolic_used) else "numeric"
        if ans.given is not None:
            notes.append(self._how(method, ans, points))
        split = spec.points_split
        result = check_verdict(
            self,
            [
                Part("given", split.given, self._point(self.at), tuple(given_cases), given=True),
                Part("general", split.random, "other points", tuple(general_cases)),
            ],
            method=method,
            success=f"`{spec.name}` returns the right partial derivatives.",
            notes=notes,
            mistakes=extra,
        )
        return replace(
            result,
            expected=None if spec.hidden else fmt(tuple(_number(v) for v in self.expected)),
            given=None
            if spec.hidden or ans.given is None
            else fmt(tuple(_number(v) for v in ans.given)),
        )

    def _answers(
        self, points: list[tuple[float, ...]], ids: list[str], outcomes: Mapping[str, Outcome]
    ) -> _Answers:
        spec = self.spec
        ans = _Answers()
        ans.given, ans.given_error, ans.error_kind = self._numbers(outcomes.get(ids[0]))
        unanswerable = [_unanswerable(outcomes.get(i)) for i in ids]
        ans.given_unanswerable = unanswerable[0]
        randoms = unanswerable[1 : 1 + len(points)]
        symbolic = unanswerable[-1] if spec.symbolic else True
        ans.general_unanswerable = all(randoms) and symbolic
        if ans.given_unanswerable:
            ans.given_error, ans.error_kind = None, None
        for k in range(len(points)):
            vals, err, kind = self._numbers(outcomes.get(ids[1 + k]))
            ans.randoms.append(vals)
            if err and not ans.random_error and not randoms[k]:
                ans.random_error, ans.error_kind = err, ans.error_kind or kind
        if spec.symbolic and ans.given_error is None:
            ans.exprs, ans.numeric_because = self._symbolic(outcomes.get(ids[-1]))
        elif spec.symbolic:
            ans.numeric_because = "it gave no numbers either"
        else:
            ans.numeric_because = "the sheet asks for numbers only"
        return ans

    def _derivative(
        self,
        j: int,
        ans: _Answers,
        points: list[tuple[float, ...]],
        refs: list[list[float] | None],
        domains: Mapping[str, Any],
        swapped: str | None,
    ) -> tuple[CaseResult, CaseResult, bool, list[str]]:
        """Partial derivative j at the given point and in general, and what to say."""
        what, at = self._what(j), self._point(self.at)
        notes: list[str] = []
        given_ok = ans.given is not None and self._close(ans.given[j], self.expected[j])
        numeric = [
            r is not None and v is not None and self._close(v[j], r[j])
            for v, r in zip(ans.randoms, refs, strict=True)
        ]
        verdict = _equivalent(ans.exprs[j], self.reference[j], domains) if ans.exprs else None
        used = verdict is not None and verdict.verdict != "undetermined"
        if verdict is not None and verdict.verdict == "equal":
            general_ok = all(numeric)
        elif verdict is not None and verdict.verdict == "different":
            general_ok = False
        else:
            general_ok = bool(points) and all(numeric) and given_ok
        named = [] if swapped or (given_ok and general_ok) else self._match(j, ans, points)
        mistake = Mistake(named[0].key, named[0].message) if named else None
        if mistake is not None and ans.given is not None and not self.spec.hidden:
            notes.append(f"By the chain rule, {self.graph.explain(self.inputs[j])}.")
        if given_ok and not general_ok and not self.spec.hidden and not ans.general_unanswerable:
            notes.append(self._not_general(j, ans, points, refs))
        given = CaseResult(
            f"{what} at {at}",
            "given",
            given_ok,
            unanswerable=ans.given_unanswerable,
            expected=fmt(_number(self.expected[j])),
            given=None if ans.given is None else fmt(_number(ans.given[j])),
            mistake=mistake if not given_ok else None,
            note=ans.given_error,
            error=ans.error_kind if ans.given_error else None,
        )
        general = CaseResult(
            f"{what} in general",
            "general",
            general_ok,
            unanswerable=ans.general_unanswerable,
            expected=sympy.sstr(self.reference[j]),
            given=sympy.sstr(ans.exprs[j]) if ans.exprs else None,
            mistake=mistake if not general_ok else None,
            note=ans.given_error or (ans.random_error if not ans.exprs else None),
            error=ans.error_kind if ans.given_error or ans.random_error else None,
        )
        return given, general, used, notes

    def _not_general(
        self, j: int, ans: _Answers, points: list[tuple[float, ...]], refs: list[list[float] | None]
    ) -> str:
        what, at = self._what(j), self._point(self.at)
        for p, v, r in zip(points, ans.randoms, refs, strict=True):
            if v is not None and r is not None and not self._close(v[j], r[j]):
                return (
                    f"{what} is right at {at} but not in general: at {self._point(p)} it should "
                    f"be {fmt(r[j])}, but yours is {fmt(v[j])}."
                )
        return f"{what} is right at {at} but not in general."

    def _how(self, method: str, ans: _Answers, points: list[tuple[float, ...]]) -> str:
        spec = self.spec
        if method == "symbolic":
            return (
                f"Judged symbolically: `{spec.name}` was called with the symbols "
                f"{', '.join(spec.inputs)} and its formulas compared with the derivatives;"
                f" the values were checked at {self._point(self.at)}."
            )
        why = f": {ans.numeric_because}" if ans.numeric_because else ""
        return f"Judged numerically at {self._point(self.at)} and {len(points)} random points{why}."

    def _match(self, j: int, ans: _Answers, points: list[tuple[float, ...]]) -> list[_Alternative]:
        """The alternatives for partial derivative j that the answer matches."""
        found: list[_Alternative] = []
        domains = {x: self.ctx.domains.get(x, "real") for x in self.spec.inputs}
        numeric_points = [(self.at, ans.given)] + list(zip(points, ans.randoms, strict=True))
        usable = [(p, v[j]) for p, v in numeric_points if v is not None]
        for alt in self.alternatives[j]:
            if alt.key == MISSING_PATH_KEY and any(a.key != MISSING_PATH_KEY for a in found):
                continue  # the sheet's own message names it better
            if ans.exprs is not None:
                if _equivalent(ans.exprs[j], alt.expr, domains):
                    found.append(alt)
                continue
            if not usable:
                continue
            differs = False
            matches = True
            for p, v in usable:
                vals = self._values([alt.fn, self.ref_fns[j]], p)
                if vals is None or not self._close(v, vals[0]):
                    matches = False
                    break
                differs = differs or not self._close(vals[1], vals[0])
            if matches and differs:
                found.append(alt)
        return found[:1]

    def _swapped(
        self, ans: _Answers, points: list[tuple[float, ...]], refs: list[list[float] | None]
    ) -> str | None:
        if len(self.inputs) != 2:
            return None
        pairs = [(ans.given, self.expected)] + list(zip(ans.randoms, refs, strict=True))
        usable = [(v, r) for v, r in pairs if v is not None and r is not None]
        if not usable or not any(not self._close(r[0], r[1]) for _, r in usable):
            return None
        if all(self._close(v[0], r[1]) and self._close(v[1], r[0]) for v, r in usable):
            a, b = self.spec.inputs
            o = self.spec.output
            return (
                f"The partial derivatives are swapped: return (∂{o}/∂{a}, ∂{o}/∂{b}), in the "
                f"order of the arguments."
            )
        return None
