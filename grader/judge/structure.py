"""Expressions as written, up to commutativity and associativity (STACK's EqualComAss).

sympy evaluates while it builds (``2/4`` is ``1/2``, ``x+x`` is ``2*x``), so this works on the
parser's syntax tree instead. The canonical form keeps what the student wrote except:

* ``+`` and ``*`` are flattened and their operands sorted (commutativity, associativity);
* a unary minus on a factor of a product, or on a numerator, moves to the front of the
  product (``x*(-y)`` is ``-(x*y)``, ``(-x)/y`` is ``-(x/y)``), but not out of a denominator
  (``x/(-y)`` stays), and ``-(-x)`` is not ``x``;
* a product containing quotients becomes one quotient (``a*(b/c)`` is ``(a*b)/c``), so that
  ``1/2*1/x`` keeps its extra factor ``1`` and is not ``1/(2*x)``;
* ``exp(u)`` is ``E**u``; ``ln`` is ``log``; ``diff(...)`` is evaluated (as in STACK, where
  ``diff`` is a function and not a noun); ``Derivative(y, x, 1)`` is ``Derivative(y, x)``.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import sympy

from grader.judge.parse import ExpressionError, ParsedText, parse_ast, parse_expression

__all__ = ["Tree", "canonical_text", "from_sympy"]

Tree = tuple[Any, ...]

_NAME_ALIASES = {
    "ln": "log", "abs": "Abs", "signum": "sign", "sgn": "sign", "cosec": "csc",
    "cosech": "csch", "arcsin": "asin", "arccos": "acos", "arctan": "atan", "max": "Max",
    "min": "Min", "ceil": "ceiling", "integrate": "Integral", "summation": "Sum",
    "sum": "Sum", "product": "Product", "limit": "Limit",
}
_CONST_ALIASES = {"e": "E", "inf": "oo", "infinity": "oo", "Infinity": "oo"}
_CMP = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}


def _key(t: Tree) -> str:
    return repr(t)


def _neg(t: Tree) -> Tree:
    return ("neg", t)


def _add(items: list[Tree]) -> Tree:
    flat: list[Tree] = []
    for it in items:
        flat.extend(it[1:] if it[0] == "add" else [it])
    return ("add", *sorted(flat, key=_key))


def _mul(items: list[Tree]) -> Tree:
    flat: list[Tree] = []
    for it in items:
        flat.extend(it[1:] if it[0] == "mul" else [it])
    negs = 0
    plain: list[Tree] = []
    for it in flat:
        while it[0] == "neg":
            negs += 1
            it = it[1]
        plain.append(it)
    if any(it[0] == "div" for it in plain):
        nums: list[Tree] = []
        dens: list[Tree] = []
        for it in plain:
            if it[0] == "div":
                nums.append(it[1])
                dens.append(it[2])
            else:
                nums.append(it)
        out = _div(_mul(nums), _mul(dens))
    elif len(plain) == 1:
        out = plain[0]
    else:
        out = ("mul", *sorted(plain, key=_key))
    for _ in range(negs):
        out = _neg(out)
    return out


def _div(num: Tree, den: Tree) -> Tree:
    negs = 0
    while num[0] == "neg":
        negs += 1
        num = num[1]
    if num[0] == "div":
        num, den = num[1], _mul([num[2], den])
    out: Tree = ("div", num, den)
    for _ in range(negs):
        out = _neg(out)
    return out


class _Canon:
    def __init__(self, parsed: ParsedText, symbols: Mapping[str, Any] | None,
                 functions: Mapping[str, Any] | None) -> None:
        self.parsed = parsed
        self.symbols = symbols
        self.functions = functions

    def tree(self, node: ast.expr) -> Tree:  # noqa: C901 - a dispatcher
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool):
                return ("bool", v)
            if isinstance(v, int):
                return ("num", str(v))
            if isinstance(v, float):
                literal = ast.get_source_segment(self.parsed.source.strip(), node) or repr(v)
                try:
                    return ("float", str(Decimal(literal).normalize()))
                except InvalidOperation:
                    return ("float", literal)
            raise ExpressionError("unexpected constant", None, self.parsed.original)
        if isinstance(node, ast.Name):
            name = "lambda" if node.id == "λ" else node.id
            if self.symbols and name in self.symbols:
                return ("sym", name)
            name = _CONST_ALIASES.get(name, name)
            if name in ("E", "pi", "I", "oo", "zoo", "nan"):
                return ("const", name)
            return ("sym", name)
        if isinstance(node, ast.UnaryOp):
            inner = self.tree(node.operand)
            if isinstance(node.op, ast.USub):
                return _neg(inner)
            if isinstance(node.op, ast.UAdd):
                return inner
            return ("not", inner)
        if isinstance(node, ast.BinOp):
            left, right = self.tree(node.left), self.tree(node.right)
            if isinstance(node.op, ast.Add):
                return _add([left, right])
            if isinstance(node.op, ast.Sub):
                return _add([left, _neg(right)])
            if isinstance(node.op, ast.Mult):
                return _mul([left, right])
            if isinstance(node.op, ast.Div):
                return _div(left, right)
            return ("pow", left, right)
        if isinstance(node, (ast.Tuple, ast.List)):
            return ("tuple", *[self.tree(e) for e in node.elts])
        if isinstance(node, ast.Compare):
            parts = [self.tree(node.left)] + [self.tree(c) for c in node.comparators]
            ops = [_CMP[type(o)] for o in node.ops]
            return ("cmp", tuple(ops), *parts)
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            return (op, *sorted((self.tree(v) for v in node.values), key=_key))
        if isinstance(node, ast.Call):
            return self.call(node)
        raise ExpressionError(f"unexpected {type(node).__name__}", None, self.parsed.original)

    def call(self, node: ast.Call) -> Tree:
        assert isinstance(node.func, ast.Name)
        name = _NAME_ALIASES.get(node.func.id, node.func.id)
        if name == "exp" and len(node.args) == 1:
            return ("pow", ("const", "E"), self.tree(node.args[0]))
        if name == "diff":
            # evaluated, as in STACK: diff(x^2, x) is 2*x
            text = ast.get_source_segment(self.parsed.source.strip(), node) or ""
            value = parse_expression(text, symbols=self.symbols, functions=self.functions)
            return from_sympy(value)
        args = [self.tree(a) for a in node.args]
        if name == "Derivative" and args:
            return ("Derivative", args[0], *_derivative_counts(args[1:]))
        return ("call", name, *args)


def _derivative_counts(spec: list[Tree]) -> list[Tree]:
    counts: list[list[Any]] = []
    for item in spec:
        if item[0] == "num" and counts:
            counts[-1][1] += int(item[1]) - 1
        elif item[0] == "tuple" and len(item) == 3 and item[2][0] == "num":
            counts.append([item[1], int(item[2][1])])
        else:
            counts.append([item, 1])
    merged: list[list[Any]] = []
    for var, n in counts:
        if merged and merged[-1][0] == var:
            merged[-1][1] += n
        else:
            merged.append([var, n])
    return [("wrt", var, n) for var, n in merged]


def canonical_text(
    text: str,
    *,
    symbols: Mapping[str, Any] | None = None,
    functions: Mapping[str, Any] | None = None,
) -> Tree:
    """The canonical tree of an expression as written."""
    parsed = parse_ast(text)
    return _Canon(parsed, symbols, functions).tree(parsed.tree)


def from_sympy(e: sympy.Basic) -> Tree:  # noqa: C901 - a dispatcher
    """A canonical tree for a sympy expression (already evaluated, so less faithful)."""
    if isinstance(e, sympy.Symbol):
        return ("sym", e.name)
    if e is sympy.E:
        return ("const", "E")
    if e is sympy.pi:
        return ("const", "pi")
    if e is sympy.I:
        return ("const", "I")
    if e is sympy.oo:
        return ("const", "oo")
    if e is sympy.zoo:
        return ("const", "zoo")
    if e is sympy.nan:
        return ("const", "nan")
    if isinstance(e, sympy.Integer):
        return _neg(("num", str(-int(e)))) if e < 0 else ("num", str(int(e)))
    if isinstance(e, sympy.Rational):
        out = _div(("num", str(abs(e.p))), ("num", str(e.q)))
        return _neg(out) if e < 0 else out
    if isinstance(e, sympy.Float):
        out = ("float", str(Decimal(sympy.sstr(abs(e))).normalize()))
        return _neg(out) if e < 0 else out
    if isinstance(e, sympy.Add):
        return _add([from_sympy(a) for a in e.args])
    if isinstance(e, sympy.Mul):
        coeff, rest = e.as_coeff_mul()
        factors = [from_sympy(a) for a in rest]
        if coeff == -1:
            return _neg(_mul(factors))
        if coeff != 1:
            factors.insert(0, from_sympy(coeff))
        return _mul(factors)
    if isinstance(e, sympy.Pow):
        if e.base is sympy.E:
            return ("pow", ("const", "E"), from_sympy(e.exp))
        if e.exp == sympy.S.Half:
            return ("call", "sqrt", from_sympy(e.base))
        if e.exp.is_Rational and e.exp < 0:
            pos = -e.exp
            den = from_sympy(e.base) if pos == 1 else ("pow", from_sympy(e.base), from_sympy(pos))
            return _div(("num", "1"), den)
        return ("pow", from_sympy(e.base), from_sympy(e.exp))
    if isinstance(e, sympy.exp):
        return ("pow", ("const", "E"), from_sympy(e.args[0]))
    if isinstance(e, sympy.Derivative):
        return ("Derivative", from_sympy(e.expr),
                *[("wrt", from_sympy(v), int(n)) for v, n in e.variable_count])
    if isinstance(e, sympy.Tuple):
        return ("tuple", *[from_sympy(a) for a in e.args])
    if isinstance(e, (sympy.Function, sympy.Integral, sympy.Sum, sympy.Product)):
        name = getattr(e.func, "__name__", str(e.func))
        args = [from_sympy(a) for a in e.args]
        return ("call", _NAME_ALIASES.get(name, name), *args)
    return ("atom", sympy.srepr(e))
