"""Throughput of ``grader grade`` on a synthetic class, and ``grader check`` latency.

Run from the repository root::

    python bench/throughput.py 1000            # 1000 hand-ins, sheet 6, jobs = cores
    python bench/throughput.py 200 --repeats 3 --jobs 2

What it does:

1. generates N distinct hand-ins from ``submissions/sheet06/*.py`` (round robin over them,
   so the mix of right and wrong hand-ins is the folder's): each copy gets its own
   AUTHORS, renamed local variables, reordered functions (within runs of adjacent
   ``def``s), comments and blank lines. None of this changes a verdict; the bench
   checks that by comparing every copy's per-task statuses with its original's;
2. grades them with the CLI (``python -m grader grade SHEET DIR --out OUT``, local
   batch, sandbox on) ``--repeats`` times into fresh folders, and reports hand-ins
   per second (median) both end to end (wall time of the command, interpreter start
   and sheet loading included) and inside the batch (the time ``grader grade`` reports);
3. samples memory every 50 ms while the first repeat runs: the sum over the grader
   and all its descendants (pool workers, fork servers, sandboxed children) of
   VmRSS from ``/proc/PID/status`` (counts pages shared between forked processes
   once per process: an upper bound) and of Pss from ``/proc/PID/smaps_rollup``
   (shared pages split between the processes sharing them: the real footprint);
4. measures the fresh-interpreter floor: a sample of the hand-ins graded one by one
   with the fork server off (``Sandbox(fork_server=False)``: a new interpreter per
   hand-in, as before the fork server), scaled to the same number of jobs, and the
   bare ``python -c "import numpy, sympy"`` start-up for reference;
5. changes one hand-in and reruns: only that one must be regraded;
6. times ``grader check`` on one hand-in (median of 5) against
   ``python -c "import numpy, sympy, yaml, jinja2"``.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHEET = ROOT / "exercises" / "sheet06.yaml"
SUBMISSIONS = ROOT / "submissions" / "sheet06"
GRADER = [sys.executable, "-m", "grader"]
MIB = 1024 * 1024
sys.path.insert(0, str(ROOT))


# ------------------------------------------------------------------ hand-in mutations
class _Renamer(ast.NodeTransformer):
    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.Name:  # noqa: N802 - ast API
        if node.id in self.mapping:
            node.id = self.mapping[node.id]
        return node


def _local_names(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Names bound directly in ``fn``'s own scope that are safe to rename everywhere in it."""
    own: set[str] = set()
    unsafe: set[str] = set()

    def walk(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Global, ast.Nonlocal)):
                unsafe.update(child.names)
            elif isinstance(child, ast.arg):
                unsafe.add(child.arg)
            elif isinstance(child, ast.Name):
                if isinstance(child.ctx, (ast.Store, ast.Del)) and not nested:
                    own.add(child.id)
                elif child.id in {"locals", "vars", "eval", "exec"}:
                    unsafe.add("*")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                unsafe.add(child.name)
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                unsafe.update((a.asname or a.name).split(".")[0] for a in child.names)
            scope = isinstance(
                child,
                (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.comprehension,
                 ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp),
            )
            walk(child, nested or scope)

    walk(fn, False)
    if "*" in unsafe:
        return set()
    return own - unsafe


