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

__all__ = ["ExpressionError", "parse_expression", "parse_ast", "ParsedText"]

#: integers with more digits than this are refused (10**10**10 must fail fast, not hang)
MAX_DIGITS = 10_000
#: factorial/gamma of larger integers is refused for the same reason
MAX_FACTORIAL = 5_000


class ExpressionError(ValueError):
    """The text is not an acceptable expression.

    ``position`` is the 0-based offset in the original text of the offending part, when known.
    """

    def __init__(self, message: str, position: int | None = None, text: str = "") -> None:
        self.message = message
        self.position = position
        self.text = text
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


# ---------------------------------------------------------------------------- whitelist

_ALIASES: dict[str, Callable[..., Any]] = {
    # elementary
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "cot": sympy.cot,
    "sec": sympy.sec, "csc": sympy.csc, "cosec": sympy.csc,
    "asin": sympy.asin, "acos": sympy.acos, "atan": sympy.atan, "acot": sympy.acot,
    "asec": sympy.asec, "acsc": sympy.acsc, "atan2": sympy.atan2,
    "arcsin": sympy.asin, "arccos": sympy.acos, "arctan": sympy.atan,
    "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh, "coth": sympy.coth,
    "sech": sympy.sech, "csch": sympy.csch, "cosech": sympy.csch,
    "asinh": sympy.asinh, "acosh": sympy.acosh, "atanh": sympy.atanh, "acoth": sympy.acoth,
    "asech": sympy.asech, "acsch": sympy.acsch,
    "exp": sympy.exp, "log": sympy.log, "ln": sympy.log, "sqrt": sympy.sqrt,
    "cbrt": sympy.cbrt, "root": sympy.root,
    # piecewise-ish
    "Abs": sympy.Abs, "abs": sympy.Abs, "sign": sympy.sign, "signum": sympy.sign,
    "sgn": sympy.sign, "Heaviside": sympy.Heaviside, "Max": sympy.Max, "Min": sympy.Min,
    "max": sympy.Max, "min": sympy.Min, "floor": sympy.floor, "ceiling": sympy.ceiling,
    "ceil": sympy.ceiling, "frac": sympy.frac, "Piecewise": sympy.Piecewise,
    # special
    "factorial": sympy.factorial, "binomial": sympy.binomial, "gamma": sympy.gamma,
    "erf": sympy.erf, "erfc": sympy.erfc, "re": sympy.re, "im": sympy.im, "arg": sympy.arg,
    "conjugate": sympy.conjugate, "LambertW": sympy.LambertW,
    # calculus: derivatives are cheap and evaluated, the rest stay unevaluated
    "diff": sympy.diff, "Derivative": sympy.Derivative,
    "integrate": sympy.Integral, "Integral": sympy.Integral,
    "summation": sympy.Sum, "Sum": sympy.Sum, "sum": sympy.Sum,
    "product": sympy.Product, "Product": sympy.Product,
    "limit": sympy.Limit, "Limit": sympy.Limit,
    # number constructors (arguments must be numbers)
    "Integer": sympy.Integer, "Rational": sympy.Rational, "Float": sympy.Float,
}

_CONSTANTS: dict[str, sympy.Expr] = {
    "E": sympy.E, "e": sympy.E, "pi": sympy.pi, "I": sympy.I,
    "oo": sympy.oo, "inf": sympy.oo, "infinity": sympy.oo, "Infinity": sympy.oo,
    "zoo": sympy.zoo, "nan": sympy.nan, "EulerGamma": sympy.EulerGamma,
}

_NUMBER_CONSTRUCTORS = {"Integer", "Rational", "Float"}
_CMP = {ast.Lt: sympy.Lt, ast.LtE: sympy.Le, ast.Gt: sympy.Gt, ast.GtE: sympy.Ge,
        ast.Eq: sympy.Eq, ast.NotEq: sympy.Ne}
_LAMBDA_NAME = "λ"  # lambda is a keyword; as a plain name it is rewritten to this identifier


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


# ---------------------------------------------------------------------------- rewriting

def _rewrite(text: str) -> tuple[str, list[int]]:
    """Students' notation -> Python syntax, keeping a map from new to old offsets."""
    out: list[str] = []
    offsets: list[int] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "^":
            out.append("**")
            offsets += [i, i]
        elif ch == "\n" or ch == "\r" or ch == "\t":
            out.append(" ")
            offsets.append(i)
        else:
            out.append(ch)
            offsets.append(i)
        i += 1
    src = "".join(out)
    src, offsets = _rewrite_lambda(src, offsets)
    if "!" in src:
        src, offsets = _rewrite_factorials(src, offsets)
    return src, offsets


def _rewrite_lambda(src: str, offsets: list[int]) -> tuple[str, list[int]]:
    for m in reversed(list(re.finditer(r"\blambda\b", src))):
        if re.match(r"\s*[\w\s,*=]*:", src[m.end():]):
            raise ExpressionError(
                f"lambda expressions are not allowed (column {offsets[m.start()] + 1})",
                offsets[m.start()], "",
            )
        src = src[: m.start()] + _LAMBDA_NAME + src[m.end():]
        offsets = offsets[: m.start()] + [offsets[m.start()]] + offsets[m.end():]
    return src, offsets


