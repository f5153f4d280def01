"""The picture of a function of one number against its reference, for the report."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from grader.calc import Tolerance, values_equal
from grader.results import Plot
from grader.sandbox.protocol import Outcome

#: where the curves differ visibly (a plot shows shapes, not the last digits)
PLOT_TOLERANCE = Tolerance(rtol=1e-4, atol=1e-6)


def plot_of(name: str, xs: np.ndarray, reference: np.ndarray, given: Sequence[Outcome]) -> Plot:
    values = np.array([_value(o) for o in given])
    differs = [
        float(x)
        for x, v, r in zip(xs, values, reference, strict=True)
        if not values_equal(v, r, PLOT_TOLERANCE)
    ]
    return Plot(
        title=f"{name}(x) against the reference",
        xs=tuple(float(x) for x in xs),
        reference=tuple(_finite(reference)),
        given=tuple(_finite(values)),
        differs_at=tuple(differs),
    )


def _value(outcome: Outcome) -> float:
    if not outcome.ok:
        return float("nan")
    try:
        return float(np.asarray(outcome.value, dtype=float).reshape(()))
    except (TypeError, ValueError):
        return float("nan")


def _finite(a: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in a]
