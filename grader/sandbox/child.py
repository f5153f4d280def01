"""The sandboxed side: import one hand-in and answer the parent's probes.

This module runs in the child process, next to student code. It trusts
nothing the student's code returns: every value is encoded by exact type
checks into the JSON documented in ``grader.sandbox.protocol`` and sent to
the parent on a dedicated file descriptor. Whatever the student's code does
here (patch sympy, lie in ``__eq__``) can only change the answers it gives,
which the parent judges in its own process.

The grader asks, one JSON object a line on the request channel, only once the hand-in has
been imported (so code run at import finds no probe to read, and hidden probes come last):

- ``{"op": "probe", "probe": {"id", "name", "op", "args", "timeout"}}``: answer this probe;
- ``{"op": "output"}``: report what the hand-in has printed so far;
- ``{"op": "done"}`` (or the end of the channel): finish.

The child answers, one JSON object a line on the answer channel:

- ``{"event": "imported", "seconds": s, "cpu": s}`` or
  ``{"event": "import_error", "error": {...}}`` after importing the hand-in;
- ``{"id": ..., "ok": true, "value": ..., "seconds": s, "cpu": s}`` or
  ``{"id": ..., "ok": false, "error": {"kind", "message", "line", "exception"}, "cpu": s}``
  for each probe (``cpu``: this process's CPU seconds so far, its reaped children's
  included; the parent measures the next probe's CPU use from it);
- ``{"event": "output", "output": text, "cpu": s}`` when asked;
- ``{"event": "done", "output": text}`` at the end.
"""

from __future__ import annotations

import errno
import importlib.util
import io
import json
import math
import os
import select
import signal
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

MAX_ELEMENTS = 1_000_000
MAX_STRING = 100_000
MAX_DEPTH = 20
MAX_OUTPUT_CHARS = 64 * 1024
MODULE_NAME = "submission"


class ProbeTimeout(BaseException):
    """Raised by the alarm inside student code; a BaseException so plain
    ``except Exception`` in the hand-in does not swallow it. ``clock`` is "cpu" (the
    limit in CPU seconds was used up) or "wall" (``WALL_FACTOR`` times the limit passed
    on the wall clock while little CPU time was used: sleeping or waiting)."""

    def __init__(self, clock: str = "cpu") -> None:
        super().__init__(clock)
        self.clock = clock


#: Time limits are CPU-time limits, so that a busy machine does not turn a correct answer
#: into a timeout. A probe (or the import) that uses little CPU time (it sleeps, or waits)
#: is still stopped after this many times its limit on the wall clock. ``serve`` sets it
#: from the request; ``grader.sandbox.runner`` applies the same rule from the outside.
WALL_FACTOR = 4.0


def timeout_message(limit: float, clock: str, factor: float, what: str = "took") -> str:
    """The student's words for a time limit: which clock ran out, and after how long.

    Shared with ``grader.sandbox.runner``, which says the same when it has to kill."""
    if clock == "wall":
        return (
            f"{what} longer than {limit:g} s: still not done after {limit * factor:g} s "
            f"on the clock, having used less than {limit:g} s of CPU time (sleeping or "
            "waiting for something?)"
        )
    if clock == "cpu":
        return f"{what} longer than {limit:g} s of CPU time"
    return f"{what} longer than {limit:g} s"


def cpu_now() -> float:
    """CPU seconds of this process (all threads) and of its children it has waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class _Budget:
    def __init__(self) -> None:
        self.elements = 0

    def take(self, n: int = 1) -> None:
        self.elements += n
        if self.elements > MAX_ELEMENTS:
            raise _TooLarge(f"the answer has more than {MAX_ELEMENTS} elements")


class _TooLarge(Exception):
    pass


class CappedText(io.TextIOBase):
    """Stands in for sys.stdout/sys.stderr: keeps the first characters only."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, s: Any) -> int:
        s = str(s) if type(s) is not str else s
        room = MAX_OUTPUT_CHARS - self.size
        if room > 0:
            self.parts.append(s[:room])
            self.size += min(len(s), room)
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def text(self) -> str:
        return "".join(self.parts)


