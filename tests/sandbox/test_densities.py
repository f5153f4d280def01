"""Is the density a hand-in receives (``p_model``) the sheet's density, one number at a time
as on arrays?"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from grader.sandbox import child

FAMILIES = [
    ("exp(-(x - mu)**2/(2*s**2))/sqrt(2*pi*s**2)", ["mu", "s"], (0.3, 1.2)),
    ("p**x*(1 - p)**(1 - x)", ["p"], 0.4),
    ("lam**x*exp(-lam)/factorial(x)", ["lam"], 2.5),
    ("lam*exp(-lam*x)", ["lam"], 0.7),
]


@pytest.mark.parametrize(("expr", "params", "theta"), FAMILIES)
def test_a_sample_at_a_time_gives_what_the_whole_array_gives(expr, params, theta) -> None:  # noqa: ANN001
    p_model = child._density({"expr": expr, "variable": "x", "params": params})
    xs = np.array([0.0, 1.0, 2.0, 3.0, 7.0, 0.25])
    on_array = p_model(xs, theta)
    one_by_one = [p_model(x, theta) for x in xs]
    assert all(type(v) is np.float64 for v in one_by_one)
    np.testing.assert_allclose(one_by_one, on_array, rtol=1e-13, atol=0)
    assert p_model(float(xs[3]), theta) == pytest.approx(float(on_array[3]), rel=1e-13)


def test_where_math_refuses_numpy_answers_with_its_warning() -> None:
    """log(0) and overflow: the hand-in sees numpy's -inf or inf, as on arrays."""
    p_model = child._density({"expr": "log(x)*lam", "variable": "x", "params": ["lam"]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert p_model(np.float64(0.0), 1.0) == -math.inf
    assert caught and issubclass(caught[0].category, RuntimeWarning)
    huge = child._density({"expr": "exp(x)", "variable": "x", "params": ["lam"]})
    with np.errstate(over="ignore"):
        assert huge(np.float64(1000.0), 1.0) == math.inf
