"""Kind ``divergence``: ``cross_entropy(p, q)`` or ``kl_divergence(p, q)`` on probability vectors.

Three sub-checks share the points:

``values`` (``values_weight``)
    random Dirichlet vectors of several lengths; some ``p`` have zeros
    (0 log 0 = 0 by convention), one case has ``q == p``. The reference is
    H(p, q) = -sum_{p_i > 0} p_i log q_i, or KL(p || q) = sum_{p_i > 0} p_i log(p_i / q_i),
    natural logarithm.
``properties`` (``properties_weight``), computed from the student's own functions
    for ``kl``: KL(p || q) = H(p, q) - H(p) with H(p) = H(p, p) from the
    hand-in's ``cross_entropy`` (named by ``cross_entropy``), KL >= 0 and
    KL(p || p) = 0; for ``cross_entropy``: Gibbs' inequality H(p, q) >= H(p, p).
``argmin`` (``argmin_weight``, needs ``family``)
    data drawn from a discrete family on a finite ``support`` give the
    empirical distribution p_hat; the answer on (p_hat, p_model(support; theta))
    over a grid of theta, which holds the MLE, must be smallest at the MLE.

Sheet mistakes use ``value:``, an expression in ``ref``, ``H_pq``, ``H_qp``,
``H_p``, ``H_q``, ``KL_pq``, ``KL_qp`` (per pair of vectors). Built-in
mistakes: ``log2``, ``swapped``, ``sign``, ``kl_for_ce``/``ce_for_kl``,
``entropy``, ``nan_zero``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from grader.checks.answers import WrongType, as_float
from grader.checks.base import Check, Trial, describe_error, fmt
from grader.checks.likelihood import (
    Builtin,
    Part,
    Verdict,
    candidates,
    grid_with,
    judge_value,
    parse_sheet_mistakes,
    summarise,
)
from grader.results import CheckResult
from grader.sandbox.protocol import Outcome, Probe
from grader.sheet.common import CheckSpec
from grader.sheet.context import SpecError
from grader.solver.estimation import FamilyModel, check_family, empirical, with_param


class DivergenceSpec(CheckSpec):
    kind: Literal["divergence"]
    quantity: Literal["cross_entropy", "kl"]
    #: the hand-in's cross-entropy function, for KL = H(p, q) - H(p)
    cross_entropy: str = "cross_entropy"
    #: lengths of the random probability vectors
    sizes: list[Annotated[int, Field(ge=2, le=1000)]] = [3, 5, 8, 4]
    rtol: Annotated[float, Field(gt=0, lt=1)] = 1e-6
    atol: Annotated[float, Field(ge=0)] = 1e-9
    #: a discrete sheet family for "the argmin over theta is the MLE" (none: no such check)
    family: str | None = None
    #: its finite support (default [0, 1]); the density must sum to 1 on it
    support: list[float] | None = None
    param: str | None = None
    grid: Annotated[int, Field(ge=5, le=201)] = 41
    #: sample size behind the empirical distribution
    samples: Annotated[int, Field(ge=2, le=100000)] = 25
    values_weight: Annotated[float, Field(ge=0)] = 0.5
    properties_weight: Annotated[float, Field(ge=0)] = 0.25
    argmin_weight: Annotated[float, Field(ge=0)] = 0.25


MISTAKE_NAMES = ("ref", "H_pq", "H_qp", "H_p", "H_q", "KL_pq", "KL_qp")

_LN2 = math.log(2.0)

NAN_ZERO = (
    "Your answer is NaN where p has zeros: 0\u00b7log 0 counts as 0, so leave out the terms "
    "with p_i = 0 (e.g. a mask p > 0)."
)

CE_MISTAKES = (
    Builtin(
        "log2",
        "You use log base 2; the cross-entropy here uses the natural log (divide by log 2 "
        "to see the difference).",
        lambda n: n["ref"] / _LN2,
    ),
    Builtin(
        "swapped",
        "Your arguments are swapped: H(p, q) = -\u03a3 p_i log q_i, with the weights from p.",
        lambda n: n["H_qp"],
    ),
    Builtin(
        "sign",
        "Your sign is wrong: H(p, q) = -\u03a3 p_i log q_i is never negative.",
        lambda n: -n["ref"],
    ),
    Builtin(
        "kl_for_ce",
        "You return the KL divergence; the cross-entropy is H(p, q) = H(p) + KL(p\u2016q).",
        lambda n: n["KL_pq"],
    ),
    Builtin(
        "entropy",
        "You return the entropy of p, H(p) = -\u03a3 p_i log p_i; q must enter as log q_i.",
        lambda n: n["H_p"],
    ),
    Builtin("nan_zero", NAN_ZERO, lambda n: math.nan),
)

KL_MISTAKES = (
    Builtin(
        "log2",
        "You use log base 2; the KL divergence here uses the natural log.",
        lambda n: n["ref"] / _LN2,
    ),
    Builtin(
        "swapped",
        "You compute \u03a3 q_i log(q_i/p_i) = KL(q\u2016p): the arguments are swapped. "
        "KL(p\u2016q) = \u03a3 p_i log(p_i/q_i).",
        lambda n: n["KL_qp"],
    ),
    Builtin(
        "sign",
        "Your sign is wrong: KL(p\u2016q) = \u03a3 p_i log(p_i/q_i) \u2265 0 "
        "(\u03a3 p_i log(q_i/p_i) is its negative).",
        lambda n: -n["ref"],
    ),
    Builtin(
        "ce_for_kl",
        "You return the cross-entropy H(p, q); KL(p\u2016q) = H(p, q) - H(p).",
        lambda n: n["H_pq"],
    ),
    Builtin(
        "entropy",
        "You return the entropy of p; KL(p\u2016q) = H(p, q) - H(p).",
        lambda n: n["H_p"],
    ),
    Builtin("nan_zero", NAN_ZERO, lambda n: math.nan),
)


def cross_entropy(p: np.ndarray, q: np.ndarray) -> float:
    """H(p, q) in nats, 0 log 0 = 0 (inf when q_i = 0 < p_i)."""
    mask = p > 0
    with np.errstate(divide="ignore"):
        return float(-np.sum(p[mask] * np.log(q[mask])))


def kl(p: np.ndarray, q: np.ndarray) -> float:
    return cross_entropy(p, q) - cross_entropy(p, p)


class DivergenceCheck(Check[DivergenceSpec]):
    kind = "divergence"
    Spec = DivergenceSpec

    def prepare(self) -> None:
        spec = self.spec
        self.builtins = CE_MISTAKES if spec.quantity == "cross_entropy" else KL_MISTAKES
        self.sheet_mistakes = parse_sheet_mistakes(
            self.ctx, spec.mistakes, MISTAKE_NAMES, [b.key for b in self.builtins]
        )
        self.model: FamilyModel | None = None
        if spec.family is None:
            for fld in ("support", "param"):
                if getattr(spec, fld) is not None:
                    raise SpecError(fld, f"`{fld}` needs `family` (the argmin check's family)")
            return
        model = check_family(self.ctx, spec.family)
        if not model.family.discrete:
            raise SpecError(
                "family", f"family {spec.family!r} is not discrete: a probability vector needs one"
            )
        param = spec.param or model.param_names[0]
        if param not in model.param_names:
            raise SpecError(
                "param", f"{param!r} is not a parameter of {spec.family!r} ({model.param_names})"
            )
        self.param_index = model.param_names.index(param)
        self.support = np.array(spec.support if spec.support is not None else [0.0, 1.0])
        rng = np.random.default_rng(7)
        for _ in range(3):
            theta = model.random_theta(rng)
            total = float(np.sum(model.pdf(self.support, theta)))
            if not abs(total - 1.0) < 1e-6:
                raise SpecError(
                    "support",
                    f"the density of {spec.family!r} sums to {total:.6g}, not 1, on the support "
                    f"{self.support.tolist()}: give its whole (finite) support",
                )
            data = model.sample(rng, theta, 50)
            if not np.all(np.isin(data, self.support)):
                raise SpecError(
                    "support", f"{spec.family!r} draws values outside {self.support.tolist()}"
                )
        self.model = model

    # -------------------------------------------------------------- trial
    def reference(self, p: np.ndarray, q: np.ndarray) -> float:
        return cross_entropy(p, q) if self.spec.quantity == "cross_entropy" else kl(p, q)

    def trial(self, rng: np.random.Generator) -> Trial:
        spec = self.spec
        pairs = _vectors(rng, spec.sizes)
        name = spec.name
        value_probes = [
            self.probe(f"value{k}", args=(p, q), name=name) for k, (p, q) in enumerate(pairs)
        ]
        prop_probes: list[Probe] = []
        if spec.quantity == "kl":
            for k, (p, q) in enumerate(pairs):
                prop_probes.append(self.probe(f"ce{k}", args=(p, q), name=spec.cross_entropy))
                prop_probes.append(self.probe(f"ce_self{k}", args=(p, p), name=spec.cross_entropy))
            prop_probes += [
                self.probe(f"self{k}", args=(p, p), name=name) for k, (p, _) in enumerate(pairs)
            ]
        else:
            prop_probes = [
                self.probe(f"self{k}", args=(p, p), name=name) for k, (p, _) in enumerate(pairs)
            ]
        argmin = self._argmin_setup(rng) if self.model is not None else None
        grid_probes = (
            [
                self.probe(f"grid{k}", args=(argmin["p_hat"], q), name=name)
                for k, q in enumerate(argmin["qs"])
            ]
            if argmin
            else []
        )
        probes = tuple(value_probes + prop_probes + grid_probes)

        def judge(outcomes: Mapping[str, Outcome]) -> CheckResult:
            values = [
                self._judge_value(p, q, outcomes.get(probe.id))
                for (p, q), probe in zip(pairs, value_probes, strict=True)
            ]
            what = "cross-entropy" if spec.quantity == "cross_entropy" else "KL divergence"
            parts = [
                Part(
                    spec.values_weight,
                    "Values",
                    values,
                    f"Correct {what} on {len(pairs)} pairs of probability vectors "
                    "(zeros in p included).",
                ),
                self._judge_properties(pairs, outcomes),
            ]
            if argmin:
                parts.append(self._judge_argmin(argmin, grid_probes, outcomes))
            return summarise(self, parts)

        return Trial(probes, judge)

    # ------------------------------------------------------------- values
    def _judge_value(self, p: np.ndarray, q: np.ndarray, outcome: Outcome | None) -> Verdict:
        names: dict[str, Any] = {
            "H_pq": cross_entropy(p, q),
            "H_qp": cross_entropy(q, p),
            "H_p": cross_entropy(p, p),
            "H_q": cross_entropy(q, q),
            "KL_pq": kl(p, q),
            "KL_qp": kl(q, p),
        }
        ref = self.reference(p, q)
        names["ref"] = ref
        cands = candidates(self, self.builtins, self.sheet_mistakes, names, MISTAKE_NAMES)
        zeros = bool(np.any(p == 0))
        label = f"p = {fmt(p, 4)}, q = {fmt(q, 4)}"
        verdict = judge_value(
            outcome,
            ref,
            label,
            f"`{self.spec.name}`",
            cands,
            rtol=self.spec.rtol,
            atol=self.spec.atol,
        )
        if not verdict.ok and verdict.given is not None and math.isnan(verdict.given) and zeros:
            verdict.matched = [c for c in cands if c.mistake.key.endswith(":nan_zero")]
        return verdict

    # --------------------------------------------------------- properties
    def _number(self, outcome: Outcome | None, name: str) -> float | str:
        """The answer as a float, or a sentence saying why there is none."""
        if outcome is None:
            return f"`{name}`: no answer was received."
        if outcome.error is not None:
            return describe_error(name, outcome.error)
        try:
            value = as_float(outcome.value, f"`{name}`")
        except WrongType as exc:
            return f"{exc}."
        return f"`{name}` returned NaN." if math.isnan(value) else value

    def _judge_properties(
        self, pairs: Sequence[tuple[np.ndarray, np.ndarray]], outcomes: Mapping[str, Outcome]
    ) -> Part:
        spec = self.spec
        verdicts: list[Verdict] = []
        tol = spec.atol + 1e-6
        for k, (p, q) in enumerate(pairs):
            label = f"p = {fmt(p, 4)}, q = {fmt(q, 4)}"
            own = self._number(outcomes.get(f"{self.check_id}/value{k}"), spec.name)
            itself = self._number(outcomes.get(f"{self.check_id}/self{k}"), spec.name)
            if spec.quantity == "kl":
                ce = self._number(outcomes.get(f"{self.check_id}/ce{k}"), spec.cross_entropy)
                ce_self = self._number(
                    outcomes.get(f"{self.check_id}/ce_self{k}"), spec.cross_entropy
                )
                notes = [x for x in (own, ce, ce_self) if isinstance(x, str)]
                if notes:
                    verdicts.append(Verdict(False, label, note=notes[0]))
                else:
                    assert isinstance(own, float) and isinstance(ce, float)
                    assert isinstance(ce_self, float)
                    ok = math.isclose(own, ce - ce_self, rel_tol=spec.rtol * 10, abs_tol=tol)
                    verdicts.append(
                        Verdict(
                            ok,
                            label,
                            note="" if ok else (
                                f"KL(p\u2016q) = H(p, q) - H(p) does not hold for your functions: "
                                f"`{spec.name}` gives {fmt(own)}, `{spec.cross_entropy}` gives "
                                f"H(p, q) - H(p, p) = {fmt(ce)} - {fmt(ce_self)} = "
                                f"{fmt(ce - ce_self)}."
                            ),
                        )
                    )  # fmt: skip
                if isinstance(own, float) and isinstance(itself, float):
                    ok = own >= -tol and abs(itself) <= tol
                    note = ""
                    if own < -tol:
                        note = f"your KL(p\u2016q) is negative ({fmt(own)}); it is always \u2265 0."
                    elif abs(itself) > tol:
                        note = (
                            f"your KL(p\u2016p) is {fmt(itself)}, but it is 0 for equal arguments."
                        )
                    verdicts.append(Verdict(ok, label, note=note))
                else:
                    note = own if isinstance(own, str) else str(itself)
                    verdicts.append(Verdict(False, label, note=note))
            else:
                if isinstance(own, float) and isinstance(itself, float):
                    ok = own >= itself - tol
                    note = "" if ok else (
                        f"your H(p, q) = {fmt(own)} is smaller than your H(p, p) = {fmt(itself)}; "
                        "by Gibbs' inequality the cross-entropy is smallest at q = p."
                    )  # fmt: skip
                    verdicts.append(Verdict(ok, label, note=note))
                else:
                    note = own if isinstance(own, str) else str(itself)
                    verdicts.append(Verdict(False, label, note=note))
        success = (
            "Your KL(p\u2016q) equals H(p, q) - H(p) from your own `"
            + spec.cross_entropy
            + "`, is never negative and is 0 for p = q."
            if spec.quantity == "kl"
            else "Your H(p, q) is never below H(p, p) (Gibbs' inequality)."
        )
        return Part(spec.properties_weight, "Properties", verdicts, success)

    # ------------------------------------------------------------- argmin
    def _argmin_setup(self, rng: np.random.Generator) -> dict[str, Any]:
        model = self.model
        assert model is not None
        j = self.param_index
        for _ in range(20):
            theta = model.random_theta(rng)
            data = model.sample(rng, theta, self.spec.samples)
            if len(np.unique(data)) < 2:
                continue  # a one-point empirical distribution has its MLE on the boundary
            try:
                mle = model.mle(data)
            except ValueError:
                continue
            lo, hi = model.family.theta[model.param_names[j]]
            grid = grid_with(lo, hi, self.spec.grid, mle[j])
            qs = [model.pdf(self.support, with_param(mle, j, t)) for t in grid]
            if all(np.all(q > 0) and np.all(np.isfinite(q)) for q in qs):
                p_hat = empirical(data, self.support)
                return {"p_hat": p_hat, "qs": qs, "grid": grid, "mle": mle, "m": len(data)}
        raise RuntimeError(f"could not draw data with an interior MLE for {model.name!r}")

    def _judge_argmin(
        self, setup: dict[str, Any], probes: Sequence[Probe], outcomes: Mapping[str, Outcome]
    ) -> Part:
        model = self.model
        assert model is not None
        spec = self.spec
        j = self.param_index
        pname = model.param_names[j]
        grid: np.ndarray = setup["grid"]
        p_hat: np.ndarray = setup["p_hat"]
        ref = np.array([self.reference(p_hat, q) for q in setup["qs"]])
        title = "Argmin over " + pname
        label = (
            f"empirical distribution of {setup['m']} {model.name} samples, {pname} on a grid "
            f"of {len(grid)} points"
        )
        given = np.empty(len(grid))
        for k, probe in enumerate(probes):
            value = self._number(outcomes.get(probe.id), spec.name)
            if isinstance(value, str):
                return Part(spec.argmin_weight, title, [Verdict(False, label, note=value)])
            given[k] = value
        mle_text = fmt(float(setup["mle"][j]))
        if np.all(np.isnan(given)):
            verdict = Verdict(False, label, note="only NaN came back.")
            return Part(spec.argmin_weight, title, [verdict])
        mine = int(np.argmin(np.where(np.isnan(given), np.inf, given)))
        best = int(np.argmin(ref))
        ok = bool(ref[mine] <= ref[best] + 1e-9 * (1 + abs(ref[best])))
        note = "" if ok else (
            f"your function is smallest at {pname} = {fmt(float(grid[mine]))}, but the maximum "
            f"likelihood estimate is {pname} = {mle_text}: minimising the cross-entropy between "
            "the data and the model must give the MLE."
        )  # fmt: skip
        verdict = Verdict(
            ok,
            label,
            expected=f"{pname} = {mle_text}",
            given=f"{pname} = {fmt(float(grid[mine]))}",
            note=note,
        )
        success = (
            f"Minimising your `{spec.name}` between the empirical distribution and "
            f"p_model({pname}) gives the maximum likelihood estimate {pname} = {mle_text}."
        )
        return Part(spec.argmin_weight, title, [verdict], success)


def _vectors(rng: np.random.Generator, sizes: Sequence[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Random (p, q) pairs: zeros in some p, all-positive q, and one pair with q = p."""
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    for k, n in enumerate(sizes):
        p = rng.dirichlet(np.ones(n))
        q = rng.dirichlet(np.ones(n))
        if k % 2 == 0 and n >= 3:
            # zeros in p exercise 0 log 0 = 0; one or two of them, never all
            zeros = rng.choice(n, size=1 if n < 6 else 2, replace=False)
            p[zeros] = 0.0
            p = p / p.sum()
            if k % 4 == 2:
                # q_i = 0 = p_i too: a term 0 log 0 on both sides (NaN unless skipped)
                q[zeros[0]] = 0.0
                q = q / q.sum()
        if k == len(sizes) - 1 and k > 0:
            q = p.copy()
        pairs.append((p, q))
    return pairs
