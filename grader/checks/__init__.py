"""Check kinds, registered by the YAML ``kind:`` string.

The sheet schema takes its allowed kinds from this dict: adding a kind is
one module with a ``Check`` subclass (and its ``Spec``) plus one line here.
Every kind judges case by case and reports through ``grader.checks.verdict``.
"""

from __future__ import annotations

from grader.checks.base import Check
from grader.checks.expression import ExpressionCheck
from grader.checks.function import FunctionCheck
from grader.checks.graph_gradient import GraphGradientCheck
from grader.checks.manual import ManualCheck
from grader.checks.property import PropertyCheck
from grader.checks.taylor import TaylorCheck
from grader.checks.value import ValueCheck

REGISTRY: dict[str, type[Check]] = {
    "value": ValueCheck,
    "function": FunctionCheck,
    "expression": ExpressionCheck,
    "property": PropertyCheck,
    "taylor": TaylorCheck,
    "graph_gradient": GraphGradientCheck,
    "manual": ManualCheck,
}

__all__ = ["REGISTRY", "Check"]