def _rewrite_factorials(src: str, offsets: list[int]) -> tuple[str, list[int]]:
    """``n!``, ``(n+1)!``, ``f(x)!`` -> ``factorial(...)``; ``!=`` is left alone."""
    while True:
        pos = next(
            (k for k, c in enumerate(src) if c == "!" and not src[k + 1: k + 2] == "="), None
        )
        if pos is None:
            return src, offsets
        j = pos - 1
        while j >= 0 and src[j] == " ":
            j -= 1
        if j < 0:
            raise ExpressionError("`!` needs something before it", offsets[pos], "")
        if src[j] == ")":
            depth = 0
            k = j
            while k >= 0:
                depth += src[k] == ")"
                depth -= src[k] == "("
                if depth == 0:
                    break
                k -= 1
            if k < 0:
                raise ExpressionError("unbalanced parentheses before `!`", offsets[pos], "")
            start = k
            while start > 0 and (src[start - 1].isalnum() or src[start - 1] in "_."):
                start -= 1
        elif src[j].isalnum() or src[j] in "_.":
            start = j
            while start > 0 and (src[start - 1].isalnum() or src[start - 1] in "_."):
                start -= 1
        else:
            raise ExpressionError(
                f"`!` after `{src[j]}` is not a factorial (column {offsets[pos] + 1})",
                offsets[pos], "",
            )
        operand = src[start: j + 1]
        new = f"factorial({operand})"
        new_offsets = [offsets[start]] * len("factorial(") + offsets[start: j + 1] + [offsets[pos]]
        src = src[:start] + new + src[pos + 1:]
        offsets = offsets[:start] + new_offsets + offsets[pos + 1:]


def parse_ast(text: str, *, max_length: int = 20000) -> ParsedText:
    """Validate ``text`` and return its syntax tree (shared with the structural answer test)."""
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
        src, offsets = _rewrite(text)
    except ExpressionError as exc:
        raise ExpressionError(exc.message, exc.position, text) from None
    try:
        tree = ast.parse(src.strip(), mode="eval").body
    except SyntaxError as exc:
        col = (exc.offset or 1) - 1 + (len(src) - len(src.lstrip()))
        pos = offsets[min(col, len(offsets) - 1)] if offsets else 0
        raise ExpressionError(_syntax_message(text, exc, pos), pos, text) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("the expression is too deeply nested", None, text) from None
    lead = len(src) - len(src.lstrip())
    parsed = ParsedText(tree, src, text, tuple(offsets[lead:]) or (0,))
    _validate(parsed)
    return parsed


def _syntax_message(text: str, exc: SyntaxError, pos: int) -> str:
    if re.search(r"\d[A-Za-z_(]", text) and not re.search(r"\d[eEjJ][+-]?\d", text):
        hint = "; write products with `*`, e.g. 2*x instead of 2x"
    elif "=" in text and "==" not in text:
        hint = "; give an expression, not an equation"
    else:
        hint = ""
    return f"cannot read the expression at column {pos + 1}: {exc.msg}{hint}"


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
            raise ExpressionError(f"only named functions can be called{col}", where,
                                  parsed.original)
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
        left = self.build(node.left)
        right = self.build(node.right)
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            return left / right
        if isinstance(node.op, ast.Pow):
            self._check_power(left, right, node)
            return left**right
        raise self.fail(f"the operator `{type(node.op).__name__}` is not allowed", node)

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
        if name in ("factorial", "gamma"):
            a = args[0]
            if isinstance(a, sympy.Integer) and abs(int(a)) > MAX_FACTORIAL:
                raise self.fail(f"{name} of {a} is too large to compute", node)
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


def parse_expression(
    text: str,
    *,
    symbols: Mapping[str, sympy.Symbol] | None = None,
    functions: Mapping[str, sympy.Lambda | Callable[..., Any]] | None = None,
    max_length: int = 20000,
) -> sympy.Expr:
    """Parse ``text`` (sympy syntax, ``^`` allowed) into a sympy expression, safely.

    Raises :class:`ExpressionError` with a message that points at the offending part.
    """
    parsed = parse_ast(text, max_length=max_length)
    builder = _Builder(parsed, symbols, functions)
    try:
        result = builder.build(parsed.tree)
    except ExpressionError:
        raise
    except RecursionError:
        raise ExpressionError("the expression is too deeply nested", None, text) from None
    except ZeroDivisionError:
        raise ExpressionError("division by zero", None, text) from None
    except (TypeError, ValueError, AttributeError, NotImplementedError) as exc:
        raise ExpressionError(f"cannot build the expression: {exc}", None, text) from None
    if not isinstance(result, sympy.Basic):
        raise ExpressionError("the text is not an expression", None, text)
    return result
