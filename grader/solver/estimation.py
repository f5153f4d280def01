"""Reference solver for estimation tasks: densities, sampling, maximum likelihood.

Everything here works from a sheet ``Family`` (a sympy density string, the
parameter domains, a numpy ``Generator`` call that samples it); no expected
value is ever typed into a sheet.

Maximum likelihood (``FamilyModel.mle``) is found in two ways:

1. *Closed form.* The log-density is expanded (``expand_log``) into a sum of
   terms ``f_k(x) * g_k(theta)``. Then the log-likelihood of any data set is
   ``sum_k S_k g_k(theta)`` with sufficient statistics ``S_k = sum_i f_k(x_i)``,
   and sympy ``solve`` is asked once per family for the zeros of its gradient
   in terms of the symbols ``S_k`` and ``m``. Each solution is evaluated on
   the data; the ones inside the parameter domain compete on likelihood.
2. *Numerically* when that fails (no such split, ``solve`` finds nothing
   usable): damped Newton ascent on the summed log-likelihood, with the
   gradient and Hessian derived by sympy and lambdified to numpy, started
   from a few points of the family's ``theta`` ranges.

With a closed form, the in-domain solutions compete on likelihood; when
none lies inside the domain the likelihood has no interior maximum (one
Gaussian sample: s -> 0) and ``mle`` raises ``ValueError``, which checks use
to redraw data or to reject a sheet's sample size. Newton runs only where
there is no closed form; for non-smooth densities (``Abs``) a compass
search takes over. scipy is deliberately not used (it is no dependency).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy

from grader.cache import cached
from grader.sandbox.protocol import Density
from grader.sheet.common import Domain, Family
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

#: parameter vectors and supports: a tuple or list of numbers, or a 1-d numpy array
Floats = Sequence[float] | np.ndarray


def in_domain(value: float, domain: Domain) -> bool:
    if not math.isfinite(value):
        return False
    if isinstance(domain, tuple):
        return domain[0] < value < domain[1]
    if domain == "positive":
        return value > 0
    if domain == "nonnegative":
        return value >= 0
    if domain in ("integer", "positive_integer"):
        return value == round(value) and (domain == "integer" or value > 0)
    return True


@dataclass
class FamilyModel:
    """A family made numeric: density, log-density, sampler and MLE."""

    name: str
    family: Family
    variable: sympy.Symbol
    params: tuple[sympy.Symbol, ...]
    domains: tuple[Domain, ...]
    density: sympy.Expr
    log_density: sympy.Expr
    _pdf: Callable[..., Any]
    _logpdf: Callable[..., Any]
    _sampler: str
    _sample_args: Callable[..., Any]
    _closed: list[Callable[..., Any]] = field(default_factory=list)
    _stats: list[Callable[..., Any]] = field(default_factory=list)
    _grad: list[Callable[..., Any]] | None = None
    _hess: list[list[Callable[..., Any]]] | None = None
    closed_form: list[dict[str, str]] = field(default_factory=list)

    # ------------------------------------------------------------ numerics
    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def pdf(self, x: Any, theta: Floats) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.asarray(
                self._pdf(np.asarray(x, dtype=float), *theta), dtype=float
            ) + 0.0 * np.asarray(x, dtype=float)

    def logpdf(self, x: Any, theta: Floats) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.asarray(
                self._logpdf(np.asarray(x, dtype=float), *theta), dtype=float
            ) + 0.0 * np.asarray(x, dtype=float)

    def loglik(self, data: np.ndarray, theta: Floats) -> float:
        return float(np.sum(self.logpdf(data, theta)))

    def random_theta(self, rng: np.random.Generator) -> tuple[float, ...]:
        out = []
        for p in self.params:
            lo, hi = self.family.theta[p.name]
            out.append(float(rng.uniform(lo, hi)))
        return tuple(out)

    def sample(self, rng: np.random.Generator, theta: Floats, m: int) -> np.ndarray:
        args = [float(a) for a in np.atleast_1d(self._sample_args(*theta))]
        data = getattr(rng, self._sampler)(*args, size=m)
        return np.asarray(data)

    def theta_arg(self, theta: Floats) -> float | tuple[float, ...]:
        """``theta`` as the student's ``p_model`` takes it: a number for one parameter."""
        return float(theta[0]) if len(theta) == 1 else tuple(float(t) for t in theta)

    def density_arg(self) -> Density:
        # printed once per family: each hand-in passes it to dozens of probes
        printed: Density | None = self.__dict__.get("_density_arg")
        if printed is None:
            printed = Density(
                sympy.sstr(self.density, full_prec=True), self.variable.name, self.param_names
            )
            self.__dict__["_density_arg"] = printed
        return printed

    def in_domain(self, theta: Floats) -> bool:
        return all(in_domain(float(t), d) for t, d in zip(theta, self.domains, strict=True))

    # ----------------------------------------------------------------- MLE
    def mle(self, data: np.ndarray) -> tuple[float, ...]:
        """The maximum likelihood estimate on ``data`` (see the module docstring)."""
        data = np.asarray(data, dtype=float)
        candidates: list[tuple[float, ...]] = []
        if self._closed:
            stats = [float(np.sum(f(data) + 0.0 * data)) for f in self._stats]
            for sol in self._closed:
                with np.errstate(all="ignore"):
                    try:
                        theta = tuple(float(np.real_if_close(v)) for v in sol(len(data), *stats))
                    except (ValueError, TypeError, ZeroDivisionError, OverflowError):
                        continue
                if self.in_domain(theta) and math.isfinite(self.loglik(data, theta)):
                    candidates.append(theta)
        if self._closed and not candidates:
            # sympy found every stationary point and none lies inside the domain: the
            # likelihood has no interior maximum (one Gaussian sample: s -> 0)
            raise ValueError(f"the likelihood of family {self.name!r} has no maximum on this data")
        if not candidates:
            candidates = self._newton_all(data)
        if not candidates:
            raise ValueError(f"no maximum likelihood estimate found for family {self.name!r}")
        return max(candidates, key=lambda t: self.loglik(data, t))

    def _newton_all(self, data: np.ndarray) -> list[tuple[float, ...]]:
        starts = [
            tuple((lo + hi) / 2 for lo, hi in (self.family.theta[p] for p in self.param_names))
        ]
        for frac in (0.2, 0.8):
            starts.append(
                tuple(
                    lo + frac * (hi - lo)
                    for lo, hi in (self.family.theta[p] for p in self.param_names)
                )
            )
        out = []
        for start in starts:
            try:
                theta, converged = self._newton(data, np.array(start, dtype=float))
            except Exception:  # noqa: BLE001 - a derivative numpy cannot evaluate
                theta, converged = None, False
            if not converged:
                # Newton stalls on non-smooth densities (|x - mu|); pattern search does not
                theta = self._compass(
                    data, np.array(start if theta is None else theta, dtype=float)
                )
            if theta is not None:
                out.append(tuple(float(t) for t in theta))
        return out

    def _compass(self, data: np.ndarray, theta: np.ndarray) -> np.ndarray | None:
        """Derivative-free pattern search: slow but sure on any density."""
        if not self.in_domain(theta):
            return None
        value = self.loglik(data, theta)
        if not math.isfinite(value):
            return None
        step = np.maximum(np.abs(theta) * 0.1, 0.1)
        for _ in range(2_000):
            if np.all(step < 1e-12 * (1 + np.abs(theta))):
                break
            improved = False
            for i in range(len(theta)):
                for sign in (1.0, -1.0):
                    new = theta.copy()
                    new[i] += sign * step[i]
                    if self.in_domain(new):
                        new_value = self.loglik(data, new)
                        if math.isfinite(new_value) and new_value > value:
                            theta, value, improved = new, new_value, True
                            break
            if not improved:
                step = step / 2
        return theta

    def _newton_functions(self) -> None:
        """Lambdify the gradient and Hessian (only needed without a closed form)."""
        if self._grad is None:
            grad, hess = cached(
                "estimation.newton",
                _model_inputs(self),
                lambda: _derivatives(self.log_density, self.params),
                code=[__file__],
            )
            args = [self.variable, *self.params]
            self._hess = [[lambdify(args, h) for h in row] for row in hess]
            self._grad = [lambdify(args, g) for g in grad]

    def _newton(self, data: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray | None, bool]:
        """Damped Newton ascent; also says whether the gradient vanished at the end."""
        self._newton_functions()
        assert self._grad is not None and self._hess is not None
        k = len(theta)
        value = self.loglik(data, theta)
        if not math.isfinite(value):
            return None, False
        for _ in range(200):
            with np.errstate(all="ignore"):
                g = np.array(
                    [np.sum(gi(data, *theta) + 0.0 * data) for gi in self._grad], dtype=float
                )
                h = np.array(
                    [
                        [np.sum(self._hess[i][j](data, *theta) + 0.0 * data) for j in range(k)]
                        for i in range(k)
                    ],
                    dtype=float,
                )
            if not np.all(np.isfinite(g)):
                return None, False
            if np.linalg.norm(g) < 1e-9 * max(1.0, abs(value)):
                return theta, True
            step = g.copy()
            try:
                if np.all(np.isfinite(h)) and np.all(np.linalg.eigvalsh((h + h.T) / 2) < 0):
                    step = -np.linalg.solve(h, g)
            except np.linalg.LinAlgError:
                pass
            # backtracking keeps the iterate in the domain and the likelihood rising
            t = 1.0
            while t > 1e-12:
                new = theta + t * step
                if self.in_domain(new):
                    new_value = self.loglik(data, new)
                    if math.isfinite(new_value) and new_value >= value - 1e-12 * abs(value):
                        break
                t /= 2
            else:
                return theta, False
            theta, value = new, new_value
        return theta, False


