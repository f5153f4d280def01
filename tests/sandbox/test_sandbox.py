"""Hostile hand-ins against the sandbox: each one writes a small module into tmp_path.

The tests share one fork server (module-scoped ``sandbox``); limits are kept small so the
whole file runs in well under a minute. Time assertions are generous on purpose.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import site
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from grader.sandbox import Limits, Sandbox, sandbox_isolation
from grader.sandbox.protocol import Probe, Unsupported

# slow: time limits and a busy machine take seconds each
pytestmark = [
    pytest.mark.skipif(os.name != "posix", reason="the sandbox needs POSIX"),
    pytest.mark.slow,
]

FAST = Limits(import_timeout=2.0, grace=0.5, total_timeout=30.0, memory_mb=1024, cpu_seconds=20)


def full_isolation() -> bool:
    return sandbox_isolation().level == "full"


needs_full = pytest.mark.skipif(
    "not full_isolation()", reason="needs full isolation (root on Linux with namespaces)"
)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(limits=FAST) as sb:
        yield sb


def write(tmp_path: Path, source: str, name: str = "hand_in.py") -> Path:
    """Write a (hostile) hand-in; ``source`` is dedented."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def call(name: str, *args: object, timeout: float = 1.0, pid: str | None = None) -> Probe:
    return Probe(pid or name, name, args=tuple(args), timeout=timeout)


GOOD = """
import numpy as np

N = 3

def sigmoid(x):
    return 1 / (1 + np.exp(-x))

def double(x):
    return 2 * x
"""


# ------------------------------------------------------------------ the basics
def test_correct_hand_in_with_unicode_and_spaces_in_its_name(sandbox, tmp_path):
    path = write(tmp_path / "Zoë Müller – abgabe", GOOD, "blatt 6 – lösung ü.py")
    report = sandbox.run(
        path, [call("sigmoid", np.array([0.0])), Probe("n", "N", op="value"), call("double", 21)]
    )
    assert report.import_error is None
    assert report.outcomes["sigmoid"].ok and report.outcomes["sigmoid"].value.tolist() == [0.5]
    assert report.outcomes["n"].value == 3
    assert report.outcomes["double"].value == 42


def test_isolation_report_is_honest():
    report = sandbox_isolation()
    assert report.level in ("full", "partial", "minimal")
    assert report.summary.startswith("Sandbox isolation")
    assert (report.level == "full") == (report.missing == ())
    if os.name == "posix" and os.uname().sysname == "Linux" and os.geteuid() == 0:
        # on this project's machines (root, Linux, namespaces) nothing may silently degrade
        assert report.level == "full", report.summary


def test_fresh_interpreter_fallback_still_answers(tmp_path):
    path = write(tmp_path, GOOD)
    with Sandbox(limits=FAST, fork_server=False) as fresh:
        assert fresh.isolation.level == "minimal"
        report = fresh.run(path, [call("double", 2)])
    assert report.outcomes["double"].value == 4


# ------------------------------------------------------------------ time
def test_infinite_loop_at_import(sandbox, tmp_path):
    path = write(
        tmp_path, "while True:\n    try:\n        pass\n    except BaseException:\n        pass\n"
    )
    started = time.monotonic()
    report = sandbox.run(path, [call("f"), call("g")])
    assert report.import_error is not None and report.import_error.kind == "timeout"
    assert all(o.error and o.error.kind == "timeout" for o in report.outcomes.values())
    assert time.monotonic() - started < 20


def test_infinite_loop_in_one_probe_others_still_answered(sandbox, tmp_path):
    path = write(
        tmp_path,
        GOOD
        + """
import signal
signal.signal(signal.SIGALRM, signal.SIG_IGN)   # defeat the in-process alarm

def loop(x):
    while True:
        try:
            pass
        except BaseException:
            pass
""",
    )
    probes = [call("double", 1, pid="a"), call("loop", 1), call("double", 2, pid="b")]
    report = sandbox.run(path, probes)
    assert report.outcomes["a"].value == 2
    assert report.outcomes["loop"].error.kind == "timeout"
    assert "longer than 1 s" in report.outcomes["loop"].error.message
    assert report.outcomes["b"].value == 4


