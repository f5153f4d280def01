"""Evaluating case formulas on trusted values, with the hand-in's functions as a hook.

A formula may call the hand-in's own functions (``softmax(z + c) == softmax(z)``). Those calls
cannot run here: they become probes for the sandbox. So a formula is evaluated twice. First
with a :class:`Collector`, which records each call of the hand-in with its (trusted) arguments
and returns :data:`PENDING`; everything computed from a pending value is pending too. Then,
once the sandbox has answered, with :class:`Answers`, which looks each call up. A call whose
arguments depend on another call's answer cannot be planned this way and is refused.

``==`` compares with the formula's tolerance (numbers, arrays and tuples alike); the other
relations hold when they hold for every entry.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import mpmath
import numpy as np

from grader.calc.library import CONSTANTS, FUNCTIONS, as_float_array
from grader.calc.syntax import REFERENCE_PREFIX, Formula, FormulaError

__all__ = [
    "PENDING",
    "Answers",
    "Collector",
    "Env",
    "StudentCall",
    "Tolerance",
    "call_key",
    "evaluate",
    "values_equal",
]


class _Pending:
    """A value that depends on an answer the sandbox has not given yet."""

    def __repr__(self) -> str:
        return "PENDING"


PENDING: Any = _Pending()


@dataclass(frozen=True)
class Tolerance:
    rtol: float = 1e-9
    atol: float = 1e-12


@dataclass(frozen=True)
class StudentCall:
    name: str
    args: tuple[Any, ...]


class StudentHook(Protocol):
    def __call__(self, name: str, args: tuple[Any, ...]) -> Any: ...


class Collector:
    """Records the hand-in calls a formula makes; every answer is pending."""

    def __init__(self) -> None:
        self.calls: dict[str, StudentCall] = {}

    def __call__(self, name: str, args: tuple[Any, ...]) -> Any:
        if any(_pending(a) for a in args):
            raise FormulaError(
                f"`{name}` is called with a value that depends on another answer of the "
                "hand-in; a formula can only pass the case's own values to the hand-in"
            )
        self.calls.setdefault(call_key(name, args), StudentCall(name, args))
        return PENDING


@dataclass
class Answers:
    """Looks up the hand-in's answers by call; ``read`` turns an answer into a value."""

    answers: Mapping[str, Any]
    read: Callable[[str, Any], Any] = field(default=lambda name, value: value)

    def __call__(self, name: str, args: tuple[Any, ...]) -> Any:
        return self.read(name, self.answers[call_key(name, args)])


def call_key(name: str, args: tuple[Any, ...]) -> str:
    """A key that is the same for the same call (name and argument values): cheap, because a
    check asks it for every case and every property of every hand-in."""
    if len(args) == 1 and type(args[0]) is float:
        return f"{name}|f{args[0]!r}"  # the commonest call, keyed as _arg_key would
    return name + "|" + "|".join(_arg_key(a) for a in args)


def _arg_key(value: Any) -> str:
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, (int, np.integer)):
        return f"i{int(value)}"
    if isinstance(value, (float, np.floating)):
        return f"f{float(value)!r}"
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        digest = hashlib.blake2b(np.ascontiguousarray(value).tobytes(), digest_size=16).hexdigest()
        return f"a{value.dtype.str}{value.shape}{digest}"
    if isinstance(value, (list, tuple)):
        inner = ",".join(_arg_key(v) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    from grader.sandbox.protocol import encode_value

    return json.dumps(encode_value(value), sort_keys=True)


@dataclass
class Env:
    """Everything a formula may name."""

    variables: Mapping[str, Any]
    #: trusted functions: the sheet's definitions and the reference module
    functions: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    #: names of the hand-in's functions, and how to call them
    student_names: frozenset[str] = frozenset()
    student: StudentHook | None = None
    tolerance: Tolerance = Tolerance()
    #: scalars in mpmath at 30 digits (references of scalar functions)
    precise: bool = False


def evaluate(formula: Formula, env: Env) -> Any:
    with np.errstate(all="ignore"), mpmath.workdps(30 if env.precise else mpmath.mp.dps):
        return _Eval(env).visit(formula.tree.body)


def _pending(value: Any) -> bool:
    if value is PENDING:
        return True
    if isinstance(value, (list, tuple)):
        return any(_pending(v) for v in value)
    return False


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.Mod: operator.mod,
    ast.FloorDiv: operator.floordiv,
    ast.MatMult: lambda a, b: as_float_array(a) @ as_float_array(b),
}