# -------------------------------------------------------------- building
def family_model(ctx: SheetContext, name: str) -> FamilyModel:
    """The numeric model of the sheet's family ``name`` (built once per sheet).

    Raises ``SpecError`` with a field relative to the family
    (``("density",)``, ``("sample",)``, ``("theta",)`` …) so the sheet
    loader can point at ``families.<name>.<field>``.
    """
    # cached on the context: building solves the score equations, and every check shares it
    cache: dict[str, FamilyModel] = ctx.__dict__.setdefault("_family_models", {})
    if name not in cache:
        if name not in ctx.families:
            known = ", ".join(sorted(ctx.families)) or "none"
            raise SpecError(
                (), f"there is no family {name!r} in the sheet's `families:` (known: {known})"
            )
        cache[name] = build_family(ctx, name, ctx.families[name])
    return cache[name]


def check_family(ctx: SheetContext, name: str, field_name: str = "family") -> FamilyModel:
    """``family_model`` for a check: errors point at the check's ``family`` field."""
    try:
        return family_model(ctx, name)
    except SpecError as exc:
        where = ".".join(str(f) for f in ("families", name, *exc.field)) if exc.field else ""
        prefix = f"{where}: " if where else ""
        raise SpecError(field_name, f"{prefix}{exc}") from exc