def test_sleep_times_out(sandbox, tmp_path):
    path = write(tmp_path, GOOD + "\nimport time\ndef nap():\n    time.sleep(3600)\n")
    report = sandbox.run(path, [call("nap", timeout=0.5), call("double", 5)])
    assert report.outcomes["nap"].error.kind == "timeout"
    assert report.outcomes["double"].value == 10


def test_total_wall_timeout(tmp_path):
    # ten functions that all hang (a function that hung once is not asked again, so
    # one function would not use up the total time)
    source = "import time\ndef nap(i):\n    time.sleep(3600)\n"
    source += "".join(f"nap{i} = nap\n" for i in range(10))
    path = write(tmp_path, source)
    limits = Limits(total_timeout=2.5, grace=0.2, import_timeout=2.0)
    with Sandbox(limits=limits) as sb:
        started = time.monotonic()
        report = sb.run(path, [call(f"nap{i}", i, pid=f"n{i}", timeout=1.0) for i in range(10)])
    assert time.monotonic() - started < 15
    assert all(not o.ok for o in report.outcomes.values())
    assert any("total time" in o.error.message for o in report.outcomes.values())


def test_cpu_limit_per_hand_in(tmp_path):
    # ten functions (a function that hung once is not asked again)
    source = "def burn(i):\n    while True:\n        pass\n"
    source += "".join(f"burn{i} = burn\n" for i in range(10))
    path = write(tmp_path, source)
    # 1 CPU-second over up to 10 s of wall time: reached even with a 10% share of a busy machine
    limits = Limits(cpu_seconds=1, grace=0.3, total_timeout=30, max_restarts=20)
    with Sandbox(limits=limits) as sb:
        probes = [call(f"burn{i}", i, pid=f"b{i}", timeout=1.0) for i in range(10)]
        report = sb.run(path, probes)
    messages = [o.error.message for o in report.outcomes.values()]
    assert any("CPU time" in m for m in messages), messages


# ------------------------------------------------------------------ time under load
# Time limits are CPU-time limits: a probe times out when it used its limit in CPU seconds,
# or when wall_factor (4) times the limit passed on the wall clock (sleeping, waiting).
LOOPS = """
import signal, time

def spin():
    while True:
        pass

def stubborn():
    # defeats both in-process alarms: only the grader's own CPU measurement stops it
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    signal.signal(signal.SIGPROF, signal.SIG_IGN)
    while True:
        pass

def nap():
    time.sleep(5)

def stubborn_nap():
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    time.sleep(60)

def work(seconds):
    # needs exactly this much CPU time, however long that takes on the wall clock
    started = time.process_time()
    while time.process_time() - started < seconds:
        pass
    return "done"
"""


@pytest.mark.parametrize("name", ["spin", "stubborn"])
def test_endless_cpu_loop_times_out_after_its_cpu_limit_not_the_wall_cap(tmp_path, name):
    # wall_factor 10: an endless loop that gets a sixth of a core or more is stopped by its
    # CPU use before the wall cap (10 s), and says so
    limits = dataclasses.replace(FAST, wall_factor=10.0)
    path = write(tmp_path, LOOPS)
    with Sandbox(limits=limits) as sb:
        sb.run(path, [call("work", 0.0)])  # the fork server is up: time the probe alone
        started = time.monotonic()
        report = sb.run(path, [call(name, timeout=1.0), call("work", 0.0)])
        elapsed = time.monotonic() - started
    err = report.outcomes[name].error
    assert err is not None and err.kind == "timeout", err
    assert err.message == "took longer than 1 s of CPU time", err
    if os.getloadavg()[0] < (os.cpu_count() or 1):
        # a machine with a core to spare: 1 s of CPU (+ 0.5 s grace) is about 1.5 s
        assert elapsed < 4.0, elapsed
    assert elapsed < 10.0 + FAST.grace + 3.0, elapsed
    assert report.outcomes["work"].value == "done"


