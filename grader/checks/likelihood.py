"""Kind ``likelihood``: ``likelihood(p_model, X, theta)`` and ``mean_log_likelihood``.

The hand-in gets a real density ``p_model(x, theta)`` (a ``Density`` probe
argument built from the family's sympy expression), data drawn from that
family with a random theta, and theta itself (a number for one-parameter
families, a tuple otherwise). It must return

- ``reduce: product``: the likelihood ``prod_i p_model(x_i, theta)``, on
  small samples so that the product is representable;
- ``reduce: mean_log``: ``(1/m) sum_i log p_model(x_i, theta)``, including a
  sample large enough that the product underflows (so ``log(prod(...))``
  shows up as the mistake it is).

Values are compared with a relative tolerance. Optionally (by default for
``mean_log``) the answer is evaluated on a grid of one parameter and its
argmax must be the maximum likelihood estimate, which is in the grid.

Sheet mistakes use ``value:``, an expression in these names (per data set):
``ref`` (the reference answer), ``m`` (sample size), ``log_ref``,
``likelihood`` (prod p), ``sum_log`` (sum log p), ``mean_log``, ``sum_p``,
``mean_p``, ``p_first``, ``p_last``, ``log_p_first``, ``log_p_last``.
A sheet mistake whose ``key`` is a built-in key (``sum_not_mean`` …)
replaces that built-in's message (and value, if it gives one).

This module also holds the small judging toolkit that ``mle`` and
``divergence`` share (candidates, verdicts, summaries).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import numpy as np
import sympy
from pydantic import Field

from grader.checks.answers import WrongType, as_array, as_float
from grader.checks.base import Check, Trial, describe_error, fmt
from grader.results import CheckResult, Mistake
from grader.sandbox.protocol import Outcome, Probe
from grader.sheet.common import CheckSpec
from grader.sheet.common import Mistake as MistakeSpec
from grader.sheet.context import SheetContext, SpecError
from grader.solver.estimation import FamilyModel, check_family, lambdify, with_param

# ======================================================================
# Shared toolkit (also used by grader.checks.mle and grader.checks.divergence)
# ======================================================================


@dataclass(frozen=True)
class Builtin:
    """A built-in mistake: its key, message and how its value is computed."""

    key: str
    message: str
    value: Callable[[Mapping[str, Any]], Any]
    #: which returned item it is about (None: the whole answer / any)
    output: int | None = None


@dataclass(frozen=True)
class Candidate:
    """A recognisable wrong answer on one case."""

    mistake: Mistake
    value: Any
    output: int | None = None
    from_sheet: bool = False


@dataclass
class Verdict:
    """The judgement of one value (one case, one returned item)."""

    ok: bool
    label: str
    expected: Any = None
    given: Any = None
    #: why it is wrong when no value could be compared (wrong type, crash)
    note: str = ""
    matched: list[Candidate] = field(default_factory=list)
    error: str | None = None


@dataclass
class Part:
    """A sub-check: its share of the points and its verdicts."""

    weight: float
    title: str
    verdicts: list[Verdict]
    #: said when every verdict is right
    success: str = ""


def close(given: Any, expected: Any, rtol: float, atol: float) -> bool:
    """Equal within tolerance; infinities must match exactly, NaN never matches."""
    try:
        g = np.asarray(given, dtype=float)
        e = np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return False
    if g.shape != e.shape:
        return False
    if np.any(np.isnan(g)) or np.any(np.isnan(e)):
        return False
    inf = np.isinf(e) | np.isinf(g)
    if np.any(inf) and not np.array_equal(g[inf], e[inf]):
        return False
    fin = ~inf
    return bool(np.all(np.abs(g[fin] - e[fin]) <= atol + rtol * np.abs(e[fin])))


def parse_sheet_mistakes(
    ctx: SheetContext,
    mistakes: Sequence[MistakeSpec],
    names: Sequence[str],
    builtin_keys: Sequence[str],
    n_outputs: int = 1,
) -> list[tuple[int, MistakeSpec, Callable[..., Any] | None]]:
    """The sheet's ``value:`` mistakes, compiled to functions of ``names``.

    Mistakes that only override a built-in's message come back with ``None``.
    """
    out: list[tuple[int, MistakeSpec, Callable[..., Any] | None]] = []
    symbols = {n: sympy.Symbol(n, real=True) for n in names}
    for i, spec in enumerate(mistakes):
        if spec.output is not None and not 0 <= spec.output < n_outputs:
            raise SpecError(
                ("mistakes", i, "output"),
                f"output {spec.output} is not an item of the answer (0…{n_outputs - 1})",
            )
        if spec.value is None:
            if _builtin_key(spec.key) not in builtin_keys:
                raise SpecError(
                    ("mistakes", i),
                    "this check kind recognises mistakes by `value:`, an expression in "
                    f"{', '.join(names)}; or give the `key` of a built-in mistake "
                    f"({', '.join(builtin_keys)}) to change its message",
                )
            out.append((i, spec, None))
            continue
        expr = ctx.parse(spec.value, ("mistakes", i, "value"), extra=symbols)
        unknown = sorted(s.name for s in expr.free_symbols if s.name not in symbols)
        if unknown:
            raise SpecError(
                ("mistakes", i, "value"),
                f"unknown name(s) {', '.join(unknown)}; a value may use {', '.join(names)}",
            )
        fn = lambdify([symbols[n] for n in names], expr)
        out.append((i, spec, fn))
    return out


def _builtin_key(key: str | None) -> str:
    return (key or "").split(":")[-1]


def candidates(
    check: Check[Any],
    builtins: Sequence[Builtin],
    sheet: Sequence[tuple[int, MistakeSpec, Callable[..., Any] | None]],
    names: Mapping[str, Any],
    order: Sequence[str],
) -> list[Candidate]:
    """Every mistake's value on one case (sheet mistakes first: they are more specific)."""
    overrides = {_builtin_key(spec.key): (i, spec, fn) for i, spec, fn in sheet if spec.key}
    out: list[Candidate] = []
    for i, spec, fn in sheet:
        if fn is None or _builtin_key(spec.key) in {b.key for b in builtins}:
            continue
        out.append(Candidate(check.mistake(i), _call(fn, names, order), spec.output, True))
    for b in builtins:
        override = overrides.get(b.key)
        if override is not None:
            i, spec, fn = override
            value = _call(fn, names, order) if fn is not None else _safe(b.value, names)
            mistake = Mistake(spec.key or f"{check.kind}:{b.key}", spec.message)
            out.append(
                Candidate(mistake, value, b.output if spec.output is None else spec.output, True)
            )
        else:
            out.append(
                Candidate(
                    Mistake(f"{check.kind}:{b.key}", b.message), _safe(b.value, names), b.output
                )
            )
    return out


