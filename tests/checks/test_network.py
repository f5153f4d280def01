"""Kind ``network`` (task 6.3a): the reference passes, each handout mistake is named.

Every hand-in variant is a function in one module, so one sandbox run
answers all the checks of this file (each check reads its own ``name``).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.checks.network import NetworkCheck
from grader.results import CheckResult
from grader.sandbox.runner import run_probes
from grader.sheet.context import SheetContext, SpecError

GIVEN = {
    "x": [3, 1, -1],
    "W1": [[2, 1, -2], [-1, -3, 5]],
    "b1": [0, 0],
    "W2": [[6, -1], [2, 8]],
    "b2": [0, 0],
}
MISTAKES = [
    {
        "variant": {"hidden_activation": "identity"},
        "message": "ReLU is missing: the hidden layer must apply max(0, ·).",
    },
    {
        "variant": {"transpose": True},
        "message": "The weights are transposed: row i of W holds the weights into unit i.",
    },
    {
        "variant": {"softmax": "per_summand"},
        "message": "Softmax is taken over the summands of each logit, not over the logits.",
    },
    {"variant": {"biases": False}, "message": "The biases are never added."},
    {"variant": {"softmax": "none"}, "message": "Softmax is missing: the output are the logits."},
]

HANDIN = """
import numpy as np

def _softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()

def forward(x, W1, b1, W2, b2):
    h = np.maximum(0, W1 @ x + b1)
    return _softmax(W2 @ h + b2)

PREDICTED_CLASS = 0
N_PARAMETERS = 14
CLASS_ONE_BASED = 1
WEIGHTS_ONLY = 10

def forward_norelu(x, W1, b1, W2, b2):
    return _softmax(W2 @ (W1 @ x + b1) + b2)

def forward_transposed(x, W1, b1, W2, b2):
    h = np.maximum(0, W1.T @ x + b1)
    return _softmax(W2.T @ h + b2)

def forward_per_summand(x, W1, b1, W2, b2):
    h = np.maximum(0, W1 @ x + b1)
    e = np.exp(W2 * h)
    return e / e.sum(axis=1, keepdims=True)

def forward_nobias(x, W1, b1, W2, b2):
    return _softmax(W2 @ np.maximum(0, W1 @ x))

def forward_naive(x, W1, b1, W2, b2):
    e = np.exp(W2 @ np.maximum(0, W1 @ x + b1) + b2)
    return e / e.sum()

def forward_logits(x, W1, b1, W2, b2):
    return W2 @ np.maximum(0, W1 @ x + b1) + b2

def forward_hardcoded(x, W1, b1, W2, b2):
    return [1.0, 2.3195228302435696e-16]

def forward_raises(x, W1, b1, W2, b2):
    raise NotImplementedError("todo")

def forward_column(x, W1, b1, W2, b2):
    h = np.maximum(0, W1 @ x.reshape(-1, 1) + b1.reshape(-1, 1))
    z = W2 @ h + b2.reshape(-1, 1)
    e = np.exp(z - z.max())
    return e / e.sum()

def forward3(x, W1, b1, W2, b2, W3, b3):
    h = np.tanh(W1 @ x + b1)
    h = np.logaddexp(0, W2 @ h + b2)
    return W3 @ h + b3
