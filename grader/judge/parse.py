"""Safe parser for expressions in sympy syntax.

Student answers and sheet formulas arrive as text. ``sympy.sympify`` runs ``eval`` and would
execute whatever a student types, so this module parses with :mod:`ast`, accepts a small
whitelist of node types and names, and builds the sympy expression itself.

Conventions (documented in docs/judgement.md):

* ``^`` means power (``x^2``), as students write it; Python's xor is never meant.
* ``n!`` is the factorial.
* ``e`` is Euler's number unless ``symbols`` maps ``e``; ``E``, ``pi``, ``I``, ``oo`` as in sympy.
* Unknown names are real symbols; unknown *called* names are undefined functions.
* ``integrate``/``summation``/``product``/``limit`` build unevaluated ``Integral``/``Sum``/...
  (evaluating them can take unbounded time; the judge evaluates them under its time budget).
* ``lambda`` as a plain name is the symbol ``lambda`` (a regularisation weight in ML sheets);
  ``lambda x: ...`` is rejected.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sympy

from grader.judge.budget import BudgetExceeded, cpu_budget
from grader.judge.names import (
    ALIASES,
    CONSTANTS,
    NUMBER_CONSTRUCTORS,
    is_abstract_function_name,
    known_function_names,
)
from grader.judge.syntax import LAMBDA_NAME, MAX_NESTING, ExpressionError, diagnose, rewrite

__all__ = ["ExpressionError", "parse_expression", "parse_ast", "ParsedText", "MAX_NESTING"]

#: integers with more digits than this are refused (10**10**10 must fail fast, not hang)
MAX_DIGITS = 10_000
#: factorial/gamma/harmonic/zeta of larger numbers is refused for the same reason
MAX_FACTORIAL = 5_000
#: CPU seconds that reading one text may take (building can evaluate: factorial(4999))
PARSE_BUDGET = 2.0

_ALIASES = ALIASES
_CONSTANTS = CONSTANTS
_NUMBER_CONSTRUCTORS = NUMBER_CONSTRUCTORS
_CMP = {ast.Lt: sympy.Lt, ast.LtE: sympy.Le, ast.Gt: sympy.Gt, ast.GtE: sympy.Ge,
        ast.Eq: sympy.Eq, ast.NotEq: sympy.Ne}
_LAMBDA_NAME = LAMBDA_NAME


@dataclass(frozen=True)
class ParsedText:
    """A validated syntax tree, and how to map its offsets back to the original text."""

    tree: ast.expr
    source: str  # the rewritten text the tree was parsed from
    original: str
    offsets: tuple[int, ...]  # offsets[i] = position in original of source[i]

    def position(self, node: ast.AST | None) -> int | None:
        col = getattr(node, "col_offset", None)
        if col is None or getattr(node, "lineno", 1) != 1:
            return None
        return self.offsets[min(col, len(self.offsets) - 1)] if self.offsets else 0


def parse_ast(text: str, *, max_length: int = 20000) -> ParsedText:
    """Validate ``text`` and return its syntax tree (shared with the structural answer test).

    Sizes are checked before any parsing: the length, then the nesting of brackets, then the
    depth of the tree (long flat sums and products are fine; ``x**x**x...`` is not)."""
    if not isinstance(text, str):
        raise ExpressionError(f"expected a string, got {type(text).__name__}", None, str(text))
    if len(text) > max_length:
        raise ExpressionError(
            f"the expression is {len(text)} characters long; the limit is {max_length}",
            max_length, text[:200],
        )
    if not text.strip():
        raise ExpressionError("the expression is empty", 0, text)
    try:
        src, offsets = rewrite(text)
    except ExpressionError as exc:
        raise ExpressionError(exc.message, exc.position, text) from None
    try:
        tree = ast.parse(src.strip(), mode="eval").body
    except SyntaxError as exc:
        col = (exc.offset or 1) - 1 + (len(src) - len(src.lstrip()))
        pos, message = _syntax_message(src, offsets, exc, col)
        raise ExpressionError(message, pos, text) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(
            "the expression is too long a chain of operations (more than about 2,000 in a row)"
            " or too deeply nested to read", None, text) from None
    lead = len(src) - len(src.lstrip())
    parsed = ParsedText(tree, src, text, tuple(offsets[lead:]) or (0,))
    _check_depth(parsed)
    _validate(parsed)
    return parsed


def _syntax_message(src: str, offsets: list[int], exc: SyntaxError, col: int) -> tuple[int, str]:
    """Where reading stopped and what was expected there."""
    found = diagnose(src)
    if found is not None:
        at, what = found
        pos = offsets[min(at, len(offsets) - 1)] if offsets else 0
    else:
        pos = offsets[min(col, len(offsets) - 1)] if offsets else 0
        what = exc.msg.replace("invalid syntax. Perhaps you forgot a comma?",
                               "expected an operator or a comma")
    return pos, f"cannot read the expression at column {pos + 1}: {what}"


def _check_depth(parsed: ParsedText) -> None:
    """Refuse trees deeper than MAX_NESTING; a chain of + or * counts as one level."""
    stack: list[tuple[ast.AST, int, type | None]] = [(parsed.tree, 1, None)]
    while stack:
        node, depth, chain = stack.pop()
        if depth > MAX_NESTING:
            where = parsed.position(node)
            col = f" at column {where + 1}" if where is not None else ""
            raise ExpressionError(
                f"the expression is nested too deeply{col}: at most {MAX_NESTING} levels of"
                " operations are accepted", where, parsed.original)
        kind = _chain_kind(node)
        for child in ast.iter_child_nodes(node):
            same = kind is not None and kind is _chain_kind(child)
            stack.append((child, depth if same else depth + 1, kind))


def _chain_kind(node: ast.AST) -> type | None:
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, (ast.Add, ast.Sub)):
            return ast.Add
        if isinstance(node.op, (ast.Mult, ast.Div)):
            return ast.Mult
    return None


_ALLOWED = (
    ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Constant, ast.Tuple, ast.List,
    ast.Compare, ast.BoolOp, ast.Load,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd, ast.Not,
    ast.And, ast.Or, *_CMP,
)


def _validate(parsed: ParsedText) -> None:
    try:
        nodes = list(ast.walk(parsed.tree))
    except RecursionError:
        raise ExpressionError(
            "the expression is too deeply nested", None, parsed.original
        ) from None
    for node in nodes:
        where = parsed.position(node)
        col = f" (column {where + 1})" if where is not None else ""
        if isinstance(node, ast.Attribute):
            dot = parsed.position(node.value)
            end = getattr(node.value, "end_col_offset", None)
            if end is not None:
                dot = parsed.offsets[min(end, len(parsed.offsets) - 1)]
            raise ExpressionError(
                f"attribute access `.{node.attr}` is not allowed"
                + (f" (column {dot + 1})" if dot is not None else ""),
                dot, parsed.original,
            )
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise ExpressionError(
                f"the name `{node.id}` is not allowed (names may not start with _){col}",
                where, parsed.original,
            )
        if isinstance(node, ast.Subscript):
            raise ExpressionError(
                f"subscripts `[...]` are not allowed{col}; write x_1 for an indexed variable",
                where, parsed.original,
            )
        if isinstance(node, ast.Lambda):
            raise ExpressionError(f"lambda expressions are not allowed{col}", where,
                                  parsed.original)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            raise ExpressionError(f"comprehensions are not allowed{col}", where, parsed.original)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitXor):
            raise ExpressionError(f"`^` is not allowed here{col}", where, parsed.original)
        if isinstance(node, ast.Call) and node.keywords:
            raise ExpressionError(f"keyword arguments are not allowed{col}", where,
                                  parsed.original)
        if isinstance(node, ast.Call) and not isinstance(node.func, ast.Name):
            raise ExpressionError(
                f"expected an operator before the bracket{col}: write `*` for a product, as in"
                " (x+1)*(x-1); only named functions can be called", where, parsed.original)
        if isinstance(node, ast.Constant) and isinstance(node.value, complex):
            raise ExpressionError(
                f"complex literals like `2j` are not allowed{col}; write 2*I", where,
                parsed.original,
            )
        if isinstance(node, ast.Constant) and node.value is Ellipsis:
            raise ExpressionError(f"`...` is not allowed{col}", where, parsed.original)
        if not isinstance(node, _ALLOWED):
            what = type(node).__name__
            raise ExpressionError(f"`{what}` syntax is not allowed in an expression{col}",
                                  where, parsed.original)


# ---------------------------------------------------------------------------- building

class _Builder:
    def __init__(
        self,
        parsed: ParsedText,
        symbols: Mapping[str, Any] | None,
        functions: Mapping[str, Any] | None,
    ) -> None:
        self.parsed = parsed
        self.symbols = dict(symbols or {})
        self.functions = dict(functions or {})
        self._made: dict[str, sympy.Symbol] = {}
        self._undef: dict[str, Any] = {}

    def fail(self, message: str, node: ast.AST | None) -> ExpressionError:
        where = self.parsed.position(node)
        col = f" (column {where + 1})" if where is not None else ""
        return ExpressionError(message + col, where, self.parsed.original)

    # names -----------------------------------------------------------------
    def name(self, node: ast.Name) -> Any:
        ident = "lambda" if node.id == _LAMBDA_NAME else node.id
        if ident in self.symbols:
            return self.symbols[ident]
        if ident in _CONSTANTS:
            return _CONSTANTS[ident]
        if ident in self.functions or ident in _ALIASES:
            raise self.fail(f"`{ident}` is a function; call it like {ident}(x)", node)
        sym = self._made.get(ident)
        if sym is None:
            sym = self._made[ident] = sympy.Symbol(ident, real=True)
        return sym

    # nodes -----------------------------------------------------------------
    def build(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp):
            operand = self.build(node.operand)
            if isinstance(node.op, ast.USub):
                return -operand
            if isinstance(node.op, ast.UAdd):
                return operand
            return sympy.Not(operand)
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, (ast.Tuple, ast.List)):
            return sympy.Tuple(*[self.build(e) for e in node.elts])
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                parts = []
                left = node.left
                for op, right in zip(node.ops, node.comparators, strict=True):
                    parts.append(_CMP[type(op)](self.build(left), self.build(right)))
                    left = right
                return sympy.And(*parts)
            return _CMP[type(node.ops[0])](self.build(node.left), self.build(node.comparators[0]))
        if isinstance(node, ast.BoolOp):
            op = sympy.And if isinstance(node.op, ast.And) else sympy.Or
            return op(*[self.build(v) for v in node.values])
        raise self.fail(f"`{type(node).__name__}` is not allowed", node)

    def constant(self, node: ast.Constant) -> Any:
        value = node.value
        if isinstance(value, bool):
            return sympy.true if value else sympy.false
        if isinstance(value, int):
            if value.bit_length() > MAX_DIGITS * 3.33:
                raise self.fail("the number is too large", node)
            return sympy.Integer(value)
        if isinstance(value, float):
            # The literal's own digits, not the binary double: 0.1 must stay 1/10 in decimal.
            literal = self._literal(node)
            digits = len(re.sub(r"[^0-9]", "", re.split(r"[eE]", literal)[0]).lstrip("0"))
            return sympy.Float(literal, max(15, digits))
        if isinstance(value, str):
            raise self.fail("text strings are not allowed (except as Float('...'))", node)
        raise self.fail(f"the constant {value!r} is not allowed", node)

    def _literal(self, node: ast.AST) -> str:
        seg = ast.get_source_segment(self.parsed.source.strip(), node)
        return (seg or repr(getattr(node, "value", ""))).replace("_", "")

    def binop(self, node: ast.BinOp) -> Any:
        # Long chains like x+x+...+x are left-deep: walk them without recursion.
        if isinstance(node.op, (ast.Add, ast.Sub)):
            terms: list[tuple[bool, ast.expr]] = []
            cur: ast.expr = node
            while isinstance(cur, ast.BinOp) and isinstance(cur.op, (ast.Add, ast.Sub)):
                terms.append((isinstance(cur.op, ast.Sub), cur.right))
                cur = cur.left
            values = [self.build(cur)]
            for neg, term in reversed(terms):
                v = self.build(term)
                values.append(-v if neg else v)
            return sympy.Add(*values)
        if isinstance(node.op, (ast.Mult, ast.Div)):
            return self.product(node)
        if isinstance(node.op, ast.Pow):
            left = self.build(node.left)
            right = self.build(node.right)
            self._check_power(left, right, node)
            return left**right
        raise self.fail(f"the operator `{type(node.op).__name__}` is not allowed", node)

    def product(self, node: ast.BinOp) -> Any:
        """``a*b/c*d``, left-deep in the tree: walked without recursion, built left to right."""
        steps: list[tuple[bool, ast.expr]] = []
        cur: ast.expr = node
        while isinstance(cur, ast.BinOp) and isinstance(cur.op, (ast.Mult, ast.Div)):
            steps.append((isinstance(cur.op, ast.Div), cur.right))
            cur = cur.left
        out = self.build(cur)
        for divide, term in reversed(steps):
            v = self.build(term)
            out = out / v if divide else out * v
        return out

    def _check_power(self, base: Any, exponent: Any, node: ast.AST) -> None:
        if not (isinstance(base, sympy.Rational) and isinstance(exponent, sympy.Number)):
            return
        if exponent.is_infinite or base in (0, 1, -1):
            return
        size = max(abs(base.p), abs(base.q))
        digits = math.log10(size) * abs(float(exponent))
        if digits > MAX_DIGITS:
            raise self.fail(
                f"the power has about {digits:.3g} digits; numbers over {MAX_DIGITS} digits "
                "are not accepted", node,
            )

    def call(self, node: ast.Call) -> Any:
        assert isinstance(node.func, ast.Name)
        name = "lambda" if node.func.id == _LAMBDA_NAME else node.func.id
        if name in self.functions:
            fn = self.functions[name]
            args = [self.build(a) for a in node.args]
            try:
                return fn(*args)
            except (TypeError, ValueError) as exc:
                raise self.fail(f"cannot apply `{name}` to {len(args)} argument(s): {exc}",
                                node) from None
        if name in _NUMBER_CONSTRUCTORS:
            return self.number(name, node)
        if name in self.symbols:
            raise self.fail(
                f"`{name}` is a variable, not a function; write {name}*(...) for a product", node
            )
        if name in _CONSTANTS:
            raise self.fail(f"`{name}` is a constant, not a function", node)
        args = [self.build(a) for a in node.args]
        fn = _ALIASES.get(name)
        if fn is None:
            if not is_abstract_function_name(name):
                raise self.fail(
                    f"unknown function `{name}`: not a standard function (known: "
                    f"{_known_summary()})", node)
            undef = self._undef.get(name)
            if undef is None:
                undef = self._undef[name] = sympy.Function(name)
            return undef(*args)
        if not args:
            raise self.fail(f"`{name}` needs an argument", node)
        self._check_special(name, args, node)
        try:
            if fn is sympy.Derivative:
                return sympy.Derivative(*args)
            return fn(*args)
        except (TypeError, ValueError, AttributeError, NotImplementedError) as exc:
            raise self.fail(f"cannot apply `{name}` to these arguments: {exc}", node) from None

    def _check_special(self, name: str, args: list[Any], node: ast.AST) -> None:
        if name in _EXACT_GROWTH:
            # sympy evaluates these exactly for numbers (gamma(n + 1/2), harmonic(n), zeta(2n)):
            # work and size grow with the number
            for a in args:
                if isinstance(a, sympy.Rational) and abs(a) > MAX_FACTORIAL:
                    raise self.fail(f"{name} of a number above {MAX_FACTORIAL} is too large to"
                                    " compute", node)
        if name == "binomial" and len(args) == 2 and all(
            isinstance(a, sympy.Integer) for a in args
        ):
            n, k = (int(a) for a in args)
            if min(k, n - k) > MAX_FACTORIAL:
                raise self.fail("the binomial coefficient is too large to compute", node)

    def number(self, name: str, node: ast.Call) -> Any:
        vals: list[Any] = []
        for i, a in enumerate(node.args):
            # a literal string as Float's first argument (spelled out so that mypy narrows ``a``)
            if (
                isinstance(a, ast.Constant) and isinstance(a.value, str)
                and name == "Float" and i == 0
            ):
                if not re.fullmatch(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*", a.value):
                    raise self.fail(f"{a.value!r} is not a decimal number", a)
                vals.append(a.value.strip())
                continue
            v = self.build(a)
            if not isinstance(v, sympy.Number):
                raise self.fail(f"{name}(...) takes numbers only", a)
            vals.append(v)
        try:
            if name == "Integer":
                return sympy.Integer(*vals)
            if name == "Rational":
                return sympy.Rational(*vals)
            if len(vals) == 2:
                prec = int(vals[1])
                if not 1 <= prec <= 1000:
                    raise self.fail("Float precision must be between 1 and 1000 digits", node)
                return sympy.Float(vals[0] if isinstance(vals[0], str) else vals[0], prec)
            return sympy.Float(*vals)
        except (TypeError, ValueError, ZeroDivisionError) as exc:
            raise self.fail(f"invalid {name}(...): {exc}", node) from None


_EXACT_GROWTH = {"factorial", "gamma", "loggamma", "lgamma", "gammaln", "harmonic", "zeta",
                 "polygamma", "digamma", "trigamma", "beta", "lowergamma", "uppergamma"}


def _known_summary() -> str:
    names = known_function_names()
    return ", ".join(names[:12]) + f" and {len(names) - 12} more; see docs/judgement.md"


def parse_expression(
    text: str,
    *,
    symbols: Mapping[str, sympy.Symbol] | None = None,
    functions: Mapping[str, sympy.Lambda | Callable[..., Any]] | None = None,
    max_length: int = 20000,
    budget: float = PARSE_BUDGET,
) -> sympy.Expr:
    """Parse ``text`` (sympy syntax, ``^`` allowed) into a sympy expression, safely.

    Raises :class:`ExpressionError` with a message that points at the offending part. The
    whole reading runs under a CPU budget of ``budget`` seconds (inside an enclosing
    :func:`grader.judge.budget.cpu_budget`, never longer than that one).
    """
    with cpu_budget(budget) as own:
        try:
            parsed = parse_ast(text, max_length=max_length)
            result = _Builder(parsed, symbols, functions).build(parsed.tree)
        except BudgetExceeded as exc:
            if exc.budget is not own:
                raise
            raise ExpressionError(
                f"reading the expression took more than {budget:g} s of CPU time", None, text
            ) from None
        except ExpressionError:
            raise
        except RecursionError:
            raise ExpressionError("the expression is too deeply nested", None, text) from None
        except ZeroDivisionError:
            raise ExpressionError("division by zero", None, text) from None
        except (TypeError, ValueError, AttributeError, NotImplementedError,
                OverflowError) as exc:
            raise ExpressionError(f"cannot build the expression: {exc}", None, text) from None
    if not isinstance(result, sympy.Basic):
        raise ExpressionError("the text is not an expression", None, text)
    return result