def build_family(ctx: SheetContext, name: str, family: Family) -> FamilyModel:
    if not family.params:
        raise SpecError(("params",), "a family needs at least one parameter")
    if set(family.theta) != set(family.params):
        missing = sorted(set(family.params) - set(family.theta))
        extra = sorted(set(family.theta) - set(family.params))
        raise SpecError(
            ("theta",),
            "`theta` must give a range for each parameter"
            + (f"; missing {missing}" if missing else "")
            + (f"; not a parameter: {extra}" if extra else ""),
        )
    for pname, (lo, hi) in family.theta.items():
        dom = family.params[pname]
        if not (lo < hi) or not (in_domain(lo, dom) or in_domain(lo + 1e-12 * (hi - lo), dom)):
            raise SpecError(
                ("theta", pname), f"the range [{lo}, {hi}] is not inside the domain {dom}"
            )
    variable = sympy.Symbol(family.variable, real=True)
    params = tuple(symbol_for(p, d) for p, d in family.params.items())
    domains = tuple(family.params.values())
    local = {family.variable: variable, **{p.name: p for p in params}}
    density = ctx.parse(family.density, ("density",), extra=local)
    stray = {s.name for s in density.free_symbols} - set(local)
    if stray:
        raise SpecError(
            ("density",),
            f"the density uses {sorted(stray)}, which are neither the variable nor parameters",
        )
    sampler, sample_args = _parse_sample(ctx, family.sample, params)

    try:
        pdf = lambdify([variable, *params], density)
        log_density = cached(
            "estimation.log_density",
            [sympy.srepr(density)],
            lambda: sympy.expand(sympy.expand_log(sympy.log(density), force=True)),
            code=[__file__],
        )
        logpdf = lambdify([variable, *params], log_density)
    except Exception as exc:  # noqa: BLE001 - sympy raises anything on odd input
        raise SpecError(
            ("density",), f"the density cannot be evaluated numerically: {exc}"
        ) from exc
    model = FamilyModel(
        name,
        family,
        variable,
        params,
        domains,
        density,
        log_density,
        pdf,
        logpdf,
        sampler,
        sample_args,
    )
    _validate_numerics(model)
    _derive_mle(model)
    return model