# ------------------------------------------------------------------ encoding
def encode(value: Any, budget: _Budget, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise _TooLarge("the answer is nested too deeply")
    budget.take()
    t = type(value)
    if value is None or t is bool:
        return value
    if t is int:
        return value if abs(value) < 2**53 else {"$int": _int_text(value)}
    if t is float:
        return _float(value)
    if t is str:
        if len(value) > MAX_STRING:
            raise _TooLarge(f"the text answer is longer than {MAX_STRING} characters")
        return value
    if t is complex:
        return {"$complex": [_float(value.real), _float(value.imag)]}
    if t is Fraction:
        return {"$rational": [int(value.numerator), int(value.denominator)]}
    if t is tuple:
        budget.take(len(value))
        return {"$tuple": [encode(v, budget, depth + 1) for v in tuple.__iter__(value)]}
    if t is list:
        budget.take(len(value))
        return [encode(v, budget, depth + 1) for v in list.__iter__(value)]
    if t is dict:
        budget.take(len(value))
        return {
            "$dict": [
                [encode(k, budget, depth + 1), encode(v, budget, depth + 1)]
                for k, v in dict.items(value)
            ]
        }
    # issubclass(type(...)), never isinstance: isinstance believes a lying __class__
    np = sys.modules.get("numpy")
    if np is not None:
        if issubclass(t, np.ndarray):
            return _encode_array(np, value, budget, depth)
        if issubclass(t, np.generic):
            return _encode_numpy_scalar(np, value, budget, depth)
    sympy = sys.modules.get("sympy")
    if sympy is not None:
        if issubclass(t, sympy.MatrixBase):
            rows = value.tolist()
            budget.take(len(rows))
            return [[encode(v, budget, depth + 2) for v in row] for row in rows]
        if issubclass(t, sympy.Basic):
            return _encode_sympy(sympy, value)
    if callable(value):
        return {"$unsupported": "function", "repr": _safe_repr(value)}
    return {"$unsupported": _type_name(value), "repr": _safe_repr(value)}


def _int_text(v: int) -> str:
    if v.bit_length() > 14000:
        raise _TooLarge("the integer answer is too large")
    return str(v)


def _float(v: float) -> Any:
    if math.isfinite(v):
        return v
    return {"$float": "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")}


def _encode_array(np: Any, value: Any, budget: _Budget, depth: int) -> Any:
    arr = np.ndarray.view(value, np.ndarray) if type(value) is not np.ndarray else value
    budget.take(int(arr.size))
    if arr.dtype.kind in "biuf" and arr.dtype.kind != "V":
        dtype = str(arr.dtype)
        flat = (
            arr.astype(np.float64).ravel().tolist()
            if arr.dtype.kind == "f"
            else arr.ravel().tolist()
        )
        if arr.dtype.kind == "f":
            flat = [_float(x) for x in flat]
        if dtype == "float128":
            dtype = "longdouble"
        return {"$array": flat, "shape": list(arr.shape), "dtype": dtype}
    if arr.dtype.kind == "c":
        flat = [
            {"$complex": [_float(z.real), _float(z.imag)]}
            for z in arr.astype(np.complex128).ravel().tolist()
        ]
        return {"$array": flat, "shape": list(arr.shape), "dtype": "complex128"}
    if arr.dtype.kind == "O":
        # object arrays (of sympy expressions, say) travel as nested lists
        return (
            encode(arr.tolist(), budget, depth + 1)
            if arr.ndim
            else encode(arr.item(), budget, depth + 1)
        )
    return {"$unsupported": f"numpy array of dtype {arr.dtype}", "repr": _safe_repr(arr)}


def _encode_numpy_scalar(np: Any, value: Any, budget: _Budget, depth: int) -> Any:
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return encode(int(value), budget, depth)
    if isinstance(value, np.floating):
        return _float(float(value))
    if isinstance(value, np.complexfloating):
        return encode(complex(value), budget, depth)
    return {"$unsupported": _type_name(value), "repr": _safe_repr(value)}


def _encode_sympy(sympy: Any, value: Any) -> Any:
    if isinstance(value, sympy.Integer):
        return encode(int(value), _Budget())
    if isinstance(value, sympy.Rational):
        return {"$rational": [int(value.p), int(value.q)]}
    if isinstance(value, sympy.Float):
        return _float(float(value))
    if value is sympy.true or value is sympy.false:
        return bool(value)
    # order="none": the parent parses the text and does not care about the order of terms,
    # and sorting them takes seconds for a large expression (milliseconds without)
    text = sympy.sstr(value, full_prec=True, order="none")
    if type(text) is not str:
        raise _TooLarge("the expression could not be printed")
    if len(text) > MAX_STRING:
        raise _TooLarge(f"the expression is longer than {MAX_STRING} characters when printed")
    return {"$expr": text}