@pytest.mark.parametrize("name", ["nap", "stubborn_nap"])
def test_sleep_times_out_at_the_wall_cap(sandbox, tmp_path, name):
    path = write(tmp_path, LOOPS)
    sandbox.run(path, [call("work", 0.0)])
    started = time.monotonic()
    report = sandbox.run(path, [call(name, timeout=1.0), call("work", 0.0)])
    elapsed = time.monotonic() - started
    err = report.outcomes[name].error
    assert err is not None and err.kind == "timeout", err
    assert err.message.startswith("took longer than 1 s: still not done after 4 s"), err
    # sleeping uses no CPU time: waited for 4 x 1 s (+ grace when the alarm is ignored)
    assert 3.9 <= elapsed < 4.0 + FAST.grace + 4.0, elapsed
    assert report.outcomes["work"].value == "done"


def test_sleep_at_import_times_out_at_the_wall_cap(sandbox, tmp_path):
    path = write(tmp_path, "import time\ntime.sleep(3600)\n")
    limits = dataclasses.replace(FAST, import_timeout=0.5)
    started = time.monotonic()
    report = sandbox.run(path, [call("f")], limits=limits)
    elapsed = time.monotonic() - started
    err = report.import_error
    assert err is not None and err.kind == "timeout", err
    assert err.message.startswith("importing the hand-in took longer than 0.5 s: still not")
    assert 1.9 <= elapsed < 2.0 + FAST.grace + 4.0, elapsed


STARVED = """
import os, signal, time

def _starve(seconds):
    # a process that gets no CPU for a while, as on a machine many times oversubscribed: a
    # helper stops this process and lets it go on after `seconds` (the same every run,
    # whatever else the machine is doing)
    me = os.getpid()
    pid = os.fork()
    if pid == 0:
        os.kill(me, signal.SIGSTOP)
        time.sleep(seconds)
        os.kill(me, signal.SIGCONT)
        os._exit(0)
    return pid

def _burn(cpu_seconds):
    started = time.process_time()
    while time.process_time() - started < cpu_seconds:
        pass

def work(cpu_seconds, starved_seconds):
    helper = _starve(starved_seconds)
    _burn(cpu_seconds)
    os.waitpid(helper, 0)
    return "done"

IMPORT_HELPER = _starve(2.0)
_burn(0.2)
os.waitpid(IMPORT_HELPER, 0)
"""


def test_correct_answer_is_not_a_timeout_on_a_loaded_machine(tmp_path):
    """A correct answer that needs 0.5 s of CPU (limit 2 s) but gets no CPU at all for 3 s,
    as on a machine many times oversubscribed, passes: only CPU time counts, up to the wall
    cap of 4 x 2 s (+ grace). The import (0.2 s of CPU, limit 1 s) is starved for 2 s and
    passes too. The old rule (wall limit + 1 s) failed both."""
    path = write(tmp_path, STARVED)
    limits = dataclasses.replace(FAST, import_timeout=1.0)
    with Sandbox(limits=limits) as sb:
        sb.run(write(tmp_path, GOOD, "warm.py"), [call("double", 1)])
        started = time.monotonic()
        report = sb.run(path, [call("work", 0.5, 3.0, timeout=2.0)])
        elapsed = time.monotonic() - started
    assert report.import_error is None, report.import_error
    outcome = report.outcomes["work"]
    assert outcome.ok and outcome.value == "done", (outcome.error, elapsed)
    assert elapsed >= 5.0, elapsed  # it was starved: 2 s at import, 3 s in the probe


