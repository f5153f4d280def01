"""The sheet's parametric families made numeric: density, log-density and sampler.

A family is a sympy density in a variable and parameters, a numpy ``Generator`` call that
samples it (``normal(mu, s)``), and the ranges its parameters are drawn from. Checks use it
through the ``family`` argument generator, which hands a case its density ``p_model(x,
theta)`` (a trusted callable here; in the sandbox it is rebuilt from the same formula), a
sample and theta.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy

from grader.sandbox.protocol import Density
from grader.sheet.common import Family
from grader.sheet.context import SheetContext, SpecError, symbol_for
from grader.solver.numpy_functions import lambdify

#: numpy ``Generator`` methods a family's ``sample`` may call (scalar-parameter ones).
SAMPLERS = frozenset(
    {
        "normal", "binomial", "exponential", "poisson", "uniform", "gamma", "beta",
        "geometric", "laplace", "logistic", "lognormal", "negative_binomial", "weibull",
        "rayleigh", "chisquare", "standard_t", "pareto", "gumbel", "wald", "vonmises",
        "standard_normal", "standard_exponential", "standard_cauchy", "hypergeometric",
        "logseries", "zipf", "triangular", "f", "noncentral_chisquare", "power",
    }
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class FamilyDensity(Density):
    """The density as both a wire value (its formula) and a trusted callable."""

    fn: Callable[..., Any] = field(default=lambda x, *t: x, compare=False, repr=False)

    def __call__(self, x: Any, theta: Any) -> Any:
        thetas = [theta] if len(self.params) == 1 and np.ndim(theta) == 0 else list(theta)
        with np.errstate(all="ignore"):
            return self.fn(np.asarray(x, dtype=float), *thetas) + 0.0 * np.asarray(x, dtype=float)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Density) and (self.expr, self.variable, self.params) == (
            other.expr,
            other.variable,
            other.params,
        )

    def __hash__(self) -> int:
        return hash((self.expr, self.variable, self.params))


@dataclass(frozen=True)
class FamilyModel:
    name: str
    family: Family
    density: FamilyDensity
    param_names: tuple[str, ...]
    discrete: bool
    _sampler: str
    _sample_args: Callable[..., Any]

    def random_theta(self, rng: np.random.Generator) -> tuple[float, ...]:
        return tuple(float(rng.uniform(*self.family.theta[p])) for p in self.param_names)

    def sample(self, rng: np.random.Generator, theta: tuple[float, ...], m: int) -> np.ndarray:
        args = [float(a) for a in np.atleast_1d(self._sample_args(*theta))]
        return np.asarray(getattr(rng, self._sampler)(*args, size=m), dtype=float)

    def theta_arg(self, theta: tuple[float, ...]) -> float | tuple[float, ...]:
        """theta as ``p_model`` takes it: a number for one parameter, else a tuple."""
        return float(theta[0]) if len(theta) == 1 else tuple(float(t) for t in theta)


def family_model(ctx: SheetContext, name: str) -> FamilyModel:
    """The numeric model of the sheet's family ``name``, built once per sheet.

    Raises ``SpecError`` with a field relative to the family (``("density",)`` …).
    """
    cache: dict[str, FamilyModel] = ctx.__dict__.setdefault("_family_models", {})
    if name not in cache:
        if name not in ctx.families:
            known = ", ".join(sorted(ctx.families)) or "none"
            raise SpecError((), f"there is no family {name!r} in `families:` (known: {known})")
        cache[name] = _build(ctx, name, ctx.families[name])
    return cache[name]


def _build(ctx: SheetContext, name: str, family: Family) -> FamilyModel:
    if set(family.theta) != set(family.params):
        raise SpecError(("theta",), "`theta` must give one range for each parameter")
    variable = sympy.Symbol(family.variable, real=True)
    params = tuple(symbol_for(p, d) for p, d in family.params.items())
    local = {family.variable: variable, **{p.name: p for p in params}}
    density = ctx.parse(family.density, ("density",), extra=local)
    stray = {s.name for s in density.free_symbols} - set(local)
    if stray:
        raise SpecError(
            ("density",), f"the density uses {sorted(stray)}: not the variable or a parameter"
        )
    sampler, sample_args = _parse_sample(ctx, family.sample, params)
    wire = FamilyDensity(
        sympy.sstr(density, full_prec=True),
        variable.name,
        tuple(p.name for p in params),
        fn=lambdify([variable, *params], density),
    )
    model = FamilyModel(
        name, family, wire, tuple(p.name for p in params), family.discrete, sampler, sample_args
    )
    _validate(model)
    return model


def _parse_sample(
    ctx: SheetContext, text: str, params: tuple[sympy.Symbol, ...]
) -> tuple[str, Callable[..., Any]]:
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise SpecError(("sample",), f"{text!r} is not a call like `normal(mu, s)`") from exc
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name)) or tree.keywords:
        raise SpecError(("sample",), f"{text!r} should be one call like `normal(mu, s)`")
    if tree.func.id not in SAMPLERS:
        raise SpecError(("sample",), f"{tree.func.id!r} is not a numpy Generator method")
    local = {p.name: p for p in params}
    args = [ctx.parse(ast.unparse(a), ("sample",), extra=local) for a in tree.args]
    stray = {s.name for a in args for s in a.free_symbols} - set(local)
    if stray:
        raise SpecError(("sample",), f"the sampler uses {sorted(stray)}, which are not parameters")
    return tree.func.id, lambdify(list(params), sympy.Tuple(*args))


def _validate(model: FamilyModel) -> None:
    """Draw from the family: its density must be positive and finite on its own samples."""
    rng = np.random.default_rng(12345)
    for _ in range(3):
        theta = model.random_theta(rng)
        where = dict(zip(model.param_names, theta, strict=True))
        try:
            data = model.sample(rng, theta, 20)
        except Exception as exc:  # noqa: BLE001 - numpy raises many kinds on bad parameters
            raise SpecError(("sample",), f"sampling failed at {where}: {exc}") from exc
        try:
            p = np.asarray(model.density(data, model.theta_arg(theta)), dtype=float)
        except Exception as exc:  # noqa: BLE001
            raise SpecError(("density",), f"the density cannot be evaluated: {exc}") from exc
        if p.shape != data.shape or not np.all(np.isfinite(p)) or np.any(p <= 0):
            raise SpecError(
                ("density",), f"the density is not positive and finite on its samples ({where})"
            )
