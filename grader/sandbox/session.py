"""One hand-in's run: the conversation with each child, and the restart policy.

A child is sent nothing but its settings until it has imported the hand-in. Then it is
asked every visible probe, then every hidden one (whatever order the caller gave): no
hidden probe is sent before every visible one has been answered. Before the first hidden
probe is sent, the child reports what the hand-in has printed so far, and that is all of
its output the run reports: nothing the hand-in learns from a hidden probe can reach a
visible answer, an error message or the captured output.

When a probe hangs or the child dies, that probe alone gets the error and a fresh child
answers the probes after it, until the hand-in's restarts, CPU seconds or total time are
used up. Answers are accepted only for the probe just sent, under a random id.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


@dataclass
class _Output:
    """What the hand-in printed, as far as it may be shown."""

    text: str = ""
    #: a hidden probe has been sent (to this child or an earlier one): nothing printed
    #: from then on is kept
    frozen: bool = False

    def update(self, msg: dict[str, Any]) -> None:
        if not self.frozen:
            self.text = str(msg.get("output", ""))[:MAX_OUTPUT]


def run_handin(start: StartChild, path: Path, probes: Sequence[Probe], limits: Limits) -> RunReport:
    """Run ``probes`` against the hand-in at ``path``, in as many children as it takes."""
    started = time.monotonic()
    try:
        handin_fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        err = ProbeError("sandbox", f"the hand-in could not be read: {exc.strerror}")
        return _import_failed(probes, err, started)
    try:
        return _Run(start, path, handin_fd, probes, limits, started).run()
    finally:
        os.close(handin_fd)


class _Run:
    """The restart policy: children one after another until every probe has an outcome."""

    def __init__(
        self,
        start: StartChild,
        path: Path,
        handin_fd: int,
        probes: Sequence[Probe],
        limits: Limits,
        started: float,
    ) -> None:
        self.start, self.path, self.handin_fd, self.limits = start, path, handin_fd, limits
        self.probes = probes
        self.started = started
        self.hard_deadline = started + limits.total_timeout
        self.outcomes: dict[str, Outcome] = {}
        self.notes: list[str] = []
        self.output = _Output()
        # hidden probes last: see the module's docstring
        self.pending = [p for p in probes if not p.hidden] + [p for p in probes if p.hidden]
        self.restarts = 0
        self.cpu_used = 0.0

    def run(self) -> RunReport:
        while self.pending:
            cpu_left = self.limits.cpu_seconds - self.cpu_used
            if cpu_left <= 0.05:
                total = f"used more than {self.limits.cpu_seconds:g} s of CPU time in total"
                self._fail_pending(ProbeError("timeout", total))
                break
            try:
                child = self.start(self.path, self.handin_fd, self.pending, self.limits, cpu_left)
            except ForkServerDied:
                self.notes.append("the sandbox fork server stopped and was restarted")
                self.restarts += 1
                if self.restarts > self.limits.max_restarts:
                    self._fail_pending(ProbeError("sandbox", "the sandbox failed"))
                    break
                continue
            except SandboxFailure as exc:
                self._fail_pending(ProbeError("sandbox", str(exc)))
                break
            import_error = self._one_child(child)
            if import_error is not None:
                return self._report(import_error)
            self._after_child()
        return self._report(None)

    def _one_child(self, child: ChildHandle) -> ProbeError | None:
        """Let one child answer what it can; the import error if the import failed."""
        try:
            return _Conversation(child, self).run()
        except _Stop as stop:
            self._stopped(stop)
            return stop.import_error
        finally:
            try:
                self.cpu_used += child.kill()
            except ForkServerDied:
                self.notes.append("the sandbox fork server stopped and was restarted")

    def _stopped(self, stop: _Stop) -> None:
        current, error = stop.current, stop.error
        if error is None:
            return
        if stop.fatal:
            self._fail_pending(error)
        elif current is not None:
            self.outcomes[current.id] = Outcome(current.id, error=error)
            if error.kind == "timeout":
                # A function that hung once is not asked again: its other probes get the
                # same verdict. Each would cost a full timeout and a new child, and a
                # hand-in whose function hangs (or swallows the alarm) would use up the
                # restarts and the total time that the probes of its other functions need.
                key = _hang_key(current)
                for p in self.pending:
                    if p.id not in self.outcomes and _hang_key(p) == key:
                        self.outcomes[p.id] = Outcome(p.id, error=error)
        else:
            # died between probes (at exit, or before its first probe was sent)
            nxt = next((p for p in self.pending if p.id not in self.outcomes), None)
            if nxt is not None:
                self.outcomes[nxt.id] = Outcome(nxt.id, error=error)

    def _after_child(self) -> None:
        self.pending = [p for p in self.pending if p.id not in self.outcomes]
        self.restarts += 1
        if not self.pending:
            return
        if time.monotonic() >= self.hard_deadline:
            total = f"the hand-in used up its total time ({self.limits.total_timeout:g} s)"
            self._fail_pending(ProbeError("timeout", total))
        elif self.restarts > self.limits.max_restarts:
            self._fail_pending(
                ProbeError("crashed", "not run: the hand-in crashed or hung too often")
            )

    def _fail_pending(self, err: ProbeError) -> None:
        for p in self.pending:
            if p.id not in self.outcomes:
                self.outcomes[p.id] = Outcome(p.id, error=err)
        self.pending = []

    def _report(self, import_error: ProbeError | None) -> RunReport:
        outcomes = self.outcomes
        if import_error is not None:
            outcomes = {p.id: Outcome(p.id, error=import_error) for p in self.probes}
        return RunReport(
            outcomes,
            import_error=import_error,
            output=self.output.text,
            seconds=time.monotonic() - self.started,
            notes=tuple(self.notes),
        )


class _Conversation:
    """The grader's side of one child's protocol (``grader.sandbox.child``).

    Every request is answered by exactly one message, checked against what was asked, in
    order: an answer must carry the random id of the oldest probe not yet answered, so a
    hand-in that writes forged lines to its answer channel can at most answer (or fail)
    probes it has been sent, which it could do by returning values anyway.
    """

    def __init__(self, child: ChildHandle, run: _Run) -> None:
        self.child = child
        self.run_ = run
        self.limits = run.limits
        #: the child's CPU seconds when it last reported them (after the import, an answer)
        self.cpu_base: float | None = None
        #: when the child last replied: it starts on the next probe from then
        self.last_reply = time.monotonic()
        #: the probe being waited for (an error that stops the child is its)
        self.current: Probe | None = None

    def run(self) -> ProbeError | None:
        """The import error, or None once the child has answered every pending probe."""
        msg = self._imported()
        if msg.get("event") == "import_error":
            self.run_.output.update(msg)
            return _import_error(msg, self.limits)
        try:
            if msg.get("event") == "sandbox_error":
                raise _SandboxFailureStop(str(msg.get("message", ""))[:500])
            self.cpu_base = reported_cpu(msg)
            self.last_reply = time.monotonic()
            todo = [p for p in self.run_.pending if p.id not in self.run_.outcomes]
            self._answer_all([p for p in todo if not p.hidden])
            hidden = [p for p in todo if p.hidden]
            if hidden and not self.run_.output.frozen:
                self.run_.output.update(self._ask({"op": "output"}, "output"))
                self.run_.output.frozen = True
            self._answer_all(hidden)
            self.run_.output.update(self._ask({"op": "done"}, "done"))
            return None
        except ChildDied as died:
            raise _Stop(self.current, died.error) from None
        except ForkServerDied:
            err = ProbeError("sandbox", "the sandbox's fork server stopped during this probe")
            raise _Stop(self.current, err) from None
        except _SandboxFailureStop as exc:
            err = ProbeError("sandbox", f"the sandbox could not start the hand-in: {exc}")
            raise _Stop(self.current, err, fatal=True) from None
        except (ProtocolError, ValueError, TypeError, KeyError, RecursionError) as exc:
            err = ProbeError("bad_value", f"unreadable answer: {exc}")
            raise _Stop(self.current, err) from None

    def _answer_all(self, probes: Sequence[Probe]) -> None:
        """Have the child answer ``probes`` in order. Several are sent ahead, as many as the
        request pipe holds (a round trip per probe would cost more than most answers);
        each answer must carry the random id of the oldest one not yet answered."""
        window = self.child.request_capacity // 2
        in_flight: deque[tuple[Probe, str, int, float]] = deque()
        queued = 0
        for probe in probes:
            wire_id = secrets.token_hex(8)  # new for every probe sent: nothing to forge ahead
            # encoded once: its size decides how many are sent ahead
            data = json.dumps(
                {"op": "probe", "probe": dict(probe.to_json(), id=wire_id)}, separators=(",", ":")
            )
            size = len(data)
            while in_flight and queued + size > window:
                queued -= self._receive(*in_flight.popleft())
            self.current = probe
            sent = time.monotonic()
            if not self.child.send(data, self._wall_cap(probe.timeout, sent)):
                raise _Stop(probe, self._timeout(probe, self._clock()))
            in_flight.append((probe, wire_id, size, sent))
            queued += size
        while in_flight:
            queued -= self._receive(*in_flight.popleft())

    def _receive(self, probe: Probe, wire_id: str, size: int, sent: float) -> int:
        """The answer to ``probe``, timed from when the child could start on it."""
        self.current = probe
        started = max(sent, self.last_reply)
        msg, clock = await_message(
            self.child, probe.timeout, started, self.cpu_base, self.limits, self.run_.hard_deadline
        )
        if msg is None:
            raise _Stop(probe, self._timeout(probe, clock))
        if msg.get("id") != wire_id or "event" in msg:
            raise ProtocolError("answer for a probe that was not asked")
        self.cpu_base, self.last_reply = reported_cpu(msg), time.monotonic()
        outcome = decode_outcome(msg)
        self.run_.outcomes[probe.id] = dataclasses.replace(outcome, probe_id=probe.id)
        self.current = None
        return size

    def _wall_cap(self, limit: float, started: float) -> float:
        cap = started + self.limits.wall_factor * limit + self.limits.grace
        return min(cap, self.run_.hard_deadline)

    def _clock(self) -> str:
        return "wall" if time.monotonic() < self.run_.hard_deadline else "total"

    def _imported(self) -> dict[str, Any]:
        """The child's first message: imported, import_error or sandbox_error."""
        limits = self.limits
        try:
            # a new child starts at 0 CPU seconds (forked, or a fresh interpreter)
            msg, clock = await_message(
                self.child,
                limits.import_timeout,
                time.monotonic(),
                0.0,
                limits,
                self.run_.hard_deadline,
            )
        except ChildDied as died:
            # died while importing: every probe would die the same way, so it is the import's
            kind: ErrorKind = "timeout" if died.error.kind == "timeout" else "import"
            raise _Stop(None, None, import_error=ProbeError(kind, died.error.message)) from None
        except (ProtocolError, ValueError, RecursionError):
            raise _Stop(None, None, import_error=_WROTE_AT_IMPORT) from None
        if msg is None:
            if clock == "total":
                text = f"the hand-in used up its total time ({limits.total_timeout:g} s)"
            else:
                text = timeout_message(
                    limits.import_timeout, clock, limits.wall_factor, "importing the hand-in took"
                )
            raise _Stop(None, None, import_error=ProbeError("timeout", text))
        if msg.get("event") not in ("imported", "import_error", "sandbox_error"):
            raise _Stop(None, None, import_error=_WROTE_AT_IMPORT)
        return msg

    def _ask(self, message: dict[str, Any], event: str) -> dict[str, Any]:
        """Send one request and wait for its ``event`` reply (between probes: the child
        may take ``_BETWEEN_PROBES`` CPU seconds)."""
        started = time.monotonic()
        if not self.child.send(message, self._wall_cap(_BETWEEN_PROBES, started)):
            raise _Stop(None, self._timeout(None, self._clock()))
        msg, clock = await_message(
            self.child,
            _BETWEEN_PROBES,
            started,
            self.cpu_base,
            self.limits,
            self.run_.hard_deadline,
        )
        if msg is None:
            raise _Stop(None, self._timeout(None, clock))
        if msg.get("event") != event:
            raise ProtocolError(f"expected the {event} event")
        self.cpu_base, self.last_reply = reported_cpu(msg), time.monotonic()
        return msg

    def _timeout(self, probe: Probe | None, clock: str) -> ProbeError:
        if clock == "total":
            total = f"the hand-in used up its total time ({self.limits.total_timeout:g} s)"
            return ProbeError("timeout", total)
        if probe is None:
            return ProbeError("crashed", "the process stopped answering")
        return ProbeError("timeout", timeout_message(probe.timeout, clock, self.limits.wall_factor))


_WROTE_AT_IMPORT = ProbeError("import", "wrote to the grader's answer channel while being imported")


class SandboxFailure(Exception):
    """The sandbox could not start a child for the hand-in (not the hand-in's fault)."""


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
    text = json.dumps(probe.encoded_args)
    symbolic = '"$symbol"' in text or '"$expr"' in text
    return f"{probe.name}/{'symbolic' if symbolic else 'numeric'}"


def preparations(probes: Sequence[Probe]) -> list[dict[str, Any]]:
    """The densities the probes pass, each once: the child builds them before the import.

    A hand-in may patch sympy or numpy at import; what the child builds afterwards with
    them (a lambdified density) would be corrupted, so it is built first. Densities are the
    sheet's model families; the caller passes visible probes only (a hidden probe's
    density is built when the probe arrives, after the visible ones).
    """
    seen: dict[str, dict[str, Any]] = {}
    for probe in probes:
        for data in probe.densities:
            seen.setdefault(json.dumps(data["$density"], sort_keys=True), data["$density"])
    return list(seen.values())


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