def mutate(source: str, index: int, rng: random.Random) -> str:
    """A copy of ``source`` that grades the same: new authors, names, order, comments."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return f"# hand-in {index:05d}\n{source}\n# {rng.random():.6f}\n"
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            mapping = {}
            for name in sorted(_local_names(node)):
                if rng.random() < 0.7:
                    new = f"{name}_{rng.choice(['v', 'tmp', 'val', 'r'])}{rng.randrange(100)}"
                    if new not in used:
                        mapping[name] = new
                        used.add(new)
            _Renamer(mapping).visit(node)
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "AUTHORS"
        ):
            node.value = ast.parse(
                f"[('Student {index:05d}', '{9000000 + index}')]", mode="eval"
            ).body
    # shuffle runs of adjacent, undecorated function definitions
    body, run = [], []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.decorator_list:
            run.append(node)
            continue
        rng.shuffle(run)
        body += run + [node]
        run = []
    rng.shuffle(run)
    tree.body = body + run
    code = ast.unparse(ast.fix_missing_locations(tree))
    reference = ast.dump(ast.parse(code))
    lines = [f"# Hand-in {index:05d} for sheet 6", ""]
    for line in code.splitlines():
        if line.startswith(("def ", "import ", "from ", "AUTHORS")) and rng.random() < 0.5:
            lines += ["", f"# {rng.choice(['TODO check', 'my answer', 'see lecture', 'v2'])}"]
        tail = "  # ok" if line.startswith("    return") and rng.random() < 0.2 else ""
        lines.append(line + tail)
    text = "\n".join(lines) + "\n"
    if ast.dump(ast.parse(text)) != reference:  # a comment landed inside a string
        text = f"# Hand-in {index:05d} for sheet 6\n{code}\n"
    return text


def generate(bases: Sequence[Path], n: int, folder: Path, seed: int = 1) -> dict[str, str]:
    """Write N hand-ins into ``folder``; return hand-in stem -> base stem."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    sources = [(b.stem, b.read_text(encoding="utf-8")) for b in bases]
    origin = {}
    for i in range(n):
        stem, source = sources[i % len(sources)]
        name = f"h{i:05d}_{stem}"
        (folder / f"{name}.py").write_text(mutate(source, i, rng), encoding="utf-8")
        origin[name] = stem
    return origin


# ------------------------------------------------------------------ memory sampling
def _descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    out, stack = [], [root]
    while stack:
        pid = stack.pop()
        out.append(pid)
        stack += parents.get(pid, [])
    return out


