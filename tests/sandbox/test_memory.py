"""Can a hand-in hold memory that no limit counts, or push the grader out of memory?

``RLIMIT_AS`` counts what a process maps. Memory that is not mapped (a memfd written to,
files in a tmpfs, SysV shared memory) is refused or capped: ``memfd_create`` and SysV
shared memory are not allowed, and the only writable places are size-capped tmpfs mounts.
Where cgroup v2 allows, a cgroup holds all of a hand-in's processes together.
"""

from __future__ import annotations

import os
import platform
import textwrap
from pathlib import Path

import pytest

from grader.sandbox import Limits, Sandbox, sandbox_isolation
from grader.sandbox.protocol import Probe

pytestmark = pytest.mark.skipif(
    not (os.name == "posix" and platform.system() == "Linux"), reason="Linux memory accounting"
)

LIMITS = Limits(import_timeout=8.0, grace=0.5, total_timeout=60.0, memory_mb=512, cpu_seconds=30)

HOARDER = """
import ctypes, mmap, os

_HELD = []
CHUNK = 16 << 20

def _fill(write, limit_mb):
    held = 0
    block = b"x" * CHUNK
    try:
        while held < limit_mb << 20:
            write(block)
            held += CHUNK
    except (OSError, MemoryError):
        pass
    return held >> 20

def memfd(limit_mb):
    total = 0
    while total < limit_mb:  # many files: RLIMIT_FSIZE holds each one alone
        try:
            fd = os.memfd_create("hoard")
        except OSError as exc:
            return total if total else f"refused: {exc.strerror}"
        _HELD.append(fd)
        held = _fill(lambda b: os.write(fd, b), limit_mb - total)
        if not held:
            break
        total += held
    return total

def shm_file(limit_mb):
    try:
        fh = open("/dev/shm/hoard-" + str(os.getpid()), "wb")
    except OSError as exc:
        return f"refused: {exc.strerror}"
    _HELD.append(fh)
    total = 0
    for i in range(limit_mb * 4):  # many files: RLIMIT_FSIZE holds each one alone
        try:
            with open(f"/dev/shm/hoard-{os.getpid()}-{i}", "wb") as f:
                total += _fill(f.write, 16)
        except OSError:
            break
        if total >= limit_mb:
            break
    return total

def sysv(limit_mb):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    total = 0
    while total < limit_mb:
        shmid = libc.shmget(0, CHUNK, 0o1600)
        if shmid < 0:
            return total if total else f"refused: {os.strerror(ctypes.get_errno())}"
        addr = libc.shmat(shmid, None, 0)
        if addr in (None, ctypes.c_void_p(-1).value):
            return total
        ctypes.memset(addr, 1, CHUNK)
        libc.shmdt(ctypes.c_void_p(addr))
        total += CHUNK >> 20
    return total

def oom_score_adj():
    with open("/proc/self/oom_score_adj") as fh:
        return fh.read().strip()
"""


@pytest.fixture(scope="module")
def hoarder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("memory") / "hoarder.py"
    path.write_text(textwrap.dedent(HOARDER), encoding="utf-8")
    return path


@pytest.mark.parametrize("how", ["memfd", "shm_file", "sysv"])
def test_memory_no_limit_counts_is_refused_or_capped(hoarder, how):
    """A hand-in limited to 512 MB tries to hold 1 GiB outside its address space."""
    with Sandbox(limits=LIMITS) as sb:
        report = sb.run(hoarder, [Probe("p", how, args=(1024,), timeout=10.0)])
    value = report.outcomes["p"].value
    assert report.outcomes["p"].ok, report.outcomes["p"]
    if isinstance(value, str):
        assert value.startswith("refused"), value
    else:
        # full isolation caps /tmp (and /dev/shm, a link to it) at 2 x max_file_mb
        assert value <= 2 * LIMITS.max_file_mb, value


def test_hand_ins_are_the_first_the_kernel_kills_when_memory_runs_out(hoarder):
    with Sandbox(limits=LIMITS) as sb:
        report = sb.run(hoarder, [Probe("p", "oom_score_adj")])
    assert report.outcomes["p"].value == "1000"


