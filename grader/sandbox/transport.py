"""The two ways answers travel from a child to the grader.

A :class:`ForkedChild` is forked by the fork server (``grader.sandbox.forkserver``); a
:class:`FreshChild` is a fresh interpreter, the fallback without fork server. Both read the
child's JSON lines from its answer pipe until a deadline, and can be killed with all they
started.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.sandbox.cputime import process_tree_cpu
from grader.sandbox.limits import Limits
from grader.sandbox.protocol import (
    MAX_MESSAGE_BYTES,
    Probe,
    ProbeError,
    ProtocolError,
    loads_message,
)

if TYPE_CHECKING:
    from grader.sandbox.forkserver import ForkServer


class ChildDied(Exception):
    def __init__(self, error: ProbeError) -> None:
        super().__init__(error.message)
        self.error = error


class ForkServerDied(Exception):
    pass


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return str(sig)


def exit_description(
    returncode: int | None, *, cpu: float = 0.0, limits: Limits | None = None, cpu_limit: int = 0
) -> ProbeError:
    """What a child's end means, in words for the student."""
    limits = limits or Limits()
    if returncode is None:
        return ProbeError("crashed", "the process stopped answering")
    if returncode < 0:
        sig = -returncode
        if sig == signal.SIGXCPU or (
            sig == signal.SIGKILL and cpu_limit and cpu >= cpu_limit - 0.05
        ):
            return ProbeError(
                "timeout", f"used more than {limits.cpu_seconds:g} s of CPU time in total"
            )
        if sig == signal.SIGXFSZ:
            return ProbeError("output", f"wrote more than {limits.max_file_mb} MB to disk")
        if sig == signal.SIGKILL:
            return ProbeError(
                "crashed", "was killed by the system (it probably used too much memory)"
            )
        if sig == signal.SIGSEGV:
            return ProbeError(
                "crashed",
                "crashed the Python interpreter (segmentation fault; very deep recursion?)",
            )
        return ProbeError("crashed", f"the process died from signal {_signal_name(sig)}")
    if returncode == 0:
        return ProbeError("crashed", "exited the program (os._exit) while being graded")
    return ProbeError(
        "crashed", f"exited the program (exit status {returncode}) while being graded"
    )


class ChildHandle:
    """A running child: reads JSON lines from its answer pipe until a deadline."""

    fd: int
    #: (id on the wire, probe) in the order the child answers them
    wired: list[tuple[str, Probe]]
    selector: selectors.BaseSelector
    buffer: bytes

    def _take_line(self) -> dict[str, Any] | None:
        nl = self.buffer.find(b"\n")
        if nl < 0:
            if len(self.buffer) > MAX_MESSAGE_BYTES:
                raise ProtocolError("message too large")
            return None
        line, self.buffer = self.buffer[:nl], self.buffer[nl + 1 :]
        try:
            return loads_message(line)
        except ProtocolError:
            raise
        except (ValueError, RecursionError, MemoryError) as exc:
            # a hostile child may send anything: deep nesting, huge numbers, bad UTF-8
            raise ProtocolError(f"unreadable message ({type(exc).__name__})") from None

    def next_message(self, deadline: float) -> dict[str, Any] | None:
        raise NotImplementedError

    def cpu_time(self) -> float | None:
        """CPU seconds the child (with its descendants) has used so far; None if unknown."""
        return None

    def kill(self) -> float:
        """Kill the child and all it started; return the CPU seconds it used."""
        raise NotImplementedError


