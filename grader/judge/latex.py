"""LaTeX answers, as students type them, translated to sympy syntax.

sympy's ``parse_latex`` needs antlr4 4.11 exactly (4.13 is installed here, and the versions are
not compatible) or the ``lark`` package, and accepts less of what students write. This is a
small recursive-descent translator to sympy syntax; the result goes through the safe
:func:`grader.judge.parse.parse_expression`, so it is as safe as that parser.

Supported: numbers, single-letter variables with subscripts (``x_1``, ``x_{ij}``), Greek
letters, ``\\frac``/``\\dfrac``/``\\tfrac``, ``\\sqrt{..}``, ``\\sqrt[n]{..}``, ``^``, ``!``,
``\\cdot``/``\\times``/``\\div``, ``\\left( \\right)``, ``|x|``, ``e^{x}``, ``\\exp``, ``\\ln``,
``\\log``, ``\\log_{b}``, trig and hyperbolic functions (``\\sin^2 x``), ``\\pi``,
``\\infty``, implicit multiplication (``2x``, ``xy``, ``x(1+x)``), and functions passed in
``functions`` applied with parentheses (``\\sigma(x)(1-\\sigma(x))``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import sympy

from grader.judge.parse import ExpressionError, parse_expression

__all__ = ["parse_latex_answer", "latex_to_sympy_syntax"]

_FUNCS = {
    "sin", "cos", "tan", "cot", "sec", "csc", "sinh", "cosh", "tanh", "coth", "sech", "csch",
    "arcsin", "arccos", "arctan", "exp", "ln", "log", "max", "min", "sgn", "erf",
}
_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon",
    "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma",
    "Phi", "Psi", "Omega",
}
_SKIP = {"left", "right", "big", "Big", "bigg", "Bigg", ",", ";", ":", "!", " ", "quad",
         "qquad", "displaystyle", "limits"}
_TIMES = {"cdot", "times", "ast"}

_TOKEN = re.compile(
    r"\\[A-Za-z]+|\\.|\d+\.\d*|\.\d+|\d+|[A-Za-z]|[{}()\[\]^_+\-*/|!,=<>]|\s+"
)


def _tokens(text: str) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ExpressionError(f"unexpected character {text[pos]!r} (column {pos + 1})",
                                  pos, text)
        tok = m.group()
        if not tok.isspace():
            if tok.startswith("\\") and tok[1:] in _SKIP:
                pass
            else:
                out.append((tok, pos))
        pos = m.end()
    return out


class _Translator:
    def __init__(self, text: str, functions: Mapping[str, Any], symbols: Mapping[str, Any]):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.functions = functions
        self.symbols = symbols

    # helpers ----------------------------------------------------------------
    def peek(self) -> str | None:
        return self.toks[self.i][0] if self.i < len(self.toks) else None

    def take(self) -> str:
        if self.i >= len(self.toks):
            raise ExpressionError("the expression ends too early", len(self.text), self.text)
        tok = self.toks[self.i][0]
        self.i += 1
        return tok

    def expect(self, tok: str) -> None:
        got = self.peek()
        if got != tok:
            pos = self.toks[self.i][1] if self.i < len(self.toks) else len(self.text)
            raise ExpressionError(
                f"expected {tok!r} but found {got!r} (column {pos + 1})", pos, self.text
            )
        self.i += 1

    def fail(self, message: str) -> ExpressionError:
        pos = self.toks[self.i][1] if self.i < len(self.toks) else len(self.text)
        return ExpressionError(f"{message} (column {pos + 1})", pos, self.text)

    # grammar ----------------------------------------------------------------
    def translate(self) -> str:
        out = self.expr()
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.peek()!r}")
        return out

    def expr(self) -> str:
        parts = [self.term()]
        while self.peek() in ("+", "-"):
            parts.append(self.take())
            parts.append(self.term())
        return " ".join(parts)

    def term(self) -> str:
        out = self.implicit()
        while True:
            tok = self.peek()
            if tok == "*" or (tok and tok.startswith("\\") and tok[1:] in _TIMES):
                self.take()
                out = f"{out}*{self.implicit()}"
            elif tok == "/" or tok == "\\div":
                self.take()
                out = f"({out})/({self.implicit()})"
            else:
                return out

    def starts_factor(self, tok: str | None) -> bool:
        if tok is None:
            return False
        if tok in ("(", "[", "{", "|") or tok[0].isalnum() or tok[0] == ".":
            return True
        return tok.startswith("\\") and tok[1:] not in _TIMES and tok not in ("\\div",)

    def implicit(self) -> str:
        factors = [self.unary()]
        while self.starts_factor(self.peek()) and not self.closing_bar():
            factors.append(self.power())
        return "*".join(factors)

    def closing_bar(self) -> bool:
        return self.peek() == "|" and getattr(self, "_bars", 0) > 0

    def unary(self) -> str:
        if self.peek() == "-":
            self.take()
            return f"(-{self.unary()})"
        if self.peek() == "+":
            self.take()
            return self.unary()
        return self.power()

    def power(self) -> str:
        base = self.primary()
        while True:
            if self.peek() == "^":
                self.take()
                base = f"({base})**({self.group()})"
            elif self.peek() == "!":
                self.take()
                base = f"factorial({base})"
            else:
                return base

    def group(self) -> str:
        """A braced group, or a single token (x^2, e^x)."""
        if self.peek() == "{":
            self.take()
            out = self.expr()
            self.expect("}")
            return out
        tok = self.take()
        if tok.isdigit() and len(tok) > 1:
            # x^23 is x^2 * 3 in LaTeX: the exponent is one character
            self.i -= 1
            self.toks[self.i] = (tok[1:], self.toks[self.i][1] + 1)
            return tok[0]
        if tok[0].isdigit() or tok[0] == ".":
            return tok
        if tok == "-":
            return f"-{self.group()}"
        self.i -= 1
        return self.primary()

    def primary(self) -> str:  # noqa: C901 - a dispatcher
        tok = self.take()
        if tok in ("(", "["):
            inner = self.expr()
            self.expect(")" if tok == "(" else "]")
            return f"({inner})"
        if tok == "{":
            inner = self.expr()
            self.expect("}")
            return f"({inner})"
        if tok == "\\{":
            inner = self.expr()
            self.expect("\\}")
            return f"({inner})"
        if tok == "|":
            self._bars = getattr(self, "_bars", 0) + 1
            inner = self.expr()
            self._bars -= 1
            self.expect("|")
            return f"Abs({inner})"
        if tok[0].isdigit() or tok[0] == ".":
            return tok
        if tok[0].isalpha():
            return self.letter(tok)
        if tok.startswith("\\"):
            return self.command(tok[1:])
        self.i -= 1
        raise self.fail(f"unexpected {tok!r}")

    def subscript(self, name: str) -> str:
        if self.peek() != "_":
            return name
        self.take()
        if self.peek() == "{":
            self.take()
            parts = []
            while self.peek() not in ("}", None):
                t = self.take()
                if not re.fullmatch(r"[A-Za-z0-9]+", t):
                    raise self.fail("subscripts may only contain letters and digits")
                parts.append(t)
            self.expect("}")
            sub = "".join(parts)
        else:
            sub = self.take()
            if not re.fullmatch(r"[A-Za-z0-9]+", sub):
                raise self.fail("subscripts may only contain letters and digits")
        return f"{name}_{sub}"

    def letter(self, tok: str) -> str:
        name = self.subscript(tok)
        if name in self.functions and self.peek() == "(":
            return self.call(name)
        return name

    def call(self, name: str, power: str | None = None) -> str:
        if self.peek() in ("(", "["):
            close = ")" if self.take() == "(" else "]"
            args = [self.expr()]
            while self.peek() == ",":
                self.take()
                args.append(self.expr())
            self.expect(close)
        else:
            # \sin x, \ln 2x: the argument runs to the next operator
            args = [self.implicit_argument()]
        out = f"{name}({', '.join(args)})"
        return f"({out})**({power})" if power else out

    def implicit_argument(self) -> str:
        factors = [self.power()]
        while self.starts_factor(self.peek()) and not (
            self.peek() or ""
        ).startswith("\\") and not self.closing_bar():
            factors.append(self.power())
        return "*".join(factors)

    def command(self, name: str) -> str:  # noqa: C901 - a dispatcher
        if name in ("frac", "dfrac", "tfrac"):
            num = self.group()
            den = self.group()
            return f"(({num})/({den}))"
        if name == "sqrt":
            index = None
            if self.peek() == "[":
                self.take()
                index = self.expr()
                self.expect("]")
            arg = self.group()
            return f"root({arg}, {index})" if index else f"sqrt({arg})"
        if name in ("mathrm", "operatorname", "text", "mathit"):
            self.expect("{")
            word = []
            while self.peek() not in ("}", None):
                word.append(self.take())
            self.expect("}")
            ident = "".join(word)
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", ident):
                raise self.fail(f"{ident!r} is not a name")
            if ident == "e":
                return "E"
            if ident in _FUNCS or ident in self.functions:
                return self.function(ident)
            return ident
        if name == "pi":
            return "pi"
        if name == "infty":
            return "oo"
        if name in _FUNCS:
            return self.function(name)
        if name in _GREEK:
            ident = {"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi"}.get(name, name)
            ident = self.subscript(ident)
            if ident in self.functions and self.peek() == "(":
                return self.call(ident)
            return ident
        if name in self.functions:
            return self.call(name)
        raise self.fail(f"the command \\{name} is not supported")

    def function(self, name: str) -> str:
        power = None
        base = None
        if name == "log" and self.peek() == "_":
            self.take()
            base = self.group()
        if self.peek() == "^":
            self.take()
            power = self.group()
        target = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "sgn": "sign",
                  "max": "Max", "min": "Min"}.get(name, name)
        out = self.call(target)
        if base is not None:
            out = out[:-1] + f", {base})"
        return f"({out})**({power})" if power else out


def latex_to_sympy_syntax(
    text: str, *, functions: Mapping[str, Any] | None = None,
    symbols: Mapping[str, Any] | None = None,
) -> str:
    """The sympy-syntax string for a LaTeX answer (raises :class:`ExpressionError`)."""
    if len(text) > 20000:
        raise ExpressionError("the expression is too long", 20000, text[:200])
    stripped = text.strip().strip("$").strip()
    try:
        return _Translator(stripped, functions or {}, symbols or {}).translate()
    except RecursionError:
        raise ExpressionError("the expression is too deeply nested", None, text) from None


def parse_latex_answer(
    text: str,
    *,
    symbols: Mapping[str, sympy.Symbol] | None = None,
    functions: Mapping[str, sympy.Lambda | Callable[..., Any]] | None = None,
) -> sympy.Expr:
    """Parse a LaTeX answer into a sympy expression, safely."""
    syntax = latex_to_sympy_syntax(text, functions=functions, symbols=symbols)
    try:
        return parse_expression(syntax, symbols=symbols, functions=functions)
    except ExpressionError as exc:
        raise ExpressionError(f"{exc.message} (in the translation {syntax!r})", None,
                              text) from None