def _call(fn: Callable[..., Any], names: Mapping[str, Any], order: Sequence[str]) -> Any:
    with np.errstate(all="ignore"):
        try:
            return fn(*(names[n] for n in order))
        except Exception:  # noqa: BLE001 - a sheet formula undefined on this case
            return math.nan


def _safe(fn: Callable[[Mapping[str, Any]], Any], names: Mapping[str, Any]) -> Any:
    with np.errstate(all="ignore"):
        try:
            return fn(names)
        except Exception:  # noqa: BLE001
            return math.nan


def judge_value(
    outcome: Outcome | None,
    expected: Any,
    label: str,
    what: str,
    cands: Sequence[Candidate],
    *,
    rtol: float,
    atol: float,
) -> Verdict:
    """Compare one answer with the reference (errors and wrong types included)."""
    if outcome is None:
        return Verdict(
            False, label, expected, note=f"{what}: no answer was received", error="sandbox"
        )
    if outcome.error is not None:
        err = outcome.error
        kind = err.kind if err.kind not in ("missing", "not_callable", "bad_value") else None
        return Verdict(
            False, label, expected, note=describe_error(what.strip("`"), err), error=kind
        )
    return judge_item(outcome.value, expected, label, what, cands, rtol=rtol, atol=atol)


def judge_item(
    value: Any,
    expected: Any,
    label: str,
    what: str,
    cands: Sequence[Candidate],
    *,
    rtol: float,
    atol: float,
    output: int | None = None,
) -> Verdict:
    """Compare one decoded value (an answer, or an item of it) with the reference number."""
    try:
        given = as_float(value, what)
    except WrongType as exc:
        matched = [c for c in cands if _matches_array(value, c)]
        text = str(exc)
        return Verdict(
            False, label, expected, note=text[:1].upper() + text[1:] + ".", matched=matched
        )
    if close(given, expected, rtol, atol):
        return Verdict(True, label, expected, given)
    matched = [
        c
        for c in cands
        if (c.output is None or output is None or c.output == output)
        and close(given, c.value, rtol, atol)
        and not close(c.value, expected, rtol, atol)
    ]
    return Verdict(False, label, expected, given, matched=matched)