def _type_name(value: Any) -> str:
    try:
        t = type(value)
        return f"{t.__module__}.{t.__qualname__}" if t.__module__ != "builtins" else t.__qualname__
    except Exception:  # noqa: BLE001 - hostile metaclasses
        return "object"


def _safe_repr(value: Any) -> str:
    try:
        r = repr(value)
        return r[:300] if type(r) is str else "<unprintable>"
    except ProbeTimeout:
        raise  # a slow __repr__ is the probe's timeout, not an unprintable value
    except BaseException:  # noqa: BLE001
        return "<unprintable>"


# ------------------------------------------------------------------ arguments
def decode_arg(data: Any) -> Any:
    if isinstance(data, list):
        return [decode_arg(v) for v in data]
    if not isinstance(data, dict):
        return data
    tag, body = next(iter(data.items()))
    if tag == "$float":
        return float(body)
    if tag == "$int":
        return int(body)
    if tag == "$complex":
        return complex(decode_arg(body[0]), decode_arg(body[1]))
    if tag == "$rational":
        return Fraction(body[0], body[1])
    if tag == "$tuple":
        return tuple(decode_arg(v) for v in body)
    if tag == "$dict":
        return {decode_arg(k): decode_arg(v) for k, v in body}
    if tag == "$array":
        import numpy as np

        flat = [decode_arg(v) for v in body]
        return np.array(flat, dtype=data["dtype"]).reshape(data["shape"])
    if tag == "$symbol":
        import sympy

        return sympy.Symbol(body, **data.get("assumptions", {}))
    if tag == "$expr":
        import sympy

        return sympy.sympify(body)
    if tag == "$density":
        built = _DENSITIES.get(_density_key(body))
        return built if built is not None else _density(body)
    raise ValueError(f"unknown argument tag {tag}")


#: densities built before the hand-in was imported (``prepare``), by ``_density_key``
_DENSITIES: dict[str, Callable[..., Any]] = {}


def _density_key(spec: Any) -> str:
    return json.dumps(spec, sort_keys=True)


def prepare(specs: Any) -> None:
    """Build the probes' densities now, before student code can patch sympy or numpy."""
    for spec in specs if isinstance(specs, list) else []:
        key = _density_key(spec)
        if key not in _DENSITIES:  # built by the fork server before this child was forked
            _DENSITIES[key] = _density(spec)


def _density(spec: dict[str, Any]) -> Callable[..., Any]:
    import numpy as np
    import sympy

    variable = sympy.Symbol(spec["variable"])
    params = [sympy.Symbol(p) for p in spec["params"]]
    expr = sympy.sympify(spec["expr"], locals={s.name: s for s in [variable, *params]})
    # numpy has no array factorial/gamma; vectorised math versions keep the densities of
    # discrete families (Poisson) working on arrays without scipy, which is no dependency.
    special = {
        "factorial": np.vectorize(lambda v: math.gamma(v + 1.0), otypes=[float]),
        "gamma": np.vectorize(math.gamma, otypes=[float]),
        "loggamma": np.vectorize(math.lgamma, otypes=[float]),
    }
    f = sympy.lambdify([variable, *params], expr, modules=[special, "numpy"])
    # one number at a time (hand-ins loop over their samples: thousands of calls per
    # hand-in), the math module's functions are several times faster than numpy's
    scalar_special = {
        "factorial": lambda v: math.gamma(v + 1.0),
        "gamma": math.gamma,
        "loggamma": math.lgamma,
    }
    on_numbers = sympy.lambdify([variable, *params], expr, modules=[scalar_special, "math"])
    # taken now: a hand-in that later replaces numpy's functions does not change the density
    ndim, asarray, isscalar, n_params = np.ndim, np.asarray, np.isscalar, len(params)
    float64 = np.float64

    def p_model(x: Any, theta: Any) -> Any:
        if n_params == 1 and isinstance(theta, float):
            thetas = [theta]
        else:
            thetas = [theta] if n_params == 1 and ndim(theta) == 0 else list(theta)
        if isinstance(x, float) and all(isinstance(t, float) for t in thetas):
            try:
                return float64(on_numbers(x, *thetas))
            except (ArithmeticError, ValueError, TypeError):
                pass  # log(0), an overflow: numpy's answer (-inf, inf, with its warning)
        return f(asarray(x, dtype=float) if not isscalar(x) else x, *thetas)

    p_model.__name__ = "p_model"
    return p_model


