"""Check kinds, registered by the YAML ``kind:`` string.

The sheet schema takes its allowed kinds from this dict: adding a kind is
one module with a ``Check`` subclass (and its ``Spec``) plus one line here.
"""

from __future__ import annotations

from grader.checks.base import Check
from grader.checks.divergence import DivergenceCheck
from grader.checks.expression import ExpressionCheck
from grader.checks.function import FunctionCheck
from grader.checks.graph_gradient import GraphGradientCheck
from grader.checks.likelihood import LikelihoodCheck
from grader.checks.manual import ManualCheck
from grader.checks.mle import MleCheck
from grader.checks.network import NetworkCheck
from grader.checks.taylor import TaylorCheck

REGISTRY: dict[str, type[Check]] = {
    "expression": ExpressionCheck,
    "function": FunctionCheck,
    "taylor": TaylorCheck,
    "manual": ManualCheck,
    "network": NetworkCheck,
    "graph_gradient": GraphGradientCheck,
    "likelihood": LikelihoodCheck,
    "mle": MleCheck,
    "divergence": DivergenceCheck,
}

__all__ = ["REGISTRY", "Check"]
