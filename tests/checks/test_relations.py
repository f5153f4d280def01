"""Do properties that call the hand-in's function in other ways than its cases do work?"""

from __future__ import annotations

import textwrap
from pathlib import Path

from grader.grading import grade_submission
from grader.sheet.loader import load_sheet

# `scale(x)` relies on the default a = 2, which the reference (a formula in x and a) cannot
# be asked about: the property is checked on the hand-ins, and on the sheet's solution
SHEET = """\
id: defaults
tasks:
  - id: "1"
    points: 1
    checks:
      - kind: function
        name: scale
        points: 1
        args: {x: {real: [-3, 3]}, a: {real: [1, 2]}}
        reference: "a * x"
        values_weight: 0.5
        properties:
          - holds: "scale(x) == 2 * x"
            weight: 0.5
            message: "Called without `a`, `scale` must use a = 2."
"""


def grade(tmp_path: Path, handin: str):  # noqa: ANN201
    sheet = tmp_path / "defaults.yaml"
    sheet.write_text(SHEET, encoding="utf-8")
    path = tmp_path / "handin.py"
    path.write_text(textwrap.dedent(handin), encoding="utf-8")
    return grade_submission(load_sheet(sheet), path).task("1")


def test_a_property_that_leaves_out_an_argument_with_a_default_loads_and_judges(
    tmp_path: Path,
) -> None:
    assert grade(tmp_path, "def scale(x, a=2):\n    return a * x\n").status == "passed"
    wrong_default = grade(tmp_path, "def scale(x, a=3):\n    return a * x\n")
    assert wrong_default.score == 0.5
    assert "Called without `a`, `scale` must use a = 2." in wrong_default.checks[0].feedback
