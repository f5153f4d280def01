"""One hand-in's run: the conversation with each child, and the restart policy.

A child answers the probes in order. When a probe hangs or the child dies, that probe
alone gets the error and a fresh child answers the probes after it, until the hand-in's
restarts, CPU seconds or total time are used up. Answers are accepted only in the order
they were asked (see :func:`_converse`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from grader.sandbox.child import timeout_message
from grader.sandbox.cputime import await_message, reported_cpu
from grader.sandbox.limits import Limits, RunReport
from grader.sandbox.protocol import (
    ErrorKind,
    Outcome,
    Probe,
    ProbeError,
    ProtocolError,
    decode_outcome,
)
from grader.sandbox.transport import ChildDied, ChildHandle, ForkServerDied

MAX_OUTPUT = 65536

#: starts a child for the pending probes: (path, hand-in fd, pending, limits, CPU seconds left)
StartChild = Callable[[Path, int, Sequence[Probe], Limits, float], ChildHandle]


def run_handin(start: StartChild, path: Path, probes: Sequence[Probe], limits: Limits) -> RunReport:
    """Run ``probes`` against the hand-in at ``path``, in as many children as it takes."""
    started = time.monotonic()
    hard_deadline = started + limits.total_timeout
    outcomes: dict[str, Outcome] = {}
    notes: list[str] = []
    pending = list(probes)
    output = ""
    restarts = 0
    cpu_used = 0.0
    try:
        handin_fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        err = ProbeError("sandbox", f"the hand-in could not be read: {exc.strerror}")
        return _import_failed(probes, err, started)
    try:
        while pending:
            cpu_left = limits.cpu_seconds - cpu_used
            if cpu_left <= 0.05:
                _fail_rest(
                    outcomes,
                    pending,
                    ProbeError(
                        "timeout",
                        f"used more than {limits.cpu_seconds:g} s of CPU time in total",
                    ),
                )
                break
            try:
                child = start(path, handin_fd, pending, limits, cpu_left)
            except ForkServerDied:
                notes.append("the sandbox fork server stopped and was restarted")
                restarts += 1
                if restarts > limits.max_restarts:
                    _fail_rest(outcomes, pending, ProbeError("sandbox", "the sandbox failed"))
                    break
                continue
            except SandboxFailure as exc:
                _fail_rest(outcomes, pending, ProbeError("sandbox", str(exc)))
                break
            try:
                import_error, output = _converse(child, pending, outcomes, limits, hard_deadline)
                if import_error is not None:
                    return RunReport(
                        {p.id: Outcome(p.id, error=import_error) for p in probes},
                        import_error=import_error,
                        output=output,
                        seconds=time.monotonic() - started,
                        notes=tuple(notes),
                    )
            except _Stop as stop:
                current = stop.current
                if stop.error is not None and stop.fatal:
                    _fail_rest(outcomes, pending, stop.error)
                elif stop.error is not None and current is not None:
                    outcomes[current.id] = Outcome(current.id, error=stop.error)
                    if stop.error.kind == "timeout":
                        # A function that hung once is not asked again: its other probes
                        # get the same verdict. Each would cost a full timeout and a new
                        # child, and a hand-in whose function hangs (or swallows the
                        # alarm) would use up the restarts and the total time that the
                        # probes of its other functions need.
                        key = _hang_key(current)
                        for p in pending:
                            if p.id not in outcomes and _hang_key(p) == key:
                                outcomes[p.id] = Outcome(p.id, error=stop.error)
                elif stop.error is not None:
                    # died between probes (at exit, or before the first start event)
                    nxt = next((p for p in pending if p.id not in outcomes), None)
                    if nxt is not None:
                        outcomes[nxt.id] = Outcome(nxt.id, error=stop.error)
                if stop.import_error is not None:
                    return _import_failed(probes, stop.import_error, started, tuple(notes))
            finally:
                try:
                    cpu_used += child.kill()
                except ForkServerDied:
                    notes.append("the sandbox fork server stopped and was restarted")
            pending = [p for p in pending if p.id not in outcomes]
            restarts += 1
            if pending and (restarts > limits.max_restarts or time.monotonic() >= hard_deadline):
                if time.monotonic() >= hard_deadline:
                    err = ProbeError(
                        "timeout",
                        f"the hand-in used up its total time ({limits.total_timeout:g} s)",
                    )
                else:
                    err = ProbeError("crashed", "not run: the hand-in crashed or hung too often")
                _fail_rest(outcomes, pending, err)
                pending = []
    finally:
        os.close(handin_fd)
    return RunReport(
        outcomes, output=output, seconds=time.monotonic() - started, notes=tuple(notes)
    )


def _converse(
    child: ChildHandle,
    pending: Sequence[Probe],
    outcomes: dict[str, Outcome],
    limits: Limits,
    hard_deadline: float,
) -> tuple[ProbeError | None, str]:
    """Talk to one child until it is done or something goes wrong (raises :class:`_Stop`).

    Returns the import error (None when the hand-in imported) and the hand-in's output.
    Answers are accepted only in the order the probes were sent, each after its
    ``start``: a hand-in that writes forged lines to the channel can at most answer
    (or fail) its own pending probes, which it could do by returning values anyway.
    """
    current: Probe | None = None
    wire_id = ""
    queue = list(child.wired)
    try:
        # a new child starts at 0 CPU seconds (forked, or a fresh interpreter)
        msg, clock = await_message(
            child, limits.import_timeout, time.monotonic(), 0.0, limits, hard_deadline
        )
    except ChildDied as died:
        # died while importing: every probe would die the same way, so it is the import's
        kind: ErrorKind = "timeout" if died.error.kind == "timeout" else "import"
        raise _Stop(None, None, import_error=ProbeError(kind, died.error.message)) from None
    except (ProtocolError, ValueError, RecursionError):
        err = ProbeError("import", "wrote to the grader's answer channel while being imported")
        raise _Stop(None, None, import_error=err) from None
    if msg is None:
        if clock == "total":
            text = f"the hand-in used up its total time ({limits.total_timeout:g} s)"
        else:
            text = timeout_message(
                limits.import_timeout, clock, limits.wall_factor, "importing the hand-in took"
            )
        raise _Stop(None, None, import_error=ProbeError("timeout", text))
    event = msg.get("event")
    if event == "import_error":
        return _import_error(msg, limits), str(msg.get("output", ""))[:MAX_OUTPUT]
    if event not in ("imported", "sandbox_error"):
        err = ProbeError("import", "wrote to the grader's answer channel while being imported")
        raise _Stop(None, None, import_error=err)
    try:
        if event == "sandbox_error":
            raise _SandboxFailureStop(str(msg.get("message", ""))[:500])
        #: the child's CPU seconds when it last reported them (start of a probe, answer)
        cpu_base: float | None = None
        while True:
            limit = current.timeout if current else _BETWEEN_PROBES
            msg, clock = await_message(
                child, limit, time.monotonic(), cpu_base, limits, hard_deadline
            )
            if msg is None:
                if current is None and clock != "total":
                    raise _Stop(None, ProbeError("crashed", "the process stopped answering"))
                if clock == "total":
                    err = ProbeError(
                        "timeout",
                        f"the hand-in used up its total time ({limits.total_timeout:g} s)",
                    )
                else:
                    assert current is not None
                    text = timeout_message(current.timeout, clock, limits.wall_factor)
                    err = ProbeError("timeout", text)
                raise _Stop(current, err)
            cpu_base = reported_cpu(msg)
            event = msg.get("event")
            if event == "start":
                if current is not None or not queue or msg.get("id") != queue[0][0]:
                    raise ProtocolError("probe started out of order")
                wire_id, current = queue.pop(0)
                continue
            if event == "done":
                if current is not None or queue:
                    raise ProtocolError("done before all probes were answered")
                return None, str(msg.get("output", ""))[:MAX_OUTPUT]
            if current is None or msg.get("id") != wire_id:
                raise ProtocolError("answer for a probe that was not asked")
            outcome = decode_outcome(msg)
            outcomes[current.id] = dataclasses.replace(outcome, probe_id=current.id)
            current = None
    except ChildDied as died:
        raise _Stop(current, died.error) from None
    except ForkServerDied:
        raise _Stop(
            current,
            ProbeError("sandbox", "the sandbox's fork server stopped during this probe"),
        ) from None
    except _SandboxFailureStop as exc:
        raise _Stop(
            current,
            ProbeError("sandbox", f"the sandbox could not start the hand-in: {exc}"),
            fatal=True,
        ) from None
    except (ProtocolError, ValueError, TypeError, KeyError, RecursionError) as exc:
        bad = current or (queue[0][1] if queue else None)
        raise _Stop(bad, ProbeError("bad_value", f"unreadable answer: {exc}")) from None


class SandboxFailure(Exception):
    pass


class _SandboxFailureStop(Exception):
    pass


class _Stop(Exception):
    """Ends the conversation with one child; ``error`` belongs to ``current``."""

    def __init__(
        self,
        current: Probe | None,
        error: ProbeError | None,
        *,
        import_error: ProbeError | None = None,
        fatal: bool = False,
    ) -> None:
        super().__init__(error.message if error else "")
        #: the error is the sandbox's, not the hand-in's: it fails every pending probe
        self.fatal = fatal
        self.current = current
        self.error = error
        self.import_error = import_error


#: CPU seconds (and a quarter of the wall seconds) a child may take between two probes
_BETWEEN_PROBES = 5.0


def _hang_key(probe: Probe) -> str:
    """Same as ``child.hang_key``: the function, and whether it is called with symbols."""
    text = json.dumps(probe.to_json().get("args", []))
    symbolic = '"$symbol"' in text or '"$expr"' in text
    return f"{probe.name}/{'symbolic' if symbolic else 'numeric'}"


def preparations(probes: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The densities the probes pass, each once: the child builds them before the import.

    A hand-in may patch sympy or numpy at import; what the child builds afterwards with
    them (a lambdified density) would be corrupted, so it is built first. Densities are the
    sheet's model families, no secret (probe ids and the other arguments are still read
    only after the import).
    """
    seen: dict[str, dict[str, Any]] = {}

    def walk(data: Any) -> None:
        if isinstance(data, list):
            for v in data:
                walk(v)
        elif isinstance(data, dict):
            if set(data) == {"$density"} and isinstance(data["$density"], dict):
                seen.setdefault(json.dumps(data["$density"], sort_keys=True), data["$density"])
            else:
                for v in data.values():
                    walk(v)

    for probe in probes:
        walk(probe.get("args", []))
    return list(seen.values())


