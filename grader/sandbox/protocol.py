"""What the grading process asks of a hand-in, and what may come back.

The grader never runs student code in its own process. It sends a list of
*probes* ("call `sigmoid` with this array", "read `N_PARAMETERS`") to a
sandboxed child, and the child answers each with plain JSON: numbers,
strings, lists, arrays as (flat list, shape, dtype) and sympy expressions as
strings in sympy syntax. The parent decodes that JSON with the functions here
and parses expression strings with the safe parser (``grader.judge.parse``),
so nothing from the child is ever unpickled or evaluated.

Wire format of one value (``encode_value``/``decode_value``):

- JSON ``null``, ``true``/``false``, integers, finite floats and strings
  stand for themselves;
- ``{"$float": "nan" | "inf" | "-inf"}`` for non-finite floats;
- ``{"$int": "123…"}`` for integers too large for a JSON number;
- ``{"$complex": [re, im]}``;
- ``{"$tuple": [...]}`` for tuples, a JSON list for lists;
- ``{"$array": [flat values], "shape": [...], "dtype": "float64"}``;
- ``{"$expr": "exp(-x)/(1 + exp(-x))**2"}`` for sympy expressions;
- ``{"$rational": [p, q]}`` for fractions.Fraction and sympy Rational;
- ``{"$dict": [[key, value], ...]}`` for mappings;
- ``{"$unsupported": "TypeName", "repr": "…"}`` for anything else.

Arguments the parent sends use the same encoding plus:

- ``{"$symbol": "x", "assumptions": {"real": true}}`` a sympy Symbol;
- ``{"$density": {"expr": "...", "variable": "x", "params": ["mu", "s"]}}``
  a callable ``p(x, theta)`` built in the child from a sympy expression
  (theta is a scalar for one parameter, else a sequence).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any, Literal, get_args

import numpy as np

#: Largest JSON line the parent accepts from the child (one probe's answer).
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
#: Largest array (elements) and string (characters) a hand-in may return.
MAX_ARRAY_ELEMENTS = 1_000_000
MAX_STRING_CHARS = 100_000
MAX_NESTING = 20

ALLOWED_DTYPES = frozenset(
    {
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "longdouble",
        "complex64",
        "complex128",
    }
)

ProbeOp = Literal["call", "value"]

ErrorKind = Literal[
    "missing",  # the hand-in does not define the name
    "not_callable",  # the name is defined but is no function
    "exception",  # the student's code raised
    "timeout",  # the answer took longer than its limit
    "memory",  # the answer needed more memory than allowed
    "output",  # the answer printed more than allowed
    "crashed",  # the sandbox process died (exit, signal, limit)
    "import",  # the hand-in failed to import (syntax error, exception at import)
    "bad_value",  # the answer could not be encoded or decoded (too large, wrong type)
    "sandbox",  # the grader could not run the hand-in at all (infrastructure)
    "unanswerable",  # a written hand-in's text does not answer this probe (nothing was run)
]


class ProtocolError(ValueError):
    """The child sent something that is not a well-formed answer."""


@dataclass(frozen=True)
class Symbol:
    """A sympy symbol to pass to a student's function (built in the child)."""

    name: str
    assumptions: Mapping[str, bool] = field(default_factory=lambda: {"real": True})


@dataclass(frozen=True)
class Density:
    """A probability density/mass function ``p(x, theta)`` to pass to student code."""

    expr: str
    variable: str
    params: tuple[str, ...]


@dataclass(frozen=True)
class Probe:
    """One question for the hand-in.

    ``op == "value"`` reads the module attribute ``name``; ``op == "call"``
    calls it with ``args``. ``timeout`` is CPU seconds for this probe alone.
    A ``hidden`` probe belongs to a hidden check: the sandbox runs it after every visible
    probe and shows nothing the hand-in printed from then on (its inputs stay secret).
    """

    id: str
    name: str
    op: ProbeOp = "call"
    args: tuple[Any, ...] = ()
    timeout: float = 2.0
    hidden: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "op": self.op,
            "args": self.encoded_args,
            "timeout": self.timeout,
        }

    @cached_property
    def encoded_args(self) -> list[Any]:
        """The arguments as JSON data, encoded once (a probe is sent, sized and keyed)."""
        return [encode_value(a) for a in self.args]

    @cached_property
    def densities(self) -> tuple[dict[str, Any], ...]:
        """The densities among the arguments (found without walking their arrays)."""
        return tuple(encode_value(d) for d in _densities_in(self.args))


def _densities_in(value: Any) -> list[Density]:
    if isinstance(value, Density):
        return [value]
    if isinstance(value, (tuple, list)):
        return [d for v in value for d in _densities_in(v)]
    if isinstance(value, Mapping):
        return [d for v in value.values() for d in _densities_in(v)]
    return []


