"""Reference solver for feed-forward networks: forward pass, class, parameter count.

A network is a list of layers ``h = act(W @ h_prev + b)`` with the rows of
``W`` being the layer's units. ``Settings`` changes one thing about how the
forward pass is computed; with the defaults it is the correct pass, and a
sheet's known mistakes ("ReLU forgotten", "weights transposed", "softmax over
the summands of each logit") are the same pass with one setting changed. A
setting that cannot apply to a network (transposing a non-square matrix)
makes :func:`forward` return ``None``: that mistake cannot be seen there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

HIDDEN_ACTIVATIONS = ("relu", "identity", "tanh", "sigmoid", "softplus")
OUTPUT_ACTIVATIONS = ("softmax", *HIDDEN_ACTIVATIONS)
SoftmaxMode = Literal["stable", "naive", "none", "per_summand"]
SOFTMAX_MODES: tuple[str, ...] = ("stable", "naive", "none", "per_summand")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # the two-sided form never overflows, so the reference is right for any logit
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda z: np.maximum(z, 0.0),
    "identity": lambda z: z,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "softplus": lambda z: np.logaddexp(0.0, z),
}


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - np.max(z))
    return e / e.sum()


def naive_softmax(z: np.ndarray) -> np.ndarray:
    """Softmax without subtracting the maximum: NaN once a logit passes ~709."""
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(z)
        return e / e.sum()


@dataclass(frozen=True)
class Layer:
    W: np.ndarray  # (units, inputs)
    b: np.ndarray  # (units,)
    activation: str


@dataclass(frozen=True)
class Network:
    layers: tuple[Layer, ...]

    @property
    def n_inputs(self) -> int:
        return int(self.layers[0].W.shape[1])

    @property
    def n_outputs(self) -> int:
        return int(self.layers[-1].W.shape[0])

    def arguments(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        """The student's call: ``forward(x, W1, b1, W2, b2, …)``."""
        args: list[np.ndarray] = [x]
        for layer in self.layers:
            args += [layer.W, layer.b]
        return tuple(args)


@dataclass(frozen=True)
class Settings:
    """How the forward pass is computed; the defaults are the correct pass."""

    #: use this activation in every hidden layer instead of the network's own
    hidden_activation: str | None = None
    #: use this activation in the output layer instead of the network's own
    output_activation: str | None = None
    #: for a softmax output: "stable" (subtract the max), "naive" (overflows),
    #: "none" (return the logits), "per_summand" (see :func:`_per_summand`)
    softmax: SoftmaxMode = "stable"
    #: compute ``W.T @ h`` (the rows of W taken as inputs, not units)
    transpose: bool = False
    biases: bool = True

    @classmethod
    def from_variant(cls, variant: Mapping[str, Any]) -> Settings:
        """Settings from a sheet's ``variant:`` mapping; ValueError names a bad key or value."""
        s = cls()
        for key, value in variant.items():
            if key == "hidden_activation":
                if value not in HIDDEN_ACTIVATIONS:
                    raise ValueError(
                        f"hidden_activation must be one of {', '.join(HIDDEN_ACTIVATIONS)}"
                    )
                s = replace(s, hidden_activation=str(value))
            elif key == "output_activation":
                if value not in OUTPUT_ACTIVATIONS:
                    raise ValueError(
                        f"output_activation must be one of {', '.join(OUTPUT_ACTIVATIONS)}"
                    )
                s = replace(s, output_activation=str(value))
            elif key == "softmax":
                if value not in SOFTMAX_MODES:
                    raise ValueError(f"softmax must be one of {', '.join(SOFTMAX_MODES)}")
                s = replace(s, softmax=value)
            elif key in ("transpose", "biases"):
                if not isinstance(value, bool):
                    raise ValueError(f"{key} must be true or false")
                if key == "transpose":
                    s = replace(s, transpose=value)
                else:
                    s = replace(s, biases=value)
            else:
                known = "hidden_activation, output_activation, softmax, transpose, biases"
                raise ValueError(f"unknown variant setting {key!r} (known: {known})")
        return s

    def describe(self) -> str:
        parts = []
        if self.hidden_activation is not None:
            parts.append(f"hidden activation {self.hidden_activation}")
        if self.output_activation is not None:
            parts.append(f"output activation {self.output_activation}")
        if self.softmax != "stable":
            parts.append(
                {
                    "naive": "a softmax that does not subtract the maximum",
                    "none": "no softmax (the logits)",
                    "per_summand": "the softmax taken over the summands of each logit",
                }[self.softmax]
            )
        if self.transpose:
            parts.append("transposed weights")
        if not self.biases:
            parts.append("no biases")
        return ", ".join(parts) or "the correct forward pass"


