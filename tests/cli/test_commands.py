"""What does each command print and return?"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.cli import main
from tests.conftest import ROOT, SHEET06

# slow: runs the commands end to end
pytestmark = pytest.mark.slow


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


def test_check_on_a_folder_says_it_is_a_folder(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert main(["check", str(tmp_path), "--sheet", str(SHEET06)]) == 2
    err = capsys.readouterr().err
    assert "is a folder" in err and "grader grade" in err and "no such file" not in err
    assert main(["check", str(tmp_path / "nope.py"), "--sheet", str(SHEET06)]) == 2
    assert "no such file" in capsys.readouterr().err


def test_check_writes_inside_the_output_folder_whatever_the_file_is_called(
    tmp_path: Path,
) -> None:
    from tests.conftest import SUBMISSIONS

    work = tmp_path / "work"
    work.mkdir()
    dots = work / "...py"  # its stem is ".."
    dots.write_text((SUBMISSIONS / "reference.py").read_text(encoding="utf-8"))
    out = work / "out"
    assert main(["check", str(dots), "--sheet", str(SHEET06), "--out", str(out)]) == 0
    assert (out / "handins" / "...py" / "report.html").is_file()
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert written == {"work/...py", "work/out/handins/...py/report.html"}


def test_check_refuses_an_oversized_hand_in(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    big = tmp_path / "big.py"
    with big.open("wb") as fh:
        fh.truncate(64 * 1024**3)
    assert main(["check", str(big), "--sheet", str(SHEET06)]) == 2
    assert "64 GiB (mostly holes: a sparse file), more than the 16 MiB" in capsys.readouterr().err


def test_a_missing_name_suggests_the_one_the_file_defines(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    from tests.conftest import SUBMISSIONS

    text = (SUBMISSIONS / "reference.py").read_text(encoding="utf-8")
    assert "def sigmoid(" in text
    hand_in = tmp_path / "caps.py"
    hand_in.write_text(text.replace("def sigmoid(", "def Sigmoid("), encoding="utf-8")
    out = ["--out", str(tmp_path / "r")]
    assert main(["check", str(hand_in), "--sheet", str(SHEET06), "--json", *out]) == 1
    import json

    data = json.loads(capsys.readouterr().out)
    feedback = [f for t in data["tasks"] if t["id"] == "6.2c" for f in t["feedback"]]
    assert any("Your file defines `Sigmoid`: did you mean `sigmoid`?" in f for f in feedback)


def test_an_empty_file_gets_one_sentence(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    empty = tmp_path / "empty.py"
    empty.write_text("# nothing yet\n\n")
    out = ["--out", str(tmp_path / "r")]
    assert main(["check", str(empty), "--sheet", str(SHEET06), *out]) == 1
    text = capsys.readouterr().out
    assert "Your file is empty" in text and "not defined" not in text
    assert "What to look at" not in text


def test_files_are_written_with_the_umask_not_0600(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import os

    from grader.output import atomic_write_text
    from tests.conftest import SUBMISSIONS

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
        os.umask(0o027)
        atomic_write_text(tmp_path / "b.txt", "x")
        assert (tmp_path / "b.txt").stat().st_mode & 0o777 == 0o640
        os.umask(0o022)
        monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
        junit, gs, out = tmp_path / "junit.xml", tmp_path / "results.json", tmp_path / "r"
        main(
            [
                "ci",
                str(SUBMISSIONS / "reference.py"),
                "--sheet",
                str(SHEET06),
                "--out",
                str(out),
                "--junit",
                str(junit),
                "--gradescope",
                str(gs),
            ]
        )
        for path in (junit, gs, out / "handins" / "reference" / "report.html"):
            assert path.stat().st_mode & 0o777 == 0o644, path
    finally:
        os.umask(old)


def test_grade_says_which_links_it_skipped(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    from tests.conftest import SUBMISSIONS

    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ok.py").write_text((SUBMISSIONS / "reference.py").read_text(encoding="utf-8"))
    (subs / "shadow.py").symlink_to("/etc/shadow")
    args = ["grade", str(SHEET06), str(subs), "--out", str(tmp_path / "out"), "--quiet"]
    assert main([*args, "--jobs", "1"]) == 0
    captured = capsys.readouterr()
    assert "skipped shadow.py: a symbolic link to /etc/shadow, outside" in captured.err
    assert "ok.py" in captured.out and "shadow.py" not in captured.out