def _parse_sample(
    ctx: SheetContext, text: str, params: tuple[sympy.Symbol, ...]
) -> tuple[str, Callable[..., Any]]:
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise SpecError(("sample",), f"{text!r} is not a call like `normal(mu, s)`") from exc
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name)) or tree.keywords:
        raise SpecError(
            ("sample",), f"{text!r} should be one call like `normal(mu, s)` without keywords"
        )
    if tree.func.id not in SAMPLERS:
        raise SpecError(
            ("sample",), f"{tree.func.id!r} is not a numpy Generator method the grader allows"
        )
    local = {p.name: p for p in params}
    args = [ctx.parse(ast.unparse(a), ("sample",), extra=local) for a in tree.args]
    stray = {s.name for a in args for s in a.free_symbols} - set(local)
    if stray:
        raise SpecError(("sample",), f"the sampler uses {sorted(stray)}, which are not parameters")
    return tree.func.id, lambdify(list(params), sympy.Tuple(*args) if args else sympy.Tuple())


def _validate_numerics(model: FamilyModel) -> None:
    """Draw from the family and make sure its density is positive and finite there."""
    rng = np.random.default_rng(12345)
    for _ in range(3):
        theta = model.random_theta(rng)
        try:
            data = model.sample(rng, theta, 20)
        except Exception as exc:  # noqa: BLE001
            raise SpecError(
                ("sample",),
                f"sampling failed at {dict(zip(model.param_names, theta, strict=True))}: {exc}",
            ) from exc
        try:
            p = model.pdf(data, theta)
        except Exception as exc:  # noqa: BLE001
            raise SpecError(("density",), f"the density cannot be evaluated: {exc}") from exc
        if p.shape != data.shape or not np.all(np.isfinite(p)) or np.any(p <= 0):
            raise SpecError(
                ("density",),
                "the density is not positive and finite on data drawn by `sample` "
                f"(theta = {dict(zip(model.param_names, theta, strict=True))})",
            )
        logp = model.logpdf(data, theta)
        if logp.shape != data.shape or not np.allclose(logp, np.log(p), rtol=1e-8, atol=1e-8):
            # the expanded log-density disagrees (a branch sympy expanded wrongly): use log(pdf)
            model.log_density = sympy.log(model.density)
            model._logpdf = lambdify([model.variable, *model.params], model.log_density)


def _derive_mle(model: FamilyModel) -> None:
    params = model.params
    x = model.variable
    # the symbolic work (diff, solve) is cached on disk; lambdifying is left to do
    derived = cached(
        "estimation.mle",
        _model_inputs(model),
        lambda: _mle_derivation(model.log_density, x, params),
        code=[__file__],
    )
    if derived["stats"] is None:
        return
    m, stats = _mle_symbols(len(derived["stats"]))
    for exprs in derived["solutions"]:
        model._closed.append(lambdify([m, *stats], sympy.Tuple(*exprs)))
        model.closed_form.append({p.name: str(e) for p, e in zip(params, exprs, strict=True)})
    model._stats = [lambdify([x], f) for f in derived["stats"]]


def _mle_symbols(k: int) -> tuple[sympy.Symbol, list[sympy.Symbol]]:
    """The sample size ``m`` and the sufficient statistics ``S0 … S{k-1}`` of the closed forms."""
    return sympy.Symbol("m", positive=True), [sympy.Symbol(f"S{i}", real=True) for i in range(k)]


def _model_inputs(model: FamilyModel) -> list[str]:
    """What the symbolic MLE work depends on, as text for the cache key."""
    return [
        sympy.srepr(model.log_density),
        sympy.srepr(model.variable),
        sympy.srepr(sympy.Tuple(*model.params)),
    ]


