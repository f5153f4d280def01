"""Can a hand-in learn the inputs of hidden checks, and show them to a student?

Hidden checks keep their inputs secret. The sandbox sends no probe before the hand-in has
been imported, runs every hidden probe after every visible one (whatever order the caller
gives), and keeps only what the hand-in printed before the first hidden probe was sent: so
no visible answer, error message or captured output can carry a hidden input.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest

from grader.sandbox import Limits, Sandbox
from grader.sandbox.protocol import Probe

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the sandbox needs POSIX")

FAST = Limits(import_timeout=4.0, grace=0.5, total_timeout=30.0, memory_mb=1024, cpu_seconds=20)
SECRET = 7364921.125

#: records every argument it gets; looks for probe lists wherever they could be at import
ECHO = """
import gc, os, sys

SEEN = []

def _scan_at_import():
    found = []
    for fd in range(3, 64):
        try:
            os.lseek(fd, 0, os.SEEK_SET)
        except OSError:
            pass
        try:
            os.set_blocking(fd, False)
            found.append(os.read(fd, 1 << 20).decode("utf-8", "replace"))
        except OSError:
            pass
    frame = sys._getframe()
    while frame is not None:
        found.append(repr(frame.f_locals)[:100000])
        frame = frame.f_back
    for obj in gc.get_objects():
        if isinstance(obj, (dict, list)) and len(repr(obj)) < 100000:
            text = repr(obj)
            if "7364921" in text:
                found.append(text)
    return " ".join(found)

AT_IMPORT = _scan_at_import()
print("printed at import")

def f(x):
    SEEN.append(repr(x))
    print("f got", x)
    return x * x

def g(x):
    print("g got", x, "and saw", SEEN)
    return [x, list(SEEN)]

def loud(x):
    raise ValueError(f"saw {SEEN} and at import {AT_IMPORT[:20000]}")

def crash(x):
    SEEN.append(repr(x))
    print("crash got", x)
    os._exit(3)
"""


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(limits=FAST) as sb:
        yield sb


def write(tmp_path: Path, source: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "echo.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def hidden(pid: str, name: str, *args: object) -> Probe:
    return Probe(pid, name, args=tuple(args), timeout=2.0, hidden=True)


def visible(pid: str, name: str, *args: object) -> Probe:
    return Probe(pid, name, args=tuple(args), timeout=2.0)


def test_no_probe_can_be_read_while_the_hand_in_is_imported(sandbox, tmp_path):
    path = write(tmp_path, ECHO)
    report = sandbox.run(path, [visible("v", "loud", 1.0), hidden("h", "f", SECRET)])
    err = report.outcomes["v"].error
    assert err is not None and err.kind == "exception"
    assert "7364921" not in err.message
    assert report.outcomes["h"].value == SECRET * SECRET


def test_hidden_probes_run_after_every_visible_one_whatever_the_order_given(sandbox, tmp_path):
    path = write(tmp_path, ECHO)
    probes = [hidden("h1", "f", SECRET), visible("v1", "g", 1.0), hidden("h2", "f", 2.0)]
    probes += [visible("v2", "loud", 2.0), visible("v3", "g", 3.0)]
    report = sandbox.run(path, probes)
    assert report.outcomes["h1"].value == SECRET * SECRET
    assert report.outcomes["v1"].value == [1.0, []]
    assert report.outcomes["v3"].value == [3.0, []]
    assert "7364921" not in report.outcomes["v2"].error.message


def test_output_printed_during_hidden_probes_never_reaches_the_report(sandbox, tmp_path):
    path = write(tmp_path, ECHO)
    probes = [hidden("h1", "f", SECRET), visible("v1", "g", 7.0), hidden("h2", "crash", SECRET)]
    probes += [hidden("h3", "f", 5.0)]  # answered by a fresh child, after the crash
    report = sandbox.run(path, probes)
    assert report.outcomes["h2"].error.kind == "crashed"
    assert report.outcomes["h3"].value == 25.0
    assert "printed at import" in report.output and "g got 7.0" in report.output
    assert "7364921" not in report.output
    assert "f got" not in report.output and "crash got" not in report.output


def test_output_of_a_run_without_hidden_probes_is_kept_whole(sandbox, tmp_path):
    path = write(tmp_path, ECHO)
    report = sandbox.run(path, [visible("v1", "f", 3.0), visible("v2", "g", 4.0)])
    assert report.outcomes["v1"].value == 9.0
    assert "f got 3.0" in report.output and "g got 4.0" in report.output


def test_a_probe_never_reaches_the_fork_server(tmp_path):
    """The fork server's memory is inherited by every later child: it must never hold an
    argument of a probe (hidden or not); only hand-in names and the sheet's densities."""
    path = write(tmp_path, ECHO)
    snoop = write(
        tmp_path / "later",
        """
import gc
def look():
    return [repr(o)[:200] for o in gc.get_objects()
            if isinstance(o, (str, bytes)) and ("7364921" in repr(o))][:5]
""",
    )
    with Sandbox(limits=FAST) as sb:
        sb.run(path, [hidden("h", "f", SECRET)])
        report = sb.run(snoop, [visible("v", "look")])
    assert report.outcomes["v"].value == []


