"""Do grade, check, ci and template work for notebooks and written hand-ins?"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from grader.cli import main
from tests.conftest import SHEET06, SUBMISSIONS
from tests.handin.conftest import NOTEBOOKS, WRITTEN

pytestmark = pytest.mark.slow


def test_check_of_the_seed_names_its_broken_steps_and_accepts_its_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = WRITTEN / "seed_group.md"
    code = main(["check", str(seed), "--sheet", str(SHEET06), "--out", str(tmp_path), "--json"])
    assert code == 1
    data = json.loads(capsys.readouterr().out)
    tasks = {t["id"]: t for t in data["tasks"]}
    text = {k: " ".join(t["feedback"]) for k, t in tasks.items()}
    assert (
        "“-(1 + e^{-x})^{-2} (-e^{-x}) = \\frac{e^{-x}}{1 + e^{-x}}” does not hold" in text["6.2a"]
    )
    assert (
        "\\sigma(x) \\cdot \\left( 1 \\cdot \\sigma(x) \\right) = \\sigma(x) - \\sigma^{2}(x)"
        in text["6.2a"]
    )
    assert "σ(−x) written as σ(x)?" in text["6.2c"]
    assert "`TAYLOR_COEFFICIENTS` = [1/2, 1/4, 0, -1/48]" in text["6.2d"]
    assert "2 at the point" in text["6.3b"] and "5 at the point" in text["6.3b"]
    assert (tmp_path / "handins" / "seed_group" / "report.html").exists()


def test_check_of_a_notebook_keeps_the_report_of_the_module_beside_it(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(SUBMISSIONS / "reference.py", work / "mine.py")
    shutil.copy(NOTEBOOKS / "reference.ipynb", work / "mine.ipynb")
    out = tmp_path / "out"
    for name in ("mine.py", "mine.ipynb"):
        assert main(["check", str(work / name), "--sheet", str(SHEET06), "--out", str(out)]) == 0
    assert (out / "handins" / "mine.py" / "report.html").exists()
    assert (out / "handins" / "mine.ipynb" / "report.html").exists()


def test_ci_scores_the_reference_notebook_20_of_20(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    args = ["ci", str(NOTEBOOKS / "reference.ipynb"), "--sheet", str(SHEET06)]
    assert main([*args, "--out", str(tmp_path), "--junit", str(junit)]) == 0
    assert junit.exists()


def test_grade_finds_notebooks_and_written_hand_ins(tmp_path: Path) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(NOTEBOOKS / "reference.ipynb", folder / "nb.ipynb")
    shutil.copy(WRITTEN / "seed_group.md", folder / "seed.md")
    out = tmp_path / "out"
    assert main(["grade", str(SHEET06), str(folder), "--out", str(out), "--quiet"]) == 0
    gradebook = (out / "gradebook.csv").read_text(encoding="utf-8")
    assert "nb.ipynb" in gradebook and "seed.md" in gradebook


def test_template_writes_a_starter_notebook_that_grades(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sheet06,  # noqa: ANN001
) -> None:
    from grader.handin import grade_handin

    monkeypatch.chdir(tmp_path)
    assert main(["template", str(SHEET06), "--notebook"]) == 0
    path = tmp_path / "sheet06.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert any(m.startswith("## 6.3a") and "W1 = [[2, 1, -2], [-1, -3, 5]]" in m for m in markdown)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert (
        "def forward(x, W1, b1, W2, b2):" in code and "TAYLOR_COEFFICIENTS = [0, 0, 0, 0]" in code
    )
    assert main(["template", str(SHEET06), "--notebook"]) == 2  # never overwrites
    result = grade_handin(sheet06, path)
    assert result.import_error is None
    assert result.task("6.2a").score == 0 and result.task("6.3a").score == 0
