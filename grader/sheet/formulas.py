"""Case formulas in a sheet, checked when the sheet loads: every name must exist.

A reference naming ``sigmoid`` where the sheet defines ``sigma`` is an error with a
suggestion, not a check that later refuses every right answer.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from grader.calc import CONSTANTS, FUNCTIONS, Formula, FormulaError, compile_formula, suggest

if TYPE_CHECKING:
    from grader.sheet.context import SheetContext


def compile_checked(
    ctx: SheetContext,
    text: str | int | float,
    field: str | tuple[str | int, ...],
    *,
    variables: Collection[str],
    student: Collection[str] = (),
) -> Formula:
    from grader.sheet.context import SpecError

    try:
        formula = compile_formula(text)
    except FormulaError as exc:
        raise SpecError(field, f"{text!r}: {exc}") from None
    known_values = {*variables, *ctx.given_names(), *CONSTANTS}
    known_calls = {*FUNCTIONS, *ctx.numeric_functions, *student}
    for name in sorted(formula.variables - known_values):
        # a bare name may be meant as a function of the reference module (`reference: ridge`)
        hint = suggest(name, known_values | set(ctx.numeric_functions))
        where = ", ".join(sorted(variables)) or "none"
        raise SpecError(
            field,
            f"{text!r} uses `{name}`, which is not defined here{hint}; "
            f"the values it may use are: {where}",
        )
    for name in sorted(formula.calls - known_calls):
        hint = suggest(name, known_calls)
        defined = sorted(set(ctx.numeric_functions) | set(student)) or ["none"]
        raise SpecError(
            field,
            f"{text!r} calls `{name}`, which is neither a definition of the sheet, a "
            f"function of its reference module, a name of the hand-in nor a built-in{hint} "
            f"(defined: {', '.join(defined)})",
        )
    return formula
