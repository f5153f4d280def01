"""Kind ``network``: a feed-forward pass, the predicted class and the parameter count.

The sheet gives a network (``layers`` with their activations, and the
weights and input under ``given``); the hand-in defines
``forward(x, W1, b1, …, WL, bL)`` (the rows of ``W`` are units:
``h = act(W @ h_prev + b)``) and optionally constants for the predicted
class and the number of parameters. ``forward`` is called on the sheet's
network, on random networks of other sizes (a hard-coded answer fails
there) and, for a softmax output, on a network whose logits are near 1000
(a softmax that does not subtract the maximum overflows there).

Known mistakes are ``variant:`` settings of the reference solver
(``grader.solver.network.Settings``): ``hidden_activation``,
``output_activation``, ``softmax`` (stable/naive/none/per_summand),
``transpose``, ``biases``. When the answer matches a variant's output and
not the reference, the mistake's message is shown.

Points are split over the parts by ``points_split`` (relative weights,
normalised over the parts the check has): ``given`` (the sheet's network),
``random`` (the share of random networks answered right), ``large_logits``,
``predicted_class``, ``n_parameters``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from grader.checks.answers import WrongType, as_array, describe_type
from grader.checks.base import Check, Trial, describe_error, fmt
from grader.results import CheckResult, Mistake
from grader.sandbox.protocol import Outcome, Probe
from grader.sheet.common import CheckSpec, Model
from grader.sheet.context import SpecError
from grader.solver import network as solver

#: output-layer bias added for the large-logits case: exp(1000) overflows a float
LARGE_LOGIT = 1000.0
OVERFLOW_KEY = "network:softmax_overflow"
OVERFLOW_MESSAGE = (
    "Softmax without subtracting the maximum overflows for logits near 1000: "
    "compute exp(z - max(z)) / sum(exp(z - max(z)))."
)
SHAPE_HINT = (
    "The shapes do not fit: are the weights transposed? Row i of W holds the weights into "
    "unit i, so h = act(W @ x + b)."
)


class LayerSpec(Model):
    #: hidden layers: relu, identity, tanh, sigmoid, softplus; the output layer also softmax
    activation: str


class SizesSpec(Model):
    """Inclusive ranges the random networks' sizes are drawn from."""

    input: tuple[int, int] = (2, 6)
    hidden: tuple[int, int] = (2, 6)
    output: tuple[int, int] = (2, 5)


class SplitSpec(Model):
    """Relative weights of the parts; normalised over the parts the check has."""

    given: Annotated[float, Field(ge=0)] = 1.0
    random: Annotated[float, Field(ge=0)] = 1.0
    large_logits: Annotated[float, Field(ge=0)] = 0.5
    predicted_class: Annotated[float, Field(ge=0)] = 0.5
    n_parameters: Annotated[float, Field(ge=0)] = 0.5


class NetworkSpec(CheckSpec):
    kind: Literal["network"]
    layers: Annotated[list[LayerSpec], Field(min_length=1)]
    #: the sheet's input and weights: ``x``, ``W1``, ``b1``, … ``WL``, ``bL`` (nested lists)
    given: dict[str, list[Any]]
    #: the name of the constant holding the 0-based predicted class; omitted: not checked
    predicted_class: str | None = None
    #: the name of the constant holding the number of weights and biases; omitted: not checked
    n_parameters: str | None = None
    #: random networks with the same activations and random sizes; the first is square
    #: (all layers the same size) so that transposed weights give an output, not an error
    random_networks: Annotated[int, Field(ge=0, le=20)] = 4
    random_sizes: SizesSpec = SizesSpec()
    #: a case with logits near 1000 (softmax output only)
    large_logits: bool = True
    points_split: SplitSpec = SplitSpec()
    rtol: Annotated[float, Field(gt=0, lt=1)] = 1e-6
    #: None: 0 for a softmax output (probabilities are accurate relative to their size, and
    #: tiny ones tell mistakes apart on the sheet's network), else 1e-9
    atol: Annotated[float, Field(ge=0)] | None = None


@dataclass(frozen=True)
class _Variant:
    index: int  # into spec.mistakes
    settings: solver.Settings


@dataclass
class _Case:
    """One call of ``forward``: the network, the reference output, each variant's output."""

    part: str  # "given", "random", "large_logits"
    label: str
    net: solver.Network
    x: np.ndarray
    reference: np.ndarray
    variants: list[tuple[_Variant, np.ndarray]] = field(default_factory=list)


