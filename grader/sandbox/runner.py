"""The parent's side of running a hand-in: the :class:`Sandbox`, and a shared default one.

A :class:`Sandbox` owns a fork server (``grader.sandbox.zygote``): a warm
interpreter with numpy and sympy loaded, which forks one confined child per
hand-in (see ``docs/security.md`` for what "confined" means and where it
degrades). The child streams the probes' answers back as JSON lines, straight
to this process (``grader.sandbox.transport``); ``grader.sandbox.session`` holds
the conversation and the restart policy.

``run_probes`` keeps the one-call interface on top of a lazily created,
module-level :class:`Sandbox`.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from grader.sandbox.cputime import process_tree_cpu
from grader.sandbox.forkserver import ForkServer
from grader.sandbox.limits import IsolationReport, Limits, RunReport
from grader.sandbox.protocol import Probe
from grader.sandbox.session import SandboxFailure, preparations, run_handin
from grader.sandbox.transport import ChildHandle, ForkedChild, ForkServerDied, FreshChild

__all__ = [
    "IsolationReport",
    "Limits",
    "RunReport",
    "Sandbox",
    "process_tree_cpu",
    "run_probes",
    "sandbox_isolation",
    "warm_up",
]

log = logging.getLogger("grader.sandbox")

Degrade = Literal["partial", "minimal"]
#: ``partial``: no namespaces, as in a container without CAP_SYS_ADMIN; ``minimal``: nor
#: another user for hand-ins, as for a grader that is not root. For testing what a course's
#: CI machine will do; the isolation summary says what is missing.
DEGRADE_ENV = "GRADER_SANDBOX_DEGRADE"


def _keep_out_of_this_process(degrade: Degrade | None) -> None:
    """Where hand-ins may run as this process's user (not root, or ``minimal``), make it
    non-dumpable: then no process of that user without CAP_SYS_PTRACE may read its memory
    or environment (``/proc/PID/mem``, ``/proc/PID/environ``) or trace it."""
    if not (sys.platform.startswith("linux") and (os.geteuid() != 0 or degrade == "minimal")):
        return
    from grader.sandbox.confine import PR_SET_DUMPABLE, prctl

    with contextlib.suppress(OSError):
        prctl(PR_SET_DUMPABLE, 0)


def _degrade_from_env() -> Degrade | None:
    value = os.environ.get(DEGRADE_ENV, "").strip().lower()
    if value in ("partial", "minimal"):
        return value  # type: ignore[return-value]
    if value:
        log.warning("%s=%s is neither 'partial' nor 'minimal': ignored", DEGRADE_ENV, value)
    return None


class Sandbox:
    """Runs hand-ins in confined children forked from a warm fork server.

    Create one per process (each worker its own); ``run`` calls are serialised.
    Use as a context manager, or call :meth:`close`. The fork server dies with the *thread*
    that created it (Linux parent-death signal); a dead fork server is restarted on the
    next run, so a short-lived creating thread costs a restart, not a wrong result.
    """

    def __init__(
        self,
        *,
        limits: Limits | None = None,
        fork_server: bool = True,
        degrade: Degrade | None = None,
    ) -> None:
        self.limits = limits or Limits()
        #: run as if the machine allowed less (see :data:`DEGRADE_ENV`)
        self.degrade = degrade or _degrade_from_env()
        self._fork_server = fork_server and os.name == "posix"
        self._lock = threading.Lock()
        self._zygote: ForkServer | None = None
        self._owner = os.getpid()
        self._isolation: IsolationReport | None = None
        self._restarts = 0
        _keep_out_of_this_process(self.degrade)
        if self._fork_server:
            self._zygote = ForkServer(self.degrade)

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

    def _report(self, zygote: ForkServer | None) -> IsolationReport:
        if zygote is None:
            return IsolationReport.from_features({"forkserver": False})
        try:
            info = zygote.wait_ready()
        except ForkServerDied:
            return IsolationReport.from_features({"forkserver": False})
        iso = info.get("isolation", {})
        return IsolationReport.from_features(dict(iso.get("features", {})), iso.get("notes", ()))

    def _ensure_zygote(self) -> ForkServer | None:
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
            self._zygote = ForkServer(self.degrade)
        try:
            self._zygote.wait_ready()
        except ForkServerDied:
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
    ) -> ChildHandle:
        """Start a child for ``pending``; it gets its probes only once it has imported the
        hand-in (``grader.sandbox.session``). The densities of visible probes are built
        before the import (see :func:`preparations`); hidden probes send nothing ahead."""
        child_limits = limits.for_child(cpu_left)
        settings = {
            "limits": child_limits,
            "import_timeout": limits.import_timeout,
            "wall_factor": limits.wall_factor,
            "prepare": preparations([p for p in pending if not p.hidden]),
        }
        zygote = self._ensure_zygote()
        if zygote is None:
            if not self._fork_server:
                return FreshChild(path, settings, limits, child_limits["cpu_seconds"])
            raise ForkServerDied()
        for attempt in (1, 2):
            try:
                pid, fd, request_fd, capacity = zygote.spawn(
                    dict(settings, name=path.name), handin_fd
                )
                break
            except OSError as exc:
                # a spawn the fork server refused (say, it could not take the file
                # descriptors) is tried once more before the hand-in's probes are given up
                if attempt == 2:
                    msg = f"the sandbox could not start the hand-in: {exc}"
                    raise SandboxFailure(msg) from exc
                log.warning("sandbox spawn failed, retrying: %s", exc)
        cpu_limit = child_limits["cpu_seconds"]
        return ForkedChild(zygote, pid, fd, request_fd, limits, cpu_limit, capacity)

    def _run(self, path: Path, probes: Sequence[Probe], limits: Limits) -> RunReport:
        return run_handin(self._start, path, probes, limits)


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
