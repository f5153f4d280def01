"""What a hand-in may use (:class:`Limits`) and what running it reports (:class:`RunReport`,
:class:`IsolationReport`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from grader.sandbox.protocol import Outcome, ProbeError


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
    "syscalls": "system-call filter: hand-ins may create namespaces, use kernel keyrings, "
    "memfd_create, ptrace, bpf and every other system call",
    "forkserver": "fork server: each hand-in starts a fresh interpreter (slow)",
}


#: what Landlock (file-system confinement without a mount namespace) makes of a missing part
_WITH_LANDLOCK = {
    "mount": (
        "landlock",
        "private file system view (Landlock instead: hand-ins read only the Python "
        "installation and system directories, and write only their own scratch directory)",
    ),
    "network": (
        "landlock_network",
        "network isolation (Landlock blocks TCP only: UDP and Unix sockets still work)",
    ),
    "pid": (
        "landlock_signals",
        "process isolation (hand-ins can see other processes; Landlock keeps their signals "
        "from them)",
    ),
}


def _missing_text(feature: str, features: dict[str, bool]) -> str:
    instead = _WITH_LANDLOCK.get(feature)
    if instead is not None and features.get(instead[0]):
        return instead[1]
    return _MISSING_TEXT[feature]


def _cgroup_sentence(features: dict[str, bool], notes: Sequence[str]) -> str:
    if features.get("cgroup"):
        return " Each hand-in's processes share one memory and process limit (a cgroup)."
    why = next((n.split(": ", 1)[1] for n in notes if n.startswith("no cgroup per hand-in")), "")
    return (
        " Memory and processes are limited per process, not per hand-in"
        + (f" (no cgroup: {why})." if why else ".")
    )


#: what full isolation is made of
_FEATURES = ("user", "mount", "network", "pid", "syscalls")


@dataclass(frozen=True)
class IsolationReport:
    """How well hand-ins are isolated on this machine. Print ``summary`` once."""

    level: IsolationLevel
    missing: tuple[str, ...]
    summary: str

    @classmethod
    def from_features(cls, features: dict[str, bool], notes: Sequence[str] = ()) -> IsolationReport:
        missing = tuple(_missing_text(k, features) for k in _FEATURES if not features.get(k))
        if not features.get("forkserver", True):
            missing += (_MISSING_TEXT["forkserver"],)
        strong = [k for k in ("user", "mount", "network", "pid") if features.get(k)]
        level: IsolationLevel = "full" if not missing else ("partial" if strong else "minimal")
        if level == "full":
            summary = (
                "Sandbox isolation: full. Each hand-in runs as user 'nobody' in its own mount, "
                "pid, IPC and network namespaces (it sees only the Python installation, read-only, "
                "and its own copy of the hand-in), with a system-call filter (no new namespaces, "
                "keyrings, ptrace, bpf or memfd), under CPU, memory, process, file-size and "
                "open-file limits." + _cgroup_sentence(features, notes)
            )
        else:
            summary = (
                f"Sandbox isolation: {level}. Hand-ins run under CPU, memory, process and "
                "file-size limits in a private working directory and process group, but WITHOUT: "
                + "; ".join(missing)
                + ". Grade untrusted hand-ins only as root on Linux (see docs/security.md)."
            )
        return cls(level, missing, summary)
