"""A cgroup v2 per hand-in, where the machine lets the grader make one.

``RLIMIT_AS`` holds each process of a hand-in to ``memory_mb``, but a hand-in may start
``max_processes`` of them, and ``RLIMIT_NPROC`` counts all processes of the user `nobody`
(every worker's hand-ins together). A cgroup holds the whole hand-in: ``memory.max`` counts
every page its processes use, tmpfs and shared memory included; ``pids.max`` its processes;
the kernel's OOM killer then stops the hand-in, never the grader.

Loaded by file path by the fork server (it imports nothing of the grader). A per-hand-in
cgroup needs cgroup v2 with the ``memory`` and ``pids`` controllers available to children
of the fork server's own cgroup: in the root cgroup, or under a parent that delegates them
(``cgroup.subtree_control``). Where that is not so (cgroup v1 machines, an undelegated
systemd unit, a container) :func:`find` says why, and the sandbox says so once.
"""

from __future__ import annotations

import contextlib
import os

#: controllers a hand-in's cgroup needs
CONTROLLERS = ("memory", "pids")


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def _mount_point(mountinfo: str) -> str | None:
    for line in _read(mountinfo).splitlines():
        fields = line.split(" - ", 1)
        if len(fields) == 2 and fields[1].split()[:1] == ["cgroup2"]:
            return fields[0].split()[4]
    return None


def _own_path(self_cgroup: str) -> str | None:
    for line in _read(self_cgroup).splitlines():
        if line.startswith("0::"):
            return line[3:]
    return None


class HandinCgroups:
    """Cgroups ``<parent>/grader-<pid>/<n>``, one per hand-in, under a delegated parent."""

    def __init__(self, parent: str) -> None:
        self.base = os.path.join(parent, f"grader-{os.getpid()}")
        os.mkdir(self.base)
        try:
            _write(os.path.join(self.base, "cgroup.subtree_control"), "+memory +pids")
        except OSError:
            os.rmdir(self.base)
            raise
        self.count = 0

    @classmethod
    def find(
        cls,
        mountinfo: str = "/proc/self/mountinfo",
        self_cgroup: str = "/proc/self/cgroup",
    ) -> tuple[HandinCgroups | None, str]:
        """The per-hand-in cgroups, or None and why there are none."""
        try:
            mount, own = _mount_point(mountinfo), _own_path(self_cgroup)
            if mount is None or own is None:
                return None, "no cgroup v2 hierarchy"
            parent = os.path.join(mount, own.lstrip("/"))
            available = _read(os.path.join(parent, "cgroup.controllers")).split()
            missing = [c for c in CONTROLLERS if c not in available]
            if missing:
                return None, f"cgroup v2 without the {' and '.join(missing)} controller"
            if own != "/":
                delegated = _read(os.path.join(parent, "cgroup.subtree_control")).split()
                if any(c not in delegated for c in CONTROLLERS):
                    return None, "the grader's cgroup does not delegate memory and pids"
            else:
                _write(os.path.join(parent, "cgroup.subtree_control"), "+memory +pids")
            return cls(parent), ""
        except OSError as exc:
            return None, f"cgroup v2 not writable ({exc.strerror or exc})"

    def create(self, memory_bytes: int, pids_max: int) -> str:
        """A new, empty cgroup for one hand-in."""
        self.count += 1
        path = os.path.join(self.base, str(self.count))
        os.mkdir(path)
        _write(os.path.join(path, "memory.max"), str(memory_bytes))
        with contextlib.suppress(OSError):  # no swap accounting: nothing to limit
            _write(os.path.join(path, "memory.swap.max"), "0")
        _write(os.path.join(path, "pids.max"), str(pids_max))
        return path

    @staticmethod
    def join(path: str) -> None:
        """Move the calling process into ``path`` (before it runs any student code)."""
        _write(os.path.join(path, "cgroup.procs"), "0")

    @staticmethod
    def oom_killed(path: str) -> bool:
        """Whether the kernel killed a process of this cgroup for its memory."""
        with contextlib.suppress(OSError, ValueError):
            for line in _read(os.path.join(path, "memory.events")).splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
        return False

    @staticmethod
    def remove(path: str) -> None:
        """Remove a hand-in's cgroup once its processes are gone (kill them first)."""
        with contextlib.suppress(OSError):
            _write(os.path.join(path, "cgroup.kill"), "1")
        with contextlib.suppress(OSError):
            os.rmdir(path)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            for name in os.listdir(self.base):
                if name.isdigit():
                    self.remove(os.path.join(self.base, name))
        with contextlib.suppress(OSError):
            os.rmdir(self.base)