def test_await_rule_cpu_or_wall_cap():
    """The grader's own rule, with a child that never answers and a scripted CPU clock:
    stopped at limit + grace CPU seconds, or at wall_factor x limit + grace on the clock."""
    from grader.sandbox.cputime import await_message as _await
    from grader.sandbox.transport import ChildHandle as _BaseChild

    class Silent(_BaseChild):
        def __init__(self, share: float | None) -> None:
            self.share = share
            self.t0 = time.monotonic()

        def next_message(self, deadline: float) -> None:
            time.sleep(max(0.0, deadline - time.monotonic()))

        def cpu_time(self) -> float | None:
            if self.share is None:
                return None
            return 10.0 + self.share * (time.monotonic() - self.t0)

    limits = Limits(grace=0.05, wall_factor=4.0)
    far = time.monotonic() + 100
    for share, clock, low, high in [
        (1.0, "cpu", 0.24, 0.6),  # idle machine: 0.25 s CPU = 0.25 s wall
        (0.5, "cpu", 0.49, 0.84),  # busy machine: 0.25 s CPU takes 0.5 s, under the cap
        (0.05, "wall", 0.84, 1.4),  # sleeping (or starved): 4 x 0.2 + 0.05 s
        (None, "wall", 0.84, 1.4),  # CPU time unknown: the wall cap alone
    ]:
        child = Silent(share)
        started = time.monotonic()
        msg, got = _await(child, 0.2, started, 10.0, limits, far)
        elapsed = time.monotonic() - started
        assert (msg, got) == (None, clock), share
        assert low <= elapsed < high, (share, elapsed)
    # the hand-in's total deadline comes first
    started = time.monotonic()
    assert _await(Silent(0.0), 0.2, started, 10.0, limits, started + 0.1) == (None, "total")


def test_process_tree_cpu_counts_live_descendants():
    from grader.sandbox.runner import process_tree_cpu

    code = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'while True: pass'])"
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        tree = 0.0
        while time.monotonic() < deadline:
            time.sleep(0.2)
            tree = process_tree_cpu(proc.pid) or 0.0
            own = process_tree_cpu_own(proc.pid)
            if tree - own > 0.3:
                break
        # the waiting parent used next to nothing; its busy child is counted
        assert tree - own > 0.3, (tree, own)
    finally:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert process_tree_cpu(proc.pid) is None


