"""Does `grader ci --fail-under POINTS` pass a job on a partial score, and only there?"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.cli import main

SHEET = """\
id: line
title: Pass line
symbols: {x: real}
tasks:
  - id: "1"
    points: 2
    checks:
      - {kind: expression, name: f, points: 2, reference: "x**2"}
  - id: "2"
    points: 1
    checks:
      - {kind: expression, name: g, points: 1, reference: "2*x"}
  - id: "3"
    points: 1
    checks:
      - {kind: manual, name: WHY, points: 1}
"""

# f right (2 points), g wrong (0 of 1); WHY waits for a person
HANDIN = """\
def f(x):
    return x**2


def g(x):
    return 3 * x


WHY = "Because."
"""


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    sheet = tmp_path / "line.yaml"
    sheet.write_text(SHEET, encoding="utf-8")
    handin = tmp_path / "hw.py"
    handin.write_text(HANDIN, encoding="utf-8")
    return sheet, handin


def ci(files: tuple[Path, Path], tmp_path: Path, *options: str) -> int:
    sheet, handin = files
    return main(["ci", str(handin), "--sheet", str(sheet), "--out", str(tmp_path / "r"), *options])


def test_without_a_line_only_full_marks_pass(files, tmp_path: Path) -> None:  # noqa: ANN001
    assert ci(files, tmp_path) == 1


@pytest.mark.parametrize(("line", "code"), [("0", 0), ("2", 0), ("2.0001", 1), ("3", 1)])
def test_the_job_passes_from_the_line_on(
    files,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    line: str,
    code: int,  # noqa: ANN001
) -> None:
    assert ci(files, tmp_path, "--fail-under", line) == code
    said = "Reaches" if code == 0 else "Does not reach"
    assert f"{said} the pass line of {float(line):g} points (2 from automatic checks)." in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize("line", ["-1", "nan", "two", "5"])
def test_a_line_that_is_no_score_of_the_sheet_exits_2(
    files,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    line: str,  # noqa: ANN001
) -> None:
    assert ci(files, tmp_path, "--fail-under", line) == 2
    err = capsys.readouterr().err
    assert ("at most 4 points" if line == "5" else "--fail-under") in err


def test_without_namespaces_ci_says_once_how_the_sandbox_is_weaker(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    """As on an Actions runner (not root): forced with GRADER_SANDBOX_DEGRADE (the sandbox's
    switch for trying its degraded modes). Where isolation is full it says nothing."""
    sheet, handin = files
    env = {**os.environ, "GRADER_SANDBOX_DEGRADE": "minimal"}
    code = (
        "import sys; from grader.cli import main; "
        "code = main(sys.argv[1:]); "
        "from grader.sandbox.runner import sandbox_isolation; "
        "print('LEVEL', sandbox_isolation().level); sys.exit(code)"
    )
    argv = [
        "ci",
        str(handin),
        "--sheet",
        str(sheet),
        "--out",
        str(tmp_path / "r"),
        "--fail-under",
        "2",
    ]
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    level = done.stdout.rsplit("LEVEL ", 1)[1].strip()
    said = (done.stdout + done.stderr).count("Sandbox isolation:")
    assert said == (0 if level == "full" else 1), (level, done.stderr)