def _kib(path: str, field_name: str) -> int:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith(field_name):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class MemorySampler:
    """Peak of the summed RSS and PSS of a process tree, sampled every ``interval`` s."""

    root: int
    interval: float = 0.05
    peak_rss: int = 0
    peak_pss: int = 0
    peak_procs: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> MemorySampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = _descendants(self.root)
            rss = sum(_kib(f"/proc/{p}/status", "VmRSS:") for p in pids)
            pss = sum(_kib(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
            self.peak_rss = max(self.peak_rss, rss * 1024)
            self.peak_pss = max(self.peak_pss, pss * 1024)
            self.peak_procs = max(self.peak_procs, len(pids))
            self._stop.wait(self.interval)


# ------------------------------------------------------------------ runs
def _become_subreaper() -> None:
    """Orphans of the grader (the pool workers' fork servers) come to us, so that their CPU
    time (and that of the sandboxed children they reaped) shows in RUSAGE_CHILDREN."""
    if sys.platform.startswith("linux"):
        from grader.sandbox.confine import PR_SET_CHILD_SUBREAPER, prctl

        prctl(PR_SET_CHILD_SUBREAPER, 1)


def _reap_orphans(timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.02)


@dataclass
class GradeRun:
    wall: float
    batch: float
    graded: int
    reused: int
    output: str
    #: CPU seconds (user + sys) of the grader and every descendant it reaped: workers, fork
    #: servers and the sandboxed children (resource.getrusage(RUSAGE_CHILDREN) delta)
    cpu: float = 0.0


def grade_cli(
    handins: Path, out: Path, *, jobs: int | None, force: bool = False,
    sampler: bool = False,
) -> tuple[GradeRun, MemorySampler | None]:
    cmd = [*GRADER, "grade", str(SHEET), str(handins), "--out", str(out), "--quiet"]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    if force:
        cmd.append("--force")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    mem = MemorySampler(proc.pid) if sampler else None
    if mem is not None:
        with mem:
            stdout, stderr = proc.communicate()
    else:
        stdout, stderr = proc.communicate()
    wall = time.perf_counter() - started
    _reap_orphans()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"grader grade failed ({proc.returncode}):\n{stderr}")
    m = re.search(
        r"Graded (\d+) hand-in\(s\)(?:, (\d+) unchanged)?.*? in (?:(\d+) min ?)?([\d.]+)? ?s?\.",
        stdout,
    )
    if m is None:
        raise SystemExit(f"unexpected output:\n{stdout[:2000]}")
    # the command says "12 s" or "1 min 46 s" (grader.reports.numbers.seconds)
    batch = 60 * float(m[3] or 0) + float(m[4] or 0)
    graded, reused = int(m[1]), int(m[2] or 0)
    return GradeRun(wall, batch, graded, reused, stdout, cpu), mem


def median_wall(cmd: Sequence[str], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _cpu_now() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def fresh_interpreter_seconds(paths: Sequence[Path]) -> tuple[float, float]:
    """Median wall and mean CPU seconds per hand-in with a fresh interpreter per hand-in."""
    from grader.grading import grade_submission
    from grader.sandbox.runner import Sandbox
    from grader.sheet.loader import load_sheet

    sheet = load_sheet(SHEET)
    times = []
    with Sandbox(fork_server=False) as box:
        cpu = _cpu_now()
        for path in paths:
            started = time.perf_counter()
            grade_submission(
                sheet, path, runner=lambda p, probes, limits: box.run(p, probes, limits=limits)
            )
            times.append(time.perf_counter() - started)
        cpu = _cpu_now() - cpu
    return statistics.median(times), cpu / len(paths)


def statuses(out: Path) -> dict[str, tuple[tuple[str, str], ...]]:
    found = {}
    for result in out.glob("*/result.json"):
        data = json.loads(result.read_text(encoding="utf-8"))
        found[result.parent.name] = tuple((t["id"], t["status"]) for t in data["tasks"])
    return found


def main(argv: Sequence[str] | None = None) -> int:
    global SHEET
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("n", type=int, nargs="?", default=200, help="hand-ins to generate")
    ap.add_argument("--jobs", type=int, default=None, help="grader grade --jobs (default: cores)")
    ap.add_argument("--repeats", type=int, default=None, help="timed runs (default 3, 1 if N>500)")
    ap.add_argument("--fresh-sample", type=int, default=8, help="hand-ins graded fresh-interpreter")
    ap.add_argument("--sheet", type=Path, default=SHEET, help="the sheet (default: sheet 6)")
    ap.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it")
    args = ap.parse_args(argv)
    SHEET = args.sheet.resolve()
    n = args.n
    jobs = args.jobs or os.cpu_count() or 1
    repeats = args.repeats or (3 if n <= 500 else 1)
    bases = sorted(p for p in SUBMISSIONS.glob("*.py") if not p.name.startswith(("_", ".")))
    _become_subreaper()
    work = args.keep or Path(tempfile.mkdtemp(prefix="grader-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        handins = work / "handins"
        shutil.rmtree(handins, ignore_errors=True)
        origin = generate(bases, n, handins)
        print(f"{n} hand-ins from {len(bases)} originals in {handins}; jobs={jobs}, "
              f"repeats={repeats}, cores={os.cpu_count()}")

        base_run, _ = grade_cli(SUBMISSIONS, work / "base", jobs=jobs, force=True)
        base_status = statuses(work / "base")

        runs, mems = [], []
        for r in range(repeats):
            out = work / f"out{r}"
            shutil.rmtree(out, ignore_errors=True)
            run, mem = grade_cli(handins, out, jobs=jobs, sampler=True)
            assert run.graded == n, run.output[:500]
            runs.append(run)
            if mem is not None:
                mems.append(mem)
            print(f"  run {r + 1}: {n / run.wall:6.1f} hand-ins/s end to end ({run.wall:.2f} s), "
                  f"{n / run.batch:6.1f} in the batch ({run.batch:.2f} s), "
                  f"{run.cpu / n * 1000:.0f} ms CPU per hand-in")
        wall = statistics.median(r.wall for r in runs)
        cpu = statistics.median(r.cpu for r in runs)
        batch = statistics.median(r.batch for r in runs)

        got = statuses(work / "out0")
        kept = sum(got.get(h) == base_status.get(b) for h, b in origin.items())
        wrong = sorted(h for h, b in origin.items() if got.get(h) != base_status.get(b))

        # one hand-in changes: only it is regraded
        victim = sorted(handins.glob("*.py"))[n // 2]
        victim.write_text(victim.read_text(encoding="utf-8") + "\n# changed after the deadline\n")
        rerun, _ = grade_cli(handins, work / "out0", jobs=jobs)

        sample = sorted(handins.glob("*.py"))[: args.fresh_sample]
        fresh, fresh_cpu = fresh_interpreter_seconds(sample)
        bare_import = median_wall([sys.executable, "-c", "import numpy, sympy"])
        fresh_rate = jobs / fresh

        check_target = sorted(handins.glob("*.py"))[0]
        check = median_wall(
            [*GRADER, "check", str(check_target), "--sheet", str(SHEET), "--out", str(work / "chk")]
        )
        imports = median_wall([sys.executable, "-c", "import numpy, sympy, yaml, jinja2"])

        rate = n / wall
        peak_rss = max(m.peak_rss for m in mems)
        peak_pss = max(m.peak_pss for m in mems)
        procs = max(m.peak_procs for m in mems)
        print()
        print(f"grader grade, {n} hand-ins, sheet 6, sandbox on, jobs={jobs} "
              f"(median of {repeats}):")
        print(f"  throughput            {rate:7.1f} hand-ins/s end to end   (target >= 50)")
        print(f"                        {n / batch:7.1f} hand-ins/s inside the batch")
        print(f"  CPU per hand-in       {cpu / n * 1000:7.1f} ms (grader, workers, sandboxes: "
              f"= {jobs * n / cpu:.1f} hand-ins/s on {jobs} idle cores)")
        print(f"  fresh interpreter     {fresh * 1000:7.0f} ms per hand-in "
              f"(sample of {len(sample)}, fork server off) = {fresh_rate:.1f} hand-ins/s "
              f"on {jobs} jobs")
        print(f"  speed-up              {rate / fresh_rate:7.1f}x over fresh-interpreter grading "
              f"(target >= 20x); by CPU per hand-in: {fresh_cpu * 1000:.0f} ms fresh vs "
              f"{cpu / n * 1000:.0f} ms = {fresh_cpu / (cpu / n):.1f}x")
        print(f"  bare start-up         {bare_import * 1000:7.0f} ms for python -c 'import numpy, "
              f"sympy'; x N / jobs = {n / (bare_import * n / jobs):.1f} hand-ins/s "
              f"-> {rate / (jobs / bare_import):.1f}x")
        print(f"  peak memory           {peak_pss / MIB:7.0f} MiB PSS, "
              f"{peak_rss / MIB:.0f} MiB RSS summed over grader + workers + sandboxes "
              f"(<= {procs} processes; target < 500)")
        print(f"  verdicts kept         {kept}/{n} copies grade like their original"
              + (f" (differ: {', '.join(wrong[:5])})" if wrong else ""))
        print(f"  rerun, one changed    graded {rerun.graded}, reused {rerun.reused} in "
              f"{rerun.wall:.2f} s (target: graded 1)")
        print(f"grader check, one hand-in (median of 5): {check * 1000:.0f} ms; "
              f"python -c 'import numpy, sympy, yaml, jinja2': {imports * 1000:.0f} ms; "
              f"difference {(check - imports) * 1000:.0f} ms (target <= 500)")
        print(f"(originals graded in {base_run.wall:.1f} s)")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
