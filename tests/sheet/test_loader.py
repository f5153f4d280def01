"""Does a broken sheet fail with the file, line and field of each problem?"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.errors import SheetError
from grader.sheet.loader import load_sheet

GOOD_TASK = """\
  - id: "1a"
    points: 1
    checks:
      - kind: expression
        name: f
        points: 1
        reference: "x**2"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sheet.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(SheetError) as info:
        load_sheet(path)
    return [str(p) for p in info.value.problems]


def test_a_minimal_sheet_loads(tmp_path: Path) -> None:
    sheet = load_sheet(write(tmp_path, "id: s\ntasks:\n" + GOOD_TASK))
    assert [t.spec.id for t in sheet.tasks] == ["1a"]


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "id: s\ntasks: [\n  - id: 1\n")
    [msg] = problems(path)
    assert msg.startswith(f"{path}:") and "YAML syntax error" in msg


def test_unknown_kind_names_line_field_and_known_kinds(tmp_path: Path) -> None:
    text = "id: s\ntasks:\n" + GOOD_TASK.replace("kind: expression", "kind: expresion")
    [msg] = problems(write(tmp_path, text))
    assert ":6: tasks[0].checks[0]:" in msg
    assert "unknown check kind 'expresion'" in msg and "expression" in msg


def test_expression_that_does_not_parse_names_its_field(tmp_path: Path) -> None:
    text = "id: s\ntasks:\n" + GOOD_TASK.replace('"x**2"', '"x**(2"')
    [msg] = problems(write(tmp_path, text))
    assert ":9: tasks[0].checks[0].reference" in msg and "does not parse" in msg


def test_unsafe_expression_is_refused(tmp_path: Path) -> None:
    text = "id: s\ntasks:\n" + GOOD_TASK.replace('"x**2"', "\"__import__('os').system('true')\"")
    [msg] = problems(write(tmp_path, text))
    assert "tasks[0].checks[0].reference" in msg


def test_a_typo_in_a_field_name_is_an_error(tmp_path: Path) -> None:
    text = "id: s\ntasks:\n" + GOOD_TASK.replace(
        "points: 1\n        reference", "pionts: 1\n        reference"
    )
    msgs = problems(write(tmp_path, text))
    assert any("pionts" in m and "unknown field" in m for m in msgs)


def test_points_that_do_not_add_up(tmp_path: Path) -> None:
    text = "id: s\ntasks:\n" + GOOD_TASK.replace(
        "    points: 1\n    checks", "    points: 3\n    checks"
    )
    [msg] = problems(write(tmp_path, text))
    assert "give 1 points, but the task is worth 3" in msg and ":3:" in msg


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    bad = GOOD_TASK.replace('"x**2"', '"x**(2"')
    text = "id: s\ntasks:\n" + bad + bad.replace('"1a"', '"1b"')
    assert len(problems(write(tmp_path, text))) == 2


def test_the_solver_checks_properties_against_the_reference(tmp_path: Path) -> None:
    text = """\
    id: s
    tasks:
      - id: "1"
        points: 1
        checks:
          - kind: function
            name: f
            points: 1
            reference: "x**2"
            properties:
              - holds: "f(x) < 0"
                over: [-1, 1]
                message: "negative"
    """
    [msg] = problems(write(tmp_path, text))
    assert "properties[0].holds" in msg and "the reference does not satisfy it" in msg


def test_sheet06_loads_and_computes_its_taylor_coefficients(sheet06) -> None:  # noqa: ANN001
    import sympy

    taylor = next(c for t in sheet06.tasks for c in t.checks if c.kind == "taylor")
    assert taylor.coefficients == [
        sympy.Rational(1, 2),
        sympy.Rational(1, 4),
        0,
        sympy.Rational(-1, 48),
    ]