def _per_summand(W: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Softmax over the summands of each logit, as in the seed's 6.3a.

    Row i is softmax_j(W[i, j] * h[j]): each output unit normalises the
    products that make up its own logit instead of comparing the logits, so
    the answer is a (units, inputs) matrix. The biases are left out, as in
    the seed (they were counted but never used).
    """
    terms = W * h[np.newaxis, :]
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(terms - terms.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def forward(net: Network, x: np.ndarray, settings: Settings = Settings()) -> np.ndarray | None:
    """The output for ``x``, computed as ``settings`` say; None where they cannot apply."""
    h = np.asarray(x, dtype=float)
    last = len(net.layers) - 1
    for i, layer in enumerate(net.layers):
        W = layer.W.T if settings.transpose else layer.W
        if W.shape[1] != h.shape[0] or (settings.biases and W.shape[0] != layer.b.shape[0]):
            return None  # the shapes do not fit: the student's code would raise
        if i < last:
            act = settings.hidden_activation or layer.activation
            z = W @ h + (layer.b if settings.biases else 0.0)
            h = ACTIVATIONS[act](z)
            continue
        act = settings.output_activation or layer.activation
        if act == "softmax" and settings.softmax == "per_summand":
            return _per_summand(W, h)
        z = W @ h + (layer.b if settings.biases else 0.0)
        if act != "softmax":
            return ACTIVATIONS[act](z)
        if settings.softmax == "none":
            return z
        return naive_softmax(z) if settings.softmax == "naive" else softmax(z)
    raise AssertionError("a network has at least one layer")  # pragma: no cover


def predicted_class(output: np.ndarray) -> int:
    return int(np.argmax(output))


def n_parameters(net: Network) -> int:
    return sum(int(layer.W.size + layer.b.size) for layer in net.layers)


def n_weights(net: Network) -> int:
    return sum(int(layer.W.size) for layer in net.layers)


# ---------------------------------------------------------------- random networks
@dataclass(frozen=True)
class Sizes:
    """Ranges (inclusive) the random networks' layer sizes are drawn from."""

    input: tuple[int, int] = (2, 6)
    hidden: tuple[int, int] = (2, 6)
    output: tuple[int, int] = (2, 5)


def random_network(
    rng: np.random.Generator,
    activations: Sequence[str],
    sizes: Sizes,
    *,
    square: bool = False,
    output_shift: float = 0.0,
) -> tuple[Network, np.ndarray]:
    """A network with the given activations and random sizes and weights, and an input.

    ``square`` draws one size for every layer (so transposed weights still
    fit and that mistake can be recognised by its output); ``output_shift``
    is added to the output biases (1000 puts the logits near 1000).
    """
    n_layers = len(activations)

    def draw(lo_hi: tuple[int, int]) -> int:
        return int(rng.integers(lo_hi[0], lo_hi[1] + 1))

    if square:
        lo = max(sizes.input[0], sizes.hidden[0], sizes.output[0])
        hi = min(sizes.input[1], sizes.hidden[1], sizes.output[1])
        n = draw((lo, hi)) if lo <= hi else draw(sizes.output)
        dims = [n] * (n_layers + 1)
    else:
        dims = [draw(sizes.input)] + [draw(sizes.hidden) for _ in range(n_layers - 1)]
        dims.append(draw(sizes.output))
    layers = []
    for i, act in enumerate(activations):
        # rounded weights keep the feedback readable; N(0, 1) makes ReLU cut some units
        W = np.round(rng.normal(0.0, 1.0, size=(dims[i + 1], dims[i])), 2)
        b = np.round(rng.normal(0.0, 1.0, size=dims[i + 1]), 2)
        if i == n_layers - 1:
            b = b + output_shift
        layers.append(Layer(W, b, act))
    x = np.round(rng.normal(0.0, 1.5, size=dims[0]), 2)
    return Network(tuple(layers)), x