def process_tree_cpu_own(pid: int) -> float:
    with open(f"/proc/{pid}/stat", "rb") as fh:
        fields = fh.read().rsplit(b")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------ crashes and exits
def test_deep_recursion_and_segfault(sandbox, tmp_path):
    path = write(
        tmp_path,
        GOOD
        + """
import sys

def recurse(n):
    return recurse(n + 1)

def segfault():
    sys.setrecursionlimit(10**8)
    def dive():
        return list(map(lambda _: dive(), (0,)))
    return dive()
""",
    )
    probes = [call("recurse", 0), call("segfault", timeout=5), call("double", 3)]
    report = sandbox.run(path, probes)
    assert report.outcomes["recurse"].error.kind == "exception"
    assert "recursed too deeply" in report.outcomes["recurse"].error.message
    assert report.outcomes["segfault"].error.kind in ("crashed", "memory")
    assert report.outcomes["double"].value == 6


def test_sys_exit_and_os_exit_in_a_probe(sandbox, tmp_path):
    path = write(
        tmp_path,
        GOOD + "\nimport os, sys\ndef leave():\n    sys.exit(3)\ndef vanish():\n    os._exit(0)\n",
    )
    probes = [call("leave"), call("vanish"), call("double", 4)]
    report = sandbox.run(path, probes)
    assert report.outcomes["leave"].error.message == (
        "exited the program (sys.exit) while being graded"
    )
    assert report.outcomes["vanish"].error.kind == "crashed"
    assert "exited the program" in report.outcomes["vanish"].error.message
    assert report.outcomes["double"].value == 8


@pytest.mark.parametrize("stmt", ["import sys\nsys.exit(0)", "import os\nos._exit(1)"])
def test_exit_at_import(sandbox, tmp_path, stmt):
    path = write(tmp_path, stmt + "\n")
    report = sandbox.run(path, [call("f"), call("g")])
    assert report.import_error is not None and report.import_error.kind == "import"
    assert "exited the program" in report.import_error.message


def test_keyboard_interrupt_and_base_exception(sandbox, tmp_path):
    path = write(
        tmp_path,
        GOOD
        + """
class Weird(BaseException):
    pass

def interrupt():
    raise KeyboardInterrupt

def weird():
    raise Weird("boo")
""",
    )
    report = sandbox.run(path, [call("interrupt"), call("weird"), call("double", 1)])
    assert report.outcomes["interrupt"].error.kind == "exception"
    assert report.outcomes["weird"].error.exception == "Weird"
    assert report.outcomes["double"].value == 2


# ------------------------------------------------------------------ resources
def test_memory_bomb(tmp_path):
    path = write(
        tmp_path,
        GOOD + "\nimport numpy as np\ndef bomb():\n    return len(bytearray(8 * 1024**3))\n"
        "def np_bomb():\n    return np.ones(10**10).sum()\n",
    )
    with Sandbox(limits=Limits(memory_mb=512, grace=0.5)) as sb:
        report = sb.run(path, [call("bomb"), call("np_bomb"), call("double", 1)])
    for name in ("bomb", "np_bomb"):
        err = report.outcomes[name].error
        assert err.kind == "memory", err
        assert err.message == "your code used more than 512 MB of memory"
    assert report.outcomes["double"].value == 2


def test_fork_bomb_is_bounded(sandbox, tmp_path):
    path = write(
        tmp_path,
        GOOD
        + """
import os, time

def bomb():
    n = 0
    while n < 10_000:
        pid = os.fork()
        if pid == 0:
            time.sleep(3600)
            os._exit(0)
        n += 1
    return n
""",
    )
    report = sandbox.run(path, [call("bomb", timeout=5), call("double", 7)])
    err = report.outcomes["bomb"].error
    assert err is not None and "too many processes" in err.message, err
    assert report.outcomes["double"].value == 14


def test_disk_filler(sandbox, tmp_path):
    path = write(
        tmp_path,
        GOOD
        + """
def fill():
    with open("big.bin", "wb") as fh:
        for _ in range(200):
            fh.write(b"x" * 1024 * 1024)
""",
    )
    report = sandbox.run(path, [call("fill", timeout=5), call("double", 1)])
    err = report.outcomes["fill"].error
    assert err.kind == "output" and err.message == "wrote more than 16 MB to disk", err
    assert report.outcomes["double"].value == 2


def test_too_many_open_files(sandbox, tmp_path):
    path = write(
        tmp_path,
        GOOD
        + "\nimport os\ndef hog():\n    return [os.open(os.devnull, 0) for _ in range(100000)]\n",
    )
    report = sandbox.run(path, [call("hog"), call("double", 1)])
    assert "too many files" in report.outcomes["hog"].error.message
    assert report.outcomes["double"].value == 2


def test_huge_print_does_not_flood_the_grader(sandbox, tmp_path):
    path = write(
        tmp_path,
        GOOD
        + """
import os, sys

def flood():
    print("x" * 100_000_000)
    chunk = b"y" * (1 << 20)
    for _ in range(300):
        os.write(1, chunk)
        os.write(2, chunk)
    sys.__stdout__.write("z" * 1000)
    return 1
""",
    )
    started = time.monotonic()
    report = sandbox.run(path, [call("flood", timeout=20), call("double", 1)])
    assert time.monotonic() - started < 30
    assert report.outcomes["flood"].value == 1
    assert len(report.output) <= 65536
    assert report.outcomes["double"].value == 2


# ------------------------------------------------------------------ escaping
@needs_full
def test_killing_parent_and_groups_cannot_reach_the_grader(sandbox, tmp_path):
    path = write(
        tmp_path,
        GOOD
        + """
import os, signal

def attack():
    done = []
    for target in (os.getppid(), os.getpgid(0)):
        for fn in (os.kill, os.killpg):
            try:
                fn(target, signal.SIGKILL)
                done.append(target)
            except OSError:
                pass
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass
    return done
""",
    )
    report = sandbox.run(path, [call("attack"), call("double", 9)])
    assert report.outcomes["double"].value == 18
    # the grader (this process) and the fork server are alive and still serve
    assert (
        sandbox.run(write(tmp_path, GOOD, "again.py"), [call("double", 1)]).outcomes["double"].value
        == 2
    )


@needs_full
def test_secrets_next_to_the_hand_in_are_invisible(sandbox, tmp_path):
    secret = "SECRET-" + uuid.uuid4().hex
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "secret.txt").write_text(secret)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "their_hand_in.py").write_text(f"# {secret}\n")
    repo_file = Path(__file__).resolve().parents[2] / "pyproject.toml"
    path = write(
        tmp_path / "mine",
        GOOD
        + """
import os

def read(p):
    try:
        with open(p) as fh:
            return fh.read()
    except OSError as exc:
        return "failed: " + type(exc).__name__

def listing(p):
    try:
        return sorted(os.listdir(p))
    except OSError as exc:
        return "failed: " + type(exc).__name__
""",
    )
    targets = [
        str(tmp_path / "mine" / "secret.txt"),
        str(tmp_path / "other" / "their_hand_in.py"),
        "secret.txt",
        "../secret.txt",
        "../other/their_hand_in.py",
        str(repo_file),
        "/etc/shadow",
    ]
    probes = [call("read", t, pid=f"r{i}") for i, t in enumerate(targets)]
    # The interpreter (a venv inside a CI checkout under /tmp or /work, say) stays importable:
    # every directory on the way to it is visible, holding nothing but the next step of the way.
    interpreter = [
        Path(os.path.realpath(p))
        for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages()}
        if p and os.path.isdir(p)
    ]

    def way_in(d: str) -> list[str]:
        n = len(Path(d).parts)
        return sorted(
            {
                ip.parts[n]
                for ip in interpreter
                if ip.parts[:n] == Path(d).parts and len(ip.parts) > n
            }
        )

    def bound(d: Path) -> bool:  # the interpreter's directories are visible whole
        return any(d.parts[: len(ip.parts)] == ip.parts for ip in interpreter)

    on_the_way = {
        str(Path(*ip.parts[:k]))
        for ip in interpreter
        if len(ip.parts) > 2 and ip.parts[1] in ("tmp", "work", "home", "root")
        for k in range(2, len(ip.parts))
        if not bound(Path(*ip.parts[:k]))
    }
    listed = sorted({"/tmp", "/work", "/home", "/root"} | on_the_way)
    probes += [call("listing", d, pid=d) for d in ("/", "/sandbox", *listed)]
    report = sandbox.run(path, probes)
    for i, target in enumerate(targets):
        value = report.outcomes[f"r{i}"].value
        assert isinstance(value, str) and value.startswith("failed"), (target, value)
    assert report.outcomes["/sandbox"].value == ["hand_in.py"]
    for d in listed:
        got, expected = report.outcomes[d].value, way_in(d)
        if expected or d == "/tmp":  # /tmp is always there: a fresh, empty tmpfs
            assert got == expected or (d == "/root" and got == "failed: PermissionError"), d
        else:
            assert got == [] or (isinstance(got, str) and got.startswith("failed")), (d, got)
        if isinstance(got, list):
            # a checkout holding the venv shows none of its own files
            assert not {"grader", "tests", "exercises", "submissions", "pyproject.toml"} & set(got)
    if "home" not in way_in("/"):
        assert "home" not in report.outcomes["/"].value