@dataclass
class _Verdict:
    ok: bool
    given: np.ndarray | None = None
    error: str | None = None  # the student-readable error
    error_kind: str | None = None
    mistakes: list[int] = field(default_factory=list)  # matched variants
    overflow: bool = False
    shape_error: bool = False


class NetworkCheck(Check[NetworkSpec]):
    kind = "network"
    Spec = NetworkSpec

    # ------------------------------------------------------------------ prepare
    def prepare(self) -> None:
        spec = self.spec
        n = len(spec.layers)
        for i, layer in enumerate(spec.layers):
            allowed = solver.OUTPUT_ACTIVATIONS if i == n - 1 else solver.HIDDEN_ACTIVATIONS
            if layer.activation not in allowed:
                where = "the output layer" if i == n - 1 else "a hidden layer"
                raise SpecError(
                    ("layers", i, "activation"),
                    f"{layer.activation!r} is not an activation for {where}; "
                    f"use one of {', '.join(allowed)}",
                )
        self.activations = tuple(layer.activation for layer in spec.layers)
        self.softmax_output = self.activations[-1] == "softmax"
        self.net, self.x = self._given_network()
        self.reference = solver.forward(self.net, self.x)
        assert self.reference is not None
        if not np.all(np.isfinite(self.reference)):
            raise SpecError("given", "the sheet's network gives a non-finite output")
        self.expected_class = solver.predicted_class(self.reference)
        self.expected_params = solver.n_parameters(self.net)
        self.variants = self._variants()
        for key in ("predicted_class", "n_parameters"):
            name = getattr(spec, key)
            if name is not None and not name.isidentifier():
                raise SpecError(key, f"{name!r} is not a Python name")
        if spec.large_logits and not self.softmax_output:
            raise SpecError(
                "large_logits", "logits near 1000 only matter for a softmax output layer"
            )
        for lo_hi, key in (
            (spec.random_sizes.input, "input"),
            (spec.random_sizes.hidden, "hidden"),
            (spec.random_sizes.output, "output"),
        ):
            if not 1 <= lo_hi[0] <= lo_hi[1] <= 50:
                raise SpecError(("random_sizes", key), "needs 1 <= low <= high <= 50")
        self.sizes = solver.Sizes(
            spec.random_sizes.input, spec.random_sizes.hidden, spec.random_sizes.output
        )
        self.weights = self._weights()
        if sum(self.weights.values()) <= 0:
            raise SpecError("points_split", "every part this check has is weighted 0")
        self.atol = spec.atol if spec.atol is not None else (0.0 if self.softmax_output else 1e-9)

    def _given_network(self) -> tuple[solver.Network, np.ndarray]:
        spec = self.spec
        n = len(spec.layers)
        names = ["x"] + [f"{p}{i}" for i in range(1, n + 1) for p in ("W", "b")]
        for key in spec.given:
            if key not in names:
                raise SpecError(
                    ("given", key), f"unknown argument; the arguments are {', '.join(names)}"
                )
        for key in names:
            if key not in spec.given:
                raise SpecError("given", f"{key} is missing (the arguments are {', '.join(names)})")

        def array(key: str, ndim: int) -> np.ndarray:
            try:
                a = np.array(spec.given[key], dtype=float)
            except (TypeError, ValueError) as exc:
                raise SpecError(
                    ("given", key), f"{key} is not a rectangular array of numbers"
                ) from exc
            if a.ndim != ndim or a.size == 0:
                kind = "a list of numbers" if ndim == 1 else "a list of rows (one per unit)"
                raise SpecError(("given", key), f"{key} should be {kind}, but has shape {a.shape}")
            if not np.all(np.isfinite(a)):
                raise SpecError(("given", key), f"{key} has a non-finite entry")
            return a

        x = array("x", 1)
        width, prev = x.shape[0], "x"
        layers = []
        for i in range(1, n + 1):
            W, b = array(f"W{i}", 2), array(f"b{i}", 1)
            if W.shape[1] != width:
                raise SpecError(
                    ("given", f"W{i}"),
                    f"W{i} has {W.shape[1]} columns but {prev} has {width} entries "
                    "(rows of W are units, columns its inputs)",
                )
            if b.shape[0] != W.shape[0]:
                raise SpecError(
                    ("given", f"b{i}"),
                    f"b{i} has {b.shape[0]} entries but W{i} has {W.shape[0]} rows",
                )
            layers.append(solver.Layer(W, b, self.activations[i - 1]))
            width, prev = W.shape[0], f"layer {i}"
        return solver.Network(tuple(layers)), x

    def _variants(self) -> list[_Variant]:
        out = []
        for i, m in enumerate(self.spec.mistakes):
            if m.expr is not None or m.value is not None or m.output is not None:
                raise SpecError(
                    ("mistakes", i), "network mistakes are described by `variant:` only"
                )
            if m.variant is None:
                raise SpecError(("mistakes", i), "a network mistake needs a `variant:`")
            try:
                settings = solver.Settings.from_variant(m.variant)
            except ValueError as exc:
                raise SpecError(("mistakes", i, "variant"), str(exc)) from exc
            if settings == solver.Settings():
                raise SpecError(("mistakes", i, "variant"), "the variant changes nothing")
            if not self.softmax_output and (settings.softmax != "stable"):
                raise SpecError(
                    ("mistakes", i, "variant"), "softmax variants need a softmax output layer"
                )
            out.append(_Variant(i, settings))
        return out

    def _weights(self) -> dict[str, float]:
        split, spec = self.spec.points_split, self.spec
        weights = {"given": split.given}
        if spec.random_networks:
            weights["random"] = split.random
        if spec.large_logits:
            weights["large_logits"] = split.large_logits
        if spec.predicted_class:
            weights["predicted_class"] = split.predicted_class
        if spec.n_parameters:
            weights["n_parameters"] = split.n_parameters
        return weights

    # ------------------------------------------------------------------ trial
    def _case(self, part: str, label: str, net: solver.Network, x: np.ndarray) -> _Case:
        ref = solver.forward(net, x)
        assert ref is not None
        case = _Case(part, label, net, x, ref)
        for v in self.variants:
            out = solver.forward(net, x, v.settings)
            # a variant is only evidence where it differs from the reference
            if out is not None and not self._close(out, ref):
                case.variants.append((v, out))
        return case

    def _random_case(
        self,
        rng: np.random.Generator,
        part: str,
        label: str,
        *,
        square: bool = False,
        shift: float = 0.0,
    ) -> _Case:
        """A random network on which every listed mistake changes the output.

        A network whose hidden units are all positive cannot tell a forgotten ReLU from a
        right answer: such draws are redrawn (a few times; the most telling one is kept).
        A softmax without max-subtraction only shows on large logits, which have their own
        case, so it is not waited for here.
        """
        telling = [v for v in self.variants if shift or v.settings.softmax != "naive"]
        best: _Case | None = None
        for _ in range(8):
            net, x = solver.random_network(
                rng, self.activations, self.sizes, square=square, output_shift=shift
            )
            case = self._case(part, label, net, x)
            applicable = {
                v.index for v in telling if solver.forward(net, x, v.settings) is not None
            }
            if applicable <= {v.index for v, _ in case.variants}:
                return case
            if best is None or len(case.variants) > len(best.variants):
                best = case
        assert best is not None
        return best

    def trial(self, rng: np.random.Generator) -> Trial:
        spec = self.spec
        cases = [self._case("given", "the sheet's network", self.net, self.x)]
        for k in range(spec.random_networks):
            square = k == 0 and spec.random_networks >= 2
            cases.append(self._random_case(rng, "random", f"random network {k + 1}", square=square))
        if spec.large_logits:
            cases.append(
                self._random_case(
                    rng, "large_logits", "a network with logits near 1000", shift=LARGE_LOGIT
                )
            )
        probes: list[Probe] = [
            self.probe(f"{c.part}/{i}", args=c.net.arguments(c.x)) for i, c in enumerate(cases)
        ]
        if spec.predicted_class:
            probes.append(self.probe("predicted_class", op="value", name=spec.predicted_class))
        if spec.n_parameters:
            probes.append(self.probe("n_parameters", op="value", name=spec.n_parameters))
        probe_ids = [p.id for p in probes]

        def judge(outcomes: Mapping[str, Outcome]) -> CheckResult:
            return self._judge(cases, probe_ids, outcomes)

        return Trial(tuple(probes), judge)

    # ------------------------------------------------------------------ judging
    def _close(self, given: np.ndarray, ref: np.ndarray) -> bool:
        if given.shape != ref.shape or not np.all(np.isfinite(given)):
            return False
        return bool(np.all(np.abs(given - ref) <= self.atol + self.spec.rtol * np.abs(ref)))

    @staticmethod
    def _fit(given: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        """A column or row vector counts as the vector it holds."""
        if given.shape != shape and given.size == int(np.prod(shape)):
            if tuple(d for d in given.shape if d != 1) == tuple(d for d in shape if d != 1):
                return given.reshape(shape)
        return given

    def _verdict(self, case: _Case, outcome: Outcome | None) -> _Verdict:
        name = self.spec.name
        if outcome is None:
            return _Verdict(False, error=f"`{name}` gave no answer.", error_kind="sandbox")
        if outcome.error is not None:
            err = outcome.error
            text = describe_error(name, err)
            msg = err.message.lower()
            shape = err.kind == "exception" and (
                err.exception in ("ValueError", "IndexError")
                and any(
                    w in msg
                    for w in (
                        "shape",
                        "mismatch",
                        "aligned",
                        "broadcast",
                        "dimension",
                        "out of bounds",
                        "out of range",
                    )
                )
            )
            overflow = case.part == "large_logits" and (
                err.exception in ("OverflowError", "FloatingPointError") or "overflow" in msg
            )
            kind = err.kind if err.kind not in ("missing", "not_callable", "bad_value") else None
            return _Verdict(
                False, error=text, error_kind=kind, overflow=overflow, shape_error=shape
            )
        try:
            given = as_array(outcome.value, f"the output of `{name}`")
        except WrongType as exc:
            return _Verdict(False, error=f"{str(exc)[0].upper()}{str(exc)[1:]}.")
        if self._close(self._fit(given, case.reference.shape), case.reference):
            return _Verdict(True, given=given)
        verdict = _Verdict(False, given=given)
        if case.part == "large_logits" and (
            not np.all(np.isfinite(given)) or any("overflow" in w.lower() for w in outcome.warnings)
        ):
            verdict.overflow = True
        for v, out in case.variants:
            if self._close(self._fit(given, out.shape), out):
                verdict.mistakes.append(v.index)
        return verdict

    @staticmethod
    def _show(value: np.ndarray) -> str:
        return " ".join(fmt(value).split())

    def _judge(
        self, cases: list[_Case], probe_ids: list[str], outcomes: Mapping[str, Outcome]
    ) -> CheckResult:
        spec = self.spec
        feedback: list[str] = []
        mistakes: dict[str, Mistake] = {}
        scores: dict[str, float] = {}
        error_kind: str | None = None
        verdicts = [
            self._verdict(c, outcomes.get(pid))
            for c, pid in zip(cases, probe_ids[: len(cases)], strict=True)
        ]

        def name_mistake(index: int, case: _Case) -> None:
            m = self.mistake(index)
            if m.key not in mistakes:
                mistakes[m.key] = m
                how = self.variants_by_index[index].settings.describe()
                feedback.append(
                    f"{m.message} (Your output on {case.label} matches the forward "
                    f"pass with {how}.)"
                )

        # the sheet's network
        given_case, given_v = cases[0], verdicts[0]
        scores["given"] = 1.0 if given_v.ok else 0.0
        expected = self._show(given_case.reference)
        shown = self._show(given_v.given) if given_v.given is not None else None
        if not given_v.ok:
            if given_v.error:
                feedback.append(given_v.error)
                error_kind = given_v.error_kind
            elif not spec.hidden:
                feedback.append(
                    f"On the sheet's network `{spec.name}` should return {expected}, "
                    f"but it returned {shown}."
                )
            else:
                feedback.append(f"`{spec.name}` is wrong on the sheet's network.")
        for i in given_v.mistakes:
            name_mistake(i, given_case)

        # random networks and the large-logits case
        random = [(c, v) for c, v in zip(cases, verdicts, strict=True) if c.part == "random"]
        if random:
            scores["random"] = sum(v.ok for _, v in random) / len(random)
        large = [(c, v) for c, v in zip(cases, verdicts, strict=True) if c.part == "large_logits"]
        if large:
            scores["large_logits"] = 1.0 if large[0][1].ok else 0.0
        explained = False
        for c, v in random + large:
            for i in v.mistakes:
                name_mistake(i, c)
                explained = True
        for _, v in large:
            if v.overflow:
                explained = True
                key = next(
                    (
                        self.mistake(i).key
                        for i, m in enumerate(spec.mistakes)
                        if m.variant and m.variant.get("softmax") == "naive"
                    ),
                    OVERFLOW_KEY,
                )
                message = next(
                    (
                        m.message
                        for m in spec.mistakes
                        if m.variant and m.variant.get("softmax") == "naive"
                    ),
                    OVERFLOW_MESSAGE,
                )
                if key not in mistakes:
                    mistakes[key] = Mistake(key, message)
                    feedback.append(message)
        named_transpose = any(
            self.variants_by_index[i].settings.transpose for v in verdicts for i in v.mistakes
        )
        if any(v.shape_error for v in verdicts) and not named_transpose:
            feedback.append(SHAPE_HINT)
            explained = True
        failed = [(c, v) for c, v in random + large if not v.ok]
        errors = [v for _, v in failed if v.error]
        if errors and not given_v.error:
            feedback.append(f"On other networks: {errors[0].error}")
            error_kind = error_kind or errors[0].error_kind
        wrong = [(c, v) for c, v in failed if not v.error and not v.overflow]
        if given_v.ok and wrong and not explained:
            mistakes["network:hard_coded"] = Mistake(
                "network:hard_coded",
                f"`{spec.name}` is right on the sheet's network but wrong on other networks: "
                "is the answer hard-coded?",
            )
            feedback.append(mistakes["network:hard_coded"].message)
        if wrong and not spec.hidden and (given_v.ok or given_v.error):
            c, v = wrong[0]
            assert v.given is not None  # every verdict without an error carries the answer
            feedback.append(
                f"For example, on {c.label} (x = {fmt(c.x, 4)}) `{spec.name}` should return "
                f"{self._show(c.reference)}, but it returned {self._show(v.given)}."
            )
        elif wrong and spec.hidden:
            feedback.append(f"`{spec.name}` is wrong on {len(wrong)} of the other networks.")

        # the constants
        at = len(cases)
        if spec.predicted_class:
            scores["predicted_class"] = self._judge_class(
                outcomes.get(probe_ids[at]), feedback, mistakes
            )
            at += 1
        if spec.n_parameters:
            scores["n_parameters"] = self._judge_params(
                outcomes.get(probe_ids[at]), feedback, mistakes
            )

        total = sum(self.weights.values())
        fraction = sum(self.weights[k] * scores.get(k, 0.0) for k in self.weights) / total
        if fraction >= 1.0 - 1e-12:
            parts = [f"`{spec.name}` is right on the sheet's network"]
            if random:
                parts.append(f"on {len(random)} random networks")
            if large:
                parts.append("with logits near 1000")
            feedback.insert(0, ", ".join(parts) + ".")
        return self.result(
            fraction=fraction,
            feedback=feedback,
            method="numeric",
            expected=expected,
            given=shown,
            mistakes=list(mistakes.values()),
            error=error_kind if fraction < 1.0 else None,
        )

    @property
    def variants_by_index(self) -> dict[int, _Variant]:
        return {v.index: v for v in self.variants}

    def _read_int(self, outcome: Outcome | None, name: str, feedback: list[str]) -> int | None:
        if outcome is None or outcome.error is not None:
            feedback.append(
                describe_error(name, outcome.error)
                if outcome and outcome.error
                else f"`{name}` gave no answer."
            )
            return None
        value = outcome.value
        if isinstance(value, np.ndarray) and value.size == 1:
            value = value.reshape(()).item()
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            feedback.append(f"`{name}` should be a whole number, but it is {describe_type(value)}.")
            return None
        return value

    def _judge_class(
        self, outcome: Outcome | None, feedback: list[str], mistakes: dict[str, Mistake]
    ) -> float:
        name = self.spec.predicted_class
        assert name is not None
        value = self._read_int(outcome, name, feedback)
        if value is None:
            return 0.0
        expected = self.expected_class
        if value == expected:
            return 1.0
        if value == expected + 1:
            m = Mistake(
                "network:class_one_based",
                f"`{name}` = {value} counts classes from 1: the classes are 0-based, so "
                f"the largest output (number {expected + 1}) is class {expected}.",
            )
            mistakes[m.key] = m
            feedback.append(m.message)
        else:
            feedback.append(
                f"`{name}` should be {expected} (the index of the largest output, "
                f"counting from 0), but it is {value}."
            )
        return 0.0

    def _judge_params(
        self, outcome: Outcome | None, feedback: list[str], mistakes: dict[str, Mistake]
    ) -> float:
        name = self.spec.n_parameters
        assert name is not None
        value = self._read_int(outcome, name, feedback)
        if value is None:
            return 0.0
        expected, weights = self.expected_params, solver.n_weights(self.net)
        if value == expected:
            return 1.0
        if value == weights:
            m = Mistake(
                "network:params_weights_only",
                f"`{name}` = {value} counts the weights only: every bias is a parameter too "
                f"({weights} weights + {expected - weights} biases = {expected}).",
            )
            mistakes[m.key] = m
            feedback.append(m.message)
        elif value == expected - weights:
            m = Mistake(
                "network:params_biases_only",
                f"`{name}` = {value} counts the biases only: the weights are parameters too.",
            )
            mistakes[m.key] = m
            feedback.append(m.message)
        else:
            feedback.append(
                f"`{name}` should be {expected} (every weight and bias), but it is {value}."
            )
        return 0.0
