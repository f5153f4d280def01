"""What of the kernel can a hand-in reach, and can it leave something for a later one?

Hand-ins run under a system-call filter (an allowlist, ``grader/sandbox/syscalls.py``): no
new namespaces, no mounts, no ptrace, bpf, perf events, userfaultfd, io_uring, keyrings or
memfd. Ordinary Python work (threads, processes, numpy, sympy, sockets between its own
processes) still runs.
"""

from __future__ import annotations

import os
import platform
import textwrap
from pathlib import Path

import pytest

from grader.sandbox import Limits, Sandbox
from grader.sandbox.protocol import Probe

pytestmark = pytest.mark.skipif(
    not (os.name == "posix" and platform.system() == "Linux"), reason="seccomp is Linux's"
)

HOSTILE = Path(__file__).resolve().parents[1] / "hostile"
FAST = Limits(import_timeout=8.0, grace=0.5, total_timeout=60.0, memory_mb=1024, cpu_seconds=30)
TEXT = Probe("text", "EMPIRICAL_VS_DATA_GENERATING", op="value")


def run_text(sandbox: Sandbox, name: str) -> str:
    report = sandbox.run(HOSTILE / name, [TEXT])
    assert report.import_error is None, report.import_error
    value = report.outcomes["text"].value
    assert isinstance(value, str), report.outcomes["text"]
    return value


def test_kernel_attack_surface_is_out_of_reach():
    with Sandbox(limits=FAST) as sb:
        log = run_text(sb, "kernel_surface.py")
    lines = log.splitlines()[1:]
    assert len(lines) == 19, log
    reached = [line for line in lines if not line.startswith("SYSCALL-BLOCKED")]
    assert not reached, log


def test_a_keyring_marker_does_not_survive_into_a_later_run():
    """Two separate runs (each its own fork server): the first adds a key to `nobody`'s
    user and session keyrings, the second looks for it."""
    with Sandbox(limits=FAST) as first:
        planted = run_text(first, "keyring_marker.py")
    with Sandbox(limits=FAST) as later:
        found = run_text(later, "keyring_marker.py")
    for log in (planted, found):
        assert "KEY-ADDED" not in log and "KEY-FOUND" not in log, log
        assert log.count("KEY-BLOCKED") == 4, log


ORDINARY = """
import multiprocessing, os, select, signal, socket, subprocess, sys, tempfile, threading, time
import numpy as np
import sympy

def work():
    out = {}
    box = []
    t = threading.Thread(target=lambda: box.append(sum(range(1000))))
    t.start(); t.join()
    out["thread"] = box[0]
    r = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True)
    out["subprocess"] = r.stdout.strip()
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    out["fork"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    a, b = socket.socketpair()
    a.sendall(b"ping")
    select.select([b], [], [], 1)
    out["socketpair"] = b.recv(4).decode()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "f.txt")
        with open(path, "w") as fh:
            fh.write("x" * 1000)
        out["file"] = os.path.getsize(path)
    old = signal.signal(signal.SIGUSR1, lambda *a: box.append("signal"))
    os.kill(os.getpid(), signal.SIGUSR1)
    signal.signal(signal.SIGUSR1, old)
    out["signal"] = box[-1]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        out["pool"] = sum(pool.map(abs, [-1, -2, -3]))
    x = sympy.Symbol("x")
    out["sympy"] = str(sympy.integrate(sympy.exp(-x**2), (x, -sympy.oo, sympy.oo)))
    out["numpy"] = float(np.linalg.solve(np.eye(3) * 2, np.ones(3)).sum())
    time.sleep(0.01)
    return out
"""


def test_ordinary_work_runs_under_the_filter(tmp_path):
    path = tmp_path / "ordinary.py"
    path.write_text(textwrap.dedent(ORDINARY), encoding="utf-8")
    with Sandbox(limits=FAST) as sb:
        report = sb.run(path, [Probe("w", "work", timeout=20.0)])
    assert report.outcomes["w"].value == {
        "thread": 499500,
        "subprocess": "42",
        "fork": 7,
        "socketpair": "ping",
        "file": 1000,
        "signal": "signal",
        "pool": 6,
        "sympy": "sqrt(pi)",
        "numpy": 1.5,
    }, report.outcomes["w"]
