"""The sheet-wide things every check works with: symbols, definitions, families, given data
and the reference module, and the formulas written over them."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sympy

from grader.sheet.common import Definition, Domain, Family

if TYPE_CHECKING:
    from grader.calc import Formula
    from grader.sheet.reference import ReferenceModule
    from grader.solver.families import FamilyModel


class SpecError(ValueError):
    """A check's spec cannot be solved; ``field`` is relative to the check."""

    def __init__(self, field: str | tuple[str | int, ...], message: str) -> None:
        self.field: tuple[str | int, ...] = (field,) if isinstance(field, str) else field
        super().__init__(message)


def symbol_for(name: str, domain: Domain = "real") -> sympy.Symbol:
    if isinstance(domain, tuple):
        lo, _ = domain
        return sympy.Symbol(name, positive=True) if lo >= 0 else sympy.Symbol(name, real=True)
    assumptions = {
        "real": {"real": True},
        "positive": {"positive": True},
        "nonnegative": {"nonnegative": True},
        "integer": {"integer": True},
        "positive_integer": {"integer": True, "positive": True},
    }[domain]
    return sympy.Symbol(name, **assumptions)


def assumptions_of(domain: Domain) -> dict[str, bool]:
    """The sympy assumptions a symbol of this domain carries (for the sandbox's symbols)."""
    s = symbol_for("t", domain)
    keys = ("real", "positive", "nonnegative", "integer")
    return {k: v for k, v in s.assumptions0.items() if k in keys and v is not None}


@dataclass
class SheetContext:
    """What a check needs from its sheet (built once per sheet, shared read-only)."""

    sheet_id: str
    domains: dict[str, Domain] = field(default_factory=dict)
    definitions: dict[str, Definition] = field(default_factory=dict)
    families: dict[str, Family] = field(default_factory=dict)
    seed: int = 0
    given: dict[str, Any] = field(default_factory=dict)
    reference: ReferenceModule | None = None
    #: every name a hand-in defines for this sheet (formulas may call them)
    handin_names: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.symbols: dict[str, sympy.Symbol] = {
            name: symbol_for(name, dom) for name, dom in self.domains.items()
        }
        self.functions: dict[str, sympy.Lambda] = {}
        for name, d in self.definitions.items():
            args = [self.symbol(a) for a in d.args]
            body = self.parse(d.expr, ("definitions", name, "expr"))
            self.functions[name] = sympy.Lambda(tuple(args), body)
        self._numeric: dict[str, Callable[..., Any]] | None = None

    # ------------------------------------------------------------------ symbolic
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

    # ------------------------------------------------------------------ numeric
    @property
    def numeric_functions(self) -> dict[str, Callable[..., Any]]:
        """Trusted functions a case formula may call: definitions, then the reference module."""
        if self._numeric is None:
            from grader.sheet.definitions import numeric_definition

            numeric = {n: numeric_definition(f) for n, f in self.functions.items()}
            if self.reference is not None:
                numeric.update(self.reference.functions)
            self._numeric = numeric
        return self._numeric

    def formula(
        self,
        text: str | int | float,
        field: str | tuple[str | int, ...],
        *,
        variables: Collection[str],
        student: Collection[str] = (),
    ) -> Formula:
        """Compile a case formula, checking every name it uses exists."""
        from grader.sheet.formulas import compile_checked

        return compile_checked(self, text, field, variables=variables, student=student)

    def evaluate_formula(self, text: str, values: Mapping[str, Any]) -> Any:
        from grader.calc import Env, compile_formula, evaluate

        env = Env({**self.given_names(), **values}, self.numeric_functions)
        return evaluate(compile_formula(text), env)

    # ------------------------------------------------------------------ data
    def family(self, name: str) -> FamilyModel:
        from grader.solver.families import family_model

        return family_model(self, name)

    def given_value(self, path: str) -> Any:
        """``net`` or ``net.x``: the sheet's given data, as a function receives it."""
        from grader.generators import as_data

        node: Any = self.given
        for step in path.split("."):
            if not isinstance(node, Mapping) or step not in node:
                raise KeyError(path)
            node = node[step]
        return as_data(node)

    def given_names(self) -> dict[str, Any]:
        """Given data by name, for formulas (``net`` as a mapping and its items by name)."""
        from grader.generators import as_data

        return {k: as_data(v) for k, v in self.given.items() if not isinstance(v, Mapping)}

    def symbol_arg(self, name: str) -> Any:
        from grader.sandbox.protocol import Symbol

        return Symbol(name, assumptions_of(self.domains.get(name, "real")))
