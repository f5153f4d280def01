"""What does the public copy of a sheet show a student, and does it still grade?"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from grader.errors import UsageError
from grader.generate.public_sheet import public_sheet
from grader.sheet.loader import load_sheet

SHEET = """\
id: pub
title: Public copy
solution: solution.py
reference: pub_ref.py
symbols: {x: real}
tasks:
  - id: "1"
    points: 3
    checks:
      - kind: expression
        name: f
        points: 1
        reference: "x**2"
      - kind: function
        name: g
        points: 1
        reference: g_ref
        args: {x: {real: [-3, 3]}}
      - kind: function
        name: f
        points: 1
        hidden: true
        reference: "x**2"
        args: {x: {real: [-3, 3]}}
        edge: [123456.5]
  - id: "2"
    points: 3
    checks:
      - kind: function
        name: h
        points: 1
        reference: "2*x"
        args: {x: {real: [-3, 3]}}
        mistakes:
          - {ref: h_wrong, message: "You squared x."}
          - {expr: "x", message: "The factor 2 is missing."}
      - kind: value
        name: K
        points: 1
        reference: "7"
        show_expected: false
      - kind: value
        name: L
        points: 1
        reference: "8"
  - id: "3"
    points: 1
    checks:
      - kind: function
        name: g
        points: 1
        hidden: true
        reference: g_ref
        args: {x: {real: [-3, 3]}}
"""

REFERENCE = """\
def g_ref(x):
    return 3 * x + 41  # THE REFERENCE SOLUTION


def h_wrong(x):
    return x**2
"""


@pytest.fixture()
def sheet(tmp_path: Path):  # noqa: ANN201
    (tmp_path / "pub.yaml").write_text(SHEET, encoding="utf-8")
    (tmp_path / "pub_ref.py").write_text(REFERENCE, encoding="utf-8")
    (tmp_path / "solution.py").write_text("SECRET_SOLUTION = 1\n", encoding="utf-8")
    return load_sheet(tmp_path / "pub.yaml")


def test_hidden_checks_solutions_and_the_reference_module_stay_out(sheet) -> None:  # noqa: ANN001
    public = public_sheet(sheet)
    data = yaml.safe_load(public.text)
    assert "solution" not in data and "reference" not in data
    for secret in ("g_ref", "h_wrong", "THE REFERENCE", "123456", "SECRET_SOLUTION", "hidden"):
        assert secret not in public.text.split("\nid: pub")[1]  # the YAML, not its comments
    kept = [(t["id"], c["name"]) for t in data["tasks"] for c in t["checks"]]
    assert kept == [("1", "f"), ("2", "h"), ("2", "L")]  # task 3 had nothing public


def test_each_check_left_out_is_named_with_its_reason(sheet) -> None:  # noqa: ANN001
    public = public_sheet(sheet)
    reasons = {(c.task_id, c.name, c.points): c.reason for c in public.left_out}
    assert reasons == {
        ("1", "g", 1): "its expected answer comes from the reference module",
        ("1", "f", 1): "hidden check",
        ("2", "K", 1): "keeps its expected answer to itself (show_expected: false)",
        ("3", "g", 1): "hidden check",
    }
    assert [(c.task_id, c.name) for c in public.trimmed] == [("2", "h")]
    assert "#   1 g (1 point): its expected answer comes from the reference module" in public.text
    # hidden checks are counted in the file's header, not named
    assert "#   2 hidden check(s), 2 points in all" in public.text
    assert "1 f (1 point)" not in public.text and "3 g" not in public.text


def test_a_check_keeps_the_mistakes_it_can_name_without_the_module(sheet) -> None:  # noqa: ANN001
    data = yaml.safe_load(public_sheet(sheet).text)
    [h] = [c for c in data["tasks"][1]["checks"] if c["name"] == "h"]
    assert h["mistakes"] == [{"expr": "x", "message": "The factor 2 is missing."}]


def test_the_public_copy_loads_alone_with_points_that_add_up(sheet, tmp_path: Path) -> None:  # noqa: ANN001
    public = public_sheet(sheet)
    alone = tmp_path / "elsewhere" / "pub.yaml"
    alone.parent.mkdir()
    alone.write_text(public.text, encoding="utf-8")
    loaded = load_sheet(alone)
    assert [t.spec.points for t in loaded.tasks] == [1, 2]
    assert public.points == public.auto_points == 3
    # a check keeps the id it has in the full sheet, so reports agree between the two
    assert [c.check_id for t in loaded.tasks for c in t.checks] == ["1#1", "2#1", "2#3"]


def test_a_sheet_with_nothing_public_is_refused(tmp_path: Path) -> None:
    hidden_all = textwrap.dedent(
        """\
        id: none
        symbols: {x: real}
        tasks:
          - id: "1"
            points: 1
            checks:
              - {kind: expression, name: f, points: 1, reference: "x**2", hidden: true}
        """
    )
    (tmp_path / "none.yaml").write_text(hidden_all, encoding="utf-8")
    with pytest.raises(UsageError, match="no check of this sheet can be public"):
        public_sheet(load_sheet(tmp_path / "none.yaml"))


def test_sheet06_keeps_what_needs_no_reference_solution() -> None:
    from tests.conftest import SHEET06

    public = public_sheet(load_sheet(SHEET06))
    left = {(c.task_id, c.name) for c in public.left_out}
    assert left == {
        ("6.1a", "likelihood"),
        ("6.1a", "mle_gaussian"),
        ("6.1c", "mean_log_likelihood"),
        ("6.1d", "cross_entropy"),
        ("6.1d", "kl_divergence"),
        ("6.3a", "forward"),
        ("6.3a", "PREDICTED_CLASS"),
    }
    assert public.auto_points == 10.5 and public.points == 12.5  # 6.1b waits for a person
