"""Case formulas: a small, safe expression language evaluated on trusted values."""

from __future__ import annotations

from grader.calc.evaluate import (
    PENDING,
    Answers,
    Collector,
    Env,
    StudentCall,
    Tolerance,
    call_key,
    evaluate,
    relation_holds,
    values_equal,
)
from grader.calc.library import CONSTANTS, FUNCTIONS
from grader.calc.syntax import Formula, FormulaError, compile_formula, suggest

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "PENDING",
    "Answers",
    "Collector",
    "Env",
    "Formula",
    "FormulaError",
    "StudentCall",
    "Tolerance",
    "call_key",
    "compile_formula",
    "evaluate",
    "relation_holds",
    "suggest",
    "values_equal",
]
