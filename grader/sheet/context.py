"""The sheet-wide things every check works with: symbols, definitions, families."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy

from grader.sheet.common import Definition, Domain, Family


class SpecError(ValueError):
    """A check's spec cannot be solved; ``field`` is relative to the check."""

    def __init__(self, field: str | tuple[str | int, ...], message: str) -> None:
        self.field: tuple[str | int, ...] = (field,) if isinstance(field, str) else field
        super().__init__(message)


def symbol_for(name: str, domain: Domain = "real") -> sympy.Symbol:
    if isinstance(domain, tuple):
        lo, hi = domain
        if lo >= 0:
            return sympy.Symbol(name, positive=True) if lo >= 0 else sympy.Symbol(name, real=True)
        return sympy.Symbol(name, real=True)
    assumptions = {
        "real": {"real": True},
        "positive": {"positive": True},
        "nonnegative": {"nonnegative": True},
        "integer": {"integer": True},
        "positive_integer": {"integer": True, "positive": True},
    }[domain]
    return sympy.Symbol(name, **assumptions)


@dataclass
class SheetContext:
    """What a check needs from its sheet (built once per sheet, shared read-only)."""

    sheet_id: str
    domains: dict[str, Domain] = field(default_factory=dict)
    definitions: dict[str, Definition] = field(default_factory=dict)
    families: dict[str, Family] = field(default_factory=dict)
    seed: int = 0

    def __post_init__(self) -> None:
        self.symbols: dict[str, sympy.Symbol] = {
            name: symbol_for(name, dom) for name, dom in self.domains.items()
        }
        self.functions: dict[str, sympy.Lambda] = {}
        for name, d in self.definitions.items():
            args = [self.symbol(a) for a in d.args]
            body = self.parse(d.expr, ("definitions", name, "expr"))
            self.functions[name] = sympy.Lambda(tuple(args), body)

    def symbol(self, name: str) -> sympy.Symbol:
        if name not in self.symbols:
            self.symbols[name] = symbol_for(name, self.domains.get(name, "real"))
        return self.symbols[name]

    def parse(
        self,
        text: str | int | float,
        field: str | tuple[str | int, ...],
        *,
        extra: Mapping[str, Any] | None = None,
    ) -> sympy.Expr:
        """Parse an instructor's expression with the sheet's symbols and definitions."""
        from grader.judge.parse import ExpressionError, parse_expression

        symbols = dict(self.symbols)
        if extra:
            symbols.update(extra)
        try:
            return parse_expression(str(text), symbols=symbols, functions=self.functions)
        except ExpressionError as exc:
            raise SpecError(field, f"the expression {text!r} does not parse: {exc}") from exc
