"""What does each command print and return?"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.cli import main
from tests.conftest import ROOT, SHEET06


def test_validate_passes_on_sheet06(capsys) -> None:  # noqa: ANN001
    assert main(["validate", str(SHEET06)]) == 0
    out = capsys.readouterr().out
    assert "scores 20/20 on the auto-graded tasks" in out and "6.1b waiting as manual" in out


@pytest.mark.parametrize("sheet", sorted((ROOT / "exercises").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_sheet_validates(sheet: Path, capsys) -> None:  # noqa: ANN001
    # sheet07 is written in YAML alone: tanh, softplus and a three-layer network
    assert main(["validate", str(sheet)]) == 0
    assert "scores" in capsys.readouterr().out


def test_validate_and_grade_exit_2_on_a_broken_sheet(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    sheet = tmp_path / "broken.yaml"
    sheet.write_text(
        "id: s\ntasks:\n  - id: 1\n    points: 1\n    checks:\n"
        "      - kind: nope\n        name: f\n        points: 1\n"
    )
    assert main(["validate", str(sheet)]) == 2
    err = capsys.readouterr().err
    assert f"{sheet}:6: tasks[0].checks[0]" in err and "unknown check kind 'nope'" in err
    assert main(["grade", str(sheet), str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    assert main(["grade", str(SHEET06), str(tmp_path / "missing")]) == 2
    assert main(["frobnicate"]) == 2


def test_template_lists_every_name(capsys) -> None:  # noqa: ANN001
    assert main(["template", str(SHEET06)]) == 0
    out = capsys.readouterr().out
    compile(out, "template.py", "exec")
    for name in [
        "likelihood",
        "mle_gaussian",
        "sigmoid_derivative",
        "TAYLOR_COEFFICIENTS",
        "forward",
        "PREDICTED_CLASS",
        "N_PARAMETERS",
        "gradients",
        "AUTHORS",
    ]:
        assert name in out


def test_ci_writes_junit_gradescope_and_step_summary(tmp_path: Path, monkeypatch, capsys) -> None:  # noqa: ANN001
    from junitparser import JUnitXml

    from tests.conftest import SUBMISSIONS

    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    junit, gradescope = tmp_path / "junit.xml", tmp_path / "results.json"
    code = main(
        [
            "ci",
            str(SUBMISSIONS / "lost_signs.py"),
            "--sheet",
            str(SHEET06),
            "--junit",
            str(junit),
            "--gradescope",
            str(gradescope),
            "--out",
            str(tmp_path / "r"),
        ]
    )
    assert code == 1  # not every auto-graded task has full marks
    suites = list(JUnitXml.fromfile(str(junit)))
    cases = [case for suite in suites for case in suite]
    assert len(cases) == 10
    failing = [c.name for c in cases if c.result and c.result[0]._tag in ("failure", "error")]
    assert any(n.startswith("6.2a") for n in failing) and any(n.startswith("6.3b") for n in failing)
    import json

    data = json.loads(gradescope.read_text(encoding="utf-8"))
    assert data["score"] == 15.5 and all(
        {"score", "max_score", "name", "output", "visibility"} <= set(t) for t in data["tests"]
    )
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# earlier step\n") and "6.2a" in text and "|" in text
    assert (tmp_path / "r" / "handins" / "lost_signs" / "report.html").exists()


def test_check_exits_0_only_with_full_marks(tmp_path: Path) -> None:
    from tests.conftest import SUBMISSIONS

    out = str(tmp_path)
    assert (
        main(["check", str(SUBMISSIONS / "reference.py"), "--sheet", str(SHEET06), "--out", out])
        == 0
    )
    assert (
        main(["check", str(SUBMISSIONS / "seed_group.py"), "--sheet", str(SHEET06), "--out", out])
        == 1
    )