def _derivatives(
    log_density: sympy.Expr, params: tuple[sympy.Symbol, ...]
) -> tuple[list[sympy.Expr], list[list[sympy.Expr]]]:
    """The gradient and Hessian of the log-density, for Newton."""
    grad = [sympy.diff(log_density, p) for p in params]
    # DiracDelta (from Abs, Heaviside) is zero almost everywhere; numpy cannot evaluate it
    hess = [
        [sympy.diff(g, q).replace(sympy.DiracDelta, lambda *a: sympy.S.Zero) for q in params]
        for g in grad
    ]
    return grad, hess


def _mle_derivation(
    log_density: sympy.Expr, x: sympy.Symbol, params: tuple[sympy.Symbol, ...]
) -> dict[str, Any]:
    """The closed-form part of the MLE: the score equations solved in sufficient statistics.

    ``stats`` are the ``f_k`` of the sufficient split (None: no closed form, Newton's job);
    each of ``solutions`` gives every parameter in ``m`` and ``S0 … S{k-1}``.
    """
    out: dict[str, Any] = {"stats": None, "solutions": []}
    split = _sufficient_split(log_density, x, params)
    if split is None or len(params) > 3:
        return out
    m, stats = _mle_symbols(len(split))
    total = sympy.Add(
        *((m if _is_one(f) else s) * g for s, (f, g) in zip(stats, split, strict=True))
    )
    try:
        solutions = sympy.solve([sympy.diff(total, p) for p in params], list(params), dict=True)
    except Exception:  # noqa: BLE001 - solve gives up in many ways; Newton takes over
        return out
    for sol in solutions:
        if not all(p in sol for p in params):
            continue
        exprs = [sol[p] for p in params]
        if any(e.has(*params) for e in exprs):
            continue
        out["solutions"].append(exprs)
    out["stats"] = [f for f, _ in split]
    return out


def _is_one(f: sympy.Expr) -> bool:
    """``f == 1``; ``simplify`` only for constants that are not literally 1 (it is slow)."""
    if f == 1:
        return True
    return not f.free_symbols and sympy.simplify(f - 1) == 0


def _sufficient_split(
    log_density: sympy.Expr, x: sympy.Symbol, params: tuple[sympy.Symbol, ...]
) -> list[tuple[sympy.Expr, sympy.Expr]] | None:
    """``log p = sum_k f_k(x) g_k(theta) + c(x)`` as pairs ``(f_k, g_k)``, or None."""
    groups: dict[sympy.Expr, sympy.Expr] = {}
    for term in sympy.Add.make_args(log_density):
        indep, dep = term.as_independent(*params, as_Add=False)
        if dep.has(x):
            return None
        if dep == 1:
            continue  # theta-free: no part in the argmax
        coeff, xpart = indep.as_coeff_Mul()
        groups[xpart] = groups.get(xpart, sympy.Integer(0)) + coeff * dep
    return [(f, g) for f, g in groups.items() if g != 0] or None


def empirical(data: np.ndarray, support: Floats) -> np.ndarray:
    """The empirical distribution of ``data`` on ``support``."""
    data = np.asarray(data, dtype=float)
    counts = np.array([np.sum(data == s) for s in support], dtype=float)
    return counts / len(data)


def theta_grid(model: FamilyModel, param: str, points: int) -> np.ndarray:
    lo, hi = model.family.theta[param]
    return np.linspace(lo, hi, points)


def with_param(theta: Floats, index: int, value: float) -> tuple[float, ...]:
    out = list(theta)
    out[index] = float(value)
    return tuple(out)


def evaluate_expression(expr: sympy.Expr, names: Mapping[str, float]) -> float:
    """A sheet ``value:`` expression at the given names (missing names make it NaN)."""
    subs = {s: names[s.name] for s in expr.free_symbols if s.name in names}
    if len(subs) != len(expr.free_symbols):
        return math.nan
    try:
        value = complex(sympy.N(expr.subs(subs), 20))
    except (TypeError, ValueError):
        return math.nan
    return value.real if abs(value.imag) <= 1e-12 * max(1.0, abs(value.real)) else math.nan
