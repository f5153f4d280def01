"""Does the Gradescope package hold what Gradescope documents, and grade like `grader ci`?

The format: Gradescope's autograder specification (a zip with ``setup.sh`` and
``run_autograder`` at its root, unpacked into ``/autograder/source``; the upload in
``/autograder/submission``; ``/autograder/results/results.json`` with ``score``, ``tests``
of ``score``/``max_score``/``name``/``output``/``visibility``). The slow test unpacks the zip
into a clean directory standing for ``/autograder``, runs ``setup.sh`` into a fresh virtual
environment (from a local folder of wheels instead of PyPI, see ``local_index``), then
``run_autograder`` on an upload placed where Gradescope puts it.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from grader.cli import main
from grader.generate.gradescope_run import run
from tests.conftest import SHEET06, SUBMISSIONS
from tests.generate.local_index import local_index
from tests.generate.sheets import sheet06_with_hidden_check

#: what Gradescope's specification allows, at the top level and per test
TOP_KEYS = {
    "score",
    "execution_time",
    "output",
    "output_format",
    "test_output_format",
    "test_name_format",
    "visibility",
    "stdout_visibility",
    "extra_data",
    "tests",
    "leaderboard",
}
TEST_KEYS = {
    "score",
    "max_score",
    "status",
    "name",
    "name_format",
    "number",
    "output",
    "output_format",
    "tags",
    "visibility",
    "extra_data",
}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def assert_gradescope_results(data: dict[str, Any]) -> None:
    """``results.json`` as Gradescope's autograder specification describes it."""
    assert set(data) <= TOP_KEYS, set(data) - TOP_KEYS
    assert isinstance(data["score"], int | float)
    assert data.get("stdout_visibility", "hidden") in VISIBILITY
    assert data.get("output_format", "simple_format") in FORMATS
    assert isinstance(data.get("output", ""), str)
    for test in data["tests"]:
        assert set(test) <= TEST_KEYS, set(test) - TEST_KEYS
        assert isinstance(test["score"], int | float) and isinstance(test["max_score"], int | float)
        assert 0 <= test["score"] <= test["max_score"]
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert test["visibility"] in VISIBILITY
        assert test.get("status", "passed") in ("passed", "failed")
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))


def generate(sheet: Path, out: Path) -> None:
    assert main(["generate", "gradescope", str(sheet), "--out", str(out)]) == 0


def test_the_zip_holds_the_scripts_this_grader_and_the_sheet_without_its_solution(
    tmp_path: Path,
) -> None:
    sheet = sheet06_with_hidden_check(tmp_path / "course")
    out = tmp_path / "autograder.zip"
    generate(sheet, out)
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        [wheel] = [n for n in names if n.startswith("wheels/")]
        assert sorted(names) == sorted(
            [
                "setup.sh",
                "run_autograder",
                "requirements.txt",
                wheel,
                "sheet/sheet06.yaml",
                "sheet/sheet06_ref.py",
            ]
        )
        assert wheel.startswith("wheels/grader-0.1.0+g") and wheel.endswith("-py3-none-any.whl")
        # byte for byte: Gradescope draws the same cases as `grader grade` does here
        assert zf.read("sheet/sheet06.yaml") == sheet.read_bytes()
        assert zf.read("sheet/sheet06_ref.py") == (sheet.parent / "sheet06_ref.py").read_bytes()
        for script in ("setup.sh", "run_autograder"):
            mode = zf.getinfo(script).external_attr >> 16
            assert mode & stat.S_IXUSR, f"{script} is not executable"
            text = zf.read(script).decode()
            assert text.startswith("#!/usr/bin/env bash\n") and "@" not in text.replace("$@", "")
        assert wheel.removeprefix("wheels/") in zf.read("setup.sh").decode()
        assert '--sheet "$src/sheet/sheet06.yaml"' in zf.read("run_autograder").decode()
    for script in ("setup.sh", "run_autograder"):  # bash can parse them
        unpacked = tmp_path / script
        unpacked.write_bytes(zipfile.ZipFile(out).read(script))
        subprocess.run(["bash", "-n", str(unpacked)], check=True)


def test_a_reference_module_in_another_folder_keeps_its_place(tmp_path: Path) -> None:
    course = tmp_path / "course"
    (course / "sheets").mkdir(parents=True)
    (course / "lib").mkdir()
    text = SHEET06.read_text(encoding="utf-8").replace(
        "reference: sheet06_ref.py", "reference: ../lib/sheet06_ref.py"
    )
    (course / "sheets" / "sheet06.yaml").write_text(text, encoding="utf-8")
    shutil.copyfile(SHEET06.parent / "sheet06_ref.py", course / "lib" / "sheet06_ref.py")
    out = tmp_path / "autograder.zip"
    generate(course / "sheets" / "sheet06.yaml", out)
    names = zipfile.ZipFile(out).namelist()
    assert "sheet/sheets/sheet06.yaml" in names and "sheet/lib/sheet06_ref.py" in names
    assert "sheet/sheets/sheet06.yaml" in zipfile.ZipFile(out).read("run_autograder").decode()