@needs_full
def test_writes_to_tmp_and_parent_dir_stay_inside(sandbox, tmp_path):
    name = "grader-escape-" + uuid.uuid4().hex
    path = write(
        tmp_path / "mine",
        GOOD
        + """
def scribble(name, host_dir):
    results = []
    for target in ("/tmp/" + name, "../" + name, host_dir + "/" + name, name):
        try:
            with open(target, "w") as fh:
                fh.write("escaped")
            results.append("wrote " + target)
        except OSError as exc:
            results.append("failed " + type(exc).__name__)
    return results
""",
    )
    report = sandbox.run(path, [call("scribble", name, str(tmp_path))])
    assert report.outcomes["scribble"].ok
    assert not Path("/tmp", name).exists()
    assert not (tmp_path / name).exists()
    assert not (tmp_path / "mine" / name).exists()
    assert list((tmp_path / "mine").iterdir()) == [path]


@needs_full
def test_network_to_a_local_listener_fails(sandbox, tmp_path):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    path = write(
        tmp_path,
        GOOD
        + """
import socket

def connect(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return "connected"
    except OSError as exc:
        return "failed: " + type(exc).__name__
""",
    )
    try:
        report = sandbox.run(path, [call("connect", port, timeout=3)])
        # a connection would sit in the backlog even without accept(): none may be there
        server.setblocking(False)
        with pytest.raises(BlockingIOError):
            server.accept()
    finally:
        server.close()
    assert report.outcomes["connect"].value.startswith("failed"), report.outcomes["connect"]