# ------------------------------------------------------------------ running
def _student_line(tb: Any, path: str) -> int | None:
    line = None
    for frame, lineno in traceback.walk_tb(tb):
        if os.path.abspath(frame.f_code.co_filename) == path:
            line = lineno
    return line


def _error(
    kind: str, message: str, line: int | None = None, exception: str | None = None
) -> dict[str, Any]:
    return {"kind": kind, "message": message[:2000], "line": line, "exception": exception}


#: the limits in force, so that errors can name them (set by ``serve``)
LIMITS: dict[str, Any] = {}


def _limit(name: str, default: int) -> int:
    value = LIMITS.get(name, default)
    return int(value) if isinstance(value, (int, float)) else default


def _describe(exc: BaseException, path: str) -> dict[str, Any]:
    name = type(exc).__name__
    line = _student_line(exc.__traceback__, path)
    if isinstance(exc, ProbeTimeout):
        err = _error("timeout", "took longer than its time limit", line)
        err["clock"] = exc.clock if exc.clock in ("cpu", "wall") else "cpu"
        return err
    if isinstance(exc, MemoryError):
        mb = _limit("memory_mb", 2048)
        return _error("memory", f"your code used more than {mb} MB of memory", line, name)
    if isinstance(exc, RecursionError):
        return _error("exception", "recursed too deeply (RecursionError)", line, name)
    if isinstance(exc, SyntaxError):
        where = f" (line {exc.lineno})" if exc.lineno else ""
        return _error("import", f"SyntaxError: {exc.msg}{where}", exc.lineno, name)
    if isinstance(exc, SystemExit):
        return _error("exception", "exited the program (sys.exit) while being graded", line, name)
    if isinstance(exc, KeyboardInterrupt):
        return _error("exception", "was interrupted (KeyboardInterrupt)", line, name)
    limit_error = _limit_error(exc, line, name)
    if limit_error is not None:
        return limit_error
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001
        text = ""
    text = text if type(text) is str else ""
    return _error("exception", f"{name}: {text}"[:2000], line, name)


def _limit_error(exc: BaseException, line: int | None, name: str) -> dict[str, Any] | None:
    """An OS error that means "hit a sandbox limit", in words a student understands."""
    if isinstance(exc, RuntimeError) and "can't start new thread" in str(exc):
        n = _limit("max_processes", 64)
        return _error("exception", f"started too many processes or threads (limit {n})", line, name)
    if not isinstance(exc, OSError):
        return None
    if exc.errno == errno.EFBIG:
        mb = _limit("max_file_mb", 16)
        return _error("output", f"wrote more than {mb} MB to disk", line, name)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return _error("output", "filled up the disk space it may use", line, name)
    if exc.errno in (errno.EMFILE, errno.ENFILE):
        n = _limit("max_open_files", 256)
        return _error("exception", f"opened too many files at once (limit {n})", line, name)
    if exc.errno == errno.EAGAIN and type(exc) is BlockingIOError and exc.filename is None:
        # what fork()/subprocess get from RLIMIT_NPROC
        n = _limit("max_processes", 64)
        return _error("exception", f"started too many processes (limit {n})", line, name)
    return None


class Channel:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, obj: dict[str, Any]) -> None:
        data = (json.dumps(obj, allow_nan=False, separators=(",", ":")) + "\n").encode()
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]


def _alarm(seconds: float) -> None:
    """Limit what follows to ``seconds`` of CPU time (SIGPROF: this process's CPU time,
    all threads) and ``WALL_FACTOR`` times that on the wall clock (SIGALRM); 0 clears."""
    seconds = max(seconds, 0.0)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    signal.setitimer(signal.ITIMER_REAL, seconds * WALL_FACTOR)


def _on_alarm(signum: int, frame: Any) -> None:
    raise ProbeTimeout("wall" if signum == signal.SIGALRM else "cpu")


