"""The parent's side of running a hand-in: send probes, read plain answers.

A :class:`Sandbox` owns a fork server (``grader.sandbox.zygote``): a warm
interpreter with numpy and sympy loaded, which forks one confined child per
hand-in (see ``docs/security.md`` for what "confined" means and where it
degrades). The child streams the probes' answers back as JSON lines, straight
to this process. Every time limit is enforced from the outside: when a probe
hangs or the child dies, that probe alone gets the error and a freshly forked
child answers the probes after it. So a limit that is hit costs only the
answers it affects, and a fork costs milliseconds.

``run_probes`` keeps the one-call interface on top of a lazily created,
module-level :class:`Sandbox`.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import json
import logging
import os
import secrets
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from grader.sandbox.child import timeout_message
from grader.sandbox.protocol import (
    MAX_MESSAGE_BYTES,
    ErrorKind,
    Outcome,
    Probe,
    ProbeError,
    ProtocolError,
    decode_outcome,
    loads_message,
)

log = logging.getLogger("grader.sandbox")

ZYGOTE_SCRIPT = Path(__file__).resolve().with_name("zygote.py")
#: wall seconds the fork server may take to start (imports numpy and sympy)
ZYGOTE_START_TIMEOUT = 60.0
#: wall seconds for a control round trip with a running fork server
ZYGOTE_REPLY_TIMEOUT = 10.0
MAX_OUTPUT = 65536


@dataclass(frozen=True)
class Limits:
    """Resource limits for one hand-in.

    A probe's ``timeout`` and ``import_timeout`` are limits in **CPU seconds**, so that
    verdicts do not depend on how busy the machine is: a probe (or the import) times out
    when it has used that much CPU time, or when ``wall_factor`` times the limit has
    passed on the wall clock (code that sleeps or waits uses no CPU time). On an idle
    machine an endless loop is stopped after the limit; on a machine with four times
    more work than cores, a correct answer that needs 90% of its limit still passes.
    """

    #: CPU seconds for importing the hand-in (wall: ``wall_factor`` times as many)
    import_timeout: float = 10.0
    #: wall seconds for the whole hand-in, all probes and restarts together (a backstop
    #: against hand-ins that sleep in every function; generous, because under load a
    #: correct hand-in's wall time grows with the load)
    total_timeout: float = 120.0
    #: grace on top of a probe's own timeout before the child is killed (CPU seconds, and
    #: wall seconds on top of the wall limit)
    grace: float = 1.0
    #: a probe or the import that stays below its CPU limit is stopped after this many
    #: times the limit on the wall clock
    wall_factor: float = 4.0
    memory_mb: int = 2048
    max_processes: int = 64
    max_file_mb: int = 16
    max_open_files: int = 256
    #: how often a crashed or hung child is replaced before the rest is given up
    max_restarts: int = 8
    #: CPU seconds for the whole hand-in (all its processes' CPU use is summed across
    #: restarts; each single process is also held to the rest by RLIMIT_CPU)
    cpu_seconds: float = 60.0

    def for_child(self, cpu_left: float) -> dict[str, Any]:
        return {
            "memory_mb": self.memory_mb,
            "max_processes": self.max_processes,
            "max_file_mb": self.max_file_mb,
            "max_open_files": self.max_open_files,
            "cpu_seconds": max(1, int(cpu_left + 0.999)),
        }


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


IsolationLevel = Literal["full", "partial", "minimal"]

#: what each isolation feature protects, said as what is lost without it
_MISSING_TEXT = {
    "user": "unprivileged user: hand-ins run as the grader's own user, not 'nobody'",
    "mount": "private file system: hand-ins can read every file the grader's user can read",
    "network": "network isolation: hand-ins can open network connections",
    "pid": "process isolation: hand-ins can see, and may signal, other processes of their user",
    "forkserver": "fork server: each hand-in starts a fresh interpreter (slow)",
}


@dataclass(frozen=True)
class IsolationReport:
    """How well hand-ins are isolated on this machine. Print ``summary`` once."""

    level: IsolationLevel
    missing: tuple[str, ...]
    summary: str

    @classmethod
    def from_features(cls, features: dict[str, bool], notes: Sequence[str] = ()) -> IsolationReport:
        missing = tuple(
            _MISSING_TEXT[k] for k in ("user", "mount", "network", "pid") if not features.get(k)
        )
        if not features.get("forkserver", True):
            missing += (_MISSING_TEXT["forkserver"],)
        strong = [k for k in ("user", "mount", "network", "pid") if features.get(k)]
        level: IsolationLevel = "full" if not missing else ("partial" if strong else "minimal")
        if level == "full":
            summary = (
                "Sandbox isolation: full. Each hand-in runs as user 'nobody' in its own mount, "
                "pid, IPC and network namespaces (it sees only the Python installation, read-only, "
                "and its own copy of the hand-in), under CPU, memory, process, file-size and "
                "open-file limits."
            )
        else:
            summary = (
                f"Sandbox isolation: {level}. Hand-ins run under CPU, memory, process and "
                "file-size limits in a private working directory and process group, but WITHOUT: "
                + "; ".join(missing)
                + ". Grade untrusted hand-ins only as root on Linux (see docs/security.md)."
            )
        return cls(level, missing, summary)


class _ChildDied(Exception):
    def __init__(self, error: ProbeError) -> None:
        super().__init__(error.message)
        self.error = error


class _ZygoteDied(Exception):
    pass


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return str(sig)


def _exit_description(
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


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int | str) -> list[bytes] | None:
    """The fields of ``/proc/PID/stat`` after the command name (field 3 is index 0)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        return stat[stat.rindex(b")") + 2 :].split()
    except (OSError, ValueError):
        return None


