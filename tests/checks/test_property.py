"""The `property` kind: relations among calls of the hand-in's own functions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.checks.local import check_of, judge, sheet, text

SHEET = """\
id: s
tasks:
  - id: "1"
    points: 2
    checks:
      - kind: property
        name: softmax
        points: 2
        dims: {k: [2, 6]}
        args: {z: {array: [k], normal: [0, 5]}, c: {real: [-1000, 1000]}}
        holds:
          - holds: "softmax(z + c) == softmax(z)"
            message: "softmax(z + c) must equal softmax(z) for every constant c"
          - "sum(softmax(z)) == 1"
          - "all(softmax(z) > 0)"
        reference: "softmax(z)"
"""


def stable(z):  # noqa: ANN001, ANN201
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()


@pytest.fixture(scope="module")
def check(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    return check_of(sheet(tmp_path_factory.mktemp("prop"), SHEET), "softmax")


def test_a_stable_softmax_has_every_property(check) -> None:  # noqa: ANN001
    result = judge(check, {"softmax": stable})
    assert result.passed
    assert "has the properties asked (softmax(z + c) == softmax(z); " in text(result)


def test_a_naive_softmax_breaks_shift_invariance(check) -> None:  # noqa: ANN001
    def naive(z):  # noqa: ANN001, ANN202
        e = np.exp(np.asarray(z, dtype=float))
        return e / e.sum()

    result = judge(check, {"softmax": naive})
    assert not result.passed
    assert "softmax(z + c) must equal softmax(z) for every constant c" in text(result)


def test_a_constant_vector_satisfies_the_relations_but_not_the_values(check) -> None:  # noqa: ANN001
    result = judge(check, {"softmax": lambda z: np.full(len(z), 1 / len(z))})
    assert 0 < result.points < 2


def test_a_failed_relation_prints_both_sides_so_that_they_differ(tmp_path: Path) -> None:
    loaded = sheet(
        tmp_path,
        """\
        id: s
        tasks:
          - id: "1"
            points: 1
            checks:
              - kind: property
                name: f
                points: 1
                args: {x: {real: [1, 2]}}
                holds: ["f(x) == -1"]
        """,
    )
    result = judge(check_of(loaded, "f"), {"f": lambda x: -1.000001})
    assert "gives -1.000001 = -1" in text(result)
