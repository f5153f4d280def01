"""Argument generators: what each YAML mapping draws, and what a wrong one is told."""

from __future__ import annotations

import numpy as np
import pytest

from grader.checks.cases import CaseDrawer, PartSpec, arg_names
from grader.generators import GENERATORS, parse_generator
from grader.sheet.common import Family
from grader.sheet.context import SheetContext, SpecError


def drawer(args: dict, dims: dict | None = None, **ctx_fields: object) -> CaseDrawer:
    ctx = SheetContext("s", **ctx_fields)  # type: ignore[arg-type]
    parsed = {k: parse_generator(v) for k, v in args.items()}
    return CaseDrawer(ctx, parsed, dims or {}, [PartSpec(label="case", count=1)])


def draw(d: CaseDrawer, index: int = 0, seed: int = 0) -> dict:
    return d.draw(np.random.default_rng(seed), index, d.parts[0])


def test_shared_dimensions_make_shapes_fit_and_n_may_exceed_m() -> None:
    d = drawer(
        {"X": {"array": ["m", "n"]}, "y": {"array": ["m"]}, "lam": {"real": [0.01, 10]}},
        {"m": [2, 4], "n": [5, 8]},
    )
    for seed in range(20):
        v = draw(d, seed=seed)
        assert v["X"].shape[0] == v["y"].shape[0]
        assert v["X"].shape[1] > v["X"].shape[0]
        assert 0.01 <= v["lam"] <= 10


def test_each_walks_through_its_values_case_by_case() -> None:
    d = drawer({"k": {"integer": {"each": [[1, 1], [5, 5]]}}})
    assert [draw(d, i)["k"] for i in range(4)] == [1, 5, 1, 5]


def test_probability_vectors_sum_to_one_with_the_zeros_asked_for() -> None:
    d = drawer({"p": {"probability": 6, "zeros": 2}})
    p = draw(d)["p"]
    assert p.sum() == pytest.approx(1.0) and (p == 0).sum() == 2


def test_class_indices_and_one_hot_vectors_stay_in_range() -> None:
    d = drawer({"y": {"class_index": "k"}, "t": {"one_hot": "k"}}, {"k": 3})
    for seed in range(10):
        v = draw(d, seed=seed)
        assert 0 <= v["y"] < 3 and v["t"].sum() == 1 and v["t"].shape == (3,)


def test_positive_definite_matrices_are_symmetric_with_positive_eigenvalues() -> None:
    a = draw(drawer({"A": {"positive_definite": 4}}))["A"]
    np.testing.assert_allclose(a, a.T)
    assert np.linalg.eigvalsh(a).min() > 0


def test_a_family_sample_fills_density_data_and_theta() -> None:
    gaussian = Family(
        params={"mu": "real", "s": "positive"},
        density="exp(-(x - mu)**2/(2*s**2))/sqrt(2*pi*s**2)",
        sample="normal(mu, s)",
        theta={"mu": (-2, 2), "s": (0.5, 2)},
    )
    d = drawer({"p, X, theta": {"family": "gaussian", "m": 7}}, families={"gaussian": gaussian})
    assert arg_names(d.args) == ["p", "X", "theta"]
    v = draw(d)
    assert v["X"].shape == (7,) and len(v["theta"]) == 2
    # the density is the trusted callable here (and a formula on the wire)
    assert np.all(v["p"](v["X"], v["theta"]) > 0)


def test_a_generator_key_that_does_not_exist_lists_those_that_do() -> None:
    with pytest.raises(ValueError, match="exactly one generator") as info:
        parse_generator({"reals": [0, 1]})
    for key in GENERATORS:
        assert key in str(info.value)
    with pytest.raises(ValueError, match="it accepts: real, scale, decimals"):
        parse_generator({"real": [0, 1], "sample": 3})


def test_destructured_names_must_match_what_the_generator_gives() -> None:
    gaussian = Family(
        params={"mu": "real"}, density="exp(-(x-mu)**2/2)/sqrt(2*pi)", sample="normal(mu, 1)",
        theta={"mu": (0, 1)},
    )  # fmt: skip
    with pytest.raises(SpecError, match="gives 3 value"):
        drawer({"p, X": {"family": "g"}}, families={"g": gaussian})


def test_the_same_seed_draws_the_same_case() -> None:
    d = drawer({"X": {"array": [3, 3]}})
    np.testing.assert_array_equal(draw(d, seed=5)["X"], draw(d, seed=5)["X"])
