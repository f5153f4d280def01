"""Kind ``graph_gradient`` (task 6.3b): formulas judged symbolically, numbers as a fallback.

All hand-in variants are functions of one module: one sandbox run answers
every check in this file.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.checks.graph_gradient import MISSING_PATH_KEY, SWAPPED_KEY, GraphGradientCheck
from grader.results import CheckResult
from grader.sandbox.runner import run_probes
from grader.sheet.context import SheetContext, SpecError

NODES = {"c": "a + b", "d": "b + 1", "e": "c * d"}
FORGOT_D = (
    "∂e/∂b = d follows only the path through c and forgets b → d → e: "
    "∂e/∂b = ∂e/∂c·∂c/∂b + ∂e/∂d·∂d/∂b = d + c."
)
FORGOT_C = "∂e/∂b = c forgets the path b → c → e: ∂e/∂b = d + c."
MISTAKES = [
    {"output": 1, "expr": "d", "message": FORGOT_D},
    {"output": 1, "expr": "c", "message": FORGOT_C},
]

HANDIN = """
def gradients(a, b):
    c, d = a + b, b + 1
    return d, d + c

def gradients_numbers(a, b):
    a, b = float(a), float(b)
    return b + 1.0, a + 2.0 * b + 1.0

def gradients_forgot_d(a, b):
    return b + 1, b + 1

def gradients_forgot_c_numbers(a, b):
    a, b = float(a), float(b)
    return b + 1, a + b

def gradients_hardcoded(a, b):
    return (2, 5)

def gradients_swapped(a, b):
    return [a + 2 * b + 1, b + 1]

def gradients_raises(a, b):
    raise ZeroDivisionError("oops")
