"""Generators of fixed and derived values: literal data, the sheet's given data, sympy
symbols, formulas over the case's other arguments, and samples of a family."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from grader.generators.base import Draw, Each, Generator, pick


def as_data(value: Any) -> Any:
    """YAML data as the values a function gets: nested lists of numbers become arrays."""
    if isinstance(value, list):
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            return [as_data(v) for v in value]
        return arr
    return value


class Value(Generator):
    """A fixed value: a number, or a (nested) list that becomes an array."""

    key = "value"
    value: Any

    def draw(self, draw: Draw) -> Any:
        return as_data(pick(self.value, draw.index))


class Given(Generator):
    """An item of the sheet's ``given:`` data (``given: net.x``), the same in every case."""

    key = "given"
    given: str

    def draw(self, draw: Draw) -> Any:
        return draw.sheet.given_value(self.given)


class SymbolArg(Generator):
    """A sympy symbol with the sheet's domain: the hand-in is asked for a formula."""

    key = "symbol"
    symbol: str

    def draw(self, draw: Draw) -> Any:
        return draw.sheet.symbol_arg(self.symbol)


class Formula(Generator):
    """A case formula over the arguments drawn before it (``W1 @ x``)."""

    key = "formula"
    formula: str

    def draw(self, draw: Draw) -> Any:
        return draw.sheet.evaluate_formula(self.formula, draw.values)


class FamilySample(Generator):
    """A sample of one of the sheet's families: ``p_model, X, theta`` for a likelihood.

    ``gives`` says which of the three the argument names receive, in order.
    """

    key = "family"
    family: str | Each[str]
    m: int | Each[int] = Field(default=10)
    gives: list[Literal["density", "sample", "theta"]] = ["density", "sample", "theta"]
    #: redraw until the sample has this many distinct values (all-zero Bernoulli data has
    #: its MLE on the boundary of the parameter range)
    distinct: int = 1

    def outputs(self) -> int:
        return len(self.gives)

    def draw(self, draw: Draw) -> Any:
        model = draw.sheet.family(pick(self.family, draw.index))
        m = int(pick(self.m, draw.index))
        for _ in range(50):
            theta = model.random_theta(draw.rng)
            data = model.sample(draw.rng, theta, m)
            if len(np.unique(data)) >= min(self.distinct, m):
                break
        parts = {"density": model.density, "sample": data, "theta": model.theta_arg(theta)}
        values = tuple(parts[g] for g in self.gives)
        return values if len(values) > 1 else values[0]
