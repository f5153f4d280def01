"""The syntax of case formulas: a small, safe subset of Python expressions.

Case formulas are what an instructor writes about concrete values: a property of the hand-in's
functions (``softmax(z + c) == softmax(z)``), a reference over given data
(``argmax(forward(x, W1, b1, W2, b2))``), a known mistake (``ref * len(X) / (len(X) - 1)``).
They are parsed with :mod:`ast` and only the node types below are accepted; nothing is ever
passed to ``eval``. ``^`` means power, as instructors write it.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Formula", "FormulaError", "compile_formula", "suggest"]

MAX_FORMULA_CHARS = 2000

_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Call, ast.Name,
    ast.Constant, ast.Tuple, ast.List, ast.Subscript, ast.Slice, ast.ListComp,
    ast.comprehension, ast.IfExp, ast.Attribute, ast.keyword, ast.Load, ast.Store,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult, ast.Mod, ast.FloorDiv,
    ast.USub, ast.UAdd, ast.Not, ast.And, ast.Or,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE,
)  # fmt: skip

#: attributes a formula may read: the transpose, and functions of the reference module
_ATTRIBUTES = frozenset({"T"})
REFERENCE_PREFIX = "ref"


class FormulaError(ValueError):
    """A formula that is not acceptable; ``column`` is 1-based where known."""

    def __init__(self, message: str, column: int | None = None) -> None:
        self.column = column
        super().__init__(message if column is None else f"{message} (column {column})")


@dataclass(frozen=True)
class Formula:
    """A parsed case formula and the names it uses."""

    text: str
    tree: ast.Expression
    #: names read as values (arguments, dims, given data, ``ref``, constants)
    variables: frozenset[str]
    #: names called as functions (library, definitions, reference module, hand-in)
    calls: frozenset[str]

    @property
    def is_relation(self) -> bool:
        """A comparison, or comparisons joined by ``and``/``or``/``not``."""
        return _relation(self.tree.body)

    @property
    def bare_name(self) -> str | None:
        """The name, when the whole formula is one name (``reference: ridge``)."""
        body = self.tree.body
        if isinstance(body, ast.Name):
            return body.id
        if isinstance(body, ast.Attribute) and _is_ref(body.value):
            return body.attr
        return None


def _relation(node: ast.AST) -> bool:
    if isinstance(node, ast.Compare):
        return True
    if isinstance(node, ast.BoolOp):
        return all(_relation(v) for v in node.values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return _relation(node.operand)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id in ("all", "any")
    return False


def compile_formula(text: str | int | float) -> Formula:
    """Parse ``text``; raises :class:`FormulaError` naming the column of the problem."""
    source = str(text).strip()
    if not source:
        raise FormulaError("the formula is empty")
    if len(source) > MAX_FORMULA_CHARS:
        raise FormulaError(f"the formula is longer than {MAX_FORMULA_CHARS} characters")
    # `=` alone is how people write an equation; Python needs `==`; `^` is a power, with a
    # power's precedence (Python's xor binds looser than `+`); no strings can hide either
    source = _single_equals(source).replace("^", "**")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"not a formula: {exc.msg}", exc.offset) from None
    variables: set[str] = set()
    calls: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, _NODES):
            raise FormulaError(f"{type(node).__name__} is not allowed in a formula", _column(node))
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, bool)):
            raise FormulaError("only numbers may be written as constants", _column(node))
        if isinstance(node, ast.Attribute) and not (
            node.attr in _ATTRIBUTES or _is_ref(node.value)
        ):
            raise FormulaError(f"`.{node.attr}` is not allowed (only `.T`)", _column(node))
        if isinstance(node, ast.Call):
            calls.add(_callee(node))
        if isinstance(node, ast.comprehension):
            if not isinstance(node.target, ast.Name):
                raise FormulaError("a comprehension takes one name: `for t in grid`")
            bound.add(node.target.id)
    not_values = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    not_values |= {
        id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute) and _is_ref(n.value)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in not_values:
            if isinstance(node.ctx, ast.Load):
                variables.add(node.id)
    return Formula(source, tree, frozenset(variables - bound), frozenset(calls))


def _callee(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and _is_ref(func.value):
        return func.attr
    raise FormulaError("only named functions can be called", _column(node))


def _is_ref(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == REFERENCE_PREFIX


def _column(node: ast.AST) -> int | None:
    offset = getattr(node, "col_offset", None)
    return None if offset is None else offset + 1


def _single_equals(source: str) -> str:
    """``a = b`` as ``a == b``, leaving ``==``, ``<=``, ``>=``, ``!=`` and keywords alone."""
    out = []
    depth = 0
    for i, ch in enumerate(source):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if (
            ch == "="
            and depth == 0
            and source[i - 1 : i] not in ("=", "<", ">", "!")
            and source[i + 1 : i + 2] != "="
        ):
            out.append("==")
        else:
            out.append(ch)
    return "".join(out)


def suggest(name: str, known: Iterable[str]) -> str:
    """`` (did you mean `sigma`?)`` for a misspelt name, or nothing."""
    pool = list(known)
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if not close:
        lowered = {k.lower(): k for k in pool}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return f" (did you mean `{close[0]}`?)" if close else ""
