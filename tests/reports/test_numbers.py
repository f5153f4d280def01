"""Is every number a person reads written the same way?"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from grader.reports import numbers


@pytest.mark.parametrize(
    "x, text",
    [(12.6667, "12.67"), (2.0, "2"), (1.5, "1.5"), (0.25, "0.25"), (0.666667, "0.67"),
     (2 / 3 * 19, "12.67"), (0.30000000000000004, "0.3"), (-0.001, "0"), (22, "22")],
)
def test_points(x: float, text: str) -> None:
    assert numbers.points(x) == text


@pytest.mark.parametrize(
    "x, text",
    [
        (sympy.Float("0.3333", 15), "0.3333"),  # sympy prints 0.333300000000000
        (1.62574, "1.626"),
        (0.0009751, "0.0009751"),
        (2.319523e-16, "2.32e-16"),
        (123456.7, "123457"),
        (1e7, "1e7"),
        (-0.5, "-0.5"),
        (3, "3"),
        (3.0, "3"),
        (np.float64(0.1966), "0.1966"),
        (float("nan"), "nan"),
        (float("-inf"), "-inf"),
        (True, "True"),
    ],
)
def test_value(x: object, text: str) -> None:
    assert numbers.value(x) == text


def test_two_values_that_differ_read_differently() -> None:
    assert numbers.distinct(0.19661, 0.19664) == ("0.19661", "0.19664")
    assert numbers.distinct(1.0, 1.0) == ("1", "1")
    assert numbers.distinct(1.62574, 2.34545) == ("1.626", "2.345")


def test_arrays_without_numpys_spacing() -> None:
    assert numbers.array(np.array([0.0, 0.494, 0.506])) == "[0, 0.494, 0.506]"
    assert numbers.array(np.array([0.5768, 0.2872, 0.136])) == "[0.5768, 0.2872, 0.136]"
    assert numbers.array([[1.0, 2.5], [3, 4]]) == "[[1, 2.5], [3, 4]]"
    assert numbers.array(np.arange(100.0)) == "[0, 1, 2, …, 97, 98, 99]"
    assert numbers.array(np.array([1.0, 2.3195e-16])) == "[1, 2.32e-16]"
    assert numbers.number(np.float32(0.5)) == "0.5" and numbers.number((1, 2)) == "[1, 2]"


def test_memory_sizes_and_the_rest() -> None:
    assert numbers.megabytes(2048) == "2 GiB"
    assert numbers.memory(1536 * 1024) == "1.5 MiB"
    assert numbers.memory(64 * 1024**3) == "64 GiB"
    assert numbers.memory(1) == "1 byte" and numbers.memory(300) == "300 bytes"
    assert numbers.percent(2 / 3) == "67%" and numbers.percent(float("nan")) == "–"
    assert numbers.seconds(0.83) == "0.83 s" and numbers.seconds(12.4) == "12 s"
    assert numbers.seconds(125) == "2 min 5 s"