def _matches_array(value: Any, cand: Candidate) -> bool:
    """A candidate that is an array (one value per sample) against a non-number answer."""
    if np.ndim(cand.value) == 0:
        return False
    try:
        arr = as_array(value)
    except WrongType:
        return False
    return close(arr.reshape(-1), np.asarray(cand.value, dtype=float).reshape(-1), 1e-6, 1e-12)


def summarise(check: Check[Any], parts: Sequence[Part], *, method: str = "numeric") -> CheckResult:
    """One ``CheckResult`` from weighted sub-checks: points, feedback, named mistakes."""
    total = sum(p.weight for p in parts if p.verdicts) or 1.0
    fraction = float(
        sum(p.weight * sum(v.ok for v in p.verdicts) / len(p.verdicts) for p in parts if p.verdicts)
        / total
    )
    feedback: list[str] = []
    expected = given = None
    named: dict[str, Mistake] = {}
    # the hand-in crashed or hit a limit somewhere in this check (a timeout, an exception)
    errors = [v.error for p in parts for v in p.verdicts if v.error]
    for part in parts:
        wrong = [v for v in part.verdicts if not v.ok]
        if not part.verdicts:
            continue
        if not wrong:
            if part.success:
                feedback.append(part.success)
            continue
        first = wrong[0]
        if first.note:
            feedback.append(f"{part.title}: {first.label}: {first.note}")
        else:
            feedback.append(
                f"{part.title}: {first.label}: expected {fmt(first.expected)}, "
                f"yours gave {fmt(first.given)}."
            )
            if expected is None:
                expected, given = fmt(first.expected), fmt(first.given)
        if len(wrong) > 1:
            feedback.append(f"{part.title}: wrong in {len(wrong)} of {len(part.verdicts)} cases.")
        for cand in _named(wrong):
            named.setdefault(cand.mistake.key, cand.mistake)
    feedback.extend(m.message for m in named.values())
    return check.result(
        fraction=fraction,
        feedback=list(dict.fromkeys(feedback)),
        method=method,
        expected=expected,
        given=given,
        mistakes=list(named.values()),
        error=errors[0] if errors else None,
    )


def _named(wrong: Sequence[Verdict]) -> list[Candidate]:
    """Every mistake that explains a wrong case, most frequent first.

    On a case a sheet mistake explains, built-ins with the same value are
    dropped: the sheet's message is the more specific one.
    """
    counts: dict[str, int] = {}
    by_key: dict[str, Candidate] = {}
    for v in wrong:
        matched = v.matched
        if any(c.from_sheet for c in matched):
            matched = [c for c in matched if c.from_sheet]
        for c in {c.mistake.key: c for c in matched}.values():
            counts[c.mistake.key] = counts.get(c.mistake.key, 0) + 1
            by_key.setdefault(c.mistake.key, c)
    return [by_key[k] for k in sorted(counts, key=lambda k: -counts[k])]


def outcome_of(outcomes: Mapping[str, Outcome], probe: Probe) -> Outcome | None:
    return outcomes.get(probe.id)


def theta_text(model: FamilyModel, theta: Sequence[float]) -> str:
    return ", ".join(
        f"{n} = {fmt(float(t), 4)}" for n, t in zip(model.param_names, theta, strict=True)
    )


