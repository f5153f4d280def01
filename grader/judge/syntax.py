"""Students' notation to Python syntax, in linear time, and messages for text that is not
an expression.

Rewrites: ``^`` is power, ``n!`` and ``(n+1)!`` are factorials, ``lambda`` as a plain name is a
symbol. Every rewrite keeps a map from offsets in the new text to offsets in the original, so
an error points at what the student typed.

The factorial rewrite used to splice the string once per ``!`` and rescan it (quadratic, and
worse with nested parentheses: 8,000 ``!`` took two minutes); it now finds each operand's start
once, with the parentheses matched in one pass, and builds the text once.
"""

from __future__ import annotations

import re

from grader.judge.names import ALIASES

__all__ = ["ExpressionError", "LAMBDA_NAME", "MAX_NESTING", "diagnose", "rewrite"]

#: brackets (and factorials, which become calls) nested deeper than this are refused before
#: Python's parser sees them: deep trees make every later step recursive and slow
MAX_NESTING = 60
LAMBDA_NAME = "λ"  # lambda is a keyword; as a plain name it is rewritten to this identifier


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


def _col(pos: int) -> str:
    return f"column {pos + 1}"


def rewrite(text: str) -> tuple[str, list[int]]:
    """Students' notation -> Python syntax, with ``offsets[i]`` = original offset of char i."""
    out: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        if ch == "^":
            out.append("**")
            offsets += [i, i]
        elif ch in "\n\r\t":
            out.append(" ")
            offsets.append(i)
        else:
            out.append(ch)
            offsets.append(i)
    src = "".join(out)
    if "lambda" in src:
        src, offsets = _rewrite_lambda(src, offsets)
    if "!" in src:
        src, offsets = _rewrite_factorials(src, offsets)
    _check_nesting(src, offsets)
    return src, offsets


def _rewrite_lambda(src: str, offsets: list[int]) -> tuple[str, list[int]]:
    pieces: list[str] = []
    new_offsets: list[int] = []
    last = 0
    for m in re.finditer(r"\blambda\b", src):
        if re.match(r"\s*[\w\s,*=]*:", src[m.end():]):
            pos = offsets[m.start()]
            raise ExpressionError(f"lambda expressions are not allowed ({_col(pos)})", pos)
        pieces.append(src[last: m.start()])
        new_offsets += offsets[last: m.start()]
        pieces.append(LAMBDA_NAME)
        new_offsets.append(offsets[m.start()])
        last = m.end()
    pieces.append(src[last:])
    new_offsets += offsets[last:]
    return "".join(pieces), new_offsets


def _identifier_start(src: str, j: int) -> int:
    """Start of the name or number ending at ``j`` (inclusive)."""
    start = j
    while start > 0 and (src[start - 1].isalnum() or src[start - 1] in "_."):
        start -= 1
    return start


def _rewrite_factorials(src: str, offsets: list[int]) -> tuple[str, list[int]]:
    """``n!``, ``(n+1)!``, ``f(x)!``, ``n!!`` -> ``factorial(...)``; ``!=`` is left alone."""
    opening: dict[int, int] = {}  # index of a closing bracket -> index of its opening one
    stack: list[int] = []
    for i, c in enumerate(src):
        if c == "(":
            stack.append(i)
        elif c == ")" and stack:
            opening[i] = stack.pop()
    operand_start: dict[int, int] = {}  # index of a factorial's "!" -> start of its operand
    opens_before = [0] * (len(src) + 1)  # how many "factorial(" go before each index
    for k, c in enumerate(src):
        if c != "!" or src[k + 1: k + 2] == "=":
            continue
        j = k - 1
        while j >= 0 and src[j] == " ":
            j -= 1
        if j < 0:
            raise ExpressionError(f"`!` needs something before it ({_col(offsets[k])})",
                                  offsets[k])
        if j in operand_start:  # n!! is the factorial of n!
            start = operand_start[j]
        elif src[j] == ")":
            if j not in opening:
                raise ExpressionError(
                    f"unbalanced parentheses before `!` ({_col(offsets[k])})", offsets[k])
            start = _identifier_start(src, opening[j])
        elif src[j].isalnum() or src[j] in "_.":
            start = _identifier_start(src, j)
        else:
            raise ExpressionError(
                f"`!` after `{src[j]}` is not a factorial ({_col(offsets[k])})", offsets[k])
        operand_start[k] = start
        opens_before[start] += 1
    out: list[str] = []
    new_offsets: list[int] = []
    for i, c in enumerate(src):
        if opens_before[i]:
            out.append("factorial(" * opens_before[i])
            new_offsets += [offsets[i]] * (len("factorial(") * opens_before[i])
        out.append(")" if i in operand_start else c)
        new_offsets.append(offsets[i])
    return "".join(out), new_offsets


