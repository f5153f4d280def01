"""The parent's side of running a hand-in: send probes, read plain answers.

``run_probes`` starts a child (``grader.sandbox.child``), streams the
probes' answers back as JSON lines and enforces every time limit from the
outside: when a probe hangs or the child dies, that probe alone gets the
error, and a fresh child answers the probes after it. So a limit that is
hit costs only the answers it affects.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader.sandbox.protocol import (
    MAX_MESSAGE_BYTES,
    Outcome,
    Probe,
    ProbeError,
    ProtocolError,
    decode_outcome,
    loads_message,
)


@dataclass(frozen=True)
class Limits:
    """Resource limits for one hand-in."""

    import_timeout: float = 10.0
    #: wall seconds for the whole hand-in, all probes and restarts together
    total_timeout: float = 60.0
    #: grace on top of a probe's own timeout before the child is killed
    grace: float = 1.0
    memory_mb: int = 2048
    max_processes: int = 64
    max_file_mb: int = 16
    max_open_files: int = 256
    #: how often a crashed or hung child is replaced before the rest is given up
    max_restarts: int = 8


@dataclass(frozen=True)
class RunReport:
    """Everything the parent learned from running one hand-in."""

    outcomes: dict[str, Outcome]
    #: set when the hand-in could not be imported: every probe failed with it
    import_error: ProbeError | None = None
    #: what the hand-in printed (capped)
    output: str = ""
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)


class _ChildDied(Exception):
    def __init__(self, error: ProbeError) -> None:
        super().__init__(error.message)
        self.error = error


def _exit_description(returncode: int | None) -> ProbeError:
    if returncode is None:
        return ProbeError("crashed", "the process stopped answering")
    if returncode < 0:
        sig = -returncode
        if sig == signal.SIGXCPU:
            return ProbeError("timeout", "used up its CPU time")
        if sig == signal.SIGXFSZ:
            return ProbeError("output", "wrote a file larger than allowed")
        if sig == signal.SIGKILL:
            return ProbeError("crashed", "was killed (out of memory, or another hard limit)")
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return ProbeError("crashed", f"the process died from signal {name}")
    return ProbeError("crashed", f"the process exited with status {returncode} (sys.exit or os._exit?)")


class _Child:
    def __init__(self, path: Path, probes: Sequence[Probe], limits: Limits) -> None:
        read_fd, write_fd = os.pipe()
        request = {
            "module_path": str(path),
            "probes": [p.to_json() for p in probes],
            "import_timeout": limits.import_timeout,
        }
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONHASHSEED": "0",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "grader.sandbox.child", str(write_fd)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(write_fd,),
            env=env,
            cwd=str(path.parent),
            start_new_session=True,
        )
        os.close(write_fd)
        self.fd = read_fd
        os.set_blocking(self.fd, False)
        self.buffer = b""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(request).encode())
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.fd, selectors.EVENT_READ)

    def next_message(self, deadline: float) -> dict | None:
        """The next message, or None when the deadline passes."""
        while True:
            nl = self.buffer.find(b"\n")
            if nl >= 0:
                line, self.buffer = self.buffer[:nl], self.buffer[nl + 1 :]
                return loads_message(line)
            if len(self.buffer) > MAX_MESSAGE_BYTES:
                raise ProtocolError("message too large")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if not self.selector.select(remaining):
                return None
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                self.proc.wait()
                raise _ChildDied(_exit_description(self.proc.returncode))
            self.buffer += chunk

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        self.selector.close()
        os.close(self.fd)


def run_probes(path: Path, probes: Sequence[Probe], *, limits: Limits | None = None) -> RunReport:
    """Run ``probes`` against the hand-in at ``path`` and return their outcomes."""
    limits = limits or Limits()
    started = time.monotonic()
    hard_deadline = started + limits.total_timeout
    outcomes: dict[str, Outcome] = {}
    pending = list(probes)
    output = ""
    restarts = 0
    while pending:
        child = _Child(path, pending, limits)
        try:
            msg = child.next_message(min(hard_deadline, time.monotonic() + limits.import_timeout + limits.grace))
            if msg is None:
                err = ProbeError("timeout", f"importing the hand-in took longer than {limits.import_timeout:g} s")
                return _import_failed(probes, err, started)
            if msg.get("event") == "import_error":
                err = _import_error(msg)
                return RunReport(
                    {p.id: Outcome(p.id, error=err) for p in probes},
                    import_error=err,
                    output=str(msg.get("output", ""))[:65536],
                    seconds=time.monotonic() - started,
                )
            current: Probe | None = None
            by_id = {p.id: p for p in pending}
            while True:
                probe_deadline = (
                    time.monotonic() + current.timeout + limits.grace if current else time.monotonic() + limits.grace + 5
                )
                msg = child.next_message(min(probe_deadline, hard_deadline))
                if msg is None:
                    if current is None:
                        raise _ChildDied(ProbeError("crashed", "the process stopped answering"))
                    outcomes[current.id] = Outcome(
                        current.id,
                        error=ProbeError("timeout", f"took longer than {current.timeout:g} s"),
                        seconds=current.timeout,
                    )
                    break
                event = msg.get("event")
                if event == "start":
                    current = by_id.get(str(msg.get("id")))
                    continue
                if event == "done":
                    output = str(msg.get("output", ""))[:65536]
                    break
                outcome = decode_outcome(msg)
                if outcome.probe_id in by_id:
                    outcomes[outcome.probe_id] = outcome
                current = None
        except _ChildDied as died:
            if current is not None:
                outcomes[current.id] = Outcome(current.id, error=died.error)
            else:
                # died between probes (at exit, or before the first start event)
                nxt = next((p for p in pending if p.id not in outcomes), None)
                if nxt is not None:
                    outcomes[nxt.id] = Outcome(nxt.id, error=died.error)
        except ProtocolError as exc:
            bad = current or next((p for p in pending if p.id not in outcomes), None)
            if bad is not None:
                outcomes[bad.id] = Outcome(bad.id, error=ProbeError("bad_value", f"unreadable answer: {exc}"))
        finally:
            child.kill()
        pending = [p for p in pending if p.id not in outcomes]
        restarts += 1
        if pending and (restarts > limits.max_restarts or time.monotonic() >= hard_deadline):
            reason = (
                f"the hand-in used up its total time ({limits.total_timeout:g} s)"
                if time.monotonic() >= hard_deadline
                else "not run: the hand-in crashed or hung too often"
            )
            for p in pending:
                outcomes[p.id] = Outcome(p.id, error=ProbeError("timeout" if "time" in reason else "crashed", reason))
            pending = []
    return RunReport(outcomes, output=output, seconds=time.monotonic() - started)


def _import_error(msg: dict) -> ProbeError:
    err = msg.get("error") or {}
    line = err.get("line")
    kind = "timeout" if err.get("kind") == "timeout" else "import"
    message = str(err.get("message", "the hand-in could not be imported"))[:2000]
    if kind == "timeout":
        message = "importing the hand-in took longer than its time limit"
    return ProbeError(kind, message, line if isinstance(line, int) else None, err.get("exception"))


def _import_failed(probes: Sequence[Probe], err: ProbeError, started: float) -> RunReport:
    return RunReport(
        {p.id: Outcome(p.id, error=err) for p in probes}, import_error=err, seconds=time.monotonic() - started
    )