def _cpu_of(fields: list[bytes]) -> float:
    """utime + stime + cutime + cstime: the process's threads and its reaped children."""
    return sum(int(f) for f in fields[11:15]) / _CLOCK_TICKS


def process_tree_cpu(pid: int) -> float | None:
    """CPU seconds used by process ``pid`` (all its threads, the children it reaped) and
    by its live descendants, read from ``/proc`` (None without ``/proc`` or ``pid``).

    ``pid`` is as this process sees it: a child in its own pid namespace is still visible
    here under its pid in ours. Descendants are found by scanning ``/proc`` (a few ms), so
    this is called only when a probe has outlasted its limit, not on every probe.
    """
    own = _stat_fields(pid)
    if own is None or len(own) < 15:
        return None
    total = _cpu_of(own)
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return total
    children: dict[int, list[tuple[int, float]]] = {}
    for entry in entries:
        fields = _stat_fields(entry)
        if fields is None or len(fields) < 15:
            continue
        with contextlib.suppress(ValueError):
            children.setdefault(int(fields[1]), []).append((int(entry), _cpu_of(fields)))
    todo, seen = [pid], {pid}
    while todo:
        for child, cpu in children.get(todo.pop(), ()):
            if child not in seen:
                seen.add(child)
                total += cpu
                todo.append(child)
    return total


# ------------------------------------------------------------------ children
class _BaseChild:
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