def test_a_bad_sheet_or_a_folder_as_out_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\ntasks: []\n", encoding="utf-8")
    out = tmp_path / "autograder.zip"
    assert main(["generate", "gradescope", str(bad), "--out", str(out)]) == 2
    assert "bad.yaml" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]
    assert main(["generate", "gradescope", str(SHEET06), "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["generate", "gradescope", str(SHEET06)]) == 2  # --out is required


def test_an_upload_without_a_hand_in_scores_0_and_says_why(tmp_path: Path) -> None:
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "answers.pdf").write_bytes(b"%PDF-1.4")
    assert run(SHEET06, submission, tmp_path / "results") == 0
    data = json.loads((tmp_path / "results" / "results.json").read_text(encoding="utf-8"))
    assert_gradescope_results(data)
    assert data["score"] == 0 and data["tests"] == []
    assert data["output"].startswith("No hand-in found") and "answers.pdf" in data["output"]


def test_a_sheet_that_does_not_load_writes_no_score(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failure on the course's side leaves no results.json: Gradescope shows the submission
    as not graded rather than a 0 nobody judged."""
    submission = tmp_path / "submission"
    submission.mkdir()
    shutil.copyfile(SUBMISSIONS / "reference.py", submission / "sheet06.py")
    broken = tmp_path / "sheet06.yaml"
    broken.write_text("id: sheet06\ntasks: []\n", encoding="utf-8")
    assert run(broken, submission, tmp_path / "results") == 1
    assert not (tmp_path / "results" / "results.json").exists()
    assert "no score was written" in capsys.readouterr().out
    broken.write_text("id: [sheet06\n", encoding="utf-8")  # not even YAML
    assert run(broken, submission, tmp_path / "results") == 1
    assert not (tmp_path / "results" / "results.json").exists()
    assert "YAML syntax error" in capsys.readouterr().out


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Only what a build machine would have: no pip configuration, no PIP_* settings."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_CACHE_DIR": "1",
        "GRADER_CACHE_DIR": str(tmp_path / "grader-cache"),
    }
    return {**env, **extra}


@pytest.mark.slow
def test_the_package_grades_an_upload_in_a_clean_directory_as_grader_ci_does(
    tmp_path: Path,
) -> None:
    sheet = sheet06_with_hidden_check(tmp_path / "course")
    package = tmp_path / "autograder.zip"
    generate(sheet, package)

    # /autograder as Gradescope lays it out: the zip unpacked into source/, run_autograder
    # copied beside it, the student's upload in submission/
    root = tmp_path / "autograder"
    zipfile.ZipFile(package).extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):  # extractall drops the mode bits
        (root / "source" / script).chmod(0o755)
    index = local_index((root / "source" / "requirements.txt").read_text(), tmp_path / "index")
    venv = tmp_path / "grader-venv"
    env = _clean_env(
        tmp_path,
        GRADER_VENV=str(venv),
        GRADER_PYTHON=sys.executable,
        GRADER_PIP_ARGS=f"--no-index --find-links {index}",
    )
    setup = subprocess.run(
        [str(root / "source" / "setup.sh")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    installed = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import grader, importlib.metadata as m; print(grader.__file__, m.version('grader'))",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    wheel_version = next((root / "source" / "wheels").iterdir()).name.split("-")[1]
    assert Path(installed[0]).is_relative_to(venv) and installed[1] == wheel_version

    shutil.copyfile(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    (root / "submission").mkdir()
    shutil.copyfile(SUBMISSIONS / "variance_and_overflow.py", root / "submission" / "sheet06.py")
    (root / "submission" / "notes.md").write_text("# my notes\n", encoding="utf-8")
    (root / "submission" / "README.md").write_text("# hw\n", encoding="utf-8")
    graded = subprocess.run(
        [str(root / "run_autograder")],
        cwd=root,
        env={**env, "GRADER_AUTOGRADER_DIR": str(root)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    log = graded.stdout + graded.stderr
    assert graded.returncode == 0, log
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))

    assert_gradescope_results(results)
    assert results["stdout_visibility"] == "hidden" and results["output_format"] == "text"
    assert results["output"].splitlines()[0] == (
        "Graded sheet06.py (it is named after the sheet, sheet06). Not graded: notes.md."
    )
    assert "Graded by hand, not included here: 6.1b." in results["output"]
    # 6.1a loses half a point (variance divided by m), hidden 6.2c one of its two
    assert results["score"] == pytest.approx(18.5)
    [hidden] = [t for t in results["tests"] if t["name"].startswith("6.2c")]
    assert hidden["visibility"] == "after_published" and hidden["name"].endswith("hidden check")
    assert (hidden["score"], hidden["max_score"]) == (1, 2)
    assert "overflow" not in hidden["output"].lower()
    assert all(t["visibility"] == "visible" for t in results["tests"] if t is not hidden)
    assert f"grader {wheel_version} on Python" in log  # the instructor sees which grader graded
    _assert_isolation_said_at_most_once(log, venv, root, env)

    # the same verdicts as `grader ci` gives here with the same sheet
    here = tmp_path / "here.json"
    handin = root / "submission" / "sheet06.py"
    assert main(["ci", str(handin), "--sheet", str(sheet), "--gradescope", str(here),
                 "--out", str(tmp_path / "reports")]) == 1  # fmt: skip
    assert json.loads(here.read_text(encoding="utf-8"))["tests"] == results["tests"]


def _assert_isolation_said_at_most_once(log: str, venv: Path, root: Path, env: dict) -> None:
    """Where the sandbox is weaker than full isolation it says so, once; else not at all."""
    level = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "from grader.sandbox.runner import sandbox_isolation as s; print(s().level)"],
        cwd=root, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert log.count("Sandbox isolation:") == (0 if level == "full" else 1), (level, log)