class _Eval:
    def __init__(self, env: Env) -> None:
        self.env = env
        self.locals: dict[str, Any] = {}

    def visit(self, node: ast.AST) -> Any:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:  # the syntax check lets nothing else through
            raise FormulaError(f"{type(node).__name__} cannot be evaluated")
        return method(node)

    def _Constant(self, node: ast.Constant) -> Any:
        if self.env.precise and isinstance(node.value, float):
            return mpmath.mpf(repr(node.value))
        return node.value

    def _Name(self, node: ast.Name) -> Any:
        name = node.id
        if name in self.locals:
            return self.locals[name]
        if name in self.env.variables:
            return self.env.variables[name]
        if name in CONSTANTS:
            if self.env.precise and name in ("pi", "e", "E"):
                return +mpmath.pi if name == "pi" else mpmath.e + 0
            return CONSTANTS[name]
        raise FormulaError(f"unknown name `{name}`")

    def _Attribute(self, node: ast.Attribute) -> Any:
        if node.attr == "T":
            value = self.visit(node.value)
            return PENDING if _pending(value) else np.transpose(as_float_array(value))
        raise FormulaError(f"`{REFERENCE_PREFIX}.{node.attr}` is a function: call it")

    def _Tuple(self, node: ast.Tuple) -> Any:
        return tuple(self.visit(e) for e in node.elts)

    def _List(self, node: ast.List) -> Any:
        return [self.visit(e) for e in node.elts]

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.visit(node.operand)
        if _pending(value):
            return PENDING
        if isinstance(node.op, ast.Not):
            return not _truth(value)
        value = _arith(value)
        return -value if isinstance(node.op, ast.USub) else +value

    def _BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.visit(node.left), self.visit(node.right)
        if _pending(left) or _pending(right):
            return PENDING
        left, right = _arith(left), _arith(right)
        if self.env.precise and isinstance(node.op, ast.Div):
            if isinstance(left, int) and isinstance(right, int):
                left = mpmath.mpf(left)
        try:
            return _BINARY[type(node.op)](left, right)
        except ZeroDivisionError:
            return math.nan
        except OverflowError:
            return math.inf

    def _BoolOp(self, node: ast.BoolOp) -> Any:
        values = [self.visit(v) for v in node.values]  # no short cut: collect every call
        if any(_pending(v) for v in values):
            return PENDING
        truths = [_truth(v) for v in values]
        return all(truths) if isinstance(node.op, ast.And) else any(truths)

    def _Compare(self, node: ast.Compare) -> Any:
        values = [self.visit(node.left), *(self.visit(c) for c in node.comparators)]
        if any(_pending(v) for v in values):
            return PENDING
        return all(
            relation_holds(type(op), a, b, self.env.tolerance)
            for op, a, b in zip(node.ops, values, values[1:], strict=False)
        )

    def _IfExp(self, node: ast.IfExp) -> Any:
        test, body, other = self.visit(node.test), self.visit(node.body), self.visit(node.orelse)
        if _pending(test):
            return PENDING
        return body if _truth(test) else other

    def _Subscript(self, node: ast.Subscript) -> Any:
        value, index = self.visit(node.value), self.visit(node.slice)
        if _pending(value) or _pending(index):
            return PENDING
        if isinstance(value, (list, tuple)) and isinstance(index, int):
            return value[index]
        return as_float_array(value)[_as_index(index)]

    def _Slice(self, node: ast.Slice) -> slice:
        parts = [
            None if p is None else int(self.visit(p)) for p in (node.lower, node.upper, node.step)
        ]
        return slice(*parts)

    def _ListComp(self, node: ast.ListComp) -> Any:
        if len(node.generators) != 1:
            raise FormulaError("a comprehension takes one `for`")
        gen = node.generators[0]
        assert isinstance(gen.target, ast.Name)
        items = self.visit(gen.iter)
        if _pending(items):
            raise FormulaError("a comprehension cannot run over the hand-in's answer")
        out = []
        saved = dict(self.locals)
        try:
            for item in _iterate(items):
                self.locals[gen.target.id] = item
                if all(_truth(self.visit(cond)) for cond in gen.ifs):
                    out.append(self.visit(node.elt))
        finally:
            self.locals = saved
        return out

    def _Call(self, node: ast.Call) -> Any:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr  # type: ignore[attr-defined]
        args = tuple(self.visit(a) for a in node.args)
        kwargs = {k.arg: self.visit(k.value) for k in node.keywords if k.arg}
        via_ref = isinstance(func, ast.Attribute)
        if not via_ref and name in self.env.student_names:
            if kwargs:
                raise FormulaError(f"call the hand-in's `{name}` with positional arguments")
            if self.env.student is None:
                raise FormulaError(f"`{name}` is the hand-in's function; it cannot be used here")
            return self.env.student(name, args)
        if _pending(args) or _pending(tuple(kwargs.values())):
            return PENDING
        fn = self.env.functions.get(name) if via_ref else self._function(name)
        if fn is None:
            raise FormulaError(f"unknown function `{name}`")
        return fn(*args, **kwargs)

    def _function(self, name: str) -> Callable[..., Any] | None:
        return self.env.functions.get(name) or FUNCTIONS.get(name)


