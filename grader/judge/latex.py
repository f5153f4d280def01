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
``functions`` applied with parentheses (``\\sigma(x)(1-\\sigma(x))``), also with a power
(``\\sigma^2(x)`` is σ(x)²) or primes (``\\sigma'(x)``, ``f''(0)``, ``f^{(3)}(0)``: derivatives).

Also read: numbers in scientific notation (``1.5e-3`` is 0.0015, not 1.5·e − 3); inverse
trigonometric functions written ``\\sin^{-1} x`` and ``\\tan^{-1}(x)`` (not 1/sin);
``\\operatorname{ReLU}(x)`` and ``ReLU(x)`` (max(0, x)); function names written without a
backslash (``max(0, x)``, ``exp(x)``); ``\\max\\{0, x\\}``; ``\\binom{n}{k}``;
``\\sum_{i=1}^{n}``, ``\\prod_{i=1}^{n}`` (an unevaluated sum or product); ``\\int_a^b f\\,dx`` and
``\\int f\\,dx`` (an unevaluated integral); derivatives ``\\frac{d}{dx} f``, ``\\frac{df}{dx}``,
``\\frac{d^2 f}{dx^2}``, ``\\frac{\\partial f}{\\partial x}`` (unevaluated: the judge evaluates
them under its time budget); accents as names (``\\hat{y}`` is y_hat, ``\\bar{x}`` x_bar) and
typefaces as the letter (``\\mathbf{x}``, ``\\vec{x}``). Implications (``\\Rightarrow``) and
relations are refused: they join statements, which :mod:`grader.handin.written` splits
before reading each side.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import sympy

from grader.judge.parse import ExpressionError, parse_expression

__all__ = ["FUNCTION_NAMES", "derived_functions", "latex_to_sympy_syntax", "parse_latex_answer"]

#: the function names a formula may contain (`\sin`, `exp`, `ReLU`, …)
FUNCTION_NAMES = {
    "sin",
    "cos",
    "tan",
    "cot",
    "sec",
    "csc",
    "sinh",
    "cosh",
    "tanh",
    "coth",
    "sech",
    "csch",
    "arcsin",
    "arccos",
    "arctan",
    "exp",
    "ln",
    "log",
    "max",
    "min",
    "sgn",
    "erf",
    "ReLU",
    "relu",
}
#: \sin^{-1} x is the inverse function, as in every calculus book, not 1/sin x
_INVERSE = {
    "sin": "asin",
    "cos": "acos",
    "tan": "atan",
    "cot": "acot",
    "sec": "asec",
    "csc": "acsc",
    "sinh": "asinh",
    "cosh": "acosh",
    "tanh": "atanh",
    "coth": "acoth",
    "sech": "asech",
    "csch": "acsch",
}
_GREEK = {
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "vartheta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "varphi",
    "chi",
    "psi",
    "omega",
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Xi",
    "Sigma",
    "Phi",
    "Psi",
    "Omega",
}
_SKIP = {
    "left",
    "right",
    "big",
    "Big",
    "bigg",
    "Bigg",
    "bigl",
    "bigr",
    "Bigl",
    "Bigr",
    "biggl",
    "biggr",
    ",",
    ";",
    ":",
    "!",
    " ",
    "quad",
    "qquad",
    "displaystyle",
    "limits",
    "textstyle",
}
_TIMES = {"cdot", "times", "ast"}
#: accents that make a new name (ŷ is not y), and typefaces that do not (bold x is x)
_DECORATED = {
    "hat": "hat",
    "widehat": "hat",
    "bar": "bar",
    "overline": "bar",
    "tilde": "tilde",
    "widetilde": "tilde",
    "dot": "dot",
    "ddot": "ddot",
    "vec": "",
    "mathbf": "",
    "boldsymbol": "",
    "bm": "",
}
_RELATIONS = {
    "Rightarrow",
    "Longrightarrow",
    "implies",
    "iff",
    "Leftrightarrow",
    "to",
    "rightarrow",
    "leq",
    "geq",
    "le",
    "ge",
    "neq",
    "ne",
    "approx",
    "equiv",
    "sim",
}

_TOKEN = re.compile(
    r"\\[A-Za-z]+|\\.|\d+(?:\.\d*)?[eE][+-]?\d+(?![\d.])|\d+\.\d*|\.\d+|\d+|[A-Za-z]"
    r"|[{}()\[\]^_+\-*/|!,=<>']|\s+"
)
#: a function name written without a backslash: ``max(0, x)``, ``exp(x)``, ``ReLU(x)``
_BARE_WORD = re.compile(
    r"(?<![\\A-Za-z])("
    + "|".join(sorted(FUNCTION_NAMES - {"sgn"}, key=len, reverse=True))
    + r")(?![A-Za-z])"
)


def _tokens(text: str) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    pos = 0
    words = {m.start(): m.group() for m in _BARE_WORD.finditer(text)}
    while pos < len(text):
        if pos in words:
            out.append(("\\" + words[pos], pos))
            pos += len(words[pos])
            continue
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ExpressionError(
                f"unexpected character {text[pos]!r} (column {pos + 1})", pos, text
            )
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
        #: derivative names made for primes: ``sigma__d1`` -> ("sigma", 1)
        self.derived: dict[str, tuple[str, int]] = {}
        self._bars = 0

    # helpers ----------------------------------------------------------------
    def peek(self, ahead: int = 0) -> str | None:
        j = self.i + ahead
        return self.toks[j][0] if j < len(self.toks) else None

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
            tok = self.peek() or ""
            if tok == "=" or tok[1:] in _RELATIONS:
                raise self.fail(f"{tok!r} joins two statements; give one expression")
            raise self.fail(f"unexpected {tok!r}")
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
        if tok in ("(", "[", "{", "|", "\\{") or tok[0].isalnum() or tok[0] == ".":
            return True
        return (
            tok.startswith("\\")
            and tok[1:] not in _TIMES
            and tok[1:] not in _RELATIONS
            and tok not in ("\\div", "\\}")
        )

    def implicit(self) -> str:
        factors = [self.unary()]
        while self.starts_factor(self.peek()) and not self.closing_bar():
            factors.append(self.power())
        return "*".join(factors)

    def closing_bar(self) -> bool:
        return self.peek() == "|" and self._bars > 0

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
            self._bars += 1
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
        if name in self.functions:
            applied = self.applied(name)
            if applied is not None:
                return applied
        return name

    def applied(self, name: str) -> str | None:
        """``f(x)``, ``f^2(x)`` (f(x)²), ``f'(x)``/``f^{(3)}(x)`` (derivatives) for a function
        ``name`` the caller defined; None (nothing taken) when ``name`` is not applied."""
        start = self.i
        order, power = self.primes(), None
        if order == 0 and self.peek() == "^":
            self.take()
            power = self.group()
        if self.peek() != "(":
            self.i = start
            return None
        if order:
            derived = f"{name}__d{order}"
            self.derived[derived] = (name, order)
            name = derived
        return self.call(name, power)

    def primes(self) -> int:
        """The order of a derivative written after a function name: ', '', ^{\\prime}, ^{(3)}."""
        order = 0
        while self.peek() == "'":
            self.take()
            order += 1
        if order or self.peek() != "^" or self.peek(1) != "{":
            return order
        start = self.i
        self.i += 2
        if self.peek() == "(" and (self.peek(1) or "").isdigit() and self.peek(2) == ")":
            order = int(self.toks[self.i + 1][0])
            self.i += 3
        while self.peek() in ("\\prime", "'"):
            self.take()
            order += 1
        if order == 0 or self.peek() != "}":
            self.i = start
            return 0
        self.take()
        return _order(order)

    def call(self, name: str, power: str | None = None) -> str:
        if self.peek() in ("(", "[", "\\{"):
            close = {"(": ")", "[": "]", "\\{": "\\}"}[self.take()]
            args = [self.expr()]
            while self.peek() == ",":
                self.take()
                args.append(self.expr())
            self.expect(close)
        else:
            # \sin x, \ln 2x: the argument runs to the next operator
            args = [self.implicit_argument()]
        if name == "relu":
            if len(args) != 1:
                raise self.fail("ReLU takes one argument")
            name, args = "Max", ["0", *args]
        out = f"{name}({', '.join(args)})"
        return f"({out})**({power})" if power else out

    def implicit_argument(self) -> str:
        factors = [self.power()]
        while (
            self.starts_factor(self.peek())
            and not (self.peek() or "").startswith("\\")
            and not self.closing_bar()
        ):
            factors.append(self.power())
        return "*".join(factors)

    def command(self, name: str) -> str:  # noqa: C901 - a dispatcher
        if name in ("frac", "dfrac", "tfrac"):
            return self.fraction()
        if name == "sqrt":
            index = None
            if self.peek() == "[":
                self.take()
                index = self.expr()
                self.expect("]")
            arg = self.group()
            return f"root({arg}, {index})" if index else f"sqrt({arg})"
        if name in ("mathrm", "operatorname", "text", "mathit"):
            return self.named(self.word())
        if name in _DECORATED:
            return self.decorated(name)
        if name == "pi":
            return "pi"
        if name == "infty":
            return "oo"
        if name == "binom":
            return f"binomial({self.group()}, {self.group()})"
        if name in ("sum", "prod"):
            return self.big_operator("Sum" if name == "sum" else "product")
        if name == "int":
            return self.integral()
        if name in FUNCTION_NAMES:
            return self.function(name)
        if name in _GREEK:
            ident = {"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi"}.get(name, name)
            ident = self.subscript(ident)
            if ident in self.functions:
                applied = self.applied(ident)
                if applied is not None:
                    return applied
            return ident
        if name in self.functions:
            applied = self.applied(name)
            if applied is not None:
                return applied
        if name in _RELATIONS:
            raise self.fail(f"\\{name} joins two statements; give one expression")
        raise self.fail(f"the command \\{name} is not supported")

    def decorated(self, accent: str) -> str:
        """``\\hat{y}`` is the name y_hat; ``\\mathbf{x}``, ``\\vec{x}`` are x."""
        inner = self.raw_group()
        words = [t for t, _ in inner]
        if len(words) != 1 or not re.fullmatch(r"[A-Za-z]|\\[A-Za-z]+", words[0]):
            raise self.fail(f"\\{accent}{{…}} should hold one letter")
        letter = words[0].lstrip("\\")
        if letter not in _GREEK and len(letter) > 1:
            raise self.fail(f"\\{accent}{{…}} should hold one letter")
        suffix = _DECORATED[accent]
        return self.subscript(f"{letter}_{suffix}" if suffix else letter)

    def word(self) -> str:
        self.expect("{")
        word = []
        while self.peek() not in ("}", None):
            tok = self.take()
            word.append(tok[1:] if tok.startswith("\\") and tok[1:] in FUNCTION_NAMES else tok)
        self.expect("}")
        ident = "".join(word)
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", ident):
            raise self.fail(f"{ident!r} is not a name")
        return ident

    def named(self, ident: str) -> str:
        if ident == "e":
            return "E"
        if ident in ("d",):
            return "d"
        if ident in FUNCTION_NAMES:
            return self.function(ident)
        if ident in self.functions:
            applied = self.applied(ident)
            if applied is not None:
                return applied
        return ident

    def function(self, name: str) -> str:
        power = None
        base = None
        if name == "log" and self.peek() == "_":
            self.take()
            base = self.group()
        if self.peek() == "^":
            self.take()
            power = self.group()
        if power in ("-1", "(-1)", "-(1)") and name in _INVERSE:
            name, power = _INVERSE[name], None
        target = {
            "arcsin": "asin",
            "arccos": "acos",
            "arctan": "atan",
            "sgn": "sign",
            "max": "Max",
            "min": "Min",
            "ReLU": "relu",
        }.get(name, name)
        out = self.call(target)
        if base is not None:
            out = out[:-1] + f", {base})"
        return f"({out})**({power})" if power else out

    # calculus -----------------------------------------------------------------
    def raw_group(self) -> list[tuple[str, int]]:
        """The tokens of a braced group (or of a single token), without reading them."""
        if self.peek() != "{":
            return [self.toks[self.i]] if self.take() else []
        self.take()
        depth, start = 0, self.i
        while True:
            tok = self.peek()
            if tok is None:
                raise self.fail("a { is never closed")
            if tok == "{":
                depth += 1
            elif tok == "}":
                if depth == 0:
                    break
                depth -= 1
            self.i += 1
        inner = self.toks[start : self.i]
        self.take()
        return inner

    def sub(self, toks: list[tuple[str, int]]) -> str:
        """Translate a run of tokens on its own."""
        if not toks:
            raise self.fail("something is missing here")
        other = _Translator.__new__(_Translator)
        other.text, other.toks, other.i = self.text, list(toks), 0
        other.functions, other.symbols, other.derived, other._bars = (
            self.functions,
            self.symbols,
            self.derived,
            0,
        )
        return other.translate()

    def fraction(self) -> str:
        num, den = self.raw_group(), self.raw_group()
        variable = _differential(den)
        if variable is not None and num and num[0][0] in ("d", "\\partial"):
            name, order = variable
            rest = num[1:]
            if rest and rest[0][0] == "^":  # d^2 f
                rest = rest[2:]
            wrt = name if order == 1 else f"({name}, {order})"
            if rest:
                return f"Derivative({self.sub(rest)}, {wrt})"
            return f"Derivative({self.operand()}, {wrt})"
        return f"(({self.sub(num)})/({self.sub(den)}))"

    def operand(self) -> str:
        """What a derivative operator d/dx applies to: the factors that follow it."""
        if not self.starts_factor(self.peek()):
            raise self.fail("d/dx of what? nothing follows the derivative")
        factors = [self.power()]
        while self.starts_factor(self.peek()) and not self.closing_bar():
            factors.append(self.power())
        return "*".join(factors)

    def big_operator(self, kind: str) -> str:
        if self.peek() != "_":
            raise self.fail("a sum or product needs its range, like \\sum_{i=1}^{n}")
        self.take()
        lower = self.raw_group()
        if len(lower) < 3 or lower[1][0] != "=" or not lower[0][0].isalpha():
            raise self.fail("write the range of a sum or product as _{i=1}^{n}")
        var, low = lower[0][0], self.sub(lower[2:])
        self.expect("^")
        high = self.group()
        return f"{kind}({self.term()}, ({var}, {low}, {high}))"

    def integral(self) -> str:
        bounds = None
        if self.peek() == "_":
            self.take()
            low = self.group()
            self.expect("^")
            bounds = (low, self.group())
        start, depth = self.i, 0
        while True:
            tok = self.peek()
            if tok is None:
                raise self.fail("an integral needs its variable, like \\int f(x)\\,dx")
            if tok in ("(", "[", "{", "\\{"):
                depth += 1
            elif tok in (")", "]", "}", "\\}"):
                depth -= 1
            elif depth == 0 and tok in ("d", "\\mathrm") and self._differential_here():
                break
            self.i += 1
        body = self.toks[start : self.i]
        if self.take() == "\\mathrm":
            self.raw_group()
        var = self.take()
        inner = self.sub(body)
        return (
            f"integrate({inner}, ({var}, {bounds[0]}, {bounds[1]}))"
            if bounds
            else (f"integrate({inner}, {var})")
        )

    def _differential_here(self) -> bool:
        if self.peek() == "\\mathrm":
            return (
                self.peek(1) == "{"
                and self.peek(2) == "d"
                and self.peek(3) == "}"
                and bool(re.fullmatch(r"[A-Za-z]", self.peek(4) or ""))
                and self._ends(5)
            )
        return bool(re.fullmatch(r"[A-Za-z]", self.peek(1) or "")) and self._ends(2)

    def _ends(self, ahead: int) -> bool:
        nxt = self.peek(ahead)
        return nxt is None or nxt in ("+", "-", ")", "]", "}", "=", ",")


def _differential(toks: list[tuple[str, int]]) -> tuple[str, int] | None:
    """``dx``, ``\\partial x``, ``dx^2``, ``\\partial x^{2}``: the variable and the order."""
    words = [t for t, _ in toks]
    if (
        len(words) < 2
        or words[0] not in ("d", "\\partial")
        or not re.fullmatch(r"[A-Za-z]|\\[A-Za-z]+", words[1])
    ):
        return None
    name = words[1].lstrip("\\")
    if len(words) == 2:
        return name, 1
    if len(words) == 3 or words[2] != "^":
        return None
    rest = [w for w in words[3:] if w not in ("{", "}")]
    if len(rest) != 1 or not rest[0].isdigit():
        return None
    return name, _order(int(rest[0]))


#: derivatives of higher order are refused: their formulas grow too fast to judge in time
MAX_ORDER = 6


def _order(order: int) -> int:
    if order > MAX_ORDER:
        raise ExpressionError(f"derivatives of order above {MAX_ORDER} are not read", None, "")
    return order


def latex_to_sympy_syntax(
    text: str,
    *,
    functions: Mapping[str, Any] | None = None,
    symbols: Mapping[str, Any] | None = None,
) -> str:
    """The sympy-syntax string for a LaTeX answer (raises :class:`ExpressionError`)."""
    return _translate(text, functions, symbols)[0]


def _translate(
    text: str, functions: Mapping[str, Any] | None, symbols: Mapping[str, Any] | None
) -> tuple[str, dict[str, tuple[str, int]]]:
    if len(text) > 20000:
        raise ExpressionError("the expression is too long", 20000, text[:200])
    stripped = text.strip().strip("$").strip()
    translator = _Translator(stripped, functions or {}, symbols or {})
    try:
        return translator.translate(), translator.derived
    except RecursionError:
        raise ExpressionError("the expression is too deeply nested", None, text) from None


def derived_functions(
    derived: Mapping[str, tuple[str, int]], functions: Mapping[str, Any]
) -> dict[str, Any]:
    """The functions primes stand for: the derivative of a defined one-argument function,
    or an undefined function of its own name for a function left undefined."""
    out: dict[str, Any] = {}
    for name, (base_name, order) in derived.items():
        base = functions.get(base_name)
        if isinstance(base, sympy.Lambda) and len(base.variables) == 1:
            t = sympy.Dummy("t", real=True)
            out[name] = sympy.Lambda(t, sympy.diff(base(t), t, order))
        else:
            out[name] = sympy.Function(name)
    return out


def parse_latex_answer(
    text: str,
    *,
    symbols: Mapping[str, sympy.Symbol] | None = None,
    functions: Mapping[str, sympy.Lambda | Callable[..., Any]] | None = None,
) -> sympy.Expr:
    """Parse a LaTeX answer into a sympy expression, safely."""
    syntax, derived = _translate(text, functions, symbols)
    known = dict(functions or {})
    known.update(derived_functions(derived, known))
    try:
        return parse_expression(syntax, symbols=symbols, functions=known)
    except ExpressionError as exc:
        raise ExpressionError(
            f"{exc.message} (in the translation {syntax!r})", None, text
        ) from None
