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
import select
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
    ProbeError,
    ProtocolError,
    loads_message,
)

if TYPE_CHECKING:
    from grader.sandbox.forkserver import ForkServer

CHILD_SCRIPT = Path(__file__).resolve().with_name("child.py")


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
    returncode: int | None,
    *,
    cpu: float = 0.0,
    limits: Limits | None = None,
    cpu_limit: int = 0,
    oom: bool = False,
) -> ProbeError:
    """What a child's end means, in words for the student. ``oom``: the kernel killed a
    process of the hand-in's cgroup for its memory."""
    limits = limits or Limits()
    if oom:
        text = f"your code used more than {limits.memory_mb} MB of memory (all its processes)"
        return ProbeError("memory", text)
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


#: F_SETPIPE_SZ: a request pipe large enough for any probe's arguments, so that the
#: grader's write never waits for the child (1 MiB is what an unprivileged process may ask)
_F_SETPIPE_SZ = 1031
_REQUEST_PIPE_BYTES = 1 << 20


_F_GETPIPE_SZ = 1032


def request_pipe() -> tuple[int, int, int]:
    """A pipe for the grader's requests to a child: (read end for the child, write end,
    how many bytes it holds)."""
    read_fd, write_fd = os.pipe()
    capacity = 4096  # what POSIX promises
    with contextlib.suppress(OSError, AttributeError):
        import fcntl

        with contextlib.suppress(OSError):
            fcntl.fcntl(write_fd, _F_SETPIPE_SZ, _REQUEST_PIPE_BYTES)
        capacity = fcntl.fcntl(write_fd, _F_GETPIPE_SZ)
    os.set_blocking(write_fd, False)
    return read_fd, write_fd, capacity


class ChildHandle:
    """A running child: takes the grader's requests, answers with JSON lines until a
    deadline."""

    fd: int
    #: the write end of the child's request channel (-1 once closed), and its size in bytes
    request_fd: int = -1
    request_capacity: int = 4096
    selector: selectors.BaseSelector
    buffer: bytes

    def send(self, message: dict[str, Any] | str, deadline: float) -> bool:
        """Write one request line (a message, or one already in JSON); False when the child
        did not take it by ``deadline``.

        A child that has ended (the pipe is broken) counts as taking it: the next
        :meth:`next_message` reports how it ended."""
        text = message if isinstance(message, str) else json.dumps(message, separators=(",", ":"))
        view = memoryview((text + "\n").encode())
        while view:
            try:
                view = view[os.write(self.request_fd, view) :]
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                select.select([], [self.request_fd], [], remaining)
            except (BrokenPipeError, OSError):
                return True
        return True

    def _close_requests(self) -> None:
        if self.request_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.request_fd)
            self.request_fd = -1

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
        request_fd: int,
        limits: Limits,
        cpu_limit: int,
        request_capacity: int = 4096,
    ) -> None:
        self.zygote = zygote
        self.request_capacity = request_capacity
        self.pid = pid
        self.fd = fd
        self.request_fd = request_fd
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
                oom=self.exit.get("oom") is True,
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
            self._close_requests()
        return float(self.exit.get("cpu", 0.0)) if self.exit else 0.0


class FreshChild(ChildHandle):
    """Fallback without fork server: a fresh interpreter per child (about 1 s each)."""

    def __init__(self, path: Path, request: dict[str, Any], limits: Limits, cpu_limit: int) -> None:
        read_fd, write_fd = os.pipe()
        self.limits = limits
        self.cpu_limit = cpu_limit
        self.workdir = tempfile.mkdtemp(prefix="grader-run-")
        target = Path(self.workdir) / path.name
        target.write_bytes(path.read_bytes())
        request = dict(request, module_path=str(target))
        child_read, self.request_fd, self.request_capacity = request_pipe()
        # -I and the script's path: nothing is imported from the working directory, where
        # the hand-in lies (one named json.py must not stand in for the json module)
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-B", str(CHILD_SCRIPT), str(write_fd)],
            stdin=child_read,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(write_fd,),
            env=clean_env() | {"TMPDIR": self.workdir, "HOME": self.workdir},
            cwd=self.workdir,
            start_new_session=True,
        )
        os.close(write_fd)
        os.close(child_read)
        self.fd = read_fd
        os.set_blocking(self.fd, False)
        self.buffer = b""
        self.send(request, time.monotonic() + 10.0)
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
        self._close_requests()
        shutil.rmtree(self.workdir, ignore_errors=True)
        return 0.0


def clean_env() -> dict[str, str]:
    """The environment of sandbox processes: nothing of the grader's (no tokens, no paths)
    but where its temporary directories go."""
    tmpdir = {"TMPDIR": os.environ["TMPDIR"]} if os.environ.get("TMPDIR") else {}
    return tmpdir | {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