"""

NAMES = [
    "forward",
    "forward_norelu",
    "forward_transposed",
    "forward_per_summand",
    "forward_nobias",
    "forward_naive",
    "forward_logits",
    "forward_hardcoded",
    "forward_raises",
    "forward_missing",
    "forward_column",
]


def spec(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": "network",
        "name": "forward",
        "points": 3,
        "layers": [{"activation": "relu"}, {"activation": "softmax"}],
        "given": GIVEN,
        "predicted_class": "PREDICTED_CLASS",
        "n_parameters": "N_PARAMETERS",
        "points_split": {
            "given": 1,
            "random": 0.75,
            "large_logits": 0.25,
            "predicted_class": 0.5,
            "n_parameters": 0.5,
        },
        "mistakes": MISTAKES,
    }
    base.update(overrides)
    return base


def make(check_id: str = "6.3a#0", **overrides: Any) -> NetworkCheck:
    s = NetworkCheck.Spec.model_validate(spec(**overrides))
    return NetworkCheck(s, SheetContext(sheet_id="t"), check_id=check_id)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CheckResult]:
    path = Path(tmp_path_factory.mktemp("network")) / "handin.py"
    path.write_text(textwrap.dedent(HANDIN))
    checks: dict[str, NetworkCheck] = {name: make(f"6.3a#{name}", name=name) for name in NAMES}
    checks["class_one_based"] = make(
        "6.3a#class",
        name="forward_missing",
        predicted_class="CLASS_ONE_BASED",
        n_parameters="WEIGHTS_ONLY",
        random_networks=0,
        large_logits=False,
    )
    checks["transposed_not_square"] = make(
        "6.3a#tns", name="forward_transposed", random_networks=1, large_logits=False
    )
    checks["three_layers"] = make(
        "6.3a#three",
        name="forward3",
        layers=[{"activation": "tanh"}, {"activation": "softplus"}, {"activation": "identity"}],
        given={
            "x": [1, -2],
            "W1": [[1, 0.5], [-1, 2], [0, 1]],
            "b1": [0.1, 0, -0.2],
            "W2": [[1, 2, 3], [0, -1, 1]],
            "b2": [0, 1],
            "W3": [[1, -1]],
            "b3": [0.5],
        },
        large_logits=False,
        predicted_class=None,
        n_parameters=None,
        mistakes=[],
    )
    trials = {key: c.trial(np.random.default_rng(1)) for key, c in checks.items()}
    probes = [p for t in trials.values() for p in t.probes]
    report = run_probes(path, probes)
    return {key: t.judge(report.outcomes) for key, t in trials.items()}


def keys(result: CheckResult) -> set[str]:
    return {m.key for m in result.mistakes}


def text(result: CheckResult) -> str:
    return "\n".join(result.feedback)


def test_reference_passes(results: dict[str, CheckResult]) -> None:
    r = results["forward"]
    assert r.passed and r.points == 3, r.feedback
    assert not r.mistakes
    assert r.expected and "2.319523e-16" in r.expected


def test_three_layer_network_from_yaml_alone(results: dict[str, CheckResult]) -> None:
    r = results["three_layers"]
    assert r.passed and r.points == 3, r.feedback


def test_column_vectors_are_accepted(results: dict[str, CheckResult]) -> None:
    assert results["forward_column"].passed, results["forward_column"].feedback


@pytest.mark.parametrize(
    ("name", "index"),
    [
        ("forward_norelu", 0),
        ("forward_transposed", 1),
        ("forward_per_summand", 2),
        ("forward_nobias", 3),
        ("forward_logits", 4),
    ],
)
def test_handout_mistakes_are_named(results: dict[str, CheckResult], name: str, index: int) -> None:
    r = results[name]
    assert not r.passed
    assert f"6.3a#{name}:{index}" in keys(r), r.feedback
    assert MISTAKES[index]["message"] in text(r)
    assert "matches the forward pass with" in text(r)  # which variant matched


def test_per_summand_is_recognised_on_the_sheets_network(results: dict[str, CheckResult]) -> None:
    r = results["forward_per_summand"]
    assert "on the sheet's network matches the forward pass with the softmax taken over" in text(r)
    assert r.points == pytest.approx(1.0)  # the two constants only


def test_transposed_weights_get_the_shape_hint(results: dict[str, CheckResult]) -> None:
    # the square random network shows the mistake by its output ...
    assert "raised ValueError" in text(results["forward_transposed"])
    # ... without one, only the shape error tells
    r = results["transposed_not_square"]
    assert "are the weights transposed?" in text(r)
    assert r.points == pytest.approx(3 * 1 / 2.75)  # the constants; weights renormalised


def test_softmax_overflow_is_named(results: dict[str, CheckResult]) -> None:
    r = results["forward_naive"]
    assert "network:softmax_overflow" in keys(r)
    assert "overflows for logits near 1000" in text(r)
    assert r.points == pytest.approx(3 * 2.75 / 3)


def test_hard_coded_answer_fails_the_random_networks(results: dict[str, CheckResult]) -> None:
    r = results["forward_hardcoded"]
    assert "network:hard_coded" in keys(r)
    assert "is the answer hard-coded?" in text(r)
    assert r.points == pytest.approx(2.0)  # the sheet's network and the two constants
    assert "For example, on random network" in text(r)


def test_raising_and_missing_functions(results: dict[str, CheckResult]) -> None:
    raised = results["forward_raises"]
    assert "`forward_raises` raised NotImplementedError: todo" in text(raised)
    assert raised.points == pytest.approx(1.0) and raised.error == "exception"
    missing = results["forward_missing"]
    assert "`forward_missing` is not defined in your file." in text(missing)
    assert missing.points == pytest.approx(1.0)


def test_constants_mistakes(results: dict[str, CheckResult]) -> None:
    r = results["class_one_based"]
    assert {"network:class_one_based", "network:params_weights_only"} <= keys(r)
    assert r.points == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"given": {**GIVEN, "W2": [[6, -1, 0], [2, 8, 0]]}}, ("given", "W2")),
        ({"given": {**GIVEN, "b1": [0, 0, 0]}}, ("given", "b1")),
        ({"given": {k: v for k, v in GIVEN.items() if k != "b2"}}, ("given",)),
        ({"given": {**GIVEN, "W3": [[1]]}}, ("given", "W3")),
        ({"given": {**GIVEN, "W1": [[2, 1], [-1, -3, 5]]}}, ("given", "W1")),
        (
            {"layers": [{"activation": "softmax"}, {"activation": "softmax"}]},
            ("layers", 0, "activation"),
        ),
        (
            {"layers": [{"activation": "relu"}, {"activation": "tanh"}], "mistakes": []},
            ("large_logits",),
        ),
        ({"mistakes": [{"variant": {"relu": False}, "message": "m"}]}, ("mistakes", 0, "variant")),
        ({"mistakes": [{"expr": "x", "message": "m"}]}, ("mistakes", 0)),
        ({"predicted_class": "not a name"}, ("predicted_class",)),
    ],
)
def test_bad_specs_name_the_field(overrides: dict[str, Any], field: tuple[Any, ...]) -> None:
    with pytest.raises(SpecError) as info:
        make(**overrides)
    assert info.value.field == field