"""


def spec(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": "graph_gradient",
        "name": "gradients",
        "points": 2,
        "nodes": NODES,
        "output": "e",
        "inputs": ["a", "b"],
        "at": {"a": 2, "b": 1},
        "mistakes": MISTAKES,
    }
    base.update(overrides)
    return base


def make(check_id: str = "6.3b#0", **overrides: Any) -> GraphGradientCheck:
    s = GraphGradientCheck.Spec.model_validate(spec(**overrides))
    return GraphGradientCheck(s, SheetContext(sheet_id="t"), check_id=check_id)


NAMES = [
    "gradients",
    "gradients_numbers",
    "gradients_forgot_d",
    "gradients_forgot_c_numbers",
    "gradients_hardcoded",
    "gradients_swapped",
    "gradients_raises",
    "gradients_missing",
]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CheckResult]:
    path = Path(tmp_path_factory.mktemp("graph")) / "handin.py"
    path.write_text(textwrap.dedent(HANDIN))
    checks = {name: make(f"6.3b#{name}", name=name) for name in NAMES}
    checks["builtin_path"] = make("6.3b#builtin", name="gradients_forgot_d", mistakes=[])
    checks["builtin_path_numbers"] = make(
        "6.3b#builtin_n", name="gradients_forgot_c_numbers", mistakes=[]
    )
    trials = {key: c.trial(np.random.default_rng(3)) for key, c in checks.items()}
    report = run_probes(path, [p for t in trials.values() for p in t.probes])
    return {key: t.judge(report.outcomes) for key, t in trials.items()}


def text(r: CheckResult) -> str:
    return "\n".join(r.feedback)


def keys(r: CheckResult) -> set[str]:
    return {m.key for m in r.mistakes}


def test_solver_gradient_and_explanation() -> None:
    check = make()
    assert [str(g) for g in check.reference] == ["b + 1", "a + 2*b + 1"]
    assert check.expected == [2.0, 5.0]
    a, b = check.inputs
    assert check.graph.explain(b) == ("∂e/∂b = ∂e/∂c·∂c/∂b + ∂e/∂d·∂d/∂b = d + c = a + 2*b + 1")


def test_reference_passes_symbolically(results: dict[str, CheckResult]) -> None:
    r = results["gradients"]
    assert r.passed and r.points == 2, r.feedback
    assert r.method == "symbolic"
    assert "Judged symbolically" in text(r)
    assert r.expected == "(2, 5)" and r.given == "(2, 5)"


def test_numbers_only_passes_numerically(results: dict[str, CheckResult]) -> None:
    r = results["gradients_numbers"]
    assert r.passed and r.points == 2, r.feedback
    assert r.method == "numeric"
    assert "Judged numerically" in text(r) and "does not accept sympy symbols" in text(r)


def test_forgotten_path_is_named_symbolically(results: dict[str, CheckResult]) -> None:
    r = results["gradients_forgot_d"]
    assert keys(r) == {"6.3b#gradients_forgot_d:0"}, r.feedback
    assert FORGOT_D in text(r)
    assert "On ∂e/∂b at a = 2, b = 1: expected 5, but yours gave 2." in text(r)
    assert "By the chain rule, ∂e/∂b = ∂e/∂c·∂c/∂b + ∂e/∂d·∂d/∂b" in text(r)
    assert r.points == pytest.approx(1.0)  # ∂e/∂a is right


def test_forgotten_path_is_named_at_numbers(results: dict[str, CheckResult]) -> None:
    r = results["gradients_forgot_c_numbers"]
    assert keys(r) == {"6.3b#gradients_forgot_c_numbers:1"}, r.feedback
    assert r.method == "numeric"
    assert r.points == pytest.approx(1.0)


def test_built_in_forgotten_path(results: dict[str, CheckResult]) -> None:
    for key, lost in (
        ("builtin_path", "forgets b → d → e"),
        ("builtin_path_numbers", "forgets b → c → e"),
    ):
        r = results[key]
        assert MISSING_PATH_KEY in keys(r), r.feedback
        assert lost in text(r)


def test_hard_coded_values_fail_in_general(results: dict[str, CheckResult]) -> None:
    r = results["gradients_hardcoded"]
    assert "graph_gradient:hard_coded" in keys(r)
    assert "right on a = 2, b = 1 but wrong on other points: is the answer hard-coded?" in text(r)
    assert "is right at a = 2, b = 1 but not in general" in text(r)
    assert r.points == pytest.approx(1.0)


def test_swapped_partial_derivatives(results: dict[str, CheckResult]) -> None:
    r = results["gradients_swapped"]
    assert keys(r) == {SWAPPED_KEY}, r.feedback
    assert r.points == 0


def test_raising_and_missing(results: dict[str, CheckResult]) -> None:
    r = results["gradients_raises"]
    assert r.points == 0 and r.error == "exception"
    assert "`gradients_raises` raised ZeroDivisionError: oops" in text(r)
    r = results["gradients_missing"]
    assert r.points == 0
    assert text(r) == "`gradients_missing` is not defined in your file."


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"nodes": {"c": "a + d", "d": "c * b", "e": "c * d"}}, ("nodes", "c")),
        ({"nodes": {**NODES, "e": "c * z"}}, ("nodes", "e")),
        ({"nodes": {**NODES, "a": "b"}}, ("nodes", "a")),
        ({"output": "f"}, ("output",)),
        ({"at": {"a": 2}}, ("at",)),
        ({"at": {"a": 2, "b": 1, "z": 0}}, ("at", "z")),
        ({"mistakes": [{"output": 2, "expr": "d", "message": "m"}]}, ("mistakes", 0, "output")),
        ({"mistakes": [{"output": 1, "expr": "c + d", "message": "m"}]}, ("mistakes", 0, "expr")),
        ({"mistakes": [{"message": "m"}]}, ("mistakes", 0)),
        ({"nodes": {**NODES, "e": "c * (d"}}, ("nodes", "e")),
        ({"nodes": {**NODES, "e": "log(c - 3)"}}, ("at",)),
    ],
)
def test_bad_specs_name_the_field(overrides: dict[str, Any], field: tuple[Any, ...]) -> None:
    with pytest.raises(SpecError) as info:
        make(**overrides)
    assert info.value.field == field