def grid_with(lo: float, hi: float, points: int, extra: float) -> np.ndarray:
    """An even grid over [lo, hi] that also holds ``extra`` (the MLE) exactly."""
    return np.unique(np.append(np.linspace(lo, hi, points), extra))


# ======================================================================
# The likelihood kind
# ======================================================================


class LikelihoodSpec(CheckSpec):
    kind: Literal["likelihood"]
    #: what the function returns: the product of the densities, or the mean log-density
    reduce: Literal["product", "mean_log"] = "product"
    #: the sheet families data are drawn from (default: every family of the sheet)
    families: list[str] = []
    #: sample sizes, paired with the families in turn; default [3, 8, 5, 12] for product,
    #: [5, 40, 3, 2000] for mean_log (2000: the product underflows)
    sizes: list[Annotated[int, Field(ge=1, le=20000)]] = []
    rtol: Annotated[float, Field(gt=0, lt=1)] = 1e-6
    atol: Annotated[float, Field(ge=0)] = 1e-12
    #: check that the argmax over a theta grid is the MLE (default: only for mean_log)
    argmax: bool | None = None
    #: family and parameter of that grid (default: the first family, its first parameter)
    argmax_family: str | None = None
    argmax_param: str | None = None
    grid: Annotated[int, Field(ge=5, le=201)] = 41
    #: sample size of the argmax data set
    argmax_size: Annotated[int, Field(ge=2, le=5000)] = 30
    #: share of the points for the argmax property
    argmax_weight: Annotated[float, Field(ge=0, le=1)] = 0.25


MISTAKE_NAMES = (
    "ref",
    "m",
    "log_ref",
    "likelihood",
    "sum_log",
    "mean_log",
    "sum_p",
    "mean_p",
    "p_first",
    "p_last",
    "log_p_first",
    "log_p_last",
)

# the seed hand-in's mistake: Σ_{m=1}^{m} log p(x^(m)) uses x^(m) in every term
_SEED_LAST = (
    "Every {what} of your {op} uses the last sample x^(m): the {op} runs over i = 1..m "
    "with x^(i), not over \u201cm = 1..m\u201d."
)

PRODUCT_MISTAKES = (
    Builtin(
        "log_likelihood",
        "You returned the log-likelihood \u03a3 log p(x_i; \u03b8); "
        "`likelihood` is the product \u03a0 p(x_i; \u03b8) itself.",
        lambda n: n["sum_log"],
    ),
    Builtin(
        "mean_log",
        "You returned the mean log-likelihood; `likelihood` is the product \u03a0 p(x_i; \u03b8).",
        lambda n: n["mean_log"],
    ),
    Builtin(
        "sum_p",
        "You added the densities; the likelihood multiplies them: \u03a0 p(x_i; \u03b8).",
        lambda n: n["sum_p"],
    ),
    Builtin(
        "mean_p",
        "You averaged the densities; the likelihood is their product.",
        lambda n: n["mean_p"],
    ),
    Builtin(
        "last_sample",
        _SEED_LAST.format(what="factor", op="product"),
        lambda n: n["p_last"] ** n["m"],
    ),
    Builtin(
        "only_last",
        "Only the last sample enters your answer; the product runs over all samples.",
        lambda n: n["p_last"],
    ),
    Builtin(
        "only_first",
        "Only the first sample enters your answer; the product runs over all samples.",
        lambda n: n["p_first"],
    ),
    Builtin(
        "per_sample",
        "You returned one density per sample; multiply them into one number.",
        lambda n: n["p"],
    ),
)