def _fail_rest(outcomes: dict[str, Outcome], pending: Sequence[Probe], err: ProbeError) -> None:
    for p in pending:
        if p.id not in outcomes:
            outcomes[p.id] = Outcome(p.id, error=err)


def _import_error(msg: dict[str, Any], limits: Limits) -> ProbeError:
    err = msg.get("error")
    err = err if isinstance(err, dict) else {}
    line = err.get("line")
    kind: ErrorKind = "timeout" if err.get("kind") == "timeout" else "import"
    message = str(err.get("message", "the hand-in could not be imported"))[:2000]
    if kind == "timeout":
        clock = "wall" if err.get("clock") == "wall" else "cpu"
        message = timeout_message(
            limits.import_timeout, clock, limits.wall_factor, "importing the hand-in took"
        )
    exc = err.get("exception")
    return ProbeError(
        kind,
        message,
        line if isinstance(line, int) and not isinstance(line, bool) else None,
        str(exc)[:100] if exc is not None else None,
    )


def _import_failed(
    probes: Sequence[Probe], err: ProbeError, started: float, notes: tuple[str, ...] = ()
) -> RunReport:
    return RunReport(
        {p.id: Outcome(p.id, error=err) for p in probes},
        import_error=err,
        seconds=time.monotonic() - started,
        notes=notes,
    )
