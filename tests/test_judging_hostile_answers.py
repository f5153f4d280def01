"""Issue 11, items 1 and 2: answers that would take a naive reader forever, or overflow
while being judged, cost their checks (failed or error), never the batch, and never leave a
task waiting for a person (where a CI job would read "full marks")."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from grader.batch import grade_batch
from grader.cli import main
from tests.conftest import ROOT, SHEET06

HOSTILE = ROOT / "tests" / "hostile"
pytestmark = pytest.mark.slow


def test_a_factorial_flood_and_an_overflow_tower_are_judged_within_seconds(
    sheet06,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("factorial_flood.py", "overflow_answers.py"):
        shutil.copy(HOSTILE / name, subs / name)
    started = time.monotonic()
    batch = grade_batch(sheet=sheet06, paths=[subs], out_dir=tmp_path / "out", jobs=2)
    assert time.monotonic() - started < 120
    assert (tmp_path / "out" / "gradebook.csv").is_file()
    results = {i.name: i.result for i in batch.items}
    flood, tower = results["factorial_flood.py"], results["overflow_answers.py"]
    for result, tasks in ((flood, ("6.2a", "6.2d")), (tower, ("6.2d", "6.3b"))):
        for task_id in tasks:
            task = result.task(task_id)
            assert task.status in ("failed", "error"), (result.submission, task_id, task)
            assert task.score < task.max_score
    assert not [t.task_id for t in tower.tasks if t.status == "manual" and t.task_id != "6.1b"]


def test_ci_fails_on_answers_that_overflow(tmp_path: Path) -> None:
    args = ["ci", str(HOSTILE / "overflow_answers.py"), "--sheet", str(SHEET06)]
    assert main([*args, "--out", str(tmp_path / "o")]) == 1