def import_submission(path: str, timeout: float) -> Any:
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module
    _alarm(timeout)
    try:
        spec.loader.exec_module(module)
    finally:
        _alarm(0)
    return module


def answer(module: Any, probe: dict[str, Any], path: str) -> dict[str, Any]:
    pid = probe["id"]
    started = time.perf_counter()
    name = probe["name"]
    warned: list[str] = []
    before = _Usage()
    try:
        _alarm(float(probe.get("timeout", 2.0)))
        try:
            if not hasattr(module, name):
                return {
                    "id": pid,
                    "ok": False,
                    "error": _error("missing", f"`{name}` is not defined"),
                }
            obj = getattr(module, name)
            if probe.get("op") == "value":
                result = obj
            else:
                if not callable(obj):
                    return {
                        "id": pid,
                        "ok": False,
                        "error": _error(
                            "not_callable", f"`{name}` is a {_type_name(obj)}, not a function"
                        ),
                    }
                args = [decode_arg(a) for a in probe.get("args", [])]
                with warnings.catch_warnings(record=True) as caught:
                    # numpy reports overflow as a warning only where errstate says so
                    warnings.simplefilter("always")
                    result = _call_with_errstate(obj, args)
                seen = [f"{w.category.__name__}: {w.message}"[:200] for w in caught[:5]]
                if seen:
                    warned = seen
            value = encode(result, _Budget())
        finally:
            _alarm(0)
    except _TooLarge as exc:
        return {"id": pid, "ok": False, "error": _error("bad_value", str(exc))}
    except BaseException as exc:  # noqa: BLE001 - student code may raise anything
        error = _describe(exc, path)
        if error["kind"] == "timeout":
            limit = float(probe.get("timeout", 2.0))
            error["message"] = timeout_message(limit, error.get("clock", "cpu"), WALL_FACTOR)
            if error.get("clock") == "cpu":
                error = before.memory_error(limit, error)
        return {
            "id": pid,
            "ok": False,
            "error": error,
            "seconds": time.perf_counter() - started,
            "cpu": cpu_now(),
        }
    reply = {
        "id": pid,
        "ok": True,
        "value": value,
        "seconds": time.perf_counter() - started,
        "cpu": cpu_now(),
    }
    if warned:
        reply["warnings"] = warned
    return reply


class _Usage:
    """This process's memory and CPU time when a probe started.

    A probe that runs out of CPU time while taking memory as fast as it can has mostly
    spent that time in the kernel, providing the pages (on a virtual machine, touching
    memory the host has not yet backed costs a second or more of CPU time per GiB): it
    would have hit the memory limit with a little more time, and is told so, instead of
    being told it was slow."""

    #: at least this much new memory (MB), and at least half the CPU time spent by the
    #: system, makes a CPU timeout a memory problem
    GROWTH_MB = 256

    def __init__(self) -> None:
        self.rss = _resident_mb()
        self.times = os.times()

    def memory_error(self, limit: float, error: dict[str, Any]) -> dict[str, Any]:
        now, times = _resident_mb(), os.times()
        if now is None or self.rss is None:
            return error
        system = times.system - self.times.system
        cpu = system + times.user - self.times.user
        if now - self.rss < self.GROWTH_MB or system < 0.5 * cpu:
            return error
        text = (
            f"used too much memory: it held {now:.0f} MB (the limit is "
            f"{_limit('memory_mb', 2048)} MB) and was still taking more when its {limit:g} s "
            "of CPU time ran out"
        )
        return dict(error, kind="memory", message=text)


def _resident_mb() -> float | None:
    """Resident memory of this process in MB (None without /proc)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            pages = int(fh.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _call_with_errstate(obj: Any, args: list[Any]) -> Any:
    np = sys.modules.get("numpy")
    if np is None:
        return obj(*args)
    with np.errstate(over="warn", invalid="warn", divide="warn"):
        return obj(*args)


class Requests:
    """The grader's requests, one JSON object a line, read as they come.

    Waits with ``poll`` and reads whatever is there, so that a hand-in that made the
    descriptor non-blocking (or reads from it itself) cannot make the child give up."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""

    def readline(self) -> bytes:
        while b"\n" not in self.buffer:
            poller = select.poll()
            poller.register(self.fd, select.POLLIN)
            poller.poll()
            try:
                chunk = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                line, self.buffer = self.buffer, b""
                return line
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line + b"\n"

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while line := self.readline():
            message = json.loads(line)
            if isinstance(message, dict):
                yield message


