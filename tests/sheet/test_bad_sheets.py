"""A sheet that cannot work fails `grader validate` and `grader grade` with exit 2, naming the
file, the line and the field, and saying what would be right."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.cli import main

HEAD = """\
id: s
reference: ref.py
tasks:
  - id: "1"
    points: 1
    checks:
      - kind: function
        name: ridge
        points: 1
"""

REF = """\
import numpy as np

def ridge(X, y, lam):
    return np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)
"""


def problems(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    check: str,
    ref: str = REF,
    command: str = "validate",
) -> str:
    """What the command says about a sheet with this check (it must exit 2)."""
    (tmp_path / "s.yaml").write_text(HEAD + textwrap.indent(textwrap.dedent(check), " " * 8))
    (tmp_path / "ref.py").write_text(textwrap.dedent(ref))
    (tmp_path / "subs").mkdir(exist_ok=True)
    args = ["validate", str(tmp_path / "s.yaml")]
    if command == "grade":
        args = ["grade", str(tmp_path / "s.yaml"), str(tmp_path / "subs"), "--quiet"]
    assert main(args) == 2
    return capsys.readouterr().err


ARGS = """\
args: {X: {array: [m, n]}, y: {array: [m]}, lam: {real: [0.1, 1]}}
dims: {m: [3, 5], n: [1, 3]}
"""


def test_an_unknown_generator_lists_the_known_ones(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    err = problems(tmp_path, capsys, "reference: ridge\nargs: {X: {matrix: [2, 2]}}\n")
    assert "s.yaml:11: tasks[0].checks[0].args.X" in err
    assert "exactly one generator (real, integer, array" in err


def test_a_generator_whose_shape_does_not_fit_the_reference(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    bad = ARGS.replace("y: {array: [m]}", "y: {array: [n]}")
    err = problems(tmp_path, capsys, "reference: ridge\n" + bad)
    assert "s.yaml:" in err and "tasks[0].checks[0].reference" in err
    assert "the reference cannot answer any" in err and "ValueError" in err


@pytest.mark.parametrize("command", ["validate", "grade"])
def test_a_reference_module_that_fails_to_import(tmp_path: Path, capsys, command: str) -> None:  # noqa: ANN001
    err = problems(tmp_path, capsys, "reference: ridge\n" + ARGS, ref="import numpy\n1/0\n",
                   command=command)  # fmt: skip
    assert "s.yaml:2: reference: the reference module ref.py fails to import (line 2)" in err
    assert "ZeroDivisionError" in err


def test_a_reference_that_raises_on_every_case(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    ref = "def ridge(X, y, lam):\n    raise RuntimeError('not written yet')\n"
    err = problems(tmp_path, capsys, "reference: ridge\n" + ARGS, ref=ref)
    assert "RuntimeError: not written yet" in err


def test_a_misspelt_function_in_a_formula_gets_a_suggestion(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    err = problems(tmp_path, capsys, "reference: ridg\n" + ARGS)
    assert "`ridg`" in err and "did you mean `ridge`?" in err


def test_a_definition_called_by_the_wrong_name_is_an_error_not_a_wrong_reference(
    tmp_path: Path, capsys  # noqa: ANN001
) -> None:
    err = problems(tmp_path, capsys, 'args: {x: {real: [0, 1]}}\nreference: "sigmoid(x)"\n')
    assert "calls `sigmoid`, which is neither a definition" in err


def test_a_property_with_a_name_that_is_no_variable(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    check = ARGS + "reference: ridge\nproperties:\n  - {holds: 'ridge(X, y, mu) == 0', message: m}"
    err = problems(tmp_path, capsys, check)
    assert "properties[0].holds" in err and "uses `mu`, which is not defined here" in err


def test_a_mistake_naming_no_function_of_the_module(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    check = ARGS + "reference: ridge\nmistakes:\n  - {ref: least_square, message: m}\n"
    err = problems(tmp_path, capsys, check)
    assert "mistakes[0].ref" in err and "no function `least_square`" in err