def _arith(value: Any) -> Any:
    """Lists and tuples of numbers take part in arithmetic as arrays."""
    if isinstance(value, (list, tuple)):
        return as_float_array(value)
    if isinstance(value, bool):
        return int(value)
    return value


def _truth(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return bool(np.all(value))
    return bool(value)


def _as_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_as_index(i) for i in index)
    if isinstance(index, (float, np.floating)) and float(index).is_integer():
        return int(index)
    return index


def _iterate(items: Any) -> Iterable[Any]:
    if isinstance(items, (list, tuple, range)):
        return items
    return list(as_float_array(items))


def values_equal(a: Any, b: Any, tol: Tolerance) -> bool:
    """Equal within tolerance: shapes must agree, NaN never equals, infinities only themselves."""
    if type(a) in _SCALARS and type(b) in _SCALARS:
        return _numbers_equal(float(a), float(b), tol)  # the common case, without numpy
    if isinstance(a, tuple) and isinstance(b, tuple) and _ragged(a + b):
        # (w, b) pairs of an array and a number: item by item
        return len(a) == len(b) and all(values_equal(x, y, tol) for x, y in zip(a, b, strict=True))
    try:
        x, y = as_float_array(a), as_float_array(b)
    except (TypeError, ValueError):
        return False
    if x.shape != y.shape:
        return False
    if np.any(np.isnan(x)) or np.any(np.isnan(y)):
        return False
    inf = np.isinf(x) | np.isinf(y)
    if np.any(inf) and not np.array_equal(x[inf], y[inf]):
        return False
    fin = ~inf
    scale = np.maximum(np.abs(x[fin]), np.abs(y[fin]))
    return bool(np.all(np.abs(x[fin] - y[fin]) <= tol.atol + tol.rtol * scale))


def _numbers_equal(x: float, y: float, tol: Tolerance) -> bool:
    if x == y:
        return not math.isnan(x)
    if math.isinf(x) or math.isinf(y) or math.isnan(x) or math.isnan(y):
        return False
    return abs(x - y) <= tol.atol + tol.rtol * max(abs(x), abs(y))


def _ragged(items: tuple[Any, ...]) -> bool:
    """Whether a tuple holds arrays or sequences (compared item by item, not as one array)."""
    return any(isinstance(v, (list, tuple)) or np.ndim(v) > 0 for v in items)


_SCALARS = (int, float, np.float64, np.int64)


def relation_holds(op: type[ast.cmpop], a: Any, b: Any, tol: Tolerance) -> bool:
    if op is ast.Eq:
        return values_equal(a, b, tol)
    if op is ast.NotEq:
        return not values_equal(a, b, tol)
    x, y = as_float_array(a), as_float_array(b)
    slack = tol.atol + tol.rtol * np.maximum(np.abs(x), np.abs(y))
    with np.errstate(invalid="ignore"):
        if op is ast.Lt:
            held = x < y
        elif op is ast.Gt:
            held = x > y
        elif op is ast.LtE:
            held = x <= y + slack
        else:
            held = x >= y - slack
    return bool(np.all(held))
