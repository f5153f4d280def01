"""CPU accounting: how much CPU time a child and its descendants used, and the rule that
decides when a probe has run out of time (CPU seconds, or a wall-clock cap)."""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any, Protocol

from grader.sandbox.limits import Limits

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


class Answering(Protocol):
    """What the CPU-or-wall rule needs of a running child."""

    def next_message(self, deadline: float) -> dict[str, Any] | None: ...

    def cpu_time(self) -> float | None: ...


def reported_cpu(msg: dict[str, Any]) -> float | None:
    """The CPU seconds a child says it has used so far (``cpu`` of an event or answer).

    The child may lie: a value too high only lets it run to the wall limit, which a
    sleeping child gets anyway; too low only stops it sooner."""
    cpu = msg.get("cpu")
    if isinstance(cpu, (int, float)) and not isinstance(cpu, bool) and 0 <= cpu < 1e9:
        return float(cpu)
    return None


def await_message(
    child: Answering,
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
