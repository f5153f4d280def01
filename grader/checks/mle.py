"""Kind ``mle``: a maximum likelihood estimator, e.g. ``mle_gaussian(X) -> (mu, var)``.

The hand-in gets data drawn from the sheet family ``family`` with a random
theta, for every size in ``sizes`` (small sizes first: at m = 2 or 3,
dividing by m or by m - 1 differs a lot). It returns one item per entry of
``returns``, each an expression in the family parameters (``mu``,
``s**2``), evaluated at the maximum likelihood estimate. The reference MLE
comes from ``grader.solver.estimation`` (sympy's closed form of the score
equations where it finds one, else Newton), never from the sheet; by the
invariance of the MLE, ``s**2`` at the MLE of ``s`` is the MLE of the
variance.

A list, tuple or array of the right length is accepted; with one entry in
``returns`` a plain number is too.

Sheet mistakes use ``value:``, an expression in ``ref`` (the reference value
of that item), ``m`` (the sample size) and the family parameters at the MLE;
``output:`` says which item (0-based) it is about, e.g.
``{output: 1, value: "ref * m/(m - 1)", message: ...}``. Built-in mistakes:
``sqrt`` (an item that is a square, returned as its square root: the
standard deviation for the variance) and ``order`` (the items swapped).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

import numpy as np
import sympy
from pydantic import Field

from grader.checks.answers import WrongType, as_sequence
from grader.checks.base import Check, Trial, describe_error, fmt
from grader.checks.likelihood import (
    Builtin,
    Part,
    Verdict,
    candidates,
    judge_item,
    parse_sheet_mistakes,
    summarise,
    theta_text,
)
from grader.results import CheckResult
from grader.sandbox.protocol import Outcome, Probe
from grader.sheet.common import CheckSpec
from grader.sheet.context import SpecError
from grader.solver.estimation import FamilyModel, check_family, lambdify


class MleSpec(CheckSpec):
    kind: Literal["mle"]
    #: the sheet family the data come from
    family: str
    #: what each returned item is, an expression in the family parameters
    returns: Annotated[list[str], Field(min_length=1)]
    #: sample sizes, one data set each
    sizes: list[Annotated[int, Field(ge=1, le=20000)]] = [2, 3, 10, 50]
    rtol: Annotated[float, Field(gt=0, lt=1)] = 1e-6
    atol: Annotated[float, Field(ge=0)] = 1e-9


def _root_of_ref(i: int) -> Callable[[Mapping[str, Any]], Any]:
    """The square root of reference item ``i``."""
    return lambda n: np.sqrt(n["refs"][i])


def _next_ref(i: int) -> Callable[[Mapping[str, Any]], Any]:
    """The reference item after ``i`` (cyclically): the items in the wrong order."""
    return lambda n: n["refs"][(i + 1) % len(n["refs"])]


class MleCheck(Check[MleSpec]):
    kind = "mle"
    Spec = MleSpec

    def prepare(self) -> None:
        spec = self.spec
        self.model = check_family(self.ctx, spec.family)
        params = {p.name: p for p in self.model.params}
        self.returns: list[sympy.Expr] = []
        for i, text in enumerate(spec.returns):
            expr = self.ctx.parse(text, ("returns", i), extra=params)
            unknown = sorted(s.name for s in expr.free_symbols if s.name not in params)
            if unknown:
                raise SpecError(
                    ("returns", i),
                    f"{', '.join(unknown)} is not a parameter of family {spec.family!r} "
                    f"({', '.join(params)})",
                )
            self.returns.append(expr)
        self.evaluate = [lambdify(list(self.model.params), e) for e in self.returns]
        # a size without an MLE inside the domain (one Gaussian sample: s = 0) cannot be graded
        probe_rng = np.random.default_rng(0)
        for k, m in enumerate(spec.sizes):
            try:
                _draw(self.model, probe_rng, m)
            except RuntimeError as exc:
                raise SpecError(
                    ("sizes", k), f"{m} samples of {spec.family!r} have no MLE inside its domain"
                ) from exc
        self.names = ("ref", "m", *params)
        self.builtins = self._builtins()
        self.sheet_mistakes = parse_sheet_mistakes(
            self.ctx,
            spec.mistakes,
            self.names,
            [b.key for b in self.builtins],
            n_outputs=len(self.returns),
        )

    def _builtins(self) -> list[Builtin]:
        out: list[Builtin] = []
        for i, expr in enumerate(self.returns):
            if isinstance(expr, sympy.Pow) and expr.exp == 2:
                out.append(
                    Builtin(
                        "sqrt",
                        f"Item {i + 1} of your answer should be {self.spec.returns[i]}, but it is "
                        "its square root: the standard deviation instead of the variance?",
                        _root_of_ref(i),
                        output=i,
                    )
                )
        if len(self.returns) > 1:
            order = ", ".join(self.spec.returns)
            for i in range(len(self.returns)):
                out.append(
                    Builtin(
                        "order",
                        f"Your items are in the wrong order: return ({order}).",
                        _next_ref(i),
                        output=i,
                    )
                )
        return out

    def trial(self, rng: np.random.Generator) -> Trial:
        model = self.model
        cases: list[tuple[tuple[float, ...], np.ndarray, Probe]] = []
        for k, m in enumerate(self.spec.sizes):
            theta, data = _draw(model, rng, m)
            cases.append((theta, data, self.probe(f"data{k}", args=(data,))))

        def judge(outcomes: Mapping[str, Outcome]) -> CheckResult:
            verdicts: list[Verdict] = []
            for theta, data, probe in cases:
                verdicts.extend(self._judge_case(theta, data, outcomes.get(probe.id)))
            success = (
                f"Your estimates are the maximum likelihood estimates on {len(cases)} data sets "
                f"(m = {', '.join(str(len(d)) for _, d, _ in cases)})."
            )
            return summarise(self, [Part(1.0, "Estimates", verdicts, success)])

        return Trial(tuple(p for _, _, p in cases), judge)

    def _judge_case(
        self, theta: tuple[float, ...], data: np.ndarray, outcome: Outcome | None
    ) -> list[Verdict]:
        model = self.model
        mle = model.mle(data)
        refs = [float(f(*mle)) for f in self.evaluate]
        n_out = len(refs)
        label = f"{model.name} data, m = {len(data)}"
        what = f"`{self.spec.name}`"
        if outcome is None or outcome.error is not None:
            err = outcome.error if outcome is not None else None
            note = describe_error(self.spec.name, err) if err is not None else "no answer"
            error = err.kind if err is not None else "sandbox"
            keep = error if error not in ("missing", "not_callable", "bad_value") else None
            return [Verdict(False, label, fmt(tuple(refs)), note=note, error=keep)] * n_out
        value = outcome.value
        try:
            items = (
                [value]
                if n_out == 1 and not isinstance(value, (list, tuple, np.ndarray))
                else as_sequence(value, f"the answer of {what}", n_out)
            )
        except WrongType as exc:
            text = str(exc)
            note = text[:1].upper() + text[1:] + f": return ({', '.join(self.spec.returns)})."
            return [Verdict(False, label, fmt(tuple(refs)), note=note)] * n_out
        verdicts = []
        for i, (item, ref) in enumerate(zip(items, refs, strict=True)):
            names: dict[str, Any] = {
                "ref": ref,
                "m": float(len(data)),
                "refs": refs,
                **dict(zip(model.param_names, mle, strict=True)),
            }
            cands = candidates(self, self.builtins, self.sheet_mistakes, names, self.names)
            cands = [c for c in cands if c.output in (None, i)]
            item_label = f"{label}, item {i + 1} ({self.spec.returns[i]})"
            verdicts.append(
                judge_item(
                    item,
                    ref,
                    item_label,
                    f"item {i + 1} of the answer",
                    cands,
                    rtol=self.spec.rtol,
                    atol=self.spec.atol,
                    output=i,
                )
            )
        if not all(v.ok for v in verdicts):
            for v in verdicts:
                v.label += f" (data drawn with {theta_text(model, theta)})"
        return verdicts


def _draw(
    model: FamilyModel, rng: np.random.Generator, m: int
) -> tuple[tuple[float, ...], np.ndarray]:
    """Data with an MLE inside the domain (redrawn when, e.g., all Bernoulli draws agree)."""
    for _ in range(20):
        theta = model.random_theta(rng)
        data = model.sample(rng, theta, m)
        if model.family.discrete and m > 1 and len(np.unique(data)) < 2:
            continue
        try:
            model.mle(data)
        except ValueError:
            continue
        return theta, data
    raise RuntimeError(f"could not draw a data set with an MLE for family {model.name!r}")