MEAN_LOG_MISTAKES = (
    Builtin(
        "sum_not_mean",
        "You return the sum \u03a3 log p(x_i; \u03b8) (the log of the product); "
        "the mean log-likelihood divides it by m: (1/m)\u00b7\u03a3\u2026",
        lambda n: n["sum_log"],
    ),
    Builtin(
        "negative",
        "You return the negative log-likelihood (a loss); the mean log-likelihood "
        "is (1/m)\u00b7\u03a3 log p(x_i; \u03b8), without the minus.",
        lambda n: -n["mean_log"],
    ),
    Builtin(
        "product_of_log",
        "You multiply the logs; the mean log-likelihood adds them and divides by m.",
        lambda n: n["prod_log"],
    ),
    Builtin(
        "forgot_log",
        "You average p(x_i; \u03b8) itself: take the log of each term first.",
        lambda n: n["mean_p"],
    ),
    Builtin(
        "log_of_mean",
        "You take the log of the mean of the densities; it is the mean of their logs.",
        lambda n: np.log(n["mean_p"]),
    ),
    Builtin(
        "likelihood",
        "You return the likelihood \u03a0 p(x_i; \u03b8); take the mean of the logs instead.",
        lambda n: n["likelihood"],
    ),
    Builtin("last_sample", _SEED_LAST.format(what="term", op="sum"), lambda n: n["log_p_last"]),
    Builtin(
        "only_first",
        "Only the first sample enters your answer; average over all samples.",
        lambda n: n["log_p_first"],
    ),
    Builtin(
        "per_sample",
        "You return one log-density per sample: average them over the samples "
        "(a reduction over the wrong axis, or none?).",
        lambda n: n["log_p"],
    ),
    Builtin(
        "underflow",
        "For many samples the product of the densities underflows to 0 and its "
        "log is -inf: add the logs instead of taking the log of the product.",
        lambda n: -math.inf,
    ),
)


@dataclass(frozen=True)
class _Case:
    model: FamilyModel
    theta: tuple[float, ...]
    data: np.ndarray
    probe: Probe