def hang_key(name: str, args: Any) -> str:
    """Probes that share this key are not run once one of them timed out: the same
    function, called with symbols (``$symbol``/``$expr``) or with numbers alone (a
    function may hang printing a symbolic answer yet be right and quick on numbers).
    ``grader.sandbox.runner`` computes the same key."""
    text = json.dumps(args)
    symbolic = '"$symbol"' in text or '"$expr"' in text
    return f"{name}/{'symbolic' if symbolic else 'numeric'}"


def serve(request: dict[str, Any], channel: Channel, requests: Requests) -> None:
    """Import the hand-in named in ``request``, then answer what ``requests`` asks."""
    path = os.path.abspath(request["module_path"])
    global WALL_FACTOR
    LIMITS.clear()
    LIMITS.update(request.get("limits") or {})
    factor = request.get("wall_factor", WALL_FACTOR)
    if isinstance(factor, (int, float)) and math.isfinite(factor) and factor >= 1:
        WALL_FACTOR = float(factor)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGPROF, _on_alarm)
    captured = CappedText()
    sys.stdout = sys.stderr = captured  # type: ignore[assignment]
    try:
        prepare(request.get("prepare"))
    except Exception:  # noqa: BLE001 - built again (and failing there) when a probe needs it
        _DENSITIES.clear()
    started = time.perf_counter()
    try:
        module = import_submission(path, float(request.get("import_timeout", 10.0)))
    except BaseException as exc:  # noqa: BLE001
        err = _describe(exc, path)
        if err["kind"] != "timeout":
            err["kind"] = "import"
        channel.send({"event": "import_error", "error": err, "output": captured.text()})
        return
    channel.send({"event": "imported", "seconds": time.perf_counter() - started, "cpu": cpu_now()})
    #: function name -> the timeout error it got: a function that hung once is not asked
    #: again (its other probes get the same verdict at once; the parent does the same when
    #: it had to kill the child)
    hung: dict[str, dict[str, Any]] = {}
    for message in requests:
        op = message.get("op")
        if op == "probe" and isinstance(message.get("probe"), dict):
            channel.send(_answer_once(module, message["probe"], path, hung))
        elif op == "output":
            channel.send({"event": "output", "output": captured.text(), "cpu": cpu_now()})
        elif op == "done":
            break
    channel.send(
        {"event": "done", "output": captured.text()[:MAX_OUTPUT_CHARS], "dropped": captured.dropped}
    )


def _answer_once(
    module: Any, probe: dict[str, Any], path: str, hung: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    key = hang_key(str(probe.get("name")), probe.get("args", []))
    if key in hung:
        return {
            "id": probe["id"],
            "ok": False,
            "error": hung[key],
            "seconds": 0.0,
            "cpu": cpu_now(),
        }
    reply = answer(module, probe, path)
    error = reply.get("error")
    if isinstance(error, dict) and error.get("kind") == "timeout":
        hung[key] = error
    return reply


def main() -> None:
    """Entry point of a fresh child (no fork server):
    ``python -I -B .../child.py ANSWER_FD``, the request as the first line on stdin and the
    grader's requests after it.

    ``-I`` and the path (not ``-m grader.sandbox.child``): nothing is imported from the
    working directory, so a hand-in named ``json.py`` or ``numpy.py`` is never imported
    under that name. Limits and the system-call filter come before anything else is
    imported; the hand-in itself only after that.
    """
    fd = int(sys.argv[1])
    requests_fd = os.dup(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        if target != fd:
            os.dup2(devnull, target)  # student prints stay off the protocol channels
    requests = Requests(requests_fd)
    request = json.loads(requests.readline())
    confine = _load_sibling("confine")
    confine.confine_fresh_child(request)
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    for mod in request.get("preload", ["numpy", "sympy"]):
        __import__(mod)
    serve(request, Channel(fd), requests)
    os._exit(0)


def _load_sibling(name: str) -> Any:
    """A file next to this one, as a module of its own (not through the grader package)."""
    spec = importlib.util.spec_from_file_location(
        f"_grader_sandbox_{name}",
        os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py"),
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    main()
