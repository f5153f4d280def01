"""Are hidden checks run only by `grader grade`, and never revealed in what students see?"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from grader.cli import main

SHEET = """\
id: hid
title: Hidden checks
symbols: {x: real}
tasks:
  - id: "1"
    points: 2
    checks:
      - kind: expression
        name: f
        points: 1
        reference: "x**2"
      - kind: function
        name: f
        points: 1
        hidden: true
        reference: "x**2"
        args: {x: {real: [-3, 3]}}
        edge: [123456.5]
"""

# right everywhere the student is likely to try, wrong at the hidden edge input
HANDIN = """\
def f(x):
    try:
        if abs(x) > 1000:
            return 0.0
    except Exception:
        pass
    import numpy as np
    if isinstance(x, np.ndarray):
        return np.where(np.abs(x) > 1000, 0.0, x**2)
    return x**2
"""


def setup(tmp_path: Path) -> tuple[Path, Path]:
    sheet = tmp_path / "hid.yaml"
    sheet.write_text(SHEET, encoding="utf-8")
    handin = tmp_path / "subs" / "sneaky.py"
    handin.parent.mkdir()
    handin.write_text(textwrap.dedent(HANDIN), encoding="utf-8")
    return sheet, handin


def test_check_runs_only_visible_checks(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    sheet, handin = setup(tmp_path)
    assert (
        main(["check", str(handin), "--sheet", str(sheet), "--out", str(tmp_path / "c"), "--json"])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    [task] = data["tasks"]
    assert task["max_score"] == 1 and task["score"] == 1  # the hidden check was not run


def test_grade_scores_hidden_checks_without_revealing_them(tmp_path: Path) -> None:
    sheet, handin = setup(tmp_path)
    out = tmp_path / "g"
    assert main(["grade", str(sheet), str(handin.parent), "--out", str(out), "--quiet"]) == 0
    result = json.loads((out / "handins" / "sneaky" / "result.json").read_text(encoding="utf-8"))
    [task] = result["tasks"]
    assert (task["score"], task["max_score"], task["status"]) == (1, 2, "partial")
    hidden = next(c for c in task["checks"] if c["hidden"])
    assert hidden["feedback"] == ["A hidden check did not pass."]
    assert not {"expected", "given", "witness"} & set(hidden)
    report = (out / "handins" / "sneaky" / "report.html").read_text(encoding="utf-8")
    for secret in ("123456", "1.52415"):  # the hidden input and the value expected there
        assert secret not in report
        assert secret not in json.dumps(result)
    assert "hidden check did not pass" in report
