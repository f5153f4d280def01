"""Does the GitHub setup give a valid workflow running `grader ci`, with a public sheet only?"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from grader.cli import main
from tests.conftest import SHEET06, SUBMISSIONS
from tests.generate.sheets import sheet06_with_hidden_check

# slow: builds and runs the generated setups
pytestmark = pytest.mark.slow


def generate(sheet: Path, out: Path, *options: str) -> None:
    assert main(["generate", "github", str(sheet), "--out", str(out), *options]) == 0


def steps(out: Path) -> list[dict[str, Any]]:
    workflow = yaml.safe_load((out / ".github/workflows/grader.yml").read_text(encoding="utf-8"))
    assert set(workflow["on"]) == {"push", "workflow_dispatch"}  # quoted: YAML 1.1 reads on as true
    [job] = workflow["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    return job["steps"]


def command(step: dict[str, Any]) -> list[str]:
    return shlex.split(step["run"].replace("\\\n", " "))


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A template repository made from sheet 6 (with a hidden check and a solution)."""
    course = tmp_path_factory.mktemp("course")
    out = tmp_path_factory.mktemp("template")
    generate(sheet06_with_hidden_check(course), out, "--fail-under", "8")
    return out


def test_the_workflow_is_valid_yaml_that_installs_grader_and_runs_grader_ci(
    repository: Path,
) -> None:
    checkout, python, install, grade, keep = steps(repository)
    assert checkout["uses"] == "actions/checkout@v4"
    assert python["uses"] == "actions/setup-python@v5"
    assert python["with"]["python-version"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    pip = command(install)
    assert pip[:4] == ["python", "-m", "pip", "install"]
    assert (repository / pip[5]).is_file() and pip[4] == "-r"  # the pinned requirements
    assert pip[6].startswith("grading/grader-") and (repository / pip[6]).is_file()
    assert command(grade) == [
        "grader", "ci", "sheet06.py", "--sheet", "grading/sheet06.yaml",
        "--junit", "grader-report/junit.xml", "--out", "grader-report", "--fail-under", "8",
    ]  # fmt: skip
    assert keep["if"] == "always()" and keep["with"]["path"] == "grader-report/"


def test_the_repository_gets_the_public_sheet_and_nothing_of_the_solutions(
    repository: Path,
) -> None:
    files = sorted(
        p.relative_to(repository).as_posix() for p in repository.rglob("*") if p.is_file()
    )
    [wheel] = [f for f in files if f.endswith(".whl")]
    assert files == sorted(
        [".github/workflows/grader.yml", "grading/requirements.txt", "grading/sheet06.yaml",
         wheel, "sheet06.py"]
    )  # fmt: skip
    public = (repository / "grading/sheet06.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(public)
    assert "solution" not in data and "reference" not in data
    checks = [c for t in data["tasks"] for c in t["checks"]]
    assert not [c for c in checks if c.get("hidden")]
    assert "6.2c" not in [t["id"] for t in data["tasks"]]  # its only check is hidden
    assert "def likelihood" not in public and "ref.forward" not in public


def test_the_grading_step_as_written_grades_a_hand_in_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workflow's own command line, run in a checkout of the repository as a runner would."""
    checkout = tmp_path / "checkout"
    generate(SHEET06, checkout, "--fail-under", "8")
    shutil.copyfile(SUBMISSIONS / "variance_and_overflow.py", checkout / "sheet06.py")
    summary = tmp_path / "step-summary.md"
    monkeypatch.chdir(checkout)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    grade = command(steps(checkout)[3])
    # the public checks give 10.5 points, this hand-in gets 9.5 of them (6.2c's overflow)
    assert main(grade[1:]) == 0  # passes the line of 8
    without_line = grade[1 : grade.index("--fail-under")]
    assert main(without_line) == 1  # not full marks
    suite = ET.parse(checkout / "grader-report" / "junit.xml").getroot()
    assert suite.get("tests") == "7" and suite.get("failures") == "1"
    assert "**9.5 / 12.5 points**" in summary.read_text(encoding="utf-8")  # 2 wait for a person


def test_a_starter_is_written_once_and_never_over_a_hand_in(tmp_path: Path) -> None:
    out = tmp_path / "repo"
    generate(SHEET06, out)
    starter = (out / "sheet06.py").read_text(encoding="utf-8")
    assert "def likelihood(p_model, X, theta):" in starter
    (out / "sheet06.py").write_text("# my work\n", encoding="utf-8")
    generate(SHEET06, out)
    assert (out / "sheet06.py").read_text(encoding="utf-8") == "# my work\n"
    generate(SHEET06, out, "--handin", "work/sheet06.ipynb")
    notebook = json.loads((out / "work/sheet06.ipynb").read_text(encoding="utf-8"))
    assert notebook["cells"]
    assert "grader ci work/sheet06.ipynb" in (out / ".github/workflows/grader.yml").read_text()
    generate(SHEET06, out, "--handin", "answers.md")
    assert not (out / "answers.md").exists()  # written work: nothing to fill in
    assert len(list((out / "grading").glob("grader-*.whl"))) == 1


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--handin", "../outside.py", "a path inside the repository"),
        ("--handin", "answers.txt", "a hand-in is one of"),
        ("--handin", "${{ secrets.TOKEN }}.py", "a path inside the repository"),
        ("--fail-under", "11", "the public checks give 0 to 10.5 points"),
    ],
)
def test_bad_options_exit_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    out = tmp_path / "repo"
    assert main(["generate", "github", str(SHEET06), "--out", str(out), option, value]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_a_pass_line_that_is_not_a_number_of_points_exits_2(tmp_path: Path) -> None:
    for value in ("-1", "nan", "half"):
        out = tmp_path / "repo"
        assert (
            main(["generate", "github", str(SHEET06), "--out", str(out), "--fail-under", value])
            == 2
        )