def _check_nesting(src: str, offsets: list[int]) -> None:
    depth = 0
    for i, c in enumerate(src):
        if c in "([{":
            depth += 1
            if depth > MAX_NESTING:
                pos = offsets[i]
                raise ExpressionError(
                    f"the expression is nested too deeply at {_col(pos)}: at most {MAX_NESTING}"
                    " levels of brackets (and factorials) are accepted", pos)
        elif c in ")]}":
            depth -= 1


# ---------------------------------------------------------------------------- diagnosis

_OPERATORS = ("**", "*", "/", "+", "-", "<=", ">=", "==", "!=", "<", ">", ",")
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[^\W\d]\w*)|(?P<op>\*\*|<=|>=|==|!=|[-+*/<>,=%&|@~:;])"
    r"|(?P<open>[(\[{])|(?P<close>[)\]}])|(?P<other>\S))"
)


def diagnose(src: str) -> tuple[int, str] | None:
    """Where and what a reader of ``src`` expected, for the usual mistakes; None if unsure.

    Returns (offset in ``src``, message)."""
    brackets: list[tuple[int, str]] = []
    prev: tuple[str, str, int] | None = None  # kind, text, offset
    pos = 0
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if m is None or m.lastgroup is None:
            break
        kind, text, at = m.lastgroup, m.group(m.lastgroup), m.start(m.lastgroup)
        pos = m.end()
        found = _check_token(kind, text, at, prev, brackets)
        if found is not None:
            return found
        prev = (kind, text, at)
    if prev is not None and prev[0] == "op":
        return prev[2], f"expected something after `{prev[1]}`"
    if brackets:
        at, ch = brackets[-1]
        return at, f"`{ch}` is never closed: expected `{_CLOSE[ch]}`"
    return None


_CLOSE = {"(": ")", "[": "]", "{": "}"}


def _check_token(kind: str, text: str, at: int, prev: tuple[str, str, int] | None,
                 brackets: list[tuple[int, str]]) -> tuple[int, str] | None:
    operand = kind in ("num", "name", "open")
    if kind == "other":
        return at, f"unexpected character `{text}`"
    if kind == "close":
        if not brackets:
            return at, f"unmatched `{text}`"
        open_at, ch = brackets.pop()
        if _CLOSE[ch] != text:
            return at, f"expected `{_CLOSE[ch]}` to close `{ch}` (column {open_at + 1})," \
                f" found `{text}`"
        if prev is not None and prev[0] == "op" and prev[1] != ",":
            return prev[2], f"expected something after `{prev[1]}`"
    if kind == "open":
        brackets.append((at, text))
    if kind == "op":
        if text == "=":
            return at, "expected an expression, not an equation (use == to compare)"
        if text not in _OPERATORS:
            return at, f"`{text}` is not an operator of expressions"
        unary = text in ("+", "-")
        if prev is None and not unary:
            return at, f"expected something before `{text}`"
        if prev is not None and prev[0] == "op" and not unary:
            return at, f"expected something between `{prev[1]}` and `{text}`"
        if prev is not None and prev[0] == "open" and not unary:
            return at, f"expected something after `{prev[1]}`, found `{text}`"
    if operand and prev is not None and prev[0] in ("num", "name", "close"):
        if kind == "open" and prev[0] == "name":
            return None  # a call
        hint = ""
        if prev[0] == "num":
            hint = f"; write {prev[1]}*{text} for a product"
        elif prev[0] == "name" and prev[1] in ALIASES:
            hint = f"; write {prev[1]}({text}) to apply {prev[1]}"
        return at, f"expected an operator between `{prev[1]}` and `{text}`{hint}"
    return None
