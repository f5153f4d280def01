"""Reading one side of an equation, with the sheet's definitions and the text's own.

Two readings of every side:

- its *value*, for judging: the sheet's functions applied (``\\sigma(x)`` is 1/(1 + e^(−x))),
  functions the text defines (``f(x) = \\frac{1}{1+e^{-x}}``) too, derivatives worked out,
  and the names the sheet defines for the task (a graph's nodes ``c = a + b``) replaced by
  their meaning; a partial derivative by a node holds the other nodes fixed where they do not
  depend on it (∂(c·d)/∂c is d), as in a computational graph;
- its *shape*, for the report and for recognising what a side names: functions stay
  applied by name, derivatives stay unevaluated.

A side that cannot be read raises ``Unreadable`` with the reason; words of three letters or
more that are no function name (``p_{model}``, ``\\text{weights}``, ``arg max``) are not
formulas this reader guesses at.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy
from sympy.core.function import AppliedUndef

from grader.judge.latex import FUNCTION_NAMES, derived_functions, latex_to_sympy_syntax
from grader.judge.parse import ExpressionError, parse_expression

_COMMAND = re.compile(r"\\[A-Za-z]+")
_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]{3,}")
#: a local function definition's left side: ``f(x)``, ``g(t)``, ``\phi(x)``
_DEFINITION = re.compile(
    r"^\s*\\?([A-Za-z]+)((?:\s*[_^]\s*(?:\{[\w\\]+\}|\w))*)\s*\(\s*\\?([A-Za-z]+)\s*\)\s*$"
)
_VECTOR = re.compile(r"^\s*(?:\\left\s*)?([(\[])(.*?)(?:\\right\s*)?[)\]]\s*$", re.DOTALL)
_MATRIX = re.compile(r"^\s*\\begin\{[pbv]?matrix\}(.*)\\end\{[pbv]?matrix\}\s*$", re.DOTALL)


class Unreadable(ValueError):
    """The side is not a formula the reader can read (the message says why)."""


@dataclass
class Reader:
    """Reads the sides of one task, in its context."""

    symbols: dict[str, sympy.Symbol]
    #: the sheet's definitions (and the text's own, added as they are found)
    functions: dict[str, sympy.Lambda]
    #: names with a meaning in the sheet's symbols (a graph's nodes): name -> expression
    definitions: dict[str, sympy.Expr] = field(default_factory=dict)

    def define(self, left: str, right: str) -> str | None:
        """``f(x) = …`` defines the text's own function ``f`` ("function"); ``T_3(x) = …``
        or ``L(\\theta) = …`` names something new ("naming"); None for anything else."""
        m = _DEFINITION.match(left)
        if m is None:
            return None
        name, var = m.group(1), m.group(3)
        if name in self.functions or name in FUNCTION_NAMES or name in self.definitions:
            return None
        t = self.symbols.get(var) or sympy.Symbol(var, real=True)
        try:
            body = self.value(right)
        except Unreadable:
            return "naming"
        if m.group(2) or body.free_symbols - {t}:
            return "naming"
        self.functions[name] = sympy.Lambda(t, body)
        return "function"

    # ------------------------------------------------------------------ value
    def value(self, latex: str) -> sympy.Expr:
        expr = self._parse(latex, self.functions, self._symbols())
        return self._evaluate(expr)

    def _symbols(self) -> dict[str, sympy.Symbol]:
        names = {n: sympy.Symbol(n, real=True) for n in self.definitions}
        return {**self.symbols, **names}

    def _evaluate(self, expr: sympy.Expr) -> sympy.Expr:
        nodes = {sympy.Symbol(n, real=True): e for n, e in self.definitions.items()}
        expr = expr.replace(
            lambda e: isinstance(e, sympy.Derivative), lambda d: _graph_derivative(d, nodes)
        )
        expr = _expand(expr, nodes)
        if expr.atoms(AppliedUndef):
            raise Unreadable("it applies a function the sheet does not define")
        return expr

    # ------------------------------------------------------------------ shape
    def shape(self, latex: str) -> sympy.Expr:
        """The side as written: named functions unapplied, derivatives unevaluated."""
        names = {n: sympy.Function(n) for n in self.functions}
        return self._parse(latex, names, self._symbols())

    def vector(self, latex: str) -> list[str] | None:
        """The entries of ``(1, 0)``, ``[1, 0]`` or a pmatrix, as LaTeX; None if no vector."""
        m = _MATRIX.match(latex)
        if m:
            rows = [r for r in re.split(r"\\\\", m.group(1)) if r.strip()]
            cells = [c for r in rows for c in r.split("&")]
            return [c.strip() for c in cells] if len(cells) >= 2 else None
        m = _VECTOR.match(latex)
        if m is None:
            return None
        inner = m.group(2)
        parts, depth, last = [], 0, 0
        for i, ch in enumerate(inner):
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
            elif ch == "," and depth == 0:
                parts.append(inner[last:i])
                last = i + 1
        parts.append(inner[last:])
        return [p.strip() for p in parts] if len(parts) >= 2 else None

    def _parse(
        self, latex: str, functions: Mapping[str, object], symbols: Mapping[str, sympy.Symbol]
    ) -> sympy.Expr:
        plain = _COMMAND.sub(" ", latex)
        word = next((w for w in _WORD.findall(plain) if w not in FUNCTION_NAMES), None)
        if word is not None:
            raise Unreadable(f"“{word}” is a word, not a formula")
        try:
            syntax = latex_to_sympy_syntax(latex, functions=functions, symbols=symbols)
            known = dict(functions)
            known.update(derived_functions(_derived(syntax), functions))
            expr = parse_expression(syntax, symbols=symbols, functions=known)  # type: ignore[arg-type]
        except (ExpressionError, RecursionError, TypeError, ValueError) as exc:
            raise Unreadable(str(exc)) from None
        if not isinstance(expr, sympy.Expr):
            raise Unreadable("it is not an expression")
        return expr


def _derived(syntax: str) -> dict[str, tuple[str, int]]:
    return {
        m.group(0): (m.group(1), int(m.group(2))) for m in re.finditer(r"(\w+?)__d(\d+)", syntax)
    }


def _expand(expr: sympy.Expr, nodes: Mapping[sympy.Symbol, sympy.Expr]) -> sympy.Expr:
    """Replace defined names by their meaning until none is left (definitions form no cycle)."""
    for _ in range(len(nodes) + 1):
        if not expr.free_symbols & set(nodes):
            break
        expr = expr.xreplace(dict(nodes))
    return expr


def _graph_derivative(d: sympy.Derivative, nodes: Mapping[sympy.Symbol, sympy.Expr]) -> sympy.Expr:
    """∂f/∂v in a computational graph: the other names expanded, ``v`` kept, then d/dv."""
    expr = d.expr
    for v, count in d.variable_count:
        keep = {n: e for n, e in nodes.items() if n != v}
        inner = _expand(expr, keep) if v in nodes else _expand(expr, nodes)
        expr = sympy.diff(inner, v, count)
    return expr


def canonical_shape(expr: sympy.Expr) -> sympy.Expr:
    """One spelling for a derivative of a named function: d/dx σ(x) and σ'(x) are the same."""

    def rename(d: sympy.Derivative) -> sympy.Expr:
        inner = d.expr
        if isinstance(inner, AppliedUndef) and len(d.variable_count) == 1:
            v, n = d.variable_count[0]
            if inner.args == (v,):
                return sympy.Function(f"{type(inner).__name__}__d{int(n)}")(v)
        return d

    return expr.replace(lambda e: isinstance(e, sympy.Derivative), rename)