def test_the_isolation_summary_says_whether_a_cgroup_holds_each_hand_in():
    summary = sandbox_isolation().summary
    if sandbox_isolation().level == "full":
        assert (
            "share one memory and process limit (a cgroup)" in summary
            or "limited per process, not per hand-in (no cgroup: " in summary
        ), summary


# ------------------------------------------------------------------ cgroup v2, where it exists
def fake_cgroupfs(tmp_path: Path, own: str, controllers: str, delegated: str) -> tuple[str, str]:
    """A cgroup2 tree as files (this machine's memory controller is cgroup v1's, so the
    real thing cannot be made here): what ``find`` reads, and where it writes."""
    mount = tmp_path / "cgroup2"
    group = mount / own.lstrip("/")
    group.mkdir(parents=True)
    (group / "cgroup.controllers").write_text(controllers + "\n")
    (group / "cgroup.subtree_control").write_text(delegated + "\n")
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(f"41 31 0:38 / {mount} rw,relatime - cgroup2 cgroup2 rw\n")
    self_cgroup = tmp_path / "cgroup"
    self_cgroup.write_text(f"0::{own}\n")
    return str(mountinfo), str(self_cgroup)


def test_a_delegated_cgroup_gets_one_limited_child_per_hand_in(tmp_path):
    from grader.sandbox.cgroups import HandinCgroups

    files = fake_cgroupfs(tmp_path, "/grader.service", "cpu memory pids", "memory pids")
    groups, why = HandinCgroups.find(*files)
    assert groups is not None and why == ""
    base = Path(groups.base)
    assert base.parent == tmp_path / "cgroup2" / "grader.service"
    assert (base / "cgroup.subtree_control").read_text() == "+memory +pids"
    path = Path(groups.create(512 << 20, 64))
    assert (path / "memory.max").read_text() == str(512 << 20)
    assert (path / "memory.swap.max").read_text() == "0"
    assert (path / "pids.max").read_text() == "64"
    groups.join(str(path))
    assert (path / "cgroup.procs").read_text() == "0"
    (path / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert groups.oom_killed(str(path))


@pytest.mark.parametrize(
    "own, controllers, delegated, why",
    [
        ("/user.slice", "cpu memory pids", "cpu", "does not delegate memory and pids"),
        ("/", "hugetlb", "", "without the memory and pids controller"),
    ],
)
def test_without_a_usable_cgroup_the_sandbox_says_why(tmp_path, own, controllers, delegated, why):
    from grader.sandbox.cgroups import HandinCgroups

    groups, reason = HandinCgroups.find(*fake_cgroupfs(tmp_path, own, controllers, delegated))
    assert groups is None and why in reason


EATER = """
_HOARD = []

def eat():
    while True:
        _HOARD.append(bytearray(b"\\x01") * (64 << 20))

def spin():
    while True:
        pass
"""


def test_a_time_limit_used_up_taking_memory_is_reported_as_memory(tmp_path):
    """Taking (and touching) memory costs CPU time, much more on a virtual machine whose
    host has not backed the pages yet: a hand-in eating memory may run out of CPU time
    before it reaches the memory limit. Its feedback names the memory."""
    path = tmp_path / "eater.py"
    path.write_text(textwrap.dedent(EATER), encoding="utf-8")
    limits = Limits(grace=0.5, memory_mb=4096, cpu_seconds=30)
    with Sandbox(limits=limits) as sb:
        report = sb.run(path, [Probe("e", "eat", timeout=0.6), Probe("s", "spin", timeout=0.3)])
    err = report.outcomes["e"].error
    assert err is not None and err.kind == "memory", err
    assert err.message.startswith("used too much memory: it held "), err
    assert "(the limit is 4096 MB) and was still taking more" in err.message, err
    spin = report.outcomes["s"].error  # a plain endless loop is still a time-out
    assert spin is not None and spin.kind == "timeout", spin