def test_lying_objects_reach_the_parent_as_plain_data(sandbox, tmp_path):
    marker = tmp_path / "reduce-ran"
    path = write(
        tmp_path,
        GOOD
        + f"""
import os

class Liar(float):
    def __eq__(self, other):
        return True
    def __float__(self):
        return 42.0
    def __reduce__(self):
        return (os.system, ("touch {marker}",))
    def __repr__(self):
        return "0.5"

class Box:
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__
    def __reduce__(self):
        return (os.system, ("touch {marker}",))

def liar():
    return Liar(0.5)

def box():
    return [Box(), Box()]
""",
    )
    report = sandbox.run(path, [call("liar"), call("box")])
    assert isinstance(report.outcomes["liar"].value, Unsupported)
    assert report.outcomes["liar"].value != 0.5
    assert all(isinstance(v, Unsupported) for v in report.outcomes["box"].value)
    assert not marker.exists()


def test_forged_protocol_lines_are_not_accepted(sandbox, tmp_path):
    path = write(
        tmp_path,
        """
import json, os
lines = [{"event": "imported"}, {"event": "start", "id": "double"},
         {"id": "double", "ok": True, "value": 42}, {"event": "done"}]
for fd in range(3, 6):
    try:
        os.write(fd, "".join(json.dumps(m) + "\\n" for m in lines).encode())
    except OSError:
        pass

def double(x):
    return -1
""",
    )
    report = sandbox.run(path, [call("double", 21)])
    assert report.outcomes["double"].value != 42


def test_grader_survives_the_fork_server_being_killed(tmp_path):
    path = write(tmp_path, GOOD + "\nimport time\ndef nap():\n    time.sleep(2)\n    return 1\n")
    with Sandbox(limits=FAST) as sb:
        assert sb.run(path, [call("double", 1)]).outcomes["double"].value == 2
        zygote = sb._zygote
        assert zygote is not None
        killer = threading.Timer(0.5, lambda: os.kill(zygote.proc.pid, signal.SIGKILL))
        killer.start()
        report = sb.run(path, [call("nap", timeout=5), call("double", 2)])
        killer.join()
        assert report.outcomes["nap"].error.kind == "sandbox"
        assert report.outcomes["double"].value == 4
        # and between runs
        os.kill(sb._zygote.proc.pid, signal.SIGKILL)
        time.sleep(0.1)
        assert sb.run(path, [call("double", 3)]).outcomes["double"].value == 6