class LikelihoodCheck(Check[LikelihoodSpec]):
    kind = "likelihood"
    Spec = LikelihoodSpec

    def prepare(self) -> None:
        spec = self.spec
        names = spec.families or list(self.ctx.families)
        if not names:
            raise SpecError("families", "the sheet defines no `families:` to draw data from")
        self.models = [check_family(self.ctx, n, "families") for n in names]
        product = spec.reduce == "product"
        self.sizes = spec.sizes or ([3, 8, 5, 12] if product else [5, 40, 3, 2000])
        self.builtins = PRODUCT_MISTAKES if product else MEAN_LOG_MISTAKES
        self.sheet_mistakes = parse_sheet_mistakes(
            self.ctx, spec.mistakes, MISTAKE_NAMES, [b.key for b in self.builtins]
        )
        self.do_argmax = (not product) if spec.argmax is None else spec.argmax
        self.argmax_model: FamilyModel | None = None
        if self.do_argmax:
            fam = spec.argmax_family or names[0]
            self.argmax_model = check_family(self.ctx, fam, "argmax_family")
            param = spec.argmax_param or self.argmax_model.param_names[0]
            if param not in self.argmax_model.param_names:
                raise SpecError(
                    "argmax_param",
                    f"{param!r} is not a parameter of family {fam!r} "
                    f"({', '.join(self.argmax_model.param_names)})",
                )
            self.argmax_index = self.argmax_model.param_names.index(param)

    # -------------------------------------------------------------- trial
    def reference(self, model: FamilyModel, data: np.ndarray, theta: Sequence[float]) -> float:
        logp = model.logpdf(data, theta)
        total = float(np.sum(logp))
        return math.exp(total) if self.spec.reduce == "product" else total / len(data)

    def trial(self, rng: np.random.Generator) -> Trial:
        n = max(len(self.models), len(self.sizes))
        cases: list[_Case] = []
        for i in range(n):
            fam = self.models[i % len(self.models)]
            m = self.sizes[i % len(self.sizes)]
            theta = fam.random_theta(rng)
            data = fam.sample(rng, theta, m)
            args = (fam.density_arg(), data, fam.theta_arg(theta))
            cases.append(_Case(fam, theta, data, self.probe(f"value{i}", args=args)))
        grid_probes: list[Probe] = []
        grid = np.empty(0)
        grid_data = np.empty(0)
        grid_mle: tuple[float, ...] = ()
        model = self.argmax_model
        if model is not None:
            grid_data, grid_mle = _nondegenerate(model, rng, self.spec.argmax_size)
            lo, hi = model.family.theta[model.param_names[self.argmax_index]]
            grid = grid_with(lo, hi, self.spec.grid, grid_mle[self.argmax_index])
            for k, t in enumerate(grid):
                theta = with_param(grid_mle, self.argmax_index, t)
                args = (model.density_arg(), grid_data, model.theta_arg(theta))
                grid_probes.append(self.probe(f"grid{k}", args=args))
            # Two points a hair either side of the MLE: a function maximised elsewhere (at one
            # sample, say) can still peak at the grid point nearest the MLE; it cannot have a
            # local maximum exactly at the MLE.
            step = self._local_step(model, grid_data, grid_mle, (hi - lo) / max(self.spec.grid, 2))
            for side, sign in (("below", -1.0), ("above", 1.0)):
                near = grid_mle[self.argmax_index] + sign * step
                theta = with_param(grid_mle, self.argmax_index, near)
                args = (model.density_arg(), grid_data, model.theta_arg(theta))
                grid_probes.append(self.probe(f"local-{side}", args=args))
        probes = tuple(c.probe for c in cases) + tuple(grid_probes)

        def judge(outcomes: Mapping[str, Outcome]) -> CheckResult:
            verdicts = [self._judge_case(c, outcomes.get(c.probe.id)) for c in cases]
            what = "the likelihood" if self.spec.reduce == "product" else "the mean log-likelihood"
            # argmax_weight is a share of the check's points; the values get the rest
            share = 1.0 - self.spec.argmax_weight if model is not None else 1.0
            success = f"Correct values of {what} on {len(cases)} data sets."
            parts = [Part(share, "Values", verdicts, success)]
            if model is not None:
                parts.append(
                    self._judge_argmax(model, grid, grid_data, grid_mle, grid_probes, outcomes)
                )
            return summarise(self, parts)

        return Trial(probes, judge)

    def _judge_case(self, case: _Case, outcome: Outcome | None) -> Verdict:
        model, data, theta = case.model, case.data, case.theta
        ref = self.reference(model, data, theta)
        logp = model.logpdf(data, theta)
        with np.errstate(all="ignore"):
            names: dict[str, Any] = {
                "ref": ref,
                "m": float(len(data)),
                "log_ref": math.log(ref) if ref > 0 else -math.inf,
                "sum_log": float(np.sum(logp)),
                "mean_log": float(np.mean(logp)),
                "likelihood": float(np.exp(np.sum(logp))),
                "sum_p": float(np.sum(np.exp(logp))),
                "mean_p": float(np.mean(np.exp(logp))),
                "p_first": float(np.exp(logp[0])),
                "p_last": float(np.exp(logp[-1])),
                "log_p_first": float(logp[0]),
                "log_p_last": float(logp[-1]),
                "prod_log": float(np.prod(logp)),
                "log_p": logp,
                "p": np.exp(logp),
            }
        cands = candidates(self, self.builtins, self.sheet_mistakes, names, MISTAKE_NAMES)
        if not (self.spec.reduce == "mean_log" and names["sum_log"] < -700):
            # the underflow mistake only exists where the product really underflows
            cands = [c for c in cands if not c.mistake.key.endswith(":underflow")]
        label = f"{model.name} data (m = {len(data)}, {theta_text(model, theta)})"
        verdict = judge_value(
            outcome,
            ref,
            label,
            f"`{self.spec.name}`",
            cands,
            rtol=self.spec.rtol,
            atol=self.spec.atol,
        )
        if not verdict.ok and not verdict.matched and verdict.given is not None:
            if not np.isfinite(verdict.given) and np.isfinite(ref) and names["sum_log"] < -700:
                verdict.matched = [c for c in cands if c.mistake.key.endswith(":underflow")]
        return verdict

    def _local_step(
        self, model: FamilyModel, data: np.ndarray, mle: tuple[float, ...], spacing: float
    ) -> float:
        """The smallest step beside the MLE where the reference dips by 10x the tolerance.

        A right answer, computed to the precision the value check accepts (rtol), then always
        peaks at the MLE, while one that peaks elsewhere is caught unless its peak is within a
        step of the MLE.
        """
        j = self.argmax_index
        top = self.reference(model, data, mle)
        wanted = 10 * self.spec.rtol * (1 + abs(top))
        step = spacing * 1e-6
        while step < spacing / 2:
            dips = [
                top - self.reference(model, data, with_param(mle, j, mle[j] + sign * step))
                for sign in (-1.0, 1.0)
            ]
            if min(dips) >= wanted:
                return step
            step *= 2
        return spacing / 2

    def _judge_argmax(
        self,
        model: FamilyModel,
        grid: np.ndarray,
        data: np.ndarray,
        mle: tuple[float, ...],
        probes: Sequence[Probe],
        outcomes: Mapping[str, Outcome],
    ) -> Part:
        j = self.argmax_index
        pname = model.param_names[j]
        ref = np.array([self.reference(model, data, with_param(mle, j, t)) for t in grid])
        title = f"Argmax over {pname}"
        label = f"{model.name} data (m = {len(data)}), {pname} on a grid of {len(grid)} points"
        given = np.full(len(probes), np.nan)
        for k, probe in enumerate(probes):
            out = outcomes.get(probe.id)
            if out is None or out.error is not None:
                note = (
                    describe_error(self.spec.name, out.error) if out and out.error else "no answer"
                )
                return Part(self.spec.argmax_weight, title, [Verdict(False, label, note=note)])
            try:
                given[k] = as_float(out.value, f"`{self.spec.name}`")
            except WrongType as exc:
                return Part(self.spec.argmax_weight, title, [Verdict(False, label, note=f"{exc}.")])
        best = int(np.argmax(ref))
        mle_text = fmt(float(mle[j]))
        success = (
            f"The argmax of your `{self.spec.name}` over {pname} is the maximum likelihood "
            f"estimate {pname} = {mle_text}."
        )
        if np.all(np.isnan(given)):
            return Part(
                self.spec.argmax_weight, title, [Verdict(False, label, note="only NaN came back.")]
            )
        on_grid, local = given[: len(grid)], given[len(grid) :]
        mine = int(np.nanargmax(np.where(np.isnan(on_grid), -np.inf, on_grid)))
        ok = ref[mine] >= ref[best] - 1e-9 * (1 + abs(ref[best]))
        at_mle = on_grid[int(np.argmin(np.abs(grid - mle[j])))]
        # the reference dips by 10x this at the step (see _local_step)
        peak = bool(np.all(at_mle >= local - self.spec.rtol * (1 + abs(at_mle))))
        note = ""
        if not ok:
            note = (
                f"your function is largest at {pname} = {fmt(float(grid[mine]))}, but the maximum "
                f"likelihood estimate is {pname} = {mle_text}: maximising it must give the MLE."
            )
        elif not peak:
            note = (
                f"your function still grows just beside {pname} = {mle_text}, the maximum "
                "likelihood estimate: its maximum is somewhere else, so maximising it does not "
                "give the MLE."
            )
        if not ok:
            given_text = f"{pname} = {fmt(float(grid[mine]))}"
        else:
            given_text = f"{pname} = {mle_text}" if peak else "a maximum elsewhere"
        verdict = Verdict(
            ok and peak, label, expected=f"{pname} = {mle_text}", given=given_text, note=note
        )
        return Part(self.spec.argmax_weight, title, [verdict], success)


def _nondegenerate(
    model: FamilyModel, rng: np.random.Generator, m: int
) -> tuple[np.ndarray, tuple[float, ...]]:
    """A data set whose MLE lies inside the parameter domain (not all-zero Bernoulli data)."""
    for _ in range(20):
        theta = model.random_theta(rng)
        data = model.sample(rng, theta, m)
        if model.family.discrete and len(np.unique(data)) < 2:
            continue  # e.g. all-zero Bernoulli data: the MLE sits on the boundary
        try:
            mle = model.mle(data)
        except ValueError:
            continue
        return data, mle
    raise RuntimeError(f"could not draw a data set with an MLE for family {model.name!r}")