@dataclass(frozen=True)
class ProbeError:
    kind: ErrorKind
    message: str
    #: the student's own source line, where the error happened there
    line: int | None = None
    #: exception type name for ``kind == "exception"``
    exception: str | None = None


@dataclass(frozen=True)
class Outcome:
    """The answer to one probe: a decoded value, or an error."""

    probe_id: str
    value: Any = None
    error: ProbeError | None = None
    #: wall seconds the child reported for this probe
    seconds: float = 0.0
    #: warnings the student's code raised while answering (numpy overflow, …)
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


# ----------------------------------------------------------------- encoding
def encode_value(value: Any, _depth: int = 0) -> Any:
    """Encode trusted, grader-built values (probe arguments) as JSON data.

    The child has its own, defensive encoder for student values
    (``grader.sandbox.child``); this one is for the parent's arguments and
    for tests.
    """
    if _depth > MAX_NESTING:
        raise ValueError("value nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Symbol):
        return {"$symbol": value.name, "assumptions": dict(value.assumptions)}
    if isinstance(value, Density):
        return {
            "$density": {
                "expr": value.expr,
                "variable": value.variable,
                "params": list(value.params),
            }
        }
    if isinstance(value, (int, np.integer)):
        v = int(value)
        return v if abs(v) < 2**53 else {"$int": str(v)}
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if math.isfinite(f):
            return f
        return {"$float": "nan" if math.isnan(f) else ("inf" if f > 0 else "-inf")}
    if isinstance(value, (complex, np.complexfloating)):
        c = complex(value)
        return {"$complex": [encode_value(c.real), encode_value(c.imag)]}
    if isinstance(value, Fraction):
        return {"$rational": [value.numerator, value.denominator]}
    if isinstance(value, np.ndarray):
        flat = value.ravel()
        if flat.dtype.kind in "biuf" and (flat.dtype.kind != "f" or np.isfinite(flat).all()):
            items = flat.tolist()  # plain numbers: no per-element work
        else:
            items = [encode_value(v, _depth + 1) for v in flat.tolist()]
        return {"$array": items, "shape": list(value.shape), "dtype": str(value.dtype)}
    if isinstance(value, tuple):
        return {"$tuple": [encode_value(v, _depth + 1) for v in value]}
    if isinstance(value, list):
        return [encode_value(v, _depth + 1) for v in value]
    if isinstance(value, Mapping):
        return {"$dict": [[encode_value(k), encode_value(v, _depth + 1)] for k, v in value.items()]}
    try:
        import sympy

        if isinstance(value, sympy.Basic):
            if isinstance(value, sympy.Rational) and not isinstance(value, sympy.Integer):
                return {"$rational": [int(value.p), int(value.q)]}
            return {"$expr": sympy.sstr(value, full_prec=True)}
    except ImportError:  # pragma: no cover - sympy is a dependency
        pass
    raise TypeError(f"cannot encode {type(value).__name__}")


@dataclass(frozen=True)
class Expr:
    """An expression string the child returned; parse it with the safe parser."""

    text: str
    #: written in LaTeX (a string answer such as "$2^{-3}$"), not sympy syntax
    latex: bool = False


@dataclass(frozen=True)
class Unsupported:
    """A value of a type the protocol does not carry (a class instance, a generator…)."""

    type_name: str
    repr: str


def decode_value(data: Any, _depth: int = 0) -> Any:
    """Decode a child's JSON value into plain Python / numpy data.

    Expressions stay strings wrapped in :class:`Expr` until a check parses
    them with the safe parser, under its own symbols and time budget.
    """
    if _depth > MAX_NESTING:
        raise ProtocolError("value nested too deeply")
    if data is None or isinstance(data, (bool, int, float)):
        return data
    if isinstance(data, str):
        if len(data) > MAX_STRING_CHARS:
            raise ProtocolError("string too long")
        return data
    if isinstance(data, list):
        return [decode_value(v, _depth + 1) for v in data]
    if not isinstance(data, dict) or len(data) == 0:
        raise ProtocolError(f"unexpected JSON value {type(data).__name__}")
    tag = next(iter(data))
    body = data[tag]
    if tag == "$float":
        if body not in ("nan", "inf", "-inf"):
            raise ProtocolError("bad $float")
        return float(body)
    if tag == "$int":
        if not isinstance(body, str) or len(body) > 4300:
            raise ProtocolError("bad $int")
        return int(body)
    if tag == "$complex":
        re_, im_ = (_real(decode_value(v, _depth + 1)) for v in body)
        return complex(re_, im_)
    if tag == "$rational":
        p, q = body
        if not isinstance(p, int) or not isinstance(q, int) or q == 0:
            raise ProtocolError("bad $rational")
        return Fraction(p, q)
    if tag == "$tuple":
        if not isinstance(body, list):
            raise ProtocolError("bad $tuple")
        return tuple(decode_value(v, _depth + 1) for v in body)
    if tag == "$dict":
        return {
            _hashable(decode_value(k, _depth + 1)): decode_value(v, _depth + 1) for k, v in body
        }
    if tag == "$expr":
        if not isinstance(body, str) or len(body) > MAX_STRING_CHARS:
            raise ProtocolError("expression too long")
        return Expr(body)
    if tag == "$array":
        return _decode_array(data)
    if tag == "$unsupported":
        rep = data.get("repr", "")
        return Unsupported(str(body)[:200], str(rep)[:500])
    raise ProtocolError(f"unknown tag {tag!r}")


def _real(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ProtocolError("bad number")
    return float(v)


def _hashable(v: Any) -> Any:
    try:
        hash(v)
    except TypeError as exc:
        raise ProtocolError("unhashable dict key") from exc
    return v


def _decode_array(data: Mapping[str, Any]) -> np.ndarray:
    flat, shape, dtype = data["$array"], data.get("shape"), data.get("dtype")
    if dtype not in ALLOWED_DTYPES:
        raise ProtocolError(f"array dtype {dtype!r} not allowed")
    if not isinstance(shape, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
    ):
        raise ProtocolError("bad array shape")
    if len(shape) > 32 or math.prod(shape) != len(flat) or len(flat) > MAX_ARRAY_ELEMENTS:
        raise ProtocolError("array shape does not match its data")
    if dtype.startswith("complex"):
        values: list[Any] = [decode_value(v) for v in flat]
        numbers = (int, float, complex)
        if not all(isinstance(v, numbers) and not isinstance(v, bool) for v in values):
            raise ProtocolError("bad complex array element")
    else:
        values = [_array_scalar(v) for v in flat]
    return np.array(values, dtype=dtype).reshape(shape)


def _array_scalar(v: Any) -> Any:
    if isinstance(v, (bool, int, float)):
        return v
    if isinstance(v, dict) and len(v) == 1 and ("$float" in v or "$int" in v):
        return decode_value(v)
    raise ProtocolError("bad array element")


def decode_outcome(message: Mapping[str, Any]) -> Outcome:
    """Decode one child answer line ``{"id", "ok", "value"|"error", "seconds"}``."""
    probe_id = message.get("id")
    if not isinstance(probe_id, str):
        raise ProtocolError("answer without probe id")
    seconds = message.get("seconds", 0.0)
    seconds = float(seconds) if isinstance(seconds, (int, float)) else 0.0
    if message.get("ok") is True:
        try:
            value = decode_value(message.get("value"))
        except (ProtocolError, ValueError, TypeError, OverflowError) as exc:
            return Outcome(
                probe_id, error=ProbeError("bad_value", f"the answer could not be read: {exc}")
            )
        raw = message.get("warnings") or []
        warned = tuple(str(w)[:200] for w in raw[:5]) if isinstance(raw, list) else ()
        return Outcome(probe_id, value=value, seconds=seconds, warnings=warned)
    err = message.get("error")
    if not isinstance(err, Mapping):
        raise ProtocolError("answer with neither value nor error")
    kind: ErrorKind = "exception"
    if err.get("kind") in get_args(ErrorKind):
        kind = err["kind"]
    line = err.get("line")
    exc_name = err.get("exception")
    return Outcome(
        probe_id,
        error=ProbeError(
            kind=kind,
            message=str(err.get("message", ""))[:2000],
            line=line if isinstance(line, int) and not isinstance(line, bool) else None,
            exception=str(exc_name)[:100] if exc_name is not None else None,
        ),
        seconds=seconds,
    )


def loads_message(line: bytes | str) -> dict[str, Any]:
    """Parse one JSON line from the child, strictly (no NaN literals, size-capped)."""
    if len(line) > MAX_MESSAGE_BYTES:
        raise ProtocolError("message too large")

    def _reject_constant(name: str) -> Any:
        raise ProtocolError(f"non-standard JSON constant {name}")

    obj = json.loads(line, parse_constant=_reject_constant)
    if not isinstance(obj, dict):
        raise ProtocolError("message is not an object")
    raw = line.encode("utf-8", "surrogatepass") if isinstance(line, str) else line
    if _SURROGATE.search(raw):
        # JSON may carry lone surrogates ("\ud800"); no file, terminal or report can hold
        # them, so they become U+FFFD here, at the border, once for all consumers
        obj = _without_surrogates(obj)
    return obj


#: a surrogate escaped in JSON, or encoded raw (json.loads accepts both)
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


def _without_surrogates(obj: Any) -> Any:
    if isinstance(obj, str):
        try:
            obj.encode("utf-8")
        except UnicodeEncodeError:
            # valid pairs combine, lone halves become U+FFFD
            return obj.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return obj
    if isinstance(obj, list):
        return [_without_surrogates(v) for v in obj]
    if isinstance(obj, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in obj.items()}
    return obj
