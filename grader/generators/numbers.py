"""Generators of numbers: reals and integers in ranges."""

from __future__ import annotations

from typing import Any, Literal

from grader.generators.base import Draw, Each, Generator, pick


class Real(Generator):
    """A real number, uniform in ``[lo, hi]`` (log-uniform in magnitude with ``scale: log``)."""

    key = "real"
    real: tuple[float, float] | Each[tuple[float, float]]
    scale: Literal["linear", "log"] = "linear"
    #: rounded to this many decimals (values students can read in feedback)
    decimals: int | None = None

    def draw(self, draw: Draw) -> Any:
        lo, hi = pick(self.real, draw.index)
        if self.scale == "log" and lo > 0:
            value = float(draw.rng.uniform(0.0, 1.0))
            value = lo * (hi / lo) ** value
        else:
            value = float(draw.rng.uniform(lo, hi))
        return round(value, self.decimals) if self.decimals is not None else value


class Integer(Generator):
    """An integer, uniform in ``[lo, hi]`` (both included)."""

    key = "integer"
    integer: tuple[int, int] | Each[tuple[int, int]]

    def draw(self, draw: Draw) -> Any:
        lo, hi = pick(self.integer, draw.index)
        return int(draw.rng.integers(lo, hi, endpoint=True))
