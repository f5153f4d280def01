"""A batch killed with ``kill -9`` loses nothing; a rerun redoes only what is missing or changed."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, SHEET06, SUBMISSIONS

N = 10
SLOW = 4  # the hand-in that takes a while to import: the kill lands before it is done
SLOW_SECONDS = 2.5


def _make_class(folder: Path) -> list[Path]:
    reference = (SUBMISSIONS / "reference.py").read_text(encoding="utf-8")
    folder.mkdir()
    paths = []
    for i in range(N):
        head = f"# hand-in {i}\n"
        if i == SLOW:
            head += f"import time\ntime.sleep({SLOW_SECONDS})\n"
        path = folder / f"h{i:02d}.py"
        path.write_text(head + reference, encoding="utf-8")
        paths.append(path)
    return paths


def _grade(handins: Path, out: Path, *extra: str, popen: bool = False):  # noqa: ANN202
    cmd = [sys.executable, "-m", "grader", "grade", str(SHEET06), str(handins), "--out", str(out),
           "--quiet", "--jobs", "2" if popen else "1", *extra]
    if popen:
        return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    m = re.search(r"Graded (\d+) hand-in\(s\)(?:, (\d+) unchanged)?", done.stdout)
    assert m, done.stdout
    return int(m[1]), int(m[2] or 0)


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def _results(out: Path) -> dict[str, tuple[int, bytes]]:
    return {
        p.parent.name: (p.stat().st_mtime_ns, p.read_bytes())
        for p in out.glob("handins/*/result.json")
    }


@pytest.mark.slow
def test_kill_9_then_rerun_redoes_only_the_rest(tmp_path: Path) -> None:
    handins = tmp_path / "handins"
    out = tmp_path / "out"
    paths = _make_class(handins)

    proc = _grade(handins, out, popen=True)
    deadline = time.monotonic() + 90
    try:
        while not list(out.glob("handins/*/result.json")):
            assert proc.poll() is None, "the batch ended before it could be killed"
            assert time.monotonic() < deadline, "no result.json appeared"
            time.sleep(0.005)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    if Path("/proc").is_dir():  # the pool's workers do not outlive the killed batch
        deadline = time.monotonic() + 10
        while _processes_mentioning(str(out)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _processes_mentioning(str(out))

    survived = _results(out)
    assert 1 <= len(survived) < N
    assert f"h{SLOW:02d}" not in survived
    for _, data in survived.values():
        parsed = json.loads(data)  # complete, never half-written
        assert parsed["key"] and parsed["tasks"] and parsed["submission"].startswith("h")
    assert not (out / "gradebook.csv").exists()

    # the rerun grades only what the killed batch had not finished
    assert _grade(handins, out) == (N - len(survived), len(survived))
    after = _results(out)
    assert len(after) == N
    assert {k: after[k] for k in survived} == survived  # untouched: same bytes, same mtime
    rows = (out / "gradebook.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == N + 1

    # one hand-in changes: only it is regraded
    changed = paths[7]
    changed.write_text(changed.read_text(encoding="utf-8") + "\n# late fix\n", encoding="utf-8")
    assert _grade(handins, out) == (1, N - 1)
    again = _results(out)
    assert {k for k in again if again[k] != after[k]} == {changed.stem}

    # nothing changed: nothing graded; --force: everything
    assert _grade(handins, out) == (0, N)
    assert _grade(handins, out, "--force") == (N, 0)
    forced = _results(out)
    assert all(forced[k][0] != again[k][0] for k in forced)