class _ForkedChild(_BaseChild):
    """A child forked by the fork server; its answers come straight to us."""

    def __init__(
        self,
        zygote: _Zygote,
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

    def _died(self) -> _ChildDied:
        assert self.exit is not None
        status = int(self.exit.get("status", 0))
        code = os.waitstatus_to_exitcode(status) if status >= 0 else None
        return _ChildDied(
            _exit_description(
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
                raise _ZygoteDied()

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


class _FreshChild(_BaseChild):
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
        env = _clean_env()
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
                raise _ChildDied(_exit_description(self.proc.returncode, limits=self.limits))
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
        import shutil

        shutil.rmtree(self.workdir, ignore_errors=True)
        return 0.0


def _clean_env() -> dict[str, str]:
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


# ------------------------------------------------------------------ the fork server
class _Zygote:
    """The parent's handle on one fork server process."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-B",
                str(ZYGOTE_SCRIPT),
                str(theirs.fileno()),
                str(os.getpid()),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),),
            env=_clean_env(),
            cwd="/",
            start_new_session=True,
        )
        theirs.close()
        self.sock = ours
        self.sock.setblocking(False)
        self.buffer = b""
        self.dead = False
        self.exits: dict[int, dict[str, Any]] = {}
        self.info: dict[str, Any] | None = None

    # -- low level
    def _send(self, obj: dict[str, Any], fds: Sequence[int] = ()) -> None:
        data = (json.dumps(obj) + "\n").encode()
        try:
            self.sock.setblocking(True)
            if fds:
                socket.send_fds(self.sock, [data], list(fds))
            else:
                self.sock.sendall(data)
        except OSError as exc:
            self.dead = True
            raise _ZygoteDied() from exc
        finally:
            self.sock.setblocking(False)

    def _recv(self, deadline: float) -> dict[str, Any] | None:
        """The next control message, or None at the deadline."""
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            sel = selectors.DefaultSelector()
            try:
                sel.register(self.sock, selectors.EVENT_READ)
                if not sel.select(remaining):
                    continue
            finally:
                sel.close()
            try:
                chunk = self.sock.recv(1 << 16)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                self.dead = True
                raise _ZygoteDied()
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        msg = json.loads(line)
        if msg.get("event") == "exited":
            self.exits[int(msg["pid"])] = msg
        return msg

    # -- operations
    def wait_ready(self) -> dict[str, Any]:
        if self.info is None:
            msg = self._recv(time.monotonic() + ZYGOTE_START_TIMEOUT)
            if msg is None or msg.get("event") != "ready":
                self.close()
                raise _ZygoteDied()
            self.info = msg
        return self.info

    def spawn(self, settings: dict[str, Any], probes: bytes, handin_fd: int) -> tuple[int, int]:
        """Fork a child; return its pid and the read end of its answer pipe."""
        self.wait_ready()
        req_fd = _anonymous_file(probes)
        read_fd, write_fd = os.pipe()
        try:
            self._send(dict(settings, op="spawn", fds=3), [req_fd, write_fd, handin_fd])
        except _ZygoteDied:
            os.close(read_fd)
            raise
        finally:
            os.close(req_fd)
            os.close(write_fd)
        deadline = time.monotonic() + ZYGOTE_REPLY_TIMEOUT
        while True:
            msg = self._recv(deadline)
            if msg is None:
                os.close(read_fd)
                self.close()
                raise _ZygoteDied()
            if msg.get("event") == "spawned":
                return int(msg["pid"]), read_fd
            if msg.get("event") == "spawn_error":
                os.close(read_fd)
                raise OSError(str(msg.get("message")))

    def poll_exit(self, pid: int) -> dict[str, Any] | None:
        """Read pending control messages without waiting; the exit of ``pid`` if seen."""
        with contextlib.suppress(_ZygoteDied):
            while self._recv(time.monotonic()) is not None:
                pass
        return self.exits.pop(pid, None)

    def wait_exit(self, pid: int, deadline: float) -> dict[str, Any] | None:
        while pid not in self.exits:
            if self._recv(deadline) is None:
                return None
        return self.exits.pop(pid)

    def kill(self, pid: int) -> dict[str, Any]:
        if pid in self.exits:
            return self.exits.pop(pid)
        self._send({"op": "kill", "pid": pid})
        exit_ = self.wait_exit(pid, time.monotonic() + ZYGOTE_REPLY_TIMEOUT)
        if exit_ is None:
            self.close()
            raise _ZygoteDied()
        return exit_

    def close(self) -> None:
        self.dead = True
        with contextlib.suppress(OSError):
            self.sock.close()
        try:
            self.proc.wait(5.0)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        root = (self.info or {}).get("root")
        if isinstance(root, str) and os.path.basename(root).startswith("grader-sandbox-root-"):
            with contextlib.suppress(OSError):
                os.rmdir(root)  # left behind when the zygote could not clean up itself


def _anonymous_file(data: bytes) -> int:
    """A read-only, unnamed file holding ``data`` (the child must not rewrite its probes)."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("grader-probes", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        name = None
    else:  # pragma: no cover - macOS
        fd, name = tempfile.mkstemp()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    if name is None:
        import fcntl

        seals = fcntl.F_SEAL_WRITE | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_SEAL
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, seals)
        return fd
    ro = os.open(name, os.O_RDONLY)  # pragma: no cover - macOS
    os.unlink(name)  # pragma: no cover
    os.close(fd)  # pragma: no cover
    return ro  # pragma: no cover


# ------------------------------------------------------------------ the sandbox
class Sandbox:
    """Runs hand-ins in confined children forked from a warm fork server.

    Create one per process (each worker its own); ``run`` calls are serialised.
    Use as a context manager, or call :meth:`close`. The fork server dies with the *thread*
    that created it (Linux parent-death signal); a dead fork server is restarted on the
    next run, so a short-lived creating thread costs a restart, not a wrong result.
    """

    def __init__(self, *, limits: Limits | None = None, fork_server: bool = True) -> None:
        self.limits = limits or Limits()
        self._fork_server = fork_server and os.name == "posix"
        self._lock = threading.Lock()
        self._zygote: _Zygote | None = None
        self._owner = os.getpid()
        self._isolation: IsolationReport | None = None
        self._restarts = 0
        if self._fork_server:
            self._zygote = _Zygote()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def isolation(self) -> IsolationReport:
        if self._isolation is None:
            with self._lock:
                zygote = self._ensure_zygote()
                self._isolation = self._report(zygote)
        return self._isolation

    def _report(self, zygote: _Zygote | None) -> IsolationReport:
        if zygote is None:
            return IsolationReport.from_features({"forkserver": False})
        try:
            info = zygote.wait_ready()
        except _ZygoteDied:
            return IsolationReport.from_features({"forkserver": False})
        iso = info.get("isolation", {})
        return IsolationReport.from_features(dict(iso.get("features", {})), iso.get("notes", ()))

    def _ensure_zygote(self) -> _Zygote | None:
        if not self._fork_server:
            return None
        if self._owner != os.getpid():
            # inherited across fork(): the zygote's socket belongs to the parent process
            self._owner = os.getpid()
            self._zygote = None
        if self._zygote is None or self._zygote.dead:
            if self._zygote is not None:
                self._zygote.close()
                self._restarts += 1
            self._zygote = _Zygote()
        try:
            self._zygote.wait_ready()
        except _ZygoteDied:
            self._zygote = None
            if self._restarts > 3:
                log.warning("the sandbox fork server does not start; using fresh interpreters")
                self._fork_server = False
            self._restarts += 1
            return None
        return self._zygote

    def close(self) -> None:
        with self._lock:
            if self._zygote is not None and self._owner == os.getpid():
                self._zygote.close()
            self._zygote = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            if self._zygote is not None and self._owner == os.getpid():
                self._zygote.close()

    # -------------------------------------------------------------- running
    def run(
        self, path: Path, probes: Sequence[Probe], *, limits: Limits | None = None
    ) -> RunReport:
        """Run ``probes`` against the hand-in at ``path`` and return their outcomes."""
        with self._lock:
            return self._run(Path(path), probes, limits or self.limits)

    def _start(
        self, path: Path, handin_fd: int, pending: Sequence[Probe], limits: Limits, cpu_left: float
    ) -> _BaseChild:
        child_limits = limits.for_child(cpu_left)
        # random ids on the wire, new for every child: a hand-in cannot know in advance which
        # answers to forge (see _converse)
        wired = [(secrets.token_hex(8), p) for p in pending]
        probes = [dict(p.to_json(), id=wire_id) for wire_id, p in wired]
        zygote = self._ensure_zygote()
        if zygote is None:
            if not self._fork_server:
                request = {
                    "probes": probes,
                    "prepare": _preparations(probes),
                    "import_timeout": limits.import_timeout,
                    "wall_factor": limits.wall_factor,
                    "limits": child_limits,
                }
                return _FreshChild(path, request, limits, child_limits["cpu_seconds"], wired)
            raise _ZygoteDied()
        settings = {
            "name": path.name,
            "limits": child_limits,
            "import_timeout": limits.import_timeout,
            "wall_factor": limits.wall_factor,
            "prepare": _preparations(probes),
        }
        for attempt in (1, 2):
            try:
                pid, fd = zygote.spawn(settings, json.dumps(probes).encode(), handin_fd)
                break
            except OSError as exc:
                # a spawn the fork server refused (say, it could not take the file
                # descriptors) is tried once more before the hand-in's probes are given up
                if attempt == 2:
                    msg = f"the sandbox could not start the hand-in: {exc}"
                    raise _SandboxFailure(msg) from exc
                log.warning("sandbox spawn failed, retrying: %s", exc)
        return _ForkedChild(zygote, pid, fd, limits, child_limits["cpu_seconds"], wired)

    def _run(self, path: Path, probes: Sequence[Probe], limits: Limits) -> RunReport:
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
                    child = self._start(path, handin_fd, pending, limits, cpu_left)
                except _ZygoteDied:
                    notes.append("the sandbox fork server stopped and was restarted")
                    restarts += 1
                    if restarts > limits.max_restarts:
                        _fail_rest(outcomes, pending, ProbeError("sandbox", "the sandbox failed"))
                        break
                    continue
                except _SandboxFailure as exc:
                    _fail_rest(outcomes, pending, ProbeError("sandbox", str(exc)))
                    break
                try:
                    import_error, output = self._converse(
                        child, pending, outcomes, limits, hard_deadline
                    )
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
                    except _ZygoteDied:
                        notes.append("the sandbox fork server stopped and was restarted")
                pending = [p for p in pending if p.id not in outcomes]
                restarts += 1
                if pending and (
                    restarts > limits.max_restarts or time.monotonic() >= hard_deadline
                ):
                    if time.monotonic() >= hard_deadline:
                        err = ProbeError(
                            "timeout",
                            f"the hand-in used up its total time ({limits.total_timeout:g} s)",
                        )
                    else:
                        err = ProbeError(
                            "crashed", "not run: the hand-in crashed or hung too often"
                        )
                    _fail_rest(outcomes, pending, err)
                    pending = []
        finally:
            os.close(handin_fd)
        return RunReport(
            outcomes, output=output, seconds=time.monotonic() - started, notes=tuple(notes)
        )

    def _converse(
        self,
        child: _BaseChild,
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
            msg, clock = _await(
                child, limits.import_timeout, time.monotonic(), 0.0, limits, hard_deadline
            )
        except _ChildDied as died:
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
                msg, clock = _await(child, limit, time.monotonic(), cpu_base, limits, hard_deadline)
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
                cpu_base = _reported_cpu(msg)
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
        except _ChildDied as died:
            raise _Stop(current, died.error) from None
        except _ZygoteDied:
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


class _SandboxFailure(Exception):
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


def _reported_cpu(msg: dict[str, Any]) -> float | None:
    """The CPU seconds a child says it has used so far (``cpu`` of a start or answer).

    The child may lie: a value too high only lets it run to the wall limit, which a
    sleeping child gets anyway; too low only stops it sooner."""
    cpu = msg.get("cpu")
    if isinstance(cpu, (int, float)) and not isinstance(cpu, bool) and 0 <= cpu < 1e9:
        return float(cpu)
    return None


def _await(
    child: _BaseChild,
    limit: float,
    started: float,
    cpu_base: float | None,
    limits: Limits,
    hard_deadline: float,
) -> tuple[dict[str, Any] | None, str]:
    """The child's next message, or None and which limit ran out: "cpu", "wall", "total".

    The rule (documented in docs/security.md): a probe whose time limit is ``limit`` is
    stopped when the child has used ``limit + grace`` CPU seconds since ``cpu_base``, or
    when ``wall_factor * limit + grace`` seconds have passed since ``started``, or at the
    hand-in's total deadline. The CPU time is read from ``/proc`` (the child, its threads
    and its descendants) only once the probe has outlasted ``limit + grace`` on the wall
    clock, so probes that finish in time cost nothing extra. Where the CPU time cannot be
    read (no ``/proc``, unknown baseline) only the wall limit applies; the child's own
    alarms still apply the CPU limit.
    """
    cpu_cap = limit + limits.grace
    wall_cap = started + limits.wall_factor * limit + limits.grace
    check = min(started + cpu_cap, wall_cap)
    while True:
        msg = child.next_message(min(check, hard_deadline))
        if msg is not None:
            return msg, ""
        now = time.monotonic()
        if now >= hard_deadline:
            return None, "total"
        if now >= wall_cap:
            return None, "wall"
        total = child.cpu_time() if cpu_base is not None else None
        if total is None or cpu_base is None:
            check = wall_cap
            continue
        used = total - cpu_base
        if used >= cpu_cap:
            return None, "cpu"
        # CPU time grows at most as fast as the wall clock per busy thread: look again
        # when the rest of the CPU budget could have been used up
        check = min(wall_cap, now + max(0.05, cpu_cap - used))


def _hang_key(probe: Probe) -> str:
    """Same as ``child.hang_key``: the function, and whether it is called with symbols."""
    text = json.dumps(probe.to_json().get("args", []))
    symbolic = '"$symbol"' in text or '"$expr"' in text
    return f"{probe.name}/{'symbolic' if symbolic else 'numeric'}"


def _preparations(probes: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
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


# ------------------------------------------------------------------ module-level helpers
_default: Sandbox | None = None
_default_lock = threading.Lock()
_warned = False


def _default_sandbox() -> Sandbox:
    global _default
    with _default_lock:
        if _default is None or _default._owner != os.getpid():
            _default = Sandbox()
            atexit.register(_default.close)
        return _default


def sandbox_isolation() -> IsolationReport:
    """How isolated hand-ins are here (starts the shared fork server if needed).

    Logs a warning once per process when isolation is not full.
    """
    global _warned
    report = _default_sandbox().isolation
    if report.level != "full" and not _warned:
        _warned = True
        log.warning("%s", report.summary)
    return report


def warm_up() -> None:
    """Start the shared fork server now (from the main thread), so that it boots while the
    caller does other work, such as loading a sheet."""
    _default_sandbox()


def run_probes(path: Path, probes: Sequence[Probe], *, limits: Limits | None = None) -> RunReport:
    """Run ``probes`` against the hand-in at ``path`` (one-shot, shared fork server)."""
    return _default_sandbox().run(Path(path), probes, limits=limits)
