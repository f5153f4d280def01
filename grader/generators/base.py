"""What every argument generator shares: the context of one draw and ``each`` lists.

A generator draws the value of one argument (or of several, destructured: ``p_model, X,
theta``) for one case. Sizes shared between arguments are named dimensions (``X: (m, n)``,
``y: (m,)``) drawn once per case. Any setting may be ``{each: [...]}``: case ``i`` then takes
item ``i`` (cycling), so that a check can walk through families or sample sizes in turn.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
from pydantic import field_validator

from grader.sheet.common import Model

T = TypeVar("T")


class Each(Model, Generic[T]):
    """One value per case, in turn."""

    each: list[T]

    @field_validator("each")
    @classmethod
    def _not_empty(cls, v: list[T]) -> list[T]:
        if not v:
            raise ValueError("`each` needs at least one value")
        return v


def pick(value: Any, index: int) -> Any:
    """The setting for case ``index``: the value itself, or its turn of an ``each`` list."""
    if isinstance(value, Each):
        return value.each[index % len(value.each)]
    return value


@dataclass
class Draw:
    """One case being drawn: its random source, its index, its dimensions, and what the
    sheet offers (families, given data, symbol domains, trusted functions)."""

    rng: np.random.Generator
    index: int
    dims: Mapping[str, int]
    sheet: Any  # grader.sheet.context.SheetContext (imported lazily: no cycle)
    #: values drawn so far in this case, for formula generators
    values: dict[str, Any] = field(default_factory=dict)

    def size(self, dim: int | str) -> int:
        if isinstance(dim, int):
            return dim
        if dim not in self.dims:
            raise KeyError(dim)
        return self.dims[dim]


class Generator(Model, ABC):
    """Base of every generator model; ``key`` is the YAML key that selects it."""

    key: ClassVar[str]

    @abstractmethod
    def draw(self, draw: Draw) -> Any:
        """The value (a tuple of values when ``outputs() > 1``) for one case."""

    def dims_used(self) -> set[str]:
        """Names of dimensions the generator's shape uses."""
        return set()

    def outputs(self) -> int:
        """How many values one draw gives (destructured over several argument names)."""
        return 1
