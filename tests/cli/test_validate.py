"""What does `grader validate` say about a sheet with mistakes in it?"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.cli import main

TASK = """\
  - id: "1"
    points: 1
    checks:
      - kind: manual
        name: T
        points: 1
"""


def validate(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    sheet = tmp_path / "s.yaml"
    sheet.write_text(text, encoding="utf-8")
    assert main(["validate", str(sheet)]) == 2
    err = capsys.readouterr().err
    lines = [line.replace(f"{sheet}", "s.yaml") for line in err.splitlines()]
    return [line.removeprefix("grader: ") for line in lines]


def test_a_misspelt_key_is_one_problem_with_a_suggestion(tmp_path, capsys) -> None:  # noqa: ANN001
    text = "id: s\ntasks:\n" + TASK.replace("    points: 1\n", "    pionts: 1\n", 1)
    assert validate(tmp_path, text, capsys) == [
        "s.yaml:4: tasks[0].pionts: unknown field; did you mean `points`?"
    ]
    text = "id: s\ntasks:\n" + TASK + "        rubrik: look for p_data\n"
    assert validate(tmp_path, text, capsys) == [
        "s.yaml:9: tasks[0].checks[0].rubrik: unknown field; did you mean `rubric`?"
    ]
    text = "id: s\ntasks:\n" + TASK.replace("kind: manual", "kind: manuel")
    [line] = validate(tmp_path, text, capsys)
    assert "unknown check kind 'manuel'; did you mean 'manual'?" in line


def test_no_pydantic_prefixes(tmp_path, capsys) -> None:  # noqa: ANN001
    text = "id: s\ntasks:\n" + TASK.replace("    points: 1\n", "    points: 2\n", 1)
    [line] = validate(tmp_path, text, capsys)
    assert line.startswith("s.yaml:3: tasks[0]: the checks of task 1 give 1")
    assert "Value error" not in line


def test_a_duplicate_task_id_is_reported_at_the_duplicate(tmp_path, capsys) -> None:  # noqa: ANN001
    text = "id: s\ntasks:\n" + TASK + TASK.replace("name: T", "name: U")
    assert validate(tmp_path, text, capsys) == [
        "s.yaml:9: tasks[1].id: task id 1 appears twice (first at line 3)"
    ]


def test_a_bad_domain_is_one_problem(tmp_path, capsys) -> None:  # noqa: ANN001
    text = "id: s\nsymbols:\n  x: realish\ntasks:\n" + TASK
    assert validate(tmp_path, text, capsys) == [
        "s.yaml:3: symbols.x: 'realish' is not one of real, positive, nonnegative, integer, "
        "positive_integer, or an interval [lo, hi]; did you mean 'real'?"
    ]


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("id: s\ntasks:\n  - id: a\n    points: 1\n   checks: []\n", 5, "indentation of this line"),
        ("id: s\ntasks:\n  - id: a\n      points: 1\n", 4, "this line is indented differently"),
        ("id: s\ntasks:\n  - id: a\n    name T\n    points: 1\n", 4, "a line without ':'"),
        ("id: s\ntasks:\n\t- id: 1\n", 3, "a tab character: YAML indents with spaces only"),
        ("id: s\ntitle: a: b\n", 2, "a ':' where YAML does not expect one"),
        ('id: s\ntitle: "open\n', 2, "a closing quote is missing"),
    ],
)
def test_yaml_syntax_errors_in_words_at_their_line(tmp_path, capsys, text, line, words) -> None:  # noqa: ANN001
    [message] = validate(tmp_path, text, capsys)
    assert message.startswith(f"s.yaml:{line}: YAML syntax error: "), message
    assert words in message
    assert "[" in message  # PyYAML's own words are kept, in brackets