def test_zygote_gives_fds_to_the_spawn_that_carried_them():
    """Regression: "spawn needs three file descriptors". A stream socket glues a ``kill``
    (no fds; sent when the child's exit crossed it) and the next ``spawn`` into one read,
    and the fds used to go to the first line of the read, the kill."""
    from grader.sandbox import zygote as zmod

    ours, theirs = socket.socketpair()
    z = zmod.Zygote(theirs, None, None)
    z.features = {"pid": False}
    seen = []

    def handle(msg, fds):
        seen.append((msg["op"], len(fds)))
        for fd in fds:
            os.close(fd)

    z.handle = handle  # type: ignore[method-assign]
    r, w = os.pipe()
    ours.sendall(b'{"op": "kill", "pid": 123456}\n')
    socket.send_fds(ours, [b'{"op": "spawn", "fds": 3}\n'], [r, w, r])
    ours.shutdown(socket.SHUT_WR)
    old = signal.getsignal(signal.SIGCHLD)
    try:
        z.serve_forever()
    finally:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, old)
        for fd in (r, w, *z.wake_fds):
            os.close(fd)
        ours.close()
        theirs.close()
    assert seen == [("kill", 0), ("spawn", 3)]


@needs_full
def test_a_grader_that_ends_without_teardown_leaves_no_folder_in_tmp(tmp_path):
    """The grader command ends with os._exit (no interpreter teardown): its fork server must
    still remove the mount point of its private root from the temporary directory."""
    script = (
        "import os\n"
        "from grader.sandbox import Sandbox\n"
        "sb = Sandbox()\n"
        "print(sb._zygote.wait_ready()['root'], sb._zygote.proc.pid, flush=True)\n"
        "os._exit(0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    root, pid = done.stdout.split()
    assert os.path.basename(root).startswith("grader-sandbox-root-")
    deadline = time.monotonic() + 10
    while (os.path.exists(root) or os.path.exists(f"/proc/{pid}")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(root), root
    assert not os.path.exists(f"/proc/{pid}"), "the fork server is still running"


# ------------------------------------------------------------------ densities
PATCHES_AT_IMPORT = """
import numpy as np
import sympy

np.exp = lambda x: 0.0 * x          # every density built from now on would be 0
sympy.lambdify = None

def density_at(p, x, theta):
    return float(p(x, theta))
"""


def test_densities_stay_true_when_the_hand_in_patches_numpy_and_sympy(sandbox, tmp_path):
    """The fork server builds each density once, before any child exists; every child
    (the second one inherits it) gets the true density, whatever the hand-in patches."""
    from grader.sandbox.protocol import Density

    gauss = Density("exp(-(x - mu)**2/2)/sqrt(2*pi)", "x", ("mu",))
    path = write(tmp_path, PATCHES_AT_IMPORT)
    for _ in range(2):
        report = sandbox.run(path, [call("density_at", gauss, 0.5, 0.0)])
        assert report.outcomes["density_at"].ok, report.outcomes["density_at"].error
        assert report.outcomes["density_at"].value == pytest.approx(0.3520653267642995)


def test_a_density_that_cannot_be_built_fails_its_probe_not_the_sandbox(sandbox, tmp_path):
    from grader.sandbox.protocol import Density

    broken = Density("exp(-(x - mu)**2/2", "x", ("mu",))  # unbalanced: sympify refuses it
    path = write(tmp_path, "def density_at(p, x, theta):\n    return p(x, theta)\n" + GOOD)
    report = sandbox.run(path, [call("density_at", broken, 0.5, 0.0), call("double", 2.0)])
    assert not report.outcomes["density_at"].ok
    assert report.outcomes["double"].value == 4.0
