"""Issue 4, "done when": every hostile hand-in of ``tests/hostile/`` graded in ONE batch.

The hand-ins are copied into one fresh submissions folder, so that they are each other's
siblings (the snooper must not read the others), and graded with ``grade_batch(jobs=2)``.
``tests/hostile/EXPECTED.yaml`` says what each must lose; this test checks that, and that
nothing escaped: no file outside a sandbox read or written, no process left, the grader's
memory and time bounded.

The dangerous hand-ins (fork bomb, memory eaters, disk filler, killer, network, snoop,
escape writer) run only where ``sandbox_isolation().level == "full"``: without it they
could harm the machine, so they are left out (the rest still runs).
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from grader.batch import BatchResult, grade_batch
from grader.sandbox import Limits, sandbox_isolation
from grader.sheet.loader import load_sheet

# slow: every hostile hand-in in one batch
pytestmark = [
    pytest.mark.skipif(os.name != "posix", reason="the sandbox needs POSIX"),
    pytest.mark.slow,
]

REPO = Path(__file__).resolve().parents[2]
HOSTILE = REPO / "tests" / "hostile"
EXPECTED = yaml.safe_load((HOSTILE / "EXPECTED.yaml").read_text(encoding="utf-8"))
CORRECT = "Zoë Müller – korrekt.py"
NOBODY = 65534
JOBS = 2
GIB = 1 << 30

#: only with full isolation: these attack the machine, not just the grader
DANGEROUS = {
    "fork_bomb.py",
    "memory_eater.py",
    "disk_filler.py",
    "killer.py",
    "network.py",
    "snoop.py",
    "escape_writer.py",
    "memfd_eater.py",
}

#: smaller than the defaults where that keeps the test short; the import timeout stays
#: generous because CI machines are busy (a correct import must never time out)
LIMITS = Limits(
    import_timeout=8.0,
    total_timeout=40.0,
    grace=0.5,
    memory_mb=1024,
    max_processes=64,
    max_file_mb=16,
    cpu_seconds=30.0,
)

#: how many (function, argument kind) probe groups of a hand-in must run into the probe
#: timeout (a function that hung once is not asked again with the same kind of arguments)
PROBE_TIMEOUTS = {
    "sigmoid_infinite_loop.py": 1,
    "sleeper.py": 2,  # gradients: with numbers and with symbols
    "timeout_swallower.py": 1,
    "fork_bomb.py": 1,
    "liar_slow_dunder.py": 1,
    "huge_expression.py": 1,  # may time out printing its symbolic answer
    "killer.py": 1,
    "print_flood.py": 1,
    "recursion_segfault.py": 1,
    "memory_eater.py": 1,
    "disk_filler.py": 1,
}
#: hand-ins that must run into the import timeout
IMPORT_TIMEOUTS = {"import_infinite_loop.py"}

#: the limit a lost task's feedback must name, in words a student understands
STUDENT_WORDS = {
    "import_infinite_loop.py": r"importing the hand-in took longer than 8 s",
    "sigmoid_infinite_loop.py": r"took longer than 2 s",
    "sleeper.py": r"took longer than 2 s",
    "timeout_swallower.py": r"took longer than 2 s",
    "endless_recursion.py": r"recursed too deeply",
    "recursion_segfault.py": r"segmentation fault|recursed too deeply|memory",
    "memory_eater.py": r"more than 1024 MB of memory|used too much memory",
    "fork_bomb.py": r"took longer than 2 s|too many processes",
    "disk_filler.py": r"wrote more than 16 MB to disk",
    "fd_hog.py": r"opened too many files at once",
    "sys_exit_import.py": r"exited the program \(sys\.exit\)",
    "os_exit_import.py": r"exited the program \(os\._exit\)",
    "sys_exit_answer.py": r"exited the program \(sys\.exit\)",
    "os_exit_answer.py": r"exited the program \(os\._exit\)",
    "keyboard_interrupt_answer.py": r"interrupted \(KeyboardInterrupt\)",
}


def full_isolation() -> bool:
    return sandbox_isolation().level == "full"


def handins(full: bool) -> list[Path]:
    paths = sorted(p for p in HOSTILE.glob("*.py") if not p.name.startswith("_"))
    return [p for p in paths if full or p.name not in DANGEROUS]


# ------------------------------------------------------------------ processes and memory
def _proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, real uid) of every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="utf-8", errors="replace") as fh:
                status = fh.read()
            ppid = int(re.search(r"^PPid:\s+(\d+)", status, re.M).group(1))  # type: ignore[union-attr]
            uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))  # type: ignore[union-attr]
        except (OSError, AttributeError, ValueError):
            continue
        table[int(entry)] = (ppid, uid)
    return table


def _descendants(root: int, table: dict[int, tuple[int, int]]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def _memory(pid: int) -> int:
    """Proportional set size in bytes (shared pages counted once across processes), or
    the resident set size where the kernel has no smaps_rollup."""
    for path, key in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    if line.startswith(key):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError):
            continue
    return 0


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return [a.decode(errors="replace") for a in fh.read().split(b"\0") if a]
    except OSError:
        return []


@dataclass
class Watcher:
    """Samples, while the batch runs, the memory of the grader's own processes.

    "The grader" is this (pytest) process and its descendants that do not run as
    ``nobody``: the pool workers and their fork servers. Hand-ins run as ``nobody`` and are
    held by their own RLIMIT_AS; they are not the grader's memory. The figure is the
    largest SUM of proportional set sizes (PSS: a page shared by the forked workers counts
    once, split between them) seen in any sample, every 50 ms. ``resource.getrusage``
    would not do: RUSAGE_CHILDREN's maxrss is the largest single descendant, hand-ins
    included (the memory eater), and never a sum.

    It also records every pid of the grader's processes, so that the processes they
    started can be recognised afterwards even when they were reparented.
    """

    peak: int = 0
    peak_handins: int = 0
    grader_pids: set[int] = field(default_factory=set)
    handin_pids: set[int] = field(default_factory=set)
    stop: threading.Event = field(default_factory=threading.Event)

    def sample(self) -> None:
        table = _proc_table()
        ours = _descendants(os.getpid(), table)
        grader = {os.getpid()} | {p for p in ours if table[p][1] != NOBODY}
        handins = ours - grader
        self.grader_pids |= grader
        self.handin_pids |= handins
        self.peak = max(self.peak, sum(_memory(p) for p in grader))
        self.peak_handins = max(self.peak_handins, sum(_memory(p) for p in handins))

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(0.05)


def stray_processes(watcher: Watcher, before: set[int]) -> list[str]:
    """Processes of this batch still alive: new descendants of this process, and any
    process of the sandbox (a fork server's command line names its parent, the worker)
    whose parent was one of our processes, wherever it was reparented to."""
    table = _proc_table()
    ours_argv = [[str(p)] for p in watcher.grader_pids]
    found = []
    for pid in _descendants(os.getpid(), table) - before:
        found.append(f"{pid} {' '.join(_cmdline(pid))[:120]}")
    for pid in set(table) - before:
        argv = _cmdline(pid)
        if (pid in watcher.handin_pids and table[pid][1] == NOBODY) or (
            any(a.endswith("grader/sandbox/zygote.py") for a in argv) and argv[-1:] in ours_argv
        ):
            found.append(f"{pid} uid {table[pid][1]} {' '.join(argv)[:120]}")
    return sorted(set(found))


# ------------------------------------------------------------------ the batch, run once
@dataclass
class Run:
    batch: BatchResult
    paths: list[Path]
    submissions: Path
    reports: Path
    seconds: float
    bound: float
    watcher: Watcher
    strays: list[str]
    submissions_before: set[str]
    pwned_before: set[str]

    def result_json(self, name: str) -> dict[str, Any]:
        stem = self.stem(name)
        return json.loads((self.reports / stem / "result.json").read_text(encoding="utf-8"))

    def texts(self, name: str) -> str:
        """What a hand-in's answers and report show: its result.json and report.html."""
        d = self.reports / self.stem(name)
        return (d / "result.json").read_text(encoding="utf-8") + (d / "report.html").read_text(
            encoding="utf-8"
        )

    def stem(self, name: str) -> str:
        return next(i.stem for i in self.batch.items if i.path.name == name)


def _time_bound(paths: list[Path], probe_timeout: float) -> float:
    """A generous bound on the batch's wall time: the timeouts it must sit out, plus a few
    seconds of work per hand-in (busy CI machines included), shared by the workers."""
    names = {p.name for p in paths}
    waits = sum(n * (probe_timeout + LIMITS.grace) for k, n in PROBE_TIMEOUTS.items() if k in names)
    waits += sum(LIMITS.import_timeout + LIMITS.grace for k in IMPORT_TIMEOUTS if k in names)
    work = 4.0 * len(paths)
    # one hand-in's timeouts cannot be shared between workers: the longest is a floor
    return max((waits + work) / JOBS, LIMITS.import_timeout + LIMITS.grace) + 30.0


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    full = full_isolation()
    tmp = tmp_path_factory.mktemp("hostile")
    submissions, reports = tmp / "submissions", tmp / "reports"
    submissions.mkdir()
    paths = []
    for src in handins(full):
        shutil.copyfile(src, submissions / src.name)
        paths.append(submissions / src.name)
    sheet = load_sheet(REPO / "exercises" / "sheet06.yaml")
    probe_timeout = max(c.spec.timeout for t in sheet.tasks for c in t.checks)
    bound = _time_bound(paths, probe_timeout)
    before = set(_descendants(os.getpid(), _proc_table())) | set(_proc_table())
    pwned_before = set(glob.glob("/tmp/grader-pwned-*"))
    submissions_before = _files(submissions)

    watcher = Watcher()
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        batch = grade_batch(
            sheet=sheet, paths=[submissions], out_dir=reports, jobs=JOBS, limits=LIMITS
        )
    finally:
        seconds = time.monotonic() - started
        watcher.stop.set()
        thread.join()
    # the pool's workers and their fork servers end with the batch; a hand-in's processes
    # die with their fork server. Give the kernel a moment to reap them.
    deadline = time.monotonic() + 10.0
    while (strays := stray_processes(watcher, before)) and time.monotonic() < deadline:
        time.sleep(0.2)
    print(
        f"\nhostile batch: {len(paths)} hand-ins in {seconds:.1f} s (bound {bound:.1f} s); "
        f"grader peak memory {watcher.peak / 2**20:.0f} MiB (PSS of {len(watcher.grader_pids)} "
        f"processes); hand-ins' peak {watcher.peak_handins / 2**20:.0f} MiB"
    )
    yield Run(
        batch,
        paths,
        submissions,
        reports,
        seconds,
        bound,
        watcher,
        strays,
        submissions_before,
        pwned_before,
    )


# ------------------------------------------------------------------ results
def test_batch_finishes_with_a_result_and_report_for_every_hand_in(run: Run) -> None:
    assert sorted(i.path.name for i in run.batch.items) == sorted(p.name for p in run.paths)
    for item in run.batch.items:
        d = run.reports / item.stem
        assert (d / "result.json").is_file(), item.path.name
        assert (d / "report.html").is_file(), item.path.name
        assert run.result_json(item.path.name)["submission"] == item.path.name
    assert run.batch.gradebook.is_file() and run.batch.summary.is_file()


def test_correct_hand_in_with_non_ascii_name_gets_full_marks(run: Run) -> None:
    data = run.result_json(CORRECT)
    tasks = {t["id"]: t for t in data["tasks"]}
    for task_id in EXPECTED["auto_graded"]:
        t = tasks[task_id]
        assert t["status"] == "passed" and t["score"] == t["max_score"], (task_id, t)
    assert sum(tasks[t]["score"] for t in EXPECTED["auto_graded"]) == 20
    assert all(tasks[t]["status"] == "manual" for t in EXPECTED["hand_graded"])
    authors = [[a["name"], a["id"]] for a in data["authors"]]
    assert authors == EXPECTED["handins"][CORRECT]["authors"]


def _allowed(spec: dict[str, Any], task_id: str) -> set[str]:
    def as_set(v: Any) -> set[str]:
        return {v} if isinstance(v, str) else set(v)

    lose, may = spec.get("lose") or {}, spec.get("may_lose") or {}
    if task_id in lose:
        return as_set(lose[task_id])
    if task_id in may:
        return as_set(may[task_id]) | {"passed"}
    return {"passed"}


@pytest.mark.parametrize("name", sorted(EXPECTED["handins"]))
def test_hand_in_loses_exactly_what_expected_says(run: Run, name: str) -> None:
    if name not in {p.name for p in run.paths}:
        pytest.skip("dangerous hand-in: needs full isolation")
    spec = EXPECTED["handins"][name]
    data = run.result_json(name)
    tasks = {t["id"]: t for t in data["tasks"]}
    wrong = {}
    for task_id in EXPECTED["auto_graded"]:
        t = tasks[task_id]
        allowed = _allowed(spec, task_id)
        full_marks = t["score"] >= t["max_score"]
        # a task passes with full marks; any other status must cost points
        if t["status"] not in allowed or full_marks != (t["status"] == "passed"):
            wrong[task_id] = (t["status"], t["score"], sorted(allowed), t.get("feedback"))
    assert not wrong, f"{name}: {wrong}"
    words = STUDENT_WORDS.get(name)
    if words:
        lost = [tasks[t] for t in EXPECTED["auto_graded"] if tasks[t]["status"] == "error"]
        assert lost, name
        for t in lost:
            text = json.dumps(t, ensure_ascii=False)
            assert re.search(words, text), (name, t["id"], words, t.get("feedback"))
    limit = spec.get("max_grading_seconds")
    if limit:
        assert data.get("seconds", 0) < limit, (name, data.get("seconds"))


# ------------------------------------------------------------------ nothing escapes
def _placeholders(run: Run) -> dict[str, str]:
    return {
        "submissions": str(run.submissions),
        "reports": str(run.reports),
        "home": str(Path.home()),
        "repo": str(REPO),
    }


def test_nothing_written_outside_the_sandboxes(run: Run) -> None:
    assert set(glob.glob("/tmp/grader-pwned-*")) <= run.pwned_before, "written to /tmp"
    for name in run.paths:
        for pattern in EXPECTED["handins"][name.name].get("must_not_exist") or []:
            path = pattern.format(**_placeholders(run))
            assert not os.path.lexists(path), (name.name, path)
    assert _files(run.submissions) == run.submissions_before, "files appeared next to hand-ins"
    allowed = {
        "gradebook.csv",
        "summary.html",
        "manual_scores.csv",
        "overrides.csv",
        "instructor.html",
        "handins",
    }
    for item in run.batch.items:
        folder = item.folder
        allowed |= {
            folder,
            *(f"{folder}/{f}" for f in ("result.json", "report.html", "output.txt")),
        }
    assert _files(run.reports) <= allowed, _files(run.reports) - allowed
    # nothing next to the submissions folder either (escape_writer tries ../)
    assert sorted(os.listdir(run.submissions.parent)) == ["reports", "submissions"]


def test_nothing_read_across_hand_ins(run: Run) -> None:
    markers = {n: EXPECTED["handins"][n]["marker"] for n in (p.name for p in run.paths)}
    for path in run.paths:
        text = run.texts(path.name)
        for other, marker in markers.items():
            if other != path.name:
                assert marker not in text, f"{path.name} shows the marker of {other}"
        spec = EXPECTED["handins"][path.name]
        for leak in spec.get("leaks") or []:
            assert leak not in text, (path.name, leak)
        for needle in spec.get("answers_must_not_contain") or []:
            assert needle not in text, (path.name, needle)
        for pattern in spec.get("answers_must_not_match") or []:
            found = re.search(pattern, text)
            assert found is None, (path.name, pattern, found and found.group(0))
        for pattern in spec.get("leak_files") or []:
            for file in glob.glob(pattern.format(**_placeholders(run)), recursive=True):
                lines = Path(file).read_text(encoding="utf-8", errors="replace").splitlines()
                for line in (ln.strip() for ln in lines):
                    assert len(line) < 24 or line not in text, (path.name, file, line)
    for path in run.paths:
        assert "NET-OK" not in run.texts(path.name), path.name


def test_reports_escape_hostile_text(run: Run) -> None:
    every_report = [
        f.read_text(encoding="utf-8", errors="replace")
        for f in run.reports.rglob("*")
        if f.is_file() and f.suffix in (".html", ".csv", ".json")
    ]
    html = [f.read_text(encoding="utf-8", errors="replace") for f in run.reports.rglob("*.html")]
    for path in run.paths:
        spec = EXPECTED["handins"][path.name]
        for raw in spec.get("report_must_escape") or []:
            assert not any(raw in h for h in html), (path.name, raw)
        for needle in spec.get("reports_must_not_contain") or []:
            assert not any(needle in r for r in every_report), (path.name, needle)


def test_no_stray_processes(run: Run) -> None:
    assert not run.strays, run.strays


# ------------------------------------------------------------------ the grader's cost
def test_grader_memory_stays_under_one_gib(run: Run) -> None:
    assert run.watcher.grader_pids, "the memory sampler saw no process"
    assert 0 < run.watcher.peak < GIB, f"peak {run.watcher.peak / 2**20:.0f} MiB"


def test_batch_takes_no_longer_than_its_timeouts_require(run: Run) -> None:
    assert run.seconds < run.bound, f"{run.seconds:.1f} s, bound {run.bound:.1f} s"
