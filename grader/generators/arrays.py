"""Generators of arrays: any shape with named dimensions, probability vectors, classes,
one-hot vectors and positive-definite matrices."""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.generators.base import Draw, Each, Generator, pick

Dim = int | str


class Array(Generator):
    """An array of the given shape (entries normal(0, 1) unless ``uniform``/``integers``)."""

    key = "array"
    array: list[Dim]
    normal: tuple[float, float] | Each[tuple[float, float]] | None = None
    uniform: tuple[float, float] | Each[tuple[float, float]] | None = None
    integers: tuple[int, int] | None = None
    decimals: int | None = None

    def dims_used(self) -> set[str]:
        return {d for d in self.array if isinstance(d, str)}

    def draw(self, draw: Draw) -> Any:
        shape = tuple(draw.size(d) for d in self.array)
        rng = draw.rng
        if self.integers is not None:
            lo, hi = self.integers
            return rng.integers(lo, hi, size=shape, endpoint=True).astype(float)
        if self.uniform is not None:
            lo, hi = pick(self.uniform, draw.index)
            out = rng.uniform(lo, hi, size=shape)
        else:
            mu, sd = pick(self.normal, draw.index) if self.normal is not None else (0.0, 1.0)
            out = rng.normal(mu, sd, size=shape)
        return np.round(out, self.decimals) if self.decimals is not None else out


class Probability(Generator):
    """A probability vector of length k (Dirichlet(1)), with ``zeros`` entries set to 0."""

    key = "probability"
    probability: Dim
    zeros: int | Each[int] = 0

    def dims_used(self) -> set[str]:
        return {self.probability} if isinstance(self.probability, str) else set()

    def draw(self, draw: Draw) -> Any:
        k = draw.size(self.probability)
        p = draw.rng.dirichlet(np.ones(k))
        zeros = min(int(pick(self.zeros, draw.index)), k - 1)
        if zeros:
            p[draw.rng.choice(k, size=zeros, replace=False)] = 0.0
            p = p / p.sum()
        return p


class ClassIndex(Generator):
    """A class index in ``0 … k-1``."""

    key = "class_index"
    class_index: Dim

    def dims_used(self) -> set[str]:
        return {self.class_index} if isinstance(self.class_index, str) else set()

    def draw(self, draw: Draw) -> Any:
        return int(draw.rng.integers(0, draw.size(self.class_index)))


class OneHot(Generator):
    """A one-hot vector of length k."""

    key = "one_hot"
    one_hot: Dim

    def dims_used(self) -> set[str]:
        return {self.one_hot} if isinstance(self.one_hot, str) else set()

    def draw(self, draw: Draw) -> Any:
        k = draw.size(self.one_hot)
        out = np.zeros(k)
        out[int(draw.rng.integers(0, k))] = 1.0
        return out


class PositiveDefinite(Generator):
    """A symmetric positive-definite n×n matrix (A Aᵀ + n I, A normal)."""

    key = "positive_definite"
    positive_definite: Dim

    def dims_used(self) -> set[str]:
        d = self.positive_definite
        return {d} if isinstance(d, str) else set()

    def draw(self, draw: Draw) -> Any:
        n = draw.size(self.positive_definite)
        a = draw.rng.normal(size=(n, n))
        return a @ a.T + n * np.eye(n)