# ------------------------------------------------------------------ a whole hand-in, graded
REPO = Path(__file__).resolve().parents[2]
HOSTILE = REPO / "tests" / "hostile"
CORRECT = "Zoë Müller – korrekt.py"


def sheet_with_hidden_sigmoid(tmp_path: Path) -> Path:
    """Sheet 6 with 6.2c's check (`sigmoid`, asked before 6.2d-6.3b) made hidden."""
    text = (REPO / "exercises" / "sheet06.yaml").read_text(encoding="utf-8")
    check = "      - kind: function\n        name: sigmoid\n        points: 2\n"
    assert text.count(check) == 1
    text = text.replace(check, check + "        hidden: true\n")
    solution = (REPO / "submissions" / "sheet06" / "reference.py").as_posix()
    text = text.replace("solution: ../submissions/sheet06/reference.py", f"solution: {solution}")
    path = tmp_path / "sheet06-hidden.yaml"
    path.write_text(text, encoding="utf-8")
    # the reference module lies beside the sheet
    shutil.copy(REPO / "exercises" / "sheet06_ref.py", tmp_path / "sheet06_ref.py")
    return path


def student_visible_files(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text(encoding="utf-8", errors="replace")
        for p in root.rglob("*")
        if p.is_file()
    }


def test_no_file_a_student_sees_echoes_a_hidden_input(tmp_path, monkeypatch):
    """`hidden_echo.py` looks for hidden inputs at import and echoes whatever `sigmoid` got
    through AUTHORS, a later visible answer's error, and its prints. Graded with `sigmoid`
    hidden (by `grader grade` for the class files, `grader ci` for JUnit, Gradescope and the
    GitHub step summary), none of it may appear anywhere, and it loses nothing."""
    from grader.cli import main

    sheet = sheet_with_hidden_sigmoid(tmp_path)
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("hidden_echo.py", CORRECT):
        (subs / name).write_bytes((HOSTILE / name).read_bytes())
    out = tmp_path / "out"
    assert main(["grade", str(sheet), str(subs), "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    ci = tmp_path / "ci"
    code = main(
        [
            "ci",
            str(subs / "hidden_echo.py"),
            "--sheet",
            str(sheet),
            "--out",
            str(ci / "reports"),
            "--junit",
            str(ci / "junit.xml"),
            "--gradescope",
            str(ci / "results.json"),
        ]
    )
    assert code == 0  # full marks
    files = {**student_visible_files(out), **student_visible_files(ci)}
    files["step summary"] = summary.read_text(encoding="utf-8")
    assert any("hidden_echo" in name for name in files)
    # the instructor's page may quote the hand-in's own code (near-identical passages):
    # the marker written in that code is no hidden input
    source_lines = {
        line.strip()
        for line in (HOSTILE / "hidden_echo.py").read_text(encoding="utf-8").splitlines()
        if "HIDDEN-LEAK" in line
    }

    def without_source(text: str) -> str:
        text = html.unescape(text)
        for line in source_lines:
            text = text.replace(line, "")
        return text

    leaks = {name for name, text in files.items() if "HIDDEN-LEAK" in without_source(text)}
    assert not leaks, leaks
    results = [json.loads(t) for f, t in files.items() if f.endswith("result.json")]
    assert {r["submission"] for r in results} == {CORRECT, "hidden_echo.py"}
    for result in results:
        lost = [t["id"] for t in result["tasks"] if t["status"] not in ("passed", "manual")]
        assert not lost, (result["submission"], lost)