class ForkedChild(ChildHandle):
    """A child forked by the fork server; its answers come straight to us."""

    def __init__(
        self,
        zygote: ForkServer,
        pid: int,
        fd: int,
        limits: Limits,
        cpu_limit: int,
        wired: list[tuple[str, Probe]],
    ) -> None:
        self.wired = wired
        self.zygote = zygote
        self.pid = pid
        self.fd = fd
        self.limits = limits
        self.cpu_limit = cpu_limit
        self.buffer = b""
        self.exit: dict[str, Any] | None = None
        os.set_blocking(fd, False)
        self.selector = selectors.DefaultSelector()
        self.selector.register(fd, selectors.EVENT_READ, "answers")
        self.selector.register(zygote.sock, selectors.EVENT_READ, "zygote")
        self.eof = False

    def _read_some(self) -> bool:
        """Read what the pipe has; False on end of file."""
        try:
            chunk = os.read(self.fd, 1 << 20)
        except BlockingIOError:
            return True
        if not chunk:
            self.eof = True
            return False
        self.buffer += chunk
        return True

    def _died(self) -> ChildDied:
        assert self.exit is not None
        status = int(self.exit.get("status", 0))
        code = os.waitstatus_to_exitcode(status) if status >= 0 else None
        return ChildDied(
            exit_description(
                code,
                cpu=float(self.exit.get("cpu", 0.0)),
                limits=self.limits,
                cpu_limit=self.cpu_limit,
            )
        )

    def next_message(self, deadline: float) -> dict[str, Any] | None:
        while True:
            msg = self._take_line()
            if msg is not None:
                return msg
            if self.exit is not None and self.eof:
                raise self._died()
            if self.eof:
                # the pipe closed: the process ended (or closed fd 3); learn how
                self.exit = self.zygote.wait_exit(self.pid, time.monotonic() + 2.0)
                if self.exit is None:
                    self.exit = self.zygote.kill(self.pid)
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            for key, _ in self.selector.select(remaining):
                if key.data == "answers":
                    self._read_some()
                elif self.exit is None:
                    self.exit = self.zygote.poll_exit(self.pid)
                    if self.exit is not None:
                        # ended; grandchildren might still hold the pipe: take what is there
                        self._drain()
                        self.eof = True
            if self.exit is None and self.zygote.dead:
                raise ForkServerDied()

    def cpu_time(self) -> float | None:
        if self.exit is not None:
            return None
        return process_tree_cpu(self.pid)

    def _drain(self) -> None:
        while len(self.buffer) <= MAX_MESSAGE_BYTES and self._read_some():
            if not self.selector.select(0):
                break

    def kill(self) -> float:
        try:
            if self.exit is None:
                self.exit = self.zygote.kill(self.pid)
        finally:
            self.selector.close()
            os.close(self.fd)
        return float(self.exit.get("cpu", 0.0)) if self.exit else 0.0


class FreshChild(ChildHandle):
    """Fallback without fork server: a fresh interpreter per child (about 1 s each)."""

    def __init__(
        self,
        path: Path,
        request: dict[str, Any],
        limits: Limits,
        cpu_limit: int,
        wired: list[tuple[str, Probe]],
    ) -> None:
        self.wired = wired
        read_fd, write_fd = os.pipe()
        self.limits = limits
        self.cpu_limit = cpu_limit
        self.workdir = tempfile.mkdtemp(prefix="grader-run-")
        target = Path(self.workdir) / path.name
        target.write_bytes(path.read_bytes())
        request = dict(request, module_path=str(target))
        env = clean_env()
        env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
        self.proc = subprocess.Popen(
            [sys.executable, "-B", "-m", "grader.sandbox.child", str(write_fd)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(write_fd,),
            env=env,
            cwd=self.workdir,
            start_new_session=True,
        )
        os.close(write_fd)
        self.fd = read_fd
        os.set_blocking(self.fd, False)
        self.buffer = b""
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.write(json.dumps(request).encode())
            self.proc.stdin.close()
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.fd, selectors.EVENT_READ)

    def next_message(self, deadline: float) -> dict[str, Any] | None:
        while True:
            msg = self._take_line()
            if msg is not None:
                return msg
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.selector.select(remaining):
                return None
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(2.0)
                self.kill()
                raise ChildDied(exit_description(self.proc.returncode, limits=self.limits))
            self.buffer += chunk

    def cpu_time(self) -> float | None:
        return process_tree_cpu(self.proc.pid) if self.proc.returncode is None else None

    def kill(self) -> float:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(self.fd)
        with contextlib.suppress(OSError):
            os.close(self.fd)
        shutil.rmtree(self.workdir, ignore_errors=True)
        return 0.0


def clean_env() -> dict[str, str]:
    """The environment of sandbox processes: nothing of the grader's (no tokens, no paths)."""
    return {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
